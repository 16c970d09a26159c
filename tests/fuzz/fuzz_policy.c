/* fuzz_policy.c — the policy loader, checker and compiler on arbitrary
 * YAML bytes. Each input is written to a private temporary directory as
 * policy.yaml (the real file path: path confinement, file limits and
 * diagnostics positions are all exercised).
 *
 * Every input goes through the loader and the semantic checker (internal
 * rg__policy_load / rg__policy_check: thousands per second). One input in
 * 16 (chosen by a hash of its bytes, so a crash reproduces) also goes
 * through rg_engine_open, which compiles the Hyperscan databases (0.1-1 s
 * per policy under ASan: compiling every input would leave the fuzzer at
 * one execution per second), then checks replies and reloads.
 *
 * Input: YAML, optionally followed by "\n#%%lexicon\n" and the content of
 * lexicons/fuzz.txt; lexicons/en.txt (a few words) is always there.
 * Invariants: the status is one the API documents; a failure has at least
 * one error diagnostic with a non-empty message, and *out NULL; every
 * diagnostic of policy.yaml names a line inside it; the loader and
 * rg_engine_open agree on whether the set is valid; a set that opens
 * checks fixed replies on each route with RG_OK and sane results, and
 * reloads to the same outcome. */
#include "fuzz_util.h"
#include "alloc.h"
#include "diag.h"
#include "model.h"
#include <sys/stat.h>
#include <unistd.h>

#define SEP "\n#%%lexicon\n"

static char DIR_[4096], YAML[4200], LEX[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        perror(path);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsetenv("RG_CACHE_DIR");
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(DIR_, sizeof DIR_, "%s/rgfuzz-policy.XXXXXX", base);
    if (!mkdtemp(DIR_))
        abort();
    char p[4200];
    snprintf(p, sizeof p, "%s/lexicons", DIR_);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/lexicons/en.txt", DIR_);
    write_file(p, "damn\nidiot\t0.7\nshut up\n", 23);
    snprintf(YAML, sizeof YAML, "%s/policy.yaml", DIR_);
    snprintf(LEX, sizeof LEX, "%s/lexicons/fuzz.txt", DIR_);
    return 0;
}

/* An upper bound of the lines YAML sees: \n, \r, NEL, LS and PS all
 * break lines (YAML 1.1; libyaml counts each). */
static unsigned count_lines(const uint8_t *p, size_t n)
{
    unsigned l = 1;
    for (size_t i = 0; i < n; i++)
        l += p[i] == '\n' || p[i] == '\r' || (p[i] == 0xC2 && i + 1 < n && p[i + 1] == 0x85) ||
             (p[i] == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9));
    return l;
}

static void check_diag(const rg_diag *d, int st, unsigned yaml_lines)
{
    size_t errors = 0;
    for (size_t i = 0; d && i < d->count; i++) {
        const rg_diag_entry *e = &d->entries[i];
        FUZZ_ASSERT(e->message && e->message[0], "diagnostic %zu without a message", i);
        FUZZ_ASSERT(e->severity == RG_SEV_ERROR || e->severity == RG_SEV_WARNING, "severity");
        errors += e->severity == RG_SEV_ERROR;
        if (e->file && strstr(e->file, "policy.yaml"))
            FUZZ_ASSERT(e->line <= yaml_lines + 1, "diagnostic at line %u of a %u-line file: %s",
                        e->line, yaml_lines, e->message);
    }
    if (st != RG_OK && st != RG_E_NOMEM)
        FUZZ_ASSERT(errors > 0, "status %s without an error diagnostic", rg_status_name(st));
    if (st == RG_OK)
        FUZZ_ASSERT(errors == 0, "RG_OK with %zu errors", errors);
}

static void exercise(rg_engine *e)
{
    static const char *const replies[] = {
        "", "damn it", "Your order ships Monday.", "card 4111 1111 1111 1111",
        "\xff\xfe invalid \xc0\xaf", "idiot, shut up", "mail a@b.co now",
    };
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    FUZZ_ASSERT(rg_scratch_alloc(e, &s) == RG_OK, "scratch");
    FUZZ_ASSERT(rg_result_alloc(NULL, &r) == RG_OK, "result");
    char route[256];
    for (size_t ri = 0; ri < 8 && rg_engine_route_name(e, ri, route, sizeof route) == RG_OK; ri++)
        for (size_t k = 0; k < sizeof replies / sizeof *replies; k++) {
            size_t n = strlen(replies[k]);
            unsigned char starts[64];
            fuzz_units((const unsigned char *)replies[k], n, starts);
            rg_request q;
            memset(&q, 0, sizeof q);
            q.route = route;
            q.reply = replies[k];
            q.reply_len = n;
            int st = rg_check(e, s, &q, r);
            FUZZ_ASSERT(st == RG_OK, "rg_check = %s on route %s", rg_status_name(st), route);
            fuzz_check_result(r, st, n, starts, RG_ALLOW);
        }
    rg_result_free(r);
    rg_scratch_free(s);
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memmem(data, size, SEP, strlen(SEP));
    size_t ylen = sep ? (size_t)(sep - data) : size;
    write_file(YAML, data, ylen);
    if (sep)
        write_file(LEX, sep + strlen(SEP), size - ylen - strlen(SEP));
    else
        unlink(LEX);
    unsigned lines = count_lines(data, ylen);

    /* loader + checker */
    rg_allocator a;
    rg__allocator_init(&a, NULL);
    rg__diags dc;
    rg__diags_init(&dc, &a);
    rg__policy *p = NULL;
    int lst = rg__policy_load(&a, DIR_, &p, &dc);
    if (lst == RG_OK)
        lst = rg__policy_check(p, &dc);
    rg__policy_free(p);
    rg_diag *d = rg__diags_finish(&dc);
    FUZZ_ASSERT(lst == RG_OK || lst == RG_E_POLICY || lst == RG_E_IO || lst == RG_E_NOMEM,
                "load/check = %s", rg_status_name(lst));
    check_diag(d, lst, lines);
    rg_diag_free(d);
    if (lst != RG_OK || fnv1a(data, size) % 16 != 0)
        return 0;

    /* the whole open: compile, check, reload */
    rg_engine *e = (rg_engine *)&e;
    d = NULL;
    int st = rg_engine_open(&e, DIR_, NULL, &d);
    FUZZ_ASSERT(st == RG_OK || st == RG_E_COMPILE || st == RG_E_POLICY || st == RG_E_NOMEM,
                "rg_engine_open = %s of a set the loader accepted", rg_status_name(st));
    check_diag(d, st, lines);
    rg_diag_free(d);
    if (st != RG_OK) {
        FUZZ_ASSERT(e == NULL, "*out set on failure");
        return 0;
    }
    exercise(e);
    d = NULL;
    int st2 = rg_engine_reload(e, NULL, &d);
    FUZZ_ASSERT(st2 == RG_OK, "reload of a set that opened = %s", rg_status_name(st2));
    check_diag(d, st2, lines);
    rg_diag_free(d);
    exercise(e);
    rg_engine_close(e);
    return 0;
}
