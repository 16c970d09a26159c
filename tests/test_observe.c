/* test_observe.c — metrics (rg_engine_metrics) and audit events
 * (rg_engine_set_audit, rg_audit_event_json): exact counters, the
 * Prometheus text format, counters across reloads, freed scratches and
 * threads, and audit events that carry no reply text unless the caller
 * opts into a redacted copy.
 * Fixtures: tests/policies/observe, observe_b (reload), broken. */
#include "testutil.h"
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- helpers ------------------------------------------------------------ */

/* The metrics text, asking for its length first. While other threads
 * check, counters gain digits between two calls, so retry with the new
 * length (a few rounds at most). */
static char *render(rg_engine *e)
{
    size_t len = 0;
    assert_int_equal(rg_engine_metrics(e, NULL, 0, &len), RG_E_RANGE);
    for (int tries = 0; tries < 100; tries++) {
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        size_t len2 = 0;
        int rc = rg_engine_metrics(e, buf, len + 1, &len2);
        if (rc == RG_OK) {
            assert_true(len2 <= len);
            assert_int_equal(strlen(buf), len2);
            return buf;
        }
        assert_int_equal(rc, RG_E_RANGE);
        assert_true(len2 > len);
        free(buf);
        len = len2;
    }
    fail_msg("the metrics text kept growing");
    return NULL;
}

/* The value of the sample whose name{labels} is exactly `series`; fails
 * the test when there is no such line. */
static uint64_t value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtoull(p + n + 1, NULL, 10);
        p = eol ? eol + 1 : NULL;
    }
    print_error("no sample %s in:\n%s\n", series, text);
    fail();
    return 0;
}

static int has_line_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, n) == 0)
            return 1;
        const char *eol = strchr(p, '\n');
        p = eol ? eol + 1 : NULL;
    }
    return 0;
}

static uint64_t checks(const char *t, const char *route, const char *verdict,
                       const char *channel)
{
    char s[256];
    snprintf(s, sizeof s,
             "replyguard_checks_total{route=\"%s\",verdict=\"%s\",channel=\"%s\"}",
             route, verdict, channel);
    return value_of(t, s);
}

static uint64_t per_route(const char *t, const char *name, const char *route)
{
    char s[256];
    snprintf(s, sizeof s, "replyguard_%s{route=\"%s\"}", name, route);
    return value_of(t, s);
}

static uint64_t cat_hits(const char *t, const char *cat, const char *action)
{
    char s[256];
    snprintf(s, sizeof s,
             "replyguard_category_hits_total{category=\"%s\",action=\"%s\"}",
             cat, action);
    return value_of(t, s);
}

/* Check with channel (NULL: none). */
static int check_ch(rgt_ctx *c, const char *route, const char *channel,
                    const char *text)
{
    rg_request q = {0};
    q.route = route;
    q.channel = channel;
    q.reply = text;
    q.reply_len = strlen(text);
    return rg_check(c->e, c->s, &q, c->r);
}

static int is_name_char(char ch, int first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           ch == ':' || (!first && ch >= '0' && ch <= '9');
}

/* The exposition format, line by line: every sample belongs to a metric
 * whose # HELP and # TYPE came first (each once), label sets are
 * well-formed, values are numbers, histogram buckets are cumulative and
 * end with +Inf equal to _count. */
static void assert_exposition_format(const char *text)
{
    char typed[64][96];
    char types[64][16];
    size_t ntyped = 0;
    char last_hist[256] = "";
    uint64_t last_bucket = 0, inf_value = 0;
    int line_no = 0;
    assert_true(strlen(text) > 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        char line[1024];
        size_t n = (size_t)(eol - p);
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        p = eol + 1;
        line_no++;
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_non_null(strchr(line + 7, ' '));
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[96], type[16];
            assert_int_equal(sscanf(line + 7, "%95s %15s", name, type), 2);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                        strcmp(type, "histogram") == 0);
            for (size_t i = 0; i < ntyped; i++)
                assert_string_not_equal(typed[i], name);
            assert_true(ntyped < 64);
            strcpy(typed[ntyped], name);
            strcpy(types[ntyped], type);
            ntyped++;
            /* the HELP line right before names the same metric */
            continue;
        }
        assert_int_not_equal(line[0], '#');
        /* name */
        size_t i = 0;
        assert_true(is_name_char(line[0], 1));
        while (is_name_char(line[i], 0))
            i++;
        char name[128];
        memcpy(name, line, i);
        name[i] = '\0';
        /* labels */
        char labels[512] = "";
        if (line[i] == '{') {
            size_t j = i + 1;
            for (;;) {
                assert_true(is_name_char(line[j], 1));
                while (is_name_char(line[j], 0))
                    j++;
                assert_int_equal(line[j], '=');
                assert_int_equal(line[j + 1], '"');
                j += 2;
                while (line[j] != '"') {
                    assert_int_not_equal(line[j], '\0');
                    if (line[j] == '\\') {
                        assert_true(line[j + 1] == '\\' || line[j + 1] == '"' ||
                                    line[j + 1] == 'n');
                        j++;
                    }
                    j++;
                }
                j++;
                if (line[j] == ',') {
                    j++;
                    continue;
                }
                assert_int_equal(line[j], '}');
                break;
            }
            memcpy(labels, line + i, j + 1 - i);
            labels[j + 1 - i] = '\0';
            i = j + 1;
        }
        assert_int_equal(line[i], ' ');
        char *end;
        const char *val = line + i + 1;
        strtod(val, &end);
        assert_true(end != val && *end == '\0');
        /* the metric family it belongs to */
        const char *type = NULL;
        char base[128];
        strcpy(base, name);
        for (size_t k = 0; k < ntyped && !type; k++) {
            size_t bl = strlen(typed[k]);
            if (strcmp(name, typed[k]) == 0)
                type = types[k];
            else if (strcmp(types[k], "histogram") == 0 &&
                     strncmp(name, typed[k], bl) == 0 &&
                     (strcmp(name + bl, "_bucket") == 0 ||
                      strcmp(name + bl, "_sum") == 0 ||
                      strcmp(name + bl, "_count") == 0)) {
                type = types[k];
                base[bl] = '\0';
            }
        }
        if (!type) {
            print_error("line %d: sample of an undeclared metric: %s\n", line_no, line);
            fail();
        }
        if (strcmp(type, "histogram") == 0) {
            const char *suffix = name + strlen(base);
            if (strcmp(suffix, "_bucket") == 0) {
                char *le = strstr(labels, ",le=\"");
                assert_non_null(le);
                char series[256];
                snprintf(series, sizeof series, "%s%.*s", base, (int)(le - labels), labels);
                uint64_t v = strtoull(val, NULL, 10);
                if (strcmp(series, last_hist) != 0) {
                    strcpy(last_hist, series);
                    last_bucket = 0;
                }
                assert_true(v >= last_bucket);
                last_bucket = v;
                if (strstr(le, "le=\"+Inf\""))
                    inf_value = v;
            } else if (strcmp(suffix, "_count") == 0) {
                assert_int_equal(strtoull(val, NULL, 10), inf_value);
            }
        }
    }
}

/* ---- metrics ------------------------------------------------------------ */

#define CARD "4111 1111 1111 1111"

static void test_metrics_exact_counts(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    for (int i = 0; i < 3; i++)
        assert_int_equal(check_ch(&c, NULL, "chat", "Hello, how can I help?"), RG_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(check_ch(&c, "default", "voice", "damn it"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(check_ch(&c, "default", "sms", "you idiot"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_HANDOFF);
    assert_int_equal(check_ch(&c, "support", NULL, "card " CARD), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_ALLOW);
    assert_true(rg_result_flags(c.r) & RG_FLAG_REDACTED);
    assert_int_equal(check_ch(&c, "refunds", "email", "card " CARD " mail a@b.co"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(check_ch(&c, "refunds", "fax", "fine"), RG_OK);
    assert_int_equal(check_ch(&c, "refunds", "", "fine"), RG_OK);
    /* oversize on support (max_bytes 64): handoff fail-safe */
    char big[200];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(check_ch(&c, "support", "chat", big), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_HANDOFF);
    /* an unknown route: an error, not a route series */
    assert_int_equal(check_ch(&c, "nope", "chat", "x"), RG_E_NOROUTE);
    /* a NULL request: refused before the check starts */
    assert_int_equal(rg_check(c.e, c.s, NULL, c.r), RG_E_INVAL);

    char *t = render(c.e);
    assert_exposition_format(t);
    assert_int_equal(checks(t, "default", "allow", "chat"), 3);
    assert_int_equal(checks(t, "default", "block", "voice"), 2);
    assert_int_equal(checks(t, "default", "handoff", "sms"), 1);
    assert_int_equal(checks(t, "default", "allow", "voice"), 0);
    assert_int_equal(checks(t, "support", "allow", "none"), 1);
    assert_int_equal(checks(t, "support", "handoff", "chat"), 1);
    assert_int_equal(checks(t, "refunds", "block", "email"), 1);
    assert_int_equal(checks(t, "refunds", "allow", "other"), 1);
    assert_int_equal(checks(t, "refunds", "allow", "none"), 1);
    assert_int_equal(per_route(t, "check_duration_seconds_count", "default"), 6);
    assert_int_equal(per_route(t, "check_duration_seconds_count", "support"), 2);
    assert_int_equal(per_route(t, "check_duration_seconds_count", "refunds"), 3);
    assert_int_equal(value_of(t, "replyguard_check_duration_seconds_bucket{route=\"refunds\",le=\"+Inf\"}"), 3);
    assert_int_equal(per_route(t, "oversize_total", "support"), 1);
    assert_int_equal(per_route(t, "failsafe_total", "support"), 1);
    assert_int_equal(per_route(t, "oversize_total", "default"), 0);
    assert_int_equal(per_route(t, "budget_exceeded_total", "default"), 0);
    assert_int_equal(per_route(t, "redacted_total", "support"), 1);
    assert_int_equal(per_route(t, "redacted_total", "refunds"), 1);
    assert_int_equal(cat_hits(t, "toxicity.profanity", "block"), 2);
    assert_int_equal(cat_hits(t, "toxicity.insult", "handoff"), 1);
    assert_int_equal(cat_hits(t, "pii.payment_card", "redact"), 1);
    assert_int_equal(cat_hits(t, "pii.payment_card", "block"), 1);
    assert_int_equal(cat_hits(t, "pii.email", "none"), 1);
    assert_int_equal(cat_hits(t, "pii.email", "block"), 0);
    assert_int_equal(value_of(t, "replyguard_check_errors_total{status=\"NOROUTE\"}"), 1);
    assert_int_equal(value_of(t, "replyguard_check_errors_total{status=\"ENGINE\"}"), 0);
    assert_int_equal(value_of(t, "replyguard_checks_rejected_total"), 1);
    assert_int_equal(value_of(t, "replyguard_reloads_total{result=\"ok\"}"), 0);
    assert_int_equal(value_of(t, "replyguard_policy_generation"), 1);
    assert_int_equal(value_of(t, "replyguard_scratches"), 1);
    assert_true(has_line_prefix(t, "replyguard_policy_info{version=\"observe-1\",hash=\""));
    /* no "_other" series while the names fit */
    assert_false(strstr(t, "_other"));
    /* the request's unknown route name never becomes a label */
    assert_false(strstr(t, "nope"));
    free(t);
    rgt_close(&c);
}

static void test_metrics_histogram_buckets(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    for (int i = 0; i < 50; i++)
        assert_int_equal(check_ch(&c, NULL, "chat", "Hello"), RG_OK);
    char *t = render(c.e);
    static const char *const le[] = {"2.5e-07", "5e-07", "1e-06", "2.5e-06",
        "5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
        "0.001", "0.0025", "0.005", "0.01", "+Inf"};
    uint64_t prev = 0;
    for (size_t i = 0; i < sizeof le / sizeof le[0]; i++) {
        char s[160];
        snprintf(s, sizeof s,
                 "replyguard_check_duration_seconds_bucket{route=\"default\",le=\"%s\"}",
                 le[i]);
        uint64_t v = value_of(t, s);
        assert_true(v >= prev);
        prev = v;
    }
    assert_int_equal(prev, 50);
    /* _sum is seconds: positive, below 50 checks x 10 s */
    const char *sum = strstr(t, "replyguard_check_duration_seconds_sum{route=\"default\"} ");
    assert_non_null(sum);
    double secs = strtod(strchr(sum, ' ') + 1, NULL);
    assert_true(secs > 0 && secs < 500);
    free(t);
    rgt_close(&c);
}

static void test_metrics_buffer_contract(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    assert_int_equal(check_ch(&c, NULL, "chat", "damn"), RG_OK);
    size_t len = 0;
    assert_int_equal(rg_engine_metrics(NULL, NULL, 0, &len), RG_E_INVAL);
    assert_int_equal(rg_engine_metrics(c.e, NULL, 10, &len), RG_E_INVAL);
    assert_int_equal(rg_engine_metrics(c.e, NULL, 0, NULL), RG_E_RANGE);
    assert_int_equal(rg_engine_metrics(c.e, NULL, 0, &len), RG_E_RANGE);
    assert_true(len > 1000);
    char *full = malloc(len + 1), *part = malloc(len + 1);
    assert_int_equal(rg_engine_metrics(c.e, full, len + 1, NULL), RG_OK);
    /* exactly len bytes: no room for the NUL → RANGE, a prefix */
    memset(part, 'x', len + 1);
    size_t l2 = 0;
    assert_int_equal(rg_engine_metrics(c.e, part, len, &l2), RG_E_RANGE);
    assert_int_equal(l2, len);
    assert_int_equal(part[len - 1], '\0');
    assert_int_equal(part[len], 'x');
    assert_memory_equal(part, full, len - 1);
    /* a small buffer */
    assert_int_equal(rg_engine_metrics(c.e, part, 7, &l2), RG_E_RANGE);
    assert_string_equal(part, "# HELP");
    free(full);
    free(part);
    rgt_close(&c);
}

static void test_metrics_survive_reload(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    assert_int_equal(check_ch(&c, "default", "chat", "damn"), RG_OK);
    assert_int_equal(check_ch(&c, "support", "chat", "fine"), RG_OK);
    assert_int_equal(check_ch(&c, "refunds", "chat", "fine"), RG_OK);
    /* "aaa" sorts first in B: every route index shifts */
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/observe_b"), NULL), RG_OK);
    rg_diag *d = NULL;
    assert_int_not_equal(rg_engine_reload(c.e, rgt_path("policies/broken"), &d), RG_OK);
    rg_diag_free(d);
    assert_int_equal(check_ch(&c, "default", "chat", "damn"), RG_OK);
    assert_int_equal(check_ch(&c, "aaa", "chat", "123-45-6789"), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), RG_BLOCK);
    assert_int_equal(check_ch(&c, "refunds", "chat", "fine"), RG_OK);
    assert_int_equal(check_ch(&c, "support", "chat", "fine"), RG_E_NOROUTE);
    char *t = render(c.e);
    assert_exposition_format(t);
    assert_int_equal(checks(t, "default", "block", "chat"), 2);
    assert_int_equal(checks(t, "refunds", "allow", "chat"), 2);
    assert_int_equal(checks(t, "aaa", "block", "chat"), 1);
    /* a route the reload removed keeps its counts */
    assert_int_equal(checks(t, "support", "allow", "chat"), 1);
    assert_int_equal(cat_hits(t, "toxicity.profanity", "block"), 2);
    assert_int_equal(cat_hits(t, "pii.ssn", "block"), 1);
    assert_int_equal(value_of(t, "replyguard_reloads_total{result=\"ok\"}"), 1);
    assert_int_equal(value_of(t, "replyguard_reloads_total{result=\"failed\"}"), 1);
    assert_int_equal(value_of(t, "replyguard_check_errors_total{status=\"NOROUTE\"}"), 1);
    assert_int_equal(value_of(t, "replyguard_policy_generation"), 2);
    assert_true(has_line_prefix(t, "replyguard_policy_info{version=\"observe-2\","));
    free(t);
    rgt_close(&c);
}

static void test_metrics_keep_freed_scratches(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    rg_scratch *s2;
    assert_int_equal(rg_scratch_alloc(c.e, &s2), RG_OK);
    rg_request q = {0};
    q.reply = "damn";
    q.reply_len = 4;
    q.channel = "chat";
    for (int i = 0; i < 5; i++)
        assert_int_equal(rg_check(c.e, s2, &q, c.r), RG_OK);
    assert_int_equal(rg_check(c.e, c.s, &q, c.r), RG_OK);
    char *t = render(c.e);
    assert_int_equal(checks(t, "default", "block", "chat"), 6);
    assert_int_equal(value_of(t, "replyguard_scratches"), 2);
    free(t);
    rg_scratch_free(s2);
    t = render(c.e);
    assert_int_equal(checks(t, "default", "block", "chat"), 6);
    assert_int_equal(cat_hits(t, "toxicity.profanity", "block"), 6);
    assert_int_equal(value_of(t, "replyguard_scratches"), 1);
    free(t);
    rgt_close(&c);
}

#define NTHREADS 4
#define PER_THREAD 5000

static void *worker(void *arg)
{
    rg_engine *e = arg;
    rg_scratch *s = NULL;
    rg_result *r = NULL;
    if (rg_scratch_alloc(e, &s) != RG_OK || rg_result_alloc(NULL, &r) != RG_OK)
        return (void *)1;
    rg_request q = {0};
    q.channel = "voice";
    long bad = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        q.reply = i % 2 ? "damn" : "hello";
        q.reply_len = strlen(q.reply);
        if (rg_check(e, s, &q, r) != RG_OK)
            bad++;
    }
    rg_result_free(r);
    /* half the threads free their scratch: their counts must stay */
    static _Atomic int n;
    if (atomic_fetch_add(&n, 1) % 2)
        rg_scratch_free(s);
    else
        return (void *)s; /* freed by the main thread after rendering */
    return (void *)(intptr_t)(bad ? 1 : 0);
}

static void test_metrics_threads_exact(void **state)
{
    (void)state;
    rg_engine *e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/observe"), NULL, NULL), RG_OK);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, e), 0);
    /* render while the workers run: never torn, never decreasing */
    uint64_t last = 0;
    for (int i = 0; i < 50; i++) {
        char *t = render(e);
        uint64_t v = checks(t, "default", "block", "voice");
        assert_true(v >= last && v <= NTHREADS * PER_THREAD / 2);
        last = v;
        free(t);
    }
    void *ret[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(th[i], &ret[i]), 0);
    char *t = render(e);
    assert_exposition_format(t);
    assert_int_equal(checks(t, "default", "block", "voice"), NTHREADS * PER_THREAD / 2);
    assert_int_equal(checks(t, "default", "allow", "voice"), NTHREADS * PER_THREAD / 2);
    assert_int_equal(per_route(t, "check_duration_seconds_count", "default"),
                     NTHREADS * PER_THREAD);
    assert_int_equal(cat_hits(t, "toxicity.profanity", "block"), NTHREADS * PER_THREAD / 2);
    free(t);
    for (int i = 0; i < NTHREADS; i++)
        if ((uintptr_t)ret[i] > 1)
            rg_scratch_free(ret[i]);
        else
            assert_null(ret[i]);
    rg_engine_close(e);
}

static void test_metrics_off(void **state)
{
    (void)state;
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = RG_ENGINE_NO_METRICS;
    rg_engine *e;
    assert_int_equal(rg_engine_open(&e, rgt_path("policies/observe"), &o, NULL), RG_OK);
    rg_scratch *s;
    rg_result *r;
    assert_int_equal(rg_scratch_alloc(e, &s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &r), RG_OK);
    rg_request q = {0};
    q.reply = "damn";
    q.reply_len = 4;
    assert_int_equal(rg_check(e, s, &q, r), RG_OK);
    assert_int_equal(rg_result_verdict(r), RG_BLOCK);
    assert_int_equal(rg_engine_reload(e, NULL, NULL), RG_OK);
    char *t = render(e);
    assert_exposition_format(t);
    assert_false(strstr(t, "replyguard_checks_total"));
    assert_false(strstr(t, "replyguard_check_duration_seconds"));
    assert_int_equal(value_of(t, "replyguard_reloads_total{result=\"ok\"}"), 1);
    free(t);
    rg_result_free(r);
    rg_scratch_free(s);
    rg_engine_close(e);
}

/* ---- audit -------------------------------------------------------------- */

typedef struct sink {
    char *lines[64];
    size_t n;
    int had_redacted;
} sink;

static void collect(const rg_audit_event *ev, void *user)
{
    sink *k = user;
    assert_int_equal(ev->struct_size, sizeof *ev);
    size_t len = 0;
    assert_int_equal(rg_audit_event_json(ev, NULL, 0, &len), RG_E_RANGE);
    char *b = malloc(len + 1);
    assert_int_equal(rg_audit_event_json(ev, b, len + 1, NULL), RG_OK);
    assert_int_equal(strlen(b), len);
    assert_int_equal(b[len - 1], '\n');
    assert_null(memchr(b, '\n', len - 1)); /* one line */
    assert_true(k->n < 64);
    k->lines[k->n++] = b;
    k->had_redacted |= ev->redacted != NULL;
}

static void sink_free(sink *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->lines[i]);
    k->n = 0;
}

static json_t *parse(const char *line)
{
    json_error_t err;
    json_t *j = json_loads(line, JSON_ALLOW_NUL, &err); /* rejects bad UTF-8 */
    if (!j)
        print_error("invalid JSON (%s): %s\n", err.text, line);
    assert_non_null(j);
    return j;
}

#define SECRET_REPLY "Dear Bob, damn it, your card " CARD " and bob@example.com, idiot."

static void test_audit_event_fields_and_no_text(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    sink k = {0};
    assert_int_equal(rg_engine_set_audit(c.e, collect, &k, 0), RG_OK);
    rg_label labels[] = {{"tenant", "acme"}, {"persona", "ava"},
                         {"conversation_id", "conv-42"}};
    rg_request q = {0};
    q.route = "refunds";
    q.reply = SECRET_REPLY;
    q.reply_len = strlen(SECRET_REPLY);
    q.channel = "chat";
    q.locale = "en-US";
    q.labels = labels;
    q.label_count = 3;
    assert_int_equal(rg_check(c.e, c.s, &q, c.r), RG_OK);
    assert_int_equal(k.n, 1);
    const char *line = k.lines[0];
    /* nothing of the reply: no span text, no surrounding text */
    static const char *const forbidden[] = {"Dear", "Bob", "damn", "4111",
        "1111", "example.com", "idiot", "your card"};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++)
        if (strstr(line, forbidden[i])) {
            print_error("audit line holds \"%s\": %s", forbidden[i], line);
            fail();
        }
    assert_false(k.had_redacted);
    json_t *j = parse(line);
    RGT_STR(json_string_value(json_object_get(j, "route")), "refunds");
    RGT_STR(json_string_value(json_object_get(j, "channel")), "chat");
    RGT_STR(json_string_value(json_object_get(j, "locale")), "en-US");
    RGT_STR(json_string_value(json_object_get(j, "verdict")), "block");
    RGT_STR(json_string_value(json_object_get(j, "status")), "OK");
    json_t *lb = json_object_get(j, "labels");
    RGT_STR(json_string_value(json_object_get(lb, "tenant")), "acme");
    RGT_STR(json_string_value(json_object_get(lb, "persona")), "ava");
    RGT_STR(json_string_value(json_object_get(lb, "conversation_id")), "conv-42");
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(c.e, &info), RG_OK);
    json_t *pol = json_object_get(j, "policy");
    RGT_STR(json_string_value(json_object_get(pol, "version")), "observe-1");
    RGT_STR(json_string_value(json_object_get(pol, "hash")), info.policy_hash);
    assert_int_equal(json_integer_value(json_object_get(j, "reply_bytes")), strlen(SECRET_REPLY));
    assert_int_equal(json_integer_value(json_object_get(j, "elapsed_ns")),
                     rg_result_elapsed_ns(c.r));
    assert_null(json_object_get(j, "redacted"));
    /* hits: the result's, as offsets */
    json_t *hits = json_object_get(j, "hits");
    assert_int_equal(json_array_size(hits), rg_result_hit_count(c.r));
    for (size_t i = 0; i < json_array_size(hits); i++) {
        json_t *h = json_array_get(hits, i);
        const rg_hit *rh = rg_result_hit(c.r, i);
        RGT_STR(json_string_value(json_object_get(h, "detector")), rh->detector);
        RGT_STR(json_string_value(json_object_get(h, "category")), rh->category);
        assert_int_equal(json_integer_value(json_object_get(h, "start")), rh->start);
        assert_int_equal(json_integer_value(json_object_get(h, "end")), rh->end);
        RGT_NEAR(json_number_value(json_object_get(h, "score")), rh->score);
    }
    const char *card = strstr(SECRET_REPLY, CARD);
    const rg_hit *ch = rgt_hit(c.r, "obs.card", 0);
    RGT_SPAN(ch, (size_t)(card - SECRET_REPLY), (size_t)(card - SECRET_REPLY) + strlen(CARD));
    assert_int_equal(json_array_size(json_object_get(j, "reasons")),
                     rg_result_reason_count(c.r));
    assert_int_equal(json_array_size(json_object_get(j, "categories")),
                     rg_result_category_count(c.r));
    json_t *flags = json_object_get(j, "flags");
    assert_int_equal(json_array_size(flags), 1);
    RGT_STR(json_string_value(json_array_get(flags, 0)), "redacted");
    /* the time is now, in RFC 3339 UTC */
    const char *tm = json_string_value(json_object_get(j, "time"));
    assert_non_null(tm);
    assert_int_equal(strlen(tm), 27);
    assert_int_equal(tm[10], 'T');
    assert_int_equal(tm[26], 'Z');
    json_decref(j);
    sink_free(&k);
    rgt_close(&c);
}

static void test_audit_redacted_copy_masks_every_hit(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    sink k = {0};
    assert_int_equal(rg_engine_set_audit(c.e, collect, &k, RG_AUDIT_REDACTED_COPY), RG_OK);
    assert_int_equal(rgt_check(&c, "refunds", SECRET_REPLY), RG_OK);
    assert_int_equal(k.n, 1);
    json_t *j = parse(k.lines[0]);
    RGT_STR(json_string_value(json_object_get(j, "redacted")),
            "Dear Bob, [toxicity.profanity] it, your card [pii.payment_card] and "
            "[pii.email], [toxicity.insult].");
    json_decref(j);
    /* oversize (support cuts at 64 bytes): part of the reply was never
     * scanned, so no copy */
    char big[300];
    snprintf(big, sizeof big, "%s %s %s", SECRET_REPLY, SECRET_REPLY, SECRET_REPLY);
    assert_int_equal(rgt_check(&c, "support", big), RG_OK);
    assert_true(rg_result_flags(c.r) & RG_FLAG_OVERSIZE);
    assert_int_equal(k.n, 2);
    j = parse(k.lines[1]);
    assert_null(json_object_get(j, "redacted"));
    assert_false(strstr(k.lines[1], "4111"));
    json_decref(j);
    /* an unknown route: no copy either */
    assert_int_equal(rgt_check(&c, "nope", SECRET_REPLY), RG_E_NOROUTE);
    assert_int_equal(k.n, 3);
    assert_false(strstr(k.lines[2], "Bob"));
    sink_free(&k);
    rgt_close(&c);
}

static void test_audit_one_event_per_check(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/observe");
    sink k = {0};
    assert_int_equal(rg_engine_set_audit(NULL, collect, &k, 0), RG_E_INVAL);
    assert_int_equal(rg_engine_set_audit(c.e, collect, &k, 1u << 7), RG_E_INVAL);
    assert_int_equal(rg_engine_set_audit(c.e, collect, &k, 0), RG_OK);
    assert_int_equal(rgt_check(&c, NULL, "hello"), RG_OK);
    assert_int_equal(rgt_check(&c, "nope", "hello"), RG_E_NOROUTE);
    /* refused before the check: no event */
    assert_int_equal(rg_check(c.e, c.s, NULL, c.r), RG_E_INVAL);
    /* a bad request after pinning: an event with the error */
    rg_request q = {0};
    q.reply_len = 3;
    assert_int_equal(rg_check(c.e, c.s, &q, c.r), RG_E_INVAL);
    assert_int_equal(k.n, 3);
    json_t *j = parse(k.lines[1]);
    RGT_STR(json_string_value(json_object_get(j, "route")), "nope");
    RGT_STR(json_string_value(json_object_get(j, "status")), "NOROUTE");
    RGT_STR(json_string_value(json_object_get(j, "verdict")), "handoff");
    json_t *flags = json_object_get(j, "flags");
    RGT_STR(json_string_value(json_array_get(flags, 0)), "engine_error");
    RGT_STR(json_string_value(json_array_get(flags, 1)), "failsafe");
    assert_true(json_is_null(json_object_get(j, "channel")));
    json_decref(j);
    j = parse(k.lines[2]);
    RGT_STR(json_string_value(json_object_get(j, "status")), "INVAL");
    json_decref(j);
    /* removed: no more events */
    assert_int_equal(rg_engine_set_audit(c.e, NULL, NULL, 0), RG_OK);
    assert_int_equal(rgt_check(&c, NULL, "hello"), RG_OK);
    assert_int_equal(k.n, 3);
    sink_free(&k);
    rgt_close(&c);
}

/* A hand-made event: every escaping case of the JSON writer. */
static void test_audit_json_escaping(void **state)
{
    (void)state;
    static const char red[] =
        "q\"b\\s/\n\r\t\x01\x1f nul\0 e\xc3\xa9 euro\xe2\x82\xac emoji\xf0\x9f\x98\x80"
        " bad\xff trunc\xe2\x82 sur\xed\xa0\x80 over\xc0\xaf end\xf4\x90\x80\x80 z\xe2";
    rg_label labels[] = {{"ten\"ant", "a\\b\x02"}, {NULL, "skipped"},
                         {"persona", NULL}, {"k\xff", "v"}};
    rg_hit hit = {.detector = "det", .category = "cat", .start = 1, .end = 2,
                  .score = 0.125};
    rg_category_score cs = {.category = "cat", .score = 1.0 / 3.0,
                            .verdict = RG_HANDOFF, .redact = 0,
                            .shadow_score = 1.0 / 3.0};
    rg_reason rs = {.category = "cat", .rule = "cat", .route = "default",
                    .action = "handoff", .score = 0.999999999, .threshold = 0.5};
    rg_audit_event ev;
    memset(&ev, 0, sizeof ev);
    ev.struct_size = sizeof ev;
    ev.time_ns = 1795000000123456789ull; /* 2026-11-18T...Z */
    ev.route = "r";
    ev.channel = "voice";
    ev.locale = NULL;
    ev.labels = labels;
    ev.label_count = 4;
    ev.verdict = RG_HANDOFF;
    ev.flags = RG_FLAG_INVALID_UTF8 | RG_FLAG_BUDGET_EXCEEDED;
    ev.elapsed_ns = 1234;
    ev.policy_version = "v";
    ev.policy_hash = "h";
    ev.reply_len = sizeof red - 1;
    ev.hits = &hit;
    ev.hit_count = 1;
    ev.categories = &cs;
    ev.category_count = 1;
    ev.reasons = &rs;
    ev.reason_count = 1;
    ev.redacted = red;
    ev.redacted_len = sizeof red - 1;
    char buf[4096];
    size_t len;
    assert_int_equal(rg_audit_event_json(&ev, buf, sizeof buf, &len), RG_OK);
    assert_string_equal(buf,
        "{\"time\":\"2026-11-18T11:06:40.123456Z\",\"route\":\"r\",\"channel\":\"voice\","
        "\"locale\":null,\"labels\":{\"ten\\\"ant\":\"a\\\\b\\u0002\",\"persona\":null,"
        "\"k\\ufffd\":\"v\"},\"verdict\":\"handoff\",\"status\":\"OK\","
        "\"flags\":[\"budget_exceeded\",\"invalid_utf8\"],\"elapsed_ns\":1234,"
        "\"policy\":{\"version\":\"v\",\"hash\":\"h\"},\"reply_bytes\":76,"
        "\"categories\":[{\"category\":\"cat\",\"score\":0.333333,\"verdict\":\"handoff\","
        "\"redact\":false}],\"reasons\":[{\"category\":\"cat\",\"rule\":\"cat\","
        "\"route\":\"default\",\"action\":\"handoff\",\"score\":1,\"threshold\":0.5}],"
        "\"hits\":[{\"detector\":\"det\",\"category\":\"cat\",\"start\":1,\"end\":2,"
        "\"score\":0.125}],\"redacted\":\"q\\\"b\\\\s/\\n\\r\\t\\u0001\\u001f nul\\u0000 "
        "e\xc3\xa9 euro\xe2\x82\xac emoji\xf0\x9f\x98\x80 bad\\ufffd trunc\\ufffd "
        "sur\\ufffd\\ufffd\\ufffd over\\ufffd\\ufffd end\\ufffd\\ufffd\\ufffd\\ufffd "
        "z\\ufffd\"}\n");
    json_t *j = parse(buf);
    json_decref(j);
    assert_int_equal(len, strlen(buf));
    /* NULL and size contracts */
    size_t need = 1;
    assert_int_equal(rg_audit_event_json(NULL, buf, sizeof buf, &need), RG_E_INVAL);
    assert_int_equal(need, 0);
    assert_int_equal(rg_audit_event_json(&ev, NULL, 5, &need), RG_E_INVAL);
    assert_int_equal(rg_audit_event_json(&ev, buf, 10, &need), RG_E_RANGE);
    assert_int_equal(need, len);
    assert_int_equal(strlen(buf), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_exact_counts),
        cmocka_unit_test(test_metrics_histogram_buckets),
        cmocka_unit_test(test_metrics_buffer_contract),
        cmocka_unit_test(test_metrics_survive_reload),
        cmocka_unit_test(test_metrics_keep_freed_scratches),
        cmocka_unit_test(test_metrics_threads_exact),
        cmocka_unit_test(test_metrics_off),
        cmocka_unit_test(test_audit_event_fields_and_no_text),
        cmocka_unit_test(test_audit_redacted_copy_masks_every_hit),
        cmocka_unit_test(test_audit_one_event_per_check),
        cmocka_unit_test(test_audit_json_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
