/* check.c — the hot path: one reply in, one verdict out.
 *
 *   pin snapshot → cut to max_bytes → build views → Hyperscan scan per
 *   view (words checked for whole-word edges in the callback, regexes
 *   only flagged) → PCRE2 span extraction for flagged regexes and
 *   PCRE2-only detectors (+ validators) → allow-list intervals → map to
 *   original offsets → per-detector max, per-category noisy-OR → route
 *   thresholds → fail-safes → result (+ redacted copy).
 *
 * Nothing here allocates once the scratch and result have grown to the
 * largest reply and the current snapshot (see rg__scratch_fit). Work per
 * check is bounded by caps (engine.h) and by the route's deadline, which
 * the scan callback and the PCRE2 loop both watch. */
#include "clock.h"
#include "engine.h"
#include "alloc.h"
#include "metrics.h"
#include "validate.h"
#include "conv.h"
#include "literals.h"
#include <stdlib.h>
#include <string.h>

/* PCRE2 steps per match call: ~10k bounded a catastrophic pattern to
 * ~25 µs here (DESIGN.md); 100k leaves room for long legitimate texts
 * while staying well under a millisecond. */
#define RG__PCRE_MATCH_LIMIT 100000
#define RG__PCRE_DEPTH_LIMIT 5000
/* Scores within this of a threshold count as reaching it, so that 0.8
 * written in YAML is crossed by a hit scored 0.8 despite rounding. */
#define RG__EPS 1e-9

/* Budgets and elapsed times: clock.h (the TSC when the kernel trusts it). */
static inline uint64_t now_ns(void)
{
    return rg__now_ns();
}

/* ------------------------------------------------------------------ */
/* Scratch fitting                                                     */
/* ------------------------------------------------------------------ */

static void *pcre_malloc(size_t n, void *u) { return rg__malloc(u, n); }
static void pcre_free(void *p, void *u) { rg__free(u, p); }

int rg__scratch_fit(rg_scratch *sc, const rg__snapshot *s)
{
    if (sc->generation == s->generation)
        return 0;
    const rg_allocator *a = &sc->a;
    if (!sc->gctx) {
        sc->gctx = pcre2_general_context_create(pcre_malloc, pcre_free, &sc->a);
        if (!sc->gctx)
            return -1;
    }
    if (!sc->mctx) {
        sc->mctx = pcre2_match_context_create(sc->gctx);
        if (!sc->mctx)
            return -1;
        pcre2_set_match_limit(sc->mctx, RG__PCRE_MATCH_LIMIT);
        pcre2_set_depth_limit(sc->mctx, RG__PCRE_DEPTH_LIMIT);
        sc->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, sc->gctx);
        if (sc->jit)
            pcre2_jit_stack_assign(sc->mctx, NULL, sc->jit);
    }
    if (s->proto) {
        hs_scratch_t *h = NULL;
        if (hs_clone_scratch(s->proto, &h) != HS_SUCCESS)
            return -1;
        hs_free_scratch(sc->hs);
        sc->hs = h;
    }
    uint32_t pairs = s->max_ovector ? s->max_ovector : 1;
    if (!sc->md || pcre2_get_ovector_count(sc->md) < pairs) {
        pcre2_match_data *md = pcre2_match_data_create(pairs, sc->gctx);
        if (!md)
            return -1;
        pcre2_match_data_free(sc->md);
        sc->md = md;
    }
    size_t nd = s->ndets ? s->ndets : 1;
    if (nd > sc->cap_dets) {
        double *dm = rg__calloc(a, nd, sizeof *dm);
        uint8_t *df = rg__calloc(a, nd, sizeof *df);
        uint32_t *doff = rg__calloc(a, nd, sizeof *doff);
        uint32_t *t = rg__calloc(a, nd, sizeof *t);
        uint32_t *tlo = rg__calloc(a, nd, sizeof *tlo);
        uint32_t *thi = rg__calloc(a, nd, sizeof *thi);
        uint32_t *tw = rg__calloc(a, nd * 2 * RG__TRIG_WINDOWS, sizeof *tw);
        uint8_t *tnw = rg__calloc(a, nd, sizeof *tnw);
        if (!dm || !df || !doff || !t || !tlo || !thi || !tw || !tnw) {
            rg__free(a, dm);
            rg__free(a, df);
            rg__free(a, doff);
            rg__free(a, t);
            rg__free(a, tlo);
            rg__free(a, thi);
            rg__free(a, tw);
            rg__free(a, tnw);
            return -1;
        }
        rg__free(a, sc->det_max);
        rg__free(a, sc->det_flag);
        rg__free(a, sc->det_off);
        rg__free(a, sc->touched);
        rg__free(a, sc->trig_lo);
        rg__free(a, sc->trig_hi);
        rg__free(a, sc->trig_w);
        rg__free(a, sc->trig_nw);
        sc->trig_w = tw;
        sc->trig_nw = tnw;
        sc->det_max = dm;
        sc->det_flag = df;
        sc->det_off = doff;
        sc->touched = t;
        sc->trig_lo = tlo;
        sc->trig_hi = thi;
        sc->cap_dets = nd;
    }
    size_t nc = s->ncats ? s->ncats : 1;
    if (nc > sc->cap_cats) {
        double *cp = rg__calloc(a, nc, sizeof *cp);
        double *cm = rg__calloc(a, nc, sizeof *cm);
        uint32_t *cn = rg__calloc(a, nc, sizeof *cn);
        uint32_t *ct = rg__calloc(a, nc, sizeof *ct);
        if (!cp || !cm || !cn || !ct) {
            rg__free(a, cp);
            rg__free(a, cm);
            rg__free(a, cn);
            rg__free(a, ct);
            return -1;
        }
        rg__free(a, sc->cat_prod);
        rg__free(a, sc->cat_max);
        rg__free(a, sc->cat_n);
        rg__free(a, sc->cat_touched);
        sc->cat_prod = cp;
        sc->cat_max = cm;
        sc->cat_n = cn;
        sc->cat_touched = ct;
        sc->cap_cats = nc;
    }
    if (s->conv && !sc->conv) {
        sc->conv = rg__calloc(a, 1, sizeof *sc->conv);
        if (!sc->conv)
            return -1;
    }
    sc->generation = s->generation;
    return 0;
}

void rg__scratch_release(rg_scratch *sc)
{
    const rg_allocator *a = &sc->a;
    hs_free_scratch(sc->hs);
    pcre2_match_data_free(sc->md);
    pcre2_match_context_free(sc->mctx);
    pcre2_jit_stack_free(sc->jit);
    pcre2_general_context_free(sc->gctx);
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        rg__vbuf_free(a, &sc->view[v]);
    rg__free(a, sc->det_max);
    rg__free(a, sc->det_flag);
    rg__free(a, sc->det_off);
    rg__free(a, sc->trig_lo);
    rg__free(a, sc->trig_hi);
    rg__free(a, sc->trig_w);
    rg__free(a, sc->trig_nw);
    rg__free(a, sc->touched);
    rg__free(a, sc->cat_prod);
    rg__free(a, sc->cat_max);
    rg__free(a, sc->cat_n);
    rg__free(a, sc->cat_touched);
    rg__free(a, sc->raw);
    rg__free(a, sc->conv);
    rg__vbuf_free(a, &sc->hview);
    rg_allocator copy = *a;
    rg__free(&copy, sc);
}

/* ------------------------------------------------------------------ */
/* Scanning                                                            */
/* ------------------------------------------------------------------ */

static inline void touch(rg_scratch *sc, uint32_t det)
{
    if (!(sc->det_flag[det] & RG__DF_TOUCHED)) {
        sc->det_flag[det] |= RG__DF_TOUCHED;
        sc->touched[sc->ntouched++] = det;
    }
}

/* Flag regex det for PCRE2, its matches starting in [lo, hi]: the bounds
 * of every flag so far are joined (trig_lo/hi), and also kept apart as
 * up to RG__TRIG_WINDOWS windows in order (extract_spans searches each:
 * "take" near the top of a long reply and "up" near its end are two
 * short searches, not one over the whole reply). */
static inline void bound(rg_scratch *sc, uint32_t det, uint32_t lo, uint32_t hi)
{
    uint32_t *w = &sc->trig_w[(size_t)det * 2 * RG__TRIG_WINDOWS];
    if (!(sc->det_flag[det] & RG__DF_TRIG)) {
        sc->det_flag[det] |= RG__DF_REGEX | RG__DF_TRIG;
        sc->trig_lo[det] = lo;
        sc->trig_hi[det] = hi;
        w[0] = lo;
        w[1] = hi;
        sc->trig_nw[det] = 1;
        return;
    }
    if (lo < sc->trig_lo[det])
        sc->trig_lo[det] = lo;
    if (hi > sc->trig_hi[det])
        sc->trig_hi[det] = hi;
    uint8_t n = sc->trig_nw[det];
    if (n == RG__TRIG_UNORDERED)
        return;
    uint32_t *last = &w[2 * (n - 1)];
    if (lo < last[0]) {
        sc->trig_nw[det] = RG__TRIG_UNORDERED; /* out of order: joined bounds */
    } else if (lo <= last[1] + RG__TRIG_JOIN) {
        if (hi > last[1])
            last[1] = hi;
    } else {
        if (n == RG__TRIG_WINDOWS) {
            /* Full: the two closest windows (the new one counts) become
             * one, so that a text with occurrences all over it (8 KB of
             * insults) keeps its windows small where they are dense
             * instead of one from the last window to the end. */
            size_t best = (size_t)n - 1;
            uint32_t gap = lo - last[1];
            for (size_t i = 0; i + 1 < n; i++)
                if (w[2 * i + 2] - w[2 * i + 1] < gap) {
                    gap = w[2 * i + 2] - w[2 * i + 1];
                    best = i;
                }
            if (best == (size_t)n - 1) {
                if (hi > last[1])
                    last[1] = hi;
                return;
            }
            if (w[2 * best + 3] > w[2 * best + 1])
                w[2 * best + 1] = w[2 * best + 3];
            memmove(&w[2 * best + 2], &w[2 * best + 4], ((size_t)n - best - 2) * 2 * sizeof *w);
            n--;
        }
        w[2 * n] = lo;
        w[2 * n + 1] = hi;
        sc->trig_nw[det] = (uint8_t)(n + 1);
    }
}

static inline void keep_term(rg_scratch *sc, const rg__pat *p, size_t end);

static int on_match(unsigned int id, unsigned long long from,
                    unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    rg_scratch *sc = ctx;
    if (++sc->ncallbacks % RG__DEADLINE_EVERY == 0 && now_ns() > sc->deadline) {
        sc->timed_out = 1;
        return 1; /* the only way to stop a Hyperscan scan */
    }
    const rg__pat *p = &sc->snap->pats[id];
    if (!(p->scope & (1u << sc->scan_user)) && !(sc->in_pair && p->same))
        return 0; /* a pattern for the other text (`scan:`, conv.h) */
    if (p->type == RG__PAT_REGEX) {
        touch(sc, p->det);
        if (!sc->in_region && p->back) {
            /* Reported at every match end (compile.c build_split): this
             * match starts within `back` bytes before `to`, as a trigger
             * literal's would (extract_spans searches those windows). */
            uint32_t end = (uint32_t)to;
            bound(sc, p->det, p->back < end ? end - p->back : 0, end ? end - 1 : 0);
        } else if (!sc->in_region) {
            sc->det_flag[p->det] |= RG__DF_REGEX | RG__DF_WHOLE;
        } else {
            /* Flagged in a region (rg__scan_view): every match of the
             * regex lies in a region that flags it, so PCRE2 looks in
             * those regions only (extract_spans). */
            if (!(sc->det_flag[p->det] & RG__DF_REGIONS)) {
                sc->det_flag[p->det] |= RG__DF_REGEX | RG__DF_REGIONS;
                sc->trig_lo[p->det] = 0;
                sc->trig_hi[p->det] = sc->reg_g;
            }
            if (sc->trig_hi[p->det] == sc->reg_g)
                sc->trig_lo[p->det] |= 1u << sc->reg_k;
            else
                sc->det_flag[p->det] |= RG__DF_WHOLE; /* never: one gate per regex */
        }
        return 0;
    }
    if (p->type == RG__PAT_TRIGGER) {
        /* A trigger literal of a regex (literals.c): flags the regex, and
         * every match of it contains one of these occurrences, so it
         * starts at or after (earliest occurrence end - its maximum width)
         * and at or before the latest occurrence start (extract_spans). */
        uint32_t end = (uint32_t)to;
        /* Where the regex asserts a \b at an end of this literal, an
         * occurrence without one there is in no match (literals.h): the
         * " rat" of "rating". ASCII boundaries, as the regex's \b. */
        if ((p->edges & RG__EDGE_LEFT) && !rg__lit_boundary(sc->vtext, sc->vlen, end - p->len))
            return 0;
        if ((p->edges & RG__EDGE_RIGHT) && !rg__lit_boundary(sc->vtext, sc->vlen, end))
            return 0;
        touch(sc, p->det);
        bound(sc, p->det, p->back < end ? end - p->back : 0, end - p->len);
        return 0;
    }
    size_t end = (size_t)to + sc->voff;
    if (!sc->in_pair) {
        keep_term(sc, p, end);
        return 0;
    }
    /* A pairing database reports each expression once, for every pattern
     * chained from its first (compile.c, rg__pat.same); each is kept if
     * it is for this text and its detector has a hit (rg__pair_scan: on a
     * reply of phone numbers, three in four are the context words of the
     * phone detectors that found nothing). */
    for (;;) {
        if ((p->scope & (1u << sc->scan_user)) &&
            (p->type == RG__PAT_WORD || (sc->det_flag[p->det] & RG__DF_PAIR)))
            keep_term(sc, p, end);
        if (!p->same)
            return 0;
        p = &sc->snap->pats[p->same - 1];
    }
}

/* A word, allow or context pattern p reported at view offset `end`: a
 * raw entry, if its word edges and (compacted view) marks allow. */
static inline void keep_term(rg_scratch *sc, const rg__pat *p, size_t end)
{
    size_t start = end - p->len;
    if ((p->edges & RG__EDGE_LEFT) && rg__word_before(sc->vtext, sc->vlen, start))
        return;
    if ((p->edges & RG__EDGE_RIGHT) && rg__word_after(sc->vtext, sc->vlen, end))
        return;
    if (sc->vmark) {
        /* Compacted view: only spans an obfuscation produced count, so
         * plain text never matches through it ("as" is not "ass"). */
        size_t i = start;
        while (i < end && !sc->vmark[i])
            i++;
        if (i == end)
            return;
    }
    if (sc->nraw < RG__MAX_RAWHITS) {
        rg__rawhit *h = &sc->raw[sc->nraw++];
        h->det = p->det;
        h->start = (uint32_t)start;
        h->end = (uint32_t)end;
        h->score = p->score;
        h->view = sc->cur_view;
        h->kind = p->type == RG__PAT_ALLOW ? RG__RAW_ALLOW
                : p->type == RG__PAT_CONTEXT ? RG__RAW_CONTEXT : RG__RAW_HIT;
        h->ctx = p->ctx;
    } else if (p->type == RG__PAT_WORD) {
        /* Out of room to keep the span: still count the score, so the
         * verdict never gets milder because an input is large. */
        sc->truncated = 1;
        touch(sc, p->det);
        if (p->score > sc->det_max[p->det])
            sc->det_max[p->det] = p->score;
    }
}

static int spans_from(rg_scratch *sc, const rg__cdet *d, uint32_t di, PCRE2_SIZE off,
                      PCRE2_SIZE within, int *k, PCRE2_SIZE *end);

int rg__confirm_off;

static int on_any(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx);

/* Does the detector's confirmation database (snapshot.h cdb) find no match
 * that could start in [lo, hi] of the current view? Scanned: from one code
 * point before lo (a \b at lo sees its byte), to one code point past the
 * widest match from hi (one at its end too), or the view's end. Hyperscan
 * finds every match there (the database was compiled only where it reads
 * the regex exactly), so a miss means PCRE2 would find none; any doubt (an
 * error, no database) means search. */
static int confirm_miss(rg_scratch *sc, const rg__snapshot *s, const rg__cdet *d,
                        size_t lo, size_t hi)
{
    const hs_database_t *db = d->confirm && !rg__confirm_off ? s->cdb[d->confirm - 1] : NULL;
    if (!db || lo > sc->vlen)
        return 0;
    const unsigned char *t = (const unsigned char *)sc->vtext;
    size_t a = lo > 0 ? lo - 1 : 0;
    while (a > 0 && (t[a] & 0xC0) == 0x80)
        a--;
    size_t b = sc->vlen;
    if (hi < sc->vlen && d->maxw < sc->vlen - hi - 1) {
        b = hi + d->maxw + 1;
        while (b < sc->vlen && (t[b] & 0xC0) == 0x80)
            b++;
    }
    int any = 0;
    hs_error_t e = hs_scan(db, sc->vtext + a, (unsigned)(b - a), 0, sc->hs, on_any, &any);
    return (e == HS_SUCCESS || e == HS_SCAN_TERMINATED) && !any;
}

/* Enumerate PCRE2 matches of detector `di` in the current view.
 * Returns 0, or -1 when the engine failed (not for "no match"). */
static int extract_spans(rg_scratch *sc, const rg__snapshot *s, uint32_t di)
{
    const rg__cdet *d = &s->dets[di];
    int k = 0;
    PCRE2_SIZE end = 0;
    if (!(d->scope & (1u << sc->scan_user)))
        return 0; /* a detector for the other text (`scan:`, conv.h) */
    uint8_t f = sc->det_flag[di];
    if ((f & (RG__DF_REGIONS | RG__DF_TRIG | RG__DF_WHOLE)) == RG__DF_REGIONS &&
        (d->pcre_opts & PCRE2_USE_OFFSET_LIMIT)) {
        /* Flagged in regions (on_match): every match lies inside one
         * region that flagged it, and regions are apart and in order, so
         * searching each from its start (or from the last match's end)
         * with its end as the offset limit finds the matches a search of
         * the whole view finds. A long reply's phone numbers are a few
         * regions of 40-odd bytes, where one search from the first to the
         * last read most of the reply. */
        uint32_t mask = sc->trig_lo[di], g = sc->trig_hi[di] % RG__NGATES;
        int rc = 0;
        for (; mask && rc == 0 && !sc->timed_out; mask &= mask - 1) {
            unsigned ri = (unsigned)__builtin_ctz(mask);
            const rg__region *q = &sc->regs[g][ri % RG__MAX_REGIONS];
            PCRE2_SIZE off = q->start > end ? q->start : end;
            if (ri >= sc->nregs[g] || off > sc->vlen || q->end > sc->vlen) {
                /* Not regions of this view (cannot happen): the rest of it. */
                pcre2_set_offset_limit(sc->mctx, PCRE2_UNSET);
                return spans_from(sc, d, di, end, PCRE2_UNSET, &k, &end);
            }
            pcre2_set_offset_limit(sc->mctx, q->end);
            rc = spans_from(sc, d, di, off, q->end, &k, &end);
        }
        pcre2_set_offset_limit(sc->mctx, PCRE2_UNSET);
        return rc;
    }
    if ((f & (RG__DF_TRIG | RG__DF_WHOLE)) != RG__DF_TRIG ||
        !(d->pcre_opts & PCRE2_USE_OFFSET_LIMIT))
        return spans_from(sc, d, di, 0, PCRE2_UNSET, &k, &end);
    uint8_t nw = sc->trig_nw[di];
    if (nw >= 2 && nw <= RG__TRIG_WINDOWS) {
        /* Windows in order and apart (bound): each searched from its start
         * (or the last match's end) to its limit, as regions are above. */
        const uint32_t *w = &sc->trig_w[(size_t)di * 2 * RG__TRIG_WINDOWS];
        int rc = 0;
        for (uint8_t i = 0; i < nw && rc == 0 && !sc->timed_out; i++) {
            PCRE2_SIZE off = w[2 * i] > end ? w[2 * i] : end;
            while (off > 0 && off < sc->vlen && ((unsigned char)sc->vtext[off] & 0xC0) == 0x80)
                off--;
            if (off > sc->vlen)
                break;
            if (confirm_miss(sc, s, d, off, w[2 * i + 1]))
                continue;
            pcre2_set_offset_limit(sc->mctx, w[2 * i + 1]);
            rc = spans_from(sc, d, di, off, PCRE2_UNSET, &k, &end);
        }
        pcre2_set_offset_limit(sc->mctx, PCRE2_UNSET);
        return rc;
    }
    /* Flagged by trigger literals (on_match): every match starts in
     * [trig_lo, trig_hi], so PCRE2 starts at trig_lo (moved back to a code
     * point boundary: the view is UTF-8 and matched without a check; \b
     * and lookbehinds still see the bytes before it) and an offset limit
     * stops its search after trig_hi. Same matches, without running the
     * regex over the whole reply when the trigger sits in one corner. */
    PCRE2_SIZE off = sc->trig_lo[di];
    while (off > 0 && off < sc->vlen && ((unsigned char)sc->vtext[off] & 0xC0) == 0x80)
        off--;
    if (off > sc->vlen)
        off = 0;
    if (confirm_miss(sc, s, d, off, sc->trig_hi[di]))
        return 0;
    pcre2_set_offset_limit(sc->mctx, sc->trig_hi[di]);
    int rc = spans_from(sc, d, di, off, PCRE2_UNSET, &k, &end);
    pcre2_set_offset_limit(sc->mctx, PCRE2_UNSET);
    return rc;
}

int rg__spans_noskip;

/* PCRE2 matches of detector di from offset off (under the match
 * context's offset limit): *k counts the matches of this extraction
 * across calls (the cap), *end is where the next search may start.
 * within: the end of a region every match lies inside (PCRE2_UNSET:
 * none), so that no search starts where no match could fit (d->minlen):
 * after a phone number's match, the search that would find nothing in the
 * region's last few bytes -- six of a slow long reply's ~26 calls. */
static int spans_from(rg_scratch *sc, const rg__cdet *d, uint32_t di, PCRE2_SIZE off,
                      PCRE2_SIZE within, int *kp, PCRE2_SIZE *endp)
{
    for (int k = *kp; k <= RG__MAX_PCRE_MATCHES && off <= sc->vlen; k++, *kp = k) {
        if (within != PCRE2_UNSET && off + d->minlen > within && !rg__spans_noskip)
            return 0;
        if (now_ns() > sc->deadline) {
            sc->timed_out = 1;
            return 0;
        }
        /* pcre2_jit_match skips pcre2_match's checks of its arguments
         * (valid here by construction, the view UTF-8) -- a call per
         * region and per match adds up on replies full of numbers. The
         * match context's limits and offset limit apply to both. */
        int rc = d->jit ? pcre2_jit_match(d->re, (PCRE2_SPTR)sc->vtext, sc->vlen, off, 0,
                                          sc->md, sc->mctx)
                        : pcre2_match(d->re, (PCRE2_SPTR)sc->vtext, sc->vlen, off,
                                      PCRE2_NO_UTF_CHECK, sc->md, sc->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
            rc == PCRE2_ERROR_JIT_STACKLIMIT) {
            /* Bounded work ran out: the same outcome as a spent budget. */
            sc->timed_out = 1;
            return 0;
        }
        if (rc < 0)
            return -1;
        if (k == RG__MAX_PCRE_MATCHES) {
            /* A match past the span cap: bounded work ran out, which
             * counts as a spent budget (ARCHITECTURE.md), never as "no
             * more matches" -- the spans left out could hold the one
             * valid card, or PII the redacted copy would send in clear. */
            sc->timed_out = 1;
            return 0;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
        size_t ms = ov[0], me = ov[1];
        if (me > ms && rg__validate(d->validate, sc->vtext + ms, me - ms)) {
            if (sc->nraw < RG__MAX_RAWHITS) {
                rg__rawhit *h = &sc->raw[sc->nraw++];
                h->det = di;
                h->start = (uint32_t)ms;
                h->end = (uint32_t)me;
                h->score = d->score;
                h->view = sc->cur_view;
                h->kind = RG__RAW_HIT;
                h->ctx = 0;
            } else {
                sc->truncated = 1;
                touch(sc, di);
                if (d->score > sc->det_max[di])
                    sc->det_max[di] = d->score;
            }
        }
        if (me > off)
            off = me;
        else {
            /* Empty match: step one code point so the loop advances. */
            off = me + 1;
            while (off < sc->vlen && ((unsigned char)sc->vtext[off] & 0xC0) == 0x80)
                off++;
        }
        *endp = off;
    }
    return 0;
}

int rg__extract_spans(rg_scratch *sc, const rg__snapshot *s, uint32_t di)
{
    return extract_spans(sc, s, di);
}

static inline int past_deadline(rg_scratch *sc);

/* The first index i in a[0..n) with a[i] >= x (a ascends). */
static size_t first_at_least(const uint32_t *a, size_t n, uint64_t x)
{
    /* Branch-free: the comparisons of a search are unpredictable, and a
     * mispredicted branch per step cost more than the loads (a 2 KB
     * reply's pairing regions did ~40 of these searches). */
    const uint32_t *base = a;
    size_t len = n;
    while (len > 1) {
        size_t half = len / 2;
        base = base[half - 1] < x ? base + half : base;
        len -= half;
    }
    return (size_t)(base - a) + (len == 1 && *base < x);
}

/* Texts below this many view bytes have their pairing databases scanned
 * whole: around-the-hit regions would cover most of them. */
#define RG__PAIR_REGION_BYTES 512

/* The parts of view v (n bytes) where an allow or context entry of a hit
 * in sc->raw can be, merged and in order, into r (at most
 * RG__MAX_REGIONS); the count, or SIZE_MAX when the whole view is as
 * cheap (too many regions, or most of the view). An entry pairs with hit
 * h only if, in original bytes, it ends at or after h's start minus the
 * detector's widest window (pwin) and starts at or before h's end plus it
 * (context: the gap is at most the window; allow: it covers h). Original
 * offsets ascend with view offsets (normalize.c builds each view left to
 * right), so that range is one stretch [i0, i1] of view bytes the entry
 * must touch, and none of its entries is longer than its plen. */
static size_t pair_regions(const rg_scratch *sc, const rg__snapshot *s, int v, size_t n,
                           int identity_raw, rg__region *r)
{
    const rg__vbuf *vb = &sc->view[v];
    int ident = v == RG__VIEW_RAW && identity_raw;
    size_t nr = 0, covered = 0;
    for (size_t i = 0; i < sc->nraw; i++) {
        const rg__rawhit *h = &sc->raw[i];
        if (h->kind != RG__RAW_HIT || !((s->dets[h->det].pviews >> v) & 1u))
            continue;
        /* h in original bytes (as rg_check maps it after pairing). */
        uint64_t os = h->start, oe = h->end;
        if (h->view != RG__VIEW_RAW || !identity_raw) {
            const rg__vbuf *hb = &sc->view[h->view];
            if (h->start >= hb->len || h->end > hb->len)
                return SIZE_MAX;
            os = hb->start[h->start];
            oe = h->end > h->start ? hb->end[h->end - 1] : os;
        }
        uint64_t w = s->dets[h->det].pwin;
        size_t reach = s->dets[h->det].plen + 1;
        uint64_t lo_o = os > w ? os - w : 0, hi_o = oe + w;
        /* i0: the first view byte ending at or after lo_o; i1: one past
         * the last starting at or before hi_o. The entry [x, y) has
         * y - 1 >= i0 and x < i1, and y - x <= plen. */
        size_t i0 = ident ? (size_t)(lo_o > 0 ? lo_o - 1 : 0) : first_at_least(vb->end, n, lo_o);
        size_t i1 = ident ? (size_t)(hi_o < n ? hi_o + 1 : n) : first_at_least(vb->start, n, hi_o + 1);
        size_t a = i0 > reach ? i0 - reach : 0;
        size_t b = i1 + reach < n ? i1 + reach : n;
        /* Insert in order of start, merging with what it touches. */
        size_t k = nr;
        while (k > 0 && r[k - 1].start > a)
            k--;
        if (k > 0 && r[k - 1].end >= a) {
            k--;
            a = r[k].start;
            if (r[k].end > b)
                b = r[k].end;
        } else {
            if (nr == RG__MAX_REGIONS)
                return SIZE_MAX;
            memmove(&r[k + 1], &r[k], (nr - k) * sizeof *r);
            nr++;
        }
        size_t j = k + 1;
        while (j < nr && r[j].start <= b) {
            if (r[j].end > b)
                b = r[j].end;
            j++;
        }
        r[k].start = a;
        r[k].end = b;
        memmove(&r[k + 1], &r[j], (nr - j) * sizeof *r);
        nr -= j - k - 1;
    }
    for (size_t k = 0; k < nr; k++)
        covered += r[k].end - r[k].start;
    return covered > n / 2 ? SIZE_MAX : nr;
}

int rg__pair_scan(rg_scratch *sc, const rg__snapshot *s, const char *const *vtext,
                  const size_t *vlen, int identity_raw)
{
    /* Allow and context words pair only with their own detector's hits
     * (rg__resolve_hits drops the others), so their databases are scanned
     * only for the views a hit's detector has entries in: on most replies
     * none. Hits a full sc->raw could not keep (truncated) stay as they
     * are: their spans are gone, so nothing could pair with them. On a
     * long text, only around the hits (pair_regions): a 2 KB reply with
     * three phone numbers matched "call", "number", "order"... all over
     * it (~4 us of a ~45 us check, docs/PERFORMANCE.md "Seventh step"). */
    unsigned want = 0;
    size_t nhits = 0;
    for (size_t i = 0; i < sc->nraw; i++)
        if (sc->raw[i].kind == RG__RAW_HIT) {
            want |= s->dets[sc->raw[i].det].pviews;
            sc->det_flag[sc->raw[i].det] |= RG__DF_PAIR;
            nhits++;
        }
    /* The database holds every detector's entries, and on a reply of
     * phone numbers three in four of its reports are the context words
     * ("call", "number") of the phone detectors that found nothing: the
     * callback drops them before reading word edges or keeping them
     * (rg__resolve_hits would drop them next). */
    sc->in_pair = 1;
    int rc = RG_OK;
    for (int v = 0; v < RG__VIEW_COUNT && want && !sc->timed_out; v++) {
        if (!((want >> v) & 1u) || !s->pdb[v] || !vlen[v])
            continue;
        if (past_deadline(sc))
            break;
        sc->vtext = vtext[v];
        sc->vlen = vlen[v];
        sc->vmark = NULL;
        sc->cur_view = (uint8_t)v;
        rg__region r[RG__MAX_REGIONS];
        /* Regions only for a long view with few hits: many hits (an
         * adversarial text holds thousands) make more than 16 regions or
         * most of the view anyway, after a binary search each. */
        size_t nr = vlen[v] < RG__PAIR_REGION_BYTES || nhits > 4 * RG__MAX_REGIONS
                        ? SIZE_MAX
                        : pair_regions(sc, s, v, vlen[v], identity_raw, r);
        hs_error_t err = HS_SUCCESS;
        if (nr == SIZE_MAX) {
            err = hs_scan(s->pdb[v], vtext[v], (unsigned)vlen[v], 0, sc->hs, on_match, sc);
        } else {
            /* Each region's matches come with offsets from its start:
             * on_match adds voff (word edges look at the whole view). */
            for (size_t k = 0; k < nr && err == HS_SUCCESS; k++) {
                sc->voff = r[k].start;
                err = hs_scan(s->pdb[v], vtext[v] + r[k].start,
                              (unsigned)(r[k].end - r[k].start), 0, sc->hs, on_match, sc);
            }
            sc->voff = 0;
        }
        if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED) {
            rc = RG_E_ENGINE;
            break;
        }
    }
    sc->in_pair = 0;
    for (size_t i = 0; i < sc->nraw; i++)
        sc->det_flag[sc->raw[i].det] &= (uint8_t)~RG__DF_PAIR;
    return rc;
}

static int cmp_raw(const rg__rawhit *a, const rg__rawhit *b)
{
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return a->det < b->det ? -1 : a->det > b->det;
}

/* Pairing order (rg__resolve_hits): by detector; within one, hits, then
 * allow-list entries, then context entries by block; each by span. */
static int cmp_group(const rg__rawhit *a, const rg__rawhit *b)
{
    if (a->det != b->det)
        return a->det < b->det ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->kind == RG__RAW_CONTEXT && a->ctx != b->ctx)
        return a->ctx < b->ctx ? -1 : 1;
    return cmp_raw(a, b);
}

typedef int (*raw_cmp)(const rg__rawhit *, const rg__rawhit *);

static void sift_down(rg__rawhit *v, size_t i, size_t n, raw_cmp cmp)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && cmp(&v[c], &v[c + 1]) < 0)
            c++;
        if (cmp(&v[i], &v[c]) >= 0)
            return;
        rg__rawhit t = v[i];
        v[i] = v[c];
        v[c] = t;
        i = c;
    }
}

/* Sort hits by span. Not qsort: glibc's qsort mallocs a merge buffer for
 * arrays over 1 KB, and the hot path must not allocate. Insertion sort
 * for the usual handful of hits, heapsort (O(n log n), in place) for
 * adversarial inputs with thousands. */
static void sort_by(rg__rawhit *v, size_t n, raw_cmp cmp)
{
    if (n <= 24) {
        for (size_t i = 1; i < n; i++) {
            rg__rawhit t = v[i];
            size_t j = i;
            while (j > 0 && cmp(&v[j - 1], &t) > 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = t;
        }
        return;
    }
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n, cmp);
    for (size_t end = n; end-- > 1;) {
        rg__rawhit t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end, cmp);
    }
}

static void sort_raw(rg__rawhit *v, size_t n) { sort_by(v, n, cmp_raw); }

/* ------------------------------------------------------------------ */
/* Result filling                                                      */
/* ------------------------------------------------------------------ */

static size_t slen(const char *s) { return s ? strlen(s) + 1 : 0; }

static const char *arena_put(rg_result *r, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = r->arena + r->arena_len;
    memcpy(d, s, n);
    r->arena_len += n;
    return d;
}

static const char *action_name[RG__F_COUNT] = {"handoff", "block", "redact"};

/* The fail-safe verdict for an error before or without a route. */
static int fail(rg_result *r, rg_verdict v, int status)
{
    if (r) {
        r->verdict = v;
        r->flags |= RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE;
    }
    return status;
}

static void apply_failsafe(rg_result *r, rg_verdict policy, rg_verdict failsafe,
                           unsigned flag)
{
    r->flags |= flag;
    if (failsafe >= policy) {
        r->verdict = failsafe;
        r->flags |= RG_FLAG_FAILSAFE;
    }
}

/* The on_error of the requested route (or of "default") for errors found
 * before a scratch could pin a snapshot: the caller's mistake must still
 * get the policy's fail-safe. Takes the engine lock: error path only. */
static rg_verdict on_error_unpinned(rg_engine *e, const rg_request *req)
{
    if (!e)
        return RG_HANDOFF;
    rg_verdict v = RG_HANDOFF;
    pthread_mutex_lock(&e->lock);
    rg__metrics_rejected(e);
    const rg__snapshot *s = atomic_load(&e->current);
    const rg__croute *r = rg__snapshot_route(s, req && req->route ? req->route : "default");
    if (!r)
        r = rg__snapshot_route(s, "default");
    if (r)
        v = r->on_error;
    pthread_mutex_unlock(&e->lock);
    return v;
}

/* Checkpoint between stages: the callback only sees the clock when
 * matches fire, so long match-free stages are bounded here. */
static inline int past_deadline(rg_scratch *sc)
{
    if (!sc->timed_out && now_ns() > sc->deadline)
        sc->timed_out = 1;
    return sc->timed_out;
}

/* ------------------------------------------------------------------ */
/* After the scan (shared with stream.c)                               */
/* ------------------------------------------------------------------ */

/* sc->raw in original offsets (hits, allow-list and context occurrences)
 * to the hits that count: allow-list intervals drop the hits they cover,
 * context words near a hit set its score; then only hits remain, sorted
 * by span, one per detector and span. */
/* Up to this many raw entries, every hit is paired with every entry
 * directly (pair_hits_small): cheaper than sorting for the handful a
 * normal reply has (callgrind: +240 instructions per short check with the
 * sorted path alone). Both give the same answer. */
#define RG__PAIR_SMALL 48

/* Does context entry w count for hit h: on the block's side of it and
 * at most `window` bytes away? One rule for both pairing paths. */
static inline int context_applies(const rg__rawhit *w, const rg__rawhit *h, int side,
                                  uint32_t window)
{
    if ((side == RG__SIDE_BEFORE && w->end > h->start) ||
        (side == RG__SIDE_AFTER && w->start < h->end))
        return 0;
    uint32_t gap = w->start >= h->end ? w->start - h->end
                 : h->start >= w->end ? h->start - w->end : 0;
    return gap <= window;
}

/* Is hit h near a context entry of its detector's block c (side, window)? */
static int near_direct(const rg__rawhit *v, size_t n, const rg__rawhit *h, uint16_t c,
                       int side, uint32_t window)
{
    for (size_t j = 0; j < n; j++) {
        const rg__rawhit *w = &v[j];
        if (w->kind != RG__RAW_CONTEXT || w->det != h->det || w->ctx != c)
            continue;
        if (context_applies(w, h, side, window))
            return 1;
    }
    return 0;
}

static void pair_hits_small(rg_scratch *sc, const rg__snapshot *s)
{
    rg__rawhit *v = sc->raw;
    size_t n = sc->nraw;
    for (size_t i = 0; i < n; i++) {
        rg__rawhit *h = &v[i];
        if (h->kind != RG__RAW_HIT)
            continue;
        int allowed = 0;
        for (size_t j = 0; j < n && !allowed; j++)
            allowed = v[j].kind == RG__RAW_ALLOW && v[j].det == h->det &&
                      v[j].start <= h->start && v[j].end >= h->end;
        if (allowed) {
            h->kind = UINT8_MAX; /* dropped: removed by the caller */
            continue;
        }
        const rg__cdet *d = &s->dets[h->det];
        for (uint16_t c = 0; c < d->nctx; c++)
            if (near_direct(v, n, h, c, d->ctx[c].side, d->ctx[c].window)) {
                h->score = d->ctx[c].score;
                break;
            }
    }
}

/* The first index in v[lo, hi) whose start is >= x (v ascends by start). */
static size_t lower_start(const rg__rawhit *v, size_t lo, size_t hi, uint32_t x)
{
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (v[m].start < x)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* The first index in v[lo, hi) whose context block is >= c (v ascends by
 * block). */
static size_t lower_ctx(const rg__rawhit *v, size_t lo, size_t hi, uint32_t c)
{
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (v[m].ctx < c)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* Is a context entry of block [c0, c1) (ascending by start; no entry
 * longer than maxlen) near hit h, on the block's side, within its window? */
static int context_near(const rg__rawhit *v, size_t c0, size_t c1, uint32_t maxlen,
                        const rg__rawhit *h, int side, uint32_t window)
{
    /* An entry within the window starts at or after h->start - window -
     * maxlen (it ends at or after h->start - window) and at or before
     * h->end + window: only those are looked at. */
    uint64_t reach = (uint64_t)window + maxlen;
    uint32_t from = h->start > reach ? (uint32_t)(h->start - reach) : 0;
    uint64_t to = (uint64_t)h->end + window;
    for (size_t j = lower_start(v, c0, c1, from); j < c1 && v[j].start <= to; j++) {
        const rg__rawhit *w = &v[j];
        if (context_applies(w, h, side, window))
            return 1;
    }
    return 0;
}

/* Allow lists and context words, detector by detector. Pairing every hit
 * with every entry was quadratic (4,096 raw entries on adversarial input:
 * most of such a check's time); sorted by detector, kind and span, a hit
 * meets only its own detector's entries: allow intervals through a running
 * maximum of their ends (hits and intervals both ascend by start), context
 * entries by binary search around the hit. O(n log n). It watches the
 * deadline: past it, the remaining hits keep their own scores (no
 * allow-list dropping, which only errs towards the stricter verdict; the
 * spent budget then applies on_timeout anyway). */
static void pair_hits(rg_scratch *sc, const rg__snapshot *s)
{
    rg__rawhit *v = sc->raw;
    size_t n = sc->nraw, seen = 0;
    sort_by(v, n, cmp_group);
    for (size_t a = 0; a < n;) {
        uint32_t det = v[a].det;
        size_t b = a, h1, a1;
        while (b < n && v[b].det == det)
            b++;
        for (h1 = a; h1 < b && v[h1].kind == RG__RAW_HIT; h1++)
            ;
        for (a1 = h1; a1 < b && v[a1].kind == RG__RAW_ALLOW; a1++)
            ;
        const rg__cdet *d = &s->dets[det];
        uint32_t maxlen = 0;
        for (size_t j = a1; j < b; j++)
            if (v[j].end - v[j].start > maxlen)
                maxlen = v[j].end - v[j].start;
        size_t ap = h1;
        uint32_t maxend = 0;
        int any = 0;
        for (size_t i = a; i < h1 && h1 < b; i++) {
            if ((++seen & 63) == 0 && past_deadline(sc))
                return;
            rg__rawhit *h = &v[i];
            while (ap < a1 && v[ap].start <= h->start) {
                if (!any || v[ap].end > maxend)
                    maxend = v[ap].end;
                any = 1;
                ap++;
            }
            if (any && maxend >= h->end) {
                h->kind = UINT8_MAX; /* dropped: removed by the caller */
                continue;
            }
            /* The first context block with an entry near the hit decides
             * its score (blocks in policy order). */
            size_t c0 = a1;
            for (uint16_t c = 0; c < d->nctx && c0 < b; c++) {
                c0 = lower_ctx(v, c0, b, c);
                size_t c1 = lower_ctx(v, c0, b, (uint32_t)c + 1);
                if (c1 > c0 && context_near(v, c0, c1, maxlen, h, d->ctx[c].side,
                                            d->ctx[c].window)) {
                    h->score = d->ctx[c].score;
                    break;
                }
                c0 = c1;
            }
        }
        a = b;
    }
}

void rg__resolve_hits(rg_scratch *sc, const rg__snapshot *s)
{
    /* Allow-list intervals drop the hits they cover; context words near a
     * hit set its score (pair_hits, skipped when there is nothing to pair
     * with); then one hit per detector and span. */
    /* Allow and context entries pair only with their own detector's hits,
     * and most entries on a long reply belong to detectors with none (the
     * context words of PII detectors: "call", "order", "account"...):
     * those are dropped first, so they are neither paired nor sorted
     * (callgrind, 1.6 KB replies: the sorted path was ~9% of a check).
     * RG__DF_PAIR marks the detectors with a hit and is cleared here. */
    size_t npair = 0, nhits = 0;
    for (size_t i = 0; i < sc->nraw; i++)
        if (sc->raw[i].kind == RG__RAW_HIT) {
            sc->det_flag[sc->raw[i].det] |= RG__DF_PAIR;
            nhits++;
        }
    if (nhits < sc->nraw) {
        size_t k = 0;
        for (size_t i = 0; i < sc->nraw; i++) {
            const rg__rawhit *h = &sc->raw[i];
            if (h->kind == RG__RAW_HIT || (sc->det_flag[h->det] & RG__DF_PAIR))
                sc->raw[k++] = *h;
        }
        sc->nraw = k;
        npair = k - nhits;
    }
    for (size_t i = 0; i < sc->nraw; i++)
        sc->det_flag[sc->raw[i].det] &= (uint8_t)~RG__DF_PAIR;
    if (npair && sc->nraw <= RG__PAIR_SMALL)
        pair_hits_small(sc, s);
    else if (npair)
        pair_hits(sc, s);
    /* Compact only now: the allow and context entries must stay readable
     * until every hit has been looked at (compacting in the loop above
     * overwrote them, so a second hit on the same text lost its context). */
    size_t nkeep = 0;
    for (size_t i = 0; i < sc->nraw; i++)
        if (sc->raw[i].kind == RG__RAW_HIT)
            sc->raw[nkeep++] = sc->raw[i];
    sc->nraw = nkeep;
    sort_raw(sc->raw, sc->nraw);
    /* One hit per detector and span: the normalized and compacted views
     * (or two spellings) can find the same one. */
    nkeep = 0;
    for (size_t i = 0; i < sc->nraw; i++) {
        rg__rawhit *h = &sc->raw[i];
        if (nkeep > 0) {
            rg__rawhit *p = &sc->raw[nkeep - 1];
            if (p->det == h->det && p->start == h->start && p->end == h->end) {
                if (h->score > p->score)
                    p->score = h->score;
                continue;
            }
        }
        sc->raw[nkeep++] = *h;
    }
    sc->nraw = nkeep;
}

/* Resolved hits (sc->raw) to the result: detector maxima, category
 * scores, the route's thresholds, hits, the redacted copy of reply[0..
 * reply_len) (only with_copy: stream feeds release text themselves),
 * fail-safes for oversize and a spent budget, shadow findings. Returns
 * RG_OK, or RG_E_NOMEM (the caller applies the on_error fail-safe). The
 * per-check scratch state it touches is cleared by the caller. */
int rg__decide(rg_scratch *sc, const rg__snapshot *s, const rg__croute *route,
               const char *reply, size_t reply_len, int oversize, int with_copy,
               rg_result *result)
{
    for (size_t i = 0; i < sc->nraw; i++) {
        const rg__rawhit *h = &sc->raw[i];
        touch(sc, h->det);
        if (h->score > sc->det_max[h->det])
            sc->det_max[h->det] = h->score;
    }
    /* Conversation findings (user message, loops, disclosures: conv.h)
     * count like hits, but are not in sc->raw, so they never shape the
     * redacted copy of the reply. */
    size_t nconv = sc->conv ? sc->conv->nhits : 0;
    for (size_t i = 0; i < nconv; i++) {
        const rg__convhit *h = &sc->conv->hits[i];
        touch(sc, h->det);
        if (h->score > sc->det_max[h->det])
            sc->det_max[h->det] = h->score;
    }

    /* Category scores: max per detector, noisy-OR across detectors. */
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i];
        double m = sc->det_max[di];
        if (m <= 0 || s->dets[di].shadow) /* shadow: reported, never decides */
            continue;
        uint32_t c = s->dets[di].cat;
        if (sc->cat_n[c] == 0) {
            sc->cat_touched[sc->ncat_touched++] = c;
            sc->cat_prod[c] = 1.0;
            sc->cat_max[c] = 0;
        }
        sc->cat_n[c]++;
        sc->cat_prod[c] *= 1.0 - m;
        if (m > sc->cat_max[c])
            sc->cat_max[c] = m;
    }
    /* Categories (and so reasons) in the snapshot's category order, not
     * in the order the scans happened to touch them: the same reply gives
     * the same result whatever the databases' layout or a stream's chunks
     * (a handful of entries: insertion sort). */
    for (size_t i = 1; i < sc->ncat_touched; i++) {
        uint32_t c = sc->cat_touched[i];
        size_t j = i;
        for (; j > 0 && sc->cat_touched[j - 1] > c; j--)
            sc->cat_touched[j] = sc->cat_touched[j - 1];
        sc->cat_touched[j] = c;
    }

    /* Size the result arena once, so pointers into it stay put. */
    size_t need = slen(route->name);
    for (size_t i = 0; i < sc->ntouched; i++) {
        const rg__cdet *d = &s->dets[sc->touched[i]];
        need += slen(d->id) + slen(s->cats[d->cat]);
    }
    for (size_t i = 0; i < sc->ncat_touched; i++) {
        const rg__cthr *t = &route->thr[sc->cat_touched[i]];
        for (int f = 0; f < RG__F_COUNT; f++)
            need += slen(t->key[f]) + slen(t->from[f]);
    }
    if (need > result->arena_cap) {
        /* Grow straight to what any check on this route could need (every
         * detector and category touched), computed only here: what a check
         * touches depends on how far it got before its deadline, so
         * growing to `need` let a warmed-up result allocate again after a
         * warm-up pass that had timed out (the allocation smoke test
         * caught it, 1 in ~1,200 checks on a loaded machine). */
        size_t bound = slen(route->name);
        for (size_t d = 0; d < s->ndets; d++)
            bound += slen(s->dets[d].id) + slen(s->cats[s->dets[d].cat]);
        for (size_t c = 0; c < s->ncats; c++)
            for (int f = 0; f < RG__F_COUNT; f++)
                bound += slen(route->thr[c].key[f]) + slen(route->thr[c].from[f]);
        if (bound > need)
            need = bound;
        char *na = rg__realloc(&result->a, result->arena, need);
        if (!na) {
            return RG_E_NOMEM;
        }
        result->arena = na;
        result->arena_cap = need;
    }
    /* Likewise reasons and categories: at most one per category (and
     * field), whatever this check found. */
    if (sc->ncat_touched &&
        (rg__grow(&result->a, (void **)&result->reasons, &result->capreasons,
                  s->ncats * RG__F_COUNT, sizeof *result->reasons) ||
         rg__grow(&result->a, (void **)&result->cats, &result->capcats, s->ncats,
                  sizeof *result->cats)))
        return RG_E_NOMEM;
    result->arena_len = 0;
    result->route = arena_put(result, route->name);
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i];
        const rg__cdet *d = &s->dets[di];
        sc->det_off[di] = (uint32_t)result->arena_len;
        arena_put(result, d->id);
        arena_put(result, s->cats[d->cat]);
    }

    /* Decide. */
    rg_verdict verdict = RG_ALLOW;
    int any_redact = 0;
    for (size_t i = 0; i < sc->ncat_touched; i++) {
        uint32_t c = sc->cat_touched[i];
        double score = sc->cat_n[c] == 1 ? sc->cat_max[c] : 1.0 - sc->cat_prod[c];
        const rg__cthr *t = &route->thr[c];
        rg_verdict cv = RG_ALLOW;
        int red = 0;
        for (int f = 0; f < RG__F_COUNT; f++) {
            if (t->v[f] > 1.0 || score + RG__EPS < t->v[f])
                continue;
            if (f == RG__F_BLOCK)
                cv = RG_BLOCK;
            else if (f == RG__F_HANDOFF && cv < RG_HANDOFF)
                cv = RG_HANDOFF;
            else if (f == RG__F_REDACT)
                red = 1;
            if (rg__grow(&result->a, (void **)&result->reasons, &result->capreasons,
                         result->nreasons + 1, sizeof *result->reasons)) {
                return RG_E_NOMEM;
            }
            rg_reason *rs = &result->reasons[result->nreasons++];
            rs->category = s->cats[c]; /* fixed to arena below */
            rs->rule = arena_put(result, t->key[f]);
            rs->route = arena_put(result, t->from[f]);
            rs->action = action_name[f];
            rs->score = score;
            rs->threshold = t->v[f];
            rs->shadow = 0;
        }
        if (cv > verdict)
            verdict = cv;
        any_redact |= red;
        if (rg__grow(&result->a, (void **)&result->cats, &result->capcats,
                     result->ncats + 1, sizeof *result->cats)) {
            return RG_E_NOMEM;
        }
        rg_category_score *cs = &result->cats[result->ncats++];
        cs->category = s->cats[c];
        cs->score = score;
        cs->verdict = cv;
        cs->redact = red;
        cs->shadow_score = score; /* shadow.c adds shadow detectors' share */
        sc->cat_n[c] = (uint32_t)(red ? 0x80000000u : 0); /* reuse: redact mark */
    }
    /* Point category names at the arena copies made with each detector. */
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i];
        const char *cat = s->cats[s->dets[di].cat];
        const char *copy = result->arena + sc->det_off[di] + strlen(s->dets[di].id) + 1;
        for (size_t k = 0; k < result->ncats; k++)
            if (result->cats[k].category == cat)
                result->cats[k].category = copy;
        for (size_t k = 0; k < result->nreasons; k++)
            if (result->reasons[k].category == cat)
                result->reasons[k].category = copy;
    }

    /* Hits. */
    for (size_t i = 0; i < sc->nraw; i++) {
        if (result->nhits == RG_MAX_HITS) {
            result->flags |= RG_FLAG_HITS_TRUNCATED;
            break;
        }
        const rg__rawhit *h = &sc->raw[i];
        rg_hit *o = &result->hits[result->nhits++];
        o->detector = result->arena + sc->det_off[h->det];
        o->category = o->detector + strlen(o->detector) + 1;
        o->start = h->start;
        o->end = h->end;
        o->score = h->score;
        o->shadow = s->dets[h->det].shadow;
        o->source = RG_SOURCE_REPLY;
    }
    for (size_t i = 0; i < nconv; i++) {
        if (result->nhits == RG_MAX_HITS) {
            result->flags |= RG_FLAG_HITS_TRUNCATED;
            break;
        }
        const rg__convhit *h = &sc->conv->hits[i];
        rg_hit *o = &result->hits[result->nhits++];
        o->detector = result->arena + sc->det_off[h->det];
        o->category = o->detector + strlen(o->detector) + 1;
        o->start = h->start;
        o->end = h->end;
        o->score = h->score;
        o->shadow = s->dets[h->det].shadow;
        o->source = h->source;
    }
    if (sc->truncated)
        result->flags |= RG_FLAG_HITS_TRUNCATED;

    /* Redacted copy: every byte of every span of a redacted category. */
    if (any_redact) {
        if (sc->truncated) {
            /* Spans were dropped, so a redacted copy could leak one: the
             * copy cannot be trusted, the reply needs a person. */
            verdict = verdict > route->on_error ? verdict : route->on_error;
            result->flags |= RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE;
        } else if (with_copy) {
            /* Size from a bound that depends on the reply alone, not on
             * how many spans this run found before its deadline: every
             * masked span covers at least one byte, so there are at most
             * min(reply_len, RG__MAX_RAWHITS) masks. Sizing from the
             * spans found made a warmed-up check allocate now and then. */
            size_t maxmask = 0;
            for (size_t c = 0; c < s->ncats; c++) {
                size_t ml = strlen(route->thr[c].mask);
                if (ml > maxmask)
                    maxmask = ml;
            }
            size_t nmask = reply_len < RG__MAX_RAWHITS ? reply_len : RG__MAX_RAWHITS;
            size_t total = reply_len + 1 + nmask * maxmask;
            if (total > result->redacted_cap) {
                char *nb = rg__realloc(&result->a, result->redacted, total);
                if (!nb) {
                    return RG_E_NOMEM;
                }
                result->redacted = nb;
                result->redacted_cap = total;
            }
            size_t o = 0, pos = 0;
            for (size_t i = 0; i < sc->nraw; i++) {
                const rg__rawhit *h = &sc->raw[i];
                uint32_t c = s->dets[h->det].cat;
                if (!sc->cat_n[c] || s->dets[h->det].shadow)
                    continue; /* not redacted, or a shadow detector's span */
                size_t hs_ = h->start, he = h->end;
                if (he <= pos)
                    continue; /* inside a span already masked */
                if (hs_ < pos)
                    hs_ = pos; /* overlap: extend the previous mask */
                else {
                    memcpy(result->redacted + o, reply + pos, hs_ - pos);
                    o += hs_ - pos;
                    const char *mask = route->thr[c].mask;
                    size_t ml = strlen(mask);
                    memcpy(result->redacted + o, mask, ml);
                    o += ml;
                }
                pos = he;
            }
            memcpy(result->redacted + o, reply + pos, reply_len - pos);
            o += reply_len - pos;
            result->redacted[o] = '\0';
            result->redacted_len = o;
            result->has_redacted = 1;
            result->flags |= RG_FLAG_REDACTED;
        }
    }
    for (size_t i = 0; i < sc->ncat_touched; i++)
        sc->cat_n[sc->cat_touched[i]] = 0;

    result->verdict = verdict;
    if (oversize)
        apply_failsafe(result, verdict, route->on_oversize, RG_FLAG_OVERSIZE);
    if (sc->timed_out)
        apply_failsafe(result, result->verdict, route->on_timeout,
                       RG_FLAG_BUDGET_EXCEEDED);
    /* Shadow mode: findings reported, verdict untouched (shadow.c). */
    if (s->has_shadow || route->shadow)
        rg__shadow_eval(sc, s, route, result);
    return RG_OK;
}

unsigned rg__gates_reached(const rg__snapshot *s, const char *raw, size_t rawlen, int user)
{
    if (!s->ngdb)
        return 0;
    /* Gated databases (digits.h rg__gatedef) the text reaches: a pattern
     * needing more bytes of a range than the text has cannot match. A
     * windowed gate's patterns have short matches, so those bytes must
     * also be close together. Counted on the raw view as scanned (a
     * repaired view has the same ASCII bytes, but not always the same
     * distances). One count per range: the gates share them. */
    rg__gatedef g[RG__NGATES];
    unsigned want = 0;
    for (size_t k = 0; k < RG__GATE_USER && k < s->ngdb; k++) {
        if (!s->gdb[RG__VIEW_RAW][k])
            continue;
        want |= 1u << k;
        g[k].lo = s->glo[k];
        g[k].hi = s->ghi[k];
        g[k].need = s->gate[k];
        /* The window test walks every byte of the range. Where the scan
         * goes by regions (rawlen >= 2 widths, rg__scan_view), finding
         * them makes the same test, and no region means no scan: the
         * count is enough here. */
        g[k].window = s->gmaxw[k] != UINT32_MAX && s->gmaxw[k] < rawlen / 2 ? 0 : s->gwin[k];
        g[k].weak = 0;
        /* A cluster gate: the count here, the clusters when scanning. */
        g[k].cluster = 0;
    }
    unsigned reach = want ? rg__gates_walk(raw, rawlen, g, RG__GATE_USER, want) : 0;
    if (user)
        reach |= 1u << RG__GATE_USER;
    return reach;
}

int rg__prescan_off;

/* A prescan's callback: the union matched; no need to look further. */
static int on_any(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    *(int *)ctx = 1;
    return 1;
}

/* Scan t[0..n) with a prescan union: *miss = 1 when it does not match. */
static hs_error_t prescan(rg_scratch *sc, const hs_database_t *pre, const char *t, size_t n,
                          int *miss)
{
    int any = 0;
    hs_error_t e = hs_scan(pre, t, (unsigned)n, 0, sc->hs, on_any, &any);
    if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
        return e;
    *miss = !any;
    return HS_SUCCESS;
}

hs_error_t rg__scan_view(rg_scratch *sc, const rg__snapshot *s, int v, unsigned reach)
{
    const char *t = sc->vtext;
    size_t n = sc->vlen;
    const hs_database_t *db = s->db[v];
    hs_error_t err = HS_SUCCESS;
    if (v != RG__VIEW_RAW) /* only the raw view is split (compile.c expr_gate) */
        return db ? hs_scan(db, t, (unsigned)n, 0, sc->hs, on_match, sc) : HS_SUCCESS;
    if (db)
        err = hs_scan(db, t, (unsigned)n, 0, sc->hs, on_match, sc);
    /* The cluster gates' regions (digits.h), the digit gates' in one pass:
     * the clusters are the same, only the digits each gate needs differ.
     * cnr[g] is read below only for a reached cluster gate. */
    size_t cnr[RG__NGATES];
    if (reach & s->gclumask) {
        unsigned need[RG__NGATES];
        rg__region *out[RG__NGATES];
        size_t nr[RG__NGATES], k = 0;
        int gi[RG__NGATES];
        unsigned gap = 0;
        unsigned char hi = 0;
        for (size_t g = 0; g < s->ngdb; g++) {
            cnr[g] = SIZE_MAX;
            if (!((reach >> g) & 1u) || !s->gdb[v][g] || !s->gclu[g])
                continue;
            if (k && (s->gclu[g] - 1u != gap || s->ghi[g] != hi)) {
                /* another gap or range: a pass of its own */
                cnr[g] = rg__cluster_regions(t, n, s->ghi[g], s->gate[g], s->gclu[g] - 1u,
                                             sc->regs[g]);
                continue;
            }
            gap = s->gclu[g] - 1u;
            hi = s->ghi[g];
            need[k] = s->gate[g];
            out[k] = sc->regs[g];
            gi[k++] = (int)g;
        }
        if (k)
            rg__cluster_regions_k(t, n, hi, gap, k, need, out, nr);
        for (size_t j = 0; j < k; j++)
            cnr[gi[j]] = nr[j];
    }
    /* Broadest gate first (the table goes rarest first): on a text that
     * floods every gate (8 KB of digits) the commonest matches then reach
     * the hit cap before the rarer regexes' PCRE2 runs (check order =
     * flag order), as when the broad digit gate was the first. */
    for (size_t g = s->ngdb; g-- > 0 && err == HS_SUCCESS;) {
        if (!((reach >> g) & 1u) || !s->gdb[v][g])
            continue;
        /* Its matches hold gate[g] bytes of its range within gmaxw[g]
         * bytes: on a long reply they can only be in a few regions around
         * such bytes (digits.h; not tried below two widths, where regions
         * would cover most of the text). Its patterns are regexes that
         * only flag their detector (on_match bounds PCRE2 by the region),
         * so a region's offsets need no shifting. */
        rg__region *r = sc->regs[g];
        /* A cluster gate's database: over the clusters of digits and
         * separators that hold its digits, at any length (a phone number
         * is ~15 bytes of a 70-byte reply; none: no scan). */
        size_t nr = s->gclu[g] ? cnr[g]
                  : s->gmaxw[g] < n / 2 ? rg__range_regions(t, n, s->glo[g], s->ghi[g], s->gate[g],
                                                            s->gmaxw[g], r)
                                        : SIZE_MAX;
        /* The union of the database's expressions first (snapshot.h gudb):
         * where it does not match, none of them does. */
        const hs_database_t *pre = rg__prescan_off ? NULL : s->gudb[v][g];
        if (nr == SIZE_MAX) {
            int miss = 0;
            if (pre)
                err = prescan(sc, pre, t, n, &miss);
            if (err == HS_SUCCESS && !miss)
                err = hs_scan(s->gdb[v][g], t, (unsigned)n, 0, sc->hs, on_match, sc);
            continue;
        }
        sc->nregs[g] = (uint8_t)nr;
        sc->reg_g = (uint8_t)g;
        for (size_t k = 0; k < nr && err == HS_SUCCESS; k++) {
            int miss = 0;
            /* Not a digit cluster of a phone number's size (digits.h
             * RG__PRESCAN_DIGITS): the union would match it. */
            if (pre && (!s->gclu[g] || s->ghi[g] != '9' || !rg__digits_at_least(t + r[k].start,
                                                             r[k].end - r[k].start,
                                                             RG__PRESCAN_DIGITS))) {
                err = prescan(sc, pre, t + r[k].start, r[k].end - r[k].start, &miss);
                if (err != HS_SUCCESS)
                    break;
            }
            if (miss)
                continue;
            sc->reg_k = (uint8_t)k;
            sc->in_region = 1;
            err = hs_scan(s->gdb[v][g], t + r[k].start, (unsigned)(r[k].end - r[k].start), 0,
                          sc->hs, on_match, sc);
        }
        sc->in_region = 0;
    }
    return err;
}

/* The scan callback, also used by stream.c's streaming and region scans
 * (same edge, mark, cap and deadline rules). */
int rg__on_match(unsigned int id, unsigned long long from,
                 unsigned long long to, unsigned int flags, void *ctx)
{
    return on_match(id, from, to, flags, ctx);
}

int rg_check(rg_engine *engine, rg_scratch *scratch, const rg_request *req,
             rg_result *result)
{
    uint64_t t0 = now_ns();
    if (result)
        rg__result_reset(result);
    if (!engine || !scratch || !req || !result)
        return fail(result, on_error_unpinned(engine, req), RG_E_INVAL);
    if (scratch->engine != engine)
        return fail(result, on_error_unpinned(engine, req), RG_E_MISMATCH);

    const rg__snapshot *s = rg__engine_pin(engine, scratch);
    rg_scratch *sc = scratch;
    int status = RG_OK;
    const char *route_name = req->route ? req->route : "default";
    const rg__croute *route = rg__snapshot_route(s, route_name);
    memcpy(result->version, s->version, sizeof result->version);
    memcpy(result->hash, s->hash, sizeof result->hash);
    if (!route) {
        const rg__croute *def = rg__snapshot_route(s, "default");
        status = fail(result, def ? def->on_error : RG_HANDOFF, RG_E_NOROUTE);
        goto out;
    }
    if ((!req->reply && req->reply_len) ||
        (!req->user_message && req->user_message_len) ||
        (!req->history && req->history_count) || (!req->labels && req->label_count)) {
        status = fail(result, route->on_error, RG_E_INVAL);
        goto out;
    }
    if (rg__scratch_fit(sc, s)) {
        status = fail(result, route->on_error, RG_E_NOMEM);
        goto out;
    }

    const char *reply = req->reply ? req->reply : "";
    size_t n = req->reply_len;
    int oversize = 0;
    if (n > route->max_bytes) {
        oversize = 1;
        n = rg__utf8_floor(reply, n, route->max_bytes);
    }

    sc->snap = s;
    sc->nraw = 0;
    sc->ntouched = 0;
    sc->ncat_touched = 0;
    sc->ncallbacks = 0;
    sc->timed_out = 0;
    sc->truncated = 0;
    sc->deadline = t0 + route->budget_ns;
    if (sc->conv)
        sc->conv->nhits = 0;
    /* The user message, first (its views are then rebuilt for the reply),
     * only when it is given and some detector scans it: a check without
     * one pays one branch here (docs/CONVERSATION.md). */
    if (req->user_message_len && s->conv && s->conv->has_user) {
        int cs = rg__conv_scan_user(sc, s, route, req);
        if (cs != RG_OK) {
            status = fail(result, route->on_error, cs);
            goto out;
        }
    }

    /* Views. The normalized one is built first: its pass also tells
     * whether the raw bytes are valid UTF-8. */
    int invalid = 0;
    int need_compact = s->db[RG__VIEW_COMPACT] != NULL;
    int need_norm = s->db[RG__VIEW_NORM] != NULL || need_compact;
    int need_raw = s->db[RG__VIEW_RAW] != NULL;
    need_norm |= s->pdb[RG__VIEW_NORM] != NULL;
    need_raw |= s->pdb[RG__VIEW_RAW] != NULL;
    for (int g = 0; g < RG__NGATES; g++) {
        need_norm |= s->gdb[RG__VIEW_NORM][g] != NULL;
        need_raw |= s->gdb[RG__VIEW_RAW][g] != NULL;
    }
    for (size_t i = 0; i < s->nalways; i++) {
        if (s->dets[s->always[i]].view == RG__VIEW_NORM)
            need_norm = 1;
        else
            need_raw = 1;
    }
    const char *vtext[RG__VIEW_COUNT] = {0};
    size_t vlen[RG__VIEW_COUNT] = {0};
    int identity_raw = 1;
    if (need_norm) {
        if (rg__normalize(&sc->a, &sc->view[RG__VIEW_NORM], reply, n, &invalid)) {
            status = fail(result, route->on_error, RG_E_NOMEM);
            goto out;
        }
        vtext[RG__VIEW_NORM] = sc->view[RG__VIEW_NORM].text;
        vlen[RG__VIEW_NORM] = sc->view[RG__VIEW_NORM].len;
        if (need_compact) {
            if (rg__compact(&sc->a, &sc->view[RG__VIEW_COMPACT],
                            &sc->view[RG__VIEW_NORM], 0)) {
                status = fail(result, route->on_error, RG_E_NOMEM);
                goto out;
            }
            vtext[RG__VIEW_COMPACT] = sc->view[RG__VIEW_COMPACT].text;
            vlen[RG__VIEW_COMPACT] = sc->view[RG__VIEW_COMPACT].len;
        }
    } else {
        invalid = !rg__utf8_is_valid(reply, n);
    }
    if (invalid)
        result->flags |= RG_FLAG_INVALID_UTF8;
    if (need_raw) {
        if (invalid) {
            /* Hyperscan's UTF-8 mode is undefined on invalid input. */
            if (rg__repair_utf8(&sc->a, &sc->view[RG__VIEW_RAW], reply, n)) {
                status = fail(result, route->on_error, RG_E_NOMEM);
                goto out;
            }
            identity_raw = 0;
            vtext[RG__VIEW_RAW] = sc->view[RG__VIEW_RAW].text;
            vlen[RG__VIEW_RAW] = sc->view[RG__VIEW_RAW].len;
        } else {
            vtext[RG__VIEW_RAW] = reply;
            vlen[RG__VIEW_RAW] = n;
        }
    }

    /* Scan. The raw view's bytes decide which gated databases run. */
    unsigned reach = vtext[RG__VIEW_RAW] ? rg__gates_reached(s, vtext[RG__VIEW_RAW], vlen[RG__VIEW_RAW], 0)
                                         : rg__gates_reached(s, reply, n, 0);
    for (int v = 0; v < RG__VIEW_COUNT && !sc->timed_out; v++) {
        /* Gated databases (digits.h) the reply reaches: a pattern that
         * needs more digits, capitals or colons than the reply has cannot
         * match. Only the raw view is split; its gated databases are
         * scanned in addition to its ungated one (compile.c build_split
         * says why). */
        if (vlen[v] == 0)
            continue;
        /* A clock read costs ~17 ns (perf: vdso clock_gettime was 7% of
         * the bench thread), two per short check here. Below
         * RG__CLOCK_BYTES the stages before a view's scan take tens of
         * microseconds at most, and the scan callback, the PCRE2 loop and
         * the pairing still read the clock: only longer replies, or
         * budgets too small for that, check here. (Comparing the elapsed
         * time at the end instead was tried: it turned checks preempted
         * after finishing their work into fail-safe handoffs, in tests
         * and the examples under load.) */
        if ((n >= RG__CLOCK_BYTES || route->budget_ns < RG__CLOCK_BUDGET_NS) &&
            past_deadline(sc))
            break;
        sc->vtext = vtext[v];
        sc->vlen = vlen[v];
        sc->vmark = v == RG__VIEW_COMPACT ? sc->view[v].mark : NULL;
        sc->cur_view = (uint8_t)v;
        hs_error_t err = rg__scan_view(sc, s, v, reach);
        if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED) {
            status = fail(result, route->on_error, RG_E_ENGINE);
            goto out;
        }
    }
    /* Spans for regexes Hyperscan flagged, and PCRE2-only detectors. */
    size_t nflagged = sc->ntouched;
    for (size_t i = 0; i < nflagged + s->nalways && !sc->timed_out; i++) {
        uint32_t di = i < nflagged ? sc->touched[i] : s->always[i - nflagged];
        if (i < nflagged && !(sc->det_flag[di] & RG__DF_REGEX))
            continue;
        const rg__cdet *d = &s->dets[di];
        if (vlen[d->view] == 0 && d->view == RG__VIEW_NORM)
            continue;
        sc->vtext = vtext[d->view] ? vtext[d->view] : "";
        sc->vmark = NULL;
        sc->vlen = vlen[d->view];
        sc->cur_view = (uint8_t)d->view;
        if (extract_spans(sc, s, di)) {
            status = fail(result, route->on_error, RG_E_ENGINE);
            goto out;
        }
    }

    /* The allow and context words those hits pair with. */
    if (rg__pair_scan(sc, s, vtext, vlen, identity_raw)) {
        status = fail(result, route->on_error, RG_E_ENGINE);
        goto out;
    }
    /* Everything to original offsets first: hits, allow-list and context
     * occurrences may come from different views. */
    for (size_t i = 0; i < sc->nraw; i++) {
        rg__rawhit *h = &sc->raw[i];
        if (h->view != RG__VIEW_RAW || !identity_raw) {
            const rg__vbuf *vb = &sc->view[h->view];
            uint32_t os = vb->start[h->start];
            h->end = vb->end[h->end - 1];
            h->start = os;
        }
    }
    rg__resolve_hits(sc, s);
    if (s->conv) {
        int cs = rg__conv_eval(sc, s, route, req, reply, n,
                               vtext[RG__VIEW_NORM], vlen[RG__VIEW_NORM]);
        if (cs != RG_OK) {
            status = fail(result, route->on_error, cs);
            goto out;
        }
    }
    /* `overrides:` by channel and locale: the same route with other
     * thresholds (conv.h); the route itself when it has none. */
    rg__croute vroute;
    status = rg__decide(sc, s, rg__conv_route(s, route, req, &vroute), reply,
                        req->reply_len, oversize, 1, result);
    if (status != RG_OK)
        status = fail(result, route->on_error, status);
    else
        rg__conv_result(sc, req, reply, n, result);

out:
    /* Elapsed first, so that metrics and the audit callback (one inline
     * hook, metrics.h) see it and do not count in it. */
    result->elapsed_ns = now_ns() - t0;
    rg__observe(engine, sc, s, route, req, result, status);
    if (sc->det_max)
        for (size_t i = 0; i < sc->ntouched; i++) {
            sc->det_max[sc->touched[i]] = 0;
            sc->det_flag[sc->touched[i]] = 0;
        }
    if (sc->cat_n)
        for (size_t i = 0; i < sc->ncat_touched; i++)
            sc->cat_n[sc->cat_touched[i]] = 0;
    sc->ntouched = 0;
    sc->ncat_touched = 0;
    sc->scan_user = 0;
    if (sc->conv)
        sc->conv->nhits = 0;
    sc->snap = NULL;
    rg__engine_unpin(sc);
    return status;
}
