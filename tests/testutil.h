/* testutil.h — helpers shared by the cmocka suites (not part of the
 * library). Paths: RG_TEST_DATA is the tests/ source directory; meson
 * sets it for every suite. */
#ifndef RG_TESTUTIL_H
#define RG_TESTUTIL_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "replyguard.h"

/* The tests/ source directory (RG_TEST_DATA, else "tests"). */
const char *rgt_data_dir(void);
/* "<data dir>/<rel>" in a static ring of buffers (valid for a while). */
const char *rgt_path(const char *rel);
/* Print every diagnostic to stderr (for failing tests). */
void rgt_print_diag(const rg_diag *d);

/* An engine, one scratch and one result on a fixture directory. */
typedef struct rgt_ctx {
    rg_engine *e;
    rg_scratch *s;
    rg_result *r;
} rgt_ctx;

/* Open tests/<rel> (fails the test, printing diagnostics, on error). */
void rgt_open(rgt_ctx *c, const char *rel);
void rgt_close(rgt_ctx *c);
/* rg_check with route (NULL: default) and text (strlen). */
int rgt_check(rgt_ctx *c, const char *route, const char *text);
int rgt_checkn(rgt_ctx *c, const char *route, const char *text, size_t len);
/* The same, asserting RG_OK and returning the verdict. */
rg_verdict rgt_verdict(rgt_ctx *c, const char *route, const char *text);

/* The nth (0-based) hit of `detector` in order of start offset, or NULL. */
const rg_hit *rgt_hit(const rg_result *r, const char *detector, size_t nth);
size_t rgt_hits_of(const rg_result *r, const char *detector);
const rg_category_score *rgt_cat(const rg_result *r, const char *category);
/* The reason for category with action ("block", ...), or NULL. */
const rg_reason *rgt_reason(const rg_result *r, const char *category,
                            const char *action);
/* Dump a result to stderr (for diagnosis of failing tests). */
void rgt_dump(const rg_result *r);

/* Temporary policy directories for loader tests. */
char *rgt_tmpdir(void);                      /* malloc'd path */
void rgt_write(const char *dir, const char *name, const char *content);
void rgt_rmtree(const char *dir);            /* and free(dir) is yours */
/* The first diagnostic of severity error, or NULL. */
const rg_diag_entry *rgt_first_error(const rg_diag *d);
/* 1 if `s` ends with `suffix`. */
int rgt_ends_with(const char *s, const char *suffix);

#define RGT_NEAR(a, b)                                                       \
    do {                                                                     \
        double rgt_a_ = (a), rgt_b_ = (b);                                   \
        if (!(fabs(rgt_a_ - rgt_b_) <= 1e-9)) {                              \
            print_error("%s = %.12f, expected %.12f\n", #a, rgt_a_, rgt_b_); \
            fail();                                                          \
        }                                                                    \
    } while (0)

#define RGT_STR(a, b)                                                        \
    do {                                                                     \
        const char *rgt_s_ = (a);                                            \
        assert_non_null(rgt_s_);                                             \
        assert_string_equal(rgt_s_, (b));                                    \
    } while (0)

/* Assert a span of a hit. */
#define RGT_SPAN(h, s, e)                                                    \
    do {                                                                     \
        const rg_hit *rgt_h_ = (h);                                          \
        assert_non_null(rgt_h_);                                             \
        assert_int_equal(rgt_h_->start, (s));                                \
        assert_int_equal(rgt_h_->end, (e));                                  \
    } while (0)

#endif
