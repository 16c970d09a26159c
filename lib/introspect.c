/* introspect.c — questions policy-author tools ask the current snapshot:
 * is a category name known / scored (rg_engine_category), what threshold
 * a route applies to a category (rg_engine_threshold), and how the
 * snapshot was built (rg_engine_load_info). All read the snapshot under
 * the engine lock, as rg_engine_get_info does: a reload cannot free it
 * meanwhile, and checks never take that lock. */
#include "engine.h"
#include <stdio.h>
#include <string.h>

_Static_assert((int)RG_ACTION_HANDOFF == (int)RG__F_HANDOFF &&
                   (int)RG_ACTION_BLOCK == (int)RG__F_BLOCK &&
                   (int)RG_ACTION_REDACT == (int)RG__F_REDACT,
               "rg_engine_threshold indexes thresholds by RG_ACTION_*");

/* `name` is `key` or below it at a dot boundary. */
static int under(const char *name, const char *key)
{
    size_t n = strlen(key);
    return strncmp(name, key, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

unsigned rg_engine_category(const rg_engine *engine, const char *name)
{
    if (!engine || !name || !*name)
        return 0;
    rg_engine *e = (rg_engine *)engine;
    unsigned bits = 0;
    for (const char *const *t = rg__taxonomy; *t && !bits; t++)
        if (under(*t, name))
            bits |= RG_CATEGORY_KNOWN;
    pthread_mutex_lock(&e->lock);
    const rg__snapshot *s = atomic_load(&e->current);
    for (size_t i = 0; i < s->ndeclared && !(bits & RG_CATEGORY_KNOWN); i++)
        if (under(s->declared[i], name))
            bits |= RG_CATEGORY_KNOWN;
    for (size_t i = 0; i < s->ncats; i++)
        if (under(s->cats[i], name))
            bits |= RG_CATEGORY_SCORED | RG_CATEGORY_KNOWN;
    pthread_mutex_unlock(&e->lock);
    return bits;
}

int rg_engine_threshold(const rg_engine *engine, const char *route,
                        const char *category, int action, unsigned flags,
                        rg_threshold *out)
{
    if (!engine || !category || !out ||
        out->struct_size < offsetof(rg_threshold, route) + sizeof out->route ||
        action < RG_ACTION_HANDOFF || action > RG_ACTION_REDACT ||
        (flags & ~(unsigned)RG_THRESHOLD_SHADOW))
        return RG_E_INVAL;
    rg_engine *e = (rg_engine *)engine;
    int rc = RG_OK;
    out->value = -1;
    out->rule[0] = out->route[0] = '\0';
    pthread_mutex_lock(&e->lock);
    const rg__snapshot *s = atomic_load(&e->current);
    const rg__croute *r = rg__snapshot_route(s, route ? route : "default");
    size_t lo = 0, hi = s->ncats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->cats[mid], category) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!r) {
        rc = RG_E_NOROUTE;
    } else if (lo == s->ncats || strcmp(s->cats[lo], category) != 0) {
        rc = RG_E_RANGE;
    } else {
        const rg__cthr *thr = (flags & RG_THRESHOLD_SHADOW) && r->sthr ? r->sthr : r->thr;
        const rg__cthr *t = &thr[lo];
        /* action indexes match RG__F_* (handoff, block, redact). */
        out->value = t->v[action] > 1.0 ? -1 : t->v[action];
        snprintf(out->rule, sizeof out->rule, "%s", t->key[action] ? t->key[action] : "");
        snprintf(out->route, sizeof out->route, "%s", t->from[action] ? t->from[action] : "");
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int rg_engine_load_info(const rg_engine *engine, rg_load_info *info)
{
    if (!engine || !info ||
        info->struct_size < offsetof(rg_load_info, load_ns) + sizeof info->load_ns)
        return RG_E_INVAL;
    rg_engine *e = (rg_engine *)engine;
    pthread_mutex_lock(&e->lock);
    const rg__snapshot *s = atomic_load(&e->current);
    info->source = s->source;
    info->cache_written = s->cache_written;
    info->load_ns = s->load_ns;
    pthread_mutex_unlock(&e->lock);
    return RG_OK;
}
