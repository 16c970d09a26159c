/* outcome.h — for the white-box suites (linked against the internal
 * archive, so testutil.c, which links the shared library, cannot serve
 * them): one check's outcome as a string, to compare two engines or two
 * settings of a test switch on the same text. */
#ifndef RG_TEST_OUTCOME_H
#define RG_TEST_OUTCOME_H
#include <stdio.h>
#include <string.h>
#include "replyguard.h"

/* Check t[0..n) on the default route and write its verdict, redacted
 * copy and hits ("detector start end;") to out. Returns 0, out unset, when
 * the check ran out of its budget or failed: meson runs suites side by
 * side, and a preempted check of 2 KB can run out of 2 ms; what it found
 * then says nothing about what is compared. (A block decided by hits
 * before the deadline sets budget_exceeded without failsafe.) The check
 * itself must return RG_OK (cmocka assert). */
static int rgw_outcome(rg_engine *e, rg_scratch *sc, rg_result *r, const char *t, size_t n,
                       char *out, size_t cap)
{
    rg_request q;
    memset(&q, 0, sizeof q);
    q.reply = t;
    q.reply_len = n;
    assert_int_equal(rg_check(e, sc, &q, r), RG_OK);
    if (rg_result_flags(r) & (RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE))
        return 0;
    size_t rl = 0;
    const char *red = rg_result_redacted(r, &rl);
    int o = snprintf(out, cap, "%s [%.*s]|", rg_verdict_name(rg_result_verdict(r)),
                     red ? (int)rl : 1, red ? red : "-");
    for (size_t i = 0; i < rg_result_hit_count(r) && o >= 0 && (size_t)o < cap; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        o += snprintf(out + o, cap - (size_t)o, "%s %zu %zu;", h->detector, h->start, h->end);
    }
    return 1;
}

#endif
