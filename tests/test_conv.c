/* test_conv.c — conversation rules (docs/CONVERSATION.md): user-message
 * scope and sources, loops and repeated asks, required disclosures,
 * channel/locale overrides, the handoff context, bundles, allocation
 * after warm-up, policy errors. Fixture: tests/policies/conv (budget
 * 10 s: no timing dependence). */
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rgt_ctx C;

static int setup(void **state)
{
    (void)state;
    rgt_open(&C, "policies/conv");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rgt_close(&C);
    return 0;
}

static int run(rgt_ctx *c, const char *route, const char *reply, const char *user,
               const char *const *hist, size_t nh, const char *channel,
               const char *locale)
{
    rg_text h[8];
    for (size_t i = 0; i < nh; i++) {
        h[i].ptr = hist[i];
        h[i].len = strlen(hist[i]);
    }
    rg_request req = {0};
    req.route = route;
    req.reply = reply;
    req.reply_len = strlen(reply);
    req.user_message = user;
    req.user_message_len = user ? strlen(user) : 0;
    req.history = nh ? h : NULL;
    req.history_count = nh;
    req.channel = channel;
    req.locale = locale;
    return rg_check(c->e, c->s, &req, c->r);
}

static const rg_hit *hit_of(const rg_result *r, const char *det)
{
    for (size_t i = 0; i < rg_result_hit_count(r); i++)
        if (!strcmp(rg_result_hit(r, i)->detector, det))
            return rg_result_hit(r, i);
    return NULL;
}

static void test_user_scope(void **state)
{
    (void)state;
    /* The agent's own words never fire a user-scoped detector. */
    assert_int_equal(run(&C, NULL, "Let me get a real person for you.", NULL, NULL, 0, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_null(hit_of(C.r, "ask_human"));
    /* The customer's words do; the hit says where it was found. */
    assert_int_equal(run(&C, NULL, "Checking.", "agent please", NULL, 0, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    const rg_hit *h = hit_of(C.r, "ask_human");
    assert_non_null(h);
    assert_int_equal(h->source, RG_SOURCE_USER);
    assert_int_equal(h->start, 0);
    assert_int_equal(h->end, 12);
    /* A card in the user message (scan: both) is reported with its source
     * but never masks the reply: the reply's card is masked at its own
     * offsets, and the copy is built from the reply alone. */
    assert_int_equal(run(&C, NULL, "Noted: 4111 1111 1111 1111.", "my card 4111 1111 1111 1111 real person",
                         NULL, 0, NULL, NULL), RG_OK);
    size_t n = 0, users = 0, replies = 0;
    const char *red = rg_result_redacted(C.r, &n);
    assert_non_null(red);
    assert_string_equal(red, "Noted: [card].");
    for (size_t i = 0; i < rg_result_hit_count(C.r); i++) {
        const rg_hit *x = rg_result_hit(C.r, i);
        if (strcmp(x->detector, "card"))
            continue;
        users += x->source == RG_SOURCE_USER;
        replies += x->source == RG_SOURCE_REPLY;
    }
    assert_int_equal(users, 1);
    assert_int_equal(replies, 1);
    /* A user-scoped regex (the user-message gate's database): the reply's
     * shouting is not its business, the customer's is. */
    assert_int_equal(run(&C, NULL, "WHY THIS BROKEN.", "ok", NULL, 0, NULL, NULL), RG_OK);
    assert_null(hit_of(C.r, "shout"));
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(run(&C, NULL, "Checking.", "so WHY THIS BROKEN", NULL, 0, NULL, NULL), RG_OK);
    h = hit_of(C.r, "shout");
    assert_non_null(h);
    assert_int_equal(h->source, RG_SOURCE_USER);
    assert_int_equal(h->start, 3);
    assert_int_equal(h->end, 18);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    /* No user message: nothing from it. */
    assert_int_equal(run(&C, NULL, "Checking.", NULL, NULL, 0, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_hit_count(C.r), 0);
}

static void test_loops(void **state)
{
    (void)state;
    const char *q = "Which city are you flying from today?";
    const char *h2[] = {q, q};
    const char *h1[] = {q};
    assert_int_equal(run(&C, NULL, q, NULL, h2, 2, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    assert_non_null(hit_of(C.r, "loop.repeat"));
    /* Once repeated is fine (repeats: 2). */
    assert_int_equal(run(&C, NULL, q, NULL, h1, 1, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    /* Outside the window (history: 3): the two repeats are too old. */
    const char *old[] = {q, q, "Anything else?", "Your booking is confirmed.", "Great."};
    assert_int_equal(run(&C, NULL, q, NULL, old, 5, NULL, NULL), RG_OK);
    assert_null(hit_of(C.r, "loop.repeat"));
    /* The third ask for the same item; the span is the item in the draft. */
    const char *asks[] = {"What is your date of birth?", "Please confirm your date of birth."};
    const char *d = "Sorry, could you give me your date of birth again?";
    assert_int_equal(run(&C, NULL, d, NULL, asks, 2, NULL, NULL), RG_OK);
    const rg_hit *h = hit_of(C.r, "loop.ask.dob");
    assert_non_null(h);
    assert_int_equal(h->source, RG_SOURCE_REPLY);
    assert_memory_equal(d + h->start, "date of birth", 13);
    assert_int_equal(h->end - h->start, 13);
    /* Naming the item is not asking for it. */
    assert_int_equal(run(&C, NULL, "Your date of birth is on file.", NULL, asks, 2, NULL, NULL), RG_OK);
    assert_null(hit_of(C.r, "loop.ask.dob"));
    /* loop: off in a child route. */
    assert_int_equal(run(&C, "strict", q, NULL, h2, 2, NULL, NULL), RG_OK);
    assert_null(hit_of(C.r, "loop.repeat"));
}

static void test_require(void **state)
{
    (void)state;
    const char *prev[] = {"Hello."};
    assert_int_equal(run(&C, "strict", "You owe $20.", NULL, NULL, 0, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    const rg_hit *h = hit_of(C.r, "require.notice");
    assert_non_null(h);
    assert_int_equal(h->source, RG_SOURCE_CONVERSATION);
    assert_int_equal(h->start, 0);
    assert_int_equal(h->end, 0);
    /* Normalized matching: case and spacing do not matter. */
    assert_int_equal(run(&C, "strict", "THIS IS AN  ATTEMPT to collect a debt. You owe $20.", NULL, NULL, 0, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(run(&C, "strict", "You owe $20.", NULL, prev, 1, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(run(&C, "strict", "You owe $20.", NULL, prev, 1, "voice", NULL), RG_OK);
    assert_non_null(hit_of(C.r, "require.recorded"));
    assert_int_equal(run(&C, "strict", "Debe 20.", NULL, prev, 1, "chat", "es-MX"), RG_OK);
    assert_non_null(hit_of(C.r, "require.aviso"));
    assert_null(hit_of(C.r, "require.recorded"));
    assert_int_equal(run(&C, "strict", "Debe 20.", NULL, prev, 1, "chat", "en-US"), RG_OK);
    assert_null(hit_of(C.r, "require.aviso"));
    /* The default route has no requirement. */
    assert_int_equal(run(&C, NULL, "You owe $20.", NULL, NULL, 0, "voice", "es"), RG_OK);
    assert_int_equal(rg_result_hit_count(C.r), 0);
}

static void test_overrides(void **state)
{
    (void)state;
    const char *t = "What an idiot I was to forget.";
    assert_int_equal(run(&C, NULL, t, NULL, NULL, 0, NULL, NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
    assert_int_equal(run(&C, NULL, t, NULL, NULL, 0, "voice", NULL), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    const rg_reason *rs = rg_result_reason(C.r, 0);
    assert_non_null(rs);
    assert_string_equal(rs->route, "default[channel=voice]");
    assert_string_equal(rg_result_route(C.r), "default");
    assert_int_equal(run(&C, NULL, t, NULL, NULL, 0, "chat", "es_ES"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    /* Both apply together; inherited by a child route. */
    assert_int_equal(run(&C, "strict", t, NULL, (const char *const[]){"x"}, 1, "voice", "es"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_BLOCK);
    assert_int_equal(run(&C, NULL, t, NULL, NULL, 0, "sms", "fr"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_ALLOW);
}

static void test_handoff_json(void **state)
{
    (void)state;
    const char *hist[] = {"Hi"};
    assert_int_equal(run(&C, NULL, "Your card 4111 1111 1111 1111 is noted.", "agent please 4111 1111 1111 1111",
                         hist, 1, "chat", "en-GB"), RG_OK);
    assert_int_equal(rg_result_verdict(C.r), RG_HANDOFF);
    size_t len = 0;
    assert_int_equal(rg_result_handoff_json(C.r, NULL, 0, &len), RG_E_RANGE);
    assert_true(len > 50);
    char small[16];
    assert_int_equal(rg_result_handoff_json(C.r, small, sizeof small, NULL), RG_E_RANGE);
    assert_int_equal(strlen(small), sizeof small - 1);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    size_t len2 = 0;
    assert_int_equal(rg_result_handoff_json(C.r, buf, len + 1, &len2), RG_OK);
    assert_int_equal(len2, len);
    assert_int_equal(strlen(buf), len);
    assert_non_null(strstr(buf, "\"route\":\"default\""));
    assert_non_null(strstr(buf, "\"turn\":2"));
    assert_non_null(strstr(buf, "\"channel\":\"chat\""));
    assert_non_null(strstr(buf, "\"locale\":\"en-GB\""));
    assert_non_null(strstr(buf, "\"source\":\"user_message\""));
    assert_non_null(strstr(buf, "\"span\":\"[handoff.user_request]\""));
    assert_non_null(strstr(buf, "\"excerpt\":\"Your card [pii.payment_card] is noted.\""));
    /* Never a span's text, never the user message. */
    assert_null(strstr(buf, "4111"));
    assert_null(strstr(buf, "agent please"));
    free(buf);
    /* Not a handoff: no excerpt. */
    assert_int_equal(run(&C, NULL, "Fine.", NULL, NULL, 0, NULL, NULL), RG_OK);
    char out[1024];
    assert_int_equal(rg_result_handoff_json(C.r, out, sizeof out, NULL), RG_OK);
    assert_non_null(strstr(out, "\"excerpt\":null"));
    assert_non_null(strstr(out, "\"channel\":null"));
    assert_int_equal(rg_result_handoff_json(NULL, out, sizeof out, NULL), RG_E_INVAL);
    assert_int_equal(rg_result_handoff_json(C.r, NULL, 10, NULL), RG_E_INVAL);
}

/* ---- audit events ------------------------------------------------------ */

static char AUDIT_JSON[4096];
static char AUDIT_RED[256];

static void on_audit(const rg_audit_event *ev, void *user)
{
    (void)user;
    size_t len = 0;
    AUDIT_JSON[0] = AUDIT_RED[0] = '\0';
    rg_audit_event_json(ev, AUDIT_JSON, sizeof AUDIT_JSON, &len);
    if (ev->redacted)
        snprintf(AUDIT_RED, sizeof AUDIT_RED, "%.*s", (int)ev->redacted_len, ev->redacted);
}

static void test_audit(void **state)
{
    (void)state;
    assert_int_equal(rg_engine_set_audit(C.e, on_audit, NULL, RG_AUDIT_REDACTED_COPY), RG_OK);
    /* The user message's hits are marked, and their offsets (into the
     * user message) never mask the reply's audit copy. */
    assert_int_equal(run(&C, NULL, "Hello, your card 4111 1111 1111 1111 is noted.",
                         "real person please, card 4111 1111 1111 1111", NULL, 0, NULL, NULL), RG_OK);
    assert_non_null(strstr(AUDIT_JSON, "\"source\":\"user_message\""));
    assert_string_equal(AUDIT_RED, "Hello, your card [pii.payment_card] is noted.");
    assert_null(strstr(AUDIT_JSON, "4111"));
    const char *q = "Which city are you flying from today?";
    const char *h2[] = {q, q};
    assert_int_equal(run(&C, NULL, q, NULL, h2, 2, NULL, NULL), RG_OK);
    assert_non_null(strstr(AUDIT_JSON, "\"source\":\"conversation\""));
    assert_string_equal(AUDIT_RED, q);
    assert_int_equal(rg_engine_set_audit(C.e, NULL, NULL, 0), RG_OK);
}

/* ---- allocation after warm-up ---------------------------------------- */

static size_t NALLOC;
static void *cm(size_t n, void *u) { (void)u; NALLOC++; return malloc(n); }
static void *cr(void *p, size_t n, void *u) { (void)u; NALLOC++; return realloc(p, n); }
static void cf(void *p, void *u) { (void)u; free(p); }

static void test_no_alloc_after_warmup(void **state)
{
    (void)state;
    rg_allocator al = {cm, cr, cf, NULL};
    rg_engine_options o = {0};
    o.struct_size = sizeof o;
    o.allocator = &al;
    rgt_ctx c = {0};
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_open(&c.e, rgt_path("policies/conv"), &o, &d), RG_OK);
    rg_diag_free(d);
    assert_int_equal(rg_scratch_alloc(c.e, &c.s), RG_OK);
    assert_int_equal(rg_result_alloc(&al, &c.r), RG_OK);
    const char *hist[] = {"What is your date of birth? I need it to find the booking, thanks.",
                          "Please confirm your date of birth.",
                          "Which city are you flying from today?"};
    const char *long_draft = "Which city are you flying from today? I can look up every "
                             "flight once I know it; please also confirm your date of birth.";
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            NALLOC = 0;
        assert_int_equal(run(&c, NULL, long_draft, "agent please, a real person", hist, 3, "voice", "es"), RG_OK);
        assert_int_equal(run(&c, "strict", "Short.", NULL, NULL, 0, "voice", "es"), RG_OK);
        assert_int_equal(run(&c, NULL, "Hi", NULL, NULL, 0, NULL, NULL), RG_OK);
    }
    assert_int_equal(NALLOC, 0);
    rgt_close(&c);
}

/* ---- bundles ---------------------------------------------------------- */

static void test_bundle_same_answers(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    char path[1024];
    snprintf(path, sizeof path, "%s/conv.rgb", dir);
    rg_diag *d = NULL;
    assert_int_equal(rg_bundle_write(rgt_path("policies/conv"), path, NULL, 0, &d), RG_OK);
    rg_diag_free(d);
    rgt_ctx b = {0};
    assert_int_equal(rg_engine_open(&b.e, path, NULL, &d), RG_OK);
    rg_diag_free(d);
    assert_int_equal(rg_scratch_alloc(b.e, &b.s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &b.r), RG_OK);
    const char *hist[] = {"What is your date of birth?", "Please confirm your date of birth."};
    struct { const char *route, *reply, *user, *channel, *locale; size_t nh; } cases[] = {
        {NULL, "Checking.", "agent please", NULL, NULL, 0},
        {NULL, "Could you give me your date of birth?", NULL, NULL, NULL, 2},
        {"strict", "You owe $20.", NULL, "voice", "es", 0},
        {NULL, "What an idiot I was.", NULL, "voice", NULL, 0},
        {NULL, "What an idiot I was.", NULL, NULL, "es", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(run(&C, cases[i].route, cases[i].reply, cases[i].user, hist,
                             cases[i].nh, cases[i].channel, cases[i].locale), RG_OK);
        assert_int_equal(run(&b, cases[i].route, cases[i].reply, cases[i].user, hist,
                             cases[i].nh, cases[i].channel, cases[i].locale), RG_OK);
        assert_int_equal(rg_result_verdict(b.r), rg_result_verdict(C.r));
        assert_int_equal(rg_result_hit_count(b.r), rg_result_hit_count(C.r));
        for (size_t k = 0; k < rg_result_hit_count(C.r); k++) {
            assert_string_equal(rg_result_hit(b.r, k)->detector, rg_result_hit(C.r, k)->detector);
            assert_int_equal(rg_result_hit(b.r, k)->source, rg_result_hit(C.r, k)->source);
        }
    }
    rgt_close(&b);
    rgt_rmtree(dir);
    free(dir);
}

/* ---- policy errors ---------------------------------------------------- */

static void expect_error(const char *yaml, const char *needle, unsigned line)
{
    char *dir = rgt_tmpdir();
    rgt_write(dir, "p.yaml", yaml);
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_open(&e, dir, NULL, &d), RG_E_POLICY);
    const rg_diag_entry *x = rgt_first_error(d);
    assert_non_null(x);
    if (!strstr(x->message, needle) || x->line != line) {
        rgt_print_diag(d);
        fail();
    }
    rg_diag_free(d);
    rgt_rmtree(dir);
    free(dir);
}

static void test_policy_errors(void **state)
{
    (void)state;
    expect_error("detectors:\n  - id: a\n    category: handoff.user_request\n"
                 "    score: 0.5\n    scan: sideways\n    words: [x]\n"
                 "routes:\n  default: {}\n", "'scan' must be one of", 5);
    expect_error("routes:\n  default:\n    loop:\n      history: 0\n",
                 "'history' must be a positive integer", 4);
    expect_error("routes:\n  default:\n    loop:\n      repeat_ask: 1\n",
                 "'repeat_ask' must be at least 2", 4);
    expect_error("routes:\n  default:\n    require:\n      - id: x\n        when: {first_turn: true}\n",
                 "needs 'id' and 'any'", 4);
    expect_error("routes:\n  default:\n    require:\n      - id: x\n        any: [a]\n        when: {channel: fax}\n",
                 "'channel' must be one of", 6);
    expect_error("routes:\n  default:\n    overrides:\n      - categories: {toxicity: {block: 0.5}}\n",
                 "needs 'when'", 4);
    expect_error("routes:\n  default:\n    loop: {histroy: 3}\n",
                 "did you mean 'history'", 3);
    expect_error("routes:\n  default:\n    overrides:\n      - when: {channel: voice}\n"
                 "        categories:\n          toxicty: {block: 0.5}\n",
                 "unknown category 'toxicty' in route 'default[channel=voice]'", 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_scope),
        cmocka_unit_test(test_loops),
        cmocka_unit_test(test_require),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_handoff_json),
        cmocka_unit_test(test_audit),
        cmocka_unit_test(test_no_alloc_after_warmup),
        cmocka_unit_test(test_bundle_same_answers),
        cmocka_unit_test(test_policy_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
