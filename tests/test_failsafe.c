/* test_failsafe.c — fail-safe by construction: no error makes a check
 * return `allow` unless the route opted in to failing open, and then the
 * result still says a fail-safe decided (RG_FLAG_FAILSAFE with the flag
 * of the cause). docs/RELIABILITY.md lists every error path of rg_check
 * and the test that covers it; the allocation-failure sweeps
 * (test_alloc_fail.c) cover every NOMEM path.
 * Fixture: tests/policies/failsafe (default: fail-safes block; open*:
 * on_error/on_timeout/on_oversize allow). */
#include "testutil.h"
#include <stdlib.h>

#define FS_ERR (RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE)

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/failsafe");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

/* Every argument error: the status, the route's on_error, flagged. */
static void test_argument_errors_fail_safe(void **state)
{
    (void)state;
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "hello";
    q.reply_len = 5;
    /* NULL engine: no policy to ask, handoff */
    assert_int_equal(rg_check(NULL, C.s, &q, C.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(C.r), FS_ERR);
    /* NULL scratch or request: the requested route's on_error */
    q.route = "open";
    assert_int_equal(rg_check(C.e, NULL, &q, C.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), FS_ERR);
    q.route = NULL;
    assert_int_equal(rg_check(C.e, NULL, &q, C.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), FS_ERR);
    assert_int_equal(rg_check(C.e, C.s, NULL, C.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), FS_ERR);
    /* text pointers NULL with a length */
    const char *routes[] = {NULL, "open"};
    for (int i = 0; i < 2; i++) {
        rg_verdict want = i ? RG_ALLOW : RG_BLOCK;
        rg_request b;
        memset(&b, 0, sizeof b);
        b.route = routes[i];
        b.reply_len = 3;
        assert_int_equal(rg_check(C.e, C.s, &b, C.r), RG_E_INVAL);
        assert_int_equal(rg_result_verdict(C.r), want);
        assert_int_equal(rg_result_flags(C.r), FS_ERR);
        b.reply = "abc";
        b.user_message_len = 1;
        assert_int_equal(rg_check(C.e, C.s, &b, C.r), RG_E_INVAL);
        assert_int_equal(rg_result_verdict(C.r), want);
        b.user_message_len = 0;
        b.history_count = 2;
        assert_int_equal(rg_check(C.e, C.s, &b, C.r), RG_E_INVAL);
        assert_int_equal(rg_result_verdict(C.r), want);
        b.history_count = 0;
        b.label_count = 1;
        assert_int_equal(rg_check(C.e, C.s, &b, C.r), RG_E_INVAL);
        assert_int_equal(rg_result_verdict(C.r), want);
        assert_int_equal(rg_result_flags(C.r), FS_ERR);
    }
}

static void test_unknown_route_gets_default_on_error(void **state)
{
    (void)state;
    assert_int_equal(rgt_check(&C, "no-such-route", "hello"), RG_E_NOROUTE);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), FS_ERR);
}

static void test_scratch_of_another_engine(void **state)
{
    (void)state;
    rgt_ctx o;
    rgt_open(&o, "policies/failsafe");
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = "open";
    q.reply = "damn";
    q.reply_len = 4;
    assert_int_equal(rg_check(C.e, o.s, &q, C.r), RG_E_MISMATCH);
    /* the opt-in to fail open is honoured, and flagged */
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), FS_ERR);
    q.route = NULL;
    assert_int_equal(rg_check(C.e, o.s, &q, C.r), RG_E_MISMATCH);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    rgt_close(&o);
}

/* An engine error inside the check (allocation failure): on_error. */
static int FAILING;
static void *fm(size_t n, void *u) { (void)u; return FAILING ? NULL : malloc(n); }
static void *fr(void *p, size_t n, void *u) { (void)u; return FAILING ? NULL : realloc(p, n); }
static void ff(void *p, void *u) { (void)u; free(p); }

static void test_engine_error_open_route_is_flagged(void **state)
{
    (void)state;
    rg_allocator a = {fm, fr, ff, NULL};
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.allocator = &a;
    rg_engine *e = NULL;
    FAILING = 0;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/failsafe"), &o, NULL), RG_OK);
    const char *routes[] = {NULL, "open"};
    for (int i = 0; i < 2; i++) {
        rg_scratch *s = NULL;
        rg_result *r = NULL;
        assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
        assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
        /* a reply longer than the scratch's first buffers, with a word
         * that would block: the error decides, not the word */
        size_t n = 100000;
        char *t = malloc(n);
        assert_non_null(t);
        memset(t, 'a', n);
        memcpy(t, "damn ", 5);
        rg_request q;
        memset(&q, 0, sizeof q);
        q.route = routes[i];
        q.reply = t;
        q.reply_len = n;
        FAILING = 1;
        int st = rg_check(e, s, &q, r);
        FAILING = 0;
        assert_int_equal(st, RG_E_NOMEM);
        assert_int_equal(rg_result_verdict(r), i ? RG_ALLOW : RG_BLOCK);
        assert_int_equal(rg_result_flags(r) & FS_ERR, FS_ERR);
        /* and the next check, with memory, is a policy decision again */
        assert_int_equal(rg_check(e, s, &q, r), RG_OK);
        assert_int_equal(rg_result_verdict(r), RG_BLOCK);
        assert_int_equal(rg_result_flags(r) & RG_FLAG_FAILSAFE, 0);
        free(t);
        rg_result_free(r);
        rg_scratch_free(s);
    }
    rg_engine_close(e);
}

static void test_oversize_open_route_is_flagged(void **state)
{
    (void)state;
    assert_int_equal(rgt_check(&C, "open_small", "a perfectly fine reply, but long"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    /* a policy decision more severe than the fail-safe still wins */
    assert_int_equal(rgt_check(&C, "open_small", "damn, a reply that is long"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_true(rg_result_flags(C.r) & RG_FLAG_OVERSIZE);
}

static void test_budget_open_route_is_flagged(void **state)
{
    (void)state;
    size_t n = 16u << 20; /* under max_bytes; takes far more than 1 ms */
    char *t = malloc(n);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        t[i] = "fine text "[i % 10];
    assert_int_equal(rgt_checkn(&C, "open_instant", t, n), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_FAILSAFE);
    free(t);
}

/* More matches than a check stores while a category redacts: the copy
 * could miss a span, so it is withheld and on_error decides, flagged. */
static void test_untrustworthy_redaction_fails_safe(void **state)
{
    (void)state;
    size_t k = strlen("elm street "), count = 6000, n = k * count;
    char *t = malloc(n);
    assert_non_null(t);
    for (size_t i = 0; i < count; i++)
        memcpy(t + i * k, "elm street ", k);
    assert_int_equal(rgt_checkn(&C, NULL, t, n), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r) & (FS_ERR | RG_FLAG_HITS_TRUNCATED),
                     FS_ERR | RG_FLAG_HITS_TRUNCATED);
    assert_null(rg_result_redacted(C.r, NULL));
    assert_int_equal(rgt_checkn(&C, "open", t, n), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r) & FS_ERR, FS_ERR);
    assert_null(rg_result_redacted(C.r, NULL));
    /* under the cap, the copy is made and trusted */
    assert_int_equal(rgt_checkn(&C, NULL, t, k * 100), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_REDACTED);
    free(t);
}

/* A result never filled, or reset by a check that failed before it could
 * decide, reads as handoff: never an accidental allow. */
static void test_untouched_result_is_handoff(void **state)
{
    (void)state;
    rg_result *r = NULL;
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    assert_int_equal(rg_result_verdict(r), RG_HANDOFF);
    assert_int_equal(rg_result_verdict(NULL), RG_HANDOFF);
    rg_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argument_errors_fail_safe),
        cmocka_unit_test(test_unknown_route_gets_default_on_error),
        cmocka_unit_test(test_scratch_of_another_engine),
        cmocka_unit_test(test_engine_error_open_route_is_flagged),
        cmocka_unit_test(test_oversize_open_route_is_flagged),
        cmocka_unit_test(test_budget_open_route_is_flagged),
        cmocka_unit_test(test_untrustworthy_redaction_fails_safe),
        cmocka_unit_test(test_untouched_result_is_handoff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
