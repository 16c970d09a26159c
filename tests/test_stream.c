/* test_stream.c — streaming (rg_stream_*, docs/STREAMING.md).
 *
 * The two properties every stream must have, checked against rg_check on
 * the whole text:
 *   1. after rg_stream_close, the verdict, the hits (detector, span,
 *      score), the flags that matter and the redacted copy are those of
 *      rg_check on the whole text;
 *   2. after every feed, the first rg_stream_safe_bytes() bytes hold no
 *      part of a span rg_check reports on the whole text unless the feed's
 *      result already reports that span (or a mask released covers it),
 *      and the text released over the stream is rg_check's redacted copy
 *      (or the text itself), unless the stream blocked or says
 *      RG_FLAG_RELEASED_UNMASKED.
 *
 * Golden streams: every reply of the shipped policy's golden cases
 * (tests/golden/shipped.yaml and the YAML files of policies/tests) and replies
 * built to split findings across chunks, cut at every byte position into
 * two chunks, on every shipped route. Chunk-boundary fuzzing: replies made
 * of random fragments (findings, obfuscations, look-alikes, invalid UTF-8,
 * benign text) fed in random chunks, with a fixed seed. Then the API's
 * behaviour on a small fixture (tests/policies/stream). */
#include "testutil.h"
#include <dirent.h>
#include <yaml.h>

/* ---- comparing a stream with rg_check --------------------------------- */

typedef struct hitv {
    char det[96];
    size_t start, end;
    double score;
} hitv;

static int cmp_hitv(const void *a, const void *b)
{
    const hitv *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->det, y->det);
}

static size_t hits_of(const rg_result *r, hitv *out, size_t cap)
{
    size_t n = rg_result_hit_count(r);
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        const rg_hit *h = rg_result_hit(r, i);
        snprintf(out[i].det, sizeof out[i].det, "%s", h->detector);
        out[i].start = h->start;
        out[i].end = h->end;
        out[i].score = h->score;
    }
    qsort(out, n, sizeof *out, cmp_hitv);
    return n;
}

static int redacted_category(const rg_result *r, const char *cat)
{
    for (size_t i = 0; i < rg_result_category_count(r); i++) {
        const rg_category_score *c = rg_result_category(r, i);
        if (!strcmp(c->category, cat))
            return c->redact;
    }
    return 0;
}

/* 1 if [s, e) lies within spans the result masks. */
static int masked(const rg_result *r, size_t s, size_t e)
{
    size_t cov = s;
    for (int again = 1; again && cov < e;) {
        again = 0;
        for (size_t j = 0; j < rg_result_hit_count(r); j++) {
            const rg_hit *g = rg_result_hit(r, j);
            if (!g->shadow && g->start <= cov && g->end > cov &&
                redacted_category(r, g->category)) {
                cov = g->end;
                again = 1;
            }
        }
    }
    return cov >= e;
}

static int reported(const rg_result *r, const rg_hit *h)
{
    for (size_t j = 0; j < rg_result_hit_count(r); j++) {
        const rg_hit *g = rg_result_hit(r, j);
        if (g->start == h->start && g->end == h->end && !strcmp(g->detector, h->detector))
            return 1;
    }
    return 0;
}

/* The flags a stream must agree on with rg_check. */
#define SAME_FLAGS (RG_FLAG_OVERSIZE | RG_FLAG_INVALID_UTF8 | RG_FLAG_REDACTED | RG_FLAG_SHADOW)

typedef struct sres {
    int ok;      /* 1: agrees; 0: a difference (printed) */
    int retry;   /* a budget ran out (a busy host): try again */
} sres;

static rg_result *BLOCK_RES, *STREAM_RES;

/* Each group's teardown: the next group's setup allocates them again. */
static void free_results(void)
{
    rg_result_free(BLOCK_RES);
    rg_result_free(STREAM_RES);
    BLOCK_RES = STREAM_RES = NULL;
}
static char *RELEASED;
static size_t RELEASED_CAP;

static void show(const char *what, const char *route, const char *t, size_t n,
                 const size_t *cuts, size_t ncuts)
{
    fprintf(stderr, "  %s (route %s, %zu bytes, cuts:", what, route, n);
    for (size_t i = 0; i < ncuts; i++)
        fprintf(stderr, " %zu", cuts[i]);
    fprintf(stderr, ")\n  text: \"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
}

/* Stream t[0..n) cut at cuts[0..ncuts) (increasing, last < n or == n)
 * and compare with rg_check (BLOCK_RES must hold it). */
static sres stream_once(rgt_ctx *c, const char *route, const char *t, size_t n,
                        const size_t *cuts, size_t ncuts)
{
    sres out = {1, 0};
    rg_result *B = BLOCK_RES, *R = STREAM_RES;
    rg_stream *st = NULL;
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    assert_int_equal(rg_stream_open(c->e, &q, &st), RG_OK);
    if (RELEASED_CAP < 4 * n + 1024) {
        RELEASED_CAP = 4 * n + 1024;
        RELEASED = realloc(RELEASED, RELEASED_CAP);
        assert_non_null(RELEASED);
    }
    size_t rl = 0, pos = 0, prev_safe = 0;
    /* ncuts + 1 feeds (the last one up to n, maybe empty), then close. */
    for (size_t k = 0; k <= ncuts + 1; k++) {
        size_t e = k < ncuts ? cuts[k] : n;
        int closing = k == ncuts + 1;
        int rc = closing ? rg_stream_close(st, c->s, R)
                         : rg_stream_feed(st, c->s, t + pos, e - pos, R);
        assert_int_equal(rc, RG_OK);
        if (rg_result_flags(R) & RG_FLAG_BUDGET_EXCEEDED)
            out.retry = 1;
        pos = e;
        size_t safe = rg_stream_safe_bytes(st);
        if (safe < prev_safe || safe > rg_stream_bytes(st)) {
            show("safe bytes went back or past the text", route, t, n, cuts, ncuts);
            out.ok = 0;
        }
        prev_safe = safe;
        /* Property 2: nothing unreported and unmasked in the safe bytes. */
        for (size_t i = 0; !closing && i < rg_result_hit_count(B); i++) {
            const rg_hit *h = rg_result_hit(B, i);
            if (h->start >= safe || reported(R, h))
                continue;
            if (masked(R, h->start, h->end < safe ? h->end : safe))
                continue;
            show("a finding went out before it was known", route, t, n, cuts, ncuts);
            fprintf(stderr, "  feed %zu: safe %zu, %s [%zu, %zu)\n", k, safe,
                    h->detector, h->start, h->end);
            out.ok = 0;
        }
        size_t l;
        const char *x = rg_stream_release(st, &l);
        assert_true(rl + l <= RELEASED_CAP);
        memcpy(RELEASED + rl, x, l);
        rl += l;
    }
    /* Property 1. */
    hitv hb[RG_MAX_HITS], hs[RG_MAX_HITS];
    size_t nb = hits_of(B, hb, RG_MAX_HITS), ns = hits_of(R, hs, RG_MAX_HITS);
    int same = rg_result_verdict(B) == rg_result_verdict(R) && nb == ns &&
               (rg_result_flags(B) & SAME_FLAGS) == (rg_result_flags(R) & SAME_FLAGS);
    for (size_t i = 0; same && i < nb; i++)
        same = !cmp_hitv(&hb[i], &hs[i]) && fabs(hb[i].score - hs[i].score) <= 1e-9;
    size_t bl = 0, sl = 0;
    const char *br = rg_result_redacted(B, &bl), *sr = rg_result_redacted(R, &sl);
    if ((br == NULL) != (sr == NULL) || (br && (bl != sl || memcmp(br, sr, bl))))
        same = 0;
    if ((rg_result_flags(B) | rg_result_flags(R)) & RG_FLAG_BUDGET_EXCEEDED)
        out.retry = 1;
    if (!same && !out.retry) {
        show("the final result differs from rg_check", route, t, n, cuts, ncuts);
        fprintf(stderr, "  rg_check:\n");
        rgt_dump(B);
        fprintf(stderr, "  stream:\n");
        rgt_dump(R);
        out.ok = 0;
    }
    /* The released text is the redacted copy (or the text). */
    if (!br) {
        br = t;
        bl = n;
    }
    /* (Past max_bytes with a fail-safe that is not allow, the unchecked
     * rest is held back: nothing to compare.) */
    int unchecked = (rg_result_flags(R) & RG_FLAG_OVERSIZE) && rg_result_verdict(R) != RG_ALLOW;
    if (rg_result_verdict(R) != RG_BLOCK && !(rg_result_flags(R) & RG_FLAG_RELEASED_UNMASKED) &&
        !unchecked && !out.retry && (rl != bl || memcmp(RELEASED, br, bl))) {
        show("the released text differs from the redacted copy", route, t, n, cuts, ncuts);
        fprintf(stderr, "  released: \"%.*s\"\n  expected: \"%.*s\"\n", (int)rl, RELEASED,
                (int)bl, br);
        out.ok = 0;
    }
    rg_stream_free(st);
    return out;
}

/* One comparison, tried again (up to 5 times) when a budget ran out on a
 * busy host: both sides then take fail-safes that need not agree. */
static int stream_compare(rgt_ctx *c, const char *route, const char *t, size_t n,
                          const size_t *cuts, size_t ncuts)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        rg_request q;
        memset(&q, 0, sizeof q);
        q.route = route;
        q.reply = t;
        q.reply_len = n;
        assert_int_equal(rg_check(c->e, c->s, &q, BLOCK_RES), RG_OK);
        if (rg_result_flags(BLOCK_RES) & RG_FLAG_BUDGET_EXCEEDED)
            continue;
        sres r = stream_once(c, route, t, n, cuts, ncuts);
        if (!r.retry)
            return r.ok;
    }
    return 1; /* the host never let a check finish in time: nothing to compare */
}

/* Every two-chunk split of t. */
static int all_splits(rgt_ctx *c, const char *route, const char *t, size_t n)
{
    int ok = 1;
    for (size_t p = 0; p <= n && ok; p++)
        ok = stream_compare(c, route, t, n, &p, 1);
    return ok;
}

/* ---- replies --------------------------------------------------------- */

typedef struct reply {
    char *route; /* NULL: default */
    char *text;
    size_t len;
} reply;

static reply *REPLIES;
static size_t NREPLIES, CAPREPLIES;

static void add_reply(const char *route, const char *text, size_t len)
{
    if (NREPLIES == CAPREPLIES) {
        CAPREPLIES = CAPREPLIES ? 2 * CAPREPLIES : 64;
        REPLIES = realloc(REPLIES, CAPREPLIES * sizeof *REPLIES);
        assert_non_null(REPLIES);
    }
    reply *r = &REPLIES[NREPLIES++];
    r->route = route ? strdup(route) : NULL;
    r->text = malloc(len + 1);
    assert_non_null(r->text);
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    r->len = len;
}

/* The "reply" (and "route") of every mapping in a YAML file of cases. */
static void load_cases(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    yaml_parser_t p;
    yaml_event_t ev;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    enum { MAXD = 32 };
    char *route[MAXD] = {0}, *text[MAXD] = {0};
    size_t tlen[MAXD] = {0};
    int key[MAXD] = {0}; /* 1: next scalar is a key */
    char want[MAXD][8];
    int depth = -1;
    for (;;) {
        if (!yaml_parser_parse(&p, &ev))
            break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_MAPPING_START_EVENT && depth + 1 < MAXD) {
            depth++;
            route[depth] = text[depth] = NULL;
            key[depth] = 1;
            want[depth][0] = '\0';
        } else if (type == YAML_MAPPING_END_EVENT && depth >= 0) {
            if (text[depth])
                add_reply(route[depth], text[depth], tlen[depth]);
            free(route[depth]);
            free(text[depth]);
            depth--;
            if (depth >= 0)
                key[depth] = 1;
        } else if (type == YAML_SCALAR_EVENT && depth >= 0) {
            const char *v = (const char *)ev.data.scalar.value;
            size_t vl = ev.data.scalar.length;
            if (key[depth]) {
                snprintf(want[depth], sizeof want[depth], "%s",
                         !strcmp(v, "reply") ? "reply" : !strcmp(v, "route") ? "route" : "");
                key[depth] = 0;
            } else {
                if (!strcmp(want[depth], "reply") && !text[depth]) {
                    text[depth] = malloc(vl + 1);
                    memcpy(text[depth], v, vl + 1);
                    tlen[depth] = vl;
                } else if (!strcmp(want[depth], "route") && !route[depth]) {
                    route[depth] = strdup(v);
                }
                key[depth] = 1;
            }
        } else if ((type == YAML_SEQUENCE_START_EVENT || type == YAML_SEQUENCE_END_EVENT) &&
                   depth >= 0 && type == YAML_SEQUENCE_END_EVENT) {
            key[depth] = 1; /* a sequence value ended */
        }
        int done = type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (done)
            break;
    }
    yaml_parser_delete(&p);
    fclose(f);
}

/* Replies written to cut findings apart: a card, a phone number, an
 * e-mail address, a slur, an obfuscated or look-alike spelling, allow
 * phrases and context words on both sides of a hit, invalid UTF-8, a
 * code point split, a trailing separator. */
static const char *const EXTRA[] = {
    "Your card 4111 1111 1111 1111 is on file.",
    "Card 4111-1111-1111-1111 ok; and 4111111111111111.",
    "The order number 4111111111111111 is here.",
    "Call me at 415-555-0132 or mail bob@example.com today.",
    "Reach us at +1 415 555 0132, or (415) 555-0132.",
    "Your SSN 123-45-6789 and DOB: 03/14/1985 are on file.",
    "You are a fucking idiot.",
    "f u c k you, f.u.c.k you and fuuuuck you",
    "what a sh1t day, $hit happens, a$$hole",
    "fu\xd1\x81k that, \xd1\x95\xd2\xbbit",
    "I know where you live.",
    "go fuck yourself",
    "pussy willow and blue tit are fine; Scunthorpe too.",
    "kill yourself",
    "You will pay for this",
    "api key: sk_live_4eC39HqLyjWDarjtT1zdp7dc ok",
    "caf\xc3\xa9 na\xc3\xafve \xef\xac\x81ne \xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b",
    "zero\xe2\x80\x8bwidth fuck\xe2\x80\x8byou",
    "bad \xff byte and a cut \xe2\x82",
    "trailing separator ",
    "",
};

/* ---- the shipped policy ---------------------------------------------- */

static rgt_ctx SHIPPED;

static int setup_shipped(void **state)
{
    (void)state;
    rg_diag *d = NULL;
    const char *dir = rgt_path("../policies");
    int rc = rg_engine_open(&SHIPPED.e, dir, NULL, &d);
    if (rc != RG_OK) {
        rgt_print_diag(d);
        rg_diag_free(d);
        return -1;
    }
    rg_diag_free(d);
    if (rg_scratch_alloc(SHIPPED.e, &SHIPPED.s) || rg_result_alloc(NULL, &SHIPPED.r) ||
        rg_result_alloc(NULL, &BLOCK_RES) || rg_result_alloc(NULL, &STREAM_RES))
        return -1;
    load_cases(rgt_path("golden/shipped.yaml"));
    DIR *dd = opendir(rgt_path("../policies/tests"));
    struct dirent *de;
    while (dd && (de = readdir(dd))) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")) {
            char rel[512];
            snprintf(rel, sizeof rel, "../policies/tests/%s", de->d_name);
            load_cases(rgt_path(rel));
        }
    }
    if (dd)
        closedir(dd);
    for (size_t i = 0; i < sizeof EXTRA / sizeof EXTRA[0]; i++)
        add_reply(NULL, EXTRA[i], strlen(EXTRA[i]));
    return 0;
}

static int teardown_shipped(void **state)
{
    (void)state;
    rg_result_free(SHIPPED.r);
    rg_scratch_free(SHIPPED.s);
    rg_engine_close(SHIPPED.e);
    for (size_t i = 0; i < NREPLIES; i++) {
        free(REPLIES[i].route);
        free(REPLIES[i].text);
    }
    free(REPLIES);
    free(RELEASED);
    free_results();
    return 0;
}

static void test_golden_streams(void **state)
{
    (void)state;
    static const char *const routes[] = {"default", "healthcare", "refunds"};
    assert_true(NREPLIES > 100);
    size_t bad = 0;
    for (size_t i = 0; i < NREPLIES; i++) {
        for (size_t r = 0; r < 3; r++) {
            /* a case's own route, and every route for the extra replies */
            const char *route = REPLIES[i].route ? REPLIES[i].route : routes[r];
            if (REPLIES[i].route && r > 0)
                break;
            bad += !all_splits(&SHIPPED, route, REPLIES[i].text, REPLIES[i].len);
        }
    }
    assert_int_equal(bad, 0);
}

/* A tiny deterministic generator (xorshift64). */
static uint64_t RNG = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
    RNG ^= RNG << 13;
    RNG ^= RNG >> 7;
    RNG ^= RNG << 17;
    return (unsigned)(RNG % n);
}

static const char *const FRAG[] = {
    "Your card 4111 1111 1111 1111 is on file.", "card 4111-1111-1111-1111",
    "4111111111111111", "order number 4111111111111111", "5555 5555 5555 4444",
    "Call me at 415-555-0132", "call (415) 555-0132 now", "+44 20 7946 0958",
    "mail bob@example.com today", "SSN 123-45-6789", "Social security number: 123456789",
    "IBAN ES91 2100 0418 4502 0005 1332", "DOB: 03/14/1985", "account number 00123456789",
    "You are a fucking idiot.", "you're so stupid", "f u c k you", "f.u.c.k", "sh1t", "$hit",
    "fuuuuck", "fu\xd1\x81k", "a$$hole", "b i t c h", "I will kill you.",
    "I know where you live", "go back to your country", "pussy willow", "Scunthorpe",
    "class assassin", "damn it", "kill yourself", "I'd fuuuuck you",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "api key: abcd1234efgh5678ijkl", "password: hunter2",
    "caf\xc3\xa9", "\xef\xbd\x86\xef\xbd\x95\xef\xbd\x83\xef\xbd\x8b", "zero\xe2\x80\x8bwidth",
    "non\xc2\xa0" "breaking", "\xf0\x9f\x98\x80", "eres un idiota", "te voy a matar",
    "Your order has shipped and should arrive on Tuesday.",
    "I have booked a table for 2 at 7 pm.", "Is there anything else I can help with?",
    "The flight departs at 10:40 AM with 0 transfers.", "Thanks for reaching out!",
};
static const char *const SEP[] = {" ", " ", "  ", ", ", ". ", "\t", "\n", " - ", "", "! "};

static void test_fuzz_chunk_boundaries(void **state)
{
    (void)state;
    static const char *const routes[] = {"default", "healthcare", "refunds"};
    char text[4096];
    size_t bad = 0;
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 0;
        int parts = 1 + (int)rnd(8);
        for (int k = 0; k < parts; k++) {
            const char *f = FRAG[rnd(sizeof FRAG / sizeof FRAG[0])];
            const char *sp = SEP[rnd(sizeof SEP / sizeof SEP[0])];
            size_t fl = strlen(f), sl = strlen(sp);
            if (n + fl + sl + 2 >= sizeof text)
                break;
            memcpy(text + n, f, fl);
            n += fl;
            memcpy(text + n, sp, sl);
            n += sl;
        }
        if (rnd(10) == 0 && n > 0) /* a stray byte: invalid UTF-8 */
            text[rnd((unsigned)n)] = (char)(0x80 + rnd(0x80));
        for (int cut = 0; cut < 3; cut++) {
            size_t cuts[64], nc = 0, p = 0;
            while (nc < 63) {
                p += 1 + rnd(rnd(3) ? 8 : 24);
                if (p >= n)
                    break;
                cuts[nc++] = p;
            }
            bad += !stream_compare(&SHIPPED, routes[rnd(3)], text, n, cuts, nc);
        }
    }
    assert_int_equal(bad, 0);
}

/* One byte at a time: the most feeds a text can take. */
static void test_byte_at_a_time(void **state)
{
    (void)state;
    size_t bad = 0;
    for (size_t i = 0; i < sizeof EXTRA / sizeof EXTRA[0]; i++) {
        size_t n = strlen(EXTRA[i]), cuts[256], nc = 0;
        for (size_t p = 1; p < n && nc < 256; p++)
            cuts[nc++] = p;
        bad += !stream_compare(&SHIPPED, "default", EXTRA[i], n, cuts, nc);
    }
    assert_int_equal(bad, 0);
}

/* ---- the API, on a small fixture -------------------------------------- */

static rgt_ctx FIX;

static int setup_fixture(void **state)
{
    (void)state;
    rgt_open(&FIX, "policies/stream");
    if (!BLOCK_RES && (rg_result_alloc(NULL, &BLOCK_RES) || rg_result_alloc(NULL, &STREAM_RES)))
        return -1;
    return 0;
}

static int teardown_fixture(void **state)
{
    (void)state;
    rgt_close(&FIX);
    free_results();
    return 0;
}

static rg_stream *open_stream(const char *route)
{
    rg_stream *st = NULL;
    rg_request q;
    memset(&q, 0, sizeof q);
    q.route = route;
    assert_int_equal(rg_stream_open(FIX.e, &q, &st), RG_OK);
    assert_non_null(st);
    return st;
}

static void feed(rg_stream *st, const char *chunk)
{
    assert_int_equal(rg_stream_feed(st, FIX.s, chunk, strlen(chunk), FIX.r), RG_OK);
}

static void test_unfinished_word_held(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    feed(st, "hel");
    assert_int_equal(rg_stream_safe_bytes(st), 0);
    feed(st, "lo ");
    assert_int_equal(rg_stream_safe_bytes(st), 6);
    size_t l;
    RGT_STR(rg_stream_release(st, &l), "hello ");
    assert_int_equal(l, 6);
    feed(st, "wor");
    assert_int_equal(rg_stream_safe_bytes(st), 6);
    assert_int_equal(rg_stream_bytes(st), 9);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_stream_safe_bytes(st), 9);
    RGT_STR(rg_stream_release(st, NULL), "wor");
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    rg_stream_free(st);
}

/* A slur cut in two never goes out, and the block stops the stream. (A
 * word with allow-list phrases waits until no obfuscated allow phrase
 * could still cover it: a few words, held back meanwhile.) */
static void test_split_word_blocks(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    feed(st, "you slur");
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_true(rg_stream_safe_bytes(st) <= 4);
    static const char *const more[] = {"word, ", "and ", "then ", "a ", "few ", "more ",
                                       "words ", "here ", "to ", "let ", "it ", "settle. "};
    size_t i = 0;
    for (; i < sizeof more / sizeof more[0] && rg_result_verdict(FIX.r) != RG_BLOCK; i++) {
        feed(st, more[i]);
        assert_true(rg_stream_safe_bytes(st) <= 4);
    }
    assert_int_equal(rg_result_verdict(FIX.r), RG_BLOCK);
    size_t safe = rg_stream_safe_bytes(st);
    feed(st, "and more text after it. ");
    assert_int_equal(rg_result_verdict(FIX.r), RG_BLOCK);
    assert_int_equal(rg_stream_safe_bytes(st), safe);
    size_t l;
    rg_stream_release(st, &l);
    assert_int_equal(l, 0);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_BLOCK);
    assert_int_equal(rg_stream_safe_bytes(st), safe);
    RGT_SPAN(rgt_hit(FIX.r, "s.slur", 0), 4, 12);
    rg_stream_free(st);
}

/* A card number cut across chunks: held until it is complete, then
 * released masked. */
static void test_split_card_redacted(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    const char *chunks[] = {"Card 41", "11 1111 11", "11 1111", " is on file."};
    char out[256] = "";
    for (int i = 0; i < 4; i++) {
        feed(st, chunks[i]);
        assert_true(rg_stream_safe_bytes(st) <= 5 || rg_result_hit_count(FIX.r) == 1);
        strcat(out, rg_stream_release(st, NULL));
    }
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    strcat(out, rg_stream_release(st, NULL));
    assert_string_equal(out, "Card [card] is on file.");
    size_t l;
    RGT_STR(rg_result_redacted(FIX.r, &l), "Card [card] is on file.");
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_REDACTED);
    rg_stream_free(st);
}

/* Context words after a hit decide its score: the card waits for them. */
static void test_context_after_waits(void **state)
{
    (void)state;
    rg_stream *st = open_stream("refunds");
    feed(st, "4111 1111 1111 1111 ");
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rg_stream_safe_bytes(st), 0);
    feed(st, "tracking info follows and more words here");
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rgt_hits_of(FIX.r, "s.card"), 1);
    rg_stream_free(st);
    /* Without the context word, refunds blocks it. */
    st = open_stream("refunds");
    feed(st, "4111 1111 1111 1111 is the number you asked about today");
    assert_int_equal(rg_result_verdict(FIX.r), RG_BLOCK);
    assert_int_equal(rg_stream_safe_bytes(st), 0);
    rg_stream_free(st);
}

/* An allow-list phrase that completes after the hit drops it. */
static void test_allow_phrase_after(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    feed(st, "use dirty rat");
    feed(st, " poison sparingly");
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rg_result_hit_count(FIX.r), 0);
    rg_stream_free(st);
}

/* A regex anchored at the end of the text ("I will find you" + end). */
static void test_end_anchor(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    feed(st, "I will find you");
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rg_stream_safe_bytes(st), 0);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_BLOCK);
    assert_int_equal(rg_stream_safe_bytes(st), 0);
    rg_stream_free(st);
    st = open_stream(NULL);
    feed(st, "I will find you a seat.");
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    rg_stream_free(st);
}

/* A code point cut between chunks, and invalid bytes. */
static void test_utf8_cut(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    feed(st, "caf\xc3");
    assert_true(rg_stream_safe_bytes(st) <= 3);
    feed(st, "\xa9 ok ");
    assert_int_equal(rg_stream_safe_bytes(st), 9);
    feed(st, "\xff ");
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_INVALID_UTF8);
    rg_stream_free(st);
}

/* Two weak findings of one category: the second pushes it over redact
 * after the first went out. */
static void test_released_unmasked(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    feed(st, "IBAN ES91 is what you gave us, thanks a lot for that. ");
    feed(st, "And more words to let it settle here. ");
    assert_false(rg_result_flags(FIX.r) & RG_FLAG_RELEASED_UNMASKED);
    assert_true(rg_stream_safe_bytes(st) > 10);
    feed(st, "Your account number 12345678 is set. ");
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_RELEASED_UNMASKED);
    /* The final copy masks both, as rg_check does. */
    size_t l;
    const char *red = rg_result_redacted(FIX.r, &l);
    assert_non_null(red);
    assert_non_null(strstr(red, "[acct] is what"));
    rg_stream_free(st);
}

static void test_oversize(void **state)
{
    (void)state;
    char big[200];
    memset(big, 'a', sizeof big);
    for (size_t i = 5; i < sizeof big; i += 6)
        big[i] = ' ';
    /* handoff past max_bytes: the unchecked rest is not released */
    rg_stream *st = open_stream("small");
    assert_int_equal(rg_stream_feed(st, FIX.s, big, 100, FIX.r), RG_OK);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_OVERSIZE);
    assert_int_equal(rg_result_verdict(FIX.r), RG_HANDOFF);
    assert_true(rg_stream_safe_bytes(st) <= 64);
    assert_int_equal(rg_stream_feed(st, FIX.s, big + 100, 100, FIX.r), RG_OK);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_true(rg_stream_safe_bytes(st) <= 64);
    assert_int_equal(rg_result_verdict(FIX.r), RG_HANDOFF);
    rg_stream_free(st);
    /* allow past max_bytes: everything goes, unchecked */
    st = open_stream("small_open");
    assert_int_equal(rg_stream_feed(st, FIX.s, big, 100, FIX.r), RG_OK);
    assert_int_equal(rg_stream_feed(st, FIX.s, big + 100, 100, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_OVERSIZE);
    assert_int_equal(rg_stream_safe_bytes(st), 200);
    rg_stream_free(st);
}

static void test_budget(void **state)
{
    (void)state;
    rg_stream *st = open_stream("tight");
    const char *t = "a reply that takes longer than a microsecond to check, surely. ";
    int flagged = 0;
    for (int i = 0; i < 50 && !flagged; i++) {
        assert_int_equal(rg_stream_feed(st, FIX.s, t, strlen(t), FIX.r), RG_OK);
        flagged = (rg_result_flags(FIX.r) & RG_FLAG_BUDGET_EXCEEDED) != 0;
    }
    assert_true(flagged);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_FAILSAFE);
    assert_int_equal(rg_result_verdict(FIX.r), RG_HANDOFF);
    size_t safe = rg_stream_safe_bytes(st);
    assert_int_equal(rg_stream_feed(st, FIX.s, t, strlen(t), FIX.r), RG_OK);
    assert_int_equal(rg_stream_safe_bytes(st), safe); /* nothing unchecked goes */
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_BUDGET_EXCEEDED);
    rg_stream_free(st);
}

static void test_errors(void **state)
{
    (void)state;
    rg_stream *st = NULL;
    rg_request q;
    memset(&q, 0, sizeof q);
    assert_int_equal(rg_stream_open(NULL, &q, &st), RG_E_INVAL);
    assert_int_equal(rg_stream_open(FIX.e, NULL, &st), RG_E_INVAL);
    assert_int_equal(rg_stream_open(FIX.e, &q, NULL), RG_E_INVAL);
    q.route = "no-such-route";
    assert_int_equal(rg_stream_open(FIX.e, &q, &st), RG_E_NOROUTE);
    assert_null(st);
    q.route = NULL;
    q.label_count = 1;
    assert_int_equal(rg_stream_open(FIX.e, &q, &st), RG_E_INVAL);
    st = open_stream(NULL);
    assert_int_equal(rg_stream_feed(NULL, FIX.s, "a", 1, FIX.r), RG_E_INVAL);
    assert_int_equal(rg_result_verdict(FIX.r), RG_HANDOFF);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_FAILSAFE);
    assert_int_equal(rg_stream_feed(st, NULL, "a", 1, FIX.r), RG_E_INVAL);
    assert_int_equal(rg_stream_feed(st, FIX.s, NULL, 1, FIX.r), RG_E_INVAL);
    assert_int_equal(rg_stream_feed(st, FIX.s, NULL, 0, FIX.r), RG_OK);
    assert_int_equal(rg_stream_feed(st, FIX.s, "a", 1, NULL), RG_E_INVAL);
    /* a scratch of another engine */
    rgt_ctx other;
    rgt_open(&other, "policies/stream");
    assert_int_equal(rg_stream_feed(st, other.s, "a", 1, FIX.r), RG_E_MISMATCH);
    rgt_close(&other);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_stream_feed(st, FIX.s, "a", 1, FIX.r), RG_E_INVAL);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_E_INVAL);
    assert_true(rg_result_flags(FIX.r) & RG_FLAG_FAILSAFE);
    rg_stream_free(st);
    rg_stream_free(NULL);
    assert_int_equal(rg_stream_safe_bytes(NULL), 0);
    assert_int_equal(rg_stream_bytes(NULL), 0);
    size_t l = 7;
    assert_null(rg_stream_release(NULL, &l));
    assert_int_equal(l, 0);
}

static void test_empty_stream(void **state)
{
    (void)state;
    rg_stream *st = open_stream(NULL);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(rg_result_verdict(FIX.r), RG_ALLOW);
    assert_int_equal(rg_stream_safe_bytes(st), 0);
    size_t l = 1;
    RGT_STR(rg_stream_release(st, &l), "");
    assert_int_equal(l, 0);
    rg_stream_free(st);
}

/* The fixture, two-chunk splits and random chunks, every route. */
static void test_fixture_streams(void **state)
{
    (void)state;
    static const char *const routes[] = {"default", "refunds", "small", "small_open"};
    static const char *const texts[] = {
        "Your card 4111 1111 1111 1111 is on file.",
        "The order number 4111111111111111 is here.",
        "use dirty rat poison, not a dirty rat",
        "shit happens; I'd fuuuck you; go fuck yourself",
        "mail bob@example.com or sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "account number 123456789 and IBAN ES91 too",
        "I will hurt you! I will find you",
        "f u c k you, s.h.i.t, sh1t, fu\xd1\x81k, damn",
        "a reply longer than sixty-four bytes, so the small routes cut it: slurword here",
    };
    size_t bad = 0;
    for (size_t r = 0; r < 4; r++)
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
            bad += !all_splits(&FIX, routes[r], texts[i], strlen(texts[i]));
    assert_int_equal(bad, 0);
}

/* A reload between feeds: the stream checks its text again under the new
 * policy, and its final result is rg_check's under that policy. */
static void test_reload_mid_stream(void **state)
{
    (void)state;
    rgt_ctx c;
    rgt_open(&c, "policies/reload_a");
    rg_stream *st = NULL;
    rg_request q;
    memset(&q, 0, sizeof q);
    assert_int_equal(rg_stream_open(c.e, &q, &st), RG_OK);
    const char *a = "first part of the reply with some words ";
    const char *b = "and the second part of it.";
    assert_int_equal(rg_stream_feed(st, c.s, a, strlen(a), c.r), RG_OK);
    rg_diag *d = NULL;
    assert_int_equal(rg_engine_reload(c.e, rgt_path("policies/reload_b"), &d), RG_OK);
    rg_diag_free(d);
    assert_int_equal(rg_stream_feed(st, c.s, b, strlen(b), c.r), RG_OK);
    assert_int_equal(rg_stream_close(st, c.s, c.r), RG_OK);
    char whole[256];
    snprintf(whole, sizeof whole, "%s%s", a, b);
    rg_result *w;
    assert_int_equal(rg_result_alloc(NULL, &w), RG_OK);
    q.reply = whole;
    q.reply_len = strlen(whole);
    assert_int_equal(rg_check(c.e, c.s, &q, w), RG_OK);
    assert_int_equal(rg_result_verdict(c.r), rg_result_verdict(w));
    assert_int_equal(rg_result_hit_count(c.r), rg_result_hit_count(w));
    RGT_STR(rg_result_policy_version(c.r), rg_result_policy_version(w));
    rg_result_free(w);
    rg_stream_free(st);
    rgt_close(&c);
}

/* A compiled bundle streams as the policy it came from; so does an engine
 * opened with RG_ENGINE_STREAMING. */
static void test_bundle_and_option(void **state)
{
    (void)state;
    char *dir = rgt_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/stream.rgb", dir);
    rg_diag *d = NULL;
    assert_int_equal(rg_bundle_write(rgt_path("policies/stream"), path, NULL, 0, &d), RG_OK);
    rg_diag_free(d);
    rg_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.flags = RG_ENGINE_STREAMING;
    for (int which = 0; which < 2; which++) {
        rgt_ctx c;
        assert_int_equal(rg_engine_open(&c.e, which ? rgt_path("policies/stream") : path,
                                        which ? &o : NULL, &d),
                         RG_OK);
        rg_diag_free(d);
        assert_int_equal(rg_scratch_alloc(c.e, &c.s), RG_OK);
        assert_int_equal(rg_result_alloc(NULL, &c.r), RG_OK);
        const char *t = "mail bob@example.com, card 4111 1111 1111 1111, you moron";
        size_t n = strlen(t);
        for (size_t p = 0; p <= n; p += 3)
            assert_true(stream_compare(&c, "default", t, n, &p, 1));
        rgt_close(&c);
    }
    rgt_rmtree(dir);
    free(dir);
}

/* Metrics and the audit event: once per stream, at close. */
static int AUDITS;
static void on_audit(const rg_audit_event *ev, void *user)
{
    (void)user;
    AUDITS++;
    assert_int_equal(ev->reply_len, 41);
}

static void test_audit_once(void **state)
{
    (void)state;
    AUDITS = 0;
    assert_int_equal(rg_engine_set_audit(FIX.e, on_audit, NULL, 0), RG_OK);
    rg_stream *st = open_stream(NULL);
    const char *t = "Your card 4111 1111 1111 1111 is on file.";
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i += 5)
        assert_int_equal(rg_stream_feed(st, FIX.s, t + i, n - i < 5 ? n - i : 5, FIX.r), RG_OK);
    assert_int_equal(AUDITS, 0);
    assert_int_equal(rg_stream_close(st, FIX.s, FIX.r), RG_OK);
    assert_int_equal(AUDITS, 1);
    rg_stream_free(st);
    assert_int_equal(rg_engine_set_audit(FIX.e, NULL, NULL, 0), RG_OK);
}

int main(void)
{
    const struct CMUnitTest fixture[] = {
        cmocka_unit_test(test_unfinished_word_held),
        cmocka_unit_test(test_split_word_blocks),
        cmocka_unit_test(test_split_card_redacted),
        cmocka_unit_test(test_context_after_waits),
        cmocka_unit_test(test_allow_phrase_after),
        cmocka_unit_test(test_end_anchor),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_released_unmasked),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_empty_stream),
        cmocka_unit_test(test_fixture_streams),
        cmocka_unit_test(test_reload_mid_stream),
        cmocka_unit_test(test_bundle_and_option),
        cmocka_unit_test(test_audit_once),
    };
    const struct CMUnitTest shipped[] = {
        cmocka_unit_test(test_golden_streams),
        cmocka_unit_test(test_fuzz_chunk_boundaries),
        cmocka_unit_test(test_byte_at_a_time),
    };
    int fails = cmocka_run_group_tests_name("stream (fixture)", fixture, setup_fixture,
                                            teardown_fixture);
    fails += cmocka_run_group_tests_name("stream (shipped policy)", shipped, setup_shipped,
                                         teardown_shipped);
    return fails;
}
