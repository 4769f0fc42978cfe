/* Test plugin: its descriptor names another plugin than its file. */
#include "spn/plugin.h"

static const char *const services[] = {"echo", NULL};

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	(void)ctx;
	return spn_request_reply(req, "x", 1);
}

__attribute__((visibility("default"))) const spn_plugin_t misnamed_LTX_spn_plugin = {
	.abi_major = SPN_PLUGIN_ABI_MAJOR, .abi_minor = SPN_PLUGIN_ABI_MINOR, .name = "someone-else", .services = services, .handle = handle};
