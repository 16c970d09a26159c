/* minimal.c — the README's example: check one draft reply.
 * Usage: minimal [POLICY_DIR]   (default: policies) */
#include <replyguard.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "policies";
    rg_engine *engine; rg_scratch *scratch = NULL; rg_result *result = NULL; rg_diag *diag;
    if (rg_engine_open(&engine, dir, NULL, &diag) != RG_OK) {
        for (size_t i = 0; diag && i < diag->count; i++)
            fprintf(stderr, "%s:%u:%u: %s\n", diag->entries[i].file ? diag->entries[i].file : dir,
                    diag->entries[i].line, diag->entries[i].column, diag->entries[i].message);
        rg_diag_free(diag);
        return 2;
    }
    rg_diag_free(diag);                      /* warnings, if any */
    int st = rg_scratch_alloc(engine, &scratch);     /* one per thread */
    if (st == RG_OK) st = rg_result_alloc(NULL, &result);  /* reusable */
    const char *reply = "Your card 4111 1111 1111 1111 is on file.";
    rg_request req = { .route = "refunds", .reply = reply, .reply_len = strlen(reply) };
    if (st == RG_OK) st = rg_check(engine, scratch, &req, result);  /* never fails open */
    printf("%s\n", rg_verdict_name(rg_result_verdict(result)));
    for (size_t i = 0; i < rg_result_reason_count(result); i++) {
        const rg_reason *r = rg_result_reason(result, i);
        printf("  %s %.2f >= %.2f -> %s\n", r->category, r->score, r->threshold, r->action);
    }
    if (st != RG_OK) fprintf(stderr, "%s\n", rg_strerror(st));
    rg_result_free(result); rg_scratch_free(scratch); rg_engine_close(engine);
    return st == RG_OK ? 0 : 1;
}
