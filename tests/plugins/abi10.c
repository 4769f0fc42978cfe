/* abi10: a plugin as it was built against ABI 1.0, before replies to
 * carried sections were apart: its descriptor spelled out with minor
 * version 0, and only the 1.0 calls. spnd must keep loading and running
 * it; its carried sections are answered that they were handled, never
 * with its reply to the caller. */
#include <stdio.h>
#include <string.h>

#include "spn/plugin.h"

static const char *const services[] = {"pong", NULL};

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	char out[256];
	size_t len;
	const uint8_t *d = spn_request_data(req, &len);
	int n = snprintf(out, sizeof(out), "abi 1.0 plugin on %s: %zu byte(s), %zu carried", spn_plugin_node(ctx), len,
			 spn_request_attached(req));

	(void)d;
	return spn_request_reply(req, out, (size_t)n);
}

__attribute__((visibility("default"))) const spn_plugin_t abi10_LTX_spn_plugin = {
	.abi_major = 1, .abi_minor = 0, .name = "abi10", .services = services, .handle = handle};
