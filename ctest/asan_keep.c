/*
 * asan_keep.c - linked into the C tests' -fsanitize=address,undefined builds (make asan).
 *
 * hc_curlerror returns "static" strings (include/hc.h: never free them). libhc makes them
 * once, with malloc, at load, and only a Go map refers to them afterwards. LeakSanitizer
 * scans the C side of the process (globals, stacks, TLS, the malloc heap) but not the Go
 * heap, so it would report those 102 permanent blocks as direct leaks in every program.
 * Instead of suppressing every allocation made through cgo (which would hide the result
 * blocks hc hands to the host, the very memory this check is for), this file keeps a
 * C-visible reference to exactly those strings: at exit, before LeakSanitizer's own exit
 * handler (registered earlier, so run later), it stores hc_curlerror(-1..100) in a global.
 * Any other block still allocated at exit is reported.
 */
#include <stdlib.h>

#include "hc.h"

static const char *curl_texts[102];

static void keep_curl_texts(void)
{
    for (int n = -1; n <= 100; n++)
        curl_texts[n + 1] = hc_curlerror(n);
}

__attribute__((constructor)) static void register_keep(void)
{
    atexit(keep_curl_texts);
}
