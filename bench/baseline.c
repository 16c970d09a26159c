/*
 * baseline.c — the two baselines `make bench` sets replyguard against, and
 * the policy load figures (docs/PERFORMANCE.md). Linked with the internal
 * static library, because the raw limit must scan the very databases the
 * engine compiled.
 *
 *   rg-bench-baseline scan  [-p DIR] [-n REPEAT] [--best-of K] [--json] FILE
 *       The raw limit: per line, one hs_scan of the raw-view and of the
 *       normalized-view database of the engine's snapshot, both over the
 *       line's own bytes, no-op callback: the scans every check does, with
 *       no view building at all (scanning raw bytes with the normalized
 *       database is the fair floor: a check scans a view of about the same
 *       length). The compacted-view database is not in the floor, because a
 *       check scans it only over suspicious windows (usually none); each
 *       database's cost over whole lines is reported alone (view_mean_ns).
 *       Lines with invalid UTF-8 are repaired (U+FFFD) before timing, since
 *       Hyperscan's UTF-8 mode is undefined on them (a check repairs them
 *       inside). --best-of K: the passes run K times, the fastest run is
 *       reported (the others lost time to other processes). --view V scans
 *       only database V (0 raw, 1 normalized, 2 compacted), e.g. to profile
 *       one database with callgrind.
 *
 *   rg-bench-baseline naive [-p DIR] [--max-seconds S] [--json] FILE
 *       The naive implementation: every lexicon term as an escaped
 *       caseless literal with \b on its word-character sides, every regex
 *       and pcre pattern as written, each compiled with PCRE2 (JIT) from
 *       the same policy model; per line, one pcre2_match per pattern. No
 *       normalisation, spans, allow lists or scoring, so it does strictly
 *       less work than a check. Lines are taken in order until S seconds
 *       (default 3) of matching have been spent; the JSON says how many.
 *
 *   rg-bench-baseline load  [-p DIR] [--json]
 *       rg_engine_open wall time (the first open in this process: "cold"),
 *       a second open in the same process ("warm"), resident-set growth
 *       across the first open, hs_database_size of every database and the
 *       Hyperscan scratch size, and every route's budget.
 *
 *   rg-bench-baseline kinds [-p DIR] [-r ROUTE] [-n REPEAT] [--json] FILE...
 *       rg_check figures per file with one policy compile for all of them
 *       (the adversarial kinds): latency percentiles, budget_exceeded, checks
 *       over the route's budget without it, and the raw limit on the same
 *       file. One JSON line per file.
 *
 *   rg-bench-baseline patterns [-p DIR] [-n REPEAT] [--json] FILE
 *       Each regex detector compiled alone, each words detector as one
 *       literal database, scanned over every line: ns per line, most
 *       expensive first (where a slow database's time goes); CPU time.
 *
 * Per-line latencies are timed exactly as `replyguard bench` times a check
 * (CLOCK_MONOTONIC before and after), so the columns compare like with like.
 */
#include "engine.h"
#include "alloc.h"
#include "diag.h"
#include "normalize.h"
#include "literals.h"
#include "digits.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* This thread's CPU time: unlike wall time, it does not grow while other
 * processes hold the CPU (a shared 2-core machine). */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "rg-bench-baseline: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* ---- input ---------------------------------------------------------------- */

typedef struct line {
    const char *p;
    size_t n;
} line;

static line *read_lines(const char *path, size_t *count, size_t *bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    size_t cap = 1 << 20, len = 0;
    char *data = malloc(cap);
    for (;;) {
        if (!data)
            die("out of memory reading %s", path);
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        cap *= 2;
        data = realloc(data, cap);
    }
    fclose(f);
    size_t lcap = 1024, k = 0;
    line *v = malloc(lcap * sizeof *v);
    *bytes = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t l = end - pos;
        if (l && data[pos + l - 1] == '\r')
            l--;
        if (k == lcap) {
            lcap *= 2;
            v = realloc(v, lcap * sizeof *v);
        }
        if (!v)
            die("out of memory reading %s", path);
        v[k].p = data + pos;
        v[k].n = l;
        *bytes += l;
        k++;
        pos = end + 1;
    }
    *count = k;
    return v;
}

static rg_engine *open_engine(const char *path, uint64_t *ns)
{
    rg_engine *e = NULL;
    uint64_t t0 = now_ns();
    int rc = rg_engine_open(&e, path, NULL, NULL);
    if (ns)
        *ns = now_ns() - t0;
    if (rc != RG_OK)
        die("cannot load policy set %s (see replyguard lint)", path);
    return e;
}

/* The policy model of a directory (loader only, nothing compiled): for the
 * commands that look at patterns as written. Dies on a policy error. */
static rg__policy *load_model(const char *policies, rg_allocator *a)
{
    rg__allocator_init(a, NULL);
    rg__diags d;
    rg__diags_init(&d, a);
    rg__policy *p = NULL;
    if (rg__policy_load(a, policies, &p, &d) != RG_OK)
        die("cannot load policy set %s (see replyguard lint)", policies);
    rg__diags_discard(&d);
    return p;
}

/* ---- statistics (as replyguard bench) ------------------------------------ */

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static uint64_t pct(const uint64_t *s, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(q * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return s[rank - 1];
}

static void report(const char *what, uint64_t *lat, size_t n, uint64_t wall_ns,
                   uint64_t cpu, size_t bytes, int json, const char *extra)
{
    qsort(lat, n, sizeof *lat, cmp_u64);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lat[i];
    double secs = (double)wall_ns / 1e9;
    double cps = secs > 0 ? (double)n / secs : 0;
    if (json) {
        printf("{\"baseline\": \"%s\", \"checks\": %zu, \"seconds\": %.6f, "
               "\"checks_per_s\": %.1f, \"mb_per_s\": %.3f, \"p50_ns\": %llu, "
               "\"p90_ns\": %llu, \"p99_ns\": %llu, \"p999_ns\": %llu, "
               "\"max_ns\": %llu, \"mean_ns\": %.1f, \"cpu_seconds\": %.6f, "
               "\"checks_per_cpu_s\": %.1f%s}\n",
               what, n, secs, cps, secs > 0 ? (double)bytes / secs / 1e6 : 0,
               (unsigned long long)pct(lat, n, .5), (unsigned long long)pct(lat, n, .9),
               (unsigned long long)pct(lat, n, .99), (unsigned long long)pct(lat, n, .999),
               (unsigned long long)(n ? lat[n - 1] : 0), n ? (double)sum / (double)n : 0,
               (double)cpu / 1e9, cpu ? (double)n / ((double)cpu / 1e9) : 0,
               extra ? extra : "");
    } else {
        printf("%s: %zu lines in %.3f s: %.0f lines/s, p50 %.2f µs, p99 %.2f µs, "
               "p99.9 %.2f µs, max %.2f µs\n",
               what, n, secs, cps, (double)pct(lat, n, .5) / 1e3,
               (double)pct(lat, n, .99) / 1e3, (double)pct(lat, n, .999) / 1e3,
               n ? (double)lat[n - 1] / 1e3 : 0);
    }
}

/* ---- raw limit ------------------------------------------------------------ */

static int noop(unsigned int id, unsigned long long from, unsigned long long to,
                unsigned int flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags, (void)ctx;
    return 0;
}

/* The views every check scans whole: raw and normalized. The compacted
 * view's database is scanned by a check only over suspicious windows
 * (usually none), so it is no part of the per-check floor; its full-text
 * cost is still reported on its own (view_mean_ns). */
static int only_view = -1; /* --view V: scan that database alone */

static int floor_view(int v)
{
    if (only_view >= 0)
        return v == only_view;
    return v == RG__VIEW_RAW || v == RG__VIEW_NORM;
}

/* One function per database, never inlined, so that a callgrind profile
 * of `scan` gives each view's scan cost as the inclusive cost of
 * scan_db_raw / scan_db_normalized / scan_db_compacted. */
/* noipa: also keeps GCC from folding the four identical bodies into one. */
#define RG__SCAN_FN(name)                                                           \
    static __attribute__((noipa)) void name(const hs_database_t *db, const line *l,  \
                                            hs_scratch_t *hs)                         \
    {                                                                                 \
        hs_scan(db, l->p, (unsigned)l->n, 0, hs, noop, NULL);                         \
    }
RG__SCAN_FN(scan_db_raw)
RG__SCAN_FN(scan_db_normalized)
RG__SCAN_FN(scan_db_compacted)
RG__SCAN_FN(scan_db_other)

static void scan_db(int v, const hs_database_t *db, const line *l, hs_scratch_t *hs)
{
    switch (v) {
    case 0: scan_db_raw(db, l, hs); break;
    case 1: scan_db_normalized(db, l, hs); break;
    case 2: scan_db_compacted(db, l, hs); break;
    default: scan_db_other(db, l, hs); break;
    }
}

/* Lines safe for Hyperscan's UTF-8 mode: invalid ones repaired (U+FFFD)
 * into new buffers, kept to the end of the process. */
static line *hs_safe_lines(const line *in, size_t nl, size_t *repaired)
{
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    line *out = malloc((nl ? nl : 1) * sizeof *out);
    if (!out)
        die("%s", "out of memory");
    *repaired = 0;
    for (size_t i = 0; i < nl; i++) {
        out[i] = in[i];
        if (rg__utf8_is_valid(in[i].p, in[i].n))
            continue;
        rg__vbuf v;
        memset(&v, 0, sizeof v);
        if (rg__repair_utf8(&a, &v, in[i].p, in[i].n))
            die("%s", "out of memory");
        out[i].p = v.text;
        out[i].n = v.len;
        (*repaired)++;
    }
    return out;
}

/* The databases of the floor, per view: one holding every expression of
 * the view. A check scans, per view, the digit-gated databases its reply's
 * digits reach (lib/digits.c), often fewer patterns, with regexes compiled
 * as their trigger literals (lib/literals.c) and allow and context words
 * only next to a hit (pairing databases); the floor stays what it was
 * before any of these, every pattern of the view as written in one
 * hs_scan, so ratios across versions compare like with like. */
static const hs_database_t *floor_db[RG__VIEW_COUNT];

static void prepare_floor(const rg__snapshot *s, hs_scratch_t **hs)
{
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        floor_db[v] = s->db[v];
        const rg__hexprs *x = &s->hx[v];
        if (v == RG__VIEW_COMPACT || !x->n)
            continue;
        /* The raw view is split additively, and both views' databases hold
         * trigger literals in place of regexes: one database of the view's
         * whole list, compiled here, is what it was before. */
        hs_database_t *db = NULL;
        hs_compile_error_t *err = NULL;
        if (hs_compile_multi((const char *const *)x->expr, x->flags, x->ids, (unsigned)x->n,
                             HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS)
            die("floor database: %s", err ? err->message : "compile failed");
        if (hs_alloc_scratch(db, hs) != HS_SUCCESS)
            die("%s", "out of memory");
        floor_db[v] = db; /* kept to the end of the process */
    }
}

/* repeat passes of the floor scans over every line (after one untimed
 * warm-up pass); per-line latencies into lat; returns the wall time. */
static uint64_t scan_passes(const rg__snapshot *s, hs_scratch_t *hs, const line *lines,
                            size_t nl, unsigned repeat, uint64_t *lat, uint64_t *cpu)
{
    (void)s;
    for (size_t i = 0; i < nl; i++)
        for (int v = 0; v < RG__VIEW_COUNT; v++)
            if (floor_db[v] && floor_view(v))
                hs_scan(floor_db[v], lines[i].p, (unsigned)lines[i].n, 0, hs, noop, NULL);
    size_t k = 0;
    uint64_t w0 = now_ns(), c0 = cpu_ns();
    for (unsigned r = 0; r < repeat; r++)
        for (size_t i = 0; i < nl; i++) {
            uint64_t t0 = now_ns();
            for (int v = 0; v < RG__VIEW_COUNT; v++)
                if (floor_db[v] && floor_view(v))
                    hs_scan(floor_db[v], lines[i].p, (unsigned)lines[i].n, 0, hs, noop, NULL);
            lat[k++] = now_ns() - t0;
        }
    *cpu = cpu_ns() - c0;
    return now_ns() - w0;
}

static int cmd_scan(const char *policies, unsigned repeat, unsigned best_of, int json,
                    const char *file)
{
    size_t nl, bytes, repaired;
    line *orig = read_lines(file, &nl, &bytes);
    line *lines = hs_safe_lines(orig, nl, &repaired);
    rg_engine *e = open_engine(policies, NULL);
    const rg__snapshot *s = atomic_load(&e->current);
    hs_scratch_t *hs = NULL;
    if (!s->proto || hs_clone_scratch(s->proto, &hs) != HS_SUCCESS)
        die("%s", "no Hyperscan database or scratch");
    prepare_floor(s, &hs);
    size_t n = nl * repeat;
    uint64_t *lat = calloc(n ? n : 1, sizeof *lat), *best = calloc(n ? n : 1, sizeof *best);
    if (!lat || !best)
        die("%s", "out of memory");
    /* Best of several runs: on a shared machine the other runs lost time
     * to other processes, not to the scan. */
    uint64_t best_wall = UINT64_MAX, best_cpu = 0;
    for (unsigned b = 0; b < best_of; b++) {
        uint64_t cpu, wall = scan_passes(s, hs, lines, nl, repeat, lat, &cpu);
        if (wall < best_wall) {
            best_wall = wall;
            best_cpu = cpu;
            memcpy(best, lat, n * sizeof *lat);
        }
    }
    /* Each database alone over every line: which view costs what. */
    double view_mean[RG__VIEW_COUNT] = {0};
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        if (!floor_db[v])
            continue;
        uint64_t t0 = cpu_ns();
        for (size_t i = 0; i < nl; i++)
            scan_db(v, floor_db[v], &lines[i], hs);
        view_mean[v] = nl ? (double)(cpu_ns() - t0) / (double)nl : 0;
    }
    int ndb = 0;
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        ndb += floor_db[v] && floor_view(v);
    char extra[400];
    int o = snprintf(extra, sizeof extra,
                     ", \"lines\": %zu, \"repeat\": %u, \"best_of\": %u, \"databases\": %d, "
                     "\"repaired_lines\": %zu, \"view_mean_ns\": [",
                     nl, repeat, best_of, ndb, repaired);
    for (int v = 0; v < RG__VIEW_COUNT && o < (int)sizeof extra - 24; v++)
        o += snprintf(extra + o, sizeof extra - (size_t)o, "%s%.1f", v ? ", " : "",
                      view_mean[v]);
    snprintf(extra + o, sizeof extra - (size_t)o, "]");
    report("raw_hs_scan", best, n, best_wall, best_cpu, bytes * repeat, json, extra);
    hs_free_scratch(hs);
    rg_engine_close(e);
    return 0;
}

/* ---- per-file check figures (one compile for many files) ------------------ */

static int cmd_kinds(const char *policies, const char *route, unsigned repeat, int json,
                     int nfiles, char **files)
{
    rg_engine *e = open_engine(policies, NULL);
    const rg__snapshot *s = atomic_load(&e->current);
    const rg__croute *rt = rg__snapshot_route(s, route);
    if (!rt)
        die("unknown route %s", route);
    uint64_t budget = rt->budget_ns;
    rg_scratch *sc = NULL;
    rg_result *res = NULL;
    hs_scratch_t *hs = NULL;
    if (rg_scratch_alloc(e, &sc) || rg_result_alloc(NULL, &res) ||
        hs_clone_scratch(s->proto, &hs) != HS_SUCCESS)
        die("%s", "out of memory");
    prepare_floor(s, &hs);
    for (int f = 0; f < nfiles; f++) {
        size_t nl, bytes, repaired;
        line *lines = read_lines(files[f], &nl, &bytes);
        size_t n = nl * repeat;
        uint64_t *lat = calloc(n ? n : 1, sizeof *lat), *slat = calloc(n ? n : 1, sizeof *slat);
        if (!lat || !slat)
            die("%s", "out of memory");
        rg_request req;
        memset(&req, 0, sizeof req);
        req.route = route;
        for (size_t i = 0; i < nl; i++) { /* warm-up */
            req.reply = lines[i].p;
            req.reply_len = lines[i].n;
            rg_check(e, sc, &req, res);
        }
        unsigned long long flagged = 0, unflagged = 0, truncated = 0, verdicts[3] = {0};
        size_t k = 0;
        uint64_t w0 = now_ns(), c0 = cpu_ns();
        for (unsigned r = 0; r < repeat; r++)
            for (size_t i = 0; i < nl; i++) {
                req.reply = lines[i].p;
                req.reply_len = lines[i].n;
                uint64_t t0 = now_ns();
                rg_check(e, sc, &req, res);
                uint64_t dt = now_ns() - t0;
                unsigned fl = rg_result_flags(res);
                lat[k++] = dt | (fl & RG_FLAG_BUDGET_EXCEEDED ? 1ull << 63 : 0);
                flagged += !!(fl & RG_FLAG_BUDGET_EXCEEDED);
                unflagged += dt > budget && !(fl & RG_FLAG_BUDGET_EXCEEDED);
                truncated += !!(fl & RG_FLAG_HITS_TRUNCATED);
                verdicts[rg_result_verdict(res) % 3]++;
            }
        uint64_t wall = now_ns() - w0, cpu = cpu_ns() - c0, scpu;
        /* Per line, its fastest pass (as replyguard bench's line_best). */
        const uint64_t top = 1ull << 63;
        uint64_t *lb = calloc(nl ? nl : 1, sizeof *lb);
        unsigned long long lb_over = 0;
        if (!lb)
            die("%s", "out of memory");
        for (size_t i = 0; i < nl; i++) {
            uint64_t m = UINT64_MAX;
            for (unsigned r = 0; r < repeat; r++)
                if ((lat[r * nl + i] & ~top) < (m & ~top))
                    m = lat[r * nl + i];
            lb_over += (m & ~top) > budget && !(m & top);
            lb[i] = m & ~top;
        }
        for (size_t i = 0; i < n; i++)
            lat[i] &= ~top;
        qsort(lb, nl, sizeof *lb, cmp_u64);
        line *safe = hs_safe_lines(lines, nl, &repaired);
        uint64_t swall = scan_passes(s, hs, safe, nl, repeat, slat, &scpu);
        (void)swall;
        qsort(slat, n, sizeof *slat, cmp_u64);
        const char *name = strrchr(files[f], '/');
        name = name ? name + 1 : files[f];
        char extra[512];
        snprintf(extra, sizeof extra,
                 ", \"file\": \"%s\", \"lines\": %zu, \"repeat\": %u, \"budget_us\": %llu, "
                 "\"budget_exceeded\": %llu, \"over_budget_unflagged\": %llu, "
                 "\"hits_truncated\": %llu, \"verdicts\": {\"allow\": %llu, \"handoff\": %llu, "
                 "\"block\": %llu}, \"raw_p50_ns\": %llu, \"raw_p99_ns\": %llu, "
                 "\"raw_cpu_ns_per_line\": %.1f, \"line_best\": {\"p50_ns\": %llu, "
                 "\"p99_ns\": %llu, \"max_ns\": %llu, \"over_budget_unflagged\": %llu}",
                 name, nl, repeat, (unsigned long long)(budget / 1000), flagged, unflagged,
                 truncated, verdicts[0], verdicts[1], verdicts[2],
                 (unsigned long long)pct(slat, n, .5), (unsigned long long)pct(slat, n, .99),
                 n ? (double)scpu / (double)n : 0, (unsigned long long)pct(lb, nl, .5),
                 (unsigned long long)pct(lb, nl, .99), (unsigned long long)(nl ? lb[nl - 1] : 0),
                 lb_over);
        free(lb);
        report("rg_check", lat, n, wall, cpu, bytes * repeat, json, extra);
        free(lat);
        free(slat);
    }
    hs_free_scratch(hs);
    rg_result_free(res);
    rg_scratch_free(sc);
    rg_engine_close(e);
    return 0;
}

/* ---- naive PCRE2 ---------------------------------------------------------- */

static int word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* "\b" + the term with every ASCII non-alphanumeric escaped + "\b", the
 * boundaries only on word-character sides (as replyguard's edges). */
static char *literal_pattern(const char *t)
{
    size_t n = strlen(t);
    char *p = malloc(2 * n + 8);
    if (!p)
        die("%s", "out of memory");
    size_t o = 0;
    if (n && word_byte((unsigned char)t[0]))
        o += (size_t)sprintf(p + o, "\\b");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9')))
            p[o++] = '\\';
        p[o++] = (char)c;
    }
    if (n && word_byte((unsigned char)t[n - 1]))
        o += (size_t)sprintf(p + o, "\\b");
    p[o] = '\0';
    return p;
}

typedef struct naive {
    pcre2_code **re;
    size_t n, cap, words, regexes, failed;
} naive;

static void naive_add(naive *nv, const char *pat, uint32_t opts)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err,
                                   &off, NULL);
    if (!re) {
        nv->failed++;
        return;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? 2 * nv->cap : 256;
        nv->re = realloc(nv->re, nv->cap * sizeof *nv->re);
        if (!nv->re)
            die("%s", "out of memory");
    }
    nv->re[nv->n++] = re;
}

static int cmd_naive(const char *policies, double max_seconds, int json, const char *file)
{
    size_t nl, bytes;
    line *lines = read_lines(file, &nl, &bytes);
    rg_allocator a;
    rg__policy *p = load_model(policies, &a);
    naive nv;
    memset(&nv, 0, sizeof nv);
    uint64_t c0 = now_ns();
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        if (det->kind == RG__KIND_WORDS) {
            for (size_t k = 0; k < det->nterms; k++) {
                char *pat = literal_pattern(det->terms[k].text);
                naive_add(&nv, pat, PCRE2_CASELESS);
                free(pat);
                nv.words++;
            }
        } else if (det->pattern) {
            naive_add(&nv, det->pattern, det->caseless ? PCRE2_CASELESS : 0);
            nv.regexes++;
        }
    }
    uint64_t compile_ns = now_ns() - c0;
    pcre2_match_data *md = pcre2_match_data_create(64, NULL);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    pcre2_jit_stack *js = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    pcre2_jit_stack_assign(mctx, NULL, js);
    pcre2_set_match_limit(mctx, 100000);
    uint64_t *lat = calloc(nl ? nl : 1, sizeof *lat);
    if (!md || !mctx || !lat)
        die("%s", "out of memory");
    unsigned long long hits = 0;
    /* Warm-up on the first lines (JIT code and caches), untimed. */
    for (size_t i = 0; i < nl && i < 50; i++)
        for (size_t r = 0; r < nv.n; r++)
            pcre2_match(nv.re[r], (PCRE2_SPTR)lines[i].p, lines[i].n, 0, 0, md, mctx);
    size_t k = 0, bytes_done = 0;
    uint64_t budget = (uint64_t)(max_seconds * 1e9), w0 = now_ns(), wall = 0, cc0 = cpu_ns();
    for (size_t i = 0; i < nl && wall < budget; i++) {
        uint64_t t0 = now_ns();
        for (size_t r = 0; r < nv.n; r++)
            hits += pcre2_match(nv.re[r], (PCRE2_SPTR)lines[i].p, lines[i].n, 0, 0, md,
                                mctx) > 0;
        uint64_t t1 = now_ns();
        lat[k++] = t1 - t0;
        bytes_done += lines[i].n;
        wall = t1 - w0;
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             ", \"lines\": %zu, \"measured_lines\": %zu, \"subset\": %s, \"patterns\": %zu, "
             "\"words\": %zu, \"regexes\": %zu, \"not_compiled\": %zu, "
             "\"compile_ms\": %.1f, \"lines_with_a_match\": %llu",
             nl, k, k < nl ? "true" : "false", nv.n, nv.words, nv.regexes, nv.failed,
             (double)compile_ns / 1e6, hits);
    report("naive_pcre2", lat, k, wall, cpu_ns() - cc0, bytes_done, json, extra);
    if (!json)
        printf("(%zu patterns: %zu words, %zu regexes; %zu lines of %zu measured)\n", nv.n,
               nv.words, nv.regexes, k, nl);
    return 0;
}

/* ---- per-pattern scan cost ------------------------------------------------ */

typedef struct patcost {
    const char *id;
    const char *view;
    double ns_per_line;
    size_t db_bytes;
} patcost;

static int cmp_cost(const void *x, const void *y)
{
    double a = ((const patcost *)x)->ns_per_line, b = ((const patcost *)y)->ns_per_line;
    return (a < b) - (a > b);
}

/* Every regex detector compiled alone (the flags compile.c uses), scanned
 * over every line: which patterns make a database slow. The costs do not
 * add up to the multi-pattern database's (Hyperscan shares work between
 * patterns), but the ranking shows where to look. Words are measured as
 * one database per detector. */
static int cmd_patterns(const char *policies, unsigned repeat, int json, const char *file)
{
    size_t nl, bytes, repaired;
    line *orig = read_lines(file, &nl, &bytes);
    line *lines = hs_safe_lines(orig, nl, &repaired);
    rg_allocator a;
    rg__policy *p = load_model(policies, &a);
    patcost *pc = calloc(p->ndetectors ? p->ndetectors : 1, sizeof *pc);
    size_t np = 0;
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        hs_database_t *db = NULL;
        hs_compile_error_t *err = NULL;
        if (det->kind == RG__KIND_REGEX && det->pattern) {
            unsigned fl = HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH |
                          (det->caseless ? HS_FLAG_CASELESS : 0);
            if (hs_compile(det->pattern, fl, HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
                hs_free_compile_error(err);
                err = NULL;
                if (hs_compile(det->pattern, fl | HS_FLAG_PREFILTER, HS_MODE_BLOCK, NULL, &db,
                               &err) != HS_SUCCESS) {
                    hs_free_compile_error(err);
                    continue;
                }
            }
        } else if (det->kind == RG__KIND_WORDS && det->nterms) {
            /* Literals as compile.c makes them (not normalised here). */
            const char **ex = calloc(det->nterms, sizeof *ex);
            unsigned *fl = calloc(det->nterms, sizeof *fl), *ids = calloc(det->nterms, sizeof *ids);
            size_t k = 0;
            for (size_t t = 0; t < det->nterms; t++) {
                const char *w = det->terms[t].text;
                char *e = malloc(strlen(w) * 4 + 1), *o = e;
                for (const unsigned char *c = (const unsigned char *)w; *c; c++)
                    o += sprintf(o, ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
                                        ? "%c" : "\\x%02x", *c);
                ex[k] = e;
                fl[k] = HS_FLAG_CASELESS;
                ids[k] = (unsigned)k;
                k++;
            }
            if (hs_compile_multi(ex, fl, ids, (unsigned)k, HS_MODE_BLOCK, NULL, &db, &err) !=
                HS_SUCCESS) {
                hs_free_compile_error(err);
                db = NULL;
            }
            for (size_t t = 0; t < k; t++)
                free((void *)ex[t]);
            free(ex);
            free(fl);
            free(ids);
            if (!db)
                continue;
        } else {
            continue;
        }
        hs_scratch_t *hs = NULL;
        if (hs_alloc_scratch(db, &hs) != HS_SUCCESS)
            die("%s", "out of memory");
        for (size_t l = 0; l < nl; l++)
            hs_scan(db, lines[l].p, (unsigned)lines[l].n, 0, hs, noop, NULL);
        uint64_t t0 = cpu_ns();
        for (unsigned r = 0; r < repeat; r++)
            for (size_t l = 0; l < nl; l++)
                hs_scan(db, lines[l].p, (unsigned)lines[l].n, 0, hs, noop, NULL);
        pc[np].id = det->id;
        pc[np].view = det->kind == RG__KIND_WORDS ? "words" : det->view == RG__VIEW_RAW ? "raw" : "normalized";
        pc[np].ns_per_line = (double)(cpu_ns() - t0) / (double)(nl * repeat > 0 ? nl * repeat : 1);
        hs_database_size(db, &pc[np].db_bytes);
        np++;
        hs_free_scratch(hs);
        hs_free_database(db);
    }
    qsort(pc, np, sizeof *pc, cmp_cost);
    for (size_t i = 0; i < np; i++) {
        if (json)
            printf("{\"detector\": \"%s\", \"kind\": \"%s\", \"ns_per_line\": %.1f, "
                   "\"db_bytes\": %zu}\n",
                   pc[i].id, pc[i].view, pc[i].ns_per_line, pc[i].db_bytes);
        else
            printf("%8.1f ns/line  %8zu B  %-10s %s\n", pc[i].ns_per_line, pc[i].db_bytes,
                   pc[i].view, pc[i].id);
    }
    return 0;
}

/* ---- dbs: each database of the snapshot alone ------------------------------ */

/* Every Hyperscan database a check can scan (per view: the always-scanned
 * one and the digit-gated ones), alone over every line (lower-cased for
 * the normalized and compacted views, an approximation of those views):
 * CPU ns per line. Shows which database a change made cheaper. */
static int cmd_dbs(const char *policies, unsigned repeat, const char *file)
{
    static const char *vname[RG__VIEW_COUNT] = {"raw", "normalized", "compacted"};
    size_t nl, bytes, repaired;
    line *orig = read_lines(file, &nl, &bytes);
    line *lines = hs_safe_lines(orig, nl, &repaired);
    line *low = calloc(nl ? nl : 1, sizeof *low);
    for (size_t i = 0; i < nl; i++) {
        char *c = malloc(lines[i].n + 1);
        for (size_t k = 0; k < lines[i].n; k++)
            c[k] = (char)(lines[i].p[k] >= 'A' && lines[i].p[k] <= 'Z' ? lines[i].p[k] + 32
                                                                         : lines[i].p[k]);
        low[i].p = c;
        low[i].n = lines[i].n;
    }
    rg_engine *e = open_engine(policies, NULL);
    const rg__snapshot *s = atomic_load(&e->current);
    hs_scratch_t *hs = NULL;
    if (!s->proto || hs_clone_scratch(s->proto, &hs) != HS_SUCCESS)
        die("%s", "no scratch");
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        for (int g = -1; g <= RG__NGATES; g++) {
            const hs_database_t *db = g < 0               ? s->db[v]
                                      : g == RG__NGATES ? s->pdb[v]
                                                        : s->gdb[v][g];
            if (!db)
                continue;
            const line *L = v == RG__VIEW_RAW ? lines : low;
            for (size_t l = 0; l < nl; l++)
                hs_scan(db, L[l].p, (unsigned)L[l].n, 0, hs, noop, NULL);
            uint64_t t0 = cpu_ns();
            for (unsigned r = 0; r < repeat; r++)
                for (size_t l = 0; l < nl; l++)
                    hs_scan(db, L[l].p, (unsigned)L[l].n, 0, hs, noop, NULL);
            double ns = (double)(cpu_ns() - t0) / (double)(nl ? nl * repeat : 1);
            size_t sz = 0;
            hs_database_size(db, &sz);
            char gname[64];
            if (g < 0)
                snprintf(gname, sizeof gname, "always");
            else if (g == RG__NGATES)
                snprintf(gname, sizeof gname, "pairing (on a hit)");
            else if (g == RG__GATE_USER)
                snprintf(gname, sizeof gname, "user message only");
            else if (s->gwin[g])
                snprintf(gname, sizeof gname, "at >= %u of [%c-%c] in %u B", s->gate[g],
                         s->glo[g], s->ghi[g], s->gwin[g]);
            else
                snprintf(gname, sizeof gname, "at >= %u of [%c-%c]", s->gate[g], s->glo[g],
                         s->ghi[g]);
            if (g >= 0 && g < RG__NGATES && v == RG__VIEW_RAW && s->gmaxw[g] != UINT32_MAX) {
                size_t gl = strlen(gname); /* scanned around digits (whole here) */
                snprintf(gname + gl, sizeof gname - gl, ", regions (match <= %u B)",
                         s->gmaxw[g]);
            }
            printf("%-10s %-48s %9.1f ns/line %10zu B\n", vname[v], gname, ns, sz);
        }
    return 0;
}

/* ---- triggers: the trigger literals of every regex (lib/literals.c) ------ */

static int cmd_triggers(const char *policies, int json)
{
    rg_allocator a;
    rg__policy *p = load_model(policies, &a);
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        if (det->kind != RG__KIND_REGEX || !det->pattern)
            continue;
        rg__lits l;
        unsigned md = rg__min_digits(det->pattern);
        int rc = rg__trigger_literals(&a, det->pattern, 1, 100000, &l);
        printf("%-34s %-10s digits>=%-2u ", det->id,
               det->view == RG__VIEW_RAW ? "raw" : "normalized", md);
        if (rc <= 0) {
            printf("no set\n");
            continue;
        }
        /* What compile.c uses: the same set when it is strong enough. */
        rg__lits used;
        int ok = rg__trigger_literals(&a, det->pattern, RG__TRIGGER_MINLEN, RG__TRIGGER_MAXN,
                                      &used) == 1;
        if (ok)
            rg__lits_free(&a, &used);
        printf("%5zu literals, shortest %2zu%s:", l.n, l.minlen, ok ? "" : " (too weak)");
        for (size_t k = 0; k < l.n && (json || k < 6); k++)
            printf(" \"%s\"", l.v[k]);
        printf("%s\n", l.n > 6 && !json ? " ..." : "");
        rg__lits_free(&a, &l);
    }
    return 0;
}

/* ---- load: compile time and memory ---------------------------------------- */

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static int cmd_load(const char *policies, int json)
{
    size_t r0 = rss_bytes();
    uint64_t cold_ns, warm_ns;
    rg_engine *e = open_engine(policies, &cold_ns);
    size_t r1 = rss_bytes();
    rg_engine *e2 = open_engine(policies, &warm_ns);
    rg_engine_close(e2);
    const rg__snapshot *s = atomic_load(&e->current);
    rg_engine_info info;
    rg_engine_get_info(e, &info);
    size_t dbsize[RG__VIEW_COUNT] = {0}, total = 0, scratch = 0;
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        if (s->db[v] && hs_database_size(s->db[v], &dbsize[v]) == HS_SUCCESS)
            total += dbsize[v];
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        for (size_t g = 0; g <= s->ngdb; g++) {
            size_t gs = 0; /* counted with their view; the last: pairing */
            const hs_database_t *db = g < s->ngdb ? s->gdb[v][g] : s->pdb[v];
            if (db && hs_database_size(db, &gs) == HS_SUCCESS) {
                dbsize[v] += gs;
                total += gs;
            }
        }
    if (s->proto)
        hs_scratch_size(s->proto, &scratch);
    if (json) {
        printf("{\"cold_open_ms\": %.2f, \"warm_open_ms\": %.2f, \"compile_ms\": %.2f, "
               "\"rss_delta_mb\": %.2f, \"hs_db_bytes\": [",
               (double)cold_ns / 1e6, (double)warm_ns / 1e6, (double)info.compile_ns / 1e6,
               ((double)r1 - (double)r0) / 1048576.0);
        for (int v = 0; v < RG__VIEW_COUNT; v++)
            printf("%s%zu", v ? ", " : "", dbsize[v]);
        printf("], \"hs_db_total_bytes\": %zu, \"hs_scratch_bytes\": %zu, "
               "\"detectors\": %zu, \"patterns\": %zu, \"routes\": [",
               total, scratch, info.detector_count, info.pattern_count);
        for (size_t r = 0; r < s->nroutes; r++)
            printf("%s{\"name\": \"%s\", \"budget_us\": %llu, \"max_bytes\": %zu}",
                   r ? ", " : "", s->routes[r].name,
                   (unsigned long long)(s->routes[r].budget_ns / 1000), s->routes[r].max_bytes);
        printf("]}\n");
    } else {
        printf("cold open %.1f ms (compile %.1f ms), warm open %.1f ms, RSS +%.1f MB, "
               "Hyperscan databases %zu bytes, scratch %zu bytes, %zu patterns\n",
               (double)cold_ns / 1e6, (double)info.compile_ns / 1e6, (double)warm_ns / 1e6,
               ((double)r1 - (double)r0) / 1048576.0, total, scratch, info.pattern_count);
    }
    rg_engine_close(e);
    return 0;
}

/* ---- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"repeat", required_argument, NULL, 'n'},
        {"max-seconds", required_argument, NULL, 'm'},
        {"best-of", required_argument, NULL, 'b'},
        {"route", required_argument, NULL, 'r'},
        {"view", required_argument, NULL, 'v'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        fprintf(stderr, "usage: rg-bench-baseline scan|naive|load|kinds|patterns|triggers|dbs [-p DIR] [-r ROUTE] "
                        "[-n REPEAT] [--best-of K] [--max-seconds S] [--json] [FILE...]\n");
        return 2;
    }
    const char *cmd = argv[1];
    const char *policies = "policies";
    unsigned repeat = 5, best_of = 1;
    const char *route = "default";
    double max_seconds = 3;
    int json = 0, c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "p:n:m:b:r:v:j", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policies = optarg; break;
        case 'n': repeat = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'm': max_seconds = strtod(optarg, NULL); break;
        case 'b': best_of = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'r': route = optarg; break;
        case 'v': only_view = atoi(optarg); break;
        case 'j': json = 1; break;
        default: return 2;
        }
    }
    if (repeat < 1)
        repeat = 1;
    if (best_of < 1)
        best_of = 1;
    if (!strcmp(cmd, "load"))
        return cmd_load(policies, json);
    if (!strcmp(cmd, "triggers"))
        return cmd_triggers(policies, json);
    if (!strcmp(cmd, "kinds")) {
        if (optind >= argc)
            die("%s: expected FILE...", cmd);
        return cmd_kinds(policies, route, repeat, json, argc - optind, argv + optind);
    }
    if (optind != argc - 1)
        die("%s: expected one FILE", cmd);
    if (!strcmp(cmd, "scan"))
        return cmd_scan(policies, repeat, best_of, json, argv[optind]);
    if (!strcmp(cmd, "naive"))
        return cmd_naive(policies, max_seconds, json, argv[optind]);
    if (!strcmp(cmd, "dbs"))
        return cmd_dbs(policies, repeat, argv[optind]);
    if (!strcmp(cmd, "patterns"))
        return cmd_patterns(policies, repeat, json, argv[optind]);
    die("unknown command %s (scan, naive, load, kinds, patterns)", cmd);
    return 2;
}
