/*
 * epoll.c - background requests from an event loop: submit 1 000 requests on a pool,
 * then wait on hc_background_fd() with epoll and collect results with
 * hc_background_poll() until each request has answered exactly once. No thread of the
 * host ever blocks on HTTP; this is the shape of an MTA or event-loop server plugin.
 *   epoll PORT    (examples/run_demo.sh starts a local server and passes its port)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "hc.h"

enum { REQUESTS = 1000 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *port = argc > 1 ? argv[1] : "8080";
    char err[HC_ERROR_SIZE], url[128];
    if (hc_init("pool = {\"id\": \"api\", \"max_total\": 32, \"max_host\": 16}\n", err, sizeof err) != HC_OK) {
        fprintf(stderr, "hc_init: %s\n", err);
        return 1;
    }
    int fd;
    hc_background_fd(&fd);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);

    static unsigned char seen[REQUESTS + 1]; /* ids are 1..REQUESTS here */
    double t0 = now_s();
    for (int i = 0; i < REQUESTS; i++) {
        hc_request_id id;
        snprintf(url, sizeof url, "http://127.0.0.1:%s/hello?n=%d", port, i);
        hc_code c = hc_background_submit("api", url, "{\"timeout\": 10}", NULL, 0, &id, err, sizeof err);
        if (c != HC_OK) {
            fprintf(stderr, "submit %d: %s: %s\n", i, hc_strerror(c), err);
            return 1;
        }
    }
    int done = 0, ok = 0, dup = 0;
    double queue = 0, total = 0;
    while (done < REQUESTS) {
        int n = epoll_wait(ep, &ev, 1, 15000);
        if (n < 0 && errno == EINTR)
            continue; /* the Go runtime's SIGURG interrupts waits on threads that called Go */
        if (n <= 0) {
            fprintf(stderr, "no result for 15 s\n");
            break;
        }
        hc_background_result *r;
        while (hc_background_poll(0, &r) == HC_OK) { /* drain: the fd stays readable until empty */
            if (r->id <= REQUESTS)
                dup += seen[r->id]++ > 0;
            done++;
            ok += r->status == 200;
            queue += r->timings.queue;
            total += r->timings.total;
            hc_background_result_free(r);
        }
    }
    double elapsed = now_s() - t0;
    printf("%d requests: %d results, %d with status 200, %d duplicates, %.2f s (%.0f req/s)\n", REQUESTS,
           done, ok, dup, elapsed, done / elapsed);
    printf("mean queue wait %.1f ms, mean total %.1f ms\n", 1e3 * queue / done, 1e3 * total / done);
    hc_shutdown(1000);
    return done == REQUESTS && ok == REQUESTS && dup == 0 ? 0 : 1;
}
