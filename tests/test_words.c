/* test_words.c — whole-word matching on the normalized view: no hits
 * inside longer words, hits at the edges of the text and next to
 * punctuation, case and accent folding, multi-word terms, allow lists.
 * Fixture: tests/policies/words. */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/words");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

/* Check `text` and assert it has no hit at all (and verdict allow). */
static void no_hit(const char *text)
{
    rg_verdict v = rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 0) {
        fprintf(stderr, "unexpected hit in \"%s\"\n", text);
        rgt_dump(C.r);
    }
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(v, RG_ALLOW);
}

/* Check `text` and assert exactly one hit, of `det`, at [s, e). */
static void one_hit(const char *text, const char *det, size_t s, size_t e)
{
    rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 1) {
        fprintf(stderr, "expected one hit in \"%s\"\n", text);
        rgt_dump(C.r);
    }
    assert_int_equal(rg_result_hit_count(C.r), 1);
    const rg_hit *h = rg_result_hit(C.r, 0);
    RGT_STR(h->detector, det);
    RGT_SPAN(h, s, e);
}

static void test_ass_not_inside_words(void **state)
{
    (void)state;
    no_hit("Welcome to the class.");
    no_hit("The assassin was never caught.");
    no_hit("Each passenger may bring one bag.");
    no_hit("Please make an assessment; we will reassess it.");
    no_hit("Bass, brass and glass.");
}

static void test_cunt_not_in_scunthorpe(void **state)
{
    (void)state;
    no_hit("We deliver to Scunthorpe on Mondays.");
    no_hit("SCUNTHORPE");
}

static void test_cock_not_in_cocktail(void **state)
{
    (void)state;
    no_hit("The cocktail bar opens at six.");
    no_hit("Peacock feathers, a shuttlecock and a cockpit.");
}

static void test_hit_whole_text(void **state)
{
    (void)state;
    one_hit("ass", "w.prof", 0, 3);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    one_hit("damn", "w.prof", 0, 4);
}

static void test_hit_at_start_and_end(void **state)
{
    (void)state;
    one_hit("damn it all", "w.prof", 0, 4);
    one_hit("it is a cock", "w.prof", 8, 12);
}

static void test_hit_next_to_punctuation(void **state)
{
    (void)state;
    one_hit("Well, damn!", "w.prof", 6, 10);
    one_hit("(damn)", "w.prof", 1, 5);
    one_hit("\"damn\"", "w.prof", 1, 5);
    one_hit("oh...damn.", "w.prof", 5, 9);
    one_hit("damn,", "w.prof", 0, 4);
    one_hit("line one\ndamn\nline three", "w.prof", 9, 13);
}

static void test_case_insensitive(void **state)
{
    (void)state;
    one_hit("DAMN", "w.prof", 0, 4);
    one_hit("Oh DaMn it", "w.prof", 3, 7);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
}

static void test_accents_and_compat_folded(void **state)
{
    (void)state;
    /* "dámn": á is two bytes; the span covers the original bytes */
    one_hit("oh d\xc3\xa1mn", "w.prof", 3, 8);
    /* fullwidth ＤＡＭＮ (3 bytes each) folds to damn */
    one_hit("\xef\xbc\xa4\xef\xbc\xa1\xef\xbc\xad\xef\xbc\xae!", "w.prof", 0, 12);
}

static void test_no_hit_in_longer_word(void **state)
{
    (void)state;
    no_hit("The damned river");
    no_hit("Condamn is not a word, nor is damnation here");
}

static void test_multiword_term(void **state)
{
    (void)state;
    one_hit("Just kill yourself.", "w.selfharm", 5, 18);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    /* whitespace runs collapse: the span covers the original bytes */
    one_hit("kill   yourself", "w.selfharm", 0, 15);
    one_hit("KILL\tYourself", "w.selfharm", 0, 13);
    one_hit("I will not end it all today", "w.selfharm", 11, 21);
    no_hit("skill yourself up");
    no_hit("kill yourselfish");
    no_hit("kill");
}

static void test_several_hits_in_order(void **state)
{
    (void)state;
    rgt_verdict(&C, NULL, "damn, damn ass");
    assert_int_equal(rgt_hits_of(C.r, "w.prof"), 3);
    RGT_SPAN(rgt_hit(C.r, "w.prof", 0), 0, 4);
    RGT_SPAN(rgt_hit(C.r, "w.prof", 1), 6, 10);
    RGT_SPAN(rgt_hit(C.r, "w.prof", 2), 11, 14);
    const rg_category_score *c = rgt_cat(C.r, "toxicity.profanity");
    assert_non_null(c);
    RGT_NEAR(c->score, 0.9);
}

static void test_allow_list(void **state)
{
    (void)state;
    one_hit("that dick", "w.allow", 5, 9);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    no_hit("I am reading Moby Dick again.");
    no_hit("MOBY  DICK");
    /* the allow term only excuses the hit it covers */
    one_hit("Moby Dick is long, dick", "w.allow", 19, 23);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ass_not_inside_words),
        cmocka_unit_test(test_cunt_not_in_scunthorpe),
        cmocka_unit_test(test_cock_not_in_cocktail),
        cmocka_unit_test(test_hit_whole_text),
        cmocka_unit_test(test_hit_at_start_and_end),
        cmocka_unit_test(test_hit_next_to_punctuation),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_accents_and_compat_folded),
        cmocka_unit_test(test_no_hit_in_longer_word),
        cmocka_unit_test(test_multiword_term),
        cmocka_unit_test(test_several_hits_in_order),
        cmocka_unit_test(test_allow_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
