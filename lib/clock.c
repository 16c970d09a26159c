/* clock.c — choosing and calibrating the clock of checks (clock.h). */
#include "clock.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t rg__tsc_mul;
uint64_t rg__tsc_base;
uint64_t rg__tsc_base_ns;

#define RG__CALIBRATE_NS 2000000ull /* 2 ms: ~1e-5 relative error */

static void clock_choose(void)
{
#if defined(RG__HAVE_TSC)
    const char *env = getenv("RG_CLOCK");
    if (env && !strcmp(env, "monotonic"))
        return;
    /* The kernel's choice: "tsc" only when it found the counter constant,
     * non-stop and synchronized across CPUs (else hpet, acpi_pm, kvm-clock
     * or the like, and clock_gettime it is). */
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f)
        return;
    char buf[32] = {0};
    int ok = fgets(buf, sizeof buf, f) != NULL && !strcmp(buf, "tsc\n");
    fclose(f);
    if (!ok)
        return;
    uint64_t t0 = rg__mono_ns(), c0 = __rdtsc(), t1, c1;
    do {
        t1 = rg__mono_ns();
        c1 = __rdtsc();
    } while (t1 - t0 < RG__CALIBRATE_NS);
    if (c1 <= c0 || c1 - c0 < 1000)
        return; /* a counter that does not count: keep clock_gettime */
    uint64_t mul = (uint64_t)(((unsigned __int128)(t1 - t0) << 32) / (c1 - c0));
    if (mul == 0)
        return;
    rg__tsc_base = c1;
    rg__tsc_base_ns = t1;
    rg__tsc_mul = mul;
#endif
}

static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

void rg__clock_init(void)
{
    pthread_once(&clock_once, clock_choose);
}
