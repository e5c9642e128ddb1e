/*
 * capi.c - the public hc_* symbols.
 *
 * Every public function is a C function here, not a Go export, because a forked child of
 * a process in which the Go runtime has started must never enter Go: even a trivial
 * export can hang there forever (see shared/spec/go_cshared.md section 1). Each entry
 * point first checks a flag set by a pthread_atfork child handler and a byte that the
 * kernel wipes in every child (MADV_WIPEONFORK, which also catches a raw clone() that runs
 * no atfork handler; getpid() against the pid cached at load time where the kernel lacks
 * it), and only then calls the Go export hcgo_* that does the work. Functions that never
 * need Go (strerror, free, version) are answered here directly, so they also work in a
 * child.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hc.h"
#include "capi.h"
#include "_cgo_export.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18 /* Linux 4.14 */
#endif

static pid_t hc_owner_pid;
static volatile sig_atomic_t hc_forked;
/* hc_loaded_here is 1 in a page that reads as zeros in any child made by fork() or a raw
 * clone() (MADV_WIPEONFORK): the check costs a memory read where getpid() is a system
 * call on every entry (glibc no longer caches the pid). NULL where the kernel refuses the
 * advice; the check then compares getpid(). */
static volatile unsigned char *hc_loaded_here;

static void hc_atfork_child(void) { hc_forked = 1; }

__attribute__((constructor)) static void hc_guard_init(void)
{
    hc_owner_pid = getpid();
    pthread_atfork(NULL, NULL, hc_atfork_child);
    long page = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    if (madvise(p, (size_t)page, MADV_WIPEONFORK) != 0) {
        munmap(p, (size_t)page);
        return;
    }
    *(volatile unsigned char *)p = 1;
    hc_loaded_here = p;
}

/* hc_in_child reports whether this process is not the one that loaded the library. */
static int hc_in_child(void)
{
    if (hc_forked)
        return 1;
    if (hc_loaded_here != NULL)
        return *hc_loaded_here == 0;
    return getpid() != hc_owner_pid;
}

/* hc_stay_scheduled keeps Go's monitor thread (sysmon) off a host thread that calls
 * synchronous requests back to back. Between calls such a thread keeps its Go P (for a
 * cheap re-entry), and its cgo callback goroutine is never rescheduled: to sysmon that is
 * one goroutine running without a break. After 10 ms sysmon preempts it (a SIGURG to the
 * host thread), takes the P back, and then wakes every 20 us for 50 rounds before it backs
 * off again, over and over. Measured on a kept connection: about 3 500 sysmon wake-ups and
 * 115 signals per 20 000 requests, 6 % of the process's CPU samples in sysmon. So a thread
 * that has been calling without a pause lets the scheduler reschedule its goroutine once
 * every HC_RESCHEDULE_NS (one hand-off to another thread and back); the P's schedule tick
 * then moves and sysmon leaves it alone. A pause of HC_RESCHEDULE_NS or more between two
 * calls starts a new run, so a host that calls now and then never yields. */
#define HC_RESCHEDULE_NS 5000000 /* half of sysmon's 10 ms: a run of calls never reaches it */

static __thread int64_t hc_thread_entered, hc_thread_rescheduled;

static void hc_stay_scheduled(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    int64_t since_entry = now - hc_thread_entered;
    hc_thread_entered = now;
    if (since_entry >= HC_RESCHEDULE_NS) {
        hc_thread_rescheduled = now; /* a new run of calls */
        return;
    }
    if (now - hc_thread_rescheduled < HC_RESCHEDULE_NS)
        return;
    hc_thread_rescheduled = now;
    hcgo_yield();
}

static const char *const hc_code_text[] = {
    [HC_OK] = "No error",
    [HC_E_INVALID] = "Invalid argument",
    [HC_E_CONFIG] = "Configuration error",
    [HC_E_FORKED] = "Called in a forked child: load libhc after fork()",
    [HC_E_NOT_INIT] = "Library not initialised: call hc_init first",
    [HC_E_ALREADY_INIT] = "Library already initialised in this process",
    [HC_E_INTERNAL] = "Internal error",
    [HC_E_RANGE] = "Buffer too small, text truncated",
    [HC_E_NOMEM] = "Out of memory",
    [HC_E_BAD_HANDLE] = "Unknown or stale handle",
    [HC_E_NOT_FOUND] = "Connection not found",
    [HC_E_QUEUE_FULL] = "Queue full",
    [HC_E_SHUTDOWN] = "Library is shutting down",
    [HC_E_MULTI_RUNTIME] = "Another Go runtime is loaded in this process",
    [HC_E_TOO_LARGE] = "Argument too large",
    [HC_E_TRANSFER] = "Transfer failed",
    [HC_E_HTTP] = "HTTP response",
    [HC_E_AGAIN] = "No result ready yet",
};

const char *hc_strerror(hc_code code)
{
    if ((int)code < 0 || code >= HC_LAST || hc_code_text[code] == NULL)
        return "Unknown hc_code";
    return hc_code_text[code];
}

/* The Go toolchain is named at build time (the Makefile defines HC_GO_VERSION), so the
 * answer is static and never waits for the Go runtime, which starts on its own thread. */
#ifdef HC_GO_VERSION
#define HC_STRINGIFY2(x) #x
#define HC_STRINGIFY(x) HC_STRINGIFY2(x)
#define HC_GO_VERSION_STR HC_STRINGIFY(HC_GO_VERSION)
#else
#define HC_GO_VERSION_STR "unknown"
#endif

static const hc_version_info_t hc_info = {HC_VERSION_NUM, HC_VERSION_STR, HC_GO_VERSION_STR, "7.88.1"};

const hc_version_info_t *hc_version_info(void) { return &hc_info; }

void hc_free(void *ptr) { free(ptr); }

void hc_result_free(hc_result *result) { free(result); }

void hc_background_result_free(hc_background_result *result) { free(result); }

int hc__copy_text(char *buf, size_t buf_len, const char *text, size_t text_len)
{
    if (buf == NULL || buf_len == 0)
        return text_len > 0;
    size_t n = text_len < buf_len - 1 ? text_len : buf_len - 1;
    if (n > 0)
        memcpy(buf, text, n);
    buf[n] = '\0';
    return n < text_len;
}

/* A large body is read by the engine straight into a future result block (hc__body_alloc):
 * the block starts HC_BODY_HEAD bytes before the body, room for either result struct, and
 * keeps HC_BODY_SLACK bytes after it for the result's other strings. */
#define HC_BODY_HEAD 256
#define HC_BODY_SLACK 1024
_Static_assert(sizeof(hc_result) <= HC_BODY_HEAD && sizeof(hc_background_result) <= HC_BODY_HEAD,
               "HC_BODY_HEAD must hold a result struct");

char *hc__body_alloc(size_t len)
{
    char *block = malloc(HC_BODY_HEAD + len + 1 + HC_BODY_SLACK);
    return block == NULL ? NULL : block + HC_BODY_HEAD;
}

void hc__body_free(char *body)
{
    if (body != NULL)
        free(body - HC_BODY_HEAD);
}

/* hc_pack allocates one block holding a head of head_size bytes (the result struct)
 * followed by n strings, each copied from src[i] (len[i] bytes, NULL when 0) and ended by
 * a NUL; dst[i] receives each copy's address. One block, so one free() releases it all.
 * With in_place, src[0] is a body from hc__body_alloc: its block becomes the result (grown
 * if the other strings need more than the slack) and src[0] is not copied; the block is
 * consumed even when NULL is returned. */
static void *hc_pack(size_t head_size, size_t n, const char **const dst[], const char *const src[],
                     const size_t len[], int in_place)
{
    size_t total = head_size + n;
    for (size_t i = 0; i < n; i++)
        total += len[i];
    char *block, *p;
    if (in_place) {
        block = (char *)src[0] - HC_BODY_HEAD;
        total += HC_BODY_HEAD - head_size;
        if (total > HC_BODY_HEAD + len[0] + 1 + HC_BODY_SLACK) {
            char *grown = realloc(block, total);
            if (grown == NULL) {
                free(block);
                return NULL;
            }
            block = grown;
        }
        p = block + HC_BODY_HEAD;
    } else {
        block = malloc(total);
        if (block == NULL)
            return NULL;
        p = block + head_size;
    }
    for (size_t i = 0; i < n; i++) {
        *dst[i] = p;
        if (len[i] > 0 && !(in_place && i == 0))
            memcpy(p, src[i], len[i]);
        p[len[i]] = '\0';
        p += len[i] + 1;
    }
    return block;
}

hc_result *hc__result_new(int ret, int code, int status, int curl_code, int body_kept,
                          const char *body, size_t body_len, int body_in_place,
                          const char *content_type, size_t content_type_len,
                          const char *effective_url, size_t effective_url_len,
                          const char *headers, size_t headers_len,
                          const char *http_version, size_t http_version_len,
                          const char *error, size_t error_len)
{
    hc_result tmp;
    const char **const dst[] = {&tmp.body, &tmp.content_type, &tmp.effective_url, &tmp.headers,
                                &tmp.http_version, &tmp.error};
    const char *const src[] = {body, content_type, effective_url, headers, http_version, error};
    const size_t len[] = {body_len, content_type_len, effective_url_len, headers_len, http_version_len,
                          error_len};
    hc_result *r = hc_pack(sizeof *r, 6, dst, src, len, body_in_place);
    if (r == NULL)
        return NULL;
    tmp.ret = ret;
    tmp.code = (hc_code)code;
    tmp.status = status;
    tmp.curl_code = curl_code;
    tmp.body_kept = body_kept;
    tmp.body_len = body_len;
    tmp.headers_len = headers_len;
    *r = tmp;
    return r;
}

/* hc_child_code answers a call with an error buffer in a forked child, without Go. */
static hc_code hc_child_code(char *errbuf, size_t errbuf_len)
{
    const char *msg = hc_strerror(HC_E_FORKED);
    hc__copy_text(errbuf, errbuf_len, msg, strlen(msg));
    return HC_E_FORKED;
}

/* hc_child_result answers a request function in a forked child without entering Go. */
static int hc_child_result(hc_result **result)
{
    if (result != NULL) {
        const char *msg = hc_strerror(HC_E_FORKED);
        *result = hc__result_new(-1, HC_E_FORKED, 0, 0, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0,
                                 NULL, 0, msg, strlen(msg));
    }
    return -1;
}

struct hc_runtime_search {
    const void *own_base;
    char *name;
    size_t len;
    int found;
};

static int hc_runtime_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct hc_runtime_search *s = data;
    (void)size;
    if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0' ||
        (const void *)info->dlpi_addr == s->own_base)
        return 0;
    void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        return 0;
    /* Every Go c-shared or c-archive object defines this cgo entry; ours is hidden by the
     * version script, so a match is always someone else's runtime. */
    if (dlsym(h, "_cgo_wait_runtime_init_done") != NULL) {
        hc__copy_text(s->name, s->len, info->dlpi_name, strlen(info->dlpi_name));
        s->found = 1;
    }
    dlclose(h);
    return s->found;
}

int hc__other_go_runtime(char *name, size_t len)
{
    Dl_info self;
    struct hc_runtime_search s = {NULL, name, len, 0};
    if (dladdr((void *)hc_runtime_cb, &self) != 0)
        s.own_base = self.dli_fbase;
    if (dlsym(RTLD_DEFAULT, "_cgo_wait_runtime_init_done") != NULL) {
        hc__copy_text(name, len, "(global scope)", 14);
        return 1;
    }
    dl_iterate_phdr(hc_runtime_cb, &s);
    return s.found;
}

/* ---- Entry points: guard, then delegate to Go ------------------------------------- */

hc_code hc_init(const char *settings, char *errbuf, size_t errbuf_len)
{
    if (hc_in_child())
        return hc_child_code(errbuf, errbuf_len);
    if (errbuf == NULL && errbuf_len > 0)
        return HC_E_INVALID;
    return (hc_code)hcgo_init((char *)settings, errbuf, errbuf_len);
}

hc_code hc_listcon(char **json, size_t *json_len)
{
    if (hc_in_child())
        return HC_E_FORKED;
    return (hc_code)hcgo_listcon(json, json_len);
}

hc_code hc_get_counters(hc_counters *out)
{
    if (hc_in_child())
        return HC_E_FORKED;
    return (hc_code)hcgo_get_counters(out);
}

int hc_http_connect(const char *con, const char *url, const char *content_type,
                    const char *data, size_t data_len, hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_http_connect((char *)con, (char *)url, (char *)content_type, (char *)data,
                             data_len, result);
}

int hc_query(const char *url, const char *post, const char *hdrs, hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_query((char *)url, (char *)post, (char *)hdrs, result);
}

int hc_query_c(const char *url, const char *post, const char *content_type, const char *hdrs,
               hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_query_c((char *)url, (char *)post, (char *)content_type, (char *)hdrs, result);
}

int hc_get_content_type(const char *con, hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_get_content_type((char *)con, result);
}

int hc_client_get(const char *url, const char *body, const char *hdrs, hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_client_get((char *)url, (char *)body, (char *)hdrs, result);
}

int hc_request(const char *method, const char *url, const char *body, const char *hdrs,
               hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_request((char *)method, (char *)url, (char *)body, (char *)hdrs, result);
}

int hc_get_redirect(const char *con, hc_result **result)
{
    if (hc_in_child())
        return hc_child_result(result);
    hc_stay_scheduled();
    return hcgo_get_redirect((char *)con, result);
}

const char *hc__curl_texts[HC__CURL_TEXTS];

const char *hc_curlerror(int code)
{
    if (hc_in_child())
        return hc_strerror(HC_E_FORKED);
    return hcgo_curlerror(code);
}

hc_code hc_background_submit(const char *pool, const char *url, const char *options,
                             const char *body, size_t body_len, hc_request_id *id,
                             char *errbuf, size_t errbuf_len)
{
    if (hc_in_child())
        return hc_child_code(errbuf, errbuf_len);
    if (errbuf == NULL && errbuf_len > 0)
        return HC_E_INVALID;
    return (hc_code)hcgo_background_submit((char *)pool, (char *)url, (char *)options, (char *)body,
                                           body_len, id, errbuf, errbuf_len);
}

hc_code hc_background_poll(int timeout_ms, hc_background_result **result)
{
    if (hc_in_child())
        return HC_E_FORKED;
    return (hc_code)hcgo_background_poll(timeout_ms, result);
}

hc_code hc_background_fd(int *fd)
{
    if (hc_in_child())
        return HC_E_FORKED;
    return (hc_code)hcgo_background_fd(fd);
}

hc_code hc_background_cancel(hc_request_id id)
{
    if (hc_in_child())
        return HC_E_FORKED;
    return (hc_code)hcgo_background_cancel(id);
}

hc_code hc_shutdown(int grace_ms)
{
    if (hc_in_child())
        return HC_E_FORKED;
    return (hc_code)hcgo_shutdown(grace_ms);
}

hc_background_result *hc__background_result_new(uint64_t id, int outcome, int status,
                                                const char *content, size_t content_len,
                                                int content_in_place,
                                                int curl_code, const char *error, size_t error_len,
                                                const char *detail, size_t detail_len,
                                                const char *headers, size_t headers_len,
                                                const char *url, size_t url_len,
                                                const char *version, size_t version_len,
                                                hc_timings timings)
{
    hc_background_result tmp;
    const char **const dst[] = {&tmp.content, &tmp.error, &tmp.detail, &tmp.headers, &tmp.effective_url,
                                &tmp.http_version};
    const char *const src[] = {content, error, detail, headers, url, version};
    const size_t len[] = {content_len, error_len, detail_len, headers_len, url_len, version_len};
    hc_background_result *r = hc_pack(sizeof *r, 6, dst, src, len, content_in_place);
    if (r == NULL)
        return NULL;
    tmp.id = id;
    tmp.outcome = (hc_outcome)outcome;
    tmp.status = status;
    tmp.curl_code = curl_code;
    tmp.content_len = content_len;
    tmp.headers_len = headers_len;
    tmp.timings = timings;
    *r = tmp;
    return r;
}
