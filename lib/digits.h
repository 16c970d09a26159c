/* digits.h — digit-gated scanning of the raw view (digits.c). */
#ifndef RG_DIGITS_H
#define RG_DIGITS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* The gates of the raw view's digit-gated databases, ascending: an
 * expression that needs md digits goes to the database of the largest
 * gate <= md (none: the always-scanned database). Chosen from the SGD
 * replies (52% have a digit, 26% four or more, 7% nine or more) and the
 * shipped patterns (IP addresses, dates need 4; SSNs, phones, cards,
 * national ids 9 or more): docs/PERFORMANCE.md. */
#define RG__NGATES 3
extern const unsigned rg__gates[RG__NGATES];
/* Per gate, the window its digits must fit in (0: anywhere in the text).
 * The last gate (9 digits within 48 bytes) takes the expressions that
 * need 9 digits and can match no more than 48 bytes — every shipped one:
 * cards (28), phones, SSNs (a labelled SSN: 42), national ids — so the
 * 9-digit gate without a window holds nothing and costs no scan. A reply
 * whose digits are scattered (a street number, a zip code and a time)
 * skips them: 41% of the SGD replies with 9 digits have no 9 within 48
 * bytes (50% within 32, which would leave the labelled SSN behind). */
extern const unsigned rg__gate_window[RG__NGATES];
/* The gate index for an expression needing md digits whose matches are at
 * most maxwidth bytes long (UINT_MAX: unbounded or unknown), or -1. */
int rg__gate_of(unsigned md, unsigned maxwidth);

/* The ASCII digits among s[base .. base+8) (bytes past n are not
 * digits) as a mask with bit 8k+7 set for a digit at base+k: the SWAR test
 * of rg__count_digits (per byte, "high bit clear and 0x30 <= b <= 0x39")
 * on little-endian machines, a byte loop elsewhere and at the tail. The
 * digit-position loops below walk its set bits, ~1-2 instructions per byte
 * where a byte loop took ~6. */
static inline uint64_t rg__digit_mask8(const char *s, size_t base, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (base + 8 <= n) {
        const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
        uint64_t w;
        memcpy(&w, s + base, 8);
        uint64_t t = w & ~high;
        return (t + (0x80 - 0x30) * ones) & ~(t + (0x80 - 0x3A) * ones) & ~w & high;
    }
#endif
    uint64_t m = 0;
    for (size_t b = base; b < n && b < base + 8; b++)
        if ((unsigned char)(s[b] - '0') < 10)
            m |= 0x80ull << (8 * (b - base));
    return m;
}

/* The byte offset (from base) of the lowest digit in a mask. */
static inline size_t rg__digit_mask_first(uint64_t m)
{
    return (size_t)(__builtin_ctzll(m) >> 3);
}

/* 1 if some `window` consecutive bytes of s[0..n) hold `need` ASCII
 * digits (need <= 16), else 0. A match of at most `window` bytes with
 * `need` digits needs it. */
static inline int rg__digits_within(const char *s, size_t n, unsigned need, unsigned window)
{
    size_t pos[16];
    size_t k = 0;
    if (need == 0)
        return 1;
    if (need > 16)
        return 1; /* not tracked: never a reason to skip */
    for (size_t base = 0; base < n; base += 8) {
        for (uint64_t m = rg__digit_mask8(s, base, n); m; m &= m - 1) {
            size_t i = base + rg__digit_mask_first(m);
            pos[k & 15] = i;
            k++;
            if (k >= need && i - pos[(k - need) & 15] < window)
                return 1;
        }
    }
    return 0;
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

/* ASCII digits in s[0..n), or some number >= `enough` once it is
 * reached. Eight bytes at a time (SWAR: per byte, "high bit clear and
 * 0x30 <= b <= 0x39" as a high-bit mask, summed by one multiply): about
 * 1.5 instructions per byte, where a byte loop took 4. */
static inline size_t rg__count_digits(const char *s, size_t n, size_t enough)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t c = 0, i = 0;
    for (; i + 8 <= n && c < enough; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t t = w & ~high;                        /* each byte < 0x80 */
        uint64_t ge30 = t + (0x80 - 0x30) * ones;      /* high bit: t >= 0x30 */
        uint64_t ge3a = t + (0x80 - 0x3A) * ones;      /* high bit: t >= 0x3a */
        uint64_t m = ge30 & ~ge3a & ~w & high;         /* and w itself ASCII */
        c += (size_t)(((m >> 7) * ones) >> 56);
    }
    for (; i < n; i++)
        c += (unsigned char)(s[i] - '0') < 10;
    return c;
}
#endif
