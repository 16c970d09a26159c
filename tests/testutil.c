/* testutil.c — helpers shared by the cmocka suites. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "testutil.h"
#include <stdlib.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

const char *rgt_data_dir(void)
{
    const char *d = getenv("RG_TEST_DATA");
    return d && *d ? d : "tests";
}

const char *rgt_path(const char *rel)
{
    static char ring[8][4096];
    static int next;
    char *buf = ring[next];
    next = (next + 1) % 8;
    snprintf(buf, sizeof ring[0], "%s/%s", rgt_data_dir(), rel);
    return buf;
}

void rgt_print_diag(const rg_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        const rg_diag_entry *e = &d->entries[i];
        fprintf(stderr, "  diag: %s:%u:%u: %s: %s\n", e->file ? e->file : "(null)",
                e->line, e->column, e->severity == RG_SEV_ERROR ? "error" : "warning",
                e->message ? e->message : "(null)");
    }
}

void rgt_open(rgt_ctx *c, const char *rel)
{
    rg_diag *d = NULL;
    memset(c, 0, sizeof *c);
    int st = rg_engine_open(&c->e, rgt_path(rel), NULL, &d);
    if (st != RG_OK) {
        fprintf(stderr, "rg_engine_open(%s) = %s\n", rgt_path(rel), rg_status_name(st));
        rgt_print_diag(d);
    }
    rg_diag_free(d);
    assert_int_equal(st, RG_OK);
    assert_non_null(c->e);
    assert_int_equal(rg_scratch_alloc(c->e, &c->s), RG_OK);
    assert_int_equal(rg_result_alloc(NULL, &c->r), RG_OK);
}

void rgt_close(rgt_ctx *c)
{
    rg_result_free(c->r);
    rg_scratch_free(c->s);
    rg_engine_close(c->e);
    memset(c, 0, sizeof *c);
}

int rgt_checkn(rgt_ctx *c, const char *route, const char *text, size_t len)
{
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    q.reply = text;
    q.reply_len = len;
    return rg_check(c->e, c->s, &q, c->r);
}

int rgt_check(rgt_ctx *c, const char *route, const char *text)
{
    return rgt_checkn(c, route, text, text ? strlen(text) : 0);
}

rg_verdict rgt_verdict(rgt_ctx *c, const char *route, const char *text)
{
    int st = rgt_check(c, route, text);
    if (st != RG_OK)
        fprintf(stderr, "rg_check(%s, \"%s\") = %s\n", route ? route : "(default)",
                text, rg_status_name(st));
    assert_int_equal(st, RG_OK);
    return rg_result_verdict(c->r);
}

static size_t sorted_hits(const rg_result *r, const char *detector,
                          const rg_hit **out)
{
    size_t n = 0, count = rg_result_hit_count(r);
    for (size_t i = 0; i < count && n < RG_MAX_HITS; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        if (!h || !h->detector || (detector && strcmp(h->detector, detector)))
            continue;
        size_t j = n++;
        while (j > 0 && (out[j - 1]->start > h->start ||
                         (out[j - 1]->start == h->start && out[j - 1]->end > h->end))) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = h;
    }
    return n;
}

const rg_hit *rgt_hit(const rg_result *r, const char *detector, size_t nth)
{
    const rg_hit *v[RG_MAX_HITS];
    size_t n = sorted_hits(r, detector, v);
    return nth < n ? v[nth] : NULL;
}

size_t rgt_hits_of(const rg_result *r, const char *detector)
{
    const rg_hit *v[RG_MAX_HITS];
    return sorted_hits(r, detector, v);
}

const rg_category_score *rgt_cat(const rg_result *r, const char *category)
{
    size_t n = rg_result_category_count(r);
    for (size_t i = 0; i < n; i++) {
        const rg_category_score *c = rg_result_category(r, i);
        if (c && c->category && !strcmp(c->category, category))
            return c;
    }
    return NULL;
}

const rg_reason *rgt_reason(const rg_result *r, const char *category,
                            const char *action)
{
    size_t n = rg_result_reason_count(r);
    for (size_t i = 0; i < n; i++) {
        const rg_reason *x = rg_result_reason(r, i);
        if (x && x->category && x->action && !strcmp(x->category, category) &&
            !strcmp(x->action, action))
            return x;
    }
    return NULL;
}

void rgt_dump(const rg_result *r)
{
    fprintf(stderr, "  result: verdict=%s flags=0x%x route=%s version=%s\n",
            rg_verdict_name(rg_result_verdict(r)), rg_result_flags(r),
            rg_result_route(r) ? rg_result_route(r) : "(null)",
            rg_result_policy_version(r) ? rg_result_policy_version(r) : "(null)");
    for (size_t i = 0; i < rg_result_hit_count(r); i++) {
        const rg_hit *h = rg_result_hit(r, i);
        fprintf(stderr, "  hit %s %s [%zu,%zu) %.6f\n", h->detector, h->category,
                h->start, h->end, h->score);
    }
    for (size_t i = 0; i < rg_result_category_count(r); i++) {
        const rg_category_score *c = rg_result_category(r, i);
        fprintf(stderr, "  category %s %.9f %s redact=%d\n", c->category, c->score,
                rg_verdict_name(c->verdict), c->redact);
    }
    for (size_t i = 0; i < rg_result_reason_count(r); i++) {
        const rg_reason *x = rg_result_reason(r, i);
        fprintf(stderr, "  reason %s rule=%s route=%s %s %.9f >= %.9f\n", x->category,
                x->rule, x->route, x->action, x->score, x->threshold);
    }
    size_t len = 0;
    const char *red = rg_result_redacted(r, &len);
    if (red)
        fprintf(stderr, "  redacted: \"%.*s\"\n", (int)len, red);
}

char *rgt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/rgtest.XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

void rgt_write(const char *dir, const char *name, const char *content)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* create parent directories of name */
    for (char *p = path + strlen(dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void rgt_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const rg_diag_entry *rgt_first_error(const rg_diag *d)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->count; i++)
        if (d->entries[i].severity == RG_SEV_ERROR)
            return &d->entries[i];
    return NULL;
}

int rgt_ends_with(const char *s, const char *suffix)
{
    if (!s || !suffix)
        return 0;
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}
