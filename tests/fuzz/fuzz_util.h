/* fuzz_util.h — shared by the libFuzzer targets (tests/fuzz/, `make fuzz`,
 * docs/RELIABILITY.md). A violated invariant prints what and where, then
 * abort()s: libFuzzer saves the input as a crash artifact. */
#ifndef RG_FUZZ_UTIL_H
#define RG_FUZZ_UTIL_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replyguard.h"

#define FUZZ_ASSERT(cond, ...)                                                 \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__,        \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The directory of a policy set for the targets: $RG_FUZZ_POLICIES if set
 * (make fuzz points it at a copy of policies/ with generous budgets), else
 * RG_SOURCE_ROOT "/" rel. */
static inline const char *fuzz_policy_dir(const char *rel, char *buf, size_t size)
{
    const char *env = getenv("RG_FUZZ_POLICIES");
    if (env && *env && !strcmp(rel, "policies"))
        snprintf(buf, size, "%s", env);
    else
        snprintf(buf, size, "%s/%s", RG_SOURCE_ROOT, rel);
    return buf;
}

static inline rg_engine *fuzz_open(const char *rel)
{
    char dir[4096];
    fuzz_policy_dir(rel, dir, sizeof dir);
    unsetenv("RG_CACHE_DIR"); /* every target compiles for itself */
    rg_engine *e = NULL;
    rg_diag *d = NULL;
    int st = rg_engine_open(&e, dir, NULL, &d);
    if (st != RG_OK) {
        fprintf(stderr, "fuzz: cannot open %s: %s\n", dir, rg_status_name(st));
        for (size_t i = 0; d && i < d->count; i++)
            fprintf(stderr, "  %s:%u:%u: %s\n", d->entries[i].file ? d->entries[i].file : "",
                    d->entries[i].line, d->entries[i].column, d->entries[i].message);
        abort();
    }
    rg_diag_free(d);
    return e;
}

/* Length of the unit at s[0..n): a valid UTF-8 sequence (1..4) or 1 for
 * an invalid byte. Independent of lib/normalize.c, same strict rules (no
 * overlongs, surrogates or code points above U+10FFFF). */
static inline size_t fuzz_unit_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 1;
    if (n < k || s[1] < lo || s[1] > hi)
        return 1;
    for (size_t i = 2; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return k;
}

/* starts[i] = 1 when offset i starts a unit (or i == n), 2 when the unit
 * there is an invalid byte; returns 1 if the whole text is valid UTF-8.
 * starts must hold n + 1 bytes. */
static inline int fuzz_units(const unsigned char *s, size_t n, unsigned char *starts)
{
    int valid = 1;
    memset(starts, 0, n + 1);
    for (size_t i = 0; i < n;) {
        size_t k = fuzz_unit_len(s + i, n - i);
        int bad = k == 1 && s[i] >= 0x80;
        starts[i] = bad ? 2 : 1;
        valid &= !bad;
        i += k;
    }
    starts[n] = 1;
    return valid;
}

/* The invariants of every result of rg_check on reply[0..n). starts from
 * fuzz_units. on_error_min: the mildest verdict an engine error may give
 * (the policy's on_error values are all at least this). */
static inline void fuzz_check_result(const rg_result *r, int st, size_t n,
                                     const unsigned char *starts, rg_verdict on_error_min)
{
    unsigned fl = rg_result_flags(r);
    rg_verdict v = rg_result_verdict(r);
    FUZZ_ASSERT(v == RG_ALLOW || v == RG_HANDOFF || v == RG_BLOCK, "verdict %d", (int)v);
    if (st != RG_OK)
        FUZZ_ASSERT((fl & (RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE)) ==
                        (RG_FLAG_ENGINE_ERROR | RG_FLAG_FAILSAFE),
                    "status %s without the error fail-safe (flags %#x)", rg_status_name(st), fl);
    if (fl & RG_FLAG_ENGINE_ERROR)
        FUZZ_ASSERT(v >= on_error_min, "engine error gave %s", rg_verdict_name(v));
    if (fl & RG_FLAG_FAILSAFE)
        FUZZ_ASSERT(fl & (RG_FLAG_ENGINE_ERROR | RG_FLAG_BUDGET_EXCEEDED | RG_FLAG_OVERSIZE),
                    "failsafe without a cause (flags %#x)", fl);
    size_t nh = rg_result_hit_count(r);
    FUZZ_ASSERT(nh <= RG_MAX_HITS, "%zu hits", nh);
    for (size_t i = 0; i < nh; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        FUZZ_ASSERT(h && h->detector && h->category, "hit %zu incomplete", i);
        /* A conversation finding (a loop, a missing disclosure) has no
         * span; a user-message hit's offsets are in the user message
         * (docs/CONVERSATION.md). Reply hits cover whole code points. */
        if (h->source == RG_SOURCE_CONVERSATION) {
            FUZZ_ASSERT(h->start == h->end && h->end <= n, "conversation hit %s [%zu,%zu)",
                        h->detector, h->start, h->end);
        } else if (h->source == RG_SOURCE_USER) {
            FUZZ_ASSERT(h->start < h->end, "user hit %s [%zu,%zu)", h->detector, h->start,
                        h->end);
        } else {
            FUZZ_ASSERT(h->source == RG_SOURCE_REPLY, "hit %s source %d", h->detector,
                        (int)h->source);
            FUZZ_ASSERT(h->start < h->end && h->end <= n, "hit %s [%zu,%zu) in %zu bytes",
                        h->detector, h->start, h->end, n);
            FUZZ_ASSERT(starts[h->start] && starts[h->end],
                        "hit %s [%zu,%zu) splits a code point", h->detector, h->start, h->end);
        }
        FUZZ_ASSERT(h->score >= 0 && h->score <= 1, "hit score %f", h->score);
    }
    for (size_t i = 0; i < rg_result_category_count(r); i++) {
        const rg_category_score *c = rg_result_category(r, i);
        FUZZ_ASSERT(c && c->category && c->score >= 0 && c->score <= 1 + 1e-9,
                    "category %zu", i);
    }
    for (size_t i = 0; i < rg_result_reason_count(r); i++) {
        const rg_reason *x = rg_result_reason(r, i);
        FUZZ_ASSERT(x && x->category && x->rule && x->route && x->action, "reason %zu", i);
    }
    size_t rl = 0;
    const char *red = rg_result_redacted(r, &rl);
    FUZZ_ASSERT((red != NULL) == ((fl & RG_FLAG_REDACTED) != 0), "redacted %p flags %#x",
                (const void *)red, fl);
    if (red)
        FUZZ_ASSERT(red[rl] == '\0', "redacted copy not NUL-terminated");
}
#endif
