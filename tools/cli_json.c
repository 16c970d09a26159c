/*
 * cli_json.c — a growable output buffer and a small JSON writer.
 *
 * The batch output is written by hand rather than by building jansson
 * trees and dumping them: it is the hot path of `batch` (one object per
 * line at 100k+ lines/s), and writing it directly also lets every string
 * be repaired to valid UTF-8 on the way out (jansson refuses to encode
 * invalid UTF-8, and replies are untrusted bytes).
 */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ------------------------------------------------------------ */

void cli_buf_free(cli_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int buf_reserve(cli_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void cli_buf_put(cli_buf *b, const void *data, size_t n)
{
    if (n == 0 || buf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void cli_buf_puts(cli_buf *b, const char *s)
{
    cli_buf_put(b, s, strlen(s));
}

void cli_buf_putc(cli_buf *b, char c)
{
    if (buf_reserve(b, 1) != 0)
        return;
    b->p[b->len++] = c;
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        cli_buf_put(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int cli_buf_flush(cli_buf *b, FILE *f)
{
    int rc = 0;
    if (b->len && fwrite(b->p, 1, b->len, f) != b->len)
        rc = -1;
    b->len = 0;
    return rc;
}

/* ---- UTF-8 ------------------------------------------------------------- */

size_t cli_utf8_seq(const unsigned char *s, size_t n, int *valid)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *valid = 1;
        return 1;
    }
    /* Second-byte ranges exclude overlong forms, surrogates and code
     * points above U+10FFFF (Unicode Table 3-7). */
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c == 0xE0)
        need = 2, lo = 0xA0;
    else if (c == 0xED)
        need = 2, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF)
        need = 2;
    else if (c == 0xF0)
        need = 3, lo = 0x90;
    else if (c == 0xF4)
        need = 3, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3)
        need = 3;
    else {
        *valid = 0;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *valid = 0;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    *valid = 1;
    return need + 1;
}

/* ---- JSON values ------------------------------------------------------- */

void cli_json_str(cli_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0; /* s[run..i) is copied verbatim */
    cli_buf_putc(b, '"');
    while (i < n) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            int valid;
            size_t k = cli_utf8_seq(s + i, n - i, &valid);
            if (valid) {
                i += k;
                continue;
            }
            cli_buf_put(b, s + run, i - run);
            cli_buf_put(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            i += k;
            run = i;
            continue;
        }
        cli_buf_put(b, s + run, i - run);
        switch (c) {
        case '"': cli_buf_put(b, "\\\"", 2); break;
        case '\\': cli_buf_put(b, "\\\\", 2); break;
        case '\n': cli_buf_put(b, "\\n", 2); break;
        case '\r': cli_buf_put(b, "\\r", 2); break;
        case '\t': cli_buf_put(b, "\\t", 2); break;
        case '\b': cli_buf_put(b, "\\b", 2); break;
        case '\f': cli_buf_put(b, "\\f", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            cli_buf_put(b, u, 6);
        }
        }
        i++;
        run = i;
    }
    cli_buf_put(b, s + run, i - run);
    cli_buf_putc(b, '"');
}

void cli_json_cstr(cli_buf *b, const char *s)
{
    if (s)
        cli_json_str(b, s, strlen(s));
    else
        cli_buf_puts(b, "null");
}

void cli_json_num(cli_buf *b, double v)
{
    if (!isfinite(v))
        cli_buf_puts(b, "null");
    else
        cli_buf_printf(b, "%.6g", v);
}

void cli_json_id(cli_buf *b, const json_t *id)
{
    if (json_is_string(id))
        cli_json_str(b, json_string_value(id), json_string_length(id));
    else if (json_is_integer(id))
        cli_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else if (json_is_real(id) && isfinite(json_real_value(id)))
        cli_buf_printf(b, "%.17g", json_real_value(id));
    else
        cli_buf_puts(b, "null");
}

/* ---- results ----------------------------------------------------------- */

static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {RG_FLAG_BUDGET_EXCEEDED, "budget_exceeded"},
    {RG_FLAG_OVERSIZE, "oversize"},
    {RG_FLAG_ENGINE_ERROR, "engine_error"},
    {RG_FLAG_FAILSAFE, "failsafe"},
    {RG_FLAG_INVALID_UTF8, "invalid_utf8"},
    {RG_FLAG_HITS_TRUNCATED, "hits_truncated"},
    {RG_FLAG_REDACTED, "redacted"},
    {RG_FLAG_SHADOW, "shadow"},
    {RG_FLAG_RELEASED_UNMASKED, "released_unmasked"},
};

void cli_flag_names(cli_buf *b, unsigned flags, const char *sep)
{
    int first = 1;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(flags & flag_names[i].flag))
            continue;
        if (!first)
            cli_buf_puts(b, sep);
        cli_buf_puts(b, flag_names[i].name);
        first = 0;
    }
}

/* The hits of a result as a JSON array (offsets in the checked text). */
void cli_json_hits(cli_buf *b, const rg_result *r)
{
    cli_buf_putc(b, '[');
    size_t n = rg_result_hit_count(r);
    for (size_t i = 0; i < n; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        if (i)
            cli_buf_putc(b, ',');
        cli_buf_puts(b, "{\"detector\":");
        cli_json_cstr(b, h->detector);
        cli_buf_puts(b, ",\"category\":");
        cli_json_cstr(b, h->category);
        cli_buf_printf(b, ",\"start\":%zu,\"end\":%zu,\"score\":", h->start, h->end);
        cli_json_num(b, h->score);
        if (h->shadow)
            cli_buf_puts(b, ",\"shadow\":true");
        /* Offsets of a hit outside the reply refer to another text
         * (docs/CONVERSATION.md); reply hits keep the old shape. */
        if (h->source == RG_SOURCE_USER)
            cli_buf_puts(b, ",\"source\":\"user_message\"");
        else if (h->source == RG_SOURCE_CONVERSATION)
            cli_buf_puts(b, ",\"source\":\"conversation\"");
        cli_buf_putc(b, '}');
    }
    cli_buf_putc(b, ']');
}

void cli_json_result(cli_buf *b, const json_t *id, const rg_result *r,
                     const char *error)
{
    cli_buf_puts(b, "{\"id\":");
    cli_json_id(b, id);
    cli_buf_puts(b, ",\"verdict\":");
    cli_json_cstr(b, rg_verdict_name(rg_result_verdict(r)));
    cli_buf_puts(b, ",\"route\":");
    cli_json_cstr(b, rg_result_route(r));

    cli_buf_puts(b, ",\"categories\":{");
    size_t n = rg_result_category_count(r);
    for (size_t i = 0; i < n; i++) {
        const rg_category_score *c = rg_result_category(r, i);
        if (i)
            cli_buf_putc(b, ',');
        cli_json_cstr(b, c->category ? c->category : "");
        cli_buf_putc(b, ':');
        cli_json_num(b, c->score);
    }

    cli_buf_puts(b, "},\"hits\":");
    cli_json_hits(b, r);

    cli_buf_puts(b, ",\"reasons\":[");
    n = rg_result_reason_count(r);
    for (size_t i = 0; i < n; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        if (i)
            cli_buf_putc(b, ',');
        cli_buf_puts(b, "{\"category\":");
        cli_json_cstr(b, x->category);
        cli_buf_puts(b, ",\"rule\":");
        cli_json_cstr(b, x->rule);
        cli_buf_puts(b, ",\"route\":");
        cli_json_cstr(b, x->route);
        cli_buf_puts(b, ",\"action\":");
        cli_json_cstr(b, x->action);
        cli_buf_puts(b, ",\"score\":");
        cli_json_num(b, x->score);
        cli_buf_puts(b, ",\"threshold\":");
        cli_json_num(b, x->threshold);
        if (x->shadow)
            cli_buf_puts(b, ",\"shadow\":true");
        cli_buf_putc(b, '}');
    }

    cli_buf_puts(b, "],\"flags\":[");
    unsigned flags = rg_result_flags(r);
    int first = 1;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(flags & flag_names[i].flag))
            continue;
        if (!first)
            cli_buf_putc(b, ',');
        cli_buf_putc(b, '"');
        cli_buf_puts(b, flag_names[i].name);
        cli_buf_putc(b, '"');
        first = 0;
    }

    cli_buf_puts(b, "],\"redacted\":");
    size_t rlen = 0;
    const char *red = rg_result_redacted(r, &rlen);
    if (red)
        cli_json_str(b, red, rlen);
    else
        cli_buf_puts(b, "null");
    if (rg_result_verdict(r) == RG_HANDOFF) {
        /* For the human who takes over (rg_result_handoff_json): already
         * JSON, redacted, never the spans' text. */
        char small[2048];
        size_t need = 0;
        int hs = rg_result_handoff_json(r, small, sizeof small, &need);
        if (hs == RG_OK) {
            cli_buf_puts(b, ",\"handoff_context\":");
            cli_buf_puts(b, small);
        } else if (hs == RG_E_RANGE) {
            char *big = malloc(need + 1);
            if (big && rg_result_handoff_json(r, big, need + 1, NULL) == RG_OK) {
                cli_buf_puts(b, ",\"handoff_context\":");
                cli_buf_puts(b, big);
            }
            free(big);
        }
    }
    if (flags & RG_FLAG_SHADOW) {
        /* Shadow mode (docs/AUTHORING.md): what would have been decided. */
        cli_buf_puts(b, ",\"shadow\":{\"verdict\":");
        cli_json_cstr(b, rg_verdict_name(rg_result_shadow_verdict(r)));
        cli_buf_puts(b, ",\"categories\":{");
        size_t nc = rg_result_category_count(r);
        for (size_t i = 0; i < nc; i++) {
            const rg_category_score *c = rg_result_category(r, i);
            if (i)
                cli_buf_putc(b, ',');
            cli_json_cstr(b, c->category ? c->category : "");
            cli_buf_putc(b, ':');
            cli_json_num(b, c->shadow_score);
        }
        cli_buf_puts(b, "}}");
    }

    cli_buf_printf(b, ",\"elapsed_ns\":%" PRIu64 ",\"policy\":{\"version\":",
                   rg_result_elapsed_ns(r));
    cli_json_cstr(b, rg_result_policy_version(r));
    cli_buf_puts(b, ",\"hash\":");
    cli_json_cstr(b, rg_result_policy_hash(r));
    cli_buf_putc(b, '}');
    if (error) {
        cli_buf_puts(b, ",\"error\":");
        cli_json_cstr(b, error);
    }
    cli_buf_putc(b, '}');
}

void cli_json_error(cli_buf *b, const json_t *id, const char *message)
{
    cli_buf_puts(b, "{\"id\":");
    cli_json_id(b, id);
    cli_buf_puts(b, ",\"error\":");
    cli_json_cstr(b, message);
    cli_buf_putc(b, '}');
}

/* ---- human output helpers ---------------------------------------------- */

void cli_format_ns(char *buf, size_t size, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, size, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, size, "%.1f µs", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, size, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, size, "%.2f s", (double)ns / 1e9);
}

void cli_show_span(cli_buf *b, const char *text, size_t text_len,
                   size_t start, size_t end, size_t max)
{
    if (end > text_len)
        end = text_len;
    if (start > end)
        start = end;
    size_t n = end - start, cut = n;
    if (n > max) {
        /* Back up to a character boundary so the cut itself does not
         * show up as a replacement character. */
        cut = max;
        while (cut > 0 && ((unsigned char)text[start + cut] & 0xC0) == 0x80)
            cut--;
    }
    cli_json_str(b, text + start, cut);
    if (cut < n)
        cli_buf_puts(b, "…");
}
