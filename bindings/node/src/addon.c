/*
 * addon.c — the Node.js binding of libreplyguard (N-API, C).
 *
 * Threads. JavaScript objects belong to the thread (main or worker) that
 * created them, so a Guard object is only ever used by one thread: each
 * Guard owns one rg_scratch and one rg_result, i.e. per-thread scratch.
 * The compiled engine, which is immutable and lock-free to share, is
 * shared process-wide: `new Guard(dir)` in any worker reuses the engine
 * already open for the same directory (reference counted; closed when its
 * last Guard goes), so N workers compile the policy once. `{shared: false}`
 * gives a Guard its own engine.
 *
 * Per-env state (napi_set_instance_data) holds only the error classes the
 * JS side registers, since each worker has its own JS heap.
 *
 * Checks are synchronous: a check takes microseconds, less than scheduling
 * work on the libuv pool would.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <replyguard.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

#define CHECK_NAPI(call)                                                      \
    do {                                                                      \
        if ((call) != napi_ok)                                                \
            return NULL;                                                      \
    } while (0)

/* For helpers that return a napi_value, NULL on failure. */
#define CHECK_VAL(call)                                                       \
    do {                                                                      \
        if (!(call))                                                          \
            return NULL;                                                      \
    } while (0)

typedef struct addon_env {
    napi_ref errors; /* { RG_E_NOROUTE: class, ..., ReplyguardError: class } */
} addon_env;

static void env_free(napi_env env, void *data, void *hint)
{
    (void)hint;
    addon_env *ae = data;
    if (ae->errors)
        napi_delete_reference(env, ae->errors);
    free(ae);
}

static addon_env *env_data(napi_env env)
{
    void *p = NULL;
    napi_get_instance_data(env, &p);
    return p;
}

/* ---- the process-wide engine registry --------------------------------- */

typedef struct shared_engine {
    struct shared_engine *next;
    char *key;          /* canonical policy path; NULL for a private engine */
    rg_engine *engine;
    unsigned refs;      /* Guards using it */
} shared_engine;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_engine *registry;

static char *canonical(const char *path)
{
    char *r = realpath(path, NULL);
    return r ? r : strdup(path);
}

/* Returns the rg status; *diag as rg_engine_open's. */
static int engine_acquire(const char *path, const char *cache_dir, int shared,
                          unsigned flags, shared_engine **out, rg_diag **diag)
{
    *out = NULL;
    *diag = NULL;
    char *key = canonical(path);
    if (!key)
        return RG_E_NOMEM;
    /* Held while compiling, so workers that open the same directory at
     * the same time compile it once. */
    pthread_mutex_lock(&registry_lock);
    if (shared) {
        for (shared_engine *se = registry; se; se = se->next) {
            if (se->key && strcmp(se->key, key) == 0) {
                se->refs++;
                *out = se;
                pthread_mutex_unlock(&registry_lock);
                free(key);
                return RG_OK;
            }
        }
    }
    shared_engine *se = calloc(1, sizeof *se);
    if (!se) {
        pthread_mutex_unlock(&registry_lock);
        free(key);
        return RG_E_NOMEM;
    }
    rg_engine_options opts;
    memset(&opts, 0, sizeof opts);
    opts.struct_size = sizeof opts;
    opts.cache_dir = cache_dir;
    opts.flags = flags;
    int rc = rg_engine_open(&se->engine, path, &opts, diag);
    if (rc != RG_OK) {
        pthread_mutex_unlock(&registry_lock);
        free(se);
        free(key);
        return rc;
    }
    se->refs = 1;
    if (shared) {
        se->key = key;
        se->next = registry;
        registry = se;
    } else {
        free(key);
    }
    pthread_mutex_unlock(&registry_lock);
    *out = se;
    return RG_OK;
}

/* Call after freeing the caller's scratch: the engine may close here. */
static void engine_release(shared_engine *se)
{
    pthread_mutex_lock(&registry_lock);
    if (--se->refs > 0) {
        pthread_mutex_unlock(&registry_lock);
        return;
    }
    for (shared_engine **p = &registry; *p; p = &(*p)->next) {
        if (*p == se) {
            *p = se->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    rg_engine_close(se->engine);
    free(se->key);
    free(se);
}

/* After a reload from another path, the engine is found under that path. */
static void engine_rekey(shared_engine *se, const char *path)
{
    char *key = canonical(path);
    if (!key)
        return;
    pthread_mutex_lock(&registry_lock);
    if (se->key) {
        free(se->key);
        se->key = key;
        key = NULL;
    }
    pthread_mutex_unlock(&registry_lock);
    free(key);
}

static unsigned engines_open(void)
{
    unsigned n = 0;
    pthread_mutex_lock(&registry_lock);
    for (shared_engine *se = registry; se; se = se->next)
        n++;
    pthread_mutex_unlock(&registry_lock);
    return n;
}

/* ---- the Guard object ---------------------------------------------------- */

typedef struct guard {
    shared_engine *se;   /* NULL once closed */
    rg_scratch *scratch; /* this Guard's (so this thread's) scratch */
    rg_result *result;
    char *buf;           /* arena for the request's strings, reused */
    size_t cap, used;
    rg_text *hist;       /* history items, reused */
    size_t *hist_off;
    size_t hist_cap;
    /* The frozen {version, hash} object of the last snapshot seen: shared
     * by every result that snapshot decides (one object, not one per check). */
    napi_ref policy;
    char policy_hash[72];
} guard;

static void guard_close(guard *g)
{
    if (!g->se)
        return;
    rg_result_free(g->result);
    rg_scratch_free(g->scratch);
    g->result = NULL;
    g->scratch = NULL;
    engine_release(g->se);
    g->se = NULL;
}

static void guard_finalize(napi_env env, void *data, void *hint)
{
    (void)hint;
    guard *g = data;
    guard_close(g);
    if (g->policy)
        napi_delete_reference(env, g->policy);
    free(g->buf);
    free(g->hist);
    free(g->hist_off);
    free(g);
}

/* ---- errors ------------------------------------------------------------- */

static napi_value diag_array(napi_env env, const rg_diag *diag)
{
    napi_value arr, v;
    CHECK_NAPI(napi_create_array(env, &arr));
    for (size_t i = 0; diag && i < diag->count; i++) {
        const rg_diag_entry *e = &diag->entries[i];
        napi_value o;
        CHECK_NAPI(napi_create_object(env, &o));
        if (e->file)
            CHECK_NAPI(napi_create_string_utf8(env, e->file, NAPI_AUTO_LENGTH, &v));
        else
            CHECK_NAPI(napi_get_null(env, &v));
        CHECK_NAPI(napi_set_named_property(env, o, "file", v));
        CHECK_NAPI(napi_create_uint32(env, e->line, &v));
        CHECK_NAPI(napi_set_named_property(env, o, "line", v));
        CHECK_NAPI(napi_create_uint32(env, e->column, &v));
        CHECK_NAPI(napi_set_named_property(env, o, "column", v));
        CHECK_NAPI(napi_create_string_utf8(
            env, e->severity == RG_SEV_WARNING ? "warning" : "error", NAPI_AUTO_LENGTH, &v));
        CHECK_NAPI(napi_set_named_property(env, o, "severity", v));
        CHECK_NAPI(napi_create_string_utf8(env, e->message ? e->message : "",
                                           NAPI_AUTO_LENGTH, &v));
        CHECK_NAPI(napi_set_named_property(env, o, "message", v));
        CHECK_NAPI(napi_set_element(env, arr, (uint32_t)i, o));
    }
    return arr;
}

/* Appends "\nfile:line:col: error: message" for each error to msg. */
static void diag_message(char *msg, size_t size, const rg_diag *diag)
{
    size_t n = strlen(msg);
    for (size_t i = 0; diag && i < diag->count && n + 1 < size; i++) {
        const rg_diag_entry *e = &diag->entries[i];
        if (e->severity != RG_SEV_ERROR)
            continue;
        int w;
        if (e->line)
            w = snprintf(msg + n, size - n, "\n%s:%u:%u: error: %s", e->file ? e->file : "<policy>",
                         e->line, e->column, e->message ? e->message : "");
        else
            w = snprintf(msg + n, size - n, "\n%s: error: %s", e->file ? e->file : "<policy>",
                         e->message ? e->message : "");
        if (w < 0)
            break;
        n += (size_t)w < size - n ? (size_t)w : size - n - 1;
    }
}

/* Throws the registered error class for `status` (a ReplyguardError with
 * code, status, diagnostics, file/line/column of the first error, and the
 * fail-safe result of a failed check). `code` overrides the RG_E_ name. */
static void throw_error(napi_env env, int status, const char *code, const char *what,
                        const rg_diag *diag, napi_value result)
{
    char name[64], msg[4096];
    if (!code) {
        snprintf(name, sizeof name, "RG_E_%s", rg_status_name(status));
        code = name;
    }
    if (status)
        snprintf(msg, sizeof msg, "%s: %s", what, rg_strerror(status));
    else
        snprintf(msg, sizeof msg, "%s", what);
    diag_message(msg, sizeof msg, diag);

    napi_value props, v, ctor = NULL, err, message, errors;
    addon_env *ae = env_data(env);
    if (napi_create_object(env, &props) != napi_ok)
        goto plain;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, props, "code", v);
    napi_create_int32(env, status, &v);
    napi_set_named_property(env, props, "status", v);
    v = diag_array(env, diag);
    if (v)
        napi_set_named_property(env, props, "diagnostics", v);
    const rg_diag_entry *first = NULL;
    for (size_t i = 0; diag && i < diag->count && !first; i++)
        if (diag->entries[i].severity == RG_SEV_ERROR)
            first = &diag->entries[i];
    if (first && first->file)
        napi_create_string_utf8(env, first->file, NAPI_AUTO_LENGTH, &v);
    else
        napi_get_null(env, &v);
    napi_set_named_property(env, props, "file", v);
    napi_create_uint32(env, first ? first->line : 0, &v);
    napi_set_named_property(env, props, "line", v);
    napi_create_uint32(env, first ? first->column : 0, &v);
    napi_set_named_property(env, props, "column", v);
    if (result)
        v = result;
    else
        napi_get_null(env, &v);
    napi_set_named_property(env, props, "result", v);

    if (ae && ae->errors && napi_get_reference_value(env, ae->errors, &errors) == napi_ok) {
        bool has = false;
        if (napi_has_named_property(env, errors, code, &has) == napi_ok && has)
            napi_get_named_property(env, errors, code, &ctor);
        else
            napi_get_named_property(env, errors, "ReplyguardError", &ctor);
    }
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
    if (ctor) {
        napi_value argv[2] = {message, props};
        if (napi_new_instance(env, ctor, 2, argv, &err) == napi_ok) {
            napi_throw(env, err);
            return;
        }
        return; /* the constructor threw: that exception is pending */
    }
plain:
    napi_throw_error(env, code, msg);
}

static napi_value throw_type(napi_env env, const char *msg)
{
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
}

/* ---- argument conversion ------------------------------------------------- */

static int arena_reserve(guard *g, size_t extra)
{
    if (g->cap - g->used >= extra)
        return 0;
    size_t cap = g->cap ? g->cap : 1024;
    while (cap - g->used < extra) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *p = realloc(g->buf, cap);
    if (!p)
        return -1;
    g->buf = p;
    g->cap = cap;
    return 0;
}

/* Copies a JS string into the arena (UTF-8, NUL-terminated). Returns 0, or
 * -1 with an exception pending. */
static int arena_string(napi_env env, guard *g, napi_value v, size_t *off, size_t *len)
{
    size_t n = 0;
    if (arena_reserve(g, 256)) {
        napi_throw_error(env, "RG_E_NOMEM", "out of memory");
        return -1;
    }
    size_t room = g->cap - g->used;
    if (napi_get_value_string_utf8(env, v, g->buf + g->used, room, &n) != napi_ok)
        return -1;
    /* Maybe truncated: V8 stops before a character that does not fit
     * whole (up to 4 bytes), so a short copy does not prove the end. */
    if (n + 4 >= room) {
        size_t need = 0;
        if (napi_get_value_string_utf8(env, v, NULL, 0, &need) != napi_ok)
            return -1;
        if (need > n) {
            if (arena_reserve(g, need + 1)) {
                napi_throw_error(env, "RG_E_NOMEM", "out of memory");
                return -1;
            }
            if (napi_get_value_string_utf8(env, v, g->buf + g->used, need + 1, &n) != napi_ok)
                return -1;
        }
    }
    *off = g->used;
    *len = n;
    g->used += n + 1;
    return 0;
}

typedef struct text_arg {
    int kind;           /* 0 absent, 1 arena string, 2 external bytes */
    size_t off, len;
    const char *ptr;    /* kind 2 */
} text_arg;

/* A string, Buffer or Uint8Array. */
static int get_text(napi_env env, guard *g, napi_value v, const char *what, text_arg *t)
{
    napi_valuetype type;
    if (napi_typeof(env, v, &type) != napi_ok)
        return -1;
    if (type == napi_string) {
        t->kind = 1;
        return arena_string(env, g, v, &t->off, &t->len);
    }
    bool is = false;
    if (type == napi_object && napi_is_typedarray(env, v, &is) == napi_ok && is) {
        napi_typedarray_type tt;
        size_t n;
        void *data;
        if (napi_get_typedarray_info(env, v, &tt, &n, &data, NULL, NULL) != napi_ok)
            return -1;
        if (tt == napi_uint8_array) {
            t->kind = 2;
            t->ptr = data;
            t->len = n;
            return 0;
        }
    }
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string or a Buffer", what);
    throw_type(env, msg);
    return -1;
}

static const char *text_ptr(const guard *g, const text_arg *t)
{
    if (t->kind == 1)
        return g->buf + t->off;
    if (t->kind == 2)
        return t->len ? t->ptr : "";
    return NULL;
}

/* An identifier: undefined/null -> absent, else a string without NUL. */
static int get_ident(napi_env env, guard *g, napi_value obj, const char *key, text_arg *t)
{
    napi_value v;
    napi_valuetype type;
    t->kind = 0;
    if (napi_get_named_property(env, obj, key, &v) != napi_ok ||
        napi_typeof(env, v, &type) != napi_ok)
        return -1;
    if (type == napi_undefined || type == napi_null)
        return 0;
    if (type != napi_string) {
        char msg[128];
        snprintf(msg, sizeof msg, "options.%s must be a string", key);
        throw_type(env, msg);
        return -1;
    }
    t->kind = 1;
    if (arena_string(env, g, v, &t->off, &t->len))
        return -1;
    if (memchr(g->buf + t->off, '\0', t->len)) {
        char msg[128];
        snprintf(msg, sizeof msg, "options.%s must not contain NUL characters", key);
        napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", msg);
        return -1;
    }
    return 0;
}

/* Byte offset -> UTF-16 index of the JS string whose UTF-8 is s[0..len).
 * The cursor makes ascending lookups linear overall. */
typedef struct u16_cursor {
    size_t byte, unit;
} u16_cursor;

static size_t utf16_index(const unsigned char *s, size_t len, size_t off, u16_cursor *c)
{
    if (off < c->byte)
        c->byte = c->unit = 0;
    while (c->byte < off && c->byte < len) {
        unsigned char b = s[c->byte];
        size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        c->unit += n == 4 ? 2 : 1;
        c->byte += n;
    }
    return c->unit;
}

/* ---- result -> plain object ---------------------------------------------- */

static const char *flag_names[] = {"budget_exceeded", "oversize", "engine_error", "failsafe",
                                   "invalid_utf8", "hits_truncated", "redacted", "shadow",
                                   "released_unmasked"};

static napi_value set_str(napi_env env, napi_value o, const char *key, const char *s)
{
    napi_value v;
    CHECK_NAPI(napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &v));
    CHECK_NAPI(napi_set_named_property(env, o, key, v));
    return v;
}

static napi_value set_num(napi_env env, napi_value o, const char *key, double d)
{
    napi_value v;
    CHECK_NAPI(napi_create_double(env, d, &v));
    CHECK_NAPI(napi_set_named_property(env, o, key, v));
    return v;
}

static napi_value set_bool(napi_env env, napi_value o, const char *key, int b)
{
    napi_value v;
    CHECK_NAPI(napi_get_boolean(env, b != 0, &v));
    CHECK_NAPI(napi_set_named_property(env, o, key, v));
    return v;
}

/* The result's {version, hash}: the cached frozen object while the
 * snapshot is the same. */
static napi_value policy_object(napi_env env, guard *g, const rg_result *r)
{
    napi_value v;
    const char *hash = rg_result_policy_hash(r);
    if (g->policy && strcmp(hash, g->policy_hash) == 0 &&
        napi_get_reference_value(env, g->policy, &v) == napi_ok && v)
        return v;
    CHECK_NAPI(napi_create_object(env, &v));
    CHECK_VAL(set_str(env, v, "version", rg_result_policy_version(r)));
    CHECK_VAL(set_str(env, v, "hash", hash));
    CHECK_NAPI(napi_object_freeze(env, v));
    if (g->policy)
        napi_delete_reference(env, g->policy);
    g->policy = NULL;
    if (hash[0] && strlen(hash) < sizeof g->policy_hash &&
        napi_create_reference(env, v, 1, &g->policy) == napi_ok)
        strcpy(g->policy_hash, hash);
    return v;
}

/* reply: the bytes checked; as_string: offsets and redacted copy in JS
 * string terms (else bytes and a Buffer). */
static napi_value make_result(napi_env env, guard *g, const rg_result *r, const char *reply,
                              size_t reply_len, int as_string)
{
    napi_value o, arr, item, v;
    CHECK_NAPI(napi_create_object(env, &o));
    CHECK_VAL(set_str(env, o, "verdict", rg_verdict_name(rg_result_verdict(r))));
    CHECK_VAL(set_str(env, o, "route", rg_result_route(r)));

    CHECK_NAPI(napi_create_object(env, &v));
    size_t n = rg_result_category_count(r);
    for (size_t i = 0; i < n; i++) {
        const rg_category_score *c = rg_result_category(r, i);
        CHECK_VAL(set_num(env, v, c->category, c->score));
    }
    CHECK_NAPI(napi_set_named_property(env, o, "categories", v));

    n = rg_result_hit_count(r);
    CHECK_NAPI(napi_create_array_with_length(env, n, &arr));
    u16_cursor cur = {0, 0};
    for (size_t i = 0; i < n; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        size_t s = h->start, e = h->end;
        /* A hit in the user message (or with no span) is not an offset of
         * the reply: byte offsets, and the reply's cursor stays put. */
        if (as_string && h->source == RG_SOURCE_REPLY) {
            s = utf16_index((const unsigned char *)reply, reply_len, h->start, &cur);
            e = utf16_index((const unsigned char *)reply, reply_len, h->end, &cur);
        }
        CHECK_NAPI(napi_create_object(env, &item));
        CHECK_VAL(set_str(env, item, "detector", h->detector));
        CHECK_VAL(set_str(env, item, "category", h->category));
        CHECK_VAL(set_num(env, item, "start", (double)s));
        CHECK_VAL(set_num(env, item, "end", (double)e));
        CHECK_VAL(set_num(env, item, "byteStart", (double)h->start));
        CHECK_VAL(set_num(env, item, "byteEnd", (double)h->end));
        CHECK_VAL(set_num(env, item, "score", h->score));
        CHECK_VAL(set_bool(env, item, "shadow", h->shadow));
        CHECK_VAL(set_str(env, item, "source",
                          h->source == RG_SOURCE_USER ? "user_message"
                          : h->source == RG_SOURCE_CONVERSATION ? "conversation" : "reply"));
        CHECK_NAPI(napi_set_element(env, arr, (uint32_t)i, item));
    }
    CHECK_NAPI(napi_set_named_property(env, o, "hits", arr));

    n = rg_result_reason_count(r);
    CHECK_NAPI(napi_create_array_with_length(env, n, &arr));
    for (size_t i = 0; i < n; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        CHECK_NAPI(napi_create_object(env, &item));
        CHECK_VAL(set_str(env, item, "category", x->category));
        CHECK_VAL(set_str(env, item, "rule", x->rule));
        CHECK_VAL(set_str(env, item, "route", x->route));
        CHECK_VAL(set_str(env, item, "action", x->action));
        CHECK_VAL(set_num(env, item, "score", x->score));
        CHECK_VAL(set_num(env, item, "threshold", x->threshold));
        CHECK_VAL(set_bool(env, item, "shadow", x->shadow));
        CHECK_NAPI(napi_set_element(env, arr, (uint32_t)i, item));
    }
    CHECK_NAPI(napi_set_named_property(env, o, "reasons", arr));

    unsigned flags = rg_result_flags(r);
    CHECK_NAPI(napi_create_array(env, &arr));
    uint32_t k = 0;
    for (unsigned b = 0; b < sizeof flag_names / sizeof flag_names[0]; b++) {
        if (flags & (1u << b)) {
            CHECK_NAPI(napi_create_string_utf8(env, flag_names[b], NAPI_AUTO_LENGTH, &v));
            CHECK_NAPI(napi_set_element(env, arr, k++, v));
        }
    }
    CHECK_NAPI(napi_set_named_property(env, o, "flags", arr));

    size_t rlen = 0;
    const char *red = rg_result_redacted(r, &rlen);
    if (!red)
        CHECK_NAPI(napi_get_null(env, &v));
    else if (as_string)
        CHECK_NAPI(napi_create_string_utf8(env, red, rlen, &v));
    else
        CHECK_NAPI(napi_create_buffer_copy(env, rlen, red, NULL, &v));
    CHECK_NAPI(napi_set_named_property(env, o, "redacted", v));

    CHECK_VAL(set_num(env, o, "elapsedNs", (double)rg_result_elapsed_ns(r)));
    CHECK_VAL(v = policy_object(env, g, r));
    CHECK_NAPI(napi_set_named_property(env, o, "policy", v));
    CHECK_VAL(set_str(env, o, "shadowVerdict",
                       rg_verdict_name((flags & RG_FLAG_SHADOW) ? rg_result_shadow_verdict(r)
                                                                : rg_result_verdict(r))));
    /* For a handoff: the context for the human (docs/CONVERSATION.md),
     * parsed with the global JSON.parse; null otherwise. */
    napi_value hc;
    CHECK_NAPI(napi_get_null(env, &hc));
    if (rg_result_verdict(r) == RG_HANDOFF) {
        char small[2048];
        size_t need = 0;
        char *text = small;
        int hs = rg_result_handoff_json(r, small, sizeof small, &need);
        if (hs == RG_E_RANGE && (text = malloc(need + 1)) != NULL)
            hs = rg_result_handoff_json(r, text, need + 1, NULL);
        if (hs == RG_OK) {
            napi_value global, json, parse, str;
            if (napi_get_global(env, &global) == napi_ok &&
                napi_get_named_property(env, global, "JSON", &json) == napi_ok &&
                napi_get_named_property(env, json, "parse", &parse) == napi_ok &&
                napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &str) == napi_ok)
                napi_call_function(env, json, parse, 1, &str, &hc);
        }
        if (text && text != small)
            free(text);
    }
    CHECK_NAPI(napi_set_named_property(env, o, "handoffContext", hc));
    return o;
}

/* ---- methods -------------------------------------------------------------- */

static guard *this_guard(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                         int open)
{
    napi_value self;
    void *p = NULL;
    if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok)
        return NULL;
    if (napi_unwrap(env, self, &p) != napi_ok || !p) {
        throw_type(env, "not a Guard");
        return NULL;
    }
    guard *g = p;
    if (open && !g->se) {
        throw_error(env, 0, "CLOSED", "the Guard is closed", NULL, NULL);
        return NULL;
    }
    return g;
}

/* new Guard(policiesDir, {cacheDir, shared, streaming}) */
static napi_value guard_new(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], self, target;
    CHECK_NAPI(napi_get_new_target(env, info, &target));
    if (!target) {
        throw_type(env, "Class constructor Guard cannot be invoked without 'new'");
        return NULL;
    }
    CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
    napi_valuetype type = napi_undefined;
    if (argc >= 1)
        CHECK_NAPI(napi_typeof(env, argv[0], &type));
    if (type != napi_string)
        return throw_type(env, "policiesDir must be a string");

    guard *g = calloc(1, sizeof *g);
    if (!g) {
        napi_throw_error(env, "RG_E_NOMEM", "out of memory");
        return NULL;
    }
    text_arg path = {0}, cache = {0};
    int shared = 1;
    unsigned flags = 0;
    if (arena_string(env, g, argv[0], &path.off, &path.len))
        goto fail;
    if (argc >= 2) {
        CHECK_NAPI(napi_typeof(env, argv[1], &type));
        if (type == napi_object) {
            if (get_ident(env, g, argv[1], "cacheDir", &cache))
                goto fail;
            napi_value v;
            if (napi_get_named_property(env, argv[1], "shared", &v) != napi_ok ||
                napi_typeof(env, v, &type) != napi_ok)
                goto fail;
            if (type == napi_boolean) {
                bool b;
                napi_get_value_bool(env, v, &b);
                shared = b;
            } else if (type != napi_undefined) {
                throw_type(env, "options.shared must be a boolean");
                goto fail;
            }
            /* streaming: compile the streaming databases at open
             * (RG_ENGINE_STREAMING) instead of on the first stream. */
            if (napi_get_named_property(env, argv[1], "streaming", &v) != napi_ok ||
                napi_typeof(env, v, &type) != napi_ok)
                goto fail;
            if (type == napi_boolean) {
                bool b;
                napi_get_value_bool(env, v, &b);
                if (b)
                    flags |= RG_ENGINE_STREAMING;
            } else if (type != napi_undefined) {
                throw_type(env, "options.streaming must be a boolean");
                goto fail;
            }
        } else if (type != napi_undefined && type != napi_null) {
            throw_type(env, "options must be an object");
            goto fail;
        }
    }
    const char *dir = g->buf + path.off;
    if (memchr(dir, '\0', path.len)) {
        napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "policiesDir must not contain NUL");
        goto fail;
    }
    rg_diag *diag = NULL;
    char what[512];
    int rc = engine_acquire(dir, cache.kind ? g->buf + cache.off : NULL, shared, flags, &g->se,
                            &diag);
    if (rc != RG_OK) {
        snprintf(what, sizeof what, "cannot load policies from '%s'", dir);
        throw_error(env, rc, NULL, what, diag, NULL);
        rg_diag_free(diag);
        goto fail;
    }
    rg_diag_free(diag);
    if ((rc = rg_scratch_alloc(g->se->engine, &g->scratch)) != RG_OK ||
        (rc = rg_result_alloc(NULL, &g->result)) != RG_OK) {
        throw_error(env, rc, NULL, "cannot allocate scratch", NULL, NULL);
        guard_close(g);
        goto fail;
    }
    g->used = 0;
    if (napi_wrap(env, self, g, guard_finalize, NULL, NULL) != napi_ok) {
        guard_finalize(env, g, NULL);
        return NULL;
    }
    return self;
fail:
    free(g->buf);
    free(g);
    return NULL;
}

/* guard.check(reply, {route, userMessage, history, channel, locale}) */
static napi_value guard_check(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    guard *g = this_guard(env, info, &argc, argv, 1);
    if (!g)
        return NULL;
    if (argc < 1)
        return throw_type(env, "reply must be a string or a Buffer");
    g->used = 0;
    text_arg reply = {0}, user = {0}, route = {0}, channel = {0}, locale = {0};
    size_t nhist = 0;
    if (get_text(env, g, argv[0], "reply", &reply))
        return NULL;
    napi_valuetype type = napi_undefined;
    if (argc >= 2)
        CHECK_NAPI(napi_typeof(env, argv[1], &type));
    if (type == napi_object) {
        napi_value o = argv[1], v;
        if (get_ident(env, g, o, "route", &route) || get_ident(env, g, o, "channel", &channel) ||
            get_ident(env, g, o, "locale", &locale))
            return NULL;
        CHECK_NAPI(napi_get_named_property(env, o, "userMessage", &v));
        CHECK_NAPI(napi_typeof(env, v, &type));
        if (type != napi_undefined && type != napi_null &&
            get_text(env, g, v, "options.userMessage", &user))
            return NULL;
        CHECK_NAPI(napi_get_named_property(env, o, "history", &v));
        CHECK_NAPI(napi_typeof(env, v, &type));
        if (type != napi_undefined && type != napi_null) {
            bool is_array = false;
            CHECK_NAPI(napi_is_array(env, v, &is_array));
            if (!is_array)
                return throw_type(env, "options.history must be an array of strings");
            uint32_t len;
            CHECK_NAPI(napi_get_array_length(env, v, &len));
            if (len > g->hist_cap) {
                rg_text *h = realloc(g->hist, len * sizeof *h);
                if (h)
                    g->hist = h;
                size_t *ho = h ? realloc(g->hist_off, len * sizeof *ho) : NULL;
                if (ho)
                    g->hist_off = ho;
                if (!h || !ho) {
                    napi_throw_error(env, "RG_E_NOMEM", "out of memory");
                    return NULL;
                }
                g->hist_cap = len;
            }
            for (uint32_t i = 0; i < len; i++) {
                napi_value item;
                text_arg t = {0};
                CHECK_NAPI(napi_get_element(env, v, i, &item));
                if (get_text(env, g, item, "options.history[i]", &t))
                    return NULL;
                /* Arena strings move when the arena grows: keep offsets. */
                g->hist_off[i] = t.kind == 1 ? t.off : SIZE_MAX;
                g->hist[i].ptr = t.kind == 2 ? text_ptr(g, &t) : NULL;
                g->hist[i].len = t.len;
            }
            nhist = len;
        }
    } else if (type != napi_undefined && type != napi_null) {
        return throw_type(env, "options must be an object");
    }
    for (size_t i = 0; i < nhist; i++)
        if (g->hist_off[i] != SIZE_MAX)
            g->hist[i].ptr = g->buf + g->hist_off[i];

    rg_request req;
    memset(&req, 0, sizeof req);
    req.route = text_ptr(g, &route);
    req.reply = text_ptr(g, &reply);
    req.reply_len = reply.len;
    req.user_message = text_ptr(g, &user);
    req.user_message_len = user.len;
    req.history = nhist ? g->hist : NULL;
    req.history_count = nhist;
    req.channel = text_ptr(g, &channel);
    req.locale = text_ptr(g, &locale);
    int rc = rg_check(g->se->engine, g->scratch, &req, g->result);
    napi_value res = make_result(env, g, g->result, req.reply, req.reply_len, reply.kind == 1);
    if (!res)
        return NULL;
    if (rc != RG_OK) {
        char what[256];
        snprintf(what, sizeof what, "check on route '%s' failed",
                 req.route ? req.route : "default");
        throw_error(env, rc, NULL, what, NULL, res);
        return NULL;
    }
    return res;
}

/* guard.reload([policiesDir]) */
static napi_value guard_reload(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    guard *g = this_guard(env, info, &argc, argv, 1);
    if (!g)
        return NULL;
    const char *path = NULL;
    g->used = 0;
    if (argc >= 1) {
        napi_valuetype type;
        CHECK_NAPI(napi_typeof(env, argv[0], &type));
        if (type == napi_string) {
            text_arg t;
            if (arena_string(env, g, argv[0], &t.off, &t.len))
                return NULL;
            path = g->buf + t.off;
            if (memchr(path, '\0', t.len)) {
                napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE",
                                       "policiesDir must not contain NUL");
                return NULL;
            }
        } else if (type != napi_undefined && type != napi_null) {
            return throw_type(env, "policiesDir must be a string");
        }
    }
    rg_diag *diag = NULL;
    int rc = rg_engine_reload(g->se->engine, path, &diag);
    if (rc != RG_OK) {
        char what[512];
        snprintf(what, sizeof what,
                 "cannot reload policies%s%s%s (the running policy stays in force)",
                 path ? " from '" : "", path ? path : "", path ? "'" : "");
        throw_error(env, rc, NULL, what, diag, NULL);
        rg_diag_free(diag);
        return NULL;
    }
    napi_value warnings = diag_array(env, diag);
    rg_diag_free(diag);
    if (path)
        engine_rekey(g->se, path);
    return warnings;
}

static napi_value guard_close_js(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    guard *g = this_guard(env, info, &argc, NULL, 0);
    if (!g)
        return NULL;
    guard_close(g);
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
}

static napi_value guard_closed(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    guard *g = this_guard(env, info, &argc, NULL, 0);
    if (!g)
        return NULL;
    napi_value v;
    napi_get_boolean(env, g->se == NULL, &v);
    return v;
}

static napi_value guard_info(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    guard *g = this_guard(env, info, &argc, NULL, 1);
    if (!g)
        return NULL;
    rg_engine_info ei;
    int rc = rg_engine_get_info(g->se->engine, &ei);
    if (rc != RG_OK) {
        throw_error(env, rc, NULL, "cannot read engine info", NULL, NULL);
        return NULL;
    }
    napi_value o;
    CHECK_NAPI(napi_create_object(env, &o));
    CHECK_VAL(set_str(env, o, "version", ei.policy_version));
    CHECK_VAL(set_str(env, o, "hash", ei.policy_hash));
    CHECK_VAL(set_num(env, o, "generation", (double)ei.generation));
    CHECK_VAL(set_num(env, o, "detectors", (double)ei.detector_count));
    CHECK_VAL(set_num(env, o, "patterns", (double)ei.pattern_count));
    CHECK_VAL(set_num(env, o, "routes", (double)ei.route_count));
    CHECK_VAL(set_num(env, o, "compileNs", (double)ei.compile_ns));
    return o;
}

static napi_value guard_routes(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    guard *g = this_guard(env, info, &argc, NULL, 1);
    if (!g)
        return NULL;
    napi_value arr, v;
    CHECK_NAPI(napi_create_array(env, &arr));
    char name[256];
    for (uint32_t i = 0; rg_engine_route_name(g->se->engine, i, name, sizeof name) == RG_OK; i++) {
        CHECK_NAPI(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v));
        CHECK_NAPI(napi_set_element(env, arr, i, v));
    }
    return arr;
}

/* metrics(): the engine's Prometheus text (rg_engine_metrics). */
static napi_value guard_metrics(napi_env env, napi_callback_info info)
{
    size_t argc = 0;
    guard *g = this_guard(env, info, &argc, NULL, 1);
    if (!g)
        return NULL;
    size_t cap = 16384, len = 0;
    char *buf = NULL;
    int rc;
    do { /* the text may grow between two calls: leave room */
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            throw_error(env, RG_E_NOMEM, NULL, "cannot render metrics", NULL, NULL);
            return NULL;
        }
        buf = nb;
        rc = rg_engine_metrics(g->se->engine, buf, cap, &len);
        cap = len + 4096;
    } while (rc == RG_E_RANGE);
    if (rc != RG_OK) {
        free(buf);
        throw_error(env, rc, NULL, "cannot render metrics", NULL, NULL);
        return NULL;
    }
    napi_value v;
    napi_status st = napi_create_string_utf8(env, buf, len, &v);
    free(buf);
    CHECK_NAPI(st);
    return v;
}

/* ---- module functions ------------------------------------------------------ */

/* setup(errors): the JS side registers its error classes for this env. */
static napi_value setup(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    addon_env *ae = env_data(env);
    if (argc < 1 || !ae)
        return throw_type(env, "setup(errors) needs the error classes");
    if (ae->errors)
        napi_delete_reference(env, ae->errors);
    CHECK_NAPI(napi_create_reference(env, argv[0], 1, &ae->errors));
    return NULL;
}

static napi_value version(napi_env env, napi_callback_info info)
{
    (void)info;
    napi_value v;
    CHECK_NAPI(napi_create_string_utf8(env, rg_version(), NAPI_AUTO_LENGTH, &v));
    return v;
}

/* How many shared engines are open in this process (for tests). */
static napi_value shared_engines(napi_env env, napi_callback_info info)
{
    (void)info;
    napi_value v;
    CHECK_NAPI(napi_create_uint32(env, engines_open(), &v));
    return v;
}

/* ---- streams (docs/STREAMING.md; the JS class is in stream.js) ----------- */

/* A stream lives in an external value; the Guard that opened it supplies
 * the scratch and result of each call (so a stream is used on its Guard's
 * thread). */
typedef struct jstream {
    rg_stream *st;
    int kind;        /* 0 until the first chunk, then 1 string or 2 bytes */
    char *text;      /* every byte fed: hit offsets to UTF-16 indices */
    size_t len, cap;
} jstream;

static void jstream_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    jstream *js = data;
    rg_stream_free(js->st); /* safe after the engine closed */
    free(js->text);
    free(js);
}

static jstream *get_jstream(napi_env env, napi_value v)
{
    void *p = NULL;
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
        napi_get_value_external(env, v, &p) != napi_ok || !p) {
        throw_type(env, "not a stream");
        return NULL;
    }
    jstream *js = p;
    if (!js->st) {
        throw_error(env, 0, "CLOSED", "the stream is closed", NULL, NULL);
        return NULL;
    }
    return js;
}

/* guard._streamOpen({route, channel, locale}) -> handle */
static napi_value guard_stream_open(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    guard *g = this_guard(env, info, &argc, argv, 1);
    if (!g)
        return NULL;
    g->used = 0;
    text_arg route = {0}, channel = {0}, locale = {0};
    napi_valuetype type = napi_undefined;
    if (argc >= 1)
        CHECK_NAPI(napi_typeof(env, argv[0], &type));
    if (type == napi_object) {
        if (get_ident(env, g, argv[0], "route", &route) ||
            get_ident(env, g, argv[0], "channel", &channel) ||
            get_ident(env, g, argv[0], "locale", &locale))
            return NULL;
    } else if (type != napi_undefined && type != napi_null) {
        return throw_type(env, "options must be an object");
    }
    rg_request req;
    memset(&req, 0, sizeof req);
    req.route = text_ptr(g, &route);
    req.channel = text_ptr(g, &channel);
    req.locale = text_ptr(g, &locale);
    jstream *js = calloc(1, sizeof *js);
    if (!js) {
        napi_throw_error(env, "RG_E_NOMEM", "out of memory");
        return NULL;
    }
    int rc = rg_stream_open(g->se->engine, &req, &js->st);
    if (rc != RG_OK) {
        free(js);
        char what[256];
        snprintf(what, sizeof what, "cannot open a stream on route '%s'",
                 req.route ? req.route : "default");
        throw_error(env, rc, NULL, what, NULL, NULL);
        return NULL;
    }
    napi_value h;
    if (napi_create_external(env, js, jstream_finalize, NULL, &h) != napi_ok) {
        rg_stream_free(js->st);
        free(js);
        return NULL;
    }
    return h;
}

/* One call: feed (chunk given) or close. Returns {verdict, safeBytes,
 * bytes, text, result, final}. */
static napi_value stream_call(napi_env env, napi_callback_info info, int closing)
{
    size_t argc = 2;
    napi_value argv[2];
    guard *g = this_guard(env, info, &argc, argv, 1);
    if (!g)
        return NULL;
    if (argc < (closing ? 1u : 2u))
        return throw_type(env, closing ? "a stream handle is needed"
                                       : "chunk must be a string or a Buffer");
    jstream *js = get_jstream(env, argv[0]);
    if (!js)
        return NULL;
    int rc;
    if (closing) {
        rc = rg_stream_close(js->st, g->scratch, g->result);
    } else {
        g->used = 0;
        text_arg chunk = {0};
        if (get_text(env, g, argv[1], "chunk", &chunk))
            return NULL;
        int kind = chunk.kind == 1 ? 1 : 2;
        if (js->kind && js->kind != kind)
            return throw_type(env, "feed one stream either strings or Buffers, not both");
        js->kind = kind;
        const char *p = text_ptr(g, &chunk);
        if (js->len + chunk.len + 1 > js->cap) {
            size_t cap = js->cap ? js->cap : 256;
            while (cap < js->len + chunk.len + 1)
                cap *= 2;
            char *t = realloc(js->text, cap);
            if (!t) {
                napi_throw_error(env, "RG_E_NOMEM", "out of memory");
                return NULL;
            }
            js->text = t;
            js->cap = cap;
        }
        memcpy(js->text + js->len, p, chunk.len);
        js->len += chunk.len;
        rc = rg_stream_feed(js->st, g->scratch, p, chunk.len, g->result);
    }
    int as_string = js->kind != 2;
    napi_value o, res, v;
    res = make_result(env, g, g->result, js->text ? js->text : "", js->len, as_string);
    if (!res)
        return NULL;
    CHECK_NAPI(napi_create_object(env, &o));
    CHECK_VAL(set_str(env, o, "verdict", rg_verdict_name(rg_result_verdict(g->result))));
    CHECK_VAL(set_num(env, o, "safeBytes", (double)rg_stream_safe_bytes(js->st)));
    CHECK_VAL(set_num(env, o, "bytes", (double)rg_stream_bytes(js->st)));
    size_t tl = 0;
    const char *text = rg_stream_release(js->st, &tl);
    if (as_string)
        CHECK_NAPI(napi_create_string_utf8(env, text ? text : "", tl, &v));
    else
        CHECK_NAPI(napi_create_buffer_copy(env, tl, text ? text : "", NULL, &v));
    CHECK_NAPI(napi_set_named_property(env, o, "text", v));
    CHECK_NAPI(napi_set_named_property(env, o, "result", res));
    CHECK_VAL(set_bool(env, o, "final", closing));
    if (closing) {
        rg_stream_free(js->st);
        js->st = NULL;
    }
    if (rc != RG_OK) {
        throw_error(env, rc, NULL, closing ? "closing the stream failed" : "feeding the stream failed",
                    NULL, res);
        return NULL;
    }
    return o;
}

static napi_value guard_stream_feed(napi_env env, napi_callback_info info)
{
    return stream_call(env, info, 0);
}

static napi_value guard_stream_close(napi_env env, napi_callback_info info)
{
    return stream_call(env, info, 1);
}

static napi_value init(napi_env env, napi_value exports)
{
    addon_env *ae = calloc(1, sizeof *ae);
    if (!ae || napi_set_instance_data(env, ae, env_free, NULL) != napi_ok) {
        free(ae);
        napi_throw_error(env, "RG_E_NOMEM", "cannot initialise replyguard");
        return NULL;
    }
    napi_property_descriptor methods[] = {
        {"check", NULL, guard_check, NULL, NULL, NULL, napi_default_method, NULL},
        {"reload", NULL, guard_reload, NULL, NULL, NULL, napi_default_method, NULL},
        {"close", NULL, guard_close_js, NULL, NULL, NULL, napi_default_method, NULL},
        {"closed", NULL, NULL, guard_closed, NULL, NULL, napi_configurable, NULL},
        {"info", NULL, NULL, guard_info, NULL, NULL, napi_configurable, NULL},
        {"routes", NULL, NULL, guard_routes, NULL, NULL, napi_configurable, NULL},
        {"metrics", NULL, guard_metrics, NULL, NULL, NULL, napi_default_method, NULL},
        {"_streamOpen", NULL, guard_stream_open, NULL, NULL, NULL, napi_default_method, NULL},
        {"_streamFeed", NULL, guard_stream_feed, NULL, NULL, NULL, napi_default_method, NULL},
        {"_streamClose", NULL, guard_stream_close, NULL, NULL, NULL, napi_default_method, NULL},
    };
    napi_value cls, fn;
    CHECK_NAPI(napi_define_class(env, "Guard", NAPI_AUTO_LENGTH, guard_new, NULL,
                                 sizeof methods / sizeof methods[0], methods, &cls));
    CHECK_NAPI(napi_set_named_property(env, exports, "Guard", cls));
    CHECK_NAPI(napi_create_function(env, "setup", NAPI_AUTO_LENGTH, setup, NULL, &fn));
    CHECK_NAPI(napi_set_named_property(env, exports, "setup", fn));
    CHECK_NAPI(napi_create_function(env, "version", NAPI_AUTO_LENGTH, version, NULL, &fn));
    CHECK_NAPI(napi_set_named_property(env, exports, "version", fn));
    CHECK_NAPI(napi_create_function(env, "sharedEngines", NAPI_AUTO_LENGTH, shared_engines,
                                    NULL, &fn));
    CHECK_NAPI(napi_set_named_property(env, exports, "sharedEngines", fn));
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
