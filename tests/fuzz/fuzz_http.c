/* Fuzz target for the http plugin's reading of an upstream's answer
 * (plugins/http/answer.c): status, media type and body as a local service
 * sends them, buggy or hostile. The plugin must give the caller at most
 * one reply and only JSON, answer only carried sections that exist, never
 * pass on a 4xx reason that is not a short printable line, and read no
 * byte past the body. The input: one byte for the number of carried
 * sections (low two bits) and the media type (next two), two bytes of
 * status, then the body. The ABI calls answer.c makes are the stand-ins
 * below. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "fuzz.h"

const char fuzz_target[] = "http";

struct spn_request {
	size_t attached;
	int replies;
	bool answered[4];
	char *why;
};

size_t spn_request_attached(spn_request_t *req)
{
	return req->attached;
}

/* data[len] is a NUL, which ends a number at the end of the text. */
static void must_be_json(const void *data, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(HTTP_JSON_DEPTH);
	json_object *o;

	/* As strict as spnd's reader: what json-c forgives by default (NaN,
	 * trailing commas, bad UTF-8) must not pass. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, data, (int)len + 1);

	if (!o || json_tokener_get_parse_end(tok) < len || !http_json_finite(o))
		abort();
	json_object_put(o);
	json_tokener_free(tok);
}

int spn_request_reply(spn_request_t *req, const void *data, size_t len)
{
	if (req->replies++)
		abort();
	(void)data;
	(void)len;
	return 0;
}

int spn_request_attached_reply(spn_request_t *req, size_t i, const void *data, size_t len)
{
	if (i >= req->attached || req->answered[i])
		abort();
	req->answered[i] = true;
	must_be_json(data, len);
	return 0;
}

void spn_request_fail(spn_request_t *req, const char *reason)
{
	free(req->why);
	req->why = strdup(reason);
	for (const char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20)
			abort();
	if (strlen(reason) > HTTP_REASON_MAX + 64)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"application/json", HTTP_PARTS_TYPE, "text/html", ""};
	spn_request_t req = {0};
	http_answer_t a = {0};
	int rc;

	if (size < 3)
		return 0;
	req.attached = data[0] & 3;
	strcpy(a.type, types[(data[0] >> 2) & 3]);
	a.status = (long)((data[1] << 8 | data[2]) % 700);
	/* An exact copy, NUL-terminated as the plugin keeps it: a read past
	 * the end is the sanitizer's to see. */
	a.len = size - 3;
	a.body = malloc(a.len + 1);
	memcpy(a.body, data + 3, a.len);
	a.body[a.len] = 0;
	rc = http_answer_deliver(&req, &a);
	/* A reply, and only for a 2xx; a failure says why. */
	if ((rc == 0) != (req.replies == 1) || (rc == 0 && (a.status < 200 || a.status > 299)) || (rc != 0 && !req.why))
		abort();
	if (rc == 0 && strcmp(a.type, HTTP_PARTS_TYPE) != 0)
		must_be_json(a.body, a.len);
	free(a.body);
	free(req.why);
	return 0;
}
