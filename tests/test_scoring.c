/* test_scoring.c — hit scores, noisy-OR per category, max per detector,
 * threshold boundaries, most severe action, reasons.
 * Fixture: tests/policies/scoring (see its policy.yaml for the numbers). */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/scoring");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

static const rg_category_score *cat(const char *name)
{
    const rg_category_score *c = rgt_cat(C.r, name);
    if (!c)
        rgt_dump(C.r);
    assert_non_null(c);
    return c;
}

static void test_threshold_equal_crosses(void **state)
{
    (void)state;
    /* pest scores 0.5; default's toxicity.harassment handoff is 0.5 */
    assert_int_equal(rgt_verdict(&C, NULL, "you pest"), RG_HANDOFF);
    RGT_NEAR(cat("toxicity.harassment")->score, 0.5);
    assert_int_equal(rg_result_reason_count(C.r), 1);
    const rg_reason *x = rg_result_reason(C.r, 0);
    assert_non_null(x);
    RGT_STR(x->category, "toxicity.harassment");
    RGT_STR(x->rule, "toxicity.harassment");
    RGT_STR(x->route, "default");
    RGT_STR(x->action, "handoff");
    assert_true(x->score == 0.5);
    assert_true(x->threshold == 0.5);
}

static void test_threshold_just_above_does_not_cross(void **state)
{
    (void)state;
    /* route `above`: handoff 0.5000001 */
    assert_int_equal(rgt_verdict(&C, "above", "you pest"), RG_ALLOW);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    const rg_category_score *c = cat("toxicity.harassment");
    RGT_NEAR(c->score, 0.5);
    assert_int_equal(c->verdict, RG_ALLOW);
}

static void test_block_threshold_equal_on_prefix_rule(void **state)
{
    (void)state;
    /* smut 0.7, toxicity.block 0.7 */
    assert_int_equal(rgt_verdict(&C, NULL, "smut"), RG_BLOCK);
    assert_int_equal(rg_result_reason_count(C.r), 1);
    const rg_reason *x = rgt_reason(C.r, "toxicity.sexual", "block");
    assert_non_null(x);
    RGT_STR(x->rule, "toxicity");
    RGT_STR(x->route, "default");
    RGT_NEAR(x->score, 0.7);
    RGT_NEAR(x->threshold, 0.7);
}

static void test_single_weak_detectors(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "what a dolt"), RG_ALLOW);
    RGT_NEAR(cat("toxicity.insult")->score, 0.3);
    assert_int_equal(rgt_verdict(&C, NULL, "what a twit"), RG_ALLOW);
    RGT_NEAR(cat("toxicity.insult")->score, 0.4);
}

static void test_noisy_or_two_detectors(void **state)
{
    (void)state;
    /* 1 - (1-0.3)(1-0.4) = 0.58: above handoff 0.55 (max would be 0.4),
     * below block 0.6 (a sum would be 0.7) */
    assert_int_equal(rgt_verdict(&C, NULL, "a dolt and a twit"), RG_HANDOFF);
    const rg_category_score *c = cat("toxicity.insult");
    RGT_NEAR(c->score, 1.0 - (1.0 - 0.3) * (1.0 - 0.4));
    RGT_NEAR(c->score, 0.58);
    assert_int_equal(c->verdict, RG_HANDOFF);
    assert_int_equal(rg_result_category_count(C.r), 1);
    assert_int_equal(rg_result_hit_count(C.r), 2);
    RGT_SPAN(rgt_hit(C.r, "a.weak", 0), 2, 6);
    RGT_SPAN(rgt_hit(C.r, "b.weak", 0), 13, 17);
    RGT_NEAR(rgt_hit(C.r, "a.weak", 0)->score, 0.3);
    RGT_NEAR(rgt_hit(C.r, "b.weak", 0)->score, 0.4);
    const rg_reason *x = rgt_reason(C.r, "toxicity.insult", "handoff");
    assert_non_null(x);
    RGT_STR(x->rule, "toxicity.insult");
    RGT_NEAR(x->score, 0.58);
    RGT_NEAR(x->threshold, 0.55);
    assert_null(rgt_reason(C.r, "toxicity.insult", "block"));
}

static void test_repeated_detector_counts_once(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "twit twit twit twit"), RG_ALLOW);
    RGT_NEAR(cat("toxicity.insult")->score, 0.4);
    assert_int_equal(rgt_hits_of(C.r, "b.weak"), 4);
    RGT_SPAN(rgt_hit(C.r, "b.weak", 0), 0, 4);
    RGT_SPAN(rgt_hit(C.r, "b.weak", 3), 15, 19);
    /* repeats plus the other detector: still 0.58 */
    assert_int_equal(rgt_verdict(&C, NULL, "twit dolt twit dolt"), RG_HANDOFF);
    RGT_NEAR(cat("toxicity.insult")->score, 0.58);
}

static void test_lexicon_line_scores(void **state)
{
    (void)state;
    /* darn has its own score 0.2; heck uses the detector's 0.35 */
    assert_int_equal(rgt_verdict(&C, NULL, "darn"), RG_ALLOW);
    RGT_NEAR(rgt_hit(C.r, "e.lex", 0)->score, 0.2);
    RGT_NEAR(cat("toxicity.profanity")->score, 0.2);
    assert_int_equal(rgt_verdict(&C, NULL, "heck"), RG_HANDOFF);
    RGT_NEAR(rgt_hit(C.r, "e.lex", 0)->score, 0.35);
    /* one detector: the maximum (0.35), not noisy-OR (0.48) */
    assert_int_equal(rgt_verdict(&C, NULL, "darn, heck"), RG_HANDOFF);
    RGT_NEAR(cat("toxicity.profanity")->score, 0.35);
    const rg_reason *x = rgt_reason(C.r, "toxicity.profanity", "handoff");
    assert_non_null(x);
    RGT_NEAR(x->score, 0.35);
    RGT_NEAR(x->threshold, 0.3);
}

static void test_multiword_lexicon_term_score(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "oh gosh darn it"), RG_HANDOFF);
    const rg_hit *h = NULL;
    for (size_t i = 0; i < rgt_hits_of(C.r, "e.lex"); i++) {
        const rg_hit *k = rgt_hit(C.r, "e.lex", i);
        if (k->start == 3 && k->end == 15)
            h = k;
    }
    if (!h)
        rgt_dump(C.r);
    assert_non_null(h);
    RGT_NEAR(h->score, 0.6);
    RGT_NEAR(cat("toxicity.profanity")->score, 0.6);
}

static void test_most_severe_action_wins(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "pest, I will destroy you"), RG_BLOCK);
    assert_int_equal(rg_result_category_count(C.r), 2);
    assert_int_equal(cat("toxicity.harassment")->verdict, RG_HANDOFF);
    assert_int_equal(cat("toxicity.threat")->verdict, RG_BLOCK);
    RGT_NEAR(cat("toxicity.threat")->score, 0.9);
    assert_int_equal(rg_result_reason_count(C.r), 2);
    const rg_reason *b = rgt_reason(C.r, "toxicity.threat", "block");
    assert_non_null(b);
    RGT_STR(b->rule, "toxicity.threat");
    RGT_NEAR(b->threshold, 0.8);
    const rg_reason *h = rgt_reason(C.r, "toxicity.harassment", "handoff");
    assert_non_null(h);
    RGT_NEAR(h->threshold, 0.5);
    /* order of categories in the text does not matter */
    assert_int_equal(rgt_verdict(&C, NULL, "I will destroy you, pest"), RG_BLOCK);
}

static void test_categories_are_separate(void **state)
{
    (void)state;
    /* dolt (insult 0.3) + pest (harassment 0.5): never combined */
    assert_int_equal(rgt_verdict(&C, NULL, "dolt pest"), RG_HANDOFF);
    RGT_NEAR(cat("toxicity.insult")->score, 0.3);
    RGT_NEAR(cat("toxicity.harassment")->score, 0.5);
    assert_int_equal(cat("toxicity.insult")->verdict, RG_ALLOW);
    assert_null(rgt_reason(C.r, "toxicity.insult", "handoff"));
}

static void test_reason_names_inherited_route(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, "kid", "I will destroy you"), RG_BLOCK);
    RGT_STR(rg_result_route(C.r), "kid");
    const rg_reason *x = rgt_reason(C.r, "toxicity.threat", "block");
    assert_non_null(x);
    RGT_STR(x->route, "default");
    RGT_STR(x->rule, "toxicity.threat");
}

static void test_subcategory_uses_prefix_rule(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "DNI 12345678Z on file"), RG_HANDOFF);
    const rg_category_score *c = cat("pii.national_id.es_dni");
    RGT_NEAR(c->score, 0.9);
    RGT_SPAN(rgt_hit(C.r, "g.dni", 0), 4, 13);
    RGT_STR(rgt_hit(C.r, "g.dni", 0)->category, "pii.national_id.es_dni");
    const rg_reason *x = rgt_reason(C.r, "pii.national_id.es_dni", "handoff");
    assert_non_null(x);
    RGT_STR(x->rule, "pii.national_id");
    RGT_NEAR(x->threshold, 0.5);
}

static void test_category_without_rule_is_reported_but_allowed(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "We offer guaranteed returns."), RG_ALLOW);
    const rg_category_score *c = cat("compliance.prohibited");
    RGT_NEAR(c->score, 0.9);
    assert_int_equal(c->verdict, RG_ALLOW);
    assert_int_equal(c->redact, 0);
    assert_int_equal(rg_result_reason_count(C.r), 0);
    assert_int_equal(rg_result_flags(C.r), 0);
}

static void test_clean_text_has_no_categories(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Thanks for waiting, your refund is on its way."),
                     RG_ALLOW);
    assert_int_equal(rg_result_category_count(C.r), 0);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rg_result_reason_count(C.r), 0);
}

static void test_scores_in_unit_range(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL,
                                 "dolt twit pest smut darn heck destroy you 12345678Z "
                                 "guaranteed returns gosh darn it"),
                     RG_BLOCK);
    for (size_t i = 0; i < rg_result_category_count(C.r); i++) {
        const rg_category_score *c = rg_result_category(C.r, i);
        assert_true(c->score > 0.0 && c->score <= 1.0);
    }
    for (size_t i = 0; i < rg_result_hit_count(C.r); i++) {
        const rg_hit *h = rg_result_hit(C.r, i);
        assert_true(h->score > 0.0 && h->score <= 1.0);
        assert_true(h->start < h->end);
    }
    assert_int_equal(rg_result_category_count(C.r), 7);
}

/* More hits than RG_MAX_HITS: the result keeps RG_MAX_HITS, flags
 * RG_FLAG_HITS_TRUNCATED, and the scores still count every hit. */
static void test_hits_truncated_scores_count_all(void **state)
{
    (void)state;
    size_t n = 2000;
    char *text = malloc(n * 5 + 8);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        memcpy(text + 5 * i, "twit ", 5);
    memcpy(text + 5 * n, "dolt", 5); /* the other detector comes last */
    assert_int_equal(rgt_check(&C, NULL, text), RG_OK);
    assert_int_equal(rg_result_hit_count(C.r), RG_MAX_HITS);
    assert_true(rg_result_flags(C.r) & RG_FLAG_HITS_TRUNCATED);
    assert_int_equal(rg_result_flags(C.r) & RG_FLAG_FAILSAFE, 0);
    RGT_NEAR(cat("toxicity.insult")->score, 0.58);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_null(rg_result_hit(C.r, RG_MAX_HITS));
    /* exactly RG_MAX_HITS hits are not truncated */
    text[5 * RG_MAX_HITS - 1] = 0;
    assert_int_equal(rgt_check(&C, NULL, text), RG_OK);
    assert_int_equal(rg_result_hit_count(C.r), RG_MAX_HITS);
    assert_int_equal(rg_result_flags(C.r) & RG_FLAG_HITS_TRUNCATED, 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_equal_crosses),
        cmocka_unit_test(test_threshold_just_above_does_not_cross),
        cmocka_unit_test(test_block_threshold_equal_on_prefix_rule),
        cmocka_unit_test(test_single_weak_detectors),
        cmocka_unit_test(test_noisy_or_two_detectors),
        cmocka_unit_test(test_repeated_detector_counts_once),
        cmocka_unit_test(test_lexicon_line_scores),
        cmocka_unit_test(test_multiword_lexicon_term_score),
        cmocka_unit_test(test_most_severe_action_wins),
        cmocka_unit_test(test_categories_are_separate),
        cmocka_unit_test(test_reason_names_inherited_route),
        cmocka_unit_test(test_subcategory_uses_prefix_rule),
        cmocka_unit_test(test_category_without_rule_is_reported_but_allowed),
        cmocka_unit_test(test_clean_text_has_no_categories),
        cmocka_unit_test(test_scores_in_unit_range),
        cmocka_unit_test(test_hits_truncated_scores_count_all),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
