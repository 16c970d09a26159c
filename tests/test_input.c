/* test_input.c — untrusted input: invalid UTF-8, NUL bytes, empty replies,
 * replies over max_bytes, exact original-byte spans in non-ASCII text.
 * Fixture: tests/policies/input (damn -> block; card -> handoff; routes
 * small / small_block / small_allow with max_bytes 64). */
#include "testutil.h"
#include <stdlib.h>

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/input");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

#define CHECKN(route, lit) rgt_checkn(&C, (route), (lit), sizeof(lit) - 1)

static void test_invalid_utf8_flagged_and_checked(void **state)
{
    (void)state;
    assert_int_equal(CHECKN(NULL, "\xff\xfe damn"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_INVALID_UTF8);
    assert_int_equal(rg_result_hit_count(C.r), 1);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 3, 7);
}

static void test_invalid_utf8_offsets_raw_view(void **state)
{
    (void)state;
    /* a lone lead byte, then a card: the regex runs on the raw view with
     * U+FFFD (3 bytes) for the bad byte; the span is still original */
    assert_int_equal(CHECKN(NULL, "\xc3( card 4111111111111111"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_INVALID_UTF8);
    RGT_SPAN(rgt_hit(C.r, "in.card", 0), 8, 24);
}

static void test_invalid_utf8_several_kinds(void **state)
{
    (void)state;
    /* overlong "/", a UTF-16 surrogate, a stray continuation byte */
    assert_int_equal(CHECKN(NULL, "\xc0\xaf \xed\xa0\x80 \x80 damn \xe2\x82"), RG_OK);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_INVALID_UTF8);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 9, 13);
    /* a valid text right after does not keep the flag */
    assert_int_equal(CHECKN(NULL, "all good \xc3\xa9"), RG_OK);
    assert_int_equal(rg_result_flags(C.r), 0);
}

static void test_nul_bytes_inside_reply(void **state)
{
    (void)state;
    assert_int_equal(CHECKN(NULL, "hello\0 damn"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 7, 11);
    assert_int_equal(rg_result_flags(C.r) & RG_FLAG_INVALID_UTF8, 0);
    assert_int_equal(CHECKN(NULL, "damn\0damn"), RG_OK);
    assert_int_equal(rgt_hits_of(C.r, "in.words"), 2);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 0, 4);
    RGT_SPAN(rgt_hit(C.r, "in.words", 1), 5, 9);
    /* a NUL does not end the text: a card after it is found */
    assert_int_equal(CHECKN(NULL, "ok\0\0 4111111111111111"), RG_OK);
    RGT_SPAN(rgt_hit(C.r, "in.card", 0), 5, 21);
}

static void test_empty_reply(void **state)
{
    (void)state;
    assert_int_equal(rgt_checkn(&C, NULL, NULL, 0), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rg_result_category_count(C.r), 0);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_null(rg_result_redacted(C.r, NULL));
    assert_int_equal(rgt_checkn(&C, "small", "", 0), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rg_result_flags(C.r), 0);
}

/* n bytes of harmless words. */
static char *filler(size_t n)
{
    static const char words[] = "the parcel will arrive soon ";
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = words[i % (sizeof words - 1)];
    s[n] = 0;
    return s;
}

static void test_oversize_gets_on_oversize(void **state)
{
    (void)state;
    char *t = filler(100);
    assert_int_equal(rgt_check(&C, "small", t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    assert_int_equal(rgt_check(&C, "small_block", t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    /* fail-open is explicit and still flagged */
    assert_int_equal(rgt_check(&C, "small_allow", t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    free(t);
}

static void test_max_bytes_boundary(void **state)
{
    (void)state;
    char *t = filler(65);
    assert_int_equal(rgt_checkn(&C, "small", t, 64), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rgt_checkn(&C, "small", t, 65), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    free(t);
}

static void test_text_past_max_bytes_not_scanned(void **state)
{
    (void)state;
    char *t = filler(100);
    memcpy(t + 80, " damn ", 6);
    assert_int_equal(rgt_check(&C, "small", t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rgt_check(&C, "small_allow", t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    /* a word cut by the limit is not found either ("da|mn" at 62..66) */
    char *u = filler(100);
    memcpy(u + 61, " damn ", 6);
    assert_int_equal(rgt_check(&C, "small_allow", u), RG_OK);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    /* the default route (max_bytes 65536) sees it */
    assert_int_equal(rgt_check(&C, NULL, t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 81, 85);
    free(u);
    free(t);
}

static void test_oversize_hit_before_limit_still_counts(void **state)
{
    (void)state;
    char *t = filler(100);
    memcpy(t, "damn ", 5);
    assert_int_equal(rgt_check(&C, "small", t), RG_OK);
    /* at least on_oversize (handoff): the policy's block wins */
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_true(rg_result_flags(C.r) & RG_FLAG_OVERSIZE);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 0, 4);
    assert_int_equal(rgt_check(&C, "small_allow", t), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_true(rg_result_flags(C.r) & RG_FLAG_OVERSIZE);
    free(t);
}

static void test_default_max_bytes_is_65536(void **state)
{
    (void)state;
    char *t = filler(65537);
    assert_int_equal(rgt_checkn(&C, NULL, t, 65536), RG_OK);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rgt_checkn(&C, NULL, t, 65537), RG_OK);
    assert_int_equal(rg_result_flags(C.r), RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF); /* default on_oversize */
    free(t);
}

static void test_non_ascii_spans(void **state)
{
    (void)state;
    assert_int_equal(CHECKN(NULL, "caf\xc3\xa9 DAMN"), RG_OK);
    assert_int_equal(rg_result_flags(C.r), 0);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 6, 10);
    /* 日本語 damn */
    assert_int_equal(CHECKN(NULL, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e damn"), RG_OK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 10, 14);
    /* an emoji (4 bytes) */
    assert_int_equal(CHECKN(NULL, "\xf0\x9f\x91\x8d damn"), RG_OK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 5, 9);
    /* naïve résumé — damn */
    assert_int_equal(CHECKN(NULL, "na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xe2\x80\x94 damn"), RG_OK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 20, 24);
}

static void test_non_ascii_raw_view_span(void **state)
{
    (void)state;
    /* Preço: 4111111111111111 */
    assert_int_equal(CHECKN(NULL, "Pre\xc3\xa7o: 4111111111111111"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    RGT_SPAN(rgt_hit(C.r, "in.card", 0), 8, 24);
}

static void test_crlf_and_control_chars(void **state)
{
    (void)state;
    assert_int_equal(CHECKN(NULL, "line\r\n\tdamn\r\n"), RG_OK);
    RGT_SPAN(rgt_hit(C.r, "in.words", 0), 7, 11);
    assert_int_equal(rg_result_flags(C.r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_utf8_flagged_and_checked),
        cmocka_unit_test(test_invalid_utf8_offsets_raw_view),
        cmocka_unit_test(test_invalid_utf8_several_kinds),
        cmocka_unit_test(test_nul_bytes_inside_reply),
        cmocka_unit_test(test_empty_reply),
        cmocka_unit_test(test_oversize_gets_on_oversize),
        cmocka_unit_test(test_max_bytes_boundary),
        cmocka_unit_test(test_text_past_max_bytes_not_scanned),
        cmocka_unit_test(test_oversize_hit_before_limit_still_counts),
        cmocka_unit_test(test_default_max_bytes_is_65536),
        cmocka_unit_test(test_non_ascii_spans),
        cmocka_unit_test(test_non_ascii_raw_view_span),
        cmocka_unit_test(test_crlf_and_control_chars),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
