/* audit.c — audit events: one structured, PII-free event per check for an
 * optional callback, and a JSON Lines writer for them.
 *
 * An event is built on the checking thread from the request's metadata and
 * the result (ids, categories, offsets, scores): it never points at the
 * reply. The one exception is opt-in (RG_AUDIT_REDACTED_COPY): a copy with
 * EVERY hit masked — not only the categories the policy redacts, because a
 * toxicity hit that blocked a reply is still "detected span text" — and
 * only when the whole reply was scanned and every hit kept.
 *
 * The JSON writer is hand-written (the library does not depend on
 * jansson): strings are escaped byte by byte with invalid UTF-8 replaced by
 * U+FFFD per maximal subpart, numbers are formatted with integer
 * arithmetic so that a host program's LC_NUMERIC cannot put a decimal
 * comma into the JSON, and nothing is allocated.
 */
#include "metrics.h"
#include "alloc.h"
#include <math.h>
#include <string.h>
#include <time.h>

int rg_engine_set_audit(rg_engine *engine, rg_audit_fn fn, void *user,
                        unsigned flags)
{
    if (!engine || (flags & ~(unsigned)RG_AUDIT_REDACTED_COPY))
        return RG_E_INVAL;
    rg__metrics *m = engine->metrics;
    pthread_mutex_lock(&engine->lock);
    m->audit_user = fn ? user : NULL;
    m->audit_flags = fn ? flags : 0;
    m->audit_fn = fn;
    pthread_mutex_unlock(&engine->lock);
    return RG_OK;
}

/* The reply with every hit's span replaced by "[category]", overlapping
 * spans merged, into the scratch's buffer. Hits are sorted by start (then
 * end) by check.c; an unsorted list is not trusted. NULL on failure. */
static const char *redacted_copy(rg_scratch *sc, const rg_request *req,
                                 const rg_result *r, size_t *out_len)
{
    rg__mscratch *ms = sc->metrics;
    const char *reply = req->reply ? req->reply : "";
    size_t n = req->reply_len;
    size_t need = n + 1, prev = 0;
    for (size_t i = 0; i < r->nhits; i++) {
        const rg_hit *h = &r->hits[i];
        if (h->source != RG_SOURCE_REPLY)
            continue; /* another text's offsets (docs/CONVERSATION.md) */
        if (h->start > h->end || h->end > n || h->start < prev)
            return NULL;
        prev = h->start;
        need += strlen(h->category) + 2;
    }
    if (need > ms->rcap) {
        char *nb = rg__realloc(&sc->a, ms->rbuf, need);
        if (!nb)
            return NULL;
        ms->rbuf = nb;
        ms->rcap = need;
    }
    char *o = ms->rbuf;
    size_t pos = 0;
    for (size_t i = 0; i < r->nhits; i++) {
        const rg_hit *h = &r->hits[i];
        if (h->source != RG_SOURCE_REPLY || h->end <= pos)
            continue; /* another text, or inside a span already masked */
        if (h->start >= pos) {
            memcpy(o, reply + pos, h->start - pos);
            o += h->start - pos;
            size_t cl = strlen(h->category);
            *o++ = '[';
            memcpy(o, h->category, cl);
            o += cl;
            *o++ = ']';
        }
        pos = h->end; /* an overlap extends the previous mask */
    }
    memcpy(o, reply + pos, n - pos);
    o += n - pos;
    *o = '\0';
    *out_len = (size_t)(o - ms->rbuf);
    return ms->rbuf;
}

void rg__audit_emit(rg_engine *e, rg_scratch *sc, const rg__croute *route,
                    const rg_request *req, const rg_result *r, int status)
{
    const rg__metrics *m = e->metrics;
    rg_audit_event ev;
    memset(&ev, 0, sizeof ev);
    ev.struct_size = sizeof ev;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ev.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    ev.status = status;
    ev.route = route ? route->name : req->route ? req->route : "default";
    ev.channel = req->channel;
    ev.locale = req->locale;
    if (req->labels) {
        ev.labels = req->labels;
        ev.label_count = req->label_count;
    }
    ev.verdict = r->verdict;
    ev.flags = r->flags;
    ev.elapsed_ns = r->elapsed_ns;
    ev.policy_version = r->version;
    ev.policy_hash = r->hash;
    ev.reply_len = req->reply_len;
    ev.hits = r->hits;
    ev.hit_count = r->nhits;
    ev.categories = r->cats;
    ev.category_count = r->ncats;
    ev.reasons = r->reasons;
    ev.reason_count = r->nreasons;
    if ((m->audit_flags & RG_AUDIT_REDACTED_COPY) && status == RG_OK &&
        !(r->flags & (RG_FLAG_OVERSIZE | RG_FLAG_BUDGET_EXCEEDED |
                      RG_FLAG_ENGINE_ERROR | RG_FLAG_HITS_TRUNCATED)))
        ev.redacted = redacted_copy(sc, req, r, &ev.redacted_len);
    m->audit_fn(&ev, m->audit_user);
}

/* ------------------------------------------------------------------ */
/* JSON Lines                                                          */
/* ------------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s and whether it is valid; an invalid
 * sequence's length is its maximal valid prefix (at least 1), so each bad
 * sequence becomes one U+FFFD (Unicode's "maximal subpart" practice). */
static size_t utf8_seq(const unsigned char *s, size_t n, int *valid)
{
    unsigned c = s[0];
    *valid = 0;
    if (c < 0x80) {
        *valid = 1;
        return 1;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 1;
    for (size_t i = 1; i < len; i++) {
        if (i >= n)
            return i;
        unsigned b = s[i];
        if (b < lo || b > hi)
            return i;
        lo = 0x80, hi = 0xBF;
    }
    *valid = 1;
    return len;
}

/* 1 for the bytes a JSON string takes verbatim: 0x20..0x7e but '"', '\\'. */
static const unsigned char plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
    R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70: DEL */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0)
#undef R16
};

static void json_str(rg__out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    rg__out_put(o, "\"", 1);
    size_t i = 0, run = 0; /* bytes [i - run, i) still to copy verbatim */
    while (i < n) {
        /* Fast path: printable ASCII other than '"' and '\\' is copied as
         * is (one table look-up per byte). */
        size_t j = i;
        while (j < n && plain[p[j]])
            j++;
        run += j - i;
        i = j;
        if (i == n)
            break;
        unsigned c = p[i];
        const char *esc = NULL;
        char ubuf[6];
        size_t adv = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            memcpy(ubuf, "\\u00", 4);
            ubuf[4] = hex[c >> 4];
            ubuf[5] = hex[c & 15];
        } else if (c >= 0x80) {
            int valid;
            adv = utf8_seq(p + i, n - i, &valid);
            if (valid) {
                i += adv;
                run += adv;
                continue;
            }
            esc = "\\ufffd";
        } else {
            i++;
            run++;
            continue;
        }
        rg__out_put(o, s + i - run, run);
        run = 0;
        if (esc)
            rg__out_puts(o, esc);
        else
            rg__out_put(o, ubuf, 6);
        i += adv;
    }
    rg__out_put(o, s + i - run, run);
    rg__out_put(o, "\"", 1);
}

static void json_cstr(rg__out *o, const char *s)
{
    if (s)
        json_str(o, s, strlen(s));
    else
        RG__OUT_LIT(o, "null");
}

/* A score or threshold with up to 6 decimals, locale-free; null if not
 * finite. */
static void json_num(rg__out *o, double v)
{
    if (!isfinite(v)) {
        RG__OUT_LIT(o, "null");
        return;
    }
    if (v < 0) {
        RG__OUT_LIT(o, "-");
        v = -v;
    }
    if (v >= 1e12) { /* not a score: integral part only */
        rg__out_u64(o, (uint64_t)v);
        return;
    }
    uint64_t u = (uint64_t)llround(v * 1e6);
    rg__out_u64(o, u / 1000000);
    uint64_t frac = u % 1000000;
    if (!frac)
        return;
    char d[6];
    int k = 6;
    for (int i = 5; i >= 0; i--) {
        d[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    while (k > 1 && d[k - 1] == '0')
        k--;
    RG__OUT_LIT(o, ".");
    rg__out_put(o, d, (size_t)k);
}

/* ,"name": (or "name": for the first member), one copy of a literal. */
#define key(o, k, first)                                                     \
    ((first) ? RG__OUT_LIT(o, "\"" k "\":") : RG__OUT_LIT(o, ",\"" k "\":"))

static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* RFC 3339 UTC with microseconds: 2026-11-21T09:03:00.123456Z. The date
 * comes from Howard Hinnant's civil_from_days rather than gmtime_r, which
 * takes glibc's timezone lock on every call (measured: most of the cost of
 * an event). */
static void json_time(rg__out *o, uint64_t ns)
{
    uint64_t secs = ns / 1000000000u;
    int64_t z = (int64_t)(secs / 86400) + 719468;
    unsigned sod = (unsigned)(secs % 86400);
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    if (y > 9999) {
        RG__OUT_LIT(o, "null");
        return;
    }
    char b[29];
    b[0] = '"';
    two(b + 1, (int)(y / 100));
    two(b + 3, (int)(y % 100));
    b[5] = '-';
    two(b + 6, (int)m);
    b[8] = '-';
    two(b + 9, (int)d);
    b[11] = 'T';
    two(b + 12, (int)(sod / 3600));
    b[14] = ':';
    two(b + 15, (int)(sod / 60 % 60));
    b[17] = ':';
    two(b + 18, (int)(sod % 60));
    b[20] = '.';
    uint64_t us = ns % 1000000000u / 1000u;
    for (int i = 26; i >= 21; i--) {
        b[i] = (char)('0' + us % 10);
        us /= 10;
    }
    b[27] = 'Z';
    b[28] = '"';
    rg__out_put(o, b, sizeof b);
}

static const char *const flag_names[] = {
    "budget_exceeded", "oversize", "engine_error", "failsafe",
    "invalid_utf8", "hits_truncated", "redacted", "shadow"};

int rg_audit_event_json(const rg_audit_event *ev, char *buf, size_t size,
                        size_t *len)
{
    if (len)
        *len = 0;
    if (!ev || (!buf && size))
        return RG_E_INVAL;
    rg__out o = {buf, size, 0};
    RG__OUT_LIT(&o, "{");
    key(&o, "time", 1);
    json_time(&o, ev->time_ns);
    key(&o, "route", 0);
    json_cstr(&o, ev->route);
    key(&o, "channel", 0);
    json_cstr(&o, ev->channel);
    key(&o, "locale", 0);
    json_cstr(&o, ev->locale);
    key(&o, "labels", 0);
    RG__OUT_LIT(&o, "{");
    int first = 1;
    for (size_t i = 0; ev->labels && i < ev->label_count; i++) {
        if (!ev->labels[i].key)
            continue;
        if (!first)
            RG__OUT_LIT(&o, ",");
        first = 0;
        json_cstr(&o, ev->labels[i].key);
        RG__OUT_LIT(&o, ":");
        json_cstr(&o, ev->labels[i].value);
    }
    RG__OUT_LIT(&o, "}");
    key(&o, "verdict", 0);
    json_cstr(&o, rg_verdict_name(ev->verdict));
    key(&o, "status", 0);
    json_cstr(&o, rg_status_name(ev->status));
    key(&o, "flags", 0);
    RG__OUT_LIT(&o, "[");
    first = 1;
    for (unsigned i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(ev->flags & (1u << i)))
            continue;
        if (!first)
            RG__OUT_LIT(&o, ",");
        first = 0;
        json_cstr(&o, flag_names[i]);
    }
    RG__OUT_LIT(&o, "]");
    key(&o, "elapsed_ns", 0);
    rg__out_u64(&o, ev->elapsed_ns);
    key(&o, "policy", 0);
    RG__OUT_LIT(&o, "{");
    key(&o, "version", 1);
    json_cstr(&o, ev->policy_version);
    key(&o, "hash", 0);
    json_cstr(&o, ev->policy_hash);
    RG__OUT_LIT(&o, "}");
    key(&o, "reply_bytes", 0);
    rg__out_u64(&o, ev->reply_len);

    key(&o, "categories", 0);
    RG__OUT_LIT(&o, "[");
    for (size_t i = 0; ev->categories && i < ev->category_count; i++) {
        const rg_category_score *c = &ev->categories[i];
        rg__out_puts(&o, i ? ",{" : "{");
        key(&o, "category", 1);
        json_cstr(&o, c->category);
        key(&o, "score", 0);
        json_num(&o, c->score);
        key(&o, "verdict", 0);
        json_cstr(&o, rg_verdict_name(c->verdict));
        key(&o, "redact", 0);
        rg__out_puts(&o, c->redact ? "true" : "false");
        if (c->shadow_score != c->score) {
            key(&o, "shadow_score", 0);
            json_num(&o, c->shadow_score);
        }
        RG__OUT_LIT(&o, "}");
    }
    RG__OUT_LIT(&o, "]");

    key(&o, "reasons", 0);
    RG__OUT_LIT(&o, "[");
    for (size_t i = 0; ev->reasons && i < ev->reason_count; i++) {
        const rg_reason *r = &ev->reasons[i];
        rg__out_puts(&o, i ? ",{" : "{");
        key(&o, "category", 1);
        json_cstr(&o, r->category);
        key(&o, "rule", 0);
        json_cstr(&o, r->rule);
        key(&o, "route", 0);
        json_cstr(&o, r->route);
        key(&o, "action", 0);
        json_cstr(&o, r->action);
        key(&o, "score", 0);
        json_num(&o, r->score);
        key(&o, "threshold", 0);
        json_num(&o, r->threshold);
        rg__out_puts(&o, r->shadow ? ",\"shadow\":true}" : "}");
    }
    RG__OUT_LIT(&o, "]");

    key(&o, "hits", 0);
    RG__OUT_LIT(&o, "[");
    for (size_t i = 0; ev->hits && i < ev->hit_count; i++) {
        const rg_hit *h = &ev->hits[i];
        rg__out_puts(&o, i ? ",{" : "{");
        key(&o, "detector", 1);
        json_cstr(&o, h->detector);
        key(&o, "category", 0);
        json_cstr(&o, h->category);
        key(&o, "start", 0);
        rg__out_u64(&o, h->start);
        key(&o, "end", 0);
        rg__out_u64(&o, h->end);
        key(&o, "score", 0);
        json_num(&o, h->score);
        /* Shadow findings and other texts are marked only when present:
         * lines stay short. */
        if (h->source == RG_SOURCE_USER)
            RG__OUT_LIT(&o, ",\"source\":\"user_message\"");
        else if (h->source == RG_SOURCE_CONVERSATION)
            RG__OUT_LIT(&o, ",\"source\":\"conversation\"");
        rg__out_puts(&o, h->shadow ? ",\"shadow\":true}" : "}");
    }
    RG__OUT_LIT(&o, "]");
    if (ev->redacted) {
        key(&o, "redacted", 0);
        json_str(&o, ev->redacted, ev->redacted_len);
    }
    RG__OUT_LIT(&o, "}\n");
    return rg__out_finish(&o, len);
}
