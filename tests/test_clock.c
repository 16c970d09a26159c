/* test_clock.c — the clock of budgets (lib/clock.h): after rg__clock_init,
 * rg__now_ns never goes back on a thread and measures what CLOCK_MONOTONIC
 * measures, whether it reads the TSC (the kernel's clocksource is "tsc")
 * or calls clock_gettime (RG_CLOCK=monotonic, or another clocksource). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>
#include "clock.h"

static void test_monotonic(void **state)
{
    (void)state;
    rg__clock_init();
    uint64_t prev = rg__now_ns();
    for (int i = 0; i < 1000000; i++) {
        uint64_t t = rg__now_ns();
        assert_true(t >= prev);
        prev = t;
    }
}

/* Over 50 ms of sleep, the two clocks agree within 1% (the calibration's
 * error is ~1e-5; the reads around the sleep cost nanoseconds). */
static void test_agrees_with_monotonic(void **state)
{
    (void)state;
    rg__clock_init();
    fprintf(stderr, "clock: %s\n", rg__tsc_mul ? "TSC" : "clock_gettime");
    for (int round = 0; round < 3; round++) {
        uint64_t m0 = rg__mono_ns(), n0 = rg__now_ns();
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
        uint64_t n1 = rg__now_ns(), m1 = rg__mono_ns();
        double dm = (double)(m1 - m0), dn = (double)(n1 - n0);
        fprintf(stderr, "  monotonic %.0f ns, rg__now_ns %.0f ns\n", dm, dn);
        assert_true(dm >= 50e6);
        assert_true(dn > dm * 0.99 && dn < dm * 1.01);
    }
    /* Readings start from CLOCK_MONOTONIC's: close to it now. */
    double off = (double)rg__now_ns() - (double)rg__mono_ns();
    assert_true(off > -1e6 && off < 1e6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic),
        cmocka_unit_test(test_agrees_with_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
