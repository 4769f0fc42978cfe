/* The reference plugins' shared helpers (plug.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "plug.h"

int plug_fail(spn_request_t *req, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	spn_request_fail(req, why);
	return -1;
}

json_object *plug_read(spn_request_t *req, const uint8_t *data, size_t len, const char *what)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL;

	if (tok && len < (1u << 20)) {
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		o = json_tokener_parse_ex(tok, (const char *)data, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		plug_fail(req, "%s: expected a JSON object", what);
		return NULL;
	}
	return o;
}

bool plug_str(spn_request_t *req, json_object *o, const char *what, const char *key, size_t max, const char **out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0 || (size_t)json_object_get_string_len(v) > max) {
		plug_fail(req, "%s: '%s' must be a string of 1 to %zu characters", what, key, max);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

bool plug_num(spn_request_t *req, json_object *o, const char *what, const char *key, double min, double max,
	      double *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
	    json_object_get_double(v) < min || json_object_get_double(v) > max) {
		plug_fail(req, "%s: '%s' must be a number from %g to %g", what, key, min, max);
		return false;
	}
	*out = json_object_get_double(v);
	return true;
}

bool plug_cents(const char *s, int64_t *out)
{
	int64_t units = 0;
	int digits = 0, frac = -1;

	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || (frac >= 0 && ++frac > 2) || ++digits > 12)
			return false;
		units = units * 10 + (*s - '0');
	}
	if (digits == 0 || frac == 0)
		return false;
	for (int f = frac < 0 ? 0 : frac; f < 2; f++)
		units *= 10;
	*out = units;
	return true;
}

const char *plug_amount(int64_t cents, char *buf)
{
	snprintf(buf, 32, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(cents < 0 ? -cents : cents) / 100,
		 (long long)(cents < 0 ? -cents : cents) % 100);
	return buf;
}

int plug_reply(spn_request_t *req, json_object *o)
{
	size_t len;
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	int rc = spn_request_reply(req, t, len);

	json_object_put(o);
	return rc;
}

int plug_reply_attached(spn_request_t *req, size_t i, json_object *o)
{
	size_t len;
	const char *t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	int rc = spn_request_attached_reply(req, i, t, len);

	json_object_put(o);
	return rc;
}

int plug_refuse_attached(spn_request_t *req, size_t i, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("refused"));
	json_object_object_add(o, "reason", json_object_new_string(why));
	return plug_reply_attached(req, i, o);
}

const char *plug_ref(const char *prefix, char *buf)
{
	uint8_t r[8] = {0};
	int n = snprintf(buf, 40, "%.16s-", prefix);

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return NULL;
	for (size_t i = 0; i < sizeof(r); i++)
		n += snprintf(buf + n, 40 - (size_t)n, "%02x", r[i]);
	return buf;
}
