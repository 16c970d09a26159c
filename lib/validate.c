/* validate.c — validators for detector matches (`validate:` in a policy).
 *
 * Each validator is a pure function of the matched bytes: no allocation, no
 * global state, safe from any thread, bounded work (every loop is capped by
 * a small fixed length or by the span, which the regex already bounds).
 * Separators a pattern allows (spaces, dashes, dots, slashes) are skipped:
 * validators look at the letters and digits of the span, so "4111 1111
 * 1111 1111", "4111-1111-1111-1111" and "4111111111111111" validate alike.
 *
 * A validator that rejects a span drops the hit: it is how an order number
 * that happens to have 16 digits stops being a card. So validators err on
 * the side of the documented issuing rules, and each rule below says where
 * it comes from.
 *
 * The one table of names is at the end of this file: the loader, its error
 * messages and the docs all read it. Adding a validator = an enum value in
 * model.h, a function here, a line in the table (and in
 * rg__validator_names, which a unit test keeps in step with the table). */
#include "validate.h"
#include <math.h>
#include <string.h>

/* Longest identifier any validator accepts as letters+digits (IBAN: 34). */
#define ALNUM_MAX 40

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }
static int is_alnum(unsigned char c) { return is_digit(c) || is_alpha(c); }

/* Copy the ASCII letters (upper-cased) and digits of s into out (at most
 * cap); every other byte is a separator and skipped. Returns the count, or
 * -1 if there are more than cap of them (then the span is too long to be
 * the identifier). */
static int alnum_of(const char *s, size_t n, char *out, int cap)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c))
            continue;
        if (k == cap)
            return -1;
        out[k++] = (char)(is_lower(c) ? c - 32 : c);
    }
    return k;
}

/* Only the digits of s; -1 if a letter is present or more than cap. */
static int digits_of(const char *s, size_t n, char *out, int cap)
{
    int k = alnum_of(s, n, out, cap);
    for (int i = 0; i < k; i++)
        if (!is_digit((unsigned char)out[i]))
            return -1;
    return k;
}

static int all_digits(const char *d, int n)
{
    for (int i = 0; i < n; i++)
        if (!is_digit((unsigned char)d[i]))
            return 0;
    return 1;
}

/* 1 if every digit is the same ("000000000", "111111111"): checksums of
 * the mod-10/mod-11 families accept some of these, issuers never do. */
static int all_same(const char *d, int n)
{
    for (int i = 1; i < n; i++)
        if (d[i] != d[0])
            return 0;
    return 1;
}

/* The number formed by digits d[from, from+len). */
static unsigned long num(const char *d, int from, int len)
{
    unsigned long v = 0;
    for (int i = 0; i < len; i++)
        v = v * 10 + (unsigned long)(d[from + i] - '0');
    return v;
}

/* Luhn over a string of digits (no separators). */
static int luhn_digits(const char *d, int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++) {
        int v = d[n - 1 - i] - '0';
        if (i & 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

int rg__luhn(const char *s, size_t n)
{
    /* Walk right to left so the doubling position does not depend on the
     * digit count, and ignore separators the pattern allowed. */
    int sum = 0, ndigits = 0;
    for (size_t i = n; i-- > 0;) {
        unsigned char c = (unsigned char)s[i];
        if (c < '0' || c > '9')
            continue;
        int d = c - '0';
        if (ndigits & 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        if (++ndigits > 19)
            return 0;
    }
    return ndigits >= 13 && sum % 10 == 0;
}

/* --- payment cards ------------------------------------------------------ */

/* Issuer identification numbers and lengths, from the networks' published
 * ranges (ISO/IEC 7812 IINs as listed by each network): a Luhn-valid
 * number whose prefix no network issues, or whose length that network does
 * not use, is not a card. `lo..hi` compare the first `digits` digits. */
static const struct {
    unsigned char digits;
    unsigned long lo, hi;
    unsigned char minlen, maxlen;
    unsigned char lens13_16_19; /* Visa: only 13, 16 or 19 digits */
} card_iins[] = {
    {1, 4, 4, 13, 19, 1},                 /* Visa */
    {2, 51, 55, 16, 16, 0},               /* Mastercard */
    {4, 2221, 2720, 16, 16, 0},           /* Mastercard 2-series */
    {2, 34, 34, 15, 15, 0},               /* American Express */
    {2, 37, 37, 15, 15, 0},
    {4, 6011, 6011, 16, 19, 0},           /* Discover */
    {3, 644, 649, 16, 19, 0},
    {2, 65, 65, 16, 19, 0},
    {6, 622126, 622925, 16, 19, 0},       /* Discover / UnionPay co-brand */
    {4, 3528, 3589, 16, 19, 0},           /* JCB */
    {3, 300, 305, 14, 19, 0},             /* Diners Club */
    {4, 3095, 3095, 14, 19, 0},
    {2, 36, 36, 14, 19, 0},
    {2, 38, 39, 16, 19, 0},
    {2, 62, 62, 16, 19, 0},               /* UnionPay */
    {2, 81, 81, 16, 19, 0},               /* UnionPay (81xx) */
    {4, 5018, 5018, 12, 19, 0},           /* Maestro */
    {4, 5020, 5020, 12, 19, 0},
    {4, 5038, 5038, 12, 19, 0},
    {4, 5893, 5893, 12, 19, 0},
    {4, 6304, 6304, 12, 19, 0},
    {4, 6759, 6759, 12, 19, 0},
    {4, 6761, 6763, 12, 19, 0},
    {4, 2200, 2204, 16, 19, 0},           /* Mir */
};

int rg__valid_card(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    int k = digits_of(s, n, d, 19);
    if (k < 12 || k > 19 || !luhn_digits(d, k) || all_same(d, k))
        return 0;
    for (size_t i = 0; i < sizeof card_iins / sizeof card_iins[0]; i++) {
        unsigned long p = num(d, 0, card_iins[i].digits);
        if (p < card_iins[i].lo || p > card_iins[i].hi)
            continue;
        if (k < card_iins[i].minlen || k > card_iins[i].maxlen)
            continue;
        if (card_iins[i].lens13_16_19 && k != 13 && k != 16 && k != 19)
            continue;
        return 1;
    }
    return 0;
}

/* --- IBAN --------------------------------------------------------------- */

/* IBAN lengths per country, from the SWIFT IBAN registry (release 99,
 * 2025), which is what ISO 13616 delegates to. */
static const char iban_lengths[][3] = {
    "AD\x18", "AE\x17", "AL\x1c", "AT\x14", "AZ\x1c", "BA\x14", "BE\x10",
    "BG\x16", "BH\x16", "BI\x1b", "BR\x1d", "BY\x1c", "CH\x15", "CR\x16",
    "CY\x1c", "CZ\x18", "DE\x16", "DJ\x1b", "DK\x12", "DO\x1c", "EE\x14",
    "EG\x1d", "ES\x18", "FI\x12", "FK\x12", "FO\x12", "FR\x1b", "GB\x16",
    "GE\x16", "GI\x17", "GL\x12", "GR\x1b", "GT\x1c", "HN\x1c", "HR\x15",
    "HU\x1c", "IE\x16", "IL\x17", "IQ\x17", "IS\x1a", "IT\x1b", "JO\x1e",
    "KW\x1e", "KZ\x14", "LB\x1c", "LC\x20", "LI\x15", "LT\x14", "LU\x14",
    "LV\x15", "LY\x19", "MC\x1b", "MD\x18", "ME\x16", "MK\x13", "MN\x14",
    "MR\x1b", "MT\x1f", "MU\x1e", "NI\x1c", "NL\x12", "NO\x0f", "OM\x17",
    "PK\x18", "PL\x1c", "PS\x1d", "PT\x19", "QA\x1d", "RO\x18", "RS\x16",
    "RU\x21", "SA\x18", "SC\x1f", "SD\x12", "SE\x18", "SI\x13", "SK\x18",
    "SM\x1b", "SO\x17", "ST\x19", "SV\x1c", "TL\x17", "TN\x18", "TR\x1a",
    "UA\x1d", "VA\x16", "VG\x18", "XK\x14", "YE\x1e",
};

static int iban_length(char a, char b)
{
    for (size_t i = 0; i < sizeof iban_lengths / sizeof iban_lengths[0]; i++)
        if (iban_lengths[i][0] == a && iban_lengths[i][1] == b)
            return (unsigned char)iban_lengths[i][2];
    return 0;
}

int rg__valid_iban(const char *s, size_t n)
{
    char c[ALNUM_MAX];
    int k = alnum_of(s, n, c, 34);
    if (k < 15 || !is_upper((unsigned char)c[0]) || !is_upper((unsigned char)c[1]) ||
        !is_digit((unsigned char)c[2]) || !is_digit((unsigned char)c[3]))
        return 0;
    if (iban_length(c[0], c[1]) != k)
        return 0;
    /* ISO 7064 MOD 97-10: move the first four characters to the end, read
     * letters as 10..35, the number mod 97 must be 1. Done digit by digit,
     * so no big integers. Check digits 00, 01 and 99 are never issued. */
    int cd = (c[2] - '0') * 10 + (c[3] - '0');
    if (cd < 2 || cd > 98)
        return 0;
    unsigned rem = 0;
    for (int i = 0; i < k; i++) {
        unsigned char x = (unsigned char)c[(i + 4) % k];
        if (is_digit(x))
            rem = (rem * 10 + (unsigned)(x - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(x - 'A' + 10)) % 97;
    }
    return rem == 1;
}

/* --- United States ------------------------------------------------------ */

/* SSA rules (since 2011 "randomization"): area 001-899 except 666, group
 * 01-99, serial 0001-9999. Area 9xx are ITINs/adoption numbers, not SSNs.
 * Also refused: numbers the SSA voided after they were published
 * (078-05-1120 from the Woolworth wallet card, 219-09-9999 from an SSA
 * pamphlet). */
int rg__valid_us_ssn(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 9) != 9)
        return 0;
    unsigned long area = num(d, 0, 3), group = num(d, 3, 2), serial = num(d, 5, 4);
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
        return 0;
    if (!memcmp(d, "078051120", 9) || !memcmp(d, "219099999", 9))
        return 0;
    return 1;
}

/* IRS: an ITIN is 9xx-XX-xxxx with the middle two digits in 50-65, 70-88,
 * 90-92 or 94-99. */
int rg__valid_us_itin(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 9) != 9 || d[0] != '9')
        return 0;
    unsigned long g = num(d, 3, 2);
    return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) ||
           (g >= 94 && g <= 99);
}

/* ABA routing transit number: 9 digits, 3-7-1 weighted sum divisible by
 * 10, and the first two digits a Federal Reserve district (01-12), a
 * thrift (21-32), an electronic-only number (61-72) or traveller's cheques
 * (80). 00 (US Treasury) is left out: it is internal to the government. */
int rg__valid_aba_routing(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 9) != 9)
        return 0;
    unsigned long p = num(d, 0, 2);
    if (!((p >= 1 && p <= 12) || (p >= 21 && p <= 32) || (p >= 61 && p <= 72) || p == 80))
        return 0;
    int sum = 0;
    static const int w[9] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
    for (int i = 0; i < 9; i++)
        sum += w[i] * (d[i] - '0');
    return sum % 10 == 0;
}

/* --- Mexico --------------------------------------------------------------- */

/* CLABE (Clave Bancaria Estandarizada): 18 digits, weights 3-7-1, the last
 * digit is (10 - sum of (digit*weight mod 10)) mod 10 (Banxico). */
int rg__valid_mx_clabe(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 18) != 18 || all_same(d, 18))
        return 0;
    static const int w[3] = {3, 7, 1};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += ((d[i] - '0') * w[i % 3]) % 10;
    return (10 - sum % 10) % 10 == d[17] - '0';
}

/* CURP: AAAA YYMMDD S EE CCC D V — four letters, birth date, sex (H/M, X
 * since 2022), state of birth (32 codes + NE "born abroad"), three inner
 * consonants, a homonym differentiator (digit before 2000, letter after)
 * and a check digit over the first 17 characters (RENAPO: values from
 * "0-9A-NÑO-Z", weights 18..2; Ñ is written X in CURPs, so it never
 * appears, but it shifts the values of O-Z by one). */
static int curp_value(char c)
{
    if (is_digit((unsigned char)c))
        return c - '0';
    if (c <= 'N')
        return c - 'A' + 10;
    return c - 'A' + 11;
}

static int is_consonant(char c)
{
    return is_upper((unsigned char)c) && !strchr("AEIOU", c);
}

static int valid_date(int yyyy, int mm, int dd)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mm < 1 || mm > 12 || dd < 1 || dd > mdays[mm - 1])
        return 0;
    if (mm == 2 && dd == 29)
        return yyyy % 4 == 0 && (yyyy % 100 != 0 || yyyy % 400 == 0);
    return 1;
}

int rg__valid_mx_curp(const char *s, size_t n)
{
    static const char states[] = "AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT "
                                 "NL OC PL QT QR SP SL SR TC TS TL VZ YN ZS NE ";
    char c[ALNUM_MAX];
    if (alnum_of(s, n, c, 18) != 18)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!is_upper((unsigned char)c[i]))
            return 0;
    if (!all_digits(c + 4, 6) || !strchr("HMX", c[10]) || !is_digit((unsigned char)c[17]))
        return 0;
    char st[4] = {c[11], c[12], ' ', 0};
    if (!is_upper((unsigned char)st[0]) || !is_upper((unsigned char)st[1]) || !strstr(states, st))
        return 0;
    if (!is_consonant(c[13]) || !is_consonant(c[14]) || !is_consonant(c[15]))
        return 0;
    if (!is_alnum((unsigned char)c[16]))
        return 0;
    /* Differentiator: a digit for births 1900-1999, a letter for 2000+. */
    int yy = (int)num(c, 4, 2);
    int yyyy = is_digit((unsigned char)c[16]) ? 1900 + yy : 2000 + yy;
    if (!valid_date(yyyy, (int)num(c, 6, 2), (int)num(c, 8, 2)))
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += curp_value(c[i]) * (18 - i);
    return (10 - sum % 10) % 10 == c[17] - '0';
}

/* --- Spain ---------------------------------------------------------------- */

/* DNI: 8 digits and the control letter TRWAGMYFPDXBNJZSQVHLCKE[n mod 23]
 * (Ministerio del Interior). NIE: X/Y/Z (read as 0/1/2) + 7 digits +
 * the same letter rule. */
static const char dni_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

int rg__valid_es_dni(const char *s, size_t n)
{
    char c[ALNUM_MAX];
    if (alnum_of(s, n, c, 9) != 9 || !all_digits(c, 8) || all_same(c, 8))
        return 0;
    return dni_letters[num(c, 0, 8) % 23] == c[8];
}

int rg__valid_es_nie(const char *s, size_t n)
{
    char c[ALNUM_MAX];
    if (alnum_of(s, n, c, 9) != 9 || !strchr("XYZ", c[0]) || !all_digits(c + 1, 7))
        return 0;
    unsigned long v = (unsigned long)(c[0] - 'X') * 10000000UL + num(c, 1, 7);
    return dni_letters[v % 23] == c[8];
}

/* --- United Kingdom ------------------------------------------------------- */

/* National Insurance number (HMRC NIM39110): two prefix letters, six
 * digits, suffix A-D. Neither prefix letter is D, F, I, Q, U or V; the
 * second is not O; BG, GB, KN, NK, NT, TN and ZZ are never issued. (So the
 * specimen "QQ 12 34 56 C" is not a NINO.) */
int rg__valid_uk_nino(const char *s, size_t n)
{
    char c[ALNUM_MAX];
    if (alnum_of(s, n, c, 9) != 9)
        return 0;
    if (!is_upper((unsigned char)c[0]) || !is_upper((unsigned char)c[1]) ||
        !all_digits(c + 2, 6) || c[8] < 'A' || c[8] > 'D')
        return 0;
    if (strchr("DFIQUV", c[0]) || strchr("DFIQUVO", c[1]))
        return 0;
    static const char *const bad[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (c[0] == bad[i][0] && c[1] == bad[i][1])
            return 0;
    return 1;
}

/* NHS number: 10 digits, weights 10..2 over the first nine, check digit
 * 11 - (sum mod 11) (11 reads as 0; 10 means the number is never issued). */
int rg__valid_uk_nhs(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 10) != 10 || all_same(d, 10))
        return 0;
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (d[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    return check != 10 && check == d[9] - '0';
}

/* --- Canada, India, Brazil ------------------------------------------------ */

/* SIN: 9 digits, Luhn; never starts with 0 or 8 (ESDC: 0 is unassigned, 8
 * is business numbers). */
int rg__valid_ca_sin(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 9) != 9 || d[0] == '0' || d[0] == '8' || all_same(d, 9))
        return 0;
    return luhn_digits(d, 9);
}

/* Aadhaar: 12 digits, first digit 2-9 (UIDAI), Verhoeff check digit. */
static const unsigned char verhoeff_d[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
};
static const unsigned char verhoeff_p[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
};

int rg__verhoeff(const char *d, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c = verhoeff_d[c][verhoeff_p[i % 8][d[n - 1 - i] - '0']];
    return c == 0;
}

int rg__valid_in_aadhaar(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 12) != 12 || d[0] < '2')
        return 0;
    return rg__verhoeff(d, 12);
}

/* CPF: 11 digits, two mod-11 check digits (Receita Federal); numbers of
 * one repeated digit pass the arithmetic but are invalid. */
int rg__valid_br_cpf(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 11) != 11 || all_same(d, 11))
        return 0;
    for (int len = 9; len <= 10; len++) {
        int sum = 0;
        for (int i = 0; i < len; i++)
            sum += (d[i] - '0') * (len + 1 - i);
        int check = sum * 10 % 11 % 10;
        if (check != d[len] - '0')
            return 0;
    }
    return 1;
}

/* --- Italy ---------------------------------------------------------------- */

/* Codice fiscale (DM 23/12/1976): 6 letters (surname, name), 2 year
 * digits, a month letter (ABCDEHLMPRST), 2 day digits (women +40), a
 * municipality code (letter + 3 digits) and a check letter. "Omocodia":
 * when two people would collide, digits are replaced from the right by
 * LMNPQRSTUV (0-9), so any of the seven digit positions may be a letter. */
static int cf_digit(char c)
{
    static const char omo[] = "LMNPQRSTUV";
    if (is_digit((unsigned char)c))
        return c - '0';
    const char *p = is_upper((unsigned char)c) ? strchr(omo, c) : NULL;
    return p ? (int)(p - omo) : -1;
}

int rg__valid_it_codice_fiscale(const char *s, size_t n)
{
    /* Values of characters in odd (1st, 3rd, ...) positions; even
     * positions use 0-9 / A-Z = 0..25. */
    static const unsigned char odd[36] = {
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21,                 /* 0-9 */
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20,   /* A-N */
        11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,       /* O-Z */
    };
    static const int digit_pos[7] = {6, 7, 9, 10, 12, 13, 14};
    char c[ALNUM_MAX];
    if (alnum_of(s, n, c, 16) != 16)
        return 0;
    for (int i = 0; i < 6; i++)
        if (!is_upper((unsigned char)c[i]))
            return 0;
    for (int i = 0; i < 7; i++)
        if (cf_digit(c[digit_pos[i]]) < 0)
            return 0;
    if (!strchr("ABCDEHLMPRST", c[8]) || !is_upper((unsigned char)c[11]) ||
        !is_upper((unsigned char)c[15]))
        return 0;
    int day = cf_digit(c[9]) * 10 + cf_digit(c[10]);
    if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71)))
        return 0;
    int sum = 0;
    for (int i = 0; i < 15; i++) {
        unsigned char x = (unsigned char)c[i];
        int idx = is_digit(x) ? x - '0' : x - 'A' + 10;
        if (i % 2 == 0)
            sum += odd[idx];
        else
            sum += is_digit(x) ? x - '0' : x - 'A';
    }
    return c[15] == 'A' + sum % 26;
}

/* --- Poland, France, Germany, Netherlands --------------------------------- */

/* PESEL: YYMMDD + 4 digits + check digit with weights 1-3-7-9; the month
 * carries the century (+80 1800s, +0 1900s, +20 2000s, +40 2100s, +60
 * 2200s) and the date must exist. */
int rg__valid_pl_pesel(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 11) != 11 || all_same(d, 11))
        return 0;
    static const int w[10] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
    int sum = 0;
    for (int i = 0; i < 10; i++)
        sum += (d[i] - '0') * w[i];
    if ((10 - sum % 10) % 10 != d[10] - '0')
        return 0;
    int yy = (int)num(d, 0, 2), mm = (int)num(d, 2, 2), dd = (int)num(d, 4, 2);
    static const int century[5] = {1900, 2000, 2100, 2200, 1800};
    int yyyy = century[(mm / 20) % 5] + yy;
    return valid_date(yyyy, mm % 20, dd);
}

/* French NIR (numéro de sécurité sociale): sex (1/2, 3/4/7/8 for
 * provisional numbers), YY, MM (01-12, 20-42 or 50-99 when the month is
 * unknown), département (2 digits, or 2A/2B for Corsica), commune (3),
 * order (3), and a key 97 - (first 13 digits mod 97), with 2A/2B read as
 * 19/18 (INSEE). */
int rg__valid_fr_nir(const char *s, size_t n)
{
    char c[ALNUM_MAX];
    if (alnum_of(s, n, c, 15) != 15 || !strchr("123478", c[0]))
        return 0;
    char d[16];
    memcpy(d, c, 15);
    d[15] = 0;
    int corsica = 0;
    if (d[5] == '2' && (d[6] == 'A' || d[6] == 'B')) {
        corsica = d[6] == 'A' ? 1 : 2;
        d[6] = '0';
    }
    if (!all_digits(d, 15))
        return 0;
    int mm = (int)num(d, 3, 2);
    if (!((mm >= 1 && mm <= 12) || (mm >= 20 && mm <= 42) || mm >= 50))
        return 0;
    unsigned long long v = 0;
    for (int i = 0; i < 13; i++)
        v = v * 10 + (unsigned long long)(d[i] - '0');
    if (corsica)
        v -= corsica == 1 ? 1000000ULL : 2000000ULL; /* 20 -> 19 / 18 */
    int key = (int)num(d, 13, 2);
    return key >= 1 && key <= 97 && (unsigned long long)key == 97 - v % 97;
}

/* Steuerliche Identifikationsnummer: 11 digits, first not 0. Among the
 * first ten, exactly one digit occurs twice or three times (three only
 * since 2016, and then never three in a row) and every other at most
 * once; check digit by ISO 7064 MOD 11,10 (BZSt). */
int rg__valid_de_steuer_id(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    if (digits_of(s, n, d, 11) != 11 || d[0] == '0')
        return 0;
    int count[10] = {0};
    for (int i = 0; i < 10; i++)
        count[d[i] - '0']++;
    int repeated = 0;
    for (int i = 0; i < 10; i++) {
        if (count[i] > 3)
            return 0;
        if (count[i] >= 2)
            repeated++;
    }
    if (repeated != 1)
        return 0;
    for (int i = 2; i < 10; i++)
        if (d[i] == d[i - 1] && d[i] == d[i - 2])
            return 0;
    int product = 10;
    for (int i = 0; i < 10; i++) {
        int sum = (d[i] - '0' + product) % 10;
        if (sum == 0)
            sum = 10;
        product = sum * 2 % 11;
    }
    int check = 11 - product;
    if (check == 10)
        check = 0;
    return check == d[10] - '0';
}

/* BSN (burgerservicenummer): 9 digits (8 with an implied leading zero),
 * "elfproef": 9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11, not zero. */
int rg__valid_nl_bsn(const char *s, size_t n)
{
    char d[ALNUM_MAX];
    int k = digits_of(s, n, d, 9);
    if (k == 8) {
        memmove(d + 1, d, 8);
        d[0] = '0';
        k = 9;
    }
    if (k != 9 || all_same(d, 9))
        return 0;
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (d[i] - '0') * (9 - i);
    sum -= d[8] - '0';
    return sum > 0 && sum % 11 == 0;
}

/* --- network addresses ---------------------------------------------------- */

/* Dotted-quad IPv4: exactly four decimal octets 0-255, no leading zeros
 * (a leading zero reads as octal to some parsers and is usually a version
 * or a date, "01.02.2024.1"). */
int rg__valid_ipv4(const char *s, size_t n)
{
    int octets = 0, len = 0, val = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : '.';
        if (is_digit(c)) {
            if (len == 1 && val == 0)
                return 0;
            val = val * 10 + (c - '0');
            if (++len > 3 || val > 255)
                return 0;
        } else if (c == '.') {
            if (len == 0 || ++octets > 4)
                return 0;
            len = val = 0;
        } else {
            return 0;
        }
    }
    return octets == 4;
}

static int is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* IPv6 text form (RFC 4291 2.2): eight groups of 1-4 hex digits, or fewer
 * with exactly one "::", optionally ending in a dotted IPv4 address (which
 * counts as two groups). Times (10:30:00) and MAC addresses (six groups,
 * no "::") are refused by the group count, and so are "::" and "::1" (at
 * least two groups: the unspecified and loopback addresses are nobody's). */
int rg__valid_ipv6(const char *s, size_t n)
{
    if (n < 2 || n > 45)
        return 0;
    int groups = 0, dcolon = 0;
    size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':')
            return 0;
        dcolon = 1;
        i = 2;
        if (i == n)
            return 0; /* "::" */
    }
    while (i < n) {
        size_t j = i;
        while (j < n && is_hex((unsigned char)s[j]) && j - i < 5)
            j++;
        if (j < n && s[j] == '.') {
            /* Embedded IPv4 tail. */
            if (!rg__valid_ipv4(s + i, n - i))
                return 0;
            groups += 2;
            i = n;
            break;
        }
        if (j == i || j - i > 4)
            return 0;
        groups++;
        if (j == n) {
            i = n;
            break;
        }
        if (s[j] != ':')
            return 0;
        if (j + 1 < n && s[j + 1] == ':') {
            if (dcolon)
                return 0;
            dcolon = 1;
            i = j + 2;
            if (i == n)
                break;
        } else {
            i = j + 1;
            if (i == n)
                return 0; /* trailing single colon */
        }
    }
    return dcolon ? groups >= 2 && groups <= 7 : groups == 8;
}

/* Email: the pattern defines the shape; this only refuses what looks like
 * an address but is a file name ("logo@2x.png", "icon@3x.webp") or the
 * "password@host" end of a URL with credentials: the shipped pattern lets
 * an optional "scheme://..." prefix into the span precisely so that this
 * validator can see it and refuse. */
int rg__valid_email(const char *s, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return 0;
    static const char *const ext[] = {"png", "jpg", "jpeg", "gif", "svg", "webp",
                                      "bmp", "ico", "tif", "tiff", "pdf", "heic"};
    size_t dot = n;
    while (dot > 0 && s[dot - 1] != '.')
        dot--;
    if (dot == 0)
        return 0;
    size_t tl = n - dot;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t el = strlen(ext[i]);
        if (tl != el)
            continue;
        size_t k = 0;
        while (k < el && (s[dot + k] | 0x20) == ext[i][k])
            k++;
        if (k == el)
            return 0;
    }
    return 1;
}

/* --- secrets -------------------------------------------------------------- */

static int b64url_value(unsigned char c)
{
    if (is_upper(c))
        return c - 'A';
    if (is_lower(c))
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    if (c == '-' || c == '+')
        return 62;
    if (c == '_' || c == '/')
        return 63;
    return -1;
}

/* JSON Web Token (RFC 7519, compact JWS): three base64url parts separated
 * by dots; the header decodes to a JSON object with an "alg" member. Only
 * the first 1 KiB of the header is decoded (fixed stack buffer); a header
 * that long is not a real JWT header anyway. */
int rg__valid_jwt(const char *s, size_t n)
{
    size_t dot1 = 0, dot2 = 0, dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (++dots == 1)
                dot1 = i;
            else if (dots == 2)
                dot2 = i;
            else
                return 0;
        } else if (b64url_value((unsigned char)s[i]) < 0 || s[i] == '+' || s[i] == '/') {
            return 0;
        }
    }
    if (dots != 2 || dot1 < 4 || dot2 - dot1 < 2)
        return 0; /* an empty signature (alg "none") is still a token */
    size_t hlen = dot1 < 1024 ? dot1 : 1024;
    char out[768];
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < hlen; i++) {
        acc = (acc << 6) | (unsigned)b64url_value((unsigned char)s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    size_t k = 0;
    while (k < o && (out[k] == ' ' || out[k] == '\t' || out[k] == '\r' || out[k] == '\n'))
        k++;
    if (k == o || out[k] != '{')
        return 0;
    for (; k + 5 <= o; k++)
        if (!memcmp(out + k, "\"alg\"", 5))
            return 1;
    return 0;
}

/* Bytes that end a value in "key = value": blanks, quotes, assignment
 * and bracket punctuation. */
static int value_sep(char c)
{
    return c && strchr(" \t\r\n\"'`:=,;()[]{}<>", c) != NULL;
}

/* The value of a "key = value" span: its last run of bytes that are not
 * value separators. */
static void last_value(const char *s, size_t n, size_t *vs, size_t *ve)
{
    size_t e = n;
    while (e > 0 && value_sep(s[e - 1]))
        e--;
    size_t b = e;
    while (b > 0 && !value_sep(s[b - 1]))
        b--;
    *vs = b;
    *ve = e;
}

/* Shannon entropy of s[0..n) in bits per byte. */
double rg__entropy(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned count[256] = {0};
    for (size_t i = 0; i < n; i++)
        count[(unsigned char)s[i]]++;
    double h = 0;
    for (int c = 0; c < 256; c++)
        if (count[c]) {
            double p = (double)count[c] / (double)n;
            h -= p * log2(p);
        }
    return h;
}

/* A generic key/token written next to a key word: the value must look
 * random, not like a word or a placeholder. Rules (measured on random keys
 * vs. placeholders and words, see docs/PII_SECRETS.md): not in a vendor's
 * format (those have their own detectors), 16-256 bytes, at
 * least one digit and one letter (YOUR_API_KEY_HERE-style placeholders and
 * words have no digit), and Shannon entropy of at least 0.65 * log2(len)
 * bits/byte, at most 3.2 (2.6 at 16 bytes, 3.0 at 24): repeated and
 * patterned values ("abc123abc123...") stay below, 99% of random hex
 * keys are above. */
int rg__valid_high_entropy(const char *s, size_t n)
{
    /* Values in a vendor's own format belong to that vendor's detector
     * (secret.token.github, secret.token.jwt, ...): a generic "token: ghp_..."
     * hit next to the GitHub hit would report one secret twice, under two
     * kinds. */
    static const char *const vendor[] = {
        "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-",
        "xoxa-", "xoxr-", "xoxs-", "sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk-",
        "AKIA", "ASIA", "AIza", "eyJ",
    };
    size_t vs, ve;
    last_value(s, n, &vs, &ve);
    size_t len = ve - vs;
    if (len < 16 || len > 256)
        return 0;
    for (size_t i = 0; i < sizeof vendor / sizeof vendor[0]; i++)
        if (!strncmp(s + vs, vendor[i], strlen(vendor[i])))
            return 0;
    int digit = 0, alpha = 0;
    for (size_t i = vs; i < ve; i++) {
        unsigned char c = (unsigned char)s[i];
        digit |= is_digit(c);
        alpha |= is_alpha(c);
    }
    if (!digit || !alpha)
        return 0;
    /* The empirical entropy of a random string grows with its length
     * (random hex: 1st percentile 2.7 bits at 16 bytes, 3.3 at 32, 3.4 at
     * 40), so the bar does too: 0.65 * log2(len), at most 3.2. */
    double bar = 0.65 * log2((double)len);
    return rg__entropy(s + vs, len) >= (bar < 3.2 ? bar : 3.2);
}

/* Shared by the two password validators: 1 if value v[0..len) looks like
 * a password rather than a mask ("********", "xxxxxx", "••••"), a
 * placeholder ("YOUR_PASSWORD", "${PASS}", "%s") or an ordinary word
 * ("required", "Incorrect"): 4-128 bytes, and two of lower case, upper
 * case, digit, symbol, or digits only (a PIN-like password). Trailing
 * sentence punctuation is not part of it. */
static int password_like(const char *v, size_t len, size_t minlen)
{
    while (len > 0 && strchr(".,;:", v[len - 1]))
        len--;
    if (len < minlen || len > 128 || strchr("$%{<[", v[0]))
        return 0;
    int lower = 0, upper = 0, digit = 0, symbol = 0, same = 1, mask = 1, caps = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (is_lower(c))
            lower = 1;
        else if (is_upper(c))
            upper = 1;
        else if (is_digit(c))
            digit = 1;
        else
            symbol = 1;
        if ((c | 0x20) != ((unsigned char)v[0] | 0x20))
            same = 0;
        if (!(c == '*' || c == '#' || c == '.' || c == 'x' || c == 'X' || c >= 0x80))
            mask = 0;
        if (!is_upper(c) && c != '_' && c != '-' && c < 0x80)
            caps = 0; /* (bytes >= 0x80: a letter such as Ñ, case unknown) */
    }
    if (same || mask || caps)
        return 0;
    /* A capitalised word ("Incorrect", "Required") is a word. */
    int word = !digit && !symbol && is_upper((unsigned char)v[0]);
    for (size_t i = 1; i < len && word; i++)
        word = is_lower((unsigned char)v[i]);
    if (word)
        return 0;
    if (digit && !lower && !upper && !symbol)
        return 1;
    return lower + upper + digit + symbol >= 2;
}

/* A password written out ("password: X", "pwd=X", "password is X"): the
 * value is the last run of bytes that are not blanks, quotes or `:=,;`
 * (see last_value), at least 6 bytes, password_like. A bracketed
 * placeholder ("<password>", "{pwd}", "[password]") is refused. */
int rg__valid_password_value(const char *s, size_t n)
{
    size_t vs, ve;
    last_value(s, n, &vs, &ve);
    if (vs > 0 && strchr("<{[", s[vs - 1]))
        return 0;
    return password_like(s + vs, ve - vs, 6);
}

/* Documentation placeholders for a password (compared case-insensitively). */
static const char *const pw_placeholders[] = {
    "password", "passwd", "pass", "pwd", "secret", "changeme", "yourpassword",
    "your_password", "your-password", "mypassword", "my_password", "example",
    "pa55word", "p@ssw0rd", "p@ssword", "passw0rd", "contrasena", "clave",
};

static int is_placeholder(const char *pw, size_t len)
{
    for (size_t k = 0; k < sizeof pw_placeholders / sizeof pw_placeholders[0]; k++) {
        size_t pl = strlen(pw_placeholders[k]);
        if (pl != len)
            continue;
        size_t j = 0;
        while (j < pl && ((unsigned char)pw[j] | 0x20) == (unsigned char)pw_placeholders[k][j])
            j++;
        if (j == pl)
            return 1;
    }
    return 0;
}

/* Credentials in a URL, scheme://user:password@host (RFC 3986 userinfo):
 * the password is between the first ':' after "//" and the last '@';
 * it must be password_like (4+ bytes) and not one of the placeholders
 * documentation uses ("password", "pass", "secret", "changeme", ...). */
int rg__valid_url_password(const char *s, size_t n)
{
    size_t i = 0;
    while (i + 2 < n && !(s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/'))
        i++;
    if (i + 2 >= n)
        return 0;
    i += 3;
    size_t at = n;
    while (at > i && s[at - 1] != '@')
        at--;
    if (at <= i)
        return 0;
    at--; /* index of the last '@' */
    size_t colon = i;
    while (colon < at && s[colon] != ':')
        colon++;
    if (colon >= at || colon == i)
        return 0; /* no user:password, or an empty user */
    const char *pw = s + colon + 1;
    size_t len = at - colon - 1;
    if (is_placeholder(pw, len))
        return 0;
    return password_like(pw, len, 4);
}

/* HTTP Basic credentials ("Authorization: Basic dXNlcjpwYXNz", RFC 7617):
 * the last value of the span is standard base64 that decodes to printable
 * "user:password" with a user, a password of 3+ bytes that is not a
 * placeholder. Only the first 256 characters are decoded. */
int rg__valid_basic_auth(const char *s, size_t n)
{
    size_t vs, ve;
    last_value(s, n, &vs, &ve);
    while (ve > vs && s[ve - 1] == '=')
        ve--;
    if (ve - vs < 8 || ve - vs > 256)
        return 0;
    char out[192];
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = vs; i < ve; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '-' || c == '_')
            return 0; /* base64url is not Basic's alphabet */
        int v = b64url_value(c);
        if (v < 0)
            return 0;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    size_t colon = o;
    for (size_t i = 0; i < o; i++) {
        if (out[i] < 0x20 || out[i] > 0x7e)
            return 0;
        if (out[i] == ':' && colon == o)
            colon = i;
    }
    if (colon == 0 || colon == o || o - colon - 1 < 3)
        return 0;
    return !is_placeholder(out + colon + 1, o - colon - 1);
}

/* AWS access key id: AKIA (long-term) or ASIA (temporary) and 16
 * characters of AWS's base32 alphabet (A-Z, 2-7), not a mask
 * ("AKIAXXXXXXXXXXXXXXXX"): at least 6 distinct characters. */
int rg__valid_aws_key_id(const char *s, size_t n)
{
    if (n != 20 || (memcmp(s, "AKIA", 4) && memcmp(s, "ASIA", 4)))
        return 0;
    int seen[32] = {0}, distinct = 0;
    for (size_t i = 4; i < 20; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = is_upper(c) ? c - 'A' : (c >= '2' && c <= '7') ? 26 + c - '2' : -1;
        if (v < 0)
            return 0;
        if (!seen[v]++)
            distinct++;
    }
    return distinct >= 6;
}

/* --- dispatch and the name table ------------------------------------------ */

int rg__validate(rg__validator v, const char *s, size_t n)
{
    switch (v) {
    case RG__VALIDATE_NONE: return 1;
    case RG__VALIDATE_LUHN: return rg__luhn(s, n);
    case RG__VALIDATE_CARD: return rg__valid_card(s, n);
    case RG__VALIDATE_IBAN: return rg__valid_iban(s, n);
    case RG__VALIDATE_US_SSN: return rg__valid_us_ssn(s, n);
    case RG__VALIDATE_US_ITIN: return rg__valid_us_itin(s, n);
    case RG__VALIDATE_ABA_ROUTING: return rg__valid_aba_routing(s, n);
    case RG__VALIDATE_MX_CLABE: return rg__valid_mx_clabe(s, n);
    case RG__VALIDATE_ES_DNI: return rg__valid_es_dni(s, n);
    case RG__VALIDATE_ES_NIE: return rg__valid_es_nie(s, n);
    case RG__VALIDATE_UK_NINO: return rg__valid_uk_nino(s, n);
    case RG__VALIDATE_UK_NHS: return rg__valid_uk_nhs(s, n);
    case RG__VALIDATE_CA_SIN: return rg__valid_ca_sin(s, n);
    case RG__VALIDATE_IN_AADHAAR: return rg__valid_in_aadhaar(s, n);
    case RG__VALIDATE_BR_CPF: return rg__valid_br_cpf(s, n);
    case RG__VALIDATE_MX_CURP: return rg__valid_mx_curp(s, n);
    case RG__VALIDATE_IT_CODICE_FISCALE: return rg__valid_it_codice_fiscale(s, n);
    case RG__VALIDATE_PL_PESEL: return rg__valid_pl_pesel(s, n);
    case RG__VALIDATE_FR_NIR: return rg__valid_fr_nir(s, n);
    case RG__VALIDATE_DE_STEUER_ID: return rg__valid_de_steuer_id(s, n);
    case RG__VALIDATE_NL_BSN: return rg__valid_nl_bsn(s, n);
    case RG__VALIDATE_IPV4: return rg__valid_ipv4(s, n);
    case RG__VALIDATE_IPV6: return rg__valid_ipv6(s, n);
    case RG__VALIDATE_EMAIL: return rg__valid_email(s, n);
    case RG__VALIDATE_JWT: return rg__valid_jwt(s, n);
    case RG__VALIDATE_HIGH_ENTROPY: return rg__valid_high_entropy(s, n);
    case RG__VALIDATE_PASSWORD_VALUE: return rg__valid_password_value(s, n);
    case RG__VALIDATE_URL_PASSWORD: return rg__valid_url_password(s, n);
    case RG__VALIDATE_AWS_KEY_ID: return rg__valid_aws_key_id(s, n);
    case RG__VALIDATE_BASIC_AUTH: return rg__valid_basic_auth(s, n);
    }
    return 0;
}

/* The one table of validator names: the loader, error messages and
 * docs all read it, so adding a validator is one line here plus its
 * function. */
static const struct {
    const char *name;
    rg__validator id;
} validators[] = {
    {"luhn", RG__VALIDATE_LUHN},
    {"card", RG__VALIDATE_CARD},
    {"iban", RG__VALIDATE_IBAN},
    {"us_ssn", RG__VALIDATE_US_SSN},
    {"us_itin", RG__VALIDATE_US_ITIN},
    {"aba_routing", RG__VALIDATE_ABA_ROUTING},
    {"mx_clabe", RG__VALIDATE_MX_CLABE},
    {"es_dni", RG__VALIDATE_ES_DNI},
    {"es_nie", RG__VALIDATE_ES_NIE},
    {"uk_nino", RG__VALIDATE_UK_NINO},
    {"uk_nhs", RG__VALIDATE_UK_NHS},
    {"ca_sin", RG__VALIDATE_CA_SIN},
    {"in_aadhaar", RG__VALIDATE_IN_AADHAAR},
    {"br_cpf", RG__VALIDATE_BR_CPF},
    {"mx_curp", RG__VALIDATE_MX_CURP},
    {"it_codice_fiscale", RG__VALIDATE_IT_CODICE_FISCALE},
    {"pl_pesel", RG__VALIDATE_PL_PESEL},
    {"fr_nir", RG__VALIDATE_FR_NIR},
    {"de_steuer_id", RG__VALIDATE_DE_STEUER_ID},
    {"nl_bsn", RG__VALIDATE_NL_BSN},
    {"ipv4", RG__VALIDATE_IPV4},
    {"ipv6", RG__VALIDATE_IPV6},
    {"email", RG__VALIDATE_EMAIL},
    {"jwt", RG__VALIDATE_JWT},
    {"high_entropy", RG__VALIDATE_HIGH_ENTROPY},
    {"password_value", RG__VALIDATE_PASSWORD_VALUE},
    {"url_password", RG__VALIDATE_URL_PASSWORD},
    {"aws_key_id", RG__VALIDATE_AWS_KEY_ID},
    {"basic_auth", RG__VALIDATE_BASIC_AUTH},
};

const char rg__validator_names[] =
    "luhn, card, iban, us_ssn, us_itin, aba_routing, mx_clabe, es_dni, es_nie, "
    "uk_nino, uk_nhs, ca_sin, in_aadhaar, br_cpf, mx_curp, it_codice_fiscale, "
    "pl_pesel, fr_nir, de_steuer_id, nl_bsn, ipv4, ipv6, email, jwt, high_entropy, "
    "password_value, url_password, aws_key_id, basic_auth";

size_t rg__validator_count(void)
{
    return sizeof validators / sizeof validators[0];
}

const char *rg__validator_name_at(size_t i)
{
    return i < rg__validator_count() ? validators[i].name : NULL;
}

int rg__validator_from_name(const char *name, rg__validator *out)
{
    for (size_t i = 0; i < sizeof validators / sizeof validators[0]; i++)
        if (!strcmp(name, validators[i].name)) {
            *out = validators[i].id;
            return 0;
        }
    *out = RG__VALIDATE_NONE;
    return -1;
}
