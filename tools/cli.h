/*
 * cli.h — shared pieces of the replyguard command-line tool.
 *
 * The tool uses only the public API (replyguard.h). Each verb lives in its
 * own file (cli_check.c, cli_batch.c, cli_lint.c, cli_test.c); what they
 * share is here: policy-directory resolution, engine loading with
 * diagnostics, a growable output buffer with a JSON writer that always
 * produces valid UTF-8, and small option-parsing helpers.
 */
#ifndef RG_CLI_H
#define RG_CLI_H

/* getopt_long, strdup, ssize_t: meson passes -D_GNU_SOURCE; this keeps a
 * plain `cc -std=c11` build working too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "replyguard.h"

#ifndef RG_DEFAULT_POLICY_DIR
#define RG_DEFAULT_POLICY_DIR "/usr/local/share/replyguard/policies"
#endif

/* Exit statuses (DESIGN.md, "CLI contract"). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,  /* `test`: a case failed; `lint --strict`: warnings */
    CLI_EXIT_USAGE = 2  /* usage, policy or I/O error (message on stderr) */
};

#define CLI_PROG "replyguard"

/* ---- verbs (argv[0] is the verb name) ---------------------------------- */

int cli_check_main(int argc, char **argv);
int cli_batch_main(int argc, char **argv);
int cli_lint_main(int argc, char **argv);
int cli_test_main(int argc, char **argv);
int cli_explain_main(int argc, char **argv);
int cli_replay_main(int argc, char **argv);
int cli_compile_main(int argc, char **argv);
int cli_watch_main(int argc, char **argv);
int cli_report_main(int argc, char **argv);
int cli_bench_main(int argc, char **argv);
int cli_stream_main(int argc, char **argv);

/* ---- messages ---------------------------------------------------------- */

/* "replyguard VERB: message" on stderr. */
void cli_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* As cli_error, plus "Try 'replyguard VERB --help'."; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report a getopt_long failure ('?' or ':') for argv[optind - 1]. */
int cli_bad_option(const char *verb, int c, char **argv);

/* ---- policies and engine ----------------------------------------------- */

/* The policy path to use: `opt` if set, else $RG_POLICIES, else ./policies
 * if it is a directory, else RG_DEFAULT_POLICY_DIR. */
const char *cli_policy_path(const char *opt);

/* Print one diagnostic as "file:line:column: severity: message" (the path
 * stands in for a missing file; line/column 0 are left out). */
void cli_print_diag(FILE *out, const rg_diag_entry *e, const char *path);

/* Load the policy set, printing diagnostics on stderr. Errors are always
 * printed; warnings only with show_warnings (otherwise a one-line note
 * that lint would show them). Returns 0 with *out set, or CLI_EXIT_USAGE. */
int cli_engine_open(const char *verb, const char *path, int show_warnings,
                    rg_engine **out);

/* 1 if the engine has a route of that name. */
int cli_route_exists(const rg_engine *engine, const char *route);
/* "a, b, c" (or "none"): the engine's route names; malloc'd (NULL on
 * OOM). */
char *cli_route_list(const rg_engine *engine);

/* Read a whole stream (binary-safe). Returns 0, or -1 with errno set.
 * *data is malloc'd, NUL-terminated after *len bytes. */
int cli_read_all(FILE *f, char **data, size_t *len);

/* ---- one reply from the command line (check, explain) ------------------ */

#define CLI_MAX_HISTORY 64
#define CLI_MAX_HISTORY_FILES 8

/* Zero-initialise; free with cli_request_free whatever happened. */
typedef struct cli_request {
    rg_request req;            /* route, reply, history set by _open */
    rg_text history[CLI_MAX_HISTORY];
    size_t nhistory;
    char *bufs[CLI_MAX_HISTORY_FILES]; /* history files' bytes */
    size_t nbufs;
    char *stdin_data;
    rg_engine *engine;
    rg_scratch *scratch;
    rg_result *result;
} cli_request;

/* One --history argument (is_file: --history-file): an existing regular
 * file's path reads the file, one reply per line; anything else is one
 * reply's text. 0, or an exit status after the message. */
int cli_request_history(const char *verb, cli_request *q, const char *arg, int is_file);
/* Load the policy, check the route exists, allocate scratch and result,
 * read the reply (reply_arg, or stdin when it is NULL or "-", one trailing
 * line ending dropped) and fill q->req. 0, or an exit status. */
int cli_request_open(const char *verb, cli_request *q, const char *policy_opt,
                     const char *route, const char *reply_arg);
void cli_request_free(cli_request *q);

/* ---- output buffer and JSON -------------------------------------------- */

typedef struct cli_buf {
    char *p;
    size_t len, cap;
    int oom; /* an append failed; contents are incomplete */
} cli_buf;

void cli_buf_free(cli_buf *b);
void cli_buf_put(cli_buf *b, const void *data, size_t n);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_putc(cli_buf *b, char c);
void cli_buf_printf(cli_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write the buffer to f and empty it; -1 on a write error. */
int cli_buf_flush(cli_buf *b, FILE *f);

/* Length of the UTF-8 sequence at s (1..4) and whether it is valid. An
 * invalid sequence's length is its maximal valid prefix (at least 1), so
 * each bad sequence becomes one U+FFFD (the Unicode "maximal subpart"
 * practice, as the WHATWG decoder does). n must be > 0. */
size_t cli_utf8_seq(const unsigned char *s, size_t n, int *valid);

/* A JSON string literal (quotes included) of n bytes: control characters
 * escaped, NUL as \u0000, invalid UTF-8 replaced by U+FFFD. The output is
 * always valid JSON and valid UTF-8, so it also serves to show untrusted
 * text to a human on one line. */
void cli_json_str(cli_buf *b, const char *s, size_t n);
void cli_json_cstr(cli_buf *b, const char *s); /* NULL → null */
/* A score or threshold: %.6g (scores are 0..1), null if not finite. */
void cli_json_num(cli_buf *b, double v);
/* A batch-input id (string, integer, real) or null. */
void cli_json_id(cli_buf *b, const json_t *id);

/* The hits of r as a JSON array. */
void cli_json_hits(cli_buf *b, const rg_result *r);
/* The batch output object for one checked reply (no trailing newline).
 * id may be NULL (→ null). error, if set, is added as "error" (an engine
 * error whose fail-safe verdict is still reported). */
void cli_json_result(cli_buf *b, const json_t *id, const rg_result *r,
                     const char *error);
/* {"id": id, "error": message} (no trailing newline). */
void cli_json_error(cli_buf *b, const json_t *id, const char *message);

/* ---- result helpers ---------------------------------------------------- */

/* Comma-separated flag names ("" when none): budget_exceeded, oversize,
 * engine_error, failsafe, invalid_utf8, hits_truncated, redacted. */
void cli_flag_names(cli_buf *b, unsigned flags, const char *sep);
/* "12.3 µs" etc. into buf. */
void cli_format_ns(char *buf, size_t size, uint64_t ns);

/* Show bytes [start,end) of text as a JSON-style quoted string, at most
 * max bytes (cut at a character boundary, "…" appended). */
void cli_show_span(cli_buf *b, const char *text, size_t text_len,
                   size_t start, size_t end, size_t max);

/* ---- observability (cli_observe.c): batch --audit / --metrics --------- */

typedef struct cli_observe {
    FILE *audit;            /* NULL: no audit */
    const char *audit_path;
    const json_t *id;       /* the input being checked (spliced into its line) */
    uint64_t time_ns;       /* the input's "time", when has_time */
    int has_time;
    rg_label *labels;       /* the input's "labels", reused */
    size_t label_cap;
    char *buf;              /* rg_audit_event_json output, reused */
    size_t cap;
    cli_buf line;
    int failed;             /* errno of the first audit write failure */
    size_t events;
} cli_observe;

/* Open audit_path (NULL: nothing to do) and set the engine's audit callback
 * (redacted: opt in to redacted copies). 0 or CLI_EXIT_USAGE (message
 * printed). */
int cli_observe_open(cli_observe *ob, const char *verb, rg_engine *engine,
                     const char *audit_path, int redacted);
/* Close the audit file and free; 0 or CLI_EXIT_USAGE if a write failed. */
int cli_observe_close(cli_observe *ob, const char *verb);
/* The input's "labels" and "time" into req / ob. NULL, or a problem
 * message with *field set. */
const char *cli_observe_request(cli_observe *ob, const json_t *root,
                                rg_request *req, const char **field);
/* RFC 3339 date-time ("2026-11-21T09:03:00.5Z", offsets allowed) to ns
 * since the epoch; 0 or -1. */
int cli_parse_time(const char *s, uint64_t *ns);
/* Render rg_engine_metrics into path. 0 or CLI_EXIT_USAGE. */
int cli_write_metrics(const char *verb, const rg_engine *engine,
                      const char *path);

#endif /* RG_CLI_H */
