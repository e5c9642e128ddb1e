/*
 * demo.c - libhc from C: one hc_init with Kamailio http_client settings, then
 * hc_http_connect (GET and POST on a named, kept connection), hc_query, a timeout and a
 * refused connection, and the counters. `make demo` runs it against a local server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"

/* print_cost shows what the Go runtime costs this process (VmRSS, threads). */
static void print_cost(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0 || strncmp(line, "Threads:", 8) == 0)
            printf("%s", line);
    if (f != NULL)
        fclose(f);
}

static void show(const char *what, int ret, const hc_result *r)
{
    printf("\n== %s\nreturn %d", what, ret);
    if (ret >= 100)
        printf(" (%s, %s)\n", r->http_version, r->content_type);
    else /* r->error starts with hc_curlerror(ret) for a transfer error */
        printf(" (%s)\n", r->error);
    if (r->body_kept)
        printf("%.*s%s", (int)r->body_len, r->body,
               r->body_len && r->body[r->body_len - 1] == '\n' ? "" : "\n");
}

int main(int argc, char **argv)
{
    const char *port = argc > 1 ? argv[1] : "8080";
    char settings[1024], err[HC_ERROR_SIZE];
    snprintf(settings, sizeof settings,
             "useragent = hc-demo/1.0\n"
             "keep_connections = 1\n"
             "httpcon = api=>http://127.0.0.1:%s\n"
             "httpcon = slow=>http://127.0.0.1:%s;timeout=1\n"
             "httpcon = down=>http://127.0.0.1:1;failover=api\n",
             port, port);
    hc_code code = hc_init(settings, err, sizeof err);
    if (code != HC_OK) {
        fprintf(stderr, "hc_init: %s: %s\n", hc_strerror(code), err);
        return 1;
    }
    printf("libhc %s (%s), behaving like libcurl %s\n", hc_version_info()->version,
           hc_version_info()->go_version, hc_version_info()->curl_compat);

    hc_result *r = NULL;
    int ret = hc_http_connect("api", "/hello", NULL, NULL, 0, &r);
    show("hc_http_connect(\"api\", \"/hello\")", ret, r);
    hc_result_free(r);

    const char *json = "{\"caller\": \"sip:alice@example.com\"}";
    ret = hc_http_connect("api", "/echo", "application/json", json, 35, &r);
    show("hc_http_connect(\"api\", \"/echo\", \"application/json\", <json>)", ret, r);
    hc_result_free(r);

    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%s/hello", port);
    ret = hc_query(url, NULL, NULL, &r);
    show("hc_query(url) - the first line only, as http_client_query", ret, r);
    hc_result_free(r);

    ret = hc_http_connect("slow", "/slow", NULL, NULL, 0, &r);
    show("hc_http_connect(\"slow\", \"/slow\") with timeout=1", ret, r);
    hc_result_free(r);

    ret = hc_http_connect("down", "/hello", NULL, NULL, 0, &r);
    show("hc_http_connect(\"down\", ...) - refused, then failover to \"api\"", ret, r);
    hc_result_free(r);

    hc_counters c;
    hc_get_counters(&c);
    printf("\ncounters: connections=%llu connok=%llu connfail=%llu\n", (unsigned long long)c.connections,
           (unsigned long long)c.connok, (unsigned long long)c.connfail);

    for (int i = 0; i < 1000; i++) {
        hc_http_connect("api", "/hello", NULL, NULL, 0, &r);
        hc_result_free(r);
    }
    printf("\nthis process after 1000 more requests on the kept connection:\n");
    print_cost();
    return 0;
}
