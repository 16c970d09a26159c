/* calls.c — the C baseline for the bindings' per-call overhead
 * (bindings/bench/run.sh, docs/BINDINGS.md).
 *
 * Usage: calls POLICY_DIR REPLIES_FILE [LINES [PASSES]]
 * Checks the first LINES lines (default 10000) of REPLIES_FILE on route
 * "default", one untimed warm-up pass then PASSES timed passes (default 5),
 * one thread, one scratch, one result, timed in thread CPU time. Prints
 * the best pass twice: rg_check
 * alone, and rg_check plus reading every field of the result (what a
 * binding does to build its result object).
 */
#include <replyguard.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of this thread: the machine may be busy with other work, and
 * CPU time is what the call costs, not how long the scheduler made us wait. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Touch every field as a binding would; returns something to keep it. */
static size_t read_all(const rg_result *r)
{
    size_t sink = (size_t)rg_result_verdict(r) + rg_result_flags(r);
    for (size_t i = 0; i < rg_result_hit_count(r); i++) {
        const rg_hit *h = rg_result_hit(r, i);
        sink += strlen(h->detector) + strlen(h->category) + h->start + h->end;
    }
    for (size_t i = 0; i < rg_result_category_count(r); i++)
        sink += strlen(rg_result_category(r, i)->category);
    for (size_t i = 0; i < rg_result_reason_count(r); i++) {
        const rg_reason *x = rg_result_reason(r, i);
        sink += strlen(x->category) + strlen(x->rule) + strlen(x->route) + strlen(x->action);
    }
    size_t len = 0;
    if (rg_result_redacted(r, &len))
        sink += len;
    sink += (size_t)rg_result_elapsed_ns(r) + strlen(rg_result_route(r)) +
            strlen(rg_result_policy_version(r)) + strlen(rg_result_policy_hash(r));
    return sink;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: calls POLICY_DIR REPLIES_FILE [LINES [PASSES]]\n");
        return 2;
    }
    size_t want = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    int passes = argc > 4 ? atoi(argv[4]) : 5;
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    char **lines = calloc(want, sizeof *lines);
    size_t *lens = calloc(want, sizeof *lens);
    size_t n = 0, cap = 0;
    char *line = NULL;
    ssize_t len;
    while (n < want && (len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        lines[n] = strdup(line);
        lens[n++] = (size_t)len;
    }
    free(line);
    fclose(f);

    rg_engine *engine;
    rg_scratch *scratch;
    rg_result *result;
    if (rg_engine_open(&engine, argv[1], NULL, NULL) != RG_OK ||
        rg_scratch_alloc(engine, &scratch) != RG_OK || rg_result_alloc(NULL, &result) != RG_OK) {
        fprintf(stderr, "calls: cannot open %s\n", argv[1]);
        return 2;
    }
    size_t sink = 0;
    double best_check = 1e9, best_read = 1e9;
    for (int p = 0; p <= passes; p++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            rg_request req = {.route = "default", .reply = lines[i], .reply_len = lens[i]};
            rg_check(engine, scratch, &req, result);
        }
        double t1 = now();
        for (size_t i = 0; i < n; i++) {
            rg_request req = {.route = "default", .reply = lines[i], .reply_len = lens[i]};
            rg_check(engine, scratch, &req, result);
            sink += read_all(result);
        }
        double t2 = now();
        if (p > 0) { /* pass 0 warms up */
            if (t1 - t0 < best_check)
                best_check = t1 - t0;
            if (t2 - t1 < best_read)
                best_read = t2 - t1;
        }
    }
    printf("c       rg_check only        %9.0f calls/s  %6.2f us/call\n", n / best_check,
           best_check / n * 1e6);
    printf("c       rg_check + read all  %9.0f calls/s  %6.2f us/call  (%zu lines, best of %d; %zu)\n",
           n / best_read, best_read / n * 1e6, n, passes, sink % 10);
    rg_result_free(result);
    rg_scratch_free(scratch);
    rg_engine_close(engine);
    return 0;
}
