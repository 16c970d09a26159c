/* digits.h — digit-gated scanning of the raw view (digits.c). */
#ifndef RG_DIGITS_H
#define RG_DIGITS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* the x86-64 baseline */

/* Sixteen bytes at p, of which `left` are the text's: a plain load when
 * all sixteen are, else the tail through a zeroed block (a byte loop for
 * the tail was most of the cost on a short reply; reading past the text
 * is not allowed). *keep: the mask of the movemask bits that are text. */
static inline __m128i rg__load16(const void *p, size_t left, unsigned *keep)
{
    if (left >= 16) {
        *keep = 0xFFFF;
        return _mm_loadu_si128((const __m128i *)p);
    }
    char tail[16] = {0};
    memcpy(tail, p, left);
    *keep = (1u << left) - 1;
    return _mm_loadu_si128((const __m128i *)(const void *)tail);
}
#endif

/* The value of hex digit c, or -1: shared by the readers of pattern text
 * (this file's and literals.c's \xHH escapes). */
static inline int rg__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A lower bound on the ASCII digits in any match of Hyperscan/PCRE
 * expression `expr` (no UCP); 0 when the pattern needs none or when the
 * reader is not sure. */
unsigned rg__min_digits(const char *expr);
/* The same for the bytes of the ASCII range [lo, hi]: a literal, an
 * escape or a class counts when every byte it can match is in the range.
 * `caseless` (or a (?i) in the pattern): a letter counts only if both its
 * cases are in the range. */
unsigned rg__min_range(const char *expr, int lo, int hi, int caseless);

/* The gates of the raw view's gated databases (compile.c build_split,
 * check.c rg__gates_reached). A gate is a condition every match of its
 * expressions meets: `need` bytes of the ASCII range [lo, hi] within
 * `window` bytes (0: anywhere in the text). A reply that does not meet it
 * skips the gate's database: none of its expressions can match there.
 * The ranges are what the shipped patterns need and prose rarely has:
 * digits (cards, phones, SSNs, national ids, dates, doses), digits and
 * capitals together (IBAN, codice fiscale: '0'..'Z' also holds ':;<=>?@',
 * which only makes the count larger), colons (IPv6). An expression goes to
 * the first gate of the table it passes (rg__gate_of), so the rarer come
 * first. The last gate, RG__GATE_USER, holds the raw regexes that read only
 * the user message (`scan: user`, conv.h): reached only when that message
 * is scanned, never for the reply. */
typedef struct rg__gatedef {
    unsigned char lo, hi;
    unsigned need, window;
    int weak; /* many replies reach it: a regex with trigger literals
                 (literals.h) takes them instead (compile.c build_split) */
    /* A cluster gate (cluster = gap + 1; 0: not one): the `need` bytes
     * of its range are within one cluster of the text
     * (rg__cluster_regions), and its expressions' matches hold at most
     * `gap` bytes outside the range's cluster set (rg__max_outside_in).
     * Phone, card and id numbers are digits and separators; an IBAN, a
     * codice fiscale or a CURP capitals, digits and spaces: their
     * databases are scanned over the few bytes of such clusters only,
     * not the whole reply. */
    unsigned char cluster;
    /* A cluster gate whose clusters rarely hold a match: each is first
     * scanned with one expression, the union of the database's (compile.c
     * build_prescan), and the database itself only where that matches.
     * Hyperscan runs the union as one automaton, the database as one per
     * regex (per 20-byte cluster, ~65 against ~200 ns for the 4-digit
     * gate's eight regexes, ~100 against ~460 ns for the 9-digit gate's
     * twenty). Worth it where few clusters match: 24% of the 4-digit
     * gate's clusters in SGD replies; the 9-digit gate's are phone
     * numbers, 94% of which match, and do without: so does a 4-digit
     * gate's cluster of RG__PRESCAN_DIGITS digits or more (check.c), where
     * the union would only add its scan to the database's. */
    unsigned char prescan;
} rg__gatedef;
#define RG__NGATES 9
#define RG__GATE_USER (RG__NGATES - 1)
extern const rg__gatedef rg__gatedefs[RG__NGATES];
/* Which of the gates g[k] (k < ng, bit k of `want`) the text s[0..n)
 * meets, as a bit per gate: one pass, the ranges' bytes sixteen at a time
 * (SSE2), stopping once every gate asked for is settled. A gate whose
 * window is 0 needs its count anywhere in the text. A gate whose range is
 * not one of the table's (digits, '0'..'Z', ':') is always met. */
unsigned rg__gates_walk(const char *s, size_t n, const rg__gatedef *g, size_t ng, unsigned want);

/* The gate of an expression (not RG__GATE_USER: compile.c decides that by
 * scope) whose matches are at most maxwidth bytes long (UINT_MAX:
 * unbounded or unknown), or -1 for none. `caseless`: compiled caseless.
 * `regions_ok`: a scan of a part of the text finds its matches there (no
 * anchor, no prefilter approximation): cluster gates need it. */
int rg__gate_of(const char *expr, int caseless, unsigned maxwidth, int regions_ok);

/* The cluster set of the digits: digits and the separators numbers are
 * written with, ' ' and '(' ')' '*' '+' ',' '-' '.' '/' (0x28..0x2F;
 * with the digits one range). */
static inline int rg__cluster_byte(unsigned char c)
{
    return c == ' ' || (c >= 0x28 && c <= 0x39);
}
/* The cluster set of a cluster gate's range, by its last byte (hi):
 * '9', the digits' above; 'Z' ('0'..'Z': digits, capitals and
 * ':;<=>?@'), that range and ' ' -- capitals and digits in groups
 * (an IBAN's "GB82 WEST 1234"), prose's lower-case words outside it. No
 * other range is a cluster gate's. */
static inline int rg__cluster_byte_in(unsigned char hi, unsigned char c)
{
    return hi == 'Z' ? c == ' ' || (c >= '0' && c <= 'Z') : rg__cluster_byte(c);
}
/* A prescan gate's clusters with this many digits skip the prescan
 * (rg__gatedef.prescan). */
#define RG__PRESCAN_DIGITS 9

/* The cluster gates' allowance of other bytes in a match (a letter or two
 * of an id: "AB 12 34 56 C", "X1234567L"). */
#define RG__CLUSTER_GAP 3u
/* The most bytes outside the cluster set that a match of `expr` can hold
 * (a character that may be more than one byte counts 4), or UINT_MAX when
 * unbounded or when the reader is not sure (\B, lookarounds, (?x),
 * back-references...). rg__max_outside: the digits' set;
 * rg__max_outside_in: the set of the range ending at hi
 * (rg__cluster_byte_in), a letter counting as outside unless both its
 * cases are in the set when `caseless` (or the pattern sets (?i)). */
unsigned rg__max_outside(const char *expr);
unsigned rg__max_outside_in(const char *expr, unsigned char hi, int caseless);

/* Whether s[0..n) holds at least `need` ASCII digits (counting stops
 * there), sixteen bytes a step. */
int rg__digits_at_least(const char *s, size_t n, size_t need);

/* A byte range of a text, [start, end). */
typedef struct rg__region {
    size_t start, end;
} rg__region;

/* The most regions rg__range_regions returns; a text with more is
 * scanned whole. */
#define RG__MAX_REGIONS 16

/* Where in s[0..n) a match can be that holds `need` bytes of the ASCII
 * range [lo, hi] and is at most `width` bytes long: for every `need`
 * consecutive such bytes b_j .. b_j+need-1 less than `width` apart, the
 * bytes [b_j+need-1 + 1 - width, b_j + width), each widened by one code
 * point on either side (so that a \b at a match's edge sees the byte it
 * sees in the whole text) and kept on code point boundaries (UTF-8 s),
 * overlapping ones merged. Such a match lies inside one region, so
 * scanning the regions finds every match a scan of the whole text finds
 * (and may flag more: a region can start inside a run of digits; PCRE2
 * confirms). Writes at most RG__MAX_REGIONS to out and returns how many
 * (0: no such bytes), or SIZE_MAX when scanning s whole is the better
 * deal (more regions, regions covering most of s, need 0 or > 16, no
 * width). 64-byte blocks too sparse to hold a match with either
 * neighbour are not walked. */
size_t rg__range_regions(const char *s, size_t n, unsigned char lo, unsigned char hi,
                         unsigned need, unsigned width, rg__region *out);

/* The clusters of s[0..n) that hold `need` bytes of the range ending at
 * hi ('9': digits; 'Z': '0'..'Z'): a cluster is a stretch of the range's
 * cluster-set bytes (rg__cluster_byte_in) in which no run of other bytes
 * is longer than `gap`, grown to every such byte so joined. A match that
 * holds `need` such bytes and at most `gap` other bytes lies in one, or
 * reaches past it by at most `gap` bytes: each region is a cluster
 * widened by gap bytes and one code point more on either side (a \b at
 * a match's edge sees the byte it sees in the whole text), on code point
 * boundaries, overlapping ones and ones less than 48 bytes apart merged.
 * Writes at most RG__MAX_REGIONS to out and returns how many (0: no such
 * cluster: nothing can match), or SIZE_MAX for more (scan s whole), and
 * for a gap over 62 (the runs that split clusters are found 64 bytes at
 * a time; a cluster gate's gap is RG__CLUSTER_GAP). */
size_t rg__cluster_regions(const char *s, size_t n, unsigned char hi, unsigned need,
                           unsigned gap, rg__region *out);
/* The same for k lists at once (one pass; the clusters are the same,
 * only the digits they need differ): nr[g] for need[g] into out[g]. */
void rg__cluster_regions_k(const char *s, size_t n, unsigned char hi, unsigned gap,
                           size_t k, const unsigned *need, rg__region *const *out, size_t *nr);

#endif
