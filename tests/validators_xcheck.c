/* validators_xcheck.c — driver for validators_xcheck.py: reads lines
 * "NAME<TAB>VALUE" on stdin and prints, per line, 1 if validator NAME
 * accepts VALUE, 0 if not, ? if NAME is unknown. White-box: linked against
 * the internal archive. */
#include <stdio.h>
#include <string.h>
#include "validate.h"

int main(void)
{
    static char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        char *tab = strchr(line, '\t');
        rg__validator v;
        if (!tab) {
            puts("?");
            continue;
        }
        *tab = '\0';
        if (rg__validator_from_name(line, &v)) {
            puts("?");
            continue;
        }
        printf("%d\n", rg__validate(v, tab + 1, strlen(tab + 1)));
    }
    return 0;
}
