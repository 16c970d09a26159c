/* handoff.c — the handoff context: what the human who takes a
 * conversation over needs to know, without the customer's raw data
 * (docs/CONVERSATION.md).
 *
 * At check time (rg__conv_result) the result keeps the turn, channel,
 * locale and, only when the verdict is handoff, a short excerpt of the
 * draft with every detected span replaced by "[category]". Rendering the
 * JSON (rg_result_handoff_json) then needs nothing but the result. Span
 * text never appears: triggering hits are given as category placeholders
 * and offsets. */
#include "conv.h"
#include "engine.h"
#include "alloc.h"
#include <stdio.h>
#include <string.h>

static void copy_id(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    if (src)
        for (; src[i] && i + 1 < cap; i++) {
            unsigned char c = (unsigned char)src[i];
            /* Identifiers only; anything else would need escaping later. */
            dst[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
        }
    dst[i] = '\0';
}

void rg__conv_result(rg_scratch *sc, const rg_request *req, const char *reply,
                     size_t n, rg_result *r)
{
    r->turn = (uint32_t)(req->history_count + 1);
    if (req->channel)
        copy_id(r->channel, sizeof r->channel, req->channel);
    if (req->locale)
        copy_id(r->locale, sizeof r->locale, req->locale);
    if (r->verdict != RG_HANDOFF ||
        (r->flags & (RG_FLAG_OVERSIZE | RG_FLAG_BUDGET_EXCEEDED |
                     RG_FLAG_ENGINE_ERROR | RG_FLAG_HITS_TRUNCATED)))
        return;
    /* The reply's own hits come first in the result, sorted by span
     * (check.c); conversation findings follow and are not spans of text
     * worth masking (a loop covers the whole draft). */
    size_t nraw = sc->nraw < r->nhits ? sc->nraw : r->nhits;
    size_t cut = rg__utf8_floor(reply, n, n < RG__EXCERPT_BYTES ? n : RG__EXCERPT_BYTES);
    size_t need = cut + 4;
    for (size_t i = 0; i < nraw; i++)
        if (r->hits[i].start < cut)
            need += strlen(r->hits[i].category) + 2;
    if (need > RG__EXCERPT_CAP)
        return; /* hundreds of tiny spans: no excerpt rather than a long one */
    if (!r->excerpt) {
        /* One fixed buffer per result, on its first handoff: growing it to
         * each longer excerpt made warmed-up checks allocate (bench). */
        r->excerpt = rg__malloc(&r->a, RG__EXCERPT_CAP);
        if (!r->excerpt)
            return; /* no excerpt rather than a failed check */
        r->excerpt_cap = RG__EXCERPT_CAP;
    }
    size_t o = 0, pos = 0;
    int cut_inside = 0;
    for (size_t i = 0; i < nraw; i++) {
        const rg_hit *h = &r->hits[i];
        if (h->start >= cut)
            break;
        if (h->end <= pos)
            continue;
        if (h->start > pos) {
            memcpy(r->excerpt + o, reply + pos, h->start - pos);
            o += h->start - pos;
        }
        if (h->start >= pos) {
            r->excerpt[o++] = '[';
            size_t cl = strlen(h->category);
            memcpy(r->excerpt + o, h->category, cl);
            o += cl;
            r->excerpt[o++] = ']';
        }
        pos = h->end;
        if (pos >= cut) {
            cut_inside = 1;
            break;
        }
    }
    if (!cut_inside && pos < cut) {
        memcpy(r->excerpt + o, reply + pos, cut - pos);
        o += cut - pos;
    }
    if (cut < n) {
        memcpy(r->excerpt + o, "...", 3);
        o += 3;
    }
    r->excerpt[o] = '\0';
    r->excerpt_len = o;
    r->has_excerpt = 1;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

typedef struct jout {
    char *buf;
    size_t size, len;
} jout;

static void put(jout *j, const char *s, size_t n)
{
    if (j->len < j->size) {
        size_t room = j->size - j->len;
        memcpy(j->buf + j->len, s, n < room ? n : room);
    }
    j->len += n;
}

static void puts_(jout *j, const char *s) { put(j, s, strlen(s)); }

static void putf(jout *j, double v)
{
    char t[32];
    int k = snprintf(t, sizeof t, "%.6g", v);
    /* Locale-free: a host that set LC_NUMERIC could print a comma. */
    for (int i = 0; i < k; i++)
        if (t[i] == ',')
            t[i] = '.';
    put(j, t, (size_t)k);
}

static void putu(jout *j, unsigned long long v)
{
    char t[32];
    int k = snprintf(t, sizeof t, "%llu", v);
    put(j, t, (size_t)k);
}

/* A JSON string; bytes that are not valid UTF-8 become U+FFFD. */
static void putstr(jout *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    put(j, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(j, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(j, e, 6);
            i++;
        } else if (c < 0x80) {
            put(j, (const char *)&c, 1);
            i++;
        } else {
            size_t k = rg__utf8_floor(s + i, n - i, n - i < 4 ? n - i : 4);
            /* Length of the sequence starting at i, if valid. */
            size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            if (want && want <= n - i && rg__utf8_is_valid(s + i, want)) {
                put(j, s + i, want);
                i += want;
            } else {
                puts_(j, "\xEF\xBF\xBD");
                i++;
            }
            (void)k;
        }
    }
    put(j, "\"", 1);
}

static void putcs(jout *j, const char *s) { putstr(j, s ? s : "", s ? strlen(s) : 0); }

static const char *source_name(int s)
{
    return s == RG_SOURCE_USER ? "user_message"
         : s == RG_SOURCE_CONVERSATION ? "conversation" : "reply";
}

int rg_result_handoff_json(const rg_result *r, char *buf, size_t size, size_t *len)
{
    if (!r || (!buf && size > 0))
        return RG_E_INVAL;
    jout j = {buf, size > 0 ? size - 1 : 0, 0};
    puts_(&j, "{\"route\":");
    putcs(&j, r->route);
    puts_(&j, ",\"verdict\":");
    putcs(&j, rg_verdict_name(r->verdict));
    puts_(&j, ",\"turn\":");
    putu(&j, r->turn);
    puts_(&j, ",\"channel\":");
    if (r->channel[0])
        putcs(&j, r->channel);
    else
        puts_(&j, "null");
    puts_(&j, ",\"locale\":");
    if (r->locale[0])
        putcs(&j, r->locale);
    else
        puts_(&j, "null");
    puts_(&j, ",\"reasons\":[");
    int first = 1;
    for (size_t i = 0; i < r->nreasons; i++) {
        const rg_reason *rs = &r->reasons[i];
        if (rs->shadow)
            continue;
        puts_(&j, first ? "{" : ",{");
        first = 0;
        puts_(&j, "\"category\":");
        putcs(&j, rs->category);
        puts_(&j, ",\"action\":");
        putcs(&j, rs->action);
        puts_(&j, ",\"score\":");
        putf(&j, rs->score);
        puts_(&j, ",\"threshold\":");
        putf(&j, rs->threshold);
        puts_(&j, ",\"rule\":");
        putcs(&j, rs->rule);
        puts_(&j, "}");
    }
    /* Triggers: the hits of categories whose reason hands off or blocks. */
    puts_(&j, "],\"triggers\":[");
    first = 1;
    size_t ntrig = 0;
    for (size_t i = 0; i < r->nhits && ntrig < 32; i++) {
        const rg_hit *h = &r->hits[i];
        int decisive = 0;
        for (size_t k = 0; k < r->nreasons && !decisive; k++)
            decisive = !r->reasons[k].shadow && !h->shadow &&
                       strcmp(r->reasons[k].action, "redact") != 0 &&
                       strcmp(r->reasons[k].category, h->category) == 0;
        if (!decisive)
            continue;
        ntrig++;
        puts_(&j, first ? "{" : ",{");
        first = 0;
        puts_(&j, "\"detector\":");
        putcs(&j, h->detector);
        puts_(&j, ",\"category\":");
        putcs(&j, h->category);
        puts_(&j, ",\"source\":");
        putcs(&j, source_name(h->source));
        puts_(&j, ",\"start\":");
        putu(&j, h->start);
        puts_(&j, ",\"end\":");
        putu(&j, h->end);
        /* Never the span's text: its category stands in for it. */
        puts_(&j, ",\"span\":\"[");
        put(&j, h->category, strlen(h->category));
        puts_(&j, "]\"}");
    }
    puts_(&j, "],\"flags\":[");
    static const struct { unsigned bit; const char *name; } fl[] = {
        {RG_FLAG_BUDGET_EXCEEDED, "budget_exceeded"}, {RG_FLAG_OVERSIZE, "oversize"},
        {RG_FLAG_ENGINE_ERROR, "engine_error"}, {RG_FLAG_FAILSAFE, "failsafe"},
        {RG_FLAG_INVALID_UTF8, "invalid_utf8"}, {RG_FLAG_HITS_TRUNCATED, "hits_truncated"},
        {RG_FLAG_REDACTED, "redacted"}, {RG_FLAG_SHADOW, "shadow"},
    };
    first = 1;
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        if (!(r->flags & fl[i].bit))
            continue;
        puts_(&j, first ? "\"" : ",\"");
        first = 0;
        puts_(&j, fl[i].name);
        puts_(&j, "\"");
    }
    puts_(&j, "],\"excerpt\":");
    if (r->has_excerpt)
        putstr(&j, r->excerpt, r->excerpt_len);
    else
        puts_(&j, "null");
    puts_(&j, ",\"policy\":{\"version\":");
    putcs(&j, r->version);
    puts_(&j, ",\"hash\":");
    putcs(&j, r->hash);
    puts_(&j, "}}");
    if (size > 0)
        buf[j.len < size - 1 ? j.len : size - 1] = '\0';
    if (len)
        *len = j.len;
    return j.len < size ? RG_OK : RG_E_RANGE;
}
