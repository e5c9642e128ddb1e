/*
 * dl_test.c - the bindings/c loader (hc_dl.h) for hosts that fork after loading modules.
 *
 * 1. Load after fork: the parent never loads libhc; 8 children at once each load it,
 *    initialise it and use it: each gets its own working runtime.
 * 2. The parent's own memory map never contains libhc.
 * 3. Fork after load: the parent loads it; a child's hc_dl_get/hc_dl_load and the stale
 *    table answer HC_E_FORKED at once, never a hang.
 * Every child is bounded by alarm() and the parent's deadline.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hc_dl.h"

enum { CHILDREN = 8 };
static const char *lib_path;

static int maps_contain(const char *what)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        found |= strstr(line, what) != NULL;
    if (f != NULL)
        fclose(f);
    return found;
}

static int load_and_use(void)
{
    const hc_api *hc = NULL;
    char err[HC_ERROR_SIZE] = "";
    char *json = NULL;
    alarm(20);
    if (hc_dl_get(&hc) != HC_E_NOT_INIT)
        return 1;
    if (hc_dl_load(lib_path, &hc, err, sizeof err) != HC_OK) {
        fprintf(stderr, "child: %s\n", err);
        return 2;
    }
    if (hc->init("httpcon = c1=>http://127.0.0.1:1/x\n", err, sizeof err) != HC_OK)
        return 3;
    if (hc->listcon(&json, NULL) != HC_OK || strstr(json, "\"c1\"") == NULL)
        return 4;
    hc->free(json);
    hc_result *r = NULL;
    if (hc->http_connect("c1", "/", NULL, NULL, 0, &r) != 7)
        return 5;
    hc->result_free(r);
    return 0;
}

static int forked_child(void)
{
    const hc_api *hc = NULL, *stale = NULL;
    char err[HC_ERROR_SIZE] = "";
    alarm(3);
    if (hc_dl_get(&hc) != HC_E_FORKED || hc != NULL)
        return 1;
    if (hc_dl_load(lib_path, &hc, err, sizeof err) != HC_E_FORKED || strstr(err, "fork") == NULL)
        return 2;
    (void)stale;
    return 0;
}

static int wait_all(pid_t *pids, int n, int seconds, const char *what)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        pid_t got;
        while ((got = waitpid(pids[i], &status, WNOHANG)) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > seconds)
                break;
            usleep(5000);
        }
        if (got == 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], &status, 0);
        }
        CHECK(got != 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s child %d: %s %d", what, i,
              got == 0 ? "hung" : "status", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
        ok += got != 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok;
}

int main(int argc, char **argv)
{
    lib_path = argc > 1 ? argv[1] : "libhc.so";
    pid_t pids[CHILDREN];
    const hc_api *hc = NULL;

    for (int i = 0; i < CHILDREN; i++)
        if ((pids[i] = fork()) == 0)
            _exit(load_and_use());
    CHECK(wait_all(pids, CHILDREN, 30, "load-after-fork") == CHILDREN, "all children loaded libhc");
    CHECK(!maps_contain("libhc"), "the parent never mapped libhc");

    char err[HC_ERROR_SIZE] = "";
    CHECK(hc_dl_load(lib_path, &hc, err, sizeof err) == HC_OK, "parent load: %s", err);
    CHECK(hc_dl_load(lib_path, &hc, err, sizeof err) == HC_OK, "second load returns the same table");
    CHECK(hc->init("", err, sizeof err) == HC_OK, "parent init: %s", err);
    pid_t p = fork();
    if (p == 0) {
        int rc = forked_child();
        if (rc == 0) { /* the stale table must refuse too, from the library's own guard */
            char *json = NULL;
            rc = hc->listcon(&json, NULL) == HC_E_FORKED ? 0 : 7;
        }
        _exit(rc);
    }
    CHECK(wait_all(&p, 1, 5, "fork-after-load") == 1, "child refused at once");
    return check_done("dl_test");
}
