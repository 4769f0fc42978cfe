/* echo: answers each section with what it received and who sent it. For
 * tests, and the smallest example of a plugin. It provides "echo", or the
 * services its section names ([plugin.echo] services): spnd answers no
 * service by itself, so a deliberate echo is this plugin, enabled for it.
 * With faults = true (tests only) a section saying "crash", "hang" or
 * "fail" makes it do that. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spn/plugin.h"

static const char *const services[] = {"echo", SPN_PLUGIN_CONFIGURED_SERVICES, NULL};

static const spn_plugin_opt_t options[] = {
	{"faults", SPN_OPT_BOOL, "false", 0, 0, "tests only: act on crash, hang and fail"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* How many sections this process has answered: a test sees from it that
 * the sections it forged were not acted on. */
typedef struct {
	unsigned long handled;
} state_t;

static int init(spn_plugin_ctx_t *ctx)
{
	state_t *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	spn_plugin_set_state(ctx, st);
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "ready on %s%s", spn_plugin_node(ctx),
		       spn_plugin_opt_bool(ctx, "faults") ? " (faults on: for tests only)" : "");
	return 0;
}

static void fini(spn_plugin_ctx_t *ctx)
{
	free(spn_plugin_state(ctx));
}

/* JSON string content: quotes, backslashes and control bytes escaped. */
static void quoted(FILE *f, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(f, "\\%c", s[i]);
		else if (s[i] < 0x20)
			fprintf(f, "\\u%04x", s[i]);
		else
			fputc(s[i], f);
	}
}

/* {"plugin": "echo", ..., "echo": "<the section>"} for one section, with
 * the number of sections this process handled when handled is not 0. */
static int echo_of(spn_plugin_ctx_t *ctx, spn_request_t *req, const char *author, bool verified, const uint8_t *d,
		   size_t len, unsigned long handled, char **out, size_t *out_len)
{
	FILE *f = open_memstream(out, out_len);

	if (!f)
		return -1;
	fprintf(f, "{\"plugin\":\"echo\",\"node\":\"%s\",\"service\":\"%s\",\"from\":\"%s\",\"verified\":%s,"
		   "\"message\":\"%s\",\"echo\":\"",
		spn_plugin_node(ctx), spn_request_service(req), author, verified ? "true" : "false",
		spn_request_message_id(req));
	quoted(f, d, len);
	if (handled)
		fprintf(f, "\",\"handled\":%lu}", handled);
	else
		fprintf(f, "\"}");
	return fclose(f) == 0 ? 0 : -1;
}

/* The caller gets the echo of its section; each carried section's client,
 * privately, the echo of its own. */
static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	state_t *st = spn_plugin_state(ctx);
	size_t len;
	const uint8_t *d = spn_request_data(req, &len);
	char *out = NULL;
	size_t out_len = 0;
	int rc;

	if (spn_plugin_opt_bool(ctx, "faults")) {
		if (len == 5 && memcmp(d, "crash", 5) == 0)
			raise(SIGSEGV);
		if (len == 4 && memcmp(d, "hang", 4) == 0)
			for (;;)
				pause();
		if (len == 4 && memcmp(d, "fail", 4) == 0) {
			spn_request_fail(req, "asked to fail");
			return -1;
		}
	}
	for (size_t i = 0; i < spn_request_attached(req); i++) {
		size_t alen;
		const uint8_t *a = spn_request_attached_data(req, i, &alen);
		if (echo_of(ctx, req, spn_request_attached_author(req, i), spn_request_attached_verified(req, i), a, alen, 0,
			    &out, &out_len))
			return -1;
		spn_request_attached_reply(req, i, out, out_len);
		free(out);
		out = NULL;
	}
	if (echo_of(ctx, req, spn_request_author(req), spn_request_author_verified(req), d, len, ++st->handled, &out,
		    &out_len))
		return -1;
	rc = spn_request_reply(req, out, out_len);
	free(out);
	return rc;
}

SPN_PLUGIN(echo, services, options, init, handle, fini);
