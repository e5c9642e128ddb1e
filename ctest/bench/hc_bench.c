/* hc_bench: libhc driven exactly as a host drives it, mirroring ../shared/bench/curl_bench.c
 * mode for mode so that the two can be compared side by side.
 *
 * usage: hc_bench sync URL N         hc_http_connect on a connection with keep_connections = 1
 *        hc_bench fresh URL N        the same with keep_connections = 0 (a new connection per call)
 *        hc_bench multi URL N CONC   hc_background_submit/poll, CONC requests in flight
 *                                    (a pool with max_total = CONC)
 * prints: "<mode> <N> requests <secs> s <req/s> req/s fails=<n> bytes=<n>", as curl_bench,
 *         then "loop_cpu_us=<n>": the process's CPU time (user+sys) per request during the
 *         request loop alone (what the Python binding's overhead is compared with).
 *         It then calls hc_shutdown(0).
 * env BENCH_POST=TEXT: POST TEXT instead of a GET (curl_bench gets the same body through
 *     curl_post_shim.c);
 *     HC_BENCH_CAINFO=FILE: the CA certificate for https URLs (hc's "cacert" setting);
 *     HC_BENCH_QUEUE=N: the pool's queue (default CONC: a result's queue slot is free once
 *     it can be polled; builds before that fix need more, to be measured at all);
 *     HC_BENCH_SETTINGS=TEXT: more settings lines, for A/B runs ("background_loop = 0").
 * Every request must answer 200, and the body bytes are counted, so a run that is fast
 * because it failed shows fails > 0 and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "hc.h"

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* split_url cuts "scheme://host:port/path" into the httpcon base and the path. */
static int split_url(const char *url, char *base, size_t base_len, const char **path)
{
    const char *host = strstr(url, "://");
    if (host == NULL)
        return -1;
    const char *slash = strchr(host + 3, '/');
    size_t n = slash ? (size_t)(slash - url) : strlen(url);
    if (n + 1 > base_len)
        return -1;
    memcpy(base, url, n);
    base[n] = '\0';
    *path = slash ? slash : "/";
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *mode = argv[1], *url = argv[2];
    long n = atol(argv[3]);
    long conc = argc > 4 ? atol(argv[4]) : 64;
    long queue = getenv("HC_BENCH_QUEUE") ? atol(getenv("HC_BENCH_QUEUE")) : conc;
    const char *post = getenv("BENCH_POST");
    const char *cainfo = getenv("HC_BENCH_CAINFO");
    const char *extra = getenv("HC_BENCH_SETTINGS"); /* for A/B runs, e.g. "background_loop = 0" */
    size_t post_len = post ? strlen(post) : 0;
    int sync = !strcmp(mode, "sync"), fresh = !strcmp(mode, "fresh"), multi = !strcmp(mode, "multi");
    if (!sync && !fresh && !multi)
        return 2;

    char base[512], settings[2048], err[HC_ERROR_SIZE];
    const char *path;
    if (split_url(url, base, sizeof base, &path) != 0) {
        fprintf(stderr, "bad URL %s\n", url);
        return 2;
    }
    int len = snprintf(settings, sizeof settings,
                       "keep_connections = %d\n"
                       "%s%s%s"
                       "httpcon = b=>%s\n"
                       "pool = {\"id\": \"b\", \"max_total\": %ld, \"queue\": %ld}\n%s\n",
                       fresh ? 0 : 1, cainfo ? "cacert = " : "", cainfo ? cainfo : "", cainfo ? "\n" : "",
                       base, conc, queue, extra ? extra : "");
    if (len < 0 || (size_t)len >= sizeof settings || hc_init(settings, err, sizeof err) != HC_OK) {
        fprintf(stderr, "hc_init: %s\n", err);
        return 2;
    }

    size_t bytes = 0;
    long fails = 0;
    double t0 = now(), c0 = cpu_now();
    if (!multi) {
        for (long i = 0; i < n; i++) {
            hc_result *r = NULL;
            int ret = hc_http_connect("b", path, NULL, post, post_len, &r);
            if (ret != 200) {
                if (fails++ == 0)
                    fprintf(stderr, "hc_http_connect: %d %s\n", ret, r ? r->error : "");
            } else {
                bytes += r->body_len;
            }
            hc_result_free(r);
        }
    } else {
        long started = 0, done = 0;
        while (done < n) {
            while (started < n && started - done < conc) {
                hc_request_id id;
                if (hc_background_submit("b", url, NULL, post, post_len, &id, err, sizeof err) != HC_OK) {
                    fprintf(stderr, "hc_background_submit: %s\n", err);
                    return 1;
                }
                started++;
            }
            hc_background_result *r;
            /* Wait for one result, then take every other one that is ready. */
            for (int wait = 100; hc_background_poll(wait, &r) == HC_OK; wait = 0) {
                if (r->error[0] || r->status != 200) {
                    if (fails++ == 0)
                        fprintf(stderr, "background: %d %s %s\n", r->status, r->error, r->detail);
                } else {
                    bytes += r->content_len;
                }
                hc_background_result_free(r);
                done++;
            }
        }
    }
    double dt = now() - t0, dc = cpu_now() - c0;
    printf("%s %ld requests %.3f s %.0f req/s fails=%ld bytes=%zu loop_cpu_us=%.2f\n", mode, n, dt, n / dt, fails,
           bytes, dc * 1e6 / n);
    /* As curl_bench cleans up its handles, and as a host does before it exits; a library
     * built with -tags hcprofile writes its profiles here (make bench-pprof). */
    hc_shutdown(0);
    return fails ? 1 : 0;
}
