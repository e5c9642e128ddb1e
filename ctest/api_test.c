/*
 * api_test.c - the C ABI end to end, linked against build/libhc.so: argument checking
 * (NULL, empty, 1 MiB, invalid UTF-8) on every function, init rules, listcon and
 * counters, and real requests against a small HTTP/1.1 server that runs in this process
 * on 127.0.0.1, including 32 host threads sharing one kept connection. Everything that is
 * allocated is freed, so that valgrind can report any leak as definite.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hc.h"
#include "testserver.h"

/* ---- Tests ---------------------------------------------------------------------------- */

static char *big_string(size_t n, char fill)
{
    char *s = malloc(n + 1);
    memset(s, fill, n);
    s[n] = '\0';
    return s;
}

static void test_before_init(void)
{
    char *json = NULL;
    hc_counters c;
    hc_result *r = NULL;
    CHECK(hc_listcon(&json, NULL) == HC_E_NOT_INIT, "listcon before init");
    CHECK(hc_get_counters(&c) == HC_E_NOT_INIT, "counters before init");
    CHECK(hc_query("http://127.0.0.1:1/", NULL, NULL, &r) == -1, "query before init");
    CHECK(r != NULL && r->code == HC_E_NOT_INIT && r->error[0] != '\0', "result explains");
    hc_result_free(r);
    CHECK(strcmp(hc_strerror(HC_E_FORKED), "Called in a forked child: load libhc after fork()") == 0, "strerror");
    CHECK(strcmp(hc_strerror((hc_code)-5), "Unknown hc_code") == 0, "strerror negative");
    CHECK(strcmp(hc_curlerror(-1), "Bad CURL error code") == 0, "curlerror -1");
    CHECK(strcmp(hc_curlerror(0), "No error") == 0, "curlerror 0");
    CHECK(strcmp(hc_curlerror(28), "Timeout was reached") == 0, "curlerror 28");
    CHECK(strcmp(hc_curlerror(404), "HTTP result code") == 0, "curlerror 404");
    CHECK(strcmp(hc_curlerror(100000), "HTTP result code") == 0, "curlerror big");
}

static void test_init_errors(void)
{
    char err[HC_ERROR_SIZE], tiny[8];
    char *huge = big_string(1 << 20, 'x');
    CHECK(hc_init("nosuchsetting = 1\n", err, sizeof err) == HC_E_CONFIG, "unknown setting");
    CHECK(strstr(err, "line 1") != NULL, "message names the line: %s", err);
    CHECK(hc_init("httpcon = c1 = > http://x/\n", err, sizeof err) == HC_E_CONFIG, "bad httpcon");
    CHECK(hc_init("httpcon = c1=>http://x/\n", NULL, 4) == HC_E_INVALID, "NULL errbuf with a length");
    CHECK(hc_init("connection_timeout = abc", NULL, 0) == HC_E_CONFIG, "NULL errbuf, no length");
    CHECK(hc_init("connection_timeout = abc", tiny, sizeof tiny) == HC_E_CONFIG, "tiny buffer");
    CHECK(strlen(tiny) == sizeof tiny - 1, "truncated and terminated: %s", tiny);
    CHECK(hc_init(huge, err, sizeof err) == HC_E_CONFIG, "1 MiB of garbage");
    CHECK(hc_init("useragent = \xff\xfe\nconnection_timeout = \xc3\x28\n", err, sizeof err) == HC_E_CONFIG,
          "invalid UTF-8: %s", err);
    CHECK(hc_init("httpcon = \xc3\x28=>ftp\n", err, sizeof err) == HC_E_CONFIG, "invalid UTF-8 httpcon");
    free(huge);
}

static void test_init_ok(void)
{
    char settings[1024], err[HC_ERROR_SIZE];
    snprintf(settings, sizeof settings,
             "# the test's connections\n"
             "keep_connections = 1\n"
             "httpcon = c1=>http://127.0.0.1:%d\n"
             "httpcon = secret=>http://user:pa55word@127.0.0.1:%d/api\n"
             "httpcon = dead=>http://127.0.0.1:1;failover=c1\n"
             "httpcon = refused=>http://127.0.0.1:1\n",
             test_server_port, test_server_port);
    hc_code c = hc_init(settings, err, sizeof err);
    CHECK(c == HC_OK, "hc_init: %s (%s)", hc_strerror(c), err);
    CHECK(hc_init(settings, err, sizeof err) == HC_E_ALREADY_INIT, "second hc_init");
}

static void test_listcon_counters(void)
{
    char *json = NULL;
    size_t len = 0;
    hc_counters c;
    CHECK(hc_listcon(NULL, &len) == HC_E_INVALID, "listcon NULL");
    CHECK(hc_listcon(&json, &len) == HC_OK && json != NULL, "listcon");
    if (json != NULL) {
        CHECK(strlen(json) == len, "length");
        CHECK(strstr(json, "\"c1\"") && strstr(json, "\"secret\""), "names: %s", json);
        CHECK(strstr(json, "pa55word") == NULL, "password masked: %s", json);
    }
    hc_free(json);
    CHECK(hc_get_counters(NULL) == HC_E_INVALID, "counters NULL");
    CHECK(hc_get_counters(&c) == HC_OK && c.connections == 4, "connections = %llu",
          (unsigned long long)c.connections);
}

static void test_bad_arguments(void)
{
    hc_result *r = NULL;
    char *huge = big_string(1 << 20, 'a');
    const char *bad_utf8 = "/\xff\xfe\xc3\x28";
    memcpy(huge, "http://127.0.0.1:1/", 19);

    CHECK(hc_http_connect(NULL, "/x", NULL, NULL, 0, &r) == -1 && r->code == HC_E_INVALID, "NULL con");
    hc_result_free(r);
    CHECK(hc_http_connect("c1", "/x", NULL, NULL, 5, &r) == -1 && r->code == HC_E_INVALID, "NULL data, len 5");
    hc_result_free(r);
    CHECK(hc_http_connect("nope", "/x", NULL, NULL, 0, &r) == -1 && r->code == HC_E_NOT_FOUND, "unknown con");
    hc_result_free(r);
    CHECK(hc_http_connect("", "", "", "", 0, NULL) == -1, "empty everything");
    CHECK(hc_http_connect("c1", bad_utf8, bad_utf8, bad_utf8, 4, &r) != 0, "invalid UTF-8");
    hc_result_free(r);
    CHECK(hc_http_connect("refused", huge + 19, NULL, huge, 1 << 20, &r) > 0, "1 MiB url and body");
    hc_result_free(r);
    CHECK(hc_http_connect(huge, NULL, NULL, NULL, 0, &r) == -1, "1 MiB con name");
    hc_result_free(r);

    CHECK(hc_query(NULL, NULL, NULL, &r) == -1, "NULL url");
    hc_result_free(r);
    CHECK(hc_query("", NULL, NULL, &r) == -1, "empty url");
    hc_result_free(r);
    CHECK(hc_query(huge, huge, huge, &r) > 0, "1 MiB url/post/hdrs: %d", r ? r->ret : 0);
    hc_result_free(r);
    CHECK(hc_query(bad_utf8, bad_utf8, bad_utf8, &r) != 0, "invalid UTF-8");
    hc_result_free(r);

    CHECK(hc_client_get(NULL, NULL, NULL, &r) == -1, "client_get NULL url");
    hc_result_free(r);
    CHECK(hc_client_get(huge, huge, NULL, NULL) > 0, "client_get 1 MiB");

    CHECK(hc_request(NULL, "http://127.0.0.1:1/", NULL, NULL, &r) == -1 && r->code == HC_E_INVALID, "NULL method");
    hc_result_free(r);
    CHECK(hc_request("", "http://127.0.0.1:1/", NULL, NULL, &r) == -1, "empty method");
    hc_result_free(r);
    CHECK(hc_request("PUT", NULL, NULL, NULL, &r) == -1, "NULL url");
    hc_result_free(r);
    CHECK(hc_request(bad_utf8, huge, huge, bad_utf8, &r) != 0, "garbage method");
    hc_result_free(r);

    CHECK(hc_get_redirect(NULL, &r) == -1 && r->code == HC_E_INVALID, "redirect NULL");
    hc_result_free(r);
    CHECK(hc_get_redirect(huge, &r) == -1 && r->code == HC_E_NOT_FOUND, "redirect unknown");
    hc_result_free(r);
    hc_free(NULL);
    hc_result_free(NULL);
    free(huge);
}

static void test_requests(void)
{
    hc_result *r = NULL;
    hc_counters before, after;
    char url[128];
    hc_get_counters(&before);

    CHECK(hc_http_connect("c1", "/hello", NULL, NULL, 0, &r) == 200, "GET");
    if (r != NULL) {
        CHECK(r->status == 200 && r->code == HC_OK && r->body_kept == 1, "status fields");
        CHECK(r->body_len == 11 && memcmp(r->body, "hello\nworld", 11) == 0 && r->body[11] == 0, "body");
        CHECK(strcmp(r->content_type, "text/plain") == 0, "content type %s", r->content_type);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", test_server_port);
        CHECK(strcmp(r->effective_url, url) == 0, "effective url %s", r->effective_url);
        CHECK(strstr(r->headers, "Content-Length: 11\r\n") != NULL, "headers %s", r->headers);
        CHECK(strcmp(r->http_version, "HTTP/1.1") == 0, "version %s", r->http_version);
        CHECK(r->error[0] == '\0', "no error: %s", r->error);
    }
    hc_result_free(r);

    CHECK(hc_http_connect("c1", "echo", "application/json", "ab\0cd", 5, &r) == 200, "POST");
    CHECK(r && r->body_len == 2 && memcmp(r->body, "ab", 2) == 0, "body cut at NUL as in Kamailio");
    hc_result_free(r);

    CHECK(hc_http_connect("c1", "/fail", NULL, NULL, 0, &r) == 500, "500");
    CHECK(r && r->body_kept == 0 && r->status == 500, "5xx body not kept");
    hc_result_free(r);

    CHECK(hc_http_connect("refused", "/x", NULL, NULL, 0, &r) == 7, "refused");
    CHECK(r && r->code == HC_E_TRANSFER && r->curl_code == 7 && r->error[0], "transfer error");
    hc_result_free(r);

    CHECK(hc_http_connect("dead", "/hello", NULL, NULL, 0, &r) == 200, "failover");
    hc_result_free(r);

    /* the failover's attempt ran on c1 last, so c1 remembers its URL */
    CHECK(hc_get_redirect("c1", &r) == 1 && r->code == HC_OK, "redirect");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", test_server_port);
    CHECK(r && strcmp(r->body, url) == 0, "last effective url %s", r ? r->body : "");
    hc_result_free(r);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/q", test_server_port);
    CHECK(hc_query(url, NULL, NULL, &r) == 200, "query");
    CHECK(r && r->body_len == 5 && memcmp(r->body, "hello", 5) == 0, "first line");
    hc_result_free(r);
    CHECK(hc_request("PUT", url, "x", "X-A: 1\r\nX-B: 2", NULL) == 200, "PUT");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", test_server_port);
    CHECK(hc_query_c(url, "{}", "application/json", NULL, &r) == 200, "query_c");
    CHECK(r && r->body_len == 2 && memcmp(r->body, "{}", 2) == 0, "query_c body");
    hc_result_free(r);
    CHECK(hc_get_content_type("c1", &r) == 1 && strcmp(r->body, "text/plain") == 0, "content type of c1: %s",
          r ? r->body : "");
    hc_result_free(r);
    CHECK(hc_get_content_type("nope", &r) == -1 && r->code == HC_E_NOT_FOUND, "unknown connection");
    hc_result_free(r);
    CHECK(hc_get_content_type(NULL, &r) == -1 && r->code == HC_E_INVALID, "NULL connection");
    hc_result_free(r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/q", test_server_port);
    CHECK(hc_client_get(url, "a=1", "", NULL) == 200, "GET with body");

    hc_get_counters(&after);
    CHECK(after.connok - before.connok == 7, "connok +%llu", (unsigned long long)(after.connok - before.connok));
    CHECK(after.connfail - before.connfail == 3, "connfail +%llu",
          (unsigned long long)(after.connfail - before.connfail));
}

enum { THREADS = 32, PER_THREAD = 20 };

static void *hammer(void *arg)
{
    int *ok = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        hc_result *r = NULL;
        int ret = hc_http_connect("c1", i % 2 ? "/big" : "/echo", "text/plain", "payload", 7, &r);
        if (ret == 200 && r != NULL && (i % 2 ? r->body_len == 100000 : r->body_len == 7))
            (*ok)++;
        hc_result_free(r);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    int ok[THREADS] = {0}, total = 0;
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, &ok[i]);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += ok[i];
    }
    CHECK(total == THREADS * PER_THREAD, "%d of %d concurrent requests ok", total, THREADS * PER_THREAD);
}

int main(void)
{
    test_server_start();
    test_before_init();
    test_init_errors();
    test_init_ok();
    test_listcon_counters();
    test_bad_arguments();
    test_requests();
    test_threads();
    return check_done("api_test");
}
