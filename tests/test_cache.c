/* test_cache.c — the compiled cache and compiled bundles.
 *
 * Cache: a miss compiles and writes one file; the next open is a hit
 * with identical answers; a corrupt, truncated or foreign file is a miss
 * that is rebuilt, never an error; an unwritable directory just means no
 * cache; RG_ENGINE_NO_CACHE and $RG_CACHE_DIR do what they say.
 * Bundles: every fixture policy set and the shipped one answer exactly
 * the same from a bundle as compiled (the guard against a snapshot field
 * that bundle.c does not carry); bad bundles are refused with
 * RG_E_BUNDLE and a reason, and a reload from one keeps the old snapshot.
 */
#include "testutil.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static rg_engine *open_with(const char *path, const char *cache_dir,
                            unsigned flags, int *status)
{
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.cache_dir = cache_dir;
    o.flags = flags;
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    *status = rg_engine_open(&e, path, &o, &d);
    if (*status != RG_OK && *status != RG_E_BUNDLE)
        rgt_print_diag(d);
    rg_diag_free(d);
    return e;
}

static rg_load_info load_info(rg_engine *e)
{
    rg_load_info li;
    memset(&li, 0, sizeof li);
    li.struct_size = sizeof li;
    assert_int_equal(rg_engine_load_info(e, &li), RG_OK);
    return li;
}

/* The one *.rgc file in dir (static buffer), or NULL; counts them. */
static const char *cache_file(const char *dir, size_t *count)
{
    static char path[4096];
    const char *found = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".rgc")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            found = path;
            (*count)++;
        }
    }
    closedir(d);
    return found;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- comparing engines ------------------------------------------------- */

static const char *const corpus[] = {
    "",
    "Hello! Your order has shipped and should arrive on Friday.",
    "damn", "darn", "this is crap", "what the hell", "shit happens",
    "you idiot", "you nitwit", "I will find you.", "kill yourself",
    "Your card 4111 1111 1111 1111 is on file.",
    "card 1234 5678 9012 3456 and 1234567890123456",
    "SSN 123-45-6789, ssn: 123456789", "Call 415-555-0132 or +44 20 7946 0958.",
    "write to help@example.com", "DOB: 03/14/1985, MRN: 00123456",
    "key AKIAABCDEFGHIJKLMNOP and ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "password: hunter2hunter2", "f u c k this", "sh1t", "F*CK", "fuuuuck",
    "Ｆｕｃｋ you", "pussy willow and maine coon", "Scunthorpe class assassin",
    "go die hard", "\xff\xfe invalid \xc3\x28 utf8", "caf\xc3\xa9 na\xc3\xafve",
    "please transfer me to a human agent now", "this is useless, I am so frustrated",
    "A reply of plain words with nothing in it at all, repeated. "
    "A reply of plain words with nothing in it at all, repeated.",
};

static void same_result(const rg_result *a, const rg_result *b, const char *what)
{
    if (rg_result_verdict(a) != rg_result_verdict(b) ||
        rg_result_flags(a) != rg_result_flags(b) ||
        rg_result_shadow_verdict(a) != rg_result_shadow_verdict(b)) {
        print_error("%s: verdict/flags differ\n", what);
        rgt_dump(a);
        rgt_dump(b);
        fail();
    }
    assert_string_equal(rg_result_policy_hash(a), rg_result_policy_hash(b));
    assert_string_equal(rg_result_policy_version(a), rg_result_policy_version(b));
    assert_string_equal(rg_result_route(a), rg_result_route(b));
    assert_int_equal(rg_result_hit_count(a), rg_result_hit_count(b));
    for (size_t i = 0; i < rg_result_hit_count(a); i++) {
        const rg_hit *x = rg_result_hit(a, i), *y = rg_result_hit(b, i);
        assert_string_equal(x->detector, y->detector);
        assert_string_equal(x->category, y->category);
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_true(x->score == y->score);
        assert_int_equal(x->shadow, y->shadow);
    }
    assert_int_equal(rg_result_category_count(a), rg_result_category_count(b));
    for (size_t i = 0; i < rg_result_category_count(a); i++) {
        const rg_category_score *x = rg_result_category(a, i),
                                *y = rg_result_category(b, i);
        assert_string_equal(x->category, y->category);
        assert_true(x->score == y->score);
        assert_true(x->shadow_score == y->shadow_score);
        assert_int_equal(x->verdict, y->verdict);
        assert_int_equal(x->redact, y->redact);
    }
    assert_int_equal(rg_result_reason_count(a), rg_result_reason_count(b));
    for (size_t i = 0; i < rg_result_reason_count(a); i++) {
        const rg_reason *x = rg_result_reason(a, i), *y = rg_result_reason(b, i);
        assert_string_equal(x->category, y->category);
        assert_string_equal(x->rule, y->rule);
        assert_string_equal(x->route, y->route);
        assert_string_equal(x->action, y->action);
        assert_true(x->score == y->score);
        assert_true(x->threshold == y->threshold);
        assert_int_equal(x->shadow, y->shadow);
    }
    size_t la = 0, lb = 0;
    const char *ra = rg_result_redacted(a, &la), *rb = rg_result_redacted(b, &lb);
    assert_int_equal(ra == NULL, rb == NULL);
    if (ra) {
        assert_int_equal(la, lb);
        assert_memory_equal(ra, rb, la);
    }
}

/* Phrases harvested from a fixture's policy files — flow lists [a, b],
 * block list items, lexicon lines — so that every detector, allow entry
 * and context word of the fixture fires in some reply, alone and next to
 * each other phrase (context words before and after a hit). A crude
 * scan, but a missing phrase only weakens the test, never breaks it. */
#define MAX_PHRASES 160
static char phrases[MAX_PHRASES][96];
static size_t nphrases;

static void add_phrase(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '"' || *p == '\''))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '"' || p[n - 1] == '\'' ||
                 p[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof phrases[0] || nphrases == MAX_PHRASES || memchr(p, ':', n))
        return;
    memcpy(phrases[nphrases], p, n);
    phrases[nphrases][n] = '\0';
    nphrases++;
}

static void harvest_file(const char *path, int lexicon)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *hash = strstr(line, " #");
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\n")] = '\0';
        if (lexicon) {
            if (line[0] != '#')
                add_phrase(line, strcspn(line, "\t"));
            continue;
        }
        char *lb = strchr(line, '['), *rb = lb ? strchr(lb, ']') : NULL;
        if (lb && rb && !strstr(line, "regex") && !strstr(line, "pcre")) {
            for (char *q = lb + 1; q < rb;) {
                size_t n = strcspn(q, ",]");
                add_phrase(q, n);
                q += n + 1;
            }
            continue;
        }
        char *t = line + strspn(line, " ");
        if (t[0] == '-' && t[1] == ' ' && !strchr(t, ':'))
            add_phrase(t + 2, strlen(t + 2));
    }
    fclose(f);
}

static void harvest(const char *dir)
{
    nphrases = 0;
    char path[4200];
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && !strcmp(e->d_name + n - 5, ".yaml")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            harvest_file(path, 0);
        }
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/lexicons", dir);
    if ((d = opendir(path)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            char lp[4400];
            if (e->d_name[0] == '.')
                continue;
            snprintf(lp, sizeof lp, "%.4100s/%.255s", path, e->d_name);
            harvest_file(lp, 1);
        }
        closedir(d);
    }
}

static size_t compared, skipped_timeouts;

static void compare_one(rg_engine *ea, rg_engine *eb, rg_scratch *sa, rg_scratch *sb,
                        rg_result *ra, rg_result *rb, const char *route,
                        const char *text, const char *what)
{
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    q.reply = text;
    q.reply_len = strlen(text);
    q.user_message = "I want to talk to a manager, this is ridiculous";
    q.user_message_len = strlen(q.user_message);
    int sta = 0, stb = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        sta = rg_check(ea, sa, &q, ra);
        stb = rg_check(eb, sb, &q, rb);
        if (!((rg_result_flags(ra) | rg_result_flags(rb)) & RG_FLAG_BUDGET_EXCEEDED))
            break;
    }
    if ((rg_result_flags(ra) | rg_result_flags(rb)) & RG_FLAG_BUDGET_EXCEEDED) {
        skipped_timeouts++; /* timing, not policy (fixtures with tiny budgets) */
        return;
    }
    compared++;
    assert_int_equal(sta, stb);
    char label[512];
    snprintf(label, sizeof label, "%s route %s reply \"%.80s\"", what, route, text);
    same_result(ra, rb, label);
}

/* Every route x every corpus reply (and harvested phrase), on both
 * engines. Budget overruns on a busy machine are timing, not policy: such
 * a pair is retried. */
static void same_engines(rg_engine *ea, rg_engine *eb, const char *what)
{
    rg_engine_info ia, ib;
    assert_int_equal(rg_engine_get_info(ea, &ia), RG_OK);
    assert_int_equal(rg_engine_get_info(eb, &ib), RG_OK);
    assert_string_equal(ia.policy_hash, ib.policy_hash);
    assert_int_equal(ia.route_count, ib.route_count);
    assert_int_equal(ia.detector_count, ib.detector_count);
    assert_int_equal(ia.pattern_count, ib.pattern_count);
    rg_scratch *sa, *sb;
    rg_result *ra, *rb;
    assert_int_equal(rg_scratch_alloc(ea, &sa), RG_OK);
    assert_int_equal(rg_scratch_alloc(eb, &sb), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &ra), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &rb), RG_OK);
    char route[256];
    char text[256];
    for (size_t r = 0; rg_engine_route_name(ea, r, route, sizeof route) == RG_OK; r++) {
        for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++)
            compare_one(ea, eb, sa, sb, ra, rb, route, corpus[i], what);
        for (size_t i = 0; i < nphrases; i++) {
            compare_one(ea, eb, sa, sb, ra, rb, route, phrases[i], what);
            for (size_t j = 0; j < nphrases && j < 40; j++) {
                snprintf(text, sizeof text, "%.100s, %.100s.", phrases[i], phrases[j]);
                compare_one(ea, eb, sa, sb, ra, rb, route, text, what);
            }
        }
    }
    rg_result_free(ra);
    rg_result_free(rb);
    rg_scratch_free(sa);
    rg_scratch_free(sb);
}

/* ---- cache ------------------------------------------------------------- */

static void test_cache_miss_then_hit(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    char cdir[4200];
    snprintf(cdir, sizeof cdir, "%s/cache", dir); /* created on first write */
    int st;
    const char *pol = rgt_path("policies/golden");
    rg_engine *a = open_with(pol, cdir, 0, &st);
    assert_int_equal(st, RG_OK);
    rg_load_info la = load_info(a);
    assert_int_equal(la.source, RG_LOAD_COMPILED);
    assert_int_equal(la.cache_written, 1);
    size_t n;
    assert_non_null(cache_file(cdir, &n));
    assert_int_equal(n, 1);
    rg_engine *b = open_with(pol, cdir, 0, &st);
    assert_int_equal(st, RG_OK);
    rg_load_info lb = load_info(b);
    assert_int_equal(lb.source, RG_LOAD_CACHE);
    assert_int_equal(lb.cache_written, 0);
    same_engines(a, b, "cache hit");
    /* A reload finds the cache too. */
    assert_int_equal(rg_engine_reload(b, NULL, NULL), RG_OK);
    assert_int_equal(load_info(b).source, RG_LOAD_CACHE);
    rg_engine_close(a);
    rg_engine_close(b);
    rgt_rmtree(dir);
    free(dir);
}

/* Damage the cache file with `how`, then: open is still RG_OK, it is a
 * miss, the file is rewritten, and the next open hits. */
static void damaged(const char *how)
{
    char *dir = rgt_tmpdir();
    int st;
    const char *pol = rgt_path("policies/shadow");
    rg_engine *a = open_with(pol, dir, 0, &st);
    assert_int_equal(st, RG_OK);
    size_t n;
    char file[4096];
    snprintf(file, sizeof file, "%s", cache_file(dir, &n));
    long size = file_size(file);
    assert_true(size > 100);
    if (!strcmp(how, "truncate")) {
        assert_int_equal(truncate(file, size / 2), 0);
    } else if (!strcmp(how, "corrupt")) {
        FILE *f = fopen(file, "r+b");
        assert_non_null(f);
        fseek(f, size - 20, SEEK_SET);
        fputc(0x5a ^ fgetc(f), f);
        fclose(f);
    } else if (!strcmp(how, "foreign")) {
        /* Another policy's valid cache file under this one's name. */
        char other[4200];
        snprintf(other, sizeof other, "%s/other", dir);
        mkdir(other, 0700);
        rg_engine *o = open_with(rgt_path("policies/golden"), other, 0, &st);
        assert_int_equal(st, RG_OK);
        rg_engine_close(o);
        assert_int_equal(rename(cache_file(other, &n), file), 0);
    } else if (!strcmp(how, "garbage")) {
        FILE *f = fopen(file, "wb");
        fputs("not a cache file at all", f);
        fclose(f);
    } else if (!strcmp(how, "empty")) {
        assert_int_equal(truncate(file, 0), 0);
    }
    rg_engine *b = open_with(pol, dir, 0, &st);
    assert_int_equal(st, RG_OK);
    rg_load_info lb = load_info(b);
    assert_int_equal(lb.source, RG_LOAD_COMPILED);
    assert_int_equal(lb.cache_written, 1);
    same_engines(a, b, how);
    rg_engine *c = open_with(pol, dir, 0, &st);
    assert_int_equal(st, RG_OK);
    assert_int_equal(load_info(c).source, RG_LOAD_CACHE);
    rg_engine_close(a);
    rg_engine_close(b);
    rg_engine_close(c);
    rgt_rmtree(dir);
    free(dir);
}

static void test_cache_truncated_is_a_miss(void **s) { (void)s; damaged("truncate"); }
static void test_cache_corrupt_is_a_miss(void **s) { (void)s; damaged("corrupt"); }
static void test_cache_foreign_is_a_miss(void **s) { (void)s; damaged("foreign"); }
static void test_cache_garbage_is_a_miss(void **s) { (void)s; damaged("garbage"); }
static void test_cache_empty_is_a_miss(void **s) { (void)s; damaged("empty"); }

static void test_cache_unwritable_is_no_error(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    rgt_write(dir, "file", "x");
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/file/sub", dir); /* below a regular file */
    int st;
    rg_engine *e = open_with(rgt_path("policies/basic"), bad, 0, &st);
    assert_int_equal(st, RG_OK);
    rg_load_info li = load_info(e);
    assert_int_equal(li.source, RG_LOAD_COMPILED);
    assert_int_equal(li.cache_written, 0);
    rg_engine_close(e);
    rgt_rmtree(dir);
    free(dir);
}

static void test_cache_env_and_no_cache_flag(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    setenv("RG_CACHE_DIR", dir, 1);
    size_t n;
    int st;
    rg_engine *e = open_with(rgt_path("policies/basic"), NULL, RG_ENGINE_NO_CACHE, &st);
    assert_int_equal(st, RG_OK);
    assert_int_equal(load_info(e).cache_written, 0);
    rg_engine_close(e);
    assert_null(cache_file(dir, &n));
    /* Lint never uses the cache either. */
    e = open_with(rgt_path("policies/basic"), NULL, RG_ENGINE_LINT, &st);
    assert_int_equal(st, RG_OK);
    rg_engine_close(e);
    assert_null(cache_file(dir, &n));
    /* NULL options: $RG_CACHE_DIR. */
    rg_engine *f = NULL;
    assert_int_equal(rg_engine_open(&f, rgt_path("policies/basic"), NULL, NULL), RG_OK);
    assert_int_equal(load_info(f).cache_written, 1);
    rg_engine_close(f);
    assert_non_null(cache_file(dir, &n));
    unsetenv("RG_CACHE_DIR");
    /* An options struct from before cache_dir existed: it is not read. */
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = offsetof(rg_engine_options, cache_dir);
    o.cache_dir = "/nonexistent/never/used";
    assert_int_equal(rg_engine_open(&f, rgt_path("policies/basic"), &o, NULL), RG_OK);
    assert_int_equal(load_info(f).source, RG_LOAD_COMPILED);
    assert_int_equal(load_info(f).cache_written, 0);
    rg_engine_close(f);
    rgt_rmtree(dir);
    free(dir);
}

static void test_load_info_args(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    rg_load_info li;
    memset(&li, 0, sizeof li);
    assert_int_equal(rg_engine_load_info(c.e, &li), RG_E_INVAL); /* size 0 */
    li.struct_size = sizeof li;
    assert_int_equal(rg_engine_load_info(NULL, &li), RG_E_INVAL);
    assert_int_equal(rg_engine_load_info(c.e, NULL), RG_E_INVAL);
    assert_int_equal(rg_engine_load_info(c.e, &li), RG_OK);
    assert_true(li.load_ns > 0);
    rgt_close(&c);
}

/* ---- bundles ----------------------------------------------------------- */

/* Every fixture that loads, and the shipped set: bundle ≡ compiled. */
static void test_bundle_equivalence(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    const char *fixtures[64];
    size_t nf = 0;
    static char names[64][512];
    DIR *d = opendir(rgt_path("policies"));
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nf < 63) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(names[nf], sizeof names[nf], "policies/%s", e->d_name);
        fixtures[nf] = names[nf];
        nf++;
    }
    closedir(d);
    size_t tested = 0;
    for (size_t i = 0; i <= nf; i++) {
        char src[4096];
        snprintf(src, sizeof src, "%s",
                 i < nf ? rgt_path(fixtures[i]) : rgt_path("../policies"));
        rg_engine *a = NULL, *b = NULL;
        if (rg_engine_open(&a, src, NULL, NULL) != RG_OK)
            continue; /* broken on purpose */
        char out[4200];
        snprintf(out, sizeof out, "%s/b%zu.rgb", dir, i);
        /* The bundle must be of the same files as `a`: should they change
         * in between (someone editing the tree), build both again. */
        for (int attempt = 0;; attempt++) {
            rg_diag *dg = NULL;
            int st = rg_bundle_write(src, out, NULL, i % 2 ? RG_BUNDLE_GENERIC : 0, &dg);
            if (st != RG_OK)
                rgt_print_diag(dg);
            rg_diag_free(dg);
            assert_int_equal(st, RG_OK);
            b = open_with(out, NULL, 0, &st);
            assert_int_equal(st, RG_OK);
            rg_engine_info ia, ib;
            rg_engine_get_info(a, &ia);
            rg_engine_get_info(b, &ib);
            if (strcmp(ia.policy_hash, ib.policy_hash) == 0 || attempt == 2)
                break;
            rg_engine_close(a);
            rg_engine_close(b);
            assert_int_equal(rg_engine_open(&a, src, NULL, NULL), RG_OK);
        }
        assert_int_equal(load_info(b).source, RG_LOAD_BUNDLE);
        if (i < nf)
            harvest(src); /* the shipped set is too large: corpus only */
        else
            nphrases = 0;
        same_engines(a, b, src);
        rg_engine_close(a);
        rg_engine_close(b);
        tested++;
    }
    assert_true(tested >= 10);
    /* Only fixtures built to time out may skip: most pairs compare. */
    if (skipped_timeouts * 4 > compared)
        fail_msg("%zu comparisons skipped for timeouts, %zu made", skipped_timeouts,
                 compared);
    rgt_rmtree(dir);
    free(dir);
}

static void expect_bundle_error(const char *path, const char *needle)
{
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_open(&e, path, NULL, &d), RG_E_BUNDLE);
    assert_null(e);
    assert_non_null(d);
    const rg_diag_entry *x = rgt_first_error(d);
    assert_non_null(x);
    if (!strstr(x->message, needle)) {
        print_error("message '%s' lacks '%s'\n", x->message, needle);
        fail();
    }
    assert_string_equal(x->file, path);
    rg_diag_free(d);
}

static void test_bad_bundles_refused(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    char good[4200], bad[4200];
    snprintf(good, sizeof good, "%s/good.rgb", dir);
    snprintf(bad, sizeof bad, "%s/bad.rgb", dir);
    assert_int_equal(rg_bundle_write(rgt_path("policies/shadow"), good, NULL, 0, NULL),
                     RG_OK);
    FILE *f = fopen(good, "rb");
    assert_non_null(f);
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 200);
    /* Truncated payload. */
    f = fopen(bad, "wb");
    fwrite(buf, 1, n - 10, f);
    fclose(f);
    expect_bundle_error(bad, "truncated");
    /* Truncated header. */
    f = fopen(bad, "wb");
    fwrite(buf, 1, 20, f);
    fclose(f);
    expect_bundle_error(bad, "truncated");
    /* A flipped payload byte. */
    buf[n - 5] ^= 0x40;
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_bundle_error(bad, "checksum");
    buf[n - 5] ^= 0x40;
    /* Header: magic 8, format 4, layout 32, then the replyguard version
     * and the Hyperscan version, each a u32 length and the bytes. */
    size_t at = 8 + 4 + 32;
    uint32_t vlen = (uint32_t)(unsigned char)buf[at] | (uint32_t)(unsigned char)buf[at + 1] << 8;
    size_t rgv = at + 4, hsv = at + 4 + vlen + 4;
    assert_memory_equal(buf + rgv, RG_VERSION_STRING, vlen);
    /* Another Hyperscan version. */
    buf[hsv] = buf[hsv] == '9' ? '8' : '9';
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_bundle_error(bad, "Hyperscan");
    buf[hsv] = buf[hsv] == '9' ? '8' : '9';
    /* Another replyguard build. */
    buf[rgv] = buf[rgv] == '9' ? '8' : '9';
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_bundle_error(bad, "different build");
    buf[rgv] = buf[rgv] == '9' ? '8' : '9';
    /* Another format. */
    buf[8] = 99;
    f = fopen(bad, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_bundle_error(bad, "format");

    /* A reload from a bad bundle keeps the old snapshot. */
    int st;
    rg_engine *e = open_with(good, NULL, 0, &st);
    assert_int_equal(st, RG_OK);
    rg_engine_info before, after;
    rg_engine_get_info(e, &before);
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_reload(e, bad, &d), RG_E_BUNDLE);
    assert_non_null(d);
    rg_diag_free(d);
    rg_engine_get_info(e, &after);
    assert_int_equal(after.generation, before.generation);
    assert_string_equal(after.policy_hash, before.policy_hash);
    assert_int_equal(load_info(e).source, RG_LOAD_BUNDLE);
    /* And from a good one (reload with NULL re-reads the bundle). */
    assert_int_equal(rg_engine_reload(e, NULL, NULL), RG_OK);
    rg_engine_get_info(e, &after);
    assert_int_equal(after.generation, before.generation + 1);
    rg_engine_close(e);
    rgt_rmtree(dir);
    free(dir);
}

static void test_bundle_write_errors(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    char out[4200], out2[4200];
    snprintf(out, sizeof out, "%s/x.rgb", dir);
    snprintf(out2, sizeof out2, "%s/y.rgb", dir);
    rg_diag *d = NULL;
    assert_int_equal(rg_bundle_write(NULL, out, NULL, 0, NULL), RG_E_INVAL);
    assert_int_equal(rg_bundle_write(rgt_path("policies/basic"), NULL, NULL, 0, NULL),
                     RG_E_INVAL);
    assert_int_equal(rg_bundle_write(rgt_path("policies/basic"), out, NULL, 0x80, NULL),
                     RG_E_INVAL);
    /* A broken policy: its diagnostics, no file. */
    assert_int_equal(rg_bundle_write(rgt_path("policies/broken"), out, NULL, 0, &d),
                     RG_E_POLICY);
    assert_non_null(d);
    rg_diag_free(d);
    assert_int_equal(access(out, F_OK), -1);
    /* An unwritable destination. */
    char nowhere[4200];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/x.rgb", dir);
    d = NULL;
    assert_int_equal(rg_bundle_write(rgt_path("policies/basic"), nowhere, NULL, 0, &d),
                     RG_E_IO);
    assert_non_null(rgt_first_error(d));
    rg_diag_free(d);
    /* A bundle is not a policy directory. */
    assert_int_equal(rg_bundle_write(rgt_path("policies/basic"), out, NULL, 0, NULL),
                     RG_OK);
    d = NULL;
    assert_int_equal(rg_bundle_write(out, out2, NULL, 0, &d), RG_E_INVAL);
    rg_diag_free(d);
    /* No temporary files left behind. */
    DIR *dh = opendir(dir);
    struct dirent *e;
    while ((e = readdir(dh)) != NULL)
        assert_true(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                    strcmp(e->d_name, "x.rgb") == 0);
    closedir(dh);
    rgt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_miss_then_hit),
        cmocka_unit_test(test_cache_truncated_is_a_miss),
        cmocka_unit_test(test_cache_corrupt_is_a_miss),
        cmocka_unit_test(test_cache_foreign_is_a_miss),
        cmocka_unit_test(test_cache_garbage_is_a_miss),
        cmocka_unit_test(test_cache_empty_is_a_miss),
        cmocka_unit_test(test_cache_unwritable_is_no_error),
        cmocka_unit_test(test_cache_env_and_no_cache_flag),
        cmocka_unit_test(test_load_info_args),
        cmocka_unit_test(test_bundle_equivalence),
        cmocka_unit_test(test_bad_bundles_refused),
        cmocka_unit_test(test_bundle_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
