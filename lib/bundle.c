/* bundle.c — a compiled snapshot as one self-contained file.
 *
 * `replyguard compile DIR -o FILE` (rg_bundle_write) serializes the whole
 * snapshot: detectors, categories, pattern table, resolved routes, and the
 * Hyperscan databases (hs_serialize_database). Loading one reads no YAML
 * and compiles nothing in Hyperscan; PCRE2 codes are recompiled from the
 * patterns stored in the bundle (with JIT), because a serialized PCRE2
 * code is tied to the PCRE2 build and JIT code is never serialized anyway
 * (measured: docs/AUTHORING.md).
 *
 * Layout (little-endian):
 *   "RGBUNDL\1" | u32 format | u32 layout[8] | str rg version |
 *   str hs version | u8 generic | u64 tune | u64 cpu features |
 *   u64 payload length | SHA-256(payload)[32] | payload
 * The layout words are sizes of the snapshot structures of the build that
 * wrote it: a bundle is refused by any build whose snapshot differs, since
 * every field of the snapshot must be in the bundle.
 *
 * Plain-data arrays (rg__pat, rg__cctx: no pointers) are stored as their
 * raw bytes, so a field added to them travels without a change here (the
 * layout words make sure reader and writer agree on the layout).
 *
 * MAINTAINERS: a new field in rg__snapshot / rg__cdet / rg__croute /
 * rg__cthr must be written in encode() and read in decode();
 * tests/test_cache.c checks that engines loaded from bundles answer
 * exactly as compiled ones on every fixture policy. */
#include "cache.h"
#include "alloc.h"
#include "sha256.h"
#include "conv.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUNDLE_MAGIC "RGBUNDL\1"
#define BUNDLE_FORMAT 13u /* 2: the expressions behind each database;
                            3: detector scopes, conversation rules;
                            4: the digit-gated databases;
                            5: trigger-literal patterns (rg__pat.back);
                            6: a window per digit gate;
                            7: the pairing databases (allow and context
                               words apart), each gate's longest match;
                            8: a byte range per gate (digits.h
                               rg__gatedef), the user-message gate;
                            9: word boundaries at trigger literals'
                               ends (rg__pat.edges, literals.h), the
                               cluster gates (digits.h);
                            10: the prescan databases (snapshot.h
                               gudb);
                            11: pairing databases hold each expression
                               once (rg__pat.same chains);
                            12: the capitals' cluster gate (a cluster
                               gate of range '0'..'Z' has the
                               capitals' cluster set);
                            13: the confirmation databases (snapshot
                               cdb) */
#define BUNDLE_MAX (1u << 30)

static void layout(uint32_t out[8])
{
    out[0] = (uint32_t)sizeof(rg__snapshot);
    out[1] = (uint32_t)sizeof(rg__cdet);
    out[2] = (uint32_t)sizeof(rg__pat);
    out[3] = (uint32_t)sizeof(rg__croute);
    out[4] = (uint32_t)sizeof(rg__cthr);
    out[5] = (uint32_t)sizeof(rg__cctx);
    out[6] = RG__VIEW_COUNT;
    out[7] = RG__F_COUNT;
}

int rg__bundle_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char m[8];
    int yes = fread(m, 1, 8, f) == 8 && memcmp(m, BUNDLE_MAGIC, 8) == 0;
    fclose(f);
    return yes;
}

/* ------------------------------------------------------------------ */
/* Encode                                                              */
/* ------------------------------------------------------------------ */

static void put_thr(rg__wbuf *w, const rg__cthr *t)
{
    for (int f = 0; f < RG__F_COUNT; f++) {
        rg__w_f64(w, t->v[f]);
        rg__w_str(w, t->key[f]);
        rg__w_str(w, t->from[f]);
    }
    rg__w_str(w, t->mask);
}

/* One Hyperscan database, length-prefixed (length 0: none). Returns -1
 * when Hyperscan cannot serialize it (out of memory). */
static int put_db(rg__wbuf *w, const hs_database_t *db)
{
    char *bytes = NULL;
    size_t n = 0;
    if (db && hs_serialize_database(db, &bytes, &n) != HS_SUCCESS)
        return -1;
    rg__w_u64(w, n);
    rg__w_bytes(w, bytes, n);
    free(bytes); /* Hyperscan's misc allocator: malloc */
    return 0;
}

int rg__bundle_encode(const rg_allocator *a, const rg__snapshot *s,
                      int generic, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    rg__wbuf w = {a, NULL, 0, 0, 0};
    rg__w_bytes(&w, BUNDLE_MAGIC, 8);
    rg__w_u32(&w, BUNDLE_FORMAT);
    uint32_t lay[8];
    layout(lay);
    for (int i = 0; i < 8; i++)
        rg__w_u32(&w, lay[i]);
    rg__w_str(&w, RG_VERSION_STRING);
    rg__w_str(&w, hs_version());
    hs_platform_info_t plat;
    if (generic)
        rg__platform_generic(&plat);
    else
        rg__platform_host(&plat);
    rg__w_u8(&w, (uint8_t)(generic != 0));
    rg__w_u64(&w, plat.tune);
    rg__w_u64(&w, plat.cpu_features);
    size_t len_at = w.len;
    rg__w_u64(&w, 0);
    uint8_t zero[32] = {0};
    rg__w_bytes(&w, zero, 32);
    size_t start = w.len;

    rg__w_str(&w, s->version);
    rg__w_str(&w, s->hash);
    rg__w_u64(&w, s->compile_ns);
    rg__w_u64(&w, s->nwords);
    rg__w_u64(&w, s->nregex);
    rg__w_u32(&w, (uint32_t)s->ncats);
    for (size_t i = 0; i < s->ncats; i++)
        rg__w_str(&w, s->cats[i]);
    rg__w_u32(&w, (uint32_t)s->ndeclared);
    for (size_t i = 0; i < s->ndeclared; i++)
        rg__w_str(&w, s->declared[i]);
    rg__w_u32(&w, (uint32_t)s->ndets);
    for (size_t i = 0; i < s->ndets; i++) {
        const rg__cdet *d = &s->dets[i];
        rg__w_str(&w, d->id);
        rg__w_u32(&w, d->cat);
        rg__w_u8(&w, (uint8_t)d->kind);
        rg__w_u8(&w, (uint8_t)d->view);
        rg__w_f64(&w, d->score);
        rg__w_u32(&w, (uint32_t)d->validate);
        rg__w_u8(&w, (uint8_t)(d->pcre_only != 0));
        rg__w_u8(&w, (uint8_t)(d->shadow != 0));
        rg__w_u8(&w, d->scope);
        rg__w_str(&w, d->re ? d->pattern : NULL);
        rg__w_u32(&w, d->pcre_opts);
        rg__w_u32(&w, d->nctx);
        rg__w_bytes(&w, d->ctx, d->nctx * sizeof *d->ctx);
    }
    rg__w_u32(&w, (uint32_t)s->npats);
    rg__w_bytes(&w, s->pats, s->npats * sizeof *s->pats);
    int bad = 0;
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        bad |= put_db(&w, s->db[v]);
    /* The digit-gated databases (format 4): the gates, then per view and
     * gate a database (length 0: none). */
    rg__w_u32(&w, (uint32_t)s->ngdb);
    for (size_t g = 0; g < s->ngdb; g++) {
        rg__w_u32(&w, s->gate[g]);
        rg__w_u32(&w, s->gwin[g]); /* format 6 */
        rg__w_u32(&w, s->gmaxw[g]); /* format 7 */
        /* format 8; the cluster gap + 1 (format 9) */
        rg__w_u32(&w, (uint32_t)s->glo[g] | (uint32_t)s->ghi[g] << 8 | (uint32_t)s->gclu[g] << 16);
    }
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        for (size_t g = 0; g < s->ngdb; g++)
            bad |= put_db(&w, s->gdb[v][g]);
    /* The pairing databases (format 7), per view (length 0: none). */
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        bad |= put_db(&w, s->pdb[v]);
    /* The prescan databases (format 10), per view and gate in use. */
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        for (size_t g = 0; g < s->ngdb; g++)
            bad |= put_db(&w, s->gudb[v][g]);
    /* The confirmation databases (format 13), then the detectors that
     * have one: index, slot + 1, the regex's width. */
    for (int k = 0; k < RG__MAX_CONFIRM; k++)
        bad |= put_db(&w, s->cdb[k]);
    uint32_t nconf = 0;
    for (size_t i = 0; i < s->ndets; i++)
        nconf += s->dets[i].confirm != 0;
    rg__w_u32(&w, nconf);
    for (size_t i = 0; i < s->ndets; i++)
        if (s->dets[i].confirm) {
            rg__w_u32(&w, (uint32_t)i);
            rg__w_u8(&w, s->dets[i].confirm);
            rg__w_u32(&w, s->dets[i].maxw);
        }
    if (bad) {
        rg__free(a, w.p);
        return RG_E_NOMEM;
    }
    /* The expressions behind each database: streaming compiles its own
     * HS_MODE_STREAM databases from them on first use (stream.c). */
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        rg__w_u32(&w, (uint32_t)s->hx[v].n);
        for (size_t i = 0; i < s->hx[v].n; i++) {
            rg__w_str(&w, s->hx[v].expr[i]);
            rg__w_u32(&w, s->hx[v].flags[i]);
            rg__w_u32(&w, s->hx[v].ids[i]);
        }
    }
    rg__w_u32(&w, (uint32_t)s->nalways);
    for (size_t i = 0; i < s->nalways; i++)
        rg__w_u32(&w, s->always[i]);
    rg__w_u32(&w, (uint32_t)s->nroutes);
    for (size_t r = 0; r < s->nroutes; r++) {
        const rg__croute *cr = &s->routes[r];
        rg__w_str(&w, cr->name);
        rg__w_u64(&w, cr->budget_ns);
        rg__w_u64(&w, cr->max_bytes);
        rg__w_u8(&w, (uint8_t)cr->on_timeout);
        rg__w_u8(&w, (uint8_t)cr->on_error);
        rg__w_u8(&w, (uint8_t)cr->on_oversize);
        rg__w_u8(&w, (uint8_t)(cr->sthr != NULL));
        for (size_t c = 0; c < s->ncats; c++)
            put_thr(&w, &cr->thr[c]);
        for (size_t c = 0; cr->sthr && c < s->ncats; c++)
            put_thr(&w, &cr->sthr[c]);
    }
    rg__conv_encode(&w, s);
    if (w.oom) {
        rg__free(a, w.p);
        return RG_E_NOMEM;
    }
    uint64_t plen = w.len - start;
    for (int i = 0; i < 8; i++)
        w.p[len_at + (size_t)i] = (uint8_t)(plen >> (8 * i));
    rg__sha256 h;
    rg__sha256_init(&h);
    rg__sha256_update(&h, w.p + start, (size_t)plen);
    rg__sha256_final(&h, w.p + start - 32);
    *data = w.p;
    *len = w.len;
    return RG_OK;
}

/* ------------------------------------------------------------------ */
/* Decode                                                              */
/* ------------------------------------------------------------------ */

typedef struct dec {
    rg__snapshot *s;
    rg__rbuf r;
    int oom;
} dec;

/* A string of the snapshot (deduplicated, owned by it); "" on OOM, NULL
 * for a stored NULL. */
static const char *own_str(dec *x, int nullable)
{
    size_t n;
    const char *p = rg__r_str(&x->r, &n);
    if (!p) {
        if (!nullable)
            x->r.bad = 1;
        return NULL;
    }
    if (memchr(p, '\0', n)) {
        x->r.bad = 1;
        return NULL;
    }
    rg__snapshot *s = x->s;
    for (size_t i = 0; i < s->nowned; i++)
        if (strlen(s->owned[i]) == n && memcmp(s->owned[i], p, n) == 0)
            return s->owned[i];
    if (rg__grow(&s->a, (void **)&s->owned, &s->capowned, s->nowned + 1,
                 sizeof *s->owned)) {
        x->oom = 1;
        return "";
    }
    char *c = rg__strndup(&s->a, p, n);
    if (!c) {
        x->oom = 1;
        return "";
    }
    s->owned[s->nowned++] = c;
    return c;
}

/* A count of items of at least `min_bytes` each that the rest of the
 * buffer could hold; anything larger is corrupt. */
static uint32_t count(dec *x, size_t min_bytes)
{
    uint32_t n = rg__r_u32(&x->r);
    if (x->r.bad || (uint64_t)n * min_bytes > x->r.len - x->r.pos) {
        x->r.bad = 1;
        return 0;
    }
    return n;
}

static int get_thr(dec *x, rg__cthr *t)
{
    for (int f = 0; f < RG__F_COUNT; f++) {
        t->v[f] = rg__r_f64(&x->r);
        t->key[f] = own_str(x, 1);
        t->from[f] = own_str(x, 1);
        if (!(t->v[f] >= 0 && t->v[f] <= RG__OFF))
            x->r.bad = 1;
    }
    t->mask = own_str(x, 0);
    return x->r.bad || x->oom ? -1 : 0;
}

/* One database of the bundle (its length, 0: none) into *db, with room
 * for it in the snapshot's prototype scratch. RG_OK (x->r.bad set when
 * the bundle is cut short), or RG_E_BUNDLE / RG_E_NOMEM with why. */
static int get_db(dec *x, rg__snapshot *s, hs_database_t **db, char *why, size_t whysize)
{
    uint64_t dn = rg__r_u64(&x->r);
    if (x->r.bad || dn == 0)
        return RG_OK;
    const uint8_t *bytes = dn <= x->r.len ? rg__r_bytes(&x->r, (size_t)dn) : NULL;
    if (!bytes) {
        x->r.bad = 1;
        return RG_OK;
    }
    if (hs_deserialize_database((const char *)bytes, (size_t)dn, db) != HS_SUCCESS) {
        snprintf(why, whysize, "a Hyperscan database does not load");
        return RG_E_BUNDLE;
    }
    hs_error_t e = hs_alloc_scratch(*db, &s->proto);
    if (e == HS_NOMEM)
        return RG_E_NOMEM;
    if (e != HS_SUCCESS) {
        snprintf(why, whysize, "its Hyperscan databases were compiled for "
                 "a CPU with features this one lacks; rebuild it here or "
                 "with 'replyguard compile --generic'");
        return RG_E_BUNDLE;
    }
    return RG_OK;
}

static void *pcre_malloc(size_t n, void *u) { return rg__malloc(u, n); }
static void pcre_free(void *p, void *u) { rg__free(u, p); }

/* The payload into s. Returns RG_OK, RG_E_BUNDLE (bad data, with a
 * message in why) or RG_E_NOMEM. */
static int decode(dec *x, char *why, size_t whysize)
{
    rg__snapshot *s = x->s;
    const rg_allocator *a = &s->a;
    size_t n;
    const char *v = rg__r_str(&x->r, &n);
    if (v && n < sizeof s->version)
        memcpy(s->version, v, n);
    const char *h = rg__r_str(&x->r, &n);
    if (!h || n != 64) {
        snprintf(why, whysize, "bad policy hash");
        return RG_E_BUNDLE;
    }
    memcpy(s->hash, h, 64);
    s->compile_ns = rg__r_u64(&x->r);
    s->nwords = (size_t)rg__r_u64(&x->r);
    s->nregex = (size_t)rg__r_u64(&x->r);

    uint32_t nc = count(x, 4);
    s->cats = rg__calloc(a, nc ? nc : 1, sizeof *s->cats);
    if (!s->cats)
        return RG_E_NOMEM;
    for (uint32_t i = 0; i < nc && !x->r.bad; i++)
        s->cats[s->ncats++] = (char *)own_str(x, 0);
    uint32_t nd = count(x, 4);
    if (nd) {
        s->declared = rg__calloc(a, nd, sizeof *s->declared);
        if (!s->declared)
            return RG_E_NOMEM;
    }
    for (uint32_t i = 0; i < nd && !x->r.bad; i++)
        s->declared[s->ndeclared++] = (char *)own_str(x, 0);

    uint32_t ndet = count(x, 30);
    s->dets = rg__calloc(a, ndet ? ndet : 1, sizeof *s->dets);
    s->always = rg__calloc(a, ndet ? ndet : 1, sizeof *s->always);
    if (!s->dets || !s->always)
        return RG_E_NOMEM;
    s->max_ovector = 1;
    for (uint32_t i = 0; i < ndet && !x->r.bad && !x->oom; i++) {
        rg__cdet *d = &s->dets[i];
        s->ndets = i + 1;
        d->id = (char *)own_str(x, 0);
        d->cat = rg__r_u32(&x->r);
        d->kind = (rg__kind)rg__r_u8(&x->r);
        d->view = (rg__view)rg__r_u8(&x->r);
        d->score = rg__r_f64(&x->r);
        d->validate = (rg__validator)rg__r_u32(&x->r);
        d->pcre_only = rg__r_u8(&x->r);
        d->shadow = rg__r_u8(&x->r);
        d->scope = rg__r_u8(&x->r);
        d->pattern = own_str(x, 1);
        d->pcre_opts = rg__r_u32(&x->r);
        uint32_t nctx = count(x, sizeof(rg__cctx));
        if (d->cat >= s->ncats || d->kind > RG__KIND_PCRE ||
            d->view >= RG__VIEW_COUNT || nctx > UINT16_MAX ||
            !(d->score >= 0 && d->score <= 1))
            x->r.bad = 1;
        if (x->r.bad)
            break;
        s->has_shadow |= d->shadow;
        if (nctx) {
            d->ctx = rg__calloc(a, nctx, sizeof *d->ctx);
            const uint8_t *raw = rg__r_bytes(&x->r, nctx * sizeof *d->ctx);
            if (!d->ctx)
                return RG_E_NOMEM;
            if (!raw)
                break;
            memcpy(d->ctx, raw, nctx * sizeof *d->ctx);
            d->nctx = (uint16_t)nctx;
        }
        if (d->pattern) {
            int errcode;
            PCRE2_SIZE erroff;
            pcre2_compile_context *cctx = pcre2_compile_context_create(s->gctx);
            if (!cctx)
                return RG_E_NOMEM;
            d->re = pcre2_compile((PCRE2_SPTR)d->pattern, PCRE2_ZERO_TERMINATED,
                                  d->pcre_opts, &errcode, &erroff, cctx);
            pcre2_compile_context_free(cctx);
            if (!d->re) {
                if (errcode == PCRE2_ERROR_HEAP_FAILED)
                    return RG_E_NOMEM;
                snprintf(why, whysize, "pattern of detector '%.60s' does not "
                         "compile with this PCRE2", d->id ? d->id : "?");
                return RG_E_BUNDLE;
            }
            d->jit = pcre2_jit_compile(d->re, PCRE2_JIT_COMPLETE) == 0;
            uint32_t minlen = 0;
            pcre2_pattern_info(d->re, PCRE2_INFO_MINLENGTH, &minlen);
            d->minlen = (uint16_t)(minlen > UINT16_MAX ? UINT16_MAX : minlen);
            uint32_t cap = 0;
            pcre2_pattern_info(d->re, PCRE2_INFO_CAPTURECOUNT, &cap);
            if (cap + 1 > s->max_ovector)
                s->max_ovector = cap + 1;
        }
    }
    uint32_t np = count(x, sizeof(rg__pat));
    s->pats = rg__calloc(a, np ? np : 1, sizeof *s->pats);
    if (!s->pats)
        return RG_E_NOMEM;
    const uint8_t *raw = rg__r_bytes(&x->r, (size_t)np * sizeof *s->pats);
    if (raw) {
        memcpy(s->pats, raw, (size_t)np * sizeof *s->pats);
        s->npats = np;
    }
    for (uint32_t i = 0; i < s->npats && !x->r.bad; i++) {
        const rg__pat *p = &s->pats[i];
        if (p->det >= s->ndets ||
            (p->type == RG__PAT_CONTEXT && p->ctx >= s->dets[p->det].nctx) ||
            (p->same && (p->same - 1 <= i || p->same - 1 >= s->npats)))
            x->r.bad = 1; /* the scan callback indexes with these (and
                             walks `same` chains: forward only, so no loop) */
    }
    /* The view databases, then (format 4) the digit-gated ones, then
     * (format 7) the pairing ones, then (format 10) the prescan ones. */
    uint32_t ng = 0;
    const int ngk = RG__VIEW_COUNT + RG__VIEW_COUNT * RG__NGATES;
    const int npk = ngk + RG__VIEW_COUNT;
    for (int k = 0; k < npk + RG__VIEW_COUNT * RG__NGATES && !x->r.bad; k++) {
        hs_database_t **db;
        if (k < RG__VIEW_COUNT) {
            db = &s->db[k];
        } else if (k >= npk) {
            int gv = (k - npk) / RG__NGATES, g = (k - npk) % RG__NGATES;
            if ((uint32_t)g >= ng)
                continue;
            db = &s->gudb[gv][g];
        } else if (k >= ngk) {
            db = &s->pdb[k - ngk];
        } else {
            int j = k - RG__VIEW_COUNT;
            if (j == 0) {
                ng = rg__r_u32(&x->r);
                if (x->r.bad || ng > RG__NGATES) {
                    x->r.bad = 1;
                    break;
                }
                for (int g = 0; g < RG__NGATES; g++)
                    s->gmaxw[g] = UINT32_MAX;
                for (uint32_t g = 0; g < ng; g++) {
                    s->gate[g] = rg__r_u32(&x->r);
                    s->gwin[g] = rg__r_u32(&x->r);
                    s->gmaxw[g] = rg__r_u32(&x->r);
                    uint32_t range = rg__r_u32(&x->r);
                    s->glo[g] = (uint8_t)range;
                    s->ghi[g] = (uint8_t)(range >> 8);
                    s->gclu[g] = (uint8_t)(range >> 16);
                    if (s->gclu[g])
                        s->gclumask |= 1u << g;
                    if (range >> 24 || s->glo[g] > s->ghi[g] || s->ghi[g] >= 0x80 ||
                        s->gate[g] > 16 || s->gclu[g] > 16)
                        x->r.bad = 1; /* check.c counts ASCII ranges, up to 16 */
                }
                s->ngdb = ng;
                if (x->r.bad)
                    break;
            }
            int gv = j / RG__NGATES, g = j % RG__NGATES;
            if ((uint32_t)g >= ng)
                continue;
            db = &s->gdb[gv][g];
        }
        int rc = get_db(x, s, db, why, whysize);
        if (rc != RG_OK)
            return rc;
    }
    /* The confirmation databases (format 13) and their detectors. */
    for (int k = 0; k < RG__MAX_CONFIRM && !x->r.bad; k++) {
        int rc = get_db(x, s, &s->cdb[k], why, whysize);
        if (rc != RG_OK)
            return rc;
    }
    uint32_t nconf = x->r.bad ? 0 : count(x, 9);
    for (uint32_t i = 0; i < nconf && !x->r.bad; i++) {
        uint32_t di = rg__r_u32(&x->r);
        uint8_t k = rg__r_u8(&x->r);
        uint32_t maxw = rg__r_u32(&x->r);
        if (x->r.bad || di >= s->ndets || k == 0 || k > RG__MAX_CONFIRM) {
            x->r.bad = 1; /* extract_spans indexes cdb with it */
            break;
        }
        s->dets[di].confirm = k;
        s->dets[di].maxw = maxw;
    }
    for (int vi = 0; vi < RG__VIEW_COUNT && !x->r.bad; vi++) {
        uint32_t ne = count(x, 12);
        rg__hexprs *hx = &s->hx[vi];
        if (!ne)
            continue;
        hx->expr = rg__calloc(a, ne, sizeof *hx->expr);
        hx->flags = rg__calloc(a, ne, sizeof *hx->flags);
        hx->ids = rg__calloc(a, ne, sizeof *hx->ids);
        if (!hx->expr || !hx->flags || !hx->ids)
            return RG_E_NOMEM;
        for (uint32_t i = 0; i < ne && !x->r.bad; i++) {
            size_t en;
            const char *e = rg__r_str(&x->r, &en);
            hx->flags[i] = rg__r_u32(&x->r);
            hx->ids[i] = rg__r_u32(&x->r);
            if (!e || memchr(e, '\0', en) || hx->ids[i] >= s->npats) {
                x->r.bad = 1;
                break;
            }
            if (!(hx->expr[i] = rg__strndup(a, e, en)))
                return RG_E_NOMEM;
            hx->n = i + 1;
        }
    }
    /* Which pairing databases each detector's hits need (not stored:
     * the expression lists say it). Their ids were checked above. */
    if (!x->r.bad)
        rg__snapshot_pviews(s);
    uint32_t na = count(x, 4);
    for (uint32_t i = 0; i < na && !x->r.bad; i++) {
        uint32_t di = rg__r_u32(&x->r);
        if (di >= s->ndets || !s->dets[di].re)
            x->r.bad = 1;
        else
            s->always[s->nalways++] = di;
    }
    uint32_t nr = count(x, 24);
    s->routes = rg__calloc(a, nr ? nr : 1, sizeof *s->routes);
    if (!s->routes)
        return RG_E_NOMEM;
    for (uint32_t r = 0; r < nr && !x->r.bad && !x->oom; r++) {
        rg__croute *cr = &s->routes[r];
        s->nroutes = r + 1;
        cr->name = (char *)own_str(x, 0);
        cr->budget_ns = rg__r_u64(&x->r);
        cr->max_bytes = (size_t)rg__r_u64(&x->r);
        cr->on_timeout = (rg_verdict)rg__r_u8(&x->r);
        cr->on_error = (rg_verdict)rg__r_u8(&x->r);
        cr->on_oversize = (rg_verdict)rg__r_u8(&x->r);
        int shadow = rg__r_u8(&x->r);
        if (cr->on_timeout > RG_BLOCK || cr->on_error > RG_BLOCK ||
            cr->on_oversize > RG_BLOCK || !cr->name ||
            (r > 0 && strcmp(s->routes[r - 1].name, cr->name) >= 0))
            x->r.bad = 1; /* routes must stay sorted: lookups bisect */
        if (x->r.bad)
            break;
        cr->thr = rg__calloc(a, s->ncats ? s->ncats : 1, sizeof *cr->thr);
        if (!cr->thr)
            return RG_E_NOMEM;
        for (size_t c = 0; c < s->ncats; c++)
            if (get_thr(x, &cr->thr[c]))
                break;
        if (shadow && !x->r.bad) {
            cr->shadow = 1;
            cr->sthr = rg__calloc(a, s->ncats ? s->ncats : 1, sizeof *cr->sthr);
            if (!cr->sthr)
                return RG_E_NOMEM;
            for (size_t c = 0; c < s->ncats; c++)
                if (get_thr(x, &cr->sthr[c]))
                    break;
        }
    }
    if (!x->r.bad && !x->oom && rg__conv_decode(&x->r, s))
        return RG_E_NOMEM;
    if (x->oom)
        return RG_E_NOMEM;
    if (x->r.bad || x->r.pos != x->r.len) {
        snprintf(why, whysize, "its contents are inconsistent");
        return RG_E_BUNDLE;
    }
    return RG_OK;
}

int rg__bundle_read(const rg_allocator *a, const char *path,
                    rg__snapshot **out, rg__diags *d)
{
    *out = NULL;
    uint8_t *data;
    size_t len;
    char why[256];
    int rc = rg__slurp(a, path, BUNDLE_MAX, &data, &len, why, sizeof why);
    if (rc == RG_E_NOMEM)
        return rc;
    if (rc != RG_OK) {
        rg__diag_error(d, path, 0, 0, "cannot read bundle: %s", why);
        return RG_E_IO;
    }
    rg__rbuf r = {data, len, 0, 0};
    const uint8_t *magic = rg__r_bytes(&r, 8);
    uint32_t fmt = rg__r_u32(&r);
    uint32_t lay[8], want[8];
    layout(want);
    int same_layout = 1;
    for (int i = 0; i < 8; i++) {
        lay[i] = rg__r_u32(&r);
        same_layout &= lay[i] == want[i];
    }
    size_t vn = 0, hn = 0;
    const char *rgv = rg__r_str(&r, &vn);
    const char *hsv = rg__r_str(&r, &hn);
    int generic = rg__r_u8(&r);
    (void)rg__r_u64(&r); /* tune */
    (void)rg__r_u64(&r); /* cpu features */
    uint64_t plen = rg__r_u64(&r);
    const uint8_t *sum = rg__r_bytes(&r, 32);
    const char *hv = hs_version();
    rc = RG_E_BUNDLE;
    if (!magic || memcmp(magic, BUNDLE_MAGIC, 8) != 0) {
        snprintf(why, sizeof why, "not a replyguard bundle");
    } else if (r.bad) {
        snprintf(why, sizeof why, "truncated (%zu bytes: not even a whole "
                 "header)", len);
    } else if (fmt != BUNDLE_FORMAT) {
        snprintf(why, sizeof why, "unsupported bundle format %u (this "
                 "library reads format %u)", fmt, BUNDLE_FORMAT);
    } else if (!rgv || vn != strlen(RG_VERSION_STRING) ||
               memcmp(rgv, RG_VERSION_STRING, vn) != 0 || !same_layout) {
        snprintf(why, sizeof why, "written by replyguard %.*s, a different "
                 "build from this library (%s): rebuild it with this "
                 "version's 'replyguard compile'", rgv ? (int)(vn > 32 ? 32 : vn) : 1,
                 rgv ? rgv : "?", RG_VERSION_STRING);
    } else if (!hsv || hn != strlen(hv) || memcmp(hsv, hv, hn) != 0) {
        snprintf(why, sizeof why, "built with Hyperscan %.*s; this library "
                 "uses Hyperscan %s: rebuild it", hsv ? (int)(hn > 64 ? 64 : hn) : 1,
                 hsv ? hsv : "?", hv);
    } else if (plen != len - r.pos) {
        snprintf(why, sizeof why, "truncated (%zu of %llu payload bytes)",
                 len - r.pos, (unsigned long long)plen);
    } else {
        uint8_t got[32];
        rg__sha256 h;
        rg__sha256_init(&h);
        rg__sha256_update(&h, data + r.pos, (size_t)plen);
        rg__sha256_final(&h, got);
        if (memcmp(got, sum, 32) != 0)
            snprintf(why, sizeof why, "corrupt (checksum mismatch)");
        else
            rc = RG_OK;
    }
    if (rc != RG_OK) {
        rg__diag_error(d, path, 0, 0, "cannot load bundle: %s", why);
        rg__free(a, data);
        return rc;
    }
    (void)generic;

    rg__snapshot *s = rg__calloc(a, 1, sizeof *s);
    if (!s) {
        rg__free(a, data);
        return RG_E_NOMEM;
    }
    s->a = *a;
    s->gctx = pcre2_general_context_create(pcre_malloc, pcre_free, (void *)&s->a);
    dec x = {s, {data + r.pos, (size_t)plen, 0, 0}, 0};
    rc = s->gctx ? decode(&x, why, sizeof why) : RG_E_NOMEM;
    rg__free(a, data);
    if (rc != RG_OK) {
        if (rc == RG_E_BUNDLE)
            rg__diag_error(d, path, 0, 0, "cannot load bundle: %s", why);
        rg__snapshot_free(s);
        return rc;
    }
    *out = s;
    return RG_OK;
}

/* ------------------------------------------------------------------ */
/* rg_bundle_write                                                     */
/* ------------------------------------------------------------------ */

int rg_bundle_write(const char *policy_path, const char *bundle_path,
                    const rg_engine_options *opts, unsigned flags,
                    rg_diag **diag)
{
    if (diag)
        *diag = NULL;
    if (!policy_path || !bundle_path || (flags & ~(unsigned)RG_BUNDLE_GENERIC) ||
        (opts && opts->struct_size < offsetof(rg_engine_options, flags) + sizeof(unsigned)))
        return RG_E_INVAL;
    rg_allocator a;
    rg__allocator_init(&a, opts ? opts->allocator : NULL);
    rg__diags d;
    rg__diags_init(&d, &a);
    rg__policy *p = NULL;
    rg__snapshot *s = NULL;
    int generic = (flags & RG_BUNDLE_GENERIC) != 0;
    hs_platform_info_t plat;
    if (generic)
        rg__platform_generic(&plat);
    int rc = rg__bundle_sniff(policy_path) ? RG_E_INVAL : RG_OK;
    if (rc != RG_OK)
        rg__diag_error(&d, policy_path, 0, 0, "this is already a bundle; give "
                       "the policy directory");
    if (rc == RG_OK)
        rc = rg__policy_load(&a, policy_path, &p, &d);
    if (rc == RG_OK)
        rc = rg__policy_check(p, &d);
    if (rc == RG_OK)
        rc = rg__snapshot_compile_ex(&a, p, NULL, generic ? &plat : NULL, &s, &d);
    rg__policy_free(p);
    uint8_t *data = NULL;
    size_t len = 0;
    if (rc == RG_OK)
        rc = rg__bundle_encode(&a, s, generic, &data, &len);
    if (rc == RG_OK && rg__write_atomic(bundle_path, data, len) != 0) {
        rg__diag_error(&d, bundle_path, 0, 0, "cannot write bundle: %s",
                       strerror(errno));
        rc = RG_E_IO;
    }
    rg__free(&a, data);
    rg__snapshot_free(s);
    if (rc == RG_OK && d.oom)
        rc = RG_E_NOMEM;
    if (diag)
        *diag = rg__diags_finish(&d);
    else
        rg__diags_discard(&d);
    return rc;
}
