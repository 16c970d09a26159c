/* test_reload.c — rg_engine_reload: a new snapshot changes verdicts,
 * version, hash and generation; a failed reload returns an error and a
 * diagnostic and the old snapshot keeps serving; results own their
 * strings across reloads.
 * Fixtures: tests/policies/reload_a ("damn" -> block, version "a"),
 * reload_b ("damn" -> handoff, "darn" -> block, version "b"), broken. */
#include "testutil.h"

static void info_of(rg_engine *e, rg_engine_info *i)
{
    assert_int_equal(rg_engine_get_info(e, i), RG_OK);
}

static void test_reload_changes_verdicts_and_hash(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/reload_a");
    rg_engine_info a, b;
    info_of(c.e, &a);
    assert_int_equal(a.generation, 1);
    RGT_STR(a.policy_version, "a");
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    assert_int_equal(rgt_verdict(&c, NULL, "darn"), RG_ALLOW);
    rg_diag *d = (rg_diag *)&d;
    int st = rg_engine_reload(c.e, rgt_path("policies/reload_b"), &d);
    if (st != RG_OK)
        rgt_print_diag(d);
    assert_int_equal(st, RG_OK);
    assert_null(d);
    info_of(c.e, &b);
    assert_int_equal(b.generation, 2);
    RGT_STR(b.policy_version, "b");
    assert_string_not_equal(a.policy_hash, b.policy_hash);
    assert_int_equal(b.route_count, 2);
    assert_int_equal(b.detector_count, 2);
    /* the same scratch works on the new snapshot */
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_HANDOFF);
    RGT_STR(rg_result_policy_version(c.r), "b");
    RGT_STR(rg_result_policy_hash(c.r), b.policy_hash);
    assert_int_equal(rgt_verdict(&c, NULL, "darn"), RG_BLOCK);
    assert_int_equal(rgt_verdict(&c, "extra", "darn"), RG_BLOCK);
    /* and back */
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/reload_a"), NULL), RG_OK);
    rg_engine_info a2;
    info_of(c.e, &a2);
    assert_int_equal(a2.generation, 3);
    assert_string_equal(a2.policy_hash, a.policy_hash);
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    assert_int_equal(rgt_check(&c, "extra", "darn"), RG_E_NOROUTE);
    rgt_close(&c);
}

static void test_reload_null_path_uses_open_path(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/reload_a");
    rg_engine_info a, a2;
    info_of(c.e, &a);
    assert_int_equal(rg_engine_reload(c.e, NULL, NULL), RG_OK);
    info_of(c.e, &a2);
    assert_int_equal(a2.generation, 2);
    assert_string_equal(a2.policy_hash, a.policy_hash);
    RGT_STR(a2.policy_version, "a");
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    rgt_close(&c);
}

static void test_reload_null_engine(void **state)
{
    (void)state;
    assert_int_equal(rg_engine_reload(NULL, rgt_path("policies/reload_a"), NULL), RG_E_INVAL);
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_reload(NULL, NULL, &d), RG_E_INVAL);
    rg_diag_free(d);
}

static void test_failed_reload_keeps_old_snapshot(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/reload_a");
    rg_engine_info before, after;
    info_of(c.e, &before);
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/broken"), &d), RG_E_POLICY);
    const rg_diag_entry *e = rgt_first_error(d);
    if (!e || e->line != 5 || e->column != 1)
        rgt_print_diag(d);
    assert_non_null(e);
    assert_true(rgt_ends_with(e->file, "policy.yaml"));
    assert_int_equal(e->line, 5);
    assert_int_equal(e->column, 1);
    rg_diag_free(d);
    info_of(c.e, &after);
    assert_int_equal(after.generation, before.generation);
    assert_string_equal(after.policy_hash, before.policy_hash);
    RGT_STR(after.policy_version, "a");
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    RGT_STR(rg_result_policy_version(c.r), "a");
    /* a missing directory: RG_E_IO, still the old snapshot */
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/nope"), NULL), RG_E_IO);
    info_of(c.e, &after);
    assert_int_equal(after.generation, before.generation);
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    /* and a good reload after the failures works */
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/reload_b"), NULL), RG_OK);
    info_of(c.e, &after);
    assert_int_equal(after.generation, before.generation + 1);
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_HANDOFF);
    rgt_close(&c);
}

static void test_failed_reload_with_open_path_edited(void **state)
{
    (void)state;
    /* the engine's own directory is broken in place, then reloaded */
    char *dir = rgt_tmpdir();
    rgt_write(dir, "policy.yaml",
              "version: \"t1\"\n"
              "detectors:\n"
              "  - id: w\n"
              "    category: toxicity.profanity\n"
              "    words: [damn]\n"
              "    score: 0.9\n"
              "routes:\n"
              "  default:\n"
              "    categories:\n"
              "      toxicity: { block: 0.5 }\n");
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, dir, NULL, NULL), RG_OK);
    rgt_write(dir, "policy.yaml", "version: \"t2\"\nroutes: [\n");
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_reload(e, NULL, &d), RG_E_POLICY);
    assert_non_null(rgt_first_error(d));
    rg_diag_free(d);
    rg_engine_info i;
    info_of(e, &i);
    RGT_STR(i.policy_version, "t1");
    assert_int_equal(i.generation, 1);
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "damn";
    q.reply_len = 4;
    assert_int_equal(rg_check(e, s, &q, r), RG_OK);
    assert_int_equal(rg_result_verdict(r), RG_BLOCK);
    /* fixed again: the reload succeeds and sees the new content */
    rgt_write(dir, "policy.yaml",
              "version: \"t3\"\n"
              "routes:\n"
              "  default: {}\n");
    assert_int_equal(rg_engine_reload(e, NULL, NULL), RG_OK);
    assert_int_equal(rg_check(e, s, &q, r), RG_OK);
    assert_int_equal(rg_result_verdict(r), RG_ALLOW);
    RGT_STR(rg_result_policy_version(r), "t3");
    rg_result_free(r);
    rg_scratch_free(s);
    rg_engine_close(e);
    rgt_rmtree(dir);
    free(dir);
}

static void test_result_strings_survive_reload(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/reload_a");
    assert_int_equal(rgt_verdict(&c, NULL, "oh damn"), RG_BLOCK);
    rg_engine_info a;
    info_of(c.e, &a);
    const rg_hit *h = rg_result_hit(c.r, 0);
    const rg_reason *x = rg_result_reason(c.r, 0);
    const rg_category_score *cs = rg_result_category(c.r, 0);
    assert_non_null(h);
    assert_non_null(x);
    assert_non_null(cs);
    const char *detector = h->detector, *category = h->category;
    const char *rule = x->rule, *route = x->route, *action = x->action;
    const char *catname = cs->category;
    const char *version = rg_result_policy_version(c.r);
    const char *hash = rg_result_policy_hash(c.r);
    const char *rroute = rg_result_route(c.r);
    /* several reloads so that the old snapshot is surely gone */
    for (int i = 0; i < 4; i++)
        assert_int_equal(rg_engine_reload(c.e, rgt_path(i % 2 ? "policies/reload_a"
                                                               : "policies/reload_b"),
                                          NULL),
                         RG_OK);
    RGT_STR(detector, "a.prof");
    RGT_STR(category, "toxicity.profanity");
    RGT_STR(catname, "toxicity.profanity");
    RGT_STR(rule, "toxicity");
    RGT_STR(route, "default");
    RGT_STR(action, "block");
    RGT_STR(version, "a");
    RGT_STR(hash, a.policy_hash);
    RGT_STR(rroute, "default");
    RGT_SPAN(h, 3, 7);
    /* and even after the engine is closed */
    rg_scratch_free(c.s);
    rg_engine_close(c.e);
    RGT_STR(detector, "a.prof");
    RGT_STR(version, "a");
    RGT_STR(rg_result_route(c.r), "default");
    rg_result_free(c.r);
}

static void test_scratch_allocated_after_reload(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/reload_a");
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/reload_b"), NULL), RG_OK);
    rg_scratch *s2 = NULL;
    assert_int_equal(rg_scratch_alloc(c.e, &s2), RG_OK);
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "darn";
    q.reply_len = 4;
    assert_int_equal(rg_check(c.e, s2, &q, c.r), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_check(c.e, c.s, &q, c.r), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    rg_scratch_free(s2);
    rgt_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_changes_verdicts_and_hash),
        cmocka_unit_test(test_reload_null_path_uses_open_path),
        cmocka_unit_test(test_reload_null_engine),
        cmocka_unit_test(test_failed_reload_keeps_old_snapshot),
        cmocka_unit_test(test_failed_reload_with_open_path_edited),
        cmocka_unit_test(test_result_strings_survive_reload),
        cmocka_unit_test(test_scratch_allocated_after_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
