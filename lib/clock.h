/* clock.h — the clock of budgets, deadlines and elapsed times: monotonic
 * nanoseconds, read two or more times by every check (its start, its end,
 * checkpoints between stages and in the PCRE2 loop).
 *
 * clock_gettime(CLOCK_MONOTONIC) costs ~25 ns through the vDSO on the
 * benchmark machine, 5% of a short reply's check; reading the time stamp
 * counter costs ~10 ns. So when the kernel itself keeps time with the TSC
 * (its clocksource is "tsc": it found the counter invariant and the same
 * on every CPU), rg__now_ns reads the counter and scales it by a factor
 * measured once per process against CLOCK_MONOTONIC (rg__clock_init,
 * ~2 ms); otherwise, or with RG_CLOCK=monotonic in the environment, it
 * calls clock_gettime. Readings are comparable with each other only (they
 * start from a CLOCK_MONOTONIC reading but may drift from it by the
 * kernel's slewing), which is all budgets need. docs/PERFORMANCE.md. */
#ifndef RG_CLOCK_H
#define RG_CLOCK_H
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <x86intrin.h>
#define RG__HAVE_TSC 1
#endif

/* Set once by rg__clock_init, before any engine exists; read-only after. */
extern uint64_t rg__tsc_mul;     /* nanoseconds per tick << 32; 0: clock_gettime */
extern uint64_t rg__tsc_base;    /* the counter at calibration */
extern uint64_t rg__tsc_base_ns; /* CLOCK_MONOTONIC at calibration */

/* Choose the clock and calibrate it, once per process (pthread_once;
 * rg_engine_open calls it, so every check runs after it). Thread-safe. */
void rg__clock_init(void);

static inline uint64_t rg__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t rg__now_ns(void)
{
#if defined(RG__HAVE_TSC)
    if (rg__tsc_mul) {
        uint64_t d = __rdtsc() - rg__tsc_base;
        return rg__tsc_base_ns + (uint64_t)(((unsigned __int128)d * rg__tsc_mul) >> 32);
    }
#endif
    return rg__mono_ns();
}

#endif
