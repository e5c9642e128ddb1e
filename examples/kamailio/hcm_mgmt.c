/*
 * hcm_mgmt.c - what the module reports to Kamailio's management interface: the
 * httpclient counters and the httpclient.listcon RPC.
 *
 * libhc counts per process, as 5.6.3's module does through Kamailio's per-process
 * counters; each worker adds libhc's increments to those counters after every call, so
 * `cnt.get httpclient connok` sums the workers as before. listcon asks libhc (which masks
 * passwords) and turns its JSON into the RPC structure 5.6.3 returns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/dprint.h"
#include "core/mem/mem.h"
#include "core/rpc.h"
#include "core/rpc_lookup.h"

#include "hcm.h"

static counter_handle_t connections; /* connection definitions (httpcon) */
static counter_handle_t connok;      /* transfers answered with 200 */
static counter_handle_t connfail;    /* every other outcome */

int hcm_counters_register(int defined)
{
	if(counter_register(&connections, "httpclient", "connections", 0, 0, 0,
			   "Counter of connection definitions (httpcon)", 0)
					< 0
			|| counter_register(&connok, "httpclient", "connok", 0, 0, 0,
					   "Counter of successful connections (200 OK)", 0)
					   < 0
			|| counter_register(&connfail, "httpclient", "connfail", 0, 0, 0,
					   "Counter of failed connections (not 200 OK)", 0)
					   < 0) {
		LM_ERR("cannot register the httpclient counters\n");
		return -1;
	}
	counter_add(connections, defined);
	return 0;
}

void hcm_sync_counters(void)
{
	/* What this process has already added; libhc's counters start at 0 in every process. */
	static uint64_t ok_seen, fail_seen;
	const hc_api *api;
	hc_counters now;

	if(hc_dl_get(&api) != HC_OK || api->get_counters(&now) != HC_OK)
		return;
	if(now.connok > ok_seen) {
		counter_add(connok, (int)(now.connok - ok_seen));
		ok_seen = now.connok;
	}
	if(now.connfail > fail_seen) {
		counter_add(connfail, (int)(now.connfail - fail_seen));
		fail_seen = now.connfail;
	}
}

/* ---- A reader for hc_listcon's JSON ------------------------------------------------
 * The text comes from Go's encoding/json: {"connections":[{...},...]} whose members are
 * strings, numbers, booleans or null. Strings are decoded into pkg memory. */

typedef struct jreader {
	const char *p, *end;
} jreader;

static void skip_ws(jreader *r)
{
	while(r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int expect(jreader *r, char c)
{
	skip_ws(r);
	if(r->p < r->end && *r->p == c) {
		r->p++;
		return 0;
	}
	return -1;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for(int i = 0; i < 4; i++) {
		char c = p[i];
		*v <<= 4;
		if(c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if(c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if(c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* read_string decodes a JSON string into *out (pkg memory, NUL-terminated; NULL for
 * null). A \u escape of a surrogate half becomes U+FFFD; Go writes those characters raw. */
static int read_string(jreader *r, str *out)
{
	skip_ws(r);
	out->s = NULL;
	out->len = 0;
	if(r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
		r->p += 4;
		return 0;
	}
	if(r->p >= r->end || *r->p != '"')
		return -1;
	const char *start = ++r->p;
	while(r->p < r->end && *r->p != '"')
		r->p += (*r->p == '\\') ? 2 : 1;
	if(r->p >= r->end)
		return -1;
	/* The decoded text is never longer than the escaped one. */
	char *d = pkg_malloc((size_t)(r->p - start) + 1);
	if(d == NULL) {
		PKG_MEM_ERROR;
		return -1;
	}
	int n = 0;
	for(const char *s = start; s < r->p; s++) {
		if(*s != '\\') {
			d[n++] = *s;
			continue;
		}
		s++;
		switch(*s) {
			case 'n': d[n++] = '\n'; break;
			case 'r': d[n++] = '\r'; break;
			case 't': d[n++] = '\t'; break;
			case 'b': d[n++] = '\b'; break;
			case 'f': d[n++] = '\f'; break;
			case 'u': {
				unsigned cp;
				if(r->p - s < 5 || hex4(s + 1, &cp) < 0) {
					pkg_free(d);
					return -1;
				}
				s += 4;
				if(cp >= 0xd800 && cp <= 0xdfff)
					cp = 0xfffd;
				if(cp < 0x80) {
					d[n++] = (char)cp;
				} else if(cp < 0x800) {
					d[n++] = (char)(0xc0 | cp >> 6);
					d[n++] = (char)(0x80 | (cp & 0x3f));
				} else {
					d[n++] = (char)(0xe0 | cp >> 12);
					d[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
					d[n++] = (char)(0x80 | (cp & 0x3f));
				}
				break;
			}
			default: d[n++] = *s; break; /* \" \\ \/ */
		}
	}
	d[n] = '\0';
	r->p++;
	out->s = d;
	out->len = n;
	return 0;
}

/* skip_scalar passes over a number, true, false or null. */
static int skip_scalar(jreader *r)
{
	skip_ws(r);
	const char *start = r->p;
	while(r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']' && *r->p != ' ')
		r->p++;
	return r->p > start ? 0 : -1;
}

/* One connection as 5.6.3's listcon shows it. */
typedef struct listcon_entry {
	str name, schema, url, username, password, failover;
	int timeout;
} listcon_entry;

static void entry_free(listcon_entry *e)
{
	str *all[] = {&e->name, &e->schema, &e->url, &e->username, &e->password, &e->failover};
	for(size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if(all[i]->s)
			pkg_free(all[i]->s);
	memset(e, 0, sizeof *e);
}

static str *entry_field(listcon_entry *e, const str *key)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
			{"name", offsetof(listcon_entry, name)},
			{"schema", offsetof(listcon_entry, schema)},
			{"url", offsetof(listcon_entry, url)},
			{"username", offsetof(listcon_entry, username)},
			{"password", offsetof(listcon_entry, password)},
			{"failover", offsetof(listcon_entry, failover)},
	};
	for(size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if((size_t)key->len == strlen(fields[i].key)
				&& memcmp(key->s, fields[i].key, (size_t)key->len) == 0)
			return (str *)((char *)e + fields[i].off);
	return NULL;
}

/* read_entry reads one connection object. */
static int read_entry(jreader *r, listcon_entry *e)
{
	memset(e, 0, sizeof *e);
	if(expect(r, '{') < 0)
		return -1;
	if(expect(r, '}') == 0)
		return 0;
	do {
		str key;
		if(read_string(r, &key) < 0 || key.s == NULL || expect(r, ':') < 0) {
			if(key.s)
				pkg_free(key.s);
			return -1;
		}
		str *field = entry_field(e, &key);
		int is_timeout = key.len == 7 && memcmp(key.s, "timeout", 7) == 0;
		pkg_free(key.s);
		int rc;
		if(field) {
			rc = read_string(r, field);
		} else if(is_timeout) {
			skip_ws(r);
			e->timeout = atoi(r->p);
			rc = skip_scalar(r);
		} else {
			str unused = {NULL, 0};
			skip_ws(r);
			rc = (r->p < r->end && *r->p == '"') ? read_string(r, &unused) : skip_scalar(r);
			if(unused.s)
				pkg_free(unused.s);
		}
		if(rc < 0)
			return -1;
	} while(expect(r, ',') == 0);
	return expect(r, '}');
}

static void rpc_listcon(rpc_t *rpc, void *ctx)
{
	const hc_api *api = hcm_api();
	char *json = NULL;
	size_t len = 0;
	void *root, *st;
	listcon_entry e;
	int count = 0;

	if(api == NULL) {
		rpc->fault(ctx, 500, "libhc is not available in this process");
		return;
	}
	if(api->listcon(&json, &len) != HC_OK) {
		rpc->fault(ctx, 500, "Internal error listing connections");
		return;
	}
	jreader r = {json, json + len};
	if(expect(&r, '{') < 0) {
		goto bad;
	}
	str key;
	if(read_string(&r, &key) < 0 || key.s == NULL)
		goto bad;
	pkg_free(key.s);
	if(expect(&r, ':') < 0 || expect(&r, '[') < 0)
		goto bad;
	if(expect(&r, ']') == 0) {
		api->free(json);
		LM_ERR("no connection definitions\n");
		rpc->fault(ctx, 500, "No Connection Definitions");
		return;
	}
	if(rpc->add(ctx, "{", &root) < 0) {
		api->free(json);
		rpc->fault(ctx, 500, "Internal error root reply");
		return;
	}
	do {
		if(read_entry(&r, &e) < 0) {
			entry_free(&e);
			goto bad;
		}
		/* Unset strings (JSON null) go out as NULL strings, as 5.6.3's do. */
		int rc = rpc->struct_add(root, "{", "CONNECTION", &st);
		if(rc >= 0)
			rc = rpc->struct_add(st, "SSSSSSd", "NAME", &e.name, "SCHEMA", &e.schema, "URI",
					&e.url, "USERNAME", &e.username, "PASSWORD", &e.password, "FAILOVER",
					&e.failover, "TIMEOUT", e.timeout);
		entry_free(&e);
		if(rc < 0) {
			api->free(json);
			rpc->fault(ctx, 500, "Internal error set structure");
			return;
		}
		count++;
	} while(expect(&r, ',') == 0);
	api->free(json);
	return;
bad:
	api->free(json);
	LM_ERR("unexpected listing from libhc after %d connections\n", count);
	rpc->fault(ctx, 500, "Internal error reading the connection list");
}

static const char *rpc_listcon_doc[2] = {"List all CURL connection definitions", 0};

static rpc_export_t rpc_cmds[] = {
		{"httpclient.listcon", rpc_listcon, rpc_listcon_doc, 0}, {0, 0, 0, 0}};

int hcm_rpc_register(void)
{
	if(rpc_register_array(rpc_cmds) != 0) {
		LM_ERR("failed to register RPC commands\n");
		return -1;
	}
	return 0;
}
