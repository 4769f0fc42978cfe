/* Strict JSON reading on json-c, with errors that name the field. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"
#include "json.h"

/* What the scan of the text found for each object, in the order the
 * objects open: where it starts and how many members it has there. */
typedef struct {
	size_t at, members;
} text_object_t;

typedef struct {
	text_object_t *obj;
	size_t n, cap;
	size_t open[SPN_JSON_DEPTH + 1]; /* per nesting level: its object, or IN_ARRAY */
	int depth;
	bool name_has_nul;               /* the string just read has a \u0000 */
} text_scan_t;

#define IN_ARRAY SIZE_MAX

static int scan_err(size_t at, const char *what)
{
	return spn_err(SPN_EINVAL, "invalid JSON at byte %zu: %s", at, what);
}

/* From the opening quote at *i to the closing one; control characters are
 * JSON only when escaped. */
static int scan_string(const char *s, size_t len, size_t *i, text_scan_t *t)
{
	t->name_has_nul = false;
	for (size_t j = *i + 1; j < len; j++) {
		if (s[j] == '"') {
			*i = j;
			return 0;
		}
		if ((unsigned char)s[j] < 0x20)
			return scan_err(j, "a control character in a string");
		if (s[j] == '\\' && j + 1 < len) {
			if (s[j + 1] == 'u' && j + 5 < len && memcmp(s + j + 2, "0000", 4) == 0)
				t->name_has_nul = true;
			j++;
		}
	}
	return scan_err(len, "unterminated string");
}

/* Outside strings the only words of JSON are its three literals and a
 * number's exponent; json-c also takes NaN and Infinity. */
static int scan_word(const char *s, size_t len, size_t *i)
{
	static const char *const words[] = {"true", "false", "null", "e", "E", NULL};
	size_t j = *i;

	while (j < len && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')))
		j++;
	for (const char *const *w = words; *w; w++) {
		if (strlen(*w) == j - *i && memcmp(*w, s + *i, j - *i) == 0) {
			*i = j - 1;
			return 0;
		}
	}
	return scan_err(*i, "not a JSON value (NaN, Infinity?)");
}

static int scan_open(text_scan_t *t, size_t at, bool object)
{
	if (t->depth > SPN_JSON_DEPTH)
		return scan_err(at, "nested too deep");
	if (!object) {
		t->open[t->depth++] = IN_ARRAY;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		text_object_t *bigger = realloc(t->obj, cap * sizeof(*bigger));
		if (!bigger)
			return SPN_ENOMEM;
		t->obj = bigger;
		t->cap = cap;
	}
	t->obj[t->n].at = at;
	t->obj[t->n].members = 0;
	t->open[t->depth++] = t->n++;
	return 0;
}

/* A name-separator ends a member name, which must not hold a NUL: json-c
 * cuts names at the first one, so "alg\u0000x" would read as "alg". */
static int scan_member(text_scan_t *t, size_t at)
{
	if (t->depth == 0 || t->open[t->depth - 1] == IN_ARRAY)
		return scan_err(at, "a ':' outside an object");
	if (t->name_has_nul)
		return scan_err(at, "a member name with a NUL character");
	t->obj[t->open[t->depth - 1]].members++;
	return 0;
}

/* One pass over text json-c has accepted. */
static int scan_text(const char *s, size_t len, text_scan_t *t)
{
	int rc = 0;

	for (size_t i = 0; i < len && rc == 0; i++) {
		char c = s[i];
		if (c == '"')
			rc = scan_string(s, len, &i, t);
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			rc = scan_word(s, len, &i);
		else if (c == '\'')
			rc = scan_err(i, "a single-quoted string");
		else if (c == '.' && !(i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9'))
			rc = scan_err(i, "a number without digits after its point");
		else if (c == '{' || c == '[')
			rc = scan_open(t, i, c == '{');
		else if ((c == '}' || c == ']') && t->depth > 0)
			t->depth--;
		else if (c == ':')
			rc = scan_member(t, i);
	}
	return rc;
}

/* Visits the parsed objects in the order they open in the text. Up to the
 * first object with a duplicate, every object json-c built holds its
 * members in text order, so the two sequences line up until then. */
static int compare_members(json_object *o, const text_scan_t *t, size_t *k)
{
	int rc = 0;

	if (json_object_is_type(o, json_type_object)) {
		const text_object_t *want = *k < t->n ? &t->obj[*k] : NULL;
		(*k)++;
		if (!want || want->members != (size_t)json_object_object_length(o))
			return spn_err(SPN_EINVAL, "invalid JSON: the object at byte %zu has a member twice",
				       want ? want->at : 0);
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			if ((rc = compare_members(val, t, k)))
				return rc;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o) && rc == 0; i++)
			rc = compare_members(json_object_array_get_idx(o, i), t, k);
	}
	return rc;
}

/* json-c keeps the last of two members with one name and says nothing; a
 * strict reader refuses them (a signed "trust":0 followed by "trust":100
 * must not read as 100). Outside strings each ':' ends a member name, so
 * counting them per object and comparing with the members json-c kept
 * finds every duplicate, names compared after unescaping as json-c does.
 * The same pass refuses what json-c's strict mode lets through and JSON
 * does not have. */
static int check_text(const char *buf, size_t len, json_object *obj)
{
	text_scan_t t;
	size_t k = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = scan_text(buf, len, &t)) == 0)
		rc = compare_members(obj, &t, &k);
	free(t.obj);
	return rc;
}

int spn_json_parse(const char *buf, size_t len, json_object **out)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t used;
	int rc;

	if (len > INT32_MAX)
		return spn_err(SPN_ETOOBIG, "JSON text too large");
	tok = json_tokener_new_ex(SPN_JSON_DEPTH);
	if (!tok)
		return SPN_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	/* A number that ends the text may go on for all json-c knows ("1"
	 * would be refused where "1 " is taken): the end of the text ends it. */
	if (!obj && jerr == json_tokener_continue && used == len) {
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (!obj || jerr != json_tokener_success) {
		rc = spn_err(SPN_EINVAL, "invalid JSON at byte %zu: %s", used,
				 jerr == json_tokener_continue ? "unexpected end of input"
							       : json_tokener_error_desc(jerr));
		json_object_put(obj);
		json_tokener_free(tok);
		return rc;
	}
	json_tokener_free(tok);
	for (size_t i = used; i < len; i++) {
		if (!memchr(" \t\r\n", buf[i], 4)) {
			json_object_put(obj);
			return spn_err(SPN_EINVAL, "invalid JSON: trailing data at byte %zu", i);
		}
	}
	if ((rc = check_text(buf, used, obj))) {
		json_object_put(obj);
		return rc;
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
		return spn_err(SPN_EINVAL, "field '%s' is longer than %zu bytes", key, max_len);
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
	/* json-c clamps what does not fit: below -2^63 to INT64_MIN, 2^63 and
	 * above to INT64_MAX (the uint64 it keeps tells those apart). A clamped
	 * value is out of range, never the nearest one in it. */
	if (i == INT64_MIN || (i == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		errno = ERANGE;
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
		return spn_err(SPN_EINVAL, "field '%s' has more than %zu items", key, max_items);
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
