/* literals.h — trigger literals of a regex (literals.c): a set of strings
 * one of which occurs in every text the regex matches. */
#ifndef RG_LITERALS_H
#define RG_LITERALS_H
#include "alloc.h"
#include <stddef.h>

typedef struct rg__lits {
    char **v;    /* n NUL-terminated literals (no NUL bytes inside) */
    size_t n;
    size_t minlen; /* the shortest one's length */
} rg__lits;

/* Trigger literals for Hyperscan/PCRE expression `expr`: every match of
 * the expression contains one of them (compared without ASCII case).
 * Returns 1 and fills *out (free with rg__lits_free) when the reader found
 * such a set of at most `maxn` literals, each at least `minlen` bytes long
 * or holding a byte rare in prose (one of @/\#$%^&*=<>{}[]|~`_: "@" and
 * "://" are rare triggers however short); 0 when it did not (the expression is not understood,
 * can match without any literal, or its best set is too weak); -1 when an
 * allocation failed. */
int rg__trigger_literals(const rg_allocator *a, const char *expr, size_t minlen, size_t maxn,
                         rg__lits *out);
/* What compile.c asks for: literals of at least 4 bytes (shorter ones —
 * "you", "i'd" — are in most replies, and every trigger costs a PCRE2
 * run) unless they hold a rare byte ("@" of an e-mail address: callgrind,
 * 12,329 -> 11,685 instructions per short check; allowing every 3-byte
 * literal too gained 1% more and was not taken), at most 4,096 of them
 * per regex (the shipped en.insult.aimed has
 * 3,014; Hyperscan's literal matcher takes thousands in its stride: the
 * word lists hold 14,000). */
#define RG__TRIGGER_MINLEN 4
#define RG__TRIGGER_MAXN 4096
/* A regex with no such set takes 3-byte literals rather than none: one
 * regex left in a database of literals costs its automaton on every byte
 * of every reply (the raw view's always-scanned database: ~75 ns per short
 * reply without any regex, ~250 ns with the nine that had no set). */
#define RG__TRIGGER_MINLEN_LAST 3
void rg__lits_free(const rg_allocator *a, rg__lits *l);
#endif
