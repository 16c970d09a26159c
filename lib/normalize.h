/* normalize.h — the text views that scanners see, each with a map from
 * every view byte back to the original bytes it came from, so that a hit
 * in any view reports (and redaction removes) exact original spans.
 *
 * Views:
 *   raw         the reply as written; only materialised when the reply
 *               holds invalid UTF-8 (each bad byte becomes U+FFFD), since
 *               Hyperscan's UTF-8 mode has undefined behaviour otherwise.
 *   normalized  compatibility-folded (NFKC-style), case-folded, marks
 *               stripped, default-ignorable code points (zero-width, bidi
 *               controls) dropped, whitespace and control runs collapsed
 *               to one space, Cyrillic/Greek look-alike letters folded to
 *               Latin inside words that also hold Latin letters. Always
 *               valid UTF-8.
 *   compacted   built from the normalized view for spelling tricks:
 *               leetspeak folded inside words (sh1t, $hit, @ss), letters
 *               spaced out with one repeated separator joined (f u c k,
 *               f.u.c.k), runs of a letter collapsed to one (fuuuck ->
 *               fuck; also ass -> as, so terms are compacted the same
 *               way), punctuation dropped, words separated by one space.
 *               `mark` says which bytes an obfuscation produced: a match
 *               there counts only if it covers a marked byte.
 *
 * Buffers grow with the caller's allocator; once grown to the largest
 * input, building a view allocates nothing. */
#ifndef RG_NORMALIZE_H
#define RG_NORMALIZE_H
#include <stddef.h>
#include <stdint.h>
#include "replyguard.h"

typedef struct rg__vbuf {
    char *text;       /* view bytes (NUL-terminated for convenience) */
    uint32_t *start;  /* per view byte: first original byte of its source */
    uint32_t *end;    /* per view byte: one past the last original byte */
    uint8_t *mark;    /* per view byte: 1 if it came from an obfuscation
                         (look-alike, leet, spacing, elongation) */
    size_t len;
    size_t cap;
    int padded;       /* RG__VIEW_PAD zero bytes follow text and mark
                         (rg__normalize's views; not a slice of one) */
    int unmarked;     /* with padded: no byte is marked (rg__normalize
                         had no look-alike to fold); read only then */
} rg__vbuf;

void rg__vbuf_free(const rg_allocator *a, rg__vbuf *v);
/* Make room for `need` bytes in total; 0 or -1 (OOM). */
int rg__vbuf_reserve(const rg_allocator *a, rg__vbuf *v, size_t need);

/* Zero bytes rg__normalize leaves after text[len] and mark[len], so that
 * the passes over a normalized view (normalize.c: the compaction
 * windows' shortcut) load sixteen bytes at a time without a tail copy. */
#define RG__VIEW_PAD 32

/* Build the normalized view of s[0..n). *invalid is set to 1 if s holds
 * invalid UTF-8 (left untouched otherwise). Returns 0 or -1 (OOM). The
 * view is followed by RG__VIEW_PAD zero bytes (text and mark; padded). */
int rg__normalize(const rg_allocator *a, rg__vbuf *v, const char *s,
                  size_t n, int *invalid);

/* Build the compacted view from a normalized view n. 0 or -1 (OOM).
 * Text (whole = 0): only windows of a few words around suspicious words
 * (leet, a run of three, spaced letters, look-alikes) are compacted,
 * joined by '\n'; with none the view is empty, since a match elsewhere
 * could not count. Terms (whole = 1): the whole text. */
/* The compaction windows rg__compact would take for normalized view n
 * (up to 32 into start/end; -1: too many, the whole text), walking the
 * words a byte at a time (bytewise) or by bit masks (what rg__compact
 * does). For tests: both must agree. */
int rg__compact_windows(const rg__vbuf *n, int bytewise, size_t *start, size_t *end);
int rg__compact(const rg_allocator *a, rg__vbuf *c, const rg__vbuf *n,
                int whole);
/* For tests: nonzero sends every word through the byte-at-a-time path
 * that folds leet and cuts runs (the reference the plain-word copy of
 * rg__compact is tested against). Not for use while checks run. */
extern int rg__compact_bytewise;

/* Build the raw view with each invalid UTF-8 byte replaced by U+FFFD. */
int rg__repair_utf8(const rg_allocator *a, rg__vbuf *v, const char *s,
                    size_t n);

/* 1 if s[0..n) is valid UTF-8 (overlongs, surrogates and code points
 * above U+10FFFF are invalid). */
int rg__utf8_is_valid(const char *s, size_t n);

/* The largest k <= n such that s[0..k) does not end inside a UTF-8
 * sequence (used to cut an oversize reply on a code point boundary). */
size_t rg__utf8_floor(const char *s, size_t n, size_t k);

/* Word-character tests on a view, for whole-word matching: 1 if the code
 * point ending just before `pos` (dir < 0) or starting at `pos` (dir > 0)
 * is a letter, digit or underscore. Outside the text counts as no. */
int rg__word_before(const char *t, size_t len, size_t pos);
int rg__word_after(const char *t, size_t len, size_t pos);
#endif
