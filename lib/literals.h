/* literals.h — trigger literals of a regex (literals.c): a set of strings
 * one of which occurs in every text the regex matches. */
#ifndef RG_LITERALS_H
#define RG_LITERALS_H
#include "alloc.h"
#include <stddef.h>

/* Where the regex asserts a word boundary (\b) around a literal. */
#define RG__LIT_EDGE_LEFT 1u  /* at its start */
#define RG__LIT_EDGE_RIGHT 2u /* at its end */

typedef struct rg__lits {
    char **v;    /* n NUL-terminated literals (no NUL bytes inside) */
    unsigned char *edges; /* per literal: RG__LIT_EDGE_* */
    size_t n;
    size_t minlen; /* the shortest one's length */
    int prefix;    /* every match starts with one of them: where the
                      occurrence starts is where the match starts */
    size_t end;    /* > 0: the occurrence a match holds ends within the
                      first `end` bytes of the pattern text (a prefix
                      that is a pattern itself: its maximum width bounds
                      how far before the occurrence's end the match can
                      start; "[\w.+-]{1,64}@": 64 bytes before the "@",
                      however long the rest); 0: not known */
} rg__lits;

/* A word byte for \b without UCP (both engines): [A-Za-z0-9_]. Bytes of
 * UTF-8 sequences (>= 0x80) are not: no code point above 0x7F is a word
 * character in that mode. */
static inline int rg__lit_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Is there a word boundary (\b) at offset pos of t[0..n)? Outside the
 * text counts as a non-word byte. */
static inline int rg__lit_boundary(const char *t, size_t n, size_t pos)
{
    int before = pos > 0 && pos <= n && rg__lit_word((unsigned char)t[pos - 1]);
    int after = pos < n && rg__lit_word((unsigned char)t[pos]);
    return before != after;
}

/* Trigger literals for Hyperscan/PCRE expression `expr`: every match of
 * the expression contains one of them (compared without ASCII case).
 * An occurrence counts only where the text has the word boundaries its
 * edges say the regex asserts there (rg__lit_boundary): the occurrence a
 * match holds always has them.
 * Returns 1 and fills *out (free with rg__lits_free) when the reader found
 * such a set of at most `maxn` literals, each at least `minlen` bytes long
 * (a whole word, with a boundary at both ends, counting them as two more:
 * "\bup\b") or holding a byte rare in prose (one of @/\#$%^&*=<>{}[]|~`_:
 * "@" and "://" are rare triggers however short); 0 when it did not (the
 * expression is not understood, can match without any literal, or its best
 * set is too weak); -1 when an allocation failed. `prefix` says whether
 * every match starts with one of them. */
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
