/* lexicon.h — files below the policy root (bounded reads, lexicon paths
 * that cannot escape the root, the lexicon format, the policy hash) and
 * small text helpers shared by the policy loader and checker. */
#ifndef RG_LEXICON_H
#define RG_LEXICON_H
#include <stddef.h>
#include "model.h"
#include "sha256.h"

/* Largest policy or lexicon file read: far above any real policy, small
 * enough that a stray multi-gigabyte file is refused instead of loaded. */
#define RG__MAX_FILE_BYTES ((size_t)16 << 20)
/* Longest lexicon line and most terms in one lexicon file. */
#define RG__LEXICON_MAX_LINE 4096
#define RG__LEXICON_MAX_TERMS 1000000

/* Read a whole regular file (at most RG__MAX_FILE_BYTES) into *data, with
 * a NUL after the last byte. nofollow: refuse a symlink as the last path
 * component. Returns RG_OK; RG_E_NOMEM; RG_E_IO when the OS refuses
 * (open/read failed); RG_E_POLICY when the file is not a regular file or
 * is too large. On error, `why` (why_size bytes) says what went wrong. */
int rg__read_file(const rg_allocator *a, const char *path, int nofollow,
                  char **data, size_t *len, char *why, size_t why_size);

/* Record one file read for the policy: `display` (the path as shown in
 * diagnostics) is appended to p->files and the stored copy returned, for
 * rg__loc.file; (hash_name, content) is fed into h, length-prefixed so
 * that no two file sets hash alike. hash_name is relative to the policy
 * root, so the hash does not depend on where the policy is installed.
 * Returns NULL on OOM. */
const char *rg__policy_add_file(rg__policy *p, rg__sha256 *h,
                                const char *display, const char *hash_name,
                                const void *data, size_t len);

/* Resolve lexicon `path` (as written in the policy) below p->root, whose
 * realpath is real_root; read it, record and hash it, and set det->terms.
 * Path problems (absolute, `..` above the root, symlink out of the root,
 * missing, unreadable) are reported at `at`; content problems at the
 * lexicon's file:line:column. Returns RG_OK, RG_E_POLICY (reported in d)
 * or RG_E_NOMEM. */
int rg__lexicon_load(rg__policy *p, rg__sha256 *h, const char *real_root,
                     const char *path, const rg__loc *at, rg__detector *det,
                     rg__diags *d);

/* Parse lexicon text (format in docs/POLICY_FORMAT.md) into a new array
 * of terms whose locs name `file` (which must outlive them). Returns
 * RG_OK, RG_E_POLICY (errors in d; *terms still holds the good lines) or
 * RG_E_NOMEM (*terms NULL). */
int rg__lexicon_parse(const rg_allocator *a, const char *file,
                      const char *data, size_t len, rg__term **terms,
                      size_t *nterms, rg__diags *d);

/* Quoting untrusted text inside a message: at most RG__QUOTE_MAX bytes of
 * s[0..len) (cut on a UTF-8 boundary, "..." appended when cut), control
 * bytes and invalid UTF-8 shown as \xNN. Returns buf. */
#define RG__QUOTE_MAX 60
#define RG__QUOTE_SIZE (RG__QUOTE_MAX * 4 + 8)
const char *rg__quote(char *buf, const char *s, size_t len);

/* A number in 0..1 written in decimal (`0.5`, `.5`, `1`, `5e-1`), parsed
 * independently of the process locale. Returns 0, -1 when s is not a
 * decimal number, -2 when it is outside 0..1. */
int rg__parse_unit(const char *s, size_t len, double *out);

/* Levenshtein distance between a and b, or limit + 1 when it is above
 * limit (or either string is long): cheap enough for "did you mean". */
size_t rg__edit_distance(const char *a, const char *b, size_t limit);

/* Names sorted for duplicate detection: by name, then by position (ix),
 * so in each run of equal names the first-defined comes first. */
typedef struct rg__name_ix {
    const char *name;
    size_t ix;
} rg__name_ix;
/* Sort the n names found at `first_name`, `first_name` + stride, ... (a
 * char * member of an array of structs). Returns the sorted array (free
 * with rg__free) or NULL on OOM. Names must not be NULL. */
rg__name_ix *rg__sort_names(const rg_allocator *a, char *const *first_name,
                            size_t stride, size_t n);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF); else 0 and *bad = offset of the first bad byte. */
int rg__utf8_valid(const char *s, size_t len, size_t *bad);
#endif
