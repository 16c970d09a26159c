/* lint.h — the policy-author checks behind RG_ENGINE_LINT (lint.c). */
#ifndef RG_LINT_H
#define RG_LINT_H
#include <stddef.h>
#include "snapshot.h"

/* Load, check and compile the policy set at `path` as rg_engine_open
 * does, reporting every error (structural, semantic — even when there
 * are structural ones — and pattern syntax) and, on a set without
 * errors, the lint warnings (docs/AUTHORING.md). Never uses the cache.
 * Returns what rg_engine_open would, with the snapshot in *out on
 * RG_OK. */
int rg__lint_build(const rg_allocator *a, const char *path,
                   rg__snapshot **out, rg__diags *d);

/* 1 if a regex risks catastrophic backtracking (a repeated group that
 * itself contains an unbounded repeat, as in (a+)+ or (\w+\s?)*, or a
 * repeated alternation whose branches overlap, as in (a|ab)*), with a
 * short explanation in why. Possessive repeats and atomic groups are
 * safe. A heuristic over the pattern text: it may miss a risk, and says
 * so in the docs. */
int rg__regex_backtrack_risk(const char *pattern, char *why, size_t whysize);
#endif
