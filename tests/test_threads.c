/* test_threads.c — one engine shared by 4 checking threads (each with its
 * own scratch and result, >= 20,000 checks each) while a 5th thread
 * reloads between two policy sets in a loop. Every verdict must be the
 * one the snapshot named in the result (version "a" or "b") prescribes.
 * Fixtures: tests/policies/reload_a and reload_b. Threads record
 * failures; the main thread asserts (cmocka is not thread-safe).
 *
 * RG_THREADS_SECONDS=N turns the first test into a soak: the checkers go
 * on for at least N seconds (used for long ThreadSanitizer runs, see
 * docs/RELIABILITY.md); unset, the test is bounded by check counts only. */
#include "testutil.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define CHECKERS 4
#define CHECKS_PER_THREAD 20000
#define MIN_RELOADS 10
#define MAX_CHECKS_PER_THREAD 5000000

typedef struct sample {
    const char *text;
    rg_verdict in_a, in_b;
} sample;

static const sample SAMPLES[] = {
    {"damn it", RG_BLOCK, RG_HANDOFF},
    {"oh darn", RG_ALLOW, RG_BLOCK},
    {"Your parcel ships on Monday.", RG_ALLOW, RG_ALLOW},
    {"damn, darn", RG_BLOCK, RG_BLOCK},
    {"", RG_ALLOW, RG_ALLOW},
};
#define NSAMPLES (sizeof SAMPLES / sizeof *SAMPLES)

static rg_engine *ENGINE;
static atomic_int STOP, READY, GO;
static atomic_long BAD_VERDICT, BAD_STATUS, BAD_VERSION, CHECKS_DONE, RELOADS, RELOAD_FAILS;
static atomic_long SEEN_A, SEEN_B;
static double SOAK_UNTIL; /* monotonic seconds; 0: no soak */

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Soak: keep going until the deadline (checked every 1024 checks). */
static int soaking(long i)
{
    return SOAK_UNTIL > 0 && (i % 1024 != 0 || mono_seconds() < SOAK_UNTIL);
}

static void *checker(void *arg)
{
    size_t id = (size_t)arg;
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    if (rg_scratch_alloc(ENGINE, &s) != RG_OK || rg_result_alloc(NULL, &r) != RG_OK) {
        atomic_fetch_add(&BAD_STATUS, 1);
        rg_scratch_free(s);
        atomic_fetch_add(&READY, 1);
        return NULL;
    }
    /* start together, after every scratch exists, with the reloader */
    atomic_fetch_add(&READY, 1);
    while (!atomic_load(&GO))
        sched_yield();
    long reloads0 = atomic_load(&RELOADS);
    /* at least CHECKS_PER_THREAD, and on until the reloader has swapped
     * snapshots MIN_RELOADS times (so checks surely overlap reloads) */
    for (long i = 0; i < CHECKS_PER_THREAD ||
                     (atomic_load(&RELOADS) - reloads0 < MIN_RELOADS && i < MAX_CHECKS_PER_THREAD) ||
                     soaking(i);
         i++) {
        const sample *x = &SAMPLES[(i + id) % NSAMPLES];
        rg_request q;
        memset(&q, 0, sizeof q);
        q.reply = x->text;
        q.reply_len = strlen(x->text);
        int st = rg_check(ENGINE, s, &q, r);
        if (st != RG_OK) {
            if (atomic_fetch_add(&BAD_STATUS, 1) < 5)
                fprintf(stderr, "thread %zu: rg_check = %s\n", id, rg_status_name(st));
            continue;
        }
        rg_verdict v = rg_result_verdict(r);
        const char *ver = rg_result_policy_version(r);
        if (ver && !strcmp(ver, "a")) {
            atomic_fetch_add(&SEEN_A, 1);
            if (v != x->in_a && atomic_fetch_add(&BAD_VERDICT, 1) < 5)
                fprintf(stderr, "thread %zu: \"%s\" on a: %s\n", id, x->text, rg_verdict_name(v));
        } else if (ver && !strcmp(ver, "b")) {
            atomic_fetch_add(&SEEN_B, 1);
            if (v != x->in_b && atomic_fetch_add(&BAD_VERDICT, 1) < 5)
                fprintf(stderr, "thread %zu: \"%s\" on b: %s\n", id, x->text, rg_verdict_name(v));
        } else {
            atomic_fetch_add(&BAD_VERSION, 1);
        }
        if (rg_result_flags(r) != 0)
            atomic_fetch_add(&BAD_STATUS, 1);
        atomic_fetch_add(&CHECKS_DONE, 1);
    }
    rg_result_free(r);
    rg_scratch_free(s);
    return NULL;
}

static void *reloader(void *arg)
{
    (void)arg;
    const char *dirs[2];
    dirs[0] = strdup(rgt_path("policies/reload_b"));
    dirs[1] = strdup(rgt_path("policies/reload_a"));
    long n = 0;
    while (!atomic_load(&STOP)) {
        rg_diag *d = NULL;
        int st = rg_engine_reload(ENGINE, dirs[n % 2], &d);
        if (st != RG_OK) {
            if (atomic_fetch_add(&RELOAD_FAILS, 1) < 3) {
                fprintf(stderr, "reload = %s\n", rg_status_name(st));
                rgt_print_diag(d);
            }
        }
        rg_diag_free(d);
        n++;
        atomic_fetch_add(&RELOADS, 1);
    }
    free((void *)dirs[0]);
    free((void *)dirs[1]);
    return NULL;
}

static void test_concurrent_checks_and_reloads(void **state)
{
    (void)state;
    const char *soak = getenv("RG_THREADS_SECONDS");
    if (soak && atof(soak) > 0)
        SOAK_UNTIL = mono_seconds() + atof(soak);
    assert_int_equal(rg_engine_open(&ENGINE, rgt_path("policies/reload_a"), NULL, NULL), RG_OK);
    pthread_t th[CHECKERS], rl;
    atomic_store(&STOP, 0);
    atomic_store(&READY, 0);
    atomic_store(&GO, 0);
    for (size_t i = 0; i < CHECKERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, checker, (void *)i), 0);
    while (atomic_load(&READY) < CHECKERS)
        sched_yield();
    assert_int_equal(pthread_create(&rl, NULL, reloader, NULL), 0);
    atomic_store(&GO, 1);
    for (size_t i = 0; i < CHECKERS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&STOP, 1);
    pthread_join(rl, NULL);
    fprintf(stderr, "checks %ld (a %ld, b %ld), reloads %ld\n", atomic_load(&CHECKS_DONE),
            atomic_load(&SEEN_A), atomic_load(&SEEN_B), atomic_load(&RELOADS));
    assert_int_equal(atomic_load(&BAD_STATUS), 0);
    assert_int_equal(atomic_load(&BAD_VERSION), 0);
    assert_int_equal(atomic_load(&BAD_VERDICT), 0);
    assert_int_equal(atomic_load(&RELOAD_FAILS), 0);
    assert_true(atomic_load(&CHECKS_DONE) >= (long)CHECKERS * CHECKS_PER_THREAD);
    assert_true(atomic_load(&RELOADS) >= MIN_RELOADS);
    assert_true(atomic_load(&SEEN_A) > 0);
    assert_true(atomic_load(&SEEN_B) > 0);
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(ENGINE, &info), RG_OK);
    assert_int_equal(info.generation, 1 + (uint64_t)atomic_load(&RELOADS));
    rg_engine_close(ENGINE);
    ENGINE = NULL;
}

/* Scratches allocated and freed concurrently with checks and reloads. */
static void *churner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        rg_scratch *s = NULL;
        rg_result *r = NULL;
        if (rg_scratch_alloc(ENGINE, &s) != RG_OK || rg_result_alloc(NULL, &r) != RG_OK) {
            atomic_fetch_add(&BAD_STATUS, 1);
        } else {
            rg_request q;
            memset(&q, 0, sizeof q);
            q.reply = "damn it";
            q.reply_len = 7;
            int st = rg_check(ENGINE, s, &q, r);
            rg_verdict v = rg_result_verdict(r);
            if (st != RG_OK || (v != RG_BLOCK && v != RG_HANDOFF))
                atomic_fetch_add(&BAD_VERDICT, 1);
        }
        rg_result_free(r);
        rg_scratch_free(s);
    }
    return NULL;
}

static void test_scratch_churn_during_reloads(void **state)
{
    (void)state;
    atomic_store(&BAD_STATUS, 0);
    atomic_store(&BAD_VERDICT, 0);
    atomic_store(&RELOAD_FAILS, 0);
    assert_int_equal(rg_engine_open(&ENGINE, rgt_path("policies/reload_a"), NULL, NULL), RG_OK);
    pthread_t th[CHECKERS], rl;
    atomic_store(&STOP, 0);
    assert_int_equal(pthread_create(&rl, NULL, reloader, NULL), 0);
    for (size_t i = 0; i < CHECKERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churner, NULL), 0);
    for (size_t i = 0; i < CHECKERS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&STOP, 1);
    pthread_join(rl, NULL);
    assert_int_equal(atomic_load(&BAD_STATUS), 0);
    assert_int_equal(atomic_load(&BAD_VERDICT), 0);
    assert_int_equal(atomic_load(&RELOAD_FAILS), 0);
    rg_engine_close(ENGINE);
    ENGINE = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_checks_and_reloads),
        cmocka_unit_test(test_scratch_churn_during_reloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
