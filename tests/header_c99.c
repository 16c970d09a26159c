/* header_c99.c — replyguard.h is self-contained and clean C99:
 * compiled with -std=c99 -Wall -Wextra -Wpedantic -Werror, nothing else
 * included. */
#include <replyguard.h>

int main(void)
{
    rg_request q = {0};
    rg_engine_options o = {0};
    rg_text t = {0, 0};
    rg_hit h;
    rg_reason r;
    rg_category_score c;
    rg_diag_entry d;
    (void)q;
    (void)o;
    (void)t;
    (void)h;
    (void)r;
    (void)c;
    (void)d;
    return rg_version() == 0 || rg_result_verdict(0) != RG_HANDOFF ||
           RG_E_BUNDLE != RG__STATUS_LAST || RG_MAX_HITS != 256;
}
