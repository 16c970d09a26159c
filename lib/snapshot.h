/* snapshot.h — an immutable compiled policy set. Built by compile.c,
 * published by engine.c, read by check.c from many threads at once
 * without locks: nothing in it changes after rg__snapshot_compile
 * returns. */
#ifndef RG_SNAPSHOT_H
#define RG_SNAPSHOT_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>
#include "model.h"
#include "digits.h"

/* What a Hyperscan pattern id stands for. */
/* RG__PAT_TRIGGER: one trigger literal of a regex (literals.c): flags the
 * regex like RG__PAT_REGEX, and bounds where its PCRE2 matches can start. */
enum { RG__PAT_WORD = 0, RG__PAT_ALLOW = 1, RG__PAT_REGEX = 2, RG__PAT_CONTEXT = 3,
       RG__PAT_TRIGGER = 4 };
/* Boundary checks a word pattern needs: its first/last byte is a word
 * character, so the neighbouring code point must not be one. */
/* Words, allow and context entries: no word character (normalize.c
 * rg__word_before/after) may touch that end. Trigger literals: the regex
 * asserts \b there (literals.h rg__lit_boundary). */
enum { RG__EDGE_LEFT = 1, RG__EDGE_RIGHT = 2 };

typedef struct rg__pat {
    uint32_t det;    /* detector index */
    uint32_t len;    /* bytes in the normalized term (words, allow) */
    double score;    /* this term's score (words) */
    uint8_t type;    /* RG__PAT_* */
    uint8_t edges;   /* RG__EDGE_* */
    uint16_t ctx;    /* context block index (RG__PAT_CONTEXT) */
    uint8_t scope;   /* its detector's RG__SCOPE_* (conv.h) */
    uint32_t back;   /* RG__PAT_TRIGGER: the regex's maximum match width in
                        bytes (UINT32_MAX: unbounded); RG__PAT_REGEX: the
                        same when every match end is reported (a whole-view
                        scan of the normalized view: compile.c build_split),
                        else 0 */
    uint32_t same;   /* pairing databases (pdb) hold each expression once,
                        under its first pattern: 1 + the next pattern with
                        the same expression and flags there (0: none);
                        check.c on_match walks the chain */
} rg__pat;

/* A compiled `context:` block. */
typedef struct rg__cctx {
    uint32_t window;
    double score;
    int side;              /* RG__SIDE_* */
} rg__cctx;

/* Confirmation databases (snapshot cdb): at most this many detectors, those
 * whose windows are this wide or wider. Each costs a Hyperscan compile of
 * its regex at a cold open (~100 ms for a phrase regex's alternations). */
#define RG__MAX_CONFIRM 4
#define RG__CONFIRM_BACK 72

typedef struct rg__cdet {
    char *id;
    uint32_t cat;          /* index into snapshot cats */
    rg__kind kind;
    rg__view view;
    double score;
    rg__validator validate;
    pcre2_code *re;        /* regex / pcre: span extraction and confirmation */
    int pcre_only;         /* run PCRE2 on every check (pcre kind, or a regex
                              Hyperscan could not take even as prefilter) */
    rg__cctx *ctx;         /* context blocks, in policy order */
    uint16_t nctx;
    int shadow;            /* `mode: shadow`: reported, never decides */
    const char *pattern;   /* regex / pcre as written (owned), for bundles */
    uint32_t pcre_opts;    /* the PCRE2 compile options `re` was built with */
    uint8_t scope;         /* RG__SCOPE_* (conv.h): texts it scans */
    uint8_t pviews;        /* views whose pairing database (pdb) holds its
                              allow and context words: 1 << view */
    uint8_t jit;           /* re is JIT-compiled: spans call pcre2_jit_match,
                              without pcre2_match's per-call checks */
    uint16_t minlen;       /* PCRE2_INFO_MINLENGTH of re (code points, so at
                              most its bytes; capped): no match is shorter */
    uint32_t pwin;         /* its widest context window (0: none) and its */
    uint32_t plen;         /* longest pairing entry (view bytes): how far
                              from a hit its pairing entries can be */
    uint8_t confirm;       /* 1 + its database in snapshot cdb (0: none) */
    uint32_t maxw;         /* with confirm: the regex's maximum width */
} rg__cdet;

/* A threshold value that is never crossed (`off` or unset). */
#define RG__OFF 2.0

typedef struct rg__cthr {
    double v[RG__F_COUNT];        /* threshold or RG__OFF */
    const char *key[RG__F_COUNT]; /* rule key that set it */
    const char *from[RG__F_COUNT];/* route that set it */
    const char *mask;             /* resolved mask for redaction */
} rg__cthr;

typedef struct rg__croute {
    char *name;
    uint64_t budget_ns;
    size_t max_bytes;
    rg_verdict on_timeout, on_error, on_oversize;
    rg__cthr *thr;                /* per snapshot category */
    /* `mode: shadow`: thr and the settings above are the parent's (what
     * is enforced); sthr holds the route's own thresholds, evaluated
     * for the report only. NULL for an enforcing route. */
    int shadow;
    rg__cthr *sthr;
} rg__croute;

/* One view's Hyperscan expressions: pattern ids index rg__snapshot.pats. */
typedef struct rg__hexprs {
    char **expr;
    unsigned *flags;
    unsigned *ids;
    size_t n;
} rg__hexprs;

struct rg__sdb;

typedef struct rg__snapshot {
    rg_allocator a;
    uint64_t generation;
    char version[64];
    char hash[65];
    char **owned;                 /* strings the snapshot owns (keys, names) */
    size_t nowned, capowned;
    rg__cdet *dets;
    size_t ndets;
    char **cats;                  /* leaf categories used by detectors */
    size_t ncats;
    rg__pat *pats;
    size_t npats;
    hs_database_t *db[RG__VIEW_COUNT];
    /* Gated databases (digits.h rg__gatedef). gdb[v][t] holds the
     * expressions of view v that can only matter when the text meets gate
     * t (gate[t] bytes of [glo[t], ghi[t]] within gwin[t] bytes; t ==
     * RG__GATE_USER: the user message is being scanned): raw-view regexes
     * every match of which meets it, and the compacted view's allow words
     * of the detectors whose only pattern is such a regex (they only ever
     * pair with that detector's hits). db[v] holds the rest; a check scans
     * gdb[v][t] only when the text reaches gate t. hx keeps the full lists
     * (streaming compiles from them). ngdb: gates in use (0: no gated
     * database); entries may be NULL. */
    hs_database_t *gdb[RG__VIEW_COUNT][RG__NGATES];
    /* Prescan databases (digits.h rg__gatedef.prescan): gudb[v][t] is one
     * expression, the union of gdb[v][t]'s, so a cluster where it does not
     * match needs no scan of gdb[v][t] (the union matches where one of
     * them does). NULL: none (not a prescan gate, or the union did not
     * compile). */
    hs_database_t *gudb[RG__VIEW_COUNT][RG__NGATES];
    /* Pairing databases: the allow-list and context words of the raw and
     * normalized views, apart from the words and regexes they pair with.
     * They only matter next to a hit of their own detector, and common
     * ones ("reservation", "call", "number") matched on most replies: a
     * check scans pdb[v] only when a detector with entries there has a
     * hit (rg__pair_scan). The compacted view keeps its few allow words
     * in db (it is scanned on obfuscation windows only, and streams scan
     * it as one database). */
    hs_database_t *pdb[RG__VIEW_COUNT];
    /* Confirmation databases (compile.c build_split, check.c
     * extract_spans): the regexes of the detectors whose trigger literals
     * leave PCRE2 the widest windows (RG__CONFIRM_BACK bytes or more of
     * start positions before an occurrence) and are prose words (compile.c
     * queue_confirm), each alone, so that a window
     * is searched by PCRE2 only where Hyperscan finds a match in it. A
     * phrase regex's alternation of a hundred group names is tried at
     * every word start of a 75-byte window: ~4,400 cycles per occurrence
     * of " world" or " money", ~500 for the scan. dets[d].confirm indexes
     * them. */
    hs_database_t *cdb[RG__MAX_CONFIRM];
    /* The mapping db, gdb, gudb, pdb and cdb were moved into (dbpack.h); NULL:
     * they are where Hyperscan allocated them. */
    void *pack;
    size_t packlen;
    uint32_t gate[RG__NGATES];
    uint32_t gwin[RG__NGATES]; /* the window gate[t]'s bytes must fit in; 0: any */
    uint8_t glo[RG__NGATES], ghi[RG__NGATES]; /* the range gate[t] counts */
    uint8_t gclu[RG__NGATES]; /* a cluster gate: its gap + 1 (digits.h); 0: not one */
    unsigned gclumask;        /* bit g: gclu[g] != 0 (set with gclu) */
    /* The longest match of raw gated database t (hs_expression_info), when
     * every expression in it is a regex whose matches are bounded and
     * unanchored: a check then scans only the regions around its digits
     * (digits.h rg__range_regions). UINT32_MAX: scanned whole. */
    uint32_t gmaxw[RG__NGATES];
    size_t ngdb;
    hs_scratch_t *proto;          /* grown over every db; cloned per scratch */
    uint32_t *always;             /* detectors run by PCRE2 on every check */
    size_t nalways;
    rg__croute *routes;           /* sorted by name */
    size_t nroutes;
    uint32_t max_ovector;         /* pairs needed by the largest pattern */
    pcre2_general_context *gctx;
    uint64_t compile_ns;
    size_t nwords;                /* distinct normalized terms */
    size_t nregex;                /* regex and pcre detectors */
    int has_shadow;               /* some detector is in shadow mode */
    char **declared;              /* categories the policy declares (owned
                                     strings), in name order */
    size_t ndeclared;
    /* How this snapshot was built (rg_load_info). */
    int source;                   /* RG_LOAD_* */
    int cache_written;
    uint64_t load_ns;
    /* The Hyperscan expressions each view's block database was compiled
     * from (owned; bundles carry them too), kept so that streaming
     * (stream.c) can compile its HS_MODE_STREAM databases on first use
     * rather than on every engine open. */
    rg__hexprs hx[RG__VIEW_COUNT];
    /* stream.c: the streaming databases, built by the first
     * rg_stream_open on this snapshot (NULL until then); freed with it. */
    _Atomic(struct rg__sdb *) sdb;
    /* conv.h: conversation rules per route, or NULL when the policy set
     * has none (and no user-scoped detector). */
    struct rg__sconv *conv;
} rg__snapshot;

/* Compile a checked policy model into a snapshot. Errors (with the
 * pattern's file:line:column) go to d. Returns RG_OK, RG_E_COMPILE,
 * RG_E_POLICY or RG_E_NOMEM. */
int rg__snapshot_compile(const rg_allocator *a, const rg__policy *p,
                         rg__snapshot **out, rg__diags *d);
/* The same, with Hyperscan's work memoised in `cache` (cache.c; may be
 * NULL) and the databases built for `platform` (NULL: this host). */
struct rg__hscache;
int rg__snapshot_compile_ex(const rg_allocator *a, const rg__policy *p,
                            struct rg__hscache *cache,
                            const hs_platform_info_t *platform,
                            rg__snapshot **out, rg__diags *d);
void rg__snapshot_free(rg__snapshot *s);
/* Test switch: nonzero compiles the cluster gates' regexes with
 * HS_FLAG_SINGLEMATCH, as before they reported every match end (compile.c
 * says why they do); test_digits compares the two. Read at compile time.
 * Not for production use. */
extern int rg__cluster_singlematch;
/* Views with a pairing database (pdb): raw and normalized. */
#define RG__PAIR_VIEWS ((1u << RG__VIEW_RAW) | (1u << RG__VIEW_NORM))
/* Does expression `id` of view v go to pdb[v] (an allow or context word
 * of a view in RG__PAIR_VIEWS)? */
int rg__pairing_entry(const rg__snapshot *s, int v, unsigned id);
/* Set every detector's pviews, pwin and plen from the expression lists
 * (hx) and context blocks: after a compile, and after a bundle load. */
void rg__snapshot_pviews(rg__snapshot *s);
/* stream.c: build a snapshot's streaming databases into s->sdb (a
 * no-op if built); free them (NULL is a no-op). */
int rg__sdb_build(rg__snapshot *s);
void rg__sdb_free(struct rg__sdb *sdb);
/* Route by name (binary search), or NULL. */
const rg__croute *rg__snapshot_route(const rg__snapshot *s, const char *name);
#endif
