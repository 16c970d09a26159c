/* dbpack.h — one mapping, backed by huge pages where the kernel gives them,
 * for all of a snapshot's block-mode Hyperscan databases.
 *
 * Why: a check scans several databases that together are ~4 MB (the
 * normalized view's alone is 1.7 MB: 17,300 lexicon literals), against a
 * 1 MB L2 and a first-level data TLB of a few dozen 4 KB pages. Hyperscan
 * reads its literal tables at spots that depend on the text, so when other
 * work ran since the last check, those reads miss the TLB as well as the
 * cache. In one mapping that the kernel backs with 2 MB pages (madvise
 * MADV_HUGEPAGE; transparent huge pages in "madvise" or "always" mode)
 * they need two TLB entries. Measured (docs/PERFORMANCE.md, "Ninth
 * step"): the normalized database scanned alone after 512 KB of other
 * memory traffic, 18.4k -> 13.5k cycles per long reply; whole checks of
 * short replies with caches flushed between them, -2.5%; checks back to
 * back (the benchmark), no difference.
 *
 * The databases are copied with hs_serialize_database and placed with
 * hs_deserialize_database_at; afterwards the mapping is made read-only
 * (Hyperscan only reads a database during a scan; its scratch takes every
 * write), so a stray write faults at once instead of changing what every
 * check matches. Everything else about the databases is unchanged: bundles
 * and the compiled cache serialize them as before. */
#ifndef RG_DBPACK_H
#define RG_DBPACK_H
#include "snapshot.h"

/* Move every database of s->db, s->gdb, s->gudb and s->pdb into one new
 * mapping and free the originals. Best effort and all-or-nothing: when the
 * mapping or any copy fails, or $RG_DBPACK=off is set, s keeps the
 * databases where Hyperscan allocated them (the scans are the same, only
 * slower). Call once, on a snapshot no check can see yet. */
void rg__dbpack(rg__snapshot *s);

/* Unmap s's pack (its databases with it) and clear the pointers into it;
 * nothing when s has none. Called by rg__snapshot_free before it frees
 * what is left. */
void rg__dbpack_free(rg__snapshot *s);

#endif
