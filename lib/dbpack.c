/* dbpack.c — a snapshot's Hyperscan databases in one huge-page mapping
 * (dbpack.h says why). Touches only the database pointers of the snapshot
 * and its pack fields. */
#include "dbpack.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RG__HUGE (2u << 20) /* x86-64 and arm64 (4 KB granule) huge page */

/* Every database slot of the snapshot, in the order a check reads them
 * (raw view, its gates, the normalized view, pairing): neighbours in the
 * mapping are neighbours in time. */
static size_t slots(rg__snapshot *s, hs_database_t ***out)
{
    size_t n = 0;
    for (int v = 0; v < RG__VIEW_COUNT; v++) {
        out[n++] = &s->db[v];
        for (int g = 0; g < RG__NGATES; g++) {
            out[n++] = &s->gudb[v][g];
            out[n++] = &s->gdb[v][g];
        }
    }
    for (int v = 0; v < RG__VIEW_COUNT; v++)
        out[n++] = &s->pdb[v];
    for (int k = 0; k < RG__MAX_CONFIRM; k++)
        out[n++] = &s->cdb[k];
    return n;
}

#define RG__NSLOTS (RG__VIEW_COUNT * (2 + 2 * RG__NGATES) + RG__MAX_CONFIRM)

static size_t align_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}

/* A mapping of len bytes (a multiple of RG__HUGE) aligned to RG__HUGE, so
 * that every 2 MB of it can be one huge page. */
static void *map_aligned(size_t len)
{
    size_t over = len + RG__HUGE;
    char *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)align_up((size_t)p, RG__HUGE);
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + len < p + over)
        munmap(a + len, (size_t)(p + over - (a + len)));
#ifdef MADV_HUGEPAGE
    /* Refused (no THP in this kernel, or "never"): 4 KB pages, still one
     * mapping; nothing else changes. */
    (void)madvise(a, len, MADV_HUGEPAGE);
#endif
    return a;
}

void rg__dbpack(rg__snapshot *s)
{
    const char *env = getenv("RG_DBPACK");
    if (!s || s->pack || (env && !strcmp(env, "off")))
        return;
    hs_database_t **slot[RG__NSLOTS];
    size_t n = slots(s, slot);
    char *bytes[RG__NSLOTS] = {0};
    size_t blen[RG__NSLOTS] = {0}, at[RG__NSLOTS] = {0}, total = 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        size_t need = 0;
        if (!*slot[i])
            continue;
        ok = hs_serialize_database(*slot[i], &bytes[i], &blen[i]) == HS_SUCCESS &&
             hs_serialized_database_size(bytes[i], blen[i], &need) == HS_SUCCESS;
        at[i] = total;
        total += align_up(need, 64); /* Hyperscan's bytecode alignment */
    }
    char *map = NULL;
    size_t len = align_up(total, RG__HUGE);
    if (ok && total > 0)
        map = map_aligned(len);
    hs_database_t *placed[RG__NSLOTS] = {0};
    for (size_t i = 0; i < n && map; i++) {
        if (!*slot[i])
            continue;
        placed[i] = (hs_database_t *)(map + at[i]);
        if (hs_deserialize_database_at(bytes[i], blen[i], placed[i]) != HS_SUCCESS) {
            munmap(map, len);
            map = NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(bytes[i]); /* Hyperscan's allocator: malloc (never hs_set_allocator) */
    if (!map)
        return;
    (void)mprotect(map, len, PROT_READ);
    for (size_t i = 0; i < n; i++) {
        if (!*slot[i])
            continue;
        hs_free_database(*slot[i]);
        *slot[i] = placed[i];
    }
    s->pack = map;
    s->packlen = len;
}

void rg__dbpack_free(rg__snapshot *s)
{
    if (!s || !s->pack)
        return;
    hs_database_t **slot[RG__NSLOTS];
    size_t n = slots(s, slot);
    for (size_t i = 0; i < n; i++)
        *slot[i] = NULL; /* inside the mapping: not hs_free_database's */
    munmap(s->pack, s->packlen);
    s->pack = NULL;
    s->packlen = 0;
}
