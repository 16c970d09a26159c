/* fuzz_stream.c — streaming (rg_stream_*) against rg_check: arbitrary text
 * (invalid UTF-8, NULs) cut into arbitrary chunks, on the shipped policy
 * set (docs/STREAMING.md).
 *
 * Input: byte 0 picks the route; then bytes as "length byte, chunk": each
 * chunk is 0..255 bytes (so a chunk boundary can fall anywhere, inside a
 * code point, a word, a card number). The concatenation is the reply.
 * Invariants (what tests/test_stream.c checks on golden replies):
 *   - after close: the verdict, the hits (detector, span, score) and the
 *     redacted copy are rg_check's on the whole reply;
 *   - after every feed: safe bytes never decrease and never pass the bytes
 *     fed, and no span rg_check reports starts below them unless that
 *     feed's result reports it (or masks it);
 *   - the text released over the stream is rg_check's redacted copy (or
 *     the reply), unless the stream blocked or says
 *     RG_FLAG_RELEASED_UNMASKED.
 * Skipped when either side ran out of budget (make fuzz's policy copy has
 * generous budgets). */
#include "fuzz_util.h"

static rg_engine *E;
static rg_scratch *S;
static rg_result *B, *R;
static char ROUTES[64][128];
static size_t NROUTES;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    E = fuzz_open("policies");
    if (rg_scratch_alloc(E, &S) != RG_OK || rg_result_alloc(NULL, &B) != RG_OK ||
        rg_result_alloc(NULL, &R) != RG_OK)
        abort();
    while (NROUTES < 64 &&
           rg_engine_route_name(E, NROUTES, ROUTES[NROUTES], sizeof ROUTES[0]) == RG_OK)
        NROUTES++;
    return 0;
}

static int redacts(const rg_result *r, const char *cat)
{
    for (size_t i = 0; i < rg_result_category_count(r); i++)
        if (!strcmp(rg_result_category(r, i)->category, cat))
            return rg_result_category(r, i)->redact;
    return 0;
}

static int covered(const rg_result *r, const rg_hit *h, size_t safe)
{
    for (size_t j = 0; j < rg_result_hit_count(r); j++) {
        const rg_hit *g = rg_result_hit(r, j);
        if (g->start == h->start && g->end == h->end && !strcmp(g->detector, h->detector))
            return 1;
    }
    size_t cov = h->start, lim = h->end < safe ? h->end : safe;
    for (int again = 1; again && cov < lim;) {
        again = 0;
        for (size_t j = 0; j < rg_result_hit_count(r); j++) {
            const rg_hit *g = rg_result_hit(r, j);
            if (!g->shadow && g->start <= cov && g->end > cov && redacts(r, g->category)) {
                cov = g->end;
                again = 1;
            }
        }
    }
    return cov >= lim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *route = ROUTES[data[0] % NROUTES];
    /* The reply, and where its chunks end. */
    char *text = malloc(size + 1);
    size_t cuts[4096], ncuts = 0, n = 0;
    for (size_t i = 1; i < size && ncuts < 4096;) {
        size_t k = data[i++];
        if (k > size - i)
            k = size - i;
        memcpy(text + n, data + i, k);
        n += k;
        i += k;
        cuts[ncuts++] = n;
    }
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    q.reply = text;
    q.reply_len = n;
    FUZZ_ASSERT(rg_check(E, S, &q, B) == RG_OK, "rg_check on route %s", route);
    q.reply = NULL;
    q.reply_len = 0;
    rg_stream *st = NULL;
    FUZZ_ASSERT(rg_stream_open(E, &q, &st) == RG_OK, "rg_stream_open");
    char *rel = malloc(4 * n + 4096);
    size_t rl = 0, pos = 0, prev = 0;
    int budget = (rg_result_flags(B) & RG_FLAG_BUDGET_EXCEEDED) != 0;
    for (size_t c = 0; c <= ncuts; c++) {
        int closing = c == ncuts;
        size_t e = closing ? n : cuts[c];
        int rc = closing ? rg_stream_close(st, S, R)
                         : rg_stream_feed(st, S, text + pos, e - pos, R);
        FUZZ_ASSERT(rc == RG_OK, "stream call %zu: %d", c, rc);
        pos = e;
        budget |= (rg_result_flags(R) & RG_FLAG_BUDGET_EXCEEDED) != 0;
        size_t safe = rg_stream_safe_bytes(st);
        FUZZ_ASSERT(safe >= prev && safe <= rg_stream_bytes(st), "safe %zu (was %zu, fed %zu)",
                    safe, prev, rg_stream_bytes(st));
        prev = safe;
        for (size_t i = 0; !closing && !budget && i < rg_result_hit_count(B); i++) {
            const rg_hit *h = rg_result_hit(B, i);
            FUZZ_ASSERT(h->start >= safe || covered(R, h, safe),
                        "feed %zu: safe %zu reaches %s [%zu, %zu) before it is reported", c,
                        safe, h->detector, h->start, h->end);
        }
        size_t l;
        const char *x = rg_stream_release(st, &l);
        if (rl + l <= 4 * n + 4096) {
            memcpy(rel + rl, x, l);
            rl += l;
        }
    }
    if (!budget) {
        FUZZ_ASSERT(rg_result_verdict(B) == rg_result_verdict(R), "verdict %d vs %d",
                    rg_result_verdict(B), rg_result_verdict(R));
        FUZZ_ASSERT(rg_result_hit_count(B) == rg_result_hit_count(R), "hits %zu vs %zu",
                    rg_result_hit_count(B), rg_result_hit_count(R));
        for (size_t i = 0; i < rg_result_hit_count(B); i++) {
            const rg_hit *h = rg_result_hit(B, i);
            int found = 0;
            for (size_t j = 0; j < rg_result_hit_count(R) && !found; j++) {
                const rg_hit *g = rg_result_hit(R, j);
                found = g->start == h->start && g->end == h->end &&
                        !strcmp(g->detector, h->detector) &&
                        g->score - h->score < 1e-9 && h->score - g->score < 1e-9;
            }
            FUZZ_ASSERT(found, "%s [%zu, %zu) missing after close", h->detector, h->start,
                        h->end);
        }
        size_t bl = 0, sl = 0;
        const char *br = rg_result_redacted(B, &bl), *sr = rg_result_redacted(R, &sl);
        FUZZ_ASSERT((br == NULL) == (sr == NULL) && (!br || (bl == sl && !memcmp(br, sr, bl))),
                    "redacted copies differ");
        if (!br) {
            br = text;
            bl = n;
        }
        if (rg_result_verdict(R) != RG_BLOCK &&
            !(rg_result_flags(R) & (RG_FLAG_RELEASED_UNMASKED | RG_FLAG_OVERSIZE)))
            FUZZ_ASSERT(rl == bl && !memcmp(rel, br, bl), "released text differs");
    }
    rg_stream_free(st);
    free(rel);
    free(text);
    return 0;
}
