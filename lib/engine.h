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

/* Raw (view-relative) hit collected during a scan. */
typedef struct rg__rawhit {
    uint32_t det;
    uint32_t start, end;  /* view offsets, then original offsets */
    double score;
    uint8_t view;
    uint8_t allow;        /* an allow-list interval, not a hit */
} rg__rawhit;

/* Caps that bound the work of one check whatever the input. */
#define RG__MAX_RAWHITS 4096   /* stored word/allow matches per check */
#define RG__MAX_PCRE_MATCHES 256 /* spans extracted per regex detector */
#define RG__DEADLINE_EVERY 64  /* callbacks between two clock reads */

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
    size_t vlen;
    uint8_t cur_view;
    uint64_t deadline;
    unsigned ncallbacks;
    int timed_out;
    int truncated;
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
};

enum { RG__DF_TOUCHED = 1, RG__DF_REGEX = 2, RG__DF_STRINGS = 4 };

/* engine.c */
const rg__snapshot *rg__engine_pin(rg_engine *e, rg_scratch *s);
void rg__engine_unpin(rg_scratch *s);
/* check.c: fit the scratch to a snapshot (after a reload: grows the
 * buffers, the one allocation a warmed-up check may do); 0 or -1. */
int rg__scratch_fit(rg_scratch *sc, const rg__snapshot *s);
void rg__scratch_release(rg_scratch *sc);
/* result.c */
void rg__result_reset(rg_result *r);
#endif
