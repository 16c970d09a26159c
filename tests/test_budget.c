/* test_budget.c — latency budgets: a route with budget_us: 1 and a long
 * reply must stop with RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_FAILSAFE and the
 * route's on_timeout verdict, never an error status.
 * Fixture: tests/policies/budget (tight: on_timeout block; tight_handoff;
 * tight_open: on_timeout allow; tight_child inherits tight). */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>

#define FS_BUDGET (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_FAILSAFE)

static rgt_ctx C;
static char *LONG;
static size_t LONG_LEN = 4u << 20; /* 4 MiB of clean text */

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/budget");
    static const char words[] =
        "Thank you for contacting us. Your order number is on its way and "
        "should arrive within three business days. Contact support@example "
        "dot com if anything else comes up. ";
    LONG = malloc(LONG_LEN);
    if (!LONG)
        return -1;
    for (size_t i = 0; i < LONG_LEN; i++)
        LONG[i] = words[i % (sizeof words - 1)];
    /* One lexicon word at the very end: only a scan that runs to the end
     * finds it, which tells a stopped check from a finished one without
     * timing anything. */
    memcpy(LONG + LONG_LEN - 5, " damn", 5);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(LONG);
    rgt_close(&C);
    return 0;
}

static void test_budget_exceeded_blocks(void **state)
{
    (void)state;
    assert_int_equal(rgt_checkn(&C, "tight", LONG, LONG_LEN), RG_OK);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    RGT_STR(rg_result_route(C.r), "tight");
}

static void test_budget_exceeded_handoff(void **state)
{
    (void)state;
    assert_int_equal(rgt_checkn(&C, "tight_handoff", LONG, LONG_LEN), RG_OK);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
}

static void test_budget_exceeded_fail_open_still_flagged(void **state)
{
    (void)state;
    assert_int_equal(rgt_checkn(&C, "tight_open", LONG, LONG_LEN), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
}

static void test_budget_and_on_timeout_inherited(void **state)
{
    (void)state;
    assert_int_equal(rgt_checkn(&C, "tight_child", LONG, LONG_LEN), RG_OK);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
}

static void test_budget_stops_early(void **state)
{
    (void)state;
    /* "stops": the tight route gives up before reaching the word at the
     * end that the default route (budget 10 s) finds. Deterministic: no
     * timing is compared (speed belongs to benchmarks). */
    assert_int_equal(rgt_checkn(&C, "tight", LONG, LONG_LEN), RG_OK);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rgt_checkn(&C, NULL, LONG, LONG_LEN), RG_OK);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rg_result_hit_count(C.r), 1);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "b.words", 0), LONG_LEN - 4, LONG_LEN);
}

static void test_short_reply_not_flagged(void **state)
{
    (void)state;
    assert_int_equal(rgt_check(&C, NULL, "Your parcel arrives on Monday."), RG_OK);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rgt_check(&C, NULL, "damn"), RG_OK);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
}

/* Below RG__CLOCK_BYTES (4 KB) the clock is read between views only under
 * budgets below RG__CLOCK_BUDGET_NS (200 us), and a clean reply gives the
 * callback and PCRE2 nothing to read it for: a 2 KB reply on the 1 us
 * route is flagged by those checks between views (any check of it takes
 * longer than 1 us: views and scans of 2 KB). */
static void test_tiny_budget_short_reply_flagged(void **state)
{
    (void)state;
    char t[2048];
    static const char clean[] = "Your parcel arrives on Monday. ";
    for (size_t i = 0; i < sizeof t; i++)
        t[i] = clean[i % (sizeof clean - 1)];
    size_t n = sizeof t;
    assert_true(n < 4096);
    assert_int_equal(rgt_checkn(&C, "tight_handoff", t, n), RG_OK);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_int_equal(rgt_checkn(&C, "tight_open", t, n), RG_OK);
    assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
}

static void test_scratch_usable_after_timeout(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rgt_checkn(&C, "tight_open", LONG, LONG_LEN), RG_OK);
        assert_int_equal(rg_result_flags(C.r), FS_BUDGET);
        assert_int_equal(rgt_check(&C, NULL, "oh damn"), RG_OK);
        assert_int_equal(rg_result_flags(C.r), 0);
        assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
        RGT_SPAN(rgt_hit(C.r, "b.words", 0), 3, 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_exceeded_blocks),
        cmocka_unit_test(test_budget_exceeded_handoff),
        cmocka_unit_test(test_budget_exceeded_fail_open_still_flagged),
        cmocka_unit_test(test_budget_and_on_timeout_inherited),
        cmocka_unit_test(test_budget_stops_early),
        cmocka_unit_test(test_short_reply_not_flagged),
        cmocka_unit_test(test_tiny_budget_short_reply_flagged),
        cmocka_unit_test(test_scratch_usable_after_timeout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
