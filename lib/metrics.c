/* metrics.c — per-engine counters kept per scratch, and their rendering in
 * the Prometheus text exposition format. The design (why per-scratch
 * blocks, why name slots) is in metrics.h and docs/OBSERVABILITY.md. */
#include "metrics.h"
#include "alloc.h"
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Bounded writer                                                      */
/* ------------------------------------------------------------------ */

void rg__out_puts(rg__out *o, const char *s) { rg__out_put(o, s, strlen(s)); }

void rg__out_u64(rg__out *o, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rg__out_put(o, tmp + i, sizeof tmp - i);
}

int rg__out_finish(rg__out *o, size_t *len)
{
    if (len)
        *len = o->len;
    if (o->size == 0)
        return o->len == 0 ? RG_OK : RG_E_RANGE;
    if (o->len < o->size) {
        o->buf[o->len] = '\0';
        return RG_OK;
    }
    o->buf[o->size - 1] = '\0';
    return RG_E_RANGE;
}

/* ------------------------------------------------------------------ */
/* Lifetimes                                                           */
/* ------------------------------------------------------------------ */

rg__metrics *rg__metrics_new(const rg_allocator *a, int enabled)
{
    rg__metrics *m = rg__calloc(a, 1, sizeof *m);
    if (!m)
        return NULL;
    m->enabled = enabled;
    atomic_init(&m->nroutes, 0);
    atomic_init(&m->ncats, 0);
    if (enabled) {
        m->retired = rg__calloc(a, 1, sizeof *m->retired);
        if (!m->retired) {
            rg__free(a, m);
            return NULL;
        }
    }
    return m;
}

void rg__metrics_free(const rg_allocator *a, rg__metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < atomic_load(&m->nroutes); i++)
        rg__free(a, m->route_name[i]);
    for (size_t i = 0; i < atomic_load(&m->ncats); i++)
        rg__free(a, m->cat_name[i]);
    rg__free(a, m->retired);
    rg__free(a, m);
}

static void intern(const rg_allocator *a, char **names, _Atomic size_t *count,
                   size_t cap, const char *name)
{
    size_t n = atomic_load_explicit(count, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    if (n == cap)
        return; /* counted under "_other" */
    /* Out of memory: the name is counted under "_other" rather than failing
     * a load over a metric. */
    char *copy = rg__strdup(a, name);
    if (!copy)
        return;
    names[n] = copy;
    atomic_store_explicit(count, n + 1, memory_order_release);
}

void rg__metrics_intern(const rg_allocator *a, rg__metrics *m,
                        const rg__snapshot *s)
{
    if (!m->enabled)
        return;
    for (size_t i = 0; i < s->nroutes; i++)
        intern(a, m->route_name, &m->nroutes, RG__M_ROUTES, s->routes[i].name);
    for (size_t i = 0; i < s->ncats; i++)
        intern(a, m->cat_name, &m->ncats, RG__M_CATS, s->cats[i]);
}

void rg__metrics_reloaded(const rg_allocator *a, rg__metrics *m,
                          const rg__snapshot *s)
{
    if (!s) {
        m->reloads_failed++;
        return;
    }
    rg__metrics_intern(a, m, s);
    m->reloads_ok++;
}

rg__mscratch *rg__mscratch_new(const rg_allocator *a, const rg__metrics *m)
{
    rg__mscratch *ms = rg__calloc(a, 1, sizeof *ms);
    if (!ms)
        return NULL;
    if (m->enabled) {
        /* calloc: all-zero bytes are valid zero atomics on every target
         * replyguard builds for (lock-free 64-bit atomics). */
        ms->ctr = rg__calloc(a, 1, sizeof *ms->ctr);
        if (!ms->ctr) {
            rg__free(a, ms);
            return NULL;
        }
    }
    return ms;
}

static inline uint64_t ld(const rg__ctr *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* One writer per counter (the scratch's thread): load + store, no RMW. */
static inline void add(rg__ctr *c, uint64_t v)
{
    atomic_store_explicit(c, ld(c) + v, memory_order_relaxed);
}

void rg__mscratch_retire(rg__metrics *m, rg__mscratch *ms)
{
    if (!ms || !ms->ctr || !m->retired)
        return;
    const rg__ctr *src = (const rg__ctr *)ms->ctr;
    rg__ctr *dst = (rg__ctr *)m->retired;
    for (size_t i = 0; i < sizeof(rg__mblock) / sizeof(rg__ctr); i++)
        add(&dst[i], ld(&src[i]));
}

void rg__mscratch_free(const rg_allocator *a, rg__mscratch *ms)
{
    if (!ms)
        return;
    rg__free(a, ms->ctr);
    rg__free(a, ms->rbuf);
    rg__free(a, ms);
}

/* ------------------------------------------------------------------ */
/* Recording (hot path)                                                */
/* ------------------------------------------------------------------ */

/* Upper bounds of the latency buckets, in ns: log-spaced 1-2.5-5 steps. */
static const uint64_t bucket_ns[RG__M_BUCKETS - 1] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000, 2500000, 5000000, 10000000};
/* The same, as Prometheus `le` values (seconds). */
static const char *const bucket_le[RG__M_BUCKETS] = {
    "2.5e-07", "5e-07", "1e-06", "2.5e-06", "5e-06", "1e-05", "2.5e-05",
    "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01", "+Inf"};

static inline unsigned bucket_of(uint64_t ns)
{
    unsigned i = 0;
    while (i < RG__M_BUCKETS - 1 && ns > bucket_ns[i])
        i++;
    return i;
}

static inline unsigned channel_of(const char *c)
{
    if (!c || !*c)
        return RG__CH_NONE;
    switch (c[0]) {
    case 'c': return strcmp(c, "chat") ? RG__CH_OTHER : RG__CH_CHAT;
    case 'v': return strcmp(c, "voice") ? RG__CH_OTHER : RG__CH_VOICE;
    case 's': return strcmp(c, "sms") ? RG__CH_OTHER : RG__CH_SMS;
    case 'e': return strcmp(c, "email") ? RG__CH_OTHER : RG__CH_EMAIL;
    default: return RG__CH_OTHER;
    }
}

static unsigned slot_of(char *const *names, size_t n, const char *name,
                        unsigned other)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (unsigned)i;
    return other;
}

/* Once per snapshot generation per scratch: snapshot indices → slots. The
 * names were interned before the snapshot was published, so the acquire
 * loads of the counts cover them. */
static void remap(rg__mscratch *ms, const rg__metrics *m, const rg__snapshot *s)
{
    size_t nr = atomic_load_explicit(&m->nroutes, memory_order_acquire);
    size_t nc = atomic_load_explicit(&m->ncats, memory_order_acquire);
    for (size_t i = 0; i < s->nroutes && i < RG__M_ROUTE_IDX; i++)
        ms->route_slot[i] = (uint8_t)slot_of(m->route_name, nr,
                                             s->routes[i].name, RG__M_ROUTES);
    for (size_t i = 0; i < s->ncats && i < RG__M_CAT_IDX; i++)
        ms->cat_slot[i] = (uint16_t)slot_of(m->cat_name, nc, s->cats[i],
                                            RG__M_CATS);
    ms->generation = s->generation;
}

/* The snapshot index of result category k. check.c appends result
 * categories in the order of sc->cat_touched, so the first guess is right;
 * the search keeps this correct should that order ever change. */
static size_t cat_index(const rg_scratch *sc, const rg__snapshot *s,
                        const rg_result *r, size_t k)
{
    const char *name = r->cats[k].category;
    if (k < sc->ncat_touched && sc->cat_touched) {
        uint32_t c = sc->cat_touched[k];
        if (c < s->ncats && strcmp(s->cats[c], name) == 0)
            return c;
    }
    for (size_t c = 0; c < s->ncats; c++)
        if (strcmp(s->cats[c], name) == 0)
            return c;
    return SIZE_MAX;
}

void rg__metrics_record(rg_scratch *sc, const rg__snapshot *s,
                        const rg__croute *route, const rg_request *req,
                        const rg_result *r, int status)
{
    rg__mscratch *ms = sc->metrics;
    rg__mblock *b = ms->ctr;
    if (status != RG_OK) {
        unsigned e = status < 0 && -status < RG__M_STATUS ? (unsigned)-status : 0;
        add(&b->errors[e], 1);
    }
    if (!route)
        return;
    if (ms->generation != s->generation)
        remap(ms, sc->engine->metrics, s);
    size_t ri = (size_t)(route - s->routes);
    rg__mroute *mr = &b->route[ri < RG__M_ROUTE_IDX ? ms->route_slot[ri] : RG__M_ROUTES];
    unsigned v = r->verdict <= RG_BLOCK ? (unsigned)r->verdict : RG_BLOCK;
    add(&mr->checks[v][channel_of(req->channel)], 1);
    add(&mr->bucket[bucket_of(r->elapsed_ns)], 1);
    add(&mr->sum_ns, r->elapsed_ns);
    unsigned f = r->flags;
    if (f & (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_OVERSIZE | RG_FLAG_FAILSAFE |
             RG_FLAG_REDACTED)) {
        if (f & RG_FLAG_BUDGET_EXCEEDED)
            add(&mr->budget, 1);
        if (f & RG_FLAG_OVERSIZE)
            add(&mr->oversize, 1);
        if (f & RG_FLAG_FAILSAFE)
            add(&mr->failsafe, 1);
        if (f & RG_FLAG_REDACTED)
            add(&mr->redacted, 1);
    }
    for (size_t k = 0; k < r->ncats; k++) {
        const rg_category_score *cs = &r->cats[k];
        size_t c = cat_index(sc, s, r, k);
        unsigned slot = c < RG__M_CAT_IDX ? ms->cat_slot[c] : RG__M_CATS;
        unsigned act = cs->verdict == RG_BLOCK     ? RG__CA_BLOCK
                       : cs->verdict == RG_HANDOFF ? RG__CA_HANDOFF
                       : cs->redact                ? RG__CA_REDACT
                                                   : RG__CA_NONE;
        add(&b->cat[slot][act], 1);
    }
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

static const char *const verdict_label[3] = {"allow", "handoff", "block"};
static const char *const channel_label[RG__CH_COUNT] = {
    "chat", "voice", "sms", "email", "other", "none"};
static const char *const action_label[RG__CA_COUNT] = {
    "none", "redact", "handoff", "block"};

/* The sum of one counter (at byte offset `off` in a block) over the folded
 * counts of freed scratches and every registered scratch. Lock held. */
static uint64_t total(const rg_engine *e, size_t off)
{
    const rg__metrics *m = e->metrics;
    uint64_t t = ld((const rg__ctr *)((const char *)m->retired + off));
    for (const rg_scratch *sc = e->scratches; sc; sc = sc->next)
        if (sc->metrics && sc->metrics->ctr)
            t += ld((const rg__ctr *)((const char *)sc->metrics->ctr + off));
    return t;
}

#define OFF(member) offsetof(rg__mblock, member)

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void label_value(rg__out *o, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            rg__out_puts(o, "\\\\");
        else if (*p == '"')
            rg__out_puts(o, "\\\"");
        else if (*p == '\n')
            rg__out_puts(o, "\\n");
        else
            rg__out_put(o, p, 1);
    }
}

static void head(rg__out *o, const char *name, const char *type,
                 const char *help)
{
    rg__out_puts(o, "# HELP replyguard_");
    rg__out_puts(o, name);
    rg__out_puts(o, " ");
    rg__out_puts(o, help);
    rg__out_puts(o, "\n# TYPE replyguard_");
    rg__out_puts(o, name);
    rg__out_puts(o, " ");
    rg__out_puts(o, type);
    rg__out_puts(o, "\n");
}

/* name{k1="v1",k2="v2"} value — up to three labels (NULL key ends). */
static void sample(rg__out *o, const char *name, const char *k1,
                   const char *v1, const char *k2, const char *v2,
                   const char *k3, const char *v3, uint64_t value)
{
    rg__out_puts(o, "replyguard_");
    rg__out_puts(o, name);
    const char *k[3] = {k1, k2, k3}, *v[3] = {v1, v2, v3};
    for (int i = 0; i < 3 && k[i]; i++) {
        rg__out_puts(o, i ? "," : "{");
        rg__out_puts(o, k[i]);
        rg__out_puts(o, "=\"");
        label_value(o, v[i]);
        rg__out_puts(o, "\"");
    }
    if (k1)
        rg__out_puts(o, "}");
    rg__out_puts(o, " ");
    rg__out_u64(o, value);
    rg__out_puts(o, "\n");
}

/* Seconds from nanoseconds, exactly, without the C locale. */
static void seconds(rg__out *o, uint64_t ns)
{
    rg__out_u64(o, ns / 1000000000u);
    uint64_t frac = ns % 1000000000u;
    if (!frac)
        return;
    char d[10];
    int n = 9;
    for (int i = 8; i >= 0; i--) {
        d[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    while (n > 1 && d[n - 1] == '0')
        n--;
    rg__out_puts(o, ".");
    rg__out_put(o, d, (size_t)n);
}

static const char *route_label(const rg__metrics *m, size_t slot)
{
    return slot < RG__M_ROUTES ? m->route_name[slot] : "_other";
}

/* Slots to render: every interned name, plus "_other" once it counted. */
static size_t route_slots(const rg_engine *e, size_t nr, size_t *list)
{
    size_t n = 0;
    for (size_t i = 0; i < nr; i++)
        list[n++] = i;
    const size_t base = OFF(route) + RG__M_ROUTES * sizeof(rg__mroute);
    uint64_t any = 0;
    for (size_t off = base; off < base + sizeof(rg__mroute); off += sizeof(rg__ctr))
        any |= total(e, off);
    if (any)
        list[n++] = RG__M_ROUTES;
    return n;
}

static void render_checks(rg__out *o, const rg_engine *e, const size_t *slots,
                          size_t ns)
{
    const rg__metrics *m = e->metrics;
    head(o, "checks_total", "counter",
         "Checks by route, verdict and channel (fail-safe verdicts included).");
    for (size_t i = 0; i < ns; i++) {
        size_t base = OFF(route) + slots[i] * sizeof(rg__mroute);
        for (unsigned v = 0; v < 3; v++)
            for (unsigned c = 0; c < RG__CH_COUNT; c++)
                sample(o, "checks_total", "route", route_label(m, slots[i]),
                       "verdict", verdict_label[v], "channel", channel_label[c],
                       total(e, base + offsetof(rg__mroute, checks) +
                                    (v * RG__CH_COUNT + c) * sizeof(rg__ctr)));
    }

    head(o, "check_duration_seconds", "histogram",
         "Wall time of checks by route (rg_result_elapsed_ns).");
    for (size_t i = 0; i < ns; i++) {
        size_t base = OFF(route) + slots[i] * sizeof(rg__mroute);
        const char *rn = route_label(m, slots[i]);
        uint64_t cum = 0;
        for (unsigned k = 0; k < RG__M_BUCKETS; k++) {
            cum += total(e, base + offsetof(rg__mroute, bucket) + k * sizeof(rg__ctr));
            sample(o, "check_duration_seconds_bucket", "route", rn, "le",
                   bucket_le[k], NULL, NULL, cum);
        }
        rg__out_puts(o, "replyguard_check_duration_seconds_sum{route=\"");
        label_value(o, rn);
        rg__out_puts(o, "\"} ");
        seconds(o, total(e, base + offsetof(rg__mroute, sum_ns)));
        rg__out_puts(o, "\n");
        /* _count is the +Inf bucket, so the two always agree. */
        sample(o, "check_duration_seconds_count", "route", rn, NULL, NULL,
               NULL, NULL, cum);
    }

    static const struct {
        const char *name, *help;
        size_t off;
    } flags[] = {
        {"budget_exceeded_total", "Checks that ran past the route's budget_us.",
         offsetof(rg__mroute, budget)},
        {"oversize_total", "Replies longer than the route's max_bytes.",
         offsetof(rg__mroute, oversize)},
        {"failsafe_total", "Checks whose verdict came from a fail-safe "
         "(on_timeout, on_oversize, on_error).", offsetof(rg__mroute, failsafe)},
        {"redacted_total", "Checks that produced a redacted copy.",
         offsetof(rg__mroute, redacted)},
    };
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        head(o, flags[f].name, "counter", flags[f].help);
        for (size_t i = 0; i < ns; i++)
            sample(o, flags[f].name, "route", route_label(m, slots[i]), NULL,
                   NULL, NULL, NULL,
                   total(e, OFF(route) + slots[i] * sizeof(rg__mroute) + flags[f].off));
    }
}

static void render_categories(rg__out *o, const rg_engine *e, size_t nc)
{
    const rg__metrics *m = e->metrics;
    head(o, "category_hits_total", "counter",
         "Checks in which a category scored above zero, by the action that "
         "category alone triggered (none, redact, handoff, block).");
    for (size_t i = 0; i <= nc; i++) {
        size_t slot = i < nc ? i : RG__M_CATS;
        size_t base = OFF(cat) + slot * RG__CA_COUNT * sizeof(rg__ctr);
        uint64_t val[RG__CA_COUNT], any = 0;
        for (unsigned a = 0; a < RG__CA_COUNT; a++)
            any |= val[a] = total(e, base + a * sizeof(rg__ctr));
        if (slot == RG__M_CATS && !any)
            continue;
        for (unsigned a = 0; a < RG__CA_COUNT; a++)
            sample(o, "category_hits_total", "category",
                   slot < RG__M_CATS ? m->cat_name[slot] : "_other", "action",
                   action_label[a], NULL, NULL, val[a]);
    }
}

int rg_engine_metrics(const rg_engine *engine, char *buf, size_t size, size_t *len)
{
    if (len)
        *len = 0;
    if (!engine || (!buf && size))
        return RG_E_INVAL;
    rg_engine *e = (rg_engine *)engine;
    rg__out o = {buf, size, 0};
    pthread_mutex_lock(&e->lock);
    const rg__metrics *m = e->metrics;
    if (m->enabled) {
        size_t slots[RG__M_ROUTES + 1];
        size_t nr = atomic_load(&m->nroutes), nc = atomic_load(&m->ncats);
        size_t ns = route_slots(e, nr, slots);
        render_checks(&o, e, slots, ns);
        render_categories(&o, e, nc);
        head(&o, "check_errors_total", "counter",
             "Checks that returned an error status (their fail-safe verdict "
             "is counted in checks_total when the route is known).");
        for (int st = 1; st < RG__M_STATUS; st++) {
            if (-st < RG__STATUS_LAST)
                break;
            sample(&o, "check_errors_total", "status", rg_status_name(-st),
                   NULL, NULL, NULL, NULL,
                   total(e, OFF(errors) + (size_t)st * sizeof(rg__ctr)));
        }
    }
    head(&o, "checks_rejected_total", "counter",
         "rg_check calls refused before a check started (NULL argument, "
         "scratch of another engine).");
    sample(&o, "checks_rejected_total", NULL, NULL, NULL, NULL, NULL, NULL,
           m->rejected);
    head(&o, "reloads_total", "counter",
         "Policy reloads by result (a failed reload leaves the running "
         "policy in force).");
    sample(&o, "reloads_total", "result", "ok", NULL, NULL, NULL, NULL,
           m->reloads_ok);
    sample(&o, "reloads_total", "result", "failed", NULL, NULL, NULL, NULL,
           m->reloads_failed);
    const rg__snapshot *s = atomic_load(&e->current);
    head(&o, "policy_info", "gauge",
         "The policy set in force: its version and content hash (value 1).");
    sample(&o, "policy_info", "version", s->version, "hash", s->hash, NULL,
           NULL, 1);
    head(&o, "policy_generation", "gauge",
         "1 after open, +1 per successful reload.");
    sample(&o, "policy_generation", NULL, NULL, NULL, NULL, NULL, NULL,
           s->generation);
    size_t nsc = 0;
    for (const rg_scratch *sc = e->scratches; sc; sc = sc->next)
        nsc++;
    head(&o, "scratches", "gauge", "Scratches allocated on the engine.");
    sample(&o, "scratches", NULL, NULL, NULL, NULL, NULL, NULL, nsc);
    pthread_mutex_unlock(&e->lock);
    return rg__out_finish(&o, len);
}
