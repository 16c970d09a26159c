/*
 * cli_compile.c — `replyguard compile`: write a self-contained compiled
 * bundle (rg_bundle_write) that replicas load without compiling.
 *
 *   replyguard compile [-p DIR | DIR] -o FILE [--generic]
 *
 * Prints the policy set's diagnostics (warnings included), then loads the
 * bundle it wrote — so a bundle that would not load never leaves here
 * reported as good — and prints its identity, size and load times.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define VERB "compile"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s compile [OPTIONS] [DIR] -o FILE\n"
            "Compile a policy set into one bundle file that rg_engine_open "
            "(and -p FILE in\nevery verb) loads without reading YAML or "
            "compiling.\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set (or give it as the argument; "
            "default:\n"
            "                       $RG_POLICIES, ./policies, installed)\n"
            "  -o, --output FILE    the bundle to write (atomically)\n"
            "      --generic        compile for any x86-64 CPU, not only "
            "this one's features\n"
            "  -h, --help           show this help\n\n"
            "A bundle loads only with the same replyguard build and Hyperscan "
            "version (see\ndocs/AUTHORING.md). Exit status: 0; 2 on a usage, "
            "policy or I/O error.\n",
            CLI_PROG);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cli_compile_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"generic", no_argument, NULL, 'G'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL, *output = NULL;
    unsigned flags = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'o': output = optarg; break;
        case 'G': flags |= RG_BUNDLE_GENERIC; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(VERB, "expected one policy directory");
    if (optind < argc) {
        if (policy_opt)
            return cli_usage_error(VERB, "give the policy set either with -p "
                                   "or as an argument, not both");
        policy_opt = argv[optind];
    }
    if (!output)
        return cli_usage_error(VERB, "-o FILE is required (the bundle to write)");
    const char *path = cli_policy_path(policy_opt);

    rg_diag *diag = NULL;
    uint64_t t0 = now_ns();
    int rc = rg_bundle_write(path, output, NULL, flags, &diag);
    uint64_t compile_ns = now_ns() - t0;
    size_t nerr = 0, nwarn = 0;
    for (size_t i = 0; diag && i < diag->count; i++) {
        if (diag->entries[i].severity == RG_SEV_WARNING)
            nwarn++;
        else
            nerr++;
        cli_print_diag(stderr, &diag->entries[i], path);
    }
    rg_diag_free(diag);
    if (rc != RG_OK) {
        if (nerr == 0)
            fprintf(stderr, "%s: error: %s\n", path, rg_strerror(rc));
        cli_error(VERB, "no bundle written (%s)", rg_status_name(rc));
        return CLI_EXIT_USAGE;
    }

    /* Prove it loads (and say how fast). */
    rg_engine *engine = NULL;
    rg_engine_options opts = {0};
    opts.struct_size = sizeof opts;
    opts.flags = RG_ENGINE_NO_CACHE;
    t0 = now_ns();
    rc = rg_engine_open(&engine, output, &opts, &diag);
    uint64_t load_ns = now_ns() - t0;
    for (size_t i = 0; diag && i < diag->count; i++)
        cli_print_diag(stderr, &diag->entries[i], output);
    rg_diag_free(diag);
    if (rc != RG_OK) {
        cli_error(VERB, "the bundle written to '%s' does not load (%s)", output,
                  rg_status_name(rc));
        return CLI_EXIT_USAGE;
    }
    rg_engine_info info;
    rg_engine_get_info(engine, &info);
    struct stat st;
    long long size = stat(output, &st) == 0 ? (long long)st.st_size : -1;
    char tc[64], tl[64];
    cli_format_ns(tc, sizeof tc, compile_ns);
    cli_format_ns(tl, sizeof tl, load_ns);
    char *routes = cli_route_list(engine);
    printf("%s: wrote bundle %s: %lld bytes, %zu routes (%s), %zu detectors, "
           "version %s, hash %s, %s, compiled in %s, loads in %s, %zu warning%s\n",
           path, output, size, info.route_count, routes ? routes : "?",
           info.detector_count,
           info.policy_version[0] ? info.policy_version : "(none)",
           info.policy_hash,
           flags & RG_BUNDLE_GENERIC ? "for any x86-64 CPU" : "for this CPU",
           tc, tl, nwarn, nwarn == 1 ? "" : "s");
    free(routes);
    rg_engine_close(engine);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}
