/* test_watch.c — the policy watcher (rg_watch_start / rg_watch_stop).
 *
 * Edits a policy file in a temporary directory and waits (up to 20 s, for
 * a loaded CI machine) for the callback: a good edit is swapped in, a
 * broken one is reported with file:line and the old snapshot keeps
 * serving, a burst of writes gives one reload, a lexicon below the root
 * counts, hidden files do not, and a bundle replaced by rename is seen. */
#include "testutil.h"
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
    int last_status;
    uint64_t last_generation;
    char last_error[512];
} events;

static void on_reload(void *user, int status, const rg_diag *diag,
                      uint64_t generation)
{
    events *ev = user;
    pthread_mutex_lock(&ev->mu);
    ev->count++;
    ev->last_status = status;
    ev->last_generation = generation;
    ev->last_error[0] = '\0';
    for (size_t i = 0; diag && i < diag->count; i++)
        if (diag->entries[i].severity == RG_SEV_ERROR) {
            snprintf(ev->last_error, sizeof ev->last_error, "%s:%u: %s",
                     diag->entries[i].file ? diag->entries[i].file : "",
                     diag->entries[i].line, diag->entries[i].message);
            break;
        }
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
}

/* Wait until at least `n` callbacks happened (20 s at most). */
static int wait_for(events *ev, int n)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;
    pthread_mutex_lock(&ev->mu);
    while (ev->count < n)
        if (pthread_cond_timedwait(&ev->cv, &ev->mu, &dl) != 0)
            break;
    int c = ev->count;
    pthread_mutex_unlock(&ev->mu);
    return c;
}

static int count_of(events *ev)
{
    pthread_mutex_lock(&ev->mu);
    int c = ev->count;
    pthread_mutex_unlock(&ev->mu);
    return c;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *policy(const char *version, const char *word)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "version: \"%s\"\n"
             "detectors:\n"
             "  - id: w\n"
             "    category: toxicity.profanity\n"
             "    words: [%s]\n"
             "    score: 0.9\n"
             "  - id: lex\n"
             "    category: toxicity.insult\n"
             "    lexicon: lexicons/insults.txt\n"
             "    score: 0.9\n"
             "routes:\n"
             "  default:\n"
             "    categories:\n"
             "      toxicity: { block: 0.5 }\n",
             version, word);
    return buf;
}

typedef struct fixture {
    char *dir;
    rg_engine *e;
    rg_scratch *s;
    rg_result *r;
    rg_watch *w;
    events ev;
} fixture;

static rg_verdict verdict(fixture *f, const char *text)
{
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = text;
    q.reply_len = strlen(text);
    assert_int_equal(rg_check(f->e, f->s, &q, f->r), RG_OK);
    return rg_result_verdict(f->r);
}

static void setup_dir(fixture *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->ev.mu, NULL);
    pthread_cond_init(&f->ev.cv, NULL);
    f->dir = rgt_tmpdir();
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/lexicons", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    rgt_write(sub, "insults.txt", "nitwit\n");
    rgt_write(f->dir, "policy.yaml", policy("1", "darn"));
}

static void start(fixture *f, const char *path, unsigned debounce_ms)
{
    rg_diag *d = NULL;
    int st = rg_engine_open(&f->e, path, NULL, &d);
    if (st != RG_OK)
        rgt_print_diag(d);
    rg_diag_free(d);
    assert_int_equal(st, RG_OK);
    assert_int_equal(rg_scratch_alloc(f->e, &f->s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &f->r), RG_OK);
    rg_watch_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.debounce_ms = debounce_ms;
    o.callback = on_reload;
    o.user = &f->ev;
    assert_int_equal(rg_watch_start(f->e, &o, &f->w), RG_OK);
}

static void finish(fixture *f)
{
    rg_watch_stop(f->w);
    rg_result_free(f->r);
    rg_scratch_free(f->s);
    rg_engine_close(f->e);
    rgt_rmtree(f->dir);
    free(f->dir);
    pthread_cond_destroy(&f->ev.cv);
    pthread_mutex_destroy(&f->ev.mu);
}

static void test_edit_reloads_and_broken_edit_keeps_old(void **state)
{
    (void)state;
    fixture f;
    setup_dir(&f);
    start(&f, f.dir, 60);
    assert_int_equal(verdict(&f, "darn"), RG_BLOCK);
    assert_int_equal(verdict(&f, "heck"), RG_ALLOW);

    rgt_write(f.dir, "policy.yaml", policy("2", "heck"));
    assert_true(wait_for(&f.ev, 1) >= 1);
    assert_int_equal(f.ev.last_status, RG_OK);
    assert_int_equal(f.ev.last_generation, 2);
    assert_int_equal(verdict(&f, "heck"), RG_BLOCK);
    assert_int_equal(verdict(&f, "darn"), RG_ALLOW);
    RGT_STR(rg_result_policy_version(f.r), "2");

    /* A broken edit: reported with its location, old snapshot serves. */
    int before = count_of(&f.ev);
    rgt_write(f.dir, "policy.yaml", "version: \"3\"\ndetectors: [\n");
    assert_true(wait_for(&f.ev, before + 1) >= before + 1);
    assert_int_equal(f.ev.last_status, RG_E_POLICY);
    assert_int_equal(f.ev.last_generation, 2);
    assert_non_null(strstr(f.ev.last_error, "policy.yaml:"));
    assert_int_equal(verdict(&f, "heck"), RG_BLOCK);
    RGT_STR(rg_result_policy_version(f.r), "2");

    /* Fixed again: the next change reloads. */
    before = count_of(&f.ev);
    rgt_write(f.dir, "policy.yaml", policy("4", "drat"));
    assert_true(wait_for(&f.ev, before + 1) >= before + 1);
    assert_int_equal(f.ev.last_status, RG_OK);
    assert_int_equal(f.ev.last_generation, 3);
    assert_int_equal(verdict(&f, "drat"), RG_BLOCK);
    finish(&f);
}

static void test_burst_is_one_reload_and_lexicons_count(void **state)
{
    (void)state;
    fixture f;
    setup_dir(&f);
    /* A long debounce, so that the burst fits in it however busy the
     * machine is. */
    start(&f, f.dir, 1000);
    /* Five writes in well under the debounce time: one reload. */
    for (int i = 0; i < 5; i++)
        rgt_write(f.dir, "policy.yaml", policy(i % 2 ? "b" : "a", "darn"));
    assert_int_equal(wait_for(&f.ev, 1), 1);
    sleep_ms(1500); /* past the debounce again: nothing more comes */
    assert_int_equal(count_of(&f.ev), 1);
    verdict(&f, "x");
    RGT_STR(rg_result_policy_version(f.r), "a");

    /* A lexicon below the root is part of the policy. */
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/lexicons", f.dir);
    assert_int_equal(verdict(&f, "dimwit"), RG_ALLOW);
    rgt_write(sub, "insults.txt", "nitwit\ndimwit\n");
    assert_true(wait_for(&f.ev, 2) >= 2);
    assert_int_equal(f.ev.last_status, RG_OK);
    assert_int_equal(verdict(&f, "dimwit"), RG_BLOCK);

    /* Hidden files (editor swap files) do not count. */
    int before = count_of(&f.ev);
    rgt_write(f.dir, ".policy.yaml.swp", "junk");
    sleep_ms(1500);
    assert_int_equal(count_of(&f.ev), before);
    finish(&f);
}

static void test_bundle_replaced_by_rename(void **state)
{
    (void)state;
    fixture f;
    setup_dir(&f);
    char src[4200], bundle[4200];
    snprintf(src, sizeof src, "%s/src", f.dir);
    assert_int_equal(mkdir(src, 0700), 0);
    char lex[4300];
    snprintf(lex, sizeof lex, "%s/lexicons", src);
    assert_int_equal(mkdir(lex, 0700), 0);
    rgt_write(lex, "insults.txt", "nitwit\n");
    rgt_write(src, "policy.yaml", policy("b1", "darn"));
    snprintf(bundle, sizeof bundle, "%s/policy.rgb", f.dir);
    assert_int_equal(rg_bundle_write(src, bundle, NULL, 0, NULL), RG_OK);
    start(&f, bundle, 60);
    assert_int_equal(verdict(&f, "heck"), RG_ALLOW);
    rgt_write(src, "policy.yaml", policy("b2", "heck"));
    /* rg_bundle_write replaces the file by rename, as a deploy would. */
    assert_int_equal(rg_bundle_write(src, bundle, NULL, 0, NULL), RG_OK);
    assert_true(wait_for(&f.ev, 1) >= 1);
    assert_int_equal(f.ev.last_status, RG_OK);
    assert_int_equal(verdict(&f, "heck"), RG_BLOCK);
    RGT_STR(rg_result_policy_version(f.r), "b2");
    finish(&f);
}

static void test_watch_args(void **state)
{
    (void)state;
    rg_watch *w = (rg_watch *)&w;
    assert_int_equal(rg_watch_start(NULL, NULL, &w), RG_E_INVAL);
    assert_null(w);
    rg_watch_stop(NULL);
    rgt_ctx c;
    rgt_open(&c, "policies/basic");
    assert_int_equal(rg_watch_start(c.e, NULL, NULL), RG_E_INVAL);
    rg_watch_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = 1;
    assert_int_equal(rg_watch_start(c.e, &o, &w), RG_E_INVAL);
    /* Defaults, no callback: starts and stops cleanly. */
    assert_int_equal(rg_watch_start(c.e, NULL, &w), RG_OK);
    rg_watch_stop(w);
    rgt_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_reloads_and_broken_edit_keeps_old),
        cmocka_unit_test(test_burst_is_one_reload_and_lexicons_count),
        cmocka_unit_test(test_bundle_replaced_by_rename),
        cmocka_unit_test(test_watch_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
