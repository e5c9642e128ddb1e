/*
 * signal_test.c - what loading and using libhc does to the host's signal dispositions
 * (shared/spec/go_cshared.md section 2, Design rule 9), like Kamailio: the host installs
 * its handlers (without SA_ONSTACK) first, then loads libhc through bindings/c, starts it
 * and makes a request. Afterwards:
 *   - only the Go runtime's own set may have a new handler: SIGSEGV, SIGBUS, SIGFPE (Go
 *     panics), SIGPIPE (Go forwards it to the host's handler) and SIGURG (preemption);
 *   - the host's other handlers are kept (SA_ONSTACK may be added) and still run;
 *   - every other signal (SIGCHLD, SIGPROF, SIGALRM, ...) is untouched.
 *   signal_test /path/to/libhc.so
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hc_dl.h"

static volatile sig_atomic_t got_usr1, got_term;
static void on_usr1(int sig) { (void)sig; got_usr1++; }
static void on_term(int sig) { (void)sig; got_term++; }

static int go_owned(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGPIPE || sig == SIGURG;
}

int main(int argc, char **argv)
{
    struct sigaction host = {0}, before[NSIG], after[NSIG];
    int known[NSIG] = {0}; /* glibc refuses its own internal signals (32, 33) */
    host.sa_handler = on_usr1;
    sigaction(SIGUSR1, &host, NULL);
    host.sa_handler = on_term;
    sigaction(SIGTERM, &host, NULL);
    host.sa_handler = on_term;
    sigaction(SIGHUP, &host, NULL);
    for (int s = 1; s < NSIG; s++)
        known[s] = sigaction(s, NULL, &before[s]) == 0;

    const hc_api *hc;
    char err[HC_ERROR_SIZE];
    CHECK(hc_dl_load(argc > 1 ? argv[1] : "libhc.so", &hc, err, sizeof err) == HC_OK, "load: %s", err);
    CHECK(hc->init("httpcon = c=>http://127.0.0.1:1/\n", err, sizeof err) == HC_OK, "init: %s", err);
    hc_result *r = NULL;
    CHECK(hc->http_connect("c", "/", NULL, NULL, 0, &r) == 7, "a request ran");
    hc->result_free(r);
    usleep(100 * 1000); /* let the runtime's threads settle */

    for (int s = 1; s < NSIG; s++) {
        if (!known[s] || sigaction(s, NULL, &after[s]) != 0 || go_owned(s))
            continue;
        int same_handler = after[s].sa_handler == before[s].sa_handler;
        int flags_ok = (after[s].sa_flags & ~SA_ONSTACK) == (before[s].sa_flags & ~SA_ONSTACK);
        CHECK(same_handler && flags_ok, "signal %d (%s) changed: flags %#x -> %#x", s, strsignal(s),
              (unsigned)before[s].sa_flags, (unsigned)after[s].sa_flags);
    }
    CHECK(after[SIGPROF].sa_handler == SIG_DFL, "no profiling signal");
    CHECK(after[SIGCHLD].sa_handler == before[SIGCHLD].sa_handler, "SIGCHLD untouched");

    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGTERM);
    usleep(100 * 1000);
    CHECK(got_usr1 == 1 && got_term == 1, "the host's handlers still run (usr1 %d, term %d)", (int)got_usr1,
          (int)got_term);
    CHECK(hc->http_connect("c", "/", NULL, NULL, 0, NULL) == 7, "libhc still works after the signals");
    return check_done("signal_test");
}
