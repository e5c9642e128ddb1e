/*
 * hc_dl.h - load libhc at run time, in the process that will use it.
 *
 * For hosts that load their modules and then fork workers (Kamailio, Apache prefork,
 * uWSGI, ...). A Go runtime does not survive fork(): a module must not link libhc
 * (no DT_NEEDED) and must not load it before forking. This loader links nothing from
 * libhc; the host calls hc_dl_load() in each worker after the fork (for Kamailio: in
 * child_init for the ranks that make requests) and uses the returned function table.
 *
 * If the process that loaded libhc forks, the child cannot use it and cannot load it
 * again (the dead runtime stays mapped): hc_dl_load() and hc_dl_get() return
 * HC_E_FORKED there at once, and every function in the table does too. Never an
 * implicit load: a process that did not call hc_dl_load() gets HC_E_NOT_INIT.
 *
 * The library is loaded with RTLD_NODELETE and never closed.
 * Both functions are thread-safe.
 */
#ifndef HC_DL_H
#define HC_DL_H

#include "hc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The public API of include/hc.h as a table of function pointers. */
typedef struct hc_api {
    const char *(*strerror)(hc_code code);
    const hc_version_info_t *(*version_info)(void);
    hc_code (*init)(const char *settings, char *errbuf, size_t errbuf_len);
    hc_code (*listcon)(char **json, size_t *json_len);
    hc_code (*get_counters)(hc_counters *out);
    void (*free)(void *ptr);
    void (*result_free)(hc_result *result);
    int (*http_connect)(const char *con, const char *url, const char *content_type,
                        const char *data, size_t data_len, hc_result **result);
    int (*query)(const char *url, const char *post, const char *hdrs, hc_result **result);
    int (*client_get)(const char *url, const char *body, const char *hdrs, hc_result **result);
    int (*request)(const char *method, const char *url, const char *body, const char *hdrs,
                   hc_result **result);
    int (*get_redirect)(const char *con, hc_result **result);
    int (*query_c)(const char *url, const char *post, const char *content_type, const char *hdrs,
                   hc_result **result);
    int (*get_content_type)(const char *con, hc_result **result);
    const char *(*curlerror)(int code);
    hc_code (*background_submit)(const char *pool, const char *url, const char *options,
                                 const char *body, size_t body_len, hc_request_id *id,
                                 char *errbuf, size_t errbuf_len);
    hc_code (*background_poll)(int timeout_ms, hc_background_result **result);
    hc_code (*background_fd)(int *fd);
    hc_code (*background_cancel)(hc_request_id id);
    hc_code (*shutdown)(int grace_ms);
    void (*background_result_free)(hc_background_result *result);
} hc_api;

/* hc_dl_load loads libhc from path (NULL means "libhc.so" from the library search path)
 * into the calling process and stores its function table in *api. Loading again in the
 * same process returns the same table. On failure a reason is written to errbuf (at most
 * errbuf_len bytes, NUL-terminated; may be NULL when errbuf_len is 0).
 * Returns HC_OK; HC_E_FORKED in a child of the process that loaded it; HC_E_INVALID if
 * api is NULL; HC_E_NOT_FOUND if dlopen fails or a symbol is missing; HC_E_CONFIG if the
 * library's major version differs from this header's. Blocks for the dlopen (a few ms). */
hc_code hc_dl_load(const char *path, const hc_api **api, char *errbuf, size_t errbuf_len);

/* hc_dl_get stores the table loaded by this process in *api. Returns HC_OK,
 * HC_E_NOT_INIT if this process never called hc_dl_load, HC_E_FORKED if the library was
 * loaded by a parent of this process, HC_E_INVALID if api is NULL. Never blocks. */
hc_code hc_dl_get(const hc_api **api);

#ifdef __cplusplus
}
#endif

#endif /* HC_DL_H */
