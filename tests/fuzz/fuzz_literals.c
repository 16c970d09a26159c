/* fuzz_literals.c — trigger literals (lib/literals.c) on arbitrary
 * pattern bytes, with PCRE2 as the oracle.
 *
 * Input: a pattern, optionally followed by "\0" and a text. The reader
 * must return -1, 0 or 1 without crashing, within its bounds; when it
 * returns a set (every literal non-empty, lower-case, no NUL, at least
 * minlen bytes — a whole word's two boundaries counting as bytes — or
 * holding a rare byte, at most maxn of them), any text PCRE2 matches with
 * the pattern — the given text, the literals themselves and the pattern's
 * own bytes are tried — must contain one of the literals, compared without
 * ASCII case, with the word boundaries its edges ask for (what the scan
 * callback accepts), and with a prefix set at the match's start. That is
 * the soundness compile.c relies on when it puts the literals into
 * Hyperscan in place of the regex. */
#include "fuzz_util.h"
#include "alloc.h"
#include "literals.h"
#include <strings.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An occurrence of literal i at t[j..] the scan callback would take. */
static int occurs_at(const char *t, size_t n, const rg__lits *l, size_t i, size_t j)
{
    size_t m = strlen(l->v[i]);
    return j + m <= n && !strncasecmp(t + j, l->v[i], m) &&
           (!(l->edges[i] & RG__LIT_EDGE_LEFT) || rg__lit_boundary(t, n, j)) &&
           (!(l->edges[i] & RG__LIT_EDGE_RIGHT) || rg__lit_boundary(t, n, j + m));
}

/* Does a match starting at ms hold a literal (at ms for a prefix set)? */
static int has_literal(const char *t, size_t n, const rg__lits *l, size_t ms)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = l->prefix ? ms : 0; j <= (l->prefix ? ms : n); j++)
            if (occurs_at(t, n, l, i, j))
                return 1;
    return 0;
}

static void oracle(pcre2_code *re, pcre2_match_data *md, const char *t, size_t n,
                   const rg__lits *l, const char *pat)
{
    if (pcre2_match(re, (PCRE2_SPTR)t, n, 0, 0, md, NULL) < 0)
        return;
    size_t ms = pcre2_get_ovector_pointer(md)[0];
    FUZZ_ASSERT(has_literal(t, n, l, ms),
                "/%s/ matches a %zu-byte text at %zu that has none of its %zu literals%s", pat,
                n, ms, l->n, l->prefix ? " there" : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    char *pat = malloc(plen + 1);
    if (!pat)
        return 0;
    memcpy(pat, data, plen);
    pat[plen] = '\0';
    const char *text = nul ? (const char *)nul + 1 : "";
    size_t tlen = nul ? size - plen - 1 : 0;

    rg_allocator a;
    rg__allocator_init(&a, NULL);
    size_t minlen = 1 + (plen % 4), maxn = 64 + (plen % 5) * 1000;
    rg__lits l;
    int rc = rg__trigger_literals(&a, pat, minlen, maxn, &l);
    FUZZ_ASSERT(rc >= -1 && rc <= 1, "status %d", rc);
    if (rc != 1) {
        FUZZ_ASSERT(l.n == 0 && l.v == NULL, "no set but %zu literals", l.n);
        free(pat);
        return 0;
    }
    FUZZ_ASSERT(l.n >= 1 && l.n <= maxn, "%zu literals (maxn %zu)", l.n, maxn);
    for (size_t i = 0; i < l.n; i++) {
        size_t m = strlen(l.v[i]);
        int rare = strpbrk(l.v[i], "@/\\#$%^&*=<>{}[]|~`_") != NULL;
        size_t word = l.edges[i] == (RG__LIT_EDGE_LEFT | RG__LIT_EDGE_RIGHT) ? 2 : 0;
        FUZZ_ASSERT((m + word >= minlen || rare) && m >= l.minlen,
                    "literal of %zu bytes (minlen %zu) with no rare byte", m, minlen);
        for (size_t k = 0; k < m; k++)
            FUZZ_ASSERT(!(l.v[i][k] >= 'A' && l.v[i][k] <= 'Z'), "upper case in a literal");
    }
    /* The oracle: PCRE2 caseless (which only widens the matches the
     * literals must cover) in byte mode, where case folding is ASCII as in
     * Hyperscan without UCP, which is what the literals replace. (In UTF
     * mode PCRE2 also folds "k" to U+212A KELVIN SIGN; Hyperscan never
     * did, with or without triggers.) */
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS,
                                   &err, &off, NULL);
    if (re) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        pcre2_match_context *mc = pcre2_match_context_create(NULL);
        if (md && mc) {
            pcre2_set_match_limit(mc, 100000);
            oracle(re, md, text, tlen, &l, pat);
            oracle(re, md, pat, plen, &l, pat);
            for (size_t i = 0; i < l.n && i < 64; i++)
                oracle(re, md, l.v[i], strlen(l.v[i]), &l, pat);
        }
        pcre2_match_context_free(mc);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }
    rg__lits_free(&a, &l);
    free(pat);
    return 0;
}
