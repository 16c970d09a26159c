/* test_policy_errors.c — loader and checker diagnostics: every error is
 * reported as file:line:column (1-based) and fails the open with *out NULL.
 * Each case writes a policy set into a fresh temporary directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

/* A small valid detector + route used around the broken part. */
#define DET_OK                                                                 \
    "detectors:\n"                                                             \
    "  - id: ok.words\n"                                                       \
    "    category: toxicity.profanity\n"                                       \
    "    words: [damn]\n"                                                      \
    "    score: 0.5\n"

typedef struct load {
    char *base;   /* temporary directory */
    char dir[4200]; /* the policy directory: base/p */
    int status;
    rg_engine *e;
    rg_diag *d;
} load;

static void load_init(load *l)
{
    memset(l, 0, sizeof *l);
    l->base = rgt_tmpdir();
    snprintf(l->dir, sizeof l->dir, "%s/p", l->base);
    rgt_write(l->base, "p/.keep", "");
}

static void load_file(load *l, const char *name, const char *yaml)
{
    rgt_write(l->dir, name, yaml);
}

static int load_open(load *l)
{
    l->e = (rg_engine *)l; /* bogus: must come back NULL on failure */
    l->status = rg_engine_open(&l->e, l->dir, NULL, &l->d);
    if (l->status != RG_OK)
        assert_null(l->e);
    return l->status;
}

static void load_done(load *l)
{
    rg_diag_free(l->d);
    if (l->status == RG_OK)
        rg_engine_close(l->e);
    rgt_rmtree(l->base);
    free(l->base);
}

/* One YAML file "policy.yaml", opened; returns the status. */
static int load1(load *l, const char *yaml)
{
    load_init(l);
    load_file(l, "policy.yaml", yaml);
    return load_open(l);
}

static int contains_ci(const char *hay, const char *needle)
{
    if (!hay)
        return 0;
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return 1;
    return 0;
}

/* Assert an error diagnostic at file (suffix) line:column whose message
 * mentions `needle` (case-insensitive; NULL: anything). A column of 0 in
 * the expectation accepts any column. col2 (if non-zero) is an alternative
 * acceptable column. */
static void expect_at2(const load *l, const char *file, unsigned line,
                       unsigned col, unsigned col2, const char *needle)
{
    const rg_diag *d = l->d;
    if (d) {
        for (size_t i = 0; i < d->count; i++) {
            const rg_diag_entry *e = &d->entries[i];
            if (e->severity != RG_SEV_ERROR || !rgt_ends_with(e->file, file) ||
                e->line != line)
                continue;
            if (col && e->column != col && !(col2 && e->column == col2))
                continue;
            if (needle && !contains_ci(e->message, needle))
                continue;
            assert_non_null(e->message);
            assert_true(e->message[0] != 0);
            return;
        }
    }
    fprintf(stderr, "expected an error at %s:%u:%u (or col %u) mentioning \"%s\"; got status %s and:\n",
            file, line, col, col2, needle ? needle : "", rg_status_name(l->status));
    rgt_print_diag(d);
    fail();
}

static void expect_at(const load *l, const char *file, unsigned line,
                      unsigned col, const char *needle)
{
    expect_at2(l, file, line, col, 0, needle);
}

/* ---- YAML syntax ------------------------------------------------------- */

static void test_yaml_syntax_tab(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "version: \"1\"\n"
                               "routes:\n"
                               "  default:\n"
                               "\tbudget_us: 5\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 1, NULL);
    load_done(&l);
}

static void test_yaml_syntax_mapping_value(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default: a: b\n"),
                     RG_E_POLICY);
    /* "mapping values are not allowed in this context" */
    expect_at(&l, "policy.yaml", 7, 13, NULL);
    load_done(&l);
}

static void test_yaml_alias_rejected(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default: &r\n"
                               "    budget_us: 5\n"
                               "  other: *r\n"),
                     RG_E_POLICY);
    /* the anchor (7:12) or the alias (9:10) */
    const rg_diag_entry *e = rgt_first_error(l.d);
    assert_non_null(e);
    int at_anchor = e->line == 7 && e->column == 12;
    int at_alias = e->line == 9 && e->column == 10;
    if (!at_anchor && !at_alias)
        rgt_print_diag(l.d);
    assert_true(at_anchor || at_alias);
    load_done(&l);
}

static void test_yaml_alias_only_scalar(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: a\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    score: &s 0.5\n"
                               "  - id: b\n"
                               "    category: toxicity.insult\n"
                               "    words: [dolt]\n"
                               "    score: *s\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    const rg_diag_entry *e = rgt_first_error(l.d);
    assert_non_null(e);
    int at_anchor = e->line == 5 && e->column == 12;
    int at_alias = e->line == 9 && e->column == 12;
    if (!at_anchor && !at_alias)
        rgt_print_diag(l.d);
    assert_true(at_anchor || at_alias);
    load_done(&l);
}

/* ---- keys and types ---------------------------------------------------- */

static void test_unknown_top_level_key(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "version: \"1\"\n"
                               "colour: red\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 2, 1, "colour");
    load_done(&l);
}

static void test_unknown_detector_key(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    scor: 0.5\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 5, 5, "scor");
    load_done(&l);
}

static void test_unknown_route_key(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    budget_us: 100\n"
                               "    timeout: 5\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 9, 5, "timeout");
    load_done(&l);
}

static void test_wrong_type_scalar(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    budget_us: fast\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 8, 16, NULL);
    load_done(&l);
}

static void test_wrong_type_list_expected(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.profanity\n"
                               "    words: damn\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 12, NULL);
    load_done(&l);
}

static void test_wrong_type_map_expected(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    categories: [toxicity]\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 8, 17, NULL);
    load_done(&l);
}

static void test_bad_enum_value(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    on_timeout: maybe\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 8, 17, "maybe");
    load_done(&l);
}

static void test_unknown_validator(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: card\n"
                               "    category: pii.payment_card\n"
                               "    regex: '\\d{16}'\n"
                               "    validate: crc32\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 5, 15, "crc32");
    load_done(&l);
}

static void test_score_out_of_range(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    score: 1.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 5, 12, NULL);
    load_done(&l);
}

static void test_score_negative(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    score: -0.1\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 5, 12, NULL);
    load_done(&l);
}

static void test_threshold_out_of_range(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    categories:\n"
                               "      toxicity: { handoff: 0.5, block: 1.2 }\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 9, 40, NULL);
    load_done(&l);
}

static void test_missing_required_category(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    words: [damn]\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    /* the detector's mapping starts at "id" */
    expect_at(&l, "policy.yaml", 2, 5, "category");
    load_done(&l);
}

static void test_missing_required_score(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "routes:\n"
                               "  default: {}\n"
                               "detectors:\n"
                               "  - category: toxicity.profanity\n"
                               "    id: d1\n"
                               "    words: [damn]\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 5, "score");
    load_done(&l);
}

static void test_missing_pattern_kind(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.profanity\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 2, 5, NULL);
    load_done(&l);
}

static void test_two_pattern_kinds(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    regex: 'damn'\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    const rg_diag_entry *e = rgt_first_error(l.d);
    assert_non_null(e);
    /* at the detector (2:5) or at the second kind key (5:5) */
    assert_true((e->line == 2 && e->column == 5) || (e->line == 5 && e->column == 5));
    load_done(&l);
}

static void test_bad_detector_id(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: \"bad id!\"\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 2, 9, NULL);
    load_done(&l);
}

/* ---- references -------------------------------------------------------- */

static void test_dangling_extends(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default: {}\n"
                               "  refunds:\n"
                               "    extends: nowhere\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 9, 14, "nowhere");
    load_done(&l);
}

static void test_extends_cycle(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default: {}\n"
                               "  a:\n"
                               "    extends: b\n"
                               "  b:\n"
                               "    extends: a\n"),
                     RG_E_POLICY);
    const rg_diag_entry *e = rgt_first_error(l.d);
    assert_non_null(e);
    if (!rgt_ends_with(e->file, "policy.yaml") || !(e->line == 9 || e->line == 11) ||
        e->column != 14)
        rgt_print_diag(l.d);
    assert_true(rgt_ends_with(e->file, "policy.yaml"));
    assert_true(e->line == 9 || e->line == 11);
    assert_int_equal(e->column, 14);
    load_done(&l);
}

static void test_extends_self(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    extends: default\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 8, 14, NULL);
    load_done(&l);
}

static void test_unknown_category(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: toxicity.rudeness\n"
                               "    words: [damn]\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 3, 15, "toxicity.rudeness");
    load_done(&l);
}

static void test_undeclared_subcategory(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: d1\n"
                               "    category: pii.national_id.xx_foo\n"
                               "    regex: '\\d{9}'\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 3, 15, "xx_foo");
    load_done(&l);
}

static void test_declared_subcategory_ok(void **state)
{
    (void)state;
    load l;
    int st = load1(&l, "categories:\n"
                       "  pii.national_id.xx_foo: { description: \"test\" }\n"
                       "detectors:\n"
                       "  - id: d1\n"
                       "    category: pii.national_id.xx_foo\n"
                       "    regex: '\\d{9}'\n"
                       "    score: 0.5\n"
                       "routes:\n"
                       "  default:\n"
                       "    categories:\n"
                       "      pii.national_id.xx_foo: { handoff: 0.5 }\n"
                       "      pii.national_id: { block: 0.9 }\n");
    if (st != RG_OK)
        rgt_print_diag(l.d);
    assert_int_equal(st, RG_OK);
    load_done(&l);
}

static void test_unknown_rule_category_key(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    categories:\n"
                               "      toxic: { block: 0.5 }\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 9, 7, "toxic");
    load_done(&l);
}

static void test_unknown_rule_field(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default:\n"
                               "    categories:\n"
                               "      toxicity: { block: 0.5, warn: 0.3 }\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 9, 31, "warn");
    load_done(&l);
}

static void test_duplicate_detector_id(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: dup\n"
                               "    category: toxicity.profanity\n"
                               "    words: [damn]\n"
                               "    score: 0.5\n"
                               "  - id: dup\n"
                               "    category: toxicity.insult\n"
                               "    words: [dolt]\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_POLICY);
    /* at the second detector: its id value (6:9) or its mapping (6:5) */
    expect_at2(&l, "policy.yaml", 6, 9, 5, "dup");
    load_done(&l);
}

static void test_duplicate_detector_id_across_files(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "a.yaml", DET_OK "routes:\n  default: {}\n");
    load_file(&l, "b.yaml", "detectors:\n"
                            "  - id: other\n"
                            "    category: toxicity.insult\n"
                            "    words: [dolt]\n"
                            "    score: 0.5\n"
                            "  - id: ok.words\n"
                            "    category: toxicity.insult\n"
                            "    words: [twit]\n"
                            "    score: 0.5\n");
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at2(&l, "b.yaml", 6, 9, 5, "ok.words");
    load_done(&l);
}

static void test_duplicate_route_key(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, DET_OK
                               "routes:\n"
                               "  default: {}\n"
                               "  default:\n"
                               "    budget_us: 5\n"),
                     RG_E_POLICY);
    expect_at(&l, "policy.yaml", 8, 3, "default");
    load_done(&l);
}

static void test_duplicate_route_across_files(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "a.yaml", DET_OK "routes:\n  default: {}\n");
    load_file(&l, "b.yaml", "routes:\n  refunds: {}\n  default: {}\n");
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "b.yaml", 3, 3, "default");
    load_done(&l);
}

static void test_version_set_twice(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "a.yaml", "version: \"1\"\n" DET_OK "routes:\n  default: {}\n");
    load_file(&l, "b.yaml", "# second file\nversion: \"2\"\n");
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at2(&l, "b.yaml", 2, 1, 10, NULL);
    load_done(&l);
}

static void test_yml_extension_loaded(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "a.yaml", DET_OK "routes:\n  default: {}\n");
    load_file(&l, "b.yml", "routes:\n  x:\n    bogus_key: 1\n");
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "b.yml", 3, 5, "bogus_key");
    load_done(&l);
}

static void test_subdirectories_not_loaded(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "a.yaml", DET_OK "routes:\n  default: {}\n");
    load_file(&l, "tests/cases.yaml", "this: [is not, a policy\n");
    load_file(&l, "lexicons/x.yaml", "garbage: : :\n");
    load_file(&l, "notes.txt", "colour: red\n");
    int st = load_open(&l);
    if (st != RG_OK)
        rgt_print_diag(l.d);
    assert_int_equal(st, RG_OK);
    load_done(&l);
}

/* ---- lexicon paths ----------------------------------------------------- */

#define LEX_DET(path)                                                          \
    "detectors:\n"                                                             \
    "  - id: lex\n"                                                            \
    "    category: toxicity.profanity\n"                                       \
    "    lexicon: " path "\n"                                                  \
    "    score: 0.5\n"                                                         \
    "routes:\n"                                                                \
    "  default: {}\n"

static void test_lexicon_ok(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "lexicons/en.txt", "# comment\n\ndamn\ncrap\t0.7\n");
    load_file(&l, "policy.yaml", LEX_DET("lexicons/en.txt"));
    int st = load_open(&l);
    if (st != RG_OK)
        rgt_print_diag(l.d);
    assert_int_equal(st, RG_OK);
    rg_engine_info info;
    assert_int_equal(rg_engine_get_info(l.e, &info), RG_OK);
    assert_int_equal(info.pattern_count, 2);
    load_done(&l);
}

static void test_lexicon_dotdot_escape(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    rgt_write(l.base, "secret.txt", "damn\n");
    load_file(&l, "policy.yaml", LEX_DET("../secret.txt"));
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 14, NULL);
    load_done(&l);
}

static void test_lexicon_hidden_dotdot_escape(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    rgt_write(l.base, "secret.txt", "damn\n");
    load_file(&l, "lexicons/en.txt", "damn\n");
    load_file(&l, "policy.yaml", LEX_DET("lexicons/../../secret.txt"));
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 14, NULL);
    load_done(&l);
}

static void test_lexicon_absolute_path(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    rgt_write(l.base, "secret.txt", "damn\n");
    char yaml[8192];
    char abs[4300];
    snprintf(abs, sizeof abs, "%s/lexicons/en.txt", l.dir);
    load_file(&l, "lexicons/en.txt", "damn\n");
    /* absolute, even though it points inside the policy directory */
    snprintf(yaml, sizeof yaml,
             "detectors:\n"
             "  - id: lex\n"
             "    category: toxicity.profanity\n"
             "    lexicon: %s\n"
             "    score: 0.5\n"
             "routes:\n"
             "  default: {}\n",
             abs);
    load_file(&l, "policy.yaml", yaml);
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 14, NULL);
    load_done(&l);
}

static void test_lexicon_symlink_outside(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    rgt_write(l.base, "secret.txt", "damn\n");
    load_file(&l, "lexicons/ok.txt", "damn\n");
    char target[4300], link[4300];
    snprintf(target, sizeof target, "%s/secret.txt", l.base);
    snprintf(link, sizeof link, "%s/lexicons/link.txt", l.dir);
    assert_int_equal(symlink(target, link), 0);
    load_file(&l, "policy.yaml", LEX_DET("lexicons/link.txt"));
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 14, NULL);
    load_done(&l);
}

static void test_lexicon_symlinked_dir_outside(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    rgt_write(l.base, "outside/secret.txt", "damn\n");
    char target[4300], link[4300];
    snprintf(target, sizeof target, "%s/outside", l.base);
    snprintf(link, sizeof link, "%s/lex", l.dir);
    assert_int_equal(symlink(target, link), 0);
    load_file(&l, "policy.yaml", LEX_DET("lex/secret.txt"));
    assert_int_equal(load_open(&l), RG_E_POLICY);
    expect_at(&l, "policy.yaml", 4, 14, NULL);
    load_done(&l);
}

static void test_lexicon_symlink_inside_ok(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "lexicons/real.txt", "damn\n");
    char link[4300];
    snprintf(link, sizeof link, "%s/lexicons/alias.txt", l.dir);
    assert_int_equal(symlink("real.txt", link), 0);
    load_file(&l, "policy.yaml", LEX_DET("lexicons/alias.txt"));
    int st = load_open(&l);
    if (st != RG_OK)
        rgt_print_diag(l.d);
    assert_int_equal(st, RG_OK);
    load_done(&l);
}

static void test_lexicon_missing(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "policy.yaml", LEX_DET("lexicons/nope.txt"));
    int st = load_open(&l);
    assert_true(st == RG_E_POLICY || st == RG_E_IO);
    expect_at(&l, "policy.yaml", 4, 14, NULL);
    load_done(&l);
}

static void test_lexicon_bad_score_line(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "lexicons/en.txt", "damn\ncrap\t1.7\n");
    load_file(&l, "policy.yaml", LEX_DET("lexicons/en.txt"));
    assert_int_equal(load_open(&l), RG_E_POLICY);
    /* the lexicon line; column of the line (1) or of the score (6) */
    expect_at2(&l, "en.txt", 2, 1, 6, NULL);
    load_done(&l);
}

/* ---- patterns ---------------------------------------------------------- */

static void test_regex_compile_error(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: bad.re\n"
                               "    category: secret.token\n"
                               "    regex: 'tok(en'\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_COMPILE);
    expect_at(&l, "policy.yaml", 4, 12, NULL);
    load_done(&l);
}

static void test_pcre_compile_error(void **state)
{
    (void)state;
    load l;
    assert_int_equal(load1(&l, "detectors:\n"
                               "  - id: bad.pcre\n"
                               "    category: secret.token\n"
                               "    pcre: '(?<=a+)b['\n"
                               "    score: 0.5\n"
                               "routes:\n"
                               "  default: {}\n"),
                     RG_E_COMPILE);
    expect_at(&l, "policy.yaml", 4, 11, NULL);
    load_done(&l);
}

static void test_empty_file_in_set(void **state)
{
    (void)state;
    load l;
    load_init(&l);
    load_file(&l, "a.yaml", DET_OK "routes:\n  default: {}\n");
    load_file(&l, "z.yaml", "# nothing here yet\n");
    int st = load_open(&l);
    if (st != RG_OK)
        rgt_print_diag(l.d);
    assert_int_equal(st, RG_OK);
    load_done(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_syntax_tab),
        cmocka_unit_test(test_yaml_syntax_mapping_value),
        cmocka_unit_test(test_yaml_alias_rejected),
        cmocka_unit_test(test_yaml_alias_only_scalar),
        cmocka_unit_test(test_unknown_top_level_key),
        cmocka_unit_test(test_unknown_detector_key),
        cmocka_unit_test(test_unknown_route_key),
        cmocka_unit_test(test_wrong_type_scalar),
        cmocka_unit_test(test_wrong_type_list_expected),
        cmocka_unit_test(test_wrong_type_map_expected),
        cmocka_unit_test(test_bad_enum_value),
        cmocka_unit_test(test_unknown_validator),
        cmocka_unit_test(test_score_out_of_range),
        cmocka_unit_test(test_score_negative),
        cmocka_unit_test(test_threshold_out_of_range),
        cmocka_unit_test(test_missing_required_category),
        cmocka_unit_test(test_missing_required_score),
        cmocka_unit_test(test_missing_pattern_kind),
        cmocka_unit_test(test_two_pattern_kinds),
        cmocka_unit_test(test_bad_detector_id),
        cmocka_unit_test(test_dangling_extends),
        cmocka_unit_test(test_extends_cycle),
        cmocka_unit_test(test_extends_self),
        cmocka_unit_test(test_unknown_category),
        cmocka_unit_test(test_undeclared_subcategory),
        cmocka_unit_test(test_declared_subcategory_ok),
        cmocka_unit_test(test_unknown_rule_category_key),
        cmocka_unit_test(test_unknown_rule_field),
        cmocka_unit_test(test_duplicate_detector_id),
        cmocka_unit_test(test_duplicate_detector_id_across_files),
        cmocka_unit_test(test_duplicate_route_key),
        cmocka_unit_test(test_duplicate_route_across_files),
        cmocka_unit_test(test_version_set_twice),
        cmocka_unit_test(test_yml_extension_loaded),
        cmocka_unit_test(test_subdirectories_not_loaded),
        cmocka_unit_test(test_lexicon_ok),
        cmocka_unit_test(test_lexicon_dotdot_escape),
        cmocka_unit_test(test_lexicon_hidden_dotdot_escape),
        cmocka_unit_test(test_lexicon_absolute_path),
        cmocka_unit_test(test_lexicon_symlink_outside),
        cmocka_unit_test(test_lexicon_symlinked_dir_outside),
        cmocka_unit_test(test_lexicon_symlink_inside_ok),
        cmocka_unit_test(test_lexicon_missing),
        cmocka_unit_test(test_lexicon_bad_score_line),
        cmocka_unit_test(test_regex_compile_error),
        cmocka_unit_test(test_pcre_compile_error),
        cmocka_unit_test(test_empty_file_in_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
