/* test_windows.c — the compacted view's window search (lib/normalize.c):
 * rg__compact walks the normalized view's words by bit masks, sixteen
 * bytes at a time; the byte-at-a-time walk is the reference. Both must
 * find the same windows on texts built to cross every 16- and 64-byte
 * boundary with words, digits, leet symbols, spaced letters, runs of one
 * letter and non-ASCII letters. The bit walk fails this test when its
 * classes disagree with the byte table, or a word across blocks is cut. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
