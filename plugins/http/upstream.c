/* The exchange with an upstream (upstream.h), on libcurl. Carried sections
 * travel in headers, base64 (nettle), because the body is the section
 * itself, as its author wrote it. */
#include <ctype.h>
#include <stdarg.h>
#include <nettle/base64.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream.h"

typedef struct {
	http_answer_t *a;
	size_t max;
	bool over;
} sink_t;

static size_t take(char *p, size_t size, size_t n, void *cls)
{
	sink_t *s = cls;
	size_t len = size * n;
	uint8_t *more;

	if (s->a->len + len > s->max) {
		s->over = true;
		return 0;
	}
	/* Not realloc: the answer is plaintext, and the old copy is wiped
	 * before it is freed. */
	if (!(more = malloc(s->a->len + len + 1)))
		return 0;
	if (s->a->len)
		memcpy(more, s->a->body, s->a->len);
	memcpy(more + s->a->len, p, len);
	if (s->a->body)
		explicit_bzero(s->a->body, s->a->len);
	free(s->a->body);
	s->a->body = more;
	s->a->len += len;
	more[s->a->len] = 0;
	return len;
}

/* A value a header can carry as it is: printable ASCII. A client names
 * itself, so this is the line between its name and a header it could
 * make up. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* "Name: value", or "Name;" for an empty value, which is how libcurl is
 * told to send a header it would otherwise leave out. */
static int add(struct curl_slist **h, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add(struct curl_slist **h, const char *name, const char *fmt, ...)
{
	char value[400], line[512];
	struct curl_slist *n;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(value))
		return -1;
	snprintf(line, sizeof(line), len ? "%s: %s" : "%s;", name, value);
	if (!(n = curl_slist_append(*h, line)))
		return -1;
	*h = n;
	return 0;
}

static int append(struct curl_slist **h, const char *line)
{
	struct curl_slist *n = curl_slist_append(*h, line);

	if (!n)
		return -1;
	*h = n;
	return 0;
}

static int add_indexed(struct curl_slist **h, size_t i, const char *what, const char *value)
{
	char name[48];

	snprintf(name, sizeof(name), "Spn-Attached-%zu-%s", i, what);
	return add(h, name, "%s", value);
}

/* Spn-Attached-<i>: the section's plaintext in base64, built in place:
 * it may be longer than a line of add's. */
static int add_attached(struct curl_slist **h, size_t i, const uint8_t *data, size_t len)
{
	char name[40];
	int nl = snprintf(name, sizeof(name), len ? "Spn-Attached-%zu: " : "Spn-Attached-%zu;", i);
	size_t total = (size_t)nl + BASE64_ENCODE_RAW_LENGTH(len) + 1;
	char *line = malloc(total);
	struct curl_slist *n;

	if (!line)
		return -1;
	memcpy(line, name, (size_t)nl);
	base64_encode_raw(line + nl, len, data);
	line[total - 1] = 0;
	n = curl_slist_append(*h, line);
	explicit_bzero(line, total);
	free(line);
	if (!n)
		return -1;
	*h = n;
	return 0;
}

static int headers(spn_request_t *req, const char *call_url, const char *token, struct curl_slist **h, char *why,
		   size_t cap)
{
	size_t n = spn_request_attached(req);
	const char *author = spn_request_author(req);
	int rc = 0;

	if (!printable(author) || !printable(spn_request_message_id(req))) {
		snprintf(why, cap, "the section's author or message id cannot be passed on in a header");
		return -1;
	}
	/* No Expect, or curl waits for a 100 Continue on larger bodies. */
	rc |= append(h, "Expect:");
	rc |= add(h, "Content-Type", "application/json");
	rc |= add(h, "Spn-Service", "%s", spn_request_service(req));
	rc |= add(h, "Spn-Message-Id", "%s", spn_request_message_id(req));
	rc |= add(h, "Spn-Author", "%s", author);
	rc |= add(h, "Spn-Author-Verified", "%s", spn_request_author_verified(req) ? "true" : "false");
	rc |= add(h, "Spn-Attached", "%zu", n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len;
		const uint8_t *d = spn_request_attached_data(req, i, &len);
		const char *a = spn_request_attached_author(req, i);
		if (!printable(a)) {
			snprintf(why, cap, "the author of carried section %zu cannot be passed on in a header", i);
			return -1;
		}
		rc |= add_attached(h, i, d ? d : (const uint8_t *)"", d ? len : 0);
		rc |= add_indexed(h, i, "Author", a);
		rc |= add_indexed(h, i, "Verified", spn_request_attached_verified(req, i) ? "true" : "false");
	}
	rc |= add(h, "Spn-Call", "%s", call_url);
	rc |= add(h, "Spn-Call-Token", "%s", token);
	if (rc)
		snprintf(why, cap, "the request to the service could not be built");
	return rc ? -1 : 0;
}

/* What went wrong, in the plugin's words: the caller learns what kind of
 * failure it was, never the service's own text. */
static void failed(CURLcode rc, const http_upstream_t *up, bool over, http_answer_t *a)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(a->why, sizeof(a->why), "the service did not answer within %lu ms", up->timeout_ms);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(a->why, sizeof(a->why), "the service is not reachable");
		break;
	case CURLE_GOT_NOTHING:
		snprintf(a->why, sizeof(a->why), "the service closed the connection without an answer");
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
		snprintf(a->why, sizeof(a->why), "the service's answer was cut off");
		break;
	default:
		if (over)
			snprintf(a->why, sizeof(a->why), "the service's answer is larger than %zu bytes", up->max_answer);
		else
			snprintf(a->why, sizeof(a->why), "the service could not be asked (%s)", curl_easy_strerror(rc));
	}
}

static void media_type(CURL *curl, http_answer_t *a)
{
	char *ct = NULL;
	size_t i = 0;

	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
	for (; ct && ct[i] && ct[i] != ';' && !isspace((unsigned char)ct[i]) && i + 1 < sizeof(a->type); i++)
		a->type[i] = (char)tolower((unsigned char)ct[i]);
	a->type[i] = 0;
}

int http_upstream_ask(CURL *curl, const http_upstream_t *up, spn_request_t *req, const char *call_url,
		      const char *token, http_answer_t *a)
{
	struct curl_slist *h = NULL;
	sink_t sink = {a, up->max_answer, false};
	size_t len;
	const uint8_t *data = spn_request_data(req, &len);
	CURLcode rc;

	memset(a, 0, sizeof(*a));
	if (headers(req, call_url, token, &h, a->why, sizeof(a->why))) {
		curl_slist_free_all(h);
		return -1;
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, up->url);
	if (up->socket)
		curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, up->socket);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data ? (const char *)data : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(data ? len : 0));
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)up->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	rc = curl_easy_perform(curl);
	/* The token and the carried sections were in these. */
	for (struct curl_slist *l = h; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		failed(rc, up, sink.over, a);
		http_answer_clear(a);
		return 0;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
	media_type(curl, a);
	return 0;
}

void http_answer_clear(http_answer_t *a)
{
	if (a->body)
		explicit_bzero(a->body, a->len);
	free(a->body);
	a->body = NULL;
	a->len = 0;
}
