/*
 * cli_request.c — one reply and its conversation from the command line,
 * shared by `check` and `explain`: --history as text or file, the policy
 * and route, scratch and result, the reply from an argument or stdin.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The lines of FILE (empty ones skipped, CRLF accepted) appended as
 * history replies, oldest first. The file's bytes stay in q->bufs until
 * cli_request_free. */
static int read_history_file(const char *verb, cli_request *q, const char *path)
{
    if (q->nbufs == CLI_MAX_HISTORY_FILES)
        return cli_usage_error(verb, "at most %d history files", CLI_MAX_HISTORY_FILES);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_usage_error(verb, "cannot open %s: %s", path, strerror(errno));
    char *data = NULL;
    size_t len = 0;
    int rc = cli_read_all(f, &data, &len);
    int err = errno;
    fclose(f);
    if (rc != 0)
        return cli_usage_error(verb, "cannot read %s: %s", path, strerror(err));
    q->bufs[q->nbufs++] = data;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && data[j] != '\n')
            j++;
        size_t e = j;
        if (e > i && data[e - 1] == '\r')
            e--;
        if (e > i) {
            if (q->nhistory == CLI_MAX_HISTORY)
                return cli_usage_error(verb, "at most %d history replies", CLI_MAX_HISTORY);
            q->history[q->nhistory].ptr = data + i;
            q->history[q->nhistory].len = e - i;
            q->nhistory++;
        }
        i = j + 1;
    }
    return 0;
}

int cli_request_history(const char *verb, cli_request *q, const char *arg, int is_file)
{
    /* --history ARG: the path of an existing regular file reads the file
     * (`check --user TEXT --history FILE`, issue 7), anything else is one
     * reply's text; --history-file always reads a file. */
    struct stat st;
    if (is_file || (stat(arg, &st) == 0 && S_ISREG(st.st_mode)))
        return read_history_file(verb, q, arg);
    if (q->nhistory == CLI_MAX_HISTORY)
        return cli_usage_error(verb, "at most %d history replies", CLI_MAX_HISTORY);
    q->history[q->nhistory].ptr = arg;
    q->history[q->nhistory].len = strlen(arg);
    q->nhistory++;
    return 0;
}

int cli_request_open(const char *verb, cli_request *q, const char *policy_opt,
                     const char *route, const char *reply_arg)
{
    /* The policy first: a policy or route error should show before the
     * user types a reply on stdin. */
    const char *path = cli_policy_path(policy_opt);
    int status = cli_engine_open(verb, path, 0, &q->engine);
    if (status != 0)
        return status;
    if (!cli_route_exists(q->engine, route)) {
        char *routes = cli_route_list(q->engine);
        cli_error(verb, "unknown route '%s' (routes: %s)", route, routes ? routes : "?");
        free(routes);
        return CLI_EXIT_USAGE;
    }
    int rc = rg_scratch_alloc(q->engine, &q->scratch);
    if (rc == RG_OK)
        rc = rg_result_alloc(NULL, &q->result);
    if (rc != RG_OK) {
        cli_error(verb, "%s", rg_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    const char *reply;
    size_t reply_len;
    if (reply_arg && strcmp(reply_arg, "-") != 0) {
        reply = reply_arg;
        reply_len = strlen(reply);
    } else {
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "(reading the reply from stdin; end it with Ctrl-D)\n");
        if (cli_read_all(stdin, &q->stdin_data, &reply_len) != 0) {
            cli_error(verb, "cannot read stdin: %s", strerror(errno));
            return CLI_EXIT_USAGE;
        }
        /* `echo text | replyguard check` should check "text", not
         * "text\n": drop one trailing line ending. */
        if (reply_len && q->stdin_data[reply_len - 1] == '\n')
            reply_len--;
        if (reply_len && q->stdin_data[reply_len - 1] == '\r')
            reply_len--;
        reply = q->stdin_data;
    }
    q->req.route = route;
    q->req.reply = reply;
    q->req.reply_len = reply_len;
    q->req.history = q->nhistory ? q->history : NULL;
    q->req.history_count = q->nhistory;
    return 0;
}

void cli_request_free(cli_request *q)
{
    rg_result_free(q->result);
    rg_scratch_free(q->scratch);
    rg_engine_close(q->engine);
    free(q->stdin_data);
    for (size_t i = 0; i < q->nbufs; i++)
        free(q->bufs[i]);
    memset(q, 0, sizeof *q);
}
