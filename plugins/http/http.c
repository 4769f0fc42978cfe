/* http: hands each section of the services it provides to a local HTTP
 * service, its upstream, and turns the upstream's answer into the reply,
 * so that an existing REST application joins a group without a line of C
 * (doc/rest-services.md). Each plugin process keeps one libcurl handle
 * (its connections to the upstreams stay open between sections) and one
 * call endpoint. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "answer.h"
#include "callpoint.h"
#include "upstream.h"

#define SERVICES_MAX 32 /* as many as spnd gives a plugin */
#define TIMEOUT_S 5

static const char *const services[] = {SPN_PLUGIN_CONFIGURED_SERVICES, NULL};

static const spn_plugin_opt_t options[] = {
	{"upstream.*", SPN_OPT_STRING, NULL, 0, 0, "where a service's sections go: an http:// URL on this machine"},
	{"socket.*", SPN_OPT_STRING, NULL, 0, 0, "the upstream's unix socket, when it listens on one (absolute)"},
	{"timeout.*", SPN_OPT_UINT, NULL, 1, 3600, "seconds the service may take for a section (5)"},
	{"max_answer.*", SPN_OPT_UINT, NULL, 2, 16UL << 20, "the largest answer taken from the service, bytes (65536)"},
	{"concurrency.*", SPN_OPT_UINT, NULL, 1, 1024, "at most this many of the service's requests at once"},
	{"max_call", SPN_OPT_UINT, "1048576", 2, 16UL << 20, "the largest section the service may send in a call"},
	{NULL, 0, NULL, 0, 0, NULL},
};

typedef struct {
	http_upstream_t up[SERVICES_MAX];
	size_t n;
	CURL *curl;
	http_callpoint_t *cp;
} state_t;

static const char *opt(spn_plugin_ctx_t *ctx, const char *family, const char *service, char *key, size_t cap)
{
	snprintf(key, cap, "%s.%s", family, service);
	return spn_plugin_opt(ctx, key);
}

/* Whether url is http:// on this machine: the section and the call token
 * travel to it unencrypted. Through a unix socket the host is only the
 * Host header. */
static bool local(const char *url, bool socket)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool yes = false;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && strcmp(scheme, "http") == 0 &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		yes = socket || strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
		      (strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == strlen(host));
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return yes;
}

/* One service's settings, checked: each error names its key. */
static int configure(spn_plugin_ctx_t *ctx, const char *service, http_upstream_t *up)
{
	unsigned long section_ms = spn_plugin_timeout_ms(ctx);
	char key[96];
	const char *v;

	up->service = service;
	if (!(up->url = opt(ctx, "upstream", service, key, sizeof(key)))) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "%s: required: the URL of the service that handles %s", key,
			       service);
		return -1;
	}
	if ((up->socket = opt(ctx, "socket", service, key, sizeof(key))) && up->socket[0] != '/') {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "%s: an absolute path", key);
		return -1;
	}
	if (!local(up->url, up->socket != NULL)) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "upstream.%s: an http:// URL on this machine (localhost, "
			       "127.0.0.0/8 or [::1]): sections go to it in plaintext", service);
		return -1;
	}
	/* Under spnd's bound on the section, with room to answer: past it,
	 * the process would be stopped instead of the failure told. */
	v = opt(ctx, "timeout", service, key, sizeof(key));
	up->timeout_ms = v ? spn_plugin_opt_uint(ctx, key) * 1000 : TIMEOUT_S * 1000;
	if (!v && section_ms && up->timeout_ms + 500 > section_ms)
		up->timeout_ms = section_ms > 1000 ? section_ms - 500 : section_ms / 2;
	if (section_ms && up->timeout_ms >= section_ms) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR,
			       "%s: %lu s is not under the plugin's timeout (%lu ms), spnd's bound on the whole section", key,
			       up->timeout_ms / 1000, section_ms);
		return -1;
	}
	up->max_answer = opt(ctx, "max_answer", service, key, sizeof(key)) ? spn_plugin_opt_uint(ctx, key) : 65536;
	up->limit = opt(ctx, "concurrency", service, key, sizeof(key)) ? spn_plugin_opt_uint(ctx, key) : 0;
	/* Slots are locks on files in the data directory (the working
	 * directory), shared by the plugin's processes. */
	if (up->limit && access(".", W_OK) != 0) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "%s: needs the plugin's data directory ([plugin.<name>] data)",
			       key);
		return -1;
	}
	return 0;
}

static void fini(spn_plugin_ctx_t *ctx)
{
	state_t *s = spn_plugin_state(ctx);

	if (!s)
		return;
	http_callpoint_stop(s->cp);
	if (s->curl)
		curl_easy_cleanup(s->curl);
	curl_global_cleanup();
	free(s);
	spn_plugin_set_state(ctx, NULL);
}

static int init(spn_plugin_ctx_t *ctx)
{
	state_t *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	spn_plugin_set_state(ctx, s);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(s->curl = curl_easy_init())) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "libcurl could not be initialised");
		fini(ctx);
		return -1;
	}
	if (spn_plugin_services(ctx) > SERVICES_MAX) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "more than %d services", SERVICES_MAX);
		fini(ctx);
		return -1;
	}
	for (; s->n < spn_plugin_services(ctx); s->n++)
		if (configure(ctx, spn_plugin_service(ctx, s->n), &s->up[s->n])) {
			fini(ctx);
			return -1;
		}
	if (!(s->cp = http_callpoint_start(ctx, spn_plugin_opt_uint(ctx, "max_call")))) {
		fini(ctx);
		return -1;
	}
	return 0;
}

/* A slot of the service's limit: a descriptor holding the lock, -1 when
 * all are taken (told at once, as a proxy's circuit breaker does, rather
 * than queued behind a slow service), or -2 when the file cannot be
 * opened. Locks go with the process, a killed one's too. */
static int slot(const http_upstream_t *up)
{
	char name[96];
	int fd;

	for (unsigned long i = 0; i < up->limit; i++) {
		snprintf(name, sizeof(name), "%s.slot%lu", up->service, i);
		if ((fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
			return -2;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

static int ask(state_t *s, const http_upstream_t *up, spn_request_t *req)
{
	char token[HTTP_TOKEN_HEX + 1];
	http_answer_t a;
	int rc;

	if (http_callpoint_open(s->cp, req, token)) {
		spn_request_fail(req, "no call token could be made");
		return -1;
	}
	rc = http_upstream_ask(s->curl, up, req, http_callpoint_url(s->cp), token, &a);
	/* From here on the token opens nothing, and no call is in flight. */
	http_callpoint_close(s->cp);
	explicit_bzero(token, sizeof(token));
	if (rc) {
		spn_request_fail(req, a.why);
		return -1;
	}
	rc = http_answer_deliver(req, &a);
	http_answer_clear(&a);
	return rc;
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	state_t *s = spn_plugin_state(ctx);
	const char *service = spn_request_service(req);
	const http_upstream_t *up = NULL;
	int fd = -1, rc;

	for (size_t i = 0; i < s->n && !up; i++)
		if (strcmp(s->up[i].service, service) == 0)
			up = &s->up[i];
	if (!up) {
		spn_request_fail(req, "this plugin has no upstream for the service");
		return -1;
	}
	if (up->limit && (fd = slot(up)) < 0) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_WARN, "message %s: %s at its limit of %lu requests at once",
			       spn_request_message_id(req), service, up->limit);
		spn_request_fail(req, fd == -1 ? "the service is at its limit of requests at once; try again"
					       : "the service's request slots cannot be opened");
		return -1;
	}
	rc = ask(s, up, req);
	if (fd >= 0)
		close(fd);
	spn_plugin_log(ctx, rc ? SPN_PLUGIN_LOG_WARN : SPN_PLUGIN_LOG_INFO, "message %s: %s from %s %s",
		       spn_request_message_id(req), service, spn_request_author(req),
		       rc ? "not completed by the service" : "answered by the service");
	return rc;
}

SPN_PLUGIN(http, services, options, init, handle, fini);
