/* test_shadow.c — shadow mode (`mode: shadow` on detectors and routes)
 * and the threshold / category introspection the authoring tools use.
 * Fixture: tests/policies/shadow (see its comments). */
#include "testutil.h"

static void test_shadow_detector_reported_not_enforced(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/shadow");
    /* "nitwit" is only in the shadow detector: the verdict stays allow. */
    assert_int_equal(rgt_verdict(&c, NULL, "you nitwit"), RG_ALLOW);
    unsigned f = rg_result_flags(c.r);
    assert_true(f & RG_FLAG_SHADOW);
    assert_int_equal(rg_result_shadow_verdict(c.r), RG_BLOCK);
    const rg_hit *h = rgt_hit(c.r, "new.rude", 0);
    RGT_SPAN(h, 4, 10);
    assert_int_equal(h->shadow, 1);
    const rg_category_score *cs = rgt_cat(c.r, "toxicity.insult");
    assert_non_null(cs);
    RGT_NEAR(cs->score, 0.0);
    RGT_NEAR(cs->shadow_score, 0.9);
    assert_int_equal(cs->verdict, RG_ALLOW);
    /* Both crossings are listed, as shadow reasons only. */
    size_t n = rg_result_reason_count(c.r), shadow = 0;
    for (size_t i = 0; i < n; i++) {
        const rg_reason *r = rg_result_reason(c.r, i);
        assert_int_equal(r->shadow, 1);
        RGT_STR(r->category, "toxicity.insult");
        RGT_STR(r->route, "default");
        shadow++;
    }
    assert_int_equal(shadow, 2);
    rgt_close(&c);
}

static void test_no_shadow_hit_no_shadow_flag(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/shadow");
    assert_int_equal(rgt_verdict(&c, NULL, "darn it"), RG_HANDOFF);
    assert_false(rg_result_flags(c.r) & RG_FLAG_SHADOW);
    assert_int_equal(rg_result_shadow_verdict(c.r), RG_HANDOFF);
    const rg_category_score *cs = rgt_cat(c.r, "toxicity.profanity");
    assert_non_null(cs);
    RGT_NEAR(cs->shadow_score, cs->score);
    assert_int_equal(rgt_hit(c.r, "mild", 0)->shadow, 0);
    for (size_t i = 0; i < rg_result_reason_count(c.r); i++)
        assert_int_equal(rg_result_reason(c.r, i)->shadow, 0);
    rgt_close(&c);
}

static void test_shadow_detector_never_redacts(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/shadow");
    const char *text = "card 1234 5678 9012 3456 and 1234567890123456";
    assert_int_equal(rgt_verdict(&c, NULL, text), RG_ALLOW);
    size_t len;
    const char *red = rg_result_redacted(c.r, &len);
    /* The enforcing detector's span is masked, the shadow one's is not. */
    RGT_STR(red, "card 1234 5678 9012 3456 and [card]");
    assert_int_equal(rgt_hits_of(c.r, "card.spaced"), 1);
    assert_int_equal(rgt_hit(c.r, "card.spaced", 0)->shadow, 1);
    const rg_category_score *cs = rgt_cat(c.r, "pii.payment_card");
    RGT_NEAR(cs->score, 0.95);
    RGT_NEAR(cs->shadow_score, 1 - 0.05 * 0.05); /* noisy-OR of both */
    /* The enforced redact reason and the shadow one (higher score). */
    const rg_reason *r0 = NULL, *r1 = NULL;
    for (size_t i = 0; i < rg_result_reason_count(c.r); i++) {
        const rg_reason *r = rg_result_reason(c.r, i);
        if (r->shadow)
            r1 = r;
        else
            r0 = r;
    }
    assert_non_null(r0);
    assert_non_null(r1);
    RGT_NEAR(r0->score, 0.95);
    RGT_NEAR(r1->score, 0.9975);
    RGT_STR(r1->action, "redact");
    /* Only the shadow detector: nothing masked at all. */
    assert_int_equal(rgt_verdict(&c, NULL, "card 1234 5678 9012 3456"), RG_ALLOW);
    assert_null(rg_result_redacted(c.r, NULL));
    assert_true(rg_result_flags(c.r) & RG_FLAG_SHADOW);
    assert_false(rg_result_flags(c.r) & RG_FLAG_REDACTED);
    rgt_close(&c);
}

static void test_shadow_route_enforces_parent(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/shadow");
    /* strict: block at 0.4 in shadow; default's handoff 0.4 enforced. */
    assert_int_equal(rgt_verdict(&c, "strict", "darn it"), RG_HANDOFF);
    RGT_STR(rg_result_route(c.r), "strict");
    assert_true(rg_result_flags(c.r) & RG_FLAG_SHADOW);
    assert_int_equal(rg_result_shadow_verdict(c.r), RG_BLOCK);
    const rg_reason *enf = NULL, *sh = NULL;
    for (size_t i = 0; i < rg_result_reason_count(c.r); i++) {
        const rg_reason *r = rg_result_reason(c.r, i);
        if (r->shadow)
            sh = r;
        else
            enf = r;
    }
    assert_non_null(enf);
    RGT_STR(enf->action, "handoff");
    RGT_STR(enf->route, "default");
    assert_non_null(sh);
    RGT_STR(sh->action, "block");
    RGT_STR(sh->route, "strict");
    RGT_NEAR(sh->threshold, 0.4);
    /* A shadow route with nothing to report still says it is shadow. */
    assert_int_equal(rgt_verdict(&c, "strict", "hello"), RG_ALLOW);
    assert_true(rg_result_flags(c.r) & RG_FLAG_SHADOW);
    assert_int_equal(rg_result_shadow_verdict(c.r), RG_ALLOW);
    rgt_close(&c);
}

static void test_shadow_verdict_accessor_null_and_fresh(void **state)
{
    (void)state;
    assert_int_equal(rg_result_shadow_verdict(NULL), RG_HANDOFF);
    rg_result *r;
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    assert_int_equal(rg_result_shadow_verdict(r), RG_HANDOFF);
    rg_result_free(r);
}

static void test_threshold_introspection(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/shadow");
    rg_threshold t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    /* Inherited: strict enforces default's block 0.8 for toxicity. */
    assert_int_equal(rg_engine_threshold(c.e, "strict", "toxicity.profanity",
                                         RG_ACTION_BLOCK, 0, &t), RG_OK);
    RGT_NEAR(t.value, 0.8);
    RGT_STR(t.rule, "toxicity");
    RGT_STR(t.route, "default");
    /* ... and evaluates its own 0.4 in shadow. */
    assert_int_equal(rg_engine_threshold(c.e, "strict", "toxicity.profanity",
                                         RG_ACTION_BLOCK, RG_THRESHOLD_SHADOW, &t),
                     RG_OK);
    RGT_NEAR(t.value, 0.4);
    RGT_STR(t.route, "strict");
    /* Not set at all: -1 and empty names. */
    assert_int_equal(rg_engine_threshold(c.e, NULL, "toxicity.profanity",
                                         RG_ACTION_REDACT, 0, &t), RG_OK);
    RGT_NEAR(t.value, -1);
    RGT_STR(t.rule, "");
    RGT_STR(t.route, "");
    /* Errors. */
    assert_int_equal(rg_engine_threshold(c.e, "nope", "toxicity.profanity",
                                         RG_ACTION_BLOCK, 0, &t), RG_E_NOROUTE);
    assert_int_equal(rg_engine_threshold(c.e, NULL, "pii.iban",
                                         RG_ACTION_BLOCK, 0, &t), RG_E_RANGE);
    assert_int_equal(rg_engine_threshold(c.e, NULL, "toxicity.profanity", 3, 0, &t),
                     RG_E_INVAL);
    assert_int_equal(rg_engine_threshold(c.e, NULL, "toxicity.profanity",
                                         RG_ACTION_BLOCK, 8, &t), RG_E_INVAL);
    assert_int_equal(rg_engine_threshold(NULL, NULL, "x", 0, 0, &t), RG_E_INVAL);
    t.struct_size = 4;
    assert_int_equal(rg_engine_threshold(c.e, NULL, "toxicity.profanity",
                                         RG_ACTION_BLOCK, 0, &t), RG_E_INVAL);
    rgt_close(&c);
}

static void test_category_introspection(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/shadow");
    unsigned both = RG_CATEGORY_KNOWN | RG_CATEGORY_SCORED;
    assert_int_equal(rg_engine_category(c.e, "toxicity.profanity"), both);
    assert_int_equal(rg_engine_category(c.e, "toxicity"), both);
    assert_int_equal(rg_engine_category(c.e, "pii"), both);
    assert_int_equal(rg_engine_category(c.e, "pii.iban"), RG_CATEGORY_KNOWN);
    assert_int_equal(rg_engine_category(c.e, "pii.phon"), 0);
    assert_int_equal(rg_engine_category(c.e, "toxic"), 0); /* not at a dot */
    assert_int_equal(rg_engine_category(c.e, ""), 0);
    assert_int_equal(rg_engine_category(c.e, NULL), 0);
    assert_int_equal(rg_engine_category(NULL, "pii"), 0);
    rgt_close(&c);
    /* Declared sub-categories count as known (scoring declares
     * pii.national_id.es_dni). */
    rgt_open(&c, "policies/scoring");
    assert_true(rg_engine_category(c.e, "pii.national_id.es_dni") & RG_CATEGORY_KNOWN);
    assert_int_equal(rg_engine_category(c.e, "pii.national_id.fr_nir"), 0);
    rgt_close(&c);
}

static void test_mode_is_validated(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    rgt_write(dir, "p.yaml",
              "detectors:\n"
              "  - id: a\n"
              "    category: toxicity.insult\n"
              "    words: [x]\n"
              "    score: 0.5\n"
              "    mode: quiet\n"
              "routes:\n"
              "  default:\n"
              "    mode: true\n");
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_open(&e, dir, NULL, &d), RG_E_POLICY);
    assert_non_null(d);
    size_t found = 0;
    for (size_t i = 0; i < d->count; i++)
        if (strstr(d->entries[i].message, "'mode' must be one of: enforce, shadow")) {
            found++;
            assert_true(d->entries[i].line == 6 || d->entries[i].line == 9);
        }
    assert_int_equal(found, 2);
    rg_diag_free(d);
    rgt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shadow_detector_reported_not_enforced),
        cmocka_unit_test(test_no_shadow_hit_no_shadow_flag),
        cmocka_unit_test(test_shadow_detector_never_redacts),
        cmocka_unit_test(test_shadow_route_enforces_parent),
        cmocka_unit_test(test_shadow_verdict_accessor_null_and_fresh),
        cmocka_unit_test(test_threshold_introspection),
        cmocka_unit_test(test_category_introspection),
        cmocka_unit_test(test_mode_is_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
