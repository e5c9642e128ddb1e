/*
 * http_client.c - Kamailio 5.6.3's http_client module, on libhc instead of libcurl.
 *
 * The script interface is 5.6.3's, declaration for declaration: the same modparams in
 * the same order and types, the same functions with the same parameter counts and
 * fixups (so Kamailio itself expands pseudo-variables exactly where it did before), the
 * same $curlerror(n), httpclient.listcon RPC, httpclient counters, KEMI functions and
 * bind_http_client C API. Only the engine differs: each call goes to libhc, which
 * reproduces 5.6.3 + libcurl 7.88.1 on the wire (shared/oracle), and the results are
 * copied into pkg memory for the script, as 5.6.3 does.
 *
 * Processes: see hcm_lib.c. The main process records modparams and validates them in a
 * child; SIP workers (rank > 0) load libhc in child_init; any other process that runs a
 * request (timer routes, the RPC process for listcon) loads it on first use.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/dprint.h"
#include "core/kemi.h"
#include "core/lvalue.h"
#include "core/mem/mem.h"
#include "core/mod_fix.h"
#include "core/pvar.h"
#include "core/sr_module.h"

#include "hcm.h"

MODULE_VERSION

/* ---- Modparams ---------------------------------------------------------------------
 * Every modparam is recorded in order (hcm_settings.c), so each takes a function. The
 * declared types are 5.6.3's, so Kamailio accepts and refuses the same values. */

#define HCM_STR_PARAM(name)                                                   \
	static int param_##name(modparam_t type, void *val)                   \
	{                                                                     \
		str *s = (str *)val;                                              \
		return s ? hcm_settings_add_str(#name, s->s, (size_t)s->len) : -1; \
	}
#define HCM_CHARP_PARAM(name)                                                      \
	static int param_##name(modparam_t type, void *val)                        \
	{                                                                          \
		return val ? hcm_settings_add_str(#name, val, strlen(val)) : -1;       \
	}
#define HCM_INT_PARAM(name)                                         \
	static int param_##name(modparam_t type, void *val)         \
	{                                                           \
		return hcm_settings_add_int(#name, (int)(long)val);     \
	}

HCM_INT_PARAM(connection_timeout)
HCM_CHARP_PARAM(cacert)
HCM_STR_PARAM(client_cert)
HCM_STR_PARAM(client_key)
HCM_STR_PARAM(cipher_suites)
HCM_INT_PARAM(tlsversion)
HCM_INT_PARAM(verify_peer)
HCM_INT_PARAM(verify_host)
HCM_INT_PARAM(httpproxyport)
HCM_STR_PARAM(httpproxy)
HCM_INT_PARAM(httpredirect)
HCM_STR_PARAM(useragent)
HCM_INT_PARAM(maxdatasize)
HCM_STR_PARAM(config_file)

/* 5.6.3's httpcon parser skips blanks and line breaks before the name, so they carry no
 * meaning and need not survive the settings line. */
static int param_httpcon(modparam_t type, void *val)
{
	const char *s = val;
	if(s == NULL)
		return -1;
	s += strspn(s, " \t\r\n");
	return hcm_settings_add_str("httpcon", s, strlen(s));
}
HCM_INT_PARAM(authmethod)
HCM_INT_PARAM(keep_connections)
HCM_INT_PARAM(query_result)
HCM_INT_PARAM(query_maxdatasize)
HCM_CHARP_PARAM(netinterface)

static int param_libhc(modparam_t type, void *val)
{
	return hcm_set_library_path((const char *)val);
}

#define FN(t) ((t) | PARAM_USE_FUNC)

/* clang-format off */
static param_export_t params[] = {
	{"connection_timeout", FN(PARAM_INT),    (void *)param_connection_timeout},
	{"cacert",             FN(PARAM_STRING), (void *)param_cacert},
	{"client_cert",        FN(PARAM_STR),    (void *)param_client_cert},
	{"client_key",         FN(PARAM_STR),    (void *)param_client_key},
	{"cipher_suites",      FN(PARAM_STR),    (void *)param_cipher_suites},
	{"tlsversion",         FN(PARAM_INT),    (void *)param_tlsversion},
	{"verify_peer",        FN(PARAM_INT),    (void *)param_verify_peer},
	{"verify_host",        FN(PARAM_INT),    (void *)param_verify_host},
	{"httpproxyport",      FN(PARAM_INT),    (void *)param_httpproxyport},
	{"httpproxy",          FN(PARAM_STR),    (void *)param_httpproxy},
	{"httpredirect",       FN(PARAM_INT),    (void *)param_httpredirect},
	{"useragent",          FN(PARAM_STR),    (void *)param_useragent},
	{"maxdatasize",        FN(PARAM_INT),    (void *)param_maxdatasize},
	{"config_file",        FN(PARAM_STR),    (void *)param_config_file},
	{"httpcon",            FN(PARAM_STRING), (void *)param_httpcon},
	{"authmethod",         FN(PARAM_INT),    (void *)param_authmethod},
	{"keep_connections",   FN(PARAM_INT),    (void *)param_keep_connections},
	{"query_result",       FN(PARAM_INT),    (void *)param_query_result},
	{"query_maxdatasize",  FN(PARAM_INT),    (void *)param_query_maxdatasize},
	{"netinterface",       FN(PARAM_STRING), (void *)param_netinterface},
	/* hc's own: the libhc.so to load (default: the one beside this module). */
	{"libhc",              FN(PARAM_STRING), (void *)param_libhc},
	{0, 0, 0}
};
/* clang-format on */

/* ---- Results ----------------------------------------------------------------------- */

/* set_result assigns n bytes of s to dst through a pkg copy, as 5.6.3 assigns its pkg
 * result buffer. */
static void set_result(sip_msg_t *msg, pv_spec_t *dst, const char *s, size_t n)
{
	pv_value_t val;
	char *copy;

	if(n > INT_MAX)
		n = INT_MAX;
	memset(&val, 0, sizeof val);
	val.flags = PV_VAL_STR;
	copy = pkg_malloc(n + 1);
	if(copy == NULL) {
		PKG_MEM_ERROR;
	} else {
		memcpy(copy, s, n);
		copy[n] = '\0';
		val.rs.s = copy;
		val.rs.len = (int)n;
	}
	if(dst->setf)
		dst->setf(msg, &dst->pvp, (int)EQ_T, &val);
	else
		LM_WARN("target pv is not writable\n");
	if(copy)
		pkg_free(copy);
}

/* to_pkg returns a pkg copy of n bytes of s, NUL-terminated, in *out; 0 or -1. */
static int to_pkg(const char *s, size_t n, str *out)
{
	out->s = pkg_malloc(n + 1);
	if(out->s == NULL) {
		PKG_MEM_ERROR;
		out->len = 0;
		return -1;
	}
	memcpy(out->s, s, n);
	out->s[n] = '\0';
	out->len = (int)n;
	return 0;
}

/* cstr returns s as a NUL-terminated pkg string (NULL for a NULL s); free with pkg_free. */
static char *cstr(const str *s)
{
	str c;
	if(s == NULL || s->s == NULL)
		return NULL;
	return to_pkg(s->s, (size_t)s->len, &c) == 0 ? c.s : NULL;
}

/* report logs why a call did not get an HTTP answer, as 5.6.3 logs its failures. */
static void report(const char *fn, int ret, const hc_result *r)
{
	if(ret < 100 && r != NULL && r->error[0])
		LM_ERR("%s: %s\n", fn, r->error);
}

/* body_of is what 5.6.3 stores as a call's result: the body of a 2xx-4xx answer. */
static const char *body_of(const hc_result *r, size_t *n)
{
	if(r == NULL || !r->body_kept) {
		*n = 0;
		return "";
	}
	*n = r->body_len;
	return r->body;
}

/* ---- The requests ------------------------------------------------------------------ */

/* connect_request is http_connect on connection con: a GET, or a POST of data. The
 * result (pkg memory, caller frees) is the kept body. Returns libhc's value. */
static int connect_request(const str *con, const str *url, const char *ctype,
		const str *data, str *result)
{
	const hc_api *api = hcm_api();
	hc_result *r = NULL;
	char *c_con = cstr(con), *c_url = cstr(url);
	int ret = -1;
	size_t n;

	result->s = NULL;
	result->len = 0;
	if(api && c_con && c_url) {
		ret = api->http_connect(c_con, c_url, ctype, data ? data->s : NULL,
				data ? (size_t)data->len : 0, &r);
		report("http_connect", ret, r);
		const char *body = body_of(r, &n);
		to_pkg(body, n, result);
		api->result_free(r);
		hcm_sync_counters();
	}
	if(c_con)
		pkg_free(c_con);
	if(c_url)
		pkg_free(c_url);
	return ret;
}

/* query_request is http_client_query (get = 0) or http_client_get (get = 1); post and
 * hdrs may be NULL. The result (pkg memory, caller frees) is the kept body. */
static int query_request(int get, const char *url, const char *post, const char *ctype,
		const char *hdrs, str *result)
{
	const hc_api *api = hcm_api();
	hc_result *r = NULL;
	int ret = -1;
	size_t n;

	result->s = NULL;
	result->len = 0;
	if(api == NULL)
		return -1;
	if(get)
		ret = api->client_get(url, post, hdrs, &r);
	else if(ctype)
		ret = api->query_c(url, post, ctype, hdrs, &r);
	else
		ret = api->query(url, post, hdrs, &r);
	report(get ? "http_client_get" : "http_client_query", ret, r);
	const char *body = body_of(r, &n);
	to_pkg(body, n, result);
	api->result_free(r);
	hcm_sync_counters();
	return ret;
}

static int connect_and_set(sip_msg_t *msg, const str *con, const str *url, const char *ctype,
		const str *data, pv_spec_t *dst)
{
	str result;
	int ret = connect_request(con, url, ctype, data, &result);
	set_result(msg, dst, result.s ? result.s : "", (size_t)result.len);
	if(result.s)
		pkg_free(result.s);
	return ret == 0 ? -1 : ret;
}

static int query_and_set(sip_msg_t *msg, int get, const str *url, const str *post,
		const str *hdrs, pv_spec_t *dst)
{
	str result;
	char *c_url = cstr(url);
	char *c_post = post && post->s && post->len > 0 ? cstr(post) : NULL;
	char *c_hdrs = hdrs && hdrs->s && hdrs->len > 0 ? cstr(hdrs) : NULL;
	int ret = -1;

	if(c_url) {
		ret = query_request(get, c_url, c_post, NULL, c_hdrs, &result);
		set_result(msg, dst, result.s ? result.s : "", (size_t)result.len);
		if(result.s)
			pkg_free(result.s);
	}
	if(c_url)
		pkg_free(c_url);
	if(c_post)
		pkg_free(c_post);
	if(c_hdrs)
		pkg_free(c_hdrs);
	return ret == 0 ? -1 : ret;
}

/* ---- Script functions (5.6.3's wrappers, argument for argument) --------------------- */

static int w_http_connect(sip_msg_t *msg, char *_con, char *_url, char *_result)
{
	str con, url = {NULL, 0};

	if(_con == NULL || _url == NULL || _result == NULL) {
		LM_ERR("http_connect: Invalid parameter\n");
		return -1;
	}
	con.s = _con;
	con.len = strlen(_con);
	if(get_str_fparam(&url, msg, (gparam_p)_url) != 0) {
		LM_ERR("http_connect: url has no value\n");
		return -1;
	}
	return connect_and_set(msg, &con, &url, NULL, NULL, (pv_spec_t *)_result);
}

/* w_http_connect_post serves http_connect with 4 arguments (data expanded) and, with
 * raw = 1, http_connect_raw (data taken as written). */
static int connect_post(sip_msg_t *msg, char *_con, char *_url, char *_ctype, char *_data,
		char *_result, int raw)
{
	str con, url = {NULL, 0}, data = {NULL, 0};

	if(_con == NULL || _url == NULL || _ctype == NULL || _data == NULL || _result == NULL) {
		LM_ERR("http_connect: Invalid parameters\n");
		return -1;
	}
	con.s = _con;
	con.len = strlen(_con);
	if(get_str_fparam(&url, msg, (gparam_p)_url) != 0) {
		LM_ERR("http_connect: URL has no value\n");
		return -1;
	}
	if(raw) {
		data.s = _data;
		data.len = strlen(_data);
	} else if(get_str_fparam(&data, msg, (gparam_p)_data) != 0) {
		LM_ERR("http_connect: No post data given\n");
		return -1;
	}
	return connect_and_set(msg, &con, &url, _ctype, &data, (pv_spec_t *)_result);
}

static int w_http_connect_post(sip_msg_t *msg, char *_con, char *_url, char *_ctype,
		char *_data, char *_result)
{
	return connect_post(msg, _con, _url, _ctype, _data, _result, 0);
}

static int w_http_connect_raw(sip_msg_t *msg, char *_con, char *_url, char *_ctype,
		char *_data, char *_result)
{
	return connect_post(msg, _con, _url, _ctype, _data, _result, 1);
}

/* query_script is 5.6.3's w_http_query_script / w_http_get_script: an empty URL returns
 * -1 and leaves the result variable untouched; an empty body or hdrs means none. */
static int query_script(sip_msg_t *msg, int get, char *_url, char *_body, char *_hdrs,
		char *_result)
{
	str url = {NULL, 0}, body = {NULL, 0}, hdrs = {NULL, 0};

	if(get_str_fparam(&url, msg, (gparam_p)_url) != 0 || url.len <= 0) {
		LM_ERR("URL has no value\n");
		return -1;
	}
	if(_body && get_str_fparam(&body, msg, (gparam_p)_body) != 0) {
		LM_ERR("DATA has no value\n");
		return -1;
	}
	if(_hdrs && get_str_fparam(&hdrs, msg, (gparam_p)_hdrs) != 0) {
		LM_ERR("HDRS has no value\n");
		return -1;
	}
	return query_and_set(msg, get, &url, &body, &hdrs, (pv_spec_t *)_result);
}

static int w_http_query(sip_msg_t *msg, char *_url, char *_result)
{
	return query_script(msg, 0, _url, NULL, NULL, _result);
}

static int w_http_query_post(sip_msg_t *msg, char *_url, char *_post, char *_result)
{
	return query_script(msg, 0, _url, _post, NULL, _result);
}

static int w_http_query_post_hdr(sip_msg_t *msg, char *_url, char *_post, char *_hdrs,
		char *_result)
{
	return query_script(msg, 0, _url, _post, _hdrs, _result);
}

static int w_http_client_get(sip_msg_t *msg, char *_url, char *_body, char *_hdrs,
		char *_result)
{
	return query_script(msg, 1, _url, _body, _hdrs, _result);
}

static int w_http_get_redirect(sip_msg_t *msg, char *_con, char *_result)
{
	const hc_api *api;
	hc_result *r = NULL;
	int ret = -1;

	if(_con == NULL || _result == NULL) {
		LM_ERR("Invalid or missing parameter\n");
		return -1;
	}
	api = hcm_api();
	if(api) {
		ret = api->get_redirect(_con, &r);
		report("http_get_redirect", ret, r);
	}
	set_result(msg, (pv_spec_t *)_result, r ? r->body : "", r ? r->body_len : 0);
	if(api)
		api->result_free(r);
	return ret;
}

/* ---- Fixups: 5.6.3's, so the same arguments are expanded ---------------------------- */

/* fixup_result makes a parameter a writable pseudo-variable. */
static int fixup_result(void **param)
{
	if(fixup_pvar_null(param, 1) != 0) {
		LM_ERR("failed to fixup result pvar\n");
		return -1;
	}
	if(((pv_spec_t *)(*param))->setf == NULL) {
		LM_ERR("result pvar is not writeble\n");
		return -1;
	}
	return 0;
}

/* Each signature lists, per parameter, how it is taken: 'c' a plain char* as written,
 * 's' a string with pseudo-variables, 'r' the result variable. */
static int fixup_by(const char *kinds, void **param, int param_no)
{
	if(param_no < 1 || (size_t)param_no > strlen(kinds)) {
		LM_ERR("invalid parameter number <%d>\n", param_no);
		return -1;
	}
	switch(kinds[param_no - 1]) {
		case 's': return fixup_spve_null(param, 1);
		case 'r': return fixup_result(param);
		default: return 0;
	}
}

static int fixup_free_by(const char *kinds, void **param, int param_no)
{
	if(param_no < 1 || (size_t)param_no > strlen(kinds)) {
		LM_ERR("invalid parameter number <%d>\n", param_no);
		return -1;
	}
	switch(kinds[param_no - 1]) {
		case 's': return fixup_free_spve_null(param, 1);
		case 'r': return fixup_free_pvar_null(param, 1);
		default: return 0;
	}
}

#define FIXUPS(name, kinds)                                            \
	static int fixup_##name(void **param, int param_no)                \
	{                                                                  \
		return fixup_by(kinds, param, param_no);                       \
	}                                                                  \
	static int fixup_free_##name(void **param, int param_no)           \
	{                                                                  \
		return fixup_free_by(kinds, param, param_no);                  \
	}

FIXUPS(query_get, "sr")
FIXUPS(query_post, "ssr")
FIXUPS(query_post_hdr, "sssr")
FIXUPS(connect, "csr")
FIXUPS(connect_post, "cscsr")
FIXUPS(connect_raw, "csccr")
FIXUPS(get_redirect, "cr")

/* ---- $curlerror(n) ----------------------------------------------------------------- */

static int pv_parse_curlerror(pv_spec_p sp, str *in)
{
	if(sp == NULL || in == NULL || in->len <= 0)
		return -1;
	sp->pvp.pvn.u.isname.name.n = atoi(in->s);
	sp->pvp.pvn.type = PV_NAME_INTSTR;
	sp->pvp.pvn.u.isname.type = 0;
	return 0;
}

static int pv_get_curlerror(sip_msg_t *msg, pv_param_t *param, pv_value_t *res)
{
	const hc_api *api = hcm_api();
	str text;

	if(param == NULL || api == NULL)
		return -1;
	/* libhc gives 5.6.3's texts: "Bad CURL error code", "HTTP result code", curl's. */
	text.s = (char *)api->curlerror(param->pvn.u.isname.name.n);
	text.len = strlen(text.s);
	return pv_get_strval(msg, param, res, &text);
}

static pv_export_t mod_pvs[] = {
		{{"curlerror", (sizeof("curlerror") - 1)}, PVT_OTHER, pv_get_curlerror, 0,
				pv_parse_curlerror, 0, 0, 0},
		{{0, 0}, 0, 0, 0, 0, 0, 0, 0}};

/* ---- bind_http_client: 5.6.3's C API for other modules ------------------------------ */

typedef struct httpc_api {
	int (*http_connect)(sip_msg_t *msg, const str *con, const str *url, str *result,
			const char *ctype, const str *post);
	int (*http_client_query)(sip_msg_t *msg, char *url, str *dst, char *post, char *hdrs);
	int (*http_client_query_c)(
			sip_msg_t *msg, char *url, str *dst, char *post, char *ctype, char *hdrs);
	int (*http_connection_exists)(str *name);
	char *(*http_get_content_type)(const str *name);
} httpc_api_t;

static int api_connect(sip_msg_t *msg, const str *con, const str *url, str *result,
		const char *ctype, const str *post)
{
	return connect_request(con, url, ctype, post, result);
}

static int api_query(sip_msg_t *msg, char *url, str *dst, char *post, char *hdrs)
{
	return query_request(0, url, post, NULL, hdrs, dst);
}

static int api_query_c(sip_msg_t *msg, char *url, str *dst, char *post, char *ctype,
		char *hdrs)
{
	return query_request(0, url, post, ctype, hdrs, dst);
}

static int api_connection_exists(str *name)
{
	const hc_api *api = hcm_api();
	hc_result *r = NULL;
	char *c = cstr(name);
	int found = 0;

	if(api && c) {
		found = api->get_redirect(c, &r) == 1; /* -1: no such connection */
		api->result_free(r);
	}
	if(c)
		pkg_free(c);
	return found;
}

/* api_get_content_type returns the last Content-Type seen on the connection; the text
 * stays valid until the next call (5.6.3 returns the connection's own buffer). */
static char *api_get_content_type(const str *name)
{
	static str last = {NULL, 0};
	const hc_api *api = hcm_api();
	hc_result *r = NULL;
	char *c = cstr(name);

	if(last.s) {
		pkg_free(last.s);
		last.s = NULL;
	}
	if(api && c) {
		if(api->get_content_type(c, &r) == 1)
			to_pkg(r->body, r->body_len, &last);
		api->result_free(r);
	}
	if(c)
		pkg_free(c);
	return last.s;
}

static int bind_httpc_api(httpc_api_t *api)
{
	if(api == NULL) {
		LM_ERR("Invalid parameter value\n");
		return -1;
	}
	api->http_connect = api_connect;
	api->http_client_query = api_query;
	api->http_client_query_c = api_query_c;
	api->http_connection_exists = api_connection_exists;
	api->http_get_content_type = api_get_content_type;
	return 0;
}

/* ---- KEMI -------------------------------------------------------------------------- */

static pv_spec_t *kemi_dst(str *dpv)
{
	pv_spec_t *dst = pv_cache_get(dpv);
	if(dst == NULL) {
		LM_ERR("failed to get pv spec for: %.*s\n", dpv->len, dpv->s);
		return NULL;
	}
	if(dst->setf == NULL) {
		LM_ERR("target pv is not writable: %.*s\n", dpv->len, dpv->s);
		return NULL;
	}
	return dst;
}

static int ki_query_post_hdrs(sip_msg_t *msg, str *url, str *post, str *hdrs, str *dpv)
{
	pv_spec_t *dst = kemi_dst(dpv);
	if(dst == NULL || url == NULL || url->s == NULL)
		return -1;
	return query_and_set(msg, 0, url, post, hdrs, dst);
}

static int ki_query_post(sip_msg_t *msg, str *url, str *post, str *dpv)
{
	return ki_query_post_hdrs(msg, url, post, NULL, dpv);
}

static int ki_query(sip_msg_t *msg, str *url, str *dpv)
{
	return ki_query_post_hdrs(msg, url, NULL, NULL, dpv);
}

static int ki_get_hdrs(sip_msg_t *msg, str *url, str *body, str *hdrs, str *dpv)
{
	pv_spec_t *dst = kemi_dst(dpv);
	if(dst == NULL || url == NULL || url->s == NULL)
		return -1;
	return query_and_set(msg, 1, url, body, hdrs, dst);
}

static int ki_curl_connect(sip_msg_t *msg, str *con, str *url, str *dpv)
{
	pv_spec_t *dst = kemi_dst(dpv);
	return dst ? connect_and_set(msg, con, url, NULL, NULL, dst) : -1;
}

static int ki_curl_connect_post(sip_msg_t *msg, str *con, str *url, str *ctype, str *data,
		str *dpv)
{
	pv_spec_t *dst = kemi_dst(dpv);
	char *c_ctype;
	int ret;

	if(dst == NULL)
		return -1;
	c_ctype = cstr(ctype);
	ret = connect_and_set(msg, con, url, c_ctype, data, dst);
	if(c_ctype)
		pkg_free(c_ctype);
	return ret;
}

#define KS SR_KEMIP_STR
#define KN SR_KEMIP_NONE
/* clang-format off */
static sr_kemi_t kemi_exports[] = {
	{str_init("http_client"), str_init("query"), SR_KEMIP_INT, ki_query,
		{KS, KS, KN, KN, KN, KN}},
	{str_init("http_client"), str_init("query_post"), SR_KEMIP_INT, ki_query_post,
		{KS, KS, KS, KN, KN, KN}},
	{str_init("http_client"), str_init("query_post_hdrs"), SR_KEMIP_INT, ki_query_post_hdrs,
		{KS, KS, KS, KS, KN, KN}},
	{str_init("http_client"), str_init("get_hdrs"), SR_KEMIP_INT, ki_get_hdrs,
		{KS, KS, KS, KS, KN, KN}},
	{str_init("http_client"), str_init("curl_connect"), SR_KEMIP_INT, ki_curl_connect,
		{KS, KS, KS, KN, KN, KN}},
	{str_init("http_client"), str_init("curl_connect_post"), SR_KEMIP_INT, ki_curl_connect_post,
		{KS, KS, KS, KS, KS, KN}},
	{{0, 0}, {0, 0}, 0, NULL, {0, 0, 0, 0, 0, 0}}
};
/* clang-format on */

int mod_register(char *path, int *dlflags, void *p1, void *p2)
{
	sr_kemi_modules_add(kemi_exports);
	return 0;
}

/* ---- Module interface -------------------------------------------------------------- */

#define ROUTES (REQUEST_ROUTE | ONREPLY_ROUTE | FAILURE_ROUTE | BRANCH_ROUTE)
#define CMD(f) ((cmd_function)(f))

/* clang-format off */
static cmd_export_t cmds[] = {
	{"http_client_query", CMD(w_http_query), 2, fixup_query_get, fixup_free_query_get, ROUTES},
	{"http_client_query", CMD(w_http_query_post), 3, fixup_query_post, fixup_free_query_post, ROUTES},
	{"http_client_query", CMD(w_http_query_post_hdr), 4, fixup_query_post_hdr, fixup_free_query_post_hdr, ROUTES},
	{"http_client_get", CMD(w_http_client_get), 4, fixup_query_post_hdr, fixup_free_query_post_hdr, ROUTES},
	{"http_connect", CMD(w_http_connect), 3, fixup_connect, fixup_free_connect, ROUTES},
	{"http_connect", CMD(w_http_connect_post), 5, fixup_connect_post, fixup_free_connect_post, ROUTES},
	{"http_connect_raw", CMD(w_http_connect_raw), 5, fixup_connect_raw, fixup_free_connect_raw, ROUTES},
	{"http_get_redirect", CMD(w_http_get_redirect), 2, fixup_get_redirect, fixup_free_get_redirect, ROUTES},
	{"bind_http_client", CMD(bind_httpc_api), 0, 0, 0, 0},
	{0, 0, 0, 0, 0, 0}
};
/* clang-format on */

static int mod_init(void)
{
	int connections = 0;

	hcm_remember_main();
	if(hcm_rpc_register() < 0)
		return -1;
	/* 5.6.3 refuses a bad httpcon, config_file or value here: so does libhc, in a
	 * child process, so that this process never starts a Go runtime. */
	if(hcm_validate(&connections) < 0)
		return -1;
	return hcm_counters_register(connections);
}

static int child_init(int rank)
{
	/* SIP workers load libhc now, so the first request does not pay for it and a
	 * broken installation stops Kamailio at start-up. The main process (PROC_INIT,
	 * PROC_MAIN) keeps forking and must not; the other processes load on first use. */
	if(rank > 0)
		return hcm_load();
	return 0;
}

struct module_exports exports = {
	"http_client",    /* module name */
	DEFAULT_DLFLAGS,  /* dlopen flags */
	cmds,             /* exported functions */
	params,           /* exported parameters */
	0,                /* RPC method exports (registered in mod_init, as 5.6.3 does) */
	mod_pvs,          /* exported pseudo-variables */
	0,                /* response handling function */
	mod_init,         /* module initialization function */
	child_init,       /* per-child init function */
	0                 /* module destroy function: libhc is never unloaded */
};
