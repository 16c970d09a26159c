/* test_redact.c — the redacted copy: every byte of each redacted span is
 * replaced by the rule's mask, else the route's, else "[REDACTED]";
 * overlapping spans are merged; no redaction -> NULL.
 * Fixture: tests/policies/redact. */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/redact");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

/* Check text on route and assert verdict and the exact redacted copy. */
static void expect_redacted(const char *route, const char *text, rg_verdict verdict,
                            const char *want)
{
    assert_int_equal(rgt_check(&C, route, text), RG_OK);
    size_t len = 12345;
    const char *red = rg_result_redacted(C.r, &len);
    if (!red || len != strlen(want) || memcmp(red, want, len)) {
        fprintf(stderr, "text:  \"%s\"\nwant:  \"%s\"\n", text, want);
        rgt_dump(C.r);
    }
    assert_non_null(red);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(red, want, len);
    assert_int_equal(red[len], 0); /* a NUL follows it */
    assert_true(rg_result_flags(C.r) & RG_FLAG_REDACTED);
    assert_int_equal(rg_result_verdict(C.r), verdict);
}

static void test_route_mask(void **state)
{
    (void)state;
    expect_redacted(NULL, "Mail me at bob@example.com today", RG_ALLOW,
                    "Mail me at [removed] today");
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_REDACTED);
    const rg_category_score *c = rgt_cat(C.r, "pii.email");
    assert_non_null(c);
    assert_int_equal(c->redact, 1);
    assert_int_equal(c->verdict, RG_ALLOW);
    const rg_reason *x = rgt_reason(C.r, "pii.email", "redact");
    assert_non_null(x);
    RGT_STR(x->rule, "pii.email");
    RGT_STR(x->route, "default");
    RGT_NEAR(x->threshold, 0.5);
    RGT_NEAR(x->score, 0.9);
}

static void test_rule_mask(void **state)
{
    (void)state;
    expect_redacted(NULL, "Card 4111 1111 1111 1111 is on file.", RG_ALLOW,
                    "Card [card] is on file.");
}

static void test_default_mask(void **state)
{
    (void)state;
    expect_redacted("nomask", "Mail me at bob@example.com today", RG_ALLOW,
                    "Mail me at [REDACTED] today");
}

static void test_mask_inherited_from_parent_route(void **state)
{
    (void)state;
    expect_redacted("inherit", "bob@example.com", RG_ALLOW, "[removed]");
    expect_redacted("inherit", "4111111111111111", RG_ALLOW, "[card]");
}

static void test_mask_from_prefix_rule(void **state)
{
    (void)state;
    /* pii.email sets no mask: pii's mask applies; payment_card's own wins */
    expect_redacted("prefixmask", "a@b.io and 4111111111111111", RG_ALLOW,
                    "[pii] and [card]");
}

static void test_every_byte_removed(void **state)
{
    (void)state;
    const char *text = "x 4111111111111111 y alice.smith@mail.example.org z";
    expect_redacted(NULL, text, RG_ALLOW, "x [card] y [removed] z");
    size_t len = 0;
    const char *red = rg_result_redacted(C.r, &len);
    assert_null(memmem(red, len, "4111", 4));
    assert_null(memmem(red, len, "alice", 5));
    assert_null(memmem(red, len, "example", 7));
}

static void test_span_at_edges(void **state)
{
    (void)state;
    expect_redacted(NULL, "bob@example.com", RG_ALLOW, "[removed]");
    expect_redacted(NULL, "bob@example.com x", RG_ALLOW, "[removed] x");
    expect_redacted(NULL, "x bob@example.com", RG_ALLOW, "x [removed]");
}

static void test_overlapping_spans_merged(void **state)
{
    (void)state;
    /* "main street" [0,11) and "street 42" [5,14) overlap: one mask */
    expect_redacted(NULL, "main street 42 is the address", RG_ALLOW, "[addr] is the address");
    assert_int_equal(rgt_hits_of(C.r, "r.addr_a"), 1);
    assert_int_equal(rgt_hits_of(C.r, "r.addr_b"), 1);
    RGT_SPAN(rgt_hit(C.r, "r.addr_a", 0), 0, 11);
    RGT_SPAN(rgt_hit(C.r, "r.addr_b", 0), 5, 14);
}

static void test_adjacent_spans_separate(void **state)
{
    (void)state;
    expect_redacted(NULL, "a@b.com c@d.com", RG_ALLOW, "[removed] [removed]");
}

static void test_redact_with_handoff(void **state)
{
    (void)state;
    /* the phone number hands off (no redact rule); the email is masked */
    expect_redacted(NULL, "call 555-1234 or bob@example.com", RG_HANDOFF,
                    "call 555-1234 or [removed]");
    const rg_category_score *c = rgt_cat(C.r, "pii.phone");
    assert_non_null(c);
    assert_int_equal(c->redact, 0);
    assert_int_equal(c->verdict, RG_HANDOFF);
}

static void test_no_redaction_returns_null(void **state)
{
    (void)state;
    assert_int_equal(rgt_check(&C, NULL, "Nothing to hide here."), RG_OK);
    size_t len = 99;
    assert_null(rg_result_redacted(C.r, &len));
    assert_int_equal(rg_result_flags(C.r) & RG_FLAG_REDACTED, 0);
    /* a hit without a redact rule does not redact either */
    assert_int_equal(rgt_check(&C, NULL, "call 555-1234"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_null(rg_result_redacted(C.r, NULL));
    assert_int_equal(rg_result_flags(C.r) & RG_FLAG_REDACTED, 0);
    /* nomask has no rule for cards */
    assert_int_equal(rgt_check(&C, "nomask", "4111111111111111"), RG_OK);
    assert_null(rg_result_redacted(C.r, NULL));
}

static void test_redacted_copy_replaced_on_next_check(void **state)
{
    (void)state;
    expect_redacted(NULL, "bob@example.com", RG_ALLOW, "[removed]");
    expect_redacted(NULL, "first a@b.com then 4111111111111111 end", RG_ALLOW,
                    "first [removed] then [card] end");
    assert_int_equal(rgt_check(&C, NULL, "clean"), RG_OK);
    assert_null(rg_result_redacted(C.r, NULL));
}

static void test_redaction_non_ascii_and_nul(void **state)
{
    (void)state;
    static const char text[] = "\xc3\xa9t\xc3\xa9\0bob@example.com\xe2\x80\x94ok";
    assert_int_equal(rgt_checkn(&C, NULL, text, sizeof text - 1), RG_OK);
    static const char want[] = "\xc3\xa9t\xc3\xa9\0[removed]\xe2\x80\x94ok";
    size_t len = 0;
    const char *red = rg_result_redacted(C.r, &len);
    assert_non_null(red);
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(red, want, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_mask),
        cmocka_unit_test(test_rule_mask),
        cmocka_unit_test(test_default_mask),
        cmocka_unit_test(test_mask_inherited_from_parent_route),
        cmocka_unit_test(test_mask_from_prefix_rule),
        cmocka_unit_test(test_every_byte_removed),
        cmocka_unit_test(test_span_at_edges),
        cmocka_unit_test(test_overlapping_spans_merged),
        cmocka_unit_test(test_adjacent_spans_separate),
        cmocka_unit_test(test_redact_with_handoff),
        cmocka_unit_test(test_no_redaction_returns_null),
        cmocka_unit_test(test_redacted_copy_replaced_on_next_check),
        cmocka_unit_test(test_redaction_non_ascii_and_nul),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
