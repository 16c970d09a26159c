/* literals.c — trigger literals: a set of strings one of which occurs in
 * every match of a regex, so that Hyperscan can look for those cheap
 * literals instead of running the regex's automaton over every byte
 * (compile.c; docs/PERFORMANCE.md "Trigger literals").
 *
 * Why: the phrase regexes of the toxicity policies ("you / you're (a)
 * <adjectives> <insult noun>", "I will <kill, stab...> you") start with
 * the commonest words of English ("you", "i", "we"). Hyperscan anchors
 * such a regex on a literal factor it picks itself and then runs an NFA
 * from every occurrence: the 20 normalized-view regexes were half of that
 * database's scan time (rg-bench-baseline scan with and without them).
 * Their rare parts ("you idiot", " kill you") are what a benign reply
 * almost never contains.
 *
 * The set is derived from the pattern text by a recursive-descent reader
 * of the PCRE syntax the policies use, in the manner of RE2's prefilter
 * (FilteredRE2), simplified to one OR-set per regex:
 *   - a node is *exact* when the finite set E of strings it can match is
 *     known (single characters, small classes, concatenations as cross
 *     products, alternations as unions, bounded repeats), up to MAXN
 *     strings of at most MAXL bytes;
 *   - a node *requires* a set R when every match of it contains one of
 *     R: a concatenation requires the best of what its parts require
 *     (including its exact runs), an alternation the union of what its
 *     branches require (every branch must require something), a repeat
 *     with a minimum of at least 1 what its body requires;
 *   - a concatenation also offers the shorter runs of exact parts that
 *     start later (at a \\b, an alternation, or a byte outside a word):
 *     "[ ](?:idiot|moron)\\b" as well as every "you are such a ... idiot"
 *     the whole run spells out;
 *   - "best" prefers the set whose shortest literal is longest (a word
 *     boundary at an end counting as a byte), then the smaller set:
 *     longer literals are rarer in text. Once both sets' literals are
 *     GOODLEN bytes or more, the smaller set wins: each literal costs
 *     Hyperscan's literal matcher (its tables, its compile time), and a
 *     6-byte word is rare enough. Measured on the shipped policies: the
 *     normalized database went from 26,343 to ~17,300 literals, its
 *     compile from 0.71 to 0.44 s, a short check -3%, a long one -6%
 *     (docs/PERFORMANCE.md "Seventh step").
 * Anything the reader does not know for certain — back-references, \Q,
 * verbs, recursion, odd escapes, a '{' that is not a plain quantifier —
 * makes the whole pattern "no set": it then stays a regex in Hyperscan,
 * which is always correct. Bytes >= 0x80 and classes of more than a few
 * members count as "any character" (not exact, nothing required), which
 * only ever makes the set weaker, never wrong. Literals are lower-cased
 * and matched caselessly: a superset of any case the regex matches
 * (without UCP, Hyperscan and PCRE2 fold ASCII only). Lookarounds, \b and
 * anchors match the empty string.
 *
 * A \b is also remembered at the ends of the strings it borders: a string
 * carries "the regex asserts a word boundary at my start / end" (EDGE_L,
 * EDGE_R), kept through concatenation when the \b is at the outer end and
 * dropped when it ends up inside. The caller then takes an occurrence of
 * the literal only where the text has that boundary: the occurrence a
 * match holds has it, so none is lost, and " rat" of "you (...) rats?\b"
 * no longer fires on every "rating" and "rather" (the slowest long replies:
 * 8 false triggers each, a PCRE2 run apiece). Boundaries are ASCII ones:
 * no pattern is compiled with UCP, so \w is [A-Za-z0-9_] in both engines
 * and every byte >= 0x80 is a non-word byte (rg__lit_boundary). */
#include "literals.h"
#include "digits.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 4096u      /* strings in one set */
#define MAXL 64u        /* bytes in one string */
#define MAXCLASS 10u    /* members of a class read as exact */
#define MAXREP 4u       /* largest bounded repeat expanded exactly */
#define MAXSUB 8u       /* later-starting runs followed in one sequence */
#define GOODLEN 6u      /* literals this long are rare enough: fewer is better */
#define MAXSUBN 512u    /* strings in one of them */
#define ARENA_MAX (16u << 20)

typedef struct str {
    const char *p;
    uint32_t n;
    uint32_t e; /* EDGE_L | EDGE_R; an empty string has both or neither */
} str;

enum { EDGE_L = RG__LIT_EDGE_LEFT, EDGE_R = RG__LIT_EDGE_RIGHT };

typedef struct sset {
    str *v;
    uint32_t n;
    uint8_t pfx; /* as a requirement: every match of its node starts with
                    one of these (then a match starts where it occurs) */
    /* As a requirement of a sequence: where in the pattern text the part
     * of the sequence that holds the occurrence ends (NULL: not known).
     * A match's occurrence then ends within the width of the pattern up
     * to there from the match's start (rg__lits.end). */
    const char *end;
} sset;

typedef struct info {
    int exact; /* E: every string the node matches */
    sset E;
    int req; /* R: one of these occurs in every match */
    sset R;
} info;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) char mem[];
} chunk;

typedef struct rd {
    const char *p;
    int bad, oom, ext;
    const rg_allocator *a;
    chunk *head;
    size_t total;
} rd;

static void *ar_alloc(rd *r, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!r->head || r->head->used + n > r->head->cap) {
        size_t cap = n > 65536 ? n : 65536;
        if (r->total + cap > ARENA_MAX) {
            r->bad = 1; /* too much work for a trigger: keep the regex */
            return NULL;
        }
        chunk *c = rg__malloc(r->a, sizeof *c + cap);
        if (!c) {
            r->oom = 1;
            return NULL;
        }
        c->next = r->head;
        c->used = 0;
        c->cap = cap;
        r->head = c;
        r->total += cap;
    }
    void *m = r->head->mem + r->head->used;
    r->head->used += n;
    return m;
}

static int failed(const rd *r) { return r->bad || r->oom; }

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int cmp_str(const void *x, const void *y)
{
    const str *a = x, *b = y;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return memcmp(a->p, b->p, a->n);
}

/* Sort and drop repeats; a string kept once keeps only the boundaries
 * all its copies had (any copy may be the one a match holds). */
static void dedupe(sset *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
    uint32_t k = 1;
    for (uint32_t i = 1; i < s->n; i++) {
        if (cmp_str(&s->v[i], &s->v[k - 1]))
            s->v[k++] = s->v[i];
        else
            s->v[k - 1].e &= s->v[i].e;
    }
    s->n = k;
}

static int one_byte(rd *r, sset *s, int c)
{
    s->v = ar_alloc(r, sizeof *s->v);
    char *b = ar_alloc(r, 1);
    if (!s->v || !b)
        return -1;
    *b = (char)lower(c);
    s->v[0].p = b;
    s->v[0].n = 1;
    s->v[0].e = 0;
    s->n = 1;
    s->pfx = 0;
    s->end = NULL;
    return 0;
}

/* {""}; `edges`: EDGE_L | EDGE_R for a \b, 0 otherwise. */
static int empty_set(rd *r, sset *s, uint32_t edges)
{
    s->v = ar_alloc(r, sizeof *s->v);
    if (!s->v)
        return -1;
    s->v[0].p = "";
    s->v[0].n = 0;
    s->v[0].e = edges;
    s->n = 1;
    s->pfx = 0;
    s->end = NULL;
    return 0;
}

static int empty_only(rd *r, sset *s) { return empty_set(r, s, 0); }

/* The boundaries of a concatenation x y at its outer ends. An empty
 * string's boundary is at the one place it sits: next to the other. */
static uint32_t cat_edges(const str *x, const str *y)
{
    if (!x->n && !y->n)
        return x->e | y->e ? EDGE_L | EDGE_R : 0;
    uint32_t e = 0;
    if (x->n ? (x->e & EDGE_L) : (x->e || (y->e & EDGE_L)))
        e |= EDGE_L;
    if (y->n ? (y->e & EDGE_R) : (y->e || (x->e & EDGE_R)))
        e |= EDGE_R;
    return e;
}

/* a x b into *o; -1 when it would be too large (or on failure). */
static int cross(rd *r, const sset *a, const sset *b, sset *o)
{
    if ((uint64_t)a->n * b->n > MAXN)
        return -1;
    for (uint32_t i = 0; i < a->n; i++)
        for (uint32_t j = 0; j < b->n; j++)
            if (a->v[i].n + b->v[j].n > MAXL)
                return -1;
    o->v = ar_alloc(r, (size_t)a->n * b->n * sizeof *o->v);
    if (!o->v)
        return -1;
    o->n = 0;
    o->pfx = 0;
    o->end = NULL;
    for (uint32_t i = 0; i < a->n; i++)
        for (uint32_t j = 0; j < b->n; j++) {
            uint32_t n = a->v[i].n + b->v[j].n;
            char *m = ar_alloc(r, n ? n : 1);
            if (!m)
                return -1;
            memcpy(m, a->v[i].p, a->v[i].n);
            memcpy(m + a->v[i].n, b->v[j].p, b->v[j].n);
            o->v[o->n].p = m;
            o->v[o->n].n = n;
            o->v[o->n].e = cat_edges(&a->v[i], &b->v[j]);
            o->n++;
        }
    dedupe(o);
    return 0;
}

static int unite(rd *r, const sset *a, const sset *b, sset *o)
{
    if ((uint64_t)a->n + b->n > MAXN)
        return -1;
    o->v = ar_alloc(r, ((size_t)a->n + b->n) * sizeof *o->v);
    if (!o->v)
        return -1;
    memcpy(o->v, a->v, a->n * sizeof *o->v);
    memcpy(o->v + a->n, b->v, b->n * sizeof *o->v);
    o->n = a->n + b->n;
    o->pfx = a->pfx && b->pfx;
    o->end = NULL; /* branches end in different places */
    dedupe(o);
    return 0;
}

static uint32_t minlen(const sset *s)
{
    uint32_t m = UINT32_MAX;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].n < m)
            m = s->v[i].n;
    return m;
}

/* Is a better than b as a requirement (rarer in text)? */
/* The shortest literal's length, a word boundary at an end counting as a
 * byte: " rat\\b" is about as rare in text as " rats". */
static uint32_t effmin(const sset *s)
{
    uint32_t m = UINT32_MAX;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t k = s->v[i].n + ((s->v[i].e & EDGE_L) ? 1 : 0) + ((s->v[i].e & EDGE_R) ? 1 : 0);
        if (k < m)
            m = k;
    }
    return m;
}
static int better(const sset *a, const sset *b)
{
    uint32_t la = effmin(a), lb = effmin(b);
    if (la >= GOODLEN && lb >= GOODLEN && a->n != b->n)
        return a->n < b->n;
    if (la != lb)
        return la > lb;
    if (a->n != b->n)
        return a->n < b->n;
    return a->pfx > b->pfx; /* a prefix set bounds PCRE2 to where it occurs */
}

/* Offer s as a requirement: usable when it is non-empty and has no empty
 * string (which every text contains). */
static void offer(int *have, sset *best, const sset *s)
{
    if (!s->n || minlen(s) == 0)
        return;
    if (!*have || better(s, best)) {
        *best = *s;
        *have = 1;
    }
}

/* Offer s with its prefix flag set to pfx, its occurrence within the
 * pattern text before `end` (sset.end). */
static void offer_as(int *have, sset *best, const sset *s, int pfx, const char *end)
{
    sset c = *s;
    c.pfx = (uint8_t)(pfx != 0);
    c.end = end;
    offer(have, best, &c);
}

/* The best requirement of a node (its R, or its E used as one: every
 * match of the node is one of E, so E is a prefix set). */
static int best_req(const info *x, sset *out)
{
    int have = 0;
    if (x->req)
        offer(&have, out, &x->R);
    if (x->exact)
        offer_as(&have, out, &x->E, 1, NULL);
    return have;
}

/* Are all strings of s empty (nothing consumed yet)? */
static int all_empty(const sset *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].n)
            return 0;
    return 1;
}

static void any_char(info *x) { memset(x, 0, sizeof *x); }

static int empty_atom(rd *r, info *x, uint32_t edges)
{
    memset(x, 0, sizeof *x);
    x->exact = 1;
    return empty_set(r, &x->E, edges);
}

static void skip_ws(rd *r)
{
    if (!r->ext)
        return;
    for (;;) {
        char c = *r->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            r->p++;
        } else if (c == '#') {
            while (*r->p && *r->p != '\n')
                r->p++;
        } else {
            return;
        }
    }
}

enum { ESC_BYTE, ESC_EMPTY, ESC_BOUNDARY, ESC_ANY };

/* An escape after its backslash: a byte (*code), an assertion (empty) or
 * a class of characters (any). Unknown escapes set r->bad. */
static int escape(rd *r, int in_class, int *code)
{
    int c = (unsigned char)*r->p;
    if (!c) {
        r->bad = 1;
        return ESC_ANY;
    }
    r->p++;
    if (c == 'x') {
        int h1 = rg__hexval((unsigned char)r->p[0]);
        int h2 = h1 >= 0 ? rg__hexval((unsigned char)r->p[1]) : -1;
        if (h1 < 0 || h2 < 0) {
            r->bad = 1;
            return ESC_ANY;
        }
        r->p += 2;
        *code = h1 * 16 + h2;
        return *code == 0 || *code >= 0x80 ? ESC_ANY : ESC_BYTE;
    }
    switch (c) {
    case 'n': *code = '\n'; return ESC_BYTE;
    case 't': *code = '\t'; return ESC_BYTE;
    case 'r': *code = '\r'; return ESC_BYTE;
    case 'f': *code = '\f'; return ESC_BYTE;
    case 'e': *code = 0x1b; return ESC_BYTE;
    case 'a': *code = 0x07; return ESC_BYTE;
    default: break;
    }
    if (strchr("dDwWsShHvVRN", c))
        return ESC_ANY;
    if (!in_class && c == 'b')
        return ESC_BOUNDARY;
    if (!in_class && strchr("BAzZG", c))
        return ESC_EMPTY;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        r->bad = 1; /* back-references, \p, \Q, \k, \c, \o, \0... */
        return ESC_ANY;
    }
    if (c >= 0x80)
        return ESC_ANY;
    *code = c; /* escaped punctuation */
    return ESC_BYTE;
}

/* A class after its '[': exact when it is a handful of ASCII bytes. */
static void char_class(rd *r, info *x)
{
    uint8_t in[128] = {0};
    int neg = 0, any = 0;
    unsigned n = 0;
    any_char(x);
    if (*r->p == '^') {
        neg = 1;
        r->p++;
    }
    for (int first = 1;; first = 0) {
        int c = (unsigned char)*r->p;
        if (!c) {
            r->bad = 1;
            return;
        }
        if (c == ']' && !first) {
            r->p++;
            break;
        }
        if (c == '[' && (r->p[1] == ':' || r->p[1] == '.' || r->p[1] == '=')) {
            const char *e = strstr(r->p + 2, r->p[1] == ':' ? ":]" : r->p[1] == '.' ? ".]" : "=]");
            if (!e) {
                r->bad = 1;
                return;
            }
            r->p = e + 2;
            any = 1;
            continue;
        }
        int lo = c, kind = ESC_BYTE;
        r->p++;
        if (c == '\\') {
            kind = escape(r, 1, &lo);
            if (r->bad)
                return;
        } else if (c >= 0x80) {
            kind = ESC_ANY;
        }
        if (kind != ESC_BYTE) {
            any = 1;
            continue;
        }
        int hi = lo;
        if (r->p[0] == '-' && r->p[1] && r->p[1] != ']') {
            r->p++;
            int c2 = (unsigned char)*r->p++;
            if (c2 == '\\') {
                if (escape(r, 1, &hi) != ESC_BYTE || r->bad) {
                    r->bad = 1;
                    return;
                }
            } else if (c2 >= 0x80) {
                any = 1;
                continue;
            } else {
                hi = c2;
            }
            if (hi < lo) {
                r->bad = 1;
                return;
            }
        }
        for (int k = lo; k <= hi && k < 128; k++)
            if (!in[lower(k)]) {
                in[lower(k)] = 1;
                n++;
            }
        if (n > MAXCLASS)
            any = 1;
    }
    if (neg || any || n == 0 || n > MAXCLASS)
        return;
    x->E.v = ar_alloc(r, n * sizeof *x->E.v);
    if (!x->E.v)
        return;
    for (int k = 1; k < 128; k++)
        if (in[k]) {
            char *b = ar_alloc(r, 1);
            if (!b)
                return;
            *b = (char)k;
            x->E.v[x->E.n].p = b;
            x->E.v[x->E.n].n = 1;
            x->E.v[x->E.n].e = 0;
            x->E.n++;
        }
    x->exact = 1;
}

static void alternation(rd *r, int depth, info *out);

/* Apply a quantifier {lo, hi} (hi < 0: unbounded) to x. */
static void quantify(rd *r, info *x, unsigned long lo, long hi)
{
    info q;
    memset(&q, 0, sizeof q);
    sset req;
    if (lo >= 1 && best_req(x, &req)) {
        q.req = 1;
        q.R = req;
    }
    if (x->exact && hi >= 0 && (unsigned long)hi <= MAXREP) {
        /* E^lo | E^(lo+1) | ... | E^hi */
        sset pw, acc;
        int ok = empty_only(r, &pw) == 0;
        for (unsigned long k = 0; ok && k < lo; k++) {
            sset t;
            ok = cross(r, &pw, &x->E, &t) == 0;
            pw = t;
        }
        acc = pw;
        for (long k = (long)lo; ok && k < hi; k++) {
            sset t, u;
            ok = cross(r, &pw, &x->E, &t) == 0 && unite(r, &acc, &t, &u) == 0;
            pw = t;
            acc = u;
        }
        if (ok) {
            q.exact = 1;
            q.E = acc;
        }
    }
    *x = q;
}

/* A quantifier after an atom, if any. */
static void quantifier(rd *r, info *x)
{
    for (;;) {
        skip_ws(r);
        int c = (unsigned char)*r->p;
        unsigned long lo;
        long hi;
        if (c == '*' || c == '+' || c == '?') {
            lo = c == '+';
            hi = c == '?' ? 1 : -1;
            r->p++;
        } else if (c == '{') {
            const char *q = r->p + 1;
            if (*q < '0' || *q > '9') {
                r->bad = 1; /* "{,n}" or a literal brace */
                return;
            }
            lo = 0;
            while (*q >= '0' && *q <= '9') {
                lo = lo * 10 + (unsigned long)(*q - '0');
                if (lo > 100000)
                    lo = 100000;
                q++;
            }
            hi = (long)lo;
            if (*q == ',') {
                q++;
                if (*q >= '0' && *q <= '9') {
                    hi = 0;
                    while (*q >= '0' && *q <= '9') {
                        hi = hi * 10 + (*q - '0');
                        if (hi > 100000)
                            hi = 100000;
                        q++;
                    }
                } else {
                    hi = -1;
                }
            }
            if (*q != '}') {
                r->bad = 1;
                return;
            }
            r->p = q + 1;
        } else {
            return;
        }
        if (*r->p == '?' || *r->p == '+')
            r->p++; /* lazy or possessive: the same strings */
        quantify(r, x, lo, hi);
        if (failed(r))
            return;
    }
}

/* A group after its '('. Sets *opts when it was an option setting like
 * "(?x)" (no atom: nothing may quantify it). */
static void group(rd *r, int depth, info *x, int *opts)
{
    int save_ext = r->ext, lookaround = 0;
    *opts = 0;
    if (*r->p == '*') {
        r->bad = 1; /* (*VERB) */
        return;
    }
    if (*r->p == '?') {
        r->p++;
        int c = (unsigned char)*r->p;
        if (c == ':' || c == '>') {
            r->p++;
        } else if (c == '=' || c == '!') {
            r->p++;
            lookaround = 1;
        } else if (c == '<' && (r->p[1] == '=' || r->p[1] == '!')) {
            r->p += 2;
            lookaround = 1;
        } else if (c == '<' || (c == 'P' && r->p[1] == '<') || c == '\'') {
            const char *e = strchr(r->p, c == '\'' ? '\'' : '>');
            if (c == '\'')
                e = strchr(r->p + 1, '\'');
            if (!e) {
                r->bad = 1;
                return;
            }
            r->p = e + 1;
        } else if (c == '#') {
            while (*r->p && *r->p != ')')
                r->p++;
            if (*r->p != ')') {
                r->bad = 1;
                return;
            }
            r->p++;
            *opts = 1;
            return;
        } else {
            /* Option letters: (?i) (?x) (?-x) (?i:...) ... */
            int on = 1, ext = r->ext;
            while (*r->p && strchr("imnsxJU-", *r->p)) {
                if (*r->p == '-')
                    on = 0;
                else if (*r->p == 'x')
                    ext = on;
                r->p++;
            }
            if (*r->p == ')') {
                r->p++;
                r->ext = ext; /* to the end of the enclosing group */
                *opts = 1;
                return;
            }
            if (*r->p != ':') {
                r->bad = 1; /* (?|, (?R), (?1), (?C)...: not read */
                return;
            }
            r->p++;
            r->ext = ext;
        }
    }
    alternation(r, depth + 1, x);
    r->ext = save_ext;
    if (failed(r))
        return;
    if (*r->p != ')') {
        r->bad = 1;
        return;
    }
    r->p++;
    if (lookaround && empty_atom(r, x, 0))
        return;
}

/* Does a run starting at exact set E (after a byte that is a word byte
 * when prev_word) start something worth offering on its own: a \\b, an
 * alternation, or a single byte that is not inside a word? */
static int sub_start(const sset *E, int prev_word)
{
    if (E->n == 1 && E->v[0].n == 0)
        return E->v[0].e != 0;
    if (E->n > 1)
        return 1;
    return E->n == 1 && E->v[0].n == 1 && (!prev_word || !rg__lit_word((unsigned char)E->v[0].p[0]));
}

/* Does some string of E end with a word byte (or is E unknown/empty-only)? */
static int last_word(const sset *E)
{
    for (uint32_t i = 0; i < E->n; i++)
        if (!E->v[i].n || rg__lit_word((unsigned char)E->v[i].p[E->v[i].n - 1]))
            return 1;
    return 0;
}

static void sequence(rd *r, int depth, info *out)
{
    sset run, best;
    sset sub[MAXSUB];
    size_t nsub = 0;
    /* from_start: the run began where the sequence begins, so it is a
     * prefix of every match (pfx). */
    int allexact = 1, have = 0, prev_word = 1, from_start = 1;
    memset(out, 0, sizeof *out);
    if (empty_only(r, &run))
        return;
    for (;;) {
        skip_ws(r);
        int c = (unsigned char)*r->p;
        if (!c || c == '|' || c == ')')
            break;
        info x;
        int opts = 0;
        const char *xstart = r->p; /* what is offered before x ends here */
        r->p++;
        if (c == '(') {
            group(r, depth, &x, &opts);
            if (!failed(r) && opts)
                continue; /* "(?x)": no atom */
        } else if (c == '[') {
            char_class(r, &x);
        } else if (c == '\\') {
            int code = 0, kind = escape(r, 0, &code);
            if (kind == ESC_BYTE) {
                memset(&x, 0, sizeof x);
                x.exact = 1;
                one_byte(r, &x.E, code);
            } else if (kind == ESC_EMPTY || kind == ESC_BOUNDARY) {
                empty_atom(r, &x, kind == ESC_BOUNDARY ? EDGE_L | EDGE_R : 0);
            } else {
                any_char(&x);
            }
        } else if (c == '^' || c == '$') {
            empty_atom(r, &x, 0);
        } else if (c == '.' || c >= 0x80) {
            any_char(&x);
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            r->bad = 1; /* nothing to quantify, or a literal brace */
        } else {
            memset(&x, 0, sizeof x);
            x.exact = 1;
            one_byte(r, &x.E, c);
        }
        if (failed(r))
            return;
        quantifier(r, &x);
        if (failed(r))
            return;
        sset t;
        /* Shorter runs that start later, at a word's start or an
         * alternation: candidates too ("[ ](?:idiot|moron)\\b" rather
         * than every "you are such a ... idiot" the whole run spells). */
        if (x.exact) {
            size_t k = 0;
            for (size_t j = 0; j < nsub; j++) {
                if ((uint64_t)sub[j].n * x.E.n <= MAXSUBN && cross(r, &sub[j], &x.E, &t) == 0)
                    sub[k++] = t;
                else
                    offer_as(&have, &best, &sub[j], 0, xstart);
                if (failed(r))
                    return;
            }
            nsub = k;
            if (nsub < MAXSUB && x.E.n <= MAXSUBN && r->total <= ARENA_MAX / 2 &&
                sub_start(&x.E, prev_word))
                sub[nsub++] = x.E;
            prev_word = last_word(&x.E);
        } else {
            for (size_t j = 0; j < nsub; j++)
                offer_as(&have, &best, &sub[j], 0, xstart);
            nsub = 0;
            prev_word = 1; /* unknown: no sub-run starts right after it */
        }
        if (x.exact && cross(r, &run, &x.E, &t) == 0) {
            run = t;
            continue;
        }
        if (failed(r))
            return;
        /* The run ends here: it, and what x requires, are candidates. */
        offer_as(&have, &best, &run, from_start, xstart);
        int first = from_start && all_empty(&run); /* x is where matches start */
        sset xr;
        if (best_req(&x, &xr))
            offer_as(&have, &best, &xr, xr.pfx && first, r->p);
        allexact = 0;
        from_start = x.exact && first;
        if (x.exact)
            run = x.E;
        else if (empty_only(r, &run))
            return;
    }
    offer_as(&have, &best, &run, from_start, r->p);
    for (size_t j = 0; j < nsub; j++)
        offer_as(&have, &best, &sub[j], 0, r->p);
    if (allexact) {
        out->exact = 1;
        out->E = run;
    }
    out->req = have;
    if (have)
        out->R = best;
}

static void alternation(rd *r, int depth, info *out)
{
    if (depth > 200) {
        r->bad = 1;
        return;
    }
    sequence(r, depth, out);
    if (failed(r) || *r->p != '|')
        return;
    sset acc;
    int req = best_req(out, &acc);
    int exact = out->exact;
    sset E = out->E;
    while (!failed(r) && *r->p == '|') {
        r->p++;
        info b;
        sequence(r, depth, &b);
        if (failed(r))
            return;
        sset br, t;
        if (req && best_req(&b, &br) && unite(r, &acc, &br, &t) == 0)
            acc = t; /* a prefix set only if every branch's is (unite) */
        else
            req = 0;
        if (exact && b.exact && unite(r, &E, &b.E, &t) == 0)
            E = t;
        else
            exact = 0;
        if (r->oom)
            return;
    }
    memset(out, 0, sizeof *out);
    out->exact = exact;
    out->E = E;
    out->req = req;
    out->R = acc;
}

static uint32_t hash_bytes(const char *p, uint32_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* Does y, found at offset o of x, have its boundaries wherever x occurs
 * with x's? Inside x they are fixed by x's bytes; at x's ends, x's own. */
static int edges_hold(const str *x, const str *y, uint32_t o)
{
    const unsigned char *p = (const unsigned char *)x->p;
    if ((y->e & EDGE_L) &&
        !(o == 0 ? (x->e & EDGE_L) : rg__lit_word(p[o - 1]) != rg__lit_word(p[o])))
        return 0;
    uint32_t e = o + y->n;
    if ((y->e & EDGE_R) &&
        !(e == x->n ? (x->e & EDGE_R) : rg__lit_word(p[e - 1]) != rg__lit_word(p[e])))
        return 0;
    return 1;
}

/* Drop every literal that contains another: text with it has the shorter
 * one too (where the shorter one's boundaries hold, edges_hold), so the
 * set triggers on the same texts with fewer literals. s is sorted by
 * length (dedupe), so a literal can only contain one kept before it;
 * those are found by looking up its substrings of each kept length in a
 * hash set (pairwise search took 100 ms for the 3,000 literals of
 * en.insult.aimed). Returns the new count (s->n too). */
static uint32_t minimise(rd *r, sset *s)
{
    uint32_t cap = 16;
    while (cap < 2 * s->n)
        cap *= 2;
    uint32_t *slot = ar_alloc(r, cap * sizeof *slot); /* index + 1; 0: empty */
    if (!slot)
        return s->n; /* no room to minimise: the set is still correct */
    memset(slot, 0, cap * sizeof *slot);
    uint8_t haslen[MAXL + 1] = {0};
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const str *x = &s->v[i];
        int redundant = 0;
        for (uint32_t L = 1; L < x->n && !redundant; L++) {
            if (!haslen[L])
                continue;
            for (uint32_t o = 0; o + L <= x->n && !redundant; o++) {
                uint32_t h = hash_bytes(x->p + o, L) & (cap - 1);
                for (; slot[h]; h = (h + 1) & (cap - 1)) {
                    const str *y = &s->v[slot[h] - 1];
                    if (y->n == L && !memcmp(y->p, x->p + o, L)) {
                        redundant = edges_hold(x, y, o);
                        /* A match then starts before the kept literal: the
                         * set is no longer one of prefixes. */
                        if (redundant && o > 0)
                            s->pfx = 0;
                        break;
                    }
                }
            }
        }
        if (redundant)
            continue;
        s->v[k] = *x;
        uint32_t h = hash_bytes(x->p, x->n) & (cap - 1);
        while (slot[h])
            h = (h + 1) & (cap - 1);
        slot[h] = k + 1;
        if (x->n <= MAXL)
            haslen[x->n] = 1;
        k++;
    }
    s->n = k;
    return k;
}

void rg__lits_free(const rg_allocator *a, rg__lits *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        rg__free(a, l->v[i]);
    rg__free(a, l->v);
    rg__free(a, l->edges);
    memset(l, 0, sizeof *l);
}

/* Bytes rare in prose: a literal holding one ("@", "://", "{") is rare
 * however short it is. */
static int rare_byte(unsigned char c)
{
    return c && strchr("@/\\#$%^&*=<>{}[]|~`_", c) != NULL;
}

/* Is every literal of s rare enough to be worth a trigger: min_len bytes
 * or more, or holding a rare byte? */
static int strong(const sset *s, size_t min_len)
{
    for (uint32_t i = 0; i < s->n; i++) {
        /* A whole word (a boundary at both ends) counts them as bytes:
         * "\\bup\\b" is as rare as a 4-byte literal, "\\bco" is not. */
        uint32_t e = s->v[i].e == (EDGE_L | EDGE_R) ? 2u : 0u;
        if (s->v[i].n + e >= min_len)
            continue;
        int rare = 0;
        for (uint32_t k = 0; k < s->v[i].n && !rare; k++)
            rare = rare_byte((unsigned char)s->v[i].p[k]);
        if (!rare)
            return 0;
    }
    return 1;
}

int rg__trigger_literals(const rg_allocator *a, const char *expr, size_t min_len, size_t maxn,
                         rg__lits *out)
{
    memset(out, 0, sizeof *out);
    if (!expr)
        return 0;
    rd r;
    memset(&r, 0, sizeof r);
    r.p = expr;
    r.a = a;
    info top;
    alternation(&r, 0, &top);
    int rc = 0;
    sset s;
    if (!failed(&r) && *r.p == '\0' && best_req(&top, &s)) {
        dedupe(&s);
        uint32_t k = minimise(&r, &s);
        if (k && k <= maxn && strong(&s, min_len)) {
            out->v = rg__calloc(a, k, sizeof *out->v);
            out->edges = rg__calloc(a, k, sizeof *out->edges);
            if (!out->v || !out->edges) {
                rc = -1;
            } else {
                for (uint32_t i = 0; i < k && rc == 0; i++) {
                    out->v[i] = rg__malloc(a, s.v[i].n + 1);
                    if (!out->v[i]) {
                        rc = -1;
                        break;
                    }
                    memcpy(out->v[i], s.v[i].p, s.v[i].n);
                    out->v[i][s.v[i].n] = '\0';
                    out->edges[i] = (unsigned char)s.v[i].e;
                    out->n = i + 1;
                }
                out->minlen = minlen(&s);
                out->prefix = s.pfx;
                out->end = s.end ? (size_t)(s.end - expr) : 0;
                if (rc == 0)
                    rc = 1;
            }
        }
    }
    if (r.oom)
        rc = -1;
    while (r.head) {
        chunk *n = r.head->next;
        rg__free(a, r.head);
        r.head = n;
    }
    if (rc != 1)
        rg__lits_free(a, out);
    return rc;
}
