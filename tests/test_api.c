/* test_api.c — every public function, including NULL and bogus arguments,
 * exactly as include/replyguard.h documents it. Fixtures:
 * tests/policies/basic (routes billing/default/support with on_error
 * handoff/block/allow) and tests/policies/other. */
#include "testutil.h"
#include <limits.h>
#include <stdlib.h>

#define FS_ERR (RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE)

/* ---- status codes, names, versions ------------------------------------ */

static void test_version(void **state)
{
    (void)state;
    RGT_STR(rg_version(), RG_VERSION_STRING);
    RGT_STR(rg_version(), "0.1.0");
    assert_int_equal(RG_VERSION_MAJOR, 0);
    assert_int_equal(RG_VERSION_MINOR, 1);
    assert_int_equal(RG_VERSION_PATCH, 0);
}

static void test_status_values_fixed(void **state)
{
    (void)state;
    assert_int_equal(RG_OK, 0);
    assert_int_equal(RG_E_INVAL, -1);
    assert_int_equal(RG_E_NOMEM, -2);
    assert_int_equal(RG_E_IO, -3);
    assert_int_equal(RG_E_POLICY, -4);
    assert_int_equal(RG_E_COMPILE, -5);
    assert_int_equal(RG_E_NOROUTE, -6);
    assert_int_equal(RG_E_ENGINE, -7);
    assert_int_equal(RG_E_MISMATCH, -8);
    assert_int_equal(RG_E_BUSY, -9);
    assert_int_equal(RG_E_RANGE, -10);
    assert_int_equal(RG_ALLOW, 0);
    assert_int_equal(RG_HANDOFF, 1);
    assert_int_equal(RG_BLOCK, 2);
}

static void test_strerror_every_code(void **state)
{
    (void)state;
    RGT_STR(rg_strerror(RG_OK), "success");
#define X(name, value, msg) RGT_STR(rg_strerror(value), msg);
    RG_STATUS_MAP(X)
#undef X
    RGT_STR(rg_strerror(-10), "index out of range");
    RGT_STR(rg_strerror(-1), "invalid argument");
    static const int bogus[] = {1, 2, 100, -12, -13, -100, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bogus / sizeof *bogus; i++)
        RGT_STR(rg_strerror(bogus[i]), "unknown status");
}

static void test_status_name_every_code(void **state)
{
    (void)state;
    RGT_STR(rg_status_name(RG_OK), "OK");
#define X(name, value, msg) RGT_STR(rg_status_name(value), #name);
    RG_STATUS_MAP(X)
#undef X
    RGT_STR(rg_status_name(RG_E_NOMEM), "NOMEM");
    RGT_STR(rg_status_name(RG_E_MISMATCH), "MISMATCH");
    static const int bogus[] = {1, 5, -12, -42, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof bogus / sizeof *bogus; i++)
        RGT_STR(rg_status_name(bogus[i]), "UNKNOWN");
}

static void test_verdict_name(void **state)
{
    (void)state;
    RGT_STR(rg_verdict_name(RG_ALLOW), "allow");
    RGT_STR(rg_verdict_name(RG_HANDOFF), "handoff");
    RGT_STR(rg_verdict_name(RG_BLOCK), "block");
    RGT_STR(rg_verdict_name(3), "unknown");
    RGT_STR(rg_verdict_name(-1), "unknown");
    RGT_STR(rg_verdict_name(INT_MAX), "unknown");
    RGT_STR(rg_verdict_name(INT_MIN), "unknown");
}

/* ---- engine open / info / route names --------------------------------- */

static void test_open_null_args(void **state)
{
    (void)state;
    rg_engine *e = (rg_engine *)&e; /* bogus non-NULL: must be reset */
    assert_int_equal(rg_engine_open(NULL, rgt_path("policies/basic"), NULL, NULL),
                     RG_E_INVAL);
    assert_int_equal(rg_engine_open(&e, NULL, NULL, NULL), RG_E_INVAL);
    assert_null(e);
    rg_diag *d = NULL;
    e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, NULL, NULL, &d), RG_E_INVAL);
    assert_null(e);
    rg_diag_free(d);
}

static void test_open_bad_options(void **state)
{
    (void)state;
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = 1u << 31; /* not an RG_ENGINE_* bit */
    rg_engine *e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic"), &o, NULL),
                     RG_E_INVAL);
    assert_null(e);
    /* the same options with flags 0 are fine */
    o.flags = 0;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic"), &o, NULL), RG_OK);
    assert_non_null(e);
    rg_engine_close(e);
}

static void test_open_missing_path_is_io(void **state)
{
    (void)state;
    rg_engine *e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/does-not-exist"), NULL, NULL),
                     RG_E_IO);
    assert_null(e);
    e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic/nope.yaml"), NULL, NULL),
                     RG_E_IO);
    assert_null(e);
}

static void test_open_policy_error_without_diag(void **state)
{
    (void)state;
    rg_engine *e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/broken"), NULL, NULL), RG_E_POLICY);
    assert_null(e);
    rg_diag *d = NULL;
    e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/broken"), NULL, &d), RG_E_POLICY);
    assert_null(e);
    assert_non_null(d);
    assert_true(d->count >= 1);
    assert_non_null(d->entries);
    RGT_STR(rg_strerror(RG_E_POLICY), "policy error (see diagnostics)");
    rg_diag_free(d);
}

static void test_open_clean_policy_no_diag(void **state)
{
    (void)state;
    rg_engine *e = NULL;
    rg_diag *d = (rg_diag *)&d; /* must be set to NULL: no diagnostics */
    int st = rg_engine_open(&e, rgt_path("policies/basic"), NULL, &d);
    if (st == RG_OK && d)
        rgt_print_diag(d);
    assert_int_equal(st, RG_OK);
    assert_null(d);
    rg_engine_close(e);
}

static void test_open_single_file(void **state)
{
    (void)state;
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic/policy.yaml"), NULL, NULL),
                     RG_OK);
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(e, &info), RG_OK);
    assert_int_equal(info.route_count, 3);
    RGT_STR(info.policy_version, "basic-1");
    rg_engine_close(e);
}

static int is_lower_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static void test_engine_info(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_engine_info info;
    memset(&info, 0x5a, sizeof info);
    assert_int_equal(rg_engine_get_info(c.e, &info), RG_OK);
    RGT_STR(info.policy_version, "basic-1");
    assert_true(is_lower_hex64(info.policy_hash));
    assert_int_equal(info.generation, 1);
    assert_int_equal(info.detector_count, 2);
    assert_int_equal(info.pattern_count, 3); /* damn, heck + one regex */
    assert_int_equal(info.route_count, 3);
    assert_true(info.compile_ns > 0);
    assert_int_equal(rg_engine_get_info(NULL, &info), RG_E_INVAL);
    assert_int_equal(rg_engine_get_info(c.e, NULL), RG_E_INVAL);
    rgt_close(&c);
}

static void test_policy_hash_identity(void **state)
{
    (void)state;
    rgt_ctx a, b, o;
    rgt_open(&a, "policies/basic");
    rgt_open(&b, "policies/basic");
    rgt_open(&o, "policies/other");
    rg_engine_info ia, ib, io;
    assert_int_equal(rg_engine_get_info(a.e, &ia), RG_OK);
    assert_int_equal(rg_engine_get_info(b.e, &ib), RG_OK);
    assert_int_equal(rg_engine_get_info(o.e, &io), RG_OK);
    assert_string_equal(ia.policy_hash, ib.policy_hash);
    assert_string_not_equal(ia.policy_hash, io.policy_hash);
    RGT_STR(io.policy_version, "other-1");
    rgt_close(&a);
    rgt_close(&b);
    rgt_close(&o);
}

static void test_route_name(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    char buf[32];
    assert_int_equal(rg_engine_route_name(c.e, 0, buf, sizeof buf), RG_OK);
    assert_string_equal(buf, "billing");
    assert_int_equal(rg_engine_route_name(c.e, 1, buf, sizeof buf), RG_OK);
    assert_string_equal(buf, "default");
    assert_int_equal(rg_engine_route_name(c.e, 2, buf, sizeof buf), RG_OK);
    assert_string_equal(buf, "support");
    assert_int_equal(rg_engine_route_name(c.e, 3, buf, sizeof buf), RG_E_RANGE);
    assert_int_equal(rg_engine_route_name(c.e, (size_t)-1, buf, sizeof buf), RG_E_RANGE);
    /* truncated, NUL-terminated */
    memset(buf, 'x', sizeof buf);
    assert_int_equal(rg_engine_route_name(c.e, 0, buf, 4), RG_OK);
    assert_string_equal(buf, "bil");
    assert_int_equal(buf[4], 'x'); /* nothing written past size */
    assert_int_equal(rg_engine_route_name(NULL, 0, buf, sizeof buf), RG_E_INVAL);
    assert_int_equal(rg_engine_route_name(c.e, 0, NULL, sizeof buf), RG_E_INVAL);
    rgt_close(&c);
}

/* ---- scratch / result allocation -------------------------------------- */

static void test_scratch_alloc_null(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_scratch *s = (rg_scratch *)&s;
    assert_int_equal(rg_scratch_alloc(NULL, &s), RG_E_INVAL);
    assert_int_equal(rg_scratch_alloc(c.e, NULL), RG_E_INVAL);
    rgt_close(&c);
}

static void test_result_alloc_null(void **state)
{
    (void)state;
    assert_int_equal(rg_result_alloc(NULL, NULL), RG_E_INVAL);
}

static void test_fresh_result(void **state)
{
    (void)state;
    rg_result *r = NULL;
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    assert_non_null(r);
    assert_int_equal(rg_result_verdict(r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(r), 0);
    assert_int_equal(rg_result_hit_count(r), 0);
    assert_null(rg_result_hit(r, 0));
    assert_int_equal(rg_result_category_count(r), 0);
    assert_null(rg_result_category(r, 0));
    assert_int_equal(rg_result_reason_count(r), 0);
    assert_null(rg_result_reason(r, 0));
    size_t len = 77;
    assert_null(rg_result_redacted(r, &len));
    assert_null(rg_result_redacted(r, NULL));
    RGT_STR(rg_result_route(r), "");
    rg_result_free(r);
}

static void test_null_result_accessors(void **state)
{
    (void)state;
    assert_int_equal(rg_result_verdict(NULL), RG_HANDOFF);
    assert_int_equal(rg_result_flags(NULL), 0);
    assert_int_equal(rg_result_hit_count(NULL), 0);
    assert_null(rg_result_hit(NULL, 0));
    assert_int_equal(rg_result_category_count(NULL), 0);
    assert_null(rg_result_category(NULL, 0));
    assert_int_equal(rg_result_reason_count(NULL), 0);
    assert_null(rg_result_reason(NULL, 0));
    size_t len = 0;
    assert_null(rg_result_redacted(NULL, &len));
    assert_null(rg_result_redacted(NULL, NULL));
    assert_int_equal(rg_result_elapsed_ns(NULL), 0);
    assert_null(rg_result_route(NULL));
    assert_null(rg_result_policy_version(NULL));
    assert_null(rg_result_policy_hash(NULL));
}

static void test_free_null_is_noop(void **state)
{
    (void)state;
    rg_engine_close(NULL);
    rg_scratch_free(NULL);
    rg_result_free(NULL);
    rg_diag_free(NULL);
}

/* ---- rg_check ---------------------------------------------------------- */

static void test_check_allow_fills_identity(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(c.e, &info), RG_OK);
    assert_int_equal(rgt_check(&c, NULL, "Your parcel ships on Monday."), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(c.r), 0);
    assert_int_equal(rg_result_hit_count(c.r), 0);
    assert_int_equal(rg_result_category_count(c.r), 0);
    assert_int_equal(rg_result_reason_count(c.r), 0);
    assert_null(rg_result_redacted(c.r, NULL));
    RGT_STR(rg_result_route(c.r), "default");
    RGT_STR(rg_result_policy_version(c.r), "basic-1");
    RGT_STR(rg_result_policy_hash(c.r), info.policy_hash);
    assert_true(rg_result_elapsed_ns(c.r) > 0);
    rgt_close(&c);
}

static void test_check_named_route(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    assert_int_equal(rgt_check(&c, "billing", "damn"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    RGT_STR(rg_result_route(c.r), "billing");
    assert_int_equal(rgt_check(&c, "default", "fine"), RG_OK);
    RGT_STR(rg_result_route(c.r), "default");
    rgt_close(&c);
}

static void test_check_hit_fields(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    assert_int_equal(rgt_check(&c, NULL, "oh damn"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_hit_count(c.r), 1);
    const rg_hit *h = rg_result_hit(c.r, 0);
    assert_non_null(h);
    RGT_STR(h->detector, "prof.words");
    RGT_STR(h->category, "toxicity.profanity");
    assert_int_equal(h->start, 3);
    assert_int_equal(h->end, 7);
    RGT_NEAR(h->score, 0.9);
    assert_null(rg_result_hit(c.r, 1));
    assert_int_equal(rg_result_category_count(c.r), 1);
    const rg_category_score *cs = rg_result_category(c.r, 0);
    assert_non_null(cs);
    RGT_STR(cs->category, "toxicity.profanity");
    RGT_NEAR(cs->score, 0.9);
    assert_int_equal(cs->verdict, RG_BLOCK);
    assert_int_equal(cs->redact, 0);
    assert_null(rg_result_category(c.r, 1));
    assert_int_equal(rg_result_reason_count(c.r), 1);
    const rg_reason *x = rg_result_reason(c.r, 0);
    assert_non_null(x);
    RGT_STR(x->category, "toxicity.profanity");
    RGT_STR(x->rule, "toxicity");
    RGT_STR(x->route, "default");
    RGT_STR(x->action, "block");
    RGT_NEAR(x->score, 0.9);
    RGT_NEAR(x->threshold, 0.8);
    assert_null(rg_result_reason(c.r, 1));
    assert_null(rg_result_reason(c.r, (size_t)-1));
    rgt_close(&c);
}

static void test_check_unknown_route(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    /* the default route's on_error (block), not the generic handoff */
    assert_int_equal(rgt_check(&c, "no-such-route", "hello"), RG_E_NOROUTE);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    rgt_close(&c);
}

static void test_check_null_engine(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "hello";
    q.reply_len = 5;
    /* no engine: no route: handoff */
    assert_int_equal(rg_check(NULL, c.s, &q, c.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    rgt_close(&c);
}

static void test_check_null_scratch_uses_route_on_error(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "hello";
    q.reply_len = 5;
    q.route = "default";
    assert_int_equal(rg_check(c.e, NULL, &q, c.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    q.route = "billing";
    assert_int_equal(rg_check(c.e, NULL, &q, c.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_HANDOFF);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    /* on_error: allow is an explicit fail-open; the flags still say so */
    q.route = "support";
    assert_int_equal(rg_check(c.e, NULL, &q, c.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    rgt_close(&c);
}

static void test_check_null_request(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    /* a NULL request has no route, i.e. "default": its on_error (block) */
    assert_int_equal(rg_check(c.e, c.s, NULL, c.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    rgt_close(&c);
}

static void test_check_null_text_with_length(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    assert_int_equal(rgt_checkn(&c, "default", NULL, 5), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    assert_int_equal(rgt_checkn(&c, "billing", NULL, 1), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_HANDOFF);
    /* user message NULL with a length is also invalid */
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "hi";
    q.reply_len = 2;
    q.user_message_len = 3;
    assert_int_equal(rg_check(c.e, c.s, &q, c.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    rgt_close(&c);
}

static void test_check_null_result(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "damn";
    q.reply_len = 4;
    assert_int_equal(rg_check(c.e, c.s, &q, NULL), RG_E_INVAL);
    /* the scratch still works afterwards */
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    rgt_close(&c);
}

static void test_check_scratch_of_other_engine(void **state)
{
    (void)state;
    rgt_ctx c, o;
    rgt_open(&c, "policies/basic");
    rgt_open(&o, "policies/other");
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "hello";
    q.reply_len = 5;
    assert_int_equal(rg_check(c.e, o.s, &q, c.r), RG_E_MISMATCH);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK); /* basic default on_error */
    assert_int_equal(rg_result_flags(c.r) & FS_ERR, FS_ERR);
    q.route = "billing";
    assert_int_equal(rg_check(c.e, o.s, &q, c.r), RG_E_MISMATCH);
    assert_int_equal(rg_result_verdict(c.r), RG_HANDOFF);
    /* both scratches still work with their own engine */
    q.route = NULL;
    q.reply = "nitwit";
    q.reply_len = 6;
    assert_int_equal(rg_check(o.e, o.s, &q, o.r), RG_OK);
    assert_int_equal(rg_result_verdict(o.r), RG_HANDOFF);
    assert_int_equal(rgt_verdict(&c, NULL, "damn"), RG_BLOCK);
    rgt_close(&o);
    rgt_close(&c);
}

static void test_result_is_cleared_between_checks(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    assert_int_equal(rgt_check(&c, NULL, "damn, card 4111111111111111"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(rg_result_hit_count(c.r), 2);
    assert_int_equal(rg_result_flags(c.r), RG_FLAG_REDACTED);
    assert_non_null(rg_result_redacted(c.r, NULL));
    assert_int_equal(rgt_check(&c, "support", "all good"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_ALLOW);
    assert_int_equal(rg_result_hit_count(c.r), 0);
    assert_int_equal(rg_result_category_count(c.r), 0);
    assert_int_equal(rg_result_reason_count(c.r), 0);
    assert_int_equal(rg_result_flags(c.r), 0);
    assert_null(rg_result_redacted(c.r, NULL));
    RGT_STR(rg_result_route(c.r), "support");
    /* an error check followed by a good one clears the error flags */
    assert_int_equal(rgt_check(&c, "nope", "x"), RG_E_NOROUTE);
    assert_int_equal(rgt_check(&c, NULL, "x"), RG_OK);
    assert_int_equal(rg_result_flags(c.r), 0);
    assert_int_equal(rg_result_verdict(c.r), RG_ALLOW);
    rgt_close(&c);
}

static void test_conversation_fields_accepted(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_text hist[2] = {{"Hello, how can I help?", 22}, {NULL, 0}};
    rg_label labels[2] = {{"tenant", "acme"}, {"persona", "bot"}};
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "Sure, I can help with that.";
    q.reply_len = strlen(q.reply);
    q.user_message = "I need help";
    q.user_message_len = strlen(q.user_message);
    q.history = hist;
    q.history_count = 2;
    q.channel = "chat";
    q.locale = "en-US";
    q.labels = labels;
    q.label_count = 2;
    assert_int_equal(rg_check(c.e, c.s, &q, c.r), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_ALLOW);
    assert_int_equal(rg_result_flags(c.r), 0);
    rgt_close(&c);
}

/* ---- allocators -------------------------------------------------------- */

typedef struct counting {
    long mallocs, reallocs, frees, live;
    long fail_at; /* fail the allocation with this index (0-based); <0 never */
    long calls;
} counting;

static void *c_malloc(size_t n, void *user)
{
    counting *k = user;
    if (k->fail_at >= 0 && k->calls++ == k->fail_at)
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p) {
        k->mallocs++;
        k->live++;
    }
    return p;
}

static void *c_realloc(void *ptr, size_t n, void *user)
{
    counting *k = user;
    if (k->fail_at >= 0 && k->calls++ == k->fail_at)
        return NULL;
    void *p = realloc(ptr, n ? n : 1);
    if (p) {
        k->reallocs++;
        if (!ptr)
            k->live++;
    }
    return p;
}

static void c_free(void *ptr, void *user)
{
    counting *k = user;
    if (ptr) {
        k->frees++;
        k->live--;
    }
    free(ptr);
}

static void test_custom_allocator_used_and_balanced(void **state)
{
    (void)state;
    counting k = {0, 0, 0, 0, -1, 0};
    rg_allocator a = {c_malloc, c_realloc, c_free, &k};
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.allocator = &a;
    rg_engine *e = NULL;
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic"), &o, NULL), RG_OK);
    assert_true(k.mallocs + k.reallocs > 0);
    assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
    counting kr = {0, 0, 0, 0, -1, 0};
    rg_allocator ar = {c_malloc, c_realloc, c_free, &kr};
    assert_int_equal(rg_result_alloc(&ar, &r), RG_OK);
    assert_true(kr.mallocs + kr.reallocs > 0);
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = "damn, card 4111111111111111";
    q.reply_len = strlen(q.reply);
    assert_int_equal(rg_check(e, s, &q, r), RG_OK);
    assert_int_equal(rg_result_verdict(r), RG_BLOCK);
    rg_result_free(r);
    assert_int_equal(kr.live, 0);
    rg_scratch_free(s);
    rg_engine_close(e);
    assert_int_equal(k.live, 0);
}

static void test_partial_allocator_means_libc(void **state)
{
    (void)state;
    counting k = {0, 0, 0, 0, -1, 0};
    rg_allocator a = {c_malloc, NULL, c_free, &k}; /* one member NULL */
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.allocator = &a;
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic"), &o, NULL), RG_OK);
    rg_engine_close(e);
    rg_result *r = NULL;
    assert_int_equal(rg_result_alloc(&a, &r), RG_OK);
    rg_result_free(r);
    assert_int_equal(k.mallocs, 0);
    assert_int_equal(k.frees, 0);
}

/* Fail the Nth allocation, for every N, through open + scratch + check:
 * every failure must be RG_E_NOMEM, leave the outputs NULL, leak nothing
 * and (for rg_check) still give the on_error fail-safe. Deviations are
 * counted and the first few printed, so one run shows them all. */
static long alloc_deviation(long n, const char *what, int st)
{
    static long printed;
    if (printed++ < 10)
        fprintf(stderr, "failing allocation %ld: %s (status %s)\n", n, what, rg_status_name(st));
    return 1;
}

static void test_allocation_failures_are_nomem(void **state)
{
    (void)state;
    int succeeded = 0;
    long bad = 0;
    for (long n = 0; n < 20000 && !succeeded; n++) {
        counting k = {0, 0, 0, 0, n, 0};
        rg_allocator a = {c_malloc, c_realloc, c_free, &k};
        rg_engine_options o;
        memset(&o, 0, sizeof o);
        o.struct_size = sizeof o;
        o.allocator = &a;
        rg_engine *e = (rg_engine *)&e;
        rg_diag *d = NULL;
        int st = rg_engine_open(&e, rgt_path("policies/basic"), &o, &d);
        rg_diag_free(d);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                bad += alloc_deviation(n, "rg_engine_open is not NOMEM", st);
            if (e != NULL)
                bad += alloc_deviation(n, "rg_engine_open left *out set", st);
            if (k.live != 0)
                bad += alloc_deviation(n, "rg_engine_open leaked", st);
            continue;
        }
        rg_scratch *s = (rg_scratch *)&s;
        st = rg_scratch_alloc(e, &s);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                bad += alloc_deviation(n, "rg_scratch_alloc is not NOMEM", st);
            if (s != NULL)
                bad += alloc_deviation(n, "rg_scratch_alloc left *out set", st);
            rg_engine_close(e);
            if (k.live != 0)
                bad += alloc_deviation(n, "scratch + engine leaked", st);
            continue;
        }
        rg_result *r = NULL;
        assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
        rg_request q;
        memset(&q, 0, sizeof q);
        q.reply = "oh damn, card 4111111111111111";
        q.reply_len = strlen(q.reply);
        st = rg_check(e, s, &q, r);
        if (st != RG_OK) {
            if (st != RG_E_NOMEM)
                bad += alloc_deviation(n, "rg_check is not NOMEM", st);
            if (rg_result_verdict(r) != RG_BLOCK || (rg_result_flags(r) & FS_ERR) != FS_ERR)
                bad += alloc_deviation(n, "rg_check without the on_error fail-safe", st);
        } else {
            if (rg_result_verdict(r) != RG_BLOCK)
                bad += alloc_deviation(n, "rg_check verdict is not block", st);
            succeeded = k.calls <= n; /* nothing failed: done */
        }
        rg_result_free(r);
        rg_scratch_free(s);
        rg_engine_close(e);
        if (k.live != 0)
            bad += alloc_deviation(n, "leak after close", st);
    }
    assert_true(succeeded);
    assert_int_equal(bad, 0);
}

static void *never_malloc(size_t n, void *u) { (void)n; (void)u; return NULL; }
static void *never_realloc(void *p, size_t n, void *u) { (void)p; (void)n; (void)u; return NULL; }
static void never_free(void *p, void *u) { (void)u; free(p); }

static void test_result_alloc_nomem(void **state)
{
    (void)state;
    rg_allocator a = {never_malloc, never_realloc, never_free, NULL};
    rg_result *r = (rg_result *)&r;
    assert_int_equal(rg_result_alloc(&a, &r), RG_E_NOMEM);
    assert_null(r);
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.allocator = &a;
    rg_engine *e = (rg_engine *)&e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/basic"), &o, NULL), RG_E_NOMEM);
    assert_null(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_status_values_fixed),
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_status_name_every_code),
        cmocka_unit_test(test_verdict_name),
        cmocka_unit_test(test_open_null_args),
        cmocka_unit_test(test_open_bad_options),
        cmocka_unit_test(test_open_missing_path_is_io),
        cmocka_unit_test(test_open_policy_error_without_diag),
        cmocka_unit_test(test_open_clean_policy_no_diag),
        cmocka_unit_test(test_open_single_file),
        cmocka_unit_test(test_engine_info),
        cmocka_unit_test(test_policy_hash_identity),
        cmocka_unit_test(test_route_name),
        cmocka_unit_test(test_scratch_alloc_null),
        cmocka_unit_test(test_result_alloc_null),
        cmocka_unit_test(test_fresh_result),
        cmocka_unit_test(test_null_result_accessors),
        cmocka_unit_test(test_free_null_is_noop),
        cmocka_unit_test(test_check_allow_fills_identity),
        cmocka_unit_test(test_check_named_route),
        cmocka_unit_test(test_check_hit_fields),
        cmocka_unit_test(test_check_unknown_route),
        cmocka_unit_test(test_check_null_engine),
        cmocka_unit_test(test_check_null_scratch_uses_route_on_error),
        cmocka_unit_test(test_check_null_request),
        cmocka_unit_test(test_check_null_text_with_length),
        cmocka_unit_test(test_check_null_result),
        cmocka_unit_test(test_check_scratch_of_other_engine),
        cmocka_unit_test(test_result_is_cleared_between_checks),
        cmocka_unit_test(test_conversation_fields_accepted),
        cmocka_unit_test(test_custom_allocator_used_and_balanced),
        cmocka_unit_test(test_partial_allocator_means_libc),
        cmocka_unit_test(test_allocation_failures_are_nomem),
        cmocka_unit_test(test_result_alloc_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
