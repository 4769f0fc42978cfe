/* Test plugin: built for an ABI major version spnd does not take. */
#include "spn/plugin.h"

static const char *const services[] = {"echo", NULL};

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	(void)ctx;
	return spn_request_reply(req, "x", 1);
}

__attribute__((visibility("default"))) const spn_plugin_t badabi_LTX_spn_plugin = {
	.abi_major = SPN_PLUGIN_ABI_MAJOR + 1, .abi_minor = 0, .name = "badabi", .services = services, .handle = handle};
