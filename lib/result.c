/* result.c — the caller-owned result: allocation and accessors. The hot
 * path fills it in check.c. */
#include "engine.h"
#include "conv.h"
#include "alloc.h"
#include <string.h>

int rg_result_alloc(const rg_allocator *allocator, rg_result **out)
{
    if (!out)
        return RG_E_INVAL;
    *out = NULL;
    rg_allocator a;
    rg__allocator_init(&a, allocator);
    rg_result *r = rg__calloc(&a, 1, sizeof *r);
    if (!r)
        return RG_E_NOMEM;
    r->a = a;
    r->hits = rg__calloc(&a, RG_MAX_HITS, sizeof *r->hits);
    /* The handoff excerpt's fixed buffer (handoff.c), here so that no
     * check ever allocates it. */
    r->excerpt = rg__malloc(&a, RG__EXCERPT_CAP);
    r->excerpt_cap = RG__EXCERPT_CAP;
    if (!r->hits || !r->excerpt) {
        rg__free(&a, r->hits);
        rg__free(&a, r->excerpt);
        rg__free(&a, r);
        return RG_E_NOMEM;
    }
    rg__result_reset(r);
    *out = r;
    return RG_OK;
}

void rg_result_free(rg_result *r)
{
    if (!r)
        return;
    rg_allocator a = r->a;
    rg__free(&a, r->hits);
    rg__free(&a, r->cats);
    rg__free(&a, r->reasons);
    rg__free(&a, r->arena);
    rg__free(&a, r->redacted);
    rg__free(&a, r->sarena);
    rg__free(&a, r->excerpt);
    rg__free(&a, r);
}

void rg__result_reset(rg_result *r)
{
    /* A result that was never filled (or whose check failed before a
     * decision) reads as handoff: never an accidental allow. */
    r->verdict = RG_HANDOFF;
    r->flags = 0;
    r->elapsed_ns = 0;
    r->nhits = 0;
    r->ncats = 0;
    r->nreasons = 0;
    r->arena_len = 0;
    r->has_redacted = 0;
    r->redacted_len = 0;
    r->route = "";
    r->version[0] = '\0';
    r->hash[0] = '\0';
    r->has_shadow = 0;
    r->turn = 1;
    r->channel[0] = r->locale[0] = '\0';
    r->has_excerpt = 0;
    r->excerpt_len = 0;
}

rg_verdict rg_result_verdict(const rg_result *r) { return r ? r->verdict : RG_HANDOFF; }
unsigned rg_result_flags(const rg_result *r) { return r ? r->flags : 0; }
size_t rg_result_hit_count(const rg_result *r) { return r ? r->nhits : 0; }

const rg_hit *rg_result_hit(const rg_result *r, size_t i)
{
    return r && i < r->nhits ? &r->hits[i] : NULL;
}

size_t rg_result_category_count(const rg_result *r) { return r ? r->ncats : 0; }

const rg_category_score *rg_result_category(const rg_result *r, size_t i)
{
    return r && i < r->ncats ? &r->cats[i] : NULL;
}

size_t rg_result_reason_count(const rg_result *r) { return r ? r->nreasons : 0; }

const rg_reason *rg_result_reason(const rg_result *r, size_t i)
{
    return r && i < r->nreasons ? &r->reasons[i] : NULL;
}

const char *rg_result_redacted(const rg_result *r, size_t *len)
{
    if (!r || !r->has_redacted) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->redacted_len;
    return r->redacted;
}

uint64_t rg_result_elapsed_ns(const rg_result *r) { return r ? r->elapsed_ns : 0; }
const char *rg_result_route(const rg_result *r) { return r ? r->route : NULL; }
const char *rg_result_policy_version(const rg_result *r) { return r ? r->version : NULL; }
const char *rg_result_policy_hash(const rg_result *r) { return r ? r->hash : NULL; }
