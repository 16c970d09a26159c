/*
 * replyguard.c — the `replyguard` command-line tool: entry point, verb
 * dispatch, top-level --help and --version.
 *
 * Verbs (each in its own file, see cli.h):
 *   check   one reply, human-readable or JSON
 *   batch   JSON Lines (or plain lines) in, one JSON verdict per line out
 *   lint    load a policy set and print its diagnostics
 *   test    run a policy set's YAML test cases
 *   explain one reply, explained for a person (cli_explain.c)
 *   replay  a corpus through two policy sets: what changes (cli_replay.c)
 *   compile write a compiled bundle (cli_compile.c)
 *   watch   reload a policy set on every change (cli_watch.c)
 *   bench   measure rg_check on a file of replies (cli_bench.c)
 *   report  HTML report from batch --audit events (cli_report.c)
 *   stream  one reply arriving in chunks: what may be released (cli_stream.c)
 *
 * Exit status: 0 success; 1 a test case failed (test) or warnings with
 * lint --strict; 2 usage, policy or I/O error, with a message on stderr.
 */
#include "cli.h"

#include <string.h>

static const struct {
    const char *name;
    int (*main_fn)(int, char **);
    const char *summary;
} verbs[] = {
    {"check", cli_check_main, "check one reply and explain the verdict"},
    {"batch", cli_batch_main, "check JSON Lines from stdin, one JSON verdict per line"},
    {"lint", cli_lint_main, "validate a policy set and print its diagnostics"},
    {"test", cli_test_main, "run a policy set's YAML test cases"},
    {"explain", cli_explain_main, "explain one reply: highlighted hits, thresholds, deciding rule"},
    {"replay", cli_replay_main, "compare two policy sets on a corpus of replies"},
    {"compile", cli_compile_main, "write a compiled bundle that loads without compiling"},
    {"watch", cli_watch_main, "reload a policy set whenever its files change"},
    {"report", cli_report_main, "build an HTML report from batch --audit events"},
    {"bench", cli_bench_main, "measure rg_check on a file of replies (speed, allocations)"},
    {"stream", cli_stream_main, "check a reply arriving in chunks (JSON Lines): what may go out"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s VERB [OPTIONS] [ARGS]\n"
            "Check AI agents' draft replies against route policies: allow, "
            "handoff or block.\n\nVerbs:\n",
            CLI_PROG);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-7s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out,
            "\nPolicy set (-p DIR): -p, else $RG_POLICIES, else ./policies, "
            "else\n  %s\n"
            "\nExit status: 0 success; 1 a test case failed (test), warnings "
            "(lint --strict);\n  2 usage, policy or I/O error.\n"
            "\nRun '%s VERB --help' for a verb's options; see docs/CLI.md.\n",
            RG_DEFAULT_POLICY_DIR, CLI_PROG);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 ||
        strcmp(verb, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(verb, "--version") == 0 || strcmp(verb, "-V") == 0) {
        /* The header's version is what the tool was built against; the
         * library's is what it runs with (they differ after an upgrade). */
        printf("%s %s (libreplyguard %s)\n", CLI_PROG, RG_VERSION_STRING,
               rg_version());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verb, verbs[i].name) == 0)
            return verbs[i].main_fn(argc - 1, argv + 1);
    if (verb[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", verb);
    return cli_usage_error(NULL, "unknown verb '%s' (verbs: check, batch, "
                           "lint, test, explain, replay, compile, watch, bench, "
                           "report)", verb);
}
