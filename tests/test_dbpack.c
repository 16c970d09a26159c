/* test_dbpack.c — a snapshot's Hyperscan databases in one read-only
 * mapping (lib/dbpack.h): every database is inside it, the mapping cannot
 * be written, checks find exactly what they find with the databases where
 * Hyperscan allocated them ($RG_DBPACK=off), and reloads and bundles pack
 * their snapshots too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "replyguard.h"
#include "engine.h"
#include "snapshot.h"
#include "outcome.h"

/* tests/<rel> (RG_TEST_DATA: the tests/ source directory). */
static const char *data_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("RG_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests", rel);
    return buf;
}

static void open_at(rg_engine **e, const char *path, int packed)
{
    rg_diag *d = NULL;
    if (packed)
        unsetenv("RG_DBPACK");
    else
        setenv("RG_DBPACK", "off", 1);
    int rc = rg_engine_open(e, path, NULL, &d);
    for (size_t i = 0; rc != RG_OK && d && i < d->count; i++)
        fprintf(stderr, "%u:%u: %s\n", d->entries[i].line, d->entries[i].column,
                d->entries[i].message);
    rg_diag_free(d);
    unsetenv("RG_DBPACK");
    assert_int_equal(rc, RG_OK);
}

/* The permissions of the mapping that holds p ("r--p"...), from
 * /proc/self/maps; "" when none does. */
static void perms_of(const void *p, char out[5])
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && (unsigned long)p >= lo &&
            (unsigned long)p < hi) {
            memcpy(out, perms, 5);
            break;
        }
    }
    fclose(f);
}

/* 1 if every database of the pinned snapshot lies in its pack; counts
 * them into *n. */
static int all_inside(const rg__snapshot *s, int *n)
{
    const char *lo = s->pack, *hi = lo + s->packlen;
    const hs_database_t *dbs[RG__VIEW_COUNT * (2 + 2 * RG__NGATES) + RG__MAX_CONFIRM];
    int k = 0;
    for (int c = 0; c < RG__MAX_CONFIRM; c++)
        dbs[k++] = s->cdb[c];
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        dbs[k++] = s->db[v];
        dbs[k++] = s->pdb[v];
        for (int g = 0; g < RG__NGATES; g++) {
            dbs[k++] = s->gdb[v][g];
            dbs[k++] = s->gudb[v][g];
        }
    }
    *n = 0;
    for (int i = 0; i < k; i++) {
        if (!dbs[i])
            continue;
        ++*n;
        if ((const char *)dbs[i] < lo || (const char *)dbs[i] >= hi)
            return 0;
    }
    return 1;
}

static void expect_packed(rg_engine *e, int packed)
{
    rg_scratch *sc = NULL;
    assert_int_equal(rg_scratch_alloc(e, &sc), RG_OK);
    const rg__snapshot *s = rg__engine_pin(e, sc);
    if (!packed) {
        assert_null(s->pack);
    } else {
        assert_non_null(s->pack);
        assert_int_equal(s->packlen % (2u << 20), 0);
        assert_int_equal((uintptr_t)s->pack % (2u << 20), 0);
        int n = 0;
        assert_true(all_inside(s, &n));
        assert_true(n >= 4); /* raw, normalized, gates, pairing: the shipped set has them */
        char perms[5];
        perms_of(s->pack, perms);
        assert_string_equal(perms, "r--p"); /* a stray write faults */
        perms_of((const char *)s->pack + s->packlen - 1, perms);
        assert_string_equal(perms, "r--p");
    }
    rg__engine_unpin(sc);
    rg_scratch_free(sc);
}

/* Random replies from pieces that reach every database: lexicon words and
 * phrases (normalized view), spaced and masked ones (compacted view),
 * numbers of every gate (cards, phones, IBANs, IPv6, dates), allow and
 * context words (pairing). Same hits, same verdicts, packed or not. */
static void compare(rg_engine *a, rg_engine *b, int rounds)
{
    static const char *const pieces[] = {
        "the ", "reservation ", "is ", "confirmed ", "for ", "2 people ", ". ", ", ",
        "call me at ", "415-800-8498 ", "+44 20 7946 0958 ", "my card is ",
        "4111 1111 1111 1111 ", "ssn 123-45-6789 ", "born on 12/03/1984 ",
        "IBAN GB82 WEST 1234 5698 7654 32 ", "fe80::1ff:fe23:4567:890a ",
        "account number 12345678 ", "you idiot ", "f u c k ", "sh*t ", "go to hell ",
        "all immigrants are vermin ", "i will kill you ", "take 2 pills of oxycodone ",
        "api key sk-live-4eC39HqLyjWDarjtT1zdp7dc ", "AKIAIOSFODNN7EXAMPLE ",
        "the damn printer ", "scunthorpe ", "classic ", "1634 Bush Street ",
        "March 13th at 1:30 pm ", "\xc3\xa9t\xc3\xa9 ", "r\xc3\xa9servation ",
    };
    rg_scratch *sa = NULL, *sb = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_scratch_alloc(a, &sa), RG_OK);
    assert_int_equal(rg_scratch_alloc(b, &sb), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    static char t[3000], want[16384], got[16384];
    size_t hits = 0;
    int failsafe = 0;
    srand(20261122);
    for (int it = 0; it < rounds; it++) {
        size_t n = 0, target = it % 4 ? (size_t)rand() % 200 : 800 + (size_t)rand() % 1500;
        while (n + 64 < sizeof t && n < target) {
            const char *p = pieces[(size_t)rand() % (sizeof pieces / sizeof pieces[0])];
            memcpy(t + n, p, strlen(p));
            n += strlen(p);
        }
        /* Over budget on either side: again, up to 20 times (the machine
         * is rarely that busy for long). */
        int tries = 0;
        while (!(rgw_outcome(a, sa, r, t, n, want, sizeof want) &&
                 (hits += rg_result_hit_count(r), rgw_outcome(b, sb, r, t, n, got, sizeof got))) &&
               ++tries < 20)
            ;
        if (tries == 20) {
            failsafe++;
            continue;
        }
        if (strcmp(want, got))
            fprintf(stderr, "\"%.*s\"\n  packed: %s\n  not:    %s\n", (int)n, t, want, got);
        assert_string_equal(want, got);
    }
    assert_true(hits > (size_t)rounds); /* real hits were compared */
    fprintf(stderr, "compared %d texts (%d left out: over budget every time), %zu hits\n",
            rounds - failsafe, failsafe, hits);
    assert_true(failsafe * 20 < rounds);  /* and most texts */
    rg_result_free(r);
    rg_scratch_free(sa);
    rg_scratch_free(sb);
}

static void test_packed_same_hits(void **state)
{
    (void)state;
    rg_engine *a = NULL, *b = NULL;
    open_at(&a, data_path("../policies"), 1);
    open_at(&b, data_path("../policies"), 0);
    expect_packed(a, 1);
    expect_packed(b, 0);
    compare(a, b, 1500);
    rg_engine_close(a);
    rg_engine_close(b);
}

/* A reload packs its snapshot; the old pack goes with the old snapshot. */
static void test_reload(void **state)
{
    (void)state;
    rg_engine *a = NULL, *b = NULL;
    open_at(&a, data_path("../policies"), 1);
    open_at(&b, data_path("../policies"), 0);
    for (int i = 0; i < 2; i++) {
        rg_diag *d = NULL;
        assert_int_equal(rg_engine_reload(a, NULL, &d), RG_OK);
        rg_diag_free(d);
        expect_packed(a, 1);
    }
    compare(a, b, 200);
    rg_engine_close(a);
    rg_engine_close(b);
}

/* A bundle written from policies and opened: packed, same hits. */
static void test_bundle(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-dbpack-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[4096];
    snprintf(path, sizeof path, "%s/p.rgb", dir);
    rg_diag *d = NULL;
    assert_int_equal(rg_bundle_write(data_path("../policies"), path, NULL, 0, &d), RG_OK);
    rg_diag_free(d);
    rg_engine *a = NULL, *b = NULL;
    open_at(&a, path, 1);
    open_at(&b, data_path("../policies"), 0);
    expect_packed(a, 1);
    compare(a, b, 200);
    rg_engine_close(a);
    rg_engine_close(b);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_same_hits),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_bundle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
