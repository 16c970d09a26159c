/* test_no_pii.c — no raw PII at rest: nothing the library reports outside
 * rg_result (audit events, metrics, diagnostics) holds the text of a
 * detected span, whatever path the check took (redaction, block, oversize,
 * budget exceeded, unknown route, invalid UTF-8, engine error, truncated
 * hits, fail-open routes).
 *
 * Every check's audit event is rendered with rg_audit_event_json, with and
 * without RG_AUDIT_REDACTED_COPY, the metrics text is rendered after every
 * check, and the diagnostics of a reload are rendered too; all of it is
 * searched for the secrets the replies carry. The CLI's stderr and batch
 * error lines are checked by tests/no_pii_cli.py.
 * Fixture: tests/policies/pii. */
#include "testutil.h"
#include <stdlib.h>

/* Distinctive values: each occurs only in replies, never in a policy. */
#define CARD "4929 3867 5012 6636"
#define CARD_DIGITS "4929386750126636"
#define EMAIL "jane.q.doe@examplemail.com"
#define EMAIL_LOCAL "jane.q.doe"
static const char *const SECRETS[] = {CARD, CARD_DIGITS, EMAIL, EMAIL_LOCAL, "damn"};
#define NSECRETS (sizeof SECRETS / sizeof *SECRETS)

/* Everything the library reported outside results, appended here. */
static char *SEEN;
static size_t SEEN_LEN, SEEN_CAP;
static long EVENTS;

static void seen_put(const char *s, size_t n)
{
    if (SEEN_LEN + n + 2 > SEEN_CAP) {
        SEEN_CAP = (SEEN_LEN + n + 2) * 2;
        SEEN = realloc(SEEN, SEEN_CAP);
        assert_non_null(SEEN);
    }
    memcpy(SEEN + SEEN_LEN, s, n);
    SEEN_LEN += n;
    SEEN[SEEN_LEN++] = '\n';
    SEEN[SEEN_LEN] = '\0';
}

static void on_audit(const rg_audit_event *ev, void *user)
{
    (void)user;
    char buf[1 << 16];
    size_t len = 0;
    int st = rg_audit_event_json(ev, buf, sizeof buf, &len);
    if (st == RG_E_RANGE) {
        char *big = malloc(len + 1);
        if (big && rg_audit_event_json(ev, big, len + 1, &len) == RG_OK)
            seen_put(big, len);
        free(big);
    } else if (st == RG_OK) {
        seen_put(buf, len);
    }
    /* the raw members too, not only their JSON rendering */
    if (ev->redacted)
        seen_put(ev->redacted, ev->redacted_len);
    seen_put(ev->route, strlen(ev->route));
    EVENTS++;
}

static void seen_metrics(rg_engine *e)
{
    size_t len = 0;
    rg_engine_metrics(e, NULL, 0, &len);
    char *m = malloc(len + 1024);
    assert_non_null(m);
    if (rg_engine_metrics(e, m, len + 1024, &len) == RG_OK)
        seen_put(m, len);
    free(m);
}

static void seen_diag(const rg_diag *d)
{
    for (size_t i = 0; d && i < d->count; i++) {
        const rg_diag_entry *x = &d->entries[i];
        if (x->file)
            seen_put(x->file, strlen(x->file));
        if (x->message)
            seen_put(x->message, strlen(x->message));
    }
}

static void assert_no_secret(const char *what)
{
    for (size_t i = 0; i < NSECRETS; i++)
        if (SEEN && memmem(SEEN, SEEN_LEN, SECRETS[i], strlen(SECRETS[i]))) {
            const char *at = memmem(SEEN, SEEN_LEN, SECRETS[i], strlen(SECRETS[i]));
            const char *from = at - SEEN > 200 ? at - 200 : SEEN;
            fprintf(stderr, "%s: \"%s\" reported outside the result:\n...%.*s...\n", what,
                    SECRETS[i], (int)(at - from + 40), from);
            fail();
        }
}

typedef struct scenario {
    const char *name;
    const char *route;
    const char *reply;  /* NULL: built by the test */
    size_t len;
} scenario;

/* A reply carrying every secret, `pad` bytes of padding before the last
 * copy (long replies: budget and oversize paths). */
static char *secret_reply(size_t pad, size_t *len)
{
    const char *head = "Card " CARD ", mail " EMAIL ", damn. ";
    size_t k = strlen(head);
    char *t = malloc(2 * k + pad);
    assert_non_null(t);
    memcpy(t, head, k);
    for (size_t i = 0; i < pad; i++)
        t[k + i] = "lorem ipsum "[i % 12];
    memcpy(t + k + pad, head, k);
    *len = 2 * k + pad;
    return t;
}

static void run_scenarios(rg_engine *e, unsigned audit_flags)
{
    assert_int_equal(rg_engine_set_audit(e, on_audit, NULL, audit_flags), RG_OK);
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    size_t short_len, long_len, many_len = 0;
    char *short_reply = secret_reply(0, &short_len);
    char *long_reply = secret_reply(16u << 20, &long_len); /* past a 1 ms budget */
    /* more hits than a result keeps (truncated), secrets among them */
    char *many = malloc(6000 * 5 + short_len);
    assert_non_null(many);
    for (int i = 0; i < 6000; i++) {
        memcpy(many + many_len, "damn ", 5);
        many_len += 5;
    }
    memcpy(many + many_len, short_reply, short_len);
    many_len += short_len;
    char invalid[256];
    int inv_len = snprintf(invalid, sizeof invalid, "\xff\xfe" CARD "\xc0\xaf" EMAIL "\xed\xa0\x80 damn");
    const char nul[] = "\0" CARD "\0" EMAIL "\0damn";
    const scenario sc[] = {
        {"redact", NULL, short_reply, short_len},
        {"block", "refunds", short_reply, short_len},
        {"oversize", "tiny", short_reply, short_len},
        {"budget", "instant", long_reply, long_len},
        {"unknown route", "nosuch", short_reply, short_len},
        {"invalid utf-8", NULL, invalid, (size_t)inv_len},
        {"nul bytes", NULL, nul, sizeof nul - 1},
        {"truncated hits", NULL, many, many_len},
        {"fail-open route", "open", short_reply, short_len},
        {"fail-open route, long reply", "open", long_reply, long_len},
    };
    for (size_t i = 0; i < sizeof sc / sizeof *sc; i++) {
        rg_request q;
        memset(&q, 0, sizeof q);
        q.route = sc[i].route;
        q.reply = sc[i].reply;
        q.reply_len = sc[i].len;
        /* the conversation fields carry secrets too */
        q.user_message = short_reply;
        q.user_message_len = short_len;
        rg_text hist = {short_reply, short_len};
        q.history = &hist;
        q.history_count = 1;
        rg_label lab = {"tenant", "acme"};
        q.labels = &lab;
        q.label_count = 1;
        long before = EVENTS;
        (void)rg_check(e, s, &q, r);
        assert_true(EVENTS == before + 1);
        seen_metrics(e);
        assert_no_secret(sc[i].name);
    }
    free(short_reply);
    free(long_reply);
    free(many);
    rg_result_free(r);
    rg_scratch_free(s);
}

static void test_audit_and_metrics_hold_no_span_text(void **state)
{
    (void)state;
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/pii"), NULL, NULL), RG_OK);
    run_scenarios(e, 0);
    /* the opt-in redacted copy masks every detected span */
    run_scenarios(e, RG_AUDIT_REDACTED_COPY);
    rg_engine_close(e);
}

/* The engine-error path: every allocation of the check fails. */
static int FAIL_ALLOCS;
static void *fm(size_t n, void *u) { (void)u; return FAIL_ALLOCS ? NULL : malloc(n); }
static void *fr(void *p, size_t n, void *u) { (void)u; return FAIL_ALLOCS ? NULL : realloc(p, n); }
static void ff(void *p, void *u) { (void)u; free(p); }

static void test_engine_error_path(void **state)
{
    (void)state;
    rg_allocator a = {fm, fr, ff, NULL};
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.allocator = &a;
    rg_engine *e = NULL;
    FAIL_ALLOCS = 0;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/pii"), &o, NULL), RG_OK);
    assert_int_equal(rg_engine_set_audit(e, on_audit, NULL, RG_AUDIT_REDACTED_COPY), RG_OK);
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
    assert_int_equal(rg_result_alloc(&a, &r), RG_OK);
    size_t len;
    char *reply = secret_reply(100000, &len); /* grows the views: allocations */
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = reply;
    q.reply_len = len;
    FAIL_ALLOCS = 1;
    int st = rg_check(e, s, &q, r);
    FAIL_ALLOCS = 0;
    assert_int_equal(st, RG_E_NOMEM);
    assert_int_equal(rg_result_verdict(r), RG_BLOCK);
    seen_metrics(e);
    assert_no_secret("engine error");
    free(reply);
    rg_result_free(r);
    rg_scratch_free(s);
    rg_engine_close(e);
}

/* Diagnostics come from policy files only (open/reload never see a
 * reply); a reload that fails after checks ran must not echo them. */
static void test_diagnostics_after_checks(void **state)
{
    (void)state;
    rg_engine *e = NULL;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/pii"), NULL, NULL), RG_OK);
    run_scenarios(e, RG_AUDIT_REDACTED_COPY);
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_reload(e, rgt_path("policies/broken"), &d), RG_E_POLICY);
    assert_non_null(d);
    seen_diag(d);
    rg_diag_free(d);
    assert_no_secret("reload diagnostics");
    rg_engine_close(e);
}

static int teardown(void **state)
{
    (void)state;
    free(SEEN);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_and_metrics_hold_no_span_text),
        cmocka_unit_test(test_engine_error_path),
        cmocka_unit_test(test_diagnostics_after_checks),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
