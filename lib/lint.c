/* lint.c — the checks `replyguard lint` adds for policy authors
 * (RG_ENGINE_LINT), over the loaded model and the compiled snapshot.
 *
 * Errors: the loader normally stops after structural errors, so a first
 * run would hide the semantic ones (unknown categories, extends cycles)
 * and pattern syntax errors until the structure is fixed. Lint keeps the
 * partial model (rg__policy_load_ex) and runs the semantic checks and a
 * PCRE2 syntax check of every pattern on it too: one run, every error.
 *
 * Warnings (only on a policy set without errors: they reason about the
 * whole set, and a half-loaded one would make them wrong):
 *   - a detector no route has any rule for (its hits never count);
 *   - a threshold no detector's score can reach, or a rule for a
 *     category no detector scores;
 *   - a route identical in effect to the route it extends;
 *   - pcre: detectors (PCRE2 on every check) — the compiler already warns
 *     about regexes Hyperscan takes only as a prefilter or not at all;
 *   - patterns at risk of catastrophic backtracking;
 *   - allow entries that contain no term (or no match) of their detector;
 *   - a term in more than one detector (one occurrence scores twice);
 *   - shadow-mode pitfalls (a route extending a shadow route enforces its
 *     rules; limits and fail-safes of a shadow route are not used). */
#include "lint.h"
#include "alloc.h"
#include "lexicon.h"
#include "normalize.h"
#include "validate.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-9

static const char *q(char *buf, const char *s)
{
    return rg__quote(buf, s ? s : "?", s ? strlen(s) : 1);
}

/* ------------------------------------------------------------------ */
/* Catastrophic backtracking (a heuristic over the pattern text)       */
/* ------------------------------------------------------------------ */

typedef struct frame {
    size_t open;          /* offset of '(' */
    int atomic;           /* (?>...) never backtracks into itself */
    int unbounded;        /* an unbounded repeat somewhere inside */
    int alt;              /* has '|' */
    size_t branch_start;  /* current branch's first byte */
    int overlap;          /* two literal branches, one a prefix of the other */
    size_t nbranch;
    size_t bstart[16], blen[16];
    int literal[16];
} frame;

#define MAX_DEPTH 64

static int is_meta(char c)
{
    return strchr("\\[](){}*+?.|^$", c) != NULL;
}

/* A literal branch [s, e) of the pattern, for the prefix-overlap test. */
static int literal_branch(const char *p, size_t s, size_t e)
{
    for (size_t i = s; i < e; i++)
        if (is_meta(p[i]))
            return 0;
    return 1;
}

static void end_branch(frame *f, const char *p, size_t end)
{
    if (f->nbranch < 16) {
        f->bstart[f->nbranch] = f->branch_start;
        f->blen[f->nbranch] = end - f->branch_start;
        f->literal[f->nbranch] = literal_branch(p, f->branch_start, end);
        f->nbranch++;
    }
}

static int branches_overlap(const frame *f, const char *p)
{
    for (size_t i = 0; i < f->nbranch; i++)
        for (size_t j = 0; j < f->nbranch; j++) {
            if (i == j || !f->literal[i] || !f->literal[j] || f->blen[i] == 0)
                continue;
            if (f->blen[i] <= f->blen[j] &&
                memcmp(p + f->bstart[i], p + f->bstart[j], f->blen[i]) == 0)
                return 1;
        }
    return 0;
}

/* Parse a quantifier at p[*i]; returns 0 if there is none. *max_gt1: it
 * can repeat more than once; *unbounded: no upper bound; *possessive. */
static int quantifier(const char *p, size_t n, size_t *i, int *max_gt1,
                      int *unbounded, int *possessive)
{
    size_t k = *i;
    *max_gt1 = *unbounded = *possessive = 0;
    if (k >= n)
        return 0;
    if (p[k] == '*' || p[k] == '+') {
        *max_gt1 = *unbounded = 1;
        k++;
    } else if (p[k] == '?') {
        k++;
    } else if (p[k] == '{') {
        size_t j = k + 1;
        unsigned long lo = 0, hi = 0;
        int digits = 0, comma = 0, hi_digits = 0;
        while (j < n && p[j] >= '0' && p[j] <= '9') {
            lo = lo * 10 + (unsigned long)(p[j] - '0');
            j++, digits++;
            if (lo > 100000)
                lo = 100000;
        }
        if (j < n && p[j] == ',') {
            comma = 1;
            j++;
            while (j < n && p[j] >= '0' && p[j] <= '9') {
                hi = hi * 10 + (unsigned long)(p[j] - '0');
                j++, hi_digits++;
                if (hi > 100000)
                    hi = 100000;
            }
        }
        if (j >= n || p[j] != '}' || (!digits && !(comma && hi_digits)))
            return 0; /* a literal '{' */
        if (!comma)
            hi = lo;
        *unbounded = comma && !hi_digits;
        *max_gt1 = *unbounded || hi > 1;
        k = j + 1;
    } else {
        return 0;
    }
    if (k < n && p[k] == '+') {
        *possessive = 1;
        k++;
    } else if (k < n && p[k] == '?') {
        k++;
    }
    *i = k;
    return 1;
}

int rg__regex_backtrack_risk(const char *p, char *why, size_t whysize)
{
    size_t n = strlen(p);
    frame st[MAX_DEPTH + 1];
    size_t depth = 0;
    memset(&st[0], 0, sizeof st[0]);
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        /* What the atom at i is, and where it ends. */
        int group_unbounded = 0, group_overlap = 0, is_group = 0;
        size_t group_open = 0;
        if (c == '\\') {
            i += 2;
            if (i - 1 < n && (p[i - 1] == 'x' || p[i - 1] == 'p' || p[i - 1] == 'P' ||
                              p[i - 1] == 'N' || p[i - 1] == 'o') &&
                i < n && p[i] == '{') {
                while (i < n && p[i] != '}')
                    i++;
                i++;
            } else if (i - 1 < n && p[i - 1] == 'Q') {
                const char *e = strstr(p + i, "\\E");
                i = e ? (size_t)(e - p) + 2 : n;
            }
        } else if (c == '[') {
            i++;
            if (i < n && p[i] == '^')
                i++;
            if (i < n && p[i] == ']')
                i++;
            while (i < n && p[i] != ']') {
                if (p[i] == '\\')
                    i++;
                else if (p[i] == '[' && i + 1 < n && p[i + 1] == ':') {
                    const char *e = strstr(p + i, ":]");
                    if (e)
                        i = (size_t)(e - p) + 1;
                }
                i++;
            }
            i++;
        } else if (c == '(') {
            if (i + 2 < n && p[i + 1] == '?' && p[i + 2] == '#') {
                while (i < n && p[i] != ')')
                    i++;
                i++;
                continue; /* a comment */
            }
            if (depth == MAX_DEPTH)
                return 0; /* too deep to judge: no claim */
            depth++;
            memset(&st[depth], 0, sizeof st[depth]);
            st[depth].open = i;
            st[depth].atomic = i + 2 < n && p[i + 1] == '?' && p[i + 2] == '>';
            i++;
            if (i < n && p[i] == '?') {
                /* (?:  (?>  (?=  (?!  (?<=  (?<!  (?<name>  (?P<name>  (?'n')
                 * (?i) ...: skip to the group's content. */
                i++;
                if (i < n && (p[i] == '<' || p[i] == 'P' || p[i] == '\'')) {
                    if (p[i] == 'P')
                        i++;
                    if (i < n && p[i] == '<' && i + 1 < n &&
                        (p[i + 1] == '=' || p[i + 1] == '!')) {
                        i += 2;
                    } else {
                        char close = i < n && p[i] == '\'' ? '\'' : '>';
                        while (i < n && p[i] != close)
                            i++;
                        i++;
                    }
                } else {
                    while (i < n && p[i] != ':' && p[i] != ')' && p[i] != '>' &&
                           p[i] != '=' && p[i] != '!')
                        i++;
                    if (i < n && p[i] != ')')
                        i++;
                }
            }
            st[depth].branch_start = i;
            continue;
        } else if (c == ')') {
            if (depth == 0) {
                i++;
                continue;
            }
            frame *f = &st[depth];
            end_branch(f, p, i);
            is_group = 1;
            group_open = f->open;
            group_unbounded = f->unbounded && !f->atomic;
            group_overlap = f->alt && branches_overlap(f, p) && !f->atomic;
            depth--;
            if (f->unbounded)
                st[depth].unbounded = 1;
            i++;
        } else if (c == '|') {
            end_branch(&st[depth], p, i);
            st[depth].alt = 1;
            i++;
            st[depth].branch_start = i;
            continue;
        } else {
            i++;
        }
        int gt1, unbounded, possessive;
        if (!quantifier(p, n, &i, &gt1, &unbounded, &possessive))
            continue;
        if (unbounded)
            st[depth].unbounded = 1;
        if (!is_group || possessive || !gt1)
            continue;
        if (group_unbounded) {
            snprintf(why, whysize, "the group at offset %zu is repeated and "
                     "itself contains an unbounded repeat (as in (a+)+): a "
                     "near-miss input makes PCRE2 try exponentially many "
                     "splits", group_open);
            return 1;
        }
        if (group_overlap && unbounded) {
            snprintf(why, whysize, "the repeated alternation at offset %zu "
                     "has branches that match the same text (as in (a|ab)*): "
                     "PCRE2 may try every way of splitting the input",
                     group_open);
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers over model and snapshot                                     */
/* ------------------------------------------------------------------ */

typedef struct linter {
    const rg_allocator *a;
    const rg__policy *p;
    const rg__snapshot *s;
    rg__diags *d;
    rg__vbuf v1, v2;
    int oom;
} linter;

/* `name` is `key` or below it at a dot boundary. */
static int under(const char *name, const char *key)
{
    size_t n = strlen(key);
    return strncmp(name, key, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* The most a detector can give one hit: its terms' scores (or its own),
 * and any context block's score. */
static double det_max_score(const rg__detector *det)
{
    double m = 0;
    if (det->kind == RG__KIND_WORDS && det->nterms) {
        for (size_t i = 0; i < det->nterms; i++) {
            double s = det->terms[i].score >= 0 ? det->terms[i].score : det->score;
            if (s > m)
                m = s;
        }
    } else {
        m = det->score;
    }
    for (size_t c = 0; c < det->nctx; c++)
        if (det->ctx[c].score > m)
            m = det->ctx[c].score;
    return m;
}

/* The highest score category `cat` can reach: noisy-OR of every
 * detector's best hit. */
static double cat_max_score(const rg__policy *p, const char *cat)
{
    double prod = 1.0;
    int any = 0;
    for (size_t i = 0; i < p->ndetectors; i++)
        if (p->detectors[i].category && !strcmp(p->detectors[i].category, cat)) {
            prod *= 1.0 - det_max_score(&p->detectors[i]);
            any = 1;
        }
    return any ? 1.0 - prod : 0.0;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

static void check_unused(linter *L)
{
    const rg__policy *p = L->p;
    const rg__snapshot *s = L->s;
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE];
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        uint32_t c = s->dets[i].cat;
        int ruled = 0;
        for (size_t r = 0; r < s->nroutes && !ruled; r++)
            for (int f = 0; f < RG__F_COUNT && !ruled; f++)
                ruled = s->routes[r].thr[c].key[f] != NULL ||
                        (s->routes[r].sthr && s->routes[r].sthr[c].key[f] != NULL);
        if (!ruled)
            rg__diag_warn(L->d, det->loc.file, det->loc.line, det->loc.column,
                          "detector '%s' is unused: no route has a rule for "
                          "its category '%s' or a prefix of it, so its hits "
                          "are reported but never hand off, block or redact "
                          "(add a rule, with 'off' if reporting is the point)",
                          q(b1, det->id), q(b2, det->category));
    }
}

static void check_thresholds(linter *L)
{
    const rg__policy *p = L->p;
    const rg__snapshot *s = L->s;
    static const char *const fname[RG__F_COUNT] = {"handoff", "block", "redact"};
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE], b3[RG__QUOTE_SIZE];
    for (size_t r = 0; r < p->nroutes; r++) {
        const rg__route *rt = &p->routes[r];
        for (size_t k = 0; k < rt->nrules; k++) {
            const rg__rule *rule = &rt->rules[k];
            double best = 0;
            const char *best_cat = NULL;
            for (size_t c = 0; c < s->ncats; c++) {
                if (!under(s->cats[c], rule->key))
                    continue;
                double m = cat_max_score(p, s->cats[c]);
                if (!best_cat || m > best) {
                    best = m;
                    best_cat = s->cats[c];
                }
            }
            int any_threshold = 0;
            for (int f = 0; f < RG__F_COUNT; f++)
                any_threshold |= rule->has[f] && rule->value[f] >= 0;
            if (!best_cat) {
                if (any_threshold)
                    rg__diag_warn(L->d, rule->loc.file, rule->loc.line,
                                  rule->loc.column,
                                  "route '%s': no detector scores '%s' or a "
                                  "category below it, so this rule never "
                                  "applies", q(b1, rt->name), q(b2, rule->key));
                continue;
            }
            for (int f = 0; f < RG__F_COUNT; f++) {
                if (!rule->has[f] || rule->value[f] < 0 ||
                    best + EPS >= rule->value[f])
                    continue;
                rg__diag_warn(L->d, rule->loc.file, rule->loc.line,
                              rule->loc.column,
                              "route '%s': %s threshold %g for '%s' can never "
                              "be reached: the highest score any detector can "
                              "give%s '%s' is %.3g", q(b1, rt->name), fname[f],
                              rule->value[f], q(b2, rule->key),
                              strcmp(best_cat, rule->key) ? " a category below it," : "",
                              q(b3, best_cat), best);
            }
        }
    }
}

static int same_thr(const rg__cthr *x, const rg__cthr *y, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        for (int f = 0; f < RG__F_COUNT; f++)
            if (fabs(x[c].v[f] - y[c].v[f]) > EPS)
                return 0;
        if (strcmp(x[c].mask, y[c].mask))
            return 0;
    }
    return 1;
}

static void check_identical_routes(linter *L)
{
    const rg__policy *p = L->p;
    const rg__snapshot *s = L->s;
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE];
    for (size_t r = 0; r < p->nroutes; r++) {
        const rg__route *rt = &p->routes[r];
        if (!rt->extends)
            continue;
        const rg__croute *me = rg__snapshot_route(s, rt->name);
        const rg__croute *parent = rg__snapshot_route(s, rt->extends);
        if (!me || !parent)
            continue;
        /* What the route would enforce, or evaluate in shadow mode. */
        const rg__cthr *mine = me->sthr ? me->sthr : me->thr;
        const rg__cthr *theirs = parent->sthr ? parent->sthr : parent->thr;
        if (me->budget_ns != parent->budget_ns || me->max_bytes != parent->max_bytes ||
            me->on_timeout != parent->on_timeout || me->on_error != parent->on_error ||
            me->on_oversize != parent->on_oversize ||
            !same_thr(mine, theirs, s->ncats))
            continue;
        rg__diag_warn(L->d, rt->loc.file, rt->loc.line, rt->loc.column,
                      "route '%s' is identical to its parent '%s': it changes "
                      "no threshold, mask, limit or fail-safe that any "
                      "detector reaches", q(b1, rt->name), q(b2, rt->extends));
    }
}

static void check_shadow(linter *L)
{
    const rg__policy *p = L->p;
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE];
    for (size_t r = 0; r < p->nroutes; r++) {
        const rg__route *rt = &p->routes[r];
        if (rt->shadow && (rt->has_budget_us || rt->has_max_bytes ||
                           rt->has_on_timeout || rt->has_on_error ||
                           rt->has_on_oversize))
            rg__diag_warn(L->d, rt->mode_loc.file, rt->mode_loc.line,
                          rt->mode_loc.column,
                          "route '%s' is in shadow mode: its budget_us, "
                          "max_bytes and on_* settings are not used (a shadow "
                          "route enforces %s)", q(b1, rt->name),
                          rt->extends ? "the limits of the route it extends"
                                      : "the defaults");
        if (rt->shadow && !rt->extends)
            rg__diag_warn(L->d, rt->mode_loc.file, rt->mode_loc.line,
                          rt->mode_loc.column,
                          "route '%s' is in shadow mode and extends no route: "
                          "requests on it are allowed whatever they contain "
                          "(only fail-safes apply)", q(b1, rt->name));
        long pi = rt->extends ? rg__policy_route_index(p, rt->extends) : -1;
        if (pi >= 0 && p->routes[pi].shadow && !rt->shadow)
            rg__diag_warn(L->d, rt->extends_loc.file, rt->extends_loc.line,
                          rt->extends_loc.column,
                          "route '%s' extends '%s', which is in shadow mode: "
                          "mode is not inherited, so '%s' enforces the rules "
                          "'%s' only reports", q(b1, rt->name),
                          q(b2, rt->extends), q(b1, rt->name), q(b2, rt->extends));
    }
}

static void check_patterns(linter *L)
{
    const rg__policy *p = L->p;
    char b1[RG__QUOTE_SIZE], why[300];
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        if (det->kind == RG__KIND_WORDS || !det->pattern)
            continue;
        const rg__loc *l = det->pattern_loc.file ? &det->pattern_loc : &det->loc;
        if (rg__regex_backtrack_risk(det->pattern, why, sizeof why))
            rg__diag_warn(L->d, l->file, l->line, l->column,
                          "detector '%s': catastrophic-backtracking risk: %s; "
                          "bound the inner repeat ({1,20}), make it possessive "
                          "(++), or use an atomic group (?>...)",
                          q(b1, det->id), why);
        if (det->kind != RG__KIND_PCRE)
            continue;
        /* Would Hyperscan take it as a regex: then say so. */
        hs_database_t *db = NULL;
        hs_compile_error_t *err = NULL;
        unsigned flags = HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH |
                         (det->caseless ? HS_FLAG_CASELESS : 0);
        int hs_ok = hs_compile(det->pattern, flags, HS_MODE_BLOCK, NULL, &db,
                               &err) == HS_SUCCESS;
        hs_free_database(db);
        hs_free_compile_error(err);
        rg__diag_warn(L->d, l->file, l->line, l->column,
                      "detector '%s' uses pcre:, so PCRE2 runs it over every "
                      "reply on every check (the slow path)%s",
                      q(b1, det->id),
                      hs_ok ? "; Hyperscan accepts this pattern: write it as "
                              "regex: to scan it with the others" : "");
    }
}

/* The normalized form of s in L->v1; NULL on OOM. */
static const char *norm(linter *L, rg__vbuf *v, const char *s, size_t *len)
{
    int invalid = 0;
    if (rg__normalize(L->a, v, s, strlen(s), &invalid)) {
        L->oom = 1;
        return NULL;
    }
    *len = v->len;
    return v->text;
}

/* As compile.c: a term that starts/ends with one of these needs a word
 * boundary on that side. */
static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* 1 if term t occurs in text x as whole words. */
static int contains_word(const char *x, size_t xn, const char *t, size_t tn)
{
    if (tn == 0 || tn > xn)
        return 0;
    for (size_t i = 0; i + tn <= xn; i++) {
        if (memcmp(x + i, t, tn) != 0)
            continue;
        int lw = is_word_byte((unsigned char)t[0]);
        int rw = is_word_byte((unsigned char)t[tn - 1]);
        if (lw && rg__word_before(x, xn, i))
            continue;
        if (rw && rg__word_after(x, xn, i + tn))
            continue;
        return 1;
    }
    return 0;
}

static void check_allow(linter *L)
{
    const rg__policy *p = L->p;
    const rg__snapshot *s = L->s;
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE];
    for (size_t i = 0; i < p->ndetectors && !L->oom; i++) {
        const rg__detector *det = &p->detectors[i];
        for (size_t k = 0; k < det->nallow && !L->oom; k++) {
            size_t an;
            const char *allow = det->view == RG__VIEW_RAW && det->kind != RG__KIND_WORDS
                                    ? det->allow[k] : norm(L, &L->v1, det->allow[k], &an);
            if (!allow)
                return;
            if (allow == det->allow[k])
                an = strlen(allow);
            int useful = 0;
            if (det->kind == RG__KIND_WORDS) {
                for (size_t t = 0; t < det->nterms && !useful && !L->oom; t++) {
                    size_t tn;
                    const char *tt = norm(L, &L->v2, det->terms[t].text, &tn);
                    useful = tt && contains_word(allow, an, tt, tn);
                }
            } else if (s->dets[i].re) {
                pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->dets[i].re, NULL);
                if (!md) {
                    L->oom = 1;
                    return;
                }
                PCRE2_SIZE off = 0;
                for (int guard = 0; guard < 64 && off <= an && !useful; guard++) {
                    int rc = pcre2_match(s->dets[i].re, (PCRE2_SPTR)allow, an, off,
                                         0, md, NULL);
                    if (rc < 0)
                        break;
                    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                    useful = ov[1] > ov[0] &&
                             rg__validate(det->validate, allow + ov[0], ov[1] - ov[0]);
                    off = ov[1] > off ? ov[1] : off + 1;
                }
                pcre2_match_data_free(md);
            } else {
                useful = 1; /* the pattern did not compile: already an error */
            }
            if (!useful)
                rg__diag_warn(L->d, det->loc.file, det->loc.line, det->loc.column,
                              "detector '%s': allow entry '%s' contains %s, so "
                              "it never drops a hit", q(b1, det->id),
                              q(b2, det->allow[k]),
                              det->kind == RG__KIND_WORDS
                                  ? "none of the detector's terms as whole words"
                                  : "no match of the detector's pattern");
        }
    }
}

typedef struct occ {
    char *text;      /* normalized term */
    size_t len;
    uint32_t det;
    const rg__loc *loc;
} occ;

static int cmp_occ(const void *x, const void *y)
{
    const occ *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->text, b->text, n);
    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->det < b->det ? -1 : a->det > b->det;
}

static void check_duplicate_terms(linter *L)
{
    const rg__policy *p = L->p;
    size_t total = 0;
    for (size_t i = 0; i < p->ndetectors; i++)
        if (p->detectors[i].kind == RG__KIND_WORDS)
            total += p->detectors[i].nterms;
    if (total < 2)
        return;
    occ *v = rg__calloc(L->a, total, sizeof *v);
    if (!v) {
        L->oom = 1;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < p->ndetectors && !L->oom; i++) {
        const rg__detector *det = &p->detectors[i];
        if (det->kind != RG__KIND_WORDS)
            continue;
        for (size_t t = 0; t < det->nterms; t++) {
            size_t len;
            const char *tt = norm(L, &L->v1, det->terms[t].text, &len);
            if (!tt)
                break;
            if (len == 0)
                continue;
            v[n].text = rg__strndup(L->a, tt, len);
            if (!v[n].text) {
                L->oom = 1;
                break;
            }
            v[n].len = len;
            v[n].det = (uint32_t)i;
            v[n].loc = &det->terms[t].loc;
            n++;
        }
    }
    qsort(v, n, sizeof *v, cmp_occ);
    /* One warning per pair of detectors, at the later detector's first
     * shared term, with a few examples: a generated list can share many
     * terms with a hand-written one. */
    typedef struct pair {
        uint32_t a, b;      /* a: the earlier detector */
        size_t count;
        size_t first;       /* occurrence (in b) of the first shared term */
        size_t sample[4];
    } pair;
    pair *pairs = NULL;
    size_t npairs = 0, cappairs = 0;
    for (size_t i = 1; i < n && !L->oom; i++) {
        if (v[i].len != v[i - 1].len || memcmp(v[i].text, v[i - 1].text, v[i].len))
            continue;
        size_t j = i; /* the group's first occurrence */
        while (j > 0 && v[j - 1].len == v[i].len &&
               !memcmp(v[j - 1].text, v[i].text, v[i].len))
            j--;
        if (v[i].det == v[j].det || v[i].det == v[i - 1].det)
            continue; /* the same list twice: the compiler folds it */
        {
            /* A detector of the user message and one of the reply never
             * read the same text (`scan:`, docs/CONVERSATION.md). */
            int sa = p->detectors[v[j].det].scope, sb = p->detectors[v[i].det].scope;
            if (!((sa ? sa : 1) & (sb ? sb : 1)))
                continue;
        }
        size_t k = 0;
        while (k < npairs && !(pairs[k].a == v[j].det && pairs[k].b == v[i].det))
            k++;
        if (k == npairs) {
            if (rg__grow(L->a, (void **)&pairs, &cappairs, npairs + 1, sizeof *pairs)) {
                L->oom = 1;
                break;
            }
            pairs[npairs++] = (pair){v[j].det, v[i].det, 0, i, {0}};
        }
        pair *pr = &pairs[k];
        if (pr->count < 4)
            pr->sample[pr->count] = i;
        if (v[i].loc->line < v[pr->first].loc->line)
            pr->first = i;
        pr->count++;
    }
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE], b3[RG__QUOTE_SIZE];
    for (size_t k = 0; k < npairs && !L->oom; k++) {
        const pair *pr = &pairs[k];
        const rg__detector *a = &p->detectors[pr->a];
        const rg__detector *b = &p->detectors[pr->b];
        int same_cat = a->category && b->category && !strcmp(a->category, b->category);
        char ex[4 * RG__QUOTE_SIZE + 16] = "";
        size_t o = 0;
        for (size_t t = 0; t < pr->count && t < 4 && o < sizeof ex; t++)
            o += (size_t)snprintf(ex + o, sizeof ex - o, "%s'%s'", t ? ", " : "",
                                  q(b1, v[pr->sample[t]].text));
        if (pr->count > 4 && o < sizeof ex)
            snprintf(ex + o, sizeof ex - o, ", ...");
        const rg__loc *l = v[pr->first].loc;
        rg__diag_warn(L->d, l->file, l->line, l->column,
                      "detector '%s' shares %zu term%s with detector '%s' (%s): "
                      "%s", q(b2, b->id), pr->count, pr->count == 1 ? "" : "s",
                      q(b3, a->id), ex,
                      same_cat ? "both score the same category, so one "
                                 "occurrence counts twice (noisy-OR)"
                               : "one occurrence scores both categories");
    }
    rg__free(L->a, pairs);
    for (size_t i = 0; i < n; i++)
        rg__free(L->a, v[i].text);
    rg__free(L->a, v);
}

/* Pattern syntax on a model that did not load cleanly (the compiler,
 * which normally reports it, does not run then). */
static void check_syntax(const rg__policy *p, rg__diags *d)
{
    char b1[RG__QUOTE_SIZE];
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        if (det->kind == RG__KIND_WORDS || !det->pattern)
            continue;
        int errcode;
        PCRE2_SIZE erroff;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)det->pattern,
                                       PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | (det->caseless ? PCRE2_CASELESS : 0),
                                       &errcode, &erroff, NULL);
        if (re) {
            pcre2_code_free(re);
            continue;
        }
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        const rg__loc *l = det->pattern_loc.file ? &det->pattern_loc : &det->loc;
        rg__diag_error(d, l->file, l->line, l->column,
                       "detector '%s': pattern does not compile at offset %zu: %s",
                       q(b1, det->id), (size_t)erroff, (const char *)msg);
    }
}

int rg__lint_build(const rg_allocator *a, const char *path,
                   rg__snapshot **out, rg__diags *d)
{
    *out = NULL;
    rg__policy *p = NULL;
    int rc = rg__policy_load_ex(a, path, 1, &p, d);
    if (!p)
        return rc;
    if (rc != RG_OK) {
        /* Structural errors: still every semantic and syntax error. */
        int rc2 = rg__policy_check(p, d);
        if (rc2 == RG_E_NOMEM)
            rc = rc2;
        check_syntax(p, d);
        rg__policy_free(p);
        return rc;
    }
    rc = rg__policy_check(p, d);
    if (rc != RG_OK) {
        if (rc == RG_E_POLICY)
            check_syntax(p, d);
        rg__policy_free(p);
        return rc;
    }
    rg__snapshot *s = NULL;
    rc = rg__snapshot_compile(a, p, &s, d);
    if (rc == RG_OK) {
        linter L = {a, p, s, d, {0}, {0}, 0};
        check_unused(&L);
        check_thresholds(&L);
        check_identical_routes(&L);
        check_shadow(&L);
        check_patterns(&L);
        check_allow(&L);
        check_duplicate_terms(&L);
        rg__vbuf_free(a, &L.v1);
        rg__vbuf_free(a, &L.v2);
        if (L.oom)
            rc = RG_E_NOMEM;
    }
    rg__policy_free(p);
    if (rc != RG_OK) {
        rg__snapshot_free(s);
        return rc;
    }
    *out = s;
    return RG_OK;
}
