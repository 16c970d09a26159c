/*
 * cli_watch.c — `replyguard watch`: the library's policy watcher
 * (rg_watch_start) on a policy directory, printing each reload.
 *
 *   replyguard watch [-p DIR] [--debounce MS] [--count N]
 *
 * What a service embedding replyguard sees when an operator edits or
 * deploys a policy: a change is debounced, reloaded, and either swapped
 * in (new generation, version, hash) or refused with its diagnostics
 * while the running policy stays in force. Runs until SIGINT/SIGTERM, or
 * after N reload attempts with --count (for scripts and tests).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VERB "watch"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: %s watch [OPTIONS]\n"
            "Watch a policy set and reload it on every change, as a service "
            "using\nrg_watch_start would; print one line per reload (and the "
            "diagnostics of a\nfailed one: the running policy then stays in "
            "force).\n\n"
            "Options:\n"
            "  -p, --policies DIR   policy set or bundle (default: "
            "$RG_POLICIES, ./policies,\n"
            "                       installed)\n"
            "      --debounce MS    quiet time before reloading (default "
            "200)\n"
            "      --count N        exit after N reload attempts\n"
            "  -h, --help           show this help\n\n"
            "Exit status: 0 on SIGINT/SIGTERM or after --count; 2 on a "
            "usage or policy error\nat start.\n",
            CLI_PROG);
}

typedef struct watch_state {
    rg_engine *engine;
    const char *path;
    unsigned long count, limit;
} watch_state;

static void on_reload(void *user, int status, const rg_diag *diag,
                      uint64_t generation)
{
    watch_state *ws = user;
    rg_engine_info info;
    rg_load_info li = {sizeof li, 0, 0, 0};
    rg_engine_get_info(ws->engine, &info);
    rg_engine_load_info(ws->engine, &li);
    char t[64];
    cli_format_ns(t, sizeof t, li.load_ns);
    flockfile(stdout);
    if (status == RG_OK) {
        printf("reloaded: generation %" PRIu64 ", version %s, hash %.12s, "
               "loaded in %s\n", generation,
               info.policy_version[0] ? info.policy_version : "(none)",
               info.policy_hash, t);
    } else {
        printf("reload failed (%s): still generation %" PRIu64 ", version %s, "
               "hash %.12s\n", rg_status_name(status), generation,
               info.policy_version[0] ? info.policy_version : "(none)",
               info.policy_hash);
        for (size_t i = 0; diag && i < diag->count; i++)
            cli_print_diag(stdout, &diag->entries[i], ws->path);
    }
    fflush(stdout);
    funlockfile(stdout);
    if (ws->limit && ++ws->count >= ws->limit)
        kill(getpid(), SIGTERM);
}

int cli_watch_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"debounce", required_argument, NULL, 'D'},
        {"count", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy_opt = NULL;
    unsigned long debounce = 0, limit = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p': policy_opt = optarg; break;
        case 'D':
            debounce = strtoul(optarg, &end, 10);
            if (*end || debounce > 600000)
                return cli_usage_error(VERB, "--debounce takes 0..600000 ms");
            break;
        case 'N':
            limit = strtoul(optarg, &end, 10);
            if (*end || limit == 0)
                return cli_usage_error(VERB, "--count takes a positive number");
            break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(VERB, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(VERB, "unexpected argument (use -p DIR)");
    const char *path = cli_policy_path(policy_opt);

    /* Block the signals before any thread starts, so that the watcher's
     * thread inherits the mask and sigwait() below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    watch_state ws = {NULL, path, 0, limit};
    if (cli_engine_open(VERB, path, 1, &ws.engine) != 0)
        return CLI_EXIT_USAGE;
    rg_engine_info info;
    rg_engine_get_info(ws.engine, &info);
    rg_watch_options wo = {0};
    wo.struct_size = sizeof wo;
    wo.debounce_ms = (unsigned)debounce;
    wo.callback = on_reload;
    wo.user = &ws;
    rg_watch *w = NULL;
    int rc = rg_watch_start(ws.engine, &wo, &w);
    if (rc != RG_OK) {
        cli_error(VERB, "cannot watch '%s': %s", path, rg_strerror(rc));
        rg_engine_close(ws.engine);
        return CLI_EXIT_USAGE;
    }
    printf("watching %s: generation %" PRIu64 ", version %s, hash %.12s\n", path,
           info.generation, info.policy_version[0] ? info.policy_version : "(none)",
           info.policy_hash);
    fflush(stdout);
    int sig;
    while (sigwait(&set, &sig) != 0)
        ;
    rg_watch_stop(w);
    rg_engine_close(ws.engine);
    return CLI_EXIT_OK;
}
