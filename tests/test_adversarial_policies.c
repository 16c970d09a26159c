/* test_adversarial_policies.c — hostile policy sets: each is rejected with
 * a clear message (file:line:column where there is one), or loads and
 * works, in bounded time and memory. Nothing here measures time: a case
 * that would take unbounded time or memory makes the suite time out or
 * run out of memory instead, which fails it.
 *
 * Cases already covered by test_policy_errors.c are not repeated:
 * a simple anchor/alias, lexicon paths with "..", absolute paths, symlinks
 * out of the directory, duplicate ids, extends cycles and self-extends,
 * PCRE2 and Hyperscan syntax errors. docs/RELIABILITY.md lists all of them
 * with the test that proves each.
 *
 * Each case writes a policy set into a fresh temporary directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DET_OK                                                                 \
    "detectors:\n"                                                             \
    "  - id: ok.words\n"                                                       \
    "    category: toxicity.profanity\n"                                       \
    "    words: [damn]\n"                                                      \
    "    score: 0.9\n"
#define ROUTE_OK "routes:\n  default: {}\n"

typedef struct pset {
    char *base;     /* temporary directory */
    char dir[4200]; /* the policy directory: base/p */
    int status;
    rg_engine *e;
    rg_diag *d;
} pset;

static void pset_init(pset *p)
{
    memset(p, 0, sizeof *p);
    p->base = rgt_tmpdir();
    snprintf(p->dir, sizeof p->dir, "%s/p", p->base);
    rgt_write(p->base, "p/.keep", "");
}

/* Write a file of n bytes (binary-safe) below the policy directory. */
static void pset_write_n(pset *p, const char *name, const char *data, size_t n)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", p->dir, name);
    rgt_write(p->dir, name, ""); /* creates the directories */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void pset_write(pset *p, const char *name, const char *text)
{
    pset_write_n(p, name, text, strlen(text));
}

static int pset_open(pset *p)
{
    p->e = (rg_engine *)p; /* must come back NULL on failure */
    p->status = rg_engine_open(&p->e, p->dir, NULL, &p->d);
    if (p->status != RG_OK)
        assert_null(p->e);
    return p->status;
}

static void pset_done(pset *p)
{
    rg_diag_free(p->d);
    if (p->status == RG_OK)
        rg_engine_close(p->e);
    rgt_rmtree(p->base);
    free(p->base);
}

static int contains_ci(const char *hay, const char *needle)
{
    if (!hay)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

/* Assert an error in `file` (suffix) whose message mentions `needle`;
 * line 0 accepts any line (and a file-level error). */
static void expect_error(const pset *p, const char *file, unsigned line, const char *needle)
{
    if (p->d)
        for (size_t i = 0; i < p->d->count; i++) {
            const rg_diag_entry *e = &p->d->entries[i];
            if (e->severity == RG_SEV_ERROR && e->file && rgt_ends_with(e->file, file) &&
                (!line || e->line == line) && contains_ci(e->message, needle))
                return;
        }
    fprintf(stderr, "expected an error in %s line %u mentioning \"%s\"; status %s:\n", file,
            line, needle, rg_status_name(p->status));
    rgt_print_diag(p->d);
    fail();
}

static void expect_warning(const pset *p, const char *needle)
{
    if (p->d)
        for (size_t i = 0; i < p->d->count; i++)
            if (p->d->entries[i].severity == RG_SEV_WARNING &&
                contains_ci(p->d->entries[i].message, needle))
                return;
    fprintf(stderr, "expected a warning mentioning \"%s\":\n", needle);
    rgt_print_diag(p->d);
    fail();
}

/* A check on an open set: verdict of `text` on the default route. */
static rg_verdict verdict_of(pset *p, const char *route, const char *text, unsigned *flags)
{
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_scratch_alloc(p->e, &s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    q.reply = text;
    q.reply_len = strlen(text);
    assert_int_equal(rg_check(p->e, s, &q, r), RG_OK);
    rg_verdict v = rg_result_verdict(r);
    if (flags)
        *flags = rg_result_flags(r);
    rg_result_free(r);
    rg_scratch_free(s);
    return v;
}

/* A growable string for generated policies. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t k)
{
    if (b->n + k + 1 > b->cap) {
        b->cap = (b->n + k + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, k);
    b->n += k;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)k);
}

/* ---- YAML bombs and sizes -------------------------------------------------- */

static void test_billion_laughs(void **state)
{
    (void)state;
    /* 10 levels of 10 aliases each: 10^9 "lol"s if aliases were expanded */
    sbuf b = {0};
    sb_puts(&b, DET_OK ROUTE_OK "x:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i < 10; i++) {
        sb_printf(&b, "  a%d: &a%d [", i, i);
        for (int k = 0; k < 10; k++)
            sb_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
        sb_puts(&b, "]\n");
    }
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    /* refused at the first anchor, before any tree is built */
    expect_error(&p, "policy.yaml", 9, "anchor");
    free(b.p);
    pset_done(&p);
}

static void test_billion_laughs_in_a_value_position(void **state)
{
    (void)state;
    /* the bomb where the loader expects a list of words */
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml",
               "detectors:\n"
               "  - id: w\n"
               "    category: toxicity.profanity\n"
               "    words: &w [*w, *w]\n"
               "    score: 0.5\n" ROUTE_OK);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 4, "");
    pset_done(&p);
}

static void test_deep_flow_nesting(void **state)
{
    (void)state;
    size_t depth = 100000;
    sbuf b = {0};
    sb_puts(&b, DET_OK ROUTE_OK "x: ");
    for (size_t i = 0; i < depth; i++)
        sb_put(&b, "[", 1);
    for (size_t i = 0; i < depth; i++)
        sb_put(&b, "]", 1);
    sb_puts(&b, "\n");
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 8, "deeper than 64");
    free(b.p);
    pset_done(&p);
}

static void test_deep_block_nesting(void **state)
{
    (void)state;
    sbuf b = {0};
    sb_puts(&b, DET_OK ROUTE_OK);
    for (int i = 0; i < 1000; i++) {
        for (int k = 0; k < i; k++)
            sb_put(&b, " ", 1);
        sb_printf(&b, "k%d:\n", i);
    }
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 0, "deeper than 64");
    free(b.p);
    pset_done(&p);
}

static void test_too_many_nodes(void **state)
{
    (void)state;
    sbuf b = {0};
    sb_puts(&b, "detectors:\n  - id: w\n    category: toxicity.profanity\n    score: 0.5\n"
                "    words: [");
    for (int i = 0; i < 1100000; i++)
        sb_printf(&b, "%sw%d", i ? "," : "", i);
    sb_puts(&b, "]\n" ROUTE_OK);
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 5, "more than 1000000");
    free(b.p);
    pset_done(&p);
}

static void test_policy_file_over_16_mib(void **state)
{
    (void)state;
    size_t n = (16u << 20) + 100;
    char *big = malloc(n);
    assert_non_null(big);
    const char *head = DET_OK ROUTE_OK "#";
    memcpy(big, head, strlen(head));
    memset(big + strlen(head), 'x', n - strlen(head) - 1);
    big[n - 1] = '\n';
    pset p;
    pset_init(&p);
    pset_write_n(&p, "policy.yaml", big, n);
    int st = pset_open(&p);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_error(&p, "policy.yaml", 0, "too large");
    free(big);
    pset_done(&p);
}

static void test_lexicon_over_16_mib(void **state)
{
    (void)state;
    size_t n = (16u << 20) + 100;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = i % 8 == 7 ? '\n' : 'a' + (char)(i % 7);
    pset p;
    pset_init(&p);
    pset_write_n(&p, "lexicons/big.txt", big, n);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: lexicons/big.txt\n    score: 0.5\n" ROUTE_OK);
    int st = pset_open(&p);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_error(&p, "policy.yaml", 4, "too large");
    free(big);
    pset_done(&p);
}

/* The largest legitimate sizes load (and work): a 100,000-word lexicon,
 * a 1 MiB term, 20,000 detectors. */
static void test_hundred_thousand_word_lexicon(void **state)
{
    (void)state;
    sbuf b = {0};
    /* distinct words: "w" + base-26 spelling of i */
    for (int i = 0; i < 100000; i++) {
        char w[16];
        int k = 0, x = i;
        w[k++] = 'w';
        do {
            w[k++] = (char)('a' + x % 26);
            x /= 26;
        } while (x);
        w[k] = '\0';
        sb_printf(&b, "%s\n", w);
    }
    pset p;
    pset_init(&p);
    pset_write(&p, "lexicons/big.txt", b.p);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: lexicons/big.txt\n    score: 0.9\n"
               "routes:\n  default:\n    budget_us: 1000000\n"
               "    categories:\n      toxicity: { block: 0.8 }\n");
    int st = pset_open(&p);
    if (st != RG_OK)
        rgt_print_diag(p.d);
    assert_int_equal(st, RG_OK);
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(p.e, &info), RG_OK);
    assert_true(info.pattern_count >= 100000);
    /* the first and the last word; i = 99999 is "w" + "ddsf" reversed digits */
    assert_int_equal(verdict_of(&p, NULL, "well, wa then", NULL), RG_BLOCK);
    char last[16];
    int k = 0, x = 99999;
    last[k++] = 'w';
    do {
        last[k++] = (char)('a' + x % 26);
        x /= 26;
    } while (x);
    last[k] = '\0';
    char text[64];
    snprintf(text, sizeof text, "so %s it is", last);
    assert_int_equal(verdict_of(&p, NULL, text, NULL), RG_BLOCK);
    assert_int_equal(verdict_of(&p, NULL, "nothing to see", NULL), RG_ALLOW);
    free(b.p);
    pset_done(&p);
}

static void test_one_mib_term(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    char *t = malloc(n + 2);
    assert_non_null(t);
    memset(t, 'a', n);
    t[n] = '\n';
    t[n + 1] = '\0';
    pset p;
    pset_init(&p);
    pset_write(&p, "lexicons/long.txt", t);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: lexicons/long.txt\n    score: 0.5\n" ROUTE_OK);
    /* loads, or is refused with a message at the lexicon line */
    int st = pset_open(&p);
    if (st != RG_OK) {
        assert_true(st == RG_E_POLICY || st == RG_E_COMPILE);
        assert_non_null(rgt_first_error(p.d));
        assert_non_null(rgt_first_error(p.d)->message);
    }
    free(t);
    pset_done(&p);
}

static void test_twenty_thousand_detectors(void **state)
{
    (void)state;
    /* compiling n detectors must be linear: interning each id by a linear
     * search made this quadratic (200,000 took 64 s; RELIABILITY.md) */
    sbuf b = {0};
    sb_puts(&b, "detectors:\n");
    for (int i = 0; i < 20000; i++)
        sb_printf(&b, "  - {id: d%d, category: toxicity.profanity, words: [w%dx], score: 0.9}\n",
                  i, i);
    sb_puts(&b, "routes:\n  default:\n    budget_us: 1000000\n"
                "    categories:\n      toxicity: { block: 0.8 }\n");
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    int st = pset_open(&p);
    if (st != RG_OK)
        rgt_print_diag(p.d);
    assert_int_equal(st, RG_OK);
    assert_int_equal(verdict_of(&p, NULL, "see w19999x", NULL), RG_BLOCK);
    free(b.p);
    pset_done(&p);
}

/* ---- patterns ------------------------------------------------------------------ */

static void test_regex_hyperscan_cannot_compile_runs_on_pcre2(void **state)
{
    (void)state;
    /* a bounded repeat too large for Hyperscan, and a lookbehind: both
     * load with a warning and still find their matches */
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml",
               "detectors:\n"
               "  - id: big.repeat\n"
               "    category: secret.token\n"
               "    regex: 'k[0-9]{65000}'\n"
               "    score: 0.9\n"
               "  - id: behind\n"
               "    category: secret.api_key\n"
               "    regex: '(?<=key=)[A-Z]{8}'\n"
               "    score: 0.9\n"
               "routes:\n  default:\n    budget_us: 1000000\n"
               "    categories:\n      secret: { block: 0.5 }\n");
    int st = pset_open(&p);
    if (st != RG_OK)
        rgt_print_diag(p.d);
    assert_int_equal(st, RG_OK);
    expect_warning(&p, "Hyperscan");
    assert_int_equal(verdict_of(&p, NULL, "the key=ABCDEFGH is here", NULL), RG_BLOCK);
    assert_int_equal(verdict_of(&p, NULL, "the key ABCDEFGH is here", NULL), RG_ALLOW);
    pset_done(&p);
}

static void test_regex_too_large_for_both(void **state)
{
    (void)state;
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml",
               "detectors:\n"
               "  - id: huge\n"
               "    category: secret.token\n"
               "    regex: '(a|b|c|d){5000}x'\n"
               "    score: 0.9\n" ROUTE_OK);
    assert_int_equal(pset_open(&p), RG_E_COMPILE);
    expect_error(&p, "policy.yaml", 4, "too large");
    pset_done(&p);
}

static void test_regex_matching_empty_text(void **state)
{
    (void)state;
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml",
               "detectors:\n"
               "  - id: empty\n"
               "    category: secret.token\n"
               "    regex: 'x*'\n"
               "    score: 0.9\n" ROUTE_OK);
    assert_int_equal(pset_open(&p), RG_E_COMPILE);
    expect_error(&p, "policy.yaml", 4, "empty");
    pset_done(&p);
}

/* Catastrophic backtracking: PCRE2's match limit bounds the work, and
 * running into it counts as a spent budget (flags, on_timeout), never as
 * "no match". */
static void test_catastrophic_backtracking_pcre(void **state)
{
    (void)state;
    static const char *const patterns[] = {
        "(a+)+$",
        "(a|aa)+$",
        "^(a|a?)+$",
        "^(\\w+\\s?)*$",
        "(.*a){25}",
    };
    char reply[128];
    memset(reply, 'a', 60);
    memcpy(reply + 60, "!", 2);
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "detectors:\n"
                 "  - id: evil\n"
                 "    category: secret.token\n"
                 "    pcre: '%s'\n"
                 "    score: 0.9\n"
                 "routes:\n"
                 "  default:\n"
                 "    budget_us: 5000000\n"
                 "    on_timeout: block\n"
                 "    categories:\n"
                 "      secret: { handoff: 0.5 }\n",
                 patterns[i]);
        pset p;
        pset_init(&p);
        pset_write(&p, "policy.yaml", yaml);
        int st = pset_open(&p);
        if (st != RG_OK)
            rgt_print_diag(p.d);
        assert_int_equal(st, RG_OK);
        unsigned fl = 0;
        rg_verdict v = verdict_of(&p, NULL, reply, &fl);
        /* (.*a){25} does match "aaa...a!": a hit (handoff) or, if PCRE2
         * gives up first, the fail-safe; the others cannot match */
        if (fl & RG_FLAG_BUDGET_EXCEEDED) {
            assert_int_equal(fl & (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_FAILSAFE),
                             RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_FAILSAFE);
            assert_int_equal(v, RG_BLOCK);
        } else if (i == 4) {
            assert_int_equal(v, RG_HANDOFF);
        } else {
            fprintf(stderr, "pattern %s: no budget flag (verdict %s)\n", patterns[i],
                    rg_verdict_name(v));
            fail();
        }
        pset_done(&p);
    }
}

/* ---- files and paths ----------------------------------------------------------- */

static void test_fifo_lexicon_and_policy_do_not_hang(void **state)
{
    (void)state;
    pset p;
    pset_init(&p);
    pset_write(&p, "lexicons/.keep", "");
    char fifo[4400];
    snprintf(fifo, sizeof fifo, "%s/lexicons/pipe.txt", p.dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: lexicons/pipe.txt\n    score: 0.5\n" ROUTE_OK);
    int st = pset_open(&p);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_error(&p, "policy.yaml", 4, "regular file");
    pset_done(&p);

    pset_init(&p);
    snprintf(fifo, sizeof fifo, "%s/policy.yaml", p.dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    st = pset_open(&p);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_error(&p, "policy.yaml", 0, "regular file");
    pset_done(&p);
}

static void test_lexicon_path_is_a_directory_or_device(void **state)
{
    (void)state;
    pset p;
    pset_init(&p);
    pset_write(&p, "lexicons/sub/.keep", "");
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: lexicons/sub\n    score: 0.5\n" ROUTE_OK);
    int st = pset_open(&p);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_error(&p, "policy.yaml", 4, "");
    pset_done(&p);

    /* a symlink inside the directory to a device outside it */
    pset_init(&p);
    pset_write(&p, "lexicons/.keep", "");
    char link[4400];
    snprintf(link, sizeof link, "%s/lexicons/zero.txt", p.dir);
    assert_int_equal(symlink("/dev/zero", link), 0);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: lexicons/zero.txt\n    score: 0.5\n" ROUTE_OK);
    st = pset_open(&p);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_error(&p, "policy.yaml", 4, "");
    pset_done(&p);
}

static void test_nul_in_strings(void **state)
{
    (void)state;
    /* "\0" in a double-quoted YAML string must not cut a path short (a
     * C string would stop at it and open another file) */
    pset p;
    pset_init(&p);
    pset_write(&p, "lexicons/a.txt", "damn\n");
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: lex\n    category: toxicity.profanity\n"
               "    lexicon: \"lexicons/a.txt\\0/../../../../etc/passwd\"\n"
               "    score: 0.5\n" ROUTE_OK);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 4, "NUL");
    pset_done(&p);

    pset_init(&p);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: w\n    category: toxicity.profanity\n"
               "    words: [\"da\\0mn\"]\n    score: 0.5\n" ROUTE_OK);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 4, "NUL");
    pset_done(&p);
}

static void test_binary_and_invalid_utf8_files(void **state)
{
    (void)state;
    pset p;
    pset_init(&p);
    const char nul[] = DET_OK ROUTE_OK "\0\n";
    pset_write_n(&p, "policy.yaml", nul, sizeof nul - 1);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 8, "");
    pset_done(&p);

    pset_init(&p);
    pset_write(&p, "policy.yaml",
               "detectors:\n  - id: w\n    category: toxicity.profanity\n"
               "    words: [da\xffmn]\n    score: 0.5\n" ROUTE_OK);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 4, "UTF-8");
    pset_done(&p);

    /* random bytes */
    unsigned char junk[4096];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    pset_init(&p);
    pset_write_n(&p, "policy.yaml", (const char *)junk, sizeof junk);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    assert_non_null(rgt_first_error(p.d));
    pset_done(&p);
}

/* ---- routes ---------------------------------------------------------------------- */

static void test_long_extends_chain(void **state)
{
    (void)state;
    sbuf b = {0};
    sb_puts(&b, DET_OK "routes:\n  default: {}\n  r0: {extends: default}\n");
    for (int i = 1; i < 5000; i++)
        sb_printf(&b, "  r%d: {extends: r%d}\n", i, i - 1);
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 0, "deeper than");
    free(b.p);
    pset_done(&p);
}

static void test_long_extends_cycle(void **state)
{
    (void)state;
    sbuf b = {0};
    sb_puts(&b, DET_OK "routes:\n  default: {}\n");
    for (int i = 0; i < 3000; i++)
        sb_printf(&b, "  r%d: {extends: r%d}\n", i, (i + 1) % 3000);
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 0, "cycle");
    free(b.p);
    pset_done(&p);
}

static void test_mask_length_is_capped(void **state)
{
    (void)state;
    /* a mask replaces every redacted span: a long one multiplies the size
     * of the redacted copy, so it is refused at load time */
    sbuf b = {0};
    sb_puts(&b, DET_OK "routes:\n  default:\n    mask: \"");
    for (int i = 0; i < 300; i++)
        sb_put(&b, "M", 1);
    sb_puts(&b, "\"\n");
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 8, "mask");
    pset_done(&p);

    b.n = 0;
    sb_puts(&b, DET_OK "routes:\n  default:\n    categories:\n"
                "      toxicity: { redact: 0.5, mask: \"");
    for (int i = 0; i < 300; i++)
        sb_put(&b, "M", 1);
    sb_puts(&b, "\" }\n");
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 9, "mask");
    pset_done(&p);

    /* 256 bytes is fine */
    b.n = 0;
    sb_puts(&b, DET_OK "routes:\n  default:\n    mask: \"");
    for (int i = 0; i < 256; i++)
        sb_put(&b, "M", 1);
    sb_puts(&b, "\"\n");
    pset_init(&p);
    pset_write(&p, "policy.yaml", b.p);
    int st = pset_open(&p);
    if (st != RG_OK)
        rgt_print_diag(p.d);
    assert_int_equal(st, RG_OK);
    pset_done(&p);
    free(b.p);
}

static void test_huge_numbers(void **state)
{
    (void)state;
    /* max_bytes beyond what the offset maps hold is clamped, not trusted;
     * numbers beyond their type are refused */
    pset p;
    pset_init(&p);
    pset_write(&p, "policy.yaml",
               DET_OK "routes:\n  default:\n    max_bytes: 18446744073709551615\n"
                      "    budget_us: 1000000\n"
                      "    categories:\n      toxicity: { block: 0.5 }\n");
    int st = pset_open(&p);
    if (st != RG_OK)
        rgt_print_diag(p.d);
    assert_int_equal(st, RG_OK);
    assert_int_equal(verdict_of(&p, NULL, "damn", NULL), RG_BLOCK);
    pset_done(&p);

    pset_init(&p);
    pset_write(&p, "policy.yaml",
               DET_OK "routes:\n  default:\n    max_bytes: 99999999999999999999999\n");
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 8, "max_bytes");
    pset_done(&p);

    pset_init(&p);
    pset_write(&p, "policy.yaml",
               DET_OK "routes:\n  default:\n    budget_us: 18446744073709551615\n");
    assert_int_equal(pset_open(&p), RG_E_POLICY);
    expect_error(&p, "policy.yaml", 8, "budget_us");
    pset_done(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_billion_laughs_in_a_value_position),
        cmocka_unit_test(test_deep_flow_nesting),
        cmocka_unit_test(test_deep_block_nesting),
        cmocka_unit_test(test_too_many_nodes),
        cmocka_unit_test(test_policy_file_over_16_mib),
        cmocka_unit_test(test_lexicon_over_16_mib),
        cmocka_unit_test(test_hundred_thousand_word_lexicon),
        cmocka_unit_test(test_one_mib_term),
        cmocka_unit_test(test_twenty_thousand_detectors),
        cmocka_unit_test(test_regex_hyperscan_cannot_compile_runs_on_pcre2),
        cmocka_unit_test(test_regex_too_large_for_both),
        cmocka_unit_test(test_regex_matching_empty_text),
        cmocka_unit_test(test_catastrophic_backtracking_pcre),
        cmocka_unit_test(test_fifo_lexicon_and_policy_do_not_hang),
        cmocka_unit_test(test_lexicon_path_is_a_directory_or_device),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_binary_and_invalid_utf8_files),
        cmocka_unit_test(test_long_extends_chain),
        cmocka_unit_test(test_long_extends_cycle),
        cmocka_unit_test(test_mask_length_is_capped),
        cmocka_unit_test(test_huge_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
