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
} rg__gatedef;
#define RG__NGATES 7
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
 * unbounded or unknown), or -1 for none. `caseless`: compiled caseless. */
int rg__gate_of(const char *expr, int caseless, unsigned maxwidth);

/* The bytes of [lo, hi] among s[base .. base+8) (bytes past n are not)
 * as a mask with bit 8k+7 set for such a byte at base+k: per byte, "high
 * bit clear and lo <= b <= hi" on little-endian machines (SWAR), a byte
 * loop elsewhere and at the tail. */
static inline uint64_t rg__range_mask8(const char *s, size_t base, size_t n,
                                       unsigned char lo, unsigned char hi)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (base + 8 <= n) {
        const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
        uint64_t w;
        memcpy(&w, s + base, 8);
        uint64_t t = w & ~high;
        return (t + (uint64_t)(0x80 - lo) * ones) & ~(t + (uint64_t)(0x80 - hi - 1) * ones) &
               ~w & high;
    }
#endif
    uint64_t m = 0;
    for (size_t b = base; b < n && b < base + 8; b++)
        if ((unsigned char)(s[b] - lo) <= (unsigned char)(hi - lo))
            m |= 0x80ull << (8 * (b - base));
    return m;
}

/* The ASCII digits among s[base .. base+8) (rg__range_mask8 of '0'..'9'):
 * the digit-position loops below walk its set bits, ~1-2 instructions per
 * byte where a byte loop took ~6. */
static inline uint64_t rg__digit_mask8(const char *s, size_t base, size_t n)
{
    return rg__range_mask8(s, base, n, '0', '9');
}

/* The byte offset (from base) of the lowest digit in a mask. */
static inline size_t rg__digit_mask_first(uint64_t m)
{
    return (size_t)(__builtin_ctzll(m) >> 3);
}

/* 1 if some `window` consecutive bytes of s[0..n) hold `need` bytes of
 * [lo, hi] (need <= 16), else 0. A match of at most `window` bytes with
 * `need` such bytes needs it. */
static inline int rg__range_within(const char *s, size_t n, unsigned char lo, unsigned char hi,
                                   unsigned need, unsigned window)
{
    size_t pos[16];
    size_t k = 0;
    if (need == 0)
        return 1;
    if (need > 16)
        return 1; /* not tracked: never a reason to skip */
    for (size_t base = 0; base < n; base += 8) {
        for (uint64_t m = rg__range_mask8(s, base, n, lo, hi); m; m &= m - 1) {
            size_t i = base + rg__digit_mask_first(m);
            pos[k & 15] = i;
            k++;
            if (k >= need && i - pos[(k - need) & 15] < window)
                return 1;
        }
    }
    return 0;
}

static inline int rg__digits_within(const char *s, size_t n, unsigned need, unsigned window)
{
    return rg__range_within(s, n, '0', '9', need, window);
}

/* A byte range of a text, [start, end). */
typedef struct rg__region {
    size_t start, end;
} rg__region;

/* The most regions rg__digit_regions returns; a text with more is
 * scanned whole. */
#define RG__MAX_REGIONS 16

/* Where in s[0..n) a match can be that holds `need` ASCII digits and is at
 * most `width` bytes long: for every `need` consecutive digits d_j ..
 * d_j+need-1 less than `width` apart, the bytes [d_j+need-1 + 1 - width,
 * d_j + width), each widened by one code point on either side (so that a
 * \b at a match's edge sees the byte it sees in the whole text) and kept
 * on code point boundaries (UTF-8 s), overlapping ones merged. Such a
 * match lies inside one region, so scanning the regions finds every match
 * a scan of the whole text finds (and may flag more: a region can start
 * inside a run of digits; the caller confirms with PCRE2 on the whole
 * text). Writes at most RG__MAX_REGIONS to out and returns how many (0:
 * no such digits), or SIZE_MAX when scanning s whole is the better deal
 * (more regions, regions covering most of s, need 0 or > 16, no width). */
size_t rg__digit_regions(const char *s, size_t n, unsigned need, unsigned width,
                         rg__region *out);
/* The same around the bytes of [lo, hi] (rg__digit_regions: '0'..'9'). */
size_t rg__range_regions(const char *s, size_t n, unsigned char lo, unsigned char hi,
                         unsigned need, unsigned width, rg__region *out);

/* Bytes of [lo, hi] in s[0..n), or some number >= `enough` once it is
 * reached. Eight bytes at a time (SWAR: per byte, "high bit clear and
 * lo <= b <= hi" as a high-bit mask, summed by one multiply): about 1.5
 * instructions per byte, where a byte loop took 4. */
static inline size_t rg__count_range(const char *s, size_t n, unsigned char lo,
                                     unsigned char hi, size_t enough)
{
    const uint64_t ones = 0x0101010101010101ull;
    size_t c = 0, i = 0;
    for (; i + 8 <= n && c < enough; i += 8) {
        uint64_t m = rg__range_mask8(s, i, n, lo, hi);
        c += (size_t)(((m >> 7) * ones) >> 56);
    }
    for (; i < n; i++)
        c += (unsigned char)(s[i] - lo) <= (unsigned char)(hi - lo);
    return c;
}

static inline size_t rg__count_digits(const char *s, size_t n, size_t enough)
{
    return rg__count_range(s, n, '0', '9', enough);
}
#endif
