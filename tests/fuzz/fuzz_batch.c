/* fuzz_batch.c — `replyguard batch` input handling: the line reader, the
 * JSON Lines parser and field checks, and the --lines mode, on arbitrary
 * bytes, with an audit log (--audit-redacted) written for every check.
 *
 * tools/cli_batch.c is included here, so its static functions
 * (next_line, json_line, run_check) run exactly as in the tool; nothing in
 * the tool is changed for the fuzzer.
 *
 * Input: byte 0 'L' selects --lines mode; the rest is stdin.
 * Invariants: one output line per input line, each a JSON object with
 * either "error" or "verdict"; every audit line is a JSON object. (That
 * error lines never quote a reply is tests/no_pii_cli.py's job.) */
#include "../../tools/cli_batch.c"
#include "fuzz_util.h"
#include <sys/mman.h>

static batch BT;
static int MEMFD = -1;
static FILE *DEVNULL;
static char AUDIT_PATH[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    BT.default_route = "default";
    BT.engine = fuzz_open("tests/policies/pii");
    BT.routes = cli_route_list(BT.engine);
    if (rg_scratch_alloc(BT.engine, &BT.scratch) != RG_OK ||
        rg_result_alloc(NULL, &BT.result) != RG_OK)
        abort();
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(AUDIT_PATH, sizeof AUDIT_PATH, "%s/rgfuzz-audit-%d.jsonl", base, (int)getpid());
    if (cli_observe_open(&BT.obs, "batch", BT.engine, AUDIT_PATH, 1) != 0)
        abort();
    MEMFD = memfd_create("rgfuzz-batch", 0);
    DEVNULL = fopen("/dev/null", "w");
    if (MEMFD < 0 || !DEVNULL)
        abort();
    return 0;
}

static void check_json_lines(const char *what, const char *p, size_t n, size_t want)
{
    size_t lines = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(p + i, '\n', n - i);
        FUZZ_ASSERT(nl, "%s: last line without a newline", what);
        size_t len = (size_t)(nl - (p + i));
        json_error_t err;
        json_t *o = json_loadb(p + i, len, JSON_ALLOW_NUL, &err);
        FUZZ_ASSERT(o && json_is_object(o), "%s line %zu is not a JSON object: %s: %.*s", what,
                    lines + 1, o ? "not an object" : err.text, (int)(len > 300 ? 300 : len),
                    p + i);
        if (!strcmp(what, "output"))
            FUZZ_ASSERT(json_object_get(o, "error") || json_object_get(o, "verdict"),
                        "output line %zu has neither error nor verdict", lines + 1);
        json_decref(o);
        lines++;
        i += len + 1;
    }
    if (want != (size_t)-1)
        FUZZ_ASSERT(lines == want, "%s: %zu lines for %zu input lines", what, lines, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int lines_mode = size > 0 && data[0] == 'L';
    if (size > 0) {
        data++;
        size--;
    }
    if (ftruncate(MEMFD, 0) || pwrite(MEMFD, data, size, 0) != (ssize_t)size ||
        lseek(MEMFD, 0, SEEK_SET) != 0)
        abort();
    line_reader lr = {.fd = MEMFD};
    json_t *line_no = lines_mode ? json_integer(0) : NULL;
    json_int_t nline = 0;
    size_t nin = 0;
    char *line;
    size_t len;
    int got;
    BT.out.len = 0;
    while ((got = next_line(&lr, DEVNULL, &line, &len)) == 1) {
        nin++;
        if (len && line[len - 1] == '\r')
            len--;
        if (lines_mode) {
            rg_request req = {0};
            req.route = BT.default_route;
            req.reply = line;
            req.reply_len = len;
            json_integer_set(line_no, ++nline);
            run_check(&BT, line_no, &req);
        } else {
            json_line(&BT, line, len);
        }
        cli_buf_putc(&BT.out, '\n');
        FUZZ_ASSERT(!BT.out.oom, "output buffer out of memory");
    }
    FUZZ_ASSERT(got == 0, "next_line = %d", got);
    check_json_lines("output", BT.out.p, BT.out.len, nin);
    BT.out.len = 0;
    free(lr.buf);
    json_decref(line_no);

    /* the audit lines written for this input, then start afresh */
    fflush(BT.obs.audit);
    FILE *f = fopen(AUDIT_PATH, "rb");
    if (!f)
        abort();
    char *a = NULL;
    size_t alen = 0;
    if (cli_read_all(f, &a, &alen) != 0)
        abort();
    fclose(f);
    check_json_lines("audit", a, alen, (size_t)-1);
    free(a);
    if (ftruncate(fileno(BT.obs.audit), 0) != 0)
        abort();
    rewind(BT.obs.audit);
    return 0;
}
