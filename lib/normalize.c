/* normalize.c — building text views with offset maps (see normalize.h). */
#include "normalize.h"
#include "alloc.h"
#include "digits.h"
#include <string.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* the x86-64 baseline: the views' 16-byte fast paths */
#endif

void rg__vbuf_free(const rg_allocator *a, rg__vbuf *v)
{
    rg__free(a, v->text);
    rg__free(a, v->start);
    rg__free(a, v->end);
    rg__free(a, v->mark);
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
    /* Grow all four or none, so a failure leaves a consistent buffer. */
    char *t = rg__malloc(a, ncap);
    uint32_t *st = rg__malloc(a, ncap * sizeof *st);
    uint32_t *en = rg__malloc(a, ncap * sizeof *en);
    uint8_t *mk = rg__malloc(a, ncap);
    if (!t || !st || !en || !mk) {
        rg__free(a, t);
        rg__free(a, st);
        rg__free(a, en);
        rg__free(a, mk);
        return -1;
    }
    if (v->len) {
        memcpy(t, v->text, v->len);
        memcpy(st, v->start, v->len * sizeof *st);
        memcpy(en, v->end, v->len * sizeof *en);
        memcpy(mk, v->mark, v->len);
    }
    rg__free(a, v->text);
    rg__free(a, v->start);
    rg__free(a, v->end);
    rg__free(a, v->mark);
    v->text = t;
    v->start = st;
    v->end = en;
    v->mark = mk;
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

/* The ASCII fast path in one lookup: the byte the normalized view gets
 * for an ASCII byte that is neither a separator nor a control (lower-cased),
 * 0 for separators, controls and non-ASCII bytes (the slow path). */
static const unsigned char ascii_fold[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static int is_separator_cp(int32_t cp)
{
    if (cp < 0x80)
        return ascii_class[cp] == 2;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC;
}

/* Look-alike letters (after case folding) that stand in for Latin ones
 * in mixed-script spellings ("fuсk" with a Cyrillic es). Only letters
 * whose lower-case glyph is the Latin one in common fonts: folding a
 * merely similar letter would garble real Cyrillic or Greek words, and
 * the fold only happens inside words that also hold Latin letters. */
static const struct {
    int32_t cp;
    char latin;
} lookalikes[] = {
    {0x03B1, 'a'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'},
    {0x03C1, 'p'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x0430, 'a'}, {0x0435, 'e'},
    {0x043A, 'k'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0443, 'y'},
    {0x0445, 'x'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0458, 'j'}, {0x04BB, 'h'},
    {0x04CF, 'l'}, {0x0501, 'd'}, {0x051B, 'q'}, {0x051D, 'w'}, {0x0585, 'o'},
};

static char lookalike(int32_t cp)
{
    if (cp < 0x3B1 || cp > 0x585)
        return 0;
    size_t lo = 0, hi = sizeof lookalikes / sizeof lookalikes[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lookalikes[mid].cp == cp)
            return lookalikes[mid].latin;
        if (lookalikes[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int decode(const unsigned char *s, size_t n, int32_t *cp);

/* In place: inside each word (run of non-space bytes) holding both an
 * ASCII letter and a look-alike, replace the look-alikes by their Latin
 * letter (2 bytes -> 1, so writing never overtakes reading) and mark
 * them as obfuscation. */
static void fold_lookalikes(rg__vbuf *v)
{
    unsigned char *t = (unsigned char *)v->text;
    size_t n = v->len, w = 0;
    for (size_t r = 0; r < n;) {
        size_t e = r;
        int latin = 0, look = 0;
        while (e < n && t[e] != ' ') {
            if ((t[e] >= 'a' && t[e] <= 'z'))
                latin = 1;
            else if (t[e] >= 0x80 && !look) {
                int32_t cp;
                if (decode(t + e, n - e, &cp) > 0 && lookalike(cp))
                    look = 1;
            }
            e++;
        }
        if (e < n)
            e++; /* keep the space with the word */
        while (r < e) {
            int32_t cp;
            int k = 1;
            char l = 0;
            if (latin && look && t[r] >= 0x80 && (k = decode(t + r, e - r, &cp)) > 0)
                l = lookalike(cp);
            if (k < 1)
                k = 1;
            if (l) {
                t[w] = (unsigned char)l;
                v->start[w] = v->start[r];
                v->end[w] = v->end[r + (size_t)k - 1];
                v->mark[w] = 1;
                w++;
                r += (size_t)k;
                continue;
            }
            for (int b = 0; b < k; b++, r++, w++) {
                t[w] = t[r];
                v->start[w] = v->start[r];
                v->end[w] = v->end[r];
                v->mark[w] = v->mark[r];
            }
        }
    }
    t[w] = '\0';
    v->len = w;
}

/* Non-ASCII punctuation (after utf8proc's lumping of dashes and quotes):
 * read as '.', so that word edges and the compacted view treat "¡", "¿"
 * or "«" like ASCII punctuation rather than as part of a word. */
static int is_punct_cp(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_PS || c == UTF8PROC_CATEGORY_PE ||
           c == UTF8PROC_CATEGORY_PI || c == UTF8PROC_CATEGORY_PF ||
           c == UTF8PROC_CATEGORY_PO || c == UTF8PROC_CATEGORY_PD;
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
    /* ASCII never expands; non-ASCII reserves more as it goes. Both keep
     * room for the zero padding after the view (RG__VIEW_PAD). */
    if (rg__vbuf_reserve(a, v, n + RG__VIEW_PAD + 8))
        return -1;
    int last_sep = 1; /* drop leading separators: no view starts with ' ' */
    size_t i = 0;
    size_t o = 0;
    char *t = v->text;
    uint32_t *st = v->start;
    uint32_t *en = v->end;
    int confusable = 0; /* a look-alike letter was written: fold pass */
    while (i < n) {
#if defined(__SSE2__)
        /* Sixteen printable ASCII bytes with no two spaces together (and
         * no space right after a separator): the view gets them
         * lower-cased, one for one, with the offsets of one-byte code
         * points. Most of an English reply: ~2 instructions a byte where
         * the byte loop below takes ~9. */
        if (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
            __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x1F)),
                                       _mm_cmplt_epi8(x, _mm_set1_epi8(0x7F)));
            unsigned okm = (unsigned)_mm_movemask_epi8(ok);
            unsigned spm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
            if (okm == 0xFFFF && !(spm & (spm >> 1)) && !(last_sep && (spm & 1))) {
                __m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                                           _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
                x = _mm_add_epi8(x, _mm_and_si128(up, _mm_set1_epi8(32)));
                _mm_storeu_si128((__m128i *)(void *)(t + o), x);
                __m128i at = _mm_add_epi32(_mm_set1_epi32((int)(uint32_t)i), _mm_setr_epi32(0, 1, 2, 3));
                for (int k = 0; k < 4; k++) {
                    __m128i q = _mm_add_epi32(at, _mm_set1_epi32(4 * k));
                    _mm_storeu_si128((__m128i *)(void *)(st + o + 4 * k), q);
                    _mm_storeu_si128((__m128i *)(void *)(en + o + 4 * k),
                                     _mm_add_epi32(q, _mm_set1_epi32(1)));
                }
                o += 16;
                i += 16;
                last_sep = (int)((spm >> 15) & 1);
                continue;
            }
        }
#endif
        unsigned char c = u[i];
        unsigned char f = ascii_fold[c];
        if (f) {
            /* A run of plain ASCII (most of a reply): one table lookup and
             * three stores per byte, no branches on the class. */
            do {
                t[o] = (char)f;
                st[o] = (uint32_t)i;
                en[o] = (uint32_t)i + 1;
                o++;
                i++;
            } while (i < n && (f = ascii_fold[u[i]]) != 0);
            last_sep = 0;
            continue;
        }
        if (c < 0x80) {
            unsigned char k = ascii_class[c];
            if (k == 2) {
                if (!last_sep) {
                    t[o] = ' ';
                    st[o] = (uint32_t)i;
                    en[o] = (uint32_t)i + 1;
                    o++;
                    last_sep = 1;
                }
            } else {
                t[o] = (char)(k ? c + 32 : c);
                st[o] = (uint32_t)i;
                en[o] = (uint32_t)i + 1;
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
        if (rg__vbuf_reserve(a, v, o + (size_t)m * 4 + (n - i) + RG__VIEW_PAD + 8))
            return -1;
        t = v->text;
        st = v->start;
        en = v->end;
        for (utf8proc_ssize_t j = 0; j < m; j++) {
            if (is_separator_cp(out[j])) {
                if (!last_sep) {
                    t[o] = ' ';
                    st[o] = (uint32_t)i;
                    en[o] = (uint32_t)(i + (size_t)k);
                    o++;
                    last_sep = 1;
                }
                continue;
            }
            if (!confusable && lookalike(out[j]))
                confusable = 1;
            if (out[j] >= 0x80 && is_punct_cp(out[j]))
                out[j] = '.'; /* "¡", "¿", "«": one ASCII class for all */
            unsigned char enc[4];
            int e = encode(out[j], enc);
            for (int b = 0; b < e; b++) {
                t[o] = (char)enc[b];
                st[o] = (uint32_t)i;
                en[o] = (uint32_t)(i + (size_t)k);
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
    memset(v->mark, 0, o);
    if (confusable)
        fold_lookalikes(v);
    v->unmarked = !confusable;
    memset(v->text + v->len, 0, RG__VIEW_PAD);
    memset(v->mark + v->len, 0, RG__VIEW_PAD);
    v->padded = 1;
    return 0;
}

int rg__repair_utf8(const rg_allocator *a, rg__vbuf *v, const char *s,
                    size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    v->len = 0;
    v->padded = 0;
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
                v->end[o] = (uint32_t)i + 1;
                v->mark[o] = 0;
                o++;
            }
            i++;
            continue;
        }
        for (int b = 0; b < k; b++) {
            v->text[o] = (char)u[i + b];
            v->start[o] = (uint32_t)i;
            v->end[o] = (uint32_t)(i + (size_t)k);
            v->mark[o] = 0;
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

/* ------------------------------------------------------------------ */
/* The compacted view                                                  */
/* ------------------------------------------------------------------ */

/* Digits and symbols that stand for letters inside words. */
static char leet(unsigned char c)
{
    switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '7': return 't';
    case '8': return 'b';
    case '9': return 'g';
    case '@': return 'a';
    case '$': return 's';
    case '!': return 'i';
    case '|': return 'l';
    default: return 0;
    }
}

static int is_leet_symbol(unsigned char c)
{
    return c == '@' || c == '$' || c == '!' || c == '|';
}

/* A byte that belongs to a word in the compacted view. */
static int is_tok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
           is_leet_symbol(c);
}

typedef struct cbuild {
    rg__vbuf *c;
    const rg__vbuf *n;
    size_t o;
    int run;          /* length of the current run of one letter */
    int keep;         /* letters an elongated run (3+) is cut to: 1 or 2 */
    int variant;      /* the second copy would differ from the first */
} cbuild;

static void emit(cbuild *b, unsigned char ch, size_t from, size_t to, int mark)
{
    rg__vbuf *c = b->c;
    /* Natural double letters stay ("abeed" is not "abed", "coon" is not
     * "con"). A run of three or more is an elongation: it is cut to
     * `keep` letters, which then cover the whole run and are marked.
     * The text gets two copies, keep = 1 ("fuuuck" -> "fuck") and
     * keep = 2 ("asssss" -> "ass"), since either could be meant. */
    if (ch >= 'a' && ch <= 'z' && b->run > 0 && b->o > 0 &&
        (unsigned char)c->text[b->o - 1] == ch) {
        b->run++;
        if (b->run >= 3) {
            if (b->run == 3) {
                b->variant = 1;
                if (b->keep == 1)
                    b->o--; /* drop the second letter */
                else
                    c->mark[b->o - 2] = 1;
            }
            c->end[b->o - 1] = b->n->end[to - 1];
            c->mark[b->o - 1] = 1;
            return;
        }
    } else {
        b->run = ch >= 'a' && ch <= 'z' ? 1 : 0;
    }
    c->text[b->o] = (char)ch;
    c->start[b->o] = b->n->start[from];
    c->end[b->o] = b->n->end[to - 1];
    c->mark[b->o] = (uint8_t)mark;
    for (size_t i = from; i < to; i++)
        c->mark[b->o] |= b->n->mark[i];
    b->o++;
}

/* Count letters (ASCII letters and non-ASCII lead bytes) in t[r..e). */
static int letters(const unsigned char *t, size_t r, size_t e)
{
    int k = 0;
    for (size_t i = r; i < e; i++)
        if ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 0xC0))
            k++;
    return k;
}

/* 1 if t[r..e) looks like a hex identifier, not leetspeak: only hex
 * digits, and either long ("deadbeef") or next to a ':' as in IPv6 and
 * MAC addresses ("a80e:12"). Short words stay leet ("b0c4" is "boca"). */
static int hex_identifier(const unsigned char *t, size_t len, size_t r, size_t e)
{
    for (size_t i = r; i < e; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
            return 0;
    return e - r >= 6 || (e < len && t[e] == ':') || (r > 0 && t[r - 1] == ':');
}

/* Emit one word t[r..e), folding leet where the word has letters: symbols
 * when it has one, digits only when it has two (so "a55" in a product
 * name stays a code, while "a55hole" and "sh1t" fold). */
int rg__compact_bytewise;

static void emit_word(cbuild *b, const unsigned char *t, size_t r, size_t e)
{
    int nl = letters(t, r, e);
    if (hex_identifier(t, b->n->len, r, e))
        nl = 0; /* "a80e:12" is an address: fold no digit in it */
    /* Most words of a window are plain ("i have a 4.4 rating at"): nothing
     * in them folds and no letter runs three times, so emit() would copy
     * each byte as it is (mark 0 or the normalized view's, a run of one
     * letter ending at most 2 long). Copied so, without emit's branches
     * per byte (which made compaction ~30 cycles a byte). A word starts
     * after a separator, where the run count is 0 (compact_range). */
    int plain = b->run == 0 && !rg__compact_bytewise;
    for (size_t i = r; i < e && plain; i++) {
        unsigned char ch = t[i];
        if (is_leet_symbol(ch) ? nl >= 1 : (ch >= '0' && ch <= '9' && nl >= 2))
            plain = 0; /* would fold */
        else if (i >= r + 2 && ch >= 'a' && ch <= 'z' && ch == t[i - 1] && ch == t[i - 2])
            plain = 0; /* a run of three: elongation */
    }
    if (plain && e > r) {
        rg__vbuf *c = b->c;
        const rg__vbuf *n = b->n;
        size_t o = b->o;
        for (size_t i = r; i < e; i++, o++) {
            c->text[o] = (char)t[i];
            c->start[o] = n->start[i];
            c->end[o] = n->end[i];
            c->mark[o] = n->mark[i];
        }
        b->o = o;
        unsigned char last = t[e - 1];
        b->run = !(last >= 'a' && last <= 'z') ? 0 : e - r >= 2 && t[e - 2] == last ? 2 : 1;
        return;
    }
    for (size_t i = r; i < e; i++) {
        unsigned char ch = t[i];
        char l = 0;
        if (is_leet_symbol(ch) ? nl >= 1 : (ch >= '0' && ch <= '9' && nl >= 2))
            l = leet(ch);
        if (l)
            emit(b, (unsigned char)l, i, i + 1, 1);
        else
            emit(b, ch, i, i + 1, 0);
    }
}

/* Words of context kept around a suspicious word on each side, so that
 * phrase terms ("i know where you live") still match in the window. */
#define RG__WINDOW_WORDS 6
#define RG__MAX_WINDOWS 32

typedef struct window {
    size_t start, end; /* normalized-view bytes */
} window;

/* 1 if t[r..e) is a number with an ordinal or unit suffix ("13th",
 * "7pm", "5km", "2x"): digits then at most three letters from a short
 * list. Such words are common in support replies and are not leetspeak,
 * so they must not open a compaction window. */
static int number_with_suffix(const unsigned char *t, size_t r, size_t e)
{
    /* Each suffix as the number its bytes make: one compare per suffix (a
     * strlen and a memcmp each were most of a long reply's window search). */
#define S1(a) {1, (uint32_t)(a)}
#define S2(a, b) {2, (uint32_t)(a) << 8 | (uint32_t)(b)}
#define S3(a, b, c) {3, (uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c)}
    static const struct {
        uint8_t len;
        uint32_t v;
    } suffixes[] = {
        S2('s', 't'), S2('n', 'd'), S2('r', 'd'), S2('t', 'h'), S2('a', 'm'), S2('p', 'm'),
        S1('s'), S1('k'), S1('m'), S1('h'), S1('d'), S1('x'), S2('k', 'g'), S2('k', 'm'),
        S2('m', 'i'), S2('m', 'l'), S2('m', 'm'), S2('c', 'm'), S2('h', 'r'),
        S3('h', 'r', 's'), S3('m', 'i', 'n'), S2('m', 'b'), S2('g', 'b'), S2('t', 'b'),
        S2('f', 't'), S2('l', 'b'), S3('l', 'b', 's'), S2('o', 'z'), S3('m', 'p', 'h'),
        S2('y', 'r'), S3('y', 'r', 's'), S1('g'), S1('l')
    };
#undef S1
#undef S2
#undef S3
    size_t i = r;
    while (i < e && t[i] >= '0' && t[i] <= '9')
        i++;
    if (i == r || e - i > 3)
        return 0;
    uint32_t w = 0;
    for (size_t k = i; k < e; k++)
        w = w << 8 | t[k];
    for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++)
        if (suffixes[k].len == e - i && suffixes[k].v == w)
            return 1;
    return 0;
}


/* 1 if the word t[r..e) could compact to something different: leet that
 * would fold, a run of three letters, or a folded look-alike. */
static int suspicious_word(const unsigned char *t, size_t len,
                           const uint8_t *mark, size_t r, size_t e)
{
    int nl = 0, digits = 0, syms = 0, run = 1;
    while (e > r + 1 && (t[e - 1] == '!' || t[e - 1] == '|'))
        e--; /* trailing "!!!" is punctuation, as compact_range treats it */
    for (size_t i = r; i < e; i++) {
        unsigned char ch = t[i];
        if ((ch >= 'a' && ch <= 'z') || ch >= 0xC0)
            nl++;
        else if (ch >= '0' && ch <= '9')
            digits = 1;
        else if (is_leet_symbol(ch))
            syms = 1;
        if (i > r && ch == t[i - 1] && ch >= 'a' && ch <= 'z') {
            if (++run >= 3)
                return 1;
        } else {
            run = 1;
        }
        if (mark[i])
            return 1;
    }
    return (syms && nl >= 1) ||
           (digits && nl >= 2 && !number_with_suffix(t, r, e) &&
            !hex_identifier(t, len, r, e));
}

/* find_windows' byte classes: 1 = a word byte (is_tok), 3 = a word byte
 * that is a digit or a leet symbol. */
static const uint8_t wclass[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
    3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 3, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* find_windows' state between words. */
typedef struct wscan {
    const unsigned char *t;
    const uint8_t *mark;
    size_t len;
    window *w;
    size_t prev_single_end, singles;
    unsigned char run_sep; /* the separator of the current one-letter run */
    int nw, open, remaining;
    unsigned exact;
} wscan;
/* A window reaches back at most this many words. */
enum { RING = 32 };

/* The start of the word `back` - 1 words before the word that starts at
 * r (the first word when there are fewer). Read backwards only when a
 * window opens (rare), instead of remembering every word's start. */
static size_t start_back(const unsigned char *t, size_t r, size_t back)
{
    size_t i = r;
    for (; back > 1; back--) {
        size_t j = i;
        while (j > 0 && !wclass[t[j - 1]])
            j--;
        if (j == 0)
            break;
        while (j > 0 && wclass[t[j - 1]])
            j--;
        i = j;
    }
    return i;
}

/* One word t[r..e) (c3: it holds a digit or a leet symbol): does it open
 * or extend a window? Returns -1 for "too many windows". */
static inline int word_seen(wscan *ws, size_t r, size_t e, int c3)
{
    const unsigned char *t = ws->t;
    int single = e - r == 1 && t[r] < 0x80;
    if (!single && !c3 && !ws->exact && !ws->open) {
        /* Most words: not one letter, nothing to fold, no window open. */
        ws->singles = 0;
        ws->prev_single_end = (size_t)-1;
        return 0;
    }
    /* Spaced-out letters: three one-letter words one separator apart,
     * the same separator each time, as compact_range joins them ("p f
     * chang" is two, and initials are common). A run whose separator
     * changes starts again at its last letter: "a 4.4" (a rating) is no
     * run of three, and compacting it would mark nothing. */
    if (single && ws->prev_single_end != (size_t)-1 && r == ws->prev_single_end + 1) {
        unsigned char sep = t[r - 1];
        if (ws->singles >= 2 && sep != ws->run_sep)
            ws->singles = 2;
        else
            ws->singles++;
        ws->run_sep = sep;
    } else {
        ws->singles = (size_t)single;
    }
    int cand = ws->singles >= 3;
    ws->prev_single_end = single ? e : (size_t)-1;
    if (!cand && (ws->exact || c3))
        cand = suspicious_word(t, ws->len, ws->mark, r, e);
    if (ws->open) {
        ws->w[ws->nw - 1].end = e;
        if (--ws->remaining <= 0 && !cand)
            ws->open = 0;
    }
    if (cand) {
        size_t back = RG__WINDOW_WORDS + (ws->singles >= 3 ? ws->singles - 1 : 0);
        if (back > RING)
            back = RING;
        size_t start = start_back(t, r, back);
        if (!ws->open) {
            if (ws->nw > 0 && start <= ws->w[ws->nw - 1].end) {
                ws->w[ws->nw - 1].end = e; /* overlaps the last one: extend it */
            } else {
                if (ws->nw == RG__MAX_WINDOWS)
                    return -1;
                ws->w[ws->nw].start = start;
                ws->w[ws->nw].end = e;
                ws->nw++;
            }
            ws->open = 1;
        }
        ws->remaining = RG__WINDOW_WORDS;
    }
    return 0;
}

/* The word bytes (wclass != 0) and the digit or leet-symbol bytes
 * (wclass 3) among t[base .. base+64), one bit per byte (bytes past len:
 * none). Sixteen bytes per step with SSE2 (the x86-64 baseline): ~1
 * instruction per byte where the byte loop took ~7; the table elsewhere
 * and at the tail. Must agree with wclass (test_normalize checks both
 * walks give the same windows). */
#if defined(__SSE2__)
static inline void bits16(const unsigned char *p, uint64_t *w, uint64_t *c3, unsigned sh)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hi = _mm_cmplt_epi8(v, _mm_setzero_si128()); /* >= 0x80 */
    __m128i az = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                               _mm_cmplt_epi8(v, _mm_set1_epi8('z' + 1)));
    __m128i dg = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                               _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i sy = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('!')),
                                           _mm_cmpeq_epi8(v, _mm_set1_epi8('$'))),
                              _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('@')),
                                           _mm_cmpeq_epi8(v, _mm_set1_epi8('|'))));
    __m128i three = _mm_or_si128(dg, sy);
    __m128i word = _mm_or_si128(_mm_or_si128(hi, az), three);
    *w |= (uint64_t)(unsigned)_mm_movemask_epi8(word) << sh;
    *c3 |= (uint64_t)(unsigned)_mm_movemask_epi8(three) << sh;
}
#endif

static inline uint64_t word_bits(const unsigned char *t, size_t base, size_t len, uint64_t *c3)
{
    uint64_t w = 0;
    *c3 = 0;
    size_t i = 0;
#if defined(__SSE2__)
    for (; i < 64 && base + i + 16 <= len; i += 16)
        bits16(t + base + i, &w, c3, (unsigned)i);
#endif
    for (; i < 64 && base + i < len; i++) {
        unsigned k = wclass[t[base + i]];
        w |= (uint64_t)(k != 0) << i;
        *c3 |= (uint64_t)(k == 3) << i;
    }
    return w;
}

/* suspicious_word can only say yes to a word with a digit or a leet
 * symbol, unless the text holds a marked byte (a folded look-alike) or a
 * run of three of one lower-case letter. Both are rare: without them,
 * words without a digit or symbol (most words) skip it. Sixteen bytes a
 * step with SSE2 (the byte loops were ~4 instructions per byte). */
static unsigned exact_hint(const rg__vbuf *n)
{
    const unsigned char *t = (const unsigned char *)n->text;
    size_t len = n->len, i = 0, j = 0;
#if defined(__SSE2__)
    /* A padded view: up to the padding's zeros (RG__VIEW_PAD), where no
     * byte is marked or a letter, so whole blocks past len need no mask.
     * Else whole blocks inside the view, then the byte loops below. */
    size_t lim_i = n->padded ? len : len >= 16 ? len - 15 : 0;
    size_t lim_j = n->padded ? len : len >= 18 ? len - 17 : 0;
    __m128i acc = _mm_setzero_si128();
    if (n->padded && n->unmarked)
        i = lim_i = len; /* no marks to look for (rg__normalize says) */
    for (; i < lim_i; i += 16)
        acc = _mm_or_si128(acc, _mm_loadu_si128((const __m128i *)(const void *)(n->mark + i)));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) != 0xFFFF)
        return 1;
    for (; j < lim_j; j += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(t + j));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(t + j + 1));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(t + j + 2));
        __m128i same = _mm_and_si128(_mm_cmpeq_epi8(a, b), _mm_cmpeq_epi8(a, c));
        __m128i lower = _mm_and_si128(_mm_cmpgt_epi8(a, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(a, _mm_set1_epi8('z' + 1)));
        if (_mm_movemask_epi8(_mm_and_si128(same, lower)))
            return 1;
    }
#endif
    unsigned exact = 0;
    for (; i < len; i++)
        exact |= n->mark[i];
    for (; j + 2 < len; j++)
        exact |= (unsigned)(t[j] == t[j + 1]) & (unsigned)(t[j] == t[j + 2]) &
                 (unsigned)((unsigned char)(t[j] - 'a') < 26);
    return exact != 0;
}

/* The byte classes next_candidate needs among t[base .. base+64), one bit
 * per byte (bytes past len: none): word bytes, digits, '@' and '$', '!'
 * and '|', and bytes below 0x80. Sixteen bytes a step with SSE2 (past len
 * the view's zero padding, masked off), the table elsewhere. */
typedef struct cls64 {
    uint64_t w, d, y, b, a;
} cls64;

static inline cls64 classes64(const unsigned char *t, size_t base, size_t len, int padded)
{
    cls64 c = {0, 0, 0, 0, 0};
    if (base >= len)
        return c;
#if defined(__SSE2__)
    for (size_t i = 0; i < 64 && base + i < len; i += 16) {
        /* A padded view's tail is read whole (RG__VIEW_PAD), masked. */
        size_t left = len - (base + i);
        unsigned keep = left >= 16 ? 0xFFFFu : (1u << left) - 1u;
        __m128i v = padded || left >= 16
                        ? _mm_loadu_si128((const __m128i *)(const void *)(t + base + i))
                        : rg__load16(t + base + i, left, &keep);
        __m128i hi = _mm_cmplt_epi8(v, _mm_setzero_si128()); /* >= 0x80 */
        __m128i az = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(v, _mm_set1_epi8('z' + 1)));
        __m128i dg = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                   _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
        __m128i y = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('@')),
                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('$')));
        __m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('!')),
                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('|')));
        __m128i w = _mm_or_si128(_mm_or_si128(hi, az), _mm_or_si128(dg, _mm_or_si128(y, b)));
        c.w |= (uint64_t)((unsigned)_mm_movemask_epi8(w) & keep) << i;
        c.d |= (uint64_t)((unsigned)_mm_movemask_epi8(dg) & keep) << i;
        c.y |= (uint64_t)((unsigned)_mm_movemask_epi8(y) & keep) << i;
        c.b |= (uint64_t)((unsigned)_mm_movemask_epi8(b) & keep) << i;
        c.a |= (uint64_t)(~(unsigned)_mm_movemask_epi8(hi) & keep) << i;
    }
#else
    for (size_t i = 0; i < 64 && base + i < len; i++) {
        unsigned char ch = t[base + i];
        c.w |= (uint64_t)(wclass[ch] != 0) << i;
        c.d |= (uint64_t)(ch >= '0' && ch <= '9') << i;
        c.y |= (uint64_t)(ch == '@' || ch == '$') << i;
        c.b |= (uint64_t)(ch == '!' || ch == '|') << i;
        c.a |= (uint64_t)(ch < 0x80) << i;
    }
#endif
    return c;
}

/* The bytes of t[base .. base+64) that are marked or start a run of three
 * of one lower-case letter, one bit per byte (bytes past len: none): the
 * words suspicious_word accepts for them alone (exact_hint). Sixteen
 * bytes a step with SSE2 where three loads fit (a padded view: always),
 * a byte loop elsewhere. */
static uint64_t exact_bits64(const unsigned char *t, const uint8_t *mark, size_t base,
                             size_t len, int padded)
{
    uint64_t m = 0;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i z = _mm_setzero_si128();
    for (; i < 64 && base + i < len && (padded || base + i + 18 <= len); i += 16) {
        size_t left = len - (base + i);
        unsigned keep = left >= 16 ? 0xFFFFu : (1u << left) - 1u;
        const unsigned char *p = t + base + i;
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 2));
        __m128i same = _mm_and_si128(_mm_cmpeq_epi8(a, b), _mm_cmpeq_epi8(a, c));
        __m128i lower = _mm_and_si128(_mm_cmpgt_epi8(a, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(a, _mm_set1_epi8('z' + 1)));
        __m128i mk = _mm_loadu_si128((const __m128i *)(const void *)(mark + base + i));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_and_si128(same, lower)) |
                        (~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(mk, z)) & 0xFFFFu);
        m |= (uint64_t)(bits & keep) << i;
    }
#endif
    for (; i < 64 && base + i < len; i++) {
        size_t j = base + i;
        int run = j + 2 < len && t[j] == t[j + 1] && t[j] == t[j + 2] &&
                  (unsigned char)(t[j] - 'a') < 26;
        m |= (uint64_t)(run || mark[j]) << i;
    }
    return m;
}

/* The start of the first word at or after `from` (0, or the end of a
 * word) that opens a window, or len when none does. Without a marked byte
 * or a run of three of one letter (exact_hint 0), a window needs
 * three one-letter words one byte apart (the first of them is returned),
 * or a word suspicious_word accepts, which needs a digit or a leet symbol
 * counted next to a letter (nl >= 1; a '!' or '|' counts unless only '!'
 * and '|' follow it in the word). So only words with a digit, '@' or '$',
 * or a '!' or '|' followed by a word byte, next to a word byte of the
 * other kind (a letter or a byte >= 0x80), are asked (suspicious_word);
 * "3rd", "7pm", "A16", "2g" are not leet, and were 97% of the replies a
 * test of the bytes alone sent to the walk. 83% of SGD replies hold no
 * such word and skip the walk, which was ~1,200 instructions per short
 * reply (callgrind); on a long reply the walk goes word by word only
 * around the words this finds (find_windows_walk). test_views checks the
 * windows against the byte walk. */
static size_t next_candidate(const unsigned char *t, size_t len, const uint8_t *mark,
                             int padded, int exact, size_t from)
{
    size_t done = from; /* words before this are asked already */
    size_t base = from & ~(size_t)63;
    cls64 cur = classes64(t, base, len, padded);
    uint64_t prev_w = 0, prev_l = 0;
    if (base) {
        cls64 pc = classes64(t, base - 64, len, padded);
        prev_w = pc.w;
        prev_l = pc.w & ~pc.d & ~pc.y & ~pc.b;
    }
    uint64_t lo = ~0ull << (from - base); /* the first block: from `from` on */
    for (; base < len; base += 64) {
        cls64 nxt = classes64(t, base + 64, len, padded);
        uint64_t l = cur.w & ~cur.d & ~cur.y & ~cur.b;      /* letters, bytes >= 0x80 */
        uint64_t nl = nxt.w & ~nxt.d & ~nxt.y & ~nxt.b;
        uint64_t wnext = (cur.w >> 1) | (nxt.w << 63);       /* the next byte is a word byte */
        uint64_t wprev = (cur.w << 1) | (prev_w >> 63);
        uint64_t lnext = (l >> 1) | (nl << 63);
        uint64_t lprev = (l << 1) | (prev_l >> 63);
        /* One-letter ASCII words, here and in the next block's first
         * bytes: a run of three one byte apart starts at a bit of T. */
        uint64_t single = cur.w & ~wprev & ~wnext & cur.a;
        uint64_t nsingle = nxt.w & ~((nxt.w << 1) | (cur.w >> 63)) & ~(nxt.w >> 1) & nxt.a;
        uint64_t T = single & ((single >> 2) | (nsingle << 62)) &
                     ((single >> 4) | (nsingle << 60)) & lo;
        /* ... with the same separator twice (word_seen): rare, asked here. */
        while (T && t[base + (size_t)__builtin_ctzll(T) + 1] !=
                        t[base + (size_t)__builtin_ctzll(T) + 3])
            T &= T - 1;
        size_t first_run = T ? base + (size_t)__builtin_ctzll(T) : len;
        uint64_t x = (cur.d | cur.y | (cur.b & wnext)) & (lnext | lprev) & lo;
        /* With marked bytes or runs of three in the text (exact_hint), the
         * words that hold one are asked too: suspicious_word says yes to
         * them whatever else they hold. (The whole walk this replaces
         * asked every word of the text: on the 0.5% of long replies with
         * "Littlejohn III" or "goood", ~9,000 cycles.) */
        if (exact)
            x |= exact_bits64(t, mark, base, len, padded) & lo;
        for (uint64_t c = x; c; c &= c - 1) {
            size_t p = base + (size_t)__builtin_ctzll(c);
            if (p < done)
                continue;
            size_t r = p, e = p;
            while (r > 0 && wclass[t[r - 1]])
                r--;
            while (e < len && wclass[t[e]])
                e++;
            if (first_run < r)
                return first_run;
            if (suspicious_word(t, len, mark, r, e))
                return r;
            done = e;
        }
        if (T)
            return first_run;
        prev_w = cur.w;
        prev_l = l;
        cur = nxt;
        lo = ~0ull;
    }
    return len;
}

/* The bit walk from the word that starts at pos (0, or a byte after a
 * separator): word starts and ends from 64-bit masks (bit i: byte
 * base+i); a start is a word byte after a separator, an end a separator
 * after a word byte; a word may go on into the next block. With `jump`,
 * returns the end of the first word after which no window is open and no
 * one-letter run goes on (the caller looks for the next word that opens
 * one from there); else, or at the end of the text, len. -1: too many
 * windows. */
static ptrdiff_t walk_words(wscan *ws, size_t pos, int jump)
{
    const unsigned char *t = ws->t;
    size_t len = ws->len;
    int in_word = 0, c3 = 0;
    size_t r = pos;
    uint64_t carry = 0;
#define RG__WORD(rr, ee, cc)                                                   \
    do {                                                                       \
        if (word_seen(ws, (rr), (ee), (cc)))                                   \
            return -1;                                                         \
        if (jump && !ws->open && !ws->singles)                                 \
            return (ptrdiff_t)(ee);                                            \
    } while (0)
    for (size_t base = pos & ~(size_t)63; base < len; base += 64) {
        uint64_t C, W = word_bits(t, base, len, &C);
        if (base < pos) {
            W &= ~0ull << (pos - base);
            C &= ~0ull << (pos - base);
        }
        uint64_t prev = (W << 1) | carry;
        uint64_t S = W & ~prev, E = ~W & prev;
        carry = W >> 63;
        if (in_word) {
            if (!E) {
                c3 |= C != 0; /* the whole block is this word */
                continue;
            }
            unsigned q = (unsigned)__builtin_ctzll(E);
            E &= E - 1;
            c3 |= (C & ((1ull << q) - 1)) != 0;
            in_word = 0;
            RG__WORD(r, base + q, c3);
        }
        while (S) {
            unsigned p = (unsigned)__builtin_ctzll(S);
            S &= S - 1;
            r = base + p;
            if (!E) {
                in_word = 1;
                c3 = (C >> p) != 0;
                break;
            }
            unsigned q = (unsigned)__builtin_ctzll(E);
            E &= E - 1;
            c3 = C && ((C >> p) & ((1ull << (q - p)) - 1)) != 0;
            RG__WORD(r, base + q, c3);
        }
    }
    if (in_word)
        RG__WORD(r, len, c3);
#undef RG__WORD
    return (ptrdiff_t)len;
}

/* First pass: the windows of the normalized view worth compacting. Most
 * replies have none, and then the compacted view is empty and costs one
 * quick pass. Returns the number of windows, or -1 for "too many: take
 * the whole text". `bytewise`: walk the words a byte at a time (the
 * reference the bit walk is tested against). */
static int find_windows_walk(const rg__vbuf *n, window *w, int bytewise)
{
    const unsigned char *t = (const unsigned char *)n->text;
    size_t len = n->len;
    wscan ws;
    ws.t = t;
    ws.mark = n->mark;
    ws.len = len;
    ws.w = w;
    ws.singles = 0;
    ws.prev_single_end = (size_t)-1;
    ws.run_sep = 0;
    ws.nw = ws.open = ws.remaining = 0;
    ws.exact = exact_hint(n);
    if (bytewise) {
        size_t r = 0;
        while (r < len) {
            unsigned k = wclass[t[r]];
            if (!k) {
                r++;
                continue;
            }
            size_t e = r;
            unsigned acc = 0;
            do {
                acc |= k;
                e++;
            } while (e < len && (k = wclass[t[e]]) != 0);
            if (word_seen(&ws, r, e, (acc & 2) != 0))
                return -1;
            r = e;
        }
        return ws.nw;
    }
    /* Word by word only from a word that opens a window until the window
     * closes; between windows, words are not walked: the next word that
     * opens one is found by the masks (next_candidate). The walk's state
     * there is the one a whole walk would have: no window open, and no
     * one-letter run before it (a run is returned from its first word). */
    for (size_t pos = 0;
         (pos = next_candidate(t, len, n->mark, n->padded, (int)ws.exact, pos)) < len;) {
        ws.singles = 0;
        ws.prev_single_end = (size_t)-1;
        ptrdiff_t e = walk_words(&ws, pos, 1);
        if (e < 0)
            return -1;
        pos = (size_t)e;
    }
    return ws.nw;
}

static int find_windows(const rg__vbuf *n, window *w)
{
    return find_windows_walk(n, w, 0);
}

int rg__compact_windows(const rg__vbuf *n, int bytewise, size_t *start, size_t *end)
{
    window w[RG__MAX_WINDOWS];
    int nw = find_windows_walk(n, w, bytewise);
    for (int i = 0; i < nw; i++) {
        start[i] = w[i].start;
        end[i] = w[i].end;
    }
    return nw;
}

/* 1 if the word at t[i] is one letter, maybe followed by a "!" or "|"
 * that is punctuation ("M-i-e-r-d-a!"). */
static int single_at(const unsigned char *t, size_t len, size_t i)
{
    size_t j = i + 1;
    while (j < len && (t[j] == '!' || t[j] == '|'))
        j++;
    return j >= len || !is_tok(t[j]);
}

static void compact_range(cbuild *b, size_t from, size_t to)
{
    rg__vbuf *c = b->c;
    const rg__vbuf *n = b->n;
    const unsigned char *t = (const unsigned char *)n->text;
    size_t len = to;
    size_t first = b->o;
    size_t r = from;
    while (r < len) {
        if (!is_tok(t[r])) {
            /* Separators and punctuation: one space between words. */
            size_t s = r;
            while (r < len && !is_tok(t[r]))
                r++;
            if (b->o > first && r < len) {
                c->text[b->o] = ' ';
                c->start[b->o] = n->start[s];
                c->end[b->o] = n->end[s];
                c->mark[b->o] = 0;
                b->o++;
                b->run = 0;
            }
            continue;
        }
        size_t e = r;
        while (e < len && is_tok(t[e]))
            e++;
        /* "!" and "|" at the end of a word are punctuation, not letters. */
        size_t we = e;
        while (we > r + 1 && (t[we - 1] == '!' || t[we - 1] == '|'))
            we--;
        /* Letters spaced out with one repeated separator: f u c k, f.u.c.k */
        if (we - r == 1 && t[r] < 0x80 && we < len && !is_tok(t[we])) {
            unsigned char sep = t[we];
            size_t p = r, cnt = 1;
            while (p + 2 < len && t[p + 1] == sep && is_tok(t[p + 2]) && t[p + 2] < 0x80 &&
                   single_at(t, len, p + 2)) {
                p += 2;
                cnt++;
            }
            if (cnt >= 3) {
                int nl = 0;
                for (size_t i = r; i <= p; i += 2)
                    nl += t[i] >= 'a' && t[i] <= 'z';
                /* Spanish puts "a" before infinitives, English has "a"
                 * and "I": in the second copy a leading one-letter word
                 * stays apart ("a r e v e n t a r" -> "a reventar"). */
                int split = cnt >= 4 && strchr("aeiouy", t[r]) != NULL;
                if (split)
                    b->variant = 1;
                for (size_t i = r; i <= p; i += 2) {
                    unsigned char ch = t[i];
                    char l = (is_leet_symbol(ch) || (ch >= '0' && ch <= '9' && nl >= 2))
                                 ? leet(ch) : 0;
                    emit(b, l ? (unsigned char)l : ch, i, i + 1,
                         !(i == r && split && b->keep == 2));
                    if (i == r && split && b->keep == 2) {
                        /* the word "a" itself is no obfuscation */
                        c->mark[b->o - 1] = 0;
                        c->text[b->o] = ' ';
                        c->start[b->o] = n->start[i + 1];
                        c->end[b->o] = n->end[i + 1];
                        c->mark[b->o] = 0;
                        b->o++;
                        b->run = 0;
                    }
                }
                r = p + 1;
                continue;
            }
        }
        emit_word(b, t, r, we);
        r = we;
    }
    if (b->o > first && c->text[b->o - 1] == ' ')
        b->o--;
}

int rg__compact(const rg_allocator *a, rg__vbuf *c, const rg__vbuf *n,
                int whole)
{
    c->len = 0;
    c->padded = 0;
    window w[RG__MAX_WINDOWS];
    int nw = whole ? -1 : find_windows(n, w);
    if (nw == 0) {
        if (c->text)
            c->text[0] = '\0';
        return 0;
    }
    if (rg__vbuf_reserve(a, c, 2 * n->len + 4 * RG__MAX_WINDOWS + 8))
        return -1;
    if (nw < 0) {
        nw = 1;
        w[0].start = 0;
        w[0].end = n->len;
    }
    cbuild b = {c, n, 0, 0, 1, 0};
    for (int copy = 0; copy < 2; copy++) {
        if (copy == 1) {
            if (!b.variant || whole)
                break; /* the second copy would be the same text */
            b.keep = 2;
        }
        for (int i = 0; i < nw; i++) {
            if (b.o > 0) {
                /* Windows and copies are apart: a newline keeps words and
                 * phrases from joining across the gap (no term holds one). */
                c->text[b.o] = '\n';
                c->start[b.o] = n->start[w[i].start];
                c->end[b.o] = n->start[w[i].start];
                c->mark[b.o] = 0;
                b.o++;
                b.run = 0;
            }
            compact_range(&b, w[i].start, w[i].end);
        }
    }
    c->text[b.o] = '\0';
    c->len = b.o;
    return 0;
}
