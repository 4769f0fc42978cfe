/* The plugins of a node ([plugins] and [plugin.<name>], doc/plugin-guide.md):
 * started on the main thread before the server and the worker, each in its
 * own process; a plugin that cannot start stops spnd with its name, its
 * file and the reason. Each service the node's certificate lists is
 * handled by the plugin that provides it: spnd has no service of its own,
 * so a node that would leave one without a plugin does not start. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "log.h"
#include "node_internal.h"
#include "plugin.h"

#ifndef SPN_PLUGINDIR
#define SPN_PLUGINDIR "/usr/local/lib/spn/plugins"
#endif
#ifndef SPN_PLUGIN_HOST
#define SPN_PLUGIN_HOST "/usr/local/libexec/spn/spn-plugin-host"
#endif

const spn_conf_key_t spn_node_plugin_keys[] = {
	{"plugins", "enable", SPN_CONF_LIST, 0, 0, NULL},
	{"plugins", "path", SPN_CONF_STR, 1, 0, NULL},
	{"plugins", "host", SPN_CONF_STR, 1, 0, NULL},
	{"plugins", "user", SPN_CONF_STR, 1, 0, NULL},
};
const size_t spn_node_plugin_nkeys = sizeof(spn_node_plugin_keys) / sizeof(spn_node_plugin_keys[0]);

/* The search path with each relative directory made relative to the
 * configuration file. */
static char *search_path(const spn_conf_t *c)
{
	const char *p = spn_conf_str(c, "plugins", "path", SPN_PLUGINDIR);
	size_t cap = strlen(p) * 2 + strlen(spn_conf_dir(c)) * 8 + 64, off = 0;
	char *out = malloc(cap), *copy = strdup(p), *save = NULL;

	if (!out || !copy) {
		free(out);
		free(copy);
		return NULL;
	}
	out[0] = '\0';
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *abs = d[0] == '/' ? strdup(d) : spn_file_join(spn_conf_dir(c), d);
		if (abs && off + strlen(abs) + 2 < cap)
			off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? ":" : "", abs);
		free(abs);
	}
	free(copy);
	return out;
}

static int check_sections(const spn_conf_t *c, const char *enable)
{
	const char **sections;
	size_t n;
	int rc;

	if ((rc = spn_conf_sections(c, "plugin.", &sections, &n)))
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *name = sections[i] + strlen("plugin."), *hit = strstr(enable, name);
		size_t l = strlen(name);
		while (hit && ((hit != enable && hit[-1] != ',' && hit[-1] != ' ') ||
			       (hit[l] && hit[l] != ',' && hit[l] != ' ')))
			hit = strstr(hit + 1, name);
		if (!hit)
			rc = spn_err(SPN_ECONFIG, "%s: [%s] configures a plugin that [plugins] enable does not list",
				     spn_conf_file(c), sections[i]);
	}
	free(sections);
	return rc;
}

static int take(spn_node_t *n, spn_plugin_proc_t *p)
{
	const char *const *svc = spn_plugin_proc_services(p);
	bool any = false;
	spn_plugin_proc_t **grown;

	if (!svc[0]) {
		if (!n->ca)
			return spn_err(SPN_ECONFIG, "plugin %s has CA policy hooks only, which run on the PSP only",
				       spn_plugin_proc_name(p));
		goto keep;
	}
	for (size_t i = 0; svc[i]; i++) {
		spn_plugin_proc_t *other = spn_node_plugin_for(n, svc[i]);
		if (other)
			return spn_err(SPN_ECONFIG, "plugins %s and %s both provide service %s",
				       spn_plugin_proc_name(other), spn_plugin_proc_name(p), svc[i]);
		any |= spn_ident_provides(&n->id, svc[i]);
	}
	if (!any) {
		char list[256];
		return spn_err(SPN_ECONFIG, "plugin %s provides %s%s, which this node's certificate does not list (it "
					    "lists: %s)",
			       spn_plugin_proc_name(p), svc[0], svc[1] ? " and more" : "",
			       spn_ident_services_str(&n->id, list, sizeof(list))[0] ? list : "no service");
	}
keep:
	if (!(grown = realloc(n->plugins, (n->n_plugins + 1) * sizeof(*grown))))
		return SPN_ENOMEM;
	n->plugins = grown;
	n->plugins[n->n_plugins++] = p;
	return 0;
}

/* Every service the certificate lists has its plugin; the refusal names
 * those without and how to give them one. */
static int uncovered(spn_node_t *n)
{
	char missing[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 2)] = "";
	size_t off = 0, count = 0;

	for (size_t i = 0; i < n->id.n_services; i++)
		if (!spn_node_plugin_for(n, n->id.services[i])) {
			off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s%s", count ? ", " : "",
						n->id.services[i]);
			count++;
		}
	if (!count)
		return 0;
	return spn_err(SPN_ECONFIG, "%s: this node's certificate lists service%s %s, which no enabled plugin provides: "
				    "enable a plugin that provides %s in [plugins] enable, or, to answer with what was "
				    "sent, the echo plugin with [plugin.echo] services = %s",
		       spn_conf_file(n->conf), count > 1 ? "s" : "", missing, count > 1 ? "each" : "it", missing);
}

static int ca_hook(void *user, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r);

/* What [plugins] says: the enabled names (a copy to cut up), the search
 * path and the host; each freed by the caller, also on failure. */
static int plugins_conf(const spn_conf_t *c, char **list, char **path, char **host)
{
	const char *enable = spn_conf_str(c, "plugins", "enable", "");
	int rc;

	*host = NULL;
	*list = strdup(enable);
	*path = search_path(c);
	if (!*list || !*path)
		return SPN_ENOMEM;
	if ((rc = check_sections(c, enable)))
		return rc;
	return spn_conf_path(c, "plugins", "host", SPN_PLUGIN_HOST, host);
}

int spn_node_plugins_check(const spn_conf_t *c)
{
	char *list, *path, *host, *save = NULL;
	int rc = plugins_conf(c, &list, &path, &host);

	for (char *name = rc ? NULL : strtok_r(list, ", ", &save); name && rc == 0;
	     name = strtok_r(NULL, ", ", &save)) {
		spn_plugin_spec_t spec = {name, host, path, spn_conf_str(c, "node", "id", ""), c, true};
		spn_plugin_proc_t *p = NULL;
		if ((rc = spn_plugin_proc_start(&spec, &p)) == 0)
			spn_plugin_proc_stop(p);
	}
	free(list);
	free(path);
	free(host);
	return rc;
}

int spn_node_plugins_start(spn_node_t *n)
{
	const spn_conf_t *c = n->conf;
	char *list, *save = NULL, *path, *host;
	int rc;

	if ((rc = plugins_conf(c, &list, &path, &host)))
		goto out;
	for (char *name = strtok_r(list, ", ", &save); name && rc == 0; name = strtok_r(NULL, ", ", &save)) {
		spn_plugin_spec_t spec = {name, host, path, n->id.node_id, c, false};
		spn_plugin_proc_t *p = NULL;
		for (size_t i = 0; i < n->n_plugins; i++)
			if (strcmp(spn_plugin_proc_name(n->plugins[i]), name) == 0)
				rc = spn_err(SPN_ECONFIG, "%s: [plugins] enable: %s is listed twice", spn_conf_file(c), name);
		if (rc)
			break;
		if ((rc = spn_plugin_proc_start(&spec, &p)))
			break;
		if ((rc = take(n, p)))
			spn_plugin_proc_stop(p);
	}
	if (rc == 0)
		rc = uncovered(n);
	if (rc) {
		spn_node_plugins_stop(n);
		rc = spn_err(rc, "%s", spn_err_detail(rc));
	}
	for (size_t i = 0; rc == 0 && n->ca && i < n->n_plugins; i++)
		if (spn_plugin_proc_has_ca(n->plugins[i]))
			spn_ca_set_hook(n->ca, ca_hook, n);
out:
	free(list);
	free(path);
	free(host);
	return rc;
}

/* The PSP's policy: every plugin with hooks has its say, in the order
 * they are enabled; one refusal is enough. */
static int ca_hook(void *user, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r)
{
	spn_node_t *n = user;

	for (size_t i = 0; i < n->n_plugins; i++)
		if (spn_plugin_proc_has_ca(n->plugins[i]) && spn_plugin_proc_ca(n->plugins[i], stage, r) != 0 &&
		    stage != SPN_CA_HOOK_ISSUED)
			return -1;
	return 0;
}

void spn_node_plugins_stop(spn_node_t *n)
{
	if (n->ca)
		spn_ca_set_hook(n->ca, NULL, NULL);
	for (size_t i = 0; i < n->n_plugins; i++)
		spn_plugin_proc_stop(n->plugins[i]);
	free(n->plugins);
	n->plugins = NULL;
	n->n_plugins = 0;
}

spn_plugin_proc_t *spn_node_plugin_for(spn_node_t *n, const char *service)
{
	for (size_t i = 0; i < n->n_plugins; i++)
		for (const char *const *s = spn_plugin_proc_services(n->plugins[i]); *s; s++)
			if (strcmp(*s, service) == 0)
				return n->plugins[i];
	return NULL;
}
