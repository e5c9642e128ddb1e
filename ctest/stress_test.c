/*
 * stress_test.c - host threads: 16 pthreads share 20 000 requests, alternating
 * synchronous calls (every request function, kept and unkept connections, a failover)
 * and background requests (three pools with different limits, some cancelled at once),
 * against ctest/testserver.c and three fault servers of this file: one that closes
 * without answering (52), one that never answers (a background timeout, 28) and a port
 * where nothing listens (7). Every call's result is checked against what its server
 * provokes; every accepted background id must come back exactly once, on whichever
 * thread polls it; Kamailio's counters must add up to the synchronous results; no other
 * error is allowed. It also calls every one of the 21 exports at least once, so that
 * running it against the GOEXPERIMENT=cgocheck2 build checks them all.
 *
 * The harness is thread-safe (atomic counters, a mutex around the id table): check.h's
 * CHECK is not, so it is used only on the main thread.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hc.h"
#include "testserver.h"

/* total requests (HC_STRESS_TOTAL may lower it, e.g. under valgrind), shared by THREADS. */
enum { THREADS = 16, MAX_TOTAL = 20000, BIG = 100000 };
static int total = MAX_TOTAL, per_thread = MAX_TOTAL / THREADS;
/* The timeouts of requests that must succeed: 10 s for background requests, 5 s for
 * synchronous ones. HC_STRESS_TIMEOUT=S sets both to S seconds for a run made 50 times
 * slower (valgrind), where requests queued behind pool b's limits would time out. */
static char long_timeout[32] = "{\"timeout\": 10}";
static int sync_timeout = 5, bg_timeout = 10;

static const char echo_body[] = "stress-body-0123456789";
static char url_hello[128], url_echo[128], url_big[128], url_fail[128], url_closer[128],
    url_staller[128], url_refused[128];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- thread-safe failure reporting --------------------------------------------------- */

static int failures, reported;

#define FAILF(...)                                                         \
    do {                                                                   \
        __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);                \
        if (__atomic_add_fetch(&reported, 1, __ATOMIC_RELAXED) <= 20) {    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* ---- fault servers ------------------------------------------------------------------ */

enum fault { CLOSER, STALLER };

struct fault_server {
    int fd;
    enum fault kind;
};

/* serve_fault_conn: CLOSER reads the request and closes (curl 52); STALLER reads until
 * the client goes away and never answers. */
static void *serve_fault_conn(void *arg)
{
    intptr_t packed = (intptr_t)arg;
    int fd = (int)(packed >> 1);
    enum fault kind = (enum fault)(packed & 1);
    char buf[4096];
    if (kind == CLOSER) {
        (void)read(fd, buf, sizeof buf);
    } else {
        while (read(fd, buf, sizeof buf) > 0)
            ;
    }
    close(fd);
    return NULL;
}

static void *serve_fault(void *arg)
{
    struct fault_server *s = arg;
    for (;;) {
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t t;
        if (pthread_create(&t, NULL, serve_fault_conn, (void *)(((intptr_t)fd << 1) | s->kind)) != 0) {
            close(fd);
            continue;
        }
        pthread_detach(t);
    }
}

/* listen_local binds a socket to a free port on 127.0.0.1 and returns the port. */
static int listen_local(int *fd_out)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 256) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("fault server");
        exit(2);
    }
    *fd_out = fd;
    return ntohs(a.sin_port);
}

static int start_fault_server(enum fault kind)
{
    static struct fault_server servers[2];
    struct fault_server *s = &servers[kind];
    s->kind = kind;
    int port = listen_local(&s->fd);
    pthread_t t;
    pthread_create(&t, NULL, serve_fault, s);
    pthread_detach(t);
    return port;
}

/* refused_port returns a port where nothing listens (bound, then closed). */
static int refused_port(void)
{
    int fd;
    int port = listen_local(&fd);
    close(fd);
    return port;
}

/* ---- synchronous calls -------------------------------------------------------------- */

enum { SYNC_KINDS = 11 };
static const char *sync_names[SYNC_KINDS] = {
    "connect plain", "connect kept POST", "query", "client_get big", "request PUT",
    "query_c", "connect 500", "connect closer", "query refused", "failover", "unknown con",
};
static int sync_count[SYNC_KINDS];

/* body_is checks a result's bytes. */
static int body_is(const char *body, size_t len, const char *want, size_t want_len)
{
    return len == want_len && memcmp(body, want, len) == 0;
}

static int all_b(const char *body, size_t len)
{
    if (len != BIG)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (body[i] != 'b')
            return 0;
    return 1;
}

/* one_sync makes call kind k and checks it; *ok and *fail count what Kamailio's connok
 * and connfail should count for it (the failover: a failed attempt, then a 200). */
static void one_sync(int k, uint64_t *ok, uint64_t *fail)
{
    hc_result *r = NULL;
    int ret = 0, want = 200, body_ok = 1;
    const char *h = "hello\nworld";
    switch (k) {
    case 0:
        ret = hc_http_connect("plain", "/x", NULL, NULL, 0, &r);
        body_ok = r != NULL && body_is(r->body, r->body_len, h, strlen(h));
        break;
    case 1:
        ret = hc_http_connect("kept", "/echo", "text/plain", echo_body, strlen(echo_body), &r);
        body_ok = r != NULL && body_is(r->body, r->body_len, echo_body, strlen(echo_body));
        break;
    case 2:
        ret = hc_query(url_hello, NULL, NULL, &r); /* query_result = 1: the first line */
        body_ok = r != NULL && body_is(r->body, r->body_len, "hello", 5);
        break;
    case 3:
        ret = hc_client_get(url_big, NULL, "X-Stress: 1", &r);
        body_ok = r != NULL && all_b(r->body, r->body_len);
        break;
    case 4:
        ret = hc_request("PUT", url_echo, echo_body, NULL, &r);
        body_ok = r != NULL && body_is(r->body, r->body_len, echo_body, strlen(echo_body));
        break;
    case 5:
        ret = hc_query_c(url_echo, echo_body, "application/json", NULL, &r);
        body_ok = r != NULL && body_is(r->body, r->body_len, echo_body, strlen(echo_body));
        break;
    case 6:
        want = 500;
        ret = hc_http_connect("kept", "/fail", NULL, NULL, 0, &r);
        break;
    case 7:
        want = 52;
        ret = hc_http_connect("closer", "/", NULL, NULL, 0, &r);
        break;
    case 8:
        want = 7;
        ret = hc_query(url_refused, NULL, NULL, &r);
        break;
    case 9: /* the primary is refused (connfail), its failover answers (connok) */
        ret = hc_http_connect("failover", "/x", NULL, NULL, 0, &r);
        body_ok = r != NULL && body_is(r->body, r->body_len, h, strlen(h));
        break;
    case 10:
        want = -1;
        ret = hc_http_connect("no-such-connection", "/", NULL, NULL, 0, &r);
        body_ok = r != NULL && r->code == HC_E_NOT_FOUND;
        break;
    }
    if (ret != want || r == NULL || r->ret != ret || !body_ok)
        FAILF("sync %s: ret %d (want %d) code %d curl %d len %zu: %s", sync_names[k], ret, want,
              r ? (int)r->code : -99, r ? r->curl_code : -99, r ? r->body_len : 0,
              r ? r->error : "no result");
    __atomic_add_fetch(&sync_count[k], 1, __ATOMIC_RELAXED);
    if (ret == 200)
        (*ok)++;
    else if (ret != -1)
        (*fail)++;
    if (k == 9)
        (*fail)++;
    hc_result_free(r);
}

/* ---- background requests ------------------------------------------------------------ */

enum { BG_KINDS = 8 };
static const char *bg_names[BG_KINDS] = {
    "a hello", "b echo POST", "c big", "a 500", "c closer", "b refused", "c staller 0.2 s", "a cancelled",
};

/* One slot per id. The submitter writes kind/cancel_rc, any polling thread writes the
 * result facts; both under mu; the verdict is taken after every thread has joined. */
struct slot {
    int submitted, results;
    int kind, cancel_rc;
    int outcome, curl, status;
    int content; /* 1 "hello\nworld", 2 the echo body, 3 100 000 'b', 0 other */
};
enum { MAX_ID = 4 * MAX_TOTAL };
static struct slot slots[MAX_ID + 1];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int bg_submitted, bg_received;

static int content_class(const hc_background_result *r)
{
    const char *h = "hello\nworld";
    if (body_is(r->content, r->content_len, h, strlen(h)))
        return 1;
    if (body_is(r->content, r->content_len, echo_body, strlen(echo_body)))
        return 2;
    if (all_b(r->content, r->content_len))
        return 3;
    return 0;
}

/* record stores one polled result and frees it. */
static void record(hc_background_result *r)
{
    pthread_mutex_lock(&mu);
    if (r->id == 0 || r->id > MAX_ID) {
        pthread_mutex_unlock(&mu);
        FAILF("result with id %llu outside 1..%d", (unsigned long long)r->id, MAX_ID);
        hc_background_result_free(r);
        return;
    }
    struct slot *s = &slots[r->id];
    s->results++;
    s->outcome = r->outcome;
    s->curl = r->curl_code;
    s->status = r->status;
    s->content = content_class(r);
    bg_received++;
    pthread_mutex_unlock(&mu);
    hc_background_result_free(r);
}

/* drain polls what is ready (waiting up to wait_ms for the first one). */
static void drain(int wait_ms)
{
    hc_background_result *r = NULL;
    hc_code c;
    while ((c = hc_background_poll(wait_ms, &r)) == HC_OK) {
        record(r);
        wait_ms = 0;
    }
    if (c != HC_E_AGAIN)
        FAILF("poll: %s", hc_strerror(c));
}

static void one_background(int k)
{
    const struct {
        const char *pool, *options;
        int post;
    } req[BG_KINDS] = {
        {"a", long_timeout, 0}, {"b", long_timeout, 1}, {"c", long_timeout, 0},
        {"a", long_timeout, 0}, {"c", long_timeout, 0}, {"b", long_timeout, 0},
        {"c", "{\"timeout\": 0.2}", 0}, {"a", long_timeout, 0},
    };
    const char *urls[BG_KINDS] = {url_hello, url_echo, url_big, url_fail, url_closer,
                                  url_refused, url_staller, url_staller};
    hc_request_id id = 0;
    char err[HC_ERROR_SIZE] = "";
    hc_code c = hc_background_submit(req[k].pool, urls[k], req[k].options,
                                     req[k].post ? echo_body : NULL,
                                     req[k].post ? strlen(echo_body) : 0, &id, err, sizeof err);
    if (c != HC_OK) {
        FAILF("submit %s: %s (%s)", bg_names[k], hc_strerror(c), err);
        return;
    }
    int cancel_rc = -1;
    if (k == 7) /* a staller: the cancel always wins, the request never ends by itself */
        cancel_rc = hc_background_cancel(id);
    if (id == 0 || id > MAX_ID) {
        FAILF("id %llu outside 1..%d", (unsigned long long)id, MAX_ID);
        return;
    }
    pthread_mutex_lock(&mu);
    slots[id].submitted++;
    slots[id].kind = k;
    slots[id].cancel_rc = cancel_rc;
    bg_submitted++;
    pthread_mutex_unlock(&mu);
}

/* bg_verdict says what is wrong with slot s ("" when nothing). */
static const char *bg_verdict(const struct slot *s)
{
    if (s->submitted != 1 || s->results != 1)
        return "not exactly one submission and one result";
    int done = s->outcome == HC_COMPLETED;
    switch (s->kind) {
    case 0:
        return done && s->status == 200 && s->content == 1 ? "" : "want 200 hello";
    case 1:
        return done && s->status == 200 && s->content == 2 ? "" : "want 200 echo";
    case 2:
        return done && s->status == 200 && s->content == 3 ? "" : "want 200 big";
    case 3:
        return done && s->status == 500 && s->curl == 0 ? "" : "want status 500";
    case 4:
        return done && s->curl == 52 && s->status == 0 ? "" : "want curl 52";
    case 5:
        return done && s->curl == 7 && s->status == 0 ? "" : "want curl 7";
    case 6:
        return done && s->curl == 28 && s->status == 0 ? "" : "want curl 28";
    case 7:
        return s->cancel_rc == HC_OK && s->outcome == HC_CANCELLED && s->curl == 42 ? "" : "want cancelled, 42";
    }
    return "unknown kind";
}

/* ---- the threads ------------------------------------------------------------------- */

struct worker {
    int t;
    uint64_t ok, fail; /* Kamailio's counters as this thread's sync calls should move them */
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < per_thread; i++) {
        if (i % 2 == 0) {
            one_sync((i / 2 + w->t) % SYNC_KINDS, &w->ok, &w->fail);
        } else {
            /* One staller in 16 background requests, one cancel in 16: 5 faults in 8
             * kinds otherwise cycle evenly. */
            int n = (i / 2 + w->t * 3) % 16;
            int k = n < BG_KINDS - 2 ? n : n == 14 ? 6 : n == 15 ? 7 : n % 6;
            one_background(k);
            drain(0);
        }
    }
    return NULL;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the DIR's own descriptor */
}

static int count_threads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 2;
}

int main(void)
{
    const char *env = getenv("HC_STRESS_TOTAL");
    if (env != NULL) {
        total = atoi(env) / THREADS * THREADS;
        if (total < THREADS || total > MAX_TOTAL) {
            fprintf(stderr, "HC_STRESS_TOTAL must be %d..%d\n", THREADS, MAX_TOTAL);
            return 2;
        }
        per_thread = total / THREADS;
    }
    if ((env = getenv("HC_STRESS_TIMEOUT")) != NULL) {
        snprintf(long_timeout, sizeof long_timeout, "{\"timeout\": %d}", atoi(env));
        sync_timeout = bg_timeout = atoi(env);
    }
    test_server_start();
    int p = test_server_port, closer = start_fault_server(CLOSER),
        staller = start_fault_server(STALLER), refused = refused_port();
    snprintf(url_hello, sizeof url_hello, "http://127.0.0.1:%d/hello", p);
    snprintf(url_echo, sizeof url_echo, "http://127.0.0.1:%d/echo", p);
    snprintf(url_big, sizeof url_big, "http://127.0.0.1:%d/big", p);
    snprintf(url_fail, sizeof url_fail, "http://127.0.0.1:%d/fail", p);
    snprintf(url_closer, sizeof url_closer, "http://127.0.0.1:%d/", closer);
    snprintf(url_staller, sizeof url_staller, "http://127.0.0.1:%d/", staller);
    snprintf(url_refused, sizeof url_refused, "http://127.0.0.1:%d/", refused);

    /* The statics first: they work before hc_init. */
    const hc_version_info_t *v = hc_version_info();
    CHECK(v != NULL && v->version_num == HC_VERSION_NUM, "version_info");
    CHECK(strcmp(hc_strerror(HC_E_QUEUE_FULL), "") != 0, "strerror");
    CHECK(strcmp(hc_curlerror(28), "Timeout was reached") == 0, "curlerror: %s", hc_curlerror(28));

    char settings[2048], err[HC_ERROR_SIZE] = "";
    snprintf(settings, sizeof settings,
             "connection_timeout = %d\n"
             "httpcon = plain=>http://127.0.0.1:%d\n"
             "httpcon = closer=>http://127.0.0.1:%d\n"
             "keep_connections = 1\n"
             "httpcon = kept=>http://127.0.0.1:%d\n"
             "httpcon = failover=>http://127.0.0.1:%d;failover=kept\n"
             "pool = {\"id\": \"a\", \"max_total\": 8}\n"
             "pool = {\"id\": \"b\", \"max_total\": 4, \"max_host\": 2}\n"
             "pool = {\"id\": \"c\"}\n",
             sync_timeout, p, closer, p, refused);
    hc_code c = hc_init(settings, err, sizeof err);
    CHECK(c == HC_OK, "init: %s (%s)", hc_strerror(c), err);
    if (c != HC_OK)
        return check_done("stress_test");
    int ready_fd = -1;
    CHECK(hc_background_fd(&ready_fd) == HC_OK && ready_fd >= 0, "background_fd %d", ready_fd);
    int fds0 = count_fds(), threads0 = count_threads();

    double t0 = now_s();
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){.t = t};
        if (pthread_create(&th[t], NULL, work, &w[t]) != 0) {
            perror("pthread_create");
            return 2;
        }
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    double t_calls = now_s() - t0;
    /* What the threads submitted last is still in flight, or queued behind pool b's
     * limits: every request ends within its timeout, counted from its submission (under
     * valgrind the threads can finish their calls well before pool b's backlog). */
    for (double end = now_s() + bg_timeout + 30; now_s() < end;) {
        pthread_mutex_lock(&mu);
        int left = bg_submitted - bg_received;
        pthread_mutex_unlock(&mu);
        if (left == 0)
            break;
        drain(100);
    }
    double t_all = now_s() - t0;

    /* Every accepted id exactly once, with the result its server provokes. */
    int n_bg = 0, bad_bg = 0, per_kind[BG_KINDS] = {0};
    for (int id = 1; id <= MAX_ID; id++) {
        struct slot *s = &slots[id];
        if (s->submitted == 0 && s->results == 0)
            continue;
        n_bg++;
        const char *why = bg_verdict(s);
        if (why[0] != '\0') {
            if (++bad_bg <= 10)
                fprintf(stderr, "FAIL background id %d (%s): %s (submitted %d, results %d, outcome %d, curl %d, status %d, content %d, cancel %d)\n",
                        id, bg_names[s->kind], why, s->submitted, s->results, s->outcome, s->curl,
                        s->status, s->content, s->cancel_rc);
        } else {
            per_kind[s->kind]++;
        }
    }
    int n_sync = 0;
    uint64_t want_ok = 0, want_fail = 0;
    for (int k = 0; k < SYNC_KINDS; k++)
        n_sync += sync_count[k];
    for (int t = 0; t < THREADS; t++) {
        want_ok += w[t].ok;
        want_fail += w[t].fail;
    }
    CHECK(failures == 0, "%d failed calls (first 20 above)", failures);
    CHECK(bad_bg == 0, "%d background results wrong (first 10 above)", bad_bg);
    CHECK(n_sync + n_bg == total, "%d sync + %d background requests, want %d", n_sync, n_bg, total);
    CHECK(bg_submitted == n_bg && bg_received == n_bg, "submitted %d, received %d, ids %d",
          bg_submitted, bg_received, n_bg);

    hc_counters cnt;
    CHECK(hc_get_counters(&cnt) == HC_OK, "counters");
    CHECK(cnt.connections == 4 && cnt.connok == want_ok && cnt.connfail == want_fail,
          "counters connections %llu connok %llu (want %llu) connfail %llu (want %llu)",
          (unsigned long long)cnt.connections, (unsigned long long)cnt.connok,
          (unsigned long long)want_ok, (unsigned long long)cnt.connfail, (unsigned long long)want_fail);

    /* The remaining exports, once each. */
    char *json = NULL;
    size_t json_len = 0;
    CHECK(hc_listcon(&json, &json_len) == HC_OK && json != NULL && strstr(json, "\"kept\"") != NULL,
          "listcon");
    hc_free(json);
    hc_result *r = NULL;
    CHECK(hc_get_redirect("plain", &r) == 1 && r != NULL && strstr(r->body, "/x") != NULL,
          "get_redirect: %s", r ? r->body : "");
    hc_result_free(r);
    r = NULL;
    CHECK(hc_get_content_type("kept", &r) == 1 && r != NULL, "get_content_type");
    hc_result_free(r);

    int fds1 = count_fds(), threads1 = count_threads();
    CHECK(hc_shutdown(1000) == HC_OK, "shutdown");
    hc_background_result *br = NULL;
    CHECK(hc_background_poll(0, &br) == HC_E_AGAIN, "a result after every id was accounted for");
    hc_background_result_free(br);
    int fds2 = count_fds();

    printf("stress: %d threads, %d requests (%d sync, %d background) in %.1f s (calls %.1f s, %.0f req/s)\n",
           THREADS, n_sync + n_bg, n_sync, n_bg, t_all, t_calls, (n_sync + n_bg) / t_all);
    printf("stress: sync by kind:");
    for (int k = 0; k < SYNC_KINDS; k++)
        printf(" %s=%d", sync_names[k], sync_count[k]);
    printf("\nstress: background by kind:");
    for (int k = 0; k < BG_KINDS; k++)
        printf(" %s=%d", bg_names[k], per_kind[k]);
    printf("\nstress: counters connok %llu connfail %llu; threads %d -> %d; descriptors %d -> %d (%d after hc_shutdown)\n",
           (unsigned long long)cnt.connok, (unsigned long long)cnt.connfail, threads0, threads1,
           fds0, fds1, fds2);
    return check_done("stress_test");
}
