/*
 * asan_control.c - the controls of make asan: each mode commits one error the sanitizers
 * must report, so that a build in which they are silently off cannot pass as clean.
 *   leak  a result of libhc that is never freed (LeakSanitizer, exit code 23)
 *   heap  a read past a malloc'd block (AddressSanitizer)
 *   ub    a signed integer overflow (UndefinedBehaviorSanitizer)
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "leak") == 0) {
        char err[HC_ERROR_SIZE];
        if (hc_init("", err, sizeof err) != HC_OK)
            return 2;
        hc_result *r = NULL;
        int ret = hc_query("http://127.0.0.1:1/", NULL, NULL, &r); /* refused: 7 */
        printf("query: %d\n", ret);
        r = NULL; /* the result block is lost */
        return 0;
    }
    if (strcmp(mode, "heap") == 0) {
        char *p = calloc(1, 8);
        int c = p[argc + 6]; /* argc is 2: p[8], one past the block */
        free(p);
        return c == 12345;
    }
    if (strcmp(mode, "ub") == 0) {
        volatile int big = INT_MAX;
        int sum = big + argc; /* INT_MAX + 2 */
        printf("%d\n", sum);
        return 0;
    }
    fprintf(stderr, "usage: asan_control leak|heap|ub\n");
    return 2;
}
