/* test_confirm.c — confirmation databases (snapshot.h cdb; check.c
 * confirm_miss), white-box: the shipped policies give the widest trigger
 * windows one, and a check finds the same hits, verdicts and redacted
 * copies with them as with PCRE2 searching every window (rg__confirm_off),
 * on long replies made of the phrases those regexes match, their near
 * misses and the common words that trigger them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "replyguard.h"
#include "engine.h"
#include "snapshot.h"
#include "outcome.h"

static const char *data_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("RG_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests", rel);
    return buf;
}

static rg_engine *open_shipped(void)
{
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    int rc = rg_engine_open(&e, data_path("../policies"), NULL, &d);
    rg_diag_free(d);
    assert_int_equal(rc, RG_OK);
    return e;
}

/* Which detectors have one: the phrase regexes whose literals are the
 * last words of their matches (" vermin", " world"), the e-mail regex's
 * "@". Each slot is a database of its own detector. */
static void test_which(void **state)
{
    (void)state;
    rg_engine *e = open_shipped();
    rg_scratch *sc = NULL;
    assert_int_equal(rg_scratch_alloc(e, &sc), RG_OK);
    const rg__snapshot *s = rg__engine_pin(e, sc);
    int hate = 0, slots = 0;
    for (size_t i = 0; i < s->ndets; i++) {
        const rg__cdet *d = &s->dets[i];
        if (!d->confirm)
            continue;
        assert_true(d->confirm <= RG__MAX_CONFIRM);
        assert_non_null(s->cdb[d->confirm - 1]);
        assert_true(d->maxw >= RG__CONFIRM_BACK && d->maxw != UINT32_MAX);
        hate += !strcmp(d->id, "en.hate.groups") || !strcmp(d->id, "es.hate.groups");
        slots++;
        for (size_t j = 0; j < i; j++)
            assert_true(s->dets[j].confirm != d->confirm); /* one detector a slot */
    }
    assert_int_equal(hate, 2);
    assert_true(slots >= 2 && slots <= RG__MAX_CONFIRM);
    rg__engine_unpin(sc);
    rg_scratch_free(sc);
    rg_engine_close(e);
}

static void test_same_outcomes(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        /* matches */
        "all immigrants are vermin. ", "mexicans are just animals ", "jews control the world ",
        "no mexicans allowed. ", "women belong in the kitchen ", "gypsies smell ",
        "los inmigrantes son una plaga ", "write to ana.lopez@example.com ",
        "mail bob@mail.example.org today ", "key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789AB ",
        /* near misses and the words that trigger */
        "the world ", "Jurassic World ", "money ", "the media ", "Resident Evil ", "dirty ",
        "lazy ", "the dogs ", "immigrants ", "mexican food ", "indian restaurants are nice ",
        "women are welcome ", "are ", "is ", "@ ", "a@b ", "sk- ", "smell ",
        /* the rest of a reply */
        "I found 3 restaurants for you. ", "Your table for 2 is booked at 7 pm. ",
        "Is there anything else? ", "The movie starts at 9:30 pm on March 3rd. ", ", ", ". ",
        "caf\xc3\xa9 ", "\xc3\xa9t\xc3\xa9 ",
    };
    rg_engine *e = open_shipped();
    rg_scratch *sc = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_scratch_alloc(e, &sc), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    static char t[3000], want[16384], got[16384];
    size_t hits = 0;
    int left = 0, rounds = 1500;
    srand(20261122);
    for (int it = 0; it < rounds; it++) {
        size_t n = 0, target = it % 3 ? 600 + (size_t)rand() % 1600 : (size_t)rand() % 200;
        while (n + 80 < sizeof t && n < target) {
            const char *p = pieces[(size_t)rand() % (sizeof pieces / sizeof pieces[0])];
            memcpy(t + n, p, strlen(p));
            n += strlen(p);
        }
        int tries = 0, ok = 0;
        while (!ok && tries++ < 20) {
            rg__confirm_off = 1;
            ok = rgw_outcome(e, sc, r, t, n, want, sizeof want);
            hits += ok ? rg_result_hit_count(r) : 0;
            rg__confirm_off = 0;
            ok = ok && rgw_outcome(e, sc, r, t, n, got, sizeof got);
        }
        if (!ok) {
            left++;
            continue;
        }
        if (strcmp(want, got))
            fprintf(stderr, "\"%.*s\"\n  PCRE2 only: %s\n  confirmed:  %s\n", (int)n, t, want, got);
        assert_string_equal(want, got);
    }
    fprintf(stderr, "compared %d texts (%d over budget every time), %zu hits\n", rounds - left,
            left, hits);
    assert_true(hits > (size_t)rounds && left * 20 < rounds);
    rg_result_free(r);
    rg_scratch_free(sc);
    rg_engine_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which),
        cmocka_unit_test(test_same_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
