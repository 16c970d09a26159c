/* test_patterns.c — regex and pcre detectors: caseless, the raw and the
 * normalized view (spans mapped back to the original bytes), PCRE2-only
 * constructs, and regexes Hyperscan rejects (prefilter + PCRE2).
 * Fixture: tests/policies/patterns. */
#include "testutil.h"

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/patterns");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

static void only_hit(const char *text, const char *det, size_t s, size_t e)
{
    rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 1 || !rgt_hit(C.r, det, 0)) {
        fprintf(stderr, "expected one %s hit in \"%s\"\n", det, text);
        rgt_dump(C.r);
    }
    assert_int_equal(rg_result_hit_count(C.r), 1);
    RGT_SPAN(rgt_hit(C.r, det, 0), s, e);
}

static void no_hit(const char *text)
{
    rgt_verdict(&C, NULL, text);
    if (rg_result_hit_count(C.r) != 0)
        rgt_dump(C.r);
    assert_int_equal(rg_result_hit_count(C.r), 0);
}

static void test_caseless_regex(void **state)
{
    (void)state;
    only_hit("token tok_ab12cd34 here", "p.caseless", 6, 18);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    only_hit("TOK_AB12CD34", "p.caseless", 0, 12);
}

static void test_case_sensitive_regex(void **state)
{
    (void)state;
    only_hit("use PW-ABCD now", "p.cased", 4, 11);
    no_hit("use pw-abcd now");
    no_hit("use Pw-Abcd now");
}

static void test_pcre_lookbehind_span(void **state)
{
    (void)state;
    /* the span is the key only, not the "key=" the lookbehind needs */
    only_hit("url?key=AbCdEfGh1234 ok", "p.lookbehind", 8, 20);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    no_hit("url?kez=AbCdEfGh1234 ok");
}

static void test_backreference_prefilter(void **state)
{
    (void)state;
    only_hit("it is is fine", "p.backref", 3, 8);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    no_hit("it is fine");
    no_hit("this is island");
}

static void test_regex_on_normalized_view(void **state)
{
    (void)state;
    /* case-folded and whitespace-collapsed; span in original bytes */
    only_hit("Please, SPEAK  To\tA Human now", "p.norm", 8, 25);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    /* accents stripped: "spéak" */
    only_hit("sp\xc3\xa9" "ak to a human", "p.norm", 0, 17);
}

/* A normalized-view regex without trigger literals: PCRE2 searches only
 * the match's width before each end Hyperscan reports. Dates far apart in
 * long texts, next to near misses (a run too long, glued to letters), and
 * more than sixteen of them (the windows' cap, where the closest merge):
 * every date is found with its exact span, as a whole-view search finds
 * it. */
static void test_regex_reported_ends(void **state)
{
    (void)state;
    static char t[16384];
    const char *filler = "The courier says it left on time, call us any time. ";
    for (int ndates = 1; ndates <= 24; ndates += 23) {
        for (int gap = 0; gap < 3; gap++) {
            size_t n = 0, at[32];
            for (int d = 0; d < ndates; d++) {
                for (int f = 0; f < gap * 3 + (d % 2); f++)
                    n += (size_t)snprintf(t + n, sizeof t - n, "%s", filler);
                n += (size_t)snprintf(t + n, sizeof t - n, "x01021990 1231202255 ");
                at[d] = n;
                n += (size_t)snprintf(t + n, sizeof t - n, "%02d%02d%d ", 10 + d % 20, 1 + d % 12,
                                      1950 + d);
            }
            rgt_verdict(&C, NULL, t);
            assert_true(n < sizeof t - 1); /* the whole text was written */
            if (rgt_hits_of(C.r, "p.norm.date") != (size_t)ndates)
                rgt_dump(C.r);
            assert_int_equal(rgt_hits_of(C.r, "p.norm.date"), ndates);
            for (int d = 0; d < ndates; d++)
                RGT_SPAN(rgt_hit(C.r, "p.norm.date", (size_t)d), at[d], at[d] + 8);
        }
    }
}

static void test_regex_raw_view_is_not_folded(void **state)
{
    (void)state;
    only_hit("A Refund is due", "p.raw", 2, 8);
    no_hit("a refund is due");
    no_hit("a REFUND is due");
}

static void test_several_detectors_one_text(void **state)
{
    (void)state;
    assert_int_equal(rgt_verdict(&C, NULL, "Refund: tok_00000000, PW-WXYZ, the the end"),
                     RG_BLOCK);
    assert_int_equal(rg_result_hit_count(C.r), 4);
    RGT_SPAN(rgt_hit(C.r, "p.raw", 0), 0, 6);
    RGT_SPAN(rgt_hit(C.r, "p.caseless", 0), 8, 20);
    RGT_SPAN(rgt_hit(C.r, "p.cased", 0), 22, 29);
    RGT_SPAN(rgt_hit(C.r, "p.backref", 0), 31, 38);
}

/* Regexes compiled as trigger literals (lib/literals.c): the same spans as
 * the regex, though a match starts well before the literal that flagged
 * it (PCRE2 starts at the earliest literal minus the regex's maximum
 * width), several matches lie between literal occurrences (it stops after
 * the latest), a literal occurs where nothing matches, and case differs
 * (normalized view; caseless raw regex). */
static void test_trigger_literals(void **state)
{
    (void)state;
    /* The first phrase is as long as the regex allows but for its optional
     * final "s" (which the literal " idiot" does not reach): a start bound
     * two bytes too late would miss it. */
    const char *t = "Hello there, thanks for waiting on the line. YOUUUU absolutely absolutely "
                    "absolutely idiots, and an idiot-proof plan, and you morons.";
    rgt_verdict(&C, NULL, t);
    if (rgt_hits_of(C.r, "p.trig.phrase") != 2)
        rgt_dump(C.r);
    assert_int_equal(rgt_hits_of(C.r, "p.trig.phrase"), 2);
    size_t a = (size_t)(strstr(t, "YOUUUU") - t), b = (size_t)(strstr(t, "idiots,") - t) + 6;
    size_t c = (size_t)(strstr(t, "you morons") - t);
    RGT_SPAN(rgt_hit(C.r, "p.trig.phrase", 0), a, b);
    RGT_SPAN(rgt_hit(C.r, "p.trig.phrase", 1), c, c + 10);
    no_hit("an idiot-proof plan; you are not an idiot");
    const char *k = "Set API_KEY: abc123XYZ then apikey=zz and Api-Key = nope";
    rgt_verdict(&C, NULL, k);
    assert_int_equal(rgt_hits_of(C.r, "p.trig.raw"), 1);
    size_t s = (size_t)(strstr(k, "API_KEY") - k);
    RGT_SPAN(rgt_hit(C.r, "p.trig.raw", 0), s, s + 18);
}

/* Trigger literals far apart in a long reply: PCRE2 searches a window
 * around each group of occurrences (check.c bound, RG__TRIG_WINDOWS), and
 * past that many it widens the last. Every phrase gets the span it gets
 * alone, whatever the gaps (joined below 64 bytes, apart above) and
 * however many phrases; the near misses stay misses. */
static void test_trigger_windows(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "you idiot", "YOUUUU absolutely absolutely absolutely idiots", "you morons",
        "api_key: abc123XYZ", "an idiot-proof plan", "you are not an idiot", "Api-Key = nope",
        "youre truly moron"};
    enum { NP = sizeof pieces / sizeof pieces[0] };
    static char t[32768];
    unsigned seed = 4242;
    size_t total = 0;
    for (int it = 0; it < 200; it++) {
        size_t n = 0, nwant = 0;
        size_t ws[128], we[128];
        const char *wd[128];
        /* Past RG__TRIG_WINDOWS (16) apart: the closest windows merge. */
        int count = 1 + rand_r(&seed) % (it % 4 == 3 ? 48 : 5);
        for (int k = 0; k < count; k++) {
            size_t gap = (size_t)(rand_r(&seed) % 4 == 0 ? 1 + rand_r(&seed) % 60
                                                         : 60 + rand_r(&seed) % 400);
            for (size_t g = 0; g < gap; g++)
                t[n++] = "the order left on time "[g % 23];
            t[n++] = ' ';
            const char *pc = pieces[rand_r(&seed) % NP];
            rgt_verdict(&C, NULL, pc);
            for (size_t h = 0; h < rg_result_hit_count(C.r); h++) {
                const rg_hit *x = rg_result_hit(C.r, h);
                if (strcmp(x->detector, "p.trig.phrase") && strcmp(x->detector, "p.trig.raw"))
                    continue; /* "absolutely absolutely" is also p.backref's */
                ws[nwant] = n + x->start;
                we[nwant] = n + x->end;
                wd[nwant++] = strcmp(x->detector, "p.trig.phrase") ? "p.trig.raw" : "p.trig.phrase";
            }
            memcpy(t + n, pc, strlen(pc));
            n += strlen(pc);
            t[n++] = '.';
        }
        rgt_checkn(&C, NULL, t, n);
        size_t got = rgt_hits_of(C.r, "p.trig.phrase") + rgt_hits_of(C.r, "p.trig.raw");
        if (got != nwant) {
            rgt_dump(C.r);
            fail_msg("iteration %d: %zu hits, %zu expected", it, got, nwant);
        }
        size_t kp = 0, kr = 0;
        for (size_t i = 0; i < nwant; i++) {
            int phrase = !strcmp(wd[i], "p.trig.phrase");
            const rg_hit *h = rgt_hit(C.r, wd[i], phrase ? kp++ : kr++);
            assert_non_null(h);
            if (h->start != ws[i] || h->end != we[i])
                fail_msg("iteration %d: %s at [%zu,%zu), expected [%zu,%zu)", it, wd[i],
                         (size_t)h->start, (size_t)h->end, ws[i], we[i]);
        }
        total += nwant;
    }
    assert_true(total > 300);
}

/* Short replies too: a cluster gate's database (digits.h) is scanned over
 * the clusters of digits and separators only, widened by a code point so
 * that \\b sees the bytes it sees in the whole reply. */
static void test_cluster_scans(void **state)
{
    (void)state;
    only_hit("Ref 123-45-6789 noted", "p.region.ssn", 4, 15);
    only_hit("\xc3\xa9" "123-45-6789", "p.region.ssn", 2, 13);    /* a non-word byte before */
    only_hit("(123-45-6789)", "p.region.ssn", 1, 12);
    only_hit("a 1 2 3 x 123-45-6789", "p.region.ssn", 10, 21); /* other digits nearby */
    no_hit("x111-22-3333y");                                    /* glued to letters */
    no_hit("91234-56-78901");                                   /* inside a longer run */
    no_hit("123-45-678 9");
}

/* A long reply: the gated database is scanned in regions around its
 * digits (check.c rg__scan_view) and PCRE2 searches from the first flagged
 * region to the last. Both numbers are found with their exact spans; a
 * number glued to letters or inside a longer digit run (which a region
 * starting inside it could flag) is not. */
static void test_region_scans(void **state)
{
    (void)state;
    char t[2048];
    const char *filler = "We looked into your order and the courier says it left on time. ";
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        n += (size_t)snprintf(t + n, sizeof t - n, "%s", filler);
    n += (size_t)snprintf(t + n, sizeof t - n, "Ref 123-45-6789 noted, at 10 and 20. ");
    for (int i = 0; i < 6; i++)
        n += (size_t)snprintf(t + n, sizeof t - n, "%s", filler);
    n += (size_t)snprintf(t + n, sizeof t - n,
                          "x111-22-3333y and 91234-56-78901 and finally 987-65-4321");
    rgt_verdict(&C, NULL, t);
    if (rgt_hits_of(C.r, "p.region.ssn") != 2)
        rgt_dump(C.r);
    assert_int_equal(rgt_hits_of(C.r, "p.region.ssn"), 2);
    size_t a = (size_t)(strstr(t, "123-45-6789") - t), b = (size_t)(strstr(t, "987-65-4321") - t);
    RGT_SPAN(rgt_hit(C.r, "p.region.ssn", 0), a, a + 11);
    RGT_SPAN(rgt_hit(C.r, "p.region.ssn", 1), b, b + 11);
    assert_true(n > 3 * 48); /* long enough for region scans */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caseless_regex),
        cmocka_unit_test(test_case_sensitive_regex),
        cmocka_unit_test(test_pcre_lookbehind_span),
        cmocka_unit_test(test_backreference_prefilter),
        cmocka_unit_test(test_regex_on_normalized_view),
        cmocka_unit_test(test_regex_reported_ends),
        cmocka_unit_test(test_regex_raw_view_is_not_folded),
        cmocka_unit_test(test_several_detectors_one_text),
        cmocka_unit_test(test_trigger_literals),
        cmocka_unit_test(test_trigger_windows),
        cmocka_unit_test(test_cluster_scans),
        cmocka_unit_test(test_region_scans),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
