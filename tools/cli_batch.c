/*
 * cli_batch.c — `replyguard batch`: JSON Lines (or plain lines) on stdin,
 * one JSON verdict per input line, in order, on stdout.
 *
 * One engine, one scratch and one result serve every line, and the input
 * buffer, history array and output buffer are reused, so after the first
 * few lines the loop allocates only inside jansson's parser. Output is
 * collected per line and written with one fwrite into a large stdio
 * buffer.
 *
 * Input is read with read(2) rather than getline so that the tool knows
 * when it is about to block: it flushes stdout right then. A caller that
 * runs batch as a co-process (write one line, wait for its verdict) gets
 * each answer at once, while a bulk run still writes in large blocks.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERB "batch"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s batch [OPTIONS] < input.jsonl > verdicts.jsonl\n"
            "Check one reply per input line; write one JSON object per "
            "line, in order.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (default: $RG_POLICIES, "
            "./policies, installed)\n"
            "  -r, --route ROUTE    route for lines that name none "
            "(default: default)\n"
            "      --lines          each line is a raw reply, not JSON\n"
            "      --metrics FILE   write the engine's metrics (Prometheus "
            "text) to FILE at the end\n"
            "      --audit FILE     write one audit event (JSON Lines, no reply "
            "text) per checked input\n"
            "      --audit-redacted add a copy of each reply with every "
            "detected span masked\n"
            "  -h, --help           show this help\n\n"
            "Input line: {\"id\", \"route\", \"reply\", \"user_message\", "
            "\"history\": [...],\n"
            "             \"channel\", \"locale\", \"labels\": {\"tenant\", "
            "\"persona\", ...},\n"
            "             \"time\"}  (only \"reply\" is required; other keys "
            "are ignored)\n"
            "Output line: {\"id\", \"verdict\", \"route\", \"categories\", "
            "\"hits\", \"reasons\", \"flags\",\n"
            "              \"redacted\", \"elapsed_ns\", \"policy\"}, or "
            "{\"id\", \"error\"} for a bad line.\n"
            "A bad line does not stop the batch. Exit status: 0; 2 on a "
            "usage, policy or I/O error.\n",
            CLI_PROG);
}

typedef struct batch {
    rg_engine *engine;
    rg_scratch *scratch;
    rg_result *result;
    const char *default_route;
    char *routes;       /* "a, b, c" for unknown-route messages */
    rg_text *history;   /* reused across lines */
    size_t history_cap;
    cli_buf out;
    cli_buf msg;        /* scratch space for error messages */
    cli_observe obs;    /* --audit, input "labels" and "time" */
} batch;

/* Lines of any length (embedded NULs included) from a file descriptor. */
typedef struct line_reader {
    int fd;
    char *buf;
    size_t cap;
    size_t start; /* first byte of the next line */
    size_t scan;  /* bytes before this hold no newline */
    size_t end;   /* end of the data read */
    int eof;
} line_reader;

/* The next line, without its '\n' (a last line without one counts).
 * Returns 1, 0 at end of input, or -1 with errno set. Before a read that
 * may block, flushes `out`. */
static int next_line(line_reader *lr, FILE *out, char **line, size_t *len)
{
    for (;;) {
        char *nl = lr->end > lr->scan
                       ? memchr(lr->buf + lr->scan, '\n', lr->end - lr->scan)
                       : NULL;
        if (nl) {
            *line = lr->buf + lr->start;
            *len = (size_t)(nl - *line);
            lr->start = lr->scan = (size_t)(nl - lr->buf) + 1;
            return 1;
        }
        lr->scan = lr->end;
        if (lr->eof) {
            if (lr->start == lr->end)
                return 0;
            *line = lr->buf + lr->start;
            *len = lr->end - lr->start;
            lr->start = lr->scan = lr->end;
            return 1;
        }
        /* Keep the partial line, at the front of a buffer with room. */
        if (lr->start) {
            memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
            lr->end -= lr->start;
            lr->scan -= lr->start;
            lr->start = 0;
        }
        if (lr->cap - lr->end < 4096) {
            size_t cap = lr->cap ? lr->cap * 2 : 65536;
            char *b = realloc(lr->buf, cap);
            if (!b) {
                errno = ENOMEM;
                return -1;
            }
            lr->buf = b;
            lr->cap = cap;
        }
        if (fflush(out) != 0)
            return -1;
        ssize_t r = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            lr->eof = 1;
        lr->end += (size_t)r;
    }
}

/* Check req and append the output object for it. */
static void run_check(batch *bt, const json_t *id, const rg_request *req)
{
    bt->obs.id = id; /* the audit line names its input */
    int rc = rg_check(bt->engine, bt->scratch, req, bt->result);
    if (rc == RG_E_NOROUTE) {
        bt->msg.len = 0;
        cli_buf_puts(&bt->msg, "unknown route '");
        cli_buf_puts(&bt->msg, req->route ? req->route : "default");
        cli_buf_puts(&bt->msg, "' (routes: ");
        cli_buf_puts(&bt->msg, bt->routes ? bt->routes : "?");
        cli_buf_puts(&bt->msg, ")");
        cli_buf_putc(&bt->msg, '\0');
        cli_json_error(&bt->out, id, bt->msg.oom ? "unknown route" : bt->msg.p);
    } else if (rc == RG_E_INVAL) {
        cli_json_error(&bt->out, id, rg_strerror(rc));
    } else {
        /* RG_OK, or an engine error whose fail-safe verdict the result
         * holds: report the verdict, with the error alongside. */
        cli_json_result(&bt->out, id, bt->result,
                        rc == RG_OK ? NULL : rg_strerror(rc));
    }
}

/* An optional string member: absent or null → *out NULL. With nul_ok 0,
 * an embedded NUL is an error (the field is passed as a C string). */
static const char *opt_string(const json_t *obj, const char *key,
                              const char **out, size_t *len, int nul_ok)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (len)
        *len = 0;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        return "must be a string";
    size_t n = json_string_length(v);
    if (!nul_ok && strlen(json_string_value(v)) != n)
        return "must not contain a NUL character";
    *out = json_string_value(v);
    if (len)
        *len = n;
    return NULL;
}

/* jansson's messages end in "near '<token>'", which can quote the reply:
 * keep the batch's error objects free of input text. */
static void parse_error(batch *bt, const json_error_t *err)
{
    bt->msg.len = 0;
    cli_buf_puts(&bt->msg, "invalid JSON: ");
    const char *text = err->text;
    const char *near = strstr(text, " near ");
    cli_buf_put(&bt->msg, text, near ? (size_t)(near - text) : strlen(text));
    cli_buf_printf(&bt->msg, " (column %d)", err->column);
    cli_buf_putc(&bt->msg, '\0');
    cli_json_error(&bt->out, NULL, bt->msg.oom ? "invalid JSON" : bt->msg.p);
}

static void field_error(batch *bt, const json_t *id, const char *field,
                        const char *problem)
{
    bt->msg.len = 0;
    cli_buf_printf(&bt->msg, "\"%s\" %s", field, problem);
    cli_buf_putc(&bt->msg, '\0');
    cli_json_error(&bt->out, id, bt->msg.oom ? problem : bt->msg.p);
}

static void json_line(batch *bt, const char *line, size_t n)
{
    size_t k = 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k == n) {
        /* One output line per input line, so blank lines are reported
         * rather than skipped: line numbers stay aligned. */
        cli_json_error(&bt->out, NULL, "empty line");
        return;
    }
    json_error_t err;
    json_t *root = json_loadb(line, n, JSON_ALLOW_NUL, &err);
    if (!root) {
        parse_error(bt, &err);
        return;
    }
    const json_t *id = NULL;
    const char *bad = NULL, *field = NULL;
    rg_request req = {0};

    if (!json_is_object(root)) {
        cli_json_error(&bt->out, NULL, "expected a JSON object");
        goto done;
    }
    id = json_object_get(root, "id");
    if (id && !json_is_null(id) && !json_is_string(id) && !json_is_number(id)) {
        id = NULL;
        field = "id", bad = "must be a string or a number";
        goto fail;
    }

    const json_t *reply = json_object_get(root, "reply");
    if (!reply) {
        field = "reply", bad = "is required";
        goto fail;
    }
    if (!json_is_string(reply)) {
        field = "reply", bad = "must be a string";
        goto fail;
    }
    req.reply = json_string_value(reply);
    req.reply_len = json_string_length(reply);

    if ((bad = opt_string(root, field = "route", &req.route, NULL, 0)) ||
        (bad = opt_string(root, field = "user_message", &req.user_message,
                          &req.user_message_len, 1)) ||
        (bad = opt_string(root, field = "channel", &req.channel, NULL, 0)) ||
        (bad = opt_string(root, field = "locale", &req.locale, NULL, 0)))
        goto fail;
    if (!req.route)
        req.route = bt->default_route;

    const json_t *hist = json_object_get(root, "history");
    if (hist && !json_is_null(hist)) {
        field = "history";
        if (!json_is_array(hist)) {
            bad = "must be an array of strings";
            goto fail;
        }
        size_t nh = json_array_size(hist);
        if (nh > bt->history_cap) {
            rg_text *h = realloc(bt->history, nh * sizeof *h);
            if (!h) {
                bad = "is too large (out of memory)";
                goto fail;
            }
            bt->history = h;
            bt->history_cap = nh;
        }
        for (size_t i = 0; i < nh; i++) {
            const json_t *s = json_array_get(hist, i);
            if (!json_is_string(s)) {
                bad = "must be an array of strings";
                goto fail;
            }
            bt->history[i].ptr = json_string_value(s);
            bt->history[i].len = json_string_length(s);
        }
        req.history = bt->history;
        req.history_count = nh;
    }
    if ((bad = cli_observe_request(&bt->obs, root, &req, &field)))
        goto fail;

    run_check(bt, id, &req);
    goto done;
fail:
    field_error(bt, id, field, bad);
done:
    json_decref(root);
}

int cli_batch_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"route", required_argument, NULL, 'r'},
        {"lines", no_argument, NULL, 'L'},
        {"metrics", required_argument, NULL, 'M'},
        {"audit", required_argument, NULL, 'A'},
        {"audit-redacted", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL;
    const char *metrics_path = NULL, *audit_path = NULL;
    int audit_redacted = 0;
    int lines = 0, c;
    batch bt = {0};
    bt.default_route = "default";

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:r:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'r': bt.default_route = optarg; break;
        case 'L': lines = 1; break;
        case 'M': metrics_path = optarg; break;
        case 'A': audit_path = optarg; break;
        case 'R': audit_redacted = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (optind < argc)
        /* Not echoed: it may well be a reply, and stderr ends up in logs. */
        return cli_usage_error(VERB, "unexpected argument (batch reads its "
                               "input from stdin)");

    const char *path = cli_policy_path(policy_opt);
    int status = cli_engine_open(VERB, path, 0, &bt.engine);
    if (status != 0)
        return status;

    if (audit_redacted && !audit_path) {
        status = cli_usage_error(VERB, "--audit-redacted needs --audit FILE");
        goto out;
    }
    if ((status = cli_observe_open(&bt.obs, VERB, bt.engine, audit_path,
                                   audit_redacted)))
        goto out;
    bt.routes = cli_route_list(bt.engine);
    /* A wrong -r would turn every line into an error: refuse it up front. */
    if (!cli_route_exists(bt.engine, bt.default_route)) {
        cli_error(VERB, "unknown route '%s' (routes: %s)", bt.default_route,
                  bt.routes ? bt.routes : "?");
        status = CLI_EXIT_USAGE;
        goto out;
    }
    int rc = rg_scratch_alloc(bt.engine, &bt.scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &bt.result);
    if (rc != RG_OK) {
        cli_error(VERB, "%s", rg_strerror(rc));
        status = CLI_EXIT_USAGE;
        goto out;
    }

    static char stdout_buf[1 << 16];
    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);

    /* In --lines mode the id is the line number (1-based): the output
     * then says which line it answers without echoing the text. */
    json_t *line_no = lines ? json_integer(0) : NULL;
    json_int_t nline = 0;
    line_reader lr = {.fd = STDIN_FILENO};
    char *line;
    size_t len;
    int got;
    while ((got = next_line(&lr, stdout, &line, &len)) == 1) {
        if (len && line[len - 1] == '\r')
            len--;
        if (lines) {
            /* Raw bytes, possibly invalid UTF-8 or NULs: the library takes
             * them as they are; the output carries offsets, not text. */
            rg_request req = {0};
            req.route = bt.default_route;
            req.reply = line;
            req.reply_len = len;
            json_integer_set(line_no, ++nline);
            run_check(&bt, line_no, &req);
        } else {
            json_line(&bt, line, len);
        }
        cli_buf_putc(&bt.out, '\n');
        if (bt.out.oom) {
            cli_error(VERB, "out of memory");
            status = CLI_EXIT_USAGE;
            break;
        }
        if (cli_buf_flush(&bt.out, stdout) != 0) {
            got = -1;
            break;
        }
    }
    if (got < 0) {
        cli_error(VERB, "%s: %s", ferror(stdout) ? "cannot write output"
                  : "cannot read stdin", strerror(errno));
        status = CLI_EXIT_USAGE;
    } else if (fflush(stdout) != 0) {
        cli_error(VERB, "cannot write output: %s", strerror(errno));
        status = CLI_EXIT_USAGE;
    }
    free(lr.buf);
    json_decref(line_no);

out:
    if (status == 0 && metrics_path)
        status = cli_write_metrics(VERB, bt.engine, metrics_path);
    {
        int ost = cli_observe_close(&bt.obs, VERB);
        if (status == 0)
            status = ost;
    }
    free(bt.history);
    free(bt.routes);
    cli_buf_free(&bt.out);
    cli_buf_free(&bt.msg);
    rg_result_free(bt.result);
    rg_scratch_free(bt.scratch);
    rg_engine_close(bt.engine);
    return status;
}
