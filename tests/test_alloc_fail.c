/* test_alloc_fail.c — allocation-failure injection through every stage:
 * engine load + compile, reload, scratch creation and refit, and the
 * check's own growth (views, result arena, reasons, redacted copy).
 *
 * The per-engine rg_allocator hook fails the Nth allocation, for every N
 * from 0 until a run completes without reaching N. Each stage must either
 * fail cleanly (RG_E_NOMEM, outputs NULL, nothing leaked, and for a
 * reload: the old snapshot still serving) or succeed with exactly the
 * behaviour of an undisturbed run (a failure swallowed on purpose, such
 * as the scratch pre-fit that the next check retries, must not change a
 * verdict). Hyperscan and libyaml allocate through their own process-wide
 * allocators, which replyguard deliberately never replaces
 * (hs_set_allocator is the host's): those allocations are not covered
 * here (docs/RELIABILITY.md).
 *
 * test_api.c sweeps open/scratch/check on a two-detector fixture; this
 * suite uses tests/policies/alloc (every construct) and adds reload,
 * refit after reload, and result growth.
 *
 * Deviations are counted and the first few printed, so one run shows all
 * of them; the test asserts the count is zero. */
#include "testutil.h"

#define FS_ERR (RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE)
#define SWEEP_LIMIT 100000 /* far above any stage's allocation count */

typedef struct faulty {
    long calls;   /* allocation calls so far (malloc + realloc) */
    long fail_at; /* fail the call with this index; < 0: never */
    long failed;  /* calls failed */
    long live;    /* blocks allocated and not freed */
} faulty;

static void *f_malloc(size_t n, void *user)
{
    faulty *k = user;
    if (k->calls++ == k->fail_at) {
        k->failed++;
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    if (p)
        k->live++;
    return p;
}

static void *f_realloc(void *ptr, size_t n, void *user)
{
    faulty *k = user;
    if (k->calls++ == k->fail_at) {
        k->failed++;
        return NULL;
    }
    void *p = realloc(ptr, n ? n : 1);
    if (p && !ptr)
        k->live++;
    return p;
}

static void f_free(void *ptr, void *user)
{
    faulty *k = user;
    if (ptr)
        k->live--;
    free(ptr);
}

/* Fail the allocation `n` calls from now (n < 0: never). */
static void arm(faulty *k, long n)
{
    k->fail_at = n < 0 ? -1 : k->calls + n;
    k->failed = 0;
}

static long BAD;
static void deviation(const char *stage, long n, const char *what, int st)
{
    if (BAD++ < 12)
        fprintf(stderr, "%s, failing allocation %ld: %s (status %s)\n", stage, n, what,
                rg_status_name(st));
}

/* ---- reference behaviour ------------------------------------------------ */

typedef struct sample {
    const char *route;
    const char *text;
} sample;

/* Every detector, both routes, a redaction, non-ASCII text that makes the
 * views grow, and a reply long enough to grow them further. */
static const sample SAMPLES[] = {
    {NULL, "Thanks, your order ships on Monday."},
    {NULL, "damn it"},
    {NULL, "that was a damn good meal"},
    {NULL, "you absolute nitwit"},
    {NULL, "use tok_abcd1234 to sign in"},
    {NULL, "your key=ABCDEFGHIJKL is ready"},
    {NULL, "the the form is attached"},
    {NULL, "card 4111 1111 1111 1111 is on file, id TID-123456"},
    {"strict", "card 4111 1111 1111 1111 is on file"},
    {NULL, "\xef\xbc\xa4\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x8e, caf\xc3\xa9 \xe2\x80\x8b numb  skull"},
    {NULL, "invalid \xff\xfe utf-8 and oh heck"},
};
#define NSAMPLES (sizeof SAMPLES / sizeof *SAMPLES)

static char LONGTEXT[20000];

static const char *sample_text(size_t i, size_t *len)
{
    if (i == NSAMPLES) {
        *len = sizeof LONGTEXT - 1;
        return LONGTEXT;
    }
    *len = strlen(SAMPLES[i].text);
    return SAMPLES[i].text;
}
#define NCASES (NSAMPLES + 1)

/* A one-line signature of a result: verdict, flags, hits, redacted copy. */
static void signature(const rg_result *r, char *buf, size_t size)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, size - o, "%s|%#x|%s|", rg_verdict_name(rg_result_verdict(r)),
                          rg_result_flags(r), rg_result_policy_version(r));
    for (size_t i = 0; i < rg_result_hit_count(r) && o < size; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        o += (size_t)snprintf(buf + o, size - o, "%s:%zu-%zu,", h->detector, h->start, h->end);
    }
    for (size_t i = 0; i < rg_result_reason_count(r) && o < size; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        o += (size_t)snprintf(buf + o, size - o, "%s/%s/%s,", x->category, x->rule, x->action);
    }
    size_t n = 0;
    const char *red = rg_result_redacted(r, &n);
    if (o < size)
        snprintf(buf + o, size - o, "|%.*s", red ? (int)(n > 200 ? 200 : n) : 6,
                 red ? red : "(none)");
}

static char REF[NCASES][2048];      /* tests/policies/alloc */
static char REF_B[NCASES][2048];    /* tests/policies/reload_b */

static int run_case(rg_engine *e, rg_scratch *s, rg_result *r, size_t i, char *sig,
                    size_t size)
{
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = i < NSAMPLES ? SAMPLES[i].route : NULL;
    q.reply = sample_text(i, &q.reply_len);
    int st = rg_check(e, s, &q, r);
    if (sig) {
        int k = snprintf(sig, size, "%s|", rg_status_name(st));
        signature(r, sig + k, size - (size_t)k);
    }
    return st;
}

/* Signatures of an undisturbed run. reload_b has no "strict" route: that
 * case is an RG_E_NOROUTE there, which the signature records. */
static void reference(const char *fixture, char out[][2048], int all_ok)
{
    rgt_ctx c;
    rgt_open(&c, fixture);
    for (size_t i = 0; i < NCASES; i++) {
        int st = run_case(c.e, c.s, c.r, i, out[i], sizeof out[i]);
        if (all_ok)
            assert_int_equal(st, RG_OK);
    }
    rgt_close(&c);
}

static int setup(void **state)
{
    (void)state;
    /* Non-ASCII throughout, hits spread over it: grows every view buffer
     * and the raw hit list well past their first sizes. */
    static const char piece[] = "Gr\xc3\xbc\xc3\x9f" "e, damn \xe2\x80\x94 tok_abcd1234 ";
    size_t o = 0;
    while (o + sizeof piece < sizeof LONGTEXT) {
        memcpy(LONGTEXT + o, piece, sizeof piece - 1);
        o += sizeof piece - 1;
    }
    memset(LONGTEXT + o, 'x', sizeof LONGTEXT - 1 - o);
    LONGTEXT[sizeof LONGTEXT - 1] = '\0';
    reference("policies/alloc", REF, 1);
    reference("policies/reload_b", REF_B, 0);
    return 0;
}

static rg_engine_options opts(rg_allocator *a)
{
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.allocator = a;
    return o;
}

/* Every case on (e, s) must match `ref`; returns the number that differ. */
static long verify_all(rg_engine *e, rg_scratch *s, char ref[][2048], const char *stage, long n)
{
    rg_result *r = NULL;
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    long bad = 0;
    for (size_t i = 0; i < NCASES; i++) {
        char sig[2048];
        int st = run_case(e, s, r, i, sig, sizeof sig);
        if (strcmp(sig, ref[i])) {
            if (bad++ == 0)
                fprintf(stderr, "  case %zu: got %s\n  expected %s\n", i, sig, ref[i]);
            deviation(stage, n, "a later check differs from an undisturbed run", st);
        }
    }
    rg_result_free(r);
    return bad;
}

/* ---- engine load and compile -------------------------------------------- */

static void sweep_open(const char *fixture, char ref[][2048])
{
    long n;
    int done = 0;
    for (n = 0; n < SWEEP_LIMIT && !done; n++) {
        faulty k = {0, -1, 0, 0};
        arm(&k, n);
        rg_allocator a = {f_malloc, f_realloc, f_free, &k};
        rg_engine_options o = opts(&a);
        rg_engine *e = (rg_engine *)&e;
        rg_diag *d = NULL;
        int st = rg_engine_open(&e, rgt_path(fixture), &o, &d);
        rg_diag_free(d);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                deviation("open", n, "status is not NOMEM", st);
            if (e != NULL)
                deviation("open", n, "*out is not NULL", st);
            if (!k.failed)
                deviation("open", n, "failed without a failed allocation", st);
        } else {
            done = !k.failed;
            arm(&k, -1);
            rg_scratch *s = NULL;
            assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
            verify_all(e, s, ref, "open", n);
            rg_scratch_free(s);
            rg_engine_close(e);
        }
        if (k.live != 0)
            deviation("open", n, "leaked", st);
    }
    fprintf(stderr, "%s: open swept %ld allocations\n", fixture, n - 1);
    assert_true(done);
}

static void test_open_every_allocation(void **state)
{
    (void)state;
    BAD = 0;
    sweep_open("policies/alloc", REF);
    assert_int_equal(BAD, 0);
}

/* ---- reload --------------------------------------------------------------- */

/* An engine serving tests/policies/reload_b; a reload to the richer
 * tests/policies/alloc fails at every allocation in turn (load, checks,
 * compile, publication). A failed reload must return NOMEM, leave the old
 * snapshot serving (same verdicts, same generation) and leak nothing; a
 * successful one must serve the new policy exactly. */
static void test_reload_every_allocation(void **state)
{
    (void)state;
    BAD = 0;
    faulty k = {0, -1, 0, 0};
    rg_allocator a = {f_malloc, f_realloc, f_free, &k};
    rg_engine_options o = opts(&a);
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/reload_b"), &o, NULL), RG_OK);
    rg_scratch *s = NULL;
    assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
    char *path_old = strdup(rgt_path("policies/reload_b"));
    char *path_new = strdup(rgt_path("policies/alloc"));
    long n;
    int done = 0;
    for (n = 0; n < SWEEP_LIMIT && !done; n++) {
        /* Warm the scratch on the current snapshot so that its refit is
         * not counted in the reload's live blocks. */
        verify_all(e, s, REF_B, "reload (before)", n);
        rg_engine_info before;
        assert_int_equal(rg_engine_get_info(e, &before), RG_OK);
        long live = k.live;
        arm(&k, n);
        rg_diag *d = NULL;
        int st = rg_engine_reload(e, path_new, &d);
        long failed = k.failed;
        arm(&k, -1);
        rg_diag_free(d);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                deviation("reload", n, "status is not NOMEM", st);
            if (!failed)
                deviation("reload", n, "failed without a failed allocation", st);
            if (k.live != live)
                deviation("reload", n, "leaked", st);
            rg_engine_info after;
            assert_int_equal(rg_engine_get_info(e, &after), RG_OK);
            if (after.generation != before.generation ||
                strcmp(after.policy_hash, before.policy_hash))
                deviation("reload", n, "the snapshot changed", st);
            verify_all(e, s, REF_B, "reload (old snapshot after a failed reload)", n);
        } else {
            done = !failed;
            verify_all(e, s, REF, "reload (new snapshot)", n);
            /* back to the first policy set for the next round */
            assert_int_equal(rg_engine_reload(e, path_old, NULL), RG_OK);
        }
    }
    fprintf(stderr, "reload swept %ld allocations\n", n - 1);
    free(path_old);
    free(path_new);
    rg_scratch_free(s);
    rg_engine_close(e);
    assert_int_equal(k.live, 0);
    assert_true(done);
    assert_int_equal(BAD, 0);
}

/* ---- scratch creation and refit ------------------------------------------- */

static void test_scratch_every_allocation(void **state)
{
    (void)state;
    BAD = 0;
    faulty k = {0, -1, 0, 0};
    rg_allocator a = {f_malloc, f_realloc, f_free, &k};
    rg_engine_options o = opts(&a);
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/alloc"), &o, NULL), RG_OK);
    long base = k.live;
    long n;
    int done = 0;
    for (n = 0; n < SWEEP_LIMIT && !done; n++) {
        arm(&k, n);
        rg_scratch *s = (rg_scratch *)&s;
        int st = rg_scratch_alloc(e, &s);
        long failed = k.failed;
        arm(&k, -1);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                deviation("scratch", n, "status is not NOMEM", st);
            if (s != NULL)
                deviation("scratch", n, "*out is not NULL", st);
            if (!failed)
                deviation("scratch", n, "failed without a failed allocation", st);
        } else {
            /* A failed pre-fit is retried by the first check: the scratch
             * must behave exactly as a fresh one. */
            done = !failed;
            verify_all(e, s, REF, "scratch", n);
            rg_scratch_free(s);
        }
        if (k.live != base)
            deviation("scratch", n, "leaked", st);
    }
    fprintf(stderr, "scratch swept %ld allocations\n", n - 1);
    rg_engine_close(e);
    assert_int_equal(k.live, 0);
    assert_true(done);
    assert_int_equal(BAD, 0);
}

/* After a reload, the first check on each scratch refits it to the new
 * snapshot (the one allocation a warmed-up check may make). A refit that
 * fails must give NOMEM with the new route's on_error fail-safe, and the
 * scratch must work on the next check. */
static void test_refit_after_reload_every_allocation(void **state)
{
    (void)state;
    BAD = 0;
    long n;
    int done = 0;
    for (n = 0; n < SWEEP_LIMIT && !done; n++) {
        faulty k = {0, -1, 0, 0};
        rg_allocator a = {f_malloc, f_realloc, f_free, &k};
        rg_engine_options o = opts(&a);
        rg_engine *e = NULL;
        rg_scratch *s = NULL;
        rg_result *r = NULL;
        assert_int_equal(rg_engine_open(&e, rgt_path("policies/reload_b"), &o, NULL), RG_OK);
        assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
        assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
        assert_int_equal(run_case(e, s, r, 1, NULL, 0), RG_OK);
        assert_int_equal(rg_engine_reload(e, rgt_path("policies/alloc"), NULL), RG_OK);
        arm(&k, n);
        int st = run_case(e, s, r, NSAMPLES, NULL, 0); /* the long text */
        long failed = k.failed;
        arm(&k, -1);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                deviation("refit", n, "status is not NOMEM", st);
            if (rg_result_verdict(r) != RG_BLOCK || (rg_result_flags(r) & FS_ERR) != FS_ERR)
                deviation("refit", n, "no on_error fail-safe (block, flagged)", st);
            if (!failed)
                deviation("refit", n, "failed without a failed allocation", st);
        } else {
            done = !failed;
        }
        verify_all(e, s, REF, "refit (next checks)", n);
        rg_result_free(r);
        rg_scratch_free(s);
        rg_engine_close(e);
        if (k.live != 0)
            deviation("refit", n, "leaked", st);
    }
    fprintf(stderr, "refit swept %ld allocations\n", n - 1);
    assert_true(done);
    assert_int_equal(BAD, 0);
}

/* ---- the check's own growth: views (engine allocator) and the result ---- */

static void test_check_growth_every_allocation(void **state)
{
    (void)state;
    BAD = 0;
    faulty ke = {0, -1, 0, 0};
    rg_allocator ae = {f_malloc, f_realloc, f_free, &ke};
    rg_engine_options o = opts(&ae);
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/alloc"), &o, NULL), RG_OK);
    long base = ke.live;
    for (size_t c = 0; c < NCASES; c++) {
        /* The engine's allocator (scratch views, buffers) and the
         * result's (arena, reasons, categories, redacted copy) fail in
         * turn: even n on the engine's, odd n on the result's. */
        int done_e = 0, done_r = 0;
        for (long n = 0; n < SWEEP_LIMIT && !(done_e && done_r); n++) {
            faulty kr = {0, -1, 0, 0};
            rg_allocator ar = {f_malloc, f_realloc, f_free, &kr};
            rg_scratch *s = NULL;
            rg_result *r = NULL;
            assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
            assert_int_equal(rg_result_alloc(&ar, &r), RG_OK);
            faulty *k = n % 2 ? &kr : &ke;
            arm(k, n / 2);
            char sig[2048];
            int st = run_case(e, s, r, c, sig, sizeof sig);
            long failed = k->failed;
            arm(k, -1);
            if (st != RG_OK) {
                if (st != RG_E_NOMEM)
                    deviation("check", n, "status is not NOMEM", st);
                if (rg_result_verdict(r) != RG_BLOCK ||
                    (rg_result_flags(r) & FS_ERR) != FS_ERR)
                    deviation("check", n, "no on_error fail-safe (block, flagged)", st);
                if (!failed)
                    deviation("check", n, "failed without a failed allocation", st);
                /* the same scratch and result work on the next check */
                st = run_case(e, s, r, c, sig, sizeof sig);
            } else if (!failed) {
                if (n % 2)
                    done_r = 1;
                else
                    done_e = 1;
            }
            if (strcmp(sig, REF[c])) {
                fprintf(stderr, "  case %zu: got %s\n  expected %s\n", c, sig, REF[c]);
                deviation("check", n, "result differs from an undisturbed run", st);
            }
            rg_result_free(r);
            rg_scratch_free(s);
            if (ke.live != base || kr.live != 0)
                deviation("check", n, "leaked", st);
        }
        assert_true(done_e && done_r);
    }
    rg_engine_close(e);
    assert_int_equal(ke.live, 0);
    assert_int_equal(BAD, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_every_allocation),
        cmocka_unit_test(test_reload_every_allocation),
        cmocka_unit_test(test_scratch_every_allocation),
        cmocka_unit_test(test_refit_after_reload_every_allocation),
        cmocka_unit_test(test_check_growth_every_allocation),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
