/* test_golden.c — golden cases: every tests/golden/NAME.yaml names a policy
 * set (relative to tests/) and lists replies with their expected verdicts,
 * flags, hits, category scores and redacted copies (format: see
 * tests/golden/fixture.yaml). Each case is one cmocka test. A file whose
 * policy directory holds no policy file yet has its cases skipped. */
#include "testutil.h"
#include <dirent.h>
#include <stdlib.h>
#include <yaml.h>

#define MAX_HITS 32
#define MAX_CATS 32

typedef struct ghit {
    char *detector;
    size_t start, end;
} ghit;

typedef struct gcat {
    char *name;
    double score;
} gcat;

typedef struct gcase {
    char file[256];
    char *policy;      /* absolute-ish path of the policy set */
    char *name;
    char *route;       /* NULL: default */
    char *reply;
    size_t reply_len;
    unsigned verdicts; /* bit per acceptable verdict; 0: any */
    int has_flags;
    unsigned flags;
    int has_hits;
    ghit hits[MAX_HITS];
    size_t nhits;
    int has_cats;
    gcat cats[MAX_CATS];
    size_t ncats;
    char *redacted;    /* NULL: not checked */
    size_t redacted_len;
    char *not_contains;
    char *error;       /* a malformed case: the test fails with this */
} gcase;

static gcase *CASES;
static size_t NCASES, CAPCASES;

/* ---- engines, one per policy path ------------------------------------- */

typedef struct gengine {
    char *policy;
    rgt_ctx ctx;
    int status; /* RG_OK, or why it could not open */
    int skip;   /* the directory has no policy file */
} gengine;

static gengine ENG[16];
static size_t NENG;

static int has_policy_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if ((n > 5 && !strcmp(e->d_name + n - 5, ".yaml")) ||
            (n > 4 && !strcmp(e->d_name + n - 4, ".yml")))
            found = 1;
    }
    closedir(d);
    return found;
}

static gengine *engine_for(const char *policy)
{
    for (size_t i = 0; i < NENG; i++)
        if (!strcmp(ENG[i].policy, policy))
            return &ENG[i];
    assert_true(NENG < sizeof ENG / sizeof *ENG);
    gengine *g = &ENG[NENG++];
    memset(g, 0, sizeof *g);
    g->policy = strdup(policy);
    if (!has_policy_files(policy)) {
        g->skip = 1;
        return g;
    }
    rg_diag *d = NULL;
    g->status = rg_engine_open(&g->ctx.e, policy, NULL, &d);
    if (g->status != RG_OK) {
        fprintf(stderr, "cannot open %s: %s\n", policy, rg_status_name(g->status));
        rgt_print_diag(d);
    } else if (rg_scratch_alloc(g->ctx.e, &g->ctx.s) != RG_OK ||
               rg_result_alloc(NULL, &g->ctx.r) != RG_OK) {
        g->status = RG_E_NOMEM;
    }
    rg_diag_free(d);
    return g;
}

/* ---- parsing ---------------------------------------------------------- */

static char *dupn(const unsigned char *s, size_t n)
{
    char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int verdict_bit(const char *s, unsigned *bits)
{
    if (!s)
        return -1;
    if (!strcmp(s, "allow"))
        *bits |= 1u << RG_ALLOW;
    else if (!strcmp(s, "handoff"))
        *bits |= 1u << RG_HANDOFF;
    else if (!strcmp(s, "block"))
        *bits |= 1u << RG_BLOCK;
    else
        return -1;
    return 0;
}

static int flag_bit(const char *s, unsigned *bits)
{
    static const struct {
        const char *name;
        unsigned bit;
    } f[] = {{"budget_exceeded", RG_FLAG_BUDGET_EXCEEDED}, {"oversize", RG_FLAG_OVERSIZE},
             {"engine_error", RG_FLAG_ENGINE_ERROR},       {"failsafe", RG_FLAG_FAILSAFE},
             {"invalid_utf8", RG_FLAG_INVALID_UTF8},       {"hits_truncated", RG_FLAG_HITS_TRUNCATED},
             {"redacted", RG_FLAG_REDACTED}};
    for (size_t i = 0; s && i < sizeof f / sizeof *f; i++)
        if (!strcmp(s, f[i].name)) {
            *bits |= f[i].bit;
            return 0;
        }
    return -1;
}

static gcase *new_case(const char *file, const char *policy)
{
    if (NCASES == CAPCASES) {
        CAPCASES = CAPCASES ? 2 * CAPCASES : 64;
        CASES = realloc(CASES, CAPCASES * sizeof *CASES);
        assert_non_null(CASES);
    }
    gcase *c = &CASES[NCASES++];
    memset(c, 0, sizeof *c);
    snprintf(c->file, sizeof c->file, "%s", file);
    c->policy = policy ? strdup(policy) : NULL;
    return c;
}

static void case_error(gcase *c, const char *what, yaml_node_t *n)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%zu: %s", c->file, n ? n->start_mark.line + 1 : 0, what);
    free(c->error);
    c->error = strdup(buf);
}

static void parse_case(yaml_document_t *doc, yaml_node_t *m, gcase *c)
{
    if (!m || m->type != YAML_MAPPING_NODE) {
        case_error(c, "a case must be a mapping", m);
        return;
    }
    const char *name = scalar(map_get(doc, m, "name"));
    c->name = strdup(name ? name : "(unnamed)");
    const char *route = scalar(map_get(doc, m, "route"));
    c->route = route ? strdup(route) : NULL;
    yaml_node_t *reply = map_get(doc, m, "reply");
    if (!reply || reply->type != YAML_SCALAR_NODE) {
        case_error(c, "reply is required", m);
        return;
    }
    c->reply = dupn(reply->data.scalar.value, reply->data.scalar.length);
    c->reply_len = reply->data.scalar.length;
    yaml_node_t *v = map_get(doc, m, "verdict");
    if (v && v->type == YAML_SCALAR_NODE) {
        if (verdict_bit(scalar(v), &c->verdicts))
            case_error(c, "bad verdict", v);
    } else if (v && v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++)
            if (verdict_bit(scalar(yaml_document_get_node(doc, *i)), &c->verdicts))
                case_error(c, "bad verdict", v);
    }
    yaml_node_t *f = map_get(doc, m, "flags");
    if (f) {
        c->has_flags = 1;
        if (f->type != YAML_SEQUENCE_NODE)
            case_error(c, "flags must be a list", f);
        else
            for (yaml_node_item_t *i = f->data.sequence.items.start; i < f->data.sequence.items.top; i++)
                if (flag_bit(scalar(yaml_document_get_node(doc, *i)), &c->flags))
                    case_error(c, "unknown flag", f);
    }
    yaml_node_t *h = map_get(doc, m, "hits");
    if (h) {
        c->has_hits = 1;
        if (h->type != YAML_SEQUENCE_NODE) {
            case_error(c, "hits must be a list", h);
        } else {
            for (yaml_node_item_t *i = h->data.sequence.items.start; i < h->data.sequence.items.top; i++) {
                yaml_node_t *hm = yaml_document_get_node(doc, *i);
                const char *det = scalar(map_get(doc, hm, "detector"));
                const char *s = scalar(map_get(doc, hm, "start"));
                const char *e = scalar(map_get(doc, hm, "end"));
                if (!det || !s || !e || c->nhits == MAX_HITS) {
                    case_error(c, "a hit needs detector, start, end", hm);
                    break;
                }
                c->hits[c->nhits].detector = strdup(det);
                c->hits[c->nhits].start = strtoul(s, NULL, 10);
                c->hits[c->nhits].end = strtoul(e, NULL, 10);
                c->nhits++;
            }
        }
    }
    yaml_node_t *cats = map_get(doc, m, "categories");
    if (cats) {
        c->has_cats = 1;
        if (cats->type != YAML_MAPPING_NODE) {
            case_error(c, "categories must be a mapping", cats);
        } else {
            for (yaml_node_pair_t *p = cats->data.mapping.pairs.start; p < cats->data.mapping.pairs.top; p++) {
                const char *k = scalar(yaml_document_get_node(doc, p->key));
                const char *val = scalar(yaml_document_get_node(doc, p->value));
                if (!k || !val || c->ncats == MAX_CATS) {
                    case_error(c, "bad category score", cats);
                    break;
                }
                c->cats[c->ncats].name = strdup(k);
                c->cats[c->ncats].score = strtod(val, NULL);
                c->ncats++;
            }
        }
    }
    yaml_node_t *red = map_get(doc, m, "redacted");
    if (red && red->type == YAML_SCALAR_NODE) {
        c->redacted = dupn(red->data.scalar.value, red->data.scalar.length);
        c->redacted_len = red->data.scalar.length;
    }
    const char *nc = scalar(map_get(doc, m, "not_contains"));
    c->not_contains = nc ? strdup(nc) : NULL;
}

static void parse_file(const char *path, const char *base)
{
    FILE *fp = fopen(path, "rb");
    yaml_parser_t parser;
    yaml_document_t doc;
    gcase *err = NULL;
    if (!fp) {
        err = new_case(base, NULL);
        err->name = strdup("open");
        err->error = strdup("cannot open golden file");
        return;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, &doc)) {
        err = new_case(base, NULL);
        err->name = strdup("parse");
        char buf[512];
        snprintf(buf, sizeof buf, "%s:%zu:%zu: %s", base, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "error");
        err->error = strdup(buf);
        yaml_parser_delete(&parser);
        fclose(fp);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    const char *pol = scalar(map_get(&doc, root, "policy"));
    yaml_node_t *cases = map_get(&doc, root, "cases");
    if (!pol || !cases || cases->type != YAML_SEQUENCE_NODE) {
        err = new_case(base, NULL);
        err->name = strdup("format");
        err->error = strdup("a golden file needs `policy:` and a `cases:` list");
    } else {
        const char *policy = rgt_path(pol);
        for (yaml_node_item_t *i = cases->data.sequence.items.start; i < cases->data.sequence.items.top; i++)
            parse_case(&doc, yaml_document_get_node(&doc, *i), new_case(base, policy));
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(fp);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_all(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/golden", rgt_data_dir());
    DIR *d = opendir(dir);
    char *names[256];
    size_t n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && n < 256) {
            size_t len = strlen(e->d_name);
            if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml"))
                names[n++] = strdup(e->d_name);
        }
        closedir(d);
    }
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        parse_file(path, names[i]);
        free(names[i]);
    }
    if (n == 0) {
        gcase *c = new_case("golden", NULL);
        c->name = strdup("files");
        c->error = strdup("no tests/golden/*.yaml found");
    }
}

/* ---- running ---------------------------------------------------------- */

static void run_case(void **state)
{
    gcase *c = *state;
    if (c->error) {
        print_error("%s\n", c->error);
        fail();
    }
    gengine *g = engine_for(c->policy);
    if (g->skip) {
        print_message("%s: no policy file in %s yet\n", c->file, c->policy);
        skip();
    }
    assert_int_equal(g->status, RG_OK);
    rgt_ctx *x = &g->ctx;
    int st = rgt_checkn(x, c->route, c->reply, c->reply_len);
    /* Golden cases check decisions, not latency: the shipped routes have
     * 2 ms budgets, and a check preempted on a busy machine gets the
     * timeout fail-safe. Run it again (a few times) before judging. */
    for (int again = 0; again < 5 && st == RG_OK &&
                        (rg_result_flags(x->r) & RG_FLAG_BUDGET_EXCEEDED);
         again++)
        st = rgt_checkn(x, c->route, c->reply, c->reply_len);
    if (st != RG_OK)
        print_error("%s: %s: rg_check = %s\n", c->file, c->name, rg_status_name(st));
    assert_int_equal(st, RG_OK);
    rg_verdict v = rg_result_verdict(x->r);
    int ok = 1;
    if (c->verdicts && !(c->verdicts & (1u << v))) {
        print_error("%s: %s: verdict %s\n", c->file, c->name, rg_verdict_name(v));
        ok = 0;
    }
    if (c->has_flags && rg_result_flags(x->r) != c->flags) {
        print_error("%s: %s: flags 0x%x, expected 0x%x\n", c->file, c->name,
                    rg_result_flags(x->r), c->flags);
        ok = 0;
    }
    if (c->has_hits) {
        if (rg_result_hit_count(x->r) != c->nhits) {
            print_error("%s: %s: %zu hits, expected %zu\n", c->file, c->name,
                        rg_result_hit_count(x->r), c->nhits);
            ok = 0;
        }
        for (size_t i = 0; i < c->nhits; i++) {
            int found = 0;
            for (size_t j = 0; j < rg_result_hit_count(x->r); j++) {
                const rg_hit *h = rg_result_hit(x->r, j);
                if (!strcmp(h->detector, c->hits[i].detector) && h->start == c->hits[i].start &&
                    h->end == c->hits[i].end)
                    found = 1;
            }
            if (!found) {
                print_error("%s: %s: no hit %s [%zu,%zu)\n", c->file, c->name,
                            c->hits[i].detector, c->hits[i].start, c->hits[i].end);
                ok = 0;
            }
        }
    }
    if (c->has_cats) {
        if (rg_result_category_count(x->r) != c->ncats) {
            print_error("%s: %s: %zu categories, expected %zu\n", c->file, c->name,
                        rg_result_category_count(x->r), c->ncats);
            ok = 0;
        }
        for (size_t i = 0; i < c->ncats; i++) {
            const rg_category_score *cs = rgt_cat(x->r, c->cats[i].name);
            if (!cs || fabs(cs->score - c->cats[i].score) > 1e-9) {
                print_error("%s: %s: category %s score %.9f, expected %.9f\n", c->file, c->name,
                            c->cats[i].name, cs ? cs->score : 0.0, c->cats[i].score);
                ok = 0;
            }
        }
    }
    size_t rlen = 0;
    const char *red = rg_result_redacted(x->r, &rlen);
    if (c->redacted) {
        if (!red || rlen != c->redacted_len || memcmp(red, c->redacted, rlen)) {
            print_error("%s: %s: redacted \"%.*s\", expected \"%s\"\n", c->file, c->name,
                        red ? (int)rlen : 6, red ? red : "(none)", c->redacted);
            ok = 0;
        }
    }
    if (c->not_contains && v == RG_ALLOW) {
        const char *sent = red ? red : c->reply;
        size_t slen = red ? rlen : c->reply_len;
        if (memmem(sent, slen, c->not_contains, strlen(c->not_contains))) {
            print_error("%s: %s: an allowed reply would send \"%s\" in clear\n", c->file,
                        c->name, c->not_contains);
            ok = 0;
        }
    }
    if (!ok)
        rgt_dump(x->r);
    assert_true(ok);
}

static void free_all(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        gcase *c = &CASES[i];
        free(c->policy);
        free(c->name);
        free(c->route);
        free(c->reply);
        for (size_t j = 0; j < c->nhits; j++)
            free(c->hits[j].detector);
        for (size_t j = 0; j < c->ncats; j++)
            free(c->cats[j].name);
        free(c->redacted);
        free(c->not_contains);
        free(c->error);
    }
    free(CASES);
}

int main(void)
{
    load_all();
    struct CMUnitTest *tests = calloc(NCASES, sizeof *tests);
    char **names = calloc(NCASES, sizeof *names);
    if (!tests || !names)
        return 1;
    for (size_t i = 0; i < NCASES; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s: %s", CASES[i].file, CASES[i].name ? CASES[i].name : "?");
        names[i] = strdup(buf);
        tests[i].name = names[i];
        tests[i].test_func = run_case;
        tests[i].initial_state = &CASES[i];
    }
    int rc = _cmocka_run_group_tests("golden", tests, NCASES, NULL, NULL);
    for (size_t i = 0; i < NENG; i++) {
        rgt_close(&ENG[i].ctx);
        free(ENG[i].policy);
    }
    for (size_t i = 0; i < NCASES; i++)
        free(names[i]);
    free(names);
    free(tests);
    free_all();
    return rc;
}
