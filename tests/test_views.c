/* test_views.c — the views' sixteen-byte fast paths (lib/normalize.c).
 *
 * The normalizer copies runs of printable ASCII sixteen bytes at a time:
 * on ASCII texts (letters of both cases, digits, punctuation, runs of
 * spaces, tabs and newlines, leading and trailing separators) its view
 * and offsets must be those of the rule it implements: lower-case, one
 * space for each run of separators, none at either end, each byte
 * mapping to itself.
 *
 * The compacted view's window search walks the normalized view's words by
 * bit masks, sixteen bytes at a time; the byte-at-a-time walk is the
 * reference. Both must find the same windows on texts built to cross every
 * 16- and 64-byte boundary with words, digits, leet symbols, spaced
 * letters, runs of one letter and non-ASCII letters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "alloc.h"
#include "normalize.h"

/* Random pieces (each under 32 bytes) joined into text[0..cap), up to
 * about `target` bytes; returns the length. */
static size_t join_pieces(const char *const *pieces, size_t npieces, size_t target, char *text,
                          size_t cap)
{
    size_t n = 0;
    while (n + 32 < cap && n < target) {
        const char *p = pieces[(size_t)rand() % npieces];
        size_t l = strlen(p);
        memcpy(text + n, p, l);
        n += l;
    }
    return n;
}

/* join_pieces, then the normalized view of the text into *v; the text's
 * length. */
static size_t normalized_pieces(rg_allocator *a, rg__vbuf *v, const char *const *pieces,
                              size_t npieces, size_t target, char *text, size_t cap)
{
    size_t n = join_pieces(pieces, npieces, target, text, cap);
    int invalid = 0;
    assert_int_equal(rg__normalize(a, v, text, n, &invalid), 0);
    return n;
}

static void same_windows(const rg__vbuf *n, size_t *windows)
{
    size_t s0[32], e0[32], s1[32], e1[32];
    int n0 = rg__compact_windows(n, 1, s0, e0), n1 = rg__compact_windows(n, 0, s1, e1);
    if (n0 != n1)
        fprintf(stderr, "\"%.*s\": %d windows bytewise, %d by bits\n", (int)n->len, n->text, n0,
                n1);
    assert_int_equal(n0, n1);
    for (int i = 0; i < n0; i++) {
        assert_int_equal(s0[i], s1[i]);
        assert_int_equal(e0[i], e1[i]);
    }
    *windows += n0 > 0 ? (size_t)n0 : n0 < 0;
}

static void test_walks_agree(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        " ", " ", ".", ", ", "the ", "order ", "shipped ", "a ", "i ", "f u c k ", "sh1t ",
        "$hit ", "@ss ", "fuuuck ", "13th ", "7pm ", "0x1f2e ", "caf\xc3\xa9 ", "\xd0\xb0",
        "!!! ", "|", "k", "1", "word", "-", "'", "\xe2\x80\x99", "aaa", "b4 ", "l0ser ",
    };
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    rg__vbuf v = {0};
    char text[700];
    size_t windows = 0;
    srand(1103);
    for (int it = 0; it < 20000; it++) {
        size_t n = 0, target = (size_t)rand() % 640;
        while (n + 16 < sizeof text && n < target) {
            const char *p = pieces[(size_t)rand() % (sizeof pieces / sizeof pieces[0])];
            memcpy(text + n, p, strlen(p));
            n += strlen(p);
        }
        int invalid = 0;
        assert_int_equal(rg__normalize(&a, &v, text, n, &invalid), 0);
        same_windows(&v, &windows);
    }
    /* Mostly benign texts, where the walk's shortcut (no word can open a
     * window) is taken, with now and then a piece that opens one, at any
     * offset around the 16- and 64-byte steps. */
    static const char *const calm[] = {
        "the ", "order ", "shipped ", "a ", "i ", "at ", "5 ", "10:30 ", "$45 ", "meal! ",
        "ok!! ", "caf\xc3\xa9 ", "x", " ", ". ", "b ", "c ", "2 pm ", "|| ", "@ ",
    };
    static const char *const spice[] = {
        "b4 ", "x!y ", "a b c ", "5pm ", "\xc3\xa9" "5 ", "@home ", "a$ ", "u r a ", "k|k ", "13th ",
        /* digits touching letters that are not leet (the shortcut asks the
         * word), and ones that are */
        "3rd ", "A16 ", "2g ", "10am ", "5km ", "a80e:12 ", "4th!! ", "1st ", "sh1t ", "f4ck ",
        "n3rd ", "l33t ", "3rdd ",
    };
    size_t calm_windows = 0, calm_texts = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n = 0, target = (size_t)rand() % 300;
        while (n + 16 < sizeof text && n < target) {
            const char *p = rand() % 12 ? calm[(size_t)rand() % (sizeof calm / sizeof calm[0])]
                                        : spice[(size_t)rand() % (sizeof spice / sizeof spice[0])];
            memcpy(text + n, p, strlen(p));
            n += strlen(p);
        }
        int invalid = 0;
        assert_int_equal(rg__normalize(&a, &v, text, n, &invalid), 0);
        size_t before = windows;
        same_windows(&v, &windows);
        calm_windows += windows > before;
        calm_texts++;
    }
    /* both outcomes were seen */
    assert_true(calm_windows > calm_texts / 10 && calm_windows < calm_texts - calm_texts / 10);
    /* each opening piece at every offset, in calm text (a piece across a
     * 16- or 64-byte step must still be seen) */
    static const char *const openers[] = {"x!y", "a b c", "l0ser", "caf\xc3\xa9" "5", "k|k", "a$"};
    for (size_t o = 0; o < sizeof openers / sizeof openers[0]; o++)
        for (size_t at = 0; at < 150; at++) {
            size_t len = at + strlen(openers[o]) + 20;
            for (size_t i = 0; i < len; i++)
                text[i] = i % 7 == 6 ? ' ' : (char)('m' + i % 5); /* "mnopqr mnopqr ..." */
            if (at > 0)
                text[at - 1] = ' ';
            memcpy(text + at, openers[o], strlen(openers[o]));
            text[at + strlen(openers[o])] = ' ';
            int invalid = 0;
            assert_int_equal(rg__normalize(&a, &v, text, len, &invalid), 0);
            size_t before = windows;
            same_windows(&v, &windows);
            assert_true(windows > before); /* it opens one */
        }
    /* one word across every block boundary */
    for (size_t len = 1; len < 200; len++) {
        memset(text, 'x', len);
        memcpy(text + len / 2, "5", 1);
        int invalid = 0;
        assert_int_equal(rg__normalize(&a, &v, text, len, &invalid), 0);
        same_windows(&v, &windows);
    }
    rg__vbuf_free(&a, &v);
    assert_true(windows > 5000); /* windows were found, not only agreed on none */
}

/* Long calm texts with a few opening pieces far apart: the bit walk goes
 * word by word only from a word that opens a window until it closes, and
 * finds the next such word by masks. Every window, the state it resumes
 * with (a one-letter run starting right after a window, or in the next
 * 64-byte block) and the windows that merge must be the byte walk's. */
static void test_walk_between_windows(void **state)
{
    (void)state;
    static const char *const calm[] = {
        "the ", "order ", "shipped ", "a ", "i ", "at ", "5 ", "10:30 ", "$45 ", "meal! ",
        "ok!! ", "caf\xc3\xa9 ", "x", " ", ". ", "b ", "2 pm ", "3rd ", "7pm ", "A16 ",
        "reservation ", "confirmed ", "is ", "for ", "people ",
    };
    static const char *const spice[] = {
        "b4 ", "x!y ", "a b c ", "a b c d e ", "l0ser ", "\xc3\xa9" "5 ", "@home ", "a$ ",
        "u r a ", "k|k ", "sh1t ", "f4ck ", "n3rd ", "l33t ", "a b ", "s h i t",
    };
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    rg__vbuf v = {0};
    static char text[3000];
    size_t windows = 0, multi = 0, many = 0;
    srand(2207);
    for (int it = 0; it < 4000; it++) {
        size_t n = 0, target = 200 + (size_t)rand() % 2600;
        int odds = 8 + rand() % 60; /* one opening piece in `odds` */
        while (n + 16 < sizeof text && n < target) {
            const char *p = rand() % odds ? calm[(size_t)rand() % (sizeof calm / sizeof calm[0])]
                                          : spice[(size_t)rand() % (sizeof spice / sizeof spice[0])];
            memcpy(text + n, p, strlen(p));
            n += strlen(p);
        }
        int invalid = 0;
        assert_int_equal(rg__normalize(&a, &v, text, n, &invalid), 0);
        size_t s0[32], e0[32];
        int nw = rg__compact_windows(&v, 1, s0, e0);
        multi += nw >= 2;
        many += nw >= 6;
        same_windows(&v, &windows);
    }
    /* texts with several windows, and with many, were seen */
    assert_true(multi > 1000);
    assert_true(many > 200);
    rg__vbuf_free(&a, &v);
}

/* rg__compact copies plain words (nothing folds, no run of three) as they
 * are; the byte-at-a-time path that folds and cuts is the reference. Both
 * must give the same compacted view, byte for byte with its offsets and
 * marks, on texts mixing plain words with leet, runs, spaced letters,
 * look-alikes and digits, windowed and whole. */
static void test_compact_plain_words(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "the ", "order ", "book ", "coon ", "abeed ", "a ", "i ", "4.4 ", "a 4.4 ", "at ",
        "f u c k ", "s.h.i.t ", "sh1t ", "$hit ", "@ss ", "fuuuck ", "asssss ", "aa ", "bb",
        "13th ", "7pm ", "0x1f2e ", "a80e:12 ", "caf\xc3\xa9 ", "\xd1\x81\xd0\xb0t ",
        "!!! ", "hi! ", "k|k ", "|", "b4 ", "l0ser ", "a55 ", "a55hole ", "5 3 x ",
        "a r e v e n t a r ", "ooo ", "www.", "x", " ", ". ", "-", "12345 ", "r00m ",
    };
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    rg__vbuf v = {0}, c0 = {0}, c1 = {0};
    static char text[2400];
    size_t nonempty = 0;
    srand(4409);
    for (int it = 0; it < 6000; it++) {
        normalized_pieces(&a, &v, pieces, sizeof pieces / sizeof pieces[0], (size_t)rand() % 2200,
                          text, sizeof text);
        for (int whole = 0; whole < 2; whole++) {
            rg__compact_bytewise = 1;
            assert_int_equal(rg__compact(&a, &c0, &v, whole), 0);
            rg__compact_bytewise = 0;
            assert_int_equal(rg__compact(&a, &c1, &v, whole), 0);
            assert_int_equal(c0.len, c1.len);
            nonempty += c0.len > 0;
            if (c0.len) {
                assert_memory_equal(c0.text, c1.text, c0.len);
                assert_memory_equal(c0.start, c1.start, c0.len * sizeof *c0.start);
                assert_memory_equal(c0.end, c1.end, c0.len * sizeof *c0.end);
                assert_memory_equal(c0.mark, c1.mark, c0.len);
            }
        }
    }
    assert_true(nonempty > 6000); /* windowed views were built, not only whole ones */
    rg__vbuf_free(&a, &v);
    rg__vbuf_free(&a, &c0);
    rg__vbuf_free(&a, &c1);
}

/* The windows cover every obfuscation: each marked byte of the whole
 * text compacted (rg__compact whole) stands, with the same offsets, in
 * the windowed compacted view, on texts where one-letter words come with
 * one separator throughout ("f u c k", "s.h.i.t") or with mixed ones
 * ("a 4.4", "a b.c d", which open no window since compacting them would
 * mark nothing). And the ratings open none. */
static void test_windows_cover_marks(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "the ", "rating ", "a ", "i ", "4.4 ", "a 4.4 ", "3.7 ", "x ", "b.", "c ", "d-",
        "f u c k ", "s.h.i.t ", "m-i-e-r-d-a! ", "a b.c d ", "p f chang ", "u r a ", "sh1t ",
        "fuuuck ", "k|k ", "1 2 3 ", "4 4.4 ", "a 1 b ", ". ", ", ", "room ", "5 ",
    };
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    rg__vbuf v = {0}, w = {0}, c = {0};
    static char text[1200];
    size_t marks = 0;
    srand(6602);
    for (int it = 0; it < 5000; it++) {
        size_t n = normalized_pieces(&a, &v, pieces, sizeof pieces / sizeof pieces[0],
                                     (size_t)rand() % 1100, text, sizeof text);
        assert_int_equal(rg__compact(&a, &w, &v, 1), 0);
        assert_int_equal(rg__compact(&a, &c, &v, 0), 0);
        for (size_t i = 0; i < w.len; i++) {
            if (!w.mark[i])
                continue;
            marks++;
            size_t j = 0;
            while (j < c.len && !(c.start[j] == w.start[i] && c.end[j] == w.end[i] && c.mark[j] &&
                                  c.text[j] == w.text[i]))
                j++;
            if (j == c.len)
                fprintf(stderr, "\"%.*s\": marked '%c' [%u,%u) not in a window\n", (int)n,
                        text, w.text[i], w.start[i], w.end[i]);
            assert_true(j < c.len);
        }
    }
    assert_true(marks > 10000);
    static const char *const none[] = {"there is a 4.4 rating at 100 main street",
                                       "a b.c d", "4 4.4 stars", "a 1.5 km walk"};
    for (size_t k = 0; k < sizeof none / sizeof none[0]; k++) {
        int invalid = 0;
        size_t s0[32], e0[32];
        assert_int_equal(rg__normalize(&a, &v, none[k], strlen(none[k]), &invalid), 0);
        assert_int_equal(rg__compact_windows(&v, 1, s0, e0), 0);
        assert_int_equal(rg__compact_windows(&v, 0, s0, e0), 0);
    }
    rg__vbuf_free(&a, &v);
    rg__vbuf_free(&a, &w);
    rg__vbuf_free(&a, &c);
}

static void test_ascii_fast_path(void **state)
{
    (void)state;
    static const char alpha[] = "abcXYZ019 .,'?!-_~\x7f\t\n  ";
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    rg__vbuf v = {0};
    char text[300], want[300];
    size_t wstart[300];
    srand(2027);
    for (int it = 0; it < 20000; it++) {
        size_t n = (size_t)rand() % sizeof text;
        int spacey = rand() % 4; /* 0: many separators ... 3: few */
        for (size_t i = 0; i < n; i++)
            text[i] = rand() % (3 + 12 * spacey) == 0 ? alpha[18 + rand() % 6]
                                                      : alpha[rand() % 18];
        /* the rule, byte by byte */
        size_t m = 0;
        int sep = 1;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c <= 0x20 || c == 0x7f) {
                if (!sep) {
                    want[m] = ' ';
                    wstart[m++] = i;
                }
                sep = 1;
                continue;
            }
            want[m] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            wstart[m++] = i;
            sep = 0;
        }
        if (m && want[m - 1] == ' ')
            m--;
        int invalid = 0;
        assert_int_equal(rg__normalize(&a, &v, text, n, &invalid), 0);
        assert_int_equal(invalid, 0);
        assert_int_equal(v.len, m);
        assert_memory_equal(v.text, want, m);
        for (size_t k = 0; k < m; k++) {
            assert_int_equal(v.start[k], wstart[k]);
            assert_int_equal(v.end[k], wstart[k] + 1);
        }
    }
    rg__vbuf_free(&a, &v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_fast_path),
        cmocka_unit_test(test_walks_agree),
        cmocka_unit_test(test_walk_between_windows),
        cmocka_unit_test(test_compact_plain_words),
        cmocka_unit_test(test_windows_cover_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
