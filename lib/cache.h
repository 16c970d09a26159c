/* cache.h — the compiled cache (cache.c) and compiled bundles (bundle.c),
 * and the small binary reader/writer both use.
 *
 * The cache memoises only Hyperscan's work — the outcome of compiling each
 * regex alone (exact, prefilter, PCRE2 only) and the serialized
 * multi-pattern databases — keyed by exactly what went into it. Everything
 * else in a snapshot is still built from the policy model on every load,
 * so a change to the snapshot's layout can never make a cached engine
 * behave differently from a freshly compiled one.
 *
 * A bundle is a whole snapshot serialized, loaded without the YAML. */
#ifndef RG_CACHE_H
#define RG_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

/* ---- binary writer / reader (little-endian, bounds-checked) ---------- */

typedef struct rg__wbuf {
    const rg_allocator *a;
    uint8_t *p;
    size_t len, cap;
    int oom;
} rg__wbuf;

void rg__w_bytes(rg__wbuf *w, const void *data, size_t n);
void rg__w_u8(rg__wbuf *w, uint8_t v);
void rg__w_u32(rg__wbuf *w, uint32_t v);
void rg__w_u64(rg__wbuf *w, uint64_t v);
void rg__w_f64(rg__wbuf *w, double v);
/* A length-prefixed string; NULL is written as length 0xFFFFFFFF. */
void rg__w_str(rg__wbuf *w, const char *s);

typedef struct rg__rbuf {
    const uint8_t *p;
    size_t len, pos;
    int bad; /* a read ran past the end or met an impossible value */
} rg__rbuf;

const uint8_t *rg__r_bytes(rg__rbuf *r, size_t n); /* NULL when short */
uint8_t rg__r_u8(rg__rbuf *r);
uint32_t rg__r_u32(rg__rbuf *r);
uint64_t rg__r_u64(rg__rbuf *r);
double rg__r_f64(rg__rbuf *r);
/* Points into the buffer (not NUL-terminated): *n bytes; NULL for a NULL
 * string or on error (r->bad set then). */
const char *rg__r_str(rg__rbuf *r, size_t *n);

/* A whole file, at most max bytes, read with the engine's allocator.
 * Returns RG_OK, RG_E_IO (errno-style text in why) or RG_E_NOMEM. */
int rg__slurp(const rg_allocator *a, const char *path, size_t max,
              uint8_t **data, size_t *len, char *why, size_t whysize);
/* Write data to path atomically: a temporary file in the same directory,
 * then rename. Returns 0 or -1 (errno set). */
int rg__write_atomic(const char *path, const void *data, size_t len);

/* The platform a database is compiled for: this host, or the generic
 * x86-64 target. */
void rg__platform_host(hs_platform_info_t *p);
void rg__platform_generic(hs_platform_info_t *p);

/* ---- compiled cache ---------------------------------------------------- */

typedef struct rg__hscache rg__hscache;

/* The cache for one policy set (its content hash) in `dir` (created if
 * missing). Reads the cache file if there is a valid one; anything wrong
 * with it is a miss. Returns NULL only when out of memory (no cache). */
rg__hscache *rg__hscache_open(const rg_allocator *a, const char *dir,
                              const uint8_t policy_hash[32]);
/* After a successful compile: if anything was compiled rather than found,
 * write the file (atomically) with the entries this compile used.
 * Returns 1 if a file was written, 0 otherwise (nothing new, or the write
 * failed: a cache never turns into an error). */
int rg__hscache_commit(rg__hscache *c);
void rg__hscache_close(rg__hscache *c);
/* Lookups that hit / compiles that missed since open. */
size_t rg__hscache_hits(const rg__hscache *c);
size_t rg__hscache_misses(const rg__hscache *c);

/* How Hyperscan takes one regex compiled alone. */
enum {
    RG__TRIAL_EXACT = 0,     /* as written */
    RG__TRIAL_PREFILTER = 1, /* only with HS_FLAG_PREFILTER (PCRE2 confirms) */
    RG__TRIAL_PCRE_ONLY = 2, /* not at all: PCRE2 on every check */
    RG__TRIAL_EMPTY = 3      /* it can match empty text: a policy error */
};
/* The trial outcome for `pattern` with `flags` (c may be NULL: no
 * memo). why receives Hyperscan's first error message for anything but
 * EXACT. Returns RG__TRIAL_* or -1 when out of memory. */
int rg__hs_trial(rg__hscache *c, const char *pattern, unsigned flags,
                 char *why, size_t whysize);
/* A block-mode database of these expressions, flags and ids for
 * `platform` (NULL: host) from the cache: key receives the entry's key
 * (also with c NULL); returns 1 with *db set on a hit, else 0 (a miss:
 * compile it with hs_compile_multi, then rg__hscache_put). Not
 * thread-safe: compile.c looks up and stores on the opening thread and
 * only compiles the misses on helper threads. */
int rg__hscache_find(rg__hscache *c, const char *const *expr, const unsigned *flags,
                     const unsigned *ids, unsigned n, const hs_platform_info_t *platform,
                     uint8_t key[32], hs_database_t **db);
/* Memoise a database compiled after a miss under its key (c NULL: no-op). */
void rg__hscache_put(rg__hscache *c, const uint8_t key[32], const hs_database_t *db);

/* ---- bundles ----------------------------------------------------------- */

/* 1 if the file at path starts with the bundle magic (a cheap sniff: the
 * engine then loads it as a bundle rather than YAML). */
int rg__bundle_sniff(const char *path);
/* Serialize a snapshot (compiled for `platform`, generic or not) into
 * the bytes of a bundle file. Returns RG_OK or RG_E_NOMEM. */
int rg__bundle_encode(const rg_allocator *a, const rg__snapshot *s,
                      int generic, uint8_t **data, size_t *len);
/* Load a bundle file into a new snapshot. Problems are reported in d as
 * errors on the file. Returns RG_OK, RG_E_IO, RG_E_BUNDLE or RG_E_NOMEM. */
int rg__bundle_read(const rg_allocator *a, const char *path,
                    rg__snapshot **out, rg__diags *d);
#endif
