/*
 * cli_stream.c — `replyguard stream`: one reply arriving in chunks, as an
 * agent streams it (docs/STREAMING.md).
 *
 *   replyguard stream [-p DIR] [-r ROUTE] < chunks.jsonl
 *
 * Input: JSON Lines, one chunk per line, {"chunk": "..."}; {"end": true}
 * (or the end of input) closes the stream. After every input line, one
 * JSON object on stdout, flushed at once (so the tool can sit behind a
 * pipe as a co-process):
 *
 *   {"verdict", "safe_bytes", "bytes", "text", "hits": [...], "flags": [...],
 *    "redacted"?, "final"?}
 *
 * "text" is what that line made releasable (masks in place); "safe_bytes"
 * counts bytes from the start of the stream; hit offsets are bytes of the
 * whole stream. "redacted" appears once a mask applies: the released text
 * so far with its masks, and on the final line rg_check's redacted copy of
 * the whole reply. A bad line gets {"error": "..."} and the stream goes on.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "stream"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s stream [OPTIONS] < chunks.jsonl\n"
            "Check one reply that arrives in chunks; after every chunk, say "
            "how much of it\nmay be released.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (default: $RG_POLICIES, "
            "./policies, installed)\n"
            "  -r, --route ROUTE    route of the conversation (default: "
            "default)\n"
            "  -h, --help           show this help\n\n"
            "Input line:  {\"chunk\": \"...\"}, or {\"end\": true} to close "
            "(end of input closes too)\n"
            "Output line: {\"verdict\", \"safe_bytes\", \"bytes\", \"text\", "
            "\"hits\", \"flags\",\n"
            "              \"redacted\" (once a mask applies), \"final\" "
            "(after the end)}\n"
            "\"text\" is what that chunk made releasable; offsets count "
            "bytes of the whole stream.\n"
            "Exit status: 0; 2 on a usage, policy or I/O error.\n",
            CLI_PROG);
}

typedef struct sstate {
    rg_engine *engine;
    rg_scratch *scratch;
    rg_result *result;
    rg_stream *stream;
    cli_buf out;
    cli_buf released; /* everything released so far */
    cli_buf fed;      /* everything fed */
    int masked;       /* a mask was released */
} sstate;

static void emit(sstate *s, int rc, int final)
{
    const rg_result *r = s->result;
    size_t tl = 0;
    const char *text = rg_stream_release(s->stream, &tl);
    cli_buf_put(&s->released, text, tl);
    cli_buf *b = &s->out;
    cli_buf_puts(b, "{\"verdict\":");
    cli_json_cstr(b, rg_verdict_name(rg_result_verdict(r)));
    cli_buf_printf(b, ",\"safe_bytes\":%zu,\"bytes\":%zu,\"text\":",
                   rg_stream_safe_bytes(s->stream), rg_stream_bytes(s->stream));
    cli_json_str(b, text, tl);
    cli_buf_puts(b, ",\"hits\":");
    cli_json_hits(b, r);
    cli_buf_puts(b, ",\"flags\":[");
    cli_buf tmp = {0};
    cli_flag_names(&tmp, rg_result_flags(r), "\",\"");
    if (tmp.len) {
        cli_buf_putc(b, '"');
        cli_buf_put(b, tmp.p, tmp.len);
        cli_buf_putc(b, '"');
    }
    cli_buf_free(&tmp);
    cli_buf_putc(b, ']');
    /* Once the released text differs from the bytes it stands for, a mask
     * went out: show the released text with its masks. */
    size_t safe = rg_stream_safe_bytes(s->stream);
    if (!s->masked && (s->released.len != safe ||
                       (safe && memcmp(s->released.p, s->fed.p, safe))))
        s->masked = 1;
    size_t rl = 0;
    const char *red = final ? rg_result_redacted(r, &rl) : NULL;
    if (red) {
        cli_buf_puts(b, ",\"redacted\":");
        cli_json_str(b, red, rl);
    } else if (s->masked) {
        cli_buf_puts(b, ",\"redacted\":");
        cli_json_str(b, s->released.p ? s->released.p : "", s->released.len);
    }
    if (rc != RG_OK) {
        cli_buf_puts(b, ",\"error\":");
        cli_json_cstr(b, rg_strerror(rc));
    }
    if (final)
        cli_buf_puts(b, ",\"final\":true");
    cli_buf_puts(b, "}\n");
}

/* One input line: returns 1 when it closed the stream. */
static int line(sstate *s, const char *ln, size_t n)
{
    json_error_t err;
    json_t *root = json_loadb(ln, n, JSON_ALLOW_NUL, &err);
    const char *bad = NULL;
    int closed = 0;
    if (!root) {
        bad = "invalid JSON";
    } else if (!json_is_object(root)) {
        bad = "expected a JSON object";
    } else {
        const json_t *chunk = json_object_get(root, "chunk");
        const json_t *end = json_object_get(root, "end");
        if (end && !json_is_boolean(end))
            bad = "\"end\" must be true or false";
        else if (chunk && !json_is_string(chunk))
            bad = "\"chunk\" must be a string";
        else if (!chunk && !json_is_true(end))
            bad = "expected {\"chunk\": \"...\"} or {\"end\": true}";
        if (!bad && chunk) {
            cli_buf_put(&s->fed, json_string_value(chunk), json_string_length(chunk));
            int rc = rg_stream_feed(s->stream, s->scratch, json_string_value(chunk),
                                    json_string_length(chunk), s->result);
            if (!json_is_true(end))
                emit(s, rc, 0);
        }
        if (!bad && json_is_true(end)) {
            int rc = rg_stream_close(s->stream, s->scratch, s->result);
            emit(s, rc, 1);
            closed = 1;
        }
    }
    if (bad) {
        cli_buf_puts(&s->out, "{\"error\":");
        cli_json_cstr(&s->out, bad);
        cli_buf_puts(&s->out, "}\n");
    }
    json_decref(root);
    return closed;
}

int cli_stream_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"route", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policies = NULL, *route = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            policies = optarg;
            break;
        case 'r':
            route = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(VERB, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(VERB, "unexpected argument '%s'", argv[optind]);
    sstate s;
    memset(&s, 0, sizeof s);
    const char *path = cli_policy_path(policies);
    int st = cli_engine_open(VERB, path, 0, &s.engine);
    if (st)
        return st;
    rg_request req;
    memset(&req, 0, sizeof req);
    req.route = route;
    int rc = rg_scratch_alloc(s.engine, &s.scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &s.result);
    if (rc == RG_OK)
        rc = rg_stream_open(s.engine, &req, &s.stream);
    if (rc != RG_OK) {
        if (rc == RG_E_NOROUTE) {
            char *list = cli_route_list(s.engine);
            cli_error(VERB, "unknown route '%s' (routes: %s)", route ? route : "default",
                      list ? list : "?");
            free(list);
        } else {
            cli_error(VERB, "%s", rg_strerror(rc));
        }
        st = CLI_EXIT_USAGE;
        goto done;
    }
    char *ln = NULL;
    size_t cap = 0;
    ssize_t got;
    int closed = 0;
    while (!closed && (got = getline(&ln, &cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        if (n && ln[n - 1] == '\n')
            n--;
        closed = line(&s, ln, n);
        if (cli_buf_flush(&s.out, stdout)) {
            cli_error(VERB, "cannot write the output");
            st = CLI_EXIT_USAGE;
            break;
        }
    }
    free(ln);
    if (!closed && st == CLI_EXIT_OK) {
        rc = rg_stream_close(s.stream, s.scratch, s.result);
        emit(&s, rc, 1);
        if (cli_buf_flush(&s.out, stdout)) {
            cli_error(VERB, "cannot write the output");
            st = CLI_EXIT_USAGE;
        }
    }
    if (ferror(stdin)) {
        cli_error(VERB, "cannot read the input");
        st = CLI_EXIT_USAGE;
    }
done:
    rg_stream_free(s.stream);
    rg_result_free(s.result);
    rg_scratch_free(s.scratch);
    rg_engine_close(s.engine);
    cli_buf_free(&s.out);
    cli_buf_free(&s.released);
    cli_buf_free(&s.fed);
    return st;
}
