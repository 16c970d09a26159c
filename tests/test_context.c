/* test_context.c — `context:` blocks: words near a hit set its score
 * (raise or lower), first matching block wins, window in original bytes
 * on either side. Fixture: tests/policies/context. */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/context");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

static void test_no_context_keeps_base_score(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Reference 123456789 is ready."), RG_ALLOW);
    const rg_hit *h = rgt_hit(C.r, "c.ssn", 0);
    RGT_SPAN(h, 10, 19);
    RGT_NEAR(h->score, 0.1);
}

static void test_context_before_raises(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Your SSN: 123456789."), RG_HANDOFF);
    RGT_NEAR(rgt_hit(C.r, "c.ssn", 0)->score, 0.9);
    RGT_NEAR(rgt_cat(C.r, "pii.ssn")->score, 0.9);
}

static void test_context_after_raises(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "123456789 is your Social Security id"),
                     RG_HANDOFF);
}

static void test_window_is_respected(void **state)
{
    (void)state;
    /* gap "SSN" .. number: exactly 20 bytes counts, 21 does not */
    char buf[128];
    snprintf(buf, sizeof buf, "SSN%*s123456789", 20, "");
    assert_int_equal(rgt_verdict(&C, NULL, buf), RG_HANDOFF);
    snprintf(buf, sizeof buf, "SSN%*s123456789", 21, "");
    assert_int_equal(rgt_verdict(&C, NULL, buf), RG_ALLOW);
}

static void test_lowering_context_and_first_block_wins(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Order 123456789 shipped."), RG_ALLOW);
    RGT_NEAR(rgt_hit(C.r, "c.ssn", 0)->score, 0.0);
    /* a zero score is listed but counts for nothing */
    assert_null(rgt_cat(C.r, "pii.ssn"));
    /* both blocks near: the first (raise) wins */
    assert_int_equal(rgt_verdict(&C, NULL, "order SSN 123456789"), RG_HANDOFF);
}

static void test_context_on_words_detector(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "damn it"), RG_BLOCK);
    assert_int_equal(rgt_verdict(&C, NULL, "The river damn overflowed"), RG_ALLOW);
    /* context words are whole words, any case or accent */
    assert_int_equal(rgt_verdict(&C, NULL, "RIVER: Damn!"), RG_ALLOW);
    assert_int_equal(rgt_verdict(&C, NULL, "riverside damn"), RG_BLOCK);
}

static void test_side_and_slot_phrases(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Trolls are vermin."), RG_BLOCK);
    RGT_SPAN(rgt_hit(C.r, "c.pred", 0), 7, 17);
    /* side: before: the group word after the predicate does not count */
    assert_int_equal(rgt_verdict(&C, NULL, "They are vermin, trolls say."), RG_ALLOW);
    /* the counter-speech block comes first and wins */
    assert_int_equal(rgt_verdict(&C, NULL, "Saying trolls are vermin is wrong."), RG_ALLOW);
    /* the predicate alone scores 0: listed, counted for nothing */
    assert_int_equal(rgt_verdict(&C, NULL, "They are vermin."), RG_ALLOW);
    assert_int_equal(rgt_hits_of(C.r, "c.pred"), 1);
    assert_null(rgt_cat(C.r, "toxicity.hate"));
}

/* A digit-gated detector (its regex needs 4 digits): its context and
 * allow words live in gated databases, which must still pair with its
 * hits whenever a hit is possible. */
static void test_gated_detector_context_and_allow(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "The server is at 10.0.0.12 today."), RG_HANDOFF);
    RGT_NEAR(rgt_hit(C.r, "c.ip", 0)->score, 0.9);
    assert_int_equal(rgt_verdict(&C, NULL, "Reach it at 10.0.0.12 today."), RG_ALLOW);
    RGT_NEAR(rgt_hit(C.r, "c.ip", 0)->score, 0.2);
    assert_int_equal(rgt_verdict(&C, NULL, "The server is at 127.0.0.1 today."), RG_ALLOW);
    assert_null(rgt_hit(C.r, "c.ip", 0));
    /* Below the gate: nothing to pair with, and no hit. */
    assert_int_equal(rgt_verdict(&C, NULL, "The server is at 1.2.3 today."), RG_ALLOW);
    assert_null(rgt_hit(C.r, "c.ip", 0));
}

/* Many entries at once (past check.c's RG__PAIR_SMALL): the sorted
 * pairing gives each hit exactly the score and allow-list fate it gets
 * when its piece of text is checked alone (the direct pairing). */
typedef struct seenhit {
    char det[32];
    size_t start, end;
    double score;
} seenhit;

static size_t collect(const rg_result *r, size_t shift, seenhit *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < rg_result_hit_count(r) && n < max; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        snprintf(out[n].det, sizeof out[n].det, "%s", h->detector);
        out[n].start = h->start + shift;
        out[n].end = h->end + shift;
        out[n].score = h->score;
        n++;
    }
    return n;
}

static int cmp_seen(const void *a, const void *b)
{
    const seenhit *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->det, y->det);
}

/* Check text[0..len) and collect its hits (no budget spent, nothing
 * truncated), offsets shifted by `shift`; appended at out[n..max). */
static size_t check_collect(const char *text, size_t len, size_t shift, seenhit *out, size_t n,
                            size_t max)
{
    rg_request q = {0};
    q.reply = text;
    q.reply_len = len;
    assert_int_equal(rg_check(C.e, C.s, &q, C.r), RG_OK);
    assert_false(rg_result_flags(C.r) & (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_HITS_TRUNCATED));
    return n + collect(C.r, shift, out + n, max - n);
}

/* The same hits, spans and scores, in any order (iteration `it`). */
static void same_seen(seenhit *want, size_t nwant, seenhit *got, size_t ngot, int it)
{
    qsort(want, nwant, sizeof *want, cmp_seen);
    qsort(got, ngot, sizeof *got, cmp_seen);
    if (ngot != nwant)
        fail_msg("iteration %d: %zu hits in the long text, %zu in its pieces", it, ngot, nwant);
    for (size_t i = 0; i < nwant; i++)
        if (strcmp(got[i].det, want[i].det) || got[i].start != want[i].start ||
            got[i].end != want[i].end || fabs(got[i].score - want[i].score) > 1e-9)
            fail_msg("iteration %d: %s [%zu,%zu) scores %.2f in the long text, "
                     "%s [%zu,%zu) %.2f alone", it, got[i].det, got[i].start, got[i].end,
                     got[i].score, want[i].det, want[i].start, want[i].end, want[i].score);
}

static void test_many_entries_pair_as_alone(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "Your SSN: 123456789.", "123456789 is your Social Security id", "Order 123456789 shipped.",
        "the damn river dam", "damn it", "trolls are vermin", "he was saying are vermin",
        "server 10.0.0.1 and 127.0.0.1", "ssn order 123456789", "tracking number 987654321 ssn",
    };
    const char *filler = " the weather is fine today and tomorrow as well, thank you kindly. ";
    enum { NP = sizeof pieces / sizeof pieces[0], REPS = 3 };
    static char big[8192];
    static seenhit want[512], got[512];
    size_t len = 0, nwant = 0;
    for (int r = 0; r < REPS; r++)
        for (size_t i = 0; i < NP; i++) {
            size_t pl = strlen(pieces[i]);
            nwant = check_collect(pieces[i], pl, len, want, nwant, 512);
            memcpy(big + len, pieces[i], pl);
            len += pl;
            memcpy(big + len, filler, strlen(filler));
            len += strlen(filler);
        }
    size_t ngot = check_collect(big, len, 0, got, 0, 512);
    assert_true(nwant > 20);
    same_seen(want, nwant, got, ngot, 0);
}

/* Long texts pair only around their hits (check.c pair_regions): every
 * hit of a piece embedded in a long reply gets the score and allow-list
 * fate it gets alone, with gaps right at the windows' edges made of bytes
 * the normalized view shrinks, drops or grows (accents, zero-width
 * spaces, ligatures, runs of spaces), between fillers that shift the
 * normalized view against the original by varying amounts. */
static size_t gap(char *out, size_t want, unsigned *seed)
{
    static const char *const units[] = {" ", "  ", "\xc3\xa9", "\xe2\x80\x8b", "\xef\xac\x81",
                                        " x ", "\xe2\x80\x94", ".", "\t"};
    size_t n = 0;
    while (n < want) {
        const char *u = units[rand_r(seed) % (sizeof units / sizeof units[0])];
        size_t k = strlen(u);
        if (n + k > want)
            u = " ", k = 1;
        memcpy(out + n, u, k);
        n += k;
    }
    return n;
}

static void test_pair_regions_as_alone(void **state)
{
    (void)state;
    static const char *const fill[] = {
        " caf\xc3\xa9 na\xc3\xafve lorem ipsum dolor sit amet, consectetur adipiscing elit; ",
        " \xef\xac\x81nal \xe2\x80\x8b zone  weather   fine \xe2\x80\x94 thank you kindly and goodbye. ",
        " r\xc3\xa9sum\xc3\xa9 \xc3\xa0 la carte, quite fine indeed, nothing more to add here. "};
    static char big[65536], piece[256];
    static seenhit want[2048], got[2048];
    unsigned seed = 20261121;
    size_t checked = 0, regioned = 0;
    for (int it = 0; it < 300; it++) {
        size_t len = 0, nwant = 0;
        int npieces = 1 + rand_r(&seed) % (it % 10 == 9 ? 24 : 5);
        for (int f = 0; f < 8; f++) { /* ~600 bytes first: past RG__PAIR_REGION_BYTES */
            const char *t = fill[rand_r(&seed) % 3];
            memcpy(big + len, t, strlen(t));
            len += strlen(t);
        }
        for (int k = 0; k < npieces; k++) {
            size_t pl = 0;
            int kind = rand_r(&seed) % 6;
            /* Gaps of 18..23 original bytes around the 20-byte window, 38..43 around 40. */
            size_t g20 = 18 + (size_t)(rand_r(&seed) % 6), g40 = 38 + (size_t)(rand_r(&seed) % 6);
#define PUT(str) (memcpy(piece + pl, (str), strlen(str)), pl += strlen(str))
            switch (kind) {
            case 0: PUT("SSN"); pl += gap(piece + pl, g20, &seed); PUT("123456789"); break;
            case 1: PUT("123456789"); pl += gap(piece + pl, g20, &seed); PUT("social security"); break;
            case 2: PUT("tracking number"); pl += gap(piece + pl, g20, &seed); PUT("123456789"); break;
            case 3: PUT("damn"); pl += gap(piece + pl, g40, &seed); PUT("river"); break;
            case 4: PUT("server"); pl += gap(piece + pl, g20, &seed); PUT("10.0.0.12 and 127.0.0.1"); break;
            default: PUT("trolls"); pl += gap(piece + pl, 1 + (size_t)(rand_r(&seed) % 6), &seed);
                     PUT("are vermin"); break;
            }
#undef PUT
            nwant = check_collect(piece, pl, len, want, nwant, 2048);
            memcpy(big + len, piece, pl);
            len += pl;
            const char *t = fill[rand_r(&seed) % 3];
            memcpy(big + len, t, strlen(t));
            len += strlen(t);
        }
        size_t ngot = check_collect(big, len, 0, got, 0, 2048);
        same_seen(want, nwant, got, ngot, it);
        checked += nwant;
        regioned += npieces <= 5;
    }
    assert_true(checked > 500 && regioned > 200);
}

static void test_context_errors(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    rgt_write(dir, "p.yaml",
              "detectors:\n"
              "  - id: x\n"
              "    category: pii.ssn\n"
              "    regex: 'a+b'\n"
              "    score: 0.5\n"
              "    context: {words: [], window: 0, scroe: 1}\n"
              "routes: {default: {}}\n");
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_open(&e, dir, NULL, &d), RG_E_POLICY);
    assert_non_null(d);
    int words = 0, window = 0, key = 0;
    for (size_t i = 0; i < d->count; i++) {
        const char *m = d->entries[i].message;
        words |= strstr(m, "'words' is empty") != NULL;
        window |= strstr(m, "window") != NULL && d->entries[i].line == 6;
        key |= strstr(m, "scroe") != NULL && d->entries[i].line == 6;
    }
    if (!(words && window && key))
        rgt_print_diag(d);
    assert_true(words && window && key);
    rg_diag_free(d);
    rgt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_context_keeps_base_score),
        cmocka_unit_test(test_context_before_raises),
        cmocka_unit_test(test_context_after_raises),
        cmocka_unit_test(test_window_is_respected),
        cmocka_unit_test(test_lowering_context_and_first_block_wins),
        cmocka_unit_test(test_context_on_words_detector),
        cmocka_unit_test(test_side_and_slot_phrases),
        cmocka_unit_test(test_gated_detector_context_and_allow),
        cmocka_unit_test(test_many_entries_pair_as_alone),
        cmocka_unit_test(test_pair_regions_as_alone),
        cmocka_unit_test(test_context_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
