/* conv_compile.c — conversation rules from the model into the snapshot
 * (conv.h), and their bundle encoding.
 *
 * Per compiled route, the `loop:` and `require:` settings are resolved
 * through the extends chain here, once, so that a check only reads flat
 * arrays: each loop field from the nearest route that sets it; `asks`
 * from the nearest route that lists them; requirements accumulated over
 * the chain (the nearest route wins for one id). Phrases are normalized
 * with the function that builds the reply's normalized view, so they
 * match case, accents and spacing the way lexicon terms do. */
#include "conv.h"
#include "snapshot.h"
#include "cache.h"
#include "alloc.h"
#include "normalize.h"
#include <stdio.h>
#include <string.h>

/* Defaults of an enabled `loop:` (docs/CONVERSATION.md). */
#define LOOP_HISTORY 5
#define LOOP_SIMILARITY 0.8
#define LOOP_REPEATS 2
#define LOOP_REPEAT_ASK 3
#define RG__MAX_EXTENDS 32

static long det_index(const rg__snapshot *s, const char *id)
{
    for (size_t i = 0; i < s->ndets; i++)
        if (!strcmp(s->dets[i].id, id))
            return (long)i;
    return -1;
}

static int compile_phrases(const rg_allocator *a, rg__vbuf *tmp,
                           const rg__mphrases *in, rg__cphr **out, uint32_t *nout)
{
    *out = rg__calloc(a, in->n ? in->n : 1, sizeof **out);
    if (!*out)
        return -1;
    *nout = 0;
    for (size_t i = 0; i < in->n; i++) {
        int invalid = 0;
        if (rg__normalize(a, tmp, in->v[i], strlen(in->v[i]), &invalid))
            return -1;
        size_t b = 0, e = tmp->len;
        while (b < e && tmp->text[b] == ' ')
            b++;
        while (e > b && tmp->text[e - 1] == ' ')
            e--;
        if (e == b)
            continue;
        char *t = rg__malloc(a, e - b + 1);
        if (!t)
            return -1;
        memcpy(t, tmp->text + b, e - b);
        t[e - b] = '\0';
        (*out)[*nout].t = t;
        (*out)[(*nout)++].n = (uint32_t)(e - b);
    }
    return 0;
}

static int compile_route(rg__snapshot *s, const rg__policy *p, long ri,
                         rg__rconv *rc, rg__vbuf *tmp)
{
    const rg_allocator *a = &s->a;
    const rg__route *chain[RG__MAX_EXTENDS];
    size_t nchain = 0;
    for (long r = ri; r >= 0 && nchain < RG__MAX_EXTENDS;) {
        chain[nchain++] = &p->routes[r];
        r = p->routes[r].extends ? rg__policy_route_index(p, p->routes[r].extends) : -1;
    }
    /* loop: the nearest route that mentions it decides on/off; each field
     * from the nearest route that sets it. */
    int got_on = 0, got_h = 0, got_s = 0, got_r = 0, got_ra = 0;
    const rg__mconv *asks_from = NULL;
    rc->history = LOOP_HISTORY;
    rc->similarity = LOOP_SIMILARITY;
    rc->repeats = LOOP_REPEATS;
    rc->repeat_ask = LOOP_REPEAT_ASK;
    for (size_t c = 0; c < nchain; c++) {
        const rg__mconv *m = chain[c]->conv;
        if (!m || !m->has_loop)
            continue;
        if (!got_on) {
            rc->loop_on = !m->loop_off;
            got_on = 1;
        }
        if (!got_h && m->has_history) { rc->history = m->history; got_h = 1; }
        if (!got_s && m->has_similarity) { rc->similarity = m->similarity; got_s = 1; }
        if (!got_r && m->has_repeats) { rc->repeats = m->repeats; got_r = 1; }
        if (!got_ra && m->has_repeat_ask) { rc->repeat_ask = m->repeat_ask; got_ra = 1; }
        if (!asks_from && m->has_asks)
            asks_from = m;
    }
    if (rc->loop_on && asks_from && asks_from->nasks) {
        rc->asks = rg__calloc(a, asks_from->nasks, sizeof *rc->asks);
        if (!rc->asks)
            return -1;
        for (size_t i = 0; i < asks_from->nasks; i++) {
            const rg__mask *m = &asks_from->asks[i];
            char id[96];
            if (!m->id)
                continue;
            snprintf(id, sizeof id, "loop.ask.%s", m->id);
            long di = det_index(s, id);
            if (di < 0)
                continue;
            rg__cask *ca = &rc->asks[rc->nasks++];
            ca->det = (uint32_t)di;
            if (compile_phrases(a, tmp, &m->any, &ca->any, &ca->nany))
                return -1;
        }
    }
    /* require: accumulated, nearest first; an id once. */
    size_t nreq = 0;
    for (size_t c = 0; c < nchain; c++)
        if (chain[c]->conv)
            nreq += chain[c]->conv->nreq;
    if (nreq) {
        rc->req = rg__calloc(a, nreq, sizeof *rc->req);
        if (!rc->req)
            return -1;
    }
    for (size_t c = 0; c < nchain; c++) {
        const rg__mconv *m = chain[c]->conv;
        for (size_t i = 0; m && i < m->nreq; i++) {
            const rg__mrequire *q = &m->req[i];
            char id[96];
            if (!q->id)
                continue;
            snprintf(id, sizeof id, "require.%s", q->id);
            long di = det_index(s, id);
            int dup = di < 0;
            for (uint32_t k = 0; k < rc->nreq && !dup; k++)
                dup = rc->req[k].det == (uint32_t)di;
            if (dup)
                continue;
            rg__creq *cq = &rc->req[rc->nreq++];
            cq->det = (uint32_t)di;
            cq->first_turn = (uint8_t)(q->first_turn != 0);
            cq->channel = (uint8_t)q->channel;
            if (q->lang)
                snprintf(cq->lang, sizeof cq->lang, "%s", q->lang);
            if (compile_phrases(a, tmp, &q->any, &cq->any, &cq->nany))
                return -1;
        }
    }
    return 0;
}

int rg__conv_compile(rg__snapshot *s, const rg__policy *p)
{
    int any = 0;
    for (size_t i = 0; i < p->nroutes; i++)
        any |= p->routes[i].conv != NULL;
    int has_user = 0;
    for (size_t i = 0; i < s->ndets; i++)
        has_user |= (s->dets[i].scope & RG__SCOPE_USER) != 0;
    if (!any && !has_user)
        return RG_OK;
    const rg_allocator *a = &s->a;
    rg__sconv *c = rg__calloc(a, 1, sizeof *c);
    if (!c)
        return RG_E_NOMEM;
    s->conv = c;
    c->has_user = has_user;
    long ld = det_index(s, "loop.repeat");
    c->loop_det = ld < 0 ? UINT32_MAX : (uint32_t)ld;
    c->routes = rg__calloc(a, s->nroutes ? s->nroutes : 1, sizeof *c->routes);
    if (!c->routes)
        return RG_E_NOMEM;
    c->nroutes = s->nroutes;
    rg__vbuf tmp;
    memset(&tmp, 0, sizeof tmp);
    int rc = RG_OK;
    for (size_t r = 0; r < s->nroutes && rc == RG_OK; r++) {
        long ri = rg__policy_route_index(p, s->routes[r].name);
        if (ri >= 0 && compile_route(s, p, ri, &c->routes[r], &tmp))
            rc = RG_E_NOMEM;
    }
    rg__vbuf_free(a, &tmp);
    return rc;
}

static void free_phr(const rg_allocator *a, rg__cphr *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        rg__free(a, v[i].t);
    rg__free(a, v);
}

void rg__conv_free(const rg_allocator *a, rg__sconv *c)
{
    if (!c)
        return;
    for (size_t r = 0; r < c->nroutes; r++) {
        rg__rconv *rc = &c->routes[r];
        for (uint32_t i = 0; i < rc->nasks; i++)
            free_phr(a, rc->asks[i].any, rc->asks[i].nany);
        rg__free(a, rc->asks);
        for (uint32_t i = 0; i < rc->nreq; i++)
            free_phr(a, rc->req[i].any, rc->req[i].nany);
        rg__free(a, rc->req);
        for (uint32_t i = 0; i < rc->ntables; i++)
            rg__free(a, rc->tables[i]);
        rg__free(a, rc->tables);
    }
    rg__free(a, c->routes);
    rg__free(a, c);
}

/* ---- bundles ------------------------------------------------------ */

static void put_phr(rg__wbuf *w, const rg__cphr *v, uint32_t n)
{
    rg__w_u32(w, n);
    for (uint32_t i = 0; i < n; i++)
        rg__w_str(w, v[i].t);
}

void rg__conv_encode(rg__wbuf *w, const rg__snapshot *s)
{
    const rg__sconv *c = s->conv;
    rg__w_u8(w, c != NULL);
    if (!c)
        return;
    rg__w_u32(w, c->loop_det);
    rg__w_u8(w, (uint8_t)c->has_user);
    rg__w_u32(w, (uint32_t)c->nroutes);
    for (size_t r = 0; r < c->nroutes; r++) {
        const rg__rconv *rc = &c->routes[r];
        rg__w_u8(w, rc->loop_on);
        rg__w_u32(w, rc->history);
        rg__w_u32(w, rc->repeats);
        rg__w_u32(w, rc->repeat_ask);
        rg__w_f64(w, rc->similarity);
        rg__w_u32(w, rc->nasks);
        for (uint32_t i = 0; i < rc->nasks; i++) {
            rg__w_u32(w, rc->asks[i].det);
            put_phr(w, rc->asks[i].any, rc->asks[i].nany);
        }
        rg__w_u32(w, rc->nreq);
        for (uint32_t i = 0; i < rc->nreq; i++) {
            const rg__creq *q = &rc->req[i];
            rg__w_u32(w, q->det);
            rg__w_u8(w, q->first_turn);
            rg__w_u8(w, q->channel);
            rg__w_str(w, q->lang);
            put_phr(w, q->any, q->nany);
        }
        rg__w_u8(w, rc->nlang);
        for (unsigned l = 0; l < rc->nlang; l++)
            rg__w_str(w, rc->lang[l]);
        rg__w_bytes(w, rc->vidx, sizeof rc->vidx);
        rg__w_u32(w, rc->ntables);
        for (uint32_t t = 0; t < rc->ntables; t++)
            for (size_t ci = 0; ci < s->ncats; ci++) {
                const rg__cthr *th = &rc->tables[t][ci];
                for (int f = 0; f < RG__F_COUNT; f++) {
                    rg__w_f64(w, th->v[f]);
                    rg__w_str(w, th->key[f]);
                    rg__w_str(w, th->from[f]);
                }
                rg__w_str(w, th->mask);
            }
    }
}

/* A string owned by the snapshot (its `owned` list), or NULL. */
static const char *own(rg__rbuf *r, rg__snapshot *s, int nullable, int *oom)
{
    size_t n;
    const char *p = rg__r_str(r, &n);
    if (!p) {
        if (!nullable)
            r->bad = 1;
        return NULL;
    }
    if (memchr(p, '\0', n)) {
        r->bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < s->nowned; i++)
        if (strlen(s->owned[i]) == n && memcmp(s->owned[i], p, n) == 0)
            return s->owned[i];
    char *c = rg__strndup(&s->a, p, n);
    if (!c || rg__grow(&s->a, (void **)&s->owned, &s->capowned, s->nowned + 1,
                       sizeof *s->owned)) {
        rg__free(&s->a, c);
        *oom = 1;
        return NULL;
    }
    s->owned[s->nowned++] = c;
    return c;
}

/* A count that the rest of the buffer could hold (min_bytes per item). */
static uint32_t count(rg__rbuf *r, size_t min_bytes)
{
    uint32_t n = rg__r_u32(r);
    if (r->bad || (uint64_t)n * min_bytes > r->len - r->pos) {
        r->bad = 1;
        return 0;
    }
    return n;
}

static int get_phr(rg__rbuf *r, const rg_allocator *a, rg__cphr **out, uint32_t *nout)
{
    uint32_t n = count(r, 4);
    *out = rg__calloc(a, n ? n : 1, sizeof **out);
    if (!*out)
        return RG_E_NOMEM;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        size_t len;
        const char *t = rg__r_str(r, &len);
        if (!t || memchr(t, '\0', len) || len == 0) {
            r->bad = 1;
            break;
        }
        if (!((*out)[i].t = rg__strndup(a, t, len)))
            return RG_E_NOMEM;
        (*out)[i].n = (uint32_t)len;
        *nout = i + 1;
    }
    return RG_OK;
}

int rg__conv_decode(rg__rbuf *r, rg__snapshot *s)
{
    const rg_allocator *a = &s->a;
    if (!rg__r_u8(r) || r->bad)
        return RG_OK;
    rg__sconv *c = rg__calloc(a, 1, sizeof *c);
    if (!c)
        return RG_E_NOMEM;
    s->conv = c;
    c->loop_det = rg__r_u32(r);
    c->has_user = rg__r_u8(r);
    uint32_t nr = count(r, 1);
    if (nr != s->nroutes || (c->loop_det != UINT32_MAX && c->loop_det >= s->ndets)) {
        r->bad = 1;
        return RG_OK;
    }
    c->routes = rg__calloc(a, nr ? nr : 1, sizeof *c->routes);
    if (!c->routes)
        return RG_E_NOMEM;
    c->nroutes = nr;
    for (uint32_t ri = 0; ri < nr && !r->bad; ri++) {
        rg__rconv *rc = &c->routes[ri];
        rc->loop_on = rg__r_u8(r);
        rc->history = rg__r_u32(r);
        rc->repeats = rg__r_u32(r);
        rc->repeat_ask = rg__r_u32(r);
        rc->similarity = rg__r_f64(r);
        if (rc->history > RG__HISTORY_MAX)
            r->bad = 1;
        uint32_t na = count(r, 8);
        rc->asks = rg__calloc(a, na ? na : 1, sizeof *rc->asks);
        if (!rc->asks)
            return RG_E_NOMEM;
        for (uint32_t i = 0; i < na && !r->bad; i++) {
            rg__cask *ca = &rc->asks[i];
            rc->nasks = i + 1;
            ca->det = rg__r_u32(r);
            if (ca->det >= s->ndets)
                r->bad = 1;
            if (get_phr(r, a, &ca->any, &ca->nany))
                return RG_E_NOMEM;
        }
        uint32_t nq = count(r, 10);
        rc->req = rg__calloc(a, nq ? nq : 1, sizeof *rc->req);
        if (!rc->req)
            return RG_E_NOMEM;
        for (uint32_t i = 0; i < nq && !r->bad; i++) {
            rg__creq *q = &rc->req[i];
            rc->nreq = i + 1;
            q->det = rg__r_u32(r);
            q->first_turn = rg__r_u8(r);
            q->channel = rg__r_u8(r);
            size_t ln;
            const char *lang = rg__r_str(r, &ln);
            if (q->det >= s->ndets || q->channel > RG__WCH_EMAIL ||
                ln >= sizeof q->lang || (lang && memchr(lang, '\0', ln)))
                r->bad = 1;
            else if (lang) {
                memcpy(q->lang, lang, ln);
                q->lang[ln] = '\0';
            }
            if (get_phr(r, a, &q->any, &q->nany))
                return RG_E_NOMEM;
        }
        rc->nlang = rg__r_u8(r);
        if (rc->nlang > RG__MAX_OVR_LANGS) {
            r->bad = 1;
            break;
        }
        for (unsigned l = 0; l < rc->nlang && !r->bad; l++) {
            size_t ln;
            const char *lang = rg__r_str(r, &ln);
            if (!lang || ln == 0 || ln >= sizeof rc->lang[l] || memchr(lang, '\0', ln))
                r->bad = 1;
            else
                memcpy(rc->lang[l], lang, ln);
        }
        const uint8_t *vi = rg__r_bytes(r, sizeof rc->vidx);
        if (vi)
            memcpy(rc->vidx, vi, sizeof rc->vidx);
        uint32_t nt = count(r, s->ncats * 8);
        if (nt > 5 * (RG__MAX_OVR_LANGS + 1))
            r->bad = 1;
        for (size_t k = 0; k < sizeof rc->vidx && !r->bad; k++)
            if (rc->vidx[k] != 0xFF && rc->vidx[k] >= nt)
                r->bad = 1;
        if (r->bad)
            break;
        rc->tables = rg__calloc(a, nt ? nt : 1, sizeof *rc->tables);
        if (!rc->tables)
            return RG_E_NOMEM;
        int oom = 0;
        for (uint32_t t = 0; t < nt && !r->bad; t++) {
            rc->tables[t] = rg__calloc(a, s->ncats ? s->ncats : 1, sizeof **rc->tables);
            if (!rc->tables[t])
                return RG_E_NOMEM;
            rc->ntables = t + 1;
            for (size_t ci = 0; ci < s->ncats && !r->bad && !oom; ci++) {
                rg__cthr *th = &rc->tables[t][ci];
                for (int f = 0; f < RG__F_COUNT; f++) {
                    th->v[f] = rg__r_f64(r);
                    th->key[f] = own(r, s, 1, &oom);
                    th->from[f] = own(r, s, 1, &oom);
                    if (!(th->v[f] >= 0 && th->v[f] <= RG__OFF))
                        r->bad = 1;
                }
                th->mask = own(r, s, 0, &oom);
            }
        }
        if (oom)
            return RG_E_NOMEM;
    }
    return RG_OK;
}

/* ---- overrides at check time --------------------------------------- */

static unsigned channel_ix(const char *ch)
{
    static const char *const names[] = {"chat", "voice", "sms", "email"};
    if (ch)
        for (unsigned i = 0; i < 4; i++)
            if (!strcmp(ch, names[i]))
                return i + 1;
    return 0;
}

/* "es" matches es, es-MX, es_ES (case-insensitively). */
static int lang_matches(const char *loc, const char *lang)
{
    size_t i = 0;
    for (; lang[i]; i++) {
        char c = loc[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lang[i])
            return 0;
    }
    return loc[i] == '\0' || loc[i] == '-' || loc[i] == '_';
}

const rg__croute *rg__conv_route(const rg__snapshot *s, const rg__croute *route,
                                 const rg_request *req, rg__croute *tmp)
{
    const rg__sconv *c = s->conv;
    size_t ri = (size_t)(route - s->routes);
    if (!c || ri >= c->nroutes || !c->routes[ri].ntables)
        return route;
    const rg__rconv *rc = &c->routes[ri];
    unsigned l = rc->nlang;
    for (unsigned i = 0; req->locale && i < rc->nlang; i++)
        if (lang_matches(req->locale, rc->lang[i])) {
            l = i;
            break;
        }
    uint8_t t = rc->vidx[channel_ix(req->channel) * (rc->nlang + 1u) + l];
    if (t == 0xFF)
        return route;
    *tmp = *route;
    tmp->thr = rc->tables[t];
    return tmp;
}
