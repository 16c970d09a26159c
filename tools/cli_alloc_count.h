/*
 * cli_alloc_count.h — process-wide heap-allocation counter used by
 * `replyguard bench` (cli_alloc_count.c interposes malloc and friends in
 * the replyguard executable; see there for how and why).
 */
#ifndef RG_CLI_ALLOC_COUNT_H
#define RG_CLI_ALLOC_COUNT_H

/* Start (1) or stop (0) counting allocations made by any thread. */
void cli_alloc_count_arm(int on);
/* Allocations (malloc, calloc, realloc, memalign family) counted so far. */
unsigned long long cli_alloc_count_get(void);
void cli_alloc_count_reset(void);
/* 1 if the interposer is in force (a libc-internal allocation was
 * counted); 0 under a sanitizer or if the linker did not bind to it.
 * Resets the count. Call while nothing else is counting. */
int cli_alloc_count_active(void);
/* With 1, every counted allocation also prints its raw stack on stderr
 * (addresses; resolve them with addr2line). */
void cli_alloc_count_backtraces(int on);

#endif
