/* policy_check.c — semantic checks over a loaded policy model: things a
 * single YAML file cannot know (ids unique across files, categories known
 * to the taxonomy or declared, `extends` targets and cycles), and the
 * category and route lookups the compiler shares. */
#include "model.h"
#include "conv.h"
#include "alloc.h"
#include "lexicon.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixed taxonomy of DESIGN.md: other parts and external evaluations
 * rely on these exact names. */
const char *const rg__taxonomy[] = {
    "toxicity.profanity", "toxicity.insult", "toxicity.threat",
    "toxicity.hate", "toxicity.sexual", "toxicity.self_harm",
    "toxicity.harassment",
    "pii.email", "pii.phone", "pii.payment_card", "pii.ssn", "pii.iban",
    "pii.bank_account", "pii.ip_address", "pii.national_id",
    "pii.date_of_birth", "pii.medical_record", "pii.address",
    "secret.api_key", "secret.private_key", "secret.password",
    "secret.token",
    "compliance.prohibited", "compliance.missing_disclosure",
    "handoff.user_request", "handoff.frustration", "handoff.loop",
    "handoff.topic",
    NULL,
};

/* 1 if `prefix` (n bytes) is a proper dot-prefix of `name`: "pii" of
 * "pii.email", not "pi" of it. */
static int is_dot_prefix(const char *prefix, size_t n, const char *name)
{
    return strncmp(name, prefix, n) == 0 && name[n] == '.';
}

/* strcmp(e, name + "."), for finding where names below `name` start. */
static int cmp_below(const char *e, const char *name, size_t n)
{
    int c = strncmp(e, name, n);
    if (c)
        return c;
    return (int)(unsigned char)e[n] - '.';
}

int rg__category_known(const rg__policy *p, const char *name, int allow_prefix)
{
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    for (const char *const *t = rg__taxonomy; *t; t++)
        if (strcmp(*t, name) == 0 || (allow_prefix && is_dot_prefix(name, n, *t)))
            return 1;
    if (!p || p->ncats == 0)
        return 0;
    /* p->cats is in name order (policy_load.c): binary search. */
    size_t lo = 0, hi = p->ncats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(p->cats[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->ncats && strcmp(p->cats[lo].name, name) == 0)
        return 1;
    if (!allow_prefix)
        return 0;
    /* Names below `name` sort together, right at name + ".". */
    hi = p->ncats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_below(p->cats[mid].name, name, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->ncats && is_dot_prefix(name, n, p->cats[lo].name);
}

long rg__policy_route_index(const rg__policy *p, const char *name)
{
    size_t lo = 0, hi = p->nroutes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->routes[mid].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */

static const char *q(char *buf, const char *s)
{
    return rg__quote(buf, s, strlen(s));
}

/* "file:line" for "first defined at ..." notes. */
static const char *where(char *buf, size_t size, const rg__loc *loc)
{
    char qb[RG__QUOTE_SIZE];
    snprintf(buf, size, "%s:%u", loc->file ? q(qb, loc->file) : "?",
             loc->line);
    return buf;
}

/* A close known category for "did you mean", or NULL. Prefixes count as
 * candidates only where a prefix is allowed (rule keys). */
static const char *suggest_category(const rg__policy *p, const char *name,
                                    int allow_prefix, char *buf, size_t size)
{
    size_t best = 3;
    const char *hit = NULL;
    for (const char *const *t = rg__taxonomy; *t; t++) {
        size_t dist = rg__edit_distance(name, *t, 2);
        if (dist < best) {
            best = dist;
            hit = *t;
        }
        if (!allow_prefix)
            continue;
        /* The top-level group ("toxicity") of this entry. */
        const char *dot = strchr(*t, '.');
        size_t n = (size_t)(dot - *t);
        if (n < size) {
            char group[64];
            memcpy(group, *t, n);
            group[n] = '\0';
            dist = rg__edit_distance(name, group, 2);
            if (dist < best) {
                best = dist;
                snprintf(buf, size, "%s", group);
                hit = buf;
            }
        }
    }
    for (size_t i = 0; i < p->ncats; i++) {
        size_t dist = rg__edit_distance(name, p->cats[i].name, 2);
        if (dist < best) {
            best = dist;
            hit = p->cats[i].name;
        }
    }
    return hit;
}

/* Declared sub-categories: dot-separated [a-z0-9_]+ segments, strictly
 * below a taxonomy category. */
static void check_catdecls(const rg__policy *p, rg__diags *d)
{
    char b[RG__QUOTE_SIZE];
    for (size_t i = 0; i < p->ncats; i++) {
        const rg__catdecl *c = &p->cats[i];
        const char *s = c->name;
        int ok = *s != '\0', seglen = 0;
        for (; *s && ok; s++) {
            if (*s == '.') {
                ok = seglen > 0;
                seglen = 0;
            } else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                       *s == '_') {
                seglen++;
            } else {
                ok = 0;
            }
        }
        if (!ok || seglen == 0) {
            rg__diag_error(d, c->loc.file, c->loc.line, c->loc.column,
                           "invalid category name '%s' (dot-separated "
                           "segments of a-z, 0-9 and '_')", q(b, c->name));
            continue;
        }
        const char *parent = NULL;
        int is_taxonomy = 0;
        for (const char *const *t = rg__taxonomy; *t; t++) {
            if (strcmp(*t, c->name) == 0)
                is_taxonomy = 1;
            else if (is_dot_prefix(*t, strlen(*t), c->name))
                parent = *t;
        }
        if (is_taxonomy)
            rg__diag_error(d, c->loc.file, c->loc.line, c->loc.column,
                           "category '%s' is already in the fixed taxonomy; "
                           "declare sub-categories below it (e.g. '%s.custom')",
                           c->name, c->name);
        else if (!parent)
            rg__diag_error(d, c->loc.file, c->loc.line, c->loc.column,
                           "category '%s' is not below a taxonomy category; "
                           "declared categories extend one (e.g. "
                           "'pii.national_id.es_dni' below 'pii.national_id')",
                           q(b, c->name));
    }
}

/* A category below `group` (taxonomy first, then declared), or NULL. */
static const char *example_below(const rg__policy *p, const char *group)
{
    size_t n = strlen(group);
    for (const char *const *t = rg__taxonomy; *t; t++)
        if (is_dot_prefix(group, n, *t))
            return *t;
    for (size_t i = 0; i < p->ncats; i++)
        if (is_dot_prefix(group, n, p->cats[i].name))
            return p->cats[i].name;
    return NULL;
}

static int check_detectors(const rg__policy *p, rg__diags *d)
{
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE], b3[RG__QUOTE_SIZE];
    char w[RG__QUOTE_SIZE + 32], sug[64];
    for (size_t i = 0; i < p->ndetectors; i++) {
        const rg__detector *det = &p->detectors[i];
        const rg__loc *l = &det->category_loc;
        if (!det->category || rg__category_known(p, det->category, 0))
            continue;
        const char *hint;
        if ((hint = example_below(p, det->category)))
            rg__diag_error(d, l->file, l->line, l->column,
                           "detector '%s': '%s' is a category group; a "
                           "detector needs a full category such as '%s'",
                           q(b1, det->id ? det->id : "?"),
                           q(b2, det->category), q(b3, hint));
        else if ((hint = suggest_category(p, det->category, 0, sug, sizeof sug)))
            rg__diag_error(d, l->file, l->line, l->column,
                           "detector '%s' has unknown category '%s' (did you "
                           "mean '%s'?)", q(b1, det->id ? det->id : "?"),
                           q(b2, det->category), q(b3, hint));
        else
            rg__diag_error(d, l->file, l->line, l->column,
                           "detector '%s' has unknown category '%s' (not in "
                           "the taxonomy and not declared under "
                           "'categories:')", q(b1, det->id ? det->id : "?"),
                           q(b2, det->category));
    }
    /* Unique ids: sorted, so this stays O(n log n) on huge sets. */
    if (p->ndetectors < 2)
        return RG_OK;
    for (size_t i = 0; i < p->ndetectors; i++)
        if (!p->detectors[i].id)
            return RG_OK; /* the loader rejected this set already */
    rg__name_ix *v = rg__sort_names(&p->a, &p->detectors[0].id,
                                    sizeof *p->detectors, p->ndetectors);
    if (!v)
        return RG_E_NOMEM;
    size_t first = 0;
    for (size_t i = 1; i < p->ndetectors; i++) {
        if (strcmp(v[i].name, v[i - 1].name) != 0) {
            first = i;
            continue;
        }
        const rg__detector *det = &p->detectors[v[i].ix];
        rg__diag_error(d, det->loc.file, det->loc.line, det->loc.column,
                       "duplicate detector id '%s' (first defined at %s)",
                       q(b1, det->id),
                       where(w, sizeof w, &p->detectors[v[first].ix].loc));
    }
    rg__free(&p->a, v);
    return RG_OK;
}

/* The rule for `key` in route r, or NULL. */
static const rg__rule *rule_of(const rg__route *r, const char *key)
{
    for (size_t i = 0; i < r->nrules; i++)
        if (strcmp(r->rules[i].key, key) == 0)
            return &r->rules[i];
    return NULL;
}

/* Field f of `key` as route r sees it: its own, else its nearest
 * ancestor's on the same key. Returns the route that set it (value in
 * *v), or -1. Only called on acyclic chains. */
static long inherited(const rg__policy *p, const long *parent, long r,
                      const char *key, int f, double *v)
{
    for (; r >= 0; r = parent[r]) {
        const rg__rule *rule = rule_of(&p->routes[r], key);
        if (rule && rule->has[f]) {
            *v = rule->value[f];
            return r;
        }
    }
    return -1;
}

enum { UNSEEN = 0, ON_PATH = 1, DONE = 2 };

static int check_routes(const rg__policy *p, rg__diags *d)
{
    char b1[RG__QUOTE_SIZE], b2[RG__QUOTE_SIZE], b3[RG__QUOTE_SIZE], sug[64];
    size_t n = p->nroutes;
    if (n == 0)
        return RG_OK;
    /* parent[i]: index of the extended route; -1 none; -2 unknown. */
    long *parent = rg__calloc(&p->a, n, sizeof *parent);
    long *path = rg__calloc(&p->a, n, sizeof *path);
    unsigned char *state = rg__calloc(&p->a, n, 1);
    unsigned char *broken = rg__calloc(&p->a, n, 1);
    if (!parent || !path || !state || !broken) {
        rg__free(&p->a, parent);
        rg__free(&p->a, path);
        rg__free(&p->a, state);
        rg__free(&p->a, broken);
        return RG_E_NOMEM;
    }

    for (size_t i = 0; i < n; i++) {
        const rg__route *r = &p->routes[i];
        parent[i] = -1;
        if (r->extends) {
            parent[i] = rg__policy_route_index(p, r->extends);
            if (parent[i] < 0) {
                parent[i] = -2;
                rg__diag_error(d, r->extends_loc.file, r->extends_loc.line,
                               r->extends_loc.column,
                               "route '%s' extends unknown route '%s'",
                               q(b1, r->name), q(b2, r->extends));
            }
        }
        /* The route's rules, then those of its `overrides:` (conv.h),
         * which name categories the same way. */
        size_t nsets = 1 + (r->conv ? r->conv->novr : 0);
        for (size_t set = 0; set < nsets; set++) {
        const rg__route *rr = set == 0 ? r : &r->conv->ovr[set - 1].route;
        for (size_t k = 0; k < rr->nrules; k++) {
            const rg__rule *rule = &rr->rules[k];
            if (rg__category_known(p, rule->key, 1))
                continue;
            const char *hint = suggest_category(p, rule->key, 1, sug,
                                                sizeof sug);
            if (hint)
                rg__diag_error(d, rule->loc.file, rule->loc.line,
                               rule->loc.column,
                               "unknown category '%s' in route '%s' (did you "
                               "mean '%s'?)", q(b1, rule->key),
                               q(b2, rr->name), q(b3, hint));
            else
                rg__diag_error(d, rule->loc.file, rule->loc.line,
                               rule->loc.column,
                               "unknown category '%s' in route '%s' (rules "
                               "name a category or a prefix of one, such as "
                               "'toxicity' or 'pii.national_id')",
                               q(b1, rule->key), q(b2, rr->name));
        }
        }
    }

    /* Cycles: follow each chain once, keeping the current path; meeting
     * a route already on the path closes a cycle, reported once with
     * its members. Chains that end in a cycle or an unknown route are
     * marked broken (no inheritance checks on them). */
    for (size_t i = 0; i < n; i++) {
        if (state[i] != UNSEEN)
            continue;
        size_t np = 0;
        long j = (long)i;
        while (j >= 0 && state[j] == UNSEEN) {
            state[j] = ON_PATH;
            path[np++] = j;
            j = parent[j];
        }
        int bad;
        if (j == -1) {
            bad = 0;
        } else if (j == -2) {
            bad = 1;
        } else if (state[j] == ON_PATH) {
            bad = 1;
            size_t start = 0;
            while (path[start] != j)
                start++;
            /* "a -> b -> a"; long cycles are abridged. */
            char msg[900];
            size_t o = 0;
            for (size_t k = start; k < np && o < sizeof msg; k++) {
                if (k - start == 10) {
                    o += (size_t)snprintf(msg + o, sizeof msg - o,
                                          " -> ... (%zu more)", np - k);
                    break;
                }
                o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s",
                                      k > start ? " -> " : "",
                                      q(b1, p->routes[path[k]].name));
            }
            if (o < sizeof msg)
                snprintf(msg + o, sizeof msg - o, " -> %s",
                         q(b1, p->routes[j].name));
            const rg__route *r = &p->routes[j];
            rg__diag_error(d, r->extends_loc.file, r->extends_loc.line,
                           r->extends_loc.column, "extends cycle: %s", msg);
        } else {
            bad = broken[j];
        }
        for (size_t k = 0; k < np; k++) {
            state[path[k]] = DONE;
            broken[path[k]] = (unsigned char)bad;
        }
    }

    /* A handoff threshold above the block threshold of the same key can
     * never apply: block is checked first. Warn where a route sets one of
     * the two, with the other possibly inherited. */
    for (size_t i = 0; i < n; i++) {
        if (broken[i])
            continue;
        const rg__route *r = &p->routes[i];
        for (size_t k = 0; k < r->nrules; k++) {
            const rg__rule *rule = &r->rules[k];
            if (!rule->has[RG__F_HANDOFF] && !rule->has[RG__F_BLOCK])
                continue;
            double h = 0, b = 0;
            long hr = inherited(p, parent, (long)i, rule->key, RG__F_HANDOFF, &h);
            long br = inherited(p, parent, (long)i, rule->key, RG__F_BLOCK, &b);
            if (hr < 0 || br < 0 || h < 0 || b < 0 || h <= b)
                continue;
            char from[RG__QUOTE_SIZE + 48] = "";
            long other = rule->has[RG__F_HANDOFF] ? br : hr;
            if (other != (long)i)
                snprintf(from, sizeof from, " (%s inherited from route '%s')",
                         rule->has[RG__F_HANDOFF] ? "block" : "handoff",
                         q(b2, p->routes[other].name));
            rg__diag_warn(d, rule->loc.file, rule->loc.line, rule->loc.column,
                          "route '%s': handoff threshold %g for '%s' is above "
                          "its block threshold %g%s, so handoff never applies",
                          q(b1, r->name), h, q(b3, rule->key), b, from);
        }
    }
    rg__free(&p->a, parent);
    rg__free(&p->a, path);
    rg__free(&p->a, state);
    rg__free(&p->a, broken);
    return RG_OK;
}

int rg__policy_check(const rg__policy *p, rg__diags *d)
{
    size_t errors_before = d->nerrors;
    check_catdecls(p, d);
    int rc = check_detectors(p, d);
    if (rc == RG_OK)
        rc = check_routes(p, d);
    if (rc == RG_OK && d->oom)
        rc = RG_E_NOMEM;
    if (rc == RG_OK && d->nerrors > errors_before)
        rc = RG_E_POLICY;
    return rc;
}
