/* stream.h — what stream.c (the stream) and stream_db.c (the per-snapshot
 * streaming data it needs) share. docs/STREAMING.md explains the design. */
#ifndef RG_STREAM_H
#define RG_STREAM_H
#include "clock.h"
#include "engine.h"
#include <time.h>

/* The clock of checks (clock.h): a stream's deadline is compared in
 * check.c's code too, so it must be the same clock. */
static inline uint64_t rg__stream_now(void)
{
    return rg__now_ns();
}

/* ---- prefix sets: "could this text still become a listed term?" ------- */

/* Every prefix (1 byte up to the whole term) of the word terms of one
 * view, as hashes in an open-addressing table. A suffix of the text is
 * hashed one byte to the left at a time, the way prefixes were hashed,
 * so testing every suffix up to the longest term costs one multiply and
 * one lookup per byte. A collision can only hold back more, never less. */
typedef struct rg__pset {
    uint64_t *slot;  /* 0 = empty */
    size_t mask;
    uint32_t maxlen; /* longest term */
    int fold;        /* ASCII case-insensitive (raw view terms) */
} rg__pset;

/* The smallest q in [lo, n) such that t[q..n) is a prefix of a term whose
 * match could start at q (a term beginning with a word byte needs a word
 * boundary there, as in check.c), or n if none. */
size_t rg__prefix_hold(const rg__pset *p, const char *t, size_t n, size_t lo);

/* A byte a term's edge check treats as part of a word (compile.c). */
static inline int rg__word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* A byte of a token of the compacted view (normalize.c's is_tok). */
static inline int rg__tok_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
           c == '@' || c == '$' || c == '!' || c == '|';
}

/* ASCII whitespace: what a "token-bound" regex never matches. */
static inline int rg__ws_byte(unsigned char c)
{
    return c == ' ' || (c >= 9 && c <= 13);
}

/* ---- per-snapshot streaming data ------------------------------------- */

/* One regex detector (regex or pcre kind), as streaming matches it. */
typedef struct rg__rxslot {
    uint32_t det;
    pcre2_code *re;     /* a copy JIT-compiled for partial matching too */
    uint64_t first[4];  /* bytes a match can start with */
    uint8_t any;        /* start set unknown: every byte */
    uint8_t span;       /* a match may hold whitespace (else token-bound) */
    uint8_t nohs;       /* not in the streaming database: PCRE2 alone */
    uint8_t view;       /* RG__VIEW_RAW or RG__VIEW_NORM */
    uint8_t pairs;      /* its first two bytes are in rg__sdb.pairs */
    uint8_t jit;        /* JIT-compiled for complete and partial matching */
} rg__rxslot;

struct rg__sdb {
    rg_allocator a;
    hs_database_t *db[RG__VIEW_COUNT]; /* raw, normalized: HS_MODE_STREAM */
    rg__pset pre[RG__VIEW_COUNT];      /* prefixes of word terms per view */
    rg__rxslot *rx;
    size_t nrx;
    uint32_t *slot_of;                 /* per detector: its slot, or UINT32_MAX */
    uint64_t ustart[2][4];             /* per view (raw 0, normalized 1): the
                                          union of the regexes' start sets */
    uint8_t uany[2];
    /* The first two bytes a gated regex can start with, after a word byte
     * (context 0) or not (1), ASCII only: per (context, b1, b2) the slots
     * that can start there, `words` uint64 each. */
    uint64_t *pairs;
    size_t words;
    uint32_t *allow_len;               /* per detector: longest allow term */
    uint8_t *callow;                   /* per detector: allow terms compacted */
    uint32_t *ctx_len;                 /* per detector: longest context word */
    int64_t *ctx_after;                /* per detector: widest window after, -1 */
    uint32_t max_window;               /* widest context window of all */
    uint32_t ctok;                     /* most tokens in a compacted term */
    uint64_t build_ns;
};

/* The snapshot's streaming data, built on first use (one build per
 * snapshot; under the engine lock unless `locked` says the caller holds
 * it). The caller keeps s alive: a pinned scratch, or the lock. Returns
 * RG_OK, RG_E_NOMEM or RG_E_COMPILE. */
int rg__sdb_get(rg_engine *e, const rg__snapshot *s, int locked, struct rg__sdb **out);

#endif
