/* validate.c — validators for detector matches. */
#include "validate.h"
#include <string.h>

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

int rg__validate(rg__validator v, const char *s, size_t n)
{
    switch (v) {
    case RG__VALIDATE_NONE: return 1;
    case RG__VALIDATE_LUHN: return rg__luhn(s, n);
    }
    return 0;
}

int rg__validator_from_name(const char *name, rg__validator *out)
{
    if (!strcmp(name, "luhn")) {
        *out = RG__VALIDATE_LUHN;
        return 0;
    }
    *out = RG__VALIDATE_NONE;
    return -1;
}
