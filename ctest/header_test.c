/*
 * header_test.c - uses every declaration of include/hc.h. Compiled as C99 and as C++
 * with every warning an error (see the Makefile), then run: before hc_init every call
 * must answer at once with its documented "not initialised" result.
 */
#include <stdio.h>
#include <string.h>

#include "hc.h"

int main(void)
{
    int bad = 0;
    hc_code code = HC_OK;
    const char *s = hc_strerror(code);
    const hc_version_info_t *v = hc_version_info();
    char err[HC_ERROR_SIZE];
    char *json = NULL;
    size_t json_len = 0;
    hc_counters counters;
    hc_result *r = NULL;

    bad |= s == NULL || strcmp(hc_strerror(HC_LAST), "Unknown hc_code") != 0;
    bad |= v->version_num != HC_VERSION_NUM || strcmp(v->version, HC_VERSION_STR) != 0;
    bad |= hc_listcon(&json, &json_len) != HC_E_NOT_INIT;
    bad |= hc_get_counters(&counters) != HC_E_NOT_INIT;
    bad |= hc_http_connect("c", "/x", NULL, "d", 1, &r) != -1 || r == NULL || r->code != HC_E_NOT_INIT;
    hc_result_free(r);
    bad |= hc_query("http://127.0.0.1:9/", NULL, NULL, &r) != -1;
    hc_result_free(r);
    bad |= hc_client_get("http://127.0.0.1:9/", NULL, NULL, &r) != -1;
    hc_result_free(r);
    bad |= hc_request("PUT", "http://127.0.0.1:9/", "b", "X-A: 1", &r) != -1;
    hc_result_free(r);
    bad |= hc_get_redirect("c", NULL) != -1;
    bad |= hc_query_c("http://127.0.0.1:9/", "a=1", "application/json", NULL, NULL) != -1;
    bad |= hc_get_content_type("c", NULL) != -1;
    bad |= strcmp(hc_curlerror(7), "Couldn't connect to server") != 0;
    hc_free(json);
    hc_request_id id = 0;
    hc_background_result *br = NULL;
    int fd = -1;
    hc_outcome outcome = HC_COMPLETED;
    hc_timings timings = {0, 0, 0, 0, 0};
    bad |= hc_background_submit("p", "http://127.0.0.1:9/", "{}", "b", 1, &id, err, sizeof err) != HC_E_NOT_INIT;
    bad |= hc_background_poll(0, &br) != HC_E_NOT_INIT;
    bad |= hc_background_fd(&fd) != HC_E_NOT_INIT;
    bad |= hc_background_cancel(id) != HC_E_NOT_INIT;
    bad |= hc_shutdown(0) != HC_E_NOT_INIT;
    bad |= outcome != HC_COMPLETED || HC_CANCELLED == HC_SHUT_DOWN || timings.total != 0;
    hc_background_result_free(br);
    bad |= hc_init("# no settings\n", err, sizeof err) != HC_OK;
    bad |= hc_init("", err, sizeof err) != HC_E_ALREADY_INIT;
    printf("header_test (%s, %s): %s\n",
#ifdef __cplusplus
           "C++",
#else
           "C",
#endif
           v->go_version, bad ? "FAILED" : "ok");
    return bad;
}
