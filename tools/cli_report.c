/*
 * cli_report.c — `replyguard report AUDIT.jsonl -o report.html`: one
 * self-contained HTML page (inline CSS and SVG, no script, no network)
 * from the audit events `batch --audit` wrote.
 *
 * Slice before aggregating: a healthy average hides the route, channel,
 * persona or language where the agent is failing, so verdict rates are
 * computed per slice (side by side) and per combination of slices (the
 * route × channel grid and the worst combinations), not derived from the
 * totals. Then: top detectors and categories, latency percentiles and
 * histogram, changes over time when the events span more than a day, and
 * the long tail — the replies with the highest scores, shown by ids,
 * categories and spans, with their redacted copies only if the audit holds
 * them (`batch --audit-redacted`). The audit never holds raw reply text,
 * so neither does the page.
 *
 * Every string from the audit is untrusted and HTML-escaped. Memory is a
 * few dozen bytes per event plus the long tail's events.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VERB "report"
#define TAIL_MAX 200
#define SLICE_ROWS 12

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s report [OPTIONS] AUDIT.jsonl\n"
            "Build one self-contained HTML page from the audit events of "
            "'batch --audit'.\n\n"
            "Options:\n"
            "  -o, --output FILE    write the page to FILE (default: stdout)\n"
            "      --title TEXT     page title (default: replyguard audit "
            "report)\n"
            "      --top N          replies in the long tail (default 20, at "
            "most %d)\n"
            "  -h, --help           show this help\n\n"
            "AUDIT.jsonl may be '-' for stdin. Lines that are not audit "
            "events are skipped\n(counted on stderr). Exit status: 0; 2 on a "
            "usage or I/O error.\n",
            CLI_PROG, TAIL_MAX);
}

/* ---- interned names ---------------------------------------------------- */

typedef struct names {
    json_t *index; /* name → integer */
    char **v;
    size_t n, cap;
} names;

static uint32_t intern(names *t, const char *s)
{
    if (!t->index)
        t->index = json_object();
    json_t *i = json_object_get(t->index, s);
    if (i)
        return (uint32_t)json_integer_value(i);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "%s %s: out of memory\n", CLI_PROG, VERB);
            exit(CLI_EXIT_USAGE);
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n] = strdup(s);
    json_object_set_new(t->index, s, json_integer((json_int_t)t->n));
    return (uint32_t)t->n++;
}

static void names_free(names *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    json_decref(t->index);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "%s %s: out of memory\n", CLI_PROG, VERB);
        exit(CLI_EXIT_USAGE);
    }
    return q;
}

/* Grow an array of counters (elem bytes each, zero-filled) to hold n. */
static void grow0(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    *arr = xrealloc(*arr, c * elem);
    memset((char *)*arr + *cap * elem, 0, (c - *cap) * elem);
    *cap = c;
}

/* ---- the events -------------------------------------------------------- */

enum { DIM_ROUTE, DIM_CHANNEL, DIM_PERSONA, DIM_LOCALE, DIM_TENANT, DIM_COUNT };
static const char *const dim_title[DIM_COUNT] = {"Route", "Channel", "Persona",
                                                 "Locale", "Tenant"};

typedef struct ev {
    int64_t t;            /* seconds since the epoch; INT64_MIN unknown */
    uint32_t dim[DIM_COUNT];
    uint8_t verdict;      /* 0..2 */
    uint64_t elapsed_ns;
} ev;

typedef struct tail_ev {
    double score;
    json_t *obj;
} tail_ev;

typedef struct vcount {
    uint64_t n[3];
} vcount;

typedef struct report {
    names dim[DIM_COUNT];
    ev *evs;
    size_t nev, capev;
    names det, cat, version, combo;
    uint64_t *det_events, *det_hits, *det_shadow;
    size_t cap_det, cap_det2, cap_det3;
    uint64_t (*cat_act)[4]; /* none, redact, handoff, block */
    size_t cap_cat;
    vcount *combo_n;
    size_t cap_combo;
    int64_t *ver_first, *ver_last;
    uint64_t *ver_n;
    size_t cap_vf, cap_vl, cap_vn;
    tail_ev tail[TAIL_MAX];
    size_t ntail, top;
    uint64_t flags[8];
    uint64_t errors, with_redacted, skipped, lines;
    int64_t tmin, tmax;
} report;

static const char *const flag_name[8] = {
    "budget_exceeded", "oversize", "engine_error", "failsafe",
    "invalid_utf8", "hits_truncated", "redacted", "shadow"};

static const char *str_or(const json_t *o, const char *key, const char *def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

/* Keep the `top` highest-scoring events (a score of 0 is not a finding). */
static void tail_offer(report *R, double score, json_t *obj)
{
    if (score <= 0 || R->top == 0)
        return;
    if (R->ntail < R->top) {
        R->tail[R->ntail].score = score;
        R->tail[R->ntail++].obj = json_incref(obj);
        return;
    }
    size_t lo = 0;
    for (size_t i = 1; i < R->ntail; i++)
        if (R->tail[i].score < R->tail[lo].score)
            lo = i;
    if (score > R->tail[lo].score) {
        json_decref(R->tail[lo].obj);
        R->tail[lo].score = score;
        R->tail[lo].obj = json_incref(obj);
    }
}

static int add_event(report *R, json_t *o)
{
    const char *verdict = str_or(o, "verdict", NULL);
    const char *route = str_or(o, "route", NULL);
    if (!verdict || !route)
        return -1;
    ev e;
    memset(&e, 0, sizeof e);
    if (!strcmp(verdict, "allow"))
        e.verdict = RG_ALLOW;
    else if (!strcmp(verdict, "handoff"))
        e.verdict = RG_HANDOFF;
    else if (!strcmp(verdict, "block"))
        e.verdict = RG_BLOCK;
    else
        return -1;
    const json_t *labels = json_object_get(o, "labels");
    e.dim[DIM_ROUTE] = intern(&R->dim[DIM_ROUTE], route);
    e.dim[DIM_CHANNEL] = intern(&R->dim[DIM_CHANNEL], str_or(o, "channel", "none"));
    e.dim[DIM_LOCALE] = intern(&R->dim[DIM_LOCALE], str_or(o, "locale", "none"));
    e.dim[DIM_PERSONA] = intern(&R->dim[DIM_PERSONA], str_or(labels, "persona", "none"));
    e.dim[DIM_TENANT] = intern(&R->dim[DIM_TENANT], str_or(labels, "tenant", "none"));
    uint64_t ns;
    const char *t = str_or(o, "time", NULL);
    e.t = t && cli_parse_time(t, &ns) == 0 ? (int64_t)(ns / 1000000000u) : INT64_MIN;
    if (e.t != INT64_MIN) {
        if (e.t < R->tmin)
            R->tmin = e.t;
        if (e.t > R->tmax)
            R->tmax = e.t;
    }
    const json_t *el = json_object_get(o, "elapsed_ns");
    e.elapsed_ns = json_is_integer(el) && json_integer_value(el) > 0
                       ? (uint64_t)json_integer_value(el) : 0;
    if (R->nev == R->capev) {
        R->capev = R->capev ? R->capev * 2 : 1024;
        R->evs = xrealloc(R->evs, R->capev * sizeof *R->evs);
    }
    R->evs[R->nev++] = e;

    const char *status = str_or(o, "status", "OK");
    if (strcmp(status, "OK"))
        R->errors++;
    const json_t *flags = json_object_get(o, "flags");
    size_t i;
    const json_t *v;
    json_array_foreach(flags, i, v) {
        for (int f = 0; f < 8; f++)
            if (json_is_string(v) && !strcmp(json_string_value(v), flag_name[f]))
                R->flags[f]++;
    }
    if (json_is_string(json_object_get(o, "redacted")))
        R->with_redacted++;

    /* policy versions, first and last seen */
    const json_t *pol = json_object_get(o, "policy");
    char vbuf[160];
    snprintf(vbuf, sizeof vbuf, "%s (%.12s)", str_or(pol, "version", "?"),
             str_or(pol, "hash", "?"));
    uint32_t vi = intern(&R->version, vbuf);
    size_t old = R->cap_vn;
    grow0((void **)&R->ver_first, &R->cap_vf, vi + 1, sizeof *R->ver_first);
    grow0((void **)&R->ver_last, &R->cap_vl, vi + 1, sizeof *R->ver_last);
    grow0((void **)&R->ver_n, &R->cap_vn, vi + 1, sizeof *R->ver_n);
    for (size_t k = old; k < R->cap_vn; k++) {
        R->ver_first[k] = INT64_MAX;
        R->ver_last[k] = INT64_MIN;
    }
    R->ver_n[vi]++;
    if (e.t != INT64_MIN) {
        if (e.t < R->ver_first[vi])
            R->ver_first[vi] = e.t;
        if (e.t > R->ver_last[vi])
            R->ver_last[vi] = e.t;
    }

    /* categories by the action each triggered alone; the highest score */
    double best = 0;
    json_array_foreach(json_object_get(o, "categories"), i, v) {
        const char *c = str_or(v, "category", NULL);
        const json_t *sc = json_object_get(v, "score");
        if (!c)
            continue;
        uint32_t ci = intern(&R->cat, c);
        grow0((void **)&R->cat_act, &R->cap_cat, ci + 1, sizeof *R->cat_act);
        const char *cv = str_or(v, "verdict", "allow");
        int act = !strcmp(cv, "block") ? 3 : !strcmp(cv, "handoff") ? 2
                  : json_is_true(json_object_get(v, "redact")) ? 1 : 0;
        double s = json_number_value(sc);
        if (s <= 0 && act == 0)
            continue; /* only a shadow score */
        R->cat_act[ci][act]++;
        if (s > best)
            best = s;
    }
    /* detectors: events with a hit, and hits. A hit scored 0 (a candidate
     * no context word raised) decided nothing: not counted. */
    uint32_t seen[64];
    size_t nseen = 0;
    json_array_foreach(json_object_get(o, "hits"), i, v) {
        const char *d = str_or(v, "detector", NULL);
        if (!d || !(json_number_value(json_object_get(v, "score")) > 0))
            continue;
        uint32_t di = intern(&R->det, d);
        grow0((void **)&R->det_events, &R->cap_det, di + 1, sizeof *R->det_events);
        grow0((void **)&R->det_hits, &R->cap_det2, di + 1, sizeof *R->det_hits);
        grow0((void **)&R->det_shadow, &R->cap_det3, di + 1, sizeof *R->det_shadow);
        R->det_hits[di]++;
        if (json_is_true(json_object_get(v, "shadow")))
            R->det_shadow[di]++;
        size_t k = 0;
        while (k < nseen && seen[k] != di)
            k++;
        if (k == nseen) {
            R->det_events[di]++;
            if (nseen < 64)
                seen[nseen++] = di;
        }
    }
    /* combinations of every slice but tenant */
    char key[1024];
    snprintf(key, sizeof key, "%u\x1f%u\x1f%u\x1f%u", e.dim[DIM_ROUTE],
             e.dim[DIM_CHANNEL], e.dim[DIM_PERSONA], e.dim[DIM_LOCALE]);
    uint32_t k = intern(&R->combo, key);
    grow0((void **)&R->combo_n, &R->cap_combo, k + 1, sizeof *R->combo_n);
    R->combo_n[k].n[e.verdict]++;

    tail_offer(R, best, o);
    return 0;
}

/* ---- HTML and SVG helpers ---------------------------------------------- */

static void esc(cli_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': cli_buf_puts(b, "&amp;"); break;
        case '<': cli_buf_puts(b, "&lt;"); break;
        case '>': cli_buf_puts(b, "&gt;"); break;
        case '"': cli_buf_puts(b, "&quot;"); break;
        case '\'': cli_buf_puts(b, "&#39;"); break;
        default: cli_buf_putc(b, *s);
        }
    }
}

/* At most max bytes of s (cut on a UTF-8 boundary, "…" added), escaped. */
static void esc_short(cli_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        esc(b, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    char *t = strndup(s, max);
    if (t)
        esc(b, t);
    free(t);
    cli_buf_puts(b, "…");
}

/* A label of at most max bytes, cut on a UTF-8 boundary with "…" added:
 * chart labels have a fixed width. out must hold max + 4 bytes. */
static void short_name(char *out, size_t size, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max || max + 4 > size) {
        snprintf(out, size, "%s", s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    memcpy(out, s, max);
    memcpy(out + max, "…", 4); /* 3 bytes + NUL */
}

static const char *const vcolor[3] = {"#2e7d32", "#f0a202", "#c62828"};
static const char *const vname[3] = {"allow", "handoff", "block"};

static double pct(uint64_t a, uint64_t n) { return n ? 100.0 * (double)a / (double)n : 0; }

static void svg_open(cli_buf *b, int w, int h, const char *label)
{
    cli_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                   "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
                   w, h, w, h);
    esc(b, label);
    cli_buf_puts(b, "\">");
}

static void svg_text(cli_buf *b, double x, double y, const char *anchor,
                     const char *cls, const char *s)
{
    cli_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">",
                   x, y, anchor, cls);
    esc(b, s);
    cli_buf_puts(b, "</text>");
}

/* ---- charts ------------------------------------------------------------ */

typedef struct row {
    uint32_t id;
    uint64_t n[3];
    uint64_t total;
} row;

static int by_total_desc(const void *x, const void *y)
{
    const row *a = x, *b = y;
    return a->total < b->total ? 1 : a->total > b->total ? -1 : (a->id > b->id) - (a->id < b->id);
}

/* Verdict shares of one slice dimension: one 100% stacked bar per value. */
static void chart_slice(cli_buf *b, const report *R, int d)
{
    size_t nv = R->dim[d].n;
    row *rows = calloc(nv ? nv : 1, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < nv; i++)
        rows[i].id = (uint32_t)i;
    for (size_t i = 0; i < R->nev; i++) {
        row *r = &rows[R->evs[i].dim[d]];
        r->n[R->evs[i].verdict]++;
        r->total++;
    }
    qsort(rows, nv, sizeof *rows, by_total_desc);
    size_t shown = nv < SLICE_ROWS ? nv : SLICE_ROWS;
    const int W = 380, LW = 88, BW = 172, RH = 24, TOP = 8;
    int h = TOP + (int)shown * RH + 26;
    cli_buf_puts(b, "<div class=\"panel\"><h3>");
    cli_buf_puts(b, dim_title[d]);
    cli_buf_puts(b, "</h3>");
    char label[64];
    snprintf(label, sizeof label, "Verdicts by %s", dim_title[d]);
    svg_open(b, W, h, label);
    for (size_t i = 0; i < shown; i++) {
        const row *r = &rows[i];
        double y = TOP + (double)i * RH;
        char name[64];
        short_name(name, sizeof name, R->dim[d].v[r->id], 14);
        svg_text(b, LW - 6, y + 15, "end", "lbl", name);
        double x = LW;
        for (int v = 0; v < 3; v++) {
            double w = r->total ? BW * (double)r->n[v] / (double)r->total : 0;
            if (w > 0)
                cli_buf_printf(b, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                               "height=\"%d\" fill=\"%s\"><title>%s: %llu "
                               "(%.1f%%)</title></rect>",
                               x, y + 3, w, RH - 6, vcolor[v], vname[v],
                               (unsigned long long)r->n[v], pct(r->n[v], r->total));
            x += w;
        }
        char right[64];
        snprintf(right, sizeof right, "%.1f%% · n=%llu",
                 pct(r->n[1] + r->n[2], r->total), (unsigned long long)r->total);
        svg_text(b, LW + BW + 6, y + 15, "start",
                 pct(r->n[1] + r->n[2], r->total) >= 10 ? "num hot" : "num", right);
    }
    /* legend */
    double ly = TOP + (double)shown * RH + 16;
    for (int v = 0; v < 3; v++) {
        cli_buf_printf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"10\" height=\"10\" "
                       "fill=\"%s\"/>", LW + v * 60, ly - 9, vcolor[v]);
        svg_text(b, LW + v * 60 + 14, ly, "start", "small", vname[v]);
    }
    svg_text(b, LW + BW + 6, ly, "start", "small", "% handoff + block");
    cli_buf_puts(b, "</svg>");
    if (nv > shown)
        cli_buf_printf(b, "<p class=\"note\">%zu more values not shown "
                       "(the smallest).</p>", nv - shown);
    cli_buf_puts(b, "</div>");
    free(rows);
}

/* Red scale for a not-allowed rate, relative to the worst cell. */
static void heat_color(char *out, size_t size, double rate, double max)
{
    double f = max > 0 ? rate / max : 0;
    int r = 255 - (int)(f * (255 - 198));
    int g = 255 - (int)(f * (255 - 40));
    int bl = 255 - (int)(f * (255 - 40));
    snprintf(out, size, "#%02x%02x%02x", r, g, bl);
}

/* Values of a dimension, most checks first: pos[value] = rank. */
static size_t rank_values(const report *R, int d, size_t max, uint32_t *order,
                          uint32_t *pos)
{
    size_t n = R->dim[d].n;
    row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return 0;
    for (size_t i = 0; i < n; i++)
        rows[i].id = (uint32_t)i;
    for (size_t i = 0; i < R->nev; i++)
        rows[R->evs[i].dim[d]].total++;
    qsort(rows, n, sizeof *rows, by_total_desc);
    for (size_t i = 0; i < n; i++) {
        pos[rows[i].id] = (uint32_t)i;
        if (i < max)
            order[i] = rows[i].id;
    }
    free(rows);
    return n < max ? n : max;
}

/* Route × channel: the not-allowed rate of every cell (the 24 busiest
 * routes and 10 busiest channels). */
static void chart_heatmap(cli_buf *b, const report *R)
{
    uint32_t *rord = calloc(R->dim[DIM_ROUTE].n + 1, sizeof *rord);
    uint32_t *rpos = calloc(R->dim[DIM_ROUTE].n + 1, sizeof *rpos);
    uint32_t *cord = calloc(R->dim[DIM_CHANNEL].n + 1, sizeof *cord);
    uint32_t *cpos = calloc(R->dim[DIM_CHANNEL].n + 1, sizeof *cpos);
    size_t nr = rord && rpos ? rank_values(R, DIM_ROUTE, 24, rord, rpos) : 0;
    size_t nc = cord && cpos ? rank_values(R, DIM_CHANNEL, 10, cord, cpos) : 0;
    vcount *cell = calloc(nr * nc + 1, sizeof *cell);
    if (!cell || !nr || !nc) {
        free(cell);
        free(rord);
        free(rpos);
        free(cord);
        free(cpos);
        return;
    }
    for (size_t i = 0; i < R->nev; i++) {
        const ev *e = &R->evs[i];
        uint32_t r = rpos[e->dim[DIM_ROUTE]], c = cpos[e->dim[DIM_CHANNEL]];
        if (r < nr && c < nc)
            cell[r * nc + c].n[e->verdict]++;
    }
    double max = 0;
    for (size_t i = 0; i < nr * nc; i++) {
        uint64_t t = cell[i].n[0] + cell[i].n[1] + cell[i].n[2];
        double r = pct(cell[i].n[1] + cell[i].n[2], t);
        if (t && r > max)
            max = r;
    }
    const int LW = 120, CW = 92, RH = 38, TOP = 26;
    int w = LW + (int)nc * CW + 4, h = TOP + (int)nr * RH + 4;
    svg_open(b, w, h, "Not-allowed rate by route and channel");
    for (size_t c = 0; c < nc; c++)
        svg_text(b, LW + (double)c * CW + CW / 2.0, 16, "middle", "lbl",
                 R->dim[DIM_CHANNEL].v[cord[c]]);
    for (size_t r = 0; r < nr; r++) {
        double y = TOP + (double)r * RH;
        char name[64];
        short_name(name, sizeof name, R->dim[DIM_ROUTE].v[rord[r]], 18);
        svg_text(b, LW - 8, y + RH / 2.0 + 4, "end", "lbl", name);
        for (size_t c = 0; c < nc; c++) {
            const vcount *v = &cell[r * nc + c];
            uint64_t t = v->n[0] + v->n[1] + v->n[2];
            double x = LW + (double)c * CW;
            char col[16], txt[48];
            double rate = pct(v->n[1] + v->n[2], t);
            if (t)
                heat_color(col, sizeof col, rate, max);
            else
                snprintf(col, sizeof col, "#f4f4f4");
            cli_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
                           "fill=\"%s\" stroke=\"#fff\" stroke-width=\"2\"><title>%llu "
                           "checks, %.1f%% handoff or block</title></rect>",
                           x, y, CW, RH, col, (unsigned long long)t, rate);
            if (t) {
                snprintf(txt, sizeof txt, "%.1f%%", rate);
                svg_text(b, x + CW / 2.0, y + 17, "middle",
                         rate > max * 0.6 ? "cell hotc" : "cell", txt);
                snprintf(txt, sizeof txt, "n=%llu", (unsigned long long)t);
                svg_text(b, x + CW / 2.0, y + 31, "middle",
                         rate > max * 0.6 ? "small hotc" : "small", txt);
            } else {
                svg_text(b, x + CW / 2.0, y + 23, "middle", "small", "–");
            }
        }
    }
    cli_buf_puts(b, "</svg>");
    free(cell);
    free(rord);
    free(rpos);
    free(cord);
    free(cpos);
}

typedef struct combo_row {
    uint32_t k;
    uint64_t total, bad;
    double rate;
} combo_row;

static int by_rate_desc(const void *x, const void *y)
{
    const combo_row *a = x, *b = y;
    if (a->rate != b->rate)
        return a->rate < b->rate ? 1 : -1;
    return a->total < b->total ? 1 : a->total > b->total ? -1 : 0;
}

/* The combinations (route, channel, persona, locale) with the highest
 * not-allowed rates among those with enough checks to mean something. */
static void table_worst(cli_buf *b, const report *R, uint64_t all_bad)
{
    size_t n = R->combo.n;
    combo_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return;
    uint64_t min_n = R->nev / 200 > 5 ? R->nev / 200 : 5;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const vcount *v = &R->combo_n[i];
        uint64_t t = v->n[0] + v->n[1] + v->n[2];
        if (t < min_n)
            continue;
        rows[k].k = (uint32_t)i;
        rows[k].total = t;
        rows[k].bad = v->n[1] + v->n[2];
        rows[k].rate = pct(rows[k].bad, t);
        k++;
    }
    qsort(rows, k, sizeof *rows, by_rate_desc);
    double overall = pct(all_bad, R->nev);
    cli_buf_printf(b, "<table class=\"grid\"><thead><tr><th>route</th><th>channel</th>"
                   "<th>persona</th><th>locale</th><th class=\"r\">checks</th>"
                   "<th class=\"r\">handoff + block</th><th class=\"r\">vs. overall "
                   "%.1f%%</th></tr></thead><tbody>", overall);
    for (size_t i = 0; i < k && i < 12; i++) {
        unsigned dr, dc, dp, dl;
        if (sscanf(R->combo.v[rows[i].k], "%u\x1f%u\x1f%u\x1f%u", &dr, &dc, &dp, &dl) != 4)
            continue;
        cli_buf_puts(b, "<tr><td>");
        esc(b, R->dim[DIM_ROUTE].v[dr]);
        cli_buf_puts(b, "</td><td>");
        esc(b, R->dim[DIM_CHANNEL].v[dc]);
        cli_buf_puts(b, "</td><td>");
        esc(b, R->dim[DIM_PERSONA].v[dp]);
        cli_buf_puts(b, "</td><td>");
        esc(b, R->dim[DIM_LOCALE].v[dl]);
        double ratio = overall > 0 ? rows[i].rate / overall : 0;
        cli_buf_printf(b, "</td><td class=\"r\">%llu</td><td class=\"r\">%.1f%%</td>"
                       "<td class=\"r%s\">%.1fx</td></tr>",
                       (unsigned long long)rows[i].total, rows[i].rate,
                       ratio >= 2 ? " hot" : "", ratio);
    }
    if (!k)
        cli_buf_printf(b, "<tr><td colspan=\"7\">No combination has %llu checks "
                       "or more.</td></tr>", (unsigned long long)min_n);
    cli_buf_puts(b, "</tbody></table>");
    cli_buf_printf(b, "<p class=\"note\">Combinations with at least %llu checks, "
                   "highest handoff + block rate first.</p>",
                   (unsigned long long)min_n);
    free(rows);
}

typedef struct bar {
    uint32_t id;
    uint64_t v, w;
} bar;

static int bar_desc(const void *x, const void *y)
{
    const bar *a = x, *b = y;
    return a->v < b->v ? 1 : a->v > b->v ? -1 : (a->id > b->id) - (a->id < b->id);
}

static void chart_detectors(cli_buf *b, const report *R)
{
    size_t n = R->det.n;
    if (!n) {
        cli_buf_puts(b, "<p class=\"note\">No detector fired.</p>");
        return;
    }
    bar *bars = calloc(n, sizeof *bars);
    if (!bars)
        return;
    for (size_t i = 0; i < n; i++) {
        bars[i].id = (uint32_t)i;
        bars[i].v = R->det_events[i];
        bars[i].w = R->det_hits[i];
    }
    qsort(bars, n, sizeof *bars, bar_desc);
    size_t shown = n < 15 ? n : 15;
    const int W = 560, LW = 190, BW = 200, RH = 22;
    int h = (int)shown * RH + 8;
    svg_open(b, W, h, "Top detectors");
    uint64_t max = bars[0].v ? bars[0].v : 1;
    for (size_t i = 0; i < shown; i++) {
        double y = 4 + (double)i * RH;
        char name[64], num[64];
        /* A detector in shadow mode reported but decided nothing. */
        int shadow = R->det_shadow[bars[i].id] == R->det_hits[bars[i].id];
        short_name(name, sizeof name, R->det.v[bars[i].id], shadow ? 21 : 30);
        if (shadow)
            strcat(name, " (shadow)");
        svg_text(b, LW - 6, y + 14, "end", "lbl", name);
        double w = BW * (double)bars[i].v / (double)max;
        cli_buf_printf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
                       "fill=\"#3f51b5\"/>", LW, y + 3, w < 1 ? 1 : w, RH - 6);
        snprintf(num, sizeof num, "%llu replies · %llu hits",
                 (unsigned long long)bars[i].v, (unsigned long long)bars[i].w);
        svg_text(b, LW + w + 6, y + 14, "start", "num", num);
    }
    cli_buf_puts(b, "</svg>");
    free(bars);
}

static const char *const act_color[4] = {"#9e9e9e", "#1e88e5", "#f0a202", "#c62828"};
static const char *const act_name[4] = {"scored only", "redact", "handoff", "block"};

static void chart_categories(cli_buf *b, const report *R)
{
    size_t n = R->cat.n;
    if (!n) {
        cli_buf_puts(b, "<p class=\"note\">No category scored.</p>");
        return;
    }
    bar *bars = calloc(n, sizeof *bars);
    if (!bars)
        return;
    for (size_t i = 0; i < n; i++) {
        bars[i].id = (uint32_t)i;
        for (int a = 0; a < 4; a++)
            bars[i].v += R->cat_act[i][a];
    }
    qsort(bars, n, sizeof *bars, bar_desc);
    size_t shown = n < 15 ? n : 15;
    const int W = 520, LW = 170, BW = 250, RH = 22;
    int h = (int)shown * RH + 30;
    svg_open(b, W, h, "Top categories by action");
    uint64_t max = bars[0].v ? bars[0].v : 1;
    for (size_t i = 0; i < shown; i++) {
        double y = 4 + (double)i * RH;
        char name[64], num[32];
        short_name(name, sizeof name, R->cat.v[bars[i].id], 28);
        svg_text(b, LW - 6, y + 14, "end", "lbl", name);
        double x = LW;
        for (int a = 0; a < 4; a++) {
            uint64_t c = R->cat_act[bars[i].id][a];
            double w = BW * (double)c / (double)max;
            if (c)
                cli_buf_printf(b, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                               "height=\"%d\" fill=\"%s\"><title>%s: %llu</title></rect>",
                               x, y + 3, w, RH - 6, act_color[a], act_name[a],
                               (unsigned long long)c);
            x += w;
        }
        snprintf(num, sizeof num, "%llu", (unsigned long long)bars[i].v);
        svg_text(b, x + 6, y + 14, "start", "num", num);
    }
    double ly = (double)shown * RH + 22;
    for (int a = 0; a < 4; a++) {
        cli_buf_printf(b, "<rect x=\"%d\" y=\"%.1f\" width=\"10\" height=\"10\" "
                       "fill=\"%s\"/>", LW + a * 82, ly - 9, act_color[a]);
        svg_text(b, LW + a * 82 + 14, ly, "start", "small", act_name[a]);
    }
    cli_buf_puts(b, "</svg>");
    free(bars);
}

static int u64cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static void fmt_ns(char *out, size_t size, double ns)
{
    if (ns < 1000)
        snprintf(out, size, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(out, size, "%.1f µs", ns / 1e3);
    else if (ns < 1e9)
        snprintf(out, size, "%.2f ms", ns / 1e6);
    else
        snprintf(out, size, "%.2f s", ns / 1e9);
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t pctl(const uint64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    return v[k ? k - 1 : 0];
}

static const double pcts[] = {50, 90, 99, 99.9};

static void latency_row(cli_buf *b, const char *name, uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, u64cmp);
    cli_buf_puts(b, "<tr><td>");
    esc(b, name);
    cli_buf_printf(b, "</td><td class=\"r\">%zu</td>", n);
    char t[32];
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        fmt_ns(t, sizeof t, (double)pctl(v, n, pcts[i]));
        cli_buf_printf(b, "<td class=\"r\">%s</td>", t);
    }
    fmt_ns(t, sizeof t, n ? (double)v[n - 1] : 0);
    cli_buf_printf(b, "<td class=\"r\">%s</td></tr>", t);
}

static void section_latency(cli_buf *b, const report *R)
{
    uint64_t *all = xrealloc(NULL, (R->nev ? R->nev : 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < R->nev; i++)
        if (R->evs[i].elapsed_ns)
            all[n++] = R->evs[i].elapsed_ns;
    cli_buf_puts(b, "<table class=\"grid\"><thead><tr><th>route</th><th class=\"r\">"
                    "checks</th><th class=\"r\">p50</th><th class=\"r\">p90</th>"
                    "<th class=\"r\">p99</th><th class=\"r\">p99.9</th><th "
                    "class=\"r\">max</th></tr></thead><tbody>");
    uint64_t *one = xrealloc(NULL, (R->nev ? R->nev : 1) * sizeof *one);
    for (size_t r = 0; r < R->dim[DIM_ROUTE].n; r++) {
        size_t k = 0;
        for (size_t i = 0; i < R->nev; i++)
            if (R->evs[i].dim[DIM_ROUTE] == r && R->evs[i].elapsed_ns)
                one[k++] = R->evs[i].elapsed_ns;
        if (k)
            latency_row(b, R->dim[DIM_ROUTE].v[r], one, k);
    }
    free(one);
    latency_row(b, "all routes", all, n);
    cli_buf_puts(b, "</tbody></table>");
    if (!n) {
        free(all);
        return;
    }
    /* Histogram: 5 log-spaced bins per decade. */
    const int PER = 5;
    double lo = floor(log10((double)all[0]) * PER) / PER;
    double hi = ceil(log10((double)all[n - 1]) * PER + 1e-9) / PER;
    if (hi <= lo)
        hi = lo + 1.0 / PER;
    int nb = (int)lround((hi - lo) * PER);
    if (nb > 60)
        nb = 60;
    uint64_t cnt[60] = {0}, max = 1;
    for (size_t i = 0; i < n; i++) {
        int k = (int)floor((log10((double)all[i]) - lo) * PER);
        if (k < 0)
            k = 0;
        if (k >= nb)
            k = nb - 1;
        if (++cnt[k] > max)
            max = cnt[k];
    }
    const int W = 760, H = 230, L = 50, B = 36, T = 12, PW = W - L - 34, PH = H - B - T;
    svg_open(b, W, H, "Latency histogram");
    double bw = (double)PW / nb;
    for (int k = 0; k < nb; k++) {
        double h = (double)PH * (double)cnt[k] / (double)max;
        char lo_s[32], hi_s[32];
        fmt_ns(lo_s, sizeof lo_s, pow(10, lo + (double)k / PER));
        fmt_ns(hi_s, sizeof hi_s, pow(10, lo + (double)(k + 1) / PER));
        cli_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                       "fill=\"#5c6bc0\"><title>%s – %s: %llu</title></rect>",
                       L + k * bw + 1, T + PH - h, bw - 2 > 1 ? bw - 2 : 1, h,
                       lo_s, hi_s, (unsigned long long)cnt[k]);
    }
    cli_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>",
                   L, T + PH, L + PW, T + PH);
    for (int d = (int)ceil(lo - 1e-9); d <= (int)floor(hi + 1e-9); d++) {
        double x = L + (d - lo) * PER * bw;
        char s[32];
        fmt_ns(s, sizeof s, pow(10, d));
        cli_buf_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"axis\"/>",
                       x, T + PH, x, T + PH + 5);
        svg_text(b, x, T + PH + 18, "middle", "small", s);
    }
    static const double marks[3] = {50, 90, 99};
    for (size_t i = 0; i < 3; i++) {
        uint64_t v = pctl(all, n, marks[i]);
        double x = L + (log10((double)v) - lo) * PER * bw;
        char s[48], t[32];
        fmt_ns(t, sizeof t, (double)v);
        snprintf(s, sizeof s, "%s %s", i == 0 ? "p50" : i == 1 ? "p90" : "p99", t);
        cli_buf_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                       "class=\"mark\"/>", x, T, x, T + PH);
        svg_text(b, x + 4, T + 12 + 13.0 * (double)i, "start", "small", s);
    }
    char ymax[32];
    snprintf(ymax, sizeof ymax, "%llu", (unsigned long long)max);
    svg_text(b, L - 6, T + 10, "end", "small", ymax);
    svg_text(b, L - 6, T + PH, "end", "small", "0");
    svg_text(b, L + PW / 2.0, H - 4, "middle", "small", "check wall time (log scale)");
    cli_buf_puts(b, "</svg>");
    free(all);
}

static const char *const palette[] = {"#1e88e5", "#c62828", "#2e7d32", "#8e24aa",
                                      "#f0a202", "#00897b", "#6d4c41", "#546e7a"};

static void day_label(char *out, size_t size, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, size, "%b %d", &tm);
}

/* Changes over time: daily (weekly past 90 days) volume by verdict and
 * the not-allowed rate per route. */
static void section_time(cli_buf *b, const report *R)
{
    if (R->tmax < R->tmin || R->tmax - R->tmin <= 86400) {
        cli_buf_puts(b, "<p class=\"note\">The events span one day or less: no "
                        "trend to show.</p>");
        return;
    }
    int64_t step = R->tmax - R->tmin > 90 * 86400 ? 7 * 86400 : 86400;
    int64_t t0 = R->tmin - R->tmin % 86400;
    size_t nb = (size_t)((R->tmax - t0) / step) + 1;
    if (nb > 400)
        nb = 400;
    size_t nr = R->dim[DIM_ROUTE].n < 8 ? R->dim[DIM_ROUTE].n : 8;
    vcount *vol = calloc(nb, sizeof *vol);
    vcount *per = calloc(nb * (nr ? nr : 1), sizeof *per);
    if (!vol || !per) {
        free(vol);
        free(per);
        return;
    }
    for (size_t i = 0; i < R->nev; i++) {
        const ev *e = &R->evs[i];
        if (e->t == INT64_MIN)
            continue;
        size_t k = (size_t)((e->t - t0) / step);
        if (k >= nb)
            k = nb - 1;
        vol[k].n[e->verdict]++;
        if (e->dim[DIM_ROUTE] < nr)
            per[k * nr + e->dim[DIM_ROUTE]].n[e->verdict]++;
    }
    uint64_t max = 1;
    for (size_t k = 0; k < nb; k++) {
        uint64_t t = vol[k].n[0] + vol[k].n[1] + vol[k].n[2];
        if (t > max)
            max = t;
    }
    const int W = 760, H = 220, L = 50, B = 30, T = 10, PW = W - L - 16, PH = H - B - T;
    double bw = (double)PW / (double)nb;
    size_t every = nb / 12 + 1;
    char lab[32];
    cli_buf_printf(b, "<h3>Checks per %s, by verdict</h3>", step == 86400 ? "day" : "week");
    svg_open(b, W, H, "Checks over time by verdict");
    for (size_t k = 0; k < nb; k++) {
        double y = T + PH, x = L + (double)k * bw;
        uint64_t t = vol[k].n[0] + vol[k].n[1] + vol[k].n[2];
        day_label(lab, sizeof lab, t0 + (int64_t)k * step);
        for (int v = 0; v < 3; v++) {
            double h = (double)PH * (double)vol[k].n[v] / (double)max;
            y -= h;
            if (h > 0)
                cli_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                               "height=\"%.2f\" fill=\"%s\"><title>%s: %s %llu of "
                               "%llu</title></rect>",
                               x + 1, y, bw - 2 > 1 ? bw - 2 : 1, h, vcolor[v], lab,
                               vname[v], (unsigned long long)vol[k].n[v],
                               (unsigned long long)t);
        }
        if (k % every == 0)
            svg_text(b, x + bw / 2, T + PH + 16, "middle", "small", lab);
    }
    snprintf(lab, sizeof lab, "%llu", (unsigned long long)max);
    svg_text(b, L - 6, T + 10, "end", "small", lab);
    svg_text(b, L - 6, T + PH, "end", "small", "0");
    cli_buf_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>",
                   L, T + PH, L + PW, T + PH);
    cli_buf_puts(b, "</svg>");

    /* rate per route */
    double rmax = 1;
    for (size_t k = 0; k < nb * nr; k++) {
        uint64_t t = per[k].n[0] + per[k].n[1] + per[k].n[2];
        double r = pct(per[k].n[1] + per[k].n[2], t);
        if (t && r > rmax)
            rmax = r;
    }
    /* four gridlines at a round step: 1, 2, 2.5, 5 or 10 times a power of 10 */
    double raw = rmax / 4, p10 = pow(10, floor(log10(raw))), tick = p10;
    static const double nice[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < 5; i++)
        if (nice[i] * p10 >= raw) {
            tick = nice[i] * p10;
            break;
        }
    rmax = 4 * tick;
    cli_buf_printf(b, "<h3>Handoff + block rate per %s, by route</h3>",
                   step == 86400 ? "day" : "week");
    svg_open(b, W, H + 20, "Not-allowed rate over time by route");
    for (int g = 0; g <= 4; g++) {
        double y = T + PH - PH * g / 4.0;
        snprintf(lab, sizeof lab, "%g%%", rmax * g / 4.0);
        cli_buf_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                       "class=\"gridl\"/>", L, y, L + PW, y);
        svg_text(b, L - 6, y + 4, "end", "small", lab);
    }
    for (size_t r = 0; r < nr; r++) {
        cli_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                       palette[r % 8]);
        for (size_t k = 0; k < nb; k++) {
            const vcount *v = &per[k * nr + r];
            uint64_t t = v->n[0] + v->n[1] + v->n[2];
            if (!t)
                continue;
            double x = L + ((double)k + 0.5) * bw;
            double y = T + PH - PH * pct(v->n[1] + v->n[2], t) / rmax;
            cli_buf_printf(b, "%.1f,%.1f ", x, y);
        }
        cli_buf_puts(b, "\"/>");
        for (size_t k = 0; k < nb; k++) {
            const vcount *v = &per[k * nr + r];
            uint64_t t = v->n[0] + v->n[1] + v->n[2];
            if (!t)
                continue;
            double x = L + ((double)k + 0.5) * bw;
            double y = T + PH - PH * pct(v->n[1] + v->n[2], t) / rmax;
            day_label(lab, sizeof lab, t0 + (int64_t)k * step);
            cli_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                           "<title>", x, y, palette[r % 8]);
            esc(b, R->dim[DIM_ROUTE].v[r]);
            cli_buf_printf(b, ", %s: %.1f%% of %llu</title></circle>", lab,
                           pct(v->n[1] + v->n[2], t), (unsigned long long)t);
        }
    }
    for (size_t k = 0; k < nb; k += every) {
        day_label(lab, sizeof lab, t0 + (int64_t)k * step);
        svg_text(b, L + ((double)k + 0.5) * bw, T + PH + 16, "middle", "small", lab);
    }
    for (size_t r = 0; r < nr; r++) {
        double x = L + (double)r * 120;
        cli_buf_printf(b, "<rect x=\"%.1f\" y=\"%d\" width=\"14\" height=\"4\" "
                       "fill=\"%s\"/>", x, H + 6, palette[r % 8]);
        char name[40];
        short_name(name, sizeof name, R->dim[DIM_ROUTE].v[r], 16);
        svg_text(b, x + 18, H + 11, "start", "small", name);
    }
    cli_buf_puts(b, "</svg>");
    free(vol);
    free(per);
}

static int tail_desc(const void *x, const void *y)
{
    const tail_ev *a = x, *b = y;
    return a->score < b->score ? 1 : a->score > b->score ? -1 : 0;
}

static void section_tail(cli_buf *b, report *R)
{
    qsort(R->tail, R->ntail, sizeof *R->tail, tail_desc);
    if (!R->ntail) {
        cli_buf_puts(b, "<p class=\"note\">No reply scored in any category.</p>");
        return;
    }
    if (!R->with_redacted)
        cli_buf_puts(b, "<p class=\"note\">This audit holds no redacted copies "
                        "(<code>batch --audit-redacted</code> opts in), so replies "
                        "are shown by ids, categories and spans only.</p>");
    cli_buf_puts(b, "<table class=\"grid tail\"><thead><tr><th>score</th><th>id · "
                    "time</th><th>slice</th><th>verdict</th><th>categories</th>"
                    "<th>detectors and spans</th></tr></thead><tbody>");
    for (size_t i = 0; i < R->ntail; i++) {
        json_t *o = R->tail[i].obj;
        const json_t *labels = json_object_get(o, "labels");
        const char *verdict = str_or(o, "verdict", "?");
        cli_buf_printf(b, "<tr><td class=\"r\">%.2f</td><td>", R->tail[i].score);
        const json_t *id = json_object_get(o, "id");
        cli_buf idb = {0};
        if (json_is_string(id))
            cli_buf_puts(&idb, json_string_value(id));
        else if (id)
            cli_json_id(&idb, id);
        cli_buf_putc(&idb, '\0');
        if (!idb.oom && id && !json_is_null(id)) {
            cli_buf_puts(b, "<code>");
            esc_short(b, idb.p, 60);
            cli_buf_puts(b, "</code><br>");
        }
        cli_buf_free(&idb);
        cli_buf_puts(b, "<span class=\"small\">");
        esc(b, str_or(o, "time", ""));
        cli_buf_puts(b, "</span></td><td>");
        esc(b, str_or(o, "route", "?"));
        cli_buf_puts(b, " · ");
        esc(b, str_or(o, "channel", "none"));
        cli_buf_puts(b, "<br><span class=\"small\">");
        esc(b, str_or(labels, "persona", "–"));
        cli_buf_puts(b, " · ");
        esc(b, str_or(labels, "tenant", "–"));
        cli_buf_puts(b, " · ");
        esc(b, str_or(o, "locale", "–"));
        const char *conv = str_or(labels, "conversation_id", NULL);
        if (conv) {
            cli_buf_puts(b, " · ");
            esc_short(b, conv, 40);
        }
        cli_buf_printf(b, "</span></td><td><span class=\"pill %s\">", verdict);
        esc(b, verdict);
        cli_buf_puts(b, "</span></td><td>");
        size_t k;
        const json_t *v;
        json_array_foreach(json_object_get(o, "categories"), k, v) {
            cli_buf_puts(b, k ? "<br>" : "");
            esc(b, str_or(v, "category", "?"));
            cli_buf_printf(b, " <span class=\"small\">%.2f</span>",
                           json_number_value(json_object_get(v, "score")));
        }
        cli_buf_puts(b, "</td><td>");
        size_t shown = 0;
        json_array_foreach(json_object_get(o, "hits"), k, v) {
            if (shown++ == 6) {
                cli_buf_printf(b, "<br><span class=\"small\">+%zu more</span>",
                               json_array_size(json_object_get(o, "hits")) - 6);
                break;
            }
            cli_buf_puts(b, k ? "<br>" : "");
            cli_buf_puts(b, "<code>");
            esc(b, str_or(v, "detector", "?"));
            cli_buf_printf(b, "</code> <span class=\"small\">[%lld,%lld) %.2f</span>",
                           (long long)json_integer_value(json_object_get(v, "start")),
                           (long long)json_integer_value(json_object_get(v, "end")),
                           json_number_value(json_object_get(v, "score")));
        }
        const char *red = str_or(o, "redacted", NULL);
        if (red) {
            cli_buf_puts(b, "<div class=\"redacted\">");
            esc_short(b, red, 400);
            cli_buf_puts(b, "</div>");
        }
        cli_buf_puts(b, "</td></tr>");
    }
    cli_buf_puts(b, "</tbody></table>");
}

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,"
    "sans-serif;margin:0;background:#f6f7f9;color:#1d2330}"
    "header{background:#1d2330;color:#fff;padding:18px 28px}"
    "header h1{margin:0;font-size:22px;font-weight:600}"
    "header p{margin:4px 0 0;color:#c5cad6;font-size:13px}"
    "main{padding:8px 28px 40px;max-width:1400px}"
    "section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;"
    "padding:14px 18px;margin:16px 0}"
    "h2{font-size:17px;margin:0 0 4px}h3{font-size:14px;margin:10px 0 4px;color:#424a5c}"
    ".lead{color:#5b6477;margin:0 0 10px;font-size:13px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:10px 16px;"
    "min-width:120px}.card b{display:block;font-size:22px}"
    ".card span{color:#5b6477;font-size:12px}"
    ".panels{display:flex;flex-wrap:wrap;gap:8px 20px}.panel h3{margin-left:4px}"
    ".two{display:flex;flex-wrap:wrap;gap:8px 40px}"
    "svg text{font-family:inherit}.lbl{font-size:12px;fill:#1d2330}"
    ".num{font-size:11.5px;fill:#424a5c}.hot{fill:#c62828;font-weight:600}"
    ".small{font-size:11px;fill:#5b6477;color:#5b6477}"
    ".cell{font-size:13px;font-weight:600;fill:#1d2330}.hotc{fill:#fff}"
    ".axis{stroke:#9aa1b1;stroke-width:1}.gridl{stroke:#e6e8ee;stroke-width:1}"
    ".mark{stroke:#c62828;stroke-width:1;stroke-dasharray:3 3}"
    "table.grid{border-collapse:collapse;font-size:13px;margin:6px 0}"
    "table.grid th,table.grid td{border-bottom:1px solid #e6e8ee;padding:5px 10px;"
    "text-align:left;vertical-align:top}table.grid th{color:#5b6477;font-weight:600}"
    "td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}td.hot{color:#c62828;"
    "font-weight:600}.note{color:#5b6477;font-size:12.5px;margin:4px 0}"
    ".pill{border-radius:10px;padding:1px 8px;font-size:12px;color:#fff}"
    ".pill.allow{background:#2e7d32}.pill.handoff{background:#f0a202}"
    ".pill.block{background:#c62828}.redacted{margin-top:4px;padding:4px 8px;"
    "background:#f4f5f8;border-left:3px solid #9aa1b1;font-size:12.5px;max-width:560px}"
    "code{font-size:12px}";

static void card(cli_buf *b, const char *value, const char *label)
{
    cli_buf_puts(b, "<div class=\"card\"><b>");
    esc(b, value);
    cli_buf_puts(b, "</b><span>");
    esc(b, label);
    cli_buf_puts(b, "</span></div>");
}

static void render(cli_buf *b, report *R, const char *source, const char *title)
{
    uint64_t v[3] = {0};
    for (size_t i = 0; i < R->nev; i++)
        v[R->evs[i].verdict]++;
    cli_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\">"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                    "'none'; style-src 'unsafe-inline'; img-src data:\"><title>");
    esc(b, title);
    cli_buf_puts(b, "</title><style>");
    cli_buf_puts(b, css);
    cli_buf_puts(b, "</style></head><body><header><h1>");
    esc(b, title);
    cli_buf_puts(b, "</h1><p>");
    esc(b, source);
    char t1[40] = "", t2[40] = "";
    if (R->tmax >= R->tmin) {
        time_t a = (time_t)R->tmin, z = (time_t)R->tmax;
        struct tm tm;
        gmtime_r(&a, &tm);
        strftime(t1, sizeof t1, "%Y-%m-%d %H:%M", &tm);
        gmtime_r(&z, &tm);
        strftime(t2, sizeof t2, "%Y-%m-%d %H:%M", &tm);
        cli_buf_printf(b, " · %s – %s UTC", t1, t2);
    }
    cli_buf_printf(b, " · %zu checks · policy ", R->nev);
    for (size_t i = 0; i < R->version.n; i++) {
        cli_buf_puts(b, i ? ", " : "");
        esc(b, R->version.v[i]);
    }
    cli_buf_puts(b, "</p></header><main>");

    /* summary */
    char s[64];
    cli_buf_puts(b, "<section><div class=\"cards\">");
    snprintf(s, sizeof s, "%zu", R->nev);
    card(b, s, "checks");
    for (int i = 0; i < 3; i++) {
        snprintf(s, sizeof s, "%.1f%%", pct(v[i], R->nev));
        char l[48];
        snprintf(l, sizeof l, "%s (%llu)", vname[i], (unsigned long long)v[i]);
        card(b, s, l);
    }
    snprintf(s, sizeof s, "%llu", (unsigned long long)R->flags[3]);
    card(b, s, "fail-safe verdicts");
    snprintf(s, sizeof s, "%llu", (unsigned long long)R->flags[0]);
    card(b, s, "over budget");
    snprintf(s, sizeof s, "%llu", (unsigned long long)R->flags[1]);
    card(b, s, "oversize");
    snprintf(s, sizeof s, "%llu", (unsigned long long)R->errors);
    card(b, s, "errors");
    snprintf(s, sizeof s, "%llu", (unsigned long long)R->flags[6]);
    card(b, s, "redacted");
    cli_buf_puts(b, "</div></section>");

    cli_buf_puts(b, "<section><h2>Verdicts by slice</h2><p class=\"lead\">Each slice's "
                    "own rates, side by side: an average over all checks can hide the "
                    "route, channel, persona or language where the agent fails.</p>"
                    "<div class=\"panels\">");
    for (int d = 0; d < DIM_COUNT; d++)
        if (d <= DIM_CHANNEL || R->dim[d].n > 1 ||
            (R->dim[d].n == 1 && strcmp(R->dim[d].v[0], "none")))
            chart_slice(b, R, d);
    cli_buf_puts(b, "</div></section>");

    cli_buf_puts(b, "<section><h2>Where it fails</h2><p class=\"lead\">Handoff + block "
                    "rate of every route × channel cell, and the combinations of "
                    "route, channel, persona and locale that fare worst.</p>"
                    "<div class=\"two\"><div>");
    chart_heatmap(b, R);
    cli_buf_puts(b, "</div><div>");
    table_worst(b, R, v[1] + v[2]);
    cli_buf_puts(b, "</div></div></section>");

    cli_buf_puts(b, "<section><h2>What fires</h2><div class=\"two\"><div><h3>Top "
                    "detectors</h3>");
    chart_detectors(b, R);
    cli_buf_puts(b, "</div><div><h3>Top categories, by the action each triggered"
                    "</h3>");
    chart_categories(b, R);
    cli_buf_puts(b, "</div></div></section>");

    cli_buf_puts(b, "<section><h2>Latency</h2><p class=\"lead\">Wall time of each "
                    "check inside the library (<code>elapsed_ns</code>).</p>");
    section_latency(b, R);
    cli_buf_puts(b, "</section>");

    cli_buf_puts(b, "<section><h2>Over time</h2>");
    section_time(b, R);
    cli_buf_puts(b, "<h3>Policy versions</h3><table class=\"grid\"><thead><tr><th>"
                    "version (hash)</th><th>first seen</th><th>last seen</th><th "
                    "class=\"r\">checks</th></tr></thead><tbody>");
    for (size_t i = 0; i < R->version.n; i++) {
        char f[40] = "–", l[40] = "–";
        if (R->ver_first[i] <= R->ver_last[i]) {
            time_t a = (time_t)R->ver_first[i], z = (time_t)R->ver_last[i];
            struct tm tm;
            gmtime_r(&a, &tm);
            strftime(f, sizeof f, "%Y-%m-%d %H:%M", &tm);
            gmtime_r(&z, &tm);
            strftime(l, sizeof l, "%Y-%m-%d %H:%M", &tm);
        }
        cli_buf_puts(b, "<tr><td><code>");
        esc(b, R->version.v[i]);
        cli_buf_printf(b, "</code></td><td>%s</td><td>%s</td><td class=\"r\">%llu"
                       "</td></tr>", f, l, (unsigned long long)R->ver_n[i]);
    }
    cli_buf_puts(b, "</tbody></table>");
    cli_buf_puts(b, "</section>");

    cli_buf_puts(b, "<section><h2>The long tail</h2><p class=\"lead\">The replies with "
                    "the highest category scores.</p>");
    section_tail(b, R);
    cli_buf_puts(b, "</section>");

    cli_buf_puts(b, "<p class=\"note\">Generated by replyguard report ");
    cli_buf_puts(b, RG_VERSION_STRING);
    cli_buf_printf(b, " from %llu audit lines (%llu skipped). The audit carries no "
                   "reply text; redacted copies appear only when the audit was written "
                   "with --audit-redacted.</p></main></body></html>\n",
                   (unsigned long long)R->lines, (unsigned long long)R->skipped);
}

int cli_report_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, 'T'},
        {"top", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL, *title = "replyguard audit report";
    long top = 20;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'T': title = optarg; break;
        case 'N': {
            char *end;
            top = strtol(optarg, &end, 10);
            if (*end || top < 0 || top > TAIL_MAX)
                return cli_usage_error(VERB, "--top must be 0..%d", TAIL_MAX);
            break;
        }
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(VERB, "expected one audit file (JSON Lines from "
                               "'batch --audit')");
    const char *in_path = argv[optind];
    FILE *in = strcmp(in_path, "-") ? fopen(in_path, "r") : stdin;
    if (!in) {
        cli_error(VERB, "cannot read '%s': %s", in_path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    report *R = calloc(1, sizeof *R);
    if (!R) {
        cli_error(VERB, "out of memory");
        return CLI_EXIT_USAGE;
    }
    R->top = (size_t)top;
    R->tmin = INT64_MAX;
    R->tmax = INT64_MIN;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t first_bad = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        R->lines++;
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n, 0, &err);
        if (!o || !json_is_object(o) || add_event(R, o) != 0) {
            if (!R->skipped++)
                first_bad = R->lines;
        }
        json_decref(o);
    }
    int status = 0;
    if (ferror(in)) {
        cli_error(VERB, "cannot read '%s': %s", in_path, strerror(errno));
        status = CLI_EXIT_USAGE;
    }
    free(line);
    if (in != stdin)
        fclose(in);
    if (R->skipped)
        cli_error(VERB, "%llu of %llu lines are not audit events and were skipped "
                  "(first: line %llu)", (unsigned long long)R->skipped,
                  (unsigned long long)R->lines, (unsigned long long)first_bad);
    if (!status) {
        cli_buf page = {0};
        const char *base = strrchr(in_path, '/');
        render(&page, R, base ? base + 1 : in_path, title);
        FILE *out = out_path && strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
        if (page.oom) {
            cli_error(VERB, "out of memory");
            status = CLI_EXIT_USAGE;
        } else if (!out) {
            cli_error(VERB, "cannot write '%s': %s", out_path, strerror(errno));
            status = CLI_EXIT_USAGE;
        } else {
            int bad = fwrite(page.p, 1, page.len, out) != page.len;
            if (out != stdout ? fclose(out) != 0 : fflush(out) != 0)
                bad = 1;
            if (bad) {
                cli_error(VERB, "cannot write '%s': %s", out_path ? out_path : "stdout",
                          strerror(errno));
                status = CLI_EXIT_USAGE;
            }
        }
        cli_buf_free(&page);
    }
    for (size_t i = 0; i < R->ntail; i++)
        json_decref(R->tail[i].obj);
    for (int d = 0; d < DIM_COUNT; d++)
        names_free(&R->dim[d]);
    names_free(&R->det);
    names_free(&R->cat);
    names_free(&R->version);
    names_free(&R->combo);
    free(R->evs);
    free(R->det_events);
    free(R->det_hits);
    free(R->det_shadow);
    free(R->cat_act);
    free(R->combo_n);
    free(R->ver_first);
    free(R->ver_last);
    free(R->ver_n);
    free(R);
    return status;
}
