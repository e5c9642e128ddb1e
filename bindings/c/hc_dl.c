/*
 * hc_dl.c - the run-time loader of hc_dl.h. Plain C; links only libdl and libpthread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hc_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t hc_dl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t hc_dl_once = PTHREAD_ONCE_INIT;
static hc_api hc_dl_table;
static pid_t hc_dl_pid; /* the process that loaded libhc; 0 = not loaded */

/* A child must not wait on a mutex that a vanished parent thread may hold. */
static void hc_dl_atfork_child(void) { pthread_mutex_init(&hc_dl_mu, NULL); }
static void hc_dl_register(void) { pthread_atfork(NULL, NULL, hc_dl_atfork_child); }

static void hc_dl_err(char *buf, size_t len, const char *what, const char *detail)
{
    if (buf != NULL && len > 0)
        snprintf(buf, len, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

static hc_code hc_dl_state(void)
{
    pid_t loaded = __atomic_load_n(&hc_dl_pid, __ATOMIC_ACQUIRE);
    if (loaded == 0)
        return HC_E_NOT_INIT;
    return loaded == getpid() ? HC_OK : HC_E_FORKED;
}

hc_code hc_dl_get(const hc_api **api)
{
    if (api == NULL)
        return HC_E_INVALID;
    hc_code c = hc_dl_state();
    *api = c == HC_OK ? &hc_dl_table : NULL;
    return c;
}

#define HC_DL_SYM(field, name)                                              \
    do {                                                                     \
        *(void **)(&t.field) = dlsym(h, name);                               \
        if (t.field == NULL) {                                               \
            hc_dl_err(errbuf, errbuf_len, "libhc: missing symbol", name);   \
            return HC_E_NOT_FOUND;                                           \
        }                                                                    \
    } while (0)

static hc_code hc_dl_load_locked(const char *path, char *errbuf, size_t errbuf_len)
{
    void *h = dlopen(path ? path : "libhc.so", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (h == NULL) {
        hc_dl_err(errbuf, errbuf_len, "libhc: dlopen failed", dlerror());
        return HC_E_NOT_FOUND;
    }
    hc_api t;
    HC_DL_SYM(strerror, "hc_strerror");
    HC_DL_SYM(version_info, "hc_version_info");
    HC_DL_SYM(init, "hc_init");
    HC_DL_SYM(listcon, "hc_listcon");
    HC_DL_SYM(get_counters, "hc_get_counters");
    HC_DL_SYM(free, "hc_free");
    HC_DL_SYM(result_free, "hc_result_free");
    HC_DL_SYM(http_connect, "hc_http_connect");
    HC_DL_SYM(query, "hc_query");
    HC_DL_SYM(client_get, "hc_client_get");
    HC_DL_SYM(request, "hc_request");
    HC_DL_SYM(get_redirect, "hc_get_redirect");
    HC_DL_SYM(query_c, "hc_query_c");
    HC_DL_SYM(get_content_type, "hc_get_content_type");
    HC_DL_SYM(curlerror, "hc_curlerror");
    HC_DL_SYM(background_submit, "hc_background_submit");
    HC_DL_SYM(background_poll, "hc_background_poll");
    HC_DL_SYM(background_fd, "hc_background_fd");
    HC_DL_SYM(background_cancel, "hc_background_cancel");
    HC_DL_SYM(shutdown, "hc_shutdown");
    HC_DL_SYM(background_result_free, "hc_background_result_free");
    if ((t.version_info()->version_num >> 16) != HC_VERSION_MAJOR) {
        hc_dl_err(errbuf, errbuf_len, "libhc: major version differs from hc.h",
                  t.version_info()->version);
        return HC_E_CONFIG;
    }
    hc_dl_table = t;
    __atomic_store_n(&hc_dl_pid, getpid(), __ATOMIC_RELEASE);
    return HC_OK;
}

hc_code hc_dl_load(const char *path, const hc_api **api, char *errbuf, size_t errbuf_len)
{
    if (api == NULL)
        return HC_E_INVALID;
    *api = NULL;
    pthread_once(&hc_dl_once, hc_dl_register);
    hc_code c = hc_dl_state();
    if (c == HC_E_FORKED) {
        hc_dl_err(errbuf, errbuf_len,
                  "libhc: loaded before fork() by a parent process; load it only after fork", NULL);
        return c;
    }
    if (c == HC_E_NOT_INIT) {
        pthread_mutex_lock(&hc_dl_mu);
        c = hc_dl_state();
        if (c == HC_E_NOT_INIT)
            c = hc_dl_load_locked(path, errbuf, errbuf_len);
        pthread_mutex_unlock(&hc_dl_mu);
    }
    if (c == HC_OK)
        *api = &hc_dl_table;
    return c;
}
