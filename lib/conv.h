/* conv.h — conversation-level rules (docs/CONVERSATION.md).
 *
 * Three pieces, each in its own file:
 *   - the model (policy_load.c parses, conv_model.c frees and adds the
 *     built-in detectors): a route's `loop:` and `require:` blocks, a
 *     detector's `scan:` scope;
 *   - the compiled form (conv_compile.c): per route, normalized phrases,
 *     the loop settings and the detector each finding reports under;
 *   - the check (conv.c): the user-message scan, loops, repeated asks,
 *     missing disclosures, and the handoff context (handoff.c).
 *
 * Findings that are not text matches (a loop, a missing disclosure) are
 * reported as hits of built-in detectors of the ordinary categories
 * handoff.loop and compliance.missing_disclosure, so route thresholds,
 * actions, reasons, metrics and audits treat them like any other hit. */
#ifndef RG_CONV_H
#define RG_CONV_H
#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* Which texts a detector scans (`scan:`). Bits: the Hyperscan callback
 * keeps a pattern only when its scope has the bit of the text being
 * scanned (rg_scratch.scan_user). */
enum { RG__SCOPE_REPLY = 1, RG__SCOPE_USER = 2, RG__SCOPE_BOTH = 3 };

/* Channels a `when:` can name (0: any). */
enum { RG__WCH_ANY = 0, RG__WCH_CHAT, RG__WCH_VOICE, RG__WCH_SMS, RG__WCH_EMAIL };

/* ---- model -------------------------------------------------------- */

typedef struct rg__mphrases {
    char **v;                  /* as written */
    size_t n;
} rg__mphrases;

typedef struct rg__mrequire {
    char *id;
    rg__mphrases any;
    int first_turn;            /* when: first_turn: true */
    int channel;               /* when: channel (RG__WCH_*) */
    char *lang;                /* when: locale language ("es"), or NULL */
    rg__loc loc;
} rg__mrequire;

typedef struct rg__mask {
    char *id;
    rg__mphrases any;
    rg__loc loc;
} rg__mask;

/* One `overrides:` item: a pseudo-route (name "R[channel=voice]") whose
 * rules beat the route's own when its condition holds. */
typedef struct rg__moverride {
    int channel;               /* RG__WCH_*, 0 any */
    char *lang;                /* or NULL: any */
    rg__route route;           /* name and rules only */
} rg__moverride;

typedef struct rg__mconv {
    int has_loop;
    int has_history, has_similarity, has_repeats, has_repeat_ask, has_asks;
    uint32_t history;          /* last N assistant replies compared */
    double similarity;         /* shingle Jaccard that counts as a repeat */
    uint32_t repeats;          /* near-duplicates in history that fire */
    uint32_t repeat_ask;       /* asks (history + draft) that fire */
    int loop_off;              /* `loop: off` */
    rg__mask *asks;
    size_t nasks;
    rg__mrequire *req;
    size_t nreq;
    rg__loc loop_loc, require_loc;
    rg__moverride *ovr;
    size_t novr;
} rg__mconv;

void rg__conv_model_free(const rg_allocator *a, rg__mconv *c);
/* Add the built-in detectors (loop.repeat, loop.ask.<id>, require.<id>)
 * that conversation findings are reported under. 0, or -1 on OOM. */
int rg__conv_model_finish(rg__policy *p);

/* ---- compiled ----------------------------------------------------- */

typedef struct rg__cphr {
    char *t;                   /* normalized (owned by the snapshot's conv) */
    uint32_t n;
} rg__cphr;

typedef struct rg__creq {
    uint32_t det;              /* the require.<id> detector */
    uint8_t first_turn, channel;
    char lang[8];              /* "" any */
    rg__cphr *any;
    uint32_t nany;
} rg__creq;

typedef struct rg__cask {
    uint32_t det;              /* the loop.ask.<id> detector */
    rg__cphr *any;
    uint32_t nany;
} rg__cask;

/* Channel x language variants of a route's thresholds (`overrides:`):
 * vidx[ch * (nlang + 1) + l] indexes tables (0xFF: the route's own),
 * ch an RG__WCH_* (0: any other or none), l an index in lang (nlang:
 * any other or none). */
#define RG__MAX_OVR_LANGS 4
struct rg__cthr;
typedef struct rg__rconv {
    uint8_t nlang;
    char lang[RG__MAX_OVR_LANGS][8];
    uint8_t vidx[5 * (RG__MAX_OVR_LANGS + 1)];
    struct rg__cthr **tables;  /* each ncats long */
    uint32_t ntables;
    uint8_t loop_on;
    uint32_t history, repeats, repeat_ask;
    double similarity;
    rg__cask *asks;
    uint32_t nasks;
    rg__creq *req;
    uint32_t nreq;
} rg__rconv;

typedef struct rg__sconv {
    uint32_t loop_det;         /* the loop.repeat detector, UINT32_MAX none */
    int has_user;              /* some detector scans the user message */
    rg__rconv *routes;         /* indexed like rg__snapshot.routes */
    size_t nroutes;
} rg__sconv;

struct rg__snapshot;
struct rg__wbuf;
struct rg__rbuf;
/* conv_compile.c: s->conv from the model (after routes are sorted).
 * Returns RG_OK or RG_E_NOMEM. */
int rg__conv_compile(struct rg__snapshot *s, const rg__policy *p);
void rg__conv_free(const rg_allocator *a, rg__sconv *c);
/* Bundles (bundle.c): write / read s->conv. Read returns RG_OK,
 * RG_E_NOMEM, or sets r->bad. */
void rg__conv_encode(struct rg__wbuf *w, const struct rg__snapshot *s);
int rg__conv_decode(struct rg__rbuf *r, struct rg__snapshot *s);

/* ---- check -------------------------------------------------------- */

/* A finding of the conversation layer, kept apart from the reply's raw
 * hits so that it never feeds the redacted copy. */
typedef struct rg__convhit {
    uint32_t det;
    uint32_t start, end;       /* bytes of its source text */
    double score;
    int source;                /* RG_SOURCE_* */
} rg__convhit;

#define RG__MAX_CONVHITS 64
#define RG__MAX_SHINGLES 512
#define RG__HISTORY_MAX 16      /* history replies looked at, at most */
#define RG__HISTORY_BYTES 4096  /* of each history reply */
#define RG__EXCERPT_BYTES 200   /* of the draft in the handoff context */
#define RG__EXCERPT_CAP 2048    /* the excerpt with its masks, at most */

typedef struct rg__convscratch {
    rg__convhit hits[RG__MAX_CONVHITS];
    size_t nhits;
    uint64_t sh_draft[RG__MAX_SHINGLES], sh_hist[RG__MAX_SHINGLES];
} rg__convscratch;

struct rg_scratch;
struct rg_result;
struct rg__croute;
/* Scan the request's user message with the user-scoped detectors (only
 * when the snapshot has some); hits go to the conversation hits. Leaves
 * the scratch's per-check state as it found it. RG_OK, RG_E_NOMEM,
 * RG_E_ENGINE. */
int rg__conv_scan_user(struct rg_scratch *sc, const struct rg__snapshot *s,
                       const struct rg__croute *route, const rg_request *req);
/* Loops, repeated asks and required disclosures of the route, after the
 * reply's views are built (its normalized view is still in the scratch).
 * RG_OK or RG_E_NOMEM. */
int rg__conv_eval(struct rg_scratch *sc, const struct rg__snapshot *s,
                  const struct rg__croute *route, const rg_request *req,
                  const char *reply, size_t n, const char *norm,
                  size_t normlen);
/* check.c: PCRE2 spans of detector di in the scratch's current view. */
int rg__extract_spans(struct rg_scratch *sc, const struct rg__snapshot *s,
                      uint32_t di);
/* The route as this request's channel and locale see it: `route`
 * itself, or *tmp (a copy with the override thresholds). */
const struct rg__croute *rg__conv_route(const struct rg__snapshot *s,
                                        const struct rg__croute *route,
                                        const rg_request *req,
                                        struct rg__croute *tmp);
/* handoff.c: the conversation part of the result (turn, channel, locale,
 * the redacted excerpt when the verdict is handoff). */
void rg__conv_result(struct rg_scratch *sc, const rg_request *req,
                     const char *reply, size_t n, struct rg_result *r);
#endif
