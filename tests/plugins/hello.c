/* A plugin built outside spn's tree with nothing but pkg-config and the
 * installed header: cc -shared -fPIC $(pkg-config --cflags spn-plugin). */
#include <stdio.h>
#include <string.h>

#include <spn/plugin.h>

static const char *const services[] = {"echo", NULL};
static const spn_plugin_opt_t options[] = {
	{"greeting", SPN_OPT_STRING, "hello", 0, 0, "what to say"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	char out[512];
	size_t len;
	const uint8_t *d = spn_request_data(req, &len);
	int n = snprintf(out, sizeof(out), "%s, %s: you said %.*s", spn_plugin_opt(ctx, "greeting"),
			 spn_request_author(req), (int)(len > 200 ? 200 : len), (const char *)d);

	return spn_request_reply(req, out, (size_t)n);
}

SPN_PLUGIN(hello, services, options, NULL, handle, NULL);
