/* policy: an example of the PSP's CA policy hooks. Each administrator may
 * grant only the services listed for it (an administrator not listed may
 * grant any); certificates can be given a shorter life than the role's
 * profile; and every issuance is logged with what it grants. */
#include <stdio.h>
#include <string.h>

#include "spn/plugin.h"

static const spn_plugin_opt_t options[] = {
	{"allow", SPN_OPT_STRING, "", 0, 0, "admin:service|service, ... (an administrator not listed may grant any)"},
	{"max_validity", SPN_OPT_UINT, "0", 0, 315360000, "seconds a certificate may last at most (0: the profile's)"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* Whether the allow list lets admin grant service; *listed says whether
 * the administrator is in it at all. */
static bool allowed(const char *list, const char *admin, const char *service, bool *listed)
{
	size_t al = strlen(admin), sl = strlen(service);

	*listed = false;
	for (const char *p = list; p && *p;) {
		const char *end = p + strcspn(p, ","), *colon;
		while (*p == ' ')
			p++;
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon && (size_t)(colon - p) == al && strncmp(p, admin, al) == 0) {
			*listed = true;
			for (const char *s = colon + 1; s < end;) {
				size_t l = strcspn(s, "|,");
				while (l && s[l - 1] == ' ')
					l--;
				if (l == sl && strncmp(s, service, sl) == 0)
					return true;
				s += strcspn(s, "|,");
				if (*s == '|')
					s++;
				else
					break;
			}
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

static int authorize(spn_plugin_ctx_t *ctx, spn_ca_request_t *r)
{
	const char *admin = spn_ca_request_accepted_by(r);

	for (size_t i = 0; i < spn_ca_request_services(r); i++) {
		bool listed;
		const char *svc = spn_ca_request_service(r, i);
		if (!allowed(spn_plugin_opt(ctx, "allow"), admin, svc, &listed) && listed) {
			char why[200];
			snprintf(why, sizeof(why), "%s may not grant service %s", admin, svc);
			spn_ca_request_refuse(r, why);
			spn_plugin_log(ctx, SPN_PLUGIN_LOG_WARN, "refused %s: %s", spn_ca_request_node(r), why);
			return -1;
		}
	}
	return 0;
}

static int adjust(spn_plugin_ctx_t *ctx, spn_ca_request_t *r)
{
	unsigned long max = spn_plugin_opt_uint(ctx, "max_validity");

	if (max && spn_ca_request_validity(r) > max) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "%s: validity cut from %lus to %lus", spn_ca_request_node(r),
			       spn_ca_request_validity(r), max);
		spn_ca_request_set_validity(r, max);
	}
	return 0;
}

static void issued(spn_plugin_ctx_t *ctx, spn_ca_request_t *r)
{
	char services[512] = "";
	size_t off = 0;

	for (size_t i = 0; i < spn_ca_request_services(r) && off < sizeof(services); i++)
		off += (size_t)snprintf(services + off, sizeof(services) - off, "%s%s", i ? "," : "",
					spn_ca_request_service(r, i));
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "issued %s to %s (%s, trust %u, services %s, %lus) accepted by %s",
		       spn_ca_request_serial(r), spn_ca_request_node(r), spn_ca_request_role(r), spn_ca_request_trust(r),
		       services[0] ? services : "none", spn_ca_request_validity(r), spn_ca_request_accepted_by(r));
}

SPN_PLUGIN(policy, .options = options, .ca_authorize = authorize, .ca_adjust = adjust, .ca_issued = issued);
