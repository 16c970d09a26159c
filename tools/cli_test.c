/*
 * cli_test.c — `replyguard test`: run a policy set's YAML test cases.
 *
 *   cases:
 *     - name: "profanity is blocked"
 *       route: default            # optional, default "default"
 *       reply: "..."              # required
 *       user_message: "..."       # optional
 *       history: ["..."]          # optional
 *       channel: chat             # optional
 *       locale: en-US             # optional
 *       expect: block             # allow | handoff | block (required)
 *       categories: [toxicity.profanity]  # each (or a category under it) scores > 0
 *       not_categories: [pii.phone]       # none under it scores > 0
 *       redacted: "..."           # exact redacted copy; null: no redaction
 *
 * A file is validated whole before any of its cases runs; a malformed
 * file is reported as file:line:column and its cases are not run. Output
 * is one "ok - ..." or "FAIL - ..." line per case and a final
 * "N passed, N failed" line.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#define VERB "test"
#define SPAN_SHOW_MAX 40

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s test [OPTIONS] [FILE | DIR ...]\n"
            "Run policy test cases (default: every *.yaml in the policy "
            "set's tests/).\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (default: $RG_POLICIES, "
            "./policies, installed)\n"
            "  -h, --help           show this help\n\n"
            "Prints 'ok - file: name' or 'FAIL - file:line: name: why' per "
            "case, then\n'N passed, N failed'. Exit status: 0 all passed; 1 a "
            "case failed; 2 a malformed\ntest file, or a usage or policy "
            "error. See docs/CLI.md for the file format.\n",
            CLI_PROG);
}

/* ---- test cases -------------------------------------------------------- */

typedef struct str_list {
    const char **v;
    unsigned *line, *col; /* where each name is, for error messages */
    size_t n;
} str_list;

typedef struct tcase {
    const char *name;
    size_t name_len;
    unsigned line;
    const char *route;
    const char *reply, *user, *channel, *locale;
    size_t reply_len, user_len;
    rg_text *history;
    size_t nhistory;
    int expect;
    str_list cats, not_cats;
    int has_redacted;      /* redacted: given */
    const char *redacted;  /* NULL with has_redacted: expect none */
    size_t redacted_len;
} tcase;

typedef struct tfile {
    const char *path;
    yaml_document_t doc;
    int doc_loaded;
    tcase *cases;
    size_t ncases;
    size_t nerrors;
} tfile;

static void tfile_free(tfile *tf)
{
    for (size_t i = 0; i < tf->ncases; i++) {
        free(tf->cases[i].history);
        free(tf->cases[i].cats.v);
        free(tf->cases[i].not_cats.v);
        free(tf->cases[i].cats.line);
        free(tf->cases[i].not_cats.line);
    }
    free(tf->cases);
    if (tf->doc_loaded)
        yaml_document_delete(&tf->doc);
}

static void node_error(tfile *tf, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void node_error(tfile *tf, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%lu:%lu: error: ", tf->path,
            (unsigned long)node->start_mark.line + 1,
            (unsigned long)node->start_mark.column + 1);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    tf->nerrors++;
}

static int is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

static const char *scalar_str(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain `~`, `null` or empty value: YAML's null, not the text "null". */
static int is_null(const yaml_node_t *n)
{
    if (!is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = scalar_str(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
           !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* A scalar usable as a C string (no embedded NUL). */
static int want_cstring(tfile *tf, const yaml_node_t *n, const char *key,
                        const char **out)
{
    if (!is_scalar(n)) {
        node_error(tf, n, "'%s' must be a string", key);
        return -1;
    }
    if (strlen(scalar_str(n)) != n->data.scalar.length) {
        node_error(tf, n, "'%s' must not contain a NUL character", key);
        return -1;
    }
    *out = scalar_str(n);
    return 0;
}

/* A sequence of category names, or a single name. */
static int want_categories(tfile *tf, const yaml_node_t *n, const char *key,
                           str_list *out)
{
    yaml_node_item_t *items = NULL, *top = NULL;
    size_t count = 1;
    if (n->type == YAML_SEQUENCE_NODE) {
        items = n->data.sequence.items.start;
        top = n->data.sequence.items.top;
        count = (size_t)(top - items);
    } else if (!is_scalar(n)) {
        node_error(tf, n, "'%s' must be a list of category names", key);
        return -1;
    }
    out->v = calloc(count ? count : 1, sizeof *out->v);
    /* line and col share one allocation (freed through line). */
    out->line = calloc(2 * (count ? count : 1), sizeof *out->line);
    if (out->line)
        out->col = out->line + (count ? count : 1);
    if (!out->v || !out->line) {
        node_error(tf, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item =
            items ? yaml_document_get_node(&tf->doc, items[i]) : n;
        const char *s;
        if (!is_scalar(item) || want_cstring(tf, item, key, &s) != 0) {
            if (!is_scalar(item))
                node_error(tf, item, "'%s' must be a list of category names",
                           key);
            return -1;
        }
        if (!*s) {
            node_error(tf, item, "'%s' has an empty category name", key);
            return -1;
        }
        out->line[out->n] = (unsigned)item->start_mark.line + 1;
        out->col[out->n] = (unsigned)item->start_mark.column + 1;
        out->v[out->n++] = s;
    }
    return 0;
}

static int parse_case(tfile *tf, const yaml_node_t *m, tcase *tc, size_t index)
{
    static const char *const keys[] = {
        "name", "route", "reply", "user_message", "history", "channel",
        "locale", "expect", "categories", "not_categories", "redacted",
    };
    enum { NKEYS = sizeof keys / sizeof keys[0] };
    const yaml_node_t *val[NKEYS] = {0};
    size_t before = tf->nerrors;

    tc->line = (unsigned)m->start_mark.line + 1;
    tc->route = "default";
    tc->expect = -1;
    if (m->type != YAML_MAPPING_NODE) {
        node_error(tf, m, "test case %zu must be a mapping (name:, reply:, "
                   "expect:, ...)", index + 1);
        return -1;
    }
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(&tf->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(&tf->doc, p->value);
        if (!is_scalar(k)) {
            node_error(tf, k, "test case keys must be strings");
            continue;
        }
        size_t i = 0;
        while (i < NKEYS && strcmp(keys[i], scalar_str(k)) != 0)
            i++;
        if (i == NKEYS) {
            node_error(tf, k, "unknown key '%s' in test case (expected name, "
                       "route, reply, user_message, history, channel, locale, "
                       "expect, categories, not_categories, redacted)",
                       scalar_str(k));
        } else if (val[i]) {
            node_error(tf, k, "duplicate key '%s'", keys[i]);
        } else {
            val[i] = v;
        }
    }

    /* name */
    if (val[0]) {
        if (!is_scalar(val[0])) {
            node_error(tf, val[0], "'name' must be a string");
        } else {
            tc->name = scalar_str(val[0]);
            tc->name_len = val[0]->data.scalar.length;
        }
    }
    /* route, channel, locale: optional C strings */
    if (val[1] && !is_null(val[1]))
        want_cstring(tf, val[1], "route", &tc->route);
    if (val[5] && !is_null(val[5]))
        want_cstring(tf, val[5], "channel", &tc->channel);
    if (val[6] && !is_null(val[6]))
        want_cstring(tf, val[6], "locale", &tc->locale);
    /* reply: required, any bytes (a "\0" escape gives a NUL) */
    if (!val[2]) {
        node_error(tf, m, "test case %zu has no 'reply'", index + 1);
    } else if (!is_scalar(val[2])) {
        node_error(tf, val[2], "'reply' must be a string");
    } else {
        tc->reply = scalar_str(val[2]);
        tc->reply_len = val[2]->data.scalar.length;
    }
    /* user_message */
    if (val[3] && !is_null(val[3])) {
        if (!is_scalar(val[3])) {
            node_error(tf, val[3], "'user_message' must be a string");
        } else {
            tc->user = scalar_str(val[3]);
            tc->user_len = val[3]->data.scalar.length;
        }
    }
    /* history: a list of strings */
    if (val[4] && !is_null(val[4])) {
        const yaml_node_t *h = val[4];
        if (h->type != YAML_SEQUENCE_NODE) {
            node_error(tf, h, "'history' must be a list of strings");
        } else {
            size_t n = (size_t)(h->data.sequence.items.top -
                                h->data.sequence.items.start);
            tc->history = calloc(n ? n : 1, sizeof *tc->history);
            if (!tc->history) {
                node_error(tf, h, "out of memory");
                return -1;
            }
            for (size_t i = 0; i < n; i++) {
                const yaml_node_t *s = yaml_document_get_node(
                    &tf->doc, h->data.sequence.items.start[i]);
                if (!is_scalar(s)) {
                    node_error(tf, s, "'history' must be a list of strings");
                    break;
                }
                tc->history[i].ptr = scalar_str(s);
                tc->history[i].len = s->data.scalar.length;
                tc->nhistory++;
            }
        }
    }
    /* expect: required */
    if (!val[7]) {
        node_error(tf, m, "test case %zu has no 'expect' (allow, handoff or "
                   "block)", index + 1);
    } else if (is_scalar(val[7]) && !strcmp(scalar_str(val[7]), "allow")) {
        tc->expect = RG_ALLOW;
    } else if (is_scalar(val[7]) && !strcmp(scalar_str(val[7]), "handoff")) {
        tc->expect = RG_HANDOFF;
    } else if (is_scalar(val[7]) && !strcmp(scalar_str(val[7]), "block")) {
        tc->expect = RG_BLOCK;
    } else {
        node_error(tf, val[7], "'expect' must be allow, handoff or block");
    }
    if (val[8] && !is_null(val[8]))
        want_categories(tf, val[8], "categories", &tc->cats);
    if (val[9] && !is_null(val[9]))
        want_categories(tf, val[9], "not_categories", &tc->not_cats);
    /* redacted: a string, or null for "no redacted copy" */
    if (val[10]) {
        tc->has_redacted = 1;
        if (is_null(val[10])) {
            tc->redacted = NULL;
        } else if (!is_scalar(val[10])) {
            node_error(tf, val[10], "'redacted' must be a string (or null "
                       "for no redaction)");
        } else {
            tc->redacted = scalar_str(val[10]);
            tc->redacted_len = val[10]->data.scalar.length;
        }
    }
    return tf->nerrors == before ? 0 : -1;
}

/* Parse and validate a whole test file. Returns 0 or -1 (errors printed). */
static int load_file(tfile *tf)
{
    FILE *f = fopen(tf->path, "rb");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open: %s\n", tf->path,
                strerror(errno));
        tf->nerrors++;
        return -1;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        fprintf(stderr, "%s: error: out of memory\n", tf->path);
        tf->nerrors++;
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    int ok = yaml_parser_load(&parser, &tf->doc);
    if (ok) {
        tf->doc_loaded = 1;
        /* A second document would be silently ignored: refuse it (and
         * report a syntax error in what follows the first). */
        yaml_document_t extra;
        if (yaml_document_get_root_node(&tf->doc)) {
            ok = yaml_parser_load(&parser, &extra);
            if (ok) {
                yaml_node_t *r = yaml_document_get_root_node(&extra);
                if (r)
                    node_error(tf, r, "more than one YAML document");
                yaml_document_delete(&extra);
            }
        }
    }
    if (!ok) {
        fprintf(stderr, "%s:%lu:%lu: error: %s", tf->path,
                (unsigned long)parser.problem_mark.line + 1,
                (unsigned long)parser.problem_mark.column + 1,
                parser.problem ? parser.problem : "invalid YAML");
        if (parser.context)
            fprintf(stderr, " (%s, from line %lu)", parser.context,
                    (unsigned long)parser.context_mark.line + 1);
        fputc('\n', stderr);
        tf->nerrors++;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    if (tf->nerrors)
        return -1;

    const yaml_node_t *root = yaml_document_get_root_node(&tf->doc);
    if (!root) {
        fprintf(stderr, "%s: error: empty test file (expected 'cases:')\n",
                tf->path);
        tf->nerrors++;
        return -1;
    }
    if (root->type != YAML_MAPPING_NODE) {
        node_error(tf, root, "a test file is a mapping with a 'cases:' list");
        return -1;
    }
    const yaml_node_t *cases = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(&tf->doc, p->key);
        if (is_scalar(k) && !strcmp(scalar_str(k), "cases") && !cases)
            cases = yaml_document_get_node(&tf->doc, p->value);
        else if (is_scalar(k) && !strcmp(scalar_str(k), "cases"))
            node_error(tf, k, "duplicate key 'cases'");
        else
            node_error(tf, k, "unknown top-level key '%s' (expected 'cases')",
                       is_scalar(k) ? scalar_str(k) : "?");
    }
    if (!cases) {
        node_error(tf, root, "missing 'cases:' list");
        return -1;
    }
    if (is_null(cases))
        return tf->nerrors ? -1 : 0; /* `cases:` with nothing: no cases */
    if (cases->type != YAML_SEQUENCE_NODE) {
        node_error(tf, cases, "'cases' must be a list of test cases");
        return -1;
    }
    size_t n = (size_t)(cases->data.sequence.items.top -
                        cases->data.sequence.items.start);
    tf->cases = calloc(n ? n : 1, sizeof *tf->cases);
    if (!tf->cases) {
        node_error(tf, cases, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *m = yaml_document_get_node(
            &tf->doc, cases->data.sequence.items.start[i]);
        parse_case(tf, m, &tf->cases[i], i);
        tf->ncases++; /* counted even when invalid, so it is freed */
    }
    return tf->nerrors ? -1 : 0;
}

/* Category names in expectations must be known to the policy set: a typo
 * ("pii.phon") would otherwise make `not_categories` pass forever. A
 * known category that no detector scores is only a warning: the case
 * still says something true, just nothing that can change. Returns 0, or
 * -1 when the file has an unknown category (reported; not run). */
static int check_categories(tfile *tf, const rg_engine *engine)
{
    for (size_t i = 0; i < tf->ncases; i++) {
        const tcase *tc = &tf->cases[i];
        for (int which = 0; which < 2; which++) {
            const str_list *l = which ? &tc->not_cats : &tc->cats;
            const char *key = which ? "not_categories" : "categories";
            for (size_t k = 0; k < l->n; k++) {
                unsigned bits = rg_engine_category(engine, l->v[k]);
                if (!(bits & RG_CATEGORY_KNOWN)) {
                    fprintf(stderr, "%s:%u:%u: error: unknown category '%s' in "
                            "'%s' (not in the taxonomy, not declared by the "
                            "policy set, not a prefix of either)\n", tf->path,
                            l->line[k], l->col[k], l->v[k], key);
                    tf->nerrors++;
                } else if (!(bits & RG_CATEGORY_SCORED)) {
                    fprintf(stderr, "%s:%u:%u: warning: no detector of the "
                            "policy set scores '%s' (or a category below it): "
                            "this expectation %s\n", tf->path, l->line[k],
                            l->col[k], l->v[k],
                            which ? "always holds" : "can never hold");
                }
            }
        }
    }
    return tf->nerrors ? -1 : 0;
}

/* ---- running ----------------------------------------------------------- */

/* category is `prefix` or lies under it at a dot boundary. */
static int under(const char *category, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(category, prefix, n) == 0 &&
           (category[n] == '\0' || category[n] == '.');
}

/* The test name on one line: control characters become spaces. */
static void put_name(cli_buf *b, const tcase *tc, size_t index)
{
    if (!tc->name) {
        cli_buf_printf(b, "case %zu", index + 1);
        return;
    }
    for (size_t i = 0; i < tc->name_len; i++) {
        unsigned char c = (unsigned char)tc->name[i];
        cli_buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
}

static void put_categories(cli_buf *b, const rg_result *r)
{
    size_t n = rg_result_category_count(r);
    cli_buf_puts(b, "; categories: ");
    if (!n)
        cli_buf_puts(b, "none");
    for (size_t i = 0; i < n; i++) {
        const rg_category_score *c = rg_result_category(r, i);
        cli_buf_printf(b, "%s%s %.2f", i ? ", " : "", c->category, c->score);
    }
}

static void put_evidence(cli_buf *b, const rg_result *r, const tcase *tc)
{
    size_t n = rg_result_reason_count(r);
    cli_buf_puts(b, "; reasons: ");
    if (!n)
        cli_buf_puts(b, "none");
    for (size_t i = 0; i < n; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        cli_buf_printf(b, "%s%s %.2f ≥ %.2f → %s (rule %s of route %s)",
                       i ? ", " : "", x->category, x->score, x->threshold,
                       x->action, x->rule, x->route);
    }
    n = rg_result_hit_count(r);
    cli_buf_puts(b, "; hits: ");
    if (!n)
        cli_buf_puts(b, "none");
    for (size_t i = 0; i < n; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        cli_buf_printf(b, "%s%s %s [%zu,%zu) %.2f ", i ? ", " : "",
                       h->detector, h->category, h->start, h->end, h->score);
        cli_show_span(b, tc->reply, tc->reply_len, h->start, h->end,
                      SPAN_SHOW_MAX);
    }
    unsigned flags = rg_result_flags(r);
    if (flags) {
        cli_buf_puts(b, "; flags: ");
        cli_flag_names(b, flags, ",");
    }
}

typedef struct runner {
    rg_engine *engine;
    rg_scratch *scratch;
    rg_result *result;
    char *routes;
    size_t passed, failed;
    cli_buf out;
} runner;

static void run_case(runner *rn, const tfile *tf, const tcase *tc, size_t index)
{
    cli_buf *b = &rn->out;
    cli_buf why = {0};
    rg_request req = {0};
    req.route = tc->route;
    req.reply = tc->reply;
    req.reply_len = tc->reply_len;
    req.user_message = tc->user;
    req.user_message_len = tc->user_len;
    req.history = tc->history;
    req.history_count = tc->nhistory;
    req.channel = tc->channel;
    req.locale = tc->locale;

    /* Policy tests check decisions, not latency: a check that ran out of
     * budget because the machine was busy (preempted, loaded CI) is run
     * again, a few times, before its fail-safe verdict is judged. */
    int rc = rg_check(rn->engine, rn->scratch, &req, rn->result);
    /* A check past its budget got the on_timeout fail-safe because the
     * machine was busy, not because of the policy: retry it, so that a
     * loaded CI machine does not fail policy cases at random. A case built
     * to time out (a tiny budget_us) still does, every time. */
    for (int retry = 0; retry < 3 && rc == RG_OK &&
                        (rg_result_flags(rn->result) & RG_FLAG_BUDGET_EXCEEDED);
         retry++)
        rc = rg_check(rn->engine, rn->scratch, &req, rn->result);
    for (int again = 0; again < 5 && rc == RG_OK &&
                        (rg_result_flags(rn->result) & RG_FLAG_BUDGET_EXCEEDED);
         again++)
        rc = rg_check(rn->engine, rn->scratch, &req, rn->result);
    const rg_result *r = rn->result;
    int show_cats = 0;
    if (rc == RG_E_NOROUTE) {
        cli_buf_printf(&why, "unknown route '%s' (routes: %s)", tc->route,
                       rn->routes ? rn->routes : "?");
    } else {
        if (rc != RG_OK)
            cli_buf_printf(&why, "check failed: %s; ", rg_strerror(rc));
        rg_verdict got = rg_result_verdict(r);
        if ((int)got != tc->expect)
            cli_buf_printf(&why, "expected %s, got %s; ",
                           rg_verdict_name(tc->expect), rg_verdict_name(got));
        size_t nc = rg_result_category_count(r);
        for (size_t i = 0; i < tc->cats.n; i++) {
            size_t j = 0;
            while (j < nc && !under(rg_result_category(r, j)->category,
                                    tc->cats.v[i]))
                j++;
            if (j == nc) {
                cli_buf_printf(&why, "expected category %s to score, it did "
                               "not; ", tc->cats.v[i]);
                show_cats = 1;
            }
        }
        for (size_t i = 0; i < tc->not_cats.n; i++) {
            for (size_t j = 0; j < nc; j++) {
                const rg_category_score *c = rg_result_category(r, j);
                if (c->score > 0 && under(c->category, tc->not_cats.v[i])) {
                    cli_buf_printf(&why, "expected no %s, got %s %.2f; ",
                                   tc->not_cats.v[i], c->category, c->score);
                    show_cats = 1;
                }
            }
        }
        if (tc->has_redacted) {
            size_t rlen = 0;
            const char *red = rg_result_redacted(r, &rlen);
            int same = red ? tc->redacted && rlen == tc->redacted_len &&
                                 memcmp(red, tc->redacted, rlen) == 0
                           : tc->redacted == NULL;
            if (!same) {
                cli_buf_puts(&why, "expected redacted ");
                if (tc->redacted)
                    cli_json_str(&why, tc->redacted, tc->redacted_len);
                else
                    cli_buf_puts(&why, "none");
                cli_buf_puts(&why, ", got ");
                if (red)
                    cli_json_str(&why, red, rlen);
                else
                    cli_buf_puts(&why, "none");
                cli_buf_puts(&why, "; ");
            }
        }
        if (why.len >= 2)
            why.len -= 2; /* the last "; " */
    }

    if (why.len == 0) {
        rn->passed++;
        cli_buf_printf(b, "ok - %s: ", tf->path);
        put_name(b, tc, index);
    } else {
        rn->failed++;
        cli_buf_printf(b, "FAIL - %s:%u: ", tf->path, tc->line);
        put_name(b, tc, index);
        cli_buf_puts(b, ": ");
        cli_buf_put(b, why.p, why.len);
        if (rc != RG_E_NOROUTE) {
            if (show_cats)
                put_categories(b, r);
            put_evidence(b, r, tc);
        }
    }
    cli_buf_putc(b, '\n');
    cli_buf_flush(b, stdout);
    cli_buf_free(&why);
}

/* ---- finding test files ------------------------------------------------ */

typedef struct path_list {
    char **v;
    size_t n, cap;
} path_list;

static int path_add(path_list *l, char *p)
{
    if (!p)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(p);
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = p;
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
           (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Add `arg` (a file) or its *.yaml / *.yml files in name order (a dir). */
static int add_tests(path_list *l, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        cli_error(VERB, "cannot open '%s': %s", arg, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (path_add(l, strdup(arg)) == 0)
            return 0;
        cli_error(VERB, "out of memory");
        return -1;
    }
    DIR *d = opendir(arg);
    if (!d) {
        cli_error(VERB, "cannot open directory '%s': %s", arg, strerror(errno));
        return -1;
    }
    size_t first = l->n;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_yaml_ext(e->d_name))
            continue;
        if (path_add(l, join(arg, e->d_name)) != 0) {
            cli_error(VERB, "out of memory");
            rc = -1;
            break;
        }
    }
    closedir(d);
    qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return rc;
}

/* DIR/tests for a policy directory; the file's directory's tests/ for a
 * single-file policy set. */
static char *default_tests_dir(const char *policy_path)
{
    struct stat st;
    if (stat(policy_path, &st) == 0 && S_ISDIR(st.st_mode))
        return join(policy_path, "tests");
    const char *slash = strrchr(policy_path, '/');
    if (!slash)
        return strdup("tests");
    size_t n = (size_t)(slash - policy_path) + 1;
    char *dir = malloc(n + 1);
    if (!dir)
        return NULL;
    memcpy(dir, policy_path, n);
    dir[n] = '\0';
    char *p = join(dir, "tests");
    free(dir);
    return p;
}

int cli_test_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL;
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    const char *path = cli_policy_path(policy_opt);

    path_list files = {0};
    runner rn = {0};
    int status = CLI_EXIT_USAGE;
    size_t malformed = 0;

    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            if (add_tests(&files, argv[i]) != 0)
                goto out;
    } else {
        char *dir = default_tests_dir(path);
        struct stat st;
        if (!dir) {
            cli_error(VERB, "out of memory");
            goto out;
        }
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_error(VERB, "no test directory '%s' (give test files as "
                      "arguments)", dir);
            free(dir);
            goto out;
        }
        int rc = add_tests(&files, dir);
        free(dir);
        if (rc != 0)
            goto out;
    }
    if (files.n == 0) {
        cli_error(VERB, "no test files (*.yaml) found");
        goto out;
    }

    if (cli_engine_open(VERB, path, 0, &rn.engine) != 0)
        goto out;
    rn.routes = cli_route_list(rn.engine);
    int rc = rg_scratch_alloc(rn.engine, &rn.scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &rn.result);
    if (rc != RG_OK) {
        cli_error(VERB, "%s", rg_strerror(rc));
        goto out;
    }

    for (size_t i = 0; i < files.n; i++) {
        tfile tf = {0};
        tf.path = files.v[i];
        if (load_file(&tf) != 0 || check_categories(&tf, rn.engine) != 0) {
            malformed++;
            /* Keep stderr and stdout in order on a terminal. */
            fflush(stdout);
        } else {
            for (size_t k = 0; k < tf.ncases; k++)
                run_case(&rn, &tf, &tf.cases[k], k);
        }
        tfile_free(&tf);
    }
    printf("%zu passed, %zu failed\n", rn.passed, rn.failed);
    if (malformed) {
        cli_error(VERB, "%zu malformed test file%s not run", malformed,
                  malformed == 1 ? "" : "s");
        status = CLI_EXIT_USAGE;
    } else {
        status = rn.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    if (fflush(stdout) != 0)
        status = CLI_EXIT_USAGE;

out:
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    free(rn.routes);
    cli_buf_free(&rn.out);
    rg_result_free(rn.result);
    rg_scratch_free(rn.scratch);
    rg_engine_close(rn.engine);
    return status;
}
