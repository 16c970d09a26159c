/* conv_model.c — the conversation rules as written (conv.h): freeing
 * them, and adding the built-in detectors their findings are reported
 * under.
 *
 * A loop or a missing disclosure is not a text match, but reporting it as
 * a hit of a detector of an ordinary category (handoff.loop,
 * compliance.missing_disclosure) lets everything downstream — route
 * thresholds and actions, reasons, shadow mode, metrics, audits, replay,
 * explain — treat it without a special case. The detectors have no
 * terms, so they compile to no pattern and never match text. */
#include "conv.h"
#include "alloc.h"
#include <stdio.h>
#include <string.h>

static void free_phrases(const rg_allocator *a, rg__mphrases *p)
{
    for (size_t i = 0; i < p->n; i++)
        rg__free(a, p->v[i]);
    rg__free(a, p->v);
}

void rg__conv_model_free(const rg_allocator *a, rg__mconv *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nasks; i++) {
        rg__free(a, c->asks[i].id);
        free_phrases(a, &c->asks[i].any);
    }
    rg__free(a, c->asks);
    for (size_t i = 0; i < c->nreq; i++) {
        rg__free(a, c->req[i].id);
        rg__free(a, c->req[i].lang);
        free_phrases(a, &c->req[i].any);
    }
    rg__free(a, c->req);
    /* The pseudo-routes themselves are freed by policy_load.c (it owns
     * route freeing); their languages and the array here. */
    for (size_t i = 0; i < c->novr; i++)
        rg__free(a, c->ovr[i].lang);
    rg__free(a, c->ovr);
    rg__free(a, c);
}

static int has_detector(const rg__policy *p, const char *id)
{
    for (size_t i = 0; i < p->ndetectors; i++)
        if (p->detectors[i].id && !strcmp(p->detectors[i].id, id))
            return 1;
    return 0;
}

/* Append a built-in detector once (the same ask or requirement id in
 * several routes is one detector). */
static int add_builtin(rg__policy *p, const char *id, const char *category,
                       const char *description, rg__loc loc)
{
    if (has_detector(p, id))
        return 0;
    rg__detector *nd = rg__realloc(&p->a, p->detectors,
                                   (p->ndetectors + 1) * sizeof *nd);
    if (!nd)
        return -1;
    p->detectors = nd;
    rg__detector *d = &nd[p->ndetectors];
    memset(d, 0, sizeof *d);
    d->id = rg__strdup(&p->a, id);
    d->category = rg__strdup(&p->a, category);
    d->description = rg__strdup(&p->a, description);
    if (!d->id || !d->category || !d->description) {
        rg__free(&p->a, d->id);
        rg__free(&p->a, d->category);
        rg__free(&p->a, d->description);
        return -1;
    }
    d->kind = RG__KIND_WORDS;
    d->view = RG__VIEW_NORM;
    d->score = 1.0;
    d->scope = RG__SCOPE_REPLY;
    d->loc = d->category_loc = loc;
    p->ndetectors++;
    return 0;
}

int rg__conv_model_finish(rg__policy *p)
{
    char id[96];
    for (size_t r = 0; r < p->nroutes; r++) {
        const rg__mconv *c = p->routes[r].conv;
        if (!c)
            continue;
        if (c->has_loop && !c->loop_off &&
            add_builtin(p, "loop.repeat", "handoff.loop",
                        "built-in: the draft repeats earlier replies (loop:)",
                        c->loop_loc))
            return -1;
        for (size_t i = 0; i < c->nasks; i++) {
            if (!c->asks[i].id)
                continue;
            snprintf(id, sizeof id, "loop.ask.%s", c->asks[i].id);
            if (add_builtin(p, id, "handoff.loop",
                            "built-in: the draft asks again for an item "
                            "(loop: asks)", c->asks[i].loc))
                return -1;
        }
        for (size_t i = 0; i < c->nreq; i++) {
            if (!c->req[i].id)
                continue;
            snprintf(id, sizeof id, "require.%s", c->req[i].id);
            if (add_builtin(p, id, "compliance.missing_disclosure",
                            "built-in: a required disclosure is missing "
                            "(require:)", c->req[i].loc))
                return -1;
        }
    }
    return 0;
}
