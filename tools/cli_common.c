/*
 * cli_common.c — what every verb needs: messages, option errors, policy
 * path resolution, loading the engine with its diagnostics, route names.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void vmessage(const char *verb, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s%s%s: ", CLI_PROG, verb ? " " : "", verb ? verb : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(verb, fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(verb, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s%s%s --help'.\n", CLI_PROG, verb ? " " : "",
            verb ? verb : "");
    return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *verb, int c, char **argv)
{
    /* With opterr = 0 and a leading ':' in the option string, getopt_long
     * returns ':' for a missing argument and '?' for an unknown option;
     * the offending word is argv[optind - 1] in both cases. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return cli_usage_error(verb, "option '%s' needs an argument", word);
    if (optopt && word[0] == '-' && word[1] != '-')
        return cli_usage_error(verb, "unknown option '-%c'", optopt);
    /* Show the option name only (up to '=' or a space, bounded): a reply
     * mistaken for an option must not land whole in stderr logs. */
    int n = (int)strcspn(word, "= \t\n");
    return cli_usage_error(verb, "unknown option '%.*s'", n > 40 ? 40 : n,
                           word);
}

const char *cli_policy_path(const char *opt)
{
    if (opt)
        return opt;
    const char *env = getenv("RG_POLICIES");
    if (env && *env)
        return env;
    struct stat st;
    if (stat("policies", &st) == 0 && S_ISDIR(st.st_mode))
        return "policies";
    return RG_DEFAULT_POLICY_DIR;
}

void cli_print_diag(FILE *out, const rg_diag_entry *e, const char *path)
{
    const char *file = e->file && *e->file ? e->file : path;
    const char *sev = e->severity == RG_SEV_WARNING ? "warning" : "error";
    const char *msg = e->message ? e->message : "(no message)";
    if (e->line && e->column)
        fprintf(out, "%s:%u:%u: %s: %s\n", file, e->line, e->column, sev, msg);
    else if (e->line)
        fprintf(out, "%s:%u: %s: %s\n", file, e->line, sev, msg);
    else
        fprintf(out, "%s: %s: %s\n", file, sev, msg);
}

int cli_engine_open(const char *verb, const char *path, int show_warnings,
                    rg_engine **out)
{
    rg_diag *diag = NULL;
    int rc = rg_engine_open(out, path, NULL, &diag);
    size_t nerr = 0, nwarn = 0;
    for (size_t i = 0; diag && i < diag->count; i++) {
        const rg_diag_entry *e = &diag->entries[i];
        if (e->severity == RG_SEV_WARNING) {
            nwarn++;
            if (!show_warnings && rc == RG_OK)
                continue;
        } else {
            nerr++;
        }
        cli_print_diag(stderr, e, path);
    }
    rg_diag_free(diag);
    if (rc != RG_OK) {
        /* A failure with no error entry (missing directory, OOM) still
         * needs a file-anchored message. */
        if (nerr == 0)
            fprintf(stderr, "%s: error: %s\n", path, rg_strerror(rc));
        cli_error(verb, "cannot load policy set '%s' (%s)", path,
                  rg_status_name(rc));
        if (rc == RG_E_IO && strcmp(path, RG_DEFAULT_POLICY_DIR) == 0)
            cli_error(verb, "no policy set given: use -p DIR, set "
                      "RG_POLICIES, or run where ./policies exists");
        *out = NULL;
        return CLI_EXIT_USAGE;
    }
    if (nwarn && !show_warnings)
        cli_error(verb, "note: policy set '%s' has %zu warning%s "
                  "(see '%s lint')", path, nwarn, nwarn == 1 ? "" : "s",
                  CLI_PROG);
    return 0;
}

int cli_route_exists(const rg_engine *engine, const char *route)
{
    char name[256];
    for (size_t i = 0;; i++) {
        int rc = rg_engine_route_name(engine, i, name, sizeof name);
        if (rc != RG_OK)
            return 0;
        if (strcmp(name, route) == 0)
            return 1;
    }
}

char *cli_route_list(const rg_engine *engine)
{
    cli_buf b = {0};
    char name[256];
    for (size_t i = 0; rg_engine_route_name(engine, i, name, sizeof name) == RG_OK;
         i++) {
        if (i)
            cli_buf_puts(&b, ", ");
        cli_buf_puts(&b, name);
    }
    if (b.len == 0)
        cli_buf_puts(&b, "none");
    cli_buf_putc(&b, '\0');
    if (b.oom) {
        cli_buf_free(&b);
        return NULL;
    }
    return b.p;
}

int cli_read_all(FILE *f, char **data, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *p = malloc(cap);
    if (!p)
        return -1;
    for (;;) {
        if (cap - n < 4096) {
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                errno = ENOMEM;
                return -1;
            }
            p = q;
            cap *= 2;
        }
        size_t got = fread(p + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(p);
                errno = e ? e : EIO;
                return -1;
            }
            break;
        }
    }
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}
