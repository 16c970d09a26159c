/*
 * cli_lint.c — `replyguard lint`: load a policy set with the library's
 * lint checks (RG_ENGINE_LINT: every error, semantic ones included even
 * when there are structural ones, plus the policy-author warnings of
 * docs/AUTHORING.md), print every diagnostic in file order, and summarise
 * what compiled.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "lint"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s lint [OPTIONS] [DIR | FILE]\n"
            "Load and compile a policy set; print every diagnostic as\n"
            "'file:line:column: error|warning: message' on stderr and, when it "
            "loads, a\none-line summary on stdout.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (or give it as the argument; "
            "default:\n"
            "                       $RG_POLICIES, ./policies, installed)\n"
            "      --strict         exit 1 when there are warnings\n"
            "  -h, --help           show this help\n\n"
            "Exit status: 0 clean (or warnings only); 1 warnings with "
            "--strict; 2 errors.\n",
            CLI_PROG);
}

/* a sorts before b: file (none first), line, column. */
static int diag_before(const rg_diag_entry *a, const rg_diag_entry *b)
{
    const char *fa = a->file ? a->file : "", *fb = b->file ? b->file : "";
    int c = strcmp(fa, fb);
    if (c)
        return c < 0;
    if (a->line != b->line)
        return a->line < b->line;
    return a->column < b->column;
}

int cli_lint_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"strict", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL;
    int strict = 0, c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'S': strict = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(VERB, "expected one policy directory, got %d",
                               argc - optind);
    if (optind < argc) {
        if (policy_opt)
            return cli_usage_error(VERB, "give the policy set either with -p "
                                   "or as an argument, not both");
        policy_opt = argv[optind];
    }
    const char *path = cli_policy_path(policy_opt);

    rg_engine *engine = NULL;
    rg_diag *diag = NULL;
    rg_engine_options opts = {0};
    opts.struct_size = sizeof opts;
    opts.flags = RG_ENGINE_LINT;
    int rc = rg_engine_open(&engine, path, &opts, &diag);
    size_t nerr = 0, nwarn = 0;
    /* In file order (file, line, column; stable), whichever stage found
     * them: an author fixes a file top to bottom. */
    size_t nd = diag ? diag->count : 0;
    const rg_diag_entry **order = malloc((nd ? nd : 1) * sizeof *order);
    for (size_t i = 0; order && i < nd; i++) {
        const rg_diag_entry *e = &diag->entries[i];
        size_t j = i;
        while (j > 0 && diag_before(e, order[j - 1])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = e;
    }
    for (size_t i = 0; i < nd; i++) {
        const rg_diag_entry *e = order ? order[i] : &diag->entries[i];
        if (e->severity == RG_SEV_WARNING)
            nwarn++;
        else
            nerr++;
        cli_print_diag(stderr, e, path);
    }
    free(order);
    rg_diag_free(diag);

    if (rc != RG_OK) {
        if (nerr == 0) {
            fprintf(stderr, "%s: error: %s\n", path, rg_strerror(rc));
            nerr = 1;
        }
        fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path, nerr,
                nerr == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s");
        return CLI_EXIT_USAGE;
    }

    rg_engine_info info;
    char t[64];
    char *routes = cli_route_list(engine);
    if (rg_engine_get_info(engine, &info) != RG_OK)
        memset(&info, 0, sizeof info);
    cli_format_ns(t, sizeof t, info.compile_ns);
    printf("%s: ok: %zu route%s (%s), %zu detector%s, %zu pattern%s, "
           "version %s, hash %s, compiled in %s, %zu warning%s\n",
           path, info.route_count, info.route_count == 1 ? "" : "s",
           routes ? routes : "?", info.detector_count,
           info.detector_count == 1 ? "" : "s", info.pattern_count,
           info.pattern_count == 1 ? "" : "s",
           info.policy_version[0] ? info.policy_version : "(none)",
           info.policy_hash, t, nwarn, nwarn == 1 ? "" : "s");
    free(routes);
    rg_engine_close(engine);
    if (fflush(stdout) != 0)
        return CLI_EXIT_USAGE;
    if (nerr)
        return CLI_EXIT_USAGE; /* an error that did not stop the load */
    return strict && nwarn ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
