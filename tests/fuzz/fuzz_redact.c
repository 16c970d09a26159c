/* fuzz_redact.c — the redacted copy against the spans the result reports,
 * through the public API, on a policy that redacts every category with one
 * mask (tests/fuzz/policies/redact).
 *
 * Invariant: the copy is the reply with every byte of every reported span
 * removed and nothing else: each maximal run of covered bytes is replaced
 * by the mask (one or more times: spans that touch may each get one), and
 * every other byte is kept, in order. Also fuzz_check_result (spans inside
 * the reply, on code-point boundaries). Checked whenever the result lists
 * every span (no RG_FLAG_HITS_TRUNCATED) and the check did not stop early. */
#include "fuzz_util.h"

#define MASK "[X]"
#define MASK_LEN 3

static rg_engine *E;
static rg_scratch *S;
static rg_result *R;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    E = fuzz_open("tests/fuzz/policies/redact");
    if (rg_scratch_alloc(E, &S) != RG_OK || rg_result_alloc(NULL, &R) != RG_OK)
        abort();
    return 0;
}

typedef struct seg {
    size_t start, end; /* original bytes */
    int covered;       /* a run of redacted bytes */
    size_t spans;      /* spans that overlap the run (most masks it may get) */
} seg;

/* States (segment k, output offset o) already known not to match: keeps
 * the search polynomial when the reply's own text looks like masks. */
static unsigned char *FAILED;
static size_t FAILED_W; /* olen + 1 */

/* Does out[o..) spell segments k.. ? Covered runs take 1..spans masks. */
static int matches(const char *orig, const seg *sg, size_t nseg, size_t k, const char *out,
                   size_t olen, size_t o)
{
    for (; k < nseg; k++) {
        const seg *s = &sg[k];
        if (!s->covered) {
            size_t len = s->end - s->start;
            if (olen - o < len || memcmp(out + o, orig + s->start, len))
                return 0;
            o += len;
            continue;
        }
        size_t bit = k * FAILED_W + o;
        if (FAILED[bit / 8] >> (bit % 8) & 1)
            return 0;
        for (size_t m = 1; m <= s->spans; m++) {
            if (olen - o < MASK_LEN * m || memcmp(out + o + MASK_LEN * (m - 1), MASK, MASK_LEN))
                break;
            if (matches(orig, sg, nseg, k + 1, out, olen, o + MASK_LEN * m))
                return 1;
        }
        FAILED[bit / 8] |= (unsigned char)(1u << (bit % 8));
        return 0;
    }
    return o == olen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *reply = malloc(size ? size : 1);
    unsigned char *starts = malloc(size + 1);
    unsigned char *cov = calloc(size + 1, 1);
    seg *sg = malloc((size + 1) * sizeof *sg);
    if (!reply || !starts || !cov || !sg)
        abort();
    memcpy(reply, data, size);
    fuzz_units((const unsigned char *)reply, size, starts);
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = reply;
    q.reply_len = size;
    int st = rg_check(E, S, &q, R);
    FUZZ_ASSERT(st == RG_OK, "rg_check = %s", rg_status_name(st));
    fuzz_check_result(R, st, size, starts, RG_HANDOFF);
    unsigned fl = rg_result_flags(R);
    size_t nh = rg_result_hit_count(R);
    if (!(fl & (RG_FLAG_HITS_TRUNCATED | RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_ENGINE_ERROR))) {
        /* every category redacts: any hit means a redacted copy */
        FUZZ_ASSERT((nh > 0) == ((fl & RG_FLAG_REDACTED) != 0), "%zu hits, flags %#x", nh, fl);
        for (size_t i = 0; i < nh; i++) {
            const rg_hit *h = rg_result_hit(R, i);
            for (size_t b = h->start; b < h->end; b++)
                cov[b] = 1;
        }
        /* segments: maximal runs of covered / uncovered bytes */
        size_t nseg = 0;
        for (size_t i = 0; i < size;) {
            size_t j = i;
            while (j < size && cov[j] == cov[i])
                j++;
            sg[nseg].start = i;
            sg[nseg].end = j;
            sg[nseg].covered = cov[i];
            sg[nseg].spans = 0;
            nseg++;
            i = j;
        }
        for (size_t i = 0; i < nh; i++) {
            const rg_hit *h = rg_result_hit(R, i);
            for (size_t k = 0; k < nseg; k++)
                if (sg[k].covered && h->start < sg[k].end && h->end > sg[k].start)
                    sg[k].spans++;
        }
        if (nh) {
            size_t olen = 0;
            const char *out = rg_result_redacted(R, &olen);
            FUZZ_ASSERT(out, "no redacted copy");
            FAILED_W = olen + 1;
            FAILED = calloc((nseg + 1) * FAILED_W / 8 + 1, 1);
            if (!FAILED)
                abort();
            int ok = matches(reply, sg, nseg, 0, out, olen, 0);
            free(FAILED);
            FAILED = NULL;
            if (!ok) {
                fprintf(stderr, "reply (%zu bytes) and redacted copy (%zu bytes) disagree; spans:",
                        size, olen);
                for (size_t i = 0; i < nh; i++)
                    fprintf(stderr, " %s[%zu,%zu)", rg_result_hit(R, i)->detector,
                            rg_result_hit(R, i)->start, rg_result_hit(R, i)->end);
                fprintf(stderr, "\n");
                FUZZ_ASSERT(0, "the redacted copy is not the reply minus exactly its spans");
            }
        }
    }
    free(sg);
    free(cov);
    free(starts);
    free(reply);
    return 0;
}
