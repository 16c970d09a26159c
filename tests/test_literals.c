/* test_literals.c — trigger literals (lib/literals.c), white-box: the
 * sets read from pattern text for known patterns, patterns that must get
 * no set, and soundness against PCRE2 on random texts (every match of a
 * pattern lies in a text that contains one of its literals, compared
 * without ASCII case). Engine-level equivalence (the same hits and
 * verdicts with triggers) is covered by the golden, pattern and eval
 * suites, which run on databases compiled with triggers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <hs/hs.h>
#include "literals.h"

static rg_allocator A;

/* The set as one string: literals sorted by length then bytes, '|'-joined,
 * each with "\\b" where the regex asserts a word boundary at that end. */
static void joined(const rg__lits *l, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            strncat(out, "|", cap - strlen(out) - 1);
        if (l->edges[i] & RG__LIT_EDGE_LEFT)
            strncat(out, "\\b", cap - strlen(out) - 1);
        strncat(out, l->v[i], cap - strlen(out) - 1);
        if (l->edges[i] & RG__LIT_EDGE_RIGHT)
            strncat(out, "\\b", cap - strlen(out) - 1);
    }
}

typedef struct {
    const char *re;
    const char *set; /* NULL: no set */
} lcase;

static const lcase cases[] = {
    {"abcd", "abcd"},
    {"a(?:bb|cc)d", "abbd|accd"},
    {"(?:ab|cd)ef", "abef|cdef"},
    {"(?i)ABCD", "abcd"},                       /* lower-cased, matched caselessly */
    {"[Aa]bcd", "abcd"},
    {"[ab]cde", "acde|bcde"},
    {"\\bfoo\\b bar", "\\bfoo bar"},            /* assertions are empty; a \\b inside is lost */
    /* Boundaries at a literal's ends. */
    {"(?:you|u) (?:rat|rats)\\b", "u rat\\b|u rats\\b"}, /* "u rats" does not hold "u rat\\b" */
    {"\\b(?:abcd|xabcd)e", "\\babcde|\\bxabcde"},
    {"\\bfooo(?:bar)?\\b", "\\bfooo\\b|\\bfooobar\\b"},
    {"\\b(?:wxyz|wxyz )", "\\bwxyz"},               /* "wxyz " holds "\\bwxyz" */
    {"(?:\\babcd|abcd)", "abcd"},                   /* a copy without: none */
    {"(?:\\b)?abcd", "abcd"},                       /* an optional \\b asserts nothing */
    {"x\\b\\bwxyz\\b", "xwxyz\\b"},             /* inside the run: lost */
    {"(?:\\bab|cd)(?:ef|gh)\\b", "\\babef\\b|\\babgh\\b|cdef\\b|cdgh\\b"},
    {"^hello$", "hello"},
    {"(?x) foo [ ] bar  # comment\n baz", "foo barbaz"},
    {"(?x)ab\\ cd", "ab cd"},                   /* escaped space in (?x) */
    {"(?x:a b)c d", "abc d"},                   /* (?x:...) is scoped */
    {"colou?r", "color|colour"},
    {"(?:abcd){2}", "abcdabcd"},
    {"x+abcd", "abcd"},                         /* x+ requires "x", abcd is better */
    {"\\d+ apples", " apples"},
    {"(?:cat|dog)s? \\w+ (?:eats|bites)", " eats| bites"},
    {"(?:kill|stab) (?:you|him)", "kill him|kill you|stab him|stab you"},
    {"(?=abcd)wxyz", "wxyz"},                   /* lookahead: empty */
    {"(?<!no )thanks", "thanks"},
    {"(?<n>abc)d", "abcd"},
    {"a\\.b\\x41", "a.ba"},
    {"(?:abx|abxc)dd", "abxdd|abxcdd"},
    {"(?:you|u) (?:idiot|moron)", " idiot| moron"},  /* 6 bytes: the smaller set */
    /* Shorter runs that start later: at a space, an alternation, a \\b. */
    {"(?:you|u)(?:r| are) (?:such an? )?(?:idiot|moron)\\b", "idiot\\b|moron\\b"},
    {"\\b(?:kill|stab|shoot) (?:you|u)\\b", "\\bkill u\\b|\\bstab u\\b|\\bshoot u\\b|\\bkill you\\b|\\bstab you\\b|\\bshoot you\\b"},
    {"x{0}abcd", "abcd"},
    {"(?:abcd)+", "abcd"},
    {"ab*cd", NULL},                            /* "a", "cd": too short */
    {"\\w+@\\w+\\.\\w+", "@"},                   /* short, but a rare byte */
    {"[a-z]+://\\w+:\\w+@", "://"},             /* (":" alone would not be rare) */
    {"\\w+:\\d+", NULL},
    {"a.b", NULL},
    {"\\w+", NULL},
    {"(?:abcd|e*)", NULL},                      /* a branch requires nothing */
    {"(?:abcd)?", NULL},
    {"(abcd)\\1", NULL},                        /* back-reference: not read */
    {"\\Qabcd\\E", NULL},
    {"(*UTF)abcd", NULL},
    {"ab{,3}cd", NULL},                         /* not a plain quantifier */
    {"abcd(", NULL},
    {"abcd)", NULL},
    {"[^abc]{4}", NULL},
    {"[a-z]{5}", NULL},                         /* classes too large to expand */
    {"caf\xc3\xa9s", NULL},                     /* non-ASCII: any character */
    {"", NULL},
};

static void test_known(void **state)
{
    (void)state;
    int bad = 0;
    char got[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rg__lits l;
        int rc = rg__trigger_literals(&A, cases[i].re, 4, 2048, &l);
        if (rc < 0)
            fail_msg("allocation failed");
        joined(&l, got, sizeof got);
        if ((rc == 1) != (cases[i].set != NULL) || (rc == 1 && strcmp(got, cases[i].set))) {
            fprintf(stderr, "trigger literals of /%s/: %s\"%s\", expected %s%s%s\n",
                    cases[i].re, rc == 1 ? "" : "none ", got, cases[i].set ? "\"" : "",
                    cases[i].set ? cases[i].set : "none", cases[i].set ? "\"" : "");
            bad++;
        }
        if (rc == 1)
            assert_true(l.minlen >= 4 || strpbrk(l.v[0], "@/") != NULL);
        rg__lits_free(&A, &l);
    }
    assert_int_equal(bad, 0);
}

static void test_limits(void **state)
{
    (void)state;
    rg__lits l;
    /* Too many literals for maxn, or too short for minlen: no set. */
    assert_int_equal(rg__trigger_literals(&A, "(?:ab|cd|ef)(?:gh|ij)", 4, 5, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(rg__trigger_literals(&A, "(?:ab|cd|ef)(?:gh|ij)", 4, 6, &l), 1);
    assert_int_equal(l.n, 6);
    rg__lits_free(&A, &l);
    assert_int_equal(rg__trigger_literals(&A, "abc", 4, 10, &l), 0);
    assert_int_equal(rg__trigger_literals(&A, "abc", 3, 10, &l), 1);
    rg__lits_free(&A, &l);
    assert_int_equal(rg__trigger_literals(&A, NULL, 1, 10, &l), 0);
    /* Deep nesting is refused, not a stack overflow. */
    char deep[2000];
    size_t k = 0;
    for (int i = 0; i < 600; i++)
        deep[k++] = '(';
    memcpy(deep + k, "abcd", 4);
    k += 4;
    for (int i = 0; i < 600; i++)
        deep[k++] = ')';
    deep[k] = '\0';
    assert_int_equal(rg__trigger_literals(&A, deep, 1, 10, &l), 0);
    /* Cross products that would explode stay bounded (no set or a small one). */
    assert_true(rg__trigger_literals(&A, "[ab][ab][ab][ab][ab][ab][ab][ab][ab][ab][ab][ab][ab]x",
                                     1, 100000, &l) >= 0);
    rg__lits_free(&A, &l);
}

/* Does t hold an occurrence of a literal with the boundaries its edges
 * ask for (what the scan callback accepts)? */
static int contains_any(const char *t, size_t n, const rg__lits *l)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t m = strlen(l->v[i]);
        for (size_t j = 0; j + m <= n; j++)
            if (!strncasecmp(t + j, l->v[i], m) &&
                (!(l->edges[i] & RG__LIT_EDGE_LEFT) || rg__lit_boundary(t, n, j)) &&
                (!(l->edges[i] & RG__LIT_EDGE_RIGHT) || rg__lit_boundary(t, n, j + m)))
                return 1;
    }
    return 0;
}

/* Does a literal of l (with its boundaries) occur at offset at of t? */
static int starts_with_any(const char *t, size_t n, size_t at, const rg__lits *l)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t m = strlen(l->v[i]);
        if (at + m <= n && !strncasecmp(t + at, l->v[i], m) &&
            (!(l->edges[i] & RG__LIT_EDGE_LEFT) || rg__lit_boundary(t, n, at)) &&
            (!(l->edges[i] & RG__LIT_EDGE_RIGHT) || rg__lit_boundary(t, n, at + m)))
            return 1;
    }
    return 0;
}

/* Soundness: a text PCRE2 matches contains a trigger literal; with a
 * prefix set, one at the match's start. */
static const char *const sound[] = {
    "(?:ab|cd)e?f",
    "a(?:b|c){1,2}d",
    "(?x) b [ ] (?:c|e)  | f a",
    "\\bba(?:d|de)?\\b",
    "(?i)(?:yu|u)(?:[ ](?:a|e)){0,2}[ ](?:ba|da|fa)\\b",
    "(?:f|d){2,3}c",
    "(?<=a)bcd|dcb(?=a)",
    "x*(?:abc|bcd)y?",
    "(?:a|b)(?:c|d)(?:e|f)(?:a|b)",
    "[a-c][d-f]ab",
    "(?:ab|abc)\\b[ .]",
    "\\b[ .]?(?:cd|d)\\b",
    "(?:x|\\by)(?:ab)\\b",
    "(?:a|b)?\\b(?:ab|ba)\\b",
    "(?i)\\b(?:ab|ba)(?:\\b|c)",
    "(?:\\b)?(?:ab|ba)(?:\\b)?",
    "(?:ab|\\bab)(?:\\bc|d)",
    "\\b\\.?ab\\b",
    "(?:ab|cd)(?:e|f)+x?",
    "\\b(?:ab|bc|abc)\\b[^.]*d",
    "(?:\\bab|ba){1,}[ .]",
    "(?:ab|b)c+(?:d|e)",
    "[a-c]{1,3}\\.?(?:de|fe)[a-f]+",
    "\\b(?:ab|cd)[ .]?x[a-f.]+",
    "(?:x\\.)?[a-c]{1,4}u[a-f]*",
};

/* Which sets are prefix sets (every match starts with one of them), and
 * where the part of the pattern that holds the set's occurrence ends
 * (rg__lits.end: the element that gave the set, or the run of them; 0 for
 * a union of branches that end in different places; ANY: not asked). */
#define ANY ((size_t)-1)
static const struct {
    const char *re;
    int prefix;
    size_t end;
} prefixes[] = {
    {"\\b(?:take|taking|up)\\b[^.]{0,40}?\\d+ ?mg", 1, ANY},
    {"(?:abcd|efgh)\\w*", 1, 13},        /* the run; it ends before \\w* */
    {"x*(?:abcd|efgh)", 0, ANY},            /* a match may start with x */
    {"\\w+ (?:abcd|efgh)", 0, ANY},
    {"(?:\\babcd|efgh)+\\d", 1, ANY},
    {"(?:abcd|xyzw) (?:efgh|ijkl)", 1, ANY},  /* the whole run */
    {"(?:you|u) (?:rats|mice)\\b", 0, ANY},  /* minimised: "you rats" holds "u rats" */
    {"(?:abcd\\w+|\\d+efgh)", 0, ANY},     /* one branch's set is not a prefix */
    {"\\w+ (?:abcd|efgh)\\w+", 0, 17},   /* a run after a variable start; its end */
    {"(?:you|u) (?:abcd|efgh)\\b\\w*", 0, ANY}, /* " abcd\\b", a shorter run that starts later */
    {"[a-z]{1,3}@[a-z]+", 0, 11},      /* the "@" */
    {"\\btoken[:=] ?\\S+", 1, 13},      /* "token:", "token=", before \\S+ */
    {"abcd|efgh", 1, 0},                /* two branches */
};

static void test_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        rg__lits l;
        assert_int_equal(rg__trigger_literals(&A, prefixes[i].re, 4, 2048, &l), 1);
        if (l.prefix != prefixes[i].prefix)
            fail_msg("/%s/: prefix %d, expected %d", prefixes[i].re, l.prefix, prefixes[i].prefix);
        if (prefixes[i].end != ANY && l.end != prefixes[i].end)
            fail_msg("/%s/: end %zu, expected %zu", prefixes[i].re, l.end, prefixes[i].end);
        rg__lits_free(&A, &l);
    }
}

/* The width of the pattern's first `end` bytes (rg__lits.end; compile.c
 * bounds where a match starts before a literal's end with it), or
 * UINT_MAX when that part is not a pattern Hyperscan reads exactly. */
static unsigned prefix_width(const char *re, size_t end)
{
    char buf[256];
    if (!end || end >= sizeof buf)
        return UINT_MAX;
    memcpy(buf, re, end);
    buf[end] = '\0';
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    if (hs_expression_info(buf, HS_FLAG_UTF8, &info, &err) != HS_SUCCESS) {
        hs_free_compile_error(err);
        return UINT_MAX;
    }
    unsigned w = info->max_width;
    free(info);
    return w;
}

/* Does [ms, me) of t hold a literal of l (with its boundaries) that ends
 * within w bytes of ms? */
static int held_within(const char *t, size_t n, size_t ms, size_t me, unsigned w,
                       const rg__lits *l)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t m = strlen(l->v[i]);
        for (size_t j = ms; j + m <= me; j++)
            if (j + m - ms <= w && !strncasecmp(t + j, l->v[i], m) &&
                (!(l->edges[i] & RG__LIT_EDGE_LEFT) || rg__lit_boundary(t, n, j)) &&
                (!(l->edges[i] & RG__LIT_EDGE_RIGHT) || rg__lit_boundary(t, n, j + m)))
                return 1;
    }
    return 0;
}

static void test_soundness(void **state)
{
    (void)state;
    static const char alpha[] = "abcdefABCDEF xyu.";
    pcre2_match_data *md = pcre2_match_data_create(8, NULL);
    assert_non_null(md);
    srand(20261121);
    size_t matches = 0, prefixed = 0, bounded = 0;
    for (size_t p = 0; p < sizeof sound / sizeof sound[0]; p++) {
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)sound[p], PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                       &err, &off, NULL);
        assert_non_null(re);
        rg__lits l;
        if (rg__trigger_literals(&A, sound[p], 1, 100000, &l) != 1)
            fail_msg("no trigger set for /%s/", sound[p]);
        size_t here = 0;
        /* With an end: every match holds a literal that ends within the
         * width of the pattern up to there from the match's start. */
        unsigned w = prefix_width(sound[p], l.end);
        char text[48];
        for (int it = 0; it < 200000; it++) {
            size_t n = 2 + (size_t)rand() % 30;
            for (size_t i = 0; i < n; i++)
                text[i] = alpha[(size_t)rand() % (sizeof alpha - 1)];
            if (pcre2_match(re, (PCRE2_SPTR)text, n, 0, 0, md, NULL) < 0)
                continue;
            if (!contains_any(text, n, &l))
                fail_msg("/%s/ matches \"%.*s\", which has none of its %zu literals",
                         sound[p], (int)n, text, l.n);
            /* A prefix set: the (leftmost) match starts with one of them. */
            size_t ms = pcre2_get_ovector_pointer(md)[0];
            if (l.prefix && !starts_with_any(text, n, ms, &l))
                fail_msg("/%s/ matches \"%.*s\" at %zu, where none of its prefix literals is",
                         sound[p], (int)n, text, ms);
            prefixed += l.prefix;
            size_t me = pcre2_get_ovector_pointer(md)[1];
            if (w != UINT_MAX && !held_within(text, n, ms, me, w, &l))
                fail_msg("/%s/ matches \"%.*s\" at [%zu,%zu) without a literal ending within "
                         "%u bytes of its start", sound[p], (int)n, text, ms, me, w);
            bounded += w != UINT_MAX;
            here++;
        }
        if (here < 20)
            fail_msg("/%s/: only %zu matches: the test would prove nothing", sound[p], here);
        matches += here;
        rg__lits_free(&A, &l);
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    assert_true(matches > 1000 && prefixed > 500 && bounded > 500);
}

int main(void)
{
    rg__allocator_init(&A, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_soundness),
        cmocka_unit_test(test_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
