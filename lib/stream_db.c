/* stream_db.c — what streaming needs from a snapshot, built once per
 * snapshot on first use (or with every snapshot under RG_ENGINE_STREAMING):
 *
 *   - Hyperscan HS_MODE_STREAM databases of the raw and normalized views:
 *     every literal (words, allow lists, context words) and every regex of
 *     the view, without HS_FLAG_SINGLEMATCH, from the expressions the
 *     block-mode databases were compiled from (rg__snapshot.hx);
 *   - per regex detector, a copy of its PCRE2 code JIT-compiled for
 *     partial matching, its start bytes, whether a match can span
 *     whitespace, and a table of the byte pairs a match can start with;
 *   - per view, the prefixes of every listed term (rg__pset);
 *   - per detector, how far its allow-list and context words reach.
 *
 * Measured for the shipped policy set in docs/STREAMING.md (a few
 * seconds, nearly all of it Hyperscan's compile). */
#include "stream.h"
#include "alloc.h"
#include <string.h>

#define RG__HP 0x100000001b3ull

static inline uint64_t hkey(uint64_t h, size_t k)
{
    uint64_t x = h ^ ((uint64_t)k * 0x9E3779B97F4A7C15ull);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x | 1;
}

static inline unsigned char fold_byte(const rg__pset *p, unsigned char c)
{
    return p->fold && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static void pset_add(rg__pset *p, uint64_t key)
{
    size_t i = (size_t)key & p->mask;
    while (p->slot[i] && p->slot[i] != key)
        i = (i + 1) & p->mask;
    p->slot[i] = key;
}

static inline int pset_has(const rg__pset *p, uint64_t key)
{
    size_t i = (size_t)key & p->mask;
    while (p->slot[i]) {
        if (p->slot[i] == key)
            return 1;
        i = (i + 1) & p->mask;
    }
    return 0;
}


/* The smallest q in [lo, n) such that t[q..n) is a prefix of some term
 * whose match could start at q (left edge), or n. The hash of a suffix is
 * extended one byte to the left at a time, which is how prefixes were
 * hashed at build time, so the cost is one lookup per byte of maxlen. */
size_t rg__prefix_hold(const rg__pset *p, const char *t, size_t n, size_t lo)
{
    if (!p->slot || n <= lo)
        return n;
    size_t best = n;
    uint64_t h = 0;
    for (size_t k = 1; k <= p->maxlen && k <= n - lo; k++) {
        unsigned char c = fold_byte(p, (unsigned char)t[n - k]);
        h = h * RG__HP + c + 1;
        size_t q = n - k;
        /* Inside a word no term can start (its left edge): skip the
         * lookup; the exact edge test runs on a hit only. */
        unsigned char pc = q > 0 ? (unsigned char)t[q - 1] : ' ';
        if (rg__word_byte(c) && pc < 0x80 && rg__word_byte(pc))
            continue;
        if (!pset_has(p, hkey(h, k)))
            continue;
        if (rg__word_byte(c) && rg__word_before(t, n, q))
            continue;
        best = q;
    }
    return best;
}


/* ------------------------------------------------------------------ */
/* Which regexes can match across whitespace                           */
/* ------------------------------------------------------------------ */

/* A lexical over-approximation on the pattern text: every character of a
 * match comes from some atom of the pattern (a literal, a class, an
 * escape, a dot; back references and subroutine calls repeat other
 * atoms), so if no atom can match an ASCII whitespace byte, no match can
 * hold one. Whenever unsure, the answer is "it can". A regex that cannot
 * ("token-bound": e-mail, keys, tokens) lies within one token, and the
 * unfinished token is held back anyway (stream.c), so it never needs a
 * partial match looked for. */

#define WS_ALL 0x3Fu /* \t \n \v \f \r and space, one bit each */
#define WS_V 0x1Eu   /* \n \v \f \r */
#define WS_H 0x21u   /* \t and space */

static unsigned ws_bit(unsigned v)
{
    return v == ' ' ? 1u << 5 : v >= 9 && v <= 13 ? 1u << (v - 9) : 0;
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* An escape at p[*i] == '\\', advancing *i past it. Returns the
 * whitespace bytes it may match (WS_ALL when unsure); *sure receives
 * those it matches for certain (a negated class excludes only these). */
static unsigned esc_ws(const char *p, size_t n, size_t *i, unsigned *sure)
{
    size_t j = *i + 1;
    *sure = 0;
    if (j >= n) {
        *i = n;
        return 0;
    }
    char c = p[j];
    *i = j + 1;
    unsigned v = 0;
    switch (c) {
    case 'w': case 'd': case 'S': case 'b': case 'B': case 'A': case 'z':
    case 'Z': case 'G': case 'K': case 'E': case 'e': case 'a':
        return 0; /* no whitespace, or no character at all */
    case 's': case 'D': case 'W': case 'X': case 'C':
        *sure = WS_ALL;
        return WS_ALL;
    case 'h': case 'V': /* horizontal space; "not vertical": the same ones */
        *sure = WS_H;
        return WS_H;
    case 'v': case 'R': case 'H': /* vertical; "not horizontal": the same */
        *sure = WS_V;
        return WS_V;
    case 'N':
        if (*i < n && p[*i] == '{') { /* \N{U+hh} */
            size_t k = *i + 1;
            if (k + 1 >= n || p[k] != 'U' || p[k + 1] != '+')
                return WS_ALL;
            for (k += 2; k < n && hexv(p[k]) >= 0; k++)
                v = v * 16 + (unsigned)hexv(p[k]);
            if (k >= n || p[k] != '}')
                return WS_ALL;
            *i = k + 1;
            break;
        }
        *sure = WS_ALL & ~ws_bit('\n'); /* any character but a newline */
        return WS_ALL;
    case 'p': case 'P': /* a Unicode property: not worth the care */
        if (*i < n && p[*i] == '{') {
            while (*i < n && p[*i] != '}')
                (*i)++;
            if (*i < n)
                (*i)++;
        } else if (*i < n) {
            (*i)++;
        }
        return WS_ALL;
    case 't': v = '\t'; break;
    case 'n': v = '\n'; break;
    case 'r': v = '\r'; break;
    case 'f': v = '\f'; break;
    case 'x':
        if (*i < n && p[*i] == '{') {
            size_t k = *i + 1;
            while (k < n && hexv(p[k]) >= 0)
                v = v * 16 + (unsigned)hexv(p[k++]);
            if (k >= n || p[k] != '}')
                return WS_ALL;
            *i = k + 1;
        } else {
            for (int d = 0; d < 2 && *i < n && hexv(p[*i]) >= 0; d++)
                v = v * 16 + (unsigned)hexv(p[(*i)++]);
        }
        break;
    case 'o': {
        size_t k = *i + 1;
        if (*i >= n || p[*i] != '{')
            return WS_ALL;
        while (k < n && p[k] >= '0' && p[k] <= '7')
            v = v * 8 + (unsigned)(p[k++] - '0');
        if (k >= n || p[k] != '}')
            return WS_ALL;
        *i = k + 1;
        break;
    }
    case '0':
        for (int d = 0; d < 2 && *i < n && p[*i] >= '0' && p[*i] <= '7'; d++)
            v = v * 8 + (unsigned)(p[(*i)++] - '0');
        break;
    case 'c': /* \cX: a control character */
        if (*i >= n)
            return WS_ALL;
        v = ((unsigned)(unsigned char)p[*i] & ~32u) ^ 0x40u;
        (*i)++;
        break;
    case 'k': case 'g':
        /* Back references and subroutine calls: what other atoms match.
         * Skip the name or number. */
        if (*i < n && (p[*i] == '{' || p[*i] == '<' || p[*i] == '\'')) {
            char close = p[*i] == '{' ? '}' : p[*i] == '<' ? '>' : '\'';
            while (*i < n && p[*i] != close)
                (*i)++;
            if (*i < n)
                (*i)++;
        } else {
            if (*i < n && (p[*i] == '-' || p[*i] == '+'))
                (*i)++;
            while (*i < n && p[*i] >= '0' && p[*i] <= '9')
                (*i)++;
        }
        return 0;
    case 'Q': { /* literal text up to \E */
        unsigned q = 0;
        while (*i < n && !(p[*i] == '\\' && *i + 1 < n && p[*i + 1] == 'E'))
            q |= ws_bit((unsigned char)p[(*i)++]);
        if (*i < n)
            *i += 2;
        *sure = q;
        return q;
    }
    default:
        if (c >= '1' && c <= '9') { /* a back reference */
            while (*i < n && p[*i] >= '0' && p[*i] <= '9')
                (*i)++;
            return 0;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return WS_ALL; /* an escape not known here */
        v = (unsigned char)c; /* an escaped literal, "\ " among them */
        break;
    }
    *sure = ws_bit(v);
    return *sure;
}

/* A class at p[*i] == '[', advancing *i past it: 1 if it may match a
 * whitespace byte. */
static int class_ws(const char *p, size_t n, size_t *i)
{
    static const char *const no_ws[] = {"alpha", "digit", "alnum", "upper", "lower",
                                        "word", "xdigit", "punct", "graph"};
    size_t j = *i + 1;
    int neg = 0;
    if (j < n && p[j] == '^') {
        neg = 1;
        j++;
    }
    unsigned may = 0, sure = 0; /* over the items listed */
    int first = 1;
    while (j < n && (p[j] != ']' || first)) {
        unsigned s1;
        first = 0;
        if (p[j] == '[' && j + 1 < n && p[j + 1] == ':') { /* [:name:] */
            size_t k = j + 2;
            int pneg = k < n && p[k] == '^';
            size_t s0 = pneg ? k + 1 : k;
            while (k < n && p[k] != ']')
                k++;
            size_t len = k > s0 + 1 ? k - 1 - s0 : 0; /* the name, ":]" off */
            int known = 0;
            for (size_t q = 0; q < sizeof no_ws / sizeof no_ws[0]; q++)
                known |= strlen(no_ws[q]) == len && !memcmp(no_ws[q], p + s0, len);
            if (known && pneg) { /* [:^alpha:]: every whitespace byte */
                may |= WS_ALL;
                sure |= WS_ALL;
            } else if (!known) {
                may |= WS_ALL;
            }
            j = k < n ? k + 1 : n;
            continue;
        }
        if (p[j] == '\\') {
            may |= esc_ws(p, n, &j, &s1);
            sure |= s1;
            if (j + 1 < n && p[j] == '-' && p[j + 1] != ']') {
                may |= WS_ALL; /* a range from an escape: anything */
                j++;
                if (p[j] == '\\')
                    esc_ws(p, n, &j, &s1);
                else
                    j++;
            }
            continue;
        }
        unsigned char a = (unsigned char)p[j++];
        if (j + 1 < n && p[j] == '-' && p[j + 1] != ']') {
            j++;
            if (p[j] == '\\') {
                may |= WS_ALL;
                esc_ws(p, n, &j, &s1);
                continue;
            }
            unsigned char b = (unsigned char)p[j++];
            for (unsigned c = a; c <= b && c < 128; c++) {
                may |= ws_bit(c);
                sure |= ws_bit(c);
            }
            continue;
        }
        may |= ws_bit(a);
        sure |= ws_bit(a);
    }
    *i = j < n ? j + 1 : n;
    return neg ? sure != WS_ALL : may != 0;
}

/* 1 if a match of the pattern (compiled with opts) may hold an ASCII
 * whitespace byte. Follows (?x) per group: in extended mode, whitespace
 * and #-comments outside classes are not part of the pattern. */
static int may_hold_space(const char *p, uint32_t opts)
{
    enum { DEPTH = 64 };
    int ext[DEPTH];
    int depth = 0;
    ext[0] = (opts & PCRE2_EXTENDED) != 0;
    size_t n = strlen(p), i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        unsigned sure;
        if (c == '\\') {
            if (esc_ws(p, n, &i, &sure))
                return 1;
            continue;
        }
        if (c == '[') {
            if (class_ws(p, n, &i))
                return 1;
            continue;
        }
        if (c == '.')
            return 1;
        if (ext[depth] && c == '#') {
            while (i < n && p[i] != '\n')
                i++;
            continue;
        }
        if (rg__ws_byte(c)) {
            if (!ext[depth])
                return 1;
            i++;
            continue;
        }
        if (c == ')') {
            if (depth > 0)
                depth--;
            i++;
            continue;
        }
        if (c != '(') {
            i++;
            continue;
        }
        if (depth == DEPTH - 2)
            return 1;
        int e = ext[depth];
        i++;
        if (i < n && p[i] == '*') { /* (*VERB): no characters */
            while (i < n && p[i] != ')')
                i++;
            if (i < n)
                i++;
            continue;
        }
        if (i + 1 < n && p[i] == '?' && p[i + 1] == '#') { /* (?# comment) */
            while (i < n && p[i] != ')')
                i++;
            if (i < n)
                i++;
            continue;
        }
        if (i < n && p[i] == '?') {
            size_t j = i + 1;
            int on = 1, setx = -1;
            while (j < n && strchr("imnsxJUaDSWPrX-^", p[j])) {
                if (p[j] == '-') {
                    on = 0;
                } else if (p[j] == '^') {
                    on = 1;
                    setx = 0;
                } else if (p[j] == 'x') {
                    setx = on;
                }
                j++;
            }
            if (j < n && p[j] == ')' && j > i + 1) { /* (?x): the group's rest */
                if (setx >= 0)
                    ext[depth] = setx;
                i = j + 1;
                continue;
            }
            if (j < n && p[j] == ':' && j > i + 1) { /* (?x:...) */
                depth++;
                ext[depth] = setx >= 0 ? setx : e;
                i = j + 1;
                continue;
            }
        }
        depth++;
        ext[depth] = e;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The streaming data                                                  */
/* ------------------------------------------------------------------ */

void rg__sdb_free(struct rg__sdb *d)
{
    if (!d)
        return;
    rg_allocator a = d->a;
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        hs_free_database(d->db[v]);
        rg__free(&a, d->pre[v].slot);
    }
    for (size_t i = 0; i < d->nrx; i++)
        pcre2_code_free(d->rx[i].re);
    rg__free(&a, d->rx);
    rg__free(&a, d->slot_of);
    rg__free(&a, d->pairs);
    rg__free(&a, d->allow_len);
    rg__free(&a, d->callow);
    rg__free(&a, d->ctx_len);
    rg__free(&a, d->ctx_after);
    rg__free(&a, d);
}

/* A literal expression (compile.c: letters and digits as they are, every
 * other byte as \xHH) back to its bytes; returns the length. */
static size_t unescape(const char *e, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; e[i];) {
        if (e[i] == '\\' && e[i + 1] == 'x' && e[i + 2] && e[i + 3]) {
            unsigned v = 0;
            for (int k = 2; k < 4; k++) {
                char c = e[i + k];
                v = v * 16 + (unsigned)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
            }
            out[o++] = (unsigned char)v;
            i += 4;
        } else {
            out[o++] = (unsigned char)e[i++];
        }
    }
    return o;
}

static int build_pset(const rg_allocator *a, const rg__snapshot *s, int v,
                      rg__pset *p, uint32_t *ctok)
{
    const rg__hexprs *hx = &s->hx[v];
    size_t total = 0, maxlen = 0;
    for (size_t i = 0; i < hx->n; i++) {
        const rg__pat *pat = &s->pats[hx->ids[i]];
        if (pat->type == RG__PAT_WORD) {
            total += pat->len;
            if (pat->len > maxlen)
                maxlen = pat->len;
        }
    }
    if (!total)
        return 0;
    size_t cap = 16;
    while (cap < total * 2)
        cap *= 2;
    p->slot = rg__calloc(a, cap, sizeof *p->slot);
    unsigned char *buf = rg__malloc(a, maxlen * 4 + strlen("") + 8);
    if (!p->slot || !buf) {
        rg__free(a, buf);
        return -1;
    }
    p->mask = cap - 1;
    p->maxlen = (uint32_t)maxlen;
    p->fold = v == RG__VIEW_RAW;
    for (size_t i = 0; i < hx->n; i++) {
        const rg__pat *pat = &s->pats[hx->ids[i]];
        if (pat->type != RG__PAT_WORD)
            continue;
        size_t n = unescape(hx->expr[i], buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = fold_byte(p, buf[k]);
        for (size_t k = 1; k <= n; k++) {
            uint64_t h = 0;
            for (size_t j = k; j-- > 0;)
                h = h * RG__HP + buf[j] + 1;
            pset_add(p, hkey(h, k));
        }
        if (v == RG__VIEW_COMPACT) {
            uint32_t nt = 0;
            for (size_t k = 0; k < n; k++)
                nt += rg__tok_byte(buf[k]) && (k == 0 || !rg__tok_byte(buf[k - 1]));
            if (nt > *ctok)
                *ctok = nt;
        }
    }
    rg__free(a, buf);
    return 0;
}

/* The start set of a PCRE2 code as 256 bits; 0 when unknown. */
static int first_bytes(const pcre2_code *re, uint64_t bits[4])
{
    memset(bits, 0, 4 * sizeof *bits);
    uint32_t type = 0;
    pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &type);
    if (type == 1) {
        /* PCRE2 does not say whether that unit matches caselessly (an
         * inline (?i) makes it so): both cases of a letter; beyond
         * ASCII, unknown. */
        uint32_t cu = 0;
        pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODEUNIT, &cu);
        if (cu >= 0x80)
            return 0;
        bits[cu >> 6] |= 1ull << (cu & 63);
        if ((cu | 32) >= 'a' && (cu | 32) <= 'z') {
            cu ^= 32;
            bits[cu >> 6] |= 1ull << (cu & 63);
        }
        return 1;
    }
    if (type == 0) {
        const uint8_t *bm = NULL;
        pcre2_pattern_info(re, PCRE2_INFO_FIRSTBITMAP, &bm);
        if (!bm)
            return 0;
        for (int b = 0; b < 256; b++)
            if (bm[b / 8] & (1u << (b % 8)))
                bits[b >> 6] |= 1ull << (b & 63);
        return 1;
    }
    return 0; /* anchored at a line start: no start set */
}

/* The streaming database of one view: its literals and regexes (without
 * HS_FLAG_SINGLEMATCH: every match end matters). A regex Hyperscan
 * refuses in streaming mode is left to PCRE2 alone (nohs). */
static int build_db(struct rg__sdb *d, const rg__snapshot *s, int v)
{
    const rg_allocator *a = &d->a;
    const rg__hexprs *hx = &s->hx[v];
    if (!hx->n)
        return RG_OK;
    const char **ex = rg__calloc(a, hx->n, sizeof *ex);
    unsigned *fl = rg__calloc(a, hx->n, sizeof *fl);
    unsigned *id = rg__calloc(a, hx->n, sizeof *id);
    uint8_t *skip = rg__calloc(a, hx->n, 1);
    int rc = !ex || !fl || !id || !skip ? RG_E_NOMEM : RG_OK;
    for (size_t tries = 0; rc == RG_OK && tries <= hx->n; tries++) {
        size_t n = 0;
        for (size_t i = 0; i < hx->n; i++) {
            if (skip[i])
                continue;
            ex[n] = hx->expr[i];
            fl[n] = hx->flags[i] & ~(unsigned)HS_FLAG_SINGLEMATCH;
            id[n] = hx->ids[i];
            n++;
        }
        if (!n)
            break;
        hs_compile_error_t *err = NULL;
        if (hs_compile_multi(ex, fl, id, (unsigned)n, HS_MODE_STREAM, NULL, &d->db[v],
                             &err) == HS_SUCCESS)
            break;
        /* Drop the expression at fault if it is a regex; a literal
         * failing is not expected and fails the build. */
        long bad = err && err->expression >= 0 ? err->expression : -1;
        hs_free_compile_error(err);
        d->db[v] = NULL;
        long k = -1;
        for (size_t i = 0, j = 0; i < hx->n && bad >= 0; i++) {
            if (skip[i])
                continue;
            if ((long)j++ == bad) {
                k = (long)i;
                break;
            }
        }
        if (k < 0 || s->pats[hx->ids[k]].type != RG__PAT_REGEX) {
            rc = RG_E_COMPILE;
            break;
        }
        skip[k] = 1;
        uint32_t slot = d->slot_of[s->pats[hx->ids[k]].det];
        if (slot != UINT32_MAX)
            d->rx[slot].nohs = 1;
    }
    rg__free(a, ex);
    rg__free(a, fl);
    rg__free(a, id);
    rg__free(a, skip);
    return rc;
}

/* Which two ASCII bytes can start a match of each gated regex (one that
 * can span whitespace, or that Hyperscan does not watch), found by asking
 * PCRE2 about every pair: an anchored partial-hard match of b1 b2 after a
 * word byte, after a non-word byte, and at the start of the text. Any real
 * match starting with b1 b2 reads them and then reaches the end of such a
 * probe, so the answer is partial (or a match): a sound filter. Patterns
 * that look further back than the byte before are left out (first-byte
 * filter only). ~20 ms for the shipped set. */
static int build_pairs(struct rg__sdb *d)
{
    d->words = (d->nrx + 63) / 64;
    if (!d->nrx)
        return RG_OK;
    d->pairs = rg__calloc(&d->a, 2u * 128 * 128 * d->words, sizeof *d->pairs);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!d->pairs || !md) {
        pcre2_match_data_free(md);
        return RG_E_NOMEM;
    }
    for (size_t k = 0; k < d->nrx; k++) {
        rg__rxslot *x = &d->rx[k];
        uint32_t lb = 0;
        pcre2_pattern_info(x->re, PCRE2_INFO_MAXLOOKBEHIND, &lb);
        if ((!x->span && !x->nohs) || x->any || lb > 1)
            continue;
        x->pairs = 1;
        uint64_t bit = 1ull << (k & 63);
        for (unsigned b1 = 0; b1 < 128; b1++) {
            if (!((x->first[b1 >> 6] >> (b1 & 63)) & 1))
                continue;
            for (unsigned b2 = 0; b2 < 128; b2++) {
                unsigned char sub[3];
                for (int ctx = 0; ctx < 2; ctx++) {
                    sub[0] = ctx ? ' ' : 'a';
                    sub[1] = (unsigned char)b1;
                    sub[2] = (unsigned char)b2;
                    int ok = pcre2_match(x->re, sub, 3, 1, PCRE2_ANCHORED | PCRE2_PARTIAL_HARD,
                                         md, NULL);
                    if (ctx && ok < 0 && ok != PCRE2_ERROR_PARTIAL)
                        ok = pcre2_match(x->re, sub + 1, 2, 0,
                                         PCRE2_ANCHORED | PCRE2_PARTIAL_HARD, md, NULL);
                    if (ok >= 0 || ok == PCRE2_ERROR_PARTIAL)
                        d->pairs[(((size_t)ctx * 128 + b1) * 128 + b2) * d->words + k / 64] |= bit;
                }
            }
        }
    }
    pcre2_match_data_free(md);
    return RG_OK;
}

int rg__sdb_build(rg__snapshot *s)
{
    if (atomic_load(&s->sdb))
        return RG_OK;
    uint64_t t0 = rg__stream_now();
    const rg_allocator *sa = &s->a;
    struct rg__sdb *d = rg__calloc(sa, 1, sizeof *d);
    if (!d)
        return RG_E_NOMEM;
    d->a = *sa;
    const rg_allocator *a = &d->a;
    int rc = RG_OK;
    size_t nd = s->ndets ? s->ndets : 1;
    d->allow_len = rg__calloc(a, nd, sizeof *d->allow_len);
    d->ctx_len = rg__calloc(a, nd, sizeof *d->ctx_len);
    d->ctx_after = rg__calloc(a, nd, sizeof *d->ctx_after);
    d->slot_of = rg__calloc(a, nd, sizeof *d->slot_of);
    d->rx = rg__calloc(a, nd, sizeof *d->rx);
    if (!d->allow_len || !d->ctx_len || !d->ctx_after || !d->slot_of || !d->rx)
        rc = RG_E_NOMEM;
    /* Regexes: a copy of each PCRE2 code JIT-compiled for partial
     * matching too (the snapshot's codes are shared and immutable), the
     * bytes a match can start with, and whether a match can span
     * whitespace. */
    for (size_t i = 0; rc == RG_OK && i < s->ndets; i++) {
        const rg__cdet *cd = &s->dets[i];
        d->slot_of[i] = UINT32_MAX;
        d->ctx_after[i] = -1;
        if (!cd->re || cd->view == RG__VIEW_COMPACT)
            continue;
        rg__rxslot *x = &d->rx[d->nrx];
        x->re = pcre2_code_copy(cd->re);
        if (!x->re) {
            rc = RG_E_NOMEM;
            break;
        }
        x->jit = pcre2_jit_compile(x->re, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD) == 0;
        x->det = (uint32_t)i;
        x->view = cd->view == RG__VIEW_RAW ? RG__VIEW_RAW : RG__VIEW_NORM;
        x->any = !first_bytes(x->re, x->first);
        x->span = (uint8_t)may_hold_space(cd->pattern ? cd->pattern : ".", cd->pcre_opts);
        x->nohs = (uint8_t)cd->pcre_only;
        int u = x->view == RG__VIEW_NORM;
        d->uany[u] |= x->any;
        for (int w = 0; w < 4; w++)
            d->ustart[u][w] |= x->first[w];
        d->slot_of[i] = (uint32_t)d->nrx++;
    }
    /* Streaming databases: raw and normalized views (the compacted view is
     * scanned in regions with its block-mode database). */
    for (int v = RG__VIEW_RAW; v <= RG__VIEW_NORM && rc == RG_OK; v++)
        rc = build_db(d, s, v);
    if (rc == RG_OK)
        rc = build_pairs(d);
    for (int v = 0; v < RG__VIEW_COUNT && rc == RG_OK; v++)
        if (build_pset(a, s, v, &d->pre[v], &d->ctok))
            rc = RG_E_NOMEM;
    /* Allow-list entries of the compacted view: their length in tokens
     * bounds how far back a region must look, and a hit of their detector
     * waits for the compaction frontier (one could still drop it). */
    d->callow = rg__calloc(a, nd, 1);
    if (!d->callow)
        rc = RG_E_NOMEM;
    for (size_t i = 0; rc == RG_OK && i < s->hx[RG__VIEW_COMPACT].n; i++) {
        const rg__pat *p = &s->pats[s->hx[RG__VIEW_COMPACT].ids[i]];
        if (p->type != RG__PAT_ALLOW)
            continue;
        d->callow[p->det] = 1;
        unsigned char buf[1024];
        const char *e = s->hx[RG__VIEW_COMPACT].expr[i];
        if (strlen(e) >= sizeof buf)
            continue;
        size_t n = unescape(e, buf);
        uint32_t nt = 0;
        for (size_t k = 0; k < n; k++)
            nt += rg__tok_byte(buf[k]) && (k == 0 || !rg__tok_byte(buf[k - 1]));
        if (nt > d->ctok)
            d->ctok = nt;
    }
    /* Per detector: how far allow-list and context words reach. */
    for (size_t i = 0; rc == RG_OK && i < s->ndets; i++) {
        const rg__cdet *cd = &s->dets[i];
        for (uint16_t c = 0; c < cd->nctx; c++) {
            if (cd->ctx[c].window > d->max_window)
                d->max_window = cd->ctx[c].window;
            if (cd->ctx[c].side != RG__SIDE_BEFORE &&
                (int64_t)cd->ctx[c].window > d->ctx_after[i])
                d->ctx_after[i] = cd->ctx[c].window;
        }
    }
    for (size_t i = 0; rc == RG_OK && i < s->npats; i++) {
        const rg__pat *p = &s->pats[i];
        if (p->type == RG__PAT_ALLOW && p->len > d->allow_len[p->det])
            d->allow_len[p->det] = p->len;
        if (p->type == RG__PAT_CONTEXT && p->len > d->ctx_len[p->det])
            d->ctx_len[p->det] = p->len;
    }
    if (rc != RG_OK) {
        rg__sdb_free(d);
        return rc;
    }
    d->build_ns = rg__stream_now() - t0;
    atomic_store(&s->sdb, d);
    return RG_OK;
}

int rg__sdb_get(rg_engine *e, const rg__snapshot *s, int locked, struct rg__sdb **out)
{
    *out = atomic_load(&s->sdb);
    if (*out)
        return RG_OK;
    if (!locked)
        pthread_mutex_lock(&e->lock);
    int rc = rg__sdb_build((rg__snapshot *)s);
    if (!locked)
        pthread_mutex_unlock(&e->lock);
    *out = atomic_load(&s->sdb);
    return rc;
}
