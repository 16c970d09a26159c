/* test_adversarial_replies.c — hostile reply bytes: 50 MB of text, only
 * separators, only combining marks, 10,000 zero-width characters between
 * letters, overlong and surrogate encodings, every byte value, more
 * matches than the per-check caps.
 *
 * Every check must return RG_OK with a verdict (the route's on_oversize /
 * on_timeout fail-safe included), never crash, and never give `allow`
 * because something went wrong: the fixture's fail-safes are all `block`.
 * Every result also passes the invariants of check_sane(): hits inside
 * the reply, on code-point boundaries, flags consistent, and a redacted
 * copy that holds no byte of a redacted span.
 *
 * Tests assert verdicts and flags, never time: on a slow machine (valgrind)
 * a long reply may run out of its 2 s budget, and then the on_timeout
 * fail-safe (block) is the expected outcome, which the assertions accept.
 * Fixture: tests/policies/adversarial. */
#include "testutil.h"
#include <stdlib.h>

#define FS_ERR (RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE)
#define FS_BUDGET (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_FAILSAFE)
#define FIFTY_MB (50u * 1000 * 1000)

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/adversarial");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

/* Length of the unit at s[0..n): a valid UTF-8 sequence (1..4) or 1 for
 * an invalid byte. Written independently of lib/normalize.c, with the
 * same strict rules (no overlongs, surrogates or > U+10FFFF). */
static size_t unit_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 1;
    if (n < k || s[1] < lo || s[1] > hi)
        return 1;
    for (size_t i = 2; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return k;
}

/* Boundaries of units: bit i set when offset i starts a unit (or is the
 * end). Caller frees. */
static unsigned char *unit_starts(const char *t, size_t n)
{
    unsigned char *b = calloc(n + 1, 1);
    assert_non_null(b);
    for (size_t i = 0; i < n;) {
        b[i] = 1;
        i += unit_len((const unsigned char *)t + i, n - i);
    }
    b[n] = 1;
    return b;
}

/* The invariants every result must satisfy. */
static void assert_result_sane(const rg_result *r, const char *t, size_t n, int st)
{
    assert_int_equal(st, RG_OK);
    unsigned fl = rg_result_flags(r);
    rg_verdict v = rg_result_verdict(r);
    assert_true(v == RG_ALLOW || v == RG_HANDOFF || v == RG_BLOCK);
    /* an engine error never reads as allow: the fixture's on_error is block */
    if (fl & RG_FLAG_ENGINE_ERROR) {
        assert_true((fl & FS_ERR) == FS_ERR);
        assert_int_equal(v, RG_BLOCK);
    }
    if (fl & RG_FLAG_BUDGET_EXCEEDED)
        assert_int_equal(v, RG_BLOCK); /* on_timeout: block */
    if (fl & RG_FLAG_FAILSAFE)
        assert_true(fl & (RG_FLAG_ENGINE_ERROR | RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_OVERSIZE));
    size_t scanned = n;
    unsigned char *starts = unit_starts(t, n);
    for (size_t i = 0; i < rg_result_hit_count(r); i++) {
        const rg_hit *h = rg_result_hit(r, i);
        assert_non_null(h);
        assert_true(h->start < h->end);
        assert_true(h->end <= scanned);
        if (!starts[h->start] || !starts[h->end]) {
            fprintf(stderr, "hit %s [%zu,%zu) not on unit boundaries\n", h->detector,
                    h->start, h->end);
            fail();
        }
    }
    free(starts);
    size_t rl = 0;
    const char *red = rg_result_redacted(r, &rl);
    assert_int_equal(red != NULL, (fl & RG_FLAG_REDACTED) != 0);
}

static int check(const char *route, const char *t, size_t n)
{
    int st = rgt_checkn(&C, route, t, n);
    assert_result_sane(C.r, t, n, st);
    return st;
}

/* A redacted copy must not contain `needle` (a PII value that occurs in
 * the reply only inside spans the policy redacts). */
static void assert_redacted_without(const rg_result *r, const char *needle)
{
    size_t n = 0;
    const char *red = rg_result_redacted(r, &n);
    assert_non_null(red);
    assert_null(memmem(red, n, needle, strlen(needle)));
}

/* ---- 50 MB ----------------------------------------------------------------- */

static char *fifty_mb(const char *tail)
{
    static const char words[] = "Your order is on its way and should arrive soon. ";
    char *t = malloc(FIFTY_MB);
    assert_non_null(t);
    for (size_t i = 0; i < FIFTY_MB; i++)
        t[i] = words[i % (sizeof words - 1)];
    if (tail)
        memcpy(t + FIFTY_MB - strlen(tail), tail, strlen(tail));
    return t;
}

static void test_fifty_mb_clean(void **state)
{
    (void)state;
    char *t = fifty_mb(NULL);
    check(NULL, t, FIFTY_MB);
    unsigned fl = rg_result_flags(C.r);
    /* allow, or the on_timeout fail-safe on a slow machine */
    if (fl & RG_FLAG_BUDGET_EXCEEDED)
        assert_int_equal(fl, FS_BUDGET);
    else {
        assert_int_equal(fl, 0);
        assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    }
    free(t);
}

static void test_fifty_mb_word_at_the_end(void **state)
{
    (void)state;
    char *t = fifty_mb(" damn.");
    check(NULL, t, FIFTY_MB);
    /* block either way: found by a scan that ran to the end, or the
     * on_timeout fail-safe of a scan that did not */
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    if (!(rg_result_flags(C.r) & RG_FLAG_BUDGET_EXCEEDED))
        RGT_SPAN(rgt_hit(C.r, "x.words", 0), FIFTY_MB - 5, FIFTY_MB - 1);
    free(t);
}

static void test_fifty_mb_over_max_bytes(void **state)
{
    (void)state;
    char *t = fifty_mb(" damn.");
    check("small", t, FIFTY_MB);
    assert_true(rg_result_flags(C.r) & RG_FLAG_OVERSIZE);
    assert_true(rg_result_flags(C.r) & RG_FLAG_FAILSAFE);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF); /* on_oversize */
    assert_int_equal(rg_result_hit_count(C.r), 0);       /* the tail is not scanned */
    free(t);
}

/* ---- separators, marks, zero-width ----------------------------------------- */

static size_t fill(char *buf, size_t size, const char *const *pieces, size_t npieces)
{
    size_t o = 0;
    for (size_t i = 0;; i++) {
        const char *p = pieces[i % npieces];
        size_t k = strlen(p);
        if (o + k > size)
            return o;
        memcpy(buf + o, p, k);
        o += k;
    }
}

static void test_only_separators(void **state)
{
    (void)state;
    static const char *const seps[] = {
        " ", "\t", "\n", "\r\n", "\v", "\f", "\x01", "\x1f", "\x7f",
        "\xc2\x85",          /* NEL */
        "\xc2\xa0",          /* no-break space */
        "\xe1\x9a\x80",      /* ogham space mark */
        "\xe2\x80\x80",      /* en quad */
        "\xe2\x80\x8a",      /* hair space */
        "\xe2\x80\xa8",      /* line separator */
        "\xe2\x80\xa9",      /* paragraph separator */
        "\xe2\x80\xaf",      /* narrow no-break space */
        "\xe3\x80\x80",      /* ideographic space */
    };
    size_t size = 1 << 20;
    char *t = malloc(size);
    assert_non_null(t);
    size_t n = fill(t, size, seps, sizeof seps / sizeof *seps);
    check(NULL, t, n);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), 0);
    assert_int_equal(rg_result_hit_count(C.r), 0);
    /* a word surrounded by them is still a word */
    memcpy(t + n / 2, "damn", 4);
    check(NULL, t, n);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    free(t);
}

static void test_only_combining_marks(void **state)
{
    (void)state;
    static const char *const marks[] = {
        "\xcc\x81", "\xcc\x80", "\xcc\x88", "\xcd\xaf", /* U+0301 U+0300 U+0308 U+036F */
        "\xd2\x89",                                     /* U+0489 enclosing */
        "\xe2\x83\x9d",                                 /* U+20DD enclosing circle */
        "\xef\xb8\xa0",                                 /* U+FE20 half mark */
    };
    size_t size = 1 << 20;
    char *t = malloc(size);
    assert_non_null(t);
    size_t n = fill(t, size, marks, sizeof marks / sizeof *marks);
    check(NULL, t, n);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(C.r), 0);
    free(t);
}

static void test_combining_marks_on_every_letter(void **state)
{
    (void)state;
    /* "d̸̡a̸̡m̸̡n̸̡" with 50 marks per letter ("zalgo"): marks are stripped */
    char t[4096];
    size_t o = 0;
    const char *letters = "damn";
    for (int i = 0; i < 4; i++) {
        t[o++] = letters[i];
        for (int k = 0; k < 50; k++) {
            memcpy(t + o, k % 2 ? "\xcc\xb8" : "\xcc\xa1", 2);
            o += 2;
        }
    }
    check(NULL, t, o);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    /* the span runs from the first letter to the last one, marks between
     * them included (the marks after the last letter are code points of
     * their own, outside the word) */
    RGT_SPAN(rgt_hit(C.r, "x.words", 0), 0, o - 100);
}

static void test_ten_thousand_zero_width_between_letters(void **state)
{
    (void)state;
    static const char *const zw[] = {
        "\xe2\x80\x8b", /* ZERO WIDTH SPACE */
        "\xe2\x80\x8c", /* ZWNJ */
        "\xe2\x80\x8d", /* ZWJ */
        "\xe2\x81\xa0", /* WORD JOINER */
        "\xef\xbb\xbf", /* BOM / ZWNBSP */
        "\xc2\xad",     /* SOFT HYPHEN */
        "\xe2\x80\x8e", /* LRM */
        "\xe2\x80\xae", /* RLO */
    };
    const char *letters = "damn";
    size_t size = 4 + 3 * 10000 * 3 + 16;
    char *t = malloc(size);
    assert_non_null(t);
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        t[o++] = letters[i];
        if (i < 3)
            for (int k = 0; k < 10000; k++) {
                const char *z = zw[(size_t)(k + i) % (sizeof zw / sizeof *zw)];
                memcpy(t + o, z, strlen(z));
                o += strlen(z);
            }
    }
    check(NULL, t, o);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "x.words", 0), 0, o);
    free(t);
}

/* ---- invalid UTF-8 ------------------------------------------------------------ */

static void test_overlong_and_surrogate_encodings(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xc0\x80",                 /* overlong NUL */
        "\xc1\xa4",                 /* overlong 'd' */
        "\xe0\x81\xa4",             /* 3-byte overlong 'd' */
        "\xf0\x80\x81\xa4",         /* 4-byte overlong 'd' */
        "\xe0\x9f\xbf",             /* overlong U+07FF */
        "\xf0\x8f\xbf\xbf",         /* overlong U+FFFF */
        "\xed\xa0\x80",             /* lone high surrogate U+D800 */
        "\xed\xbf\xbf",             /* lone low surrogate U+DFFF */
        "\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 surrogate pair */
        "\xf4\x90\x80\x80",         /* U+110000 */
        "\xf7\xbf\xbf\xbf",         /* U+1FFFFF */
        "\xf8\x88\x80\x80\x80",     /* 5-byte form */
        "\xfc\x84\x80\x80\x80\x80", /* 6-byte form */
        "\x80", "\xbf",             /* lone continuation bytes */
        "\xc3", "\xe2\x82", "\xf0\x9f\x98", /* truncated sequences */
        "\xfe", "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char t[64];
        /* alone, then around a word (which must still be found) */
        check(NULL, bad[i], strlen(bad[i]));
        assert_true(rg_result_flags(C.r) & RG_FLAG_INVALID_UTF8);
        assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
        int n = snprintf(t, sizeof t, "%sdamn%s", bad[i], bad[i]);
        check(NULL, t, (size_t)n);
        assert_true(rg_result_flags(C.r) & RG_FLAG_INVALID_UTF8);
        assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
        RGT_SPAN(rgt_hit(C.r, "x.words", 0), strlen(bad[i]), strlen(bad[i]) + 4);
        /* and at the end of a card number on the raw view */
        n = snprintf(t, sizeof t, "card 4111 1111 1111 1111%s", bad[i]);
        check(NULL, t, (size_t)n);
        assert_true(rg_result_flags(C.r) & RG_FLAG_REDACTED);
        assert_redacted_without(C.r, "4111 1111");
    }
}

static void test_overlong_letters_are_not_letters(void **state)
{
    (void)state;
    /* "damn" spelled with overlong encodings is not text: each bad byte
     * becomes U+FFFD, so there is no word (and no crash) */
    const char t[] = "\xc1\xa4\xc1\xa1\xc1\xad\xc1\xae";
    check(NULL, t, sizeof t - 1);
    assert_true(rg_result_flags(C.r) & RG_FLAG_INVALID_UTF8);
    assert_int_equal(rg_result_hit_count(C.r), 0);
}

static void test_every_byte_value(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    check(NULL, (const char *)all, sizeof all);
    assert_true(rg_result_flags(C.r) & RG_FLAG_INVALID_UTF8);
    /* every single byte, and every pair of bytes */
    for (int i = 0; i < 256; i++) {
        unsigned char b = (unsigned char)i;
        check(NULL, (const char *)&b, 1);
        assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
        assert_int_equal((rg_result_flags(C.r) & RG_FLAG_INVALID_UTF8) != 0, i >= 0x80);
    }
    for (int i = 0; i < 65536; i++) {
        unsigned char p[2] = {(unsigned char)(i >> 8), (unsigned char)i};
        int st = rgt_checkn(&C, NULL, (const char *)p, 2);
        if (st != RG_OK || rg_result_verdict(C.r) != RG_ALLOW ||
            (rg_result_flags(C.r) & ~(unsigned)RG_FLAG_INVALID_UTF8))
            assert_result_sane(C.r, (const char *)p, 2, st);
        assert_int_equal(st, RG_OK);
        assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    }
    /* every byte value inside a word, and as the neighbour of a word */
    for (int i = 0; i < 256; i++) {
        char t[16];
        int n = snprintf(t, sizeof t, "da%cmn", i ? i : ' ');
        check(NULL, t, (size_t)n);
        n = snprintf(t, sizeof t, "%cdamn%c", i ? i : 1, i ? i : 1);
        check(NULL, t, (size_t)n);
        int word_char = (i >= '0' && i <= '9') || (i >= 'a' && i <= 'z') ||
                        (i >= 'A' && i <= 'Z') || i == '_';
        assert_int_equal(rg_result_verdict(C.r), word_char ? RG_ALLOW : RG_BLOCK);
    }
}

static void test_nul_bytes(void **state)
{
    (void)state;
    const char t[] = "\0card\0 4111 1111 1111 1111\0 damn\0";
    check(NULL, t, sizeof t - 1);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_true(rg_result_flags(C.r) & RG_FLAG_REDACTED);
    size_t n = 0;
    const char *red = rg_result_redacted(C.r, &n);
    const char want[] = "\0card\0 [X]\0 damn\0";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(red, want, n);
}

/* ---- more matches than the caps ------------------------------------------------ */

/* n copies of `piece` (with a separator), in a malloc'd buffer. */
static char *repeat(const char *piece, size_t n, size_t *len)
{
    size_t k = strlen(piece);
    char *t = malloc(n * (k + 1) + 1);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++) {
        memcpy(t + i * (k + 1), piece, k);
        t[i * (k + 1) + k] = ' ';
    }
    *len = n * (k + 1);
    return t;
}

static void test_many_words_still_block(void **state)
{
    (void)state;
    size_t n;
    char *t = repeat("damn", 20000, &n); /* far past the 4,096 stored matches */
    check(NULL, t, n);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_true(rg_result_flags(C.r) & RG_FLAG_HITS_TRUNCATED);
    assert_int_equal(rg_result_hit_count(C.r), RG_MAX_HITS);
    free(t);
}

/* More PII spans than one detector extracts per check (256): the ones
 * past the cap must not be sent as if the reply were clean. Either every
 * one is masked, or the check says its bounded work ran out (the
 * on_timeout fail-safe, block here, with RG_FLAG_BUDGET_EXCEEDED) or that
 * the copy cannot be trusted (on_error, RG_FLAG_ENGINE_ERROR). */
static void assert_masked_or_failsafe(const char *needle)
{
    unsigned fl = rg_result_flags(C.r);
    if ((fl & RG_FLAG_FAILSAFE) && (fl & (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_ENGINE_ERROR))) {
        assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    } else {
        assert_true(fl & RG_FLAG_REDACTED);
        assert_redacted_without(C.r, needle);
    }
}

static void assert_no_email_in_clear(size_t count)
{
    size_t n;
    char *t = repeat("jo@example.com", count, &n);
    check(NULL, t, n);
    assert_masked_or_failsafe("jo@example.com");
    free(t);
}

static void test_many_emails_never_leak(void **state)
{
    (void)state;
    assert_no_email_in_clear(10);
    assert_no_email_in_clear(256);
    assert_no_email_in_clear(257);
    assert_no_email_in_clear(300);
    assert_no_email_in_clear(5000);
}

static void test_many_cards_never_leak(void **state)
{
    (void)state;
    /* 300 numbers that fail Luhn, then one valid card: the cap must not
     * stop the search before the card */
    size_t n;
    char *bad = repeat("4111 1111 1111 1112 ok", 300, &n);
    char *t = malloc(n + 32);
    assert_non_null(t);
    memcpy(t, bad, n);
    memcpy(t + n, "4111 1111 1111 1111", 19);
    n += 19;
    check(NULL, t, n);
    assert_masked_or_failsafe("4111 1111 1111 1111");
    free(bad);
    free(t);
}

/* ---- conversation fields --------------------------------------------------------- */

static void test_hostile_conversation_fields(void **state)
{
    (void)state;
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    size_t big_len;
    char *big = repeat("damn \xe2\x80\x8b\xff", 20000, &big_len);
    rg_text hist[3] = {{(const char *)all, sizeof all}, {big, big_len}, {"", 0}};
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "Your refund is on its way.";
    q.reply_len = strlen(q.reply);
    q.user_message = big;
    q.user_message_len = big_len;
    q.history = hist;
    q.history_count = 3;
    int st = rg_check(C.e, C.s, &q, C.r);
    assert_result_sane(C.r, q.reply, q.reply_len, st);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifty_mb_clean),
        cmocka_unit_test(test_fifty_mb_word_at_the_end),
        cmocka_unit_test(test_fifty_mb_over_max_bytes),
        cmocka_unit_test(test_only_separators),
        cmocka_unit_test(test_only_combining_marks),
        cmocka_unit_test(test_combining_marks_on_every_letter),
        cmocka_unit_test(test_ten_thousand_zero_width_between_letters),
        cmocka_unit_test(test_overlong_and_surrogate_encodings),
        cmocka_unit_test(test_overlong_letters_are_not_letters),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_many_words_still_block),
        cmocka_unit_test(test_many_emails_never_leak),
        cmocka_unit_test(test_many_cards_never_leak),
        cmocka_unit_test(test_hostile_conversation_fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
