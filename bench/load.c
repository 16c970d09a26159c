/* load.c — cold vs warm engine load times (docs/AUTHORING.md).
 *
 *   build/bench/rg-bench-load [-n RUNS] POLICY_DIR
 *
 * For one policy set, the median over RUNS (default 5) of rg_engine_open
 * wall time when it
 *   - compiles (no cache): the cold start;
 *   - finds its Hyperscan work in the compiled cache (RG_LOAD_CACHE): the
 *     warm start of a replica or a restart;
 *   - loads a compiled bundle (RG_LOAD_BUNDLE), host and generic target;
 *   - reloads (rg_engine_reload) from the cache;
 * plus the bundle's size and how long rg_bundle_write takes. The cache and
 * bundles go to a temporary directory that is removed afterwards.
 * Times are the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID: an
 * open runs on it alone), which a busy machine does not inflate; wall
 * time is printed beside it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <replyguard.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static uint64_t now_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }
static uint64_t wall_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static uint64_t wall_sum;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double median_ms(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return (double)v[n / 2] / 1e6;
}

static rg_engine *open_timed(const char *path, const char *cache, unsigned flags,
                             uint64_t *ns, int *source)
{
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.cache_dir = cache;
    o.flags = flags;
    rg_engine *e = NULL;
    uint64_t t0 = now_ns(), w0 = wall_ns();
    int rc = rg_engine_open(&e, path, &o, NULL);
    *ns = now_ns() - t0;
    wall_sum += wall_ns() - w0;
    if (rc != RG_OK) {
        fprintf(stderr, "rg-bench-load: cannot open %s: %s\n", path, rg_strerror(rc));
        exit(2);
    }
    rg_load_info li = {sizeof li, 0, 0, 0};
    rg_engine_load_info(e, &li);
    *source = li.source;
    return e;
}

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb;
    (void)type;
    (void)f;
    return remove(p);
}

int main(int argc, char **argv)
{
    int runs = 5, c;
    while ((c = getopt(argc, argv, "n:")) != -1)
        if (c == 'n')
            runs = atoi(optarg);
    if (optind != argc - 1 || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: rg-bench-load [-n RUNS] POLICY_DIR\n");
        return 2;
    }
    const char *pol = argv[optind];
    char tmpl[] = "/tmp/rg-bench-load.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 2;
    char cache[4096], bundle[4096], generic[4096];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(bundle, sizeof bundle, "%s/p.rgb", dir);
    snprintf(generic, sizeof generic, "%s/g.rgb", dir);
    uint64_t cold[100], warm[100], bund[100], gen[100], rel[100], ns;
    int src;

    wall_sum = 0;
    for (int i = 0; i < runs; i++) {
        rg_engine_close(open_timed(pol, NULL, RG_ENGINE_NO_CACHE, &cold[i], &src));
    }
    double cold_wall = (double)wall_sum / runs / 1e6;
    /* First open with the cache fills it (not counted). */
    rg_engine_close(open_timed(pol, cache, 0, &ns, &src));
    wall_sum = 0;
    for (int i = 0; i < runs; i++) {
        rg_engine_close(open_timed(pol, cache, 0, &warm[i], &src));
        if (src != RG_LOAD_CACHE) {
            fprintf(stderr, "rg-bench-load: expected a cache hit\n");
            return 2;
        }
    }
    double warm_wall = (double)wall_sum / runs / 1e6;
    rg_engine *e = open_timed(pol, cache, 0, &ns, &src);
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = now_ns();
        if (rg_engine_reload(e, NULL, NULL) != RG_OK)
            return 2;
        rel[i] = now_ns() - t0;
    }
    rg_engine_close(e);
    uint64_t t0 = now_ns();
    if (rg_bundle_write(pol, bundle, NULL, 0, NULL) != RG_OK ||
        rg_bundle_write(pol, generic, NULL, RG_BUNDLE_GENERIC, NULL) != RG_OK)
        return 2;
    uint64_t write_ns = (now_ns() - t0) / 2;
    wall_sum = 0;
    for (int i = 0; i < runs; i++)
        rg_engine_close(open_timed(bundle, NULL, 0, &bund[i], &src));
    double bundle_wall = (double)wall_sum / runs / 1e6;
    for (int i = 0; i < runs; i++)
        rg_engine_close(open_timed(generic, NULL, 0, &gen[i], &src));
    struct stat st;
    long long size = stat(bundle, &st) == 0 ? (long long)st.st_size : -1;
    rg_engine_info info;
    e = open_timed(bundle, NULL, 0, &ns, &src);
    rg_engine_get_info(e, &info);
    rg_engine_close(e);
    printf("policy %s: %zu detectors, %zu patterns, %zu routes (CPU time, median "
           "of %d; wall time, mean)\n",
           pol, info.detector_count, info.pattern_count, info.route_count, runs);
    printf("  cold open (compile)        %9.2f ms  (wall %.2f ms)\n", median_ms(cold, runs),
           cold_wall);
    printf("  warm open (compiled cache) %9.2f ms  (wall %.2f ms)\n", median_ms(warm, runs),
           warm_wall);
    printf("  reload (compiled cache)    %9.2f ms\n", median_ms(rel, runs));
    printf("  open bundle (this CPU)     %9.2f ms  (wall %.2f ms)\n", median_ms(bund, runs),
           bundle_wall);
    printf("  open bundle (generic)      %9.2f ms\n", median_ms(gen, runs));
    printf("  write bundle               %9.2f ms, %lld bytes\n", (double)write_ns / 1e6, size);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
