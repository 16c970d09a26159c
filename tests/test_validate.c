/* test_validate.c — `validate: luhn`: the digits of a regex match must
 * pass the Luhn checksum and number 13..19. The fixture's regex matches
 * 11..23 digit runs so that the validator alone decides.
 * Fixture: tests/policies/validate (pii.payment_card block 0.5). */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/validate");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

/* "Card <number> on file": the number starts at byte 5. */
static void card_hit(const char *number)
{
    char text[128];
    snprintf(text, sizeof text, "Card %s on file", number);
    rg_verdict v = rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 1) {
        fprintf(stderr, "expected a card hit in \"%s\"\n", text);
        rgt_dump(C.r);
    }
    assert_int_equal(rg_result_hit_count(C.r), 1);
    const rg_hit *h = rg_result_hit(C.r, 0);
    RGT_STR(h->detector, "card");
    RGT_STR(h->category, "pii.payment_card");
    RGT_SPAN(h, 5, 5 + strlen(number));
    RGT_NEAR(h->score, 0.95);
    assert_int_equal(v, RG_BLOCK);
}

static void card_miss(const char *number)
{
    char text[128];
    snprintf(text, sizeof text, "Card %s on file", number);
    rg_verdict v = rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 0) {
        fprintf(stderr, "unexpected card hit in \"%s\"\n", text);
        rgt_dump(C.r);
    }
    assert_int_equal(rg_result_hit_count(C.r), 0);
    assert_int_equal(rg_result_category_count(C.r), 0);
    assert_int_equal(v, RG_ALLOW);
}

static void test_visa_16(void **state)
{
    (void)state;
    card_hit("4111111111111111");
}

static void test_mastercard_spaced(void **state)
{
    (void)state;
    card_hit("5500 0000 0000 0004");
}

static void test_mastercard_dashed(void **state)
{
    (void)state;
    card_hit("5500-0000-0000-0004");
}

static void test_amex_15(void **state)
{
    (void)state;
    card_hit("378282246310005");
}

static void test_other_valid_lengths(void **state)
{
    (void)state;
    card_hit("4222222222222");        /* 13 digits */
    card_hit("6011111111111117");     /* Discover */
    card_hit("1234567890123456785");  /* 19 digits, Luhn-valid */
}

static void test_one_digit_changed(void **state)
{
    (void)state;
    card_miss("4111111111111112");
    card_miss("4111111111111121"); /* two digits swapped... still invalid */
    card_miss("5500 0000 0000 0005");
    card_miss("378282246310006");
    card_miss("4222222222223");
}

static void test_too_short_and_too_long(void **state)
{
    (void)state;
    card_miss("123456789015");         /* 12 digits, Luhn-valid */
    card_miss("12345678901234567894"); /* 20 digits, Luhn-valid */
    card_miss("4111 1111 1111");       /* 12 digits */
}

static void test_card_at_text_edges(void **state)
{
    (void)state;
    rgt_verdict(&C, NULL, "4111111111111111");
    RGT_SPAN(rgt_hit(C.r, "card", 0), 0, 16);
    rgt_verdict(&C, NULL, "number: 4111111111111111.");
    RGT_SPAN(rgt_hit(C.r, "card", 0), 8, 24);
}

static void test_two_cards_one_invalid(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "4111111111111112 or 4111111111111111"), RG_BLOCK);
    assert_int_equal(rg_result_hit_count(C.r), 1);
    RGT_SPAN(rgt_hit(C.r, "card", 0), 20, 36);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visa_16),
        cmocka_unit_test(test_mastercard_spaced),
        cmocka_unit_test(test_mastercard_dashed),
        cmocka_unit_test(test_amex_15),
        cmocka_unit_test(test_other_valid_lengths),
        cmocka_unit_test(test_one_digit_changed),
        cmocka_unit_test(test_too_short_and_too_long),
        cmocka_unit_test(test_card_at_text_edges),
        cmocka_unit_test(test_two_cards_one_invalid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
