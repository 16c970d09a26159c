/* digits.c — how many bytes of an ASCII range (digits; digits and
 * capitals; colons) any match of a Hyperscan expression must contain, so
 * that the raw-view patterns that need them (card, phone, SSN, IBAN,
 * national ids, IP addresses, doses...) can live in databases of their
 * own, scanned only when the text has enough of them (the gates,
 * digits.h; check.c; docs/PERFORMANCE.md "Digit-gated database", "Sixth
 * step"); and the text side: which gates a text reaches, and the regions
 * of a long text where a gated match can be.
 *
 * Most replies have no or few digits, and those ~30 regexes were ~60% of
 * Hyperscan's cost on a short reply (callgrind), scanned for nothing.
 *
 * The count is a *lower bound*, computed from the pattern text by a small
 * recursive-descent reader of the PCRE syntax the policies use:
 * concatenation adds, alternation takes the minimum, a quantifier
 * multiplies by its minimum repeat, lookarounds and anchors count 0, a
 * literal, escape or class every byte of which is in the range counts 1
 * (`\d` and `[[:digit:]]` when the range holds the digits; under a
 * caseless pattern a letter only when both its cases are in the range),
 * anything else 0. Whatever the reader does not know for certain (verbs,
 * `\Q`, `(?x)`, odd escapes, a `{` that is not a plain quantifier...)
 * makes the whole pattern count 0: it then stays in the always-scanned
 * database, which is always correct. A lower bound is all that is needed:
 * with fewer such bytes in the text than the bound, neither Hyperscan nor
 * PCRE2 (which extracts the spans of a regex Hyperscan flagged) can match,
 * so skipping the scan changes nothing.
 *
 * The ranges are ASCII only: no pattern is compiled with HS_FLAG_UCP or
 * PCRE2_UCP, so `\d` and `[[:digit:]]` are [0-9] in both engines, and
 * case folding never maps anything to a digit or a colon. */
#include "digits.h"
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define CAP 100000u /* sums saturate here; no real pattern comes close */

typedef struct rd {
    const char *p;
    int bad;
    int lo, hi;   /* the ASCII range counted (digits: '0'..'9') */
    int caseless; /* letters match both cases: one counts only if both do */
} rd;

/* Does byte c count: in the range, and so is its other case when the
 * pattern folds case (a caseless 'A' also matches 'a'). */
static int counts(const rd *r, int c)
{
    if (c < r->lo || c > r->hi)
        return 0;
    if (r->caseless && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return (c ^ 0x20) >= r->lo && (c ^ 0x20) <= r->hi;
    return 1;
}

/* Does \d (every ASCII digit) count. */
static int digits_count(const rd *r)
{
    return r->lo <= '0' && r->hi >= '9';
}

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

/* A character class after its '['. Returns 1 if every member counts (is
 * in the range: an ASCII digit for rg__min_digits), 0 otherwise. */
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
            if (!(e - (r->p + 2) == 5 && !strncmp(r->p + 2, "digit", 5) && digits_count(r)))
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
        if (digit) {
            if (!digits_count(r))
                all_digits = 0;
            continue;
        }
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
        if (lo > hi)
            all_digits = 0;
        for (int x = lo; x <= hi && all_digits; x++)
            if (!counts(r, x))
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
            v = digit ? (unsigned)digits_count(r) : code >= 0 && counts(r, code);
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            r->bad = 1; /* a quantifier with nothing before it */
        } else {
            v = counts(r, c); /* '.', '^', '$', UTF-8 bytes: 0 */
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

/* Does the pattern set the caseless option anywhere: (?i) or (?i:...)
 * with any other option letters. Then every letter counts as caseless
 * (never more than the truth: counting fewer is always safe). */
static int sets_caseless(const char *expr)
{
    for (const char *q = strstr(expr, "(?"); q; q = strstr(q + 2, "(?")) {
        const char *o = q + 2;
        while (*o && strchr("imsU-", *o)) {
            if (*o == 'i')
                return 1;
            o++;
        }
    }
    return 0;
}

unsigned rg__min_range(const char *expr, int lo, int hi, int caseless)
{
    if (!expr)
        return 0;
    rd r = {expr, 0, lo, hi, caseless || sets_caseless(expr)};
    unsigned v = alternation(&r, 0);
    if (r.bad || *r.p != '\0')
        return 0; /* an unmatched ')' or anything unread: not sure */
    return v;
}

unsigned rg__min_digits(const char *expr)
{
    return rg__min_range(expr, '0', '9', 0);
}

/* ------------------------------------------------------------------ */
/* The most bytes outside the cluster set in a match                   */
/* ------------------------------------------------------------------ */

/* The same reader's shape, the other way round: concatenation adds,
 * alternation takes the maximum, a quantifier multiplies by its maximum
 * repeat (unbounded: UINT_MAX unless its atom needs no such byte), an
 * atom counts 0 when every byte it can match is in the cluster set, 1
 * when it is one ASCII byte outside it, 4 when it may be a character of
 * several bytes. Anything not known for certain is "bad" (UINT_MAX): \B
 * (a part of the text has other edges than the whole), lookarounds,
 * back-references, (?x), verbs. */
#define MO_INF UINT_MAX

static unsigned mo_add(unsigned a, unsigned b)
{
    return a == MO_INF || b == MO_INF || a + b > CAP ? MO_INF : a + b;
}

/* Is byte c in the cluster set of r's range (rg__cluster_byte_in), and,
 * when the pattern folds case, so is its other case. */
static int mo_in(const rd *r, int c)
{
    if (c < 0 || c >= 0x80 || !rg__cluster_byte_in((unsigned char)r->hi, (unsigned char)c))
        return 0;
    if (r->caseless && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return rg__cluster_byte_in((unsigned char)r->hi, (unsigned char)(c ^ 0x20));
    return 1;
}

/* One escape after its backslash: its count, or MO_INF (bad). */
static unsigned mo_escape(rd *r, int in_class)
{
    int c = (unsigned char)*r->p;
    if (c == 'B' || (!in_class && c >= '1' && c <= '9'))
        return MO_INF;
    if (!in_class && c && strchr("bAzZG", c)) {
        r->p++;
        return 0; /* assertions a part of the text keeps or widens */
    }
    int code, digit;
    escape(r, in_class, &code, &digit);
    if (r->bad)
        return MO_INF;
    if (digit)
        return 0;
    if (code < 0)
        return 4; /* \w \s \D \W \S \h \v \R: other bytes, maybe several */
    if (code >= 0x80)
        return 1;
    return mo_in(r, code) ? 0 : 1;
}

static unsigned mo_class(rd *r)
{
    unsigned v = 0;
    int n = 0;
    if (*r->p == '^') {
        r->p++;
        v = 4; /* a negated class matches other bytes, of any length */
    }
    for (;;) {
        int c = (unsigned char)*r->p;
        if (!c)
            return MO_INF;
        if (c == ']' && n > 0) {
            r->p++;
            return v;
        }
        n++;
        if (c == '[' && r->p[1] == ':') {
            const char *e = strstr(r->p + 2, ":]");
            if (!e)
                return MO_INF;
            if (!(e - (r->p + 2) == 5 && !strncmp(r->p + 2, "digit", 5)))
                v = 4;
            r->p = e + 2;
            continue;
        }
        r->p++;
        unsigned m;
        int lo = c, hi;
        if (c == '\\') {
            const char *q = r->p;
            m = mo_escape(r, 1);
            if (m == MO_INF)
                return MO_INF;
            int code = -1, digit = 0;
            rd t = *r;
            t.p = q;
            escape(&t, 1, &code, &digit);
            lo = code;
        } else {
            m = c >= 0x80 ? 4 : mo_in(r, c) ? 0 : 1;
        }
        hi = lo;
        if (lo >= 0 && r->p[0] == '-' && r->p[1] && r->p[1] != ']') {
            r->p++;
            int c2 = (unsigned char)*r->p++;
            if (c2 == '\\') {
                int digit = 0;
                escape(r, 1, &hi, &digit);
                if (r->bad || hi < 0)
                    return MO_INF;
            } else {
                hi = c2;
            }
            for (int x = lo; x <= hi && x < 0x80; x++)
                if (!mo_in(r, x))
                    m = m > 1 ? m : 1;
            if (hi >= 0x80)
                m = 4;
        }
        if (m > v)
            v = m;
    }
}

static unsigned mo_alternation(rd *r, int depth);

/* A quantifier after an atom worth v: times its maximum repeat. */
static unsigned mo_quantify(rd *r, unsigned v)
{
    int c = (unsigned char)*r->p;
    unsigned long hi;
    if (c == '*' || c == '+') {
        r->p++;
        hi = ULONG_MAX;
    } else if (c == '?') {
        r->p++;
        hi = 1;
    } else if (c == '{') {
        const char *q = r->p + 1;
        if (!is_digit((unsigned char)*q))
            return MO_INF;
        unsigned long lo = 0;
        while (is_digit((unsigned char)*q)) {
            lo = lo * 10 + (unsigned long)(*q - '0');
            if (lo > CAP)
                lo = CAP;
            q++;
        }
        hi = lo;
        if (*q == ',') {
            q++;
            if (is_digit((unsigned char)*q)) {
                hi = 0;
                while (is_digit((unsigned char)*q)) {
                    hi = hi * 10 + (unsigned long)(*q - '0');
                    if (hi > CAP)
                        hi = CAP;
                    q++;
                }
            } else {
                hi = ULONG_MAX;
            }
        }
        if (*q != '}')
            return MO_INF;
        r->p = q + 1;
    } else {
        return v;
    }
    if (*r->p == '?' || *r->p == '+')
        r->p++;
    c = (unsigned char)*r->p;
    if (c == '*' || c == '+' || c == '?' || c == '{')
        return MO_INF;
    if (v == 0 || hi == 0)
        return 0;
    if (v == MO_INF || hi == ULONG_MAX || (unsigned long)v * hi > CAP)
        return MO_INF;
    return (unsigned)(v * hi);
}

static unsigned mo_group(rd *r, int depth)
{
    if (*r->p == '*')
        return MO_INF;
    if (*r->p == '?') {
        r->p++;
        int c = (unsigned char)*r->p;
        if (c == ':') {
            r->p++;
        } else if (c == '<' && r->p[1] != '=' && r->p[1] != '!') {
            const char *e = strchr(r->p, '>');
            if (!e)
                return MO_INF;
            r->p = e + 1;
        } else if (c == 'P' && r->p[1] == '<') {
            const char *e = strchr(r->p, '>');
            if (!e)
                return MO_INF;
            r->p = e + 1;
        } else {
            while (*r->p && strchr("imsU-", *r->p))
                r->p++;
            if (*r->p == ')') {
                r->p++;
                return 0;
            }
            if (*r->p != ':')
                return MO_INF; /* lookarounds, (?x), (?|, (?R)...: not read */
            r->p++;
        }
    }
    unsigned v = mo_alternation(r, depth + 1);
    if (v == MO_INF || *r->p != ')')
        return MO_INF;
    r->p++;
    return v;
}

static unsigned mo_sequence(rd *r, int depth)
{
    unsigned sum = 0;
    for (;;) {
        int c = (unsigned char)*r->p;
        if (!c || c == '|' || c == ')')
            return sum;
        unsigned v;
        r->p++;
        if (c == '(')
            v = mo_group(r, depth);
        else if (c == '[')
            v = mo_class(r);
        else if (c == '\\')
            v = mo_escape(r, 0);
        else if (c == '*' || c == '+' || c == '?' || c == '{')
            v = MO_INF;
        else if (c == '.')
            v = 4;
        else if (c == '^' || c == '$')
            v = 0;
        else
            v = c >= 0x80 ? 1 : mo_in(r, c) ? 0 : 1;
        if (v == MO_INF || r->bad)
            return MO_INF;
        v = mo_quantify(r, v);
        sum = mo_add(sum, v);
        if (sum == MO_INF)
            return MO_INF;
    }
}

static unsigned mo_alternation(rd *r, int depth)
{
    if (depth > 200)
        return MO_INF;
    unsigned best = mo_sequence(r, depth);
    while (best != MO_INF && *r->p == '|') {
        r->p++;
        unsigned v = mo_sequence(r, depth);
        if (v == MO_INF || v > best)
            best = v;
    }
    return best;
}

unsigned rg__max_outside(const char *expr)
{
    return rg__max_outside_in(expr, '9', 0);
}

unsigned rg__max_outside_in(const char *expr, unsigned char hi, int caseless)
{
    if (!expr)
        return MO_INF;
    rd r = {expr, 0, '0', hi, caseless || sets_caseless(expr)};
    unsigned v = mo_alternation(&r, 0);
    if (r.bad || *r.p != '\0')
        return MO_INF;
    return v;
}

/* In order of preference: a pattern goes to the first gate it passes,
 * so the rarer conditions come first (shares of SGD short / long
 * replies that reach each: docs/PERFORMANCE.md "Gates"). */
const rg__gatedef rg__gatedefs[RG__NGATES] = {
    /* lo, hi, need, window, weak, cluster, prescan (clusters of fewer than
     * RG__PRESCAN_DIGITS digits) */
    {'0', '9', 9, 0, 0, RG__CLUSTER_GAP + 1, 0}, /* cards, phones, SSNs, ids: digits and separators */
    {'0', '9', 9, 48, 0, 0, 0},  /* the same with words around them ("ssn: ...") */
    {'0', '9', 9, 0, 0, 0, 0},   /* the same, matches longer than 48 bytes */
    /* IBAN, codice fiscale, CURP: capitals, digits and spaces only, so
     * a cluster of them (prose has few: a long reply in thirty). A
     * capitals pattern with other bytes in its matches ("AB-1234...")
     * goes by its digits below, or to no gate (a tenth gate, this one
     * with a window and no clusters, cost short replies 5%: the gate
     * walk's setup per gate). */
    {'0', 'Z', 12, 48, 1, 1, 1},
    {':', ':', 2, 48, 1, 0, 0},  /* IPv6 */
    {'0', '9', 4, 0, 0, RG__CLUSTER_GAP + 1, 1}, /* IPv4, bank accounts, phones, ids */
    {'0', '9', 4, 0, 0, 0, 0},   /* dates of birth */
    {'0', '9', 1, 0, 1, 0, 0},   /* anything with a digit */
    {0, 0, 0, 0, 0, 0, 0},       /* RG__GATE_USER: the user message only */
};

int rg__gate_of(const char *expr, int caseless, unsigned maxwidth, int regions_ok)
{
    unsigned have[RG__NGATES];
    unsigned out9 = UINT_MAX - 1, outZ = UINT_MAX - 1; /* not read yet */
    for (int i = 0; i < RG__GATE_USER; i++) {
        const rg__gatedef *g = &rg__gatedefs[i];
        /* One reading per range: the table repeats them. */
        have[i] = i > 0 && g->lo == rg__gatedefs[i - 1].lo && g->hi == rg__gatedefs[i - 1].hi
                      ? have[i - 1]
                      : rg__min_range(expr, g->lo, g->hi, caseless);
        if (have[i] < g->need || (g->window && maxwidth > g->window))
            continue;
        if (g->cluster) {
            if (!regions_ok)
                continue;
            unsigned *out = g->hi == 'Z' ? &outZ : &out9;
            if (*out == UINT_MAX - 1)
                *out = rg__max_outside_in(expr, g->hi, caseless);
            if (*out > (unsigned)g->cluster - 1)
                continue;
        }
        return i;
    }
    return -1;
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

/* Set bits (SWAR: the x86-64 baseline has no popcnt instruction, and the
 * builtin is then a library call). */
static inline unsigned popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The bytes of [lo, hi] among t[base .. base+64), one bit per byte
 * (bytes past n: none): sixteen bytes a step with SSE2 (unsigned range
 * test by min/max; rg__load16 for the tail), a byte loop elsewhere. */
static inline uint64_t bits64(const char *t, size_t base, size_t n, unsigned char lo,
                              unsigned char hi)
{
    uint64_t m = 0;
#if defined(__SSE2__)
    const __m128i vlo = _mm_set1_epi8((char)lo), vhi = _mm_set1_epi8((char)hi);
    for (size_t i = 0; i < 64 && base + i < n; i += 16) {
        unsigned keep;
        __m128i v = rg__load16(t + base + i, n - (base + i), &keep);
        __m128i in = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, vlo), v),
                                   _mm_cmpeq_epi8(_mm_min_epu8(v, vhi), v));
        m |= (uint64_t)((unsigned)_mm_movemask_epi8(in) & keep) << i;
    }
#else
    for (size_t i = 0; i < 64 && base + i < n; i++)
        m |= (uint64_t)((unsigned char)(t[base + i] - lo) <= (unsigned char)(hi - lo)) << i;
#endif
    return m;
}


size_t rg__range_regions(const char *s, size_t n, unsigned char lo, unsigned char hi,
                         unsigned need, unsigned width, rg__region *out)
{
    size_t pos[16];
    size_t k = 0, nr = 0, covered = 0;
    if (need == 0 || need > 16 || width == 0 || width == UINT_MAX)
        return SIZE_MAX;
    /* The range's bytes found sixteen at a time (a byte loop took ~15
     * instructions per byte of a long reply, more than the scans it
     * saved), 64 to a block. A window of at most 64 bytes touches at most
     * two neighbouring blocks: a block that has fewer than `need` such
     * bytes together with either neighbour holds none of a window's, and
     * its bytes are not walked (capitals on a long reply: most blocks). */
    uint64_t cur = n ? bits64(s, 0, n, lo, hi) : 0;
    size_t pc_prev = 0, pc = popcount64(cur);
    for (size_t base = 0; base < n; base += 64) {
        uint64_t nxt = base + 64 < n ? bits64(s, base + 64, n, lo, hi) : 0;
        size_t pn = nxt ? popcount64(nxt) : 0; /* the next block's pc */
        uint64_t m = cur;
        if (width <= 64 && pc_prev + pc < need && pc + pn < need)
            m = 0;
        pc_prev = pc;
        pc = pn;
        cur = nxt;
        while (m) {
            size_t i = base + (size_t)__builtin_ctzll(m);
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
            size_t rlo = i >= width ? i - width : 0;
            size_t rhi = first + width + 1 < n ? first + width + 1 : n;
            rlo = cp_floor(s, rlo);
            rhi = cp_ceil(s, n, rhi);
            if (nr > 0 && rlo <= out[nr - 1].end) {
                if (rhi > out[nr - 1].end) {
                    covered += rhi - out[nr - 1].end;
                    out[nr - 1].end = rhi;
                    if (covered * 4 > n * 3)
                        return SIZE_MAX;
                }
                continue;
            }
            if (nr == RG__MAX_REGIONS)
                return SIZE_MAX;
            out[nr].start = rlo;
            out[nr].end = rhi;
            covered += rhi - rlo;
            nr++;
            if (covered * 4 > n * 3)
                return SIZE_MAX; /* already not worth it: stop walking */
        }
    }
    /* Each scan has a fixed cost: regions that leave little of the text
     * out are not worth it. */
    if (covered * 4 > n * 3)
        return SIZE_MAX;
    return nr;
}

/* The region of the cluster whose digits span [first, last], in *ra and
 * *rb. */
static void cl_bounds(const char *s, size_t n, unsigned char hi, size_t first, size_t last,
                      unsigned gap, size_t *ra, size_t *rb)
{
    const unsigned char *t = (const unsigned char *)s;
    /* Back to the earliest cluster byte reachable through runs of at most
     * gap other bytes, and forward likewise. */
    size_t a = first, i = first;
    unsigned run = 0;
    while (i > 0) {
        if (rg__cluster_byte_in(hi, t[i - 1])) {
            run = 0;
            a = --i;
        } else if (++run > gap) {
            break;
        } else {
            i--;
        }
    }
    size_t b = last + 1;
    run = 0;
    for (i = last + 1; i < n; i++) {
        if (rg__cluster_byte_in(hi, t[i])) {
            run = 0;
            b = i + 1;
        } else if (++run > gap) {
            break;
        }
    }
    /* gap other bytes, and one code point more (\b), each side. */
    a = a > gap ? a - gap : 0;
    a = a > 0 ? cp_floor(s, a - 1) : 0;
    b = b + gap < n ? b + gap : n;
    b = b < n ? cp_ceil(s, n, b + 1) : n;
    *ra = a;
    *rb = b;
}

/* Regions closer than this are scanned as one: each scan has a fixed
 * cost (callgrind, the slowest long replies: -1.7% instructions). */
#define CL_JOIN 48

/* Add [a, b) to out[0..*nr), merging with the last; -1 when full. */
static int cl_add(rg__region *out, size_t *nr, size_t a, size_t b)
{
    if (*nr > 0 && a <= out[*nr - 1].end + CL_JOIN) {
        if (b > out[*nr - 1].end)
            out[*nr - 1].end = b;
        return 0;
    }
    if (*nr == RG__MAX_REGIONS)
        return -1;
    out[*nr].start = a;
    out[*nr].end = b;
    (*nr)++;
    return 0;
}

/* A cluster whose digits span [first, last] with cnt digits: its region to
 * every list whose need it meets. */
static void cl_emit(const char *s, size_t n, unsigned char hi, size_t first, size_t last,
                    unsigned cnt, unsigned gap, size_t k, const unsigned *need,
                    rg__region *const *out, size_t *nr)
{
    size_t a = 0, b = 0;
    int have = 0;
    for (size_t g = 0; g < k; g++) {
        if (nr[g] == SIZE_MAX || cnt < need[g])
            continue;
        if (!have) {
            cl_bounds(s, n, hi, first, last, gap, &a, &b);
            have = 1;
        }
        if (cl_add(out[g], &nr[g], a, b))
            nr[g] = SIZE_MAX;
    }
}

/* The bytes of the range '0'..hi (*d) and the bytes outside its cluster
 * set (*o; bytes past n: none) among t[base .. base+64), one bit per
 * byte, from one load of each sixteen bytes. Both sets are ' ' and one
 * range ending at hi (rg__cluster_byte_in): 0x28..'9' or '0'..'Z'. */
static inline void cluster_bits64(const char *t, size_t base, size_t n, unsigned char hi,
                                  uint64_t *d, uint64_t *o)
{
    uint64_t md = 0, mo = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_set1_epi8('0'), top = _mm_set1_epi8((char)hi),
                  clo = _mm_set1_epi8(hi == 'Z' ? '0' : 0x28), sp = _mm_set1_epi8(' ');
    for (size_t i = 0; i < 64 && base + i < n; i += 16) {
        unsigned keep;
        __m128i v = rg__load16(t + base + i, n - (base + i), &keep);
        __m128i le = _mm_cmpeq_epi8(_mm_min_epu8(v, top), v);
        __m128i in = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, zero), v), le);
        __m128i clu = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, clo), v), le),
                                   _mm_cmpeq_epi8(v, sp));
        md |= (uint64_t)((unsigned)_mm_movemask_epi8(in) & keep) << i;
        mo |= (uint64_t)(~(unsigned)_mm_movemask_epi8(clu) & keep) << i;
    }
#else
    for (size_t i = 0; i < 64 && base + i < n; i++) {
        unsigned char c = (unsigned char)t[base + i];
        md |= (uint64_t)(c >= '0' && c <= hi) << i;
        mo |= (uint64_t)!rg__cluster_byte_in(hi, c) << i;
    }
#endif
    *d = md;
    *o = mo;
}

/* The bytes of t[base .. base+64) that end a run of more than gap bytes
 * outside the cluster set (o: this block's, oprev: the one before). */
static inline uint64_t cl_breaks(uint64_t o, uint64_t oprev, unsigned gap)
{
    uint64_t brk = o;
    for (unsigned j = 1; j <= gap; j++)
        brk &= o << j | oprev >> (64 - j);
    return brk;
}

/* Clusters with no byte outside the set (gap 0) are runs of set bytes,
 * and one that holds `fewest` bytes of the range is at least that long.
 * The last bytes of such runs are found 64 bytes at a time (a byte whose
 * fewest - 1 predecessors are in the set too); prose has few (the
 * capitals' set: UK phone numbers), and only their runs are read. The
 * same clusters as the walk below gives with gap 0, in the same order. */
static void cl_runs(const char *s, size_t n, unsigned char hi, unsigned fewest, size_t k,
                    const unsigned *need, rg__region *const *out, size_t *nr)
{
    const unsigned char *t = (const unsigned char *)s;
    uint64_t xprev = 0;
    size_t done = 0; /* the runs before this are taken */
    for (size_t base = 0; base < n; base += 64) {
        uint64_t d, o;
        cluster_bits64(s, base, n, hi, &d, &o);
        uint64_t valid = n - base >= 64 ? ~0ull : (1ull << (n - base)) - 1;
        uint64_t x = ~o & valid, z = x;
        for (unsigned j = 1; j < fewest && z; j++)
            z &= x << j | xprev >> (64 - j);
        xprev = x;
        for (; z; z &= z - 1) {
            size_t p = base + (size_t)__builtin_ctzll(z);
            if (p < done)
                continue;
            size_t a = p, b = p + 1;
            while (a > 0 && rg__cluster_byte_in(hi, t[a - 1]))
                a--;
            while (b < n && rg__cluster_byte_in(hi, t[b]))
                b++;
            done = b;
            size_t first = SIZE_MAX, last = 0;
            unsigned cnt = 0;
            for (size_t i = a; i < b; i++)
                if (t[i] >= '0' && t[i] <= hi) {
                    first = first == SIZE_MAX ? i : first;
                    last = i;
                    cnt++;
                }
            if (cnt >= fewest)
                cl_emit(s, n, hi, first, last, cnt, 0, k, need, out, nr);
        }
    }
}

void rg__cluster_regions_k(const char *s, size_t n, unsigned char hi, unsigned gap,
                           size_t k, const unsigned *need, rg__region *const *out, size_t *nr)
{
    size_t first = SIZE_MAX, last = 0;
    unsigned cnt = 0;
    for (size_t g = 0; g < k; g++)
        nr[g] = need[g] && gap <= 62 ? 0 : SIZE_MAX;
    if (gap > 62) /* not a cluster gate's (RG__CLUSTER_GAP): no regions */
        return;
    hi = hi == 'Z' ? 'Z' : '9'; /* the two ranges of cluster gates */
    /* A cluster with fewer bytes than any list needs goes to none: not
     * even a call (prose is full of clusters of one digit or capital). */
    unsigned fewest = UINT_MAX;
    for (size_t g = 0; g < k; g++)
        if (nr[g] != SIZE_MAX && need[g] < fewest)
            fewest = need[g];
    if (fewest == UINT_MAX)
        return;
    /* No other byte in a cluster (the capitals' gate): by runs. Prose has
     * one capital after another ("Sure", "I"), each a cluster the walk
     * below would take a step for. */
    if (gap == 0 && fewest <= 64) {
        cl_runs(s, n, hi, fewest, k, need, out, nr);
        return;
    }
    /* Two bytes of the range (digits) are in one cluster when no run of
     * more than gap bytes outside the cluster set lies between them. Such
     * runs are found 64
     * bytes at a time as the bits that end one (brk: a byte that is the
     * last of gap + 1 others), so the text between two digits is never
     * walked (a byte walk was ~2 us of the slowest long replies: spaces
     * are in the set, and short words join "13th at 1:30 pm"). */
    uint64_t oprev = 0;
    size_t lastbrk = SIZE_MAX; /* the last break before this block */
    for (size_t base = 0; base < n; base += 64) {
        uint64_t d, o;
        cluster_bits64(s, base, n, hi, &d, &o);
        uint64_t brk = cl_breaks(o, oprev, gap);
        oprev = o;
        while (d) {
            unsigned off = (unsigned)__builtin_ctzll(d);
            size_t p = base + off;
            /* The last break before p: in this block, or before it. */
            uint64_t before = brk & ((1ull << off) - 1);
            size_t lb = before ? base + 63 - (size_t)__builtin_clzll(before) : lastbrk;
            if (first != SIZE_MAX && lb != SIZE_MAX && lb > last) {
                if (cnt >= fewest)
                    cl_emit(s, n, hi, first, last, cnt, gap, k, need, out, nr);
                first = SIZE_MAX;
            }
            if (first == SIZE_MAX) {
                first = p;
                cnt = 0;
            }
            /* With p, every byte of the range up to the next break in
             * this block: a phone number's digits in one step rather than
             * one each. */
            uint64_t after = brk & ~((2ull << off) - 1); /* off 63: none */
            uint64_t seg = after ? (after & (0 - after)) - 1 : ~0ull;
            uint64_t take = d & seg;
            cnt += popcount64(take);
            last = base + 63 - (size_t)__builtin_clzll(take);
            d &= ~seg;
        }
        if (brk)
            lastbrk = base + 63 - (size_t)__builtin_clzll(brk);
    }
    if (first != SIZE_MAX && cnt >= fewest)
        cl_emit(s, n, hi, first, last, cnt, gap, k, need, out, nr);
}

size_t rg__cluster_regions(const char *s, size_t n, unsigned char hi, unsigned need,
                           unsigned gap, rg__region *out)
{
    size_t nr;
    rg__cluster_regions_k(s, n, hi, gap, 1, &need, &out, &nr);
    return nr;
}

/* The table's three ranges (rg__gatedefs: digits, '0'..'Z', ':') among
 * t[base .. base+64), one bit per byte (bytes past n: none): sixteen
 * bytes a step with SSE2, one load for all three, the tail through a
 * zeroed block whose padding bits are cut; a byte loop elsewhere. Fixed
 * ranges rather than the table's own: a loop over ranges and gates was
 * ~900 instructions per short reply (callgrind), this ~250. */
enum { R_DIG, R_UD, R_COL, NRANGES };

static inline void range_bits64(const char *t, size_t base, size_t n, uint64_t m[NRANGES])
{
    m[R_DIG] = m[R_UD] = m[R_COL] = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8('9'), zed = _mm_set1_epi8('Z'),
                  colon = _mm_set1_epi8(':');
    for (size_t i = 0; i < 64 && base + i < n; i += 16) {
        unsigned keep;
        __m128i v = rg__load16(t + base + i, n - (base + i), &keep);
        __m128i ge0 = _mm_cmpeq_epi8(_mm_max_epu8(v, zero), v);
        __m128i le9 = _mm_cmpeq_epi8(_mm_min_epu8(v, nine), v);
        __m128i leZ = _mm_cmpeq_epi8(_mm_min_epu8(v, zed), v);
        m[R_DIG] |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_and_si128(ge0, le9)) & keep) << i;
        m[R_UD] |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_and_si128(ge0, leZ)) & keep) << i;
        m[R_COL] |= (uint64_t)((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, colon)) & keep) << i;
    }
#else
    for (size_t i = 0; i < 64 && base + i < n; i++) {
        unsigned char c = (unsigned char)t[base + i];
        m[R_DIG] |= (uint64_t)(c >= '0' && c <= '9') << i;
        m[R_UD] |= (uint64_t)(c >= '0' && c <= 'Z') << i;
        m[R_COL] |= (uint64_t)(c == ':') << i;
    }
#endif
}

/* The counts of the three ranges in t[0..n), n <= 256: per-lane byte
 * counters (sixteen bytes a step, at most sixteen steps: no overflow),
 * summed once (SAD). The bytes past n load as zeros, in no range. Only a
 * windowed gate whose count is met needs the bits (few short replies):
 * this was ~500 instructions per short reply with them (callgrind). */
static inline void range_counts(const char *t, size_t n, size_t tot[NRANGES])
{
#if defined(__SSE2__)
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8('9'), zed = _mm_set1_epi8('Z'),
                  colon = _mm_set1_epi8(':'), z = _mm_setzero_si128();
    /* The tail: the text's last sixteen bytes, those counted already
     * zeroed (a copy through a zeroed block cost more than the rest). */
    static const unsigned char tailmask[32] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    __m128i cd = z, cu = z, cc = z;
    for (size_t i = 0; i < n; i += 16) {
        __m128i v;
        if (i + 16 <= n) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
        } else if (n >= 16) {
            v = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + n - 16)),
                              _mm_loadu_si128((const __m128i *)(const void *)(tailmask + (n - i))));
        } else {
            unsigned keep;
            v = rg__load16(t + i, n - i, &keep);
        }
        __m128i ge0 = _mm_cmpeq_epi8(_mm_max_epu8(v, zero), v);
        __m128i le9 = _mm_cmpeq_epi8(_mm_min_epu8(v, nine), v);
        __m128i leZ = _mm_cmpeq_epi8(_mm_min_epu8(v, zed), v);
        cd = _mm_sub_epi8(cd, _mm_and_si128(ge0, le9));
        cu = _mm_sub_epi8(cu, _mm_and_si128(ge0, leZ));
        cc = _mm_sub_epi8(cc, _mm_cmpeq_epi8(v, colon));
    }
    __m128i sd = _mm_sad_epu8(cd, z), su = _mm_sad_epu8(cu, z), sc = _mm_sad_epu8(cc, z);
    tot[R_DIG] = (size_t)_mm_cvtsi128_si32(sd) + (size_t)_mm_extract_epi16(sd, 4);
    tot[R_UD] = (size_t)_mm_cvtsi128_si32(su) + (size_t)_mm_extract_epi16(su, 4);
    tot[R_COL] = (size_t)_mm_cvtsi128_si32(sc) + (size_t)_mm_extract_epi16(sc, 4);
#else
    tot[R_DIG] = tot[R_UD] = tot[R_COL] = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        tot[R_DIG] += c >= '0' && c <= '9';
        tot[R_UD] += c >= '0' && c <= 'Z';
        tot[R_COL] += c == ':';
    }
#endif
}

int rg__digits_at_least(const char *s, size_t n, size_t need)
{
    /* The gate walk's counts (range_counts: per-lane counters, at most
     * 255 per lane, so 256 bytes a call), stopping once enough. */
    size_t c = 0, tot[NRANGES];
    for (size_t base = 0; base < n && c < need; base += 256) {
        range_counts(s + base, n - base < 256 ? n - base : 256, tot);
        c += tot[R_DIG];
    }
    return c >= need;
}

static int range_of(const rg__gatedef *g)
{
    if (g->lo == '0' && g->hi == '9')
        return R_DIG;
    if (g->lo == '0' && g->hi == 'Z')
        return R_UD;
    if (g->lo == ':' && g->hi == ':')
        return R_COL;
    return -1;
}

unsigned rg__gates_walk(const char *t, size_t n, const rg__gatedef *g, size_t ng, unsigned want)
{
    /* One pass over the text for every gate asked for: the ranges' bits
     * 64 bytes at a time, a count per count-only gate, the positions of
     * the last `need` bytes per windowed gate. Stops once every gate asked
     * for is settled. */
    int rng[RG__NGATES];
    size_t cnt[RG__NGATES] = {0};
    size_t pos[RG__NGATES][16];
    unsigned reach = 0;
    if (ng < RG__NGATES)
        want &= (1u << ng) - 1;
    want &= (1u << RG__NGATES) - 1;
    for (size_t k = 0; k < ng && k < RG__NGATES; k++) {
        if (!(want >> k & 1u))
            continue;
        rng[k] = range_of(&g[k]);
        if (g[k].need == 0 || g[k].need > 16 || rng[k] < 0) {
            reach |= 1u << k; /* nothing to count, or not known: never skip */
            want &= ~(1u << k);
        }
    }
    /* Short texts (most replies): the ranges' bits first, then per gate
     * the count, and the window walk only for a windowed gate whose count
     * is reached (few: a short reply rarely has 9 digits, 12 capitals or
     * two colons). Per block and gate as below, this was ~640 instructions
     * per short reply (callgrind), mostly loop overhead. */
    if (n <= 4 * 64 && want) {
        uint64_t mb[4][NRANGES];
        size_t nb = (n + 63) / 64, tot[NRANGES] = {0, 0, 0};
        range_counts(t, n, tot);
        int have_bits = 0;
        for (unsigned w = want; w; w &= w - 1) {
            unsigned k = (unsigned)__builtin_ctz(w);
            if (tot[rng[k]] < g[k].need)
                continue;
            if (!g[k].window) {
                reach |= 1u << k;
                continue;
            }
            if (!have_bits) {
                for (size_t b = 0; b < nb; b++)
                    range_bits64(t, b * 64, n, mb[b]);
                have_bits = 1;
            }
            size_t c = 0;
            for (size_t b = 0; b < nb && !(reach >> k & 1u); b++)
                for (uint64_t bits = mb[b][rng[k]]; bits; bits &= bits - 1) {
                    size_t i = b * 64 + (size_t)__builtin_ctzll(bits);
                    pos[k][c & 15] = i;
                    c++;
                    if (c >= g[k].need && i - pos[k][(c - g[k].need) & 15] < g[k].window) {
                        reach |= 1u << k;
                        break;
                    }
                }
        }
        return reach;
    }
    for (size_t base = 0; base < n && want; base += 64) {
        /* Only colon counts left (the IPv6 gate: on a long reply the
         * digit and capital counts are met in the first blocks, two
         * colons often never): the colons from here by memchr, not the
         * three ranges' bits of every block to the end. */
        unsigned colons = 0;
        size_t most = 0;
        for (unsigned w = want; w; w &= w - 1) {
            unsigned k = (unsigned)__builtin_ctz(w);
            if (rng[k] != R_COL || g[k].window)
                break;
            colons |= 1u << k;
            most = g[k].need > most ? g[k].need : most;
        }
        if (colons == want) {
            size_t have = SIZE_MAX; /* the fewest counted so far */
            for (unsigned w = want; w; w &= w - 1)
                have = cnt[__builtin_ctz(w)] < have ? cnt[__builtin_ctz(w)] : have;
            size_t c = 0;
            for (const char *q = t + base; have + c < most && q < t + n; q++) {
                q = memchr(q, ':', (size_t)(t + n - q));
                if (!q)
                    break;
                c++;
            }
            for (unsigned w = want; w; w &= w - 1) {
                unsigned k = (unsigned)__builtin_ctz(w);
                if (cnt[k] + c >= g[k].need)
                    reach |= 1u << k;
            }
            break;
        }
        uint64_t m[NRANGES];
        range_bits64(t, base, n, m);
        for (unsigned w = want; w; w &= w - 1) {
            unsigned k = (unsigned)__builtin_ctz(w);
            uint64_t b = m[rng[k]];
            if (!g[k].window) {
                cnt[k] += popcount64(b);
                if (cnt[k] >= g[k].need) {
                    reach |= 1u << k;
                    want &= ~(1u << k);
                }
                continue;
            }
            for (; b; b &= b - 1) {
                size_t i = base + (size_t)__builtin_ctzll(b);
                size_t c = cnt[k]++;
                pos[k][c & 15] = i;
                if (c + 1 >= g[k].need && i - pos[k][(c + 1 - g[k].need) & 15] < g[k].window) {
                    reach |= 1u << k;
                    want &= ~(1u << k);
                    break;
                }
            }
        }
    }
    return reach;
}
