/* alloc.c — per-engine allocator plumbing. */
#include "alloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_malloc(size_t n, void *u) { (void)u; return malloc(n); }
static void *default_realloc(void *p, size_t n, void *u) { (void)u; return realloc(p, n); }
static void default_free(void *p, void *u) { (void)u; free(p); }

void rg__allocator_init(rg_allocator *out, const rg_allocator *user)
{
    /* All three or none: mixing a custom malloc with the libc free would
     * corrupt the heap. */
    if (user && user->malloc_fn && user->realloc_fn && user->free_fn) {
        *out = *user;
    } else {
        out->malloc_fn = default_malloc;
        out->realloc_fn = default_realloc;
        out->free_fn = default_free;
        out->user = NULL;
    }
}

void *rg__malloc(const rg_allocator *a, size_t n)
{
    return a->malloc_fn(n ? n : 1, a->user);
}

void *rg__calloc(const rg_allocator *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = rg__malloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *rg__realloc(const rg_allocator *a, void *p, size_t n)
{
    return a->realloc_fn(p, n ? n : 1, a->user);
}

void rg__free(const rg_allocator *a, void *p)
{
    if (p)
        a->free_fn(p, a->user);
}

char *rg__strndup(const rg_allocator *a, const char *s, size_t n)
{
    char *d = rg__malloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *rg__strdup(const rg_allocator *a, const char *s)
{
    return s ? rg__strndup(a, s, strlen(s)) : NULL;
}

int rg__grow(const rg_allocator *a, void **arr, size_t *cap, size_t need,
             size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -1;
        ncap *= 2;
    }
    void *p = rg__realloc(a, *arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}
