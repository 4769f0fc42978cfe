/* The core's configuration schema. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_template.h"
#include "error.h"
#include "log.h"
#include "node.h"
#include "schema.h"

static const spn_conf_key_t node_keys[] = {
	{"node", "id", SPN_CONF_STR, 1, 0, NULL},
	{"node", "group", SPN_CONF_STR, 1, 0, NULL},
	{"node", "key", SPN_CONF_STR, 1, 0, NULL},
	{"node", "cert", SPN_CONF_STR, 1, 0, NULL},
	{"node", "root", SPN_CONF_STR, 1, 0, NULL},
	{"node", "key_passphrase_env", SPN_CONF_STR, 1, 0, NULL},
	{"node", "key_passphrase_file", SPN_CONF_STR, 1, 0, NULL},
	{"node", "parent", SPN_CONF_STR, 1, 0, NULL},
	{"node", "url", SPN_CONF_STR, 1, 0, NULL},
	{"log", "level", SPN_CONF_ENUM, 0, 0, "error|warn|info|debug"},
	{"log", "file", SPN_CONF_STR, 0, 0, NULL},
};

int spn_schema_check(const spn_conf_t *c)
{
	static const char *const others[] = {"plugin.", NULL};
	size_t n = sizeof(node_keys) / sizeof(node_keys[0]);
	size_t total = n + spn_ca_conf_nkeys + spn_node_http_nkeys + spn_node_plugin_nkeys;
	spn_conf_key_t *all = malloc(total * sizeof(*all));
	int rc;

	if (!all)
		return SPN_ENOMEM;
	memcpy(all, node_keys, sizeof(node_keys));
	memcpy(all + n, spn_ca_conf_keys, spn_ca_conf_nkeys * sizeof(*all));
	memcpy(all + n + spn_ca_conf_nkeys, spn_node_http_keys, spn_node_http_nkeys * sizeof(*all));
	memcpy(all + n + spn_ca_conf_nkeys + spn_node_http_nkeys, spn_node_plugin_keys,
	       spn_node_plugin_nkeys * sizeof(*all));
	rc = spn_conf_check(c, all, total, others);
	free(all);
	if (rc == 0) {
		const char **sections;
		size_t n_sections;
		spn_role_t role;
		if ((rc = spn_conf_sections(c, "profile.", &sections, &n_sections)))
			return rc;
		for (size_t i = 0; rc == 0 && i < n_sections; i++)
			if (spn_role_parse(sections[i] + strlen("profile."), &role) != 0)
				rc = spn_err(SPN_ECONFIG, "%s: [%s]: unknown section (profiles are psp, admin, spn, client)",
					     spn_conf_file(c), sections[i]);
		free(sections);
	}
	/* A template wider than its role's profile stops the check, as it
	 * would stop the CA from opening. */
	if (rc == 0)
		rc = spn_ca_templates_check(c);
	if (rc == 0 && !spn_conf_get(c, "node", "id"))
		rc = spn_err(SPN_ECONFIG, "%s: [node] id: required", spn_conf_file(c));
	if (rc == 0 && !spn_name_is_valid(spn_conf_get(c, "node", "id")))
		rc = spn_err(SPN_ECONFIG, "%s: [node] id: '%s' is not a valid node id", spn_conf_file(c),
			     spn_conf_get(c, "node", "id"));
	return rc;
}

int spn_schema_open_log(const spn_conf_t *c)
{
	spn_log_level_t level = SPN_LOG_INFO;
	int rc = spn_log_level_parse(spn_conf_str(c, "log", "level", "info"), &level);
	char *file = NULL;

	if (rc)
		return rc;
	if (spn_conf_get(c, "log", "file") && *spn_conf_get(c, "log", "file") &&
	    (rc = spn_conf_path(c, "log", "file", NULL, &file)))
		return rc;
	rc = spn_log_open(file, level);
	free(file);
	return rc;
}
