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
    X(RANGE, -10, "index out of range")                                        \
    X(BUNDLE, -11, "compiled bundle is corrupt or was built for another "      \
                   "replyguard build, Hyperscan version or CPU")

typedef enum rg_status {
    RG_OK = 0,
#define RG__STATUS_ENUM(name, value, msg) RG_E_##name = value,
    RG_STATUS_MAP(RG__STATUS_ENUM)
#undef RG__STATUS_ENUM
    RG__STATUS_LAST = -11
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
    RG_FLAG_REDACTED = 1u << 6,
    /* The result holds shadow findings: a hit of a detector in shadow
     * mode, or the route itself is in shadow mode (`mode: shadow`). They
     * never changed the verdict or the redacted copy;
     * rg_result_shadow_verdict() says what the verdict would have been
     * had they enforced. */
    RG_FLAG_SHADOW = 1u << 7,
    /* Streaming only (rg_stream_feed / rg_stream_close): a span this
     * result masks had already been released unmasked by an earlier feed
     * (its category crossed the redact threshold only after it was
     * released, or a reload changed the policy mid-stream). */
    RG_FLAG_RELEASED_UNMASKED = 1u << 8
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
 * allocator; replyguard deliberately never calls hs_set_allocator. A
 * loaded snapshot's Hyperscan databases then live in one mmap'd,
 * read-only mapping (see rg_engine_open), also outside this allocator.
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
    unsigned flags;                /* RG_ENGINE_* bits (see below); others 0 */
    /* Compiled cache directory (see "Compiled cache and bundles" below).
     * NULL: $RG_CACHE_DIR when set and non-empty, else no cache. The
     * string is copied. Read only when struct_size covers it. */
    const char *cache_dir;
} rg_engine_options;

/**
 * Load and compile a policy set into a new engine.
 *
 * policy_path: a directory (every *.yaml / *.yml file directly in it,
 *   in name order, forms the policy set; lexicon files may live below it),
 *   one YAML file, or a compiled bundle written by rg_bundle_write
 *   (recognised by its first bytes; loaded without compiling).
 * opts: may be NULL for defaults.
 * out: receives the engine on RG_OK, NULL otherwise. Free with
 *   rg_engine_close().
 * diag: may be NULL. If non-NULL, *diag receives a list of diagnostics
 *   (errors with file:line:column, and warnings) whenever there is at
 *   least one, else NULL; the caller frees it with rg_diag_free(),
 *   whatever the status.
 *
 * With a compiled cache directory (opts->cache_dir or $RG_CACHE_DIR, see
 * "Compiled cache and bundles") the Hyperscan databases are reused from it
 * or stored in it; a cache problem is never an error.
 *
 * Compiling runs the Hyperscan database compiles on helper threads, one
 * per online CPU and at most 4 ($RG_COMPILE_THREADS=N sets the number; 1:
 * none, all on the calling thread); they only call Hyperscan (never the
 * engine's allocator or any callback) and have ended when this returns.
 * A thread that cannot be started leaves its share to the others. The
 * same goes for rg_engine_reload.
 *
 * The first call in a process also chooses the clock that route budgets
 * and elapsed times are measured with: the CPU's time stamp counter,
 * calibrated once against CLOCK_MONOTONIC (~2 ms), when the kernel keeps
 * its own time with it (clocksource "tsc": constant and synchronized
 * across CPUs; ~10 ns a read instead of ~25); else CLOCK_MONOTONIC.
 * $RG_CLOCK=monotonic forces CLOCK_MONOTONIC.
 *
 * The compiled Hyperscan databases are then moved into one read-only
 * mapping of their own (mmap, 2 MB-aligned, advised MADV_HUGEPAGE), not
 * the engine's allocator: faster scans when caches are cold, and a stray
 * write faults instead of changing what checks match. $RG_DBPACK=off
 * leaves them where Hyperscan allocated them (malloc). The same goes for
 * rg_engine_reload.
 *
 * Returns RG_OK; RG_E_INVAL (out or policy_path NULL, bad opts);
 * RG_E_IO (path missing or unreadable); RG_E_POLICY (the policy set is
 * invalid: see diag); RG_E_COMPILE (a pattern failed: see diag);
 * RG_E_BUNDLE (a bundle that is corrupt or from another build, Hyperscan
 * version or CPU: see diag); RG_E_NOMEM.
 * Thread-safe (no shared state between engines but the clock, chosen once
 * per process).
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
    size_t pattern_count;     /* distinct terms + regex/pcre patterns */
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
    int shadow;             /* 1: the detector is in shadow mode; the hit
                               did not count towards the verdict */
    int source;             /* RG_SOURCE_*: which text start/end refer to */
} rg_hit;

/* rg_hit.source: the text a hit was found in (docs/CONVERSATION.md).
 * Only RG_SOURCE_REPLY hits are ever masked in the redacted copy. */
enum {
    RG_SOURCE_REPLY = 0,        /* the draft reply: offsets are its bytes */
    RG_SOURCE_USER = 1,         /* the request's user_message: its bytes */
    RG_SOURCE_CONVERSATION = 2  /* a conversation-level finding with no span
                                   (a missing disclosure, a loop): start =
                                   end = 0 */
};

/** A category with a non-zero score (or shadow score), and the action it
 * triggered. */
typedef struct rg_category_score {
    const char *category;
    double score;           /* noisy-OR of the category's detectors */
    rg_verdict verdict;     /* the verdict this category alone asks for */
    int redact;             /* 1 if its spans were masked */
    double shadow_score;    /* the score had shadow detectors counted
                               (equal to score when none hit; score is 0
                               for a category only shadow detectors hit) */
} rg_category_score;

/** A reason: a category score crossed a threshold of the route. */
typedef struct rg_reason {
    const char *category;   /* the category that crossed */
    const char *rule;       /* the threshold key that applied, e.g. "toxicity" */
    const char *route;      /* the route that defined that threshold */
    const char *action;     /* "block", "handoff" or "redact" */
    double score;
    double threshold;
    int shadow;             /* 1: a shadow finding (a shadow detector's
                               score or a shadow route's threshold): it
                               did not decide anything */
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
 * Order: the reply's hits by start offset (then end, then detector);
 * categories, and reasons category by category, in one fixed order per
 * policy set (the order it compiles its categories in), never in the
 * order the scans happened to find them: the same request and policy set
 * give the same sequences.
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
/** Wall time of the check in nanoseconds (the clock rg_engine_open chose). */
RG_API uint64_t rg_result_elapsed_ns(const rg_result *result);
/** The route that decided ("" before the first check). */
RG_API const char *rg_result_route(const rg_result *result);
/** Policy version and content hash of the snapshot that decided. */
RG_API const char *rg_result_policy_version(const rg_result *result);
RG_API const char *rg_result_policy_hash(const rg_result *result);

/**
 * The handoff context: a compact JSON object for the human who takes the
 * conversation over, so the customer does not have to start again
 * (docs/CONVERSATION.md). Meant for results whose verdict is handoff; any
 * result can be rendered. It holds the route, verdict, turn (the request's
 * history_count + 1), channel and locale, the reasons (category, action,
 * score, threshold), the triggering hits (detector, category, source,
 * offsets, and the span as "[category]": never the span's text), the
 * flags, the policy version, and "excerpt": the first ~200 bytes of the
 * draft with every detected span replaced by "[category]" (null when the
 * verdict was not handoff, or when the check did not scan the whole reply
 * or kept every hit, so a span could have been missed). Text the detectors
 * did not recognise stays in the excerpt. The user message and history
 * never appear.
 *
 * buf, size: as snprintf (NUL-terminated when size > 0; buf may be NULL
 * when size is 0). len: may be NULL; receives the length of the whole
 * text without the NUL, whether or not it fit. The caller owns buf.
 * Returns RG_OK if it fit; RG_E_RANGE if not (call again with size >
 * *len); RG_E_INVAL (result NULL, or buf NULL with size > 0).
 * Not thread-safe on the same result; allocates nothing.
 */
RG_API int rg_result_handoff_json(const rg_result *result, char *buf,
                                  size_t size, size_t *len);

/* ------------------------------------------------------------------------ */
/* Observability: metrics and audit events (docs/OBSERVABILITY.md)          */
/* ------------------------------------------------------------------------ */

/* rg_engine_options.flags bits. */
enum {
    /* Keep no per-check metrics: rg_engine_metrics() then renders only
     * the engine-level series (reloads, policy). Saves a few nanoseconds
     * per check and ~30 KB per scratch. Audit events are unaffected. */
    RG_ENGINE_NO_METRICS = 1u << 0
};

/**
 * Render the engine's metrics in the Prometheus text exposition format
 * (version 0.0.4: # HELP, # TYPE, one sample per line).
 *
 * Series (all prefixed replyguard_): checks_total{route,verdict,channel},
 * check_duration_seconds{route} (histogram, buckets 250 ns ... 10 ms),
 * category_hits_total{category,action}, budget_exceeded_total{route},
 * oversize_total{route}, failsafe_total{route}, redacted_total{route},
 * check_errors_total{status}, checks_rejected_total, reloads_total{result},
 * policy_info{version,hash}, policy_generation, scratches.
 * channel is one of chat, voice, sms, email, other (any other string),
 * none (NULL or ""). Request labels (tenant, persona, ...) are not metric
 * labels: their cardinality is the caller's; they go to audit events.
 *
 * Counters count from rg_engine_open, over every scratch the engine ever
 * had, and survive reloads: routes and categories are keyed by name (a
 * route a reload removed keeps its last values). At most 64 route names
 * and 256 category names are tracked per engine; further ones are counted
 * under route/category "_other".
 *
 * buf, size: as snprintf: at most size bytes are written, NUL-terminated
 * when size > 0. buf may be NULL when size is 0 (to ask for the length).
 * len: may be NULL; receives the length of the whole text (without the
 * NUL), whether or not it fit. The caller owns buf.
 *
 * Returns RG_OK if the whole text fit; RG_E_RANGE if it did not (buf holds
 * a prefix; call again with size > *len, leaving room: it may grow);
 * RG_E_INVAL (engine NULL, or buf NULL with size > 0).
 * Thread-safe: may run while checks run on other threads. It takes the
 * engine's lock (checks never do). Each value is exact, but a check in
 * flight may already be in one series and not yet in another.
 */
RG_API int rg_engine_metrics(const rg_engine *engine, char *buf, size_t size,
                             size_t *len);

/**
 * One audit event: what a check decided and why, without the reply text.
 * Every pointer is borrowed and valid only during the callback; copy what
 * you keep. Offsets in hits are bytes of the reply, which the event never
 * carries. struct_size is sizeof(rg_audit_event) of the library that
 * filled it (members are only appended).
 */
typedef struct rg_audit_event {
    size_t struct_size;
    uint64_t time_ns;            /* wall clock at the end of the check:
                                    ns since 1970-01-01 UTC */
    int status;                  /* what rg_check returns for this check */
    const char *route;           /* the route (the requested name if it is
                                    unknown); never NULL */
    const char *channel;         /* as in the request; may be NULL */
    const char *locale;          /* as in the request; may be NULL */
    const rg_label *labels;      /* the request's labels, as given */
    size_t label_count;
    rg_verdict verdict;
    unsigned flags;              /* RG_FLAG_* */
    uint64_t elapsed_ns;
    const char *policy_version;  /* "" if none */
    const char *policy_hash;
    size_t reply_len;            /* the reply's length in bytes, not its text */
    const rg_hit *hits;          /* detector ids, categories, spans, scores */
    size_t hit_count;
    const rg_category_score *categories;
    size_t category_count;
    const rg_reason *reasons;
    size_t reason_count;
    /* Only with RG_AUDIT_REDACTED_COPY, else NULL: the reply with every
     * detected span (every hit, whatever its category or action) replaced
     * by "[category]". NULL also when the check did not scan the whole
     * reply or kept every hit (status not RG_OK, or flags oversize,
     * budget_exceeded, engine_error or hits_truncated): a span could have
     * been missed. Text the detectors did not recognise is still there. */
    const char *redacted;
    size_t redacted_len;
} rg_audit_event;

/**
 * An audit callback. Called on the checking thread, once per check that
 * reached the engine (every rg_check call except those refused for a
 * NULL engine/scratch/request/result or a scratch of another engine),
 * after the verdict is final and before rg_check returns. It must be
 * thread-safe when several threads check on the engine, should be quick
 * (it runs inside the caller's check, though outside elapsed_ns), and must
 * not call rg_check with the same scratch or result, nor reload or close
 * the engine.
 */
typedef void (*rg_audit_fn)(const rg_audit_event *event, void *user);

/* rg_engine_set_audit flags. */
enum {
    /* Fill rg_audit_event.redacted: opt in to a copy of the reply with
     * every detected span masked. Off by default: without it an event
     * holds no text from the reply at all. */
    RG_AUDIT_REDACTED_COPY = 1u << 0
};

/**
 * Set (fn non-NULL) or remove (fn NULL) the engine's audit callback;
 * `user` is passed to it unchanged. Without a callback the check's cost
 * is one branch. flags: RG_AUDIT_* bits.
 * Returns RG_OK; RG_E_INVAL (engine NULL, or unknown flag bits).
 * Not thread-safe against checks: set it before sharing the engine with
 * checking threads (or while no check runs). Once it returns, checks that
 * start use the new setting.
 */
RG_API int rg_engine_set_audit(rg_engine *engine, rg_audit_fn fn, void *user,
                               unsigned flags);

/**
 * Format an event as one JSON Lines record: a JSON object and '\n'.
 * The output is valid UTF-8 JSON whatever the bytes of the event's strings
 * (control characters escaped, each invalid UTF-8 sequence as \ufffd).
 * Members: time (RFC 3339, UTC, microseconds), route, channel, locale,
 * labels {key: value}, verdict, status, flags [names], elapsed_ns,
 * policy {version, hash}, reply_bytes, categories, reasons, hits
 * [{detector, category, start, end, score}], and redacted (only when the
 * event has a redacted copy). Shadow findings carry "shadow": true (hits,
 * reasons) or "shadow_score" (categories) only when present. Numbers never
 * depend on the C locale.
 * Allocates nothing: safe to call inside the callback.
 *
 * buf, size, len: as for rg_engine_metrics (len excludes the NUL).
 * Returns RG_OK; RG_E_RANGE (did not fit; *len says how much is needed);
 * RG_E_INVAL (event NULL, or buf NULL with size > 0).
 * Thread-safe (no shared state).
 */
RG_API int rg_audit_event_json(const rg_audit_event *event, char *buf,
                               size_t size, size_t *len);

/* ------------------------------------------------------------------------ */
/* Policy authoring: shadow mode, lint, introspection (docs/AUTHORING.md)   */
/* ------------------------------------------------------------------------ */

/*
 * Shadow mode. A detector or a route marked `mode: shadow` in the policy
 * is evaluated on every check and reported, but cannot change the verdict
 * or the redacted copy, so a new rule can be watched on live traffic
 * before it enforces.
 *   - A shadow detector's hits are in the result with rg_hit.shadow = 1;
 *     they do not count in rg_category_score.score (they do in
 *     shadow_score); thresholds they alone would cross are listed as
 *     reasons with rg_reason.shadow = 1.
 *   - A shadow route enforces the route it extends (thresholds, limits
 *     and fail-safes: with no parent, every threshold is off); its own
 *     thresholds are evaluated and listed as shadow reasons.
 * RG_FLAG_SHADOW says a result holds shadow findings.
 */

/**
 * The verdict the check would have given had every shadow detector and a
 * shadow route enforced (the same fail-safes applied). Equal to
 * rg_result_verdict() when RG_FLAG_SHADOW is not set. NULL result:
 * RG_HANDOFF. Not thread-safe on the same result.
 */
RG_API rg_verdict rg_result_shadow_verdict(const rg_result *result);

/* More rg_engine_options.flags bits. */
enum {
    /* Lint: also run the policy-author checks and report them as
     * warnings (detectors no route scores, thresholds no detector can
     * reach, routes identical to their parent, patterns on the PCRE2 slow
     * path, catastrophic-backtracking risk, allow entries that match
     * nothing, words in more than one detector). A policy set with
     * structural errors is still checked semantically (unknown
     * categories, extends targets, cycles, pattern syntax), so one run
     * shows every error. Never uses the compiled cache. */
    RG_ENGINE_LINT = 1u << 1,
    /* Use no compiled cache, whatever cache_dir and $RG_CACHE_DIR say. */
    RG_ENGINE_NO_CACHE = 1u << 2
};

/** What a category name is to the engine's current snapshot. */
enum {
    /* A taxonomy category, a sub-category the policy declares, or a
     * dot-prefix of one ("toxicity", "pii.national_id"). */
    RG_CATEGORY_KNOWN = 1u << 0,
    /* Some detector scores this category or a category below it. */
    RG_CATEGORY_SCORED = 1u << 1
};

/**
 * RG_CATEGORY_* bits for `name` in the current snapshot; 0 for a name
 * that is not known (a typo), or when engine or name is NULL.
 * Thread-safe.
 */
RG_API unsigned rg_engine_category(const rg_engine *engine, const char *name);

/** Actions a route threshold can trigger (indexes, fixed). */
enum { RG_ACTION_HANDOFF = 0, RG_ACTION_BLOCK = 1, RG_ACTION_REDACT = 2 };

/* rg_engine_threshold flags. */
enum {
    /* The threshold a shadow route evaluates (its own) rather than the
     * one it enforces (its parent's). Same as without for other routes. */
    RG_THRESHOLD_SHADOW = 1u << 0
};

/** A route's resolved threshold for one category and action. */
typedef struct rg_threshold {
    size_t struct_size;  /* set by the caller: sizeof(rg_threshold) */
    double value;        /* 0..1; -1 when off or never set (never crossed) */
    char rule[128];      /* the rule key that set it ("" if none); a longer
                            name is truncated */
    char route[128];     /* the route that set it: the route itself, or
                            the ancestor it inherits from ("" if none) */
} rg_threshold;

/**
 * The threshold `route` applies to `category` for `action`
 * (RG_ACTION_*), resolved as a check resolves it: the most specific rule
 * key that sets the field, the route winning over its ancestors. Shows
 * the thresholds a reply's category did *not* cross (rg_reason lists only
 * those it did). flags: RG_THRESHOLD_* bits.
 *
 * category is a leaf category that some detector scores (as in
 * rg_category_score); route NULL means "default".
 * Returns RG_OK; RG_E_NOROUTE (unknown route); RG_E_RANGE (no detector
 * scores that category); RG_E_INVAL (engine, category or out NULL,
 * out->struct_size too small, bad action or flags).
 * Thread-safe; the answer comes from the current snapshot.
 */
RG_API int rg_engine_threshold(const rg_engine *engine, const char *route,
                               const char *category, int action,
                               unsigned flags, rg_threshold *out);

/* ------------------------------------------------------------------------ */
/* Compiled cache and bundles                                               */
/* ------------------------------------------------------------------------ */

/*
 * Compiled cache. Compiling the Hyperscan databases is most of the time
 * rg_engine_open takes (~0.2 s for the shipped set). With a cache
 * directory (rg_engine_options.cache_dir, or $RG_CACHE_DIR), open and
 * reload store the databases there, keyed by the policy's content hash,
 * the Hyperscan version and the host platform, and reuse them next time.
 * The YAML is still read and checked (diagnostics are identical), only
 * Hyperscan's compile is skipped. A missing, corrupt, truncated, stale
 * or foreign cache file is a miss and is rebuilt, never an error; writes
 * are atomic (temporary file + rename), so processes may share the
 * directory. The directory must be writable only by trusted users: its
 * files are loaded into the engine.
 *
 * Bundles. rg_bundle_write compiles a policy set into one self-contained
 * file; rg_engine_open / rg_engine_reload given that file's path load it
 * without reading YAML or compiling (compile once, ship to every
 * replica). A bundle is tied to the replyguard build and Hyperscan
 * version that wrote it and to a CPU class (RG_BUNDLE_GENERIC for any
 * x86-64 Hyperscan supports); anything else is refused with RG_E_BUNDLE
 * and a diagnostic saying why, and a reload from it keeps the old
 * snapshot.
 */

/** Where the current snapshot came from. */
enum { RG_LOAD_COMPILED = 0, RG_LOAD_CACHE = 1, RG_LOAD_BUNDLE = 2 };

typedef struct rg_load_info {
    size_t struct_size;   /* set by the caller: sizeof(rg_load_info) */
    int source;           /* RG_LOAD_* */
    int cache_written;    /* 1: compiled, and stored in the cache */
    uint64_t load_ns;     /* wall time of the open/reload that built the
                             current snapshot: read, check, compile or
                             load from cache/bundle */
} rg_load_info;

/**
 * How the current snapshot was built. Returns RG_OK; RG_E_INVAL (a NULL
 * argument or info->struct_size too small). Thread-safe.
 */
RG_API int rg_engine_load_info(const rg_engine *engine, rg_load_info *info);

/* rg_bundle_write flags. */
enum {
    /* Compile for any x86-64 CPU Hyperscan supports rather than for this
     * one (it may scan somewhat slower on newer CPUs). Use it when the
     * replicas' CPUs differ from the build machine's. */
    RG_BUNDLE_GENERIC = 1u << 0
};

/**
 * Load and compile the policy set at policy_path (a directory or YAML
 * file) and write it as a bundle to bundle_path, atomically (a temporary
 * file in the same directory, then rename). opts as for rg_engine_open
 * (the cache is not used); flags: RG_BUNDLE_* bits. diag as for
 * rg_engine_open (a failed write is reported there too).
 * Returns RG_OK; the codes of rg_engine_open; RG_E_IO (cannot write
 * bundle_path); RG_E_INVAL (NULL path, bad flags).
 * Thread-safe (no shared state).
 */
RG_API int rg_bundle_write(const char *policy_path, const char *bundle_path,
                           const rg_engine_options *opts, unsigned flags,
                           rg_diag **diag);

/* ------------------------------------------------------------------------ */
/* Watching a policy directory                                              */
/* ------------------------------------------------------------------------ */

typedef struct rg_watch rg_watch;

/**
 * Called after every reload the watcher attempts, on the watcher's own
 * thread. status: RG_OK (the new snapshot is in force) or the status of
 * rg_engine_reload (the old snapshot stays in force). diag: the reload's
 * diagnostics (errors with file:line:column, warnings), or NULL; borrowed
 * for the duration of the call. generation: the engine's generation after
 * the attempt. The callback may call rg_check and the rg_engine_get_*
 * functions; it must not call rg_watch_stop on its own watcher.
 */
typedef void (*rg_watch_fn)(void *user, int status, const rg_diag *diag,
                            uint64_t generation);

typedef struct rg_watch_options {
    size_t struct_size;     /* sizeof(rg_watch_options) */
    unsigned debounce_ms;   /* quiet time after the last change before
                               reloading; 0 means 200 */
    rg_watch_fn callback;   /* may be NULL */
    void *user;             /* passed to callback */
} rg_watch_options;

/**
 * Watch the engine's policy path (the directory, its subdirectories such
 * as lexicons/, or a single policy or bundle file) with inotify and call
 * rg_engine_reload(engine, NULL, ...) once changes have been quiet for
 * debounce_ms; a burst of saves gives one reload. A reload that fails
 * keeps the old snapshot (as rg_engine_reload always does) and is
 * reported through the callback; the next change tries again.
 *
 * The path watched is the engine's when this is called; a later
 * rg_engine_reload from another path does not move the watch (stop this
 * watcher and start another).
 *
 * The watcher owns one thread, started here and joined by rg_watch_stop.
 * opts may be NULL (defaults, no callback).
 * Returns RG_OK with *out set; RG_E_INVAL (engine or out NULL, bad
 * opts); RG_E_IO (inotify unavailable or the path cannot be watched);
 * RG_E_NOMEM.
 * Thread-safe: checks, reloads and other watchers may run meanwhile.
 * Stop every watcher of an engine before rg_engine_close.
 */
RG_API int rg_watch_start(rg_engine *engine, const rg_watch_options *opts,
                          rg_watch **out);

/**
 * Stop the watcher: wakes its thread, waits for a reload in progress to
 * finish, joins the thread and frees the watcher. No callback runs after
 * it returns. NULL is a no-op. Not thread-safe on the same watcher.
 */
RG_API void rg_watch_stop(rg_watch *watch);

/* ------------------------------------------------------------------------ */
/* Streaming (docs/STREAMING.md)                                            */
/* ------------------------------------------------------------------------ */

/*
 * A stream checks a reply while it is being generated — the tokens of a
 * chat UI, the text a voice agent is about to speak — and says after
 * every chunk how much of it is safe to release. Hyperscan keeps its
 * automaton state across chunks (HS_MODE_STREAM) and the normaliser works
 * incrementally, so a card number or a slur split across chunks is found
 * as if the text had come in one piece.
 *
 *   rg_stream_open    once per reply (route, channel, labels: as rg_check)
 *   rg_stream_feed    per chunk: the verdict so far, and
 *                     rg_stream_safe_bytes() / rg_stream_release()
 *   rg_stream_close   at the end: the final result, the same as rg_check
 *                     on the whole text
 *   rg_stream_free
 *
 * Safe bytes. After each call, the first rg_stream_safe_bytes() bytes of
 * the stream may be released: everything before the earliest position
 * that could still become part of a finding — an unfinished word that may
 * still be (the start of) a listed term, a digit run that could still
 * grow into a card or phone number, a partial e-mail address or key (the
 * policy's own regexes decide, by PCRE2 partial matching), a hit whose
 * allow-list phrase or context words may still follow. The count never
 * decreases. rg_stream_release() returns the text of the bytes the last
 * call made safe, with every span of a category whose redact threshold is
 * crossed replaced by its mask. The rule and its measured cost (bytes
 * held back) are in docs/STREAMING.md.
 *
 * Verdict so far. A feed's result holds the findings that are settled (no
 * later text can change them): hits with offsets in the whole stream,
 * categories, reasons, flags, and this call's elapsed_ns. It holds no
 * redacted copy (rg_stream_release gives the releasable text);
 * rg_stream_close's result has the redacted copy of the whole text, and
 * its elapsed_ns is the stream's total checking time. The verdict can only
 * become more severe as text arrives. Once it is block the stream stops:
 * later feeds return the block and release nothing. A handoff does not
 * stop it. Text already released cannot be taken back: when later text
 * raises a category over its redact threshold (two weak findings of one
 * category), spans released before stay released, and results say so
 * with RG_FLAG_RELEASED_UNMASKED.
 *
 * Bounds. The work of a feed is proportional to its chunk plus the text
 * held back, not to the stream so far; a stream keeps at most the route's
 * max_bytes of text. The route's budget_us bounds every call and the
 * stream as a whole (the sum of its calls): past it the verdict is at
 * least on_timeout (RG_FLAG_BUDGET_EXCEEDED) and nothing more is checked.
 * Past max_bytes the rest is not checked either: the verdict is at least
 * on_oversize (RG_FLAG_OVERSIZE). Unchecked text is released only when
 * the verdict is allow.
 *
 * Reloads. A stream follows the engine's current snapshot: the first call
 * after a reload checks the text the stream holds again under the new
 * policy, so the result of rg_stream_close equals rg_check under the
 * policy in force at close.
 *
 * Compile cost. The streaming databases are compiled from a snapshot on
 * first use (the first rg_stream_open, or the first call after a reload;
 * ~1.5 s for the shipped policy set, see docs/STREAMING.md), or with every
 * snapshot when the engine is opened with RG_ENGINE_STREAMING.
 */

/* rg_engine_options.flags bit. */
enum {
    /* Compile the streaming databases with every snapshot (open and
     * reload) instead of on the first stream, so that no stream call waits
     * for them. Costs that compile time and memory even if no stream is
     * ever opened. */
    RG_ENGINE_STREAMING = 1u << 3
};

typedef struct rg_stream rg_stream;

/**
 * Start checking one reply as a stream.
 *
 * request: route (NULL means "default"), channel, locale and labels are
 * copied (metrics and the audit event are recorded at rg_stream_close).
 * reply, user_message and the history texts are ignored: text arrives
 * with rg_stream_feed. history_count is kept: with channel and locale it
 * decides the route's required disclosures (checked when the stream
 * closes) and channel/locale overrides (docs/CONVERSATION.md); loops and
 * user-message detectors need the texts and do not apply to streams.
 * out: receives the stream (NULL on error); free it with rg_stream_free.
 * Compiles the streaming databases of the current snapshot if no stream
 * has used it yet (see "Compile cost").
 *
 * Returns RG_OK; RG_E_INVAL (engine, request or out NULL, labels NULL
 * with a non-zero count); RG_E_NOROUTE (route not in the policy set);
 * RG_E_COMPILE (the streaming databases failed to compile); RG_E_NOMEM.
 * Thread-safe (takes the engine lock while it compiles).
 */
RG_API int rg_stream_open(rg_engine *engine, const rg_request *request,
                          rg_stream **out);

/**
 * Feed the next chunk of the reply: len bytes, any bytes (a UTF-8
 * sequence may be cut between chunks; chunk may be NULL only if len is
 * 0). Fills result (cleared first) with the verdict so far; then
 * rg_stream_safe_bytes() and rg_stream_release() say what may be sent.
 * scratch: any scratch of the stream's engine, used by one thread at a
 * time (as for rg_check).
 *
 * Never fails open: whenever it returns an error status the result holds
 * the route's on_error verdict with RG_FLAG_ENGINE_ERROR and
 * RG_FLAG_FAILSAFE, the stream releases nothing more, and every later
 * feed or close returns the same status.
 *
 * Returns RG_OK; RG_E_INVAL (stream, scratch or result NULL, chunk NULL
 * with len > 0, or the stream is closed); RG_E_MISMATCH (scratch of
 * another engine); RG_E_NOROUTE (a reload removed the route);
 * RG_E_NOMEM; RG_E_ENGINE (a scan failed); RG_E_COMPILE (the streaming
 * databases of a reloaded snapshot failed to compile).
 * Not thread-safe on the same stream; different streams may be fed from
 * different threads at once, each call with its own scratch and result.
 */
RG_API int rg_stream_feed(rg_stream *stream, rg_scratch *scratch,
                          const char *chunk, size_t len, rg_result *result);

/**
 * End of the reply. What was held back is checked as finished text (a
 * word at the very end is complete now), and result gets the final
 * verdict: the same verdict, hits, categories and reasons as rg_check on
 * the whole text (ordering of categories and reasons aside), with the
 * redacted copy of the text the stream kept when a redact action applies.
 * Every byte not yet released becomes safe unless the verdict is block
 * (or unchecked text remains and the verdict is not allow). Metrics and
 * the audit event are recorded here, once for the whole stream.
 * The stream is closed afterwards: feeding it is RG_E_INVAL.
 *
 * Returns as rg_stream_feed; RG_E_INVAL if it was closed already.
 * Not thread-safe on the same stream.
 */
RG_API int rg_stream_close(rg_stream *stream, rg_scratch *scratch,
                           rg_result *result);

/**
 * Free a stream, open or closed. NULL is a no-op. It may be called after
 * rg_engine_close (no other rg_stream_ function may). Not thread-safe on
 * the same stream.
 */
RG_API void rg_stream_free(rg_stream *stream);

/** Bytes fed to the stream so far; 0 for NULL. */
RG_API size_t rg_stream_bytes(const rg_stream *stream);

/** How many bytes from the start of the stream may be released; never
 * decreases; 0 for NULL. */
RG_API size_t rg_stream_safe_bytes(const rg_stream *stream);

/**
 * The text the last rg_stream_feed or rg_stream_close made releasable:
 * the stream's bytes from the previous rg_stream_safe_bytes() to the
 * current one, with masks in place of redacted spans (so the length may
 * differ). Owned by the stream, valid until its next call; a NUL follows
 * it. len may be NULL. NULL stream: NULL, *len = 0.
 */
RG_API const char *rg_stream_release(const rg_stream *stream, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* REPLYGUARD_H */
