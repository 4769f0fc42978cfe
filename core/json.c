/* Strict JSON reading on json-c, with errors that name the field. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"
#include "json.h"

int spn_json_parse(const char *buf, size_t len, json_object **out)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	if (len > INT32_MAX)
		return spn_err(SPN_ETOOBIG, "JSON text too large");
	tok = json_tokener_new_ex(SPN_JSON_DEPTH);
	if (!tok)
		return SPN_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	if (!obj || jerr != json_tokener_success) {
		int rc = spn_err(SPN_EINVAL, "invalid JSON at byte %zu: %s", used,
				 jerr == json_tokener_continue ? "unexpected end of input"
							       : json_tokener_error_desc(jerr));
		json_object_put(obj);
		json_tokener_free(tok);
		return rc;
	}
	json_tokener_free(tok);
	for (; used < len; used++) {
		if (!memchr(" \t\r\n", buf[used], 4)) {
			json_object_put(obj);
			return spn_err(SPN_EINVAL, "invalid JSON: trailing data at byte %zu", used);
		}
	}
	*out = obj;
	return 0;
}

int spn_json_only(json_object *obj, const char *what, const char *const *allowed)
{
	if (!json_object_is_type(obj, json_type_object))
		return spn_err(SPN_EINVAL, "%s must be a JSON object", what);
	json_object_object_foreach(obj, key, val)
	{
		const char *const *a;
		(void)val;
		for (a = allowed; *a && strcmp(*a, key) != 0; a++)
			;
		if (!*a)
			return spn_err(SPN_EINVAL, "%s: unknown field '%.64s'", what, key);
	}
	return 0;
}

static int member(json_object *obj, const char *key, bool required, json_object **val)
{
	if (!json_object_is_type(obj, json_type_object))
		return spn_err(SPN_EINVAL, "expected a JSON object");
	if (!json_object_object_get_ex(obj, key, val) || json_object_is_type(*val, json_type_null)) {
		*val = NULL;
		return required ? spn_err(SPN_EINVAL, "field '%s' is required", key) : 0;
	}
	return 0;
}

int spn_json_str(json_object *obj, const char *key, bool required, size_t max_len, const char **out)
{
	json_object *v;
	int rc = member(obj, key, required, &v);

	if (rc || !v) {
		if (!rc)
			*out = NULL;
		return rc;
	}
	if (!json_object_is_type(v, json_type_string))
		return spn_err(SPN_EINVAL, "field '%s' must be a string", key);
	if ((size_t)json_object_get_string_len(v) > max_len)
		return spn_err(SPN_ETOOBIG, "field '%s' is longer than %zu bytes", key, max_len);
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return spn_err(SPN_EINVAL, "field '%s' contains a NUL character", key);
	*out = json_object_get_string(v);
	return 0;
}

int spn_json_int(json_object *obj, const char *key, bool required, int64_t min, int64_t max,
		 int64_t *out)
{
	json_object *v;
	int64_t i;
	int rc = member(obj, key, required, &v);

	if (rc || !v)
		return rc;
	if (!json_object_is_type(v, json_type_int))
		return spn_err(SPN_EINVAL, "field '%s' must be an integer", key);
	errno = 0;
	i = json_object_get_int64(v);
	if (errno || i < min || i > max)
		return spn_err(SPN_EINVAL, "field '%s' must be between %lld and %lld", key, (long long)min,
			       (long long)max);
	*out = i;
	return 0;
}

int spn_json_strs(json_object *obj, const char *key, bool required, size_t max_items,
		  size_t max_len, const char ***out, size_t *n)
{
	json_object *v;
	const char **a;
	size_t len;
	int rc = member(obj, key, required, &v);

	*out = NULL;
	*n = 0;
	if (rc || !v)
		return rc;
	if (!json_object_is_type(v, json_type_array))
		return spn_err(SPN_EINVAL, "field '%s' must be an array of strings", key);
	len = json_object_array_length(v);
	if (len > max_items)
		return spn_err(SPN_ETOOBIG, "field '%s' has more than %zu items", key, max_items);
	a = calloc(len + 1, sizeof(*a));
	if (!a)
		return SPN_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *s = json_object_array_get_idx(v, i);
		if (!json_object_is_type(s, json_type_string) ||
		    (size_t)json_object_get_string_len(s) > max_len ||
		    strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s)) {
			free(a);
			return spn_err(SPN_EINVAL, "field '%s' item %zu must be a string of at most %zu bytes",
				       key, i, max_len);
		}
		a[i] = json_object_get_string(s);
	}
	*out = a;
	*n = len;
	return 0;
}

const char *spn_json_text(json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
						 len);
}

int spn_json_b64u(json_object *obj, const char *key, bool required, uint8_t *dst, size_t want, size_t max,
		  size_t *got)
{
	const char *s;
	uint8_t *raw = NULL;
	size_t n = 0;
	int rc;

	if (got)
		*got = 0;
	if ((rc = spn_json_str(obj, key, required, 4 * max / 3 + 4, &s)) || !s)
		return rc;
	if (spn_b64url_decode(s, strlen(s), &raw, &n) != 0 || (want && n != want) || n > max) {
		free(raw);
		return want ? spn_err(SPN_EINVAL, "'%s' is not %zu bytes of base64url", key, want)
			    : spn_err(SPN_EINVAL, "'%s' is not at most %zu bytes of base64url", key, max);
	}
	memcpy(dst, raw, n);
	if (got)
		*got = n;
	free(raw);
	return 0;
}

void spn_json_add_b64u(json_object *obj, const char *key, const uint8_t *b, size_t n)
{
	char *t = NULL;

	if (spn_b64url_encode(b, n, &t) == 0)
		json_object_object_add(obj, key, json_object_new_string(t));
	free(t);
}

const char *spn_json_str_or(json_object *obj, const char *key, const char *def)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}
