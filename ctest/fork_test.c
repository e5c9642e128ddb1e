/*
 * fork_test.c - fork after load (shared/spec/go_cshared.md, Design rules 1-2).
 *
 * The parent links libhc, initialises it and makes the runtime busy; then 20 children
 * are forked at once. In each child every hc_* entry point must answer HC_E_FORKED (or
 * -1 with result->code HC_E_FORKED) within 100 ms without entering Go, where it would
 * hang forever. Each child runs under alarm(), and the parent kills any child still alive
 * after 5 s, so a hang fails this test instead of blocking the CI run. HC_TEST_SLOWDOWN=k
 * multiplies these limits for a run made slower by k (valgrind).
 *
 * Two more children are made by a raw clone() system call, which runs no pthread_atfork
 * handler: only the byte the kernel wipes in a child (MADV_WIPEONFORK), or getpid() where
 * the kernel lacks it, tells them apart. They call only entry points that answer without
 * malloc (a raw clone does not take glibc's allocator locks as fork() does).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hc.h"

enum { CHILDREN = 20, RAW_CHILDREN = 2 };
static int slowdown = 1; /* HC_TEST_SLOWDOWN */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* child returns the exit status: 0 when every call answered HC_E_FORKED in time. */
static int child(void)
{
    alarm(3 * slowdown);
    double t0 = now_ms();
    char err[HC_ERROR_SIZE] = "";
    char *json = NULL;
    hc_counters c;
    hc_result *r = NULL;
    int bad = 0;
    bad |= hc_init("", err, sizeof err) != HC_E_FORKED;
    bad |= strstr(err, "fork") == NULL;
    bad |= hc_listcon(&json, NULL) != HC_E_FORKED;
    bad |= hc_get_counters(&c) != HC_E_FORKED;
    bad |= hc_http_connect("c1", "/", NULL, NULL, 0, &r) != -1 || r == NULL || r->code != HC_E_FORKED;
    hc_result_free(r);
    bad |= hc_query("http://127.0.0.1:1/", NULL, NULL, NULL) != -1;
    bad |= hc_client_get("http://127.0.0.1:1/", NULL, NULL, NULL) != -1;
    bad |= hc_request("GET", "http://127.0.0.1:1/", NULL, NULL, NULL) != -1;
    bad |= hc_get_redirect("c1", NULL) != -1;
    bad |= hc_query_c("http://127.0.0.1:1/", "a", "text/plain", NULL, NULL) != -1;
    bad |= hc_get_content_type("c1", NULL) != -1;
    bad |= strcmp(hc_curlerror(7), hc_strerror(HC_E_FORKED)) != 0;
    hc_request_id id;
    hc_background_result *br = NULL;
    int fd;
    bad |= hc_background_submit("p", "http://127.0.0.1:1/", NULL, NULL, 0, &id, err, sizeof err) != HC_E_FORKED;
    bad |= hc_background_poll(-1, &br) != HC_E_FORKED; /* would wait forever if it entered Go */
    bad |= hc_background_fd(&fd) != HC_E_FORKED;
    bad |= hc_background_cancel(1) != HC_E_FORKED;
    bad |= hc_shutdown(1000) != HC_E_FORKED;
    double elapsed = now_ms() - t0;
    if (elapsed > 100 * slowdown)
        bad |= 2;
    return bad;
}

/* raw_child is child() for a raw clone: the entry points that need no allocation. */
static int raw_child(void)
{
    alarm(3 * slowdown);
    char err[HC_ERROR_SIZE] = "";
    hc_counters c;
    hc_request_id id;
    hc_background_result *br = NULL;
    int bad = 0;
    bad |= hc_init("", err, sizeof err) != HC_E_FORKED;
    bad |= hc_get_counters(&c) != HC_E_FORKED;
    bad |= hc_query("http://127.0.0.1:1/", NULL, NULL, NULL) != -1;
    bad |= hc_background_submit("p", "http://127.0.0.1:1/", NULL, NULL, 0, &id, err, sizeof err) != HC_E_FORKED;
    bad |= hc_background_poll(-1, &br) != HC_E_FORKED; /* would wait forever if it entered Go */
    bad |= hc_shutdown(1000) != HC_E_FORKED;
    return bad;
}

int main(void)
{
    slowdown = check_slowdown();
    char err[HC_ERROR_SIZE];
    char *json = NULL;
    CHECK(hc_init("httpcon = c1=>http://127.0.0.1:1/x\n", err, sizeof err) == HC_OK, "init: %s", err);
    CHECK(hc_listcon(&json, NULL) == HC_OK, "parent listcon");
    hc_free(json);
    hc_result *r = NULL;
    CHECK(hc_http_connect("c1", "/", NULL, NULL, 0, &r) == 7, "parent request (warm runtime)");
    hc_result_free(r);

    pid_t pids[CHILDREN + RAW_CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(child());
    }
    for (int i = CHILDREN; i < CHILDREN + RAW_CHILDREN; i++) {
        pids[i] = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
        if (pids[i] == 0)
            syscall(SYS_exit_group, raw_child());
    }
    double deadline = now_ms() + 5000 * slowdown;
    for (int i = 0; i < CHILDREN + RAW_CHILDREN; i++) {
        int status = 0;
        pid_t got = 0;
        while ((got = waitpid(pids[i], &status, WNOHANG)) == 0 && now_ms() < deadline)
            usleep(2000);
        if (got == 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &status, 0);
            CHECK(0, "child %d hung", i);
            continue;
        }
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "child %d: %s", i,
              WIFSIGNALED(status) ? "killed (hung past its alarm)" :
              (WEXITSTATUS(status) & 2) ? "slower than its limit (100 ms × HC_TEST_SLOWDOWN)" : "a call did not answer HC_E_FORKED");
    }
    CHECK(hc_listcon(&json, NULL) == HC_OK, "parent still works after the forks");
    hc_free(json);
    return check_done("fork_test");
}
