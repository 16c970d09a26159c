/* alloc.h — the per-engine allocator (never process-global).
 * Every internal allocation goes through an rg_allocator whose three
 * functions are always set (rg__allocator_init fills defaults), so
 * allocation-failure tests can fail the Nth allocation of one engine. */
#ifndef RG_ALLOC_H
#define RG_ALLOC_H
#include <stddef.h>
#include "replyguard.h"

/* Copy `user` (may be NULL or partial) into `out` with defaults filled. */
void rg__allocator_init(rg_allocator *out, const rg_allocator *user);

void *rg__malloc(const rg_allocator *a, size_t n);
void *rg__calloc(const rg_allocator *a, size_t count, size_t size);
void *rg__realloc(const rg_allocator *a, void *p, size_t n);
void rg__free(const rg_allocator *a, void *p);
char *rg__strdup(const rg_allocator *a, const char *s);
char *rg__strndup(const rg_allocator *a, const char *s, size_t n);

/* Grow *arr (element size `elem`) so that it holds at least `need`
 * elements; capacity doubles. Returns 0 or -1 on overflow/OOM (array
 * untouched). */
int rg__grow(const rg_allocator *a, void **arr, size_t *cap, size_t need,
             size_t elem);
#endif
