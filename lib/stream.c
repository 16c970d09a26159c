/* stream.c — placeholder (being written). */
#include "engine.h"
#include "alloc.h"

void rg__sdb_free(struct rg__sdb *sdb)
{
    (void)sdb;
}
