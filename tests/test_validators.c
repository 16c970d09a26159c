/* test_validators.c — every `validate:` function on its own (white-box,
 * linked against the internal archive): published or hand-computed valid
 * identifiers, the same with one digit changed or two swapped, wrong
 * lengths at both edges, issuer/structure rules, and the separators a
 * pattern may leave in the span. Engine-level behaviour (a failing span is
 * not a hit) is in test_validate.c; the checksums are also cross-checked
 * against an independent Python implementation (scripts/pii_ids.py) on
 * thousands of random values, see docs/PII_SECRETS.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "validate.h"

typedef struct {
    const char *s;
    int ok;
} vcase;

/* Run every case; report all mismatches before failing. */
static void run(rg__validator v, const char *name, const vcase *c, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int got = rg__validate(v, c[i].s, strlen(c[i].s));
        if (got != c[i].ok) {
            fprintf(stderr, "%s(\"%s\") = %d, expected %d\n", name, c[i].s, got, c[i].ok);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

#define RUN(v, name, cases) run(v, name, cases, sizeof cases / sizeof cases[0])

static void test_names(void **state)
{
    (void)state;
    /* The name table, the names string (error messages) and the enum
     * agree: every name resolves, to a distinct validator, and appears in
     * rg__validator_names. */
    size_t n = rg__validator_count();
    assert_true(n >= 29);
    int seen[64] = {0};
    for (size_t i = 0; i < n; i++) {
        const char *name = rg__validator_name_at(i);
        assert_non_null(name);
        rg__validator v;
        assert_int_equal(rg__validator_from_name(name, &v), 0);
        assert_true(v != RG__VALIDATE_NONE && (int)v < 64);
        assert_int_equal(seen[v], 0);
        seen[v] = 1;
        char needle[64];
        snprintf(needle, sizeof needle, "%s,", name);
        char names[1024];
        snprintf(names, sizeof names, "%s,", rg__validator_names);
        assert_non_null(strstr(names, needle));
    }
    assert_null(rg__validator_name_at(n));
    rg__validator v = RG__VALIDATE_LUHN;
    assert_int_equal(rg__validator_from_name("nope", &v), -1);
    assert_int_equal(v, RG__VALIDATE_NONE);
    assert_int_equal(rg__validator_from_name("LUHN", &v), -1); /* names are exact */
    assert_int_equal(rg__validate(RG__VALIDATE_NONE, "", 0), 1);
}

static void test_luhn(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"4111111111111111", 1}, {"4111 1111 1111 1111", 1}, {"4111-1111-1111-1111", 1},
        {"4111111111111112", 0}, {"378282246310005", 1},
        {"4222222222222", 1},          /* 13 digits */
        {"422222222222", 0},           /* 12: too short for luhn */
        {"41111111111111111111", 0},   /* 20 digits */
        {"", 0},
    };
    RUN(RG__VALIDATE_LUHN, "luhn", c);
}

static void test_card(void **state)
{
    (void)state;
    static const vcase c[] = {
        /* Networks' published test numbers. */
        {"4242424242424242", 1}, {"4000056655665556", 1}, {"4222222222222", 1},
        {"4111111111111111110", 1},                             /* Visa 19 */
        {"5555555555554444", 1}, {"5200828282828210", 1}, {"2223003122003222", 1},
        {"378282246310005", 1}, {"371449635398431", 1},
        {"6011111111111117", 1}, {"6011000990139424", 1}, {"6555900000604105", 1},
        {"3566002020360505", 1},                                /* JCB */
        {"3056930009020004", 1}, {"36227206271667", 1},         /* Diners 16, 14 */
        {"6200000000000005", 1},                                /* UnionPay */
        {"6759649826438453", 1},                                /* Maestro */
        {"2200000000000004", 1},                                /* Mir */
        /* Separators the card pattern allows. */
        {"4242 4242 4242 4242", 1}, {"4242-4242-4242-4242", 1}, {"3782 822463 10005", 1},
        /* Luhn fails. */
        {"4242424242424241", 0}, {"5555555555554443", 0}, {"378282246310006", 0},
        /* Luhn holds but no network issues the prefix or the length. */
        {"1234567812345670", 0},      /* 1: airlines, not cards */
        {"7992739871300008", 0}, {"8000000000000003", 0}, {"9000000000000001", 0},
        {"0000000000000000", 0},      /* one repeated digit */
        {"42424242424242", 0},        /* Visa of 14 digits (Luhn ok) */
        {"37828224631003", 0},        /* Amex must be 15 */
        {"5555555555554444000", 0},   /* Mastercard must be 16 */
        {"2220000000000000", 0},      /* 2220: below the 2-series range */
        {"2721000000000004", 0},      /* 2721: above it */
        /* Edge lengths. */
        {"411111111111", 0},          /* 12 digits, Visa */
        {"41111111111111111119", 0},  /* 20 digits */
        {"", 0}, {"card", 0},
        {"4242a4242424242424", 0},    /* a letter is not a separator for cards */
    };
    RUN(RG__VALIDATE_CARD, "card", c);
}

static void test_iban(void **state)
{
    (void)state;
    static const vcase c[] = {
        /* Examples from the SWIFT IBAN registry. */
        {"GB82WEST12345698765432", 1}, {"GB82 WEST 1234 5698 7654 32", 1},
        {"DE89370400440532013000", 1}, {"DE89 3704 0044 0532 0130 00", 1},
        {"ES9121000418450200051332", 1}, {"ES91 2100 0418 4502 0005 1332", 1},
        {"FR1420041010050500013M02606", 1}, {"NL91ABNA0417164300", 1},
        {"IT60X0542811101000000123456", 1}, {"BE68539007547034", 1},
        {"CH9300762011623852957", 1}, {"NO9386011117947", 1},          /* 15: shortest */
        {"SE4550000000058398257466", 1}, {"PL61109010140000071219812874", 1},
        {"MT84MALT011000012345MTLCAST001S", 1},
        {"LC55HEMM000100010012001200023015", 1},                       /* 32 */
        {"BR1800360305000010009795493C1", 1},
        {"gb82 west 1234 5698 7654 32", 1},                            /* lower case */
        {"GB82-WEST-1234-5698-7654-32", 1},
        /* Check digits wrong, a digit changed, two swapped. */
        {"GB83WEST12345698765432", 0}, {"GB82WEST12345698765433", 0},
        {"DE89370400440532031000", 0},
        /* Length not the country's. */
        {"GB82WEST1234569876543", 0}, {"DE8937040044053201300", 0},
        {"ES912100041845020005133", 0},
        /* Unknown country; not letters + digits up front. */
        {"XX82WEST12345698765432", 0}, {"US12345678901234567890", 0},
        {"G882WEST12345698765432", 0}, {"GBA2WEST12345698765432", 0},
        /* Check digits 00/01/99 are never issued. */
        {"GB00WEST12345698765432", 0},
        {"", 0}, {"GB82", 0},
        {"GB82WEST1234569876543212345678901234", 0},                   /* > 34 */
    };
    RUN(RG__VALIDATE_IBAN, "iban", c);
}

static void test_us_ssn(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"123-45-6789", 1}, {"123456789", 1}, {"123 45 6789", 1}, {"001-01-0001", 1},
        {"899-99-9999", 1}, {"665-12-3456", 1}, {"667-12-3456", 1},
        {"000-12-3456", 0}, {"666-12-3456", 0}, {"900-12-3456", 0}, {"999-99-9999", 0},
        {"123-00-4567", 0}, {"123-45-0000", 0},
        {"078-05-1120", 0}, {"219-09-9999", 0},     /* voided after publication */
        {"12345678", 0}, {"1234567890", 0}, {"", 0}, {"abc-de-fghi", 0},
    };
    RUN(RG__VALIDATE_US_SSN, "us_ssn", c);
}

static void test_us_itin(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"912-50-1234", 1}, {"900-65-0000", 1}, {"999-70-1234", 1}, {"912-88-1234", 1},
        {"912-90-1234", 1}, {"912-92-1234", 1}, {"912-94-1234", 1}, {"912-99-1234", 1},
        {"912701234", 1},
        {"912-49-1234", 0}, {"912-66-1234", 0}, {"912-69-1234", 0}, {"912-89-1234", 0},
        {"912-93-1234", 0}, {"812-70-1234", 0}, {"123-45-6789", 0},
        {"91270123", 0}, {"9127012345", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_US_ITIN, "us_itin", c);
}

static void test_aba_routing(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"021000021", 1}, {"011000015", 1}, {"121000358", 1}, {"026009593", 1},
        {"322271627", 1}, {"021 000 021", 1},
        {"021000022", 0}, {"012000021", 0},            /* digit changed / swapped */
        {"131000034", 0},                              /* 13: no such district (sum ok) */
        {"000000000", 0},                              /* 00 */
        {"02100002", 0}, {"0210000210", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_ABA_ROUTING, "aba_routing", c);
}

static void test_mx_clabe(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"032180000118359719", 1}, {"002010077777777771", 1},
        {"032 180 00011835971 9", 1},
        {"032180000118359718", 0}, {"032180000118395719", 0},
        {"000000000000000000", 0},
        {"03218000011835971", 0}, {"0321800001183597190", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_MX_CLABE, "mx_clabe", c);
}

static void test_es_dni_nie(void **state)
{
    (void)state;
    static const vcase dni[] = {
        {"12345678Z", 1}, {"12345678z", 1}, {"12345678-Z", 1}, {"12.345.678-Z", 1},
        {"12345678 Z", 1}, {"00000001R", 1},
        {"12345678A", 0}, {"12345687Z", 0}, {"1234567Z", 0}, {"123456789Z", 0},
        {"123456789", 0}, {"X1234567L", 0}, {"00000000T", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_ES_DNI, "es_dni", dni);
    static const vcase nie[] = {
        {"X1234567L", 1}, {"x1234567l", 1}, {"X-1234567-L", 1}, {"Y0000000Z", 1},
        {"Z7654321B", 0}, {"X1234567M", 0}, {"A1234567L", 0}, {"X123456L", 0},
        {"12345678Z", 0}, {"", 0},
    };
    /* Y0000000Z: 1 0000000 mod 23 = 10000000 mod 23 = 18 -> 'Z'. */
    RUN(RG__VALIDATE_ES_NIE, "es_nie", nie);
}

static void test_uk_nino(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"AB123456C", 1}, {"AB 12 34 56 C", 1}, {"ab123456c", 1}, {"JG103759A", 1},
        {"ZY987654D", 1},
        {"QQ123456C", 0},                            /* the specimen: Q not used */
        {"DA123456A", 0}, {"FA123456A", 0}, {"IA123456A", 0}, {"UA123456A", 0},
        {"VA123456A", 0}, {"AO123456A", 0}, {"AD123456A", 0},
        {"BG123456A", 0}, {"GB123456A", 0}, {"NK123456A", 0}, {"KN123456A", 0},
        {"TN123456A", 0}, {"NT123456A", 0}, {"ZZ123456A", 0},
        {"AB123456E", 0}, {"AB12345C", 0}, {"AB1234567C", 0}, {"A1123456C", 0},
        {"", 0},
    };
    RUN(RG__VALIDATE_UK_NINO, "uk_nino", c);
}

static void test_uk_nhs(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"9434765919", 1}, {"943 476 5919", 1}, {"943-476-5919", 1}, {"4010232137", 1},
        {"9434765918", 0}, {"9434765991", 0},
        {"1000000010", 0},          /* check digit would be 10: never issued */
        {"0000000000", 0}, {"943476591", 0}, {"94347659190", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_UK_NHS, "uk_nhs", c);
}

static void test_ca_sin(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"130692544", 1}, {"130 692 544", 1}, {"130-692-544", 1}, {"999999998", 1},
        {"130692545", 0}, {"130692454", 0},
        {"046454286", 0},           /* Luhn-valid, but 0 is never assigned */
        {"800000002", 0},           /* 8: business numbers */
        {"13069254", 0}, {"1306925440", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_CA_SIN, "ca_sin", c);
}

static void test_in_aadhaar(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"234567890124", 1}, {"2345 6789 0124", 1}, {"2345-6789-0124", 1},
        {"234567890123", 0}, {"234567891024", 0},
        {"134567890124", 0}, {"034567890124", 0},  /* first digit 0/1 */
        {"23456789012", 0}, {"2345678901245", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_IN_AADHAAR, "in_aadhaar", c);
    /* Verhoeff itself: the textbook example 236 -> check digit 3. */
    assert_int_equal(rg__verhoeff("2363", 4), 1);
    assert_int_equal(rg__verhoeff("2364", 4), 0);
    assert_int_equal(rg__verhoeff("2633", 4), 0); /* a transposition is caught */
}

static void test_br_cpf(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"529.982.247-25", 1}, {"52998224725", 1}, {"529 982 247 25", 1},
        {"529.982.247-26", 0}, {"529.982.247-15", 0}, {"592.982.247-25", 0},
        {"111.111.111-11", 0}, {"000.000.000-00", 0},       /* pass the arithmetic */
        {"5299822472", 0}, {"529982247250", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_BR_CPF, "br_cpf", c);
}

static void test_mx_curp(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"BOXW310820HNERXN09", 1}, {"boxw310820hnerxn09", 1}, {"MAHJ280603MSPRRV09", 1},
        {"BOXW310820HNERXN08", 0},                   /* check digit */
        {"BOXW311320HNERXN09", 0},                   /* month 13 */
        {"BOXW310820ZNERXN09", 0},                   /* sex not H/M/X */
        {"BOXW310820HQQRXN09", 0},                   /* no state QQ */
        {"BOXW310820HNEAXN09", 0},                   /* vowel where a consonant goes */
        {"B0XW310820HNERXN09", 0},                   /* digit in the name part */
        {"BOXW310820HNERXN0", 0}, {"BOXW310820HNERXN091", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_MX_CURP, "mx_curp", c);
}

static void test_it_codice_fiscale(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"RSSMRA85T10A562S", 1}, {"rssmra85t10a562s", 1}, {"MRTMTT91D08F205J", 1},
        {"RSSMRA85T10A562T", 0},                     /* check letter */
        {"RSSMRA85T10A526S", 0},                     /* digits swapped */
        {"RSSMRA85F10A562S", 0},                     /* F is no month letter */
        {"RSSMRA85T32A562S", 0},                     /* day 32 */
        {"RSSMRA85T10A562", 0}, {"RSSMRA85T10A562SX", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_IT_CODICE_FISCALE, "it_codice_fiscale", c);
    /* Omocodia: the last municipality digit 2 written as N (LMNPQRSTUV),
     * with the check letter recomputed; and a woman's day (+40). */
    static const vcase omo[] = {
        {"RSSMRA85T10A56NH", 1}, {"RSSMRA85T10A56NS", 0}, {"RSSMRA85T50A562W", 1},
        {"RSSMRA85T10A56AH", 0},                     /* A is no omocodia letter */
    };
    RUN(RG__VALIDATE_IT_CODICE_FISCALE, "it_codice_fiscale", omo);
}

static void test_pl_pesel(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"44051401359", 1}, {"02070803628", 1}, {"02270803624", 1}, /* 2002 (+20) */
        {"44051401358", 0}, {"44051401395", 0},
        {"44053201358", 0},                          /* 32 May */
        {"01022912345", 0},                          /* 29 Feb 1901 */
        {"00000000000", 0}, {"4405140135", 0}, {"440514013590", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_PL_PESEL, "pl_pesel", c);
}

static void test_fr_nir(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"255081416802538", 1}, {"2 55 08 14 168 025 38", 1},
        {"1 89 07 2A 123 456 63", 1}, {"189072B12345690", 1},
        {"255081416802539", 0}, {"255081416820538", 0},
        {"555081416802538", 0},                      /* sex digit 5 */
        {"255131416802538", 0},                      /* month 13 */
        {"25508141680253", 0}, {"2550814168025380", 0}, {"", 0},
    };
    /* 1 89 07 2A 123 456 reads 1890719123456: mod 97 = 34, key 63; 2B reads
     * 18: key 90. */
    RUN(RG__VALIDATE_FR_NIR, "fr_nir", c);
}

static void test_de_steuer_id(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"86095742719", 1}, {"47036892816", 1}, {"65929970489", 1}, {"57549285017", 1},
        {"25768131411", 1}, {"86 095 742 719", 1},
        {"86095742718", 0}, {"86095747219", 0},
        {"06095742719", 0},                          /* leading zero */
        {"12345678903", 0},                          /* no repeated digit */
        {"11223456780", 0},                          /* two repeated digits */
        {"1112345678", 0},                           /* short */
        {"", 0},
    };
    RUN(RG__VALIDATE_DE_STEUER_ID, "de_steuer_id", c);
}

static void test_nl_bsn(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"111222333", 1}, {"123456782", 1}, {"1112.22.333", 1},
        {"18222420", 1},                             /* 8 digits: leading 0 implied */
        {"111222334", 0}, {"123456728", 0}, {"000000000", 0},
        {"1234567820", 0}, {"1234567", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_NL_BSN, "nl_bsn", c);
}

static void test_ipv4(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"192.168.1.1", 1}, {"10.0.0.0", 1}, {"255.255.255.255", 1}, {"8.8.8.8", 1},
        {"256.1.1.1", 0}, {"1.2.3.999", 0}, {"1.2.3", 0}, {"1.2.3.4.5", 0},
        {"01.2.3.4", 0}, {"1..3.4", 0}, {"1.2.3.4.", 0}, {".1.2.3", 0}, {"1.2.3.a", 0},
        {"1234.1.1.1", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_IPV4, "ipv4", c);
}

static void test_ipv6(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 1}, {"2001:db8:85a3::8a2e:370:7334", 1},
        {"fe80::1", 1}, {"2001:db8::", 1},
        {"::ffff:192.168.1.1", 1}, {"FE80::ABCD:1", 1},
        {"10:30:00", 0},                              /* a time */
        {"00:1A:2B:3C:4D:5E", 0},                     /* a MAC address */
        {"1:2:3:4:5:6:7", 0}, {"1:2:3:4:5:6:7:8:9", 0},
        {"2001::db8::1", 0}, {"2001:db8:::1", 0}, {"12345::1", 0}, {"fe80::g", 0},
        {"2001:db8:", 0}, {":1", 0}, {"", 0},
        {"::ffff:999.1.1.1", 0},
        {"::1", 0}, {"::", 0},                        /* loopback, unspecified */
    };
    RUN(RG__VALIDATE_IPV6, "ipv6", c);
}

static void test_email(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"ana@example.com", 1}, {"a.b+tag@mail.example.co.uk", 1}, {"x@pngs.org", 1},
        {"logo@2x.png", 0}, {"icon@3x.WEBP", 0}, {"scan@page.pdf", 0}, {"", 0},
        /* The end of a URL with credentials, with its scheme in the span. */
        {"redis://deploy:Xy12abc@files.example.net", 0},
    };
    RUN(RG__VALIDATE_EMAIL, "email", c);
}

static void test_jwt(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6Ikpv"
         "aG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", 1},
        /* {"typ":"JWT","alg":"none"} with an empty-ish signature part "x". */
        {"eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.x", 1},
        /* Header without "alg": {"typ":"JWT"}. */
        {"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw", 0},
        /* Header not JSON: "hello world". */
        {"aGVsbG8gd29ybGQ.eyJzdWIiOiIxIn0.SflKxwRJSMeKKF2QT4fw", 0},
        /* An unsecured JWT (empty signature) is still a token. */
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.", 1},
        /* Two parts, four parts, an empty payload, '+' and '/'. */
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", 0},
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc.def", 0},
        {"eyJhbGciOiJIUzI1NiJ9..abc", 0},
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.ab+c/d", 0},
        {"", 0}, {"...", 0},
    };
    RUN(RG__VALIDATE_JWT, "jwt", c);
}

static void test_high_entropy(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 1},
        {"api_key = \"9f8c2b7e4a1d6c3f0b5e8a2d7c4f1e6b\"", 1},
        {"secret: 3kX9pQ2mZ7vR1tY8", 1},                     /* 16 bytes, mixed */
        {"token=123e4567-e89b-12d3-a456-426614174000", 1},   /* UUID */
        {"api_key=YOUR_API_KEY_HERE_PLEASE", 0},             /* no digit */
        /* Vendor formats are left to their own detectors. */
        {"token: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", 0},
        {"token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", 0},
        {"Bearer sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", 0},
        {"api_key=<your-api-key>", 0},
        {"api_key = \"1234567890123456\"", 0},               /* no letter */
        {"secret: aaaaaaaaaaaa1aaaaaaa", 0},                 /* low entropy */
        {"password=abc123abc123abc123abc123", 0},            /* 24 bytes, 2.6 < 3.0 bits */
        {"client_secret: \"1fe47d7350d561fbbc6cefc4f6774ff1\"", 1}, /* hex 32 */
        {"key: 3kX9pQ2mZ7vR1tY", 0},                         /* 15 bytes */
        {"", 0}, {"api_key=", 0},
    };
    RUN(RG__VALIDATE_HIGH_ENTROPY, "high_entropy", c);
    /* Entropy itself: 0 for one symbol, 1 bit for two equally likely, 4
     * bits for 16 distinct. */
    assert_true(rg__entropy("aaaa", 4) < 1e-9);
    assert_true(rg__entropy("abab", 4) > 0.999 && rg__entropy("abab", 4) < 1.001);
    assert_true(rg__entropy("0123456789abcdef", 16) > 3.999);
    assert_true(rg__entropy("", 0) == 0);
}

static void test_password_value(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"password: Xk9!mq27", 1}, {"pwd=hunter22", 1}, {"Password: Summer2024!", 1},
        {"password = \"Tr0ub4dor&3\"", 1}, {"passcode: 48213a", 1},
        {"password: ********", 0}, {"password: xxxxxxxx", 0}, {"password: ••••••••", 0},
        {"password: <password>", 0}, {"password={password}", 0},
        {"password: YOUR_PASSWORD", 0},
        {"password: required", 0},           /* a lower-case word */
        {"password: 123456", 1},             /* digits only: a PIN-like password */
        {"password: Incorrect.", 0},         /* a word, then a full stop */
        {"password is 2fa0b9Q.", 1},
        {"password: $PASSWORD", 0}, {"pwd=%s", 0}, {"password: [hidden]", 0},
        {"contraseña: SU_CONTRASEÑA", 0},     /* placeholder with a non-ASCII letter */
        {"password: abc12", 0},              /* 5 bytes */
        {"", 0},
    };
    RUN(RG__VALIDATE_PASSWORD_VALUE, "password_value", c);
}

static void test_url_password(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"postgres://admin:S3cr3t!x@db.example.com", 1},
        {"https://bob:hunter22@example.org", 1},
        {"ftp://user:9081726354@files.example.net", 1},
        {"redis://:Tk29ab@cache", 0},                 /* no user */
        {"postgres://user:password@localhost", 0},    /* placeholders */
        {"mysql://root:changeme@db", 0}, {"amqp://guest:PASS@mq", 0},
        {"https://user:${PASSWORD}@host", 0}, {"https://u:<pw>@host", 0},
        {"https://u:****@host", 0}, {"https://u:abc@host", 0},
        {"https://user@host", 0}, {"user:S3cr3t!x@host", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_URL_PASSWORD, "url_password", c);
}

static void test_aws_key_id(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"AKIAIOSFODNN7EXAMPLE", 1}, {"ASIAY34FZKBOKMUTVV7A", 1},
        {"AKIAXXXXXXXXXXXXXXXX", 0},                 /* a mask */
        {"ASIA2024SPRINGSALE01", 0},                 /* 0 and 1 are not base32 */
        {"AKIDIOSFODNN7EXAMPLE", 0}, {"AKIAIOSFODNN7EXAMPL", 0},
        {"AKIAIOSFODNN7EXAMPLEX", 0}, {"akiaiosfodnn7example", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_AWS_KEY_ID, "aws_key_id", c);
}

static void test_basic_auth(void **state)
{
    (void)state;
    static const vcase c[] = {
        {"Basic YWxhZGRpbjpvcGVuc2VzYW1l", 1},             /* aladdin:opensesame */
        {"Authorization: Basic c3ZjX2JpbGxpbmc6VHE4IW1aMnJXeA==", 1},
        {"Basic dXNlcjpwYXNzd29yZA==", 0},                 /* user:password */
        {"Basic aGVsbG8gd29ybGQ=", 0},                     /* "hello world": no ':' */
        {"Basic OnNlY3JldDEyMw==", 0},                     /* ":secret123": no user */
        {"Basic dXNlcjph", 0},                             /* "user:a": too short */
        {"Basic AAECAwQFBgcICQ==", 0},                     /* binary */
        {"Basic YWxh-GRpbjpvcGVuc2VzYW1l", 0}, {"Basic", 0}, {"", 0},
    };
    RUN(RG__VALIDATE_BASIC_AUTH, "basic_auth", c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),        cmocka_unit_test(test_luhn),
        cmocka_unit_test(test_card),         cmocka_unit_test(test_iban),
        cmocka_unit_test(test_us_ssn),       cmocka_unit_test(test_us_itin),
        cmocka_unit_test(test_aba_routing),  cmocka_unit_test(test_mx_clabe),
        cmocka_unit_test(test_es_dni_nie),   cmocka_unit_test(test_uk_nino),
        cmocka_unit_test(test_uk_nhs),       cmocka_unit_test(test_ca_sin),
        cmocka_unit_test(test_in_aadhaar),   cmocka_unit_test(test_br_cpf),
        cmocka_unit_test(test_mx_curp),      cmocka_unit_test(test_it_codice_fiscale),
        cmocka_unit_test(test_pl_pesel),     cmocka_unit_test(test_fr_nir),
        cmocka_unit_test(test_de_steuer_id), cmocka_unit_test(test_nl_bsn),
        cmocka_unit_test(test_ipv4),         cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_email),        cmocka_unit_test(test_jwt),
        cmocka_unit_test(test_high_entropy), cmocka_unit_test(test_password_value),
        cmocka_unit_test(test_url_password), cmocka_unit_test(test_aws_key_id),
        cmocka_unit_test(test_basic_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
