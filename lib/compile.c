/* compile.c — policy model → immutable snapshot: normalised lexicon
 * terms and regexes into one Hyperscan block-mode database per view,
 * PCRE2 codes for span extraction and PCRE2-only detectors, and routes
 * resolved (inheritance flattened, thresholds looked up per category) so
 * that a check does no lookups by name. */
#include "snapshot.h"
#include "conv.h"
#include "cache.h"
#include "dbpack.h"
#include "alloc.h"
#include "normalize.h"
#include "literals.h"
#include "sha256.h"
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct builder {
    const rg_allocator *a;
    const rg__policy *p;
    rg__snapshot *s;
    rg__diags *d;
    /* per view: Hyperscan expressions, flags and ids */
    char **expr[RG__VIEW_COUNT];
    unsigned *flags[RG__VIEW_COUNT];
    unsigned *ids[RG__VIEW_COUNT];
    size_t n[RG__VIEW_COUNT], cap[RG__VIEW_COUNT];
    size_t cappats;
    rg__vbuf tmp;
    rg__vbuf tmp2;
    int oom;
    rg__hscache *cache;            /* memoised Hyperscan work, or NULL */
    const hs_platform_info_t *platform; /* database target; NULL: host */
    /* Databases to compile (queue_db), compiled together by run_jobs;
     * strings the jobs point at that nothing else owns (trigger
     * literals), freed after. */
    struct dbjob *jobs;
    size_t njobs, capjobs;
    char **keep;
    size_t nkeep, capkeep;
} builder;

/* One Hyperscan database to compile: its expressions (arrays owned,
 * strings borrowed), where it goes, and the outcome. */
typedef struct dbjob {
    char **e;
    unsigned *f, *id;
    size_t n;
    hs_database_t **out;
    hs_database_t *db;
    hs_compile_error_t *err;
    hs_error_t rc;
    int cached;
    int optional; /* a failure leaves *out NULL, and is no error */
    uint8_t key[32];
    const hs_platform_info_t *platform;
} dbjob;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *own(builder *b, const char *str)
{
    rg__snapshot *s = b->s;
    for (size_t i = 0; i < s->nowned; i++)
        if (!strcmp(s->owned[i], str))
            return s->owned[i];
    if (rg__grow(b->a, (void **)&s->owned, &s->capowned, s->nowned + 1,
                 sizeof *s->owned)) {
        b->oom = 1;
        return "";
    }
    char *c = rg__strdup(b->a, str);
    if (!c) {
        b->oom = 1;
        return "";
    }
    s->owned[s->nowned++] = c;
    return c;
}

/* Add one Hyperscan expression for view v, standing for pattern `pat`. */
static int add_expr(builder *b, rg__view v, char *expr, unsigned flags,
                    const rg__pat *pat)
{
    rg__snapshot *s = b->s;
    if (rg__grow(b->a, (void **)&s->pats, &b->cappats, s->npats + 1,
                 sizeof *s->pats))
        goto oom;
    size_t cap = b->cap[v];
    if (rg__grow(b->a, (void **)&b->expr[v], &cap, b->n[v] + 1, sizeof(char *)))
        goto oom;
    cap = b->cap[v];
    if (rg__grow(b->a, (void **)&b->flags[v], &cap, b->n[v] + 1, sizeof(unsigned)))
        goto oom;
    cap = b->cap[v];
    if (rg__grow(b->a, (void **)&b->ids[v], &cap, b->n[v] + 1, sizeof(unsigned)))
        goto oom;
    b->cap[v] = cap;
    s->pats[s->npats] = *pat;
    b->expr[v][b->n[v]] = expr;
    b->flags[v][b->n[v]] = flags;
    b->ids[v][b->n[v]] = (unsigned)s->npats;
    b->n[v]++;
    s->npats++;
    return 0;
oom:
    rg__free(b->a, expr);
    b->oom = 1;
    return -1;
}

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* A literal as a Hyperscan expression: every byte that is not a letter
 * or digit is hex-escaped, so no term can inject regex syntax. */
static char *literal_expr(builder *b, const char *t, size_t n)
{
    char *e = rg__malloc(b->a, n * 4 + 1);
    if (!e) {
        b->oom = 1;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            e[o++] = (char)c;
        } else {
            static const char hx[] = "0123456789abcdef";
            e[o++] = '\\';
            e[o++] = 'x';
            e[o++] = hx[c >> 4];
            e[o++] = hx[c & 15];
        }
    }
    e[o] = '\0';
    return e;
}

/* A term as view `v` sees text: the same functions that build the views
 * at check time transform the terms at compile time. */
static const char *term_view(builder *b, rg__view v, const char *text,
                             size_t *len)
{
    if (v == RG__VIEW_RAW) {
        *len = strlen(text);
        return text;
    }
    int invalid = 0;
    if (rg__normalize(b->a, &b->tmp, text, strlen(text), &invalid)) {
        b->oom = 1;
        return NULL;
    }
    if (v == RG__VIEW_COMPACT) {
        if (rg__compact(b->a, &b->tmp2, &b->tmp, 1)) {
            b->oom = 1;
            return NULL;
        }
        *len = b->tmp2.len;
        return b->tmp2.text;
    }
    *len = b->tmp.len;
    return b->tmp.text;
}

static void add_literal(builder *b, uint32_t di, const rg__detector *det,
                        rg__view view, const char *text, double score,
                        int type, unsigned ctx, const rg__loc *loc)
{
    size_t n;
    const char *t = term_view(b, view, text, &n);
    if (!t)
        return;
    if (n == 0) {
        rg__diag_warn(b->d, loc->file, loc->line, loc->column,
                      "%s term of detector '%s' is empty after normalisation; ignored",
                      type == RG__PAT_ALLOW ? "allow" : "lexicon", det->id);
        return;
    }
    rg__pat pat = {0};
    pat.det = di;
    pat.len = (uint32_t)n;
    pat.score = score;
    pat.type = (uint8_t)type;
    pat.ctx = (uint16_t)ctx;
    if (is_word_byte((unsigned char)t[0]))
        pat.edges |= RG__EDGE_LEFT;
    if (is_word_byte((unsigned char)t[n - 1]))
        pat.edges |= RG__EDGE_RIGHT;
    char *e = literal_expr(b, t, n);
    if (!e)
        return;
    unsigned flags = view == RG__VIEW_RAW ? HS_FLAG_CASELESS : 0;
    add_expr(b, view, e, flags, &pat);
}

/* add_literal for the compacted view: an allow entry that compacts to
 * nothing (punctuation only) is simply not needed there. */
static void add_literal_quiet(builder *b, uint32_t di, const rg__detector *det,
                              rg__view view, const char *text, int type)
{
    size_t n;
    const char *t = term_view(b, view, text, &n);
    if (!t || n == 0)
        return;
    add_literal(b, di, det, view, text, 0, type, 0, &det->loc);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static long cat_index(const rg__snapshot *s, const char *name)
{
    size_t lo = 0, hi = s->ncats;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->cats[mid], name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int build_categories(builder *b)
{
    rg__snapshot *s = b->s;
    const rg__policy *p = b->p;
    s->cats = rg__calloc(b->a, p->ndetectors ? p->ndetectors : 1, sizeof *s->cats);
    if (!s->cats)
        return -1;
    for (size_t i = 0; i < p->ndetectors; i++) {
        size_t j;
        for (j = 0; j < s->ncats; j++)
            if (!strcmp(s->cats[j], p->detectors[i].category))
                break;
        if (j == s->ncats) {
            s->cats[s->ncats] = (char *)own(b, p->detectors[i].category);
            s->ncats++;
        }
    }
    qsort(s->cats, s->ncats, sizeof *s->cats, cmp_str);
    return b->oom ? -1 : 0;
}

static uint32_t pcre_options(const rg__detector *det)
{
    /* Views are valid UTF-8 by construction, so PCRE2 can skip its own
     * check at match time (PCRE2_NO_UTF_CHECK in check.c). */
    /* PCRE2_USE_OFFSET_LIMIT: a regex flagged by trigger literals is
     * searched only up to their last occurrence (check.c extract_spans). */
    return PCRE2_UTF | (det->caseless ? PCRE2_CASELESS : 0) |
           (det->kind == RG__KIND_REGEX ? PCRE2_USE_OFFSET_LIMIT : 0);
}

static void compile_pattern(builder *b, uint32_t di, const rg__detector *det)
{
    rg__cdet *cd = &b->s->dets[di];
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_compile_context *cctx = pcre2_compile_context_create(b->s->gctx);
    if (!cctx) {
        b->oom = 1;
        return;
    }
    cd->re = pcre2_compile((PCRE2_SPTR)det->pattern, PCRE2_ZERO_TERMINATED,
                           pcre_options(det), &errcode, &erroff, cctx);
    pcre2_compile_context_free(cctx);
    cd->pattern = own(b, det->pattern);
    cd->pcre_opts = pcre_options(det);
    if (!cd->re && errcode == PCRE2_ERROR_HEAP_FAILED) {
        b->oom = 1;
        return;
    }
    if (!cd->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        rg__diag_error(b->d, det->pattern_loc.file, det->pattern_loc.line,
                       det->pattern_loc.column,
                       "detector '%s': pattern does not compile at offset %zu: %s",
                       det->id, (size_t)erroff, (const char *)msg);
        return;
    }
    /* JIT is an optimisation: without it PCRE2 interprets, same results. */
    cd->jit = pcre2_jit_compile(cd->re, PCRE2_JIT_COMPLETE) == 0;
    uint32_t minlen = 0;
    pcre2_pattern_info(cd->re, PCRE2_INFO_MINLENGTH, &minlen);
    cd->minlen = (uint16_t)(minlen > UINT16_MAX ? UINT16_MAX : minlen);
    uint32_t cap = 0;
    pcre2_pattern_info(cd->re, PCRE2_INFO_CAPTURECOUNT, &cap);
    if (cap + 1 > b->s->max_ovector)
        b->s->max_ovector = cap + 1;
    if (det->kind == RG__KIND_PCRE) {
        cd->pcre_only = 1;
        return;
    }

    /* Compile alone first: a per-rule diagnostic instead of one error for
     * the whole database, and the choice of fallback per pattern. */
    unsigned flags = HS_FLAG_UTF8 | HS_FLAG_SINGLEMATCH |
                     (det->caseless ? HS_FLAG_CASELESS : 0);
    /* The trial compiles cost ~5 ms per pattern: cache.c memoises their
     * outcome with the databases. */
    char why[200];
    int trial = rg__hs_trial(b->cache, det->pattern, flags, why, sizeof why);
    if (trial < 0) {
        b->oom = 1;
        return;
    }
    if (trial == RG__TRIAL_EMPTY) {
        rg__diag_error(b->d, det->pattern_loc.file, det->pattern_loc.line,
                       det->pattern_loc.column,
                       "detector '%s': pattern can match empty text: %s",
                       det->id, why);
        return;
    }
    if (trial != RG__TRIAL_EXACT) {
        flags |= HS_FLAG_PREFILTER;
        if (trial == RG__TRIAL_PCRE_ONLY) {
            cd->pcre_only = 1;
            rg__diag_warn(b->d, det->pattern_loc.file, det->pattern_loc.line,
                          det->pattern_loc.column,
                          "detector '%s': Hyperscan cannot compile this pattern (%s); "
                          "it runs with PCRE2 on every check (slow path)",
                          det->id, why);
            return;
        }
        rg__diag_warn(b->d, det->pattern_loc.file, det->pattern_loc.line,
                      det->pattern_loc.column,
                      "detector '%s': Hyperscan cannot compile this pattern exactly (%s); "
                      "it runs as a prefilter confirmed by PCRE2",
                      det->id, why);
    }
    rg__pat pat = {0};
    pat.det = di;
    pat.type = RG__PAT_REGEX;
    pat.score = det->score;
    char *e = rg__strdup(b->a, det->pattern);
    if (!e) {
        b->oom = 1;
        return;
    }
    add_expr(b, det->view, e, flags, &pat);
}

/* Dedupe a detector's terms after normalisation: two spellings that fold
 * to the same text would otherwise report the same span twice. */
typedef struct nterm {
    char *text;
    size_t len;
    double score;
    const rg__loc *loc;
} nterm;

static int cmp_nterm(const void *x, const void *y)
{
    const nterm *a = x, *b2 = y;
    size_t n = a->len < b2->len ? a->len : b2->len;
    int c = memcmp(a->text, b2->text, n);
    if (c)
        return c;
    return (a->len > b2->len) - (a->len < b2->len);
}

static void compile_words(builder *b, uint32_t di, const rg__detector *det,
                          rg__view view)
{
    nterm *v = rg__calloc(b->a, det->nterms ? det->nterms : 1, sizeof *v);
    if (!v) {
        b->oom = 1;
        return;
    }
    size_t nv = 0;
    for (size_t i = 0; i < det->nterms; i++) {
        size_t n;
        const char *t = term_view(b, view, det->terms[i].text, &n);
        if (!t)
            break;
        if (view == RG__VIEW_COMPACT && n < 3)
            continue; /* "a**" compacts to "a": far too short to mean the
                         term in obfuscated text; the normalized view still
                         matches it as written */
        if (n == 0) {
            const rg__loc *l = &det->terms[i].loc;
            rg__diag_warn(b->d, l->file, l->line, l->column,
                          "term of detector '%s' is empty after normalisation; ignored",
                          det->id);
            continue;
        }
        v[nv].text = rg__strndup(b->a, t, n);
        if (!v[nv].text) {
            b->oom = 1;
            break;
        }
        v[nv].len = n;
        v[nv].score = det->terms[i].score >= 0 ? det->terms[i].score : det->score;
        v[nv].loc = &det->terms[i].loc;
        nv++;
    }
    qsort(v, nv, sizeof *v, cmp_nterm);
    for (size_t i = 0; i < nv && !b->oom; i++) {
        double score = v[i].score;
        while (i + 1 < nv && !cmp_nterm(&v[i], &v[i + 1])) {
            if (v[i + 1].score > score)
                score = v[i + 1].score;
            rg__free(b->a, v[i].text);
            v[i].text = NULL;
            i++;
        }
        rg__pat pat = {0};
        pat.det = di;
        pat.len = (uint32_t)v[i].len;
        pat.score = score;
        pat.type = RG__PAT_WORD;
        if (is_word_byte((unsigned char)v[i].text[0]))
            pat.edges |= RG__EDGE_LEFT;
        if (is_word_byte((unsigned char)v[i].text[v[i].len - 1]))
            pat.edges |= RG__EDGE_RIGHT;
        char *e = literal_expr(b, v[i].text, v[i].len);
        if (e)
            add_expr(b, view, e, view == RG__VIEW_RAW ? HS_FLAG_CASELESS : 0, &pat);
        if (view != RG__VIEW_COMPACT)
            b->s->nwords++;
    }
    for (size_t i = 0; i < nv; i++)
        rg__free(b->a, v[i].text);
    rg__free(b->a, v);
}

/* Detector ids are unique (policy_check.c), so they need no interning:
 * searching the owned list for each one made compiling n detectors
 * O(n^2) (200,000 detectors took 64 s instead of 8; RELIABILITY.md). */
static const char *own_unique(builder *b, const char *str)
{
    rg__snapshot *s = b->s;
    if (rg__grow(b->a, (void **)&s->owned, &s->capowned, s->nowned + 1,
                 sizeof *s->owned)) {
        b->oom = 1;
        return "";
    }
    char *c = rg__strdup(b->a, str);
    if (!c) {
        b->oom = 1;
        return "";
    }
    s->owned[s->nowned++] = c;
    return c;
}

static int build_detectors(builder *b)
{
    const rg__policy *p = b->p;
    rg__snapshot *s = b->s;
    s->dets = rg__calloc(b->a, p->ndetectors ? p->ndetectors : 1, sizeof *s->dets);
    s->always = rg__calloc(b->a, p->ndetectors ? p->ndetectors : 1, sizeof *s->always);
    if (!s->dets || !s->always)
        return -1;
    s->ndets = p->ndetectors;
    s->max_ovector = 1;
    for (size_t i = 0; i < p->ndetectors && !b->oom; i++) {
        const rg__detector *det = &p->detectors[i];
        rg__cdet *cd = &s->dets[i];
        cd->id = (char *)own_unique(b, det->id);
        cd->cat = (uint32_t)cat_index(s, det->category);
        cd->kind = det->kind;
        cd->view = det->view;
        cd->score = det->score;
        cd->validate = det->validate;
        cd->shadow = det->shadow;
        cd->scope = (uint8_t)(det->scope ? det->scope : RG__SCOPE_REPLY);
        s->has_shadow |= det->shadow;
        if (det->kind == RG__KIND_WORDS) {
            compile_words(b, (uint32_t)i, det, det->view);
            if (det->compact && det->view == RG__VIEW_NORM)
                compile_words(b, (uint32_t)i, det, RG__VIEW_COMPACT);
        } else {
            compile_pattern(b, (uint32_t)i, det);
            s->nregex++;
        }
        if (cd->pcre_only && cd->re)
            s->always[s->nalways++] = (uint32_t)i;
        for (size_t k = 0; k < det->nallow && !b->oom; k++) {
            add_literal(b, (uint32_t)i, det, det->view, det->allow[k], 0,
                        RG__PAT_ALLOW, 0, &det->loc);
            /* Hits in the compacted view need their exceptions there too
             * ("i'd fuuuck you" against the allow entry "i'd fuck you"). */
            if (det->kind == RG__KIND_WORDS && det->compact && det->view == RG__VIEW_NORM)
                add_literal_quiet(b, (uint32_t)i, det, RG__VIEW_COMPACT,
                                  det->allow[k], RG__PAT_ALLOW);
        }
        if (det->nctx) {
            if (det->nctx > UINT16_MAX) {
                rg__diag_error(b->d, det->loc.file, det->loc.line, det->loc.column,
                               "detector '%s': too many context blocks", det->id);
                continue;
            }
            cd->ctx = rg__calloc(b->a, det->nctx, sizeof *cd->ctx);
            if (!cd->ctx) {
                b->oom = 1;
                break;
            }
            cd->nctx = (uint16_t)det->nctx;
            for (size_t c = 0; c < det->nctx && !b->oom; c++) {
                cd->ctx[c].window = det->ctx[c].window;
                cd->ctx[c].score = det->ctx[c].score;
                cd->ctx[c].side = det->ctx[c].side;
                /* Context words are matched on the normalized view, like
                 * lexicon terms, whatever view the detector scans. */
                for (size_t w = 0; w < det->ctx[c].nwords && !b->oom; w++)
                    add_literal(b, (uint32_t)i, det, RG__VIEW_NORM,
                                det->ctx[c].words[w], 0, RG__PAT_CONTEXT,
                                (unsigned)c, &det->ctx[c].loc);
            }
        }
    }
    /* Every pattern (terms, allow and context words) scans the texts of
     * its detector (`scan:`, conv.h). */
    for (size_t i = 0; i < s->npats; i++)
        s->pats[i].scope = s->dets[s->pats[i].det].scope;
    return b->oom ? -1 : 0;
}

/* Queue one Hyperscan database of n expressions (pattern ids index
 * s->pats) for run_jobs; the arrays are copied, the strings must live
 * until run_jobs (b->expr, or b->keep). */
static int queue_db(builder *b, char *const *expr, const unsigned *flags,
                    const unsigned *ids, size_t n, hs_database_t **db)
{
    if (rg__grow(b->a, (void **)&b->jobs, &b->capjobs, b->njobs + 1, sizeof *b->jobs))
        return RG_E_NOMEM;
    dbjob *j = &b->jobs[b->njobs];
    memset(j, 0, sizeof *j);
    j->e = rg__malloc(b->a, n * sizeof *j->e);
    j->f = rg__malloc(b->a, n * sizeof *j->f);
    j->id = rg__malloc(b->a, n * sizeof *j->id);
    if (!j->e || !j->f || !j->id) {
        rg__free(b->a, j->e);
        rg__free(b->a, j->f);
        rg__free(b->a, j->id);
        return RG_E_NOMEM;
    }
    memcpy(j->e, expr, n * sizeof *j->e);
    memcpy(j->f, flags, n * sizeof *j->f);
    memcpy(j->id, ids, n * sizeof *j->id);
    j->n = n;
    j->out = db;
    j->platform = b->platform;
    b->njobs++;
    return RG_OK;
}

/* The prescan database of a gate's expressions e[0..n) (digits.h
 * rg__gatedef.prescan): one expression, each of them a group of an
 * alternation, matching where one of them does. Only when they share
 * their flags, and none holds what a group could change: \Q (quotes to
 * the end of the expression), '#' or a newline (a comment under (?x)).
 * Queued as optional: if Hyperscan refuses the union, there is none. */
static int queue_prescan(builder *b, char *const *e, const unsigned *f, size_t n,
                         hs_database_t **db)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i] != f[0] || strstr(e[i], "\\Q") || strpbrk(e[i], "#\n"))
            return RG_OK;
        len += strlen(e[i]) + 5; /* "(?:" ")" "|" */
    }
    char *u = rg__malloc(b->a, len + 1);
    if (!u || rg__grow(b->a, (void **)&b->keep, &b->capkeep, b->nkeep + 1, sizeof *b->keep)) {
        rg__free(b->a, u);
        return RG_E_NOMEM;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(e[i]);
        if (i)
            u[o++] = '|';
        memcpy(u + o, "(?:", 3);
        memcpy(u + o + 3, e[i], l);
        u[o + 3 + l] = ')';
        o += l + 4;
    }
    u[o] = '\0';
    b->keep[b->nkeep++] = u; /* freed with the jobs */
    unsigned flags = f[0] | HS_FLAG_SINGLEMATCH, id = 0;
    int rc = queue_db(b, &u, &flags, &id, 1, db);
    if (rc == RG_OK)
        b->jobs[b->njobs - 1].optional = 1;
    return rc;
}

/* Helper threads take the next job not yet compiled (biggest first: the
 * normalized view's ~26,000 literals take longer than all the others). */
typedef struct jobrun {
    dbjob **todo;
    size_t ntodo;
    atomic_size_t next;
} jobrun;

static void compile_one(dbjob *j)
{
    j->rc = hs_compile_multi((const char *const *)j->e, j->f, j->id, (unsigned)j->n,
                             HS_MODE_BLOCK, j->platform, &j->db, &j->err);
}

static void *job_worker(void *arg)
{
    jobrun *r = arg;
    for (size_t k; (k = atomic_fetch_add(&r->next, 1)) < r->ntodo;)
        compile_one(r->todo[k]);
    return NULL;
}

static int cmp_job_size(const void *x, const void *y)
{
    size_t a = (*(dbjob *const *)x)->n, b = (*(dbjob *const *)y)->n;
    return (a < b) - (a > b);
}

/* Threads for compiling: $RG_COMPILE_THREADS when set (1: none), else one
 * per online CPU, at most RG__COMPILE_THREADS. */
#define RG__COMPILE_THREADS 4
static size_t compile_threads(void)
{
    const char *env = getenv("RG_COMPILE_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > RG__COMPILE_THREADS ? RG__COMPILE_THREADS : (size_t)n;
}

/* Compile every queued database: cache look-ups first (this thread: the
 * cache is not thread-safe), then the misses, on helper threads when
 * there are several (hs_compile_multi is re-entrant; measured: cold open
 * of the shipped policies ~1.6 s -> ~1.0 s wall on 2 cores), then, in
 * queue order, errors (the first failing database names its detector, as
 * one by one did), cache stores and scratch. */
static int run_jobs(builder *b)
{
    rg__snapshot *s = b->s;
    int rc = RG_OK;
    dbjob **todo = rg__calloc(b->a, b->njobs ? b->njobs : 1, sizeof *todo);
    if (!todo)
        rc = RG_E_NOMEM;
    size_t ntodo = 0;
    for (size_t i = 0; i < b->njobs && rc == RG_OK; i++) {
        dbjob *j = &b->jobs[i];
        j->cached = rg__hscache_find(b->cache, (const char *const *)j->e, j->f, j->id,
                                     (unsigned)j->n, j->platform, j->key, &j->db);
        if (!j->cached)
            todo[ntodo++] = j;
    }
    if (rc == RG_OK && ntodo) {
        qsort(todo, ntodo, sizeof *todo, cmp_job_size);
        jobrun r = {todo, ntodo, 0};
        size_t nt = compile_threads();
        if (nt > ntodo)
            nt = ntodo;
        pthread_t th[RG__COMPILE_THREADS];
        size_t started = 0;
        for (size_t t = 1; t < nt; t++)
            if (pthread_create(&th[started], NULL, job_worker, &r) == 0)
                started++; /* a thread that cannot start: this one does more */
        job_worker(&r);
        for (size_t t = 0; t < started; t++)
            pthread_join(th[t], NULL);
    }
    for (size_t i = 0; i < b->njobs; i++) {
        dbjob *j = &b->jobs[i];
        if (rc == RG_OK && !j->cached && j->rc != HS_SUCCESS && j->optional) {
            /* A prescan union Hyperscan refuses: the database it would
             * have spared is scanned as before. */
        } else if (rc == RG_OK && !j->cached && j->rc != HS_SUCCESS) {
            const rg__loc *l = NULL;
            const char *id = "?";
            if (j->err && j->err->expression >= 0 && (size_t)j->err->expression < j->n) {
                const rg__pat *pat = &s->pats[j->id[j->err->expression]];
                const rg__detector *det = &b->p->detectors[pat->det];
                l = &det->pattern_loc;
                if (!l->file)
                    l = &det->loc;
                id = det->id;
            }
            rg__diag_error(b->d, l ? l->file : NULL, l ? l->line : 0, l ? l->column : 0,
                           "detector '%s': Hyperscan database compile failed: %s", id,
                           j->err ? j->err->message : "unknown error");
            rc = RG_E_COMPILE;
        }
        hs_free_compile_error(j->err);
        j->err = NULL;
        if (rc == RG_OK && j->db) {
            if (!j->cached)
                rg__hscache_put(b->cache, j->key, j->db);
            *j->out = j->db;
            if (hs_alloc_scratch(j->db, &s->proto) != HS_SUCCESS)
                rc = RG_E_NOMEM;
        } else if (j->db && *j->out != j->db) {
            hs_free_database(j->db);
        }
        j->db = NULL;
    }
    rg__free(b->a, todo);
    return rc;
}

static void free_jobs(builder *b)
{
    for (size_t i = 0; i < b->njobs; i++) {
        rg__free(b->a, b->jobs[i].e);
        rg__free(b->a, b->jobs[i].f);
        rg__free(b->a, b->jobs[i].id);
    }
    rg__free(b->a, b->jobs);
    b->jobs = NULL;
    b->njobs = b->capjobs = 0;
    for (size_t i = 0; i < b->nkeep; i++)
        rg__free(b->a, b->keep[i]);
    rg__free(b->a, b->keep);
    b->keep = NULL;
    b->nkeep = b->capkeep = 0;
}

/* The most bytes a match of the first `end` bytes of `expr` (a pattern
 * by itself: rg__lits.end) can take, when Hyperscan reads that part
 * exactly and it is narrower than `whole` (the regex's own width);
 * `whole` otherwise. */
static uint32_t prefix_width(const char *expr, size_t end, unsigned flags, uint32_t whole)
{
    char buf[1024];
    if (end >= sizeof buf || end >= strlen(expr))
        return whole;
    memcpy(buf, expr, end);
    buf[end] = '\0';
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    uint32_t w = whole;
    if (hs_expression_info(buf, flags & ~(unsigned)(HS_FLAG_SINGLEMATCH | HS_FLAG_PREFILTER),
                           &info, &err) == HS_SUCCESS) {
        if (info->max_width != UINT_MAX && info->max_width < whole)
            w = info->max_width;
        free(info);
    } else {
        hs_free_compile_error(err);
    }
    return w;
}

/* Are all of l's literals words of prose: no digit, and none of the bytes
 * rare in prose (literals.c: "@", "/", "$"...)? Those are what ordinary
 * replies hold; an "@" rarely occurs, and its windows are rarely searched. */
static int prose_literals(const rg__lits *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (const char *c = l->v[i]; *c; c++)
            if ((*c >= '0' && *c <= '9') || strchr("@/\\#$%^&*=<>{}[]|~`_", *c))
                return 0;
    return 1;
}

/* Confirmation databases (snapshot.h cdb) for view v's regexes that go by
 * trigger literals (trig[i], width[i] their maximum widths): while slots
 * are free, the one whose literals leave PCRE2 the widest window of start
 * positions, if RG__CONFIRM_BACK or more, its set no prefix set and made
 * of prose words (prose_literals: each slot is a Hyperscan compile at a
 * cold open, ~280 ms for the e-mail regex, whose "@" is rare in replies),
 * and Hyperscan reads it exactly with a bounded width (check.c scans one
 * window of it and trusts a miss). Queued as optional: a regex Hyperscan
 * refuses has no confirmation, and PCRE2 searches its windows as before.
 * \G is left out (PCRE2's start of the search; a window starts
 * elsewhere); ^ and $ hold at the view's ends, which a window includes
 * whenever a match there could start in it. */
static int queue_confirm(builder *b, int v, size_t n, const rg__lits *trig,
                         const uint32_t *width)
{
    rg__snapshot *s = b->s;
    for (;;) {
        size_t used = 0;
        for (size_t d = 0; d < s->ndets; d++)
            used += s->dets[d].confirm != 0;
        if (used >= RG__MAX_CONFIRM)
            return RG_OK;
        size_t best = SIZE_MAX;
        uint32_t widest = 0;
        for (size_t i = 0; i < n; i++) {
            const rg__pat *p = &s->pats[b->ids[v][i]];
            if (!trig[i].n || trig[i].prefix || p->type != RG__PAT_REGEX || !prose_literals(&trig[i]) ||
                s->dets[p->det].confirm || width[i] == UINT32_MAX ||
                (b->flags[v][i] & HS_FLAG_PREFILTER) || strstr(b->expr[v][i], "\\G"))
                continue;
            uint32_t back = trig[i].end ? prefix_width(b->expr[v][i], trig[i].end,
                                                       b->flags[v][i], width[i])
                                        : width[i];
            if (back >= RG__CONFIRM_BACK && back > widest) {
                widest = back;
                best = i;
            }
        }
        if (best == SIZE_MAX)
            return RG_OK;
        rg__cdet *d = &s->dets[s->pats[b->ids[v][best]].det];
        d->confirm = (uint8_t)(used + 1);
        d->maxw = width[best];
        unsigned fl = b->flags[v][best] | HS_FLAG_SINGLEMATCH;
        int rc = queue_db(b, &b->expr[v][best], &fl, &b->ids[v][best], 1, &s->cdb[used]);
        if (rc != RG_OK)
            return rc;
        b->jobs[b->njobs - 1].optional = 1;
    }
}

/* The gate of a raw-view regex (digits.h rg__gatedef): RG__GATE_USER
 * when its detector reads only the user message; else by the bytes its
 * matches need and, for a windowed gate, how long a match can be
 * (hs_expression_info; a prefilter pattern's width is an approximation's,
 * so it does not count, though its byte counts do: PCRE2 confirms every
 * flag, and the text cannot match without those bytes). */
static int regex_gate(const char *expr, unsigned flags, uint8_t scope)
{
    if (scope == RG__SCOPE_USER)
        return RG__GATE_USER;
    unsigned width = UINT_MAX;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    if (!(flags & HS_FLAG_PREFILTER)) {
        if (hs_expression_info(expr, flags & ~HS_FLAG_SINGLEMATCH, &info, &err) == HS_SUCCESS) {
            width = info->max_width;
            free(info);
        } else {
            hs_free_compile_error(err);
        }
    }
    /* A cluster gate scans parts of the text: not for an approximation
     * (prefilter) or an anchor a part's edges would move (as
     * region_width). */
    int regions_ok = !(flags & (HS_FLAG_PREFILTER | HS_FLAG_MULTILINE)) && !strpbrk(expr, "^$") &&
                     !strstr(expr, "\\A") && !strstr(expr, "\\z") && !strstr(expr, "\\Z") &&
                     !strstr(expr, "\\G");
    return rg__gate_of(expr, (flags & HS_FLAG_CASELESS) != 0, width, regions_ok);
}

/* The gate of expression i of view v (digits.h), or -1: raw-view regexes
 * only. The other views' databases are not split: their regexes are few
 * and their words many (a gated copy of the normalized database cost as
 * much as it saved), and the compacted view is scanned only on
 * obfuscation windows. */
static int expr_gate(builder *b, int v, size_t i)
{
    const rg__pat *p = &b->s->pats[b->ids[v][i]];
    if (p->type == RG__PAT_REGEX && v == RG__VIEW_RAW)
        return regex_gate(b->expr[v][i], b->flags[v][i], b->s->dets[p->det].scope);
    return -1;
}

/* How long a match of a raw gated expression can be, for scanning only
 * around digits (snapshot.h gmaxw): UINT32_MAX unless it is a regex
 * (flags a detector; where Hyperscan saw it does not matter) with a
 * bounded width and no anchor a region's edges would fake. Anchors are
 * looked for in the text as written, '^' in a class too: a false alarm
 * only means a whole scan. */
static uint32_t region_width(const rg__snapshot *s, const char *expr, unsigned flags,
                             unsigned id)
{
    if (s->pats[id].type != RG__PAT_REGEX || (flags & (HS_FLAG_PREFILTER | HS_FLAG_MULTILINE)) ||
        strpbrk(expr, "^$") || strstr(expr, "\\A") || strstr(expr, "\\z") ||
        strstr(expr, "\\Z") || strstr(expr, "\\G"))
        return UINT32_MAX;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    if (hs_expression_info(expr, flags & ~HS_FLAG_SINGLEMATCH, &info, &err) != HS_SUCCESS) {
        hs_free_compile_error(err);
        return UINT32_MAX;
    }
    uint32_t w = info->max_width == UINT_MAX ? UINT32_MAX : info->max_width;
    free(info);
    return w;
}

/* The gate[] mark of an expression that goes to the pairing database. */
#define RG__GATE_PAIRING (-2)

int rg__pairing_entry(const rg__snapshot *s, int v, unsigned id)
{
    const rg__pat *p = &s->pats[id];
    return (RG__PAIR_VIEWS >> v & 1u) &&
           (p->type == RG__PAT_ALLOW || p->type == RG__PAT_CONTEXT);
}

void rg__snapshot_pviews(rg__snapshot *s)
{
    for (size_t d = 0; d < s->ndets; d++) {
        rg__cdet *det = &s->dets[d];
        det->pviews = 0;
        det->pwin = 0;
        det->plen = 0;
        for (uint16_t c = 0; c < det->nctx; c++)
            if (det->ctx[c].window > det->pwin)
                det->pwin = det->ctx[c].window;
    }
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        for (size_t i = 0; i < s->hx[v].n; i++)
            if (rg__pairing_entry(s, v, s->hx[v].ids[i])) {
                const rg__pat *p = &s->pats[s->hx[v].ids[i]];
                rg__cdet *det = &s->dets[p->det];
                det->pviews |= (uint8_t)(1u << v);
                if (p->len > det->plen)
                    det->plen = p->len;
            }
}

/* One view split by gates (digits.h rg__gatedef), and its allow and
 * context words apart. Allow and context words of the raw and normalized
 * views go to pdb[v] (snapshot.h): measured over the normalized database
 * alone (hs_scan, CPU ns per line), its ~600 always-present entries took a
 * short reply from ~200 to ~360 ns and the ~1,200 context words of the
 * digit detectors ("number", "call", "at") another ~130 ns on replies with
 * digits, 250 matches and 5.8 us more per 1.6 KB reply; on their own they
 * are scanned only when a hit needs them. The raw view's regexes are split
 * *additively* by the bytes their matches need: db[v] holds the
 * expressions of no gate and gdb[v][t] only those of gate t, and a check
 * scans db[v] plus every gdb[v][t] its text reaches. A regex of a weak
 * gate (one most long replies reach: a digit, a colon pair, capitals)
 * that has trigger literals goes by them instead. Measured: three small
 * raw databases scan a long reply faster than one holding them all (207k
 * vs 224k instructions per 1.6 KB check), and the nine raw regexes that
 * had neither a gate nor literals cost the always-scanned database ~180
 * ns per short reply and ~3.4 us per 1.6 KB one (docs/PERFORMANCE.md
 * "Sixth step"). Same expressions, flags and ids everywhere, so each
 * pattern matches exactly as in one database. */

/* A pairing entry while its database is built (build_split): sorted by
 * expression and flags, then by its place in the view's list, so that the
 * first of equal ones heads their chain and the database is the same
 * whatever qsort does with ties. */
typedef struct rg__pentry {
    char *expr;
    unsigned flags;
    unsigned id;
    uint32_t order;
} rg__pentry;

static int cmp_pentry(const void *pa, const void *pb)
{
    const rg__pentry *a = pa, *b = pb;
    int c = strcmp(a->expr, b->expr);
    if (c)
        return c;
    if (a->flags != b->flags)
        return a->flags < b->flags ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int build_split(builder *b, int v)
{
    rg__snapshot *s = b->s;
    size_t n = b->n[v];
    char **e = rg__calloc(b->a, n ? n : 1, sizeof *e);
    unsigned *f = rg__calloc(b->a, n ? n : 1, sizeof *f);
    unsigned *id = rg__calloc(b->a, n ? n : 1, sizeof *id);
    int *gate = rg__calloc(b->a, n ? n : 1, sizeof *gate);
    rg__lits *trig = rg__calloc(b->a, n ? n : 1, sizeof *trig);
    uint32_t *width = rg__calloc(b->a, n ? n : 1, sizeof *width);
    char **texpr = NULL;
    unsigned *tid = NULL;
    size_t ntrig = 0;
    size_t cnt[RG__NGATES + 1] = {0};
    int rc = RG_OK;
    if (!e || !f || !id || !gate || !trig || !width) {
        rc = RG_E_NOMEM;
        goto done;
    }
    size_t npair = 0;
    for (size_t i = 0; i < n; i++) {
        if (rg__pairing_entry(s, v, b->ids[v][i])) {
            gate[i] = RG__GATE_PAIRING; /* pdb[v], below */
            npair++;
            continue;
        }
        int g = expr_gate(b, v, i);
        gate[i] = g;
        cnt[g + 1]++;
    }
    /* Trigger literals (literals.c) of the regexes not gated, or gated by
     * a gate many replies reach (digits.h `weak`), or by one whose scan
     * cannot be narrowed to clusters (a number with words around it: "ssn
     * 123-45-6789", "date of birth 1/2/83": the words are rarer than the
     * digits, and the gate cost a whole-reply scan, or regions over most
     * of a long one): each such regex is compiled as its literals, which
     * flag it for PCRE2 like a match of the regex would. */
    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        const rg__pat *p = &s->pats[b->ids[v][i]];
        if (p->type != RG__PAT_REGEX || (gate[i] >= 0 && rg__gatedefs[gate[i]].cluster))
            continue;
        int t = rg__trigger_literals(b->a, b->expr[v][i], RG__TRIGGER_MINLEN,
                                     RG__TRIGGER_MAXN, &trig[i]);
        if (t == 0)
            /* No set of 4-byte literals: 3-byte ones ("aws", "sk-", "pwd")
             * still beat running the regex's automaton on every reply
             * (literals.h). */
            t = rg__trigger_literals(b->a, b->expr[v][i], RG__TRIGGER_MINLEN_LAST,
                                     RG__TRIGGER_MAXN, &trig[i]);
        if (t < 0) {
            rc = RG_E_NOMEM;
        } else if (t > 0) {
            ntrig += trig[i].n;
            if (gate[i] >= 0) {
                /* The literals instead of the weak gate's database. */
                cnt[gate[i] + 1]--;
                cnt[0]++;
                gate[i] = -1;
            }
        }
        /* Its maximum match width bounds where a match can start before
         * a trigger (check.c extract_spans), or before the end of a match
         * Hyperscan reports (a normalized-view regex without literals,
         * below); unknown or unbounded: none. Not for a prefilter
         * pattern, whose width is an approximation's. */
        width[i] = UINT32_MAX;
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *err = NULL;
        if ((t > 0 || v == RG__VIEW_NORM) && !(b->flags[v][i] & HS_FLAG_PREFILTER) &&
            hs_expression_info(b->expr[v][i], b->flags[v][i] & ~HS_FLAG_SINGLEMATCH, &info,
                               &err) == HS_SUCCESS) {
            if (info->max_width != UINT_MAX)
                width[i] = info->max_width;
            free(info);
        } else {
            hs_free_compile_error(err);
        }
    }
    if (rc == RG_OK && ntrig) {
        size_t cap = n + ntrig;
        rg__free(b->a, e);
        rg__free(b->a, f);
        rg__free(b->a, id);
        e = rg__calloc(b->a, cap, sizeof *e);
        f = rg__calloc(b->a, cap, sizeof *f);
        id = rg__calloc(b->a, cap, sizeof *id);
        texpr = rg__calloc(b->a, ntrig, sizeof *texpr);
        tid = rg__calloc(b->a, ntrig, sizeof *tid);
        if (!e || !f || !id || !texpr || !tid)
            rc = RG_E_NOMEM;
        for (size_t i = 0, k = 0; i < n && rc == RG_OK; i++)
            for (size_t j = 0; j < trig[i].n && rc == RG_OK; j++, k++) {
                texpr[k] = literal_expr(b, trig[i].v[j], strlen(trig[i].v[j]));
                /* A pattern of its own (a copy of the regex's): Hyperscan
                 * compiled thousands of literals sharing one id ~10x
                 * slower than the same literals with an id each. */
                if (!texpr[k] || rg__grow(b->a, (void **)&s->pats, &b->cappats,
                                          s->npats + 1, sizeof *s->pats)) {
                    rc = RG_E_NOMEM;
                    break;
                }
                rg__pat tp = s->pats[b->ids[v][i]];
                tp.type = RG__PAT_TRIGGER;
                tp.len = (uint32_t)strlen(trig[i].v[j]);
                /* Word boundaries the regex asserts at its ends (a \b,
                 * ASCII: literals.h), checked by the scan callback. */
                tp.edges = (uint8_t)(((trig[i].edges[j] & RG__LIT_EDGE_LEFT) ? RG__EDGE_LEFT : 0) |
                                     ((trig[i].edges[j] & RG__LIT_EDGE_RIGHT) ? RG__EDGE_RIGHT : 0));
                /* A prefix literal: the match starts where it does; else
                 * within the width of the pattern's part that holds it
                 * (the email regex's "@": its first 74 bytes, 515 bytes
                 * wide, where the whole regex is 2,107 bytes wide, and an
                 * unbounded one, "token: [A-Za-z0-9_./+=-]+", searched
                 * from the reply's start: ~30,000 cycles a trigger). */
                tp.back = trig[i].prefix ? tp.len
                          : trig[i].end ? prefix_width(b->expr[v][i], trig[i].end,
                                                       b->flags[v][i], width[i])
                                        : width[i];
                s->pats[s->npats] = tp;
                tid[k] = (unsigned)s->npats++;
            }
    }
    if (rc == RG_OK && ntrig)
        rc = queue_confirm(b, v, n, trig, width);
    for (int level = -1; level < RG__NGATES && rc == RG_OK; level++) {
        if (level >= 0 && !cnt[level + 1])
            continue;
        size_t m = 0;
        uint32_t maxw = 0;
        for (size_t i = 0, k = 0; i < n; k += trig[i].n, i++)
            if (gate[i] != RG__GATE_PAIRING && gate[i] == level) {
                if (trig[i].n) {
                    /* Each literal has a pattern of its own (RG__PAT_TRIGGER,
                     * the regex's detector): whichever fires, the callback
                     * flags the regex. Every occurrence is reported (no
                     * SINGLEMATCH): the earliest and the latest bound where
                     * PCRE2 looks. Caseless on the raw view; the normalized
                     * one is lower-cased already, like the literals. */
                    maxw = UINT32_MAX; /* literals: where they are matters */
                    for (size_t j = 0; j < trig[i].n; j++) {
                        e[m] = texpr[k + j];
                        f[m] = v == RG__VIEW_RAW ? HS_FLAG_CASELESS : 0;
                        id[m] = tid[k + j];
                        m++;
                    }
                    continue;
                }
                e[m] = b->expr[v][i];
                f[m] = b->flags[v][i];
                id[m] = b->ids[v][i];
                if (level >= 0 && rg__gatedefs[level].cluster && !rg__cluster_singlematch)
                    /* A cluster gate's regexes report every match end.
                     * With SINGLEMATCH each kept an automaton of its own
                     * (one per pattern, so that it could be switched off),
                     * and a 15-byte phone number cost the 9-digit gate's
                     * twenty ~1,200 cycles; without it Hyperscan merges
                     * them, ~230 cycles, and the 4-digit gate's eight 830
                     * -> 260. The callback only sets a region's bit, so
                     * more reports change nothing but their count (a
                     * cluster rarely holds two matches of one regex).
                     * Cost: a whole scan (over 16 clusters) reports every
                     * near-miss card, +13% on 8 KB of them. */
                    f[m] &= ~(unsigned)HS_FLAG_SINGLEMATCH;
                if (v == RG__VIEW_NORM && level < 0 && s->pats[id[m]].type == RG__PAT_REGEX &&
                    width[i] > 0 && width[i] != UINT32_MAX) {
                    /* A normalized-view regex without trigger literals
                     * (pii.dob.context's dates) is scanned with the whole
                     * view. Every match end is reported (no SINGLEMATCH),
                     * and each bounds where a match starts: within `back`
                     * bytes before it (rg__pat.back; check.c on_match). So
                     * PCRE2 searches around the dates, not the whole 2 KB
                     * reply: ~2,100 cycles of the slowest long replies. */
                    f[m] &= ~(unsigned)HS_FLAG_SINGLEMATCH;
                    s->pats[id[m]].back = width[i];
                }
                if (level >= 0 && level != RG__GATE_USER && maxw != UINT32_MAX) {
                    uint32_t w = region_width(s, e[m], f[m], id[m]);
                    maxw = w > maxw ? w : maxw;
                }
                m++;
            }
        if (level >= 0)
            s->gmaxw[level] = m && level != RG__GATE_USER ? maxw : UINT32_MAX;
        if (!m)
            continue;
        rc = queue_db(b, e, f, id, m, level < 0 ? &s->db[v] : &s->gdb[v][level]);
        if (level >= 0)
            s->ngdb = RG__NGATES;
        if (rc == RG_OK && level >= 0 && rg__gatedefs[level].prescan && m > 1)
            rc = queue_prescan(b, e, f, m, &s->gudb[v][level]);
    }
    if (rc == RG_OK && npair) {
        /* The pairing database: same expressions and flags as in one
         * database, so each entry matches exactly as before; but each
         * expression once. The phone detectors share their context words
         * ("call", "phone", "number": 1,821 entries, 665 distinct), and
         * every report costs Hyperscan its delivery: the first pattern
         * stands for the others, chained by rg__pat.same. */
        rg__pentry *pe = rg__calloc(b->a, npair, sizeof *pe);
        size_t m = 0;
        if (!pe)
            rc = RG_E_NOMEM;
        for (size_t i = 0; i < n && pe; i++)
            if (gate[i] == RG__GATE_PAIRING && m < npair) {
                pe[m].expr = b->expr[v][i];
                pe[m].flags = b->flags[v][i];
                pe[m].id = b->ids[v][i];
                pe[m].order = (uint32_t)m;
                m++;
            }
        if (pe) {
            qsort(pe, m, sizeof *pe, cmp_pentry);
            /* Chain equal ones; the heads go to the database in the
             * view's order, as all of them did. */
            uint8_t *tail = rg__calloc(b->a, m ? m : 1, 1);
            if (!tail)
                rc = RG_E_NOMEM;
            for (size_t i = 1; i < m && tail; i++)
                if (pe[i].flags == pe[i - 1].flags && pe[i].id > pe[i - 1].id &&
                    !strcmp(pe[i].expr, pe[i - 1].expr)) {
                    s->pats[pe[i - 1].id].same = pe[i].id + 1;
                    tail[pe[i].order] = 1;
                }
            size_t k = 0;
            for (size_t i = 0, j = 0; i < n && tail; i++)
                if (gate[i] == RG__GATE_PAIRING && j < m && !tail[j++]) {
                    e[k] = b->expr[v][i];
                    f[k] = b->flags[v][i];
                    id[k] = b->ids[v][i];
                    k++;
                }
            if (tail)
                rc = queue_db(b, e, f, id, k, &s->pdb[v]);
            rg__free(b->a, tail);
        }
        rg__free(b->a, pe);
    }
done:
    if (trig)
        for (size_t i = 0; i < n; i++)
            rg__lits_free(b->a, &trig[i]);
    /* The queued databases point at the trigger literals' expressions:
     * run_jobs frees them (b->keep). */
    if (texpr)
        for (size_t k = 0; k < ntrig; k++) {
            if (!texpr[k])
                continue;
            if (rg__grow(b->a, (void **)&b->keep, &b->capkeep, b->nkeep + 1,
                         sizeof *b->keep)) {
                rg__free(b->a, texpr[k]);
                rc = RG_E_NOMEM;
                continue;
            }
            b->keep[b->nkeep++] = texpr[k];
        }
    rg__free(b->a, texpr);
    rg__free(b->a, tid);
    rg__free(b->a, trig);
    rg__free(b->a, width);
    rg__free(b->a, e);
    rg__free(b->a, f);
    rg__free(b->a, id);
    rg__free(b->a, gate);
    return rc;
}

static int build_databases(builder *b)
{
    rg__snapshot *s = b->s;
    for (int g = 0; g < RG__NGATES; g++) {
        s->gate[g] = rg__gatedefs[g].need;
        s->gwin[g] = rg__gatedefs[g].window;
        s->glo[g] = rg__gatedefs[g].lo;
        s->ghi[g] = rg__gatedefs[g].hi;
        s->gclu[g] = rg__gatedefs[g].cluster;
        if (s->gclu[g])
            s->gclumask |= 1u << g;
        s->gmaxw[g] = UINT32_MAX;
    }
    int rc = RG_OK;
    for (int v = 0; v < RG__VIEW_COUNT && rc == RG_OK; v++)
        if (b->n[v])
            rc = build_split(b, v);
    if (rc == RG_OK)
        rc = run_jobs(b);
    free_jobs(b);
    return rc;
}

/* Flatten one route: settings from the nearest route in its extends chain
 * that sets them; each threshold field from the most specific rule key
 * that sets it, the child winning over its parents on the same key. */
/* Deeper inheritance than this is a policy error, not a stack risk. */
#define RG__MAX_EXTENDS 32

/* Thresholds per snapshot category from the rules of `chain` (the
 * route first, then its ancestors); NULL on OOM. */
static rg__cthr *resolve_thresholds(builder *b, const rg__route *const *chain,
                                    size_t nchain)
{
    const char *mask = NULL;
    for (size_t c = 0; c < nchain && !mask; c++)
        mask = chain[c]->mask;
    rg__cthr *thr = rg__calloc(b->a, b->s->ncats ? b->s->ncats : 1, sizeof *thr);
    if (!thr)
        return NULL;
    for (size_t ci = 0; ci < b->s->ncats; ci++) {
        const char *cat = b->s->cats[ci];
        rg__cthr *t = &thr[ci];
        const char *tmask = NULL;
        for (int f = 0; f < RG__F_COUNT; f++)
            t->v[f] = RG__OFF;
        int found[RG__F_COUNT] = {0};
        /* Prefixes from the most specific: "a.b.c", "a.b", "a". */
        size_t len = strlen(cat);
        for (;;) {
            for (size_t c = 0; c < nchain; c++) {
                const rg__route *r = chain[c];
                for (size_t k = 0; k < r->nrules; k++) {
                    const rg__rule *rule = &r->rules[k];
                    if (strlen(rule->key) != len || memcmp(rule->key, cat, len))
                        continue;
                    for (int f = 0; f < RG__F_COUNT; f++) {
                        if (found[f] || !rule->has[f])
                            continue;
                        found[f] = 1;
                        t->v[f] = rule->value[f] < 0 ? RG__OFF : rule->value[f];
                        t->key[f] = own(b, rule->key);
                        t->from[f] = own(b, r->name);
                    }
                    if (!tmask && rule->mask)
                        tmask = rule->mask;
                }
            }
            while (len > 0 && cat[len - 1] != '.')
                len--;
            if (len == 0)
                break;
            len--; /* drop the dot */
        }
        t->mask = own(b, tmask ? tmask : mask ? mask : "[REDACTED]");
    }
    return thr;
}

static int resolve_route(builder *b, size_t ri, rg__croute *cr)
{
    const rg__policy *p = b->p;
    const rg__route *chain[RG__MAX_EXTENDS];
    size_t nchain = 0;
    for (long r = (long)ri; r >= 0;) {
        if (nchain == RG__MAX_EXTENDS) {
            const rg__route *rt = &p->routes[ri];
            rg__diag_error(b->d, rt->loc.file, rt->loc.line, rt->loc.column,
                           "route '%s': extends chain is deeper than %d routes",
                           rt->name, RG__MAX_EXTENDS);
            return 1;
        }
        chain[nchain++] = &p->routes[r];
        r = p->routes[r].extends ? rg__policy_route_index(p, p->routes[r].extends) : -1;
    }
    cr->name = (char *)own(b, p->routes[ri].name);
    cr->budget_ns = 2000ull * 1000;
    cr->max_bytes = 65536;
    cr->on_timeout = cr->on_error = cr->on_oversize = RG_HANDOFF;
    /* A shadow route enforces its parent: everything enforced resolves
     * from chain[1..]; its own rules only go into sthr (the report). */
    size_t first = p->routes[ri].shadow ? 1 : 0;
    int got_budget = 0, got_max = 0, got_to = 0, got_err = 0, got_over = 0;
    for (size_t c = first; c < nchain; c++) {
        const rg__route *r = chain[c];
        if (!got_budget && r->has_budget_us) {
            cr->budget_ns = r->budget_us * 1000ull;
            got_budget = 1;
        }
        if (!got_max && r->has_max_bytes) {
            cr->max_bytes = (size_t)r->max_bytes;
            got_max = 1;
        }
        if (!got_to && r->has_on_timeout) {
            cr->on_timeout = r->on_timeout;
            got_to = 1;
        }
        if (!got_err && r->has_on_error) {
            cr->on_error = r->on_error;
            got_err = 1;
        }
        if (!got_over && r->has_on_oversize) {
            cr->on_oversize = r->on_oversize;
            got_over = 1;
        }
    }
    if (cr->max_bytes > UINT32_MAX / 16)
        cr->max_bytes = UINT32_MAX / 16; /* view maps hold 32-bit offsets */
    cr->thr = resolve_thresholds(b, chain + first, nchain - first);
    if (!cr->thr)
        return -1;
    if (first) {
        cr->shadow = 1;
        cr->sthr = resolve_thresholds(b, chain, nchain);
        if (!cr->sthr)
            return -1;
    }
    return b->oom ? -1 : 0;
}

/* `overrides:` (conv.h): per route, threshold tables for each channel x
 * language combination that some override matches, resolved with the
 * matching overrides in front of the route's extends chain (nearest
 * route's overrides first, later items first). Returns 0, 1 (policy
 * error, reported) or -1 (OOM). */
static int build_overrides(builder *b)
{
    const rg__policy *p = b->p;
    rg__snapshot *s = b->s;
    if (!s->conv)
        return 0;
    for (size_t r = 0; r < s->nroutes; r++) {
        rg__rconv *rc = &s->conv->routes[r];
        memset(rc->vidx, 0xFF, sizeof rc->vidx);
        long ri = rg__policy_route_index(p, s->routes[r].name);
        if (ri < 0 || p->routes[ri].shadow)
            continue;
        const rg__route *chain[RG__MAX_EXTENDS];
        size_t nchain = 0;
        for (long x = ri; x >= 0 && nchain < RG__MAX_EXTENDS;) {
            chain[nchain++] = &p->routes[x];
            x = p->routes[x].extends ? rg__policy_route_index(p, p->routes[x].extends) : -1;
        }
        const rg__moverride *ov[64];
        size_t nov = 0;
        for (size_t c = 0; c < nchain; c++) {
            const rg__mconv *m = chain[c]->conv;
            for (size_t i = m ? m->novr : 0; i-- > 0 && nov < 64;)
                ov[nov++] = &m->ovr[i];
        }
        if (!nov)
            continue;
        for (size_t i = 0; i < nov; i++) {
            if (!ov[i]->lang)
                continue;
            int known = 0;
            for (unsigned l = 0; l < rc->nlang && !known; l++)
                known = !strcmp(rc->lang[l], ov[i]->lang);
            if (known)
                continue;
            if (rc->nlang == RG__MAX_OVR_LANGS) {
                const rg__loc *lc = &ov[i]->route.loc;
                rg__diag_error(b->d, lc->file, lc->line, lc->column,
                               "route '%s': overrides name more than %d locales",
                               s->routes[r].name, RG__MAX_OVR_LANGS);
                return 1;
            }
            snprintf(rc->lang[rc->nlang++], sizeof rc->lang[0], "%s", ov[i]->lang);
        }
        uint64_t masks[5 * (RG__MAX_OVR_LANGS + 1)];
        rc->tables = rg__calloc(b->a, 5 * (RG__MAX_OVR_LANGS + 1), sizeof *rc->tables);
        if (!rc->tables)
            return -1;
        unsigned stride = rc->nlang + 1u;
        for (unsigned ch = 0; ch < 5; ch++) {
            for (unsigned l = 0; l < stride; l++) {
                uint64_t mask = 0;
                const rg__route *vchain[64 + RG__MAX_EXTENDS];
                size_t nv = 0;
                for (size_t i = 0; i < nov; i++) {
                    const rg__moverride *o = ov[i];
                    if ((o->channel && o->channel != (int)ch) ||
                        (o->lang && (l == rc->nlang || strcmp(o->lang, rc->lang[l]))))
                        continue;
                    mask |= 1ull << i;
                    vchain[nv++] = &o->route;
                }
                if (!mask)
                    continue;
                uint32_t t = 0;
                while (t < rc->ntables && masks[t] != mask)
                    t++;
                if (t == rc->ntables) {
                    for (size_t c = 0; c < nchain; c++)
                        vchain[nv++] = chain[c];
                    rc->tables[t] = resolve_thresholds(b, vchain, nv);
                    if (!rc->tables[t])
                        return -1;
                    masks[t] = mask;
                    rc->ntables++;
                }
                rc->vidx[ch * stride + l] = (uint8_t)t;
            }
        }
    }
    return b->oom ? -1 : 0;
}

static int cmp_route(const void *x, const void *y)
{
    return strcmp(((const rg__croute *)x)->name, ((const rg__croute *)y)->name);
}

static void *pcre_malloc(size_t n, void *u) { return rg__malloc(u, n); }
static void pcre_free(void *ptr, void *u) { rg__free(u, ptr); }

int rg__snapshot_compile(const rg_allocator *a, const rg__policy *p,
                         rg__snapshot **out, rg__diags *d)
{
    return rg__snapshot_compile_ex(a, p, NULL, NULL, out, d);
}

int rg__snapshot_compile_ex(const rg_allocator *a, const rg__policy *p,
                            rg__hscache *cache,
                            const hs_platform_info_t *platform,
                            rg__snapshot **out, rg__diags *d)
{
    uint64_t t0 = now_ns();
    *out = NULL;
    rg__snapshot *s = rg__calloc(a, 1, sizeof *s);
    if (!s)
        return RG_E_NOMEM;
    s->a = *a;
    builder b;
    memset(&b, 0, sizeof b);
    b.a = &s->a;
    b.p = p;
    b.s = s;
    b.d = d;
    b.cache = cache;
    b.platform = platform;
    int rc = RG_OK;
    s->gctx = pcre2_general_context_create(pcre_malloc, pcre_free, (void *)&s->a);
    if (!s->gctx) {
        rc = RG_E_NOMEM;
        goto done;
    }
    size_t errors_before = d->nerrors;
    if (build_categories(&b) || build_detectors(&b)) {
        rc = RG_E_NOMEM;
        goto done;
    }
    if (d->nerrors > errors_before) {
        rc = RG_E_COMPILE;
        goto done;
    }
    rc = build_databases(&b);
    if (rc)
        goto done;
    s->routes = rg__calloc(b.a, p->nroutes ? p->nroutes : 1, sizeof *s->routes);
    if (!s->routes) {
        rc = RG_E_NOMEM;
        goto done;
    }
    for (size_t r = 0; r < p->nroutes; r++) {
        int rr = resolve_route(&b, r, &s->routes[r]);
        if (rr) {
            s->nroutes = r + 1;
            rc = rr == 1 ? RG_E_POLICY : RG_E_NOMEM;
            goto done;
        }
        s->nroutes = r + 1;
    }
    qsort(s->routes, s->nroutes, sizeof *s->routes, cmp_route);
    rc = rg__conv_compile(s, p);
    if (rc)
        goto done;
    {
        int ro = build_overrides(&b);
        if (ro) {
            rc = ro == 1 ? RG_E_POLICY : RG_E_NOMEM;
            goto done;
        }
    }
    /* Declared categories, for rg_engine_category (p->cats is sorted). */
    if (p->ncats) {
        s->declared = rg__calloc(b.a, p->ncats, sizeof *s->declared);
        if (!s->declared) {
            rc = RG_E_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < p->ncats; i++)
            s->declared[s->ndeclared++] = (char *)own(&b, p->cats[i].name);
    }
    snprintf(s->version, sizeof s->version, "%s", p->version ? p->version : "");
    rg__hex(p->hash, 32, s->hash);
    if (b.oom)
        rc = RG_E_NOMEM;
done:
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        if (rc == RG_OK) {
            /* Kept: streaming compiles its databases from them (stream.c). */
            s->hx[v].expr = b.expr[v];
            s->hx[v].flags = b.flags[v];
            s->hx[v].ids = b.ids[v];
            s->hx[v].n = b.n[v];
            continue;
        }
        for (size_t i = 0; i < b.n[v]; i++)
            rg__free(b.a, b.expr[v][i]);
        rg__free(b.a, b.expr[v]);
        rg__free(b.a, b.flags[v]);
        rg__free(b.a, b.ids[v]);
    }
    if (rc == RG_OK)
        rg__snapshot_pviews(s);
    rg__vbuf_free(b.a, &b.tmp);
    rg__vbuf_free(b.a, &b.tmp2);
    if (rc != RG_OK) {
        rg__snapshot_free(s);
        return rc;
    }
    s->compile_ns = now_ns() - t0;
    *out = s;
    return RG_OK;
}

int rg__cluster_singlematch;

void rg__snapshot_free(rg__snapshot *s)
{
    if (!s)
        return;
    rg_allocator a = s->a;
    rg__dbpack_free(s);
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        hs_free_database(s->db[v]);
        for (size_t i = 0; i < s->hx[v].n; i++)
            rg__free(&a, s->hx[v].expr[i]);
        rg__free(&a, s->hx[v].expr);
        rg__free(&a, s->hx[v].flags);
        rg__free(&a, s->hx[v].ids);
    }
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        hs_free_database(s->pdb[v]);
        for (int g = 0; g < RG__NGATES; g++) {
            hs_free_database(s->gdb[v][g]);
            hs_free_database(s->gudb[v][g]);
        }
    }
    for (int k = 0; k < RG__MAX_CONFIRM; k++)
        hs_free_database(s->cdb[k]);
    rg__sdb_free(atomic_load(&s->sdb));
    rg__conv_free(&a, s->conv);
    hs_free_scratch(s->proto);
    for (size_t i = 0; i < s->ndets; i++) {
        pcre2_code_free(s->dets[i].re);
        rg__free(&a, s->dets[i].ctx);
    }
    for (size_t r = 0; r < s->nroutes; r++) {
        rg__free(&a, s->routes[r].thr);
        rg__free(&a, s->routes[r].sthr);
    }
    rg__free(&a, s->routes);
    rg__free(&a, s->declared);
    rg__free(&a, s->dets);
    rg__free(&a, s->always);
    rg__free(&a, s->cats);
    rg__free(&a, s->pats);
    for (size_t i = 0; i < s->nowned; i++)
        rg__free(&a, s->owned[i]);
    rg__free(&a, s->owned);
    pcre2_general_context_free(s->gctx);
    rg__free(&a, s);
}

const rg__croute *rg__snapshot_route(const rg__snapshot *s, const char *name)
{
    size_t lo = 0, hi = s->nroutes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->routes[mid].name, name);
        if (c == 0)
            return &s->routes[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
