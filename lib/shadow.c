/* shadow.c — shadow mode: what the verdict would be if the detectors and
 * the route marked `mode: shadow` enforced.
 *
 * check.c decides as if shadow detectors did not exist (it skips them
 * when scoring categories and when redacting) and with a shadow route's
 * enforced thresholds (its parent's, resolved by compile.c). Once that
 * verdict is final, this file scores every touched category again with
 * every detector counted, against the thresholds the route evaluates
 * (its own for a shadow route), and adds to the result:
 *   - shadow_score on each category (a new entry, score 0, for a
 *     category only shadow detectors hit);
 *   - a reason with shadow = 1 for every crossing the enforced decision
 *     did not already list;
 *   - the shadow verdict (with the same fail-safes applied), and
 *     RG_FLAG_SHADOW.
 * The scores are computed with the same arithmetic and in the same order
 * as check.c, so an unchanged category gets the identical score.
 *
 * Cost: nothing for a snapshot without shadow detectors on an enforcing
 * route (check.c does not call in); otherwise O(touched detectors²),
 * and no allocation once the result's arrays have grown. */
#include "engine.h"
#include "alloc.h"
#include <string.h>

#define RG__EPS 1e-9 /* as check.c: 0.8 in YAML is crossed by 0.8 */

static const char *const action_name[RG__F_COUNT] = {"handoff", "block", "redact"};

static size_t slen(const char *s) { return s ? strlen(s) + 1 : 0; }

/* Score of category c over the touched detectors: check.c's formula
 * (one detector: its maximum; several: noisy-OR in touched order). */
static double cat_score(const rg_scratch *sc, const rg__snapshot *s, uint32_t c,
                        int with_shadow, uint32_t *first)
{
    double prod = 1.0, max = 0;
    unsigned n = 0;
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i];
        double m = sc->det_max[di];
        if (m <= 0 || s->dets[di].cat != c)
            continue;
        if (!with_shadow && s->dets[di].shadow)
            continue;
        n++;
        prod *= 1.0 - m;
        if (m > max)
            max = m;
    }
    if (first) {
        *first = UINT32_MAX;
        for (size_t i = 0; i < sc->ntouched && *first == UINT32_MAX; i++) {
            uint32_t di = sc->touched[i];
            if (sc->det_max[di] > 0 && s->dets[di].cat == c)
                *first = di;
        }
    }
    if (n == 0)
        return 0;
    return n == 1 ? max : 1.0 - prod;
}

/* 1 if the enforced decision already lists this crossing. */
static int enforced_same(const rg__croute *route, const rg__cthr *thr, uint32_t c,
                         int f, double en, double sh)
{
    const rg__cthr *e = &route->thr[c];
    return en == sh && e->v[f] == thr[c].v[f] && e->key[f] == thr[c].key[f] &&
           e->from[f] == thr[c].from[f];
}

static int first_touch_of(const rg_scratch *sc, const rg__snapshot *s, size_t upto,
                          uint32_t c)
{
    for (size_t j = 0; j < upto; j++) {
        uint32_t dj = sc->touched[j];
        if (sc->det_max[dj] > 0 && s->dets[dj].cat == c)
            return 1;
    }
    return 0;
}

void rg__shadow_eval(rg_scratch *sc, const rg__snapshot *s,
                     const rg__croute *route, rg_result *r)
{
    const rg__cthr *thr = route->sthr ? route->sthr : route->thr;
    int any = route->shadow;
    for (size_t i = 0; i < sc->ntouched && !any; i++) {
        uint32_t di = sc->touched[i];
        any = sc->det_max[di] > 0 && s->dets[di].shadow;
    }
    if (!any)
        return;

    /* Pass 1: room for the strings of every possible shadow reason, so
     * that the arena never moves once pointers into it are handed out. */
    size_t need = 0;
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i], c = s->dets[di].cat;
        if (sc->det_max[di] <= 0 || first_touch_of(sc, s, i, c))
            continue;
        for (int f = 0; f < RG__F_COUNT; f++)
            need += slen(thr[c].key[f]) + slen(thr[c].from[f]);
    }
    if (need > r->sarena_cap) {
        char *na = rg__realloc(&r->a, r->sarena, need);
        if (!na)
            return; /* shadow findings dropped; the enforced result stands */
        r->sarena = na;
        r->sarena_cap = need;
    }
    size_t used = 0;

    rg_verdict verdict = RG_ALLOW;
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i], c = s->dets[di].cat;
        if (sc->det_max[di] <= 0 || first_touch_of(sc, s, i, c))
            continue;
        uint32_t first;
        double sh = cat_score(sc, s, c, 1, &first);
        double en = cat_score(sc, s, c, 0, NULL);
        /* The category's name as the result already holds it (copied with
         * each touched detector by check.c). */
        const char *name = r->arena + sc->det_off[first] + strlen(s->dets[first].id) + 1;
        size_t k = 0;
        while (k < r->ncats && strcmp(r->cats[k].category, name) != 0)
            k++;
        if (k == r->ncats) {
            if (rg__grow(&r->a, (void **)&r->cats, &r->capcats, r->ncats + 1,
                         sizeof *r->cats))
                return;
            rg_category_score *cs = &r->cats[r->ncats++];
            memset(cs, 0, sizeof *cs);
            cs->category = name;
            cs->score = 0;
            cs->verdict = RG_ALLOW;
        }
        r->cats[k].shadow_score = sh;
        rg_verdict cv = RG_ALLOW;
        for (int f = 0; f < RG__F_COUNT; f++) {
            const rg__cthr *t = &thr[c];
            if (t->v[f] > 1.0 || sh + RG__EPS < t->v[f])
                continue;
            if (f == RG__F_BLOCK)
                cv = RG_BLOCK;
            else if (f == RG__F_HANDOFF && cv < RG_HANDOFF)
                cv = RG_HANDOFF;
            if (enforced_same(route, thr, c, f, en, sh))
                continue;
            if (rg__grow(&r->a, (void **)&r->reasons, &r->capreasons,
                         r->nreasons + 1, sizeof *r->reasons))
                return;
            rg_reason *rs = &r->reasons[r->nreasons++];
            memset(rs, 0, sizeof *rs);
            rs->category = name;
            rs->rule = r->sarena + used;
            memcpy(r->sarena + used, t->key[f], slen(t->key[f]));
            used += slen(t->key[f]);
            rs->route = r->sarena + used;
            memcpy(r->sarena + used, t->from[f], slen(t->from[f]));
            used += slen(t->from[f]);
            rs->action = action_name[f];
            rs->score = sh;
            rs->threshold = t->v[f];
            rs->shadow = 1;
        }
        if (cv > verdict)
            verdict = cv;
    }
    /* The fail-safes that fired apply to the shadow verdict too. */
    if ((r->flags & RG_FLAG_OVERSIZE) && route->on_oversize > verdict)
        verdict = route->on_oversize;
    if ((r->flags & RG_FLAG_BUDGET_EXCEEDED) && route->on_timeout > verdict)
        verdict = route->on_timeout;
    if ((r->flags & RG_FLAG_ENGINE_ERROR) && route->on_error > verdict)
        verdict = route->on_error;
    r->has_shadow = 1;
    r->shadow_verdict = verdict;
    r->flags |= RG_FLAG_SHADOW;
}

rg_verdict rg_result_shadow_verdict(const rg_result *r)
{
    if (!r)
        return RG_HANDOFF;
    return r->has_shadow ? r->shadow_verdict : r->verdict;
}
