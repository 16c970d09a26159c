/* digits.c — how many ASCII digits any match of a Hyperscan expression
 * must contain, so that the raw-view patterns that need digits (card,
 * phone, SSN, IBAN, national ids, IP addresses...) can live in their
 * own database, scanned only when the reply has enough digits
 * (check.c; docs/PERFORMANCE.md "Digit-gated database").
 *
 * Most replies have no or few digits, and those ~30 regexes were ~60% of
 * Hyperscan's cost on a short reply (callgrind), scanned for nothing.
 *
 * The count is a *lower bound*, computed from the pattern text by a small
 * recursive-descent reader of the PCRE syntax the policies use:
 * concatenation adds, alternation takes the minimum, a quantifier
 * multiplies by its minimum repeat, lookarounds and anchors count 0, a
 * digit literal, `\d`, `[0-9]`-like classes (every member a digit) and
 * `[[:digit:]]` count 1, anything else 0. Whatever the reader does not
 * know for certain (verbs, `\Q`, `(?x)`, odd escapes, a `{` that is not
 * a plain quantifier...) makes the whole pattern count 0: it then stays
 * in the always-scanned database, which is always correct. A lower bound
 * is all that is needed: with fewer digits in the text than the bound,
 * neither Hyperscan nor PCRE2 (which extracts the spans of a regex
 * Hyperscan flagged) can match, so skipping the scan changes nothing.
 *
 * Digits are ASCII only: no pattern is compiled with HS_FLAG_UCP or
 * PCRE2_UCP, so `\d` and `[[:digit:]]` are [0-9] in both engines, and
 * case folding never maps anything to a digit. */
#include "digits.h"
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define CAP 100000u /* sums saturate here; no real pattern comes close */

typedef struct rd {
    const char *p;
    int bad;
} rd;

static unsigned sat_add(unsigned a, unsigned b)
{
    return a + b > CAP ? CAP : a + b;
}

static unsigned sat_mul(unsigned a, unsigned long m)
{
    if (a == 0 || m == 0)
        return 0;
    unsigned long r = (unsigned long)a * m;
    return r > CAP ? CAP : (unsigned)r;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* An escape outside or inside a class, after the backslash. Sets *code to
 * the byte it stands for (or -1 when it is not one character: \d, \w,
 * \b...) and *digit to 1 for \d. Unknown escapes set r->bad. */
static void escape(rd *r, int in_class, int *code, int *digit)
{
    int c = (unsigned char)*r->p;
    *code = -1;
    *digit = 0;
    if (!c) {
        r->bad = 1;
        return;
    }
    r->p++;
    if (c == 'd') {
        *digit = 1;
        return;
    }
    if (c == 'x') {
        int h1 = rg__hexval((unsigned char)r->p[0]);
        int h2 = h1 >= 0 ? rg__hexval((unsigned char)r->p[1]) : -1;
        if (h1 < 0 || h2 < 0) {
            r->bad = 1; /* \x{...}, \xN: not used by the policies */
            return;
        }
        r->p += 2;
        *code = h1 * 16 + h2;
        return;
    }
    /* One-character escapes that are not digits. */
    if (strchr("DwWsShHvVntrfeaR", c) && c) {
        if (c == 'n')
            *code = '\n';
        else if (c == 't')
            *code = '\t';
        else if (c == 'r')
            *code = '\r';
        return;
    }
    if (!in_class && strchr("bBAzZG", c))
        return; /* assertions: width 0 */
    if (!in_class && c >= '1' && c <= '9') {
        /* Back-reference (or octal): counts 0; skip the number. */
        while (is_digit((unsigned char)*r->p))
            r->p++;
        return;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
        r->bad = 1; /* \p, \Q, \k, \c, \o, \0, \N... */
        return;
    }
    *code = c; /* an escaped punctuation byte or a UTF-8 byte */
}

/* A character class after its '['. Returns 1 if every member is an ASCII
 * digit, 0 otherwise. */
static unsigned char_class(rd *r)
{
    int neg = 0, all_digits = 1, n = 0;
    if (*r->p == '^') {
        neg = 1;
        r->p++;
    }
    for (;;) {
        int c = (unsigned char)*r->p;
        if (!c) {
            r->bad = 1;
            return 0;
        }
        if (c == ']' && n > 0) {
            r->p++;
            break;
        }
        n++;
        if (c == '[' && r->p[1] == ':') {
            const char *e = strstr(r->p + 2, ":]");
            if (!e) {
                r->bad = 1;
                return 0;
            }
            if (!(e - (r->p + 2) == 5 && !strncmp(r->p + 2, "digit", 5)))
                all_digits = 0;
            r->p = e + 2;
            continue;
        }
        int lo, digit = 0;
        r->p++;
        if (c == '\\') {
            escape(r, 1, &lo, &digit);
            if (r->bad)
                return 0;
        } else {
            lo = c;
        }
        if (digit)
            continue;
        if (lo < 0) {
            all_digits = 0; /* \w, \s...: more than digits */
            continue;
        }
        int hi = lo;
        if (r->p[0] == '-' && r->p[1] && r->p[1] != ']') {
            r->p++;
            int c2 = (unsigned char)*r->p++;
            if (c2 == '\\') {
                escape(r, 1, &hi, &digit);
                if (r->bad || hi < 0) {
                    r->bad = 1;
                    return 0;
                }
            } else {
                hi = c2;
            }
        }
        if (!(is_digit(lo) && is_digit(hi) && lo <= hi))
            all_digits = 0;
    }
    return !neg && all_digits;
}

static unsigned alternation(rd *r, int depth);

/* A quantifier after an atom worth `v`: its minimum repeat times v. */
static unsigned quantify(rd *r, unsigned v)
{
    for (;;) {
        int c = (unsigned char)*r->p;
        unsigned long m;
        if (c == '*' || c == '?') {
            m = 0;
            r->p++;
        } else if (c == '+') {
            m = 1;
            r->p++;
        } else if (c == '{') {
            const char *q = r->p + 1;
            if (!is_digit((unsigned char)*q)) {
                r->bad = 1; /* "{,n}" or a literal brace: not worth knowing */
                return 0;
            }
            m = 0;
            while (is_digit((unsigned char)*q)) {
                m = m * 10 + (unsigned long)(*q - '0');
                if (m > CAP)
                    m = CAP;
                q++;
            }
            if (*q == ',') {
                q++;
                while (is_digit((unsigned char)*q))
                    q++;
            }
            if (*q != '}') {
                r->bad = 1;
                return 0;
            }
            r->p = q + 1;
        } else {
            return v;
        }
        /* lazy or possessive suffix */
        if (*r->p == '?' || *r->p == '+')
            r->p++;
        v = sat_mul(v, m);
        /* A quantified quantifier is an error in PCRE; refuse it. */
        c = (unsigned char)*r->p;
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            r->bad = 1;
            return 0;
        }
    }
}

/* One group after its '('. */
static unsigned group(rd *r, int depth)
{
    int counts = 1;
    if (*r->p == '*') {
        r->bad = 1; /* (*VERB) */
        return 0;
    }
    if (*r->p == '?') {
        r->p++;
        int c = (unsigned char)*r->p;
        if (c == ':') {
            r->p++;
        } else if (c == '=' || c == '!') {
            r->p++;
            counts = 0; /* lookahead */
        } else if (c == '<' && (r->p[1] == '=' || r->p[1] == '!')) {
            r->p += 2;
            counts = 0; /* lookbehind */
        } else if (c == '<' || (c == 'P' && r->p[1] == '<')) {
            const char *e = strchr(r->p, '>');
            if (!e) {
                r->bad = 1;
                return 0;
            }
            r->p = e + 1; /* named group */
        } else {
            /* Option letters: (?i) (?i:...) (?-i) (?s) (?m). Not x. */
            while (*r->p && strchr("imsU-", *r->p))
                r->p++;
            if (*r->p == ')') {
                r->p++;
                return 0; /* options for the rest of the enclosing group */
            }
            if (*r->p != ':') {
                r->bad = 1;
                return 0;
            }
            r->p++;
        }
    }
    unsigned v = alternation(r, depth + 1);
    if (r->bad)
        return 0;
    if (*r->p != ')') {
        r->bad = 1;
        return 0;
    }
    r->p++;
    return counts ? v : 0;
}

static unsigned sequence(rd *r, int depth)
{
    unsigned sum = 0;
    for (;;) {
        int c = (unsigned char)*r->p;
        if (!c || c == '|' || c == ')')
            return sum;
        unsigned v = 0;
        r->p++;
        if (c == '(') {
            v = group(r, depth);
        } else if (c == '[') {
            v = char_class(r);
        } else if (c == '\\') {
            int code, digit;
            escape(r, 0, &code, &digit);
            v = digit || is_digit(code);
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            r->bad = 1; /* a quantifier with nothing before it */
        } else {
            v = is_digit(c); /* '.', '^', '$', letters, UTF-8 bytes: 0 */
        }
        if (r->bad)
            return 0;
        v = quantify(r, v);
        if (r->bad)
            return 0;
        sum = sat_add(sum, v);
    }
}

static unsigned alternation(rd *r, int depth)
{
    if (depth > 200) {
        r->bad = 1;
        return 0;
    }
    unsigned best = sequence(r, depth);
    while (!r->bad && *r->p == '|') {
        r->p++;
        unsigned v = sequence(r, depth);
        if (v < best)
            best = v;
    }
    return r->bad ? 0 : best;
}

unsigned rg__min_digits(const char *expr)
{
    if (!expr)
        return 0;
    rd r = {expr, 0};
    unsigned v = alternation(&r, 0);
    if (r.bad || *r.p != '\0')
        return 0; /* an unmatched ')' or anything unread: not sure */
    return v;
}

const unsigned rg__gates[RG__NGATES] = {4, 9, 9};
const unsigned rg__gate_window[RG__NGATES] = {0, 0, 48};

int rg__gate_of(unsigned md, unsigned maxwidth)
{
    int g = -1;
    for (int i = 0; i < RG__NGATES; i++)
        if (rg__gates[i] <= md && (!rg__gate_window[i] || maxwidth <= rg__gate_window[i]))
            g = i;
    return g;
}

/* Move i back to the start of the code point it is in (UTF-8). */
static size_t cp_floor(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* Move i forward to the end of the code point that starts before it. */
static size_t cp_ceil(const char *s, size_t n, size_t i)
{
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

size_t rg__digit_regions(const char *s, size_t n, unsigned need, unsigned width,
                         rg__region *out)
{
    size_t pos[16];
    size_t k = 0, nr = 0, covered = 0;
    if (need == 0 || need > 16 || width == 0 || width == UINT_MAX)
        return SIZE_MAX;
    /* Digits found eight bytes at a time (rg__digit_mask8): the byte
     * loop took ~15 instructions per byte of a long reply, more than the
     * scans it saved. */
    for (size_t base = 0; base < n; base += 8) {
        uint64_t m = rg__digit_mask8(s, base, n);
        while (m) {
            size_t i = base + rg__digit_mask_first(m);
            m &= m - 1;
            pos[k & 15] = i;
            k++;
            if (k < need)
                continue;
            size_t first = pos[(k - need) & 15];
            if (i - first >= width)
                continue;
            /* [i + 1 - width, first + width), one more byte each side for
             * the code point before and after a match, then code point
             * bounds. */
            size_t lo = i >= width ? i - width : 0;
            size_t hi = first + width + 1 < n ? first + width + 1 : n;
            lo = cp_floor(s, lo);
            hi = cp_ceil(s, n, hi);
            if (nr > 0 && lo <= out[nr - 1].end) {
                if (hi > out[nr - 1].end) {
                    covered += hi - out[nr - 1].end;
                    out[nr - 1].end = hi;
                }
                continue;
            }
            if (nr == RG__MAX_REGIONS)
                return SIZE_MAX;
            out[nr].start = lo;
            out[nr].end = hi;
            covered += hi - lo;
            nr++;
        }
    }
    /* Each scan has a fixed cost: regions that leave little of the text
     * out are not worth it. */
    if (covered * 4 > n * 3)
        return SIZE_MAX;
    return nr;
}
