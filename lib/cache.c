/* cache.c — the compiled cache: Hyperscan's work memoised on disk.
 *
 * One file per policy set and target: <dir>/<key>.rgc, where key =
 * SHA-256 of (format, library version, policy content hash, Hyperscan
 * version, host platform). It holds two kinds of entries, each keyed by
 * exactly what went into it:
 *   - trials: SHA-256(pattern, flags) → how Hyperscan takes the pattern
 *     alone (exact / prefilter / PCRE2 only / matches empty) and why;
 *   - databases: SHA-256(platform, every expression, flag and id) → the
 *     serialized multi-pattern database.
 * So a cached answer is only ever used for the very same input; anything
 * the compiler derives from the policy model is rebuilt on every load.
 *
 * File layout (little-endian):
 *   "RGCACHE\1" | u32 format | key[32] | u64 payload length |
 *   SHA-256(payload)[32] | payload
 *   payload: u32 ntrials, { key[32] u8 outcome str why }...
 *            u32 ndbs,    { key[32] u64 len bytes }...
 * A file whose magic, format, key, length or checksum is off — truncated,
 * corrupt, from another version or machine — is ignored (a miss). A
 * database Hyperscan refuses to deserialize, or that cannot get scratch
 * space on this CPU, is a miss too. */
#include "cache.h"
#include "alloc.h"
#include "sha256.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAGIC "RGCACHE\1"
#define CACHE_FORMAT 1u
/* Far above any real policy set (the shipped one: ~0.6 MB). */
#define CACHE_MAX_FILE (512u << 20)
/* Old cache files (other policy versions) are pruned beyond this many. */
#define CACHE_KEEP_FILES 16

/* ------------------------------------------------------------------ */
/* Binary writer / reader                                              */
/* ------------------------------------------------------------------ */

void rg__w_bytes(rg__wbuf *w, const void *data, size_t n)
{
    if (w->oom || n == 0)
        return;
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->oom = 1;
                return;
            }
            cap *= 2;
        }
        uint8_t *p = rg__realloc(w->a, w->p, cap);
        if (!p) {
            w->oom = 1;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->len, data, n);
    w->len += n;
}

void rg__w_u8(rg__wbuf *w, uint8_t v) { rg__w_bytes(w, &v, 1); }

void rg__w_u32(rg__wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    rg__w_bytes(w, b, 4);
}

void rg__w_u64(rg__wbuf *w, uint64_t v)
{
    rg__w_u32(w, (uint32_t)v);
    rg__w_u32(w, (uint32_t)(v >> 32));
}

void rg__w_f64(rg__wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    rg__w_u64(w, u);
}

void rg__w_str(rg__wbuf *w, const char *s)
{
    if (!s) {
        rg__w_u32(w, 0xFFFFFFFFu);
        return;
    }
    size_t n = strlen(s);
    if (n >= 0xFFFFFFFFu) {
        w->oom = 1;
        return;
    }
    rg__w_u32(w, (uint32_t)n);
    rg__w_bytes(w, s, n);
}

const uint8_t *rg__r_bytes(rg__rbuf *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t rg__r_u8(rg__rbuf *r)
{
    const uint8_t *p = rg__r_bytes(r, 1);
    return p ? p[0] : 0;
}

uint32_t rg__r_u32(rg__rbuf *r)
{
    const uint8_t *p = rg__r_bytes(r, 4);
    if (!p)
        return 0;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

uint64_t rg__r_u64(rg__rbuf *r)
{
    uint64_t lo = rg__r_u32(r);
    uint64_t hi = rg__r_u32(r);
    return lo | hi << 32;
}

double rg__r_f64(rg__rbuf *r)
{
    uint64_t u = rg__r_u64(r);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

const char *rg__r_str(rg__rbuf *r, size_t *n)
{
    uint32_t len = rg__r_u32(r);
    *n = 0;
    if (r->bad || len == 0xFFFFFFFFu)
        return NULL;
    const uint8_t *p = rg__r_bytes(r, len);
    if (!p)
        return NULL;
    *n = len;
    return (const char *)p;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

int rg__slurp(const rg_allocator *a, const char *path, size_t max,
              uint8_t **data, size_t *len, char *why, size_t whysize)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, whysize, "%s", strerror(errno));
        return RG_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whysize, "not a regular file");
        close(fd);
        return RG_E_IO;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(why, whysize, "file too large (%lld bytes)", (long long)st.st_size);
        close(fd);
        return RG_E_IO;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *p = rg__malloc(a, n ? n : 1);
    if (!p) {
        close(fd);
        return RG_E_NOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(why, whysize, "%s", r < 0 ? strerror(errno) : "file shrank while reading");
            rg__free(a, p);
            close(fd);
            return RG_E_IO;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = p;
    *len = n;
    return RG_OK;
}

int rg__write_atomic(const char *path, const void *data, size_t len)
{
    static _Atomic unsigned long counter;
    size_t n = strlen(path);
    char *tmp = malloc(n + 64);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    /* Same directory, so rename(2) is atomic; a dot name, so a policy
     * directory never loads it and the watcher ignores it. Not mkstemp:
     * its 0600 would need umask() to widen, and umask is process-wide
     * (not ours to touch in a library); open with 0644 follows it. */
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dl;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long k = atomic_fetch_add(&counter, 1);
        memcpy(tmp, path, dl);
        snprintf(tmp + dl, n + 64 - dl, ".%.200s.%ld.%lu.%lx.tmp", base, (long)getpid(), k,
                 (unsigned long)ts.tv_nsec);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) {
            free(tmp);
            return -1;
        }
    }
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            errno = e;
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    return 0;
}

void rg__platform_host(hs_platform_info_t *p)
{
    memset(p, 0, sizeof *p);
    if (hs_populate_platform(p) != HS_SUCCESS)
        memset(p, 0, sizeof *p);
}

void rg__platform_generic(hs_platform_info_t *p)
{
    memset(p, 0, sizeof *p);
    p->tune = HS_TUNE_FAMILY_GENERIC;
    p->cpu_features = 0;
}

static void hash_platform(rg__sha256 *h, const hs_platform_info_t *p)
{
    uint64_t v[4] = {p->tune, p->cpu_features, p->reserved1, p->reserved2};
    rg__sha256_update(h, v, sizeof v);
}

/* ------------------------------------------------------------------ */
/* The cache                                                           */
/* ------------------------------------------------------------------ */

typedef struct trial_entry {
    uint8_t key[32];
    uint8_t outcome;
    char *why;
    int used;
} trial_entry;

typedef struct db_entry {
    uint8_t key[32];
    uint8_t *bytes;   /* serialized database */
    size_t len;
    int used;
} db_entry;

struct rg__hscache {
    rg_allocator a;
    char *file;       /* <dir>/<key>.rgc */
    char *dir;
    uint8_t key[32];
    trial_entry *trials;
    size_t ntrials, captrials;
    db_entry *dbs;
    size_t ndbs, capdbs;
    size_t hits, misses;
    int oom;
};

size_t rg__hscache_hits(const rg__hscache *c) { return c ? c->hits : 0; }
size_t rg__hscache_misses(const rg__hscache *c) { return c ? c->misses : 0; }

static void clear_entries(rg__hscache *c)
{
    for (size_t i = 0; i < c->ntrials; i++)
        rg__free(&c->a, c->trials[i].why);
    for (size_t i = 0; i < c->ndbs; i++)
        rg__free(&c->a, c->dbs[i].bytes);
    c->ntrials = c->ndbs = 0;
}

/* Parse a cache file's bytes; on any problem the cache stays empty. */
static void parse_file(rg__hscache *c, const uint8_t *data, size_t len)
{
    rg__rbuf r = {data, len, 0, 0};
    const uint8_t *magic = rg__r_bytes(&r, 8);
    if (!magic || memcmp(magic, CACHE_MAGIC, 8) != 0)
        return;
    if (rg__r_u32(&r) != CACHE_FORMAT)
        return;
    const uint8_t *key = rg__r_bytes(&r, 32);
    if (!key || memcmp(key, c->key, 32) != 0)
        return; /* a foreign file under our name */
    uint64_t plen = rg__r_u64(&r);
    const uint8_t *sum = rg__r_bytes(&r, 32);
    if (r.bad || plen != len - r.pos)
        return; /* truncated or padded */
    uint8_t got[32];
    rg__sha256 h;
    rg__sha256_init(&h);
    rg__sha256_update(&h, data + r.pos, (size_t)plen);
    rg__sha256_final(&h, got);
    if (memcmp(got, sum, 32) != 0)
        return; /* corrupt */
    uint32_t nt = rg__r_u32(&r);
    for (uint32_t i = 0; i < nt && !r.bad && !c->oom; i++) {
        const uint8_t *k = rg__r_bytes(&r, 32);
        uint8_t outcome = rg__r_u8(&r);
        size_t wn;
        const char *why = rg__r_str(&r, &wn);
        if (r.bad || outcome > RG__TRIAL_EMPTY)
            break;
        if (rg__grow(&c->a, (void **)&c->trials, &c->captrials, c->ntrials + 1,
                     sizeof *c->trials)) {
            c->oom = 1;
            break;
        }
        trial_entry *t = &c->trials[c->ntrials];
        memcpy(t->key, k, 32);
        t->outcome = outcome;
        t->used = 0;
        t->why = rg__strndup(&c->a, why ? why : "", why ? wn : 0);
        if (!t->why) {
            c->oom = 1;
            break;
        }
        c->ntrials++;
    }
    uint32_t nd = r.bad ? 0 : rg__r_u32(&r);
    for (uint32_t i = 0; i < nd && !r.bad && !c->oom; i++) {
        const uint8_t *k = rg__r_bytes(&r, 32);
        uint64_t n = rg__r_u64(&r);
        const uint8_t *b = n <= len ? rg__r_bytes(&r, (size_t)n) : NULL;
        if (!b || r.bad)
            break;
        if (rg__grow(&c->a, (void **)&c->dbs, &c->capdbs, c->ndbs + 1,
                     sizeof *c->dbs)) {
            c->oom = 1;
            break;
        }
        db_entry *e = &c->dbs[c->ndbs];
        memcpy(e->key, k, 32);
        e->len = (size_t)n;
        e->used = 0;
        e->bytes = rg__malloc(&c->a, e->len ? e->len : 1);
        if (!e->bytes) {
            c->oom = 1;
            break;
        }
        memcpy(e->bytes, b, e->len);
        c->ndbs++;
    }
    if (r.bad || c->oom || r.pos != len)
        clear_entries(c); /* all or nothing */
}

rg__hscache *rg__hscache_open(const rg_allocator *a, const char *dir,
                              const uint8_t policy_hash[32])
{
    rg__hscache *c = rg__calloc(a, 1, sizeof *c);
    if (!c)
        return NULL;
    c->a = *a;
    hs_platform_info_t plat;
    rg__platform_host(&plat);
    rg__sha256 h;
    rg__sha256_init(&h);
    static const char tag[] = "replyguard compiled cache";
    rg__sha256_update(&h, tag, sizeof tag);
    uint32_t fmt = CACHE_FORMAT;
    rg__sha256_update(&h, &fmt, sizeof fmt);
    rg__sha256_update(&h, RG_VERSION_STRING, sizeof RG_VERSION_STRING);
    rg__sha256_update(&h, policy_hash, 32);
    const char *hv = hs_version();
    rg__sha256_update(&h, hv, strlen(hv) + 1);
    hash_platform(&h, &plat);
    rg__sha256_final(&h, c->key);
    char hex[65];
    rg__hex(c->key, 32, hex);
    size_t dl = strlen(dir);
    c->dir = rg__strdup(&c->a, dir);
    c->file = rg__malloc(&c->a, dl + 72);
    if (!c->dir || !c->file) {
        rg__hscache_close(c);
        return NULL;
    }
    snprintf(c->file, dl + 72, "%s%s%s.rgc", dir,
             dl && dir[dl - 1] == '/' ? "" : "/", hex);
    uint8_t *data;
    size_t len;
    char why[128];
    if (rg__slurp(&c->a, c->file, CACHE_MAX_FILE, &data, &len, why, sizeof why) == RG_OK) {
        parse_file(c, data, len);
        rg__free(&c->a, data);
    }
    return c;
}

void rg__hscache_close(rg__hscache *c)
{
    if (!c)
        return;
    clear_entries(c);
    rg__free(&c->a, c->trials);
    rg__free(&c->a, c->dbs);
    rg__free(&c->a, c->file);
    rg__free(&c->a, c->dir);
    rg_allocator a = c->a;
    rg__free(&a, c);
}

static trial_entry *find_trial(rg__hscache *c, const uint8_t key[32])
{
    for (size_t i = 0; i < c->ntrials; i++)
        if (memcmp(c->trials[i].key, key, 32) == 0)
            return &c->trials[i];
    return NULL;
}

static db_entry *find_db(rg__hscache *c, const uint8_t key[32])
{
    for (size_t i = 0; i < c->ndbs; i++)
        if (memcmp(c->dbs[i].key, key, 32) == 0)
            return &c->dbs[i];
    return NULL;
}

/* Compile one pattern alone: exact, else prefilter, else PCRE2 only. */
/* Whether Hyperscan takes a pattern exactly, only as a prefilter, or not
 * at all. hs_expression_info parses and analyses without building a
 * database: on the shipped patterns it agreed with hs_compile on every
 * one and took 0.065 s instead of 2.15 s (docs/PERFORMANCE.md). */
static int trial_compile(const char *pattern, unsigned flags, char *why,
                         size_t whysize)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    why[0] = '\0';
    if (hs_expression_info(pattern, flags, &info, &err) == HS_SUCCESS) {
        /* hs_compile refuses a pattern that can match empty text */
        int empty = info && info->min_width == 0;
        free(info);
        if (!empty)
            return RG__TRIAL_EXACT;
        snprintf(why, whysize, "Pattern matches empty buffer");
        return RG__TRIAL_EMPTY;
    }
    snprintf(why, whysize, "%s", err ? err->message : "unknown");
    int empty = err && strstr(err->message, "empty");
    hs_free_compile_error(err);
    if (empty)
        return RG__TRIAL_EMPTY;
    err = NULL;
    info = NULL;
    if (hs_expression_info(pattern, flags | HS_FLAG_PREFILTER, &info, &err) == HS_SUCCESS) {
        free(info);
        return RG__TRIAL_PREFILTER;
    }
    hs_free_compile_error(err);
    return RG__TRIAL_PCRE_ONLY;
}

int rg__hs_trial(rg__hscache *c, const char *pattern, unsigned flags,
                 char *why, size_t whysize)
{
    if (!c)
        return trial_compile(pattern, flags, why, whysize);
    uint8_t key[32];
    rg__sha256 h;
    rg__sha256_init(&h);
    rg__sha256_update(&h, "trial", 6);
    rg__sha256_update(&h, &flags, sizeof flags);
    rg__sha256_update(&h, pattern, strlen(pattern) + 1);
    rg__sha256_final(&h, key);
    trial_entry *t = find_trial(c, key);
    if (t) {
        t->used = 1;
        c->hits++;
        snprintf(why, whysize, "%s", t->why);
        return t->outcome;
    }
    int outcome = trial_compile(pattern, flags, why, whysize);
    c->misses++;
    if (rg__grow(&c->a, (void **)&c->trials, &c->captrials, c->ntrials + 1,
                 sizeof *c->trials))
        return outcome; /* not memoised: still a correct answer */
    t = &c->trials[c->ntrials];
    memcpy(t->key, key, 32);
    t->outcome = (uint8_t)outcome;
    t->used = 1;
    t->why = rg__strdup(&c->a, why);
    if (t->why)
        c->ntrials++;
    return outcome;
}

int rg__hscache_find(rg__hscache *c, const char *const *expr, const unsigned *flags,
                     const unsigned *ids, unsigned n, const hs_platform_info_t *platform,
                     uint8_t key[32], hs_database_t **db)
{
    *db = NULL;
    hs_platform_info_t plat;
    if (platform)
        plat = *platform;
    else
        rg__platform_host(&plat);
    rg__sha256 h;
    rg__sha256_init(&h);
    rg__sha256_update(&h, "multi", 6);
    hash_platform(&h, &plat);
    rg__sha256_update(&h, &n, sizeof n);
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(expr[i]);
        rg__sha256_update(&h, &len, sizeof len);
        rg__sha256_update(&h, expr[i], len);
        rg__sha256_update(&h, &flags[i], sizeof flags[i]);
        rg__sha256_update(&h, &ids[i], sizeof ids[i]);
    }
    rg__sha256_final(&h, key);
    if (!c)
        return 0;
    db_entry *e = find_db(c, key);
    if (e && e->len) {
        hs_database_t *d = NULL;
        if (hs_deserialize_database((const char *)e->bytes, e->len, &d) == HS_SUCCESS) {
            /* A database for another CPU deserializes but cannot get
             * scratch space: that is a miss too. */
            hs_scratch_t *tmp = NULL;
            if (hs_alloc_scratch(d, &tmp) == HS_SUCCESS) {
                hs_free_scratch(tmp);
                e->used = 1;
                c->hits++;
                *db = d;
                return 1;
            }
            hs_free_scratch(tmp);
            hs_free_database(d);
        }
        e->len = 0; /* unusable: replaced by rg__hscache_put */
    }
    c->misses++;
    return 0;
}

void rg__hscache_put(rg__hscache *c, const uint8_t key[32], const hs_database_t *db)
{
    if (!c || !db)
        return;
    char *bytes = NULL;
    size_t len = 0;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
        return; /* not memoised */
    db_entry *e = find_db(c, key);
    if (!e) {
        if (rg__grow(&c->a, (void **)&c->dbs, &c->capdbs, c->ndbs + 1,
                     sizeof *c->dbs)) {
            free(bytes);
            return;
        }
        e = &c->dbs[c->ndbs++];
        memcpy(e->key, key, 32);
        e->bytes = NULL;
    }
    rg__free(&c->a, e->bytes);
    e->bytes = rg__malloc(&c->a, len ? len : 1);
    if (e->bytes) {
        memcpy(e->bytes, bytes, len);
        e->len = len;
        e->used = 1;
    } else {
        e->len = 0;
        e->used = 0;
    }
    free(bytes); /* Hyperscan's allocator (malloc: never hs_set_allocator) */
}

/* Keep the cache directory bounded: beyond CACHE_KEEP_FILES *.rgc files,
 * remove the least recently written (older policy versions). */
static void prune(const char *dir, const char *keep)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct item {
        char name[80];
        struct timespec mtime;
    } items[CACHE_KEEP_FILES + 1];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len != 68 || strcmp(de->d_name + 64, ".rgc") != 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(dh), de->d_name, &st, 0) != 0)
            continue;
        if (strstr(keep, de->d_name))
            continue; /* the file just written */
        /* Keep the newest CACHE_KEEP_FILES - 1 others in `items`, oldest
         * first; what falls off the front is removed. */
        struct item it;
        snprintf(it.name, sizeof it.name, "%s", de->d_name);
        it.mtime = st.st_mtim;
        size_t pos = n;
        while (pos > 0 && (items[pos - 1].mtime.tv_sec > it.mtime.tv_sec ||
                           (items[pos - 1].mtime.tv_sec == it.mtime.tv_sec &&
                            items[pos - 1].mtime.tv_nsec > it.mtime.tv_nsec)))
            pos--;
        memmove(&items[pos + 1], &items[pos], (n - pos) * sizeof items[0]);
        items[pos] = it;
        n++;
        if (n == CACHE_KEEP_FILES) {
            (void)unlinkat(dirfd(dh), items[0].name, 0);
            memmove(&items[0], &items[1], (n - 1) * sizeof items[0]);
            n--;
        }
    }
    closedir(dh);
}

int rg__hscache_commit(rg__hscache *c)
{
    if (!c || c->misses == 0)
        return 0;
    rg__wbuf w = {&c->a, NULL, 0, 0, 0};
    /* Header first with a placeholder checksum, patched below. */
    rg__w_bytes(&w, CACHE_MAGIC, 8);
    rg__w_u32(&w, CACHE_FORMAT);
    rg__w_bytes(&w, c->key, 32);
    rg__w_u64(&w, 0);
    uint8_t zero[32] = {0};
    rg__w_bytes(&w, zero, 32);
    size_t start = w.len;
    uint32_t nt = 0, nd = 0;
    for (size_t i = 0; i < c->ntrials; i++)
        nt += c->trials[i].used != 0;
    for (size_t i = 0; i < c->ndbs; i++)
        nd += c->dbs[i].used && c->dbs[i].len;
    rg__w_u32(&w, nt);
    for (size_t i = 0; i < c->ntrials; i++) {
        if (!c->trials[i].used)
            continue;
        rg__w_bytes(&w, c->trials[i].key, 32);
        rg__w_u8(&w, c->trials[i].outcome);
        rg__w_str(&w, c->trials[i].why);
    }
    rg__w_u32(&w, nd);
    for (size_t i = 0; i < c->ndbs; i++) {
        if (!c->dbs[i].used || !c->dbs[i].len)
            continue;
        rg__w_bytes(&w, c->dbs[i].key, 32);
        rg__w_u64(&w, c->dbs[i].len);
        rg__w_bytes(&w, c->dbs[i].bytes, c->dbs[i].len);
    }
    int written = 0;
    if (!w.oom) {
        uint64_t plen = w.len - start;
        for (int i = 0; i < 8; i++)
            w.p[start - 40 + i] = (uint8_t)(plen >> (8 * i));
        rg__sha256 h;
        rg__sha256_init(&h);
        rg__sha256_update(&h, w.p + start, (size_t)plen);
        rg__sha256_final(&h, w.p + start - 32);
        /* Private by default: a cache file is loaded into the engine. */
        (void)mkdir(c->dir, 0700);
        if (rg__write_atomic(c->file, w.p, w.len) == 0) {
            written = 1;
            prune(c->dir, c->file);
        }
    }
    rg__free(&c->a, w.p);
    return written;
}
