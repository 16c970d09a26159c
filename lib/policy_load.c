/* policy_load.c — YAML policy files into the model of model.h.
 *
 * Each file is parsed twice. A first pass over libyaml's event stream
 * enforces the limits (nesting depth, node count) and rejects anchors,
 * aliases, tags and multi-document streams *before* yaml_parser_load
 * builds a tree, so a hostile file cannot make the loader allocate without
 * bound. The second pass loads the document and walks it against the
 * schema of docs/POLICY_FORMAT.md. Both passes report into the diagnostics
 * and keep going, so one run shows every problem of the policy set.
 *
 * Scalars are typed by this loader, not by libyaml: a plain scalar may be
 * a number, a boolean or a string as the key expects; a quoted scalar is
 * always a string ("0.5" is not a score). */
#include "model.h"
#include "validate.h"
#include "alloc.h"
#include "lexicon.h"
#include "sha256.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "conv.h"

/* Far above any real policy (which nests 4 deep and has thousands of
 * nodes), far below what would hurt. */
#define MAX_DEPTH 64
#define MAX_NODES 1000000
/* A file that produces this many errors is probably not a policy file at
 * all; more messages would only bury the first ones. */
#define MAX_ERRORS_PER_FILE 100
/* The version is copied into rg_engine_info.policy_version[64]. */
#define MAX_VERSION_LEN 63
/* A mask replaces every redacted span: a long one multiplies the size of
 * the redacted copy (256 spans x a 1 MiB mask took 256 MiB and 0.5 s for
 * a 24 KB reply). Real masks are a few words. */
#define MAX_MASK_LEN 256
/* Room for "the quoted string '<quoted value>'". */
#define DESC_SIZE (RG__QUOTE_SIZE + 32)

typedef struct loader {
    rg__policy *p;
    const rg_allocator *a; /* &p->a */
    rg__diags *d;
    rg__sha256 hash;
    char *real_root;       /* realpath of p->root */
    int oom;               /* an allocation failed: unwind */
    int io;                /* a policy file could not be read */
    /* The policy file being walked. */
    const char *file;      /* in p->files */
    yaml_document_t *doc;
    unsigned char *seen;   /* per node: visited (a second visit = alias) */
    size_t nnodes;
    unsigned errors;
    /* Where `version` was set, to report a second file setting it. */
    rg__loc version_loc;
    /* Capacities of the model's arrays (model.h keeps counts only). */
    size_t cap_det, cap_route, cap_cat;
} loader;

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                              */
/* ------------------------------------------------------------------------ */

static rg__loc loc_of(const loader *L, const yaml_node_t *n)
{
    rg__loc loc = {L->file, (unsigned)n->start_mark.line + 1,
                   (unsigned)n->start_mark.column + 1};
    return loc;
}

static void vreport(loader *L, rg_severity sev, const char *file,
                    unsigned line, unsigned col, const char *fmt, va_list ap)
{
    if (sev == RG_SEV_ERROR && L->file && file == L->file) {
        L->errors++;
        if (L->errors > MAX_ERRORS_PER_FILE)
            return;
        if (L->errors == MAX_ERRORS_PER_FILE) {
            rg__diag_error(L->d, file, line, col,
                           "too many errors in this file; the rest are not "
                           "reported");
            return;
        }
    }
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, ap);
    rg__diag_add(L->d, sev, file, line, col, "%s", msg);
}

static void error_loc(loader *L, const rg__loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error_loc(loader *L, const rg__loc *loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(L, RG_SEV_ERROR, loc->file, loc->line, loc->column, fmt, ap);
    va_end(ap);
}

static void error_at(loader *L, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error_at(loader *L, const yaml_node_t *n, const char *fmt, ...)
{
    rg__loc loc = loc_of(L, n);
    va_list ap;
    va_start(ap, fmt);
    vreport(L, RG_SEV_ERROR, loc.file, loc.line, loc.column, fmt, ap);
    va_end(ap);
}

/* "file:line" of a loc, for "first defined at ..." notes. */
static const char *where(char *buf, size_t size, const rg__loc *loc)
{
    char q[RG__QUOTE_SIZE];
    const char *f = loc->file ? loc->file : "?";
    snprintf(buf, size, "%s:%u", rg__quote(q, f, strlen(f)), loc->line);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Scalars and their types                                                  */
/* ------------------------------------------------------------------------ */

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n) { return n->data.scalar.length; }

static int is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE &&
           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int plain_is(const yaml_node_t *n, const char *word)
{
    return is_plain(n) && slen(n) == strlen(word) && strcmp(sval(n), word) == 0;
}

/* YAML's null: an empty plain scalar (`key:`), `~` or `null`. */
static int is_null(const yaml_node_t *n)
{
    return is_plain(n) && (slen(n) == 0 || plain_is(n, "~") ||
                           plain_is(n, "null") || plain_is(n, "Null") ||
                           plain_is(n, "NULL"));
}

/* What a node is, for "expected X, got Y" messages. */
static const char *describe(char *buf, const yaml_node_t *n)
{
    char q[RG__QUOTE_SIZE];
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_SCALAR_NODE:
        if (is_null(n))
            return "null";
        rg__quote(q, sval(n), slen(n));
        snprintf(buf, DESC_SIZE, is_plain(n) ? "'%s'" : "the quoted string '%s'",
                 q);
        return buf;
    default:
        return "nothing";
    }
}

/* The node at `index` of the document, marked visited. The event pass
 * already rejects aliases; this catches a node reached twice should that
 * ever let one through, so the walk never runs over shared subtrees. */
static yaml_node_t *node_at(loader *L, int index)
{
    yaml_node_t *n = yaml_document_get_node(L->doc, index);
    if (!n)
        return NULL;
    size_t i = (size_t)(index - 1);
    if (L->seen[i]) {
        error_at(L, n, "YAML aliases are not supported");
        return NULL;
    }
    L->seen[i] = 1;
    return n;
}

/* A string value (any scalar but null). Returns an allocated copy, or NULL
 * when the value is wrong (reported) or on OOM (L->oom). */
static char *get_string(loader *L, const char *key, const yaml_node_t *v,
                        int allow_empty)
{
    char buf[DESC_SIZE];
    if (v->type != YAML_SCALAR_NODE || is_null(v)) {
        error_at(L, v, "'%s' must be a string, got %s", key, describe(buf, v));
        return NULL;
    }
    if (memchr(sval(v), '\0', slen(v))) {
        error_at(L, v, "'%s' contains a NUL character", key);
        return NULL;
    }
    if (!allow_empty && slen(v) == 0) {
        error_at(L, v, "'%s' must not be empty", key);
        return NULL;
    }
    char *s = rg__strndup(L->a, sval(v), slen(v));
    if (!s)
        L->oom = 1;
    return s;
}

/* A mask: a string of at most MAX_MASK_LEN bytes (may be empty). */
static char *get_mask(loader *L, const yaml_node_t *v)
{
    if (v->type == YAML_SCALAR_NODE && slen(v) > MAX_MASK_LEN) {
        error_at(L, v, "'mask' is %zu bytes long; the limit is %d", (size_t)slen(v),
                 MAX_MASK_LEN);
        return NULL;
    }
    return get_string(L, "mask", v, 1);
}

/* A number in 0..1 (plain scalar). Returns 0 or -1 (reported). */
static int get_unit(loader *L, const char *key, const yaml_node_t *v,
                    double *out)
{
    char buf[DESC_SIZE];
    int r = is_plain(v) ? rg__parse_unit(sval(v), slen(v), out) : -1;
    if (r == -2)
        error_at(L, v, "'%s' must be between 0 and 1, got %s", key,
                 describe(buf, v));
    else if (r != 0)
        error_at(L, v, "'%s' must be a number between 0 and 1, got %s", key,
                 describe(buf, v));
    return r ? -1 : 0;
}

/* A threshold: a number in 0..1 or `off` (stored as -1). */
static int get_threshold(loader *L, const char *key, const yaml_node_t *v,
                         double *out)
{
    char buf[DESC_SIZE];
    if (v->type == YAML_SCALAR_NODE && slen(v) == 3 &&
        strcmp(sval(v), "off") == 0) {
        *out = -1;
        return 0;
    }
    int r = is_plain(v) ? rg__parse_unit(sval(v), slen(v), out) : -1;
    if (r == -2)
        error_at(L, v, "'%s' must be between 0 and 1 (or 'off'), got %s",
                 key, describe(buf, v));
    else if (r != 0)
        error_at(L, v, "'%s' must be a number between 0 and 1 or 'off', "
                 "got %s", key, describe(buf, v));
    return r ? -1 : 0;
}

/* A positive decimal integer, at most max. */
static int get_posint(loader *L, const char *key, const yaml_node_t *v,
                      uint64_t max, uint64_t *out)
{
    char buf[DESC_SIZE];
    uint64_t x = 0;
    int ok = is_plain(v) && slen(v) > 0;
    for (size_t i = 0; ok && i < slen(v); i++) {
        unsigned c = (unsigned char)sval(v)[i];
        if (c < '0' || c > '9') {
            ok = 0;
        } else if (x > (max - (c - '0')) / 10) {
            error_at(L, v, "'%s' is too large (at most %ju)", key,
                     (uintmax_t)max);
            return -1;
        } else {
            x = x * 10 + (c - '0');
        }
    }
    if (!ok || x == 0) {
        error_at(L, v, "'%s' must be a positive integer, got %s", key,
                 describe(buf, v));
        return -1;
    }
    *out = x;
    return 0;
}

/* One of `names` (n of them; `list` is them joined for the message).
 * Quoted or plain. Returns the index or -1 (reported). */
static int get_enum(loader *L, const char *key, const yaml_node_t *v,
                    const char *const *names, int n, const char *list)
{
    char buf[DESC_SIZE];
    if (v->type == YAML_SCALAR_NODE)
        for (int i = 0; i < n; i++)
            if (slen(v) == strlen(names[i]) && strcmp(sval(v), names[i]) == 0)
                return i;
    error_at(L, v, "'%s' must be one of: %s; got %s", key, list,
             describe(buf, v));
    return -1;
}

static int get_bool(loader *L, const char *key, const yaml_node_t *v,
                    int *out)
{
    char buf[DESC_SIZE];
    if (plain_is(v, "true") || plain_is(v, "True") || plain_is(v, "TRUE")) {
        *out = 1;
        return 0;
    }
    if (plain_is(v, "false") || plain_is(v, "False") || plain_is(v, "FALSE")) {
        *out = 0;
        return 0;
    }
    error_at(L, v, "'%s' must be true or false, got %s", key, describe(buf, v));
    return -1;
}

/* Detector ids and route names end up in results, JSON and metrics
 * labels: keep them to a safe alphabet. */
static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Mappings with a fixed set of keys                                        */
/* ------------------------------------------------------------------------ */

typedef struct schema {
    const char *what;          /* "detector", "route 'x'", ... */
    const char *const *keys;
    int nkeys;
} schema;

/* The text of a mapping key, or NULL (reported) when it is not a string. */
static const char *key_text(loader *L, const yaml_node_t *k)
{
    char buf[DESC_SIZE];
    if (k->type != YAML_SCALAR_NODE || is_null(k)) {
        error_at(L, k, "mapping keys must be strings, got %s",
                 describe(buf, k));
        return NULL;
    }
    if (memchr(sval(k), '\0', slen(k))) {
        error_at(L, k, "mapping key contains a NUL character");
        return NULL;
    }
    return sval(k);
}

/* Which of s->keys the key node names. Unknown keys (with a suggestion)
 * and duplicates are reported and give -1, so the pair is skipped.
 * first[] holds each field's key node once seen. */
static int schema_field(loader *L, const schema *s, const yaml_node_t *k,
                        const yaml_node_t **first)
{
    const char *name = key_text(L, k);
    if (!name)
        return -1;
    char q[RG__QUOTE_SIZE];
    for (int i = 0; i < s->nkeys; i++) {
        if (strcmp(name, s->keys[i]) != 0)
            continue;
        if (first[i]) {
            error_at(L, k, "duplicate key '%s' in %s (first at line %u)",
                     name, s->what, (unsigned)first[i]->start_mark.line + 1);
            return -1;
        }
        first[i] = k;
        return i;
    }
    char list[256] = "", hint[128] = "";
    size_t best = 3;
    for (int i = 0; i < s->nkeys; i++) {
        size_t dist = rg__edit_distance(name, s->keys[i], 2);
        if (dist < best && dist < strlen(name)) {
            best = dist;
            snprintf(hint, sizeof hint, "did you mean '%s'? ", s->keys[i]);
        }
        size_t o = strlen(list);
        snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", s->keys[i]);
    }
    error_at(L, k, "unknown key '%s' in %s (%sexpected one of: %s)",
             rg__quote(q, name, slen(k)), s->what, hint, list);
    return -1;
}

#define FOR_EACH_PAIR(m, pr)                                                   \
    for (yaml_node_pair_t *pr = (m)->data.mapping.pairs.start;                 \
         pr < (m)->data.mapping.pairs.top; pr++)
#define FOR_EACH_ITEM(s, it)                                                   \
    for (yaml_node_item_t *it = (s)->data.sequence.items.start;                \
         it < (s)->data.sequence.items.top; it++)

/* ------------------------------------------------------------------------ */
/* Freeing model pieces                                                     */
/* ------------------------------------------------------------------------ */

static void free_terms(const rg_allocator *a, rg__term *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rg__free(a, t[i].text);
    rg__free(a, t);
}

static void free_strings(const rg_allocator *a, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rg__free(a, v[i]);
    rg__free(a, v);
}

static void free_detector(const rg_allocator *a, rg__detector *det)
{
    for (size_t i = 0; i < det->nctx; i++)
        free_strings(a, det->ctx[i].words, det->ctx[i].nwords);
    rg__free(a, det->ctx);
    rg__free(a, det->id);
    rg__free(a, det->category);
    rg__free(a, det->pattern);
    free_terms(a, det->terms, det->nterms);
    rg__free(a, det->lexicon);
    free_strings(a, det->allow, det->nallow);
    rg__free(a, det->lang);
    rg__free(a, det->description);
}

static void free_rule(const rg_allocator *a, rg__rule *r)
{
    rg__free(a, r->key);
    rg__free(a, r->mask);
}

static void free_route(const rg_allocator *a, rg__route *r)
{
    rg__free(a, r->name);
    rg__free(a, r->extends);
    rg__free(a, r->description);
    rg__free(a, r->mask);
    for (size_t i = 0; i < r->nrules; i++)
        free_rule(a, &r->rules[i]);
    rg__free(a, r->rules);
    for (size_t i = 0; r->conv && i < r->conv->novr; i++)
        free_route(a, &r->conv->ovr[i].route);
    rg__conv_model_free(a, r->conv);
}

static void free_catdecl(const rg_allocator *a, rg__catdecl *c)
{
    rg__free(a, c->name);
    rg__free(a, c->description);
}

void rg__policy_free(rg__policy *p)
{
    if (!p)
        return;
    rg_allocator a = p->a; /* p itself is freed with it */
    for (size_t i = 0; i < p->ndetectors; i++)
        free_detector(&a, &p->detectors[i]);
    rg__free(&a, p->detectors);
    for (size_t i = 0; i < p->nroutes; i++)
        free_route(&a, &p->routes[i]);
    rg__free(&a, p->routes);
    for (size_t i = 0; i < p->ncats; i++)
        free_catdecl(&a, &p->cats[i]);
    rg__free(&a, p->cats);
    free_strings(&a, p->files, p->nfiles);
    rg__free(&a, p->root);
    rg__free(&a, p->version);
    rg__free(&a, p);
}

/* ------------------------------------------------------------------------ */
/* Detectors                                                                */
/* ------------------------------------------------------------------------ */

enum {
    D_ID, D_CATEGORY, D_WORDS, D_LEXICON, D_REGEX, D_PCRE, D_SCORE, D_VIEW,
    D_CASELESS, D_VALIDATE, D_ALLOW, D_LANG, D_DESCRIPTION, D_CONTEXT,
    D_COMPACT, D_MODE, D_SCAN, D_COUNT
};
static const char *const detector_keys[D_COUNT] = {
    "id", "category", "words", "lexicon", "regex", "pcre", "score", "view",
    "caseless", "validate", "allow", "lang", "description", "context",
    "compact", "mode", "scan",
};

/* `mode:` of a detector or a route: enforce (the default) or shadow
 * (evaluated and reported, never decides; docs/AUTHORING.md). */
static const char *const mode_names[] = {"enforce", "shadow"};

/* A list of non-empty strings (words, allow). For words, each becomes a
 * term with the detector's score and the item's location. */
static void get_string_list(loader *L, const char *key, const yaml_node_t *v,
                            int as_terms, rg__detector *det)
{
    char buf[DESC_SIZE];
    if (v->type != YAML_SEQUENCE_NODE) {
        error_at(L, v, "'%s' must be a list of strings, got %s", key,
                 describe(buf, v));
        return;
    }
    size_t cap = 0;
    FOR_EACH_ITEM(v, it) {
        if (L->oom)
            return;
        yaml_node_t *item = node_at(L, *it);
        if (!item)
            continue;
        if (item->type != YAML_SCALAR_NODE || is_null(item)) {
            error_at(L, item, "each item of '%s' must be a string, got %s%s",
                     key, describe(buf, item),
                     is_null(item) ? " (quote it if you mean the word)" : "");
            continue;
        }
        if (slen(item) == 0) {
            error_at(L, item, "'%s' has an empty item", key);
            continue;
        }
        char *s = get_string(L, key, item, 0);
        if (!s)
            continue;
        int fail = as_terms
            ? rg__grow(L->a, (void **)&det->terms, &cap, det->nterms + 1,
                       sizeof *det->terms)
            : rg__grow(L->a, (void **)&det->allow, &cap, det->nallow + 1,
                       sizeof *det->allow);
        if (fail) {
            rg__free(L->a, s);
            L->oom = 1;
            return;
        }
        if (as_terms) {
            rg__term *t = &det->terms[det->nterms++];
            t->text = s;
            t->score = -1;
            t->loc = loc_of(L, item);
        } else {
            det->allow[det->nallow++] = s;
        }
    }
    if (as_terms && det->nterms == 0 && v->data.sequence.items.top ==
                                            v->data.sequence.items.start)
        error_at(L, v, "'%s' is empty: the detector would never fire", key);
}

/* One `context:` block: {words: [...], window: N, score: S}. */
enum { C_WORDS, C_WINDOW, C_SCORE, C_SIDE, C_COUNT };
static const char *const context_keys[C_COUNT] = {"words", "window", "score",
                                                  "side"};
/* Beyond this a "context" is the whole reply: say so instead. */
#define RG__MAX_CONTEXT_WINDOW 10000

static void load_context_block(loader *L, rg__detector *det, size_t *cap,
                               const yaml_node_t *v)
{
    char buf[DESC_SIZE];
    static const schema sch = {"context", context_keys, C_COUNT};
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "a context block must be a mapping (words, window, "
                 "score), got %s", describe(buf, v));
        return;
    }
    rg__context c;
    memset(&c, 0, sizeof c);
    c.window = 40;
    c.loc = loc_of(L, v);
    const yaml_node_t *first[C_COUNT] = {0};
    size_t wcap = 0;
    FOR_EACH_PAIR(v, pr) {
        if (L->oom)
            break;
        yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
        if (!k || !val)
            continue;
        int f = schema_field(L, &sch, k, first);
        uint64_t w;
        switch (f) {
        case C_WORDS:
            if (val->type != YAML_SEQUENCE_NODE) {
                error_at(L, val, "'words' must be a list of strings, got %s",
                         describe(buf, val));
                break;
            }
            FOR_EACH_ITEM(val, it) {
                yaml_node_t *item = node_at(L, *it);
                if (!item || L->oom)
                    continue;
                char *str = get_string(L, "words", item, 0);
                if (!str)
                    continue;
                if (rg__grow(L->a, (void **)&c.words, &wcap, c.nwords + 1,
                             sizeof *c.words)) {
                    rg__free(L->a, str);
                    L->oom = 1;
                    break;
                }
                c.words[c.nwords++] = str;
            }
            break;
        case C_WINDOW:
            if (get_posint(L, "window", val, RG__MAX_CONTEXT_WINDOW, &w) == 0)
                c.window = (uint32_t)w;
            break;
        case C_SCORE:
            get_unit(L, "score", val, &c.score);
            break;
        case C_SIDE: {
            static const char *const sides[] = {"either", "before", "after"};
            int x = get_enum(L, "side", val, sides, 3, "either, before, after");
            if (x >= 0)
                c.side = x;
            break;
        }
        default:
            break;
        }
    }
    if (!L->oom && !first[C_WORDS])
        error_at(L, v, "context block is missing required key 'words'");
    if (!L->oom && first[C_WORDS] && c.nwords == 0)
        error_at(L, first[C_WORDS], "context 'words' is empty");
    if (!L->oom && !first[C_SCORE])
        error_at(L, v, "context block is missing required key 'score'");
    if (L->oom || rg__grow(L->a, (void **)&det->ctx, cap, det->nctx + 1,
                           sizeof *det->ctx)) {
        L->oom = 1;
        free_strings(L->a, c.words, c.nwords);
        return;
    }
    det->ctx[det->nctx++] = c;
}

static void load_context(loader *L, rg__detector *det, const yaml_node_t *v)
{
    size_t cap = 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        load_context_block(L, det, &cap, v);
        return;
    }
    FOR_EACH_ITEM(v, it) {
        yaml_node_t *item = node_at(L, *it);
        if (item && !L->oom)
            load_context_block(L, det, &cap, item);
    }
}

/* words / lexicon / regex / pcre: what the detector matches. */
static void load_matcher(loader *L, rg__detector *det, int field,
                         const yaml_node_t *v)
{
    const char *key = detector_keys[field];
    switch (field) {
    case D_WORDS:
        det->kind = RG__KIND_WORDS;
        get_string_list(L, key, v, 1, det);
        break;
    case D_LEXICON: {
        det->kind = RG__KIND_WORDS;
        det->lexicon = get_string(L, key, v, 1);
        if (!det->lexicon)
            break;
        rg__loc at = loc_of(L, v);
        int rc = rg__lexicon_load(L->p, &L->hash, L->real_root, det->lexicon,
                                  &at, det, L->d);
        if (rc == RG_E_NOMEM)
            L->oom = 1;
        break;
    }
    default: /* D_REGEX, D_PCRE */
        det->kind = field == D_REGEX ? RG__KIND_REGEX : RG__KIND_PCRE;
        det->pattern = get_string(L, key, v, 0);
        det->pattern_loc = loc_of(L, v);
        break;
    }
}

static void push_detector(loader *L, rg__detector *det)
{
    rg__policy *p = L->p;
    if (rg__grow(L->a, (void **)&p->detectors, &L->cap_det,
                 p->ndetectors + 1, sizeof *p->detectors)) {
        free_detector(L->a, det);
        L->oom = 1;
        return;
    }
    p->detectors[p->ndetectors++] = *det;
}

static void load_detector(loader *L, const yaml_node_t *n)
{
    static const char *const views[] = {"raw", "normalized"};
    static const schema sch = {"detector", detector_keys, D_COUNT};
    char buf[DESC_SIZE];
    if (n->type != YAML_MAPPING_NODE) {
        error_at(L, n, "a detector must be a mapping (id, category, score, "
                 "...), got %s", describe(buf, n));
        return;
    }
    rg__detector det;
    memset(&det, 0, sizeof det);
    det.loc = loc_of(L, n);
    const yaml_node_t *first[D_COUNT] = {0};
    int matcher = -1;

    FOR_EACH_PAIR(n, pr) {
        if (L->oom)
            break;
        yaml_node_t *k = node_at(L, pr->key), *v = node_at(L, pr->value);
        if (!k || !v)
            continue;
        int f = schema_field(L, &sch, k, first);
        int x;
        switch (f) {
        case D_ID:
            det.id = get_string(L, "id", v, 0);
            if (det.id && !valid_name(det.id))
                error_at(L, v, "invalid detector id '%s' (use letters, "
                         "digits, '_', '.' and '-')",
                         rg__quote(buf, det.id, strlen(det.id)));
            break;
        case D_CATEGORY:
            det.category = get_string(L, "category", v, 0);
            det.category_loc = loc_of(L, v);
            break;
        case D_WORDS: case D_LEXICON: case D_REGEX: case D_PCRE:
            if (matcher >= 0) {
                error_at(L, k, "detector has both '%s' and '%s' (it needs "
                         "exactly one of: words, lexicon, regex, pcre)",
                         detector_keys[matcher], detector_keys[f]);
                break;
            }
            matcher = f;
            load_matcher(L, &det, f, v);
            break;
        case D_SCORE:
            get_unit(L, "score", v, &det.score);
            break;
        case D_VIEW:
            x = get_enum(L, "view", v, views, 2, "raw, normalized");
            if (x >= 0)
                det.view = x ? RG__VIEW_NORM : RG__VIEW_RAW;
            break;
        case D_CASELESS:
            get_bool(L, "caseless", v, &det.caseless);
            break;
        case D_VALIDATE:
            if (v->type != YAML_SCALAR_NODE ||
                rg__validator_from_name(sval(v), &det.validate)) {
                error_at(L, v, "'validate' must be one of: %s; got %s",
                         rg__validator_names, describe(buf, v));
            }
            break;
        case D_ALLOW:
            get_string_list(L, "allow", v, 0, &det);
            break;
        case D_LANG:
            det.lang = get_string(L, "lang", v, 0);
            break;
        case D_DESCRIPTION:
            det.description = get_string(L, "description", v, 1);
            break;
        case D_CONTEXT:
            load_context(L, &det, v);
            break;
        case D_COMPACT:
            get_bool(L, "compact", v, &det.compact);
            break;
        case D_MODE:
            x = get_enum(L, "mode", v, mode_names, 2, "enforce, shadow");
            det.shadow = x == 1;
            det.mode_loc = loc_of(L, v);
            break;
        case D_SCAN: {
            /* Which texts: the draft reply (default), the user message,
             * or both (docs/CONVERSATION.md). */
            static const char *const scans[] = {"reply", "user", "both"};
            x = get_enum(L, "scan", v, scans, 3, "reply, user, both");
            if (x >= 0)
                det.scope = x == 0 ? RG__SCOPE_REPLY
                          : x == 1 ? RG__SCOPE_USER : RG__SCOPE_BOTH;
            break;
        }
        default:
            break;
        }
    }
    if (L->oom) {
        free_detector(L->a, &det);
        return;
    }

    char label[RG__QUOTE_SIZE + 16] = "detector";
    if (det.id)
        snprintf(label, sizeof label, "detector '%s'",
                 rg__quote(buf, det.id, strlen(det.id)));
    if (!first[D_ID])
        error_at(L, n, "detector is missing required key 'id'");
    if (!first[D_CATEGORY])
        error_at(L, n, "%s is missing required key 'category'", label);
    if (!first[D_SCORE])
        error_at(L, n, "%s is missing required key 'score'", label);
    if (matcher < 0)
        error_at(L, n, "%s needs one of: words, lexicon, regex, pcre", label);
    if (first[D_CASELESS] && (matcher == D_WORDS || matcher == D_LEXICON))
        error_at(L, first[D_CASELESS], "'caseless' applies only to regex and "
                 "pcre detectors (words always match case-insensitively)");
    if (!first[D_VIEW])
        det.view = det.kind == RG__KIND_WORDS ? RG__VIEW_NORM : RG__VIEW_RAW;
    if (first[D_COMPACT] && det.kind != RG__KIND_WORDS)
        error_at(L, first[D_COMPACT], "'compact' applies only to words and "
                 "lexicon detectors");
    if (!first[D_COMPACT])
        det.compact = det.kind == RG__KIND_WORDS && det.view == RG__VIEW_NORM;
    push_detector(L, &det);
}

/* ------------------------------------------------------------------------ */
/* Routes                                                                   */
/* ------------------------------------------------------------------------ */

enum {
    R_DESCRIPTION, R_EXTENDS, R_BUDGET_US, R_MAX_BYTES, R_ON_TIMEOUT,
    R_ON_ERROR, R_ON_OVERSIZE, R_MASK, R_CATEGORIES, R_MODE, R_LOOP,
    R_REQUIRE, R_OVERRIDES, R_COUNT
};
static const char *const route_keys[R_COUNT] = {
    "description", "extends", "budget_us", "max_bytes", "on_timeout",
    "on_error", "on_oversize", "mask", "categories", "mode", "loop",
    "require", "overrides",
};

/* Rule fields: the first three are indexed by RG__F_*. */
enum { F_MASK = RG__F_COUNT, F_COUNT };
static const char *const rule_keys[F_COUNT] = {
    [RG__F_HANDOFF] = "handoff", [RG__F_BLOCK] = "block",
    [RG__F_REDACT] = "redact", [F_MASK] = "mask",
};

/* Indexed by rg_verdict. */
static const char *const verdict_names[] = {"allow", "handoff", "block"};

static void load_rule(loader *L, rg__rule *r, const char *what,
                      const yaml_node_t *v)
{
    char buf[DESC_SIZE];
    const schema sch = {what, rule_keys, F_COUNT};
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "%s must be a mapping (handoff, block, redact, mask), "
                 "got %s", what, describe(buf, v));
        return;
    }
    const yaml_node_t *first[F_COUNT] = {0};
    FOR_EACH_PAIR(v, pr) {
        if (L->oom)
            return;
        yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
        if (!k || !val)
            continue;
        int f = schema_field(L, &sch, k, first);
        if (f == F_MASK) {
            r->mask = get_mask(L, val);
        } else if (f >= 0) {
            if (get_threshold(L, rule_keys[f], val, &r->value[f]) == 0)
                r->has[f] = 1;
        }
    }
}

/* A route's `categories:` rules, in the order written. */
static void load_rules(loader *L, rg__route *rt, const char *qname,
                       const yaml_node_t *v)
{
    char buf[DESC_SIZE], what[RG__QUOTE_SIZE + 64];
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "'categories' of route '%s' must be a mapping of "
                 "category: {handoff, block, redact, mask}, got %s", qname,
                 describe(buf, v));
        return;
    }
    size_t cap = 0;
    FOR_EACH_PAIR(v, pr) {
        if (L->oom)
            return;
        yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
        if (!k || !val)
            continue;
        if (!key_text(L, k))
            continue;
        char *key = get_string(L, "category", k, 0);
        if (!key)
            continue;
        if (rg__grow(L->a, (void **)&rt->rules, &cap, rt->nrules + 1,
                     sizeof *rt->rules)) {
            rg__free(L->a, key);
            L->oom = 1;
            return;
        }
        rg__rule *r = &rt->rules[rt->nrules++];
        memset(r, 0, sizeof *r);
        r->key = key;
        r->loc = loc_of(L, k);
        snprintf(what, sizeof what, "rule '%s' of route '%s'",
                 rg__quote(buf, key, strlen(key)), qname);
        load_rule(L, r, what, val);
    }
    if (L->oom || rt->nrules < 2)
        return;
    /* Duplicate keys: report each later one and drop it. */
    rg__name_ix *v2 = rg__sort_names(L->a, &rt->rules[0].key,
                                     sizeof *rt->rules, rt->nrules);
    if (!v2) {
        L->oom = 1;
        return;
    }
    unsigned char *dup = rg__calloc(L->a, rt->nrules, 1);
    if (!dup) {
        rg__free(L->a, v2);
        L->oom = 1;
        return;
    }
    for (size_t i = 1; i < rt->nrules; i++) {
        if (strcmp(v2[i].name, v2[i - 1].name) != 0)
            continue;
        size_t j = i; /* the group's first */
        while (j > 0 && strcmp(v2[j - 1].name, v2[i].name) == 0)
            j--;
        rg__rule *r = &rt->rules[v2[i].ix];
        error_loc(L, &r->loc, "duplicate key '%s' in the categories of route "
                  "'%s' (first at line %u)",
                  rg__quote(buf, r->key, strlen(r->key)), qname,
                  rt->rules[v2[j].ix].loc.line);
        dup[v2[i].ix] = 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < rt->nrules; i++) {
        if (dup[i])
            free_rule(L->a, &rt->rules[i]);
        else
            rt->rules[o++] = rt->rules[i];
    }
    rt->nrules = o;
    rg__free(L->a, dup);
    rg__free(L->a, v2);
}

/* ------------------------------------------------------------------------ */
/* Conversation rules of a route: `loop:` and `require:` (conv.h)           */
/* ------------------------------------------------------------------------ */

static rg__mconv *conv_of(loader *L, rg__route *rt)
{
    if (!rt->conv && !(rt->conv = rg__calloc(L->a, 1, sizeof *rt->conv)))
        L->oom = 1;
    return rt->conv;
}

/* A non-empty list of non-empty phrases (`any:`). */
static void load_phrases(loader *L, const char *what, const yaml_node_t *v,
                         rg__mphrases *out)
{
    char buf[DESC_SIZE];
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top ==
                                             v->data.sequence.items.start) {
        error_at(L, v, "'any' of %s must be a non-empty list of phrases, got %s",
                 what, describe(buf, v));
        return;
    }
    size_t cap = 0;
    FOR_EACH_ITEM(v, it) {
        yaml_node_t *item = node_at(L, *it);
        if (!item || L->oom)
            continue;
        char *t = get_string(L, "any", item, 0);
        if (!t)
            continue;
        if (rg__grow(L->a, (void **)&out->v, &cap, out->n + 1, sizeof *out->v)) {
            rg__free(L->a, t);
            L->oom = 1;
            return;
        }
        out->v[out->n++] = t;
    }
}

/* An id of a built-in detector suffix: the detector-id alphabet. */
static char *load_conv_id(loader *L, const yaml_node_t *v)
{
    char buf[DESC_SIZE];
    char *id = get_string(L, "id", v, 0);
    if (id && (!valid_name(id) || strlen(id) > 64)) {
        error_at(L, v, "invalid id '%s' (use letters, digits, '_', '.' and "
                 "'-', at most 64)", rg__quote(buf, id, strlen(id)));
        rg__free(L->a, id);
        return NULL;
    }
    return id;
}

static void load_asks(loader *L, rg__mconv *c, const char *qname,
                      const yaml_node_t *v)
{
    static const char *const keys[] = {"id", "any"};
    char buf[DESC_SIZE], what[RG__QUOTE_SIZE + 48];
    if (v->type != YAML_SEQUENCE_NODE) {
        error_at(L, v, "'asks' of route '%s' must be a list of {id, any}, got %s",
                 qname, describe(buf, v));
        return;
    }
    size_t cap = 0;
    FOR_EACH_ITEM(v, it) {
        yaml_node_t *m = node_at(L, *it);
        if (!m || L->oom)
            continue;
        if (m->type != YAML_MAPPING_NODE) {
            error_at(L, m, "each ask of route '%s' must be a mapping {id, any}, "
                     "got %s", qname, describe(buf, m));
            continue;
        }
        if (rg__grow(L->a, (void **)&c->asks, &cap, c->nasks + 1, sizeof *c->asks)) {
            L->oom = 1;
            return;
        }
        rg__mask *a = &c->asks[c->nasks++];
        memset(a, 0, sizeof *a);
        a->loc = loc_of(L, m);
        snprintf(what, sizeof what, "an ask of route '%s'", qname);
        const schema sch = {what, keys, 2};
        const yaml_node_t *first[2] = {0};
        FOR_EACH_PAIR(m, pr) {
            yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
            if (!k || !val || L->oom)
                continue;
            int f = schema_field(L, &sch, k, first);
            if (f == 0)
                a->id = load_conv_id(L, val);
            else if (f == 1)
                load_phrases(L, what, val, &a->any);
        }
        if (!first[0] || !first[1])
            error_at(L, m, "an ask of route '%s' needs 'id' and 'any'", qname);
    }
}

enum { LP_HISTORY, LP_SIMILARITY, LP_REPEATS, LP_REPEAT_ASK, LP_ASKS, LP_COUNT };
static const char *const loop_keys[LP_COUNT] = {
    "history", "similarity", "repeats", "repeat_ask", "asks",
};

static void load_loop(loader *L, rg__mconv *c, const char *qname,
                      const yaml_node_t *v)
{
    char buf[DESC_SIZE], what[RG__QUOTE_SIZE + 32];
    c->has_loop = 1;
    c->loop_loc = loc_of(L, v);
    if (v->type == YAML_SCALAR_NODE && slen(v) == 3 && !strcmp(sval(v), "off")) {
        c->loop_off = 1;
        return;
    }
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "'loop' of route '%s' must be a mapping (history, "
                 "similarity, repeats, repeat_ask, asks) or 'off', got %s",
                 qname, describe(buf, v));
        return;
    }
    snprintf(what, sizeof what, "'loop' of route '%s'", qname);
    const schema sch = {what, loop_keys, LP_COUNT};
    const yaml_node_t *first[LP_COUNT] = {0};
    FOR_EACH_PAIR(v, pr) {
        yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
        if (!k || !val || L->oom)
            continue;
        uint64_t x;
        switch (schema_field(L, &sch, k, first)) {
        case LP_HISTORY:
            if (!get_posint(L, "history", val, RG__HISTORY_MAX, &x)) {
                c->history = (uint32_t)x;
                c->has_history = 1;
            }
            break;
        case LP_SIMILARITY:
            c->has_similarity = !get_unit(L, "similarity", val, &c->similarity);
            break;
        case LP_REPEATS:
            if (!get_posint(L, "repeats", val, RG__HISTORY_MAX, &x)) {
                c->repeats = (uint32_t)x;
                c->has_repeats = 1;
            }
            break;
        case LP_REPEAT_ASK:
            if (!get_posint(L, "repeat_ask", val, RG__HISTORY_MAX + 1, &x)) {
                if (x < 2)
                    error_at(L, val, "'repeat_ask' must be at least 2 (the "
                             "draft's ask and an earlier one)");
                else {
                    c->repeat_ask = (uint32_t)x;
                    c->has_repeat_ask = 1;
                }
            }
            break;
        case LP_ASKS:
            c->has_asks = 1;
            load_asks(L, c, qname, val);
            break;
        default:
            break;
        }
    }
}

enum { RQ_ID, RQ_ANY, RQ_WHEN, RQ_COUNT };
static const char *const require_keys[RQ_COUNT] = {"id", "any", "when"};
static const char *const when_keys[3] = {"first_turn", "channel", "locale"};

static void load_when(loader *L, rg__mrequire *r, const char *what,
                      const yaml_node_t *v)
{
    static const char *const channels[] = {"chat", "voice", "sms", "email"};
    char buf[DESC_SIZE];
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "'when' of %s must be a mapping (first_turn, channel, "
                 "locale), got %s", what, describe(buf, v));
        return;
    }
    const schema sch = {what, when_keys, 3};
    const yaml_node_t *first[3] = {0};
    FOR_EACH_PAIR(v, pr) {
        yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
        if (!k || !val || L->oom)
            continue;
        int f = schema_field(L, &sch, k, first), x;
        if (f == 0) {
            get_bool(L, "first_turn", val, &r->first_turn);
        } else if (f == 1) {
            x = get_enum(L, "channel", val, channels, 4, "chat, voice, sms, email");
            if (x >= 0)
                r->channel = RG__WCH_CHAT + x;
        } else if (f == 2) {
            char *lang = get_string(L, "locale", val, 0);
            if (lang && (strlen(lang) > 3 || strspn(lang, "abcdefghijklmnopqrstuvwxyz") != strlen(lang))) {
                error_at(L, val, "'locale' in 'when' is a language code in lower "
                         "case ('es', 'en'); it matches es, es-MX, es_ES, ...");
                rg__free(L->a, lang);
                lang = NULL;
            }
            r->lang = lang;
        }
    }
}

static void load_require(loader *L, rg__mconv *c, const char *qname,
                         const yaml_node_t *v)
{
    char buf[DESC_SIZE], what[RG__QUOTE_SIZE + 48];
    c->require_loc = loc_of(L, v);
    if (v->type != YAML_SEQUENCE_NODE) {
        error_at(L, v, "'require' of route '%s' must be a list of {id, any, "
                 "when}, got %s", qname, describe(buf, v));
        return;
    }
    size_t cap = 0;
    FOR_EACH_ITEM(v, it) {
        yaml_node_t *m = node_at(L, *it);
        if (!m || L->oom)
            continue;
        if (m->type != YAML_MAPPING_NODE) {
            error_at(L, m, "each item of 'require' of route '%s' must be a "
                     "mapping {id, any, when}, got %s", qname, describe(buf, m));
            continue;
        }
        if (rg__grow(L->a, (void **)&c->req, &cap, c->nreq + 1, sizeof *c->req)) {
            L->oom = 1;
            return;
        }
        rg__mrequire *r = &c->req[c->nreq++];
        memset(r, 0, sizeof *r);
        r->loc = loc_of(L, m);
        snprintf(what, sizeof what, "a requirement of route '%s'", qname);
        const schema sch = {what, require_keys, RQ_COUNT};
        const yaml_node_t *first[RQ_COUNT] = {0};
        FOR_EACH_PAIR(m, pr) {
            yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
            if (!k || !val || L->oom)
                continue;
            switch (schema_field(L, &sch, k, first)) {
            case RQ_ID:
                r->id = load_conv_id(L, val);
                break;
            case RQ_ANY:
                load_phrases(L, what, val, &r->any);
                break;
            case RQ_WHEN:
                load_when(L, r, what, val);
                break;
            default:
                break;
            }
        }
        if (!first[RQ_ID] || !first[RQ_ANY])
            error_at(L, m, "a requirement of route '%s' needs 'id' and 'any'",
                     qname);
    }
}

/* `overrides:` [{when: {channel, locale}, categories: {...}}]: each item
 * becomes a pseudo-route "R[channel=voice,locale=es]" whose rules beat
 * the route's (and its parents') when the request matches. */
static void load_overrides(loader *L, rg__mconv *c, const char *name,
                           const char *qname, const yaml_node_t *v)
{
    static const char *const keys[] = {"when", "categories"};
    char buf[DESC_SIZE], what[RG__QUOTE_SIZE + 48];
    if (v->type != YAML_SEQUENCE_NODE) {
        error_at(L, v, "'overrides' of route '%s' must be a list of {when, "
                 "categories}, got %s", qname, describe(buf, v));
        return;
    }
    size_t cap = 0;
    FOR_EACH_ITEM(v, it) {
        yaml_node_t *m = node_at(L, *it);
        if (!m || L->oom)
            continue;
        if (m->type != YAML_MAPPING_NODE) {
            error_at(L, m, "each override of route '%s' must be a mapping "
                     "{when, categories}, got %s", qname, describe(buf, m));
            continue;
        }
        snprintf(what, sizeof what, "an override of route '%s'", qname);
        const schema sch = {what, keys, 2};
        const yaml_node_t *first[2] = {0};
        rg__mrequire cond;
        memset(&cond, 0, sizeof cond);
        const yaml_node_t *cats = NULL;
        FOR_EACH_PAIR(m, pr) {
            yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
            if (!k || !val || L->oom)
                continue;
            int f = schema_field(L, &sch, k, first);
            if (f == 0)
                load_when(L, &cond, what, val);
            else if (f == 1)
                cats = val;
        }
        if (cond.first_turn)
            error_at(L, first[0], "'first_turn' applies to 'require', not to "
                     "overrides (give channel and/or locale)");
        if (!first[0] || !first[1] || (!cond.channel && !cond.lang)) {
            if (!first[0] || !first[1])
                error_at(L, m, "an override of route '%s' needs 'when' (channel "
                         "and/or locale) and 'categories'", qname);
            else if (!cond.first_turn)
                error_at(L, first[0], "'when' of an override needs channel and/or "
                         "locale");
            rg__free(L->a, cond.lang);
            continue;
        }
        if (rg__grow(L->a, (void **)&c->ovr, &cap, c->novr + 1, sizeof *c->ovr)) {
            rg__free(L->a, cond.lang);
            L->oom = 1;
            return;
        }
        static const char *const chn[] = {"", "chat", "voice", "sms", "email"};
        rg__moverride *o = &c->ovr[c->novr++];
        memset(o, 0, sizeof *o);
        o->channel = cond.channel;
        o->lang = cond.lang;
        o->route.loc = loc_of(L, m);
        char nm[256];
        snprintf(nm, sizeof nm, "%.120s[%s%s%s%s%s]", name,
                 cond.channel ? "channel=" : "", chn[cond.channel],
                 cond.channel && cond.lang ? "," : "",
                 cond.lang ? "locale=" : "", cond.lang ? cond.lang : "");
        if (!(o->route.name = rg__strdup(L->a, nm))) {
            L->oom = 1;
            return;
        }
        load_rules(L, &o->route, qname, cats);
    }
}

static void load_route(loader *L, const yaml_node_t *k, const yaml_node_t *v)
{
    char buf[DESC_SIZE], qname[RG__QUOTE_SIZE], what[RG__QUOTE_SIZE + 16];
    const char *name = key_text(L, k);
    if (!name)
        return;
    rg__quote(qname, name, slen(k));
    if (!valid_name(name)) {
        error_at(L, k, "invalid route name '%s' (use letters, digits, '_', "
                 "'.' and '-')", qname);
        return;
    }
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "route '%s' must be a mapping, got %s", qname,
                 describe(buf, v));
        return;
    }
    snprintf(what, sizeof what, "route '%s'", qname);
    const schema sch = {what, route_keys, R_COUNT};
    rg__route rt;
    memset(&rt, 0, sizeof rt);
    rt.loc = loc_of(L, k);
    rt.name = rg__strndup(L->a, name, slen(k));
    if (!rt.name) {
        L->oom = 1;
        return;
    }
    const yaml_node_t *first[R_COUNT] = {0};
    FOR_EACH_PAIR(v, pr) {
        if (L->oom)
            break;
        yaml_node_t *fk = node_at(L, pr->key), *fv = node_at(L, pr->value);
        if (!fk || !fv)
            continue;
        int f = schema_field(L, &sch, fk, first), x;
        switch (f) {
        case R_DESCRIPTION:
            rt.description = get_string(L, "description", fv, 1);
            break;
        case R_EXTENDS:
            rt.extends = get_string(L, "extends", fv, 0);
            rt.extends_loc = loc_of(L, fv);
            break;
        case R_BUDGET_US:
            /* The engine counts in nanoseconds: keep that in range. */
            rt.has_budget_us = !get_posint(L, "budget_us", fv,
                                           UINT64_MAX / 1000, &rt.budget_us);
            break;
        case R_MAX_BYTES:
            rt.has_max_bytes = !get_posint(L, "max_bytes", fv, SIZE_MAX,
                                           &rt.max_bytes);
            break;
        case R_ON_TIMEOUT: case R_ON_ERROR: case R_ON_OVERSIZE:
            x = get_enum(L, route_keys[f], fv, verdict_names, 3,
                         "allow, handoff, block");
            if (x < 0)
                break;
            if (f == R_ON_TIMEOUT) {
                rt.on_timeout = (rg_verdict)x;
                rt.has_on_timeout = 1;
            } else if (f == R_ON_ERROR) {
                rt.on_error = (rg_verdict)x;
                rt.has_on_error = 1;
            } else {
                rt.on_oversize = (rg_verdict)x;
                rt.has_on_oversize = 1;
            }
            break;
        case R_MASK:
            rt.mask = get_mask(L, fv);
            break;
        case R_CATEGORIES:
            load_rules(L, &rt, qname, fv);
            break;
        case R_MODE:
            x = get_enum(L, "mode", fv, mode_names, 2, "enforce, shadow");
            rt.shadow = x == 1;
            rt.mode_loc = loc_of(L, fv);
            break;
        case R_LOOP:
            if (conv_of(L, &rt))
                load_loop(L, rt.conv, qname, fv);
            break;
        case R_REQUIRE:
            if (conv_of(L, &rt))
                load_require(L, rt.conv, qname, fv);
            break;
        case R_OVERRIDES:
            if (conv_of(L, &rt))
                load_overrides(L, rt.conv, name, qname, fv);
            break;
        default:
            break;
        }
    }
    rg__policy *p = L->p;
    if (L->oom || rg__grow(L->a, (void **)&p->routes, &L->cap_route,
                           p->nroutes + 1, sizeof *p->routes)) {
        free_route(L->a, &rt);
        L->oom = 1;
        return;
    }
    p->routes[p->nroutes++] = rt;
}

/* ------------------------------------------------------------------------ */
/* Top level                                                                */
/* ------------------------------------------------------------------------ */

static void load_catdecls(loader *L, const yaml_node_t *v)
{
    static const char *const keys[] = {"description"};
    char buf[DESC_SIZE], what[RG__QUOTE_SIZE + 32];
    if (v->type != YAML_MAPPING_NODE) {
        error_at(L, v, "'categories' must be a mapping of name: "
                 "{description: ...}, got %s", describe(buf, v));
        return;
    }
    FOR_EACH_PAIR(v, pr) {
        if (L->oom)
            return;
        yaml_node_t *k = node_at(L, pr->key), *val = node_at(L, pr->value);
        if (!k || !val || !key_text(L, k))
            continue;
        rg__catdecl c = {NULL, NULL, loc_of(L, k)};
        c.name = get_string(L, "category", k, 0);
        if (!c.name)
            continue;
        snprintf(what, sizeof what, "category '%s'",
                 rg__quote(buf, c.name, strlen(c.name)));
        if (val->type != YAML_MAPPING_NODE) {
            error_at(L, val, "%s must be a mapping ({description: ...}), "
                     "got %s", what, describe(buf, val));
        } else {
            const schema sch = {what, keys, 1};
            const yaml_node_t *first[1] = {0};
            FOR_EACH_PAIR(val, q) {
                yaml_node_t *fk = node_at(L, q->key), *fv = node_at(L, q->value);
                if (fk && fv && schema_field(L, &sch, fk, first) == 0) {
                    rg__free(L->a, c.description);
                    c.description = get_string(L, "description", fv, 1);
                }
            }
        }
        rg__policy *p = L->p;
        if (L->oom || rg__grow(L->a, (void **)&p->cats, &L->cap_cat,
                               p->ncats + 1, sizeof *p->cats)) {
            free_catdecl(L->a, &c);
            L->oom = 1;
            return;
        }
        p->cats[p->ncats++] = c;
    }
}

static void load_version(loader *L, const yaml_node_t *v)
{
    char buf[RG__QUOTE_SIZE], w[RG__QUOTE_SIZE + 32];
    char *s = get_string(L, "version", v, 0);
    if (!s)
        return;
    if (strlen(s) > MAX_VERSION_LEN) {
        error_at(L, v, "'version' is too long (%zu bytes; at most %d)",
                 strlen(s), MAX_VERSION_LEN);
        rg__free(L->a, s);
        return;
    }
    if (L->p->version) {
        error_at(L, v, "'version' is already set to '%s' at %s (at most one "
                 "file may set it)",
                 rg__quote(buf, L->p->version, strlen(L->p->version)),
                 where(w, sizeof w, &L->version_loc));
        rg__free(L->a, s);
        return;
    }
    L->p->version = s;
    L->version_loc = loc_of(L, v);
}

enum { T_VERSION, T_CATEGORIES, T_DETECTORS, T_ROUTES, T_COUNT };
static const char *const top_keys[T_COUNT] = {
    "version", "categories", "detectors", "routes",
};

static void walk_document(loader *L)
{
    static const schema sch = {"the policy file", top_keys, T_COUNT};
    char buf[DESC_SIZE];
    if (!L->doc->nodes.start || L->doc->nodes.start == L->doc->nodes.top)
        return; /* an empty file is an empty (valid) part of the set */
    yaml_node_t *root = node_at(L, 1);
    if (!root)
        return;
    if (root->type != YAML_MAPPING_NODE) {
        error_at(L, root, "a policy file must be a mapping with keys version, "
                 "categories, detectors, routes; got %s", describe(buf, root));
        return;
    }
    const yaml_node_t *first[T_COUNT] = {0};
    FOR_EACH_PAIR(root, pr) {
        if (L->oom)
            return;
        yaml_node_t *k = node_at(L, pr->key), *v = node_at(L, pr->value);
        if (!k || !v)
            continue;
        switch (schema_field(L, &sch, k, first)) {
        case T_VERSION:
            load_version(L, v);
            break;
        case T_CATEGORIES:
            load_catdecls(L, v);
            break;
        case T_DETECTORS:
            if (v->type != YAML_SEQUENCE_NODE) {
                error_at(L, v, "'detectors' must be a list, got %s",
                         describe(buf, v));
                break;
            }
            FOR_EACH_ITEM(v, it) {
                if (L->oom)
                    return;
                yaml_node_t *item = node_at(L, *it);
                if (item)
                    load_detector(L, item);
            }
            break;
        case T_ROUTES:
            if (v->type != YAML_MAPPING_NODE) {
                error_at(L, v, "'routes' must be a mapping of route name: "
                         "{...}, got %s", describe(buf, v));
                break;
            }
            FOR_EACH_PAIR(v, rp) {
                if (L->oom)
                    return;
                yaml_node_t *rk = node_at(L, rp->key);
                yaml_node_t *rv = node_at(L, rp->value);
                if (rk && rv)
                    load_route(L, rk, rv);
            }
            break;
        default:
            break;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static void yaml_error(loader *L, const yaml_parser_t *ps, const char *data,
                       size_t len)
{
    if (ps->error == YAML_MEMORY_ERROR) {
        L->oom = 1;
        return;
    }
    const char *problem = ps->problem ? ps->problem : "unknown error";
    if (ps->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        unsigned line = 1, col = 1;
        size_t off = ps->problem_offset < len ? ps->problem_offset : len;
        for (size_t i = 0; i < off; i++) {
            if (data[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)data[i] & 0xc0) != 0x80) {
                col++;
            }
        }
        rg__loc loc = {L->file, line, col};
        error_loc(L, &loc, "invalid YAML input: %s", problem);
        return;
    }
    rg__loc loc = {L->file, (unsigned)ps->problem_mark.line + 1,
                   (unsigned)ps->problem_mark.column + 1};
    if (ps->context)
        error_loc(L, &loc, "YAML syntax error: %s (%s that started at line "
                  "%u, column %u)", problem, ps->context,
                  (unsigned)ps->context_mark.line + 1,
                  (unsigned)ps->context_mark.column + 1);
    else
        error_loc(L, &loc, "YAML syntax error: %s", problem);
}

/* Report an anchor or a tag on a node event (both unsupported). */
static int check_props(loader *L, const yaml_event_t *ev,
                       const yaml_char_t *anchor, const yaml_char_t *tag)
{
    char q[RG__QUOTE_SIZE];
    rg__loc loc = {L->file, (unsigned)ev->start_mark.line + 1,
                   (unsigned)ev->start_mark.column + 1};
    int bad = 0;
    if (anchor) {
        const char *s = (const char *)anchor;
        error_loc(L, &loc, "YAML anchors are not supported ('&%s')",
                  rg__quote(q, s, strlen(s)));
        bad = 1;
    }
    if (tag) {
        /* libyaml has expanded "!!str" to "tag:yaml.org,2002:str": show
         * it as written. */
        static const char std[] = "tag:yaml.org,2002:";
        const char *s = (const char *)tag;
        int is_std = strncmp(s, std, sizeof std - 1) == 0;
        if (is_std)
            s += sizeof std - 1;
        error_loc(L, &loc, "YAML tags are not supported ('%s%s')",
                  is_std ? "!!" : "", rg__quote(q, s, strlen(s)));
        bad = 1;
    }
    return bad;
}

/* The event pass (see the top of the file). Returns 0 when the document
 * may be loaded, -1 when it must not be (errors reported). */
static int prepass(loader *L, const char *data, size_t len)
{
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps)) {
        L->oom = 1;
        return -1;
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
    int bad = 0, done = 0;
    size_t depth = 0, nodes = 0, docs = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev)) {
            yaml_error(L, &ps, data, len);
            bad = 1;
            break;
        }
        rg__loc loc = {L->file, (unsigned)ev.start_mark.line + 1,
                       (unsigned)ev.start_mark.column + 1};
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs == 2) {
                error_loc(L, &loc, "a policy file must hold one YAML document "
                          "(found a second one)");
                bad = 1;
            }
            break;
        case YAML_ALIAS_EVENT: {
            char q[RG__QUOTE_SIZE];
            const char *s = (const char *)ev.data.alias.anchor;
            error_loc(L, &loc, "YAML aliases are not supported ('*%s')",
                      rg__quote(q, s, strlen(s)));
            bad = 1;
            nodes++;
            break;
        }
        case YAML_SCALAR_EVENT:
            bad |= check_props(L, &ev, ev.data.scalar.anchor,
                               ev.data.scalar.tag);
            nodes++;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (ev.type == YAML_SEQUENCE_START_EVENT)
                bad |= check_props(L, &ev, ev.data.sequence_start.anchor,
                                   ev.data.sequence_start.tag);
            else
                bad |= check_props(L, &ev, ev.data.mapping_start.anchor,
                                   ev.data.mapping_start.tag);
            nodes++;
            if (++depth > MAX_DEPTH) {
                error_loc(L, &loc, "nesting is deeper than %d levels",
                          MAX_DEPTH);
                bad = done = 1;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        if (nodes > MAX_NODES && !done) {
            error_loc(L, &loc, "more than %d YAML nodes in one file",
                      MAX_NODES);
            bad = done = 1;
        }
        yaml_event_delete(&ev);
        if (L->oom || L->d->oom)
            bad = done = 1;
    }
    yaml_parser_delete(&ps);
    return bad ? -1 : 0;
}

static void load_document(loader *L, const char *data, size_t len)
{
    yaml_parser_t ps;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&ps)) {
        L->oom = 1;
        return;
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
    if (!yaml_parser_load(&ps, &doc)) {
        yaml_error(L, &ps, data, len);
        yaml_parser_delete(&ps);
        return;
    }
    yaml_parser_delete(&ps);
    L->nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
    L->seen = rg__calloc(L->a, L->nnodes ? L->nnodes : 1, 1);
    if (!L->seen) {
        L->oom = 1;
    } else {
        L->doc = &doc;
        walk_document(L);
        L->doc = NULL;
    }
    rg__free(L->a, L->seen);
    L->seen = NULL;
    yaml_document_delete(&doc);
}

/* Load one policy file: `path` as shown in diagnostics, `hash_name` its
 * name relative to the root. */
static void load_file(loader *L, const char *path, const char *hash_name)
{
    char *data;
    size_t len;
    char why[160];
    int r = rg__read_file(L->a, path, 0, &data, &len, why, sizeof why);
    if (r == RG_E_NOMEM) {
        L->oom = 1;
        return;
    }
    if (r != RG_OK) {
        rg__diag_error(L->d, path, 0, 0, "cannot read policy file: %s", why);
        if (r == RG_E_IO)
            L->io = 1;
        return;
    }
    L->file = rg__policy_add_file(L->p, &L->hash, path, hash_name, data, len);
    if (!L->file) {
        L->oom = 1;
    } else {
        L->errors = 0;
        if (prepass(L, data, len) == 0 && !L->oom)
            load_document(L, data, len);
    }
    L->file = NULL;
    rg__free(L->a, data);
}

static int has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.yaml / *.yml directly in `dir` (the root), in byte order of
 * their names. Hidden files are skipped as a shell glob would (editors
 * leave .foo.yaml.swp-like files behind). Subdirectories are skipped. */
static void load_dir(loader *L, const char *dir)
{
    char q[RG__QUOTE_SIZE];
    DIR *dh = opendir(dir);
    if (!dh) {
        rg__diag_error(L->d, dir, 0, 0, "cannot open policy directory: %s",
                       strerror(errno));
        L->io = 1;
        return;
    }
    char **names = NULL, *path = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    for (errno = 0; (e = readdir(dh)) != NULL; errno = 0) {
        if (e->d_name[0] == '.' || !has_yaml_ext(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(dh), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
            continue;
        /* A dangling link or an unreadable entry is still a policy file
         * we were asked to load: load_file reports it. */
        char *name = rg__strdup(L->a, e->d_name);
        if (!name || rg__grow(L->a, (void **)&names, &cap, n + 1,
                              sizeof *names)) {
            rg__free(L->a, name);
            L->oom = 1;
            goto out;
        }
        names[n++] = name;
    }
    if (errno) {
        rg__diag_error(L->d, dir, 0, 0, "cannot read policy directory: %s",
                       strerror(errno));
        L->io = 1;
        goto out;
    }
    if (n == 0) {
        rg__diag_error(L->d, dir, 0, 0, "no policy files (*.yaml, *.yml) in "
                       "directory '%s'", rg__quote(q, dir, strlen(dir)));
        goto out;
    }
    qsort(names, n, sizeof *names, cmp_str);
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < n && !L->oom; i++) {
        size_t need = dlen + strlen(names[i]) + 2;
        path = rg__malloc(L->a, need);
        if (!path) {
            L->oom = 1;
            break;
        }
        if (strcmp(dir, ".") == 0) /* "base.yaml", not "./base.yaml" */
            snprintf(path, need, "%s", names[i]);
        else
            snprintf(path, need, "%s%s%s", dir, slash ? "" : "/", names[i]);
        load_file(L, path, names[i]);
        rg__free(L->a, path);
        path = NULL;
    }
out:
    closedir(dh);
    free_strings(L->a, names, n);
}

/* ------------------------------------------------------------------------ */
/* Merging the files                                                        */
/* ------------------------------------------------------------------------ */

/* Routes into name order; a name defined twice (in one file or two) is
 * reported at the later definition, which is dropped. */
static void finish_routes(loader *L)
{
    rg__policy *p = L->p;
    char q[RG__QUOTE_SIZE], w[RG__QUOTE_SIZE + 32];
    if (p->nroutes == 0)
        return;
    rg__name_ix *v = rg__sort_names(L->a, &p->routes[0].name,
                                    sizeof *p->routes, p->nroutes);
    rg__route *sorted = rg__calloc(L->a, p->nroutes, sizeof *sorted);
    if (!v || !sorted) {
        rg__free(L->a, v);
        rg__free(L->a, sorted);
        L->oom = 1;
        return;
    }
    size_t o = 0, first = 0;
    for (size_t i = 0; i < p->nroutes; i++) {
        rg__route *r = &p->routes[v[i].ix];
        /* Compare with the kept one: earlier duplicates are freed. */
        if (i > 0 && strcmp(v[i].name, v[first].name) == 0) {
            error_loc(L, &r->loc, "route '%s' is already defined at %s",
                      rg__quote(q, r->name, strlen(r->name)),
                      where(w, sizeof w, &p->routes[v[first].ix].loc));
            free_route(L->a, r);
            continue;
        }
        first = i;
        sorted[o++] = *r;
    }
    rg__free(L->a, p->routes);
    p->routes = sorted;
    p->nroutes = o;
    L->cap_route = o;
    rg__free(L->a, v);
}

/* Category declarations likewise (name order, later duplicates dropped),
 * so that category lookups can binary-search them. */
static void finish_cats(loader *L)
{
    rg__policy *p = L->p;
    char q[RG__QUOTE_SIZE], w[RG__QUOTE_SIZE + 32];
    if (p->ncats == 0)
        return;
    rg__name_ix *v = rg__sort_names(L->a, &p->cats[0].name,
                                    sizeof *p->cats, p->ncats);
    rg__catdecl *sorted = rg__calloc(L->a, p->ncats, sizeof *sorted);
    if (!v || !sorted) {
        rg__free(L->a, v);
        rg__free(L->a, sorted);
        L->oom = 1;
        return;
    }
    size_t o = 0, first = 0;
    for (size_t i = 0; i < p->ncats; i++) {
        rg__catdecl *c = &p->cats[v[i].ix];
        /* Compare with the kept one: earlier duplicates are freed. */
        if (i > 0 && strcmp(v[i].name, v[first].name) == 0) {
            error_loc(L, &c->loc, "category '%s' is already declared at %s",
                      rg__quote(q, c->name, strlen(c->name)),
                      where(w, sizeof w, &p->cats[v[first].ix].loc));
            free_catdecl(L->a, c);
            continue;
        }
        first = i;
        sorted[o++] = *c;
    }
    rg__free(L->a, p->cats);
    p->cats = sorted;
    p->ncats = o;
    L->cap_cat = o;
    rg__free(L->a, v);
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

/* The directory part of a file path ("." when there is none). */
static char *dir_of(const rg_allocator *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return rg__strdup(a, ".");
    while (slash > path && slash[-1] == '/')
        slash--;
    if (slash == path)
        return rg__strdup(a, "/");
    return rg__strndup(a, path, (size_t)(slash - path));
}

int rg__policy_load(const rg_allocator *a, const char *path,
                    rg__policy **out, rg__diags *d)
{
    return rg__policy_load_ex(a, path, 0, out, d);
}

int rg__policy_load_ex(const rg_allocator *a, const char *path,
                       int keep_partial, rg__policy **out, rg__diags *d)
{
    if (out)
        *out = NULL;
    if (!a || !path || !out || !d)
        return RG_E_INVAL;
    size_t errors_before = d->nerrors;
    rg__policy *p = rg__calloc(a, 1, sizeof *p);
    if (!p)
        return RG_E_NOMEM;
    p->a = *a;
    loader L;
    memset(&L, 0, sizeof L);
    L.p = p;
    L.a = &p->a;
    L.d = d;
    rg__sha256_init(&L.hash);

    struct stat st;
    if (path[0] == '\0' || stat(path, &st) != 0) {
        rg__diag_error(d, path, 0, 0, "cannot open policy path: %s",
                       path[0] ? strerror(errno) : "empty path");
        L.io = 1;
        goto done;
    }
    int is_dir = S_ISDIR(st.st_mode);
    if (!is_dir && !S_ISREG(st.st_mode)) {
        rg__diag_error(d, path, 0, 0, "policy path is neither a directory "
                       "nor a regular file");
        L.io = 1;
        goto done;
    }
    if (is_dir) {
        /* "policies///" and "policies" name the same root; keep "/". */
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
            n--;
        p->root = rg__strndup(&p->a, path, n);
    } else {
        p->root = dir_of(&p->a, path);
    }
    L.real_root = rg__malloc(&p->a, PATH_MAX);
    if (!p->root || !L.real_root) {
        L.oom = 1;
        goto done;
    }
    if (!realpath(p->root, L.real_root)) {
        rg__diag_error(d, p->root, 0, 0, "cannot resolve policy directory: "
                       "%s", strerror(errno));
        L.io = 1;
        goto done;
    }
    if (is_dir) {
        load_dir(&L, p->root);
    } else {
        const char *base = strrchr(path, '/');
        load_file(&L, path, base ? base + 1 : path);
    }
    if (!L.oom)
        finish_routes(&L);
    if (!L.oom)
        finish_cats(&L);
    if (!L.oom && rg__conv_model_finish(p))
        L.oom = 1;
    rg__sha256_final(&L.hash, p->hash);

done:
    rg__free(&p->a, L.real_root);
    int rc = L.oom || d->oom ? RG_E_NOMEM
           : L.io ? RG_E_IO
           : d->nerrors > errors_before ? RG_E_POLICY : RG_OK;
    if (rc != RG_OK && !(keep_partial && rc == RG_E_POLICY))
        rg__policy_free(p);
    else
        *out = p;
    return rc;
}
