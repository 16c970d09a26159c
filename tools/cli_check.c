/*
 * cli_check.c — `replyguard check`: check one reply and explain the verdict.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define VERB "check"
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
    int json = 0, c, status = 0;
    cli_request q;
    memset(&q, 0, sizeof q);

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
        case 'F':
            if ((status = cli_request_history(VERB, &q, optarg, c == 'F')) != 0)
                goto out;
            break;
        case 'h': usage(stdout); goto out;
        default: status = cli_bad_option(VERB, c, argv); goto out;
        }
    }
    if (argc - optind > 1) {
        status = cli_usage_error(VERB, "expected one TEXT argument, got %d "
                                 "(quote the reply)", argc - optind);
        goto out;
    }
    if ((status = cli_request_open(VERB, &q, policy_opt, route,
                                   optind < argc ? argv[optind] : NULL)) != 0)
        goto out;
    if (user) {
        q.req.user_message = user;
        q.req.user_message_len = strlen(user);
    }
    q.req.channel = channel;
    q.req.locale = locale;

    /* The first check on a fresh scratch pays its warm-up (buffers sized,
     * pages touched); an embedding program pays it once per thread. Check
     * twice so that the time shown is the steady-state one, and show the
     * first as well. */
    int rc = rg_check(q.engine, q.scratch, &q.req, q.result);
    uint64_t cold_ns = rg_result_elapsed_ns(q.result);
    if (rc == RG_OK)
        rc = rg_check(q.engine, q.scratch, &q.req, q.result);
    if (rc == RG_E_NOROUTE || rc == RG_E_INVAL) {
        cli_error(VERB, "%s", rg_strerror(rc));
        status = CLI_EXIT_USAGE;
        goto out;
    }
    /* Any other error still leaves a fail-safe verdict in the result:
     * show it, then report the error. */
    if (json) {
        cli_buf b = {0};
        cli_json_result(&b, NULL, q.result, rc == RG_OK ? NULL : rg_strerror(rc));
        cli_buf_putc(&b, '\n');
        cli_buf_flush(&b, stdout);
        cli_buf_free(&b);
    } else {
        print_human(q.result, q.req.reply, q.req.reply_len, cold_ns);
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
    cli_request_free(&q);
    return status;
}
