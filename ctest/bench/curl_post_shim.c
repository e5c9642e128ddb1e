/* curl_post_shim: lets the unmodified incumbent driver (../shared/bench/curl_bench.c) POST.
 * curl_bench.c is compiled with -Dcurl_easy_perform=bench_easy_perform and
 * -Dcurl_multi_add_handle=bench_multi_add_handle; these wrappers set CURLOPT_POSTFIELDS
 * (the body Kamailio's http_connect and Halon's string body use) from $BENCH_POST, then
 * call the real libcurl function. Without $BENCH_POST they only forward. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

static void bench_set_post(CURL *h)
{
    const char *post = getenv("BENCH_POST");
    if (post != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
    }
}

CURLcode bench_easy_perform(CURL *h);
CURLMcode bench_multi_add_handle(CURLM *m, CURL *h);

CURLcode bench_easy_perform(CURL *h)
{
    bench_set_post(h);
    return curl_easy_perform(h);
}

CURLMcode bench_multi_add_handle(CURLM *m, CURL *h)
{
    bench_set_post(h);
    return curl_multi_add_handle(m, h);
}
