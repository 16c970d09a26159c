/*
 * replyguard.h — the one public header of libreplyguard.
 *
 * replyguard checks a draft assistant reply against the safety policy of a
 * conversation's route and returns a verdict: allow, handoff or block, with
 * the reasons, and a redacted copy where the policy masks rather than blocks.
 *
 * This header is the manual. Every function documents:
 *   - ownership: who allocates and who frees what it returns;
 *   - thread-safety: which objects may be shared between threads;
 *   - NULL behaviour: what happens when a pointer argument is NULL;
 *   - status codes: the RG_E_* values it can return.
 *
 * Three lifetimes, three handles (as Hyperscan's database/scratch split):
 *   rg_engine   loaded once from a policy directory; holds an immutable
 *               compiled snapshot; shared by every thread without locks;
 *               reloaded atomically.
 *   rg_scratch  per-thread working memory for checks on one engine.
 *   rg_result   caller-owned, reusable output of a check.
 *
 * Conventions:
 *   - Every function that can fail returns an int status: RG_OK (0) or a
 *     negative RG_E_* code. The values are fixed forever.
 *   - A verdict is never a status: it is an out-value in rg_result.
 *   - Text is pointer + length, never NUL-terminated, and is untrusted:
 *     invalid UTF-8, NUL bytes and empty input are all accepted.
 *   - Identifiers (route, channel, locale, paths) are NUL-terminated.
 *
 * This header includes only standard C headers: callers never need the
 * headers of Hyperscan, PCRE2, libyaml or utf8proc.
 */
#ifndef REPLYGUARD_H
#define REPLYGUARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define RG_API __declspec(dllexport)
#elif defined(__GNUC__)
#define RG_API __attribute__((visibility("default")))
#else
#define RG_API
#endif

#define RG_VERSION_MAJOR 0
#define RG_VERSION_MINOR 1
#define RG_VERSION_PATCH 0
#define RG_VERSION_STRING "0.1.0"

/** The library's version string ("MAJOR.MINOR.PATCH"); static storage. */
RG_API const char *rg_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/*
 * X(NAME, value, message). Values are negative and never change meaning or
 * number; new codes are only appended.
 */
#define RG_STATUS_MAP(X)                                                       \
    X(INVAL, -1, "invalid argument")                                           \
    X(NOMEM, -2, "out of memory")                                              \
    X(IO, -3, "cannot read policy file or directory")                          \
    X(POLICY, -4, "policy error (see diagnostics)")                            \
    X(COMPILE, -5, "pattern failed to compile (see diagnostics)")              \
    X(NOROUTE, -6, "unknown route")                                            \
    X(ENGINE, -7, "engine error during check")                                 \
    X(MISMATCH, -8, "scratch belongs to another engine")                       \
    X(BUSY, -9, "object in use")                                               \
    X(RANGE, -10, "index out of range")

typedef enum rg_status {
    RG_OK = 0,
#define RG__STATUS_ENUM(name, value, msg) RG_E_##name = value,
    RG_STATUS_MAP(RG__STATUS_ENUM)
#undef RG__STATUS_ENUM
    RG__STATUS_LAST = -10
} rg_status;

/**
 * A static English message for a status code ("success" for RG_OK,
 * "unknown status" for a value that is not an RG_E_* code).
 * Thread-safe; never returns NULL.
 */
RG_API const char *rg_strerror(int status);

/**
 * The symbolic name of a status code without prefix ("NOMEM", "OK"), or
 * "UNKNOWN". Thread-safe; never returns NULL.
 */
RG_API const char *rg_status_name(int status);

/* ------------------------------------------------------------------------ */
/* Verdicts, actions, flags                                                 */
/* ------------------------------------------------------------------------ */

/** Ordered by severity: a larger value is more severe. */
typedef enum rg_verdict {
    RG_ALLOW = 0,   /* the reply may be sent (possibly the redacted copy) */
    RG_HANDOFF = 1, /* hand the conversation to a human */
    RG_BLOCK = 2    /* do not send this reply */
} rg_verdict;

/** "allow", "handoff", "block"; "unknown" for anything else. */
RG_API const char *rg_verdict_name(int verdict);

/* Result flags: why the verdict is what it is, beyond the policy. */
enum {
    /* The check ran past the route's budget_us; the verdict is the
     * route's on_timeout fail-safe (or more severe, if hits found before
     * the deadline already decided so). */
    RG_FLAG_BUDGET_EXCEEDED = 1u << 0,
    /* The reply was longer than the route's max_bytes; only the first
     * max_bytes were scanned and the verdict is at least on_oversize. */
    RG_FLAG_OVERSIZE = 1u << 1,
    /* Something failed inside the engine; the verdict is on_error. */
    RG_FLAG_ENGINE_ERROR = 1u << 2,
    /* The verdict came from a fail-safe setting (on_timeout, on_oversize,
     * on_error), not from the policy's thresholds alone. Always set with
     * one of the three flags above when that fail-safe decided. */
    RG_FLAG_FAILSAFE = 1u << 3,
    /* The reply held invalid UTF-8; it was scanned with each bad
     * sequence replaced by U+FFFD. Offsets still refer to the original. */
    RG_FLAG_INVALID_UTF8 = 1u << 4,
    /* More hits were found than the result keeps (RG_MAX_HITS); scores
     * still count every hit. */
    RG_FLAG_HITS_TRUNCATED = 1u << 5,
    /* A redact action applied: rg_result_redacted() returns the copy. */
    RG_FLAG_REDACTED = 1u << 6
};

/** The most hits a result records (scores still count all of them). */
#define RG_MAX_HITS 256

/* ------------------------------------------------------------------------ */
/* Allocation and diagnostics                                               */
/* ------------------------------------------------------------------------ */

/**
 * A custom allocator for one engine (never process-global). Any member
 * NULL means the C library's malloc/realloc/free for all three.
 * Functions must be thread-safe if the engine is used from several
 * threads. Allocation failures are reported as RG_E_NOMEM.
 * Note: Hyperscan and libyaml allocate through their own process-wide
 * allocator; replyguard deliberately never calls hs_set_allocator.
 */
typedef struct rg_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} rg_allocator;

typedef enum rg_severity {
    RG_SEV_ERROR = 0,
    RG_SEV_WARNING = 1
} rg_severity;

/** One diagnostic: where and what. line and column are 1-based; 0 means
 * "the whole file" (file may be NULL when no file is involved). */
typedef struct rg_diag_entry {
    const char *file;
    unsigned line;
    unsigned column;
    rg_severity severity;
    const char *message;
} rg_diag_entry;

/** A list of diagnostics from loading or compiling a policy set. */
typedef struct rg_diag {
    size_t count;
    const rg_diag_entry *entries;
} rg_diag;

/**
 * Free a diagnostic list returned by rg_engine_open / rg_engine_reload.
 * NULL is a no-op. Not thread-safe on the same list.
 */
RG_API void rg_diag_free(rg_diag *diag);

/* ------------------------------------------------------------------------ */
/* Engine                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct rg_engine rg_engine;
typedef struct rg_scratch rg_scratch;
typedef struct rg_result rg_result;

/**
 * Options for rg_engine_open. Zero-initialise, then set what you need;
 * set struct_size = sizeof(rg_engine_options) so that later versions can
 * add members without breaking you.
 */
typedef struct rg_engine_options {
    size_t struct_size;
    const rg_allocator *allocator; /* copied; NULL: malloc/free */
    unsigned flags;                /* reserved, must be 0 */
} rg_engine_options;

/**
 * Load and compile a policy set into a new engine.
 *
 * policy_path: a directory (every *.yaml / *.yml file directly in it,
 *   in name order, forms the policy set; lexicon files may live below it)
 *   or one YAML file.
 * opts: may be NULL for defaults.
 * out: receives the engine on RG_OK, NULL otherwise. Free with
 *   rg_engine_close().
 * diag: may be NULL. If non-NULL, *diag receives a list of diagnostics
 *   (errors with file:line:column, and warnings) whenever there is at
 *   least one, else NULL; the caller frees it with rg_diag_free(),
 *   whatever the status.
 *
 * Returns RG_OK; RG_E_INVAL (out or policy_path NULL, bad opts);
 * RG_E_IO (path missing or unreadable); RG_E_POLICY (the policy set is
 * invalid: see diag); RG_E_COMPILE (a pattern failed: see diag);
 * RG_E_NOMEM.
 * Thread-safe (no shared state between engines).
 */
RG_API int rg_engine_open(rg_engine **out, const char *policy_path,
                          const rg_engine_options *opts, rg_diag **diag);

/**
 * Compile the policy set again (from policy_path, or from the path the
 * engine was opened with when policy_path is NULL) into a new snapshot
 * and swap it in atomically. Checks already running finish on the
 * snapshot they started with; checks that start afterwards see the new
 * one. On any failure the old snapshot stays in force, untouched.
 *
 * diag: as for rg_engine_open.
 * Returns RG_OK or the same codes as rg_engine_open; RG_E_INVAL if
 * engine is NULL.
 * Thread-safe: may run concurrently with checks on any thread; concurrent
 * reloads of the same engine are serialised.
 */
RG_API int rg_engine_reload(rg_engine *engine, const char *policy_path,
                            rg_diag **diag);

/**
 * Free the engine and every snapshot it holds. All scratches of the
 * engine must have been freed first, and no check may be running.
 * NULL is a no-op.
 */
RG_API void rg_engine_close(rg_engine *engine);

/** Information about the engine's current snapshot. */
typedef struct rg_engine_info {
    char policy_version[64];  /* the policy set's `version:` ("" if none) */
    char policy_hash[65];     /* SHA-256 of the policy files, lowercase hex */
    uint64_t generation;      /* 1 after open, +1 per successful reload */
    size_t detector_count;
    size_t pattern_count;     /* words + patterns compiled */
    size_t route_count;
    uint64_t compile_ns;      /* wall time of the last successful compile */
} rg_engine_info;

/**
 * Copy information about the current snapshot into *info.
 * Returns RG_OK, or RG_E_INVAL if an argument is NULL.
 * Thread-safe.
 */
RG_API int rg_engine_get_info(const rg_engine *engine, rg_engine_info *info);

/**
 * The name of route `index` (0-based, in name order) of the current
 * snapshot, copied into buf (NUL-terminated, truncated to size).
 * Returns RG_OK; RG_E_RANGE past the last route; RG_E_INVAL for NULL.
 * Thread-safe.
 */
RG_API int rg_engine_route_name(const rg_engine *engine, size_t index,
                                char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Scratch                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Allocate per-thread working memory for checks on `engine`: Hyperscan
 * scratch, PCRE2 match data, normalisation buffers. A scratch is used by
 * one thread at a time (it need not always be the same thread). It grows
 * to the largest reply it has seen and to each new snapshot after a
 * reload; after that warm-up a check allocates nothing.
 *
 * Returns RG_OK; RG_E_INVAL (NULL argument); RG_E_NOMEM.
 * Thread-safe (it registers with the engine under a lock).
 */
RG_API int rg_scratch_alloc(rg_engine *engine, rg_scratch **out);

/**
 * Free a scratch. Must not be in use by a check. NULL is a no-op.
 * Thread-safe with respect to other scratches and the engine.
 */
RG_API void rg_scratch_free(rg_scratch *scratch);

/* ------------------------------------------------------------------------ */
/* Check                                                                    */
/* ------------------------------------------------------------------------ */

/** A piece of text: pointer + length; ptr may be NULL only if len is 0. */
typedef struct rg_text {
    const char *ptr;
    size_t len;
} rg_text;

/** A metrics label, both NUL-terminated (tenant, persona, ...). */
typedef struct rg_label {
    const char *key;
    const char *value;
} rg_label;

/**
 * What to check. Zero-initialise, then fill in. Only `reply` is needed:
 * route NULL means "default". The conversation fields (user message,
 * history) feed conversation-level rules; they are borrowed for the
 * duration of the call only.
 */
typedef struct rg_request {
    const char *route;           /* NUL-terminated; NULL: "default" */
    const char *reply;           /* the draft reply; NULL only if len 0 */
    size_t reply_len;
    const char *user_message;    /* last user message, optional */
    size_t user_message_len;
    const rg_text *history;      /* recent assistant replies, oldest first */
    size_t history_count;
    const char *channel;         /* "chat", "voice", "sms", "email"; NULL */
    const char *locale;          /* BCP 47, e.g. "en-US", "es-MX"; NULL */
    const rg_label *labels;      /* optional metrics labels */
    size_t label_count;
} rg_request;

/**
 * Check one reply. Fills `result` (cleared first) with the verdict,
 * every hit, per-category scores, the reasons, flags, elapsed time, the
 * policy identity, and the redacted copy when a redact action applies.
 *
 * The check never fails open by accident: whenever it returns an error
 * status and result is non-NULL, the result holds a fail-safe verdict
 * (the route's on_error, or the default route's when the route is
 * unknown; handoff when there is none) with RG_FLAG_ENGINE_ERROR and
 * RG_FLAG_FAILSAFE set. Running out of budget or an oversize reply is not
 * an error: RG_OK with the flags and the route's fail-safe verdict.
 *
 * Returns RG_OK; RG_E_INVAL (a NULL argument, or NULL text with a
 * non-zero length); RG_E_NOROUTE (route not in the policy set);
 * RG_E_MISMATCH (scratch belongs to another engine); RG_E_NOMEM (growing
 * the scratch or result failed); RG_E_ENGINE (a scan failed).
 *
 * Thread-safe for one engine from many threads, as long as each call
 * uses its own scratch and result. No allocation after warm-up.
 */
RG_API int rg_check(rg_engine *engine, rg_scratch *scratch,
                    const rg_request *request, rg_result *result);

/* ------------------------------------------------------------------------ */
/* Result                                                                   */
/* ------------------------------------------------------------------------ */

/** One detector hit. Offsets are bytes of the original reply. */
typedef struct rg_hit {
    const char *detector;   /* detector id */
    const char *category;   /* e.g. "pii.payment_card" */
    size_t start;           /* first byte of the span in the reply */
    size_t end;             /* one past the last byte */
    double score;           /* this hit's score, 0..1 */
} rg_hit;

/** A category with a non-zero score, and the action it triggered. */
typedef struct rg_category_score {
    const char *category;
    double score;           /* noisy-OR of the category's detectors */
    rg_verdict verdict;     /* the verdict this category alone asks for */
    int redact;             /* 1 if its spans were masked */
} rg_category_score;

/** A reason: a category score crossed a threshold of the route. */
typedef struct rg_reason {
    const char *category;   /* the category that crossed */
    const char *rule;       /* the threshold key that applied, e.g. "toxicity" */
    const char *route;      /* the route that defined that threshold */
    const char *action;     /* "block", "handoff" or "redact" */
    double score;
    double threshold;
} rg_reason;

/**
 * Allocate an empty, reusable result. allocator may be NULL (malloc).
 * The result owns copies of every string it reports, so it stays valid
 * after the engine reloads; it is freed with rg_result_free().
 * Returns RG_OK, RG_E_INVAL (out NULL) or RG_E_NOMEM.
 * A result is used by one thread at a time.
 */
RG_API int rg_result_alloc(const rg_allocator *allocator, rg_result **out);

/** Free a result. NULL is a no-op. */
RG_API void rg_result_free(rg_result *result);

/*
 * Accessors. All take a result filled by rg_check (or freshly allocated:
 * then verdict handoff, no hits, flags 0). Returned pointers are owned by
 * the result and valid until its next rg_check or rg_result_free.
 * With a NULL result: verdicts/flags return RG_HANDOFF/0, counts 0,
 * pointers NULL. Not thread-safe on the same result.
 */
RG_API rg_verdict rg_result_verdict(const rg_result *result);
RG_API unsigned rg_result_flags(const rg_result *result);
RG_API size_t rg_result_hit_count(const rg_result *result);
/** NULL if index >= count. */
RG_API const rg_hit *rg_result_hit(const rg_result *result, size_t index);
RG_API size_t rg_result_category_count(const rg_result *result);
RG_API const rg_category_score *rg_result_category(const rg_result *result,
                                                   size_t index);
RG_API size_t rg_result_reason_count(const rg_result *result);
RG_API const rg_reason *rg_result_reason(const rg_result *result,
                                         size_t index);
/** The redacted reply, or NULL when no redact action applied. len may be
 * NULL. The text is not NUL-terminated in general; a NUL follows it. */
RG_API const char *rg_result_redacted(const rg_result *result, size_t *len);
/** Wall time of the check in nanoseconds. */
RG_API uint64_t rg_result_elapsed_ns(const rg_result *result);
/** The route that decided ("" before the first check). */
RG_API const char *rg_result_route(const rg_result *result);
/** Policy version and content hash of the snapshot that decided. */
RG_API const char *rg_result_policy_version(const rg_result *result);
RG_API const char *rg_result_policy_hash(const rg_result *result);

#ifdef __cplusplus
}
#endif

#endif /* REPLYGUARD_H */
