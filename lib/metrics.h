/* metrics.h — per-engine metrics and audit events (docs/OBSERVABILITY.md).
 *
 * Hot-path design:
 *   - Counters live in a block per SCRATCH, not per engine. A scratch is
 *     used by one thread at a time, so each counter has one writer: an
 *     increment is a relaxed atomic load + store (plain mov/add/mov on
 *     x86-64, no lock prefix) and no two threads ever write the same cache
 *     line. rg_engine_metrics() sums the blocks of every registered scratch
 *     under the engine lock (readers use relaxed loads, so there is no data
 *     race), plus the counts of freed scratches, folded into the engine when
 *     they are freed. Shared counters with atomic_fetch_add were measured
 *     against this in docs/OBSERVABILITY.md.
 *   - No strings per check. Route and category names are interned into
 *     per-engine slot tables (append-only, bounded) when a snapshot is built,
 *     before it is published. A scratch maps snapshot indices to slots once
 *     per snapshot generation; a check indexes counters by slot. Because the
 *     slots are keyed by NAME, counters survive reloads that add, remove or
 *     reorder routes.
 *   - The channel, a free string, maps to a fixed set by one switch on its
 *     first byte and one strcmp.
 *   - Nothing is allocated per check (the audit's opt-in redacted copy
 *     grows a per-scratch buffer to the largest reply, as the views do).
 */
#ifndef RG_METRICS_H
#define RG_METRICS_H
#include <stdatomic.h>
#include <string.h>
#include "engine.h"

#define RG__M_ROUTES 64      /* route names tracked; more share "_other" */
#define RG__M_CATS 256       /* category names tracked; more share "_other" */
#define RG__M_ROUTE_IDX 256  /* snapshot route indices mapped (more: other) */
#define RG__M_CAT_IDX 1024   /* snapshot category indices mapped */
#define RG__M_BUCKETS 16     /* 15 finite latency buckets + +Inf */
#define RG__M_STATUS 16      /* -status; 0 = unknown status */

enum { RG__CH_CHAT, RG__CH_VOICE, RG__CH_SMS, RG__CH_EMAIL, RG__CH_OTHER,
       RG__CH_NONE, RG__CH_COUNT };
/* A category's own action in a check: none (scored below every threshold),
 * redact, handoff, block. */
enum { RG__CA_NONE, RG__CA_REDACT, RG__CA_HANDOFF, RG__CA_BLOCK, RG__CA_COUNT };

typedef _Atomic uint64_t rg__ctr;

typedef struct rg__mroute {
    rg__ctr checks[3][RG__CH_COUNT];  /* [verdict][channel] */
    rg__ctr bucket[RG__M_BUCKETS];    /* not cumulative; summed at render */
    rg__ctr sum_ns;
    rg__ctr budget, oversize, failsafe, redacted;
} rg__mroute;

/* One scratch's counters (also the engine's fold of freed scratches). */
typedef struct rg__mblock {
    rg__mroute route[RG__M_ROUTES + 1];          /* last: "_other" */
    rg__ctr cat[RG__M_CATS + 1][RG__CA_COUNT];   /* last: "_other" */
    rg__ctr errors[RG__M_STATUS];
} rg__mblock;

/* Per-scratch observability state (struct rg_scratch.metrics). */
typedef struct rg__mscratch {
    uint64_t generation;                  /* snapshot the maps fit; 0 none */
    uint8_t route_slot[RG__M_ROUTE_IDX];  /* snapshot route → slot */
    uint16_t cat_slot[RG__M_CAT_IDX];     /* snapshot category → slot */
    rg__mblock *ctr;                      /* NULL: metrics off */
    char *rbuf;                           /* audit redacted copy */
    size_t rcap;
} rg__mscratch;

/* Per-engine state (struct rg_engine.metrics). Name tables are written
 * under the engine lock, read by checks without it: an entry is complete
 * before the count that covers it is published (release/acquire), and a
 * snapshot's names are all interned before the snapshot is published. */
typedef struct rg__metrics {
    int enabled;
    char *route_name[RG__M_ROUTES];
    _Atomic size_t nroutes;
    char *cat_name[RG__M_CATS];
    _Atomic size_t ncats;
    rg__mblock *retired;       /* counts of freed scratches (lock) */
    uint64_t reloads_ok, reloads_failed, rejected; /* lock */
    /* audit: set while no check runs (rg_engine_set_audit) */
    rg_audit_fn audit_fn;
    void *audit_user;
    unsigned audit_flags;
} rg__metrics;

/* engine.c */
rg__metrics *rg__metrics_new(const rg_allocator *a, int enabled);
void rg__metrics_free(const rg_allocator *a, rg__metrics *m);
/* Intern the snapshot's route and category names; call under the lock
 * (or before the engine is shared) and BEFORE publishing the snapshot. */
void rg__metrics_intern(const rg_allocator *a, rg__metrics *m,
                        const rg__snapshot *s);
/* A reload finished: s is the new snapshot (interned here), NULL if the
 * reload failed. Under the lock. */
void rg__metrics_reloaded(const rg_allocator *a, rg__metrics *m,
                          const rg__snapshot *s);
rg__mscratch *rg__mscratch_new(const rg_allocator *a, const rg__metrics *m);
/* Fold a scratch's counts into the engine's; under the lock. */
void rg__mscratch_retire(rg__metrics *m, rg__mscratch *ms);
void rg__mscratch_free(const rg_allocator *a, rg__mscratch *ms);

/* check.c (through rg__observe) */
void rg__metrics_record(rg_scratch *sc, const rg__snapshot *s,
                        const rg__croute *route, const rg_request *req,
                        const rg_result *r, int status);
void rg__audit_emit(rg_engine *e, rg_scratch *sc, const rg__croute *route,
                    const rg_request *req, const rg_result *r, int status);
/* A call refused before a snapshot was pinned (NULL argument, scratch of
 * another engine). Called with the engine lock held (error path only). */
static inline void rg__metrics_rejected(rg_engine *e)
{
    if (e && e->metrics)
        e->metrics->rejected++;
}

/* The one observability hook of rg_check: at the end of every check that
 * pinned a snapshot (s), with the final result and status; route NULL if
 * the route is unknown. Inline so that with metrics off and no audit
 * callback a check pays two predictable branches. */
static inline void rg__observe(rg_engine *e, rg_scratch *sc,
                               const rg__snapshot *s, const rg__croute *route,
                               const rg_request *req, rg_result *r, int status)
{
    if (sc->metrics->ctr)
        rg__metrics_record(sc, s, route, req, r, status);
    if (e->metrics->audit_fn)
        rg__audit_emit(e, sc, route, req, r, status);
}

/* Shared by metrics.c and audit.c: a bounded text writer that always
 * counts the full length (snprintf semantics). */
typedef struct rg__out {
    char *buf;
    size_t size, len;
} rg__out;
static inline void rg__out_put(rg__out *o, const char *s, size_t n)
{
    if (o->len < o->size) {
        size_t room = o->size - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}
/* A string literal, its length known at compile time. */
#define RG__OUT_LIT(o, lit) rg__out_put((o), "" lit, sizeof(lit) - 1)
void rg__out_puts(rg__out *o, const char *s);
void rg__out_u64(rg__out *o, uint64_t v);
/* NUL-terminate (within size) and return RG_OK or RG_E_RANGE. */
int rg__out_finish(rg__out *o, size_t *len);
#endif
