/* validate.h — checksum and structure validators run on a matched span
 * after PCRE2 confirmation (`validate:` in a detector). Pure functions of
 * the bytes: no allocation, safe from any thread. */
#ifndef RG_VALIDATE_H
#define RG_VALIDATE_H
#include <stddef.h>
#include "model.h"
/* 1 if the span passes validator v (RG__VALIDATE_NONE always passes). */
int rg__validate(rg__validator v, const char *s, size_t n);
/* Luhn over the decimal digits of s (other bytes ignored); 1 if the
 * digit count is 13..19 and the checksum holds. */
int rg__luhn(const char *s, size_t n);
/* Name used in policies ("luhn") to validator; RG__VALIDATE_NONE and -1
 * if unknown. */
int rg__validator_from_name(const char *name, rg__validator *out);
#endif
