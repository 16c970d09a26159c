/* normalize.c — building text views with offset maps (see normalize.h). */
#include "normalize.h"
#include "alloc.h"
#include <string.h>
#include <utf8proc.h>

void rg__vbuf_free(const rg_allocator *a, rg__vbuf *v)
{
    rg__free(a, v->text);
    rg__free(a, v->start);
    rg__free(a, v->srclen);
    memset(v, 0, sizeof *v);
}

int rg__vbuf_reserve(const rg_allocator *a, rg__vbuf *v, size_t need)
{
    if (need + 1 <= v->cap)
        return 0;
    size_t ncap = v->cap ? v->cap : 256;
    while (ncap < need + 1) {
        if (ncap > SIZE_MAX / 8)
            return -1;
        ncap *= 2;
    }
    /* Grow all three or none, so a failure leaves a consistent buffer. */
    char *t = rg__malloc(a, ncap);
    uint32_t *st = rg__malloc(a, ncap * sizeof *st);
    uint8_t *sl = rg__malloc(a, ncap);
    if (!t || !st || !sl) {
        rg__free(a, t);
        rg__free(a, st);
        rg__free(a, sl);
        return -1;
    }
    if (v->len) {
        memcpy(t, v->text, v->len);
        memcpy(st, v->start, v->len * sizeof *st);
        memcpy(sl, v->srclen, v->len);
    }
    rg__free(a, v->text);
    rg__free(a, v->start);
    rg__free(a, v->srclen);
    v->text = t;
    v->start = st;
    v->srclen = sl;
    v->cap = ncap;
    return 0;
}

/* Decode one code point strictly. Returns its length (1..4) and sets *cp,
 * or returns -1 for an invalid sequence (the caller replaces one byte). */
static int decode(const unsigned char *s, size_t n, int32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return -1; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return -1;
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return -1;
        if (c == 0xE0 && s[1] < 0xA0)
            return -1; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return -1; /* UTF-16 surrogate */
        *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return -1;
        if (c == 0xF0 && s[1] < 0x90)
            return -1; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return -1; /* above U+10FFFF */
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) |
              ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return -1;
}

int rg__utf8_is_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* Skip ASCII eight bytes at a time: most replies are ASCII. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        int k = decode(u + i, n - i, &cp);
        if (k < 0)
            return 0;
        i += (size_t)k;
    }
    return 1;
}

size_t rg__utf8_floor(const char *s, size_t n, size_t k)
{
    if (k >= n)
        return n;
    /* Back up over at most three continuation bytes to the lead byte. */
    size_t j = k;
    for (int back = 0; back < 3 && j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80; back++)
        j--;
    return ((unsigned char)s[j] & 0xC0) == 0x80 ? k : j;
}

static int encode(int32_t cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ASCII classes for the fast path: 0 = copy, 1 = upper-case letter,
 * 2 = separator (whitespace and control characters, NUL included). */
static const unsigned char ascii_class[128] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
};

static int is_separator_cp(int32_t cp)
{
    if (cp < 0x80)
        return ascii_class[cp] == 2;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC;
}

/* The folding applied to every non-ASCII code point: compatibility
 * decomposition (fullwidth, ligatures, circled letters...), case folding,
 * marks stripped (accents), default-ignorables dropped (zero-width, bidi
 * controls, soft hyphen), and "lumping" of look-alike punctuation. */
#define RG_FOLD_OPTIONS                                                        \
    (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |                \
     UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_LUMP)

/* The longest decomposition utf8proc produces is 18 code points. */
#define RG_MAX_DECOMP 32

int rg__normalize(const rg_allocator *a, rg__vbuf *v, const char *s,
                  size_t n, int *invalid)
{
    const unsigned char *u = (const unsigned char *)s;
    v->len = 0;
    /* ASCII never expands; non-ASCII reserves more as it goes. */
    if (rg__vbuf_reserve(a, v, n + 8))
        return -1;
    int last_sep = 1; /* drop leading separators: no view starts with ' ' */
    size_t i = 0;
    size_t o = 0;
    char *t = v->text;
    uint32_t *st = v->start;
    uint8_t *sl = v->srclen;
    while (i < n) {
        unsigned char c = u[i];
        if (c < 0x80) {
            unsigned char k = ascii_class[c];
            if (k == 2) {
                if (!last_sep) {
                    t[o] = ' ';
                    st[o] = (uint32_t)i;
                    sl[o] = 1;
                    o++;
                    last_sep = 1;
                }
            } else {
                t[o] = (char)(k ? c + 32 : c);
                st[o] = (uint32_t)i;
                sl[o] = 1;
                o++;
                last_sep = 0;
            }
            i++;
            continue;
        }
        int32_t cp;
        int k = decode(u + i, n - i, &cp);
        int32_t out[RG_MAX_DECOMP];
        utf8proc_ssize_t m;
        if (k < 0) {
            *invalid = 1;
            k = 1;
            out[0] = 0xFFFD;
            m = 1;
        } else {
            int boundclass = 0;
            m = utf8proc_decompose_char(cp, out, RG_MAX_DECOMP,
                                        RG_FOLD_OPTIONS, &boundclass);
            if (m < 0 || m > RG_MAX_DECOMP) {
                out[0] = cp; /* cannot fold: keep it as it is */
                m = 1;
            }
        }
        v->len = o;
        if (rg__vbuf_reserve(a, v, o + (size_t)m * 4 + (n - i) + 8))
            return -1;
        t = v->text;
        st = v->start;
        sl = v->srclen;
        for (utf8proc_ssize_t j = 0; j < m; j++) {
            if (is_separator_cp(out[j])) {
                if (!last_sep) {
                    t[o] = ' ';
                    st[o] = (uint32_t)i;
                    sl[o] = (uint8_t)k;
                    o++;
                    last_sep = 1;
                }
                continue;
            }
            unsigned char enc[4];
            int e = encode(out[j], enc);
            for (int b = 0; b < e; b++) {
                t[o] = (char)enc[b];
                st[o] = (uint32_t)i;
                sl[o] = (uint8_t)k;
                o++;
            }
            last_sep = 0;
        }
        i += (size_t)k;
    }
    if (o > 0 && t[o - 1] == ' ')
        o--; /* no trailing separator either */
    t[o] = '\0';
    v->len = o;
    return 0;
}

int rg__repair_utf8(const rg_allocator *a, rg__vbuf *v, const char *s,
                    size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    v->len = 0;
    if (rg__vbuf_reserve(a, v, n * 3 + 8))
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int k = decode(u + i, n - i, &cp);
        if (k < 0) {
            static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
            for (int b = 0; b < 3; b++) {
                v->text[o] = (char)fffd[b];
                v->start[o] = (uint32_t)i;
                v->srclen[o] = 1;
                o++;
            }
            i++;
            continue;
        }
        for (int b = 0; b < k; b++) {
            v->text[o] = (char)u[i + b];
            v->start[o] = (uint32_t)i;
            v->srclen[o] = (uint8_t)k;
            o++;
        }
        i += (size_t)k;
    }
    v->text[o] = '\0';
    v->len = o;
    return 0;
}

static int is_word_cp(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               (cp >= '0' && cp <= '9') || cp == '_';
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

int rg__word_before(const char *t, size_t len, size_t pos)
{
    if (pos == 0 || pos > len)
        return 0;
    const unsigned char *u = (const unsigned char *)t;
    if (u[pos - 1] < 0x80)
        return is_word_cp(u[pos - 1]);
    size_t j = pos - 1;
    while (j > 0 && pos - j < 4 && (u[j] & 0xC0) == 0x80)
        j--;
    int32_t cp;
    return decode(u + j, pos - j, &cp) > 0 && is_word_cp(cp);
}

int rg__word_after(const char *t, size_t len, size_t pos)
{
    if (pos >= len)
        return 0;
    const unsigned char *u = (const unsigned char *)t;
    if (u[pos] < 0x80)
        return is_word_cp(u[pos]);
    int32_t cp;
    return decode(u + pos, len - pos, &cp) > 0 && is_word_cp(cp);
}
