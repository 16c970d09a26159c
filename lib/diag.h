/* diag.h — collecting diagnostics (file:line:column: message) while a
 * policy set loads and compiles; handed to the caller as an rg_diag. */
#ifndef RG_DIAG_H
#define RG_DIAG_H
#include "replyguard.h"

typedef struct rg__diags {
    const rg_allocator *a;
    rg_diag_entry *v;
    size_t n, cap;
    size_t nerrors;
    int oom; /* an entry could not be recorded: report RG_E_NOMEM */
} rg__diags;

void rg__diags_init(rg__diags *d, const rg_allocator *a);
/* file may be NULL. Copies file and the formatted message. */
void rg__diag_add(rg__diags *d, rg_severity sev, const char *file,
                  unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#define rg__diag_error(d, file, line, col, ...) \
    rg__diag_add((d), RG_SEV_ERROR, (file), (line), (col), __VA_ARGS__)
#define rg__diag_warn(d, file, line, col, ...) \
    rg__diag_add((d), RG_SEV_WARNING, (file), (line), (col), __VA_ARGS__)
/* Hand the entries over as a public rg_diag (NULL if there are none);
 * the collector is left empty. */
rg_diag *rg__diags_finish(rg__diags *d);
void rg__diags_discard(rg__diags *d);
#endif
