/*
 * observe.c — rg-bench-observe: what metrics and audit events cost per
 * check (docs/PERFORMANCE.md, "Observability cost"; docs/OBSERVABILITY.md).
 *
 *   rg-bench-observe [-p POLICIES] [-r ROUTE] [-n LINES] [--rounds R] FILE
 *
 * FILE holds one reply per line. Per round, every configuration checks every
 * line once, in turn, so machine noise hits them alike; the median over the
 * rounds of the thread's CPU ns per check is reported (CPU time, not wall
 * time, so that other processes on a shared machine do not count):
 *   off        engine opened with RG_ENGINE_NO_METRICS, no audit callback
 *   metrics    the default: per-scratch counters, no audit callback
 *   audit-nop  metrics + an audit callback that does nothing
 *   audit-json metrics + a callback formatting each event as JSON
 *              (rg_audit_event_json into a reused buffer; no I/O)
 * Then the counter design itself, T threads (default 2) for a fixed number
 * of increments: one shared atomic counter (atomic_fetch_add, relaxed)
 * against the per-thread counters replyguard uses (relaxed load + store,
 * own cache line), in CPU ns per increment. Nothing here asserts a speed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replyguard.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: on a shared, loaded machine wall time
 * measures the neighbours; the cost of our own instructions is this. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct line {
    const char *p;
    size_t n;
} line;

static char jbuf[1 << 16];
static volatile size_t sink;

static void audit_nop(const rg_audit_event *ev, void *user)
{
    (void)ev;
    (void)user;
}

static void audit_json(const rg_audit_event *ev, void *user)
{
    (void)user;
    size_t len = 0;
    rg_audit_event_json(ev, jbuf, sizeof jbuf, &len);
    sink += len;
}

enum { OFF, METRICS, AUDIT_NOP, AUDIT_JSON, NCONF };
static const char *const conf_name[NCONF] = {"off", "metrics", "audit-nop",
                                             "audit-json"};

/* ---- counter contention -------------------------------------------------- */

#define INCREMENTS 20000000ull
static _Atomic uint64_t shared_ctr;
typedef struct {
    _Alignas(64) _Atomic uint64_t c;
    char pad[64 - sizeof(uint64_t)];
} padded;
static padded own[64];

typedef struct targ {
    int mode, idx;
    pthread_barrier_t *bar;
    uint64_t cpu;
} targ;

static void *incr(void *p)
{
    targ *t = p;
    pthread_barrier_wait(t->bar);
    uint64_t c0 = cpu_ns();
    if (t->mode == 0) {
        for (uint64_t i = 0; i < INCREMENTS; i++)
            atomic_fetch_add_explicit(&shared_ctr, 1, memory_order_relaxed);
    } else {
        _Atomic uint64_t *c = &own[t->idx].c;
        for (uint64_t i = 0; i < INCREMENTS; i++)
            atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
    }
    t->cpu = cpu_ns() - c0;
    return NULL;
}

/* Returns CPU ns per increment (averaged over the threads); *wall gets
 * wall ns per increment, which shows cache-line ping-pong when the threads
 * really run at once. */
static double contention(int mode, int threads, double *wall)
{
    pthread_t th[64];
    targ ta[64];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        ta[i] = (targ){mode, i, &bar, 0};
        pthread_create(&th[i], NULL, incr, &ta[i]);
    }
    uint64_t w0 = now_ns();
    pthread_barrier_wait(&bar);
    uint64_t cpu = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        cpu += ta[i].cpu;
    }
    *wall = (double)(now_ns() - w0) / (double)INCREMENTS;
    pthread_barrier_destroy(&bar);
    return (double)cpu / (double)threads / (double)INCREMENTS;
}

int main(int argc, char **argv)
{
    const char *pol = "policies", *route = "default", *file = NULL;
    size_t max_lines = 20000;
    int rounds = 15, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc)
            pol = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            route = argv[++i];
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            max_lines = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "usage: %s [-p POLICIES] [-r ROUTE] [-n LINES] "
                    "[--rounds R] [--threads T] FILE\n", argv[0]);
            return 2;
        }
    }
    if (!file || rounds < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: %s [-p POLICIES] [-r ROUTE] [-n LINES] "
                "[--rounds R] [--threads T] FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 2;
    }
    line *lines = calloc(max_lines, sizeof *lines);
    size_t nl = 0, bytes = 0;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t r;
    while (nl < max_lines && (r = getline(&buf, &cap, f)) > 0) {
        if (buf[r - 1] == '\n')
            r--;
        lines[nl].p = memcpy(malloc((size_t)r + 1), buf, (size_t)r);
        lines[nl].n = (size_t)r;
        bytes += (size_t)r;
        nl++;
    }
    free(buf);
    fclose(f);
    if (!nl) {
        fprintf(stderr, "%s: no lines\n", file);
        return 2;
    }

    rg_engine *eng[2];
    rg_scratch *sc[2];
    rg_result *res;
    rg_engine_options o = {0};
    o.struct_size = sizeof o;
    o.flags = RG_ENGINE_NO_METRICS;
    if (rg_engine_open(&eng[0], pol, &o, NULL) != RG_OK ||
        rg_engine_open(&eng[1], pol, NULL, NULL) != RG_OK ||
        rg_scratch_alloc(eng[0], &sc[0]) != RG_OK ||
        rg_scratch_alloc(eng[1], &sc[1]) != RG_OK ||
        rg_result_alloc(NULL, &res) != RG_OK) {
        fprintf(stderr, "cannot open policy set '%s'\n", pol);
        return 2;
    }
    rg_label labels[] = {{"tenant", "acme"}, {"persona", "ava"},
                         {"conversation_id", "c-0001"}};
    rg_request q = {0};
    q.route = route;
    q.channel = "chat";
    q.locale = "en-US";
    q.labels = labels;
    q.label_count = 3;

    double *ns[NCONF];
    for (int c = 0; c < NCONF; c++)
        ns[c] = calloc((size_t)rounds, sizeof **ns);
    /* warm-up: every scratch and result at its largest */
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < nl; i++) {
            q.reply = lines[i].p;
            q.reply_len = lines[i].n;
            rg_check(eng[w], sc[w], &q, res);
        }
    for (int rd = 0; rd < rounds; rd++) {
        for (int c = 0; c < NCONF; c++) {
            int e = c == OFF ? 0 : 1;
            rg_engine_set_audit(eng[1], c == AUDIT_NOP ? audit_nop
                                        : c == AUDIT_JSON ? audit_json : NULL,
                                NULL, 0);
            uint64_t t0 = cpu_ns();
            for (size_t i = 0; i < nl; i++) {
                q.reply = lines[i].p;
                q.reply_len = lines[i].n;
                rg_check(eng[e], sc[e], &q, res);
            }
            ns[c][rd] = (double)(cpu_ns() - t0) / (double)nl;
        }
    }
    rg_engine_set_audit(eng[1], NULL, NULL, 0);
    printf("rg-bench-observe: %zu lines (%.0f bytes avg) of %s, route %s, "
           "%d rounds (median CPU ns per check)\n", nl, (double)bytes / (double)nl,
           file, route, rounds);
    double base = 0;
    for (int c = 0; c < NCONF; c++) {
        qsort(ns[c], (size_t)rounds, sizeof **ns, cmp_double);
        double med = ns[c][rounds / 2];
        if (c == OFF)
            base = med;
        printf("  %-10s %8.1f ns/check  (%+.1f ns, %+.1f%%; min %.1f, max %.1f)\n",
               conf_name[c], med, med - base, base > 0 ? 100 * (med - base) / base : 0,
               ns[c][0], ns[c][rounds - 1]);
    }
    printf("counters, %d threads x %llu increments:\n", threads,
           (unsigned long long)INCREMENTS);
    double shw, ptw, shw1, ptw1;
    double sh = contention(0, threads, &shw), pt = contention(1, threads, &ptw);
    double sh1 = contention(0, 1, &shw1), pt1 = contention(1, 1, &ptw1);
    printf("  shared atomic_fetch_add   %6.2f CPU ns, %6.2f wall ns per increment "
           "(1 thread: %.2f, %.2f)\n", sh, shw, sh1, shw1);
    printf("  per-thread load+store     %6.2f CPU ns, %6.2f wall ns per increment "
           "(1 thread: %.2f, %.2f)\n", pt, ptw, pt1, ptw1);
    for (int w = 0; w < 2; w++) {
        rg_scratch_free(sc[w]);
        rg_engine_close(eng[w]);
    }
    rg_result_free(res);
    for (size_t i = 0; i < nl; i++)
        free((void *)lines[i].p);
    free(lines);
    for (int c = 0; c < NCONF; c++)
        free(ns[c]);
    return 0;
}
