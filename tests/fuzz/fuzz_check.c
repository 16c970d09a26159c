/* fuzz_check.c — rg_check on arbitrary bytes (invalid UTF-8, NULs, any
 * length) against the shipped policy set, on every route and an unknown
 * one, with and without conversation fields.
 *
 * Input: byte 0 picks the route (modulo the route count + 1: the last is
 * an unknown route); byte 1 bit 0: the rest is split at its first 0xFF
 * into user message + reply; bit 1: the reply is also the single history
 * entry; bits 2-3: channel. The rest is the reply.
 * Invariants: fuzz_check_result (hits inside the reply and on code-point
 * boundaries, flags consistent, error => fail-safe and never allow), and
 * RG_OK for every known route. */
#include "fuzz_util.h"

static rg_engine *E;
static rg_scratch *S;
static rg_result *R;
static char ROUTES[64][128];
static size_t NROUTES;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    E = fuzz_open("policies");
    if (rg_scratch_alloc(E, &S) != RG_OK || rg_result_alloc(NULL, &R) != RG_OK)
        abort();
    while (NROUTES < 64 &&
           rg_engine_route_name(E, NROUTES, ROUTES[NROUTES], sizeof ROUTES[0]) == RG_OK)
        NROUTES++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t ri = data[0] % (NROUTES + 1);
    unsigned opt = data[1];
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = ri < NROUTES ? ROUTES[ri] : "no-such-route";
    if (opt & 1) {
        const uint8_t *ff = memchr(p, 0xFF, n);
        if (ff) {
            q.user_message = (const char *)p;
            q.user_message_len = (size_t)(ff - p);
            n -= (size_t)(ff - p) + 1;
            p = ff + 1;
        }
    }
    q.reply = (const char *)p;
    q.reply_len = n;
    rg_text hist = {(const char *)p, n};
    if (opt & 2) {
        q.history = &hist;
        q.history_count = 1;
    }
    static const char *const channels[] = {NULL, "chat", "voice", "sms"};
    q.channel = channels[(opt >> 2) & 3];
    /* a copy of exactly n bytes: ASan sees any read past the reply */
    char *reply = malloc(n ? n : 1);
    if (!reply)
        return 0;
    memcpy(reply, p, n);
    q.reply = reply;
    unsigned char *starts = malloc(n + 1);
    if (!starts)
        abort();
    fuzz_units((const unsigned char *)reply, n, starts);
    int st = rg_check(E, S, &q, R);
    if (ri < NROUTES)
        FUZZ_ASSERT(st == RG_OK, "rg_check = %s on route %s", rg_status_name(st), q.route);
    else
        FUZZ_ASSERT(st == RG_E_NOROUTE, "unknown route: %s", rg_status_name(st));
    /* every shipped fail-safe is handoff or block */
    fuzz_check_result(R, st, n, starts, RG_HANDOFF);
    free(starts);
    free(reply);
    return 0;
}
