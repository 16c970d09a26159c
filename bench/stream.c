/*
 * stream.c — what streaming costs (docs/STREAMING.md): per-feed latency
 * for a given chunk size, how many bytes a stream holds back, and the
 * whole stream against one rg_check of the same reply.
 *
 *   rg-bench-stream [-p DIR] [-r ROUTE] [-c CHUNK] [-n LIMIT] [--repeat N] FILE
 *
 * Every line of FILE (without its '\n') is a reply. Each reply is checked
 * once with rg_check, then streamed in CHUNK-byte chunks (default 16),
 * --repeat times (default 3; the first pass is a warm-up and is not
 * counted). Every rg_stream_feed is timed on its own between two
 * CLOCK_MONOTONIC reads; after each feed the bytes held back are
 * rg_stream_bytes - rg_stream_safe_bytes, and the "unfinished word" is
 * the bytes since the last ASCII whitespace: a word-by-word stream must
 * hold at least that, so "extra" is what the stream holds beyond it
 * (a number that could still grow into a card, a hit whose context
 * words may follow, a phrase in progress).
 *
 * Output: one JSON object on stdout. Timings are informative: they depend
 * on the machine and its load (the figures in docs/STREAMING.md say where
 * they were taken).
 */
#include <replyguard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t pct(const uint64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

typedef struct vec {
    uint64_t *v;
    size_t n, cap;
} vec;

static void push(vec *x, uint64_t v)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 4096;
        x->v = realloc(x->v, x->cap * sizeof *x->v);
        if (!x->v) {
            perror("realloc");
            exit(2);
        }
    }
    x->v[x->n++] = v;
}

int main(int argc, char **argv)
{
    const char *dir = "policies", *route = "default", *file = NULL;
    size_t chunk = 16, limit = 2000;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc)
            route = argv[++i];
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            chunk = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            limit = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "usage: %s [-p DIR] [-r ROUTE] [-c CHUNK] [-n LIMIT] "
                            "[--repeat N] FILE\n", argv[0]);
            return 2;
        }
    }
    if (!file || !chunk || repeat < 2) {
        fprintf(stderr, "%s: a FILE, CHUNK > 0 and --repeat >= 2 are needed\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 2;
    }
    char **lines = NULL;
    size_t *lens = NULL, nl = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while (nl < limit && (got = getline(&line, &cap, f)) >= 0) {
        size_t n = (size_t)got;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        lines = realloc(lines, (nl + 1) * sizeof *lines);
        lens = realloc(lens, (nl + 1) * sizeof *lens);
        lines[nl] = malloc(n + 1);
        memcpy(lines[nl], line, n);
        lens[nl++] = n;
    }
    free(line);
    fclose(f);

    rg_engine *e;
    rg_diag *d = NULL;
    uint64_t t0 = now_ns();
    if (rg_engine_open(&e, dir, NULL, &d) != RG_OK) {
        fprintf(stderr, "%s: cannot open the policy set %s\n", argv[0], dir);
        rg_diag_free(d);
        return 2;
    }
    rg_diag_free(d);
    uint64_t open_ns = now_ns() - t0;
    rg_scratch *s;
    rg_result *r;
    if (rg_scratch_alloc(e, &s) || rg_result_alloc(NULL, &r))
        return 2;
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    rg_stream *st;
    t0 = now_ns();
    if (rg_stream_open(e, &q, &st) != RG_OK) {
        fprintf(stderr, "%s: cannot open a stream on route %s\n", argv[0], route);
        return 2;
    }
    uint64_t sdb_ns = now_ns() - t0; /* the streaming databases: first use */
    rg_stream_free(st);

    vec feed = {0}, closes = {0}, checks = {0}, streams = {0};
    double held = 0, extra = 0, words = 0, nfeeds = 0, bytes = 0;
    unsigned long blocked = 0, budget = 0;
    for (int pass = 0; pass < repeat; pass++) {
        int count = pass > 0;
        for (size_t i = 0; i < nl; i++) {
            q.reply = lines[i];
            q.reply_len = lens[i];
            uint64_t a = now_ns();
            rg_check(e, s, &q, r);
            uint64_t b = now_ns();
            if (count)
                push(&checks, b - a);
            q.reply = NULL;
            q.reply_len = 0;
            if (rg_stream_open(e, &q, &st) != RG_OK)
                return 2;
            uint64_t total = 0;
            size_t ws = 0; /* bytes up to the last whitespace so far */
            for (size_t p = 0; p < lens[i]; p += chunk) {
                size_t k = lens[i] - p < chunk ? lens[i] - p : chunk;
                a = now_ns();
                rg_stream_feed(st, s, lines[i] + p, k, r);
                b = now_ns();
                total += b - a;
                for (size_t j = p; j < p + k; j++)
                    if (lines[i][j] == ' ' || lines[i][j] == '\t')
                        ws = j + 1;
                if (!count)
                    continue;
                push(&feed, b - a);
                size_t fed = rg_stream_bytes(st), safe = rg_stream_safe_bytes(st);
                size_t h = fed - safe, word = fed - ws;
                held += (double)h;
                words += (double)word;
                extra += h > word ? (double)(h - word) : 0;
                nfeeds++;
                budget += (rg_result_flags(r) & RG_FLAG_BUDGET_EXCEEDED) != 0;
            }
            a = now_ns();
            rg_stream_close(st, s, r);
            b = now_ns();
            total += b - a;
            if (count) {
                push(&closes, b - a);
                push(&streams, total);
                blocked += rg_result_verdict(r) == RG_BLOCK;
                bytes += (double)lens[i];
            }
            rg_stream_free(st);
        }
    }
    qsort(feed.v, feed.n, sizeof *feed.v, cmp_u64);
    qsort(closes.v, closes.n, sizeof *closes.v, cmp_u64);
    qsort(checks.v, checks.n, sizeof *checks.v, cmp_u64);
    qsort(streams.v, streams.n, sizeof *streams.v, cmp_u64);
    double sum_s = 0, sum_c = 0;
    for (size_t i = 0; i < streams.n; i++)
        sum_s += (double)streams.v[i];
    for (size_t i = 0; i < checks.n; i++)
        sum_c += (double)checks.v[i];
    printf("{\"replies\": %zu, \"route\": \"%s\", \"chunk\": %zu, \"passes\": %d, "
           "\"avg_reply_bytes\": %.1f, \"engine_open_ms\": %.1f, "
           "\"stream_db_ms\": %.1f, \"feeds\": %zu, "
           "\"feed_ns\": {\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"max\": %llu}, "
           "\"close_ns\": {\"p50\": %llu, \"p99\": %llu}, "
           "\"check_ns\": {\"p50\": %llu, \"p99\": %llu}, "
           "\"stream_total_ns\": {\"p50\": %llu, \"p99\": %llu}, "
           "\"stream_vs_check\": %.2f, "
           "\"held_back_bytes_avg\": %.2f, \"unfinished_word_bytes_avg\": %.2f, "
           "\"extra_held_back_bytes_avg\": %.2f, \"blocked\": %lu, "
           "\"feeds_over_budget\": %lu}\n",
           nl, route, chunk, repeat - 1, nfeeds ? bytes / (double)streams.n : 0,
           (double)open_ns / 1e6, (double)sdb_ns / 1e6, feed.n,
           (unsigned long long)pct(feed.v, feed.n, 50), (unsigned long long)pct(feed.v, feed.n, 90),
           (unsigned long long)pct(feed.v, feed.n, 99),
           (unsigned long long)(feed.n ? feed.v[feed.n - 1] : 0),
           (unsigned long long)pct(closes.v, closes.n, 50),
           (unsigned long long)pct(closes.v, closes.n, 99),
           (unsigned long long)pct(checks.v, checks.n, 50),
           (unsigned long long)pct(checks.v, checks.n, 99),
           (unsigned long long)pct(streams.v, streams.n, 50),
           (unsigned long long)pct(streams.v, streams.n, 99), sum_c > 0 ? sum_s / sum_c : 0,
           nfeeds ? held / nfeeds : 0, nfeeds ? words / nfeeds : 0,
           nfeeds ? extra / nfeeds : 0, blocked, budget);
    rg_result_free(r);
    rg_scratch_free(s);
    rg_engine_close(e);
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    free(feed.v);
    free(closes.v);
    free(checks.v);
    free(streams.v);
    return 0;
}
