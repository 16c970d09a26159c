/* threads.c — a worker pool sharing one engine.
 *
 * The engine (the compiled policy) is shared by every thread without locks;
 * each worker owns one scratch and one result, allocated once and reused
 * for every check. Workers take replies from a shared atomic counter.
 *
 * Usage: threads [POLICY_DIR [REPLIES_FILE [THREADS]]]
 *   POLICY_DIR    default: policies
 *   REPLIES_FILE  one reply per line (default: a few built-in samples)
 *   THREADS       default: 4
 * Prints the verdict counts, then checks every reply again on one thread
 * and exits 1 if any verdict differs (it never should).
 */
#include <replyguard.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *samples[] = {
    "Your table for two is booked for 7 pm.",
    "Your card 4111 1111 1111 1111 is on file.",
    "You can reach the front desk at 415-555-0132.",
    "Honestly, you are an idiot.",
    "I have refunded the full amount to your original payment method.",
    "What the hell is wrong with you?",
};

typedef struct pool {
    rg_engine *engine;         /* shared, read-only for checks */
    const char *route;
    char **replies;
    size_t count;
    atomic_size_t next;        /* the next reply to take */
    int *verdicts;             /* one slot per reply; each written once */
    atomic_int errors;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    rg_scratch *scratch = NULL;  /* this thread's own */
    rg_result *result = NULL;
    if (rg_scratch_alloc(p->engine, &scratch) != RG_OK ||
        rg_result_alloc(NULL, &result) != RG_OK) {
        atomic_fetch_add(&p->errors, 1);
        rg_scratch_free(scratch);
        return NULL;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count)
            break;
        rg_request req = {.route = p->route, .reply = p->replies[i],
                          .reply_len = strlen(p->replies[i])};
        if (rg_check(p->engine, scratch, &req, result) != RG_OK)
            atomic_fetch_add(&p->errors, 1);  /* the result still holds a fail-safe verdict */
        p->verdicts[i] = rg_result_verdict(result);
    }
    rg_result_free(result);
    rg_scratch_free(scratch);
    return NULL;
}

static char **read_lines(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char **lines = NULL, *line = NULL;
    size_t n = 0, cap = 0, size = 0;
    ssize_t len;
    while ((len = getline(&line, &size, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            char **grown = realloc(lines, cap * sizeof *lines);
            if (!grown)
                break;
            lines = grown;
        }
        lines[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    *count = n;
    return lines;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "policies";
    int nthreads = argc > 3 ? atoi(argv[3]) : 4;
    if (nthreads < 1 || nthreads > 256)
        nthreads = 4;

    pool p = {.route = "default"};
    if (argc > 2) {
        p.replies = read_lines(argv[2], &p.count);
        if (!p.replies) {
            perror(argv[2]);
            return 2;
        }
    } else {
        p.count = sizeof samples / sizeof samples[0];
        p.replies = malloc(p.count * sizeof *p.replies);
        for (size_t i = 0; p.replies && i < p.count; i++)
            p.replies[i] = strdup(samples[i]);
    }
    p.verdicts = calloc(p.count ? p.count : 1, sizeof *p.verdicts);
    if (!p.replies || !p.verdicts)
        return 2;

    rg_diag *diag = NULL;
    if (rg_engine_open(&p.engine, dir, NULL, &diag) != RG_OK) {
        for (size_t i = 0; diag && i < diag->count; i++)
            fprintf(stderr, "%s:%u:%u: %s\n", diag->entries[i].file ? diag->entries[i].file : dir,
                    diag->entries[i].line, diag->entries[i].column, diag->entries[i].message);
        rg_diag_free(diag);
        return 2;
    }
    rg_diag_free(diag);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    int started = 0;
    for (int t = 0; threads && t < nthreads; t++)
        if (pthread_create(&threads[t], NULL, worker, &p) == 0)
            started++;
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < p.count; i++)
        counts[p.verdicts[i] >= 0 && p.verdicts[i] <= 2 ? p.verdicts[i] : 1]++;
    printf("%zu replies on %d threads: allow %zu, handoff %zu, block %zu (%.0f checks/s)\n",
           p.count, started, counts[RG_ALLOW], counts[RG_HANDOFF], counts[RG_BLOCK],
           secs > 0 ? (double)p.count / secs : 0.0);

    /* The same replies on this thread alone: the verdicts must not depend
     * on which worker checked them. */
    size_t differ = 0;
    rg_scratch *scratch = NULL;
    rg_result *result = NULL;
    int st = rg_scratch_alloc(p.engine, &scratch);
    if (st == RG_OK)
        st = rg_result_alloc(NULL, &result);
    for (size_t i = 0; st == RG_OK && i < p.count; i++) {
        rg_request req = {.route = p.route, .reply = p.replies[i],
                          .reply_len = strlen(p.replies[i])};
        rg_check(p.engine, scratch, &req, result);
        if ((int)rg_result_verdict(result) != p.verdicts[i])
            differ++;
    }
    printf("single-threaded pass: %zu verdicts differ\n", differ);

    rg_result_free(result);
    rg_scratch_free(scratch);
    rg_engine_close(p.engine);  /* after every scratch is freed */
    for (size_t i = 0; i < p.count; i++)
        free(p.replies[i]);
    free(p.replies);
    free(p.verdicts);
    free(threads);
    int errors = atomic_load(&p.errors);
    if (errors)
        fprintf(stderr, "%d checks failed\n", errors);
    return st == RG_OK && started == nthreads && differ == 0 && errors == 0 ? 0 : 1;
}
