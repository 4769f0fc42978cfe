/* The call endpoint (callpoint.h). The upstream calls it while the plugin
 * process's main thread waits for the upstream's answer, so the call is
 * made from the endpoint's thread; the lock makes the main thread's
 * closing wait for a call in flight, so that the socket to spnd never
 * carries a call and the section's reply at once. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <nettle/memops.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "callpoint.h"

#define PREFIX "/call/"
#define SERVICE_MAX 64

struct http_callpoint {
	spn_plugin_ctx_t *ctx;
	struct MHD_Daemon *d;
	size_t max_call;
	char url[64];
	pthread_mutex_t lock;
	spn_request_t *req; /* NULL: closed */
	char token[HTTP_TOKEN_HEX + 1];
};

/* One call's body as it arrives. */
typedef struct {
	uint8_t *data;
	size_t len;
	bool too_big;
} upload_t;

/* A callee's reply is a section's plaintext: wiped when MHD is done. */
static void wipe_free(void *cls)
{
	upload_t *copy = cls;

	explicit_bzero(copy->data, copy->len);
	free(copy->data);
	free(copy);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const void *body, size_t len)
{
	upload_t *copy = calloc(1, sizeof(*copy));
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (!copy || !(copy->data = malloc(len ? len : 1))) {
		free(copy);
		return MHD_NO;
	}
	memcpy(copy->data, body, len);
	copy->len = len;
	if (!(r = MHD_create_response_from_buffer_with_free_callback_cls(len, copy->data, wipe_free, copy))) {
		wipe_free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result error(struct MHD_Connection *c, unsigned status, const char *name, const char *reason)
{
	json_object *o = json_object_new_object();
	size_t len;
	const char *t;
	enum MHD_Result rc;

	json_object_object_add(o, "error", json_object_new_string(name));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	rc = respond(c, status, t, len);
	json_object_put(o);
	return rc;
}

/* The same rule as spnd's (a service is a name of a group): a refusal
 * here is clearer than one from the far end. */
static bool service_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SERVICE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		      s[i] == '.'))
			return false;
	return true;
}

/* Under the lock: whether token opens the endpoint now. */
static bool opens(const http_callpoint_t *cp, const char *token)
{
	return cp->req && token && strlen(token) == HTTP_TOKEN_HEX &&
	       memeql_sec(token, cp->token, HTTP_TOKEN_HEX);
}

static enum MHD_Result forbidden(struct MHD_Connection *c)
{
	return error(c, MHD_HTTP_FORBIDDEN, "forbidden",
		     "no section of this node is waiting for an answer with that Spn-Call-Token");
}

static bool token_opens(http_callpoint_t *cp, const char *token)
{
	bool yes;

	pthread_mutex_lock(&cp->lock);
	yes = opens(cp, token);
	pthread_mutex_unlock(&cp->lock);
	return yes;
}

static enum MHD_Result call(http_callpoint_t *cp, struct MHD_Connection *c, const char *service, upload_t *u)
{
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Spn-Call-Token");
	uint8_t *reply = NULL;
	size_t rlen = 0;
	int rc;
	enum MHD_Result r;

	pthread_mutex_lock(&cp->lock);
	if (!opens(cp, token)) {
		pthread_mutex_unlock(&cp->lock);
		return forbidden(c);
	}
	rc = spn_request_call(cp->req, service, u->data ? u->data : (const uint8_t *)"", u->len, &reply, &rlen);
	/* Under the lock: a log line is a frame on the socket to spnd, which
	 * the main thread may write once the endpoint is closed. */
	spn_plugin_log(cp->ctx, rc ? SPN_PLUGIN_LOG_WARN : SPN_PLUGIN_LOG_DEBUG, "a call to %s through the endpoint: %s",
		       service, rc ? "failed" : "answered");
	pthread_mutex_unlock(&cp->lock);
	r = rc ? error(c, MHD_HTTP_BAD_GATEWAY, "call_failed", reply ? (const char *)reply : "the call failed")
	       : respond(c, MHD_HTTP_OK, reply ? reply : (const uint8_t *)"", rlen);
	if (reply)
		explicit_bzero(reply, rlen);
	spn_plugin_free(reply);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *size, void **con_cls)
{
	http_callpoint_t *cp = cls;
	upload_t *u = *con_cls;
	const char *service = strncmp(url, PREFIX, strlen(PREFIX)) == 0 ? url + strlen(PREFIX) : NULL;

	(void)version;
	if (!u) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
				     "the endpoint takes POST /call/<service>");
		if (!service)
			return error(c, MHD_HTTP_NOT_FOUND, "not_found", "the endpoint serves /call/<service> only");
		/* Checked before the body is taken, and again before the call:
		 * without the token, nothing is held for anyone. */
		if (!token_opens(cp, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Spn-Call-Token")))
			return forbidden(c);
		if (!(u = calloc(1, sizeof(*u))))
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*size) {
		if (!u->too_big && u->len + *size > cp->max_call) {
			u->too_big = true;
		} else if (!u->too_big) {
			/* Not realloc: the old copy is wiped before it is freed. */
			uint8_t *more = malloc(u->len + *size);
			if (!more)
				return MHD_NO;
			if (u->len)
				memcpy(more, u->data, u->len);
			memcpy(more + u->len, data, *size);
			if (u->data)
				explicit_bzero(u->data, u->len);
			free(u->data);
			u->data = more;
			u->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "the call's body is larger than max_call");
	if (!service_ok(service))
		return error(c, MHD_HTTP_BAD_REQUEST, "bad_service", "the path names no service: /call/<service>");
	return call(cp, c, service, u);
}

/* The body is a section: wiped before it is freed. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	upload_t *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!u)
		return;
	if (u->data)
		explicit_bzero(u->data, u->len);
	free(u->data);
	free(u);
	*con_cls = NULL;
}

http_callpoint_t *http_callpoint_start(spn_plugin_ctx_t *ctx, size_t max_call)
{
	http_callpoint_t *cp = calloc(1, sizeof(*cp));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	const union MHD_DaemonInfo *info;

	if (!cp)
		return NULL;
	cp->ctx = ctx;
	cp->max_call = max_call;
	pthread_mutex_init(&cp->lock, NULL);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cp->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_request, cp,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT, 16U,
				 MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_NOTIFY_COMPLETED, completed, cp,
				 MHD_OPTION_END);
	if (!cp->d || !(info = MHD_get_daemon_info(cp->d, MHD_DAEMON_INFO_BIND_PORT)) || !info->port) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR,
			       "the call endpoint cannot listen on 127.0.0.1 (does [plugin.<name>] connect list the "
			       "upstreams' ports?)");
		http_callpoint_stop(cp);
		return NULL;
	}
	snprintf(cp->url, sizeof(cp->url), "http://127.0.0.1:%u" PREFIX, (unsigned)info->port);
	return cp;
}

const char *http_callpoint_url(const http_callpoint_t *cp)
{
	return cp->url;
}

int http_callpoint_open(http_callpoint_t *cp, spn_request_t *req, char token[HTTP_TOKEN_HEX + 1])
{
	uint8_t r[HTTP_TOKEN_HEX / 2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(token + 2 * i, 3, "%02x", r[i]);
	explicit_bzero(r, sizeof(r));
	pthread_mutex_lock(&cp->lock);
	memcpy(cp->token, token, HTTP_TOKEN_HEX + 1);
	cp->req = req;
	pthread_mutex_unlock(&cp->lock);
	return 0;
}

void http_callpoint_close(http_callpoint_t *cp)
{
	pthread_mutex_lock(&cp->lock);
	cp->req = NULL;
	explicit_bzero(cp->token, sizeof(cp->token));
	pthread_mutex_unlock(&cp->lock);
}

void http_callpoint_stop(http_callpoint_t *cp)
{
	if (!cp)
		return;
	if (cp->d)
		MHD_stop_daemon(cp->d);
	pthread_mutex_destroy(&cp->lock);
	free(cp);
}
