/* validate.h — checksum and structure validators run on a matched span
 * after PCRE2 confirmation (`validate:` in a detector). Pure functions of
 * the bytes: no allocation, safe from any thread.
 *
 * Every rg__valid_* returns 1 if the span (s, n) is a valid identifier of
 * its kind and 0 otherwise. Bytes other than ASCII letters and digits are
 * separators and skipped (so "4111 1111-1111 1111" is sixteen digits),
 * except where the format itself is punctuation (ipv4, ipv6, jwt, email)
 * or the validator reads a "key = value" span (high_entropy,
 * password_value: the value is the last run of bytes that are not blanks,
 * quotes or `:=,;()[]{}<>`). Letters are compared case-insensitively. */
#ifndef RG_VALIDATE_H
#define RG_VALIDATE_H
#include <stddef.h>
#include "model.h"
/* 1 if the span passes validator v (RG__VALIDATE_NONE always passes). */
int rg__validate(rg__validator v, const char *s, size_t n);
/* Luhn over the decimal digits of s (other bytes ignored); 1 if the
 * digit count is 13..19 and the checksum holds. */
int rg__luhn(const char *s, size_t n);

/* Payment card: 12-19 digits, Luhn, and an issuer prefix with a length
 * that issuer uses (Visa, Mastercard, Amex, Discover, JCB, Diners,
 * UnionPay, Maestro, Mir). */
int rg__valid_card(const char *s, size_t n);
/* IBAN: known country, that country's length, check digits 02-98, MOD 97. */
int rg__valid_iban(const char *s, size_t n);
/* US SSN: 9 digits, area 001-899 but not 666, group != 00, serial != 0000. */
int rg__valid_us_ssn(const char *s, size_t n);
/* US ITIN: 9xx with group 50-65, 70-88, 90-92, 94-99. */
int rg__valid_us_itin(const char *s, size_t n);
/* ABA routing number: 9 digits, 3-7-1 checksum, valid first two digits. */
int rg__valid_aba_routing(const char *s, size_t n);
/* Mexican CLABE: 18 digits, 3-7-1 check digit. */
int rg__valid_mx_clabe(const char *s, size_t n);
/* Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter). */
int rg__valid_es_dni(const char *s, size_t n);
int rg__valid_es_nie(const char *s, size_t n);
/* UK National Insurance number (prefix rules, suffix A-D), NHS number. */
int rg__valid_uk_nino(const char *s, size_t n);
int rg__valid_uk_nhs(const char *s, size_t n);
/* Canadian SIN (Luhn, not 0/8), Indian Aadhaar (Verhoeff, 2-9 first),
 * Brazilian CPF (two mod-11 check digits). */
int rg__valid_ca_sin(const char *s, size_t n);
int rg__valid_in_aadhaar(const char *s, size_t n);
int rg__valid_br_cpf(const char *s, size_t n);
/* Mexican CURP (structure, date, state, check digit), Italian codice
 * fiscale (structure with omocodia, check letter). */
int rg__valid_mx_curp(const char *s, size_t n);
int rg__valid_it_codice_fiscale(const char *s, size_t n);
/* Polish PESEL (1-3-7-9, date), French NIR (key mod 97, Corsica),
 * German Steuer-ID (digit counts, ISO 7064 MOD 11,10), Dutch BSN (11-proef). */
int rg__valid_pl_pesel(const char *s, size_t n);
int rg__valid_fr_nir(const char *s, size_t n);
int rg__valid_de_steuer_id(const char *s, size_t n);
int rg__valid_nl_bsn(const char *s, size_t n);
/* Dotted-quad IPv4 (octets 0-255, no leading zeros); IPv6 text form. */
int rg__valid_ipv4(const char *s, size_t n);
int rg__valid_ipv6(const char *s, size_t n);
/* Email shape already matched: refuses image/file names ("logo@2x.png")
 * and spans that start with "scheme://" (credentials in a URL). */
int rg__valid_email(const char *s, size_t n);
/* JWT: three base64url parts; the header decodes to JSON with "alg". */
int rg__valid_jwt(const char *s, size_t n);
/* Generic secret value: 16-256 bytes, a digit and a letter, Shannon
 * entropy >= min(3.2, 0.65 * log2(len)) bits/byte, not a vendor format. */
int rg__valid_high_entropy(const char *s, size_t n);
/* Written-out password value: not a mask or placeholder, 6-128 bytes, two
 * of lower/upper/digit/symbol or digits only. */
int rg__valid_password_value(const char *s, size_t n);
/* scheme://user:password@host: the password is not a documentation
 * placeholder and passes the same rules (4+ bytes). */
int rg__valid_url_password(const char *s, size_t n);
/* AWS access key id: AKIA/ASIA + 16 base32 characters, not a mask. */
int rg__valid_aws_key_id(const char *s, size_t n);
/* "Basic <base64>": decodes to printable user:password (3+ bytes, not a
 * placeholder). */
int rg__valid_basic_auth(const char *s, size_t n);

/* Building blocks, exposed for the unit tests. */
int rg__verhoeff(const char *digits, int n); /* digits only; 1 if valid */
double rg__entropy(const char *s, size_t n); /* bits per byte */

/* Name used in policies ("luhn") to validator; RG__VALIDATE_NONE and -1
 * if unknown. */
int rg__validator_from_name(const char *name, rg__validator *out);
/* Every validator name, comma-separated, for error messages. */
extern const char rg__validator_names[];
/* The name table, for tests and docs: count and the i-th name (NULL past
 * the end). */
size_t rg__validator_count(void);
const char *rg__validator_name_at(size_t i);
#endif
