/*
 * cli_replay.c — `replyguard replay`: run a logged corpus through two
 * policy sets and report how the verdicts change.
 *
 *   replyguard replay --baseline OLD -p NEW [-r ROUTE] [--json] FILE.jsonl
 *
 * Each input line is a `batch` input object ({"id", "route", "reply",
 * "user_message", "history", "channel", "locale"}). Every line is checked
 * on both engines; the report counts verdict transitions overall, per
 * route and per detector responsible, keeps a few examples of each
 * transition, counts changed redactions, and — when the new policy has
 * shadow rules — how they would change the verdicts if they enforced.
 * Both policies are named by version and content hash.
 *
 * Examples name the line, the id, the route, the reasons and the
 * detectors; never the reply's text unless --show-text asks for it (a
 * production log holds personal data).
 *
 * Speed: one engine, scratch and result per side, reused for every line;
 * input is read with getline into one buffer. Measured figures in
 * docs/AUTHORING.md.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VERB "replay"
#define MAX_ERROR_EXAMPLES 5
#define MAX_NAME 128

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s replay --baseline OLD -p NEW [OPTIONS] FILE.jsonl\n"
            "Check every reply of a corpus (JSON Lines as 'batch' reads) "
            "with two policy sets\nand report how the verdicts change: per "
            "transition, per route, the detectors\nresponsible, and "
            "examples. '-' reads stdin.\n\n"
            "Options:\n"
            "  -b, --baseline DIR   the policy set in force now (or a "
            "bundle)\n"
            "  -p, --policies DIR   the new policy set (default: "
            "$RG_POLICIES, ./policies,\n"
            "                       installed)\n"
            "  -r, --route ROUTE    route for lines that name none (default: "
            "default)\n"
            "  -e, --examples N     examples kept per transition (default 3)\n"
            "  -t, --threads N      worker threads (default: one per CPU)\n"
            "      --show-text      include each example's reply text (off: "
            "logs hold PII)\n"
            "  -j, --json           one JSON object instead of the text "
            "report\n"
            "  -h, --help           show this help\n\n"
            "A progress bar is drawn on stderr when it is a terminal. Exit "
            "status: 0 (whatever\nchanged); 2 on a usage, policy or I/O "
            "error.\n",
            CLI_PROG);
}

/* ---- counters ---------------------------------------------------------- */

typedef struct route_stat {
    char name[MAX_NAME];
    uint64_t replies, changed;
    uint64_t tr[3][3];
} route_stat;

typedef struct det_stat {
    char name[MAX_NAME];
    uint64_t count;
} det_stat;

typedef struct example {
    uint64_t line;
    char *id;           /* JSON text of the id */
    char route[MAX_NAME];
    int from, to;
    cli_buf detectors;  /* "a, b" */
    cli_buf det_json;   /* ["a","b"] without the brackets */
    cli_buf old_why, new_why; /* reasons, human */
    cli_buf old_json, new_json; /* reasons, JSON arrays */
    char *text;         /* --show-text: JSON string of the reply */
} example;

typedef struct side {
    const char *path;
    rg_engine *engine;
    rg_scratch *scratch;
    rg_result *result;
    rg_engine_info info;
} side;

typedef struct replay {
    side base, cur;
    const char *default_route;
    unsigned max_examples;
    int show_text;
    uint64_t replies, changed, errors, redaction_changed, shadow_changed;
    uint64_t timeouts; /* still over budget after retries: not compared */
    uint64_t tr[3][3], shadow_tr[3][3];
    route_stat *routes;
    size_t nroutes, caproutes;
    det_stat *dets;
    size_t ndets, capdets;
    example *ex;
    size_t nex, capex;
    unsigned ex_count[3][3];
    struct {
        uint64_t line;
        char msg[160];
    } err_ex[MAX_ERROR_EXAMPLES];
    size_t nerr_ex;
    rg_text *history;
    size_t history_cap;
    int oom;
} replay;

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return -1;
    memset((char *)p + *cap * elem, 0, (c - *cap) * elem);
    *arr = p;
    *cap = c;
    return 0;
}

static route_stat *route_of(replay *rp, const char *name)
{
    for (size_t i = 0; i < rp->nroutes; i++)
        if (strncmp(rp->routes[i].name, name, MAX_NAME - 1) == 0)
            return &rp->routes[i];
    if (grow((void **)&rp->routes, &rp->caproutes, rp->nroutes + 1,
             sizeof *rp->routes)) {
        rp->oom = 1;
        return NULL;
    }
    route_stat *r = &rp->routes[rp->nroutes++];
    memset(r, 0, sizeof *r); /* a worker's array is reused between batches */
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

static void count_detector(replay *rp, const char *name)
{
    for (size_t i = 0; i < rp->ndets; i++)
        if (strncmp(rp->dets[i].name, name, MAX_NAME - 1) == 0) {
            rp->dets[i].count++;
            return;
        }
    if (grow((void **)&rp->dets, &rp->capdets, rp->ndets + 1, sizeof *rp->dets)) {
        rp->oom = 1;
        return;
    }
    det_stat *d = &rp->dets[rp->ndets++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->count = 1;
}

static void line_error(replay *rp, uint64_t line, const char *msg)
{
    rp->errors++;
    if (rp->nerr_ex < MAX_ERROR_EXAMPLES) {
        rp->err_ex[rp->nerr_ex].line = line;
        snprintf(rp->err_ex[rp->nerr_ex].msg, sizeof rp->err_ex[0].msg, "%s", msg);
        rp->nerr_ex++;
    }
}

/* ---- the detectors behind a transition --------------------------------- */

/* The detectors of the categories that asked for the more severe of the
 * two verdicts, on the side that gave it: for allow→block, what blocks
 * now; for block→allow, what blocked before. Each counted once. */
static void responsible(replay *rp, const rg_result *r, rg_verdict v,
                        cli_buf *names, cli_buf *json)
{
    size_t nh = rg_result_hit_count(r), nc = rg_result_category_count(r);
    const char *seen[64];
    size_t nseen = 0;
    for (size_t i = 0; i < nh; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        if (h->shadow)
            continue;
        int decides = 0;
        for (size_t k = 0; k < nc && !decides; k++) {
            const rg_category_score *c = rg_result_category(r, k);
            decides = c->verdict >= v && v != RG_ALLOW &&
                      strcmp(c->category, h->category) == 0;
        }
        if (!decides)
            continue;
        size_t k = 0;
        while (k < nseen && strcmp(seen[k], h->detector) != 0)
            k++;
        if (k < nseen)
            continue;
        if (nseen < 64)
            seen[nseen++] = h->detector;
        count_detector(rp, h->detector);
        if (names)
            cli_buf_printf(names, "%s%s", names->len ? ", " : "", h->detector);
        if (json) {
            if (json->len)
                cli_buf_putc(json, ',');
            cli_json_cstr(json, h->detector);
        }
    }
    if (names && names->len == 0)
        cli_buf_puts(names, "(none: a fail-safe or a threshold change)");
}

static void reasons_text(cli_buf *b, const rg_result *r)
{
    size_t nr = rg_result_reason_count(r);
    int any = 0;
    for (size_t i = 0; i < nr; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        if (x->shadow)
            continue;
        cli_buf_printf(b, "%s%s %.2f ≥ %s %.2f (rule %s of route %s)",
                       any ? "; " : "", x->category, x->score, x->action,
                       x->threshold, x->rule, x->route);
        any = 1;
    }
    unsigned f = rg_result_flags(r) & (RG_FLAG_FAILSAFE | RG_FLAG_BUDGET_EXCEEDED |
                                       RG_FLAG_OVERSIZE | RG_FLAG_ENGINE_ERROR);
    if (f) {
        cli_buf_puts(b, any ? "; flags " : "flags ");
        cli_flag_names(b, f, ",");
        any = 1;
    }
    if (!any)
        cli_buf_puts(b, "no threshold crossed");
}

static void reasons_json(cli_buf *b, const rg_result *r)
{
    size_t nr = rg_result_reason_count(r);
    cli_buf_putc(b, '[');
    int any = 0;
    for (size_t i = 0; i < nr; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        if (x->shadow)
            continue;
        cli_buf_puts(b, any ? ",{\"category\":" : "{\"category\":");
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
        cli_buf_putc(b, '}');
        any = 1;
    }
    cli_buf_putc(b, ']');
}

/* ---- one line ---------------------------------------------------------- */

/* A check that ran past the route's budget got its on_timeout verdict
 * because of the machine (preemption, a cold cache), not the policy:
 * retry it, so that a replay compares policies, not timing. */
#define TIMEOUT_RETRIES 3

static int check_side(side *sd, const rg_request *req)
{
    int rc = rg_check(sd->engine, sd->scratch, req, sd->result);
    for (int i = 0; i < TIMEOUT_RETRIES && rc == RG_OK &&
                    (rg_result_flags(sd->result) & RG_FLAG_BUDGET_EXCEEDED);
         i++)
        rc = rg_check(sd->engine, sd->scratch, req, sd->result);
    return rc;
}

static void compare(replay *rp, uint64_t line, const json_t *id,
                    const rg_request *req)
{
    int rb = check_side(&rp->base, req);
    int rn = check_side(&rp->cur, req);
    if (rb == RG_E_NOROUTE || rn == RG_E_NOROUTE) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown route '%.64s' in the %s policy",
                 req->route, rb == RG_E_NOROUTE && rn == RG_E_NOROUTE ? "baseline and new"
                 : rb == RG_E_NOROUTE ? "baseline" : "new");
        line_error(rp, line, msg);
        return;
    }
    if (rb == RG_E_INVAL || rn == RG_E_INVAL) {
        line_error(rp, line, rg_strerror(RG_E_INVAL));
        return;
    }
    /* Other errors leave a fail-safe verdict: that is what would have
     * happened, so it is compared like any verdict. */
    const rg_result *ob = rp->base.result, *nb = rp->cur.result;
    if ((rg_result_flags(ob) | rg_result_flags(nb)) & RG_FLAG_BUDGET_EXCEEDED) {
        rp->timeouts++;
        return;
    }
    rg_verdict vo = rg_result_verdict(ob), vn = rg_result_verdict(nb);
    rp->replies++;
    route_stat *rs = route_of(rp, req->route);
    if (rs)
        rs->replies++;
    rp->tr[vo][vn]++;
    size_t lo, ln;
    const char *ro = rg_result_redacted(ob, &lo), *rn2 = rg_result_redacted(nb, &ln);
    if ((ro == NULL) != (rn2 == NULL) || (ro && (lo != ln || memcmp(ro, rn2, lo))))
        rp->redaction_changed++;
    if (rg_result_flags(nb) & RG_FLAG_SHADOW) {
        rg_verdict vs = rg_result_shadow_verdict(nb);
        rp->shadow_tr[vn][vs]++;
        if (vs != vn)
            rp->shadow_changed++;
    }
    if (vo == vn)
        return;
    rp->changed++;
    if (rs) {
        rs->changed++;
        rs->tr[vo][vn]++;
    }
    int keep = rp->ex_count[vo][vn] < rp->max_examples;
    example *e = NULL;
    if (keep && !grow((void **)&rp->ex, &rp->capex, rp->nex + 1, sizeof *rp->ex)) {
        e = &rp->ex[rp->nex++];
        rp->ex_count[vo][vn]++;
        memset(e, 0, sizeof *e);
        e->line = line;
        e->from = (int)vo;
        e->to = (int)vn;
        snprintf(e->route, sizeof e->route, "%s", req->route);
        cli_buf idb = {0};
        cli_json_id(&idb, id);
        cli_buf_putc(&idb, '\0');
        e->id = idb.p;
        reasons_text(&e->old_why, ob);
        reasons_text(&e->new_why, nb);
        reasons_json(&e->old_json, ob);
        reasons_json(&e->new_json, nb);
        if (rp->show_text) {
            cli_buf t = {0};
            cli_json_str(&t, req->reply, req->reply_len);
            cli_buf_putc(&t, '\0');
            e->text = t.p;
        }
    }
    if (vn > vo)
        responsible(rp, nb, vn, e ? &e->detectors : NULL, e ? &e->det_json : NULL);
    else
        responsible(rp, ob, vo, e ? &e->detectors : NULL, e ? &e->det_json : NULL);
}

static const char *opt_str(const json_t *obj, const char *key, size_t *len,
                           int nul_ok, const char **bad)
{
    const json_t *v = json_object_get(obj, key);
    if (len)
        *len = 0;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = "must be a string";
        return NULL;
    }
    size_t n = json_string_length(v);
    if (!nul_ok && strlen(json_string_value(v)) != n) {
        *bad = "must not contain a NUL character";
        return NULL;
    }
    if (len)
        *len = n;
    return json_string_value(v);
}

static void one_line(replay *rp, uint64_t line, const char *text, size_t n)
{
    while (n && (text[n - 1] == '\r' || text[n - 1] == '\n'))
        n--;
    size_t k = 0;
    while (k < n && (text[k] == ' ' || text[k] == '\t'))
        k++;
    if (k == n) {
        line_error(rp, line, "empty line");
        return;
    }
    json_error_t err;
    json_t *root = json_loadb(text, n, JSON_ALLOW_NUL, &err);
    if (!root) {
        /* jansson's text may quote the input after " near ": cut it. */
        char msg[160];
        const char *near = strstr(err.text, " near ");
        snprintf(msg, sizeof msg, "invalid JSON: %.*s",
                 near ? (int)(near - err.text) : (int)strlen(err.text), err.text);
        line_error(rp, line, msg);
        return;
    }
    const char *bad = NULL, *field = NULL;
    rg_request req = {0};
    const json_t *id = NULL, *reply;
    if (!json_is_object(root)) {
        line_error(rp, line, "expected a JSON object");
        goto done;
    }
    id = json_object_get(root, "id");
    reply = json_object_get(root, "reply");
    if (!reply || !json_is_string(reply)) {
        line_error(rp, line, reply ? "\"reply\" must be a string" : "\"reply\" is required");
        goto done;
    }
    req.reply = json_string_value(reply);
    req.reply_len = json_string_length(reply);
    field = "route";
    req.route = opt_str(root, field, NULL, 0, &bad);
    if (!bad)
        req.user_message = opt_str(root, field = "user_message",
                                   &req.user_message_len, 1, &bad);
    if (!bad)
        req.channel = opt_str(root, field = "channel", NULL, 0, &bad);
    if (!bad)
        req.locale = opt_str(root, field = "locale", NULL, 0, &bad);
    const json_t *hist = json_object_get(root, "history");
    if (!bad && hist && !json_is_null(hist)) {
        field = "history";
        size_t nh = json_is_array(hist) ? json_array_size(hist) : 0;
        if (!json_is_array(hist))
            bad = "must be an array of strings";
        else if (grow((void **)&rp->history, &rp->history_cap, nh, sizeof *rp->history))
            bad = "is too large";
        for (size_t i = 0; !bad && i < nh; i++) {
            const json_t *s = json_array_get(hist, i);
            if (!json_is_string(s)) {
                bad = "must be an array of strings";
                break;
            }
            rp->history[i].ptr = json_string_value(s);
            rp->history[i].len = json_string_length(s);
        }
        req.history = rp->history;
        req.history_count = bad ? 0 : nh;
    }
    if (bad) {
        char msg[160];
        snprintf(msg, sizeof msg, "\"%s\" %s", field, bad);
        line_error(rp, line, msg);
        goto done;
    }
    if (!req.route)
        req.route = rp->default_route;
    compare(rp, line, id, &req);
done:
    json_decref(root);
}

/* ---- progress ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void progress(uint64_t lines, uint64_t done, uint64_t total, uint64_t t0)
{
    double secs = (double)(now_ns() - t0) / 1e9;
    double rate = secs > 0 ? (double)lines / secs : 0;
    if (total) {
        int width = 30, fill = (int)((double)done / (double)total * width);
        if (fill > width)
            fill = width;
        fprintf(stderr, "\r[%.*s%*s] %3d%%  %" PRIu64 " replies  %.0f/s ",
                fill, "##############################", width - fill, "",
                (int)((double)done * 100 / (double)total), lines, rate);
    } else {
        fprintf(stderr, "\r%" PRIu64 " replies  %.0f/s ", lines, rate);
    }
    fflush(stderr);
}

/* ---- report ------------------------------------------------------------ */

static const char *vname(int v) { return rg_verdict_name(v); }

static void put_policy_json(cli_buf *b, const side *s)
{
    cli_buf_puts(b, "{\"path\":");
    cli_json_cstr(b, s->path);
    cli_buf_puts(b, ",\"version\":");
    cli_json_cstr(b, s->info.policy_version);
    cli_buf_puts(b, ",\"hash\":");
    cli_json_cstr(b, s->info.policy_hash);
    cli_buf_putc(b, '}');
}

static void put_transitions_json(cli_buf *b, const uint64_t tr[3][3])
{
    cli_buf_putc(b, '[');
    int any = 0;
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++) {
            if (f == t || !tr[f][t])
                continue;
            cli_buf_printf(b, "%s{\"from\":\"%s\",\"to\":\"%s\",\"count\":%" PRIu64 "}",
                           any ? "," : "", vname(f), vname(t), tr[f][t]);
            any = 1;
        }
    cli_buf_putc(b, ']');
}

static int cmp_det(const void *x, const void *y)
{
    const det_stat *a = x, *b = y;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return strcmp(a->name, b->name);
}

static int cmp_route(const void *x, const void *y)
{
    return strcmp(((const route_stat *)x)->name, ((const route_stat *)y)->name);
}

static void report_json(replay *rp, cli_buf *b, uint64_t elapsed)
{
    cli_buf_printf(b, "{\"replies\":%" PRIu64 ",\"errors\":%" PRIu64
                   ",\"timeouts\":%" PRIu64 ",\"changed\":%" PRIu64
                   ",\"baseline\":", rp->replies, rp->errors, rp->timeouts,
                   rp->changed);
    put_policy_json(b, &rp->base);
    cli_buf_puts(b, ",\"new\":");
    put_policy_json(b, &rp->cur);
    cli_buf_puts(b, ",\"transitions\":");
    put_transitions_json(b, (const uint64_t(*)[3])rp->tr);
    cli_buf_puts(b, ",\"routes\":[");
    for (size_t i = 0; i < rp->nroutes; i++) {
        route_stat *r = &rp->routes[i];
        cli_buf_puts(b, i ? ",{\"route\":" : "{\"route\":");
        cli_json_cstr(b, r->name);
        cli_buf_printf(b, ",\"replies\":%" PRIu64 ",\"changed\":%" PRIu64
                       ",\"transitions\":", r->replies, r->changed);
        put_transitions_json(b, (const uint64_t(*)[3])r->tr);
        cli_buf_putc(b, '}');
    }
    cli_buf_puts(b, "],\"detectors\":[");
    for (size_t i = 0; i < rp->ndets; i++) {
        cli_buf_puts(b, i ? ",{\"detector\":" : "{\"detector\":");
        cli_json_cstr(b, rp->dets[i].name);
        cli_buf_printf(b, ",\"count\":%" PRIu64 "}", rp->dets[i].count);
    }
    cli_buf_puts(b, "],\"examples\":[");
    for (size_t i = 0; i < rp->nex; i++) {
        example *e = &rp->ex[i];
        cli_buf_printf(b, "%s{\"line\":%" PRIu64 ",\"id\":%s,\"route\":",
                       i ? "," : "", e->line, e->id ? e->id : "null");
        cli_json_cstr(b, e->route);
        cli_buf_printf(b, ",\"from\":\"%s\",\"to\":\"%s\",\"detectors\":[",
                       vname(e->from), vname(e->to));
        cli_buf_put(b, e->det_json.p, e->det_json.len);
        cli_buf_puts(b, "],\"baseline_reasons\":");
        cli_buf_put(b, e->old_json.p, e->old_json.len);
        cli_buf_puts(b, ",\"reasons\":");
        cli_buf_put(b, e->new_json.p, e->new_json.len);
        if (e->text) {
            cli_buf_puts(b, ",\"reply\":");
            cli_buf_puts(b, e->text);
        }
        cli_buf_putc(b, '}');
    }
    cli_buf_printf(b, "],\"redaction_changed\":%" PRIu64 ",\"shadow\":{\"changed\":%"
                   PRIu64 ",\"transitions\":", rp->redaction_changed,
                   rp->shadow_changed);
    put_transitions_json(b, (const uint64_t(*)[3])rp->shadow_tr);
    cli_buf_puts(b, "},\"error_examples\":[");
    for (size_t i = 0; i < rp->nerr_ex; i++) {
        cli_buf_printf(b, "%s{\"line\":%" PRIu64 ",\"error\":", i ? "," : "",
                       rp->err_ex[i].line);
        cli_json_cstr(b, rp->err_ex[i].msg);
        cli_buf_putc(b, '}');
    }
    cli_buf_printf(b, "],\"elapsed_ns\":%" PRIu64 "}\n", elapsed);
}

static void put_transitions_text(cli_buf *b, const uint64_t tr[3][3], const char *indent)
{
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++)
            if (f != t && tr[f][t])
                cli_buf_printf(b, "%s%s→%s: %" PRIu64 "\n", indent, vname(f),
                               vname(t), tr[f][t]);
}

static void report_text(replay *rp, cli_buf *b, const char *input, uint64_t elapsed)
{
    cli_buf_printf(b, "replay      %" PRIu64 " replies from %s", rp->replies, input);
    if (rp->errors)
        cli_buf_printf(b, " (%" PRIu64 " lines not checked: see errors)", rp->errors);
    cli_buf_putc(b, '\n');
    cli_buf_printf(b, "baseline    %s: version %s, hash %.12s\n", rp->base.path,
                   rp->base.info.policy_version[0] ? rp->base.info.policy_version : "(none)",
                   rp->base.info.policy_hash);
    cli_buf_printf(b, "new         %s: version %s, hash %.12s\n", rp->cur.path,
                   rp->cur.info.policy_version[0] ? rp->cur.info.policy_version : "(none)",
                   rp->cur.info.policy_hash);
    if (rp->changed)
        cli_buf_printf(b, "%" PRIu64 " changed (%.4f%%)\n", rp->changed,
                       rp->replies ? 100.0 * (double)rp->changed / (double)rp->replies : 0.0);
    else
        cli_buf_puts(b, "0 changed\n");
    put_transitions_text(b, (const uint64_t(*)[3])rp->tr, "  ");
    if (rp->nroutes) {
        cli_buf_puts(b, "by route\n");
        for (size_t i = 0; i < rp->nroutes; i++) {
            route_stat *r = &rp->routes[i];
            cli_buf_printf(b, "  %s: %" PRIu64 " changed of %" PRIu64 "%s",
                           r->name, r->changed, r->replies, r->changed ? " (" : "\n");
            int any = 0;
            for (int f = 0; f < 3 && r->changed; f++)
                for (int t = 0; t < 3; t++)
                    if (f != t && r->tr[f][t]) {
                        cli_buf_printf(b, "%s%s→%s: %" PRIu64, any ? ", " : "",
                                       vname(f), vname(t), r->tr[f][t]);
                        any = 1;
                    }
            if (r->changed)
                cli_buf_puts(b, ")\n");
        }
    }
    if (rp->ndets) {
        cli_buf_puts(b, "detectors responsible\n");
        for (size_t i = 0; i < rp->ndets; i++)
            cli_buf_printf(b, "  %s: %" PRIu64 "\n", rp->dets[i].name, rp->dets[i].count);
    }
    if (rp->nex) {
        cli_buf_puts(b, "examples\n");
        for (size_t i = 0; i < rp->nex; i++) {
            example *e = &rp->ex[i];
            cli_buf_printf(b, "  %s→%s  line %" PRIu64 ", id %s, route %s\n",
                           vname(e->from), vname(e->to), e->line,
                           e->id ? e->id : "null", e->route);
            if (e->text)
                cli_buf_printf(b, "    reply:    %s\n", e->text);
            cli_buf_puts(b, "    before:   ");
            cli_buf_put(b, e->old_why.p, e->old_why.len);
            cli_buf_puts(b, "\n    now:      ");
            cli_buf_put(b, e->new_why.p, e->new_why.len);
            cli_buf_puts(b, "\n    detectors: ");
            cli_buf_put(b, e->detectors.p, e->detectors.len);
            cli_buf_putc(b, '\n');
        }
    }
    cli_buf_printf(b, "redaction   changed on %" PRIu64 " replies\n",
                   rp->redaction_changed);
    uint64_t shadow_total = 0;
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++)
            shadow_total += rp->shadow_tr[f][t];
    if (shadow_total) {
        cli_buf_printf(b, "shadow      the new policy's shadow rules would "
                       "change %" PRIu64 " verdicts if they enforced\n",
                       rp->shadow_changed);
        put_transitions_text(b, (const uint64_t(*)[3])rp->shadow_tr, "  ");
    }
    if (rp->timeouts)
        cli_buf_printf(b, "timeouts    %" PRIu64 " replies ran past their route's "
                       "budget_us on a side even after %d retries: not compared "
                       "(a slow or busy machine, or a pattern to look at)\n",
                       rp->timeouts, TIMEOUT_RETRIES);
    if (rp->errors) {
        cli_buf_printf(b, "errors      %" PRIu64 " lines\n", rp->errors);
        for (size_t i = 0; i < rp->nerr_ex; i++)
            cli_buf_printf(b, "  line %" PRIu64 ": %s\n", rp->err_ex[i].line,
                           rp->err_ex[i].msg);
    }
    double secs = (double)elapsed / 1e9;
    cli_buf_printf(b, "elapsed     %.2f s (%.0f replies/s, both policies)\n",
                   secs, secs > 0 ? (double)(rp->replies + rp->errors + rp->timeouts) / secs
                                  : 0.0);
}

/* ---- main -------------------------------------------------------------- */

static int open_side(side *s, const char *path)
{
    s->path = path;
    if (cli_engine_open(VERB, path, 0, &s->engine) != 0)
        return -1;
    if (rg_engine_get_info(s->engine, &s->info) != RG_OK) {
        cli_error(VERB, "%s", rg_strerror(RG_E_INVAL));
        return -1;
    }
    return 0;
}

/* ---- threads: the corpus in batches, merged in input order ------------- */

/* Lines per worker per round: large enough that starting threads is noise
 * (a round is ~10 ms of checks), small enough to keep memory flat. */
#define BATCH_LINES 4096
#define MAX_THREADS 16

typedef struct batch_buf {
    char *data;
    size_t len, cap;
    size_t *off;       /* line i is data[off[i] .. off[i+1]) */
    size_t n;
    uint64_t first;    /* line number of line 0 */
} batch_buf;

typedef struct worker {
    replay st;         /* partial counts; base/cur: shared engines, own scratch/result */
    batch_buf batch;
    pthread_t thread;
} worker;

static void free_examples(replay *rp)
{
    for (size_t i = 0; i < rp->nex; i++) {
        example *e = &rp->ex[i];
        free(e->id);
        free(e->text);
        cli_buf_free(&e->detectors);
        cli_buf_free(&e->det_json);
        cli_buf_free(&e->old_why);
        cli_buf_free(&e->new_why);
        cli_buf_free(&e->old_json);
        cli_buf_free(&e->new_json);
    }
    rp->nex = 0;
}

static int worker_init(worker *w, const replay *cfg)
{
    memset(w, 0, sizeof *w);
    w->st.base = cfg->base;
    w->st.cur = cfg->cur;
    w->st.default_route = cfg->default_route;
    w->st.max_examples = cfg->max_examples;
    w->st.show_text = cfg->show_text;
    int rc = rg_scratch_alloc(w->st.base.engine, &w->st.base.scratch);
    if (rc == RG_OK)
        rc = rg_scratch_alloc(w->st.cur.engine, &w->st.cur.scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &w->st.base.result);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &w->st.cur.result);
    w->batch.off = malloc((BATCH_LINES + 1) * sizeof *w->batch.off);
    return rc == RG_OK && w->batch.off ? 0 : -1;
}

static void worker_free(worker *w)
{
    rg_result_free(w->st.base.result);
    rg_result_free(w->st.cur.result);
    rg_scratch_free(w->st.base.scratch);
    rg_scratch_free(w->st.cur.scratch);
    free_examples(&w->st);
    free(w->st.ex);
    free(w->st.routes);
    free(w->st.dets);
    free(w->st.history);
    free(w->batch.data);
    free(w->batch.off);
}

static void *run_batch(void *arg)
{
    worker *w = arg;
    for (size_t i = 0; i < w->batch.n && !w->st.oom; i++)
        one_line(&w->st, w->batch.first + i, w->batch.data + w->batch.off[i],
                 w->batch.off[i + 1] - w->batch.off[i]);
    return NULL;
}

/* Add a worker's counts to the total (in input order, so that the kept
 * examples are the first ones of the corpus) and clear them. */
static void merge(replay *g, replay *p)
{
    g->replies += p->replies;
    g->changed += p->changed;
    g->errors += p->errors;
    g->timeouts += p->timeouts;
    g->redaction_changed += p->redaction_changed;
    g->shadow_changed += p->shadow_changed;
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++) {
            g->tr[f][t] += p->tr[f][t];
            g->shadow_tr[f][t] += p->shadow_tr[f][t];
        }
    for (size_t i = 0; i < p->nroutes; i++) {
        route_stat *r = route_of(g, p->routes[i].name);
        if (!r)
            break;
        r->replies += p->routes[i].replies;
        r->changed += p->routes[i].changed;
        for (int f = 0; f < 3; f++)
            for (int t = 0; t < 3; t++)
                r->tr[f][t] += p->routes[i].tr[f][t];
    }
    for (size_t i = 0; i < p->ndets; i++) {
        count_detector(g, p->dets[i].name);
        size_t k = 0;
        while (k < g->ndets && strcmp(g->dets[k].name, p->dets[i].name) != 0)
            k++;
        if (k < g->ndets)
            g->dets[k].count += p->dets[i].count - 1;
    }
    for (size_t i = 0; i < p->nex; i++) {
        example *e = &p->ex[i];
        if (g->ex_count[e->from][e->to] < g->max_examples &&
            !grow((void **)&g->ex, &g->capex, g->nex + 1, sizeof *g->ex)) {
            g->ex[g->nex++] = *e;
            g->ex_count[e->from][e->to]++;
            memset(e, 0, sizeof *e); /* moved */
        }
    }
    free_examples(p);
    for (size_t i = 0; i < p->nerr_ex && g->nerr_ex < MAX_ERROR_EXAMPLES; i++)
        g->err_ex[g->nerr_ex++] = p->err_ex[i];
    g->oom |= p->oom;
    p->replies = p->changed = p->errors = p->timeouts = 0;
    p->redaction_changed = p->shadow_changed = 0;
    memset(p->tr, 0, sizeof p->tr);
    memset(p->shadow_tr, 0, sizeof p->shadow_tr);
    memset(p->ex_count, 0, sizeof p->ex_count);
    p->nroutes = p->ndets = p->nerr_ex = 0;
}

/* Read up to BATCH_LINES lines into w's batch. Returns the number read;
 * *bytes grows by what was consumed. */
static size_t fill(worker *w, FILE *in, char **line, size_t *cap, uint64_t *nline,
                   uint64_t *bytes, int *oom)
{
    batch_buf *b = &w->batch;
    b->n = 0;
    b->len = 0;
    b->first = *nline + 1;
    ssize_t n;
    while (b->n < BATCH_LINES && (n = getline(line, cap, in)) >= 0) {
        if (b->cap - b->len < (size_t)n) {
            size_t nc = b->cap ? b->cap : 1 << 20;
            while (nc - b->len < (size_t)n)
                nc *= 2;
            char *d = realloc(b->data, nc);
            if (!d) {
                *oom = 1;
                break;
            }
            b->data = d;
            b->cap = nc;
        }
        b->off[b->n++] = b->len;
        memcpy(b->data + b->len, *line, (size_t)n);
        b->len += (size_t)n;
        (*nline)++;
        *bytes += (uint64_t)n;
    }
    b->off[b->n] = b->len;
    return b->n;
}

static void close_side(side *s)
{
    rg_engine_close(s->engine);
}

int cli_replay_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"baseline", required_argument, NULL, 'b'},
        {"policies", required_argument, NULL, 'p'},
        {"route", required_argument, NULL, 'r'},
        {"examples", required_argument, NULL, 'e'},
        {"show-text", no_argument, NULL, 'T'},
        {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *base_path = NULL, *policy_opt = NULL;
    replay rp;
    memset(&rp, 0, sizeof rp);
    rp.default_route = "default";
    rp.max_examples = 3;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (int)ncpu;
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":b:p:r:e:t:jh", longopts, NULL)) != -1) {
        char *end;
        long n;
        switch (c) {
        case 'b': base_path = optarg; break;
        case 'p': policy_opt = optarg; break;
        case 'r': rp.default_route = optarg; break;
        case 'e':
            n = strtol(optarg, &end, 10);
            if (*end || n < 0 || n > 1000)
                return cli_usage_error(VERB, "--examples takes 0..1000");
            rp.max_examples = (unsigned)n;
            break;
        case 't':
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > MAX_THREADS)
                return cli_usage_error(VERB, "--threads takes 1..%d", MAX_THREADS);
            nthreads = (int)n;
            break;
        case 'T': rp.show_text = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (!base_path)
        return cli_usage_error(VERB, "--baseline DIR is required (the policy "
                               "set to compare against)");
    if (argc - optind != 1)
        return cli_usage_error(VERB, "expected one input file (JSON Lines; "
                               "'-' for stdin)");
    const char *input = argv[optind];
    const char *path = cli_policy_path(policy_opt);

    int status = CLI_EXIT_USAGE;
    FILE *in = NULL;
    char *line = NULL;
    size_t cap = 0;
    worker *w = calloc((size_t)nthreads, sizeof *w);
    int nw = 0;
    if (!w) {
        cli_error(VERB, "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (open_side(&rp.base, base_path) != 0 || open_side(&rp.cur, path) != 0)
        goto out;
    if (!cli_route_exists(rp.cur.engine, rp.default_route) ||
        !cli_route_exists(rp.base.engine, rp.default_route)) {
        cli_error(VERB, "unknown route '%s' in the %s policy", rp.default_route,
                  cli_route_exists(rp.cur.engine, rp.default_route) ? "baseline"
                                                                    : "new");
        goto out;
    }
    for (; nw < nthreads; nw++)
        if (worker_init(&w[nw], &rp) != 0) {
            nw++;
            cli_error(VERB, "out of memory");
            goto out;
        }
    in = strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
    if (!in) {
        cli_error(VERB, "cannot open '%s': %s", input, strerror(errno));
        goto out;
    }
    static char inbuf[1 << 20];
    setvbuf(in, inbuf, _IOFBF, sizeof inbuf);
    uint64_t total = 0;
    struct stat st;
    if (in != stdin && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
        total = (uint64_t)st.st_size;
    int bar = isatty(STDERR_FILENO), oom = 0;
    uint64_t t0 = now_ns(), next_bar = t0 + 200000000ull, done = 0, nline = 0;
    /* Rounds: fill one batch per worker, check them in parallel, merge in
     * order. Reading is ~1% of the work, so it does not overlap. */
    for (;;) {
        int used = 0;
        while (used < nw && fill(&w[used], in, &line, &cap, &nline, &done, &oom))
            used++;
        if (oom) {
            cli_error(VERB, "out of memory");
            goto out;
        }
        if (used == 0)
            break;
        int started = 0;
        for (int i = 1; i < used; i++)
            if (pthread_create(&w[i].thread, NULL, run_batch, &w[i]) != 0)
                break;
            else
                started = i;
        run_batch(&w[0]);
        for (int i = 1; i <= started; i++)
            pthread_join(w[i].thread, NULL);
        for (int i = started + 1; i < used; i++)
            run_batch(&w[i]); /* a thread could not start: do it here */
        for (int i = 0; i < used; i++)
            merge(&rp, &w[i].st);
        if (rp.oom) {
            cli_error(VERB, "out of memory");
            goto out;
        }
        if (bar && now_ns() >= next_bar) {
            progress(nline, done, total, t0);
            next_bar = now_ns() + 100000000ull;
        }
        if (used < nw)
            break; /* end of input */
    }
    if (ferror(in)) {
        cli_error(VERB, "cannot read '%s': %s", input, strerror(errno));
        goto out;
    }
    uint64_t elapsed = now_ns() - t0;
    if (bar && elapsed >= 200000000ull)
        fputs("\r\033[K", stderr);
    if (rp.ndets) /* qsort(NULL, 0) is undefined */
        qsort(rp.dets, rp.ndets, sizeof *rp.dets, cmp_det);
    if (rp.nroutes)
        qsort(rp.routes, rp.nroutes, sizeof *rp.routes, cmp_route);
    cli_buf b = {0};
    if (json)
        report_json(&rp, &b, elapsed);
    else
        report_text(&rp, &b, input, elapsed);
    if (b.oom || cli_buf_flush(&b, stdout) != 0 || fflush(stdout) != 0) {
        cli_error(VERB, "cannot write the report: %s", strerror(errno));
        cli_buf_free(&b);
        goto out;
    }
    cli_buf_free(&b);
    status = CLI_EXIT_OK;
out:
    if (in && in != stdin)
        fclose(in);
    free(line);
    for (int i = 0; i < nw; i++)
        worker_free(&w[i]);
    free(w);
    free_examples(&rp);
    free(rp.ex);
    free(rp.routes);
    free(rp.dets);
    free(rp.history);
    close_side(&rp.base);
    close_side(&rp.cur);
    return status;
}
