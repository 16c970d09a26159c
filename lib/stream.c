/* stream.c — checking a reply while it is generated (docs/STREAMING.md).
 *
 * A stream keeps the original bytes it was fed (at most the route's
 * max_bytes) and, per snapshot, this state that grows with the text:
 *
 *   raw view    the bytes themselves (a repaired copy with offset maps once
 *               invalid UTF-8 shows up); scanned with a Hyperscan
 *               HS_MODE_STREAM database of the raw-view literals. A code
 *               point cut by a chunk boundary waits for its next bytes.
 *   normalized  built incrementally: the text up to the last separator is
 *               final ("stable") and appended once; the unfinished last
 *               word is normalized again with every chunk (a look-alike
 *               letter folds only once the word turns out to hold Latin
 *               letters). The stable part is scanned with a HS_MODE_STREAM
 *               database of the normalized-view literals (words, allow
 *               lists, context words).
 *   compacted   windows around suspicious words reach six tokens back, so
 *               it cannot be appended to: regions of the stable normalized
 *               text that can no longer change are compacted and scanned
 *               with the block-mode database, as rg_check does.
 *   regexes     PCRE2 with PCRE2_PARTIAL_HARD over each view, resuming
 *               where the last call stopped: a complete match is final
 *               (PCRE2 returns a partial match whenever the end of the text
 *               could change the outcome), and the start of a partial
 *               match is exactly "the earliest position that could still
 *               become part of a match" for that pattern.
 *
 * A hit is settled once nothing after it can change it: its text is
 * stable, and every allow-list phrase that could cover it and every
 * context word within its window has been seen. Settled hits go through
 * check.c's own steps (rg__resolve_hits, rg__decide), so a stream scores
 * and decides exactly as rg_check.
 *
 * Safe bytes: the least of the start of every hit not yet settled, every
 * partial regex match, every literal match whose right edge is unknown,
 * the longest unfinished suffix that is a prefix of a listed term (hash
 * sets of term prefixes, one per view), an unfinished word that could
 * still fold (look-alikes, leetspeak), a run of single letters that could
 * still spell a word out, and compacted regions that can still change.
 *
 * Cost per feed: the chunk, plus the unfinished word (normalized again),
 * plus the regions around it (bounded by the longest term and pattern
 * partials), plus the settled hits when deciding. Nothing depends on the
 * length of the stream so far except through those hits, which are
 * capped. */
#include "stream.h"
#include "conv.h"
#include "alloc.h"
#include "metrics.h"
#include "normalize.h"
#include "validate.h"
#include <stdlib.h>
#include <string.h>

#define now_ns rg__stream_now

#define NONE ((size_t)-1)
/* Tokens of compacted context a region keeps before the part it accepts
 * (a window reaches 5 tokens back, RG__WINDOW_WORDS in normalize.c). */
#define RG__CTX_BEFORE 8
/* Tokens a compaction region may accept at once: a region holds far
 * fewer than the 32 windows after which rg__compact takes the whole
 * text, so its output is the windowed one rg_check produces. */
#define RG__REGION_TOKENS 128
/* How far back a region follows a run of one-letter tokens. */
#define RG__RUN_BACK 64
/* The per-stream budget: the route's budget_us for every started KiB of
 * text fed (at least one), besides budget_us per call. A whole-reply
 * check of that much text takes a few microseconds, so only a runaway
 * stream (or a host too busy to schedule it) reaches it. */
#define RG__STREAM_BUDGET_BYTES 1024

/* ------------------------------------------------------------------ */
/* The stream                                                          */
/* ------------------------------------------------------------------ */

static size_t tok_back(const char *t, size_t x, size_t k);
static size_t tok_fwd(const char *t, size_t n, size_t x, size_t k);
static int maybe_windows(const char *tx, const uint8_t *mark, size_t from, size_t to);

typedef struct deferred {
    uint32_t id;   /* pattern */
    uint32_t end;  /* view offset */
    uint8_t view;
} deferred;

typedef struct rxstate {
    size_t resume;  /* view offset: every start before it is decided */
    size_t tried;   /* subject length the last call covered */
    uint32_t nspans;
    uint8_t partial; /* a partial match starts at resume */
    uint8_t trig;    /* the streaming database reported a match since */
} rxstate;

struct rg_stream {
    rg_engine *engine;
    rg_allocator a;
    char *route;
    char *channel, *locale;
    size_t turns;              /* the request's history_count (conv.h) */
    rg_label *labels;
    size_t nlabels;
    int status;                /* sticky error */
    int closed;
    uint64_t spent_ns;         /* checking time so far (per-stream budget) */
    uint64_t last_ns;          /* this call's */
    /* The text. */
    char *text;                /* original bytes kept (<= max_bytes + 4) */
    size_t len, cap;
    size_t total;              /* bytes fed */
    size_t lim;                /* bytes scanned: len, or the oversize cut */
    int oversize, timed_out, truncated, invalid, blocked, fin;
    /* State for one snapshot (gen). */
    uint64_t gen;
    struct rg__sdb *sdb;
    hs_stream_t *hs[RG__VIEW_COUNT];
    size_t raw_in;             /* original bytes in the raw view */
    size_t raw_len;            /* raw view bytes (raw_in unless repaired) */
    size_t u_raw;              /* raw view: start of the unfinished token */
    int repaired;
    rg__vbuf rawv;             /* the repaired raw view, once needed */
    rg__vbuf nv;               /* normalized: [0, len) stable, then prov */
    size_t nu;                 /* original offset of the unfinished word */
    size_t prov;               /* its normalized bytes after nv.len */
    deferred *dfr;
    size_t ndfr, capdfr;
    rg__rawhit *tent;          /* hits found, not yet settled */
    uint32_t *tent_vs;         /* their start in the detector's view */
    size_t ntent, captent, captent_vs;
    rg__rawhit *occ;           /* allow-list and context occurrences */
    size_t nocc, capocc;
    rxstate *rx;
    size_t cf;                 /* compaction frontier (normalized offset) */
    size_t chold;              /* hold-back for compaction, original */
    size_t cs;                 /* the stable length chold was computed for */
    size_t phold, ps;          /* phrase_hold, and the stable length it is for */
    rg__vbuf ctmp;             /* compaction work */
    /* Settled hits, sorted by span, and what was released. */
    rg__rawhit *set;
    uint8_t *clear;            /* per settled hit: released unmasked */
    size_t nset, capset, capclear;
    double *over;              /* per detector: scores past the hit cap */
    size_t nover_cap;
    int unmasked;
    uint8_t *rcat;             /* per category: redacted by the last decision */
    size_t caprcat;
    size_t safe, rel_pos, cursor;
    size_t mask_end;           /* end of the last mask released */
    int reloaded;              /* the state was rebuilt for a new snapshot */
    char *rel;
    size_t rel_len, rel_cap;
};

static void *sgrow(rg_stream *st, void **arr, size_t *cap, size_t need, size_t el)
{
    if (need <= *cap)
        return *arr;
    return rg__grow(&st->a, arr, cap, need, el) ? NULL : *arr;
}

static void drop_state(rg_stream *st)
{
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        if (st->hs[v])
            hs_close_stream(st->hs[v], NULL, NULL, NULL); /* frees; no DB access */
        st->hs[v] = NULL;
    }
    rg__free(&st->a, st->rx);
    st->rx = NULL;
    st->gen = 0;
    st->sdb = NULL;
}

/* Start the per-snapshot state from the beginning of the text. */
static int reset_state(rg_stream *st, const rg__snapshot *s, struct rg__sdb *d)
{
    drop_state(st);
    st->raw_in = st->raw_len = st->u_raw = 0;
    st->repaired = 0;
    st->rawv.len = 0;
    st->nv.len = 0;
    st->nu = 0;
    st->prov = 0;
    st->ndfr = st->ntent = st->nocc = 0;
    st->cf = 0;
    st->chold = NONE;
    st->cs = NONE;
    st->phold = NONE;
    st->ps = NONE;
    st->nset = 0;
    st->cursor = 0;
    st->mask_end = 0;
    st->fin = 0;
    st->oversize = 0;
    st->truncated = 0;
    st->invalid = 0;
    st->lim = st->len;
    if (st->over && st->nover_cap)
        memset(st->over, 0, st->nover_cap * sizeof *st->over);
    if (s->ndets > st->nover_cap) {
        rg__free(&st->a, st->over);
        st->over = rg__calloc(&st->a, s->ndets, sizeof *st->over);
        if (!st->over) {
            st->nover_cap = 0;
            return RG_E_NOMEM;
        }
        st->nover_cap = s->ndets;
    }
    if (d->nrx) {
        st->rx = rg__calloc(&st->a, d->nrx, sizeof *st->rx);
        if (!st->rx)
            return RG_E_NOMEM;
    }
    for (int v = RG__VIEW_RAW; v <= RG__VIEW_NORM; v++)
        if (d->db[v] && hs_open_stream(d->db[v], 0, &st->hs[v]) != HS_SUCCESS)
            return RG_E_NOMEM;
    st->sdb = d;
    st->gen = s->generation;
    return RG_OK;
}

static char *dupstr(const rg_allocator *a, const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *c = rg__strdup(a, s);
    if (!c)
        *oom = 1;
    return c;
}

void rg_stream_free(rg_stream *st)
{
    if (!st)
        return;
    rg_allocator a = st->a;
    drop_state(st);
    rg__free(&a, st->route);
    rg__free(&a, st->channel);
    rg__free(&a, st->locale);
    for (size_t i = 0; i < st->nlabels; i++) {
        rg__free(&a, (void *)st->labels[i].key);
        rg__free(&a, (void *)st->labels[i].value);
    }
    rg__free(&a, st->labels);
    rg__free(&a, st->text);
    rg__vbuf_free(&a, &st->rawv);
    rg__vbuf_free(&a, &st->nv);
    rg__vbuf_free(&a, &st->ctmp);
    rg__free(&a, st->dfr);
    rg__free(&a, st->tent);
    rg__free(&a, st->tent_vs);
    rg__free(&a, st->occ);
    rg__free(&a, st->set);
    rg__free(&a, st->clear);
    rg__free(&a, st->over);
    rg__free(&a, st->rcat);
    rg__free(&a, st->rel);
    rg__free(&a, st);
}

int rg_stream_open(rg_engine *engine, const rg_request *req, rg_stream **out)
{
    if (out)
        *out = NULL;
    if (!engine || !req || !out || (!req->labels && req->label_count))
        return RG_E_INVAL;
    rg_stream *st = rg__calloc(&engine->a, 1, sizeof *st);
    if (!st)
        return RG_E_NOMEM;
    st->engine = engine;
    st->a = engine->a;
    st->chold = NONE;
    int oom = 0;
    st->route = dupstr(&st->a, req->route ? req->route : "default", &oom);
    st->channel = dupstr(&st->a, req->channel, &oom);
    st->locale = dupstr(&st->a, req->locale, &oom);
    st->turns = req->history_count;
    if (req->label_count) {
        st->labels = rg__calloc(&st->a, req->label_count, sizeof *st->labels);
        if (!st->labels)
            oom = 1;
        for (size_t i = 0; st->labels && i < req->label_count; i++) {
            st->labels[i].key = dupstr(&st->a, req->labels[i].key ? req->labels[i].key : "", &oom);
            st->labels[i].value = dupstr(&st->a, req->labels[i].value ? req->labels[i].value : "", &oom);
            st->nlabels = i + 1;
        }
    }
    st->cap = 256;
    st->text = rg__malloc(&st->a, st->cap);
    if (!st->text)
        oom = 1;
    if (oom) {
        rg_stream_free(st);
        return RG_E_NOMEM;
    }
    /* The route must exist now; the streaming databases of the current
     * snapshot are compiled here (the lock keeps the snapshot alive). */
    pthread_mutex_lock(&engine->lock);
    const rg__snapshot *s = atomic_load(&engine->current);
    int rc = rg__snapshot_route(s, st->route) ? RG_OK : RG_E_NOROUTE;
    struct rg__sdb *d = NULL;
    if (rc == RG_OK)
        rc = rg__sdb_get(engine, s, 1, &d);
    pthread_mutex_unlock(&engine->lock);
    if (rc != RG_OK) {
        rg_stream_free(st);
        return rc;
    }
    *out = st;
    return RG_OK;
}

size_t rg_stream_bytes(const rg_stream *st) { return st ? st->total : 0; }
size_t rg_stream_safe_bytes(const rg_stream *st) { return st ? st->safe : 0; }

const char *rg_stream_release(const rg_stream *st, size_t *len)
{
    if (len)
        *len = st ? st->rel_len : 0;
    return st ? (st->rel ? st->rel : "") : NULL;
}

/* ------------------------------------------------------------------ */
/* Views                                                               */
/* ------------------------------------------------------------------ */

/* Trailing bytes of s[0..n) that begin a valid multi-byte sequence not
 * yet complete: they wait for the next chunk. */
static size_t incomplete_tail(const unsigned char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char c = s[n - k];
        if ((c & 0xC0) == 0x80)
            continue;
        size_t need = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (need <= k)
            return 0;
        if (k >= 2) {
            unsigned char c1 = s[n - k + 1];
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) ||
                (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))
                return 0;
        }
        return k;
    }
    return 0;
}

/* Append src (maps relative to base) to dst. */
static int vbuf_append(const rg_allocator *a, rg__vbuf *dst, const rg__vbuf *src,
                       size_t from, size_t to, size_t base)
{
    size_t n = to - from;
    if (rg__vbuf_reserve(a, dst, dst->len + n + 1))
        return -1;
    if (!n) {
        dst->text[dst->len] = '\0';
        return 0;
    }
    memcpy(dst->text + dst->len, src->text + from, n);
    memcpy(dst->mark + dst->len, src->mark + from, n);
    for (size_t i = 0; i < n; i++) {
        dst->start[dst->len + i] = (uint32_t)(src->start[from + i] + base);
        dst->end[dst->len + i] = (uint32_t)(src->end[from + i] + base);
    }
    dst->len += n;
    dst->text[dst->len] = '\0';
    return 0;
}

typedef struct scanx {
    rg_scratch *sc;
    rg_stream *st;
    const rg__snapshot *s;
    size_t stable;   /* view bytes whose right neighbour is known */
    int view;
    int fin;
} scanx;

static int defer_match(rg_stream *st, int view, unsigned id, size_t end)
{
    if (!sgrow(st, (void **)&st->dfr, &st->capdfr, st->ndfr + 1, sizeof *st->dfr))
        return -1;
    st->dfr[st->ndfr].id = id;
    st->dfr[st->ndfr].end = (uint32_t)end;
    st->dfr[st->ndfr].view = (uint8_t)view;
    st->ndfr++;
    return 0;
}

/* Hyperscan callback for the streaming scans: a literal that ends where
 * the view's known bytes end and needs a right word boundary waits for
 * the next byte; everything else is check.c's callback. */
static int on_stream_match(unsigned int id, unsigned long long from,
                           unsigned long long to, unsigned int flags, void *ctx)
{
    scanx *x = ctx;
    const rg__pat *p = &x->s->pats[id];
    if (p->type == RG__PAT_REGEX) {
        /* A regex match ends here: PCRE2 finds the spans (rx_step). */
        uint32_t k = x->st->sdb->slot_of[p->det];
        if (k != UINT32_MAX)
            x->st->rx[k].trig = 1;
        return 0;
    }
    if (!x->fin && (p->edges & RG__EDGE_RIGHT) && (size_t)to >= x->stable) {
        if (defer_match(x->st, x->view, id, (size_t)to)) {
            x->st->status = RG_E_NOMEM;
            return 1;
        }
        return 0;
    }
    return rg__on_match(id, from, to, flags, x->sc);
}

/* Point the scratch's scan state at a view. */
static void scan_view(rg_scratch *sc, const char *text, size_t len,
                      const uint8_t *mark, int view)
{
    sc->vtext = text;
    sc->vlen = len;
    sc->vmark = mark;
    sc->cur_view = (uint8_t)view;
}

static const char *raw_text(const rg_stream *st)
{
    return st->repaired ? st->rawv.text : st->text;
}

/* Original offsets of a view span [s, e). */
static void to_orig(const rg_stream *st, int view, const rg__vbuf *cv,
                    size_t s, size_t e, uint32_t *os, uint32_t *oe)
{
    if (view == RG__VIEW_RAW && !st->repaired) {
        *os = (uint32_t)s;
        *oe = (uint32_t)e;
        return;
    }
    const rg__vbuf *vb = view == RG__VIEW_RAW ? &st->rawv
                       : view == RG__VIEW_NORM ? &st->nv : cv;
    *os = vb->start[s];
    *oe = vb->end[e - 1];
}

/* The original offset a view position stands for (a hold-back point). */
static size_t orig_at(const rg_stream *st, int view, size_t pos)
{
    if (view == RG__VIEW_RAW) {
        if (!st->repaired)
            return pos;
        return pos < st->rawv.len ? st->rawv.start[pos] : st->raw_in;
    }
    if (pos < st->nv.len + st->prov)
        return st->nv.start[pos];
    return st->lim;
}

/* First normalized position whose source starts at or after orig. */
static size_t norm_lower(const rg_stream *st, size_t orig)
{
    size_t lo = 0, hi = st->nv.len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->nv.start[mid] < orig)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Hits, allow-list and context occurrences the last scan left in
 * sc->raw (view offsets) into the stream's lists (original offsets). */
static int take_raw(rg_stream *st, rg_scratch *sc, const rg__vbuf *cv)
{
    for (size_t i = 0; i < sc->nraw; i++) {
        rg__rawhit h = sc->raw[i];
        size_t vs = h.start;
        uint32_t os, oe;
        to_orig(st, h.view, cv, h.start, h.end, &os, &oe);
        h.start = os;
        h.end = oe;
        if (h.kind == RG__RAW_HIT) {
            if (!sgrow(st, (void **)&st->tent, &st->captent, st->ntent + 1, sizeof *st->tent) ||
                !sgrow(st, (void **)&st->tent_vs, &st->captent_vs, st->ntent + 1,
                       sizeof *st->tent_vs))
                return -1;
            if (h.view == RG__VIEW_COMPACT)
                vs = norm_lower(st, os); /* its detector's view: normalized */
            st->tent_vs[st->ntent] = (uint32_t)vs;
            st->tent[st->ntent++] = h;
        } else {
            if (!sgrow(st, (void **)&st->occ, &st->capocc, st->nocc + 1, sizeof *st->occ))
                return -1;
            st->occ[st->nocc++] = h;
        }
    }
    sc->nraw = 0;
    /* Scores a full sc->raw could not keep (check.c's cap): counted. */
    for (size_t i = 0; i < sc->ntouched; i++) {
        uint32_t di = sc->touched[i];
        if (sc->det_max[di] > st->over[di])
            st->over[di] = sc->det_max[di];
        sc->det_max[di] = 0;
        sc->det_flag[di] = 0;
    }
    if (sc->ntouched)
        st->truncated = 1;
    sc->ntouched = 0;
    if (sc->truncated)
        st->truncated = 1;
    sc->truncated = 0;
    return 0;
}

/* Deferred literals whose next byte is now known (or the text ended). */
static void run_deferred(rg_stream *st, rg_scratch *sc, int view, const char *vt,
                         size_t vlen, int fin)
{
    size_t k = 0;
    scan_view(sc, vt, vlen, NULL, view);
    for (size_t i = 0; i < st->ndfr; i++) {
        deferred d = st->dfr[i];
        if (d.view != view || (!fin && d.end >= vlen)) {
            st->dfr[k++] = d;
            continue;
        }
        rg__on_match(d.id, 0, d.end, 0, sc);
    }
    st->ndfr = k;
}

static int hs_step(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, int view,
                   const char *vt, size_t from, size_t to, int fin)
{
    if (!st->hs[view] || to <= from)
        return RG_OK;
    scanx x = {sc, st, s, to, view, fin};
    scan_view(sc, vt, to, NULL, view);
    hs_error_t err = hs_scan_stream(st->hs[view], vt + from, (unsigned)(to - from), 0,
                                    sc->hs, on_stream_match, &x);
    if (err == HS_INVALID) {
        /* This scratch was never grown for the streaming databases (or a
         * reload replaced its Hyperscan scratch): grow it once. */
        for (int v = RG__VIEW_RAW; v <= RG__VIEW_NORM; v++)
            if (st->sdb->db[v] && hs_alloc_scratch(st->sdb->db[v], &sc->hs) != HS_SUCCESS)
                return RG_E_NOMEM;
        err = hs_scan_stream(st->hs[view], vt + from, (unsigned)(to - from), 0, sc->hs,
                             on_stream_match, &x);
    }
    if (st->status)
        return st->status;
    if (err == HS_SCAN_TERMINATED)
        return RG_OK; /* deadline: sc->timed_out says so */
    return err == HS_SUCCESS ? RG_OK : RG_E_ENGINE;
}

/* The raw view up to the last complete code point (everything at the
 * end), scanned. */
static int raw_step(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, int fin)
{
    size_t to = st->lim;
    if (!fin)
        to -= incomplete_tail((const unsigned char *)st->text, to);
    if (to < st->raw_in)
        to = st->raw_in;
    size_t from = st->raw_in;
    size_t vfrom = st->raw_len;
    if (to > from) {
        int valid = rg__utf8_is_valid(st->text + from, to - from);
        if (!valid)
            st->invalid = 1;
        if (!valid && !st->repaired) {
            /* From here on the raw view is a repaired copy with maps (the
             * part so far is valid: an identity copy). */
            if (rg__repair_utf8(&st->a, &st->rawv, st->text, from))
                return RG_E_NOMEM;
            st->repaired = 1;
        }
        if (st->repaired) {
            rg__vbuf *tmp = &sc->view[RG__VIEW_RAW];
            if (rg__repair_utf8(&sc->a, tmp, st->text + from, to - from) ||
                vbuf_append(&st->a, &st->rawv, tmp, 0, tmp->len, from))
                return RG_E_NOMEM;
            st->raw_len = st->rawv.len;
        } else {
            st->raw_len = to;
        }
        st->raw_in = to;
    }
    const char *vt = raw_text(st);
    run_deferred(st, sc, RG__VIEW_RAW, vt, st->raw_len, fin);
    return hs_step(st, sc, s, RG__VIEW_RAW, vt, vfrom, st->raw_len, fin);
}

/* The normalized view: the stable part grows to the last separator; the
 * unfinished word after it (prov) is normalized again each time and kept
 * in the buffer past nv.len. */
static int norm_step(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, int fin)
{
    size_t from = st->nu, to = st->lim;
    size_t old = st->nv.len;
    rg__vbuf *tmp = &sc->view[RG__VIEW_NORM];
    int inv = 0;
    size_t tl, k;
    if (fin) {
        if (rg__normalize(&sc->a, tmp, st->text + from, to - from, &inv))
            return RG_E_NOMEM;
        tl = k = tmp->len;
    } else {
        /* A sentinel that is no separator and no letter makes a trailing
         * separator show (rg__normalize drops it at the end of a text)
         * without changing how the last word folds. */
        char save = st->text[to];
        st->text[to] = '#';
        int r = rg__normalize(&sc->a, tmp, st->text + from, to - from + 1, &inv);
        st->text[to] = save;
        if (r)
            return RG_E_NOMEM;
        tl = tmp->len - 1; /* the sentinel */
        /* Stable: up to the last space whose next byte comes from a later
         * code point (one code point can decompose to "a b"). */
        k = 0;
        for (size_t j = tl; j-- > 0;) {
            if (tmp->text[j] == ' ' && (j + 1 == tl || tmp->start[j + 1] > tmp->start[j] ||
                                        j + 1 == tmp->len - 1)) {
                k = j + 1;
                break;
            }
        }
    }
    if (vbuf_append(&st->a, &st->nv, tmp, 0, k, from))
        return RG_E_NOMEM;
    if (fin) {
        if (st->nv.len > 0 && st->nv.text[st->nv.len - 1] == ' ')
            st->nv.len--; /* no trailing separator, as in one piece */
        st->nu = to;
        st->prov = 0;
    } else {
        size_t np = tl - k;
        if (rg__vbuf_reserve(&st->a, &st->nv, st->nv.len + np + 1))
            return RG_E_NOMEM;
        for (size_t i = 0; i < np; i++) {
            st->nv.text[st->nv.len + i] = tmp->text[k + i];
            st->nv.start[st->nv.len + i] = (uint32_t)(tmp->start[k + i] + from);
            st->nv.end[st->nv.len + i] = (uint32_t)(tmp->end[k + i] + from);
            st->nv.mark[st->nv.len + i] = tmp->mark[k + i];
        }
        st->nv.text[st->nv.len + np] = '\0';
        st->prov = np;
        if (np)
            st->nu = from + tmp->start[k];
        else
            st->nu = to; /* only separators or ignorables left: dropped */
    }
    run_deferred(st, sc, RG__VIEW_NORM, st->nv.text, st->nv.len, fin);
    return hs_step(st, sc, s, RG__VIEW_NORM, st->nv.text, old, st->nv.len, fin);
}

/* ------------------------------------------------------------------ */
/* Regexes: PCRE2 partial matching, resumed                            */
/* ------------------------------------------------------------------ */

/* The first position in t[from, n) whose byte can start a match of some
 * regex of view u, or n. */
static size_t first_start(const struct rg__sdb *d, int u, const char *t, size_t from,
                          size_t n)
{
    if (d->uany[u])
        return from < n ? from : n;
    for (size_t i = from; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((d->ustart[u][c >> 6] >> (c & 63)) & 1)
            return i;
    }
    return n;
}

/* Spans of the regexes, resumed where each stopped.
 *
 * A regex runs (PCRE2, partial-hard, from its resume point) when the
 * streaming database reported a match end for it since its last run, when
 * it stopped on a partial match, at the end of the text, and -- for a
 * regex whose matches can span whitespace -- when a separator arrived and
 * one of the new bytes can start a match: a partial match crossing the
 * last separator must be found to be held back. Partial matches starting
 * in the unfinished token need no run: that token is held back from its
 * first byte that can start any regex (hold_back), and a partial match
 * can only die as its token grows, never appear, except at new positions.
 * A token-bound regex the database did not report has no match ending
 * before the unfinished token, so its resume point moves there. */
static int rx_step(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, int fin,
                   int sep_raw, int sep_norm, size_t u_raw)
{
    const struct rg__sdb *d = st->sdb;
    if (!d->nrx)
        return RG_OK;
    if (now_ns() > sc->deadline) {
        sc->timed_out = 1;
        return RG_OK;
    }
    unsigned calls = 0;
    const char *rt = raw_text(st);
    /* The positions new to some gated regex of each view: which slots
     * could start a match at one of them (their first two bytes, or the
     * first one where the second is unknown or not ASCII). */
    size_t from[2] = {st->raw_len, st->nv.len};
    for (size_t k = 0; k < d->nrx; k++) {
        int v = d->rx[k].view == RG__VIEW_NORM;
        if ((d->rx[k].span || d->rx[k].nohs) && st->rx[k].tried < from[v])
            from[v] = st->rx[k].tried; /* gated: from where it has not looked */
    }
    uint64_t cand[2][4];
    uint64_t pres[2][4]; /* first bytes with no usable second byte */
    memset(cand, 0, sizeof cand);
    memset(pres, 0, sizeof pres);
    for (int u = 0; u < 2; u++) {
        const unsigned char *t = (const unsigned char *)(u ? st->nv.text : rt);
        size_t n = u ? st->nv.len : st->raw_len;
        for (size_t i = from[u]; i < n; i++) {
            unsigned char b1 = t[i];
            if (b1 < 128 && i + 1 < n && t[i + 1] < 128 && d->words <= 4) {
                unsigned char pc = i > 0 ? t[i - 1] : ' ';
                int ctx = !(pc < 128 && rg__word_byte(pc));
                const uint64_t *row = &d->pairs[(((size_t)ctx * 128 + b1) * 128 + t[i + 1]) * d->words];
                for (size_t w = 0; w < d->words; w++)
                    cand[u][w] |= row[w];
            } else {
                pres[u][b1 >> 6] |= 1ull << (b1 & 63);
            }
        }
    }
    for (size_t k = 0; k < d->nrx && !sc->timed_out; k++) {
        rxstate *r = &st->rx[k];
        const rg__rxslot *x = &d->rx[k];
        const rg__cdet *cd = &s->dets[x->det];
        if (!(cd->scope & 1u))
            continue; /* reads the user message only (`scan:`, conv.h) */
        int view = x->view;
        /* The text that can no longer change: the raw view, and the
         * normalized view up to the unfinished word (held back whole). A
         * match ending at the normalized view's trailing separator is not
         * final: the end of the text would drop that separator. */
        const char *subj = view == RG__VIEW_RAW ? rt : st->nv.text;
        size_t n = view == RG__VIEW_RAW ? st->raw_len : st->nv.len;
        size_t stable = n, u = view == RG__VIEW_RAW ? u_raw : n;
        if (!fin && view == RG__VIEW_NORM && n > 0 && subj[n - 1] == ' ')
            stable--;
        int run = fin || r->trig || r->partial;
        if (!run && (x->nohs || (x->span && (view == RG__VIEW_RAW ? sep_raw : sep_norm)))) {
            int w = view == RG__VIEW_NORM;
            const uint64_t *pr = pres[w];
            run = x->any || (pr[0] & x->first[0]) || (pr[1] & x->first[1]) ||
                  (pr[2] & x->first[2]) || (pr[3] & x->first[3]);
            if (!run && x->pairs)
                run = (cand[w][k / 64] >> (k & 63)) & 1;
            else if (!run) {
                /* No pair table for it: its first byte anywhere new. */
                const unsigned char *t = (const unsigned char *)subj;
                for (size_t i = from[w]; i < n && !run; i++)
                    run = (x->first[t[i] >> 6] >> (t[i] & 63)) & 1;
            }
            if (!run)
                r->resume = r->tried = n; /* nothing new can start one */
        }
        if (!run) {
            if (!x->span && !x->nohs) {
                /* Watched by the database: nothing ended before u. */
                if (r->resume < u)
                    r->resume = u;
                r->tried = n;
            }
            continue;
        }
        size_t off = r->resume;
        r->partial = 0;
        r->trig = 0;
        for (;;) {
            if (off > n)
                break;
            /* The deadline, every few calls (a clock read costs as much
             * as a short match attempt). */
            if ((++calls & 7) == 0 && now_ns() > sc->deadline) {
                sc->timed_out = 1;
                break;
            }
            /* pcre2_jit_match skips pcre2_match's checks (the subject is
             * valid UTF-8 by construction); the interpreter otherwise. */
            int rc = x->jit ? pcre2_jit_match(x->re, (PCRE2_SPTR)subj, n, off,
                                              fin ? 0 : PCRE2_PARTIAL_HARD, sc->md, sc->mctx)
                            : pcre2_match(x->re, (PCRE2_SPTR)subj, n, off,
                                          PCRE2_NO_UTF_CHECK | (fin ? 0 : PCRE2_PARTIAL_HARD),
                                          sc->md, sc->mctx);
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
            if (rc == PCRE2_ERROR_NOMATCH) {
                off = n;
                break;
            }
            if (rc == PCRE2_ERROR_PARTIAL) {
                /* A "partial" that inspected nothing (a match could start
                 * at the very end) is no match under way: the start set
                 * check sees the next bytes. */
                off = ov[0];
                r->partial = ov[1] > ov[0] || ov[0] < n;
                break;
            }
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                rc == PCRE2_ERROR_JIT_STACKLIMIT) {
                sc->timed_out = 1; /* bounded work ran out, as in rg_check */
                break;
            }
            if (rc < 0)
                return RG_E_ENGINE;
            size_t ms = ov[0], me = ov[1];
            if (me > stable) {
                /* Ends in the unfinished word: decided when it is done. */
                off = ms;
                r->partial = 1;
                break;
            }
            if (r->nspans == RG__MAX_PCRE_MATCHES) {
                sc->timed_out = 1; /* rg_check's span cap */
                break;
            }
            r->nspans++;
            if (me > ms && rg__validate(cd->validate, subj + ms, me - ms)) {
                if (!sgrow(st, (void **)&st->tent, &st->captent, st->ntent + 1,
                           sizeof *st->tent) ||
                    !sgrow(st, (void **)&st->tent_vs, &st->captent_vs, st->ntent + 1,
                           sizeof *st->tent_vs))
                    return RG_E_NOMEM;
                rg__rawhit *h = &st->tent[st->ntent];
                uint32_t os, oe;
                to_orig(st, view, NULL, ms, me, &os, &oe);
                h->det = x->det;
                h->start = os;
                h->end = oe;
                h->score = cd->score;
                h->view = (uint8_t)view;
                h->kind = RG__RAW_HIT;
                h->ctx = 0;
                st->tent_vs[st->ntent++] = (uint32_t)ms;
            }
            if (me > off)
                off = me;
            else {
                off = me + 1;
                while (off < n && ((unsigned char)subj[off] & 0xC0) == 0x80)
                    off++;
            }
        }
        if (off > n)
            off = n;
        r->resume = off;
        r->tried = n;
    }
    return RG_OK;
}

/* ------------------------------------------------------------------ */
/* The compacted view, in regions                                      */
/* ------------------------------------------------------------------ */

static int tok_start(const char *t, size_t i)
{
    return rg__tok_byte((unsigned char)t[i]) && (i == 0 || !rg__tok_byte((unsigned char)t[i - 1]));
}

/* The start of the token k tokens before x (x itself counts as none), or
 * 0 when there are fewer. */
static size_t tok_back(const char *t, size_t x, size_t k)
{
    size_t i = x;
    while (i > 0 && k > 0) {
        i--;
        if (tok_start(t, i))
            k--;
    }
    return k ? 0 : i;
}

/* Where a compaction region accepting from x must start: RG__CTX_BEFORE
 * tokens back, and further back to the start of a run of one-letter
 * tokens there (how a run is joined, and split, depends on its first
 * letter, and its window on its length). */
static size_t region_start(const char *t, size_t x)
{
    size_t rs = tok_back(t, x, RG__CTX_BEFORE);
    for (int k = 0; k < RG__RUN_BACK && rs > 0; k++) {
        size_t p = tok_back(t, rs, 1);
        int single = p + 1 < rs && rg__tok_byte((unsigned char)t[p]) &&
                     !rg__tok_byte((unsigned char)t[p + 1]) && (unsigned char)t[p] < 0x80;
        if (!single)
            break;
        rs = p;
    }
    return tok_back(t, rs, 1);
}

/* The start of the k-th token after x, or n. */
static size_t tok_fwd(const char *t, size_t n, size_t x, size_t k)
{
    for (size_t i = x + 1; i < n; i++)
        if (tok_start(t, i) && --k == 0)
            return i;
    return n;
}

/* 0 when no token of t[from, to) can open a compaction window (the test
 * of normalize.c's find_windows, without its exceptions: a superset), so
 * the region's compacted view is empty and rg__compact need not run. */
static int maybe_windows(const char *tx, const uint8_t *mark, size_t from, size_t to)
{
    const unsigned char *t = (const unsigned char *)tx;
    size_t prev_single_end = NONE, singles = 0;
    size_t r = from;
    while (r < to) {
        if (!rg__tok_byte(t[r])) {
            r++;
            continue;
        }
        size_t e = r;
        int letters = 0, digits = 0, run = 1;
        while (e < to && rg__tok_byte(t[e])) {
            unsigned char c = t[e];
            if (mark[e] || c == '@' || c == '$' || c == '!' || c == '|')
                return 1;
            if ((c >= 'a' && c <= 'z') || c >= 0xC0)
                letters++;
            else if (c >= '0' && c <= '9')
                digits = 1;
            if (e > r && c == t[e - 1] && c >= 'a' && c <= 'z') {
                if (++run >= 3)
                    return 1;
            } else {
                run = 1;
            }
            e++;
        }
        if (digits && letters >= 2)
            return 1;
        int single = e - r == 1 && t[r] < 0x80;
        if (single && prev_single_end != NONE && r == prev_single_end + 1)
            singles++;
        else
            singles = (size_t)single;
        if (singles >= 3)
            return 1;
        prev_single_end = single ? e : NONE;
        r = e;
    }
    return 0;
}

static void sub_view(const rg__vbuf *v, size_t from, size_t to, rg__vbuf *out)
{
    out->text = v->text + from;
    out->start = v->start + from;
    out->end = v->end + from;
    out->mark = v->mark + from;
    out->len = to - from;
    out->cap = 0;
    out->padded = 0; /* the text after a slice is the next text's */
    out->unmarked = 0;
}

/* Compact and scan n[from, to); compacted hits whose original start lies
 * in [olo, ohi) go to the tentative list. */
static int compact_region(rg_stream *st, rg_scratch *sc, const rg__snapshot *s,
                          size_t from, size_t to, size_t olo, size_t ohi, int *nonempty)
{
    if (!maybe_windows(st->nv.text, st->nv.mark, from, to)) {
        if (nonempty)
            *nonempty = 0;
        return RG_OK;
    }
    rg__vbuf sub;
    sub_view(&st->nv, from, to, &sub);
    rg__vbuf *c = &sc->view[RG__VIEW_COMPACT];
    if (rg__compact(&sc->a, c, &sub, 0))
        return RG_E_NOMEM;
    if (nonempty)
        *nonempty = c->len > 0;
    if (!c->len || olo >= ohi)
        return RG_OK;
    scan_view(sc, c->text, c->len, c->mark, RG__VIEW_COMPACT);
    hs_error_t err = hs_scan(s->db[RG__VIEW_COMPACT], c->text, (unsigned)c->len, 0, sc->hs,
                             rg__on_match, sc);
    if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)
        return RG_E_ENGINE;
    /* Keep what starts in the accepted range: hits, and the allow-list
     * entries compiled for this view too (compile.c: "i'd fuuuck you"
     * against the entry "i'd fuck you"). */
    size_t k = 0;
    for (size_t i = 0; i < sc->nraw; i++) {
        rg__rawhit h = sc->raw[i];
        uint32_t os = c->start[h.start];
        if (os >= olo && os < ohi)
            sc->raw[k++] = h;
    }
    sc->nraw = k;
    return take_raw(st, sc, c) ? RG_E_NOMEM : RG_OK;
}

static int compact_step(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, int fin)
{
    if (!s->db[RG__VIEW_COMPACT])
        return RG_OK;
    const char *t = st->nv.text;
    size_t S = st->nv.len;
    /* Tokens after a region's accepted part that later text can still
     * change: a window reaches 6 tokens ahead of its last suspicious
     * token, plus the longest term. */
    size_t after = 6 + st->sdb->ctok + 2;
    size_t target = fin ? S : tok_back(t, S, after);
    if (!fin && S == st->cs)
        return RG_OK; /* nothing new: the hold below still stands */
    int reached = 0, ne = 0;
    while (st->cf < target && !sc->timed_out) {
        size_t rs = region_start(t, st->cf);
        size_t e = tok_fwd(t, S, st->cf, RG__REGION_TOKENS + after);
        size_t acc = e >= S ? target : tok_back(t, e, after);
        if (acc <= st->cf)
            acc = target;
        size_t olo = st->nv.start[st->cf];
        size_t ohi = acc < S ? st->nv.start[acc] : NONE;
        int rc = compact_region(st, sc, s, rs, e, olo, ohi, &ne);
        if (rc)
            return rc;
        reached = e >= S;
        st->cf = acc;
    }
    /* Hold back the part that can still change when it has windows (a
     * region that reached S and had none covers it: no windows either). */
    st->chold = NONE;
    st->cs = S;
    if (!fin && st->cf < S) {
        if (!reached) {
            int rc = compact_region(st, sc, s, region_start(t, st->cf), S, 1, 0, &ne);
            if (rc)
                return rc;
        }
        if (ne)
            st->chold = st->nv.start[st->cf];
    }
    return RG_OK;
}

/* ------------------------------------------------------------------ */
/* Settling                                                            */
/* ------------------------------------------------------------------ */

static int settled(const rg_stream *st, const rg__snapshot *s, const rg__rawhit *h,
                   size_t vs, int fin)
{
    if (fin)
        return 1;
    const struct rg__sdb *d = st->sdb;
    if (st->nu < h->end)
        return 0; /* its text is not final in the normalized view yet */
    if (d->callow[h->det]) {
        /* An allow entry of the compacted view could still cover it: one
         * starting no later than it is known once the compaction frontier
         * has passed it. Before that, none can appear if no token within
         * reach is suspicious (a compacted match must cover an obfuscated
         * byte) and the text already runs more tokens past the hit than
         * such an entry holds. */
        size_t ocf = st->cf < st->nv.len ? st->nv.start[st->cf] : st->nu;
        if (ocf <= h->start) {
            const char *t = st->nv.text;
            size_t S = st->nv.len, ns = norm_lower(st, h->start);
            if (ns >= S || tok_fwd(t, S, ns, d->ctok + 1) >= S ||
                maybe_windows(t, st->nv.mark, tok_back(t, ns, d->ctok + RG__CTX_BEFORE), S))
                return 0;
        }
    }
    uint32_t al = d->allow_len[h->det];
    if (al) {
        size_t stable = s->dets[h->det].view == RG__VIEW_RAW ? st->raw_len : st->nv.len;
        if (stable < vs + al + 4)
            return 0; /* an allow-list phrase could still cover it */
    }
    if (d->ctx_after[h->det] >= 0) {
        size_t p = h->end + (size_t)d->ctx_after[h->det];
        if (st->nu <= p)
            return 0;
        if (st->nv.len < norm_lower(st, p) + d->ctx_len[h->det] + 4)
            return 0; /* a context word could still start in its window */
    }
    return 1;
}

static int cmp_hit(const rg__rawhit *a, const rg__rawhit *b)
{
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return a->det < b->det ? -1 : a->det > b->det;
}

/* Into the sorted settled list; the same detector and span once. */
static int insert_settled(rg_stream *st, const rg__rawhit *h)
{
    size_t i = st->nset;
    while (i > 0 && cmp_hit(&st->set[i - 1], h) > 0)
        i--;
    if (i > 0 && cmp_hit(&st->set[i - 1], h) == 0) {
        if (h->score > st->set[i - 1].score)
            st->set[i - 1].score = h->score;
        return 0;
    }
    if (st->nset == RG__MAX_RAWHITS) {
        /* As rg_check: past the cap the score still counts. */
        st->truncated = 1;
        if (h->score > st->over[h->det])
            st->over[h->det] = h->score;
        return 0;
    }
    if (!sgrow(st, (void **)&st->set, &st->capset, st->nset + 1, sizeof *st->set) ||
        !sgrow(st, (void **)&st->clear, &st->capclear, st->nset + 1, sizeof *st->clear))
        return -1;
    memmove(st->set + i + 1, st->set + i, (st->nset - i) * sizeof *st->set);
    memmove(st->clear + i + 1, st->clear + i, (st->nset - i) * sizeof *st->clear);
    st->set[i] = *h;
    st->clear[i] = 0;
    st->nset++;
    if (i < st->cursor)
        st->cursor = i;
    return 0;
}

/* Settle what can be settled: allow lists and context words apply
 * (check.c's rg__resolve_hits over the batch and the occurrences). */
static int settle(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, int fin)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < st->ntent; i++) {
        if (settled(st, s, &st->tent[i], st->tent_vs[i], fin)) {
            if (n < RG__MAX_RAWHITS)
                sc->raw[n++] = st->tent[i];
            else
                break;
        } else {
            st->tent[k] = st->tent[i];
            st->tent_vs[k++] = st->tent_vs[i];
        }
    }
    /* A batch past the cap (only with enormous chunks) waits for the next
     * call; keep the rest in order. */
    size_t rest = 0;
    for (size_t i = k + n; i < st->ntent; i++) {
        st->tent[k + rest] = st->tent[i];
        st->tent_vs[k + rest] = st->tent_vs[i];
        rest++;
    }
    st->ntent = k + rest;
    if (!n)
        return 0;
    for (size_t i = 0; i < st->nocc && n < RG__MAX_RAWHITS; i++)
        sc->raw[n++] = st->occ[i];
    sc->nraw = n;
    rg__resolve_hits(sc, s);
    for (size_t i = 0; i < sc->nraw; i++)
        if (insert_settled(st, &sc->raw[i]))
            return -1;
    sc->nraw = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Hold-back                                                           */
/* ------------------------------------------------------------------ */

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* The earliest original offset that could still become part of a
 * finding (lim when nothing is pending). */
/* A one-letter token as compact_range sees it (normalize.c single_at): one
 * ASCII token byte, maybe followed by "!" or "|" as punctuation. */
static int single_tok(const char *t, size_t r, size_t e)
{
    if ((unsigned char)t[r] >= 0x80)
        return 0;
    for (size_t i = r + 1; i < e; i++)
        if (t[i] != '!' && t[i] != '|')
            return 0;
    return 1;
}

/* The earliest start of a compacted-view hit in t[from, to) if every
 * token there were inside a window (whole-text compaction): a "latent"
 * obfuscation that a window opened by later text would turn into a hit
 * ("f u c||": three one-letter words as compaction joins them, though not
 * as the window test counts them; a digit folded as leetspeak in "5th").
 * NONE if none. */
static size_t latent_hit(rg_stream *st, rg_scratch *sc, const rg__snapshot *s, size_t from,
                         size_t to)
{
    rg__vbuf sub;
    sub_view(&st->nv, from, to, &sub);
    if (rg__compact(&st->a, &st->ctmp, &sub, 1) || !st->ctmp.len)
        return NONE;
    size_t i = 0;
    while (i < st->ctmp.len && !st->ctmp.mark[i])
        i++;
    if (i == st->ctmp.len)
        return NONE; /* nothing obfuscated: no compacted hit possible */
    scan_view(sc, st->ctmp.text, st->ctmp.len, st->ctmp.mark, RG__VIEW_COMPACT);
    sc->nraw = 0;
    hs_error_t err = hs_scan(s->db[RG__VIEW_COMPACT], st->ctmp.text, (unsigned)st->ctmp.len,
                             0, sc->hs, rg__on_match, sc);
    size_t hb = NONE;
    if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)
        hb = st->nv.start[from]; /* unsure: hold the whole region */
    for (size_t k = 0; k < sc->nraw; k++)
        if (sc->raw[k].kind == RG__RAW_HIT)
            hb = min_sz(hb, st->ctmp.start[sc->raw[k].start]);
    sc->nraw = 0;
    for (size_t k = 0; k < sc->ntouched; k++) { /* a full sc->raw: never here */
        sc->det_max[sc->touched[k]] = 0;
        sc->det_flag[sc->touched[k]] = 0;
    }
    sc->ntouched = 0;
    sc->truncated = 0;
    return hb;
}

/* Holds that depend on the stable normalized text only, so they are
 * computed when a word completes, not with every chunk:
 *   - a phrase term (normalized or compacted view) that the last words of
 *     the stable text begin;
 *   - a run of one-letter tokens at its end that may still be spelling a
 *     word out ("f u c", "f.u."): from its first letter;
 *   - a latent obfuscation within a window's reach of the end (latent_hit).
 * The unfinished word after the stable text is held back whole anyway. */
static size_t phrase_hold(rg_stream *st, rg_scratch *sc, const rg__snapshot *s)
{
    const struct rg__sdb *d = st->sdb;
    size_t S = st->nv.len, hb = NONE;
    const char *nt = st->nv.text;
    if (!S)
        return NONE;
    if (d->pre[RG__VIEW_NORM].slot) {
        size_t lo = S > d->pre[RG__VIEW_NORM].maxlen ? S - d->pre[RG__VIEW_NORM].maxlen : 0;
        size_t q = rg__prefix_hold(&d->pre[RG__VIEW_NORM], nt, S, lo);
        if (q < S)
            hb = st->nv.start[q];
    }
    if (!s->db[RG__VIEW_COMPACT])
        return hb;
    /* The run of one-letter tokens at the end, each one separator apart,
     * the same separator throughout. */
    size_t run = NONE, e = S, sep_at = NONE;
    unsigned char sep = 0;
    while (e > 0) {
        if (!rg__tok_byte((unsigned char)nt[e - 1])) {
            if (run != NONE) { /* between two letters of the run */
                if (e < 2 || !rg__tok_byte((unsigned char)nt[e - 2]) ||
                    (sep && (unsigned char)nt[e - 1] != sep))
                    break;
                sep = (unsigned char)nt[e - 1];
                sep_at = e - 1;
            } else if (e != S) {
                break;
            }
            e--;
            continue;
        }
        size_t r = e;
        while (r > 0 && rg__tok_byte((unsigned char)nt[r - 1]))
            r--;
        if (!single_tok(nt, r, e))
            break;
        run = r;
        e = r;
    }
    (void)sep_at;
    size_t cend = S;
    if (run != NONE) {
        hb = min_sz(hb, st->nv.start[run]);
        cend = run;
    }
    size_t lfrom = tok_back(nt, cend, RG__CTX_BEFORE + d->ctok);
    hb = min_sz(hb, latent_hit(st, sc, s, lfrom, S));
    /* Compacted as one piece: what a window would make of these tokens. */
    if (d->pre[RG__VIEW_COMPACT].slot && cend > 0) {
        size_t from = tok_back(nt, cend, d->ctok + 2);
        rg__vbuf sub;
        sub_view(&st->nv, from, cend, &sub);
        if (!rg__compact(&st->a, &st->ctmp, &sub, 1) && st->ctmp.len &&
            !rg__vbuf_reserve(&st->a, &st->ctmp, st->ctmp.len + 2)) {
            size_t cl = st->ctmp.len;
            st->ctmp.text[cl++] = ' '; /* more text follows its last token */
            size_t q = rg__prefix_hold(&d->pre[RG__VIEW_COMPACT], st->ctmp.text, cl, 0);
            if (q < st->ctmp.len)
                hb = min_sz(hb, st->ctmp.start[q]);
        }
    }
    return hb;
}

/* The earliest original offset that could still become part of a
 * finding (lim when nothing is pending). */
/* The earliest original offset that could still become part of a
 * finding (raw_in, the end of the complete code points, when nothing is
 * pending). */
static size_t hold_back(rg_stream *st, rg_scratch *sc, const rg__snapshot *s)
{
    const struct rg__sdb *d = st->sdb;
    size_t hb = st->raw_in; /* a code point cut by the chunk boundary */
    for (size_t i = 0; i < st->ntent; i++)
        hb = min_sz(hb, st->tent[i].start); /* hits not settled yet */
    for (size_t i = 0; i < st->ndfr; i++) {
        const rg__pat *p = &s->pats[st->dfr[i].id];
        if (p->type == RG__PAT_WORD) /* a term whose right edge is unknown */
            hb = min_sz(hb, orig_at(st, st->dfr[i].view, st->dfr[i].end - p->len));
    }
    for (size_t k = 0; k < d->nrx; k++) /* partial regex matches */
        if (st->rx[k].partial || st->rx[k].trig)
            hb = min_sz(hb, orig_at(st, d->rx[k].view, st->rx[k].resume));
    /* The unfinished word, whole: it may still become or fold into a term
     * (a look-alike letter folds once a Latin one follows, leet by the
     * letters of the whole word, a run of letters collapses). */
    if (st->prov)
        hb = min_sz(hb, st->nu);
    /* The unfinished raw token (since the last ASCII space), from its
     * first byte that can start a regex match: token-bound regexes are
     * never run on it. */
    if (d->nrx) {
        const char *rt = raw_text(st);
        size_t q = first_start(d, 0, rt, st->u_raw, st->raw_len);
        if (q < st->raw_len)
            hb = min_sz(hb, orig_at(st, RG__VIEW_RAW, q));
    }
    /* Raw-view terms. */
    if (d->pre[RG__VIEW_RAW].slot) {
        const char *rt = raw_text(st);
        size_t n = st->raw_len;
        size_t lo = n > d->pre[RG__VIEW_RAW].maxlen ? n - d->pre[RG__VIEW_RAW].maxlen : 0;
        size_t q = rg__prefix_hold(&d->pre[RG__VIEW_RAW], rt, n, lo);
        if (q < n)
            hb = min_sz(hb, orig_at(st, RG__VIEW_RAW, q));
    }
    if (st->ps != st->nv.len) {
        st->phold = phrase_hold(st, sc, s);
        st->ps = st->nv.len;
    }
    hb = min_sz(hb, st->phold);
    hb = min_sz(hb, st->chold);
    return hb;
}

/* Forget occurrences no hit can reach any more. */
static void prune(rg_stream *st, size_t keep_from)
{
    size_t w = st->sdb->max_window + 8;
    if (keep_from < w)
        return;
    size_t k = 0;
    for (size_t i = 0; i < st->nocc; i++)
        if (st->occ[i].end + w >= keep_from)
            st->occ[k++] = st->occ[i];
    st->nocc = k;
}

/* ------------------------------------------------------------------ */
/* Deciding and releasing                                              */
/* ------------------------------------------------------------------ */

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

static void clear_scratch(rg_scratch *sc)
{
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
    sc->nraw = 0;
}

/* The verdict of the settled hits (check.c's rg__decide). */
static int decide(rg_stream *st, rg_scratch *sc, const rg__snapshot *s,
                  const rg__croute *route, int with_copy, rg_result *result)
{
    clear_scratch(sc);
    size_t n = st->nset;
    if (n)
        memcpy(sc->raw, st->set, n * sizeof *st->set);
    sc->nraw = n;
    for (size_t di = 0; di < s->ndets && st->truncated; di++) {
        if (st->over[di] <= 0)
            continue;
        if (!(sc->det_flag[di] & RG__DF_TOUCHED)) {
            sc->det_flag[di] |= RG__DF_TOUCHED;
            sc->touched[sc->ntouched++] = (uint32_t)di;
        }
        if (st->over[di] > sc->det_max[di])
            sc->det_max[di] = st->over[di];
    }
    sc->truncated = st->truncated;
    sc->timed_out = st->timed_out;
    memcpy(result->version, s->version, sizeof result->version);
    memcpy(result->hash, s->hash, sizeof result->hash);
    if (st->invalid)
        result->flags |= RG_FLAG_INVALID_UTF8;
    size_t rlen = st->oversize ? st->lim : st->len;
    /* Conversation rules (conv.h): overrides by channel and locale on
     * every decision; required disclosures once the whole text is known. */
    rg_request q;
    memset(&q, 0, sizeof q);
    q.history_count = st->turns;
    q.channel = st->channel;
    q.locale = st->locale;
    rg__croute vroute;
    const rg__croute *eff = rg__conv_route(s, route, &q, &vroute);
    if (sc->conv)
        sc->conv->nhits = 0;
    if (with_copy && s->conv) {
        int cs = rg__conv_eval(sc, s, route, &q, st->text, rlen, NULL, 0);
        if (cs)
            return cs;
    }
    int rc = rg__decide(sc, s, eff, st->text, rlen, st->oversize, with_copy, result);
    if (sc->conv)
        sc->conv->nhits = 0;
    clear_scratch(sc);
    sc->truncated = 0;
    sc->timed_out = 0;
    if (rc)
        return rc;
    /* Which categories are masked now. */
    if (!sgrow(st, (void **)&st->rcat, &st->caprcat, s->ncats ? s->ncats : 1, 1))
        return RG_E_NOMEM;
    memset(st->rcat, 0, s->ncats ? s->ncats : 1);
    for (size_t i = 0; i < result->ncats; i++) {
        if (!result->cats[i].redact)
            continue;
        long c = cat_index(s, result->cats[i].category);
        if (c >= 0)
            st->rcat[c] = 1;
    }
    for (size_t i = 0; i < st->nset && !st->unmasked; i++) {
        const rg__cdet *dd = &s->dets[st->set[i].det];
        if (st->clear[i] && st->rcat[dd->cat] && !dd->shadow)
            st->unmasked = 1;
    }
    if (st->unmasked)
        result->flags |= RG_FLAG_RELEASED_UNMASKED;
    return RG_OK;
}

static int rel_put(rg_stream *st, const char *p, size_t n)
{
    if (!n)
        return 0;
    if (!sgrow(st, (void **)&st->rel, &st->rel_cap, st->rel_len + n + 1, 1))
        return -1;
    memcpy(st->rel + st->rel_len, p, n);
    st->rel_len += n;
    st->rel[st->rel_len] = '\0';
    return 0;
}

/* Release the kept text up to `upto` with the settled spans of masked
 * categories replaced by their mask, as rg_check's redacted copy does:
 * mask_end plays the part of its "pos" (a span overlapping the last mask
 * extends it), rel_pos is where the released text ends. A masked span
 * that starts in text already released unmasked (its category crossed
 * the redact threshold later, or a reload) is masked from rel_pos on and
 * flagged. */
static int release(rg_stream *st, const rg__snapshot *s, const rg__croute *route,
                   size_t upto)
{
    size_t pos = st->rel_pos;
    if (upto > st->len)
        upto = st->len;
    for (size_t i = st->cursor; i < st->nset && st->set[i].start < upto; i++) {
        const rg__rawhit *h = &st->set[i];
        const rg__cdet *dd = &s->dets[h->det];
        if (!st->rcat[dd->cat] || dd->shadow) {
            if (h->end > st->mask_end)
                st->clear[i] = 1; /* some of it goes out unmasked */
            continue;
        }
        if (h->end <= st->mask_end)
            continue;
        if (h->start < st->mask_end) {
            st->mask_end = h->end; /* overlaps the last mask: extend it */
            if (pos < h->end)
                pos = h->end;
            continue;
        }
        if (h->start < pos) {
            st->unmasked = 1; /* its start went out unmasked already */
            if (h->end <= pos)
                continue;
        } else if (rel_put(st, st->text + pos, h->start - pos)) {
            return -1;
        }
        const char *mask = route->thr[dd->cat].mask;
        if (rel_put(st, mask, strlen(mask)))
            return -1;
        pos = st->mask_end = h->end;
    }
    if (pos < upto) {
        if (rel_put(st, st->text + pos, upto - pos))
            return -1;
        pos = upto;
    }
    st->rel_pos = pos;
    while (st->cursor < st->nset && st->set[st->cursor].end <= pos &&
           st->set[st->cursor].start < pos)
        st->cursor++;
    if (pos > st->safe)
        st->safe = pos;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Feed and close                                                      */
/* ------------------------------------------------------------------ */

static int fail_result(rg_result *r, rg_verdict v, int status)
{
    if (r) {
        r->verdict = v;
        r->flags |= RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE;
    }
    return status;
}

/* Keep the chunk (up to max_bytes and a few bytes to cut on a code
 * point); returns how much of it was kept. */
static int keep(rg_stream *st, const rg__croute *route, const char *chunk, size_t n)
{
    size_t room = route->max_bytes + 4;
    size_t k = st->len < room ? room - st->len : 0;
    if (k > n)
        k = n;
    if (!sgrow(st, (void **)&st->text, &st->cap, st->len + k + 2, 1))
        return RG_E_NOMEM;
    if (k)
        memcpy(st->text + st->len, chunk, k);
    st->len += k;
    st->total += n;
    return RG_OK;
}

/* Everything a call does once the chunk is kept: scan what is new, settle,
 * hold back. fin: the text ended (close, or the oversize cut). */
static int process(rg_stream *st, rg_scratch *sc, const rg__snapshot *s,
                   const rg__croute *route, int fin)
{
    if (st->fin)
        return RG_OK;
    if (st->total > route->max_bytes && !st->oversize) {
        st->oversize = 1;
        st->lim = rg__utf8_floor(st->text, st->len, route->max_bytes);
        fin = 1;
    } else if (!st->oversize) {
        st->lim = st->len;
    }
    sc->snap = s;
    sc->nraw = 0;
    sc->ncallbacks = 0;
    sc->timed_out = 0;
    sc->truncated = 0;
    size_t oldS = st->nv.len;
    size_t old_raw = st->raw_len;
    int rc = raw_step(st, sc, s, fin);
    /* Separators that arrived, and where the unfinished raw token starts. */
    int sep_raw = 0;
    {
        const char *rt = raw_text(st);
        for (size_t i = st->raw_len; i-- > old_raw;)
            if (rg__ws_byte((unsigned char)rt[i])) {
                st->u_raw = i + 1;
                sep_raw = 1;
                break;
            }
    }
    if (!rc && !sc->timed_out && take_raw(st, sc, NULL))
        rc = RG_E_NOMEM;
    if (!rc && !sc->timed_out)
        rc = norm_step(st, sc, s, fin);
    if (!rc && !sc->timed_out && take_raw(st, sc, NULL))
        rc = RG_E_NOMEM;
    if (!rc && !sc->timed_out)
        rc = rx_step(st, sc, s, fin, sep_raw, st->nv.len > oldS, st->u_raw);
    if (!rc && !sc->timed_out)
        rc = compact_step(st, sc, s, fin);
    if (!rc && sc->timed_out)
        st->timed_out = 1;
    if (!rc && !st->timed_out && settle(st, sc, s, fin))
        rc = RG_E_NOMEM;
    sc->nraw = 0;
    if (rc)
        return rc;
    if (fin) {
        st->fin = 1;
        for (int v = 0; v < RG__VIEW_COUNT; v++) {
            if (st->hs[v])
                hs_close_stream(st->hs[v], NULL, NULL, NULL);
            st->hs[v] = NULL;
        }
    }
    return RG_OK;
}

/* The state for the snapshot the scratch pinned: after a reload the text
 * kept so far is checked again under the new policy. */
static int bind(rg_stream *st, rg_scratch *sc, const rg__snapshot *s)
{
    if (st->gen == s->generation && st->sdb)
        return RG_OK;
    struct rg__sdb *d;
    int rc = rg__sdb_get(st->engine, s, 0, &d);
    if (rc)
        return rc;
    st->reloaded = st->gen != 0;
    (void)sc;
    return reset_state(st, s, d);
}

static int call(rg_stream *st, rg_scratch *sc, const char *chunk, size_t len,
                rg_result *result, int closing)
{
    uint64_t t0 = now_ns();
    if (result)
        rg__result_reset(result);
    if (st) {
        st->rel_len = 0;
        if (st->rel)
            st->rel[0] = '\0';
    }
    if (!st || !sc || !result || (!chunk && len))
        return fail_result(result, RG_HANDOFF, RG_E_INVAL);
    if (st->closed)
        return fail_result(result, RG_HANDOFF, RG_E_INVAL);
    if (sc->engine != st->engine)
        return fail_result(result, RG_HANDOFF, RG_E_MISMATCH);
    rg_engine *e = st->engine;
    uint64_t t1 = 0;
    const rg__snapshot *s = rg__engine_pin(e, sc);
    const rg__croute *route = rg__snapshot_route(s, st->route);
    int status = st->status;
    if (closing)
        st->closed = 1;
    if (!route) {
        const rg__croute *def = rg__snapshot_route(s, "default");
        status = fail_result(result, def ? def->on_error : RG_HANDOFF, RG_E_NOROUTE);
        goto out;
    }
    if (status) {
        status = fail_result(result, route->on_error, status);
        goto out;
    }
    if (rg__scratch_fit(sc, s)) {
        status = RG_E_NOMEM;
        goto failed;
    }
    status = bind(st, sc, s);
    if (status)
        goto failed;
    /* The budget: the route's budget_us for this call, and for all the
     * calls of the stream together (compiling the streaming databases on
     * first use does not count). */
    t1 = now_ns();
    uint64_t kib = (st->total + len + RG__STREAM_BUDGET_BYTES - 1) / RG__STREAM_BUDGET_BYTES;
    uint64_t cap = route->budget_ns * (kib ? kib : 1);
    uint64_t left = st->spent_ns < cap ? cap - st->spent_ns : 0;
    sc->deadline = t1 + (left < route->budget_ns ? left : route->budget_ns);
    if (!left)
        st->timed_out = 1;
    size_t kept_before = st->len;
    status = keep(st, route, chunk, len);
    if (status)
        goto failed;
    /* A block stops the stream; at close, what it kept is checked to the
     * end so that the final result lists every finding. */
    if (!st->timed_out && (!st->blocked || closing)) {
        status = process(st, sc, s, route, closing);
        if (status)
            goto failed;
    }
    if (st->reloaded) {
        /* Checked again under a reloaded policy: what it now finds in
         * text already released went out as it was. */
        for (size_t i = 0; i < st->nset; i++)
            st->clear[i] = st->set[i].start < st->rel_pos;
        st->cursor = 0;
        st->mask_end = 0;
        st->reloaded = 0;
    }
    status = decide(st, sc, s, route, closing, result);
    if (status)
        goto failed;
    if (result->verdict == RG_BLOCK)
        st->blocked = 1;
    if (!st->blocked) {
        size_t upto;
        if (closing || st->fin)
            upto = st->lim;
        else
            upto = hold_back(st, sc, s);
        if (upto < st->rel_pos)
            upto = st->rel_pos;
        /* Unchecked bytes (past max_bytes, or after the budget ran out)
         * go only when the fail-safe verdict is allow. */
        int pass = result->verdict == RG_ALLOW && (st->oversize || st->timed_out);
        if (pass || (closing && !st->timed_out && !st->oversize))
            upto = st->len;
        if (release(st, s, route, upto)) {
            status = RG_E_NOMEM;
            goto failed;
        }
        if (st->unmasked)
            result->flags |= RG_FLAG_RELEASED_UNMASKED;
        if (pass && st->total > st->len) {
            /* Bytes past what the stream keeps: straight through. */
            size_t k = st->len - kept_before; /* this chunk's kept part */
            if (rel_put(st, chunk + k, len - k)) {
                status = RG_E_NOMEM;
                goto failed;
            }
            st->safe = st->total;
        }
        size_t keep_from = st->safe;
        for (size_t i = 0; i < st->ntent; i++)
            keep_from = min_sz(keep_from, st->tent[i].start);
        prune(st, keep_from);
    }
    goto out;
failed:
    st->status = status;
    status = fail_result(result, route->on_error, status);
out:
    st->last_ns = now_ns() - t0;
    st->spent_ns += now_ns() - (t1 ? t1 : t0);
    result->elapsed_ns = closing ? st->spent_ns : st->last_ns;
    if (closing && route) {
        /* Metrics and the audit event: once per stream, for the whole. */
        rg_request req;
        memset(&req, 0, sizeof req);
        req.route = st->route;
        req.reply = st->text;
        req.reply_len = st->oversize ? st->lim : st->len;
        req.channel = st->channel;
        req.locale = st->locale;
        req.labels = st->labels;
        req.label_count = st->nlabels;
        rg__observe(e, sc, s, route, &req, result, status);
    }
    clear_scratch(sc);
    sc->snap = NULL;
    rg__engine_unpin(sc);
    return status;
}

int rg_stream_feed(rg_stream *st, rg_scratch *sc, const char *chunk, size_t len,
                   rg_result *result)
{
    return call(st, sc, chunk, len, result, 0);
}

int rg_stream_close(rg_stream *st, rg_scratch *sc, rg_result *result)
{
    return call(st, sc, NULL, 0, result, 1);
}
