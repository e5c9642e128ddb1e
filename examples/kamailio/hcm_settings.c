/*
 * hcm_settings.c - the modparams, recorded in script order, as the text hc_init takes.
 *
 * Kamailio applies an httpcon with the modparams set *before* it (its order rule), so
 * the module cannot keep one variable per parameter as 5.6.3 does: it keeps the
 * sequence, one "name = value" line per modparam, and libhc applies it in order. The
 * text lives in pkg memory of the main process and reaches every worker with its fork.
 */
#include <stdio.h>
#include <string.h>

#include "core/dprint.h"
#include "core/mem/mem.h"

#include "hcm.h"

/* Kamailio's default User-Agent (http_client.c's CURL_USER_AGENT), set before any
 * modparam so that a "useragent" modparam overrides it in order. */
#define HCM_USER_AGENT NAME " (" VERSION " (" ARCH "/" OS_QUOTED "))"

/* One recorded modparam: where its line is, for error messages. */
typedef struct hcm_param {
	const char *name;
	size_t value_off, value_len;
} hcm_param;

static char *text;          /* NUL-terminated settings text */
static size_t text_len, text_cap;
static hcm_param *params;   /* params[i] is settings line i + 2 (line 1 is the agent) */
static int nparams, params_cap;

static int append(const char *s, size_t n)
{
	if(text_len + n + 1 > text_cap) {
		size_t cap = text_cap ? text_cap : 512;
		while(cap < text_len + n + 1)
			cap *= 2;
		char *t = pkg_realloc(text, cap);
		if(t == NULL) {
			PKG_MEM_ERROR;
			return -1;
		}
		text = t;
		text_cap = cap;
	}
	memcpy(text + text_len, s, n);
	text_len += n;
	text[text_len] = '\0';
	return 0;
}

static int start(void)
{
	static const char agent[] = "useragent = " HCM_USER_AGENT "\n";
	return text_len ? 0 : append(agent, sizeof agent - 1);
}

static int add_line(const char *name, const char *value, size_t len)
{
	if(start() < 0)
		return -1;
	if(nparams == params_cap) {
		int cap = params_cap ? 2 * params_cap : 16;
		hcm_param *p = pkg_realloc(params, cap * sizeof *p);
		if(p == NULL) {
			PKG_MEM_ERROR;
			return -1;
		}
		params = p;
		params_cap = cap;
	}
	size_t n = strlen(name);
	if(append(name, n) < 0 || append(" = ", 3) < 0)
		return -1;
	params[nparams].name = name;
	params[nparams].value_off = text_len;
	params[nparams].value_len = len;
	if(append(value, len) < 0 || append("\n", 1) < 0)
		return -1;
	nparams++;
	return 0;
}

int hcm_settings_add_str(const char *name, const char *value, size_t len)
{
	if(value == NULL) {
		LM_ERR("modparam %s: no value\n", name);
		return -1;
	}
	/* hc_init's format is one trimmed item per line. */
	if(memchr(value, '\n', len) || memchr(value, '\r', len)
			|| (len > 0 && (value[0] == ' ' || value[0] == '\t'
				|| value[len - 1] == ' ' || value[len - 1] == '\t'))) {
		LM_ERR("modparam %s: [%.*s]: line breaks and leading or trailing blanks are not"
			   " supported\n", name, (int)len, value);
		return -1;
	}
	return add_line(name, value, len);
}

int hcm_settings_add_int(const char *name, int value)
{
	char num[16];
	int n = snprintf(num, sizeof num, "%d", value);
	return add_line(name, num, (size_t)n);
}

const char *hcm_settings_text(void)
{
	if(start() < 0)
		return "";
	return text;
}

void hcm_settings_describe(const char *msg, char *out, size_t out_len)
{
	int line, used = 0;
	if(sscanf(msg, "line %d: %n", &line, &used) == 1 && used > 0 && line >= 2
			&& line - 2 < nparams) {
		const hcm_param *p = &params[line - 2];
		snprintf(out, out_len, "modparam(\"http_client\", \"%s\", \"%.*s\"): %s", p->name,
				(int)p->value_len, text + p->value_off, msg + used);
		return;
	}
	snprintf(out, out_len, "%s", msg);
}
