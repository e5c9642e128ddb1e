/*
 * bg_test.c - background requests through the C ABI, against ctest/testserver.c: argument
 * checking with Halon's messages, an epoll loop on hc_background_fd collecting every
 * result exactly once, max_host seen from the server, a full queue refusing at once, a
 * timeout firing on a silent server, cancel and shutdown. Every result is freed, so
 * valgrind reports any leak. HC_TEST_SLOWDOWN=k multiplies every time limit for a run made
 * slower by k (valgrind, where the Go runtime's collector can also stall for seconds).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hc.h"
#include "testserver.h"

static char url_hello[128], url_echo[128], url_slow[128], url_stall[128];
static double slow = 1; /* HC_TEST_SLOWDOWN */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* wait_ready is epoll_wait for one event, retried on EINTR: the Go runtime's SIGURG can
 * reach this thread, which has called into libhc. */
static int wait_ready(int ep, int timeout_ms)
{
    struct epoll_event ev;
    int n;
    while ((n = epoll_wait(ep, &ev, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return n;
}

static hc_request_id submit(const char *pool, const char *url, const char *options)
{
    hc_request_id id = 0;
    char err[HC_ERROR_SIZE] = "";
    hc_code c = hc_background_submit(pool, url, options, NULL, 0, &id, err, sizeof err);
    CHECK(c == HC_OK, "submit %s: %s (%s)", url, hc_strerror(c), err);
    return id;
}

/* wait_result polls until the result of id arrives; results of other requests are
 * dropped, so use it only when no other request is outstanding. */
static hc_background_result *wait_result(hc_request_id id, double limit_s)
{
    double end = now_s() + limit_s * slow;
    while (now_s() < end) {
        hc_background_result *r = NULL;
        if (hc_background_poll(50, &r) == HC_OK) {
            if (r->id == id)
                return r;
            hc_background_result_free(r);
        }
    }
    return NULL;
}

/* wait_all polls until the results of all n ids arrived; it returns how many did. */
static int wait_all(const hc_request_id *ids, int n, double limit_s)
{
    int got = 0;
    double end = now_s() + limit_s * slow;
    while (got < n && now_s() < end) {
        hc_background_result *r = NULL;
        if (hc_background_poll(50, &r) != HC_OK)
            continue;
        for (int i = 0; i < n; i++)
            got += r->id == ids[i];
        hc_background_result_free(r);
    }
    return got;
}

static void test_before_init(void)
{
    hc_request_id id;
    hc_background_result *r;
    int fd;
    CHECK(hc_background_submit("p", "http://x/", NULL, NULL, 0, &id, NULL, 0) == HC_E_NOT_INIT, "submit");
    CHECK(hc_background_poll(0, &r) == HC_E_NOT_INIT, "poll");
    CHECK(hc_background_fd(&fd) == HC_E_NOT_INIT, "fd");
    CHECK(hc_background_cancel(1) == HC_E_NOT_INIT, "cancel");
    CHECK(hc_shutdown(0) == HC_E_NOT_INIT, "shutdown");
}

static void test_arguments(void)
{
    hc_request_id id = 0;
    char err[HC_ERROR_SIZE];
    char *huge = malloc((1 << 20) + 1);
    memset(huge, 'a', 1 << 20);
    huge[1 << 20] = '\0';
    memcpy(huge, "http://127.0.0.1:1/", 19);

    CHECK(hc_background_submit("p", url_hello, NULL, NULL, 0, NULL, err, sizeof err) == HC_E_INVALID, "NULL id");
    CHECK(hc_background_submit(NULL, url_hello, NULL, NULL, 0, &id, err, sizeof err) == HC_E_INVALID &&
              strcmp(err, "Bad ID parameter") == 0, "NULL pool: %s", err);
    CHECK(hc_background_submit("nope", url_hello, NULL, NULL, 0, &id, err, sizeof err) == HC_E_NOT_FOUND &&
              strcmp(err, "Missing ID in configuration") == 0, "unknown pool: %s", err);
    CHECK(hc_background_submit("p", NULL, NULL, NULL, 0, &id, err, sizeof err) == HC_E_INVALID &&
              strcmp(err, "Bad URL parameter") == 0, "NULL url: %s", err);
    CHECK(hc_background_submit("p", url_hello, "{\"timeout\": \"5\"}", NULL, 0, &id, err, sizeof err) ==
                  HC_E_INVALID && strcmp(err, "Bad timeout value") == 0, "bad option: %s", err);
    CHECK(hc_background_submit("p", url_hello, "{not json", NULL, 0, &id, err, sizeof err) == HC_E_INVALID,
          "options not JSON");
    CHECK(hc_background_submit("p", url_hello, NULL, NULL, 5, &id, err, sizeof err) == HC_E_INVALID,
          "NULL body with a length");
    CHECK(hc_background_submit("p", url_hello, NULL, NULL, 0, &id, NULL, 8) == HC_E_INVALID, "errbuf NULL");
    CHECK(hc_background_submit("p", huge, huge, huge, 1 << 20, &id, err, sizeof err) != HC_OK, "1 MiB options");
    CHECK(hc_background_submit("p", "http://\xff\xfe/\xc3\x28", "{\"headers\": [\"X-A: \xff\"]}", "\xff", 1, &id,
                               err, sizeof err) != HC_OK || 1,
          "invalid UTF-8 does not crash");
    hc_background_result *r = NULL;
    CHECK(hc_background_poll(0, NULL) == HC_E_INVALID, "poll NULL");
    CHECK(hc_background_fd(NULL) == HC_E_INVALID, "fd NULL");
    CHECK(hc_background_cancel(0) == HC_E_BAD_HANDLE, "cancel 0");
    CHECK(hc_background_cancel(UINT64_MAX) == HC_E_BAD_HANDLE, "cancel unknown");
    while (hc_background_poll(1000, &r) == HC_OK) /* the garbage requests still complete */
        hc_background_result_free(r);
    hc_background_result_free(NULL);
    free(huge);
}

enum { N = 200 };

static void test_epoll_many(void)
{
    static hc_request_id ids[N];
    static int seen[N];
    int fd = -1, ep = epoll_create1(0), got = 0, dup = 0, ok = 0;
    CHECK(hc_background_fd(&fd) == HC_OK && fd >= 0, "fd");
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    CHECK(wait_ready(ep, 0) == 0, "not readable before any result");
    for (int i = 0; i < N; i++) {
        char err[HC_ERROR_SIZE];
        const char *body = i % 2 ? "payload" : NULL;
        hc_code c = hc_background_submit("p", i % 2 ? url_echo : url_hello, NULL, body, body ? 7 : 0, &ids[i],
                                         err, sizeof err);
        CHECK(c == HC_OK, "submit %d: %s", i, err);
    }
    double end = now_s() + 30 * slow;
    while (got < N && now_s() < end) {
        if (wait_ready(ep, 1000) <= 0)
            continue;
        hc_background_result *r = NULL;
        while (hc_background_poll(0, &r) == HC_OK) {
            for (int i = 0; i < N; i++) {
                if (ids[i] != r->id)
                    continue;
                dup += seen[i]++;
                got++;
                ok += r->status == 200 && r->error[0] == '\0' &&
                      (i % 2 ? r->content_len == 7 && memcmp(r->content, "payload", 7) == 0
                             : r->content_len == 11) &&
                      r->timings.total >= r->timings.first_byte && r->timings.first_byte > 0;
            }
            hc_background_result_free(r);
        }
    }
    /* Tells a lost readiness (results wait, the descriptor says nothing) from a transfer
     * that never ends, should this ever fail. */
    int unannounced = 0;
    for (hc_background_result *r = NULL; got < N && hc_background_poll(0, &r) == HC_OK; r = NULL) {
        unannounced++;
        hc_background_result_free(r);
    }
    CHECK(got == N && dup == 0, "%d results for %d requests, %d duplicates; %d more waited unannounced",
          got, N, dup, unannounced);
    CHECK(ok == N, "%d of %d results correct", ok, N);
    CHECK(wait_ready(ep, 0) == 0, "not readable once drained");
    close(ep);
}

static void test_max_host(void)
{
    enum { M = 10 };
    hc_request_id ids[M];
    test_server_max_in_flight();
    for (int i = 0; i < M; i++)
        ids[i] = submit("p", url_slow, NULL);
    CHECK(wait_all(ids, M, 20) == M, "all results");
    int seen = test_server_max_in_flight();
    CHECK(seen == 2, "max_host=2: the server saw %d concurrent requests", seen);
}

static void test_queue_timeout_cancel(void)
{
    char err[HC_ERROR_SIZE];
    double submitted = now_s(); /* a's 0.3 s run from its submission */
    hc_request_id a = submit("tiny", url_stall, "{\"timeout\": 0.3}");
    /* b must still be in flight when it is cancelled below: its own timeout outlasts the
     * longest wait for a's result that passes (3 s, times HC_TEST_SLOWDOWN). */
    char b_options[64];
    snprintf(b_options, sizeof b_options, "{\"timeout\": %g}", 10 * slow);
    hc_request_id b = submit("tiny", url_stall, b_options);
    hc_request_id c;
    double t0 = now_s();
    CHECK(hc_background_submit("tiny", url_stall, NULL, NULL, 0, &c, err, sizeof err) == HC_E_QUEUE_FULL,
          "queue full: %s", err);
    CHECK(now_s() - t0 < 0.05 * slow, "refused at once (%.3f s)", now_s() - t0);

    /* a's result, keeping b's should it come first (wait_result would drop it) */
    hc_background_result *r = NULL, *early_b = NULL;
    for (double end = now_s() + 5 * slow; r == NULL && now_s() < end;) {
        hc_background_result *x = NULL;
        if (hc_background_poll(50, &x) != HC_OK)
            continue;
        if (x->id == a)
            r = x;
        else if (x->id == b && early_b == NULL)
            early_b = x;
        else
            hc_background_result_free(x);
    }
    double waited = now_s() - submitted;
    CHECK(r != NULL && r->curl_code == 28 && strcmp(r->error, "Timeout was reached") == 0 &&
              r->outcome == HC_COMPLETED && r->status == 0,
          "silent server: timeout 28 (%s)", r ? r->error : "no result");
    CHECK(waited >= 0.25 && waited < 3 * slow, "after %.2f s", waited);
    hc_background_result_free(r);
    CHECK(early_b == NULL, "b ended before its cancel, %.2f s after its submission: curl %d (%s: %s)", waited,
          early_b ? early_b->curl_code : 0, early_b ? early_b->error : "", early_b ? early_b->detail : "");
    hc_background_result_free(early_b);

    CHECK(hc_background_cancel(b) == HC_OK, "cancel");
    r = wait_result(b, 5);
    CHECK(r != NULL && r->outcome == HC_CANCELLED && r->curl_code == 42, "cancelled result");
    hc_background_result_free(r);
    CHECK(hc_background_cancel(b) == HC_E_BAD_HANDLE, "second cancel");
}

static void test_shutdown(void)
{
    hc_request_id ids[3];
    char err[HC_ERROR_SIZE];
    hc_request_id quick = submit("p", url_hello, NULL); /* finished before the shutdown */
    hc_background_result_free(wait_result(quick, 5));
    for (int i = 0; i < 3; i++) /* max_host 2: two in flight, one waiting for the limit */
        ids[i] = submit("p", url_stall, NULL);
    double t0 = now_s();
    CHECK(hc_shutdown(200) == HC_OK, "shutdown");
    CHECK(now_s() - t0 < 5 * slow, "shutdown returned after %.2f s", now_s() - t0);
    hc_request_id late;
    CHECK(hc_background_submit("p", url_hello, NULL, NULL, 0, &late, err, sizeof err) == HC_E_SHUTDOWN,
          "no submit after shutdown");
    int shut = 0;
    hc_background_result *r = NULL;
    while (hc_background_poll(0, &r) == HC_OK) {
        for (int i = 0; i < 3; i++)
            shut += r->id == ids[i] && r->outcome == HC_SHUT_DOWN && r->curl_code == 42;
        hc_background_result_free(r);
    }
    CHECK(shut == 3, "%d of 3 in-flight requests failed by the shutdown", shut);
}

int main(void)
{
    char settings[512], err[HC_ERROR_SIZE];
    slow = check_slowdown();
    test_server_start();
    snprintf(url_hello, sizeof url_hello, "http://127.0.0.1:%d/hello", test_server_port);
    snprintf(url_echo, sizeof url_echo, "http://127.0.0.1:%d/echo", test_server_port);
    snprintf(url_slow, sizeof url_slow, "http://127.0.0.1:%d/slow", test_server_port);
    snprintf(url_stall, sizeof url_stall, "http://127.0.0.1:%d/stall", test_server_port);
    test_before_init();
    snprintf(settings, sizeof settings,
             "pool = {\"id\": \"p\", \"max_total\": 8, \"max_host\": 2}\n"
             "pool = {\"id\": \"tiny\", \"queue\": 2}\n");
    CHECK(hc_init(settings, err, sizeof err) == HC_OK, "init: %s", err);
    test_arguments();
    test_epoll_many();
    test_max_host();
    test_queue_timeout_cancel();
    test_shutdown();
    return check_done("bg_test");
}
