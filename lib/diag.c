/* diag.c — diagnostics collector and the public rg_diag_free. */
#include "diag.h"
#include "alloc.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The public rg_diag carries no allocator, so the list is wrapped with
 * the allocator that made it; rg_diag_free finds it from the pointer. */
typedef struct diag_box {
    rg_diag pub;
    rg_allocator a;
} diag_box;

void rg__diags_init(rg__diags *d, const rg_allocator *a)
{
    memset(d, 0, sizeof *d);
    d->a = a;
}

void rg__diag_add(rg__diags *d, rg_severity sev, const char *file,
                  unsigned line, unsigned column, const char *fmt, ...)
{
    if (sev == RG_SEV_ERROR)
        d->nerrors++;
    if (rg__grow(d->a, (void **)&d->v, &d->cap, d->n + 1, sizeof *d->v)) {
        d->oom = 1;
        return;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rg_diag_entry *e = &d->v[d->n];
    e->file = file ? rg__strdup(d->a, file) : NULL;
    e->message = rg__strdup(d->a, buf);
    e->line = line;
    e->column = column;
    e->severity = sev;
    if (!e->message || (file && !e->file)) {
        rg__free(d->a, (void *)e->file);
        rg__free(d->a, (void *)e->message);
        d->oom = 1;
        return;
    }
    d->n++;
}

static void free_entries(const rg_allocator *a, rg_diag_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rg__free(a, (void *)v[i].file);
        rg__free(a, (void *)v[i].message);
    }
    rg__free(a, v);
}

void rg__diags_discard(rg__diags *d)
{
    free_entries(d->a, d->v, d->n);
    d->v = NULL;
    d->n = d->cap = 0;
}

rg_diag *rg__diags_finish(rg__diags *d)
{
    if (d->n == 0) {
        rg__diags_discard(d);
        return NULL;
    }
    diag_box *b = rg__malloc(d->a, sizeof *b);
    if (!b) {
        rg__diags_discard(d);
        return NULL;
    }
    b->a = *d->a;
    b->pub.count = d->n;
    b->pub.entries = d->v;
    d->v = NULL;
    d->n = d->cap = 0;
    return &b->pub;
}

void rg_diag_free(rg_diag *diag)
{
    if (!diag)
        return;
    diag_box *b = (diag_box *)diag; /* pub is the first member */
    rg_allocator a = b->a;
    free_entries(&a, (rg_diag_entry *)b->pub.entries, b->pub.count);
    rg__free(&a, b);
}
