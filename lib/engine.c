/* engine.c — engine and scratch lifetimes, snapshot publication and
 * reclamation (hazard pointers, see engine.h). */
#include "engine.h"
#include "alloc.h"
#include "clock.h"
#include "dbpack.h"
#include "diag.h"
#include "metrics.h"
#include "cache.h"
#include "lint.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A bundle file is loaded as it is; a policy directory or YAML file is
 * read, checked and compiled (with the compiled cache when the engine
 * has one, with the lint checks under RG_ENGINE_LINT). */
static int build_snapshot(const rg_engine *e, const char *path,
                          uint64_t generation, rg__snapshot **out,
                          rg_diag **diag)
{
    const rg_allocator *a = &e->a;
    uint64_t t0 = now_ns();
    rg__diags d;
    rg__diags_init(&d, a);
    rg__policy *p = NULL;
    rg__snapshot *s = NULL;
    int source = RG_LOAD_COMPILED, written = 0, rc;
    if (rg__bundle_sniff(path)) {
        rc = rg__bundle_read(a, path, &s, &d);
        source = RG_LOAD_BUNDLE;
    } else if (e->flags & RG_ENGINE_LINT) {
        rc = rg__lint_build(a, path, &s, &d);
    } else {
        rc = rg__policy_load(a, path, &p, &d);
        if (rc == RG_OK)
            rc = rg__policy_check(p, &d);
        rg__hscache *c = NULL;
        if (rc == RG_OK && e->cache_dir)
            c = rg__hscache_open(a, e->cache_dir, p->hash);
        if (rc == RG_OK)
            rc = rg__snapshot_compile_ex(a, p, c, NULL, &s, &d);
        if (rc == RG_OK && c) {
            if (rg__hscache_misses(c) == 0 && rg__hscache_hits(c) > 0)
                source = RG_LOAD_CACHE;
            else
                written = rg__hscache_commit(c);
        }
        rg__hscache_close(c);
    }
    rg__policy_free(p);
    if (rc == RG_OK && d.oom)
        rc = RG_E_NOMEM;
    if (rc == RG_OK && (e->flags & RG_ENGINE_STREAMING))
        rc = rg__sdb_build(s); /* stream.c: streaming databases now */
    if (rc == RG_OK)
        rg__dbpack(s); /* before any check can see s (dbpack.h) */
    if (rc == RG_OK) {
        s->generation = generation;
        s->source = source;
        s->cache_written = written;
        s->load_ns = now_ns() - t0;
        *out = s;
    } else {
        rg__snapshot_free(s);
        *out = NULL;
    }
    if (diag)
        *diag = rg__diags_finish(&d);
    else
        rg__diags_discard(&d);
    return rc;
}

int rg_engine_open(rg_engine **out, const char *policy_path,
                   const rg_engine_options *opts, rg_diag **diag)
{
    if (diag)
        *diag = NULL;
    if (!out)
        return RG_E_INVAL;
    *out = NULL;
    if (!policy_path)
        return RG_E_INVAL;
    rg__clock_init(); /* before any check can read it (clock.h) */
    if (opts && (opts->struct_size < offsetof(rg_engine_options, flags) + sizeof(unsigned) ||
                 (opts->flags & ~(unsigned)(RG_ENGINE_NO_METRICS | RG_ENGINE_LINT |
                                            RG_ENGINE_NO_CACHE | RG_ENGINE_STREAMING))))
        return RG_E_INVAL;
    /* The cache directory: the option (when struct_size covers it), else
     * $RG_CACHE_DIR; never for lint (it must compile to see everything). */
    const char *cache_dir = NULL;
    if (opts && opts->struct_size >= offsetof(rg_engine_options, cache_dir) +
                                          sizeof(const char *))
        cache_dir = opts->cache_dir;
    if (!cache_dir) {
        const char *env = getenv("RG_CACHE_DIR");
        cache_dir = env && *env ? env : NULL;
    }
    unsigned flags = opts ? opts->flags : 0;
    if (cache_dir && !*cache_dir)
        cache_dir = NULL;
    if (flags & (RG_ENGINE_NO_CACHE | RG_ENGINE_LINT))
        cache_dir = NULL;
    rg_allocator a;
    rg__allocator_init(&a, opts ? opts->allocator : NULL);
    rg_engine *e = rg__calloc(&a, 1, sizeof *e);
    if (!e)
        return RG_E_NOMEM;
    e->a = a;
    e->flags = flags;
    e->path = rg__strdup(&e->a, policy_path);
    if (cache_dir && !(e->cache_dir = rg__strdup(&e->a, cache_dir))) {
        rg__free(&e->a, e->path);
        rg__free(&e->a, e);
        return RG_E_NOMEM;
    }
    e->metrics = rg__metrics_new(&e->a, !(opts && (opts->flags & RG_ENGINE_NO_METRICS)));
    if (!e->path || !e->metrics || pthread_mutex_init(&e->lock, NULL)) {
        rg__metrics_free(&e->a, e->metrics);
        rg__free(&e->a, e->cache_dir);
        rg__free(&e->a, e->path);
        rg__free(&e->a, e);
        return RG_E_NOMEM;
    }
    rg__snapshot *s = NULL;
    int rc = build_snapshot(e, policy_path, 1, &s, diag);
    if (rc != RG_OK) {
        pthread_mutex_destroy(&e->lock);
        rg__metrics_free(&e->a, e->metrics);
        rg__free(&e->a, e->cache_dir);
        rg__free(&e->a, e->path);
        rg__free(&e->a, e);
        return rc;
    }
    e->generation = 1;
    rg__metrics_intern(&e->a, e->metrics, s); /* before publishing s */
    atomic_store(&e->current, s);
    *out = e;
    return RG_OK;
}

static int hazard_held(rg_engine *e, const rg__snapshot *s)
{
    for (rg_scratch *sc = e->scratches; sc; sc = sc->next)
        if (atomic_load(&sc->hazard) == s)
            return 1;
    return 0;
}

/* Free every retired snapshot no check holds any more. Called with the
 * lock held. */
static void sweep_retired(rg_engine *e)
{
    size_t k = 0;
    for (size_t i = 0; i < e->nretired; i++) {
        if (hazard_held(e, e->retired[i]))
            e->retired[k++] = e->retired[i];
        else
            rg__snapshot_free(e->retired[i]);
    }
    e->nretired = k;
}

int rg_engine_reload(rg_engine *engine, const char *policy_path, rg_diag **diag)
{
    if (diag)
        *diag = NULL;
    if (!engine)
        return RG_E_INVAL;
    pthread_mutex_lock(&engine->lock);
    const char *path = policy_path ? policy_path : engine->path;
    rg__snapshot *s = NULL;
    int rc = build_snapshot(engine, path, engine->generation + 1, &s, diag);
    if (rc == RG_OK && policy_path && strcmp(policy_path, engine->path)) {
        char *np = rg__strdup(&engine->a, policy_path);
        if (!np) {
            rc = RG_E_NOMEM;
        } else {
            rg__free(&engine->a, engine->path);
            engine->path = np;
        }
    }
    /* Reserve the retired slot before swapping so that publishing the new
     * snapshot can no longer fail half-way. */
    if (rc == RG_OK && rg__grow(&engine->a, (void **)&engine->retired,
                                &engine->capretired, engine->nretired + 1,
                                sizeof *engine->retired))
        rc = RG_E_NOMEM;
    if (rc != RG_OK) {
        rg__snapshot_free(s);
        rg__metrics_reloaded(&engine->a, engine->metrics, NULL);
        pthread_mutex_unlock(&engine->lock);
        return rc;
    }
    rg__metrics_reloaded(&engine->a, engine->metrics, s); /* before publishing s */
    engine->generation++;
    rg__snapshot *old = atomic_exchange(&engine->current, s);
    engine->retired[engine->nretired++] = old;
    /* Checks take microseconds: give those in flight a moment to finish
     * so the old snapshot's memory goes back promptly; whatever is still
     * held is freed by a later reload or by close. */
    for (int spin = 0; spin < 100 && engine->nretired; spin++) {
        sweep_retired(engine);
        if (!engine->nretired)
            break;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_unlock(&engine->lock);
    return RG_OK;
}

void rg_engine_close(rg_engine *engine)
{
    if (!engine)
        return;
    rg_allocator a = engine->a;
    for (size_t i = 0; i < engine->nretired; i++)
        rg__snapshot_free(engine->retired[i]);
    rg__free(&a, engine->retired);
    rg__snapshot_free(atomic_load(&engine->current));
    /* Scratches still registered belong to a caller who broke the
     * contract; detach them so rg_scratch_free does not touch freed
     * memory. */
    for (rg_scratch *sc = engine->scratches; sc; sc = sc->next)
        sc->engine = NULL;
    pthread_mutex_destroy(&engine->lock);
    rg__metrics_free(&a, engine->metrics);
    rg__free(&a, engine->cache_dir);
    rg__free(&a, engine->path);
    rg__free(&a, engine);
}

int rg_engine_get_info(const rg_engine *engine, rg_engine_info *info)
{
    if (!engine || !info)
        return RG_E_INVAL;
    rg_engine *e = (rg_engine *)engine;
    memset(info, 0, sizeof *info);
    pthread_mutex_lock(&e->lock);
    const rg__snapshot *s = atomic_load(&e->current);
    snprintf(info->policy_version, sizeof info->policy_version, "%s", s->version);
    memcpy(info->policy_hash, s->hash, sizeof info->policy_hash);
    info->generation = s->generation;
    info->detector_count = s->ndets;
    /* As the author wrote them: not the internal compacted copies. */
    info->pattern_count = s->nwords + s->nregex;
    info->route_count = s->nroutes;
    info->compile_ns = s->compile_ns;
    pthread_mutex_unlock(&e->lock);
    return RG_OK;
}

int rg_engine_route_name(const rg_engine *engine, size_t index, char *buf,
                         size_t size)
{
    if (!engine || !buf || size == 0)
        return RG_E_INVAL;
    rg_engine *e = (rg_engine *)engine;
    int rc = RG_OK;
    pthread_mutex_lock(&e->lock);
    const rg__snapshot *s = atomic_load(&e->current);
    if (index >= s->nroutes) {
        buf[0] = '\0';
        rc = RG_E_RANGE;
    } else {
        snprintf(buf, size, "%s", s->routes[index].name);
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int rg_scratch_alloc(rg_engine *engine, rg_scratch **out)
{
    if (!out)
        return RG_E_INVAL;
    *out = NULL;
    if (!engine)
        return RG_E_INVAL;
    rg_scratch *s = rg__calloc(&engine->a, 1, sizeof *s);
    if (!s)
        return RG_E_NOMEM;
    s->engine = engine;
    s->a = engine->a;
    s->raw = rg__calloc(&engine->a, RG__MAX_RAWHITS, sizeof *s->raw);
    if (!s->raw) {
        rg__free(&engine->a, s);
        return RG_E_NOMEM;
    }
    s->metrics = rg__mscratch_new(&engine->a, engine->metrics);
    if (!s->metrics) {
        rg__free(&engine->a, s->raw);
        rg__free(&engine->a, s);
        return RG_E_NOMEM;
    }
    atomic_init(&s->hazard, NULL);
    pthread_mutex_lock(&engine->lock);
    s->next = engine->scratches;
    if (engine->scratches)
        engine->scratches->prev = s;
    engine->scratches = s;
    pthread_mutex_unlock(&engine->lock);
    /* Size the buffers for the current snapshot now, so that the first
     * check does not pay for it. A failure here is retried by the check. */
    rg__scratch_fit(s, rg__engine_pin(engine, s));
    rg__engine_unpin(s);
    *out = s;
    return RG_OK;
}

void rg_scratch_free(rg_scratch *scratch)
{
    if (!scratch)
        return;
    rg_engine *e = scratch->engine;
    if (e) {
        pthread_mutex_lock(&e->lock);
        if (scratch->prev)
            scratch->prev->next = scratch->next;
        else
            e->scratches = scratch->next;
        if (scratch->next)
            scratch->next->prev = scratch->prev;
        /* Its counts stay with the engine: counters never go backwards. */
        rg__mscratch_retire(e->metrics, scratch->metrics);
        pthread_mutex_unlock(&e->lock);
    }
    rg__mscratch_free(&scratch->a, scratch->metrics);
    rg__scratch_release(scratch);
}

const rg__snapshot *rg__engine_pin(rg_engine *e, rg_scratch *s)
{
    rg__snapshot *snap;
    /* seq_cst store then re-load: either the reloader sees our hazard
     * before it frees, or we see its new pointer and retry. */
    do {
        snap = atomic_load(&e->current);
        atomic_store(&s->hazard, snap);
    } while (snap != atomic_load(&e->current));
    return snap;
}

void rg__engine_unpin(rg_scratch *s)
{
    atomic_store_explicit(&s->hazard, NULL, memory_order_release);
}
