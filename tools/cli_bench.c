/*
 * cli_bench.c — `replyguard bench`: in-process rg_check over every line
 * of a file, with per-check latency percentiles and measured allocations.
 *
 *   replyguard bench [-p DIR] [-r ROUTE] [--repeat N] [--threads T]
 *                    [--budget-us US] [--json] FILE
 *
 * Method (docs/PERFORMANCE.md):
 *   - each line of FILE (without '\n', a trailing '\r' dropped; any bytes)
 *     is one reply; every thread gets its own scratch and result;
 *   - the very first rg_check on each fresh scratch is timed on its own
 *     ("first-check latency": buffers sized, pages touched), then one
 *     warm-up pass runs over every line, so scratch and result reach the
 *     largest reply;
 *   - then two phases of N measured passes each:
 *       - timed passes: every check between two CLOCK_MONOTONIC reads
 *         (vDSO, ~25 ns each, one of them inside every latency sample);
 *         the latency percentiles come from these passes;
 *       - untimed passes: rg_check back to back, nothing else in the
 *         loop; throughput (checks/s, MB/s, checks per CPU-second) comes
 *         from these passes, so that it is the library's rate and not the
 *         rate of the library plus two clock reads per check (~5% of a
 *         short reply's check);
 *     threads start each phase together on a barrier and run its passes
 *     back to back; a phase's wall time runs from release to the last
 *     thread's end; the timed passes' rate is reported too
 *     (timed_checks_per_s);
 *   - allocations are counted during the measured passes only, two ways:
 *     a counting rg_allocator given to the engine and results (the
 *     library's own allocations) and a malloc interposer in this
 *     executable (cli_alloc_count.c: Hyperscan, PCRE2, libc, everything);
 *     allocs_per_check is the interposer's figure (a superset), or the
 *     allocator's when the interposer is not in force (the JSON says which);
 *   - percentiles are nearest-rank over the merged per-check samples of
 *     all threads; also over each line's fastest pass ("per line", JSON
 *     line_best), which filters out checks that lost the CPU to another
 *     process; peak RSS is getrusage's ru_maxrss;
 *   - each thread's CPU time and involuntary context switches over the
 *     measured passes are reported too (checks_per_cpu_s, preemptions):
 *     on a shared machine they separate time lost to other processes from
 *     time spent checking.
 *
 * With --json, exactly one line (a JSON object) goes to stdout.
 */
#include "cli.h"
#include "cli_alloc_count.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define VERB "bench"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s bench [OPTIONS] FILE\n"
            "Run rg_check in-process on every line of FILE (one reply per "
            "line, any bytes):\none warm-up pass, then N timed passes (latency "
            "percentiles) and N untimed\npasses (checks/s, MB/s); report "
            "them, heap allocations per check and peak RSS.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (default: $RG_POLICIES, "
            "./policies, installed)\n"
            "  -r, --route ROUTE    route to check against (default: "
            "default)\n"
            "  -n, --repeat N       timed and untimed passes over the file "
            "(default: 5 each)\n"
            "  -t, --threads T      threads, each with its own scratch and "
            "result, each\n"
            "                       running every pass (default: 1)\n"
            "      --budget-us US   the route's budget: also count checks "
            "slower than this\n"
            "                       that did not report budget_exceeded\n"
            "  -j, --json           print one JSON object (one line) instead "
            "of the report\n"
            "  -h, --help           show this help\n\n"
            "JSON keys: checks, seconds, checks_per_s, mb_per_s, p50_ns, "
            "p90_ns, p99_ns,\np999_ns, max_ns, allocs_per_check, rss_mb, "
            "threads, and more (docs/CLI.md).\n"
            "RG_BENCH_ALLOC_BACKTRACE=1 prints the stack of every allocation "
            "made after warm-up.\n"
            "Exit status: 0; 2 on a usage, policy or I/O error, or if a "
            "check returned an error.\n",
            CLI_PROG);
}

/* ---- counting allocator (the library's own allocations) --------------- */

static _Atomic int rg_armed;
static _Atomic unsigned long long rg_allocs;

static void *count_malloc(size_t n, void *u)
{
    (void)u;
    if (atomic_load_explicit(&rg_armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&rg_allocs, 1, memory_order_relaxed);
    return malloc(n);
}

static void *count_realloc(void *p, size_t n, void *u)
{
    (void)u;
    if (atomic_load_explicit(&rg_armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&rg_allocs, 1, memory_order_relaxed);
    return realloc(p, n);
}

static void count_free(void *p, void *u)
{
    (void)u;
    free(p);
}

static const rg_allocator counting = {count_malloc, count_realloc, count_free, NULL};

/* ---- per-thread work ---------------------------------------------------- */

#define FLAG_BIT (1ull << 63)

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct shared {
    rg_engine *engine;
    const char *route;
    const rg_text *lines;
    size_t nlines;
    unsigned repeat;
    uint64_t budget_ns;          /* 0: not checked */
    pthread_barrier_t ready, go, done;
} shared;

static uint64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct worker {
    shared *sh;
    unsigned index;
    pthread_t tid;
    uint64_t *lat;               /* nlines * repeat samples */
    uint64_t first_ns;           /* first check on the fresh scratch */
    uint64_t verdicts[3];
    uint64_t budget_exceeded, oversize, engine_error, failsafe, invalid_utf8,
        hits_truncated, redacted, over_budget_unflagged, errors;
    uint64_t cpu_ns;             /* thread CPU time of the untimed passes */
    uint64_t cpu_ns_timed;       /* ... and of the timed passes */
    long preempted;              /* involuntary context switches meanwhile */
    int setup_rc;                /* RG_OK, or why the worker could not run */
    int first_status;            /* first failing rg_check status, RG_OK */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    /* A name profilers can select (perf report --comm rg-bench-1). */
    char name[16];
    snprintf(name, sizeof name, "rg-bench-%u", w->index + 1);
    pthread_setname_np(pthread_self(), name);
    rg_scratch *scratch = NULL;
    rg_result *result = NULL;
    int rc = rg_scratch_alloc(sh->engine, &scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(&counting, &result);
    w->setup_rc = rc;
    rg_request req;
    memset(&req, 0, sizeof req);
    req.route = sh->route;
    if (rc == RG_OK && sh->nlines) {
        /* First check on a fresh scratch, then the warm-up pass. */
        req.reply = sh->lines[0].ptr;
        req.reply_len = sh->lines[0].len;
        uint64_t t0 = now_ns();
        rg_check(sh->engine, scratch, &req, result);
        w->first_ns = now_ns() - t0;
        for (size_t i = 0; i < sh->nlines; i++) {
            req.reply = sh->lines[i].ptr;
            req.reply_len = sh->lines[i].len;
            rg_check(sh->engine, scratch, &req, result);
        }
    }
    pthread_barrier_wait(&sh->ready);
    /* CPU time and involuntary switches of this thread: on a shared
     * machine they tell time lost to other processes from time spent. */
    struct rusage u0, u1;
    getrusage(RUSAGE_THREAD, &u0);
    uint64_t *lat = w->lat;
    /* The timed passes, all threads together, then the untimed ones: each
     * thread runs its passes back to back within a phase (a barrier per
     * pass would charge every pass with the slower thread's time). */
    pthread_barrier_wait(&sh->go);
    uint64_t c0 = cpu_now_ns();
    for (unsigned pass = 0; pass < sh->repeat; pass++) {
        if (w->setup_rc == RG_OK) {
            for (size_t i = 0; i < sh->nlines; i++) {
                req.reply = sh->lines[i].ptr;
                req.reply_len = sh->lines[i].len;
                uint64_t t0 = now_ns();
                int st = rg_check(sh->engine, scratch, &req, result);
                uint64_t dt = now_ns() - t0;
                unsigned f = rg_result_flags(result);
                /* The top bit keeps "this check reported budget_exceeded"
                 * with its sample, for the per-line figures below. */
                *lat++ = dt | (f & RG_FLAG_BUDGET_EXCEEDED ? FLAG_BIT : 0);
                if (st != RG_OK) {
                    w->errors++;
                    if (w->first_status == RG_OK)
                        w->first_status = st;
                }
                rg_verdict v = rg_result_verdict(result);
                w->verdicts[(unsigned)v < 3 ? v : RG_HANDOFF]++;
                w->budget_exceeded += !!(f & RG_FLAG_BUDGET_EXCEEDED);
                w->oversize += !!(f & RG_FLAG_OVERSIZE);
                w->engine_error += !!(f & RG_FLAG_ENGINE_ERROR);
                w->failsafe += !!(f & RG_FLAG_FAILSAFE);
                w->invalid_utf8 += !!(f & RG_FLAG_INVALID_UTF8);
                w->hits_truncated += !!(f & RG_FLAG_HITS_TRUNCATED);
                w->redacted += !!(f & RG_FLAG_REDACTED);
                if (sh->budget_ns && dt > sh->budget_ns &&
                    !(f & RG_FLAG_BUDGET_EXCEEDED))
                    w->over_budget_unflagged++;
            }
        }
    }
    w->cpu_ns_timed = cpu_now_ns() - c0;
    pthread_barrier_wait(&sh->done);
    /* The untimed passes: the same checks, nothing else in the loop. */
    pthread_barrier_wait(&sh->go);
    c0 = cpu_now_ns();
    for (unsigned pass = 0; pass < sh->repeat; pass++) {
        if (w->setup_rc == RG_OK) {
            for (size_t i = 0; i < sh->nlines; i++) {
                req.reply = sh->lines[i].ptr;
                req.reply_len = sh->lines[i].len;
                if (rg_check(sh->engine, scratch, &req, result) != RG_OK)
                    w->errors++;
            }
        }
    }
    w->cpu_ns = cpu_now_ns() - c0;
    pthread_barrier_wait(&sh->done);
    getrusage(RUSAGE_THREAD, &u1);
    w->preempted = u1.ru_nivcsw - u0.ru_nivcsw;
    rg_result_free(result);
    rg_scratch_free(scratch);
    return NULL;
}

/* ---- input and statistics ----------------------------------------------- */

/* Split data into lines (no '\n'; a trailing '\r' dropped; a last line
 * without '\n' counts). *out is malloc'd. */
static int split_lines(const char *data, size_t len, rg_text **out, size_t *n)
{
    size_t cap = 1024, k = 0;
    rg_text *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t l = end - pos;
        if (l && data[pos + l - 1] == '\r')
            l--;
        if (k == cap) {
            rg_text *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
            cap *= 2;
        }
        v[k].ptr = data + pos;
        v[k].len = l;
        k++;
        pos = end + 1;
    }
    *out = v;
    *n = k;
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile of sorted samples (q in 0..1). */
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

static void fmt_ns(char *buf, size_t size, uint64_t ns)
{
    if (ns < 10000)
        snprintf(buf, size, "%.2f µs", (double)ns / 1e3);
    else if (ns < 10000000)
        snprintf(buf, size, "%.1f µs", (double)ns / 1e3);
    else
        snprintf(buf, size, "%.1f ms", (double)ns / 1e6);
}

/* ---- the verb ------------------------------------------------------------ */

int cli_bench_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"route", required_argument, NULL, 'r'},
        {"repeat", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"budget-us", required_argument, NULL, 'B'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL, *route = "default";
    long repeat = 5, threads = 1, budget_us = 0;
    int json = 0, c;
    char *endp;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:r:n:t:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'r': route = optarg; break;
        case 'n':
            errno = 0;
            repeat = strtol(optarg, &endp, 10);
            if (errno || *endp || repeat < 1 || repeat > 1000000)
                return cli_usage_error(VERB, "--repeat needs a number from 1 "
                                       "to 1000000");
            break;
        case 't':
            errno = 0;
            threads = strtol(optarg, &endp, 10);
            if (errno || *endp || threads < 1 || threads > 256)
                return cli_usage_error(VERB, "--threads needs a number from 1 "
                                       "to 256");
            break;
        case 'B':
            errno = 0;
            budget_us = strtol(optarg, &endp, 10);
            if (errno || *endp || budget_us < 1 || budget_us > 100000000)
                return cli_usage_error(VERB, "--budget-us needs a positive "
                                       "number of microseconds");
            break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(VERB, "expected one FILE of replies, one per "
                               "line");
    const char *file = argv[optind];

    /* The interposer must see allocations made inside shared libraries,
     * not just this executable's: check one from libreplyguard.so too. */
    int interposed = cli_alloc_count_active();
    if (interposed) {
        rg_result *probe = NULL;
        cli_alloc_count_reset();
        cli_alloc_count_arm(1);
        rg_result_alloc(NULL, &probe);
        cli_alloc_count_arm(0);
        interposed = cli_alloc_count_get() > 0;
        rg_result_free(probe);
        cli_alloc_count_reset();
    }

    /* RG_BENCH_ALLOC_BACKTRACE=1: show where an allocation after warm-up
     * comes from (for whoever has to remove it). */
    const char *bt = getenv("RG_BENCH_ALLOC_BACKTRACE");
    if (bt && *bt == '1')
        cli_alloc_count_backtraces(1);

    FILE *f = fopen(file, "rb");
    if (!f) {
        cli_error(VERB, "cannot open '%s': %s", file, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char *data = NULL;
    size_t len = 0;
    int rrc = cli_read_all(f, &data, &len);
    int rerr = errno;
    fclose(f);
    if (rrc) {
        cli_error(VERB, "cannot read '%s': %s", file, strerror(rerr));
        return CLI_EXIT_USAGE;
    }
    rg_text *lines = NULL;
    size_t nlines = 0;
    if (split_lines(data, len, &lines, &nlines)) {
        free(data);
        cli_error(VERB, "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (nlines == 0) {
        free(data);
        free(lines);
        cli_error(VERB, "'%s' holds no lines", file);
        return CLI_EXIT_USAGE;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < nlines; i++)
        bytes += lines[i].len;

    /* Load the policy set with the counting allocator. */
    const char *path = cli_policy_path(policy_opt);
    rg_engine_options opts;
    memset(&opts, 0, sizeof opts);
    opts.struct_size = sizeof opts;
    opts.allocator = &counting;
    rg_engine *engine = NULL;
    rg_diag *diag = NULL;
    uint64_t t_open = now_ns();
    int rc = rg_engine_open(&engine, path, &opts, &diag);
    t_open = now_ns() - t_open;
    for (size_t i = 0; diag && i < diag->count; i++)
        if (rc != RG_OK || diag->entries[i].severity == RG_SEV_ERROR)
            cli_print_diag(stderr, &diag->entries[i], path);
    rg_diag_free(diag);
    int status = CLI_EXIT_USAGE;
    worker *ws = NULL;
    uint64_t *all = NULL, *best = NULL;
    if (rc != RG_OK) {
        cli_error(VERB, "cannot load policy set '%s' (%s)", path,
                  rg_status_name(rc));
        goto out;
    }
    if (!cli_route_exists(engine, route)) {
        char *list = cli_route_list(engine);
        cli_error(VERB, "unknown route '%s' (routes: %s)", route,
                  list ? list : "?");
        free(list);
        goto out;
    }

    size_t per = nlines * (size_t)repeat;
    ws = calloc((size_t)threads, sizeof *ws);
    all = malloc(per * (size_t)threads * sizeof *all);
    if (!ws || !all) {
        cli_error(VERB, "out of memory for %zu latency samples",
                  per * (size_t)threads);
        goto out;
    }
    /* Touch every sample page now, not inside the measured passes. */
    memset(all, 0, per * (size_t)threads * sizeof *all);

    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.engine = engine;
    sh.route = route;
    sh.lines = lines;
    sh.nlines = nlines;
    sh.repeat = (unsigned)repeat;
    sh.budget_ns = (uint64_t)budget_us * 1000u;
    unsigned parties = (unsigned)threads + 1;
    pthread_barrier_init(&sh.ready, NULL, parties);
    pthread_barrier_init(&sh.go, NULL, parties);
    pthread_barrier_init(&sh.done, NULL, parties);
    long started = 0;
    for (; started < threads; started++) {
        ws[started].sh = &sh;
        ws[started].index = (unsigned)started;
        ws[started].lat = all + per * (size_t)started;
        if (pthread_create(&ws[started].tid, NULL, work, &ws[started]))
            break;
    }
    if (started < threads) {
        /* Cannot run the barriers with fewer parties: give up cleanly. */
        cli_error(VERB, "cannot start thread %ld", started + 1);
        exit(CLI_EXIT_USAGE);
    }
    pthread_barrier_wait(&sh.ready);
    atomic_store(&rg_allocs, 0);
    atomic_store(&rg_armed, 1);
    cli_alloc_count_reset();
    cli_alloc_count_arm(1);
    /* Wall time of each phase (the timed passes, then the untimed ones):
     * from the barrier's release to the last thread's end. */
    uint64_t wall_timed = 0, wall_untimed = 0;
    for (int phase = 0; phase < 2; phase++) {
        uint64_t t0 = now_ns();
        pthread_barrier_wait(&sh.go);
        pthread_barrier_wait(&sh.done);
        *(phase ? &wall_untimed : &wall_timed) = now_ns() - t0;
    }
    cli_alloc_count_arm(0);
    atomic_store(&rg_armed, 0);
    unsigned long long proc_allocs = cli_alloc_count_get();
    unsigned long long lib_allocs = atomic_load(&rg_allocs);
    for (long i = 0; i < threads; i++)
        pthread_join(ws[i].tid, NULL);
    pthread_barrier_destroy(&sh.ready);
    pthread_barrier_destroy(&sh.go);
    pthread_barrier_destroy(&sh.done);

    worker tot;
    memset(&tot, 0, sizeof tot);
    uint64_t first_max = 0;
    for (long i = 0; i < threads; i++) {
        const worker *w = &ws[i];
        if (w->setup_rc != RG_OK) {
            cli_error(VERB, "thread %ld: cannot allocate scratch/result (%s)",
                      i + 1, rg_status_name(w->setup_rc));
            goto out;
        }
        for (int v = 0; v < 3; v++)
            tot.verdicts[v] += w->verdicts[v];
        tot.budget_exceeded += w->budget_exceeded;
        tot.oversize += w->oversize;
        tot.engine_error += w->engine_error;
        tot.failsafe += w->failsafe;
        tot.invalid_utf8 += w->invalid_utf8;
        tot.hits_truncated += w->hits_truncated;
        tot.redacted += w->redacted;
        tot.over_budget_unflagged += w->over_budget_unflagged;
        tot.errors += w->errors;
        if (tot.first_status == RG_OK)
            tot.first_status = w->first_status;
        if (w->first_ns > first_max)
            first_max = w->first_ns;
        tot.cpu_ns += w->cpu_ns;
        tot.cpu_ns_timed += w->cpu_ns_timed;
        tot.preempted += w->preempted;
    }

    size_t checks = per * (size_t)threads;
    /* Per line, the fastest of its passes (per thread): a check that lost
     * the CPU to another process in one pass rarely loses it in all, so
     * these percentiles show the checks' own latency on a shared machine.
     * A line over the budget even at its fastest, without budget_exceeded
     * in that pass, is a real overrun, not scheduling noise. */
    size_t nbest = nlines * (size_t)threads;
    best = malloc(nbest * sizeof *best);
    unsigned long long best_over = 0;
    if (!best) {
        cli_error(VERB, "out of memory");
        goto out;
    }
    for (long t = 0; t < threads; t++)
        for (size_t i = 0; i < nlines; i++) {
            uint64_t m = UINT64_MAX;
            for (long r = 0; r < repeat; r++) {
                uint64_t v = all[per * (size_t)t + (size_t)r * nlines + i];
                if ((v & ~FLAG_BIT) < (m & ~FLAG_BIT))
                    m = v;
            }
            if (budget_us && (m & ~FLAG_BIT) > (uint64_t)budget_us * 1000u && !(m & FLAG_BIT))
                best_over++;
            best[t * (long)nlines + (long)i] = m & ~FLAG_BIT;
        }
    qsort(best, nbest, sizeof *best, cmp_u64);
    for (size_t i = 0; i < checks; i++)
        all[i] &= ~FLAG_BIT;
    qsort(all, checks, sizeof *all, cmp_u64);
    /* Throughput from the untimed passes; allocations over all of them
     * (2 * checks calls of rg_check). */
    double secs = (double)wall_untimed / 1e9;
    double secs_timed = (double)wall_timed / 1e9;
    double cps = secs > 0 ? (double)checks / secs : 0;
    double cps_timed = secs_timed > 0 ? (double)checks / secs_timed : 0;
    double cpu_timed_s = (double)tot.cpu_ns_timed / 1e9;
    double cpu_cps_timed = cpu_timed_s > 0 ? (double)checks / cpu_timed_s : 0;
    double mbps = secs > 0 ? (double)bytes * (double)repeat * (double)threads /
                                 secs / 1e6
                           : 0;
    double cpu_s = (double)tot.cpu_ns / 1e9;
    double cpu_cps = cpu_s > 0 ? (double)checks / cpu_s : 0;
    double apc = (double)(interposed ? proc_allocs : lib_allocs) / (double)(2 * checks);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = (double)ru.ru_maxrss / 1024.0;
    uint64_t p50 = pct(all, checks, 0.50), p90 = pct(all, checks, 0.90),
             p99 = pct(all, checks, 0.99), p999 = pct(all, checks, 0.999),
             pmax = all[checks - 1];
    uint64_t sum = 0;
    for (size_t i = 0; i < checks; i++)
        sum += all[i];

    if (json) {
        printf("{\"checks\": %zu, \"seconds\": %.6f, \"checks_per_s\": %.1f, "
               "\"mb_per_s\": %.3f, \"p50_ns\": %llu, \"p90_ns\": %llu, "
               "\"p99_ns\": %llu, \"p999_ns\": %llu, \"max_ns\": %llu, "
               "\"mean_ns\": %.1f, \"allocs_per_check\": %.6g, "
               "\"rss_mb\": %.1f, \"threads\": %ld, "
               "\"cpu_seconds\": %.6f, \"checks_per_cpu_s\": %.1f, \"preemptions\": %ld, "
               "\"timed_seconds\": %.6f, \"timed_checks_per_s\": %.1f, "
               "\"timed_checks_per_cpu_s\": %.1f, "
               "\"alloc_counter\": \"%s\", \"process_allocs\": %llu, "
               "\"rg_allocator_allocs\": %llu, "
               "\"lines\": %zu, \"bytes\": %zu, \"repeat\": %ld, "
               "\"route\": ",
               checks, secs, cps, mbps, (unsigned long long)p50,
               (unsigned long long)p90, (unsigned long long)p99,
               (unsigned long long)p999, (unsigned long long)pmax,
               (double)sum / (double)checks, apc, rss_mb, threads, cpu_s, cpu_cps,
               tot.preempted, secs_timed, cps_timed, cpu_cps_timed,
               interposed ? "malloc-interposer" : "rg_allocator",
               proc_allocs, lib_allocs, nlines, bytes, repeat);
        cli_buf b = {0};
        cli_json_str(&b, route, strlen(route));
        fwrite(b.p, 1, b.len, stdout);
        cli_buf_free(&b);
        char obu[32];
        if (budget_us)
            snprintf(obu, sizeof obu, "%llu",
                     (unsigned long long)tot.over_budget_unflagged);
        else
            snprintf(obu, sizeof obu, "null");
        char bo[32];
        if (budget_us)
            snprintf(bo, sizeof bo, "%llu", best_over);
        else
            snprintf(bo, sizeof bo, "null");
        printf(", \"line_best\": {\"p50_ns\": %llu, \"p90_ns\": %llu, \"p99_ns\": %llu, "
               "\"p999_ns\": %llu, \"max_ns\": %llu, \"over_budget_unflagged\": %s}",
               (unsigned long long)pct(best, nbest, .5), (unsigned long long)pct(best, nbest, .9),
               (unsigned long long)pct(best, nbest, .99),
               (unsigned long long)pct(best, nbest, .999),
               (unsigned long long)best[nbest - 1], bo);
        printf(", \"first_check_ns\": %llu, \"open_ms\": %.2f, "
               "\"budget_exceeded\": %llu, \"over_budget_unflagged\": %s, "
               "\"errors\": %llu, "
               "\"verdicts\": {\"allow\": %llu, \"handoff\": %llu, "
               "\"block\": %llu}, "
               "\"flags\": {\"budget_exceeded\": %llu, \"oversize\": %llu, "
               "\"engine_error\": %llu, \"failsafe\": %llu, "
               "\"invalid_utf8\": %llu, \"hits_truncated\": %llu, "
               "\"redacted\": %llu}}\n",
               (unsigned long long)first_max, (double)t_open / 1e6,
               (unsigned long long)tot.budget_exceeded,
               obu,
               (unsigned long long)tot.errors,
               (unsigned long long)tot.verdicts[RG_ALLOW],
               (unsigned long long)tot.verdicts[RG_HANDOFF],
               (unsigned long long)tot.verdicts[RG_BLOCK],
               (unsigned long long)tot.budget_exceeded,
               (unsigned long long)tot.oversize,
               (unsigned long long)tot.engine_error,
               (unsigned long long)tot.failsafe,
               (unsigned long long)tot.invalid_utf8,
               (unsigned long long)tot.hits_truncated,
               (unsigned long long)tot.redacted);
    } else {
        char a[32], b2[32], c2[32], d[32], e[32], fst[32];
        fmt_ns(a, sizeof a, p50);
        fmt_ns(b2, sizeof b2, p90);
        fmt_ns(c2, sizeof c2, p99);
        fmt_ns(d, sizeof d, p999);
        fmt_ns(e, sizeof e, pmax);
        fmt_ns(fst, sizeof fst, first_max);
        printf("file         %s: %zu lines, %zu bytes (%.0f B/line)\n", file,
               nlines, bytes, (double)bytes / (double)nlines);
        printf("route        %s; policy loaded in %.1f ms\n", route,
               (double)t_open / 1e6);
        printf("run          %ld thread%s x %ld timed + %ld untimed pass%s after a "
               "warm-up pass: %zu checks each\n",
               threads, threads == 1 ? "" : "s", repeat, repeat, repeat == 1 ? "" : "es",
               checks);
        printf("throughput   %.0f checks/s, %.1f MB/s (%.0f checks per CPU-second; "
               "%ld preemptions), untimed passes, %.3f s\n",
               cps, mbps, cpu_cps, tot.preempted, secs);
        printf("             %.0f checks/s (%.0f per CPU-second) in the timed passes, "
               "two clock reads per check\n",
               cps_timed, cpu_cps_timed);
        printf("latency      p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", a, b2,
               c2, d, e);
        char q[5][32];
        fmt_ns(q[0], sizeof q[0], pct(best, nbest, .5));
        fmt_ns(q[1], sizeof q[1], pct(best, nbest, .9));
        fmt_ns(q[2], sizeof q[2], pct(best, nbest, .99));
        fmt_ns(q[3], sizeof q[3], pct(best, nbest, .999));
        fmt_ns(q[4], sizeof q[4], best[nbest - 1]);
        printf("per line     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s (fastest of "
               "its %ld pass%s)\n",
               q[0], q[1], q[2], q[3], q[4], repeat, repeat == 1 ? "" : "es");
        printf("first check  %s on a fresh scratch (before warm-up)\n", fst);
        printf("allocations  %.6g per check after warm-up (%llu by any code, "
               "%s; %llu through rg_allocator)\n",
               apc, proc_allocs,
               interposed ? "malloc interposer" : "interposer NOT in force",
               lib_allocs);
        printf("peak RSS     %.1f MB\n", rss_mb);
        printf("verdicts     allow %llu, handoff %llu, block %llu\n",
               (unsigned long long)tot.verdicts[RG_ALLOW],
               (unsigned long long)tot.verdicts[RG_HANDOFF],
               (unsigned long long)tot.verdicts[RG_BLOCK]);
        printf("flags        budget_exceeded %llu, oversize %llu, engine_error "
               "%llu, failsafe %llu,\n             invalid_utf8 %llu, "
               "hits_truncated %llu, redacted %llu\n",
               (unsigned long long)tot.budget_exceeded,
               (unsigned long long)tot.oversize,
               (unsigned long long)tot.engine_error,
               (unsigned long long)tot.failsafe,
               (unsigned long long)tot.invalid_utf8,
               (unsigned long long)tot.hits_truncated,
               (unsigned long long)tot.redacted);
        if (budget_us)
            printf("over budget  %llu checks took more than %ld µs without "
                   "budget_exceeded; %llu lines even at their fastest\n",
                   (unsigned long long)tot.over_budget_unflagged, budget_us, best_over);
    }
    if (tot.errors) {
        cli_error(VERB, "%llu checks returned an error (first: %s)",
                  (unsigned long long)tot.errors,
                  rg_status_name(tot.first_status));
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    free(best);
    free(all);
    free(ws);
    rg_engine_close(engine);
    free(lines);
    free(data);
    return status;
}
