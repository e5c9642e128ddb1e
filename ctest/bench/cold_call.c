/* cold_call: what one libhc call costs when the calling thread has just woken up.
 *
 * A synchronous request waits for its server every time, so every call starts on a thread
 * that was asleep, with whatever the machine left in the caches. This times a call that
 * fails before any I/O (hc_http_connect on an unknown connection; the result is built and
 * freed) back to back, then each after a sleep of 50 µs and of 1 ms. cold_call.py does the
 * same through the Python binding; `make bench-cold` runs both (BENCHMARKS.md, item 17).
 *
 * usage: cold_call [N]      N calls per case (default 3000; a tenth of them after 1 ms)
 * prints: "C <case> median <µs> us" per case. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hc.h"

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* median_call_us times n failing calls, each after sleeping sleep_us (0: none). */
static double median_call_us(int n, int sleep_us)
{
    long *took = malloc(n * sizeof *took);
    if (took == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if (sleep_us > 0)
            usleep(sleep_us);
        long t0 = now_ns();
        hc_result *r = NULL;
        hc_http_connect("nosuch", "/", NULL, NULL, 0, &r);
        hc_result_free(r);
        took[i] = now_ns() - t0;
    }
    qsort(took, n, sizeof *took, by_value);
    double median = took[n / 2] / 1e3;
    free(took);
    return median;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3000;
    char err[HC_ERROR_SIZE];
    if (n < 10 || hc_init("keep_connections = 1\n", err, sizeof err) != HC_OK) {
        fprintf(stderr, "usage: cold_call [N >= 10] (%s)\n", n < 10 ? "N" : err);
        return 2;
    }
    median_call_us(n, 0); /* warm-up: the first calls set up the engine */
    printf("C hot median %.2f us\n", median_call_us(n, 0));
    printf("C after-50us median %.2f us\n", median_call_us(n, 50));
    printf("C after-1ms median %.2f us\n", median_call_us(n / 10, 1000));
    return 0;
}
