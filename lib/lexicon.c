/* lexicon.c — reading files below the policy root, the lexicon format,
 * the policy hash, and text helpers shared by policy_load.c and
 * policy_check.c.
 *
 * Lexicon paths come from policy files, which may be written by someone
 * other than the operator who deploys them: a path must not be able to
 * make the engine read /etc/shadow into a lexicon (whose terms could then
 * be probed through verdicts). So a lexicon path is relative, `..` may
 * not climb above the root, and the file's realpath must lie below the
 * root's realpath (which catches symlinks pointing out). */
#include "lexicon.h"
#include "alloc.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Diagnostics from one lexicon file beyond this many are summarised: a
 * binary file read as a lexicon should not produce a million lines. */
#define MAX_ERRORS_PER_FILE 50

/* ------------------------------------------------------------------------ */
/* Text helpers                                                             */
/* ------------------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s[0..n), or 0 if it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

int rg__utf8_valid(const char *s, size_t len, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(u + i, len - i);
        if (!k) {
            if (bad)
                *bad = i;
            return 0;
        }
        i += k;
    }
    return 1;
}

const char *rg__quote(char *buf, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < len && i < RG__QUOTE_MAX) {
        size_t k = utf8_seq(u + i, len - i);
        if (k > 1 && i + k <= RG__QUOTE_MAX) {
            memcpy(buf + o, u + i, k);
            o += k;
            i += k;
        } else if (k > 1) {
            break; /* a character that would cross the cut: cut before it */
        } else if (k == 1 && u[i] >= 0x20 && u[i] != 0x7f) {
            buf[o++] = (char)u[i++];
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[u[i] >> 4];
            buf[o++] = hex[u[i] & 15];
            i++;
        }
    }
    if (i < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

int rg__parse_unit(const char *s, size_t len, double *out)
{
    /* Accept only [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
     * strtod alone would also take hex, inf, nan and leading blanks. */
    char buf[64];
    size_t i = 0, digits = 0;
    if (len == 0 || len >= sizeof buf)
        return -1;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (exp_digits == 0)
            return -1;
    }
    if (i != len)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* The "C" locale: a host program that set LC_NUMERIC to a locale with
     * a decimal comma must not change what "0.5" means. glibc returns a
     * static object for "C", so this does not allocate. */
    double v;
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c) {
        v = strtod_l(buf, NULL, c);
        freelocale(c);
    } else {
        v = strtod(buf, NULL);
    }
    if (!(v >= 0.0 && v <= 1.0))
        return -2;
    *out = v + 0.0; /* turn -0 into 0 */
    return 0;
}

size_t rg__edit_distance(const char *a, const char *b, size_t limit)
{
    /* Optimal string alignment: Levenshtein plus adjacent transposition,
     * the commonest typo ("scroe" is one edit from "score"). */
    enum { MAXLEN = 64 };
    size_t na = strlen(a), nb = strlen(b);
    if (na > MAXLEN || nb > MAXLEN || (na > nb ? na - nb : nb - na) > limit)
        return limit + 1;
    size_t rows[3][MAXLEN + 1];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[nb] > limit ? limit + 1 : prev[nb];
}

static int cmp_name_ix(const void *a, const void *b)
{
    const rg__name_ix *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->ix < y->ix ? -1 : x->ix > y->ix;
}

rg__name_ix *rg__sort_names(const rg_allocator *a, char *const *first_name,
                            size_t stride, size_t n)
{
    rg__name_ix *v = rg__calloc(a, n ? n : 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        v[i].name = *(char *const *)((const char *)first_name + i * stride);
        v[i].ix = i;
    }
    qsort(v, n, sizeof *v, cmp_name_ix);
    return v;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

int rg__read_file(const rg_allocator *a, const char *path, int nofollow,
                  char **data, size_t *len, char *why, size_t why_size)
{
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not hang the loader; it is refused
     * below as "not a regular file" anyway. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
                            (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return RG_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        close(fd);
        return RG_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "not a regular file");
        close(fd);
        return RG_E_POLICY;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > RG__MAX_FILE_BYTES) {
        snprintf(why, why_size, "file too large (%jd bytes; the limit is %zu)",
                 (intmax_t)st.st_size, RG__MAX_FILE_BYTES);
        close(fd);
        return RG_E_POLICY;
    }
    /* The size may change under us (a file being rewritten): read until
     * EOF, but never past the cap. The buffer fits the size fstat saw, so
     * the common case reads once and probes one byte for EOF. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = rg__malloc(a, cap);
    if (!buf) {
        close(fd);
        return RG_E_NOMEM;
    }
    int rc = RG_OK;
    for (;;) {
        char probe;
        int full = n + 1 == cap;
        ssize_t r = full ? read(fd, &probe, 1) : read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, why_size, "%s", strerror(errno));
            rc = RG_E_IO;
            break;
        }
        if (r == 0)
            break;
        if (!full) {
            n += (size_t)r;
            continue;
        }
        if (n >= RG__MAX_FILE_BYTES) {
            snprintf(why, why_size, "file too large (more than %zu bytes)",
                     RG__MAX_FILE_BYTES);
            rc = RG_E_POLICY;
            break;
        }
        size_t ncap = cap > RG__MAX_FILE_BYTES / 2 ? RG__MAX_FILE_BYTES + 1
                                                   : cap * 2;
        char *nb = rg__realloc(a, buf, ncap);
        if (!nb) {
            rc = RG_E_NOMEM;
            break;
        }
        buf = nb;
        cap = ncap;
        buf[n++] = probe;
    }
    if (rc != RG_OK) {
        rg__free(a, buf);
        close(fd);
        return rc;
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return RG_OK;
}

static void hash_u64(rg__sha256 *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    rg__sha256_update(h, b, sizeof b);
}

const char *rg__policy_add_file(rg__policy *p, rg__sha256 *h,
                                const char *display, const char *hash_name,
                                const void *data, size_t len)
{
    /* p->files has no capacity field: grow it one slot at a time. Policy
     * sets read a handful of files, so the quadratic copy is irrelevant. */
    char **files = rg__realloc(&p->a, p->files,
                               (p->nfiles + 1) * sizeof *p->files);
    if (!files)
        return NULL;
    p->files = files;
    char *copy = rg__strdup(&p->a, display);
    if (!copy)
        return NULL;
    p->files[p->nfiles++] = copy;
    size_t nlen = strlen(hash_name);
    hash_u64(h, nlen);
    rg__sha256_update(h, hash_name, nlen);
    hash_u64(h, len);
    rg__sha256_update(h, data, len);
    return copy;
}

/* Normalise a relative lexicon path lexically: drop empty and `.`
 * components, resolve `..` against earlier ones. Writes the result into
 * out (same size as path + 1). Returns 0, or -1 if `..` climbs above the
 * root. Symlinks are not considered here: the realpath check does that. */
static int normalize_rel(const char *path, char *out)
{
    size_t o = 0;
    const char *s = path;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.')) {
            /* skip */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (o == 0)
                return -1;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the separator before the dropped component */
        } else {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s += n;
        if (*s == '/')
            s++;
    }
    out[o] = '\0';
    return 0;
}

/* 1 if `path` (a realpath) is the directory `root` (a realpath) or lies
 * below it. (The root itself is then refused as "not a regular file".) */
static int below_root(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return path[0] == '/';
    return strncmp(root, path, n) == 0 && (path[n] == '/' || !path[n]);
}

int rg__lexicon_load(rg__policy *p, rg__sha256 *h, const char *real_root,
                     const char *path, const rg__loc *at, rg__detector *det,
                     rg__diags *d)
{
    const rg_allocator *a = &p->a;
    char q[RG__QUOTE_SIZE];
    rg__quote(q, path, strlen(path));
    if (path[0] == '\0') {
        rg__diag_error(d, at->file, at->line, at->column,
                       "lexicon path is empty");
        return RG_E_POLICY;
    }
    if (path[0] == '/') {
        rg__diag_error(d, at->file, at->line, at->column,
                       "lexicon path '%s' is absolute; it must be relative to "
                       "the policy directory", q);
        return RG_E_POLICY;
    }
    size_t plen = strlen(path), rlen = strlen(p->root);
    char *rel = rg__malloc(a, plen + 1);
    char *full = rg__malloc(a, rlen + plen + 2);
    char *real = rg__malloc(a, PATH_MAX);
    char *data = NULL;
    size_t len = 0;
    int rc = RG_E_POLICY;
    if (!rel || !full || !real) {
        rc = RG_E_NOMEM;
        goto out;
    }
    if (normalize_rel(path, rel) != 0) {
        rg__diag_error(d, at->file, at->line, at->column,
                       "lexicon path '%s' leaves the policy directory "
                       "(through '..')", q);
        goto out;
    }
    if (rel[0] == '\0') {
        rg__diag_error(d, at->file, at->line, at->column,
                       "lexicon path '%s' does not name a file", q);
        goto out;
    }
    /* The display name: below the root as the caller named it, but
     * without a "./" when the root is the current directory. */
    if (strcmp(p->root, ".") == 0)
        memcpy(full, rel, strlen(rel) + 1);
    else if (rlen > 0 && p->root[rlen - 1] == '/')
        snprintf(full, rlen + plen + 2, "%s%s", p->root, rel);
    else
        snprintf(full, rlen + plen + 2, "%s/%s", p->root, rel);

    if (!realpath(full, real)) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            rg__diag_error(d, at->file, at->line, at->column,
                           "lexicon file '%s' not found", q);
        else
            rg__diag_error(d, at->file, at->line, at->column,
                           "cannot resolve lexicon file '%s': %s", q,
                           strerror(e));
        goto out;
    }
    if (!below_root(real_root, real)) {
        char qr[RG__QUOTE_SIZE];
        rg__diag_error(d, at->file, at->line, at->column,
                       "lexicon path '%s' resolves to '%s', outside the "
                       "policy directory (through a symlink)", q,
                       rg__quote(qr, real, strlen(real)));
        goto out;
    }
    /* Open what was checked: the resolved path has no symlinks left, and
     * O_NOFOLLOW refuses one swapped in since. */
    char why[160];
    int r = rg__read_file(a, real, 1, &data, &len, why, sizeof why);
    if (r == RG_E_NOMEM) {
        rc = RG_E_NOMEM;
        goto out;
    }
    if (r != RG_OK) {
        rg__diag_error(d, at->file, at->line, at->column,
                       "cannot read lexicon file '%s': %s", q, why);
        goto out;
    }
    const char *file = rg__policy_add_file(p, h, full, rel, data, len);
    if (!file) {
        rc = RG_E_NOMEM;
        goto out;
    }
    rc = rg__lexicon_parse(a, file, data, len, &det->terms, &det->nterms, d);
    if (rc == RG_OK && det->nterms == 0)
        rg__diag_warn(d, at->file, at->line, at->column,
                      "lexicon file '%s' has no terms: the detector never "
                      "fires", q);
out:
    rg__free(a, data);
    rg__free(a, real);
    rg__free(a, full);
    rg__free(a, rel);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Lexicon format                                                           */
/* ------------------------------------------------------------------------ */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* 1-based column of byte `off` of a line: counts characters, as libyaml's
 * marks do, so columns agree between YAML and lexicon diagnostics. */
static unsigned column_of(const char *line, size_t off)
{
    unsigned col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)line[i] & 0xc0) != 0x80)
            col++;
    return col;
}

typedef struct lex_state {
    rg__diags *d;
    const char *file;
    unsigned errors;
} lex_state;

static void lex_error(lex_state *st, unsigned line, unsigned col,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void lex_error(lex_state *st, unsigned line, unsigned col,
                      const char *fmt, ...)
{
    st->errors++;
    if (st->errors < MAX_ERRORS_PER_FILE) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        rg__diag_error(st->d, st->file, line, col, "%s", msg);
    } else if (st->errors == MAX_ERRORS_PER_FILE)
        rg__diag_error(st->d, st->file, line, col,
                       "too many errors in this lexicon; the rest are not "
                       "reported");
}

int rg__lexicon_parse(const rg_allocator *a, const char *file,
                      const char *data, size_t len, rg__term **terms,
                      size_t *nterms, rg__diags *d)
{
    lex_state st = {d, file, 0};
    rg__term *v = NULL;
    size_t n = 0, cap = 0;
    char q[RG__QUOTE_SIZE];
    size_t pos = 0;
    unsigned lineno = 0;

    /* A UTF-8 byte order mark is what some editors write; it is not part
     * of the first term. */
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;

        if (ll > RG__LEXICON_MAX_LINE) {
            lex_error(&st, lineno, 1, "line too long (%zu bytes; the limit is "
                      "%d)", ll, RG__LEXICON_MAX_LINE);
            continue;
        }
        const char *nul = memchr(line, '\0', ll);
        if (nul) {
            lex_error(&st, lineno, column_of(line, (size_t)(nul - line)),
                      "NUL byte in lexicon");
            continue;
        }
        size_t bad;
        if (!rg__utf8_valid(line, ll, &bad)) {
            lex_error(&st, lineno, column_of(line, bad),
                      "invalid UTF-8 in lexicon");
            continue;
        }
        /* Trailing blanks (and a CR from CRLF files) go first, so that a
         * TAB that only ends the line does not announce a score. */
        size_t end = ll;
        while (end > 0 && is_blank(line[end - 1]))
            end--;
        size_t b = 0;
        while (b < end && is_blank(line[b]))
            b++;
        if (b == end || line[b] == '#')
            continue;

        double score = -1;
        size_t tend = end;
        const char *tab = NULL;
        for (size_t i = end; i > b; i--)
            if (line[i - 1] == '\t') {
                tab = line + i - 1;
                break;
            }
        if (tab) {
            size_t s = (size_t)(tab - line) + 1;
            while (s < end && is_blank(line[s]))
                s++;
            int r = rg__parse_unit(line + s, end - s, &score);
            if (r != 0) {
                rg__quote(q, line + s, end - s);
                if (r == -2)
                    lex_error(&st, lineno, column_of(line, s),
                              "score '%s' is outside 0..1", q);
                else
                    lex_error(&st, lineno, column_of(line, s),
                              "bad score '%s' (expected a number between 0 "
                              "and 1 after the TAB)", q);
                continue;
            }
            tend = (size_t)(tab - line);
            while (tend > b && is_blank(line[tend - 1]))
                tend--;
        }
        if (n >= RG__LEXICON_MAX_TERMS) {
            lex_error(&st, lineno, 1,
                      "too many terms in one lexicon (the limit is %d)",
                      RG__LEXICON_MAX_TERMS);
            break;
        }
        if (rg__grow(a, (void **)&v, &cap, n + 1, sizeof *v))
            goto oom;
        char *text = rg__strndup(a, line + b, tend - b);
        if (!text)
            goto oom;
        v[n].text = text;
        v[n].score = score;
        v[n].loc.file = file;
        v[n].loc.line = lineno;
        v[n].loc.column = column_of(line, b);
        n++;
    }
    *terms = v;
    *nterms = n;
    return st.errors ? RG_E_POLICY : RG_OK;
oom:
    for (size_t i = 0; i < n; i++)
        rg__free(a, v[i].text);
    rg__free(a, v);
    *terms = NULL;
    *nterms = 0;
    return RG_E_NOMEM;
}
