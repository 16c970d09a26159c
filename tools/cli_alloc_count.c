/*
 * cli_alloc_count.c — a process-wide heap-allocation counter for
 * `replyguard bench`, so that "allocations per check" is measured, not
 * assumed.
 *
 * The library's own allocations go through an rg_allocator, which bench
 * wraps with a counting allocator; but Hyperscan, PCRE2 (outside its
 * general context), libstdc++ and libc allocate with malloc directly.
 * To see those too, this file defines malloc, calloc, realloc, free and
 * the memalign family in the executable itself. The dynamic linker binds
 * every shared library's malloc to the executable's definition (the
 * executable comes first in symbol lookup), so one definition here covers
 * libreplyguard, libhs, libpcre2, libyaml, libstdc++ and libc's internal
 * callers. Each wrapper forwards to glibc's exported __libc_* entry points,
 * so the heap is glibc's as usual.
 *
 * Counting costs one relaxed atomic load per call while disarmed (the
 * normal state of every verb); bench arms it only around its measured
 * passes. With a sanitizer, the sanitizer owns malloc, so nothing is
 * defined here and cli_alloc_count_active() reports 0 (bench then falls
 * back to the rg_allocator count and says so).
 */
#include "cli_alloc_count.h"

#include <errno.h>
#include <execinfo.h>
#include <malloc.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CLI_NO_INTERPOSER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CLI_NO_INTERPOSER 1
#endif
#endif

static _Atomic int armed;
static _Atomic unsigned long long count;
static int backtraces; /* print the stack of each counted allocation */

void cli_alloc_count_arm(int on)
{
    atomic_store_explicit(&armed, on, memory_order_seq_cst);
}

unsigned long long cli_alloc_count_get(void)
{
    return atomic_load_explicit(&count, memory_order_relaxed);
}

void cli_alloc_count_reset(void)
{
    atomic_store_explicit(&count, 0, memory_order_relaxed);
}

#ifdef CLI_NO_INTERPOSER

int cli_alloc_count_active(void) { return 0; }
void cli_alloc_count_backtraces(int on) { (void)on; }

#else

/* glibc's real allocator (exported, GLIBC_2.2.5). */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t size);

/* Where a counted allocation came from (RG_BENCH_ALLOC_BACKTRACE=1): the
 * raw stack on stderr. backtrace_symbols_fd does not allocate; backtrace
 * itself may load libgcc once, which cli_alloc_count_backtraces does up
 * front. The guard stops recursion through that load. */
static _Thread_local int in_trace;

static void trace(void)
{
    if (in_trace)
        return;
    in_trace = 1;
    void *frames[24];
    int n = backtrace(frames, 24);
    static const char head[] = "replyguard bench: allocation during the measured passes:\n";
    if (write(2, head, sizeof head - 1) < 0) {
        /* nothing to do: stderr is gone */
    }
    backtrace_symbols_fd(frames, n, 2);
    in_trace = 0;
}

void cli_alloc_count_backtraces(int on)
{
    if (on) {
        void *frames[2];
        backtrace(frames, 2);
    }
    backtraces = on;
}

static inline void bump(void)
{
    if (atomic_load_explicit(&armed, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
        if (backtraces)
            trace();
    }
}

void *malloc(size_t size)
{
    bump();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    bump();
    return __libc_calloc(n, size);
}

/* realloc counts as an allocation whatever it does: a hot path that
 * calls it at all is not "allocation-free". */
void *realloc(void *p, size_t size)
{
    bump();
    return __libc_realloc(p, size);
}

void free(void *p)
{
    __libc_free(p);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    bump();
    return __libc_realloc(p, total);
}

void *memalign(size_t alignment, size_t size)
{
    bump();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    bump();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)))
        return EINVAL;
    bump();
    void *p = __libc_memalign(alignment, size);
    if (!p && size)
        return ENOMEM;
    *out = p;
    return 0;
}

/* Whether the definitions above are the ones the process uses: libc's
 * strdup allocates through the interposable malloc, so it must count
 * exactly one (bench also checks a call from libreplyguard.so). */
int cli_alloc_count_active(void)
{
    char *(*volatile dup)(const char *) = strdup;
    cli_alloc_count_reset();
    cli_alloc_count_arm(1);
    char *p = dup("x");
    cli_alloc_count_arm(0);
    free(p);
    unsigned long long n = cli_alloc_count_get();
    cli_alloc_count_reset();
    return n == 1;
}

#endif
