/* test_patterns.c — regex and pcre detectors: caseless, the raw and the
 * normalized view (spans mapped back to the original bytes), PCRE2-only
 * constructs, and regexes Hyperscan rejects (prefilter + PCRE2).
 * Fixture: tests/policies/patterns. */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/patterns");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

static void only_hit(const char *text, const char *det, size_t s, size_t e)
{
    rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 1 || !rgt_hit(C.r, det, 0)) {
        fprintf(stderr, "expected one %s hit in \"%s\"\n", det, text);
        rgt_dump(C.r);
    }
    assert_int_equal(rg_result_hit_count(C.r), 1);
    RGT_SPAN(rgt_hit(C.r, det, 0), s, e);
}

static void no_hit(const char *text)
{
    rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 0)
        rgt_dump(C.r);
    assert_int_equal(rg_result_hit_count(C.r), 0);
}

static void test_caseless_regex(void **state)
{
    (void)state;
    only_hit("token tok_ab12cd34 here", "p.caseless", 6, 18);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    only_hit("TOK_AB12CD34", "p.caseless", 0, 12);
}

static void test_case_sensitive_regex(void **state)
{
    (void)state;
    only_hit("use PW-ABCD now", "p.cased", 4, 11);
    no_hit("use pw-abcd now");
    no_hit("use Pw-Abcd now");
}

static void test_pcre_lookbehind_span(void **state)
{
    (void)state;
    /* the span is the key only, not the "key=" the lookbehind needs */
    only_hit("url?key=AbCdEfGh1234 ok", "p.lookbehind", 8, 20);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    no_hit("url?kez=AbCdEfGh1234 ok");
}

static void test_backreference_prefilter(void **state)
{
    (void)state;
    only_hit("it is is fine", "p.backref", 3, 8);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    no_hit("it is fine");
    no_hit("this is island");
}

static void test_regex_on_normalized_view(void **state)
{
    (void)state;
    /* case-folded and whitespace-collapsed; span in original bytes */
    only_hit("Please, SPEAK  To\tA Human now", "p.norm", 8, 25);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    /* accents stripped: "spéak" */
    only_hit("sp\xc3\xa9" "ak to a human", "p.norm", 0, 17);
}

static void test_regex_raw_view_is_not_folded(void **state)
{
    (void)state;
    only_hit("A Refund is due", "p.raw", 2, 8);
    no_hit("a refund is due");
    no_hit("a REFUND is due");
}

static void test_several_detectors_one_text(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Refund: tok_00000000, PW-WXYZ, the the end"),
                     RG_BLOCK);
    assert_int_equal(rg_result_hit_count(C.r), 4);
    RGT_SPAN(rgt_hit(C.r, "p.raw", 0), 0, 6);
    RGT_SPAN(rgt_hit(C.r, "p.caseless", 0), 8, 20);
    RGT_SPAN(rgt_hit(C.r, "p.cased", 0), 22, 29);
    RGT_SPAN(rgt_hit(C.r, "p.backref", 0), 31, 38);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caseless_regex),
        cmocka_unit_test(test_case_sensitive_regex),
        cmocka_unit_test(test_pcre_lookbehind_span),
        cmocka_unit_test(test_backreference_prefilter),
        cmocka_unit_test(test_regex_on_normalized_view),
        cmocka_unit_test(test_regex_raw_view_is_not_folded),
        cmocka_unit_test(test_several_detectors_one_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
