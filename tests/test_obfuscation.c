/* test_obfuscation.c — spelling tricks are caught through the compacted
 * view and look-alike folding, with exact original spans, and ordinary
 * text never matches through them. Fixture: tests/policies/obfuscation. */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/obfuscation");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

/* The reply blocks and o.prof's first hit is exactly [s, e). */
static void caught(const char *text, size_t s, size_t e)
{
    assert_int_equal(rgt_verdict(&C, NULL, text), RG_BLOCK);
    const rg_hit *h = rgt_hit(C.r, "o.prof", 0);
    if (!h)
        rgt_dump(C.r);
    RGT_SPAN(h, s, e);
}

static void test_spaced_letters(void **state)
{
    (void)state;
    caught("well f u c k that", 5, 12);
    caught("f.u.c.k", 0, 7);
    caught("what the f-u-c-k", 9, 16);
    caught("f_u_c_k off", 0, 7);
    caught("you a s s", 4, 9);
}

static void test_leet_and_symbols(void **state)
{
    (void)state;
    caught("sh1t happens", 0, 4);
    caught("what a $hit show", 7, 11);
    caught("kiss my @ss", 8, 11);
    caught("such a b!tch", 7, 12);
    caught("you a55hole", 4, 11);
}

static void test_elongation(void **state)
{
    (void)state;
    caught("fuuuuuck", 0, 8);
    caught("oh shiiiiit!", 3, 11);
    caught("fuckkkk", 0, 7); /* the span covers the whole run */
    caught("kill yourseeeelf", 0, 16);
}

static void test_lookalikes(void **state)
{
    (void)state;
    /* Cyrillic es (U+0441, 2 bytes) and Cyrillic a (U+0430) */
    caught("the fu\xd1\x81k", 4, 9);
    caught("\xd0\xb0sshole", 0, 8);
    /* Greek iota inside a Latin word */
    caught("sh\xce\xb9t? no", 0, 5);
}

static void test_plain_text_never_matches_through_compaction(void **state)
{
    (void)state;
    /* "ass" compacts to "as", but plain "as" is not obfuscated */
    assert_int_equal(rgt_verdict(&C, NULL, "as far as I know, it was passed"), RG_ALLOW);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    /* a product code keeps its digits: one letter is not a word */
    assert_int_equal(rgt_verdict(&C, NULL, "The Galaxy A55 and S5 are in stock."), RG_ALLOW);
    /* a natural double letter is not elongation */
    assert_int_equal(rgt_verdict(&C, NULL, "Assess the class, pass the assistant."), RG_ALLOW);
    /* spaced letters must be three or more with one repeated separator */
    assert_int_equal(rgt_verdict(&C, NULL, "plan A, B or C; a. s. s. l. list"), RG_ALLOW);
    /* pure Cyrillic words stay Cyrillic */
    assert_int_equal(rgt_verdict(&C, NULL, "\xd1\x81\xd0\xb0\xd1\x81"), RG_ALLOW);
    /* a trailing "!" is punctuation */
    assert_int_equal(rgt_verdict(&C, NULL, "Thanks, Cass!"), RG_ALLOW);
}

static void test_compact_false_opts_out(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "you idiot"), RG_BLOCK);
    assert_int_equal(rgt_verdict(&C, NULL, "you i d i o t"), RG_ALLOW);
    assert_int_equal(rgt_verdict(&C, NULL, "you 1d10t"), RG_ALLOW);
}

static void test_one_hit_per_span(void **state)
{
    (void)state;
    /* found in both the normalized and the compacted view: reported once */
    assert_int_equal(rgt_verdict(&C, NULL, "fu\xd1\x81k"), RG_BLOCK);
    assert_int_equal(rgt_hits_of(C.r, "o.prof"), 1);
}

static void test_redaction_covers_obfuscated_span(void **state)
{
    (void)state;
    /* spans map to original bytes: every byte of the trick is inside */
    assert_int_equal(rgt_verdict(&C, NULL, "ok f  u  c  k you"), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "o.prof", 0), 3, 13);
}

/* Regressions found by the evaluation set (docs/QUALITY.md). */
static void test_regressions(void **state)
{
    (void)state;
    /* natural doubles are kept: "4bed" reads "abed", never "abeed" */
    assert_int_equal(rgt_verdict(&C, NULL, "With 4bed rooms"), RG_ALLOW);
    /* hex identifiers are not leetspeak */
    assert_int_equal(rgt_verdict(&C, NULL, "vino de a80e:12 y ab3d"), RG_ALLOW);
    /* both cuts of an elongated run: one letter, and two */
    assert_int_equal(rgt_verdict(&C, NULL, "asssss"), RG_BLOCK);
    assert_int_equal(rgt_verdict(&C, NULL, "abeeeeed"), RG_BLOCK);
    /* "!" after spaced letters is punctuation; "¡" too */
    assert_int_equal(rgt_verdict(&C, NULL, "\xc2\xa1M-i-e-r-d-a!"), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "o.more", 0), 2, 13);
    /* a leading one-letter word stays apart in the second copy */
    assert_int_equal(rgt_verdict(&C, NULL, "Te voy a r e v e n t a r."), RG_BLOCK);
    /* the window reaches back from the first spaced letter */
    assert_int_equal(rgt_verdict(&C, NULL, "I'll get you f i r e d"), RG_BLOCK);
    /* allow entries apply in the compacted view too */
    assert_int_equal(rgt_verdict(&C, NULL, "I'd fuuuuck you"), RG_BLOCK);
    assert_int_equal(rgt_hits_of(C.r, "o.more"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spaced_letters),
        cmocka_unit_test(test_leet_and_symbols),
        cmocka_unit_test(test_elongation),
        cmocka_unit_test(test_lookalikes),
        cmocka_unit_test(test_plain_text_never_matches_through_compaction),
        cmocka_unit_test(test_compact_false_opts_out),
        cmocka_unit_test(test_one_hit_per_span),
        cmocka_unit_test(test_redaction_covers_obfuscated_span),
        cmocka_unit_test(test_regressions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
