/*
 * cli_explain.c — `replyguard explain`: one reply, explained for a person
 * at a terminal.
 *
 *   - the reply with every hit highlighted: colour on a terminal, and
 *     [brackets](n) otherwise (or with --color=never);
 *   - each hit: number, detector, category, original byte span, score and
 *     matched text (shadow hits marked);
 *   - each scored category against every threshold the route applies to
 *     it (rg_engine_threshold), crossed or not, with the rule key that set
 *     it and — when inherited — the route it comes from;
 *   - the verdict and the rule (or fail-safe) that decided it, the shadow
 *     verdict when shadow rules are present, and the policy identity.
 *
 * Reply text is printed JSON-escaped (control characters escaped, invalid
 * UTF-8 as U+FFFD), so the terminal never sees raw control bytes from it.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERB "explain"
#define SPAN_SHOW_MAX 60

/* ANSI styles; empty strings when colour is off. */
typedef struct style {
    const char *block, *handoff, *redact, *other, *shadow, *bold, *dim, *reset;
} style;

static const style colour = {"\033[1;31m", "\033[1;33m", "\033[1;36m",
                             "\033[4m", "\033[2;35m", "\033[1m", "\033[2m",
                             "\033[0m"};
static const style plain = {"", "", "", "", "", "", "", ""};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s explain [OPTIONS] [TEXT | -]\n"
            "Explain how a route judges one reply: highlighted hits, every "
            "category against\nthe route's thresholds (inherited ones marked "
            "with their route), and the rule\nthat decided the verdict.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set or bundle (default: "
            "$RG_POLICIES, ./policies,\n"
            "                       installed)\n"
            "  -r, --route ROUTE    route to apply (default: default)\n"
            "  -u, --user TEXT      the user's last message\n"
            "      --history TEXT|FILE  an earlier assistant reply, oldest first "
            "(repeatable);\n"
            "                       an existing file's path reads the file, one "
            "reply per line\n"
            "      --history-file FILE  earlier assistant replies, one per line\n"
            "  -c, --channel C      chat, voice, sms, email\n"
            "  -l, --locale L       BCP 47 locale\n"
            "      --color WHEN     auto (default: colour on a terminal unless "
            "NO_COLOR is set),\n"
            "                       always, never\n"
            "  -h, --help           show this help\n\n"
            "Exit status: 0 whatever the verdict; 2 on a usage or policy "
            "error.\n",
            CLI_PROG);
}

/* JSON-escaped text without the quotes: safe on a terminal, one line. */
static void put_text(cli_buf *b, const char *s, size_t n)
{
    cli_buf tmp = {0};
    cli_json_str(&tmp, s, n);
    if (tmp.len >= 2)
        cli_buf_put(b, tmp.p + 1, tmp.len - 2);
    cli_buf_free(&tmp);
}

/* The verdict a hit's category asks for, for its colour. */
static const char *hit_style(const style *st, const rg_result *r, const rg_hit *h)
{
    if (h->shadow)
        return st->shadow;
    size_t nc = rg_result_category_count(r);
    for (size_t i = 0; i < nc; i++) {
        const rg_category_score *c = rg_result_category(r, i);
        if (strcmp(c->category, h->category) != 0)
            continue;
        if (c->verdict == RG_BLOCK)
            return st->block;
        if (c->verdict == RG_HANDOFF)
            return st->handoff;
        if (c->redact)
            return st->redact;
    }
    return st->other;
}

/* The reply with hits marked. Overlapping hits merge into one marked
 * region labelled with all their numbers. */
static void put_reply(cli_buf *b, const style *st, int use_colour,
                      const rg_result *r, const char *reply, size_t len)
{
    size_t nh = rg_result_hit_count(r);
    size_t pos = 0;
    size_t i = 0;
    while (i < nh) {
        const rg_hit *h = rg_result_hit(r, i);
        if (h->source != RG_SOURCE_REPLY || h->start < pos) {
            /* Not a span of this text, or a conversation finding after
             * the sorted reply hits (docs/CONVERSATION.md). */
            i++;
            continue;
        }
        size_t s = h->start, e = h->end;
        if (s > len || e > len || s < pos)
            s = s < pos ? pos : s; /* hits are sorted; be safe anyway */
        size_t j = i + 1;
        while (j < nh && rg_result_hit(r, j)->start < e) {
            if (rg_result_hit(r, j)->end > e)
                e = rg_result_hit(r, j)->end;
            j++;
        }
        if (e > len)
            e = len;
        if (s > e)
            s = e;
        put_text(b, reply + pos, s - pos);
        /* The most severe style among the merged hits. */
        const char *hs = hit_style(st, r, h);
        for (size_t k = i + 1; k < j; k++) {
            const char *o = hit_style(st, r, rg_result_hit(r, k));
            if (o == st->block || (o == st->handoff && hs != st->block))
                hs = o;
        }
        if (use_colour) {
            cli_buf_puts(b, hs);
            put_text(b, reply + s, e - s);
            cli_buf_puts(b, st->reset);
            cli_buf_puts(b, st->dim);
        } else {
            cli_buf_putc(b, '[');
            put_text(b, reply + s, e - s);
            cli_buf_putc(b, ']');
        }
        cli_buf_putc(b, '(');
        for (size_t k = i; k < j; k++)
            cli_buf_printf(b, "%s%zu", k > i ? "," : "", k + 1);
        cli_buf_putc(b, ')');
        if (use_colour)
            cli_buf_puts(b, st->reset);
        pos = e;
        i = j;
    }
    put_text(b, reply + pos, len - pos);
}

static const char *const action_names[3] = {"handoff", "block", "redact"};

/* Thresholds of one category: crossed or not, rule key, inherited from. */
static void put_thresholds(cli_buf *b, const style *st, const rg_engine *engine,
                           const char *route, const char *category,
                           double score, unsigned flags)
{
    for (int a = RG_ACTION_HANDOFF; a <= RG_ACTION_REDACT; a++) {
        rg_threshold t;
        memset(&t, 0, sizeof t);
        t.struct_size = sizeof t;
        if (rg_engine_threshold(engine, route, category, a, flags, &t) != RG_OK)
            continue;
        cli_buf_printf(b, "      %-8s", action_names[a]);
        if (t.value < 0 && !t.rule[0]) {
            cli_buf_printf(b, "%snot set%s\n", st->dim, st->reset);
            continue;
        }
        if (t.value < 0) {
            cli_buf_printf(b, "%soff%s", st->dim, st->reset);
            if (t.rule[0])
                cli_buf_printf(b, "             %srule %s%s%s%s", st->dim, t.rule,
                               strcmp(t.route, route) ? ", inherited from " : "",
                               strcmp(t.route, route) ? t.route : "", st->reset);
            cli_buf_putc(b, '\n');
            continue;
        }
        int crossed = score + 1e-9 >= t.value;
        const char *cs = !crossed ? "" : a == RG_ACTION_BLOCK ? st->block
                                   : a == RG_ACTION_HANDOFF ? st->handoff
                                                            : st->redact;
        cli_buf_printf(b, "%.2f  %s%-9s%s  rule %s", t.value, cs,
                       crossed ? "crossed" : "not met", st->reset, t.rule);
        if (strcmp(t.route, route) != 0)
            cli_buf_printf(b, ", inherited from %s%s%s", st->bold, t.route,
                           st->reset);
        cli_buf_putc(b, '\n');
    }
    /* A shadow route evaluates its own thresholds besides: show those that
     * differ from what it enforces. */
    for (int a = RG_ACTION_HANDOFF; a <= RG_ACTION_REDACT && !flags; a++) {
        rg_threshold t, s;
        memset(&t, 0, sizeof t);
        memset(&s, 0, sizeof s);
        t.struct_size = s.struct_size = sizeof t;
        if (rg_engine_threshold(engine, route, category, a, 0, &t) != RG_OK ||
            rg_engine_threshold(engine, route, category, a, RG_THRESHOLD_SHADOW,
                                &s) != RG_OK)
            continue;
        if (t.value == s.value && !strcmp(t.rule, s.rule) && !strcmp(t.route, s.route))
            continue;
        cli_buf_printf(b, "      %sshadow %-7s", st->shadow, action_names[a]);
        if (s.value < 0)
            cli_buf_puts(b, "off");
        else
            cli_buf_printf(b, "%.2f  %-9s", s.value,
                           score + 1e-9 >= s.value ? "crossed" : "not met");
        if (s.rule[0])
            cli_buf_printf(b, "  rule %s of route %s", s.rule, s.route);
        cli_buf_printf(b, "%s\n", st->reset);
    }
}

static void print_explain(const rg_engine *engine, const char *route,
                          const rg_result *r, const char *reply, size_t len,
                          const style *st, int use_colour)
{
    cli_buf b = {0};
    size_t nh = rg_result_hit_count(r), nc = rg_result_category_count(r),
           nr = rg_result_reason_count(r);
    unsigned flags = rg_result_flags(r);
    const char *hash = rg_result_policy_hash(r);
    const char *version = rg_result_policy_version(r);

    cli_buf_printf(&b, "policy      version %s, hash %.12s\n",
                   version[0] ? version : "(none)", hash);
    cli_buf_printf(&b, "route       %s\n", route);
    cli_buf_puts(&b, "reply       ");
    put_reply(&b, st, use_colour, r, reply, len);
    cli_buf_putc(&b, '\n');

    /* Hits. */
    cli_buf_printf(&b, "hits        %zu%s\n", nh,
                   flags & RG_FLAG_HITS_TRUNCATED ? " (more were found: "
                                                    "hits_truncated)" : "");
    int wd = 8, wc = 8;
    for (size_t i = 0; i < nh; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        int d = (int)strlen(h->detector), c = (int)strlen(h->category);
        wd = d > wd ? d : wd;
        wc = c > wc ? c : wc;
    }
    for (size_t i = 0; i < nh; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        char span[48];
        if (h->source == RG_SOURCE_USER)
            snprintf(span, sizeof span, "user[%zu,%zu)", h->start, h->end);
        else if (h->source == RG_SOURCE_CONVERSATION)
            snprintf(span, sizeof span, "conversation");
        else
            snprintf(span, sizeof span, "[%zu,%zu)", h->start, h->end);
        cli_buf_printf(&b, "  (%zu) %-*s  %-*s  %-12s %5.2f  ", i + 1, wd,
                       h->detector, wc, h->category, span, h->score);
        if (h->source == RG_SOURCE_REPLY)
            cli_show_span(&b, reply, len, h->start, h->end, SPAN_SHOW_MAX);
        else
            cli_buf_puts(&b, h->source == RG_SOURCE_USER ? "(in the user message)"
                                                         : "(not in the draft)");
        if (h->shadow)
            cli_buf_printf(&b, "  %s[shadow]%s", st->shadow, st->reset);
        cli_buf_putc(&b, '\n');
    }

    /* Categories against the route's thresholds. */
    if (nc) {
        cli_buf_printf(&b, "categories  score against the thresholds of route "
                       "%s\n", route);
    }
    for (size_t i = 0; i < nc; i++) {
        const rg_category_score *c = rg_result_category(r, i);
        cli_buf_printf(&b, "  %s%s%s  %.2f", st->bold, c->category, st->reset,
                       c->score);
        if ((flags & RG_FLAG_SHADOW) && c->shadow_score != c->score)
            cli_buf_printf(&b, "  %s(%.2f with shadow detectors)%s", st->shadow,
                           c->shadow_score, st->reset);
        cli_buf_putc(&b, '\n');
        put_thresholds(&b, st, engine, route, c->category, c->score, 0);
    }

    /* Verdict and what decided it: the most severe enforced reason. */
    rg_verdict v = rg_result_verdict(r);
    const char *vs = v == RG_BLOCK ? st->block : v == RG_HANDOFF ? st->handoff : "";
    cli_buf_printf(&b, "verdict     %s%s%s", vs, rg_verdict_name(v), st->reset);
    const rg_reason *decider = NULL;
    size_t ties = 0;
    const char *want = v == RG_BLOCK ? "block" : v == RG_HANDOFF ? "handoff" : NULL;
    for (size_t i = 0; want && i < nr; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        if (x->shadow || strcmp(x->action, want) != 0)
            continue;
        if (!decider)
            decider = x;
        else
            ties++;
    }
    if (flags & RG_FLAG_FAILSAFE) {
        cli_buf_puts(&b, " — fail-safe:");
        if (flags & RG_FLAG_OVERSIZE)
            cli_buf_puts(&b, " on_oversize (reply longer than max_bytes)");
        if (flags & RG_FLAG_BUDGET_EXCEEDED)
            cli_buf_puts(&b, " on_timeout (check ran past budget_us)");
        if (flags & RG_FLAG_ENGINE_ERROR)
            cli_buf_puts(&b, " on_error (engine error)");
    } else if (decider) {
        cli_buf_printf(&b, " — decided by %s %.2f ≥ %s %.2f (rule %s of route %s)",
                       decider->category, decider->score, decider->action,
                       decider->threshold, decider->rule, decider->route);
        if (ties)
            cli_buf_printf(&b, ", and %zu more reason%s", ties, ties == 1 ? "" : "s");
    } else {
        cli_buf_puts(&b, " — no handoff or block threshold crossed");
    }
    cli_buf_putc(&b, '\n');
    int any_redact = 0;
    for (size_t i = 0; i < nr; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        if (x->shadow || strcmp(x->action, "redact") != 0)
            continue;
        cli_buf_printf(&b, "%s%s %.2f ≥ redact %.2f (rule %s of route %s)",
                       any_redact ? "; " : "masked      ", x->category,
                       x->score, x->threshold, x->rule, x->route);
        any_redact = 1;
    }
    if (any_redact)
        cli_buf_putc(&b, '\n');
    size_t rlen = 0;
    const char *red = rg_result_redacted(r, &rlen);
    if (red) {
        cli_buf_puts(&b, "redacted    ");
        cli_json_str(&b, red, rlen);
        cli_buf_putc(&b, '\n');
    }
    if (flags & RG_FLAG_SHADOW) {
        rg_verdict sv = rg_result_shadow_verdict(r);
        cli_buf_printf(&b, "shadow      %s%s%s%s\n", st->shadow,
                       rg_verdict_name(sv), st->reset,
                       sv == v ? " (shadow rules would not change the verdict)"
                               : " — the verdict if shadow rules enforced");
        for (size_t i = 0; i < nr; i++) {
            const rg_reason *x = rg_result_reason(r, i);
            if (!x->shadow)
                continue;
            cli_buf_printf(&b, "  %s %.2f ≥ %s %.2f (rule %s of route %s)\n",
                           x->category, x->score, x->action, x->threshold,
                           x->rule, x->route);
        }
    }
    unsigned other = flags & ~(unsigned)(RG_FLAG_SHADOW | RG_FLAG_REDACTED);
    if (other) {
        cli_buf_puts(&b, "flags       ");
        cli_flag_names(&b, other, ", ");
        cli_buf_putc(&b, '\n');
    }
    cli_buf_flush(&b, stdout);
    cli_buf_free(&b);
}

int cli_explain_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"route", required_argument, NULL, 'r'},
        {"user", required_argument, NULL, 'u'},
        {"history", required_argument, NULL, 'H'},
        {"history-file", required_argument, NULL, 'F'},
        {"channel", required_argument, NULL, 'c'},
        {"locale", required_argument, NULL, 'l'},
        {"color", required_argument, NULL, 'C'},
        {"colour", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL, *route = "default", *user = NULL,
               *channel = NULL, *locale = NULL, *when = "auto";
    int c, status = 0;
    cli_request q;
    memset(&q, 0, sizeof q);

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:r:u:c:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'r': route = optarg; break;
        case 'u': user = optarg; break;
        case 'c': channel = optarg; break;
        case 'l': locale = optarg; break;
        case 'C': when = optarg; break;
        case 'H':
        case 'F':
            if ((status = cli_request_history(VERB, &q, optarg, c == 'F')) != 0)
                goto out;
            break;
        case 'h': usage(stdout); goto out;
        default: status = cli_bad_option(VERB, c, argv); goto out;
        }
    }
    int use_colour;
    if (!strcmp(when, "always"))
        use_colour = 1;
    else if (!strcmp(when, "never"))
        use_colour = 0;
    else if (!strcmp(when, "auto")) {
        const char *nc = getenv("NO_COLOR");
        use_colour = isatty(STDOUT_FILENO) && !(nc && *nc);
    } else {
        status = cli_usage_error(VERB, "--color must be auto, always or never");
        goto out;
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
    int rc = rg_check(q.engine, q.scratch, &q.req, q.result);
    if (rc == RG_E_NOROUTE || rc == RG_E_INVAL) {
        cli_error(VERB, "%s", rg_strerror(rc));
        status = CLI_EXIT_USAGE;
        goto out;
    }
    print_explain(q.engine, route, q.result, q.req.reply, q.req.reply_len,
                  use_colour ? &colour : &plain, use_colour);
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
