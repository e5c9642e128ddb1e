/*
 * bindtest.c - a test module that uses http_client's C API for other modules
 * (bind_http_client, 5.6.3's curl_api.h) the way a module such as a push or auth module
 * does, so that the API of the libhc-based http_client is exercised inside Kamailio.
 *
 * bindtest(con, url) calls every function of the API and stores in $var(bt):
 *   "<http_connect rc>|<result>|<query rc>|<result>|<query_c rc>|<result>|
 *    <exists(con)>|<exists("nope")>|<content type of con>"
 */
#include <stdio.h>
#include <string.h>

#include "core/dprint.h"
#include "core/lvalue.h"
#include "core/mem/mem.h"
#include "core/pvar.h"
#include "core/sr_module.h"

MODULE_VERSION

/* 5.6.3's modules/http_client/curl_api.h, member for member. */
typedef struct httpc_api {
	int (*http_connect)(struct sip_msg *msg, const str *connection, const str *_url,
			str *_result, const char *contenttype, const str *_post);
	int (*http_client_query)(struct sip_msg *_m, char *_url, str *_dst, char *_post, char *_hdrs);
	int (*http_client_query_c)(
			struct sip_msg *_m, char *_url, str *_dst, char *_post, char *_ctype, char *_hdrs);
	int (*http_connection_exists)(str *_name);
	char *(*http_get_content_type)(const str *_name);
} httpc_api_t;
typedef int (*bind_httpc_api_f)(httpc_api_t *api);

static httpc_api_t httpc;

static int mod_init(void)
{
	bind_httpc_api_f bind = (bind_httpc_api_f)find_export("bind_http_client", 0, 0);
	if(bind == NULL || bind(&httpc) < 0) {
		LM_ERR("cannot bind http_client's API\n");
		return -1;
	}
	return 0;
}

/* take appends "rc|result|" to out and frees the pkg result, as API users must. */
static void take(char *out, size_t len, int rc, str *res)
{
	size_t n = strlen(out);
	snprintf(out + n, len - n, "%d|%.*s|", rc, res->s ? res->len : 0, res->s ? res->s : "");
	if(res->s)
		pkg_free(res->s);
}

static int w_bindtest(struct sip_msg *msg, char *con_s, char *url)
{
	char out[1024] = "";
	str con = {con_s, (int)strlen(con_s)}, path = str_init("/bind"), nope = str_init("nope");
	str res = {0, 0};
	str name = str_init("$var(bt)");
	pv_spec_t *dst = pv_cache_get(&name);
	pv_value_t val;

	take(out, sizeof out, httpc.http_connect(msg, &con, &path, &res, NULL, NULL), &res);
	take(out, sizeof out, httpc.http_client_query(msg, url, &res, NULL, NULL), &res);
	take(out, sizeof out, httpc.http_client_query_c(msg, url, &res, "x=1", "application/json", NULL),
			&res);
	const char *ct = httpc.http_get_content_type(&con);
	size_t n = strlen(out);
	snprintf(out + n, sizeof out - n, "%d|%d|%s", httpc.http_connection_exists(&con),
			httpc.http_connection_exists(&nope), ct ? ct : "(null)");

	if(dst == NULL || dst->setf == NULL)
		return -1;
	memset(&val, 0, sizeof val);
	val.flags = PV_VAL_STR;
	val.rs.s = out;
	val.rs.len = (int)strlen(out);
	dst->setf(msg, &dst->pvp, (int)EQ_T, &val);
	return 1;
}

static cmd_export_t cmds[] = {
		{"bindtest", (cmd_function)w_bindtest, 2, 0, 0, REQUEST_ROUTE}, {0, 0, 0, 0, 0, 0}};

struct module_exports exports = {"bindtest", DEFAULT_DLFLAGS, cmds, 0, 0, 0, 0, mod_init, 0, 0};
