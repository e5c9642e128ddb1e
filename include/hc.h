/*
 * hc.h - the public C API of libhc, an HTTP client engine written in Go.
 *
 * libhc replaces libcurl inside native servers (Kamailio modules, MTA plugins, C daemons,
 * Python programs). Its synchronous calls reproduce Kamailio's http_client module
 * (5.6.3 on libcurl 7.88.1): same settings, same return codes, same requests on the wire.
 *
 * Rules every host must follow (see README.md, "The fork rule" and "One Go runtime"):
 *   - Load libhc (and call hc_init) only in a process that will not fork() and keep using
 *     it. In a child forked after the library was loaded every hc_* call returns
 *     HC_E_FORKED (or -1 with result->code == HC_E_FORKED) at once, without entering Go.
 *     Hosts that fork after loading their modules use bindings/c/hc_dl.h to load libhc
 *     in the child instead.
 *   - One Go runtime per process: do not load another Go c-shared library beside libhc.
 *   - libhc can never be unloaded (it is linked with -z nodelete); dlclose() is a no-op.
 *   - Never call hc_* from a signal handler. Install signal handlers with SA_ONSTACK,
 *     before loading libhc. SIGURG belongs to the Go runtime.
 *
 * Memory: everything libhc returns is C heap memory owned by the caller and released with
 * hc_free() or hc_result_free(); never with the host's own free() from another C runtime.
 * Every input is copied before the call returns: the caller may reuse its buffers at once.
 *
 * Threads: every function may be called from any thread, concurrently, unless its comment
 * says otherwise. Functions documented as "blocks" hold the calling thread for the
 * network exchange, bounded by the configured timeouts.
 */
#ifndef HC_H
#define HC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. Compare with hc_version_info()->version_num at run time
 * to detect a header/library mismatch. */
#define HC_VERSION_MAJOR 0
#define HC_VERSION_MINOR 1
#define HC_VERSION_PATCH 0
#define HC_VERSION_NUM ((HC_VERSION_MAJOR << 16) | (HC_VERSION_MINOR << 8) | HC_VERSION_PATCH)
#define HC_VERSION_STR "0.1.0"

/* A caller buffer of this size always holds a complete hc error message. */
#define HC_ERROR_SIZE 256

/* Result codes of the API itself. Numbers are append-only and never change meaning; a
 * retired code stays as a placeholder. HC_LAST is a sentinel, never returned. */
typedef enum hc_code {
    HC_OK = 0,
    HC_E_INVALID = 1,       /* a NULL pointer, empty required string or bad value */
    HC_E_CONFIG = 2,        /* hc_init refused the settings or the config_file */
    HC_E_FORKED = 3,        /* called in a process forked after libhc was loaded */
    HC_E_NOT_INIT = 4,      /* hc_init has not succeeded in this process */
    HC_E_ALREADY_INIT = 5,  /* hc_init already succeeded in this process */
    HC_E_INTERNAL = 6,      /* a bug inside libhc was caught; the message says where */
    HC_E_RANGE = 7,         /* a caller buffer was too small; the text was truncated */
    HC_E_NOMEM = 8,         /* memory allocation failed */
    HC_E_BAD_HANDLE = 9,    /* an unknown or stale handle */
    HC_E_NOT_FOUND = 10,    /* an unknown connection name */
    HC_E_QUEUE_FULL = 11,   /* a background queue is full; try again later */
    HC_E_SHUTDOWN = 12,     /* the library is shutting down */
    HC_E_MULTI_RUNTIME = 13,/* another Go runtime is loaded in this process */
    HC_E_TOO_LARGE = 14,    /* an argument exceeds a documented size limit */
    HC_E_TRANSFER = 15,     /* the transfer failed; curl_code says how */
    HC_E_HTTP = 16,         /* a response arrived; status says which */
    HC_E_AGAIN = 17,        /* no background result is ready yet */
    HC_LAST
} hc_code;

/* The result of one synchronous call. Allocated by libhc as a single block, read-only for
 * the caller, released with hc_result_free(). Fields may be appended in later versions;
 * existing fields never move. All strings are NUL-terminated and never NULL. */
typedef struct hc_result {
    int ret;                   /* the call's return value, repeated (see hc_http_connect) */
    hc_code code;              /* HC_OK when ret is an HTTP status (or hc_get_redirect's 1);
                                  HC_E_TRANSFER when ret is a curl code (1..99);
                                  the reason (HC_E_NOT_FOUND, HC_E_FORKED, ...) when -1 */
    int status;                /* final HTTP status, 0 when no response arrived */
    int curl_code;             /* libcurl-compatible error code (CURLcode), 0 if none */
    int body_kept;             /* 1 when the body counts as the call's result (Kamailio
                                  stores bodies of 2xx-4xx responses only), else 0 */
    const char *body;          /* the result bytes (binary; an extra NUL follows them) */
    size_t body_len;
    const char *content_type;  /* the response's Content-Type, "" if none */
    const char *effective_url; /* the last URL requested (after redirects), "" if none */
    const char *headers;       /* the final response's header lines, "Name: value\r\n"... */
    size_t headers_len;
    const char *http_version;  /* "HTTP/1.1", "HTTP/2" or "" */
    const char *error;         /* a human-readable reason when ret is not an HTTP status;
                                  "" otherwise. Never contains a password. */
} hc_result;

/* Kamailio's httpclient counters. */
typedef struct hc_counters {
    uint64_t connections; /* connections defined by httpcon settings (not config_file) */
    uint64_t connok;      /* transfers that ended with HTTP status 200 */
    uint64_t connfail;    /* transfers that ended with a curl error or any other status */
} hc_counters;

/* What hc_version_info() describes: the library that is actually loaded. */
typedef struct hc_version_info_t {
    int version_num;           /* HC_VERSION_NUM of the library */
    const char *version;       /* "MAJOR.MINOR.PATCH" */
    const char *go_version;    /* the Go toolchain the library was built with */
    const char *curl_compat;   /* the libcurl version whose behaviour is reproduced */
} hc_version_info_t;

/* ---- Library ---------------------------------------------------------------------- */

/* hc_strerror returns a static, English description of code ("Unknown hc_code" for a
 * value outside the enum). Never NULL; never free it. Does not enter Go, so it also
 * works in a forked child. Any thread. */
const char *hc_strerror(hc_code code);

/* hc_version_info returns a static description of the loaded library. Never NULL; never
 * free it. Does not enter Go. Any thread. */
const hc_version_info_t *hc_version_info(void);

/* hc_init configures the library for this process; call it once, before any request.
 *
 * settings is one text with one "name = value" item per line (split at the first '=';
 * blank lines and lines starting with '#' are ignored), applied in order. Names are
 * Kamailio http_client's modparams (httpredirect, useragent, maxdatasize,
 * connection_timeout, client_cert, client_key, cacert, cipher_suites, verify_peer,
 * verify_host, tlsversion, authmethod, httpproxy, httpproxyport, keep_connections,
 * query_result, query_maxdatasize, netinterface, httpcon (repeatable), config_file) with
 * Kamailio's order rule: an httpcon copies the values set before it; config_file
 * connections take the final values. Library settings: crash_log (a file that receives
 * Go's fatal error report), gomaxprocs (default 2), memory_limit (bytes, default none),
 * max_body_size (the most bytes kept of one response body, default 64 MiB; beyond it the
 * transfer fails with curl code 23; 0 = no limit), proxy_from_environment (0/1, default
 * 0), background_loop (0/1, default 1: plain-HTTP background requests run on an event
 * loop driven by hc_background_poll's caller; 0: a goroutine each), pool (a JSON object,
 * repeatable; reserved for background pools). settings may be
 * NULL or "" for all defaults.
 *
 * On failure a message naming the line or config_file key and the reason is written to
 * errbuf (at most errbuf_len bytes, always NUL-terminated; errbuf may be NULL if
 * errbuf_len is 0). HC_ERROR_SIZE bytes are always enough.
 *
 * Returns HC_OK; HC_E_CONFIG for settings Kamailio 5.6.3 would refuse to start with;
 * HC_E_ALREADY_INIT if a previous hc_init succeeded (a new configuration means a new
 * process); HC_E_MULTI_RUNTIME if another Go runtime is loaded; HC_E_FORKED in a forked
 * child; HC_E_INVALID for invalid arguments. Reads config_file; does not block on the
 * network. Grows the process's descriptor table to hold the sockets the pools and kept
 * connections may open at once: in a threaded process each growth waits for the kernel
 * (about 15 ms), and this moves that wait from the first requests to hc_init. Any
 * thread, but only one call can succeed. */
hc_code hc_init(const char *settings, char *errbuf, size_t errbuf_len);

/* hc_listcon returns every defined connection with its effective parameters as a JSON
 * object {"connections": [...]}, in Kamailio's httpclient.listcon order, with passwords
 * masked. *json receives a NUL-terminated C string the caller releases with hc_free();
 * *json_len (if json_len is not NULL) its length.
 * Returns HC_OK, HC_E_INVALID (json is NULL), HC_E_NOT_INIT, HC_E_FORKED. Never blocks.
 * Any thread. */
hc_code hc_listcon(char **json, size_t *json_len);

/* hc_get_counters copies Kamailio's counters (connections, connok, connfail) into *out.
 * Returns HC_OK, HC_E_INVALID (out is NULL), HC_E_NOT_INIT, HC_E_FORKED. Never blocks.
 * Any thread. */
hc_code hc_get_counters(hc_counters *out);

/* hc_free releases memory returned by libhc (hc_listcon's text). NULL is ignored. Does
 * not enter Go, so it also works in a forked child. Any thread. */
void hc_free(void *ptr);

/* hc_result_free releases a result returned by a request function. NULL is ignored. Does
 * not enter Go, so it also works in a forked child. Any thread. */
void hc_result_free(hc_result *result);

/* ---- Synchronous requests (Kamailio http_client) ------------------------------------
 *
 * Every request function returns Kamailio's contract:
 *   >= 100  the final HTTP status (whatever it is: 200, 302, 404, 503, ...);
 *   1..99   a libcurl error code for a transport failure (7 refused, 28 timeout, ...;
 *           hc_curlerror() gives the text);
 *   -1      no transfer: unknown connection or failover target, empty URL, invalid
 *           argument, library not initialised, forked child (result->code says which).
 * If result is not NULL, *result receives a new hc_result (also on failure) that the
 * caller releases with hc_result_free(); pass NULL to discard it.
 * They block the calling thread for the exchange, bounded by the connection's total
 * timeout (connection_timeout / timeout; 0 means none). Any thread; many threads may use
 * the same connection at once. */

/* hc_http_connect is Kamailio's http_connect on the named connection con: the URL is the
 * connection's base plus url (a '/' is inserted only when url does not start with one;
 * url may be NULL or "" for the base itself). A GET when data_len is 0, else a POST of
 * data (up to its first NUL byte, as Kamailio does) with Content-Type content_type
 * (NULL means "text/plain"; "" sends no Content-Type). */
int hc_http_connect(const char *con, const char *url, const char *content_type,
                    const char *data, size_t data_len, hc_result **result);

/* hc_query is Kamailio's http_client_query: a GET of url, or a POST of post when it is
 * not empty (Content-Type application/x-www-form-urlencoded unless hdrs sets one). hdrs
 * may hold several "Name: value" lines separated by CRLF; a single line without ':' is
 * dropped (as curl does). A bare CR or LF, an empty line or a line that is no header field
 * in hdrs, or a CR/LF in a method or content type, is refused with -1 and nothing is sent
 * (no header injection, in every request function); a URL with one fails with 3. With
 * the query_result setting at 1 (the default) the result is the body's first line.
 * post and hdrs may be NULL. */
int hc_query(const char *url, const char *post, const char *hdrs, hc_result **result);

/* hc_query_c is the http_client_query_c of Kamailio's C API for other modules: hc_query,
 * plus "Content-Type: content_type" when post is not empty and content_type is not NULL.
 * A Content-Type line in hdrs is sent as well (both go out, as in Kamailio). */
int hc_query_c(const char *url, const char *post, const char *content_type, const char *hdrs,
               hc_result **result);

/* hc_client_get is Kamailio's http_client_get: a GET of url that carries body (if not
 * empty) with a form Content-Type, plus hdrs. body and hdrs may be NULL. */
int hc_client_get(const char *url, const char *body, const char *hdrs, hc_result **result);

/* hc_request is Kamailio 6.0's http_client_request: method (e.g. "PUT", "DELETE") is sent
 * as given; body is sent only when not empty. body and hdrs may be NULL. */
int hc_request(const char *method, const char *url, const char *body, const char *hdrs,
               hc_result **result);

/* hc_get_redirect is Kamailio's http_get_redirect: result->body receives the effective
 * URL of the last successful transfer on connection con in this process (the request
 * URL when there was no redirect; "" after a failed transfer). Returns 1, or -1 for an
 * unknown connection (and the other -1 cases above). Never blocks. */
int hc_get_redirect(const char *con, hc_result **result);

/* hc_get_content_type is http_get_content_type of Kamailio's C API: result->body receives
 * the Content-Type of the last response on connection con in this process ("" when none
 * is known). Returns 1, or -1 for an unknown connection (and the other -1 cases above).
 * Never blocks. */
int hc_get_content_type(const char *con, hc_result **result);

/* hc_curlerror is Kamailio's $curlerror(code): libcurl 7.88.1's text for 0..99,
 * "HTTP result code" for code >= 100, "Bad CURL error code" for code < 0. A static
 * string; never NULL; never free it. Works before hc_init; in a forked child it returns
 * hc_strerror(HC_E_FORKED) instead. Never blocks. Any thread. */
const char *hc_curlerror(int code);

/* ---- Background requests (Halon http-background) ------------------------------------
 *
 * Requests run on named pools defined by "pool" settings ({"id", "max_total", "max_host",
 * "queue"}) and never block the submitting thread. Each accepted request produces exactly
 * one result - on a response, a transport error, a timeout, a cancel or the shutdown -
 * which the host fetches with hc_background_poll on its own thread; hc_background_fd
 * tells an event loop when to poll. */

/* An accepted background request; never 0. */
typedef uint64_t hc_request_id;

/* What ended a background request. */
typedef enum hc_outcome {
    HC_COMPLETED = 0, /* a response arrived (any status) or the transfer failed */
    HC_CANCELLED = 1, /* hc_background_cancel stopped it */
    HC_SHUT_DOWN = 2  /* hc_shutdown's grace period ran out first */
} hc_outcome;

/* Phases of a request in seconds since its submission; 0 when the phase did not happen
 * (connect and tls are 0 on a reused connection). */
typedef struct hc_timings {
    double queue;      /* waiting for the pool's max_total / max_host limits */
    double connect;    /* TCP connection established */
    double tls;        /* TLS handshake done */
    double first_byte; /* first response byte */
    double total;      /* result ready */
} hc_timings;

/* The result of a background request: Halon's {status, content} when a response arrived
 * (any HTTP status), or {error} with libcurl 7.88.1's curl_easy_strerror text. Allocated
 * as one block, read-only, released with hc_background_result_free(). Strings are
 * NUL-terminated and never NULL. Fields may be appended in later versions. */
typedef struct hc_background_result {
    hc_request_id id;          /* as returned by hc_background_submit */
    hc_outcome outcome;
    int status;                /* HTTP status; 0 when error is set */
    const char *content;       /* the body (binary; an extra NUL follows it) */
    size_t content_len;
    int curl_code;             /* libcurl-compatible code; 0 on success */
    const char *error;         /* "" on success, else e.g. "Timeout was reached" */
    const char *detail;        /* more about error, "" if nothing (never a password) */
    const char *headers;       /* the final response's header lines, "Name: value\r\n"... */
    size_t headers_len;
    const char *effective_url; /* the last URL requested (after redirects) */
    const char *http_version;  /* "HTTP/1.1", "HTTP/2" or "" */
    hc_timings timings;
} hc_background_result;

/* hc_background_submit validates a request and queues it on the named pool.
 *
 * options is a JSON object with Halon's keys (NULL or "" for none): tls_verify_peer,
 * tls_verify_host (booleans), tls_client_cert ({"x509", "privatekey", "chain"} as PEM
 * text), timeout, connect_timeout (seconds, fractions honoured), max_file_size (bytes),
 * method, proxy, sourceip, username, password, aws_sigv4 (strings), headers (array of
 * "Name: value"; "Name:" removes a default header, "Name;" sends it empty), redirects
 * (0 none, N hops, -1 unlimited), encoder ("base64", for post_file), post_file (a path)
 * and form (multipart fields). body, when not NULL, is a string body of body_len bytes
 * (binary-safe; POSTed as application/x-www-form-urlencoded unless a header says
 * otherwise); NULL means no string body. Every input is copied before the call returns.
 *
 * Returns HC_OK and the new id in *id; HC_E_NOT_FOUND for an unknown pool ("Missing ID in
 * configuration"); HC_E_INVALID for a bad argument with Halon's message in errbuf (e.g.
 * "Bad timeout value"); HC_E_QUEUE_FULL at once when the pool's queue is full;
 * HC_E_SHUTDOWN after hc_shutdown; HC_E_NOT_INIT; HC_E_FORKED. errbuf (errbuf_len bytes,
 * may be NULL when errbuf_len is 0) always receives a NUL-terminated message on failure.
 * Never blocks (a post_file is read by the transfer, not here). Any thread. */
hc_code hc_background_submit(const char *pool, const char *url, const char *options,
                             const char *body, size_t body_len, hc_request_id *id,
                             char *errbuf, size_t errbuf_len);

/* hc_background_poll fetches the next finished result, waiting up to timeout_ms for one
 * (0: never wait; negative: wait until one arrives). *result receives a result the caller
 * releases with hc_background_result_free(). Results come in completion order.
 * Returns HC_OK; HC_E_AGAIN when none arrived in time; HC_E_INVALID (result is NULL);
 * HC_E_NOT_INIT; HC_E_FORKED. Blocks only for timeout_ms. Any thread; each result is
 * returned to exactly one caller. */
hc_code hc_background_poll(int timeout_ms, hc_background_result **result);

/* hc_background_fd stores in *fd a descriptor that is readable while results are waiting
 * to be polled (level-triggered), for epoll, poll, libevent or asyncio. Poll until
 * HC_E_AGAIN after it becomes readable. Never read from it or close it. A wait on it may
 * return EINTR (the Go runtime's SIGURG can reach threads that called libhc): retry.
 * Returns HC_OK, HC_E_INVALID (fd is NULL), HC_E_NOT_INIT, HC_E_FORKED. Any thread. */
hc_code hc_background_fd(int *fd);

/* hc_background_cancel stops a request that has not finished yet: its result (outcome
 * HC_CANCELLED, curl_code 42) is queued at once. Returns HC_OK; HC_E_BAD_HANDLE for an
 * unknown id or one whose result is already queued; HC_E_NOT_INIT; HC_E_FORKED. Never
 * blocks. Any thread. */
hc_code hc_background_cancel(hc_request_id id);

/* hc_shutdown stops accepting background requests, waits up to grace_ms for the accepted
 * ones to finish, then fails the rest (outcome HC_SHUT_DOWN) and closes the pools' idle
 * connections. Every accepted request still gets its one result, which
 * hc_background_poll keeps returning afterwards. Synchronous calls are not affected.
 * Returns HC_OK, HC_E_NOT_INIT, HC_E_FORKED. Blocks for up to grace_ms plus the time the
 * stopped transfers take to unwind. Any thread. */
hc_code hc_shutdown(int grace_ms);

/* hc_background_result_free releases a background result. NULL is ignored. Does not
 * enter Go. Any thread. */
void hc_background_result_free(hc_background_result *result);

#ifdef __cplusplus
}
#endif

#endif /* HC_H */
