/* engine.h — the engine, scratch and result objects shared by engine.c
 * (lifetimes, snapshot publication), check.c (the hot path) and result.c
 * (accessors).
 *
 * Snapshot lifetime without locks on the hot path: hazard pointers. A
 * check publishes the snapshot it is about to use in its scratch's
 * `hazard` slot (own cache line, so threads do not contend), re-reads the
 * engine's current pointer to make sure it did not change meanwhile, and
 * clears the slot when done. A reload swaps the current pointer and frees
 * an old snapshot only once no registered scratch holds it. */
#ifndef RG_ENGINE_H
#define RG_ENGINE_H
#include <pthread.h>
#include <stdatomic.h>
#include "normalize.h"
#include "snapshot.h"
#include "digits.h"

/* Raw (view-relative) hit collected during a scan. */
enum { RG__RAW_HIT = 0, RG__RAW_ALLOW = 1, RG__RAW_CONTEXT = 2 };

typedef struct rg__rawhit {
    uint32_t det;
    uint32_t start, end;  /* view offsets, then original offsets */
    double score;
    uint8_t view;
    uint8_t kind;         /* RG__RAW_*: a hit, an allow-list or a context
                             word occurrence */
    uint16_t ctx;         /* context block (RG__RAW_CONTEXT) */
} rg__rawhit;

/* Caps that bound the work of one check whatever the input. */
#define RG__MAX_RAWHITS 4096   /* stored word/allow matches per check */
#define RG__MAX_PCRE_MATCHES 256 /* spans extracted per regex detector */
#define RG__DEADLINE_EVERY 64  /* callbacks between two clock reads */
#define RG__TRIG_WINDOWS 16    /* PCRE2 windows kept per trigger-flagged regex */
#define RG__TRIG_JOIN 64       /* windows closer than this are one */
#define RG__TRIG_UNORDERED 0xFF
#define RG__CLOCK_BYTES 4096   /* replies this long read the clock between views */
#define RG__CLOCK_BUDGET_NS 200000 /* and so do all replies under budgets this short */

struct rg_scratch {
    /* The hazard slot first, alone on its cache line. */
    _Alignas(64) _Atomic(rg__snapshot *) hazard;
    char pad[64 - sizeof(void *)];
    rg_engine *engine;
    rg_allocator a;              /* the engine's, kept for free */
    rg_scratch *prev, *next;     /* engine's registry */
    uint64_t generation;         /* snapshot the buffers below fit */
    hs_scratch_t *hs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    pcre2_general_context *gctx; /* the scratch's own: outlives snapshots */
    rg__vbuf view[RG__VIEW_COUNT];
    double *det_max;             /* per detector: max hit score, 0 = none */
    uint8_t *det_flag;           /* per detector: RG__DF_* bits */
    uint32_t *det_off;           /* per detector: its strings in the result arena */
    uint32_t *trig_lo, *trig_hi; /* per detector with RG__DF_TRIG: earliest end and
                                    latest start of its trigger literals in the view;
                                    with RG__DF_REGIONS: the regions of gate trig_hi
                                    (regs) that flagged it, a bit each, in trig_lo */
    uint32_t *trig_w;            /* per detector with RG__DF_TRIG: up to
                                    RG__TRIG_WINDOWS [lo, hi] pairs, in order, apart */
    uint8_t *trig_nw;            /* how many; RG__TRIG_UNORDERED: use trig_lo/hi */
    uint32_t *touched;           /* detectors with det_max or det_trig set */
    size_t ntouched;
    double *cat_prod;            /* per category: product of (1 - s) */
    double *cat_max;             /* per category: largest contribution */
    uint32_t *cat_n;             /* per category: contributing detectors */
    uint32_t *cat_touched;
    size_t ncat_touched;
    size_t cap_dets, cap_cats;
    rg__rawhit *raw;             /* RG__MAX_RAWHITS */
    size_t nraw;
    /* scan state */
    const rg__snapshot *snap;
    const char *vtext;
    const uint8_t *vmark;        /* compacted view: obfuscation marks */
    /* rg__scan_view: in_region when a scan is over region reg_k of gate
     * reg_g's list regs[reg_g] (0: the whole view); a regex it flags gets
     * PCRE2 searches over the regions that flagged it only
     * (extract_spans). Valid until the next text's scan: spans are
     * extracted right after a text's scans. */
    uint8_t in_region, reg_g, reg_k;
    /* rg__pair_scan is scanning a pairing database: allow and context
     * entries of detectors without a hit (no RG__DF_PAIR) are dropped in
     * the callback. */
    uint8_t in_pair;
    uint8_t nregs[RG__NGATES];
    rg__region regs[RG__NGATES][RG__MAX_REGIONS];
    size_t vlen;
    size_t voff;                 /* rg__pair_scan: where the scanned part of
                                    the view starts (0: the whole view) */
    uint8_t cur_view;
    uint64_t deadline;
    unsigned ncallbacks;
    int timed_out;
    int truncated;
    struct rg__mscratch *metrics; /* metrics.h: counters, audit buffer */
    /* Conversation layer (conv.h): which text is being scanned (0 the
     * reply, 1 the user message: the callback keeps patterns whose scope
     * has bit 1 << scan_user), and its findings and buffers. */
    uint8_t scan_user;
    struct rg__convscratch *conv;
    rg__vbuf hview;              /* a history reply, normalized */
};

struct rg_engine {
    rg_allocator a;
    _Atomic(rg__snapshot *) current;
    pthread_mutex_t lock;        /* reloads, registry, retired list */
    rg_scratch *scratches;
    rg__snapshot **retired;
    size_t nretired, capretired;
    char *path;
    uint64_t generation;
    struct rg__metrics *metrics;  /* metrics.h: names, folds, audit */
    char *cache_dir;              /* compiled cache (cache.c), or NULL */
    unsigned flags;               /* rg_engine_options.flags */
};

/* Result internals: public structs plus the string arena they point in. */
struct rg_result {
    rg_allocator a;
    rg_verdict verdict;
    unsigned flags;
    uint64_t elapsed_ns;
    rg_hit *hits;                /* RG_MAX_HITS */
    size_t nhits;
    rg_category_score *cats;
    size_t ncats, capcats;
    rg_reason *reasons;
    size_t nreasons, capreasons;
    char *arena;
    size_t arena_len, arena_cap;
    char *redacted;
    size_t redacted_len, redacted_cap;
    int has_redacted;
    const char *route;           /* in arena, or "" */
    char version[64];
    char hash[65];
    /* Shadow findings (shadow.c): strings of shadow reasons live in their
     * own arena so that the main one is never moved after it is filled. */
    int has_shadow;
    rg_verdict shadow_verdict;
    char *sarena;
    size_t sarena_cap;
    /* Conversation context (conv.h, handoff.c). */
    uint32_t turn;               /* history_count + 1 */
    char channel[16], locale[16];/* as requested, truncated; "" none */
    char *excerpt;               /* redacted excerpt of the draft, or NULL */
    size_t excerpt_len, excerpt_cap;
    int has_excerpt;
};

/* RG__DF_PAIR: transient, inside rg__pair_scan and rg__resolve_hits
 * (check.c): the detectors with a hit. */
/* RG__DF_WHOLE: flagged by a scan of the whole view, so its PCRE2 search
 * is not bounded even when a trigger or region bounded it too. */
/* RG__DF_REGIONS: flagged in regions of a gated scan (trig_lo, trig_hi). */
enum { RG__DF_TOUCHED = 1, RG__DF_REGEX = 2, RG__DF_STRINGS = 4, RG__DF_PAIR = 8,
       RG__DF_TRIG = 16, RG__DF_WHOLE = 32, RG__DF_REGIONS = 64 };

/* engine.c */
const rg__snapshot *rg__engine_pin(rg_engine *e, rg_scratch *s);
void rg__engine_unpin(rg_scratch *s);
/* check.c: fit the scratch to a snapshot (after a reload: grows the
 * buffers, the one allocation a warmed-up check may do); 0 or -1. */
int rg__scratch_fit(rg_scratch *sc, const rg__snapshot *s);
void rg__scratch_release(rg_scratch *sc);
/* check.c: the steps of rg_check after the scan, and its scan callback,
 * shared with stream.c so that a stream decides exactly as a check. */
int rg__on_match(unsigned int id, unsigned long long from,
                 unsigned long long to, unsigned int flags, void *ctx);
void rg__resolve_hits(rg_scratch *sc, const rg__snapshot *s);
/* check.c: scan the pairing databases (snapshot.h pdb) of the views whose
 * allow or context words a hit in sc->raw needs, over the same view texts
 * as the scan (vtext/vlen per view, view offsets; sc->view[v] holds the
 * built views, and the raw view is the text itself when identity_raw), on
 * a long text only around those hits. After span extraction, before
 * offsets are mapped. Returns RG_OK or RG_E_ENGINE. */
int rg__pair_scan(rg_scratch *sc, const rg__snapshot *s, const char *const *vtext,
                  const size_t *vlen, int identity_raw);
/* check.c: which gates (digits.h rg__gatedef) a text whose raw view is
 * raw[0..rawlen) reaches, as a bit per gate index; `user`: the text is a
 * user message (RG__GATE_USER). */
unsigned rg__gates_reached(const rg__snapshot *s, const char *raw, size_t rawlen, int user);

/* check.c: scan view v of a text (sc->vtext/vlen/vmark/cur_view set by
 * the caller) with the databases the gates `reach` open: the view's
 * database, then (raw view only) the gated databases, each over the
 * regions around the bytes of its gate's range where its matches can be
 * when its matches are bounded (snapshot.h gmaxw), else whole (compile.c
 * build_split).
 * Returns HS_SUCCESS, HS_SCAN_TERMINATED (deadline) or Hyperscan's
 * error. */
hs_error_t rg__scan_view(rg_scratch *sc, const rg__snapshot *s, int v, unsigned reach);
/* For tests: nonzero scans every cluster of a prescan gate with its
 * database, as if it had no prescan union (snapshot.h gudb): the hits
 * must be the same. Not for use while checks run on other threads. */
extern int rg__prescan_off;
/* Test switch: nonzero searches a region for a detector's matches even
 * where none could fit (check.c spans_from, rg__cdet.minlen);
 * test_digits compares. Not for production use. */
extern int rg__spans_noskip;
/* Tests: 1 = no confirmation scans (snapshot.h cdb): PCRE2 searches every
 * trigger window, as before they existed. */
extern int rg__confirm_off;
int rg__decide(rg_scratch *sc, const rg__snapshot *s, const rg__croute *route,
               const char *reply, size_t reply_len, int oversize, int with_copy,
               rg_result *result);
/* result.c */
void rg__result_reset(rg_result *r);
/* shadow.c: shadow detectors' and a shadow route's findings, added to a
 * result whose enforced verdict is final. Called by rg_check only when
 * the snapshot has a shadow detector or the route is a shadow route.
 * Never changes the verdict, hits, enforced reasons or redacted copy. */
void rg__shadow_eval(rg_scratch *sc, const rg__snapshot *s,
                     const rg__croute *route, rg_result *r);
#endif
