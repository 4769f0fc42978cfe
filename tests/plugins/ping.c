/* Test plugins ping, pong and relay (one source, three modules): each
 * calls another service and replies with what it heard. Ping and pong call
 * each other, in a circle that spnd must refuse, not wait on, whether they
 * run on one node or two; relay calls echo. */
#include <stdio.h>
#include <string.h>

#include "spn/plugin.h"

#ifndef ME
#define ME ping
#define OTHER "pong"
#endif
#define STR(x) #x
#define NAME(x) STR(x)

static const char *const services[] = {NAME(ME), NULL};

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	uint8_t *heard = NULL;
	size_t len, hl = 0;
	const uint8_t *d = spn_request_data(req, &len);
	char out[1024];
	int rc = spn_request_call(req, OTHER, d, len, &heard, &hl);
	int n = snprintf(out, sizeof(out), "%s: %s %s %.*s", NAME(ME), OTHER, rc ? "failed:" : "said", (int)hl,
			 heard ? (const char *)heard : "");

	(void)ctx;
	spn_plugin_free(heard);
	return spn_request_reply(req, out, (size_t)n);
}

/* One more level, so that ME is expanded before SPN_PLUGIN pastes it. */
#define PLUGIN_OF(n) SPN_PLUGIN(n, services, NULL, NULL, handle, NULL)
PLUGIN_OF(ME);
