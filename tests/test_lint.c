/* test_lint.c — RG_ENGINE_LINT: every error in one run (semantic and
 * pattern-syntax errors even when there are structural ones), and each
 * policy-author warning, at the line that causes it; none of them
 * without the flag.
 * Fixtures: tests/policies/lint_warn, tests/policies/lint_errors. */
#include "testutil.h"

static rg_diag *open_diag(const char *rel, unsigned flags, int *status)
{
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = flags;
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    *status = rg_engine_open(&e, rgt_path(rel), &o, &d);
    rg_engine_close(e);
    return d;
}

/* The entry at `line` whose message holds `needle`, or NULL. */
static const rg_diag_entry *find(const rg_diag *d, unsigned line,
                                 rg_severity sev, const char *needle)
{
    for (size_t i = 0; d && i < d->count; i++) {
        const rg_diag_entry *e = &d->entries[i];
        if (e->line == line && e->severity == sev && strstr(e->message, needle))
            return e;
    }
    return NULL;
}

#define EXPECT(d, line, sev, needle)                                         \
    do {                                                                     \
        if (!find((d), (line), (sev), (needle))) {                           \
            rgt_print_diag(d);                                               \
            print_error("no diagnostic at line %u with '%s'\n",              \
                        (unsigned)(line), (needle));                         \
            fail();                                                          \
        }                                                                    \
    } while (0)

static void test_lint_warnings(void **state)
{
    (void)state;
    int st;
    rg_diag *d = open_diag("policies/lint_warn", RG_ENGINE_LINT, &st);
    assert_int_equal(st, RG_OK);
    assert_non_null(d);
    EXPECT(d, 12, RG_SEV_WARNING, "shares 1 term with detector 'ok.words' ('darn'): both score the same category");
    EXPECT(d, 15, RG_SEV_WARNING, "detector 'unused.iban' is unused");
    EXPECT(d, 20, RG_SEV_WARNING, "allow entry 'nice day' contains none of the detector's terms");
    EXPECT(d, 33, RG_SEV_WARNING, "detector 'risky.nested': catastrophic-backtracking risk");
    EXPECT(d, 43, RG_SEV_WARNING, "detector 'slow.pcre' uses pcre:");
    EXPECT(d, 43, RG_SEV_WARNING, "Hyperscan accepts this pattern");
    EXPECT(d, 46, RG_SEV_WARNING, "allow entry 'KEY-12' contains no match");
    EXPECT(d, 55, RG_SEV_WARNING, "block threshold 0.9 for 'toxicity.threat' can never be reached");
    EXPECT(d, 56, RG_SEV_WARNING, "no detector scores 'compliance.prohibited'");
    EXPECT(d, 59, RG_SEV_WARNING, "route 'same' is identical to its parent 'default'");
    EXPECT(d, 63, RG_SEV_WARNING, "no detector scores 'pii.email'");
    EXPECT(d, 66, RG_SEV_WARNING, "its budget_us, max_bytes and on_* settings are not used");
    EXPECT(d, 66, RG_SEV_WARNING, "extends no route");
    EXPECT(d, 72, RG_SEV_WARNING, "'child' enforces the rules 'lone' only reports");
    /* Nothing else: the safe pattern, the useful allow entries and the
     * reachable thresholds are quiet. */
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++) {
        assert_int_equal(d->entries[i].severity, RG_SEV_WARNING);
        assert_null(strstr(d->entries[i].message, "safe.bounded"));
        assert_null(strstr(d->entries[i].message, "nitwit grass"));
        assert_null(strstr(d->entries[i].message, "sample KEY-000000"));
        n++;
    }
    assert_int_equal(n, 13);
    rg_diag_free(d);
}

static void test_no_lint_warnings_without_flag(void **state)
{
    (void)state;
    int st;
    rg_diag *d = open_diag("policies/lint_warn", 0, &st);
    assert_int_equal(st, RG_OK);
    for (size_t i = 0; d && i < d->count; i++) {
        assert_null(strstr(d->entries[i].message, "unused"));
        assert_null(strstr(d->entries[i].message, "never be reached"));
        assert_null(strstr(d->entries[i].message, "shares"));
        assert_null(strstr(d->entries[i].message, "backtracking"));
    }
    rg_diag_free(d);
}

static void test_lint_reports_every_error(void **state)
{
    (void)state;
    int st;
    /* Plain open: the structural error only (the loader stops there). */
    rg_diag *d = open_diag("policies/lint_errors", 0, &st);
    assert_int_equal(st, RG_E_POLICY);
    EXPECT(d, 8, RG_SEV_ERROR, "'score' must be a number");
    assert_null(find(d, 10, RG_SEV_ERROR, "unknown category"));
    rg_diag_free(d);
    /* Lint: all four, each at its place. */
    d = open_diag("policies/lint_errors", RG_ENGINE_LINT, &st);
    assert_int_equal(st, RG_E_POLICY);
    EXPECT(d, 8, RG_SEV_ERROR, "'score' must be a number");
    EXPECT(d, 10, RG_SEV_ERROR, "unknown category 'toxicity.insults' (did you mean 'toxicity.insult'?)");
    EXPECT(d, 15, RG_SEV_ERROR, "pattern does not compile");
    EXPECT(d, 19, RG_SEV_ERROR, "extends unknown route 'nowhere'");
    size_t errors = 0;
    for (size_t i = 0; i < d->count; i++)
        errors += d->entries[i].severity == RG_SEV_ERROR;
    assert_int_equal(errors, 4);
    rg_diag_free(d);
}

static void test_lint_shipped_policies_have_no_errors(void **state)
{
    (void)state;
    int st;
    rg_diag *d = open_diag("../policies", RG_ENGINE_LINT, &st);
    if (st != RG_OK)
        rgt_print_diag(d);
    assert_int_equal(st, RG_OK);
    rg_diag_free(d);
}

static void test_lint_broken_yaml_and_io(void **state)
{
    (void)state;
    int st;
    /* A YAML syntax error: reported, no crash on the partial model. */
    rg_diag *d = open_diag("policies/broken", RG_ENGINE_LINT, &st);
    assert_int_not_equal(st, RG_OK);
    assert_non_null(rgt_first_error(d));
    rg_diag_free(d);
    d = open_diag("policies/does-not-exist", RG_ENGINE_LINT, &st);
    assert_int_equal(st, RG_E_IO);
    rg_diag_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lint_warnings),
        cmocka_unit_test(test_no_lint_warnings_without_flag),
        cmocka_unit_test(test_lint_reports_every_error),
        cmocka_unit_test(test_lint_shipped_policies_have_no_errors),
        cmocka_unit_test(test_lint_broken_yaml_and_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
