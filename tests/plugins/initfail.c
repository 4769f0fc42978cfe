/* Test plugin: its init refuses, saying why; and it requires an option. */
#include "spn/plugin.h"

static const char *const services[] = {"echo", NULL};
static const spn_plugin_opt_t options[] = {
	{"ledger", SPN_OPT_PATH, NULL, 0, 0, "required"},
	{"limit", SPN_OPT_UINT, "10", 1, 100, "a number from 1 to 100"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int init(spn_plugin_ctx_t *ctx)
{
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "cannot open %s: refusing to start", spn_plugin_opt(ctx, "ledger"));
	return -1;
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	(void)ctx;
	return spn_request_reply(req, "x", 1);
}

SPN_PLUGIN(initfail, services, options, init, handle, NULL);
