/* conv.c — conversation-level rules at check time (conv.h,
 * docs/CONVERSATION.md):
 *
 *   - the user message, scanned by the detectors whose `scan:` includes
 *     it, with the same databases (the scan callback drops patterns of
 *     the other scope); its hits are kept apart from the reply's;
 *   - loops: the draft is a near-duplicate (word-bigram shingle Jaccard)
 *     of at least `repeats` of the last `history` assistant replies;
 *   - repeated asks: the draft asks for an item (date of birth, order
 *     number, ...) that `repeat_ask - 1` earlier replies asked for;
 *   - required disclosures: a `require:` whose `when:` holds and none of
 *     whose phrases the draft contains.
 *
 * Allocation: shingle arrays live in the scratch's conv block (allocated
 * when the scratch is fitted to a snapshot with conversation rules); a
 * history reply is normalized into the scratch's hview buffer, which grows
 * to the largest history reply seen (at most RG__HISTORY_BYTES): after
 * warm-up nothing is allocated. Work is bounded by RG__HISTORY_MAX replies
 * of RG__HISTORY_BYTES each and RG__MAX_SHINGLES shingles per text. */
#include "conv.h"
#include "clock.h"
#include "engine.h"
#include "digits.h"
#include "alloc.h"
#include <string.h>

/* The route's deadline, checked every few history replies. */
static int past_deadline(rg_scratch *sc)
{
    if (rg__now_ns() > sc->deadline) /* check.c's clock (clock.h) */
        sc->timed_out = 1;
    return sc->timed_out;
}

static void add_hit(rg_scratch *sc, uint32_t det, uint32_t start, uint32_t end,
                    double score, int source)
{
    rg__convscratch *cv = sc->conv;
    if (cv->nhits == RG__MAX_CONVHITS) {
        sc->truncated = 1;
        return;
    }
    rg__convhit *h = &cv->hits[cv->nhits++];
    h->det = det;
    h->start = start;
    h->end = end;
    h->score = score;
    h->source = source;
}

/* ------------------------------------------------------------------ */
/* The user message                                                    */
/* ------------------------------------------------------------------ */

int rg__conv_scan_user(rg_scratch *sc, const rg__snapshot *s,
                       const rg__croute *route, const rg_request *req)
{
    const char *t = req->user_message;
    size_t n = req->user_message_len;
    if (n > route->max_bytes)
        n = rg__utf8_floor(t, n, route->max_bytes);
    int invalid = 0, identity_raw = 1;
    const char *vtext[RG__VIEW_COUNT] = {0};
    size_t vlen[RG__VIEW_COUNT] = {0};
    if (rg__normalize(&sc->a, &sc->view[RG__VIEW_NORM], t, n, &invalid))
        return RG_E_NOMEM;
    vtext[RG__VIEW_NORM] = sc->view[RG__VIEW_NORM].text;
    vlen[RG__VIEW_NORM] = sc->view[RG__VIEW_NORM].len;
    if (s->db[RG__VIEW_COMPACT]) {
        if (rg__compact(&sc->a, &sc->view[RG__VIEW_COMPACT], &sc->view[RG__VIEW_NORM], 0))
            return RG_E_NOMEM;
        vtext[RG__VIEW_COMPACT] = sc->view[RG__VIEW_COMPACT].text;
        vlen[RG__VIEW_COMPACT] = sc->view[RG__VIEW_COMPACT].len;
    }
    if (invalid) {
        if (rg__repair_utf8(&sc->a, &sc->view[RG__VIEW_RAW], t, n))
            return RG_E_NOMEM;
        identity_raw = 0;
        vtext[RG__VIEW_RAW] = sc->view[RG__VIEW_RAW].text;
        vlen[RG__VIEW_RAW] = sc->view[RG__VIEW_RAW].len;
    } else {
        vtext[RG__VIEW_RAW] = t;
        vlen[RG__VIEW_RAW] = n;
    }
    sc->scan_user = 1;
    int rc = RG_OK;
    /* The user message's own bytes open the gated databases, as the
     * reply's do in rg_check (a card number the customer typed), and so
     * does being the user message (RG__GATE_USER: its own regexes). */
    unsigned reach = rg__gates_reached(s, vtext[RG__VIEW_RAW], vlen[RG__VIEW_RAW], 1);
    for (int v = 0; v < RG__VIEW_COUNT && !sc->timed_out; v++) {
        if (vlen[v] == 0)
            continue;
        sc->vtext = vtext[v];
        sc->vlen = vlen[v];
        sc->vmark = v == RG__VIEW_COMPACT ? sc->view[v].mark : NULL;
        sc->cur_view = (uint8_t)v;
        hs_error_t err = rg__scan_view(sc, s, v, reach);
        if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED) {
            rc = RG_E_ENGINE;
            goto done;
        }
    }
    size_t nflagged = sc->ntouched;
    for (size_t i = 0; i < nflagged + s->nalways && !sc->timed_out; i++) {
        uint32_t di = i < nflagged ? sc->touched[i] : s->always[i - nflagged];
        if (i < nflagged && !(sc->det_flag[di] & RG__DF_REGEX))
            continue;
        const rg__cdet *d = &s->dets[di];
        if (!(d->scope & RG__SCOPE_USER) || vlen[d->view] == 0)
            continue;
        sc->vtext = vtext[d->view];
        sc->vmark = NULL;
        sc->vlen = vlen[d->view];
        sc->cur_view = (uint8_t)d->view;
        if (rg__extract_spans(sc, s, di)) {
            rc = RG_E_ENGINE;
            goto done;
        }
    }
    if (!sc->timed_out && rg__pair_scan(sc, s, vtext, vlen, identity_raw)) {
        rc = RG_E_ENGINE;
        goto done;
    }
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
    for (size_t i = 0; i < sc->nraw; i++)
        add_hit(sc, sc->raw[i].det, sc->raw[i].start, sc->raw[i].end,
                sc->raw[i].score, RG_SOURCE_USER);
    /* A word hit past the raw-hit cap only raised det_max: keep it. */
    for (size_t i = 0; sc->truncated && i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i];
        if (sc->det_max[di] > 0)
            add_hit(sc, di, 0, 0, sc->det_max[di], RG_SOURCE_USER);
    }
done:
    /* Back to the state the reply's scan expects. */
    for (size_t i = 0; i < sc->ntouched; i++) {
        sc->det_max[sc->touched[i]] = 0;
        sc->det_flag[sc->touched[i]] = 0;
    }
    sc->ntouched = 0;
    sc->nraw = 0;
    sc->scan_user = 0;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Phrases                                                             */
/* ------------------------------------------------------------------ */

static int is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
           (c >= 'A' && c <= 'Z') || c == '_';
}

/* First whole-word occurrence of p in t (normalized texts), or -1. */
static long find_phrase(const char *t, size_t n, const rg__cphr *p)
{
    if (p->n == 0 || p->n > n)
        return -1;
    const char *at = t, *end = t + n;
    while ((at = memmem(at, (size_t)(end - at), p->t, p->n)) != NULL) {
        size_t o = (size_t)(at - t);
        int left_ok = o == 0 || !is_word((unsigned char)t[o - 1]) ||
                      !is_word((unsigned char)p->t[0]);
        int right_ok = o + p->n == n || !is_word((unsigned char)t[o + p->n]) ||
                       !is_word((unsigned char)p->t[p->n - 1]);
        if (left_ok && right_ok)
            return (long)o;
        at++;
    }
    return -1;
}

static long find_any(const char *t, size_t n, const rg__cphr *v, uint32_t nv,
                     uint32_t *len)
{
    for (uint32_t i = 0; i < nv; i++) {
        long o = find_phrase(t, n, &v[i]);
        if (o >= 0) {
            *len = v[i].n;
            return o;
        }
    }
    return -1;
}

/* Does a (normalized) reply ask the customer for something? A question
 * mark, or a request word. An item named without one ("your order number
 * is 1234") is not an ask. */
static int is_ask(const char *t, size_t n)
{
    static const rg__cphr cues[] = {
        {(char *)"please", 6}, {(char *)"provide", 7}, {(char *)"confirm", 7},
        {(char *)"enter your", 10}, {(char *)"share your", 10},
        {(char *)"send me your", 12}, {(char *)"need your", 9},
        {(char *)"por favor", 9}, {(char *)"proporcione", 11},
        {(char *)"proporciona", 11}, {(char *)"indique", 7},
        {(char *)"indica", 6}, {(char *)"confirme", 8}, {(char *)"confirma", 8},
        {(char *)"necesito", 8}, {(char *)"facilite", 8}, {(char *)"digame", 6},
    };
    if (memchr(t, '?', n))
        return 1;
    for (size_t i = 0; i < sizeof cues / sizeof cues[0]; i++)
        if (find_phrase(t, n, &cues[i]) >= 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Shingles                                                            */
/* ------------------------------------------------------------------ */

static void sift(uint64_t *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && v[c] < v[c + 1])
            c++;
        if (v[i] >= v[c])
            return;
        uint64_t t = v[i];
        v[i] = v[c];
        v[c] = t;
        i = c;
    }
}

/* In-place heapsort then unique (qsort may malloc: ARCHITECTURE.md). */
static size_t sort_unique(uint64_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n);
    for (size_t e = n; e-- > 1;) {
        uint64_t t = v[0];
        v[0] = v[e];
        v[e] = t;
        sift(v, 0, e);
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (o == 0 || v[o - 1] != v[i])
            v[o++] = v[i];
    return o;
}

/* Word-bigram shingles of a normalized text (hashed, sorted, unique).
 * *ntok receives the number of words. */
static size_t shingles(const char *t, size_t n, uint64_t *out, size_t *ntok)
{
    size_t k = 0, words = 0;
    uint64_t prev = 0;
    size_t i = 0;
    while (i < n && k < RG__MAX_SHINGLES) {
        while (i < n && !is_word((unsigned char)t[i]))
            i++;
        if (i == n)
            break;
        uint64_t h = 1469598103934665603ull; /* FNV-1a */
        while (i < n && is_word((unsigned char)t[i])) {
            h ^= (unsigned char)t[i++];
            h *= 1099511628211ull;
        }
        if (words > 0)
            out[k++] = (prev * 0x9E3779B97F4A7C15ull) ^ (h + 0x632BE59BD9B4E019ull);
        prev = h;
        words++;
    }
    *ntok = words;
    return sort_unique(out, k);
}

static double jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return 0;
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            inter++;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (double)inter / (double)(na + nb - inter);
}

/* ------------------------------------------------------------------ */
/* Conditions                                                          */
/* ------------------------------------------------------------------ */

static int channel_is(const char *ch, int want)
{
    static const char *const names[] = {"", "chat", "voice", "sms", "email"};
    return ch && strcmp(ch, names[want]) == 0;
}

/* "es" matches es, es-MX, es_ES (case-insensitively). */
static int lang_is(const char *loc, const char *lang)
{
    if (!loc)
        return 0;
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

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */
/* ------------------------------------------------------------------ */

int rg__conv_eval(rg_scratch *sc, const rg__snapshot *s, const rg__croute *route,
                  const rg_request *req, const char *reply, size_t n,
                  const char *norm, size_t normlen)
{
    const rg__sconv *c = s->conv;
    if (!c || !sc->conv || (size_t)(route - s->routes) >= c->nroutes)
        return RG_OK;
    const rg__rconv *rc = &c->routes[route - s->routes];
    int loop = rc->loop_on && req->history_count > 0 && req->history;
    if (!rc->nreq && !loop)
        return RG_OK;
    if (!norm) {
        int invalid = 0;
        if (rg__normalize(&sc->a, &sc->view[RG__VIEW_NORM], reply, n, &invalid))
            return RG_E_NOMEM;
        norm = sc->view[RG__VIEW_NORM].text;
        normlen = sc->view[RG__VIEW_NORM].len;
    }
    const rg__vbuf *nv = &sc->view[RG__VIEW_NORM];

    /* Required disclosures. */
    for (uint32_t i = 0; i < rc->nreq; i++) {
        const rg__creq *q = &rc->req[i];
        if ((q->first_turn && req->history_count != 0) ||
            (q->channel && !channel_is(req->channel, q->channel)) ||
            (q->lang[0] && !lang_is(req->locale, q->lang)))
            continue;
        uint32_t len;
        if (find_any(norm, normlen, q->any, q->nany, &len) < 0)
            add_hit(sc, q->det, 0, 0, s->dets[q->det].score, RG_SOURCE_CONVERSATION);
    }
    if (!loop)
        return RG_OK;

    /* Loops and repeated asks over the last `history` replies. */
    rg__convscratch *cv = sc->conv;
    size_t ntok = 0;
    int want_loop = c->loop_det != UINT32_MAX;
    size_t nd = want_loop ? shingles(norm, normlen, cv->sh_draft, &ntok) : 0;
    if (ntok < 4)
        want_loop = 0; /* "Sure." said three times is not a loop */
    /* Which items the draft asks for (bit i: ask i), and where. */
    uint32_t asked = 0, ask_count[32] = {0};
    long ask_at[32] = {0};
    uint32_t ask_len[32] = {0};
    int draft_asks = rc->nasks && is_ask(norm, normlen);
    for (uint32_t i = 0; draft_asks && i < rc->nasks && i < 32; i++) {
        ask_at[i] = find_any(norm, normlen, rc->asks[i].any, rc->asks[i].nany,
                             &ask_len[i]);
        if (ask_at[i] >= 0)
            asked |= 1u << i;
    }
    if (!want_loop && !asked)
        return RG_OK;
    size_t first = req->history_count > rc->history ? req->history_count - rc->history : 0;
    uint32_t dups = 0;
    for (size_t h = first; h < req->history_count; h++) {
        if ((h & 3) == 3 && past_deadline(sc))
            break;
        const rg_text *ht = &req->history[h];
        if (!ht->ptr || ht->len == 0)
            continue;
        size_t hn = ht->len > RG__HISTORY_BYTES
                        ? rg__utf8_floor(ht->ptr, ht->len, RG__HISTORY_BYTES) : ht->len;
        int invalid = 0;
        if (rg__normalize(&sc->a, &sc->hview, ht->ptr, hn, &invalid))
            return RG_E_NOMEM;
        const char *t = sc->hview.text;
        size_t tn = sc->hview.len;
        if (want_loop) {
            size_t htok;
            size_t nh = shingles(t, tn, cv->sh_hist, &htok);
            if (jaccard(cv->sh_draft, nd, cv->sh_hist, nh) + 1e-9 >= rc->similarity)
                dups++;
        }
        if (asked && is_ask(t, tn)) {
            for (uint32_t i = 0; i < rc->nasks && i < 32; i++) {
                uint32_t len;
                if ((asked >> i & 1) &&
                    find_any(t, tn, rc->asks[i].any, rc->asks[i].nany, &len) >= 0)
                    ask_count[i]++;
            }
        }
    }
    if (want_loop && dups >= rc->repeats)
        /* A finding about the conversation, not a span: masking the whole
         * draft in audit copies would say nothing. */
        add_hit(sc, c->loop_det, 0, 0, s->dets[c->loop_det].score,
                RG_SOURCE_CONVERSATION);
    for (uint32_t i = 0; asked && i < rc->nasks && i < 32; i++) {
        if (!(asked >> i & 1) || ask_count[i] + 1 < rc->repeat_ask)
            continue;
        size_t o = (size_t)ask_at[i], e = o + ask_len[i];
        add_hit(sc, rc->asks[i].det, nv->start[o], nv->end[e - 1],
                s->dets[rc->asks[i].det].score, RG_SOURCE_REPLY);
    }
    return RG_OK;
}
