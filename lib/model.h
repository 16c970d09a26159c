/* model.h — the policy set as written: what the YAML loader produces and
 * the compiler consumes. Nothing here is compiled or resolved; every item
 * keeps the file:line:column it came from so that later stages (checks,
 * compile errors, lint) can point at it.
 *
 * All memory belongs to the rg__policy and is freed by rg__policy_free
 * with the allocator it was loaded with. */
#ifndef RG_MODEL_H
#define RG_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "replyguard.h"
#include "diag.h"

typedef struct rg__loc {
    const char *file; /* points into rg__policy.files[]; NULL if none */
    unsigned line, column;
} rg__loc;

typedef enum rg__kind { RG__KIND_WORDS, RG__KIND_REGEX, RG__KIND_PCRE } rg__kind;

/* Text views a detector can scan (normalize.h builds them). */
/* RG__VIEW_COMPACT is derived, never named in a policy: words detectors
 * with `compact` also scan it. */
typedef enum rg__view {
    RG__VIEW_RAW = 0,
    RG__VIEW_NORM = 1,
    RG__VIEW_COMPACT = 2,
    RG__VIEW_COUNT
} rg__view;

/* Validators (validate.c holds the one name table and the functions). */
typedef enum rg__validator {
    RG__VALIDATE_NONE = 0, RG__VALIDATE_LUHN, RG__VALIDATE_CARD, RG__VALIDATE_IBAN,
    RG__VALIDATE_US_SSN, RG__VALIDATE_US_ITIN, RG__VALIDATE_ABA_ROUTING,
    RG__VALIDATE_MX_CLABE, RG__VALIDATE_ES_DNI, RG__VALIDATE_ES_NIE,
    RG__VALIDATE_UK_NINO, RG__VALIDATE_UK_NHS, RG__VALIDATE_CA_SIN,
    RG__VALIDATE_IN_AADHAAR, RG__VALIDATE_BR_CPF, RG__VALIDATE_MX_CURP,
    RG__VALIDATE_IT_CODICE_FISCALE, RG__VALIDATE_PL_PESEL, RG__VALIDATE_FR_NIR,
    RG__VALIDATE_DE_STEUER_ID, RG__VALIDATE_NL_BSN, RG__VALIDATE_IPV4,
    RG__VALIDATE_IPV6, RG__VALIDATE_EMAIL, RG__VALIDATE_JWT,
    RG__VALIDATE_HIGH_ENTROPY, RG__VALIDATE_PASSWORD_VALUE, RG__VALIDATE_URL_PASSWORD,
    RG__VALIDATE_AWS_KEY_ID, RG__VALIDATE_BASIC_AUTH
} rg__validator;

typedef struct rg__term {
    char *text;   /* as written (not yet normalised) */
    double score; /* < 0: use the detector's score */
    rg__loc loc;  /* lexicon file line, or the YAML list item */
} rg__term;

/* A `context:` block: words near a hit set its score. */
typedef struct rg__context {
    char **words;
    size_t nwords;
    uint32_t window;    /* bytes of the original between hit and word */
    double score;
    int side;           /* RG__SIDE_*: where the word must be */
    rg__loc loc;
} rg__context;

enum { RG__SIDE_EITHER = 0, RG__SIDE_BEFORE = 1, RG__SIDE_AFTER = 2 };

typedef struct rg__detector {
    char *id;
    char *category;
    rg__kind kind;
    rg__view view;      /* already defaulted by the loader */
    char *pattern;      /* regex / pcre */
    rg__term *terms;    /* words: inline or from the lexicon */
    size_t nterms;
    char *lexicon;      /* lexicon path as written, or NULL */
    char **allow;
    size_t nallow;
    double score;
    int caseless;
    rg__validator validate;
    char *lang;         /* or NULL */
    char *description;  /* or NULL */
    rg__context *ctx;   /* context blocks, tried in order */
    size_t nctx;
    int compact;        /* words: also match the compacted view */
    rg__loc loc;        /* the detector's mapping */
    rg__loc pattern_loc;/* the pattern scalar (for compile errors) */
    rg__loc category_loc;/* the category scalar (for unknown categories) */
    int shadow;         /* `mode: shadow`: reported, never decides */
    rg__loc mode_loc;   /* the mode scalar, when given (line 0 if not) */
    int scope;          /* `scan:` RG__SCOPE_* (conv.h); 0: reply */
} rg__detector;

/* Fields of a category rule, in severity-independent order. */
enum { RG__F_HANDOFF = 0, RG__F_BLOCK = 1, RG__F_REDACT = 2, RG__F_COUNT = 3 };

typedef struct rg__rule {
    char *key;              /* a category or a dot-prefix of one */
    int has[RG__F_COUNT];   /* field present in this route's rule */
    double value[RG__F_COUNT]; /* threshold 0..1; < 0 means `off` */
    char *mask;             /* or NULL */
    rg__loc loc;
} rg__rule;

typedef struct rg__route {
    char *name;
    char *extends;          /* or NULL */
    char *description;      /* or NULL */
    int has_budget_us, has_max_bytes, has_on_timeout, has_on_error, has_on_oversize;
    uint64_t budget_us;
    uint64_t max_bytes;
    rg_verdict on_timeout, on_error, on_oversize;
    char *mask;             /* or NULL */
    rg__rule *rules;
    size_t nrules;
    rg__loc loc;
    rg__loc extends_loc;
    int shadow;             /* `mode: shadow`: enforces its parent's rules */
    rg__loc mode_loc;       /* the mode scalar, when given (line 0 if not) */
    struct rg__mconv *conv; /* `loop:` / `require:` (conv.h), or NULL */
} rg__route;

typedef struct rg__catdecl {
    char *name;
    char *description;
    rg__loc loc;
} rg__catdecl;

typedef struct rg__policy {
    rg_allocator a;
    char *root;             /* directory lexicon paths are relative to */
    char *version;          /* or NULL */
    rg__detector *detectors;
    size_t ndetectors;
    rg__route *routes;      /* in name order */
    size_t nroutes;
    rg__catdecl *cats;      /* in name order */
    size_t ncats;
    char **files;           /* every file read (policy + lexicons), for locs */
    size_t nfiles;
    uint8_t hash[32];       /* SHA-256 over (name, content) of every file read */
} rg__policy;

/* policy_load.c: read the YAML files (and lexicons) into a model.
 * Reports every problem it finds into `d` (not only the first).
 * Returns RG_OK, RG_E_IO, RG_E_POLICY or RG_E_NOMEM. On error *out is
 * NULL. */
int rg__policy_load(const rg_allocator *a, const char *path,
                    rg__policy **out, rg__diags *d);
void rg__policy_free(rg__policy *p);
/* As rg__policy_load; with keep_partial, a policy set with errors
 * (RG_E_POLICY) is still returned in *out, as far as it loaded, so that
 * lint can run the semantic checks on it too. Every string field may then
 * be NULL where its value was wrong. */
int rg__policy_load_ex(const rg_allocator *a, const char *path,
                       int keep_partial, rg__policy **out, rg__diags *d);

/* policy_check.c: semantic checks over a loaded model: unique detector
 * ids, known categories, rule keys, extends targets and cycles.
 * Returns RG_OK, RG_E_POLICY (errors in d) or RG_E_NOMEM. */
int rg__policy_check(const rg__policy *p, rg__diags *d);

/* The fixed category taxonomy (DESIGN.md), NULL-terminated. */
extern const char *const rg__taxonomy[];
/* 1 if `name` is a taxonomy category, a declared sub-category, or (when
 * allow_prefix) a dot-prefix of one of those. */
int rg__category_known(const rg__policy *p, const char *name, int allow_prefix);
/* Index of route `name` in p->routes, or -1. */
long rg__policy_route_index(const rg__policy *p, const char *name);
#endif
