/*
 * check.h - the smallest test harness: CHECK records a failure with its line and goes on;
 * check_done() prints "N passed, N failed" and gives the exit status.
 */
#ifndef HC_CHECK_H
#define HC_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            check_passed++;                                                  \
        } else {                                                             \
            check_failed++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

/* check_slowdown is HC_TEST_SLOWDOWN (at least 1): how many times slower than a native
 * run this one is (valgrind), by which a test multiplies its time limits. */
static inline int check_slowdown(void)
{
    const char *env = getenv("HC_TEST_SLOWDOWN");
    int k = env != NULL ? atoi(env) : 1;
    return k > 1 ? k : 1;
}

static int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
