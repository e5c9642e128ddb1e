/*
 * hcm_lib.c - libhc in the module's processes.
 *
 * Kamailio's main process parses the script, runs mod_init, then forks the workers and
 * keeps forking (TCP workers, timers) after child_init(PROC_MAIN). A Go runtime started
 * there would be lost in every child and could hang them (shared/spec/go_cshared.md
 * §1.6), so the main process never loads libhc. It still has to refuse a bad
 * configuration at start-up, as 5.6.3 does: a short-lived child loads libhc, runs the
 * same hc_init on the same settings, reports through a pipe and exits. The workers load
 * libhc after their fork, in child_init (or on first use in another leaf process).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/dprint.h"

#include "hcm.h"

/* How long mod_init waits for the validating child: hc_init reads the config_file but
 * never touches the network, so this only bounds a broken installation. */
#define HCM_VALIDATE_TIMEOUT_MS 30000

static char library_path[PATH_MAX]; /* modparam "libhc"; "" = the default */
static pid_t main_pid;              /* Kamailio's main process: never load there */
static pid_t ready_pid;             /* the process where hc_init succeeded */
static pid_t failed_pid;            /* the process where loading failed (logged once) */

int hcm_set_library_path(const char *path)
{
	if(path == NULL || strlen(path) >= sizeof library_path) {
		LM_ERR("modparam libhc: path missing or too long\n");
		return -1;
	}
	strcpy(library_path, path);
	return 0;
}

void hcm_remember_main(void)
{
	main_pid = getpid();
}

/* The library to load: the modparam, else libhc.so next to this module (the install
 * layout the README gives), else NULL for the dynamic linker's search path. */
static const char *library(void)
{
	static char beside[PATH_MAX];
	Dl_info self;

	if(library_path[0])
		return library_path;
	if(!beside[0] && dladdr((void *)&library, &self) && self.dli_fname) {
		const char *slash = strrchr(self.dli_fname, '/');
		if(slash && (size_t)(slash - self.dli_fname) + sizeof "/libhc.so" <= sizeof beside) {
			snprintf(beside, sizeof beside, "%.*s/libhc.so", (int)(slash - self.dli_fname),
					self.dli_fname);
		}
	}
	return beside[0] && access(beside, R_OK) == 0 ? beside : NULL;
}

/* load_and_init loads libhc into this process and applies the settings. */
static hc_code load_and_init(const hc_api **api, char *err, size_t err_len)
{
	hc_code c = hc_dl_load(library(), api, err, err_len);
	if(c != HC_OK)
		return c;
	c = (*api)->init(hcm_settings_text(), err, err_len);
	if(c == HC_E_ALREADY_INIT) /* another module of this process did it: same text */
		c = HC_OK;
	return c;
}

/* The validating child's report. */
typedef struct hcm_report {
	int code;
	int connections;
	char message[HC_ERROR_SIZE];
} hcm_report;

static void validate_in_child(int out)
{
	hcm_report rep;
	const hc_api *api = NULL;
	hc_counters counters;

	memset(&rep, 0, sizeof rep);
	rep.code = load_and_init(&api, rep.message, sizeof rep.message);
	if(rep.code == HC_OK && api->get_counters(&counters) == HC_OK)
		rep.connections = (int)counters.connections;
	for(size_t off = 0; off < sizeof rep;) {
		ssize_t n = write(out, (char *)&rep + off, sizeof rep - off);
		if(n < 0 && errno == EINTR)
			continue;
		if(n <= 0)
			break;
		off += (size_t)n;
	}
	_exit(0); /* no atexit handlers: they belong to Kamailio's main process */
}

/* read_report reads the child's report, waiting at most HCM_VALIDATE_TIMEOUT_MS. */
static int read_report(int in, hcm_report *rep)
{
	struct timespec start, now;
	size_t off = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while(off < sizeof *rep) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000
					 + (now.tv_nsec - start.tv_nsec) / 1000000;
		struct pollfd p = {.fd = in, .events = POLLIN};
		int r = poll(&p, 1, spent >= HCM_VALIDATE_TIMEOUT_MS ? 0 : (int)(HCM_VALIDATE_TIMEOUT_MS - spent));
		if(r < 0 && errno == EINTR)
			continue;
		if(r <= 0)
			return -1;
		ssize_t n = read(in, (char *)rep + off, sizeof *rep - off);
		if(n < 0 && errno == EINTR)
			continue;
		if(n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int hcm_validate(int *connections)
{
	int fds[2], status, ok = -1;
	hcm_report rep;
	sigset_t chld, saved, pending;

	if(pipe2(fds, O_CLOEXEC) < 0) {
		LM_ERR("pipe: %s\n", strerror(errno));
		return -1;
	}
	/* Kamailio's SIGCHLD handler reads any exiting child as a dead worker; this one is
	 * reaped here, so its signal is held and then taken off the pending set. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &saved);
	pid_t pid = fork();
	if(pid == 0) {
		close(fds[0]);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		validate_in_child(fds[1]);
	}
	close(fds[1]);
	if(pid < 0) {
		LM_ERR("fork: %s\n", strerror(errno));
		close(fds[0]);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return -1;
	}
	if(read_report(fds[0], &rep) == 0) {
		ok = 0;
	} else {
		LM_ERR("libhc did not report on the settings within %d ms; is %s loadable?\n",
				HCM_VALIDATE_TIMEOUT_MS, library() ? library() : "libhc.so");
		kill(pid, SIGKILL);
	}
	close(fds[0]);
	while(waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigpending(&pending);
	if(sigismember(&pending, SIGCHLD)) {
		struct timespec zero = {0, 0};
		sigtimedwait(&chld, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if(ok < 0)
		return -1;

	rep.message[sizeof rep.message - 1] = '\0';
	if(rep.code == HC_E_CONFIG) {
		char described[2 * HC_ERROR_SIZE];
		hcm_settings_describe(rep.message, described, sizeof described);
		LM_ERR("invalid http_client configuration: %s\n", described);
		return -1;
	}
	if(rep.code != HC_OK) {
		LM_ERR("libhc cannot be used: %s (hc_code %d)\n", rep.message, rep.code);
		return -1;
	}
	*connections = rep.connections;
	return 0;
}

int hcm_load(void)
{
	const hc_api *api;
	char err[HC_ERROR_SIZE];
	pid_t self = getpid();

	if(self == ready_pid)
		return 0;
	if(self == main_pid || self == failed_pid)
		return -1;
	hc_code c = load_and_init(&api, err, sizeof err);
	if(c != HC_OK) {
		failed_pid = self;
		LM_ERR("libhc cannot be used in process %d: %s (hc_code %d)\n", (int)self, err, (int)c);
		return -1;
	}
	ready_pid = self;
	return 0;
}

const hc_api *hcm_api(void)
{
	const hc_api *api;
	static pid_t warned_main;

	if(getpid() == main_pid) {
		if(warned_main != main_pid) {
			warned_main = main_pid;
			LM_ERR("http_client functions cannot run in Kamailio's main process, which"
				   " forks the workers (libhc is loaded by the workers only)\n");
		}
		return NULL;
	}
	if(hcm_load() < 0 || hc_dl_get(&api) != HC_OK)
		return NULL;
	return api;
}
