/* fuzz_normalize.c — the text views and their offset maps (lib/normalize.c,
 * internal API) on arbitrary bytes.
 *
 * Invariants, for the normalized, compacted (text and whole-term modes)
 * and repaired raw views:
 *   - every view byte maps to original bytes [start, end) inside the
 *     original, start and end on unit boundaries (the start of a valid
 *     UTF-8 sequence or of an invalid byte), start < end (the compacted
 *     view's window separators map to an empty span), starts never
 *     decreasing along the view (within each window of the compacted
 *     view: two cuts of one elongated word are two windows);
 *   - so a view span [s, e) maps to [start[s], end[e-1]), whole code
 *     points of the original;
 *   - the normalized and repaired views are valid UTF-8; the repaired view
 *     of valid input is the input itself;
 *   - *invalid and rg__utf8_is_valid agree with an independent decoder;
 *   - rg__utf8_floor cuts on a unit boundary of valid text;
 *   - rg__word_before/after never read outside the view;
 *   - the compaction windows are the same whether the words are walked a
 *     byte at a time or by bit masks (rg__compact_windows).
 * The buffers are reused across inputs, as a scratch reuses them. */
#include "fuzz_util.h"
#include "alloc.h"
#include "normalize.h"

static rg_allocator A;
static rg__vbuf NORM, COMPACT, WHOLE, RAW;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rg__allocator_init(&A, NULL);
    return 0;
}

static void check_map(const char *name, const rg__vbuf *v, size_t n,
                      const unsigned char *starts, int allow_empty_nl)
{
    size_t prev = 0;
    for (size_t i = 0; i < v->len; i++) {
        size_t s = v->start[i], e = v->end[i];
        FUZZ_ASSERT(s <= e && e <= n, "%s byte %zu maps to [%zu,%zu) of %zu", name, i, s, e, n);
        FUZZ_ASSERT(starts[s] && starts[e], "%s byte %zu maps to [%zu,%zu): not unit boundaries",
                    name, i, s, e);
        if (s == e) {
            FUZZ_ASSERT(allow_empty_nl && v->text[i] == '\n',
                        "%s byte %zu (%#x) maps to an empty span", name, i,
                        (unsigned char)v->text[i]);
            /* a window separator: the next window may restart earlier
             * (two cuts of one elongated word are two windows) */
            prev = s;
            continue;
        }
        FUZZ_ASSERT(s < n && starts[s], "%s byte %zu: start %zu", name, i, s);
        FUZZ_ASSERT(s >= prev, "%s byte %zu: start %zu after %zu", name, i, s, prev);
        prev = s;
    }
    FUZZ_ASSERT(v->len == 0 || v->text[v->len] == '\0', "%s not NUL-terminated", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: ASan sees any read past the input */
    char *s = malloc(size ? size : 1);
    unsigned char *starts = malloc(size + 1);
    if (!s || !starts)
        abort();
    memcpy(s, data, size);
    int valid = fuzz_units((const unsigned char *)s, size, starts);

    FUZZ_ASSERT(rg__utf8_is_valid(s, size) == valid, "rg__utf8_is_valid = %d, decoder says %d",
                rg__utf8_is_valid(s, size), valid);

    int invalid = 0;
    FUZZ_ASSERT(rg__normalize(&A, &NORM, s, size, &invalid) == 0, "normalize failed");
    FUZZ_ASSERT(invalid == !valid, "invalid = %d, decoder says valid = %d", invalid, valid);
    FUZZ_ASSERT(rg__utf8_is_valid(NORM.text, NORM.len), "normalized view is not valid UTF-8");
    check_map("normalized", &NORM, size, starts, 0);

    /* the two word walks of the window search agree */
    {
        size_t s0[32], e0[32], s1[32], e1[32];
        int n0 = rg__compact_windows(&NORM, 1, s0, e0), n1 = rg__compact_windows(&NORM, 0, s1, e1);
        FUZZ_ASSERT(n0 == n1, "windows: %d bytewise, %d by bits", n0, n1);
        for (int i = 0; i < n0; i++)
            FUZZ_ASSERT(s0[i] == s1[i] && e0[i] == e1[i], "window %d: [%zu,%zu) vs [%zu,%zu)", i,
                        s0[i], e0[i], s1[i], e1[i]);
    }
    FUZZ_ASSERT(rg__compact(&A, &COMPACT, &NORM, 0) == 0, "compact failed");
    check_map("compacted", &COMPACT, size, starts, 1);
    FUZZ_ASSERT(rg__compact(&A, &WHOLE, &NORM, 1) == 0, "compact (whole) failed");
    check_map("compacted whole", &WHOLE, size, starts, 1);

    FUZZ_ASSERT(rg__repair_utf8(&A, &RAW, s, size) == 0, "repair failed");
    FUZZ_ASSERT(rg__utf8_is_valid(RAW.text, RAW.len), "repaired view is not valid UTF-8");
    check_map("repaired", &RAW, size, starts, 0);
    if (valid)
        FUZZ_ASSERT(RAW.len == size && !memcmp(RAW.text, s, size),
                    "repair changed valid text");

    /* cutting an oversize reply */
    for (size_t k = 0; k <= size && k < 64; k++) {
        size_t f = rg__utf8_floor(s, size, k);
        FUZZ_ASSERT(f <= k || (k >= size && f == size), "floor(%zu) = %zu", k, f);
        if (valid)
            FUZZ_ASSERT(starts[f], "floor(%zu) = %zu splits a code point", k, f);
    }
    /* word-edge tests at every position of each view */
    const rg__vbuf *views[] = {&NORM, &COMPACT, &RAW};
    for (int v = 0; v < 3; v++)
        for (size_t p = 0; p <= views[v]->len + 1; p++) {
            (void)rg__word_before(views[v]->text, views[v]->len, p);
            (void)rg__word_after(views[v]->text, views[v]->len, p);
        }
    free(starts);
    free(s);
    return 0;
}
