/* test_inheritance.c — `extends`: per-field inheritance of rules, `off`,
 * most-specific-prefix lookup per field, inherited budgets, sizes,
 * fail-safes and masks. Fixture: tests/policies/inherit.
 *
 *   default:      toxicity {handoff .3, block .8}; toxicity.threat {block .5}
 *                 max_bytes 100, on_oversize block, mask "[X]"
 *   child:        toxicity {block .6}
 *   grandchild:   extends child, on_oversize handoff
 *   threatchild:  toxicity.threat {handoff .45}; toxicity {block .52}
 *   nooff:        toxicity {handoff off}
 *   offspecific:  toxicity.insult {handoff off}
 *   nomoremask:   mask "[Y]"; pii.email {mask "<email>"}
 *   noredact:     extends child; pii.email {redact off}
 * Scores: idiot .4, moron .65, scum .9 (insult); watch out .4,
 * hurt you .55 (threat). */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/inherit");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

static void expect_reason(const char *category, const char *action, const char *rule,
                          const char *route, double score, double threshold)
{
    const rg_reason *x = rgt_reason(C.r, category, action);
    if (!x)
        rgt_dump(C.r);
    assert_non_null(x);
    RGT_STR(x->rule, rule);
    RGT_STR(x->route, route);
    RGT_NEAR(x->score, score);
    RGT_NEAR(x->threshold, threshold);
}

static void test_parent_baseline(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, "default", "you idiot"), RG_HANDOFF);
    expect_reason("toxicity.insult", "handoff", "toxicity", "default", 0.4, 0.3);
    assert_int_equal(rgt_verdict(&C, "default", "you moron"), RG_HANDOFF);
    assert_int_equal(rgt_verdict(&C, "default", "you scum"), RG_BLOCK);
    expect_reason("toxicity.insult", "block", "toxicity", "default", 0.9, 0.8);
    assert_int_equal(rgt_verdict(&C, "default", "hello there"), RG_ALLOW);
}

static void test_child_overrides_one_field(void **state)
{
    (void)state;
    /* block comes from the child (0.6) ... */
    assert_int_equal(rgt_verdict(&C, "child", "you moron"), RG_BLOCK);
    expect_reason("toxicity.insult", "block", "toxicity", "child", 0.65, 0.6);
    RGT_STR(rg_result_route(C.r), "child");
    /* ... handoff is inherited from the parent (0.3) */
    assert_int_equal(rgt_verdict(&C, "child", "you idiot"), RG_HANDOFF);
    expect_reason("toxicity.insult", "handoff", "toxicity", "default", 0.4, 0.3);
    assert_null(rgt_reason(C.r, "toxicity.insult", "block"));
}

static void test_grandchild_inherits_through_chain(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, "grandchild", "you moron"), RG_BLOCK);
    expect_reason("toxicity.insult", "block", "toxicity", "child", 0.65, 0.6);
    assert_int_equal(rgt_verdict(&C, "grandchild", "you idiot"), RG_HANDOFF);
    expect_reason("toxicity.insult", "handoff", "toxicity", "default", 0.4, 0.3);
    assert_int_equal(rgt_verdict(&C, "grandchild", "hurt you"), RG_BLOCK);
    expect_reason("toxicity.threat", "block", "toxicity.threat", "default", 0.55, 0.5);
}

static void test_most_specific_key_per_field(void **state)
{
    (void)state;
    /* threat 0.55: block from toxicity.threat (0.5), not toxicity (0.8) */
    assert_int_equal(rgt_verdict(&C, "default", "I will hurt you"), RG_BLOCK);
    expect_reason("toxicity.threat", "block", "toxicity.threat", "default", 0.55, 0.5);
    /* threat 0.4: toxicity.threat sets no handoff, so handoff comes from
     * toxicity (0.3); its block (0.5) is not crossed */
    assert_int_equal(rgt_verdict(&C, "default", "watch out"), RG_HANDOFF);
    expect_reason("toxicity.threat", "handoff", "toxicity", "default", 0.4, 0.3);
    assert_int_equal(rg_result_reason_count(C.r), 1);
}

static void test_specific_parent_key_beats_generic_child_key(void **state)
{
    (void)state;
    /* threatchild sets toxicity.block 0.52 but the parent's more specific
     * toxicity.threat.block 0.5 still applies to threats */
    assert_int_equal(rgt_verdict(&C, "threatchild", "hurt you"), RG_BLOCK);
    expect_reason("toxicity.threat", "block", "toxicity.threat", "default", 0.55, 0.5);
    /* and its toxicity.block 0.52 applies to insults */
    assert_int_equal(rgt_verdict(&C, "threatchild", "moron"), RG_BLOCK);
    expect_reason("toxicity.insult", "block", "toxicity", "threatchild", 0.65, 0.52);
}

static void test_child_specific_field_shadows_generic(void **state)
{
    (void)state;
    /* threatchild: toxicity.threat.handoff 0.45 shadows toxicity.handoff 0.3 */
    assert_int_equal(rgt_verdict(&C, "threatchild", "watch out"), RG_ALLOW);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    /* insults still use toxicity.handoff 0.3 */
    assert_int_equal(rgt_verdict(&C, "threatchild", "idiot"), RG_HANDOFF);
    expect_reason("toxicity.insult", "handoff", "toxicity", "default", 0.4, 0.3);
}

static void test_off_disables_inherited_threshold(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, "nooff", "you idiot"), RG_ALLOW);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    const rg_category_score *cs = rgt_cat(C.r, "toxicity.insult");
    assert_non_null(cs);
    RGT_NEAR(cs->score, 0.4);
    assert_int_equal(cs->verdict, RG_ALLOW);
    assert_int_equal(rgt_verdict(&C, "nooff", "you moron"), RG_ALLOW);
    assert_int_equal(rgt_verdict(&C, "nooff", "watch out"), RG_ALLOW);
    /* block is still inherited */
    assert_int_equal(rgt_verdict(&C, "nooff", "you scum"), RG_BLOCK);
    expect_reason("toxicity.insult", "block", "toxicity", "default", 0.9, 0.8);
}

static void test_off_on_specific_key_does_not_fall_back(void **state)
{
    (void)state;
    /* toxicity.insult.handoff is off: the generic toxicity.handoff 0.3 must
     * not be used instead */
    assert_int_equal(rgt_verdict(&C, "offspecific", "you idiot"), RG_ALLOW);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    /* threats are unaffected */
    assert_int_equal(rgt_verdict(&C, "offspecific", "watch out"), RG_HANDOFF);
    expect_reason("toxicity.threat", "handoff", "toxicity", "default", 0.4, 0.3);
}

static void test_max_bytes_and_oversize_inherited(void **state)
{
    (void)state;
    char text[151];
    memset(text, 'a', 150);
    for (int i = 5; i < 150; i += 6)
        text[i] = ' ';
    text[150] = 0;
    assert_int_equal(rgt_verdict(&C, "default", text), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    /* child sets neither max_bytes nor on_oversize */
    assert_int_equal(rgt_verdict(&C, "child", text), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    /* grandchild overrides on_oversize, inherits max_bytes 100 */
    assert_int_equal(rgt_verdict(&C, "grandchild", text), RG_HANDOFF);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    /* big overrides max_bytes */
    assert_int_equal(rgt_verdict(&C, "big", text), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), 0);
    /* exactly max_bytes is not oversize */
    text[100] = 0;
    assert_int_equal(rgt_verdict(&C, "child", text), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), 0);
}

static void test_mask_inherited_and_overridden(void **state)
{
    (void)state;
    size_t len = 0;
    const char *red;
    assert_int_equal(rgt_verdict(&C, "child", "mail bob@example.com now"), RG_ALLOW);
    red = rg_result_redacted(C.r, &len);
    assert_non_null(red);
    assert_int_equal(len, strlen("mail [X] now"));
    assert_memory_equal(red, "mail [X] now", len);
    assert_int_equal(rgt_verdict(&C, "nomoremask", "mail bob@example.com now"), RG_ALLOW);
    red = rg_result_redacted(C.r, &len);
    assert_non_null(red);
    assert_int_equal(len, strlen("mail <email> now"));
    assert_memory_equal(red, "mail <email> now", len);
    /* the redact threshold itself is inherited from default */
    const rg_reason *x = rgt_reason(C.r, "pii.email", "redact");
    assert_non_null(x);
    RGT_STR(x->rule, "pii.email");
    RGT_STR(x->route, "default");
    RGT_NEAR(x->threshold, 0.5);
}

static void test_off_disables_inherited_redact(void **state)
{
    (void)state;
    /* noredact extends child extends default; pii.email redact: off */
    assert_int_equal(rgt_verdict(&C, "noredact", "mail bob@example.com now"), RG_ALLOW);
    assert_null(rg_result_redacted(C.r, NULL));
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    const rg_category_score *cs = rgt_cat(C.r, "pii.email");
    assert_non_null(cs);
    assert_int_equal(cs->redact, 0);
    /* its other fields still come through the chain */
    assert_int_equal(rgt_verdict(&C, "noredact", "you moron"), RG_BLOCK);
    expect_reason("toxicity.insult", "block", "toxicity", "child", 0.65, 0.6);
}

static void test_route_count_and_names(void **state)
{
    (void)state;
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(C.e, &info), RG_OK);
    assert_int_equal(info.route_count, 9);
    static const char *const names[] = {"big",        "child",    "default",
                                        "grandchild", "nomoremask", "nooff",
                                        "noredact",   "offspecific", "threatchild"};
    char buf[64];
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(rg_engine_route_name(C.e, i, buf, sizeof buf), RG_OK);
        assert_string_equal(buf, names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parent_baseline),
        cmocka_unit_test(test_child_overrides_one_field),
        cmocka_unit_test(test_grandchild_inherits_through_chain),
        cmocka_unit_test(test_most_specific_key_per_field),
        cmocka_unit_test(test_specific_parent_key_beats_generic_child_key),
        cmocka_unit_test(test_child_specific_field_shadows_generic),
        cmocka_unit_test(test_off_disables_inherited_threshold),
        cmocka_unit_test(test_off_on_specific_key_does_not_fall_back),
        cmocka_unit_test(test_max_bytes_and_oversize_inherited),
        cmocka_unit_test(test_mask_inherited_and_overridden),
        cmocka_unit_test(test_off_disables_inherited_redact),
        cmocka_unit_test(test_route_count_and_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
