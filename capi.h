/*
 * capi.h - private declarations shared by capi.c and the Go files of the cgo package.
 * Nothing here is public: the linker version script hides every name but hc_*.
 */
#ifndef HC_CAPI_H
#define HC_CAPI_H

#include <stddef.h>
#include "hc.h"

/* hc__body_alloc returns len bytes (plus a NUL's room) for a response body inside a future
 * result block, so that the engine reads the body in place; NULL when out of memory. The
 * body is passed to hc__result_new or hc__background_result_new with in_place set (which
 * consume it), or released with hc__body_free. */
char *hc__body_alloc(size_t len);
void hc__body_free(char *body);

/* hc__curl_texts[code + 1] is hc_curlerror's text for code -1..100, made once by the Go
 * side at load and never freed. A C global holds them so that leak checkers, which do
 * not scan Go's heap, see that they are still referenced. */
#define HC__CURL_TEXTS 102
extern const char *hc__curl_texts[HC__CURL_TEXTS];

/* hc__result_new builds a result as one malloc'd block (the struct, then each string with a
 * trailing NUL), so that hc_result_free is a single free(). Pointers may be NULL when the
 * matching length is 0. body_in_place: body is from hc__body_alloc and becomes part of the
 * result without a copy (consumed even on failure). Returns NULL only when malloc fails. */
hc_result *hc__result_new(int ret, int code, int status, int curl_code, int body_kept,
                          const char *body, size_t body_len, int body_in_place,
                          const char *content_type, size_t content_type_len,
                          const char *effective_url, size_t effective_url_len,
                          const char *headers, size_t headers_len,
                          const char *http_version, size_t http_version_len,
                          const char *error, size_t error_len);

/* hc__background_result_new builds a background result as one malloc'd block, like
 * hc__result_new. The timings come by value: a Go array passed by pointer would be
 * allocated on Go's heap for every result. */
hc_background_result *hc__background_result_new(uint64_t id, int outcome, int status,
                                                const char *content, size_t content_len,
                                                int content_in_place, int curl_code, const char *error, size_t error_len,
                                                const char *detail, size_t detail_len,
                                                const char *headers, size_t headers_len,
                                                const char *url, size_t url_len,
                                                const char *version, size_t version_len,
                                                hc_timings timings);

/* hc__other_go_runtime reports whether another Go runtime is loaded in this process, and
 * writes the object's file name into name (NUL-terminated, truncated to len). */
int hc__other_go_runtime(char *name, size_t len);

/* hc__copy_text copies text (text_len bytes) into buf of buf_len bytes, truncating and
 * always NUL-terminating when buf_len > 0. Returns 1 if it had to truncate. */
int hc__copy_text(char *buf, size_t buf_len, const char *text, size_t text_len);

#endif
