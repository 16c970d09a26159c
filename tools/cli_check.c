/*
 * cli_check.c — `replyguard check`: check one reply and explain the verdict.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERB "check"
#define MAX_HISTORY 64
#define MAX_HISTORY_FILES 8

static void free_bufs(char **bufs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
}

/* The lines of FILE (empty ones skipped, CRLF accepted) appended to
 * history as replies, oldest first (docs/CONVERSATION.md). The file's
 * bytes stay in bufs[] until the check is done. 0, or an exit status
 * after the error message. */
static int read_history_file(const char *path, char **bufs, size_t *nbufs, rg_text *history,
                             size_t *nhistory)
{
    if (*nbufs == MAX_HISTORY_FILES)
        return cli_usage_error(VERB, "at most %d history files", MAX_HISTORY_FILES);
    FILE *hf = fopen(path, "rb");
    if (!hf)
        return cli_usage_error(VERB, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 0, len = 0;
    char *data = NULL;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *nd = realloc(data, cap = (cap ? cap * 2 : 8192));
            if (!nd) {
                free(data);
                fclose(hf);
                return cli_usage_error(VERB, "out of memory");
            }
            data = nd;
        }
        size_t got = fread(data + len, 1, cap - len - 1, hf);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(hf);
    fclose(hf);
    if (bad) {
        free(data);
        return cli_usage_error(VERB, "cannot read %s", path);
    }
    bufs[(*nbufs)++] = data;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && data[j] != '\n')
            j++;
        size_t e = j;
        if (e > i && data[e - 1] == '\r')
            e--;
        if (e > i) {
            if (*nhistory == MAX_HISTORY)
                return cli_usage_error(VERB, "at most %d history replies", MAX_HISTORY);
            history[*nhistory].ptr = data + i;
            history[*nhistory].len = e - i;
            (*nhistory)++;
        }
        i = j + 1;
    }
    return 0;
}
#define SPAN_SHOW_MAX 60 /* bytes of a hit's text shown before "…" */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s check [OPTIONS] [TEXT | -]\n"
            "Check one draft reply (TEXT, or stdin when TEXT is '-' or "
            "absent) and explain\nthe verdict.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (default: $RG_POLICIES, "
            "./policies, installed)\n"
            "  -r, --route ROUTE    route to apply (default: default)\n"
            "  -u, --user TEXT      the user's last message\n"
            "      --history TEXT|FILE  an earlier assistant reply, oldest first "
            "(repeatable);\n"
            "                       an existing file's path reads the file, one "
            "reply per line\n"
            "      --history-file FILE  earlier assistant replies, one per line, "
            "oldest first\n"
            "  -c, --channel C      chat, voice, sms, email\n"
            "  -l, --locale L       BCP 47 locale, e.g. en-US\n"
            "  -j, --json           print the batch output object instead\n"
            "  -h, --help           show this help\n\n"
            "A reply read from stdin loses one trailing newline. Use '--' "
            "before a TEXT that\nstarts with '-'. Exit status: 0 whatever "
            "the verdict; 2 on a usage or policy error.\n",
            CLI_PROG);
}

static void print_human(const rg_result *r, const char *reply, size_t len,
                        uint64_t cold_ns)
{
    cli_buf b = {0};
    char t[64];
    size_t nh = rg_result_hit_count(r), nc = rg_result_category_count(r),
           nr = rg_result_reason_count(r);
    unsigned flags = rg_result_flags(r);

    cli_buf_printf(&b, "verdict     %s\n", rg_verdict_name(rg_result_verdict(r)));
    cli_buf_printf(&b, "route       %s\n", rg_result_route(r));
    cli_buf_puts(&b, "flags       ");
    if (flags)
        cli_flag_names(&b, flags, ", ");
    else
        cli_buf_puts(&b, "none");
    cli_buf_putc(&b, '\n');
    if (flags & RG_FLAG_FAILSAFE) {
        /* Keep a fail-safe verdict apart from a policy decision. */
        const char *sep = " ";
        cli_buf_puts(&b, "fail-safe   the verdict is at least the route's");
        if (flags & RG_FLAG_OVERSIZE) {
            cli_buf_printf(&b, "%son_oversize (reply longer than max_bytes)",
                           sep);
            sep = ", ";
        }
        if (flags & RG_FLAG_BUDGET_EXCEEDED) {
            cli_buf_printf(&b, "%son_timeout (check ran past budget_us)", sep);
            sep = ", ";
        }
        if (flags & RG_FLAG_ENGINE_ERROR)
            cli_buf_printf(&b, "%son_error (engine error)", sep);
        cli_buf_putc(&b, '\n');
    }

    /* Column widths so the table lines up whatever the ids. */
    int wd = 8, wc = 8;
    for (size_t i = 0; i < nh; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        int d = (int)strlen(h->detector), c = (int)strlen(h->category);
        wd = d > wd ? d : wd;
        wc = c > wc ? c : wc;
    }
    for (size_t i = 0; i < nc; i++) {
        int c = (int)strlen(rg_result_category(r, i)->category);
        wc = c > wc ? c : wc;
    }

    if (nh == 0) {
        cli_buf_puts(&b, "hits        none\n");
    } else {
        cli_buf_printf(&b, "hits        %zu%s\n", nh,
                       flags & RG_FLAG_HITS_TRUNCATED ? " (truncated)" : "");
        for (size_t i = 0; i < nh; i++) {
            const rg_hit *h = rg_result_hit(r, i);
            char span[48];
            if (h->source == RG_SOURCE_USER)
                snprintf(span, sizeof span, "user[%zu,%zu)", h->start, h->end);
            else if (h->source == RG_SOURCE_CONVERSATION)
                snprintf(span, sizeof span, "conversation");
            else
                snprintf(span, sizeof span, "[%zu,%zu)", h->start, h->end);
            cli_buf_printf(&b, "  %-*s  %-*s  %-11s  %.2f  ", wd, h->detector,
                           wc, h->category, span, h->score);
            if (h->source == RG_SOURCE_REPLY)
                cli_show_span(&b, reply, len, h->start, h->end, SPAN_SHOW_MAX);
            else if (h->source == RG_SOURCE_USER)
                cli_buf_puts(&b, "(in the user message)");
            else
                cli_buf_puts(&b, "(not in the draft)");
            if (h->shadow) /* mode: shadow — reported, never decides */
                cli_buf_puts(&b, "  [shadow]");
            cli_buf_putc(&b, '\n');
        }
    }

    if (nc == 0) {
        cli_buf_puts(&b, "categories  none\n");
    } else {
        cli_buf_puts(&b, "categories\n");
        for (size_t i = 0; i < nc; i++) {
            const rg_category_score *c = rg_result_category(r, i);
            cli_buf_printf(&b, "  %-*s  %.2f  %s%s\n", wc, c->category,
                           c->score, rg_verdict_name(c->verdict),
                           c->redact ? ", redacted" : "");
        }
    }

    if (nr == 0) {
        cli_buf_puts(&b, "reasons     none (no threshold crossed)\n");
    } else {
        cli_buf_puts(&b, "reasons\n");
        for (size_t i = 0; i < nr; i++) {
            const rg_reason *x = rg_result_reason(r, i);
            cli_buf_printf(&b, "  %s crossed rule %s of route %s: "
                           "%.2f ≥ %.2f → %s%s\n",
                           x->category, x->rule, x->route, x->score,
                           x->threshold, x->action,
                           x->shadow ? " [shadow: not enforced]" : "");
        }
    }

    size_t rlen;
    const char *red = rg_result_redacted(r, &rlen);
    if (red) {
        cli_buf_puts(&b, "redacted    ");
        cli_json_str(&b, red, rlen);
        cli_buf_putc(&b, '\n');
    }
    const char *ver = rg_result_policy_version(r);
    const char *hash = rg_result_policy_hash(r);
    cli_buf_printf(&b, "policy      version %s, hash %.12s\n",
                   ver && *ver ? ver : "(none)", hash ? hash : "");
    cli_format_ns(t, sizeof t, rg_result_elapsed_ns(r));
    cli_buf_printf(&b, "elapsed     %s", t);
    cli_format_ns(t, sizeof t, cold_ns);
    cli_buf_printf(&b, " (first check on a fresh scratch: %s)\n", t);
    cli_buf_flush(&b, stdout);
    cli_buf_free(&b);
}

int cli_check_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"route", required_argument, NULL, 'r'},
        {"user", required_argument, NULL, 'u'},
        {"history", required_argument, NULL, 'H'},
        {"history-file", required_argument, NULL, 'F'},
        {"channel", required_argument, NULL, 'c'},
        {"locale", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL, *route = "default", *user = NULL,
               *channel = NULL, *locale = NULL;
    rg_text history[MAX_HISTORY];
    size_t nhistory = 0;
    int json = 0, c;
    char *hist_bufs[MAX_HISTORY_FILES];
    size_t nhist_bufs = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:r:u:c:l:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'r': route = optarg; break;
        case 'u': user = optarg; break;
        case 'c': channel = optarg; break;
        case 'l': locale = optarg; break;
        case 'j': json = 1; break;
        case 'H':
        case 'F': {
            /* --history ARG: the path of an existing regular file reads the
             * file (`check --user TEXT --history FILE`, as issue 7 asks),
             * anything else is one reply's text; --history-file always
             * reads a file. */
            struct stat stt;
            if (c == 'F' || (stat(optarg, &stt) == 0 && S_ISREG(stt.st_mode))) {
                int rc = read_history_file(optarg, hist_bufs, &nhist_bufs, history, &nhistory);
                if (rc) {
                    free_bufs(hist_bufs, nhist_bufs);
                    return rc;
                }
                break;
            }
            if (nhistory == MAX_HISTORY) {
                free_bufs(hist_bufs, nhist_bufs);
                return cli_usage_error(VERB, "at most %d history replies", MAX_HISTORY);
            }
            history[nhistory].ptr = optarg;
            history[nhistory].len = strlen(optarg);
            nhistory++;
            break;
        }
        case 'h': free_bufs(hist_bufs, nhist_bufs); usage(stdout); return CLI_EXIT_OK;
        default: free_bufs(hist_bufs, nhist_bufs); return cli_bad_option(VERB, c, argv);
        }
    }
    if (argc - optind > 1) {
        free_bufs(hist_bufs, nhist_bufs);
        return cli_usage_error(VERB, "expected one TEXT argument, got %d "
                               "(quote the reply)", argc - optind);
    }

    /* Load the policy first: a policy or route error should show before
     * the user types a reply on stdin. */
    char *stdin_data = NULL;
    const char *reply;
    size_t reply_len;
    const char *path = cli_policy_path(policy_opt);
    rg_engine *engine = NULL;
    rg_scratch *scratch = NULL;
    rg_result *result = NULL;
    int status = cli_engine_open(VERB, path, 0, &engine);
    if (status != 0)
        goto out;

    if (!cli_route_exists(engine, route)) {
        char *routes = cli_route_list(engine);
        cli_error(VERB, "unknown route '%s' (routes: %s)", route,
                  routes ? routes : "?");
        free(routes);
        status = CLI_EXIT_USAGE;
        goto out;
    }

    int rc = rg_scratch_alloc(engine, &scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &result);
    if (rc != RG_OK) {
        cli_error(VERB, "%s", rg_strerror(rc));
        status = CLI_EXIT_USAGE;
        goto out;
    }

    /* The reply: an argument, or stdin. */
    if (optind < argc && strcmp(argv[optind], "-") != 0) {
        reply = argv[optind];
        reply_len = strlen(reply);
    } else {
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "(reading the reply from stdin; end it with "
                    "Ctrl-D)\n");
        if (cli_read_all(stdin, &stdin_data, &reply_len) != 0) {
            cli_error(VERB, "cannot read stdin: %s", strerror(errno));
            status = CLI_EXIT_USAGE;
            goto out;
        }
        /* `echo text | replyguard check` should check "text", not
         * "text\n": drop one trailing line ending. */
        if (reply_len && stdin_data[reply_len - 1] == '\n')
            reply_len--;
        if (reply_len && stdin_data[reply_len - 1] == '\r')
            reply_len--;
        reply = stdin_data;
    }

    rg_request req = {0};
    req.route = route;
    req.reply = reply;
    req.reply_len = reply_len;
    if (user) {
        req.user_message = user;
        req.user_message_len = strlen(user);
    }
    req.history = nhistory ? history : NULL;
    req.history_count = nhistory;
    req.channel = channel;
    req.locale = locale;

    /* The first check on a fresh scratch pays its warm-up (buffers sized,
     * pages touched); an embedding program pays it once per thread. Check
     * twice so that the time shown is the steady-state one, and show the
     * first as well. */
    rc = rg_check(engine, scratch, &req, result);
    uint64_t cold_ns = rg_result_elapsed_ns(result);
    if (rc == RG_OK)
        rc = rg_check(engine, scratch, &req, result);
    if (rc == RG_E_NOROUTE || rc == RG_E_INVAL) {
        cli_error(VERB, "%s", rg_strerror(rc));
        status = CLI_EXIT_USAGE;
        goto out;
    }
    /* Any other error still leaves a fail-safe verdict in the result:
     * show it, then report the error. */
    if (json) {
        cli_buf b = {0};
        cli_json_result(&b, NULL, result, rc == RG_OK ? NULL : rg_strerror(rc));
        cli_buf_putc(&b, '\n');
        cli_buf_flush(&b, stdout);
        cli_buf_free(&b);
    } else {
        print_human(result, reply, reply_len, cold_ns);
    }
    if (rc != RG_OK) {
        cli_error(VERB, "check failed: %s (%s); the verdict shown is the "
                  "route's fail-safe", rg_strerror(rc), rg_status_name(rc));
        status = CLI_EXIT_USAGE;
    }
    if (fflush(stdout) != 0) {
        cli_error(VERB, "cannot write output: %s", strerror(errno));
        status = CLI_EXIT_USAGE;
    }

out:
    rg_result_free(result);
    rg_scratch_free(scratch);
    rg_engine_close(engine);
    free(stdin_data);
    free_bufs(hist_bufs, nhist_bufs);
    return status;
}
