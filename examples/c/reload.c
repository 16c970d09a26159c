/* reload.c — hot reload while serving.
 *
 * Two "server" threads check the same reply in a loop while the main
 * thread deploys new policy versions and calls rg_engine_reload:
 *   v1  "darn" is not a rule          -> allow
 *   v2  "darn" is profanity, blocked  -> block
 *   v3  a broken file                 -> the reload fails with
 *       file:line:column and v2 stays in force
 * No check stops or takes a lock; each result is decided wholly by one
 * snapshot, named by rg_result_policy_version().
 *
 * Usage: reload [WORK_DIR]   (default: a new directory under /tmp)
 * Exits 0 when every check agreed with the version that decided it.
 */
#include <replyguard.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *policy_v1 =
    "version: \"v1\"\n"
    "detectors:\n"
    "  - id: insults\n"
    "    category: toxicity.insult\n"
    "    words: [idiot]\n"
    "    score: 0.9\n"
    "routes:\n"
    "  default:\n"
    "    categories:\n"
    "      toxicity: { block: 0.8 }\n";

static const char *policy_v2 =
    "version: \"v2\"\n"
    "detectors:\n"
    "  - id: insults\n"
    "    category: toxicity.insult\n"
    "    words: [idiot]\n"
    "    score: 0.9\n"
    "  - id: mild\n"
    "    category: toxicity.profanity\n"
    "    words: [darn]\n"
    "    score: 0.9\n"
    "routes:\n"
    "  default:\n"
    "    categories:\n"
    "      toxicity: { block: 0.8 }\n";

static const char *policy_v3_broken =
    "version: \"v3\"\n"
    "detectors:\n"
    "  - id: insults\n"
    "    category: toxicity.insult\n"
    "    words: [idiot]\n"
    "    score: high\n"          /* line 6: not a number */
    "routes:\n"
    "  default: {}\n";

typedef struct server {
    rg_engine *engine;
    atomic_int *stop;
    atomic_long checks, v1, v2, failsafe, wrong; /* read by main while serving */
    int failed;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    rg_scratch *scratch = NULL;
    rg_result *result = NULL;
    if (rg_scratch_alloc(s->engine, &scratch) != RG_OK ||
        rg_result_alloc(NULL, &result) != RG_OK) {
        s->failed = 1;
        rg_scratch_free(scratch);
        return NULL;
    }
    const char *reply = "Oh darn, that order is late.";
    rg_request req = {.reply = reply, .reply_len = strlen(reply)};
    while (!atomic_load(s->stop)) {
        if (rg_check(s->engine, scratch, &req, result) != RG_OK)
            s->failed = 1;
        const char *version = rg_result_policy_version(result);
        rg_verdict v = rg_result_verdict(result);
        atomic_fetch_add(&s->checks, 1);
        if (rg_result_flags(result) & RG_FLAG_FAILSAFE)
            /* Descheduled past the route's budget (the reload compiles on
             * the same cores): the route's on_timeout verdict, flagged. */
            atomic_fetch_add(&s->failsafe, 1);
        else if (strcmp(version, "v1") == 0)
            atomic_fetch_add(&s->v1, 1), atomic_fetch_add(&s->wrong, v != RG_ALLOW);
        else if (strcmp(version, "v2") == 0)
            atomic_fetch_add(&s->v2, 1), atomic_fetch_add(&s->wrong, v != RG_BLOCK);
        else
            atomic_fetch_add(&s->wrong, 1);
    }
    rg_result_free(result);
    rg_scratch_free(scratch);
    return NULL;
}

/* Deploy a policy file the way a config push would: write, then rename. */
static int deploy(const char *dir, const char *text)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/.policy.yaml.new", dir);
    snprintf(dst, sizeof dst, "%s/policy.yaml", dir);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        return -1;
    return rename(tmp, dst);
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Serve until every server has made `n` more checks (at most ~10 s). */
static void serve_a_while(server *servers, int count, long n)
{
    long start[8];
    for (int i = 0; i < count; i++)
        start[i] = atomic_load(&servers[i].checks);
    for (int waited = 0; waited < 10000; waited += 5) {
        int done = 1;
        for (int i = 0; i < count; i++)
            done &= atomic_load(&servers[i].checks) - start[i] >= n;
        if (done)
            return;
        pause_ms(5);
    }
}

static void print_diag(const rg_diag *diag)
{
    for (size_t i = 0; diag && i < diag->count; i++)
        printf("  %s:%u:%u: %s\n", diag->entries[i].file ? diag->entries[i].file : "-",
               diag->entries[i].line, diag->entries[i].column, diag->entries[i].message);
}

int main(int argc, char **argv)
{
    char dir[4096];
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        snprintf(dir, sizeof dir, "/tmp/rg-reload-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 2;
        }
    }
    if (deploy(dir, policy_v1) != 0) {
        perror(dir);
        return 2;
    }

    rg_engine *engine;
    rg_diag *diag = NULL;
    if (rg_engine_open(&engine, dir, NULL, &diag) != RG_OK) {
        print_diag(diag);
        rg_diag_free(diag);
        return 2;
    }
    rg_diag_free(diag);
    printf("serving policy v1 from %s\n", dir);

    atomic_int stop = 0;
    server servers[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        memset(&servers[i], 0, sizeof servers[i]);  /* counters start at 0 */
        servers[i].engine = engine;
        servers[i].stop = &stop;
        pthread_create(&threads[i], NULL, serve, &servers[i]);
    }
    serve_a_while(servers, 2, 1000);

    int ok = 1;
    deploy(dir, policy_v2);
    int rc = rg_engine_reload(engine, NULL, &diag);  /* checks keep running */
    printf("reload v2: %s\n", rg_strerror(rc));
    rg_diag_free(diag);
    ok &= rc == RG_OK;
    serve_a_while(servers, 2, 1000);

    deploy(dir, policy_v3_broken);
    rc = rg_engine_reload(engine, NULL, &diag);
    printf("reload v3: %s (v2 stays in force)\n", rg_strerror(rc));
    print_diag(diag);
    ok &= rc == RG_E_POLICY && diag && diag->count > 0 && diag->entries[0].line == 6;
    rg_diag_free(diag);
    serve_a_while(servers, 2, 1000);

    atomic_store(&stop, 1);
    long checks = 0, v1 = 0, v2 = 0, failsafe = 0, wrong = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        checks += atomic_load(&servers[i].checks);
        v1 += atomic_load(&servers[i].v1);
        v2 += atomic_load(&servers[i].v2);
        failsafe += atomic_load(&servers[i].failsafe);
        wrong += atomic_load(&servers[i].wrong);
        ok &= !servers[i].failed;
    }
    rg_engine_info info;
    rg_engine_get_info(engine, &info);
    printf("%ld checks while reloading: %ld decided by v1 (allow), %ld by v2 (block), "
           "%ld fail-safe (over budget), %ld inconsistent; in force now: %s, generation %llu\n",
           checks, v1, v2, failsafe, wrong, info.policy_version,
           (unsigned long long)info.generation);
    ok &= wrong == 0 && v1 > 0 && v2 > 0 && strcmp(info.policy_version, "v2") == 0;
    rg_engine_close(engine);

    if (argc <= 1) {  /* remove the directory we made */
        char path[4200];
        snprintf(path, sizeof path, "%s/policy.yaml", dir);
        unlink(path);
        rmdir(dir);
    }
    return ok ? 0 : 1;
}
