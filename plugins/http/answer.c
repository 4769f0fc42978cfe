/* From the upstream's answer to replies (answer.h). Only a 2xx answer's
 * JSON reaches the caller; of any other, the caller learns the status,
 * and of a 4xx the reason the service gave in a parts body, when it is a
 * short printable line: never the service's error page. */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"

bool http_json_finite(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!http_json_finite(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (!http_json_finite(v))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

/* The whole body one JSON text, or NULL. The body's NUL is given to the
 * parser too: it ends a number at the end of the text, which would
 * otherwise wait for more. */
static json_object *parse(const http_answer_t *a)
{
	json_tokener *tok = json_tokener_new_ex(HTTP_JSON_DEPTH);
	json_object *o;
	size_t end;

	if (!tok)
		return NULL;
	/* RFC 8259 and UTF-8, as spnd reads JSON: no trailing commas, NaN or
	 * TRUE for the caller to trip on. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)a->body, (int)a->len + 1);
	end = json_tokener_get_parse_end(tok);

	while (o && end < a->len && a->body[end] && strchr(" \t\r\n", a->body[end]))
		end++;
	if (o && (end < a->len || !http_json_finite(o))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* what, and the status the service answered with. */
static int refuse(spn_request_t *req, const char *what, long status)
{
	char why[HTTP_REASON_MAX + 64];

	snprintf(why, sizeof(why), "%s (status %ld)", what, status);
	spn_request_fail(req, why);
	return -1;
}

static bool reason_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HTTP_REASON_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

/* attached[i], when not null, to the i-th carried section's client. */
static void to_attached(spn_request_t *req, json_object *parts)
{
	json_object *list, *v;
	size_t len;
	const char *t;

	if (!json_object_object_get_ex(parts, "attached", &list) || !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list) && i < spn_request_attached(req); i++)
		if ((v = json_object_array_get_idx(list, i))) {
			t = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &len);
			spn_request_attached_reply(req, i, t, len);
		}
}

static bool is_parts(json_object *o)
{
	json_object *v;

	return o && json_object_is_type(o, json_type_object) &&
	       (!json_object_object_get_ex(o, "attached", &v) || json_object_is_type(v, json_type_array));
}

static int refused(spn_request_t *req, const http_answer_t *a, json_object *o)
{
	json_object *r;
	const char *reason;

	if (!is_parts(o))
		return refuse(req, "the service refused the section", a->status);
	to_attached(req, o);
	if (!json_object_object_get_ex(o, "reason", &r) || !json_object_is_type(r, json_type_string) ||
	    !reason_ok(reason = json_object_get_string(r)))
		return refuse(req, "the service refused the section", a->status);
	spn_request_fail(req, reason);
	return -1;
}

static int accepted(spn_request_t *req, const http_answer_t *a, json_object *o, bool parts)
{
	json_object *reply;
	const char *t;
	size_t len;

	if (!o)
		return refuse(req, "the service's answer is not JSON", a->status);
	if (!parts)
		return spn_request_reply(req, a->body, a->len) ? -1 : 0;
	if (!is_parts(o) || !json_object_object_get_ex(o, "reply", &reply))
		return refuse(req, "the service's answer is not a parts object with a reply", a->status);
	to_attached(req, o);
	t = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len);
	return spn_request_reply(req, t, len) ? -1 : 0;
}

int http_answer_deliver(spn_request_t *req, const http_answer_t *a)
{
	bool parts = strcmp(a->type, HTTP_PARTS_TYPE) == 0;
	bool json = parts || strcmp(a->type, "application/json") == 0;
	json_object *o;
	int rc;

	if (a->status == 0) {
		spn_request_fail(req, a->why);
		return -1;
	}
	if (a->status >= 500 && a->status < 600)
		return refuse(req, "the service failed", a->status);
	if (a->status < 200 || (a->status >= 300 && a->status < 400) || a->status >= 600)
		return refuse(req, "the service gave no answer to take", a->status);
	o = json && a->body ? parse(a) : NULL;
	rc = a->status >= 400 ? refused(req, a, parts ? o : NULL) : json ? accepted(req, a, o, parts)
									  : refuse(req, "the service's answer is not JSON", a->status);
	json_object_put(o);
	return rc;
}
