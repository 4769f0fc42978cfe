/* What spnd knows of a plugin (include/spn/plugin.h): its descriptor, its
 * options checked against what it declares, the services it provides on
 * this node, and its CA policy hooks. Its processes are plugin_pool.c's,
 * the sections handed to them plugin_handle.c's. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ident.h"
#include "json.h"
#include "log.h"
#include "plugin_internal.h"
#include "spn/plugin.h"

#define CA_HOOK_MS 5000 /* the PSP waits no longer for a policy hook */
/* spnd's own keys, in every [plugin.<name>]. */
static const spn_conf_key_t spnds[] = {
	{NULL, "timeout", SPN_CONF_DURATION, 1, 3600, NULL},
	{NULL, "services", SPN_CONF_LIST, 1, 0, NULL},
	{NULL, "concurrency", SPN_CONF_UINT, 1, SPN_PLUGIN_CONCURRENCY_MAX, NULL},
	{NULL, "confine", SPN_CONF_BOOL, 0, 0, NULL},
	{NULL, "data", SPN_CONF_STR, 1, 0, NULL},
	{NULL, "memory", SPN_CONF_UINT, 16, 1UL << 20, NULL},
	{NULL, "cpu", SPN_CONF_DURATION, 1, 0, NULL},
	{NULL, "files", SPN_CONF_UINT, 16, 65536, NULL},
	{NULL, "network", SPN_CONF_BOOL, 0, 0, NULL},
	{NULL, "connect", SPN_CONF_LIST, 1, 0, NULL},
	{NULL, "log_rate", SPN_CONF_UINT, 256, 1UL << 24, NULL},
};
#define SPND_KEYS (sizeof(spnds) / sizeof(spnds[0]))

bool spn_plugin_key_is_spnds(const char *name)
{
	for (size_t i = 0; i < SPND_KEYS; i++)
		if (strcmp(spnds[i].key, name) == 0)
			return true;
	return false;
}

/* One option's value into p->options: paths relative to the plugin's data
 * directory when it has one, else to the configuration file. */
static int option(spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, const char *key, const char *def,
		  bool path)
{
	const char *v = spn_conf_str(conf, section, key, def);
	char *abs = NULL;
	int rc = 0;

	if (path) {
		if (v[0] == '/' || p->data)
			abs = strdup(v);
		else if ((rc = spn_conf_path(conf, section, key, def, &abs)))
			return rc;
		if (!abs)
			return SPN_ENOMEM;
		if ((rc = spn_plugin_confine_path(p, conf, section, key, &abs))) {
			free(abs);
			return rc;
		}
		v = abs;
	}
	json_object_object_add(p->options, key, json_object_new_string(v));
	free(abs);
	return 0;
}

/* ABI 1.2: a family ("upstream.*") is every key of the section under its
 * stem, each an option of its own; none is required. */
static int family(spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, const char *name, bool path)
{
	char stem[64];
	const char **keys = NULL;
	size_t n = 0;
	int rc;

	snprintf(stem, sizeof(stem), "%.*s", (int)strlen(name) - 1, name);
	if ((rc = spn_conf_keys(conf, section, stem, &keys, &n)))
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = option(p, conf, section, keys[i], NULL, path);
	free(keys);
	return rc;
}

/* The plugin's options, checked against what it declares (with the file,
 * line and key of anything wrong), defaults filled in, paths absolute. */
static int options(spn_plugin_proc_t *p, const spn_conf_t *conf, json_object *desc)
{
	static const char *const others[] = {"", NULL};
	char section[80];
	json_object *list;
	spn_conf_key_t *schema;
	unsigned long concurrency = 1;
	size_t n;
	int rc;

	snprintf(section, sizeof(section), "plugin.%s", p->name);
	if (!json_object_object_get_ex(desc, "options", &list) || !json_object_is_type(list, json_type_array))
		return spn_err(SPN_EPLUGIN, "plugin %s: no option list", p->name);
	n = json_object_array_length(list);
	if (!(schema = calloc(n + SPND_KEYS, sizeof(*schema))))
		return SPN_ENOMEM;
	for (size_t i = 0; i < SPND_KEYS; i++) {
		schema[n + i] = spnds[i];
		schema[n + i].section = section;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i), *v;
		const char *type = spn_json_str_or(o, "type", "string");
		schema[i].section = section;
		schema[i].key = spn_json_str_or(o, "name", "");
		schema[i].type = strcmp(type, "uint") == 0 ? SPN_CONF_UINT : strcmp(type, "bool") == 0 ? SPN_CONF_BOOL
												: SPN_CONF_STR;
		if (json_object_object_get_ex(o, "min", &v))
			schema[i].min = (unsigned long)json_object_get_int64(v);
		if (json_object_object_get_ex(o, "max", &v))
			schema[i].max = (unsigned long)json_object_get_int64(v);
		if (schema[i].type == SPN_CONF_STR)
			schema[i].min = schema[i].max = 0;
	}
	rc = spn_conf_check(conf, schema, n + SPND_KEYS, others);
	p->options = json_object_new_object();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		const char *key = spn_json_str_or(o, "name", ""), *def = spn_json_str_or(o, "default", NULL);
		bool path = strcmp(spn_json_str_or(o, "type", ""), "path") == 0;
		size_t kl = strlen(key);
		if (kl >= 2 && strcmp(key + kl - 2, ".*") == 0) {
			rc = family(p, conf, section, key, path);
		} else if (!spn_conf_str(conf, section, key, def)) {
			rc = spn_err(SPN_ECONFIG, "%s: [%s] %s: required by plugin %s", spn_conf_file(conf), section, key,
				     p->name);
		} else {
			rc = option(p, conf, section, key, def, path);
		}
	}
	if (rc == 0)
		rc = spn_conf_duration(conf, section, "timeout", SPN_PLUGIN_TIMEOUT_MS / 1000, &p->timeout_ms);
	p->timeout_ms *= 1000;
	if (rc == 0)
		rc = spn_conf_uint(conf, section, "concurrency", SPN_PLUGIN_CONCURRENCY, 1, SPN_PLUGIN_CONCURRENCY_MAX,
				   &concurrency);
	p->concurrency = (unsigned)concurrency;
	free(schema);
	return rc;
}

/* Whether the descriptor's list declares name, or takes any service the
 * configuration names. */
static bool declares(json_object *list, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (strcmp(s, name) == 0 || strcmp(s, SPN_PLUGIN_CONFIGURED_SERVICES) == 0)
			return true;
	}
	return false;
}

static int add_service(spn_plugin_proc_t *p, size_t *k, const char *name)
{
	for (size_t i = 0; i < *k; i++)
		if (strcmp(p->services[i], name) == 0)
			return 0;
	if (*k == SPN_PLUGIN_SERVICES_MAX)
		return spn_err(SPN_EPLUGIN, "plugin %s: more than %d services", p->name, SPN_PLUGIN_SERVICES_MAX);
	if (!(p->services[*k] = strdup(name)))
		return SPN_ENOMEM;
	(*k)++;
	return 0;
}

/* [plugin.<name>] services: a subset of what the descriptor declares, or
 * any service when it declares SPN_PLUGIN_CONFIGURED_SERVICES. */
static int chosen_services(spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, const char *value,
			   json_object *list)
{
	char *copy = strdup(value), *save = NULL;
	size_t k = 0;
	int rc = copy ? 0 : SPN_ENOMEM;

	for (char *s = copy ? strtok_r(copy, ", ", &save) : NULL; s && rc == 0; s = strtok_r(NULL, ", ", &save)) {
		if (!spn_service_name_is_valid(s))
			rc = spn_err(SPN_ECONFIG, "%s: [%s] services: '%s' is not a service name", spn_conf_file(conf),
				     section, s);
		else if (!declares(list, s))
			rc = spn_err(SPN_ECONFIG,
				     "%s: [%s] services: plugin %s does not provide %s (this key only narrows what a "
				     "plugin provides)",
				     spn_conf_file(conf), section, p->name, s);
		else
			rc = add_service(p, &k, s);
	}
	free(copy);
	return rc;
}

/* The services it provides: as its descriptor declares them, or as its
 * section narrows them. */
static int services(spn_plugin_proc_t *p, const spn_conf_t *conf, json_object *desc)
{
	const char *chosen;
	json_object *list, *v;
	char section[80];
	size_t n, k = 0;
	int rc = 0;

	p->ca_hooks = json_object_object_get_ex(desc, "ca_hooks", &v) && json_object_get_boolean(v);
	if (!json_object_object_get_ex(desc, "services", &list) || !json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) > SPN_PLUGIN_SERVICES_MAX || (n == 0 && !p->ca_hooks))
		return spn_err(SPN_EPLUGIN, "plugin %s: 1 to %d services, or CA policy hooks", p->name, SPN_PLUGIN_SERVICES_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (!json_object_is_type(json_object_array_get_idx(list, i), json_type_string) ||
		    (!spn_service_name_is_valid(s) && strcmp(s, SPN_PLUGIN_CONFIGURED_SERVICES) != 0))
			return spn_err(SPN_EPLUGIN, "plugin %s: its services must be service names", p->name);
	}
	snprintf(section, sizeof(section), "plugin.%s", p->name);
	if ((chosen = spn_conf_get(conf, section, "services")))
		return chosen_services(p, conf, section, chosen, list);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (strcmp(s, SPN_PLUGIN_CONFIGURED_SERVICES) != 0)
			rc = add_service(p, &k, s);
	}
	if (rc == 0 && n && !k)
		rc = spn_err(SPN_ECONFIG,
			     "%s: [%s] services: required: plugin %s provides the services its configuration names",
			     spn_conf_file(conf), section, p->name);
	return rc;
}

int spn_plugin_proc_start(const spn_plugin_spec_t *spec, spn_plugin_proc_t **out)
{
	spn_plugin_proc_t *p = calloc(1, sizeof(*p));
	json_object *desc = NULL;
	int rc;

	*out = NULL;
	if (!p)
		return SPN_ENOMEM;
	if (spn_plugin_pool_new(p)) {
		free(p);
		return SPN_ENOMEM;
	}
	snprintf(p->name, sizeof(p->name), "%s", spec->name);
	p->check = spec->check;
	if (!(p->host = strdup(spec->host)) || !(p->path = strdup(spec->path)) || !(p->node = strdup(spec->node))) {
		spn_plugin_proc_stop(p);
		return SPN_ENOMEM;
	}
	/* The first process says what the plugin is; the others, started
	 * when sections come together, only load it and run its init. */
	p->w[0].busy = true;
	if ((rc = spn_plugin_confine_load(p, spec->conf)) == 0 &&
	    (rc = spn_plugin_pool_hello(p, &p->w[0], &desc)) == 0 && (rc = options(p, spec->conf, desc)) == 0 &&
	    (rc = services(p, spec->conf, desc)) == 0 && !spec->check)
		rc = spn_plugin_pool_init(p, &p->w[0]);
	p->w[0].busy = false;
	json_object_put(desc);
	if (rc) {
		spn_plugin_proc_stop(p);
		return rc;
	}
	if (!spec->check)
		spn_log_info("plugin %s: started (process %d)%s%s%s%s; %u process%s at most", p->name, (int)p->w[0].pid,
		     p->services[0] ? ", provides " : "", p->services[0] ? p->services[0] : "",
		     p->services[0] && p->services[1] ? ", ..." : "", p->ca_hooks ? ", with CA policy hooks" : "",
		     p->concurrency, p->concurrency == 1 ? "" : "es");
	*out = p;
	return 0;
}

void spn_plugin_proc_stop(spn_plugin_proc_t *p)
{
	if (!p)
		return;
	spn_plugin_pool_free(p);
	for (size_t i = 0; p->services[i]; i++)
		free(p->services[i]);
	json_object_put(p->options);
	json_object_put(p->confine);
	free(p->data);
	free(p->host);
	free(p->path);
	free(p->node);
	free(p);
}

const char *spn_plugin_proc_name(const spn_plugin_proc_t *p)
{
	return p->name;
}

bool spn_plugin_proc_has_ca(const spn_plugin_proc_t *p)
{
	return p->ca_hooks;
}

unsigned long spn_plugin_proc_timeout_ms(const spn_plugin_proc_t *p)
{
	return p->timeout_ms;
}

unsigned spn_plugin_proc_concurrency(const spn_plugin_proc_t *p)
{
	return p->concurrency;
}

const char *const *spn_plugin_proc_services(const spn_plugin_proc_t *p)
{
	return (const char *const *)p->services;
}

/* The verdict of the hook's process, or -1 when it gave none in time (it
 * is then replaced). */
static int hook_verdict(spn_plugin_proc_t *p, json_object *h, json_object **ans)
{
	int wait = p->timeout_ms < CA_HOOK_MS ? (int)p->timeout_ms : CA_HOOK_MS;
	spn_plugin_worker_t *w;
	int rc;

	if (spn_plugin_pool_take(p, wait, &w)) {
		json_object_put(h);
		return -1;
	}
	if ((rc = spn_plugin_pool_send(w, h)) == 0)
		rc = spn_plugin_pool_expect(p, w, "ca_verdict", wait, ans);
	if (rc) {
		spn_plugin_pool_end(p, w, true, NULL, 0);
		spn_plugin_pool_give_ended(p, w);
	} else {
		spn_plugin_pool_give(p, w);
	}
	return rc ? -1 : 0;
}

int spn_plugin_proc_ca(spn_plugin_proc_t *p, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r)
{
	static const char *const stages[] = {"authorize", "adjust", "issued"};
	static const char *const roles[] = {"psp", "admin", "spn", "client"};
	json_object *h = json_object_new_object(), *svc = json_object_new_array(), *ans = NULL;
	int rc;

	for (size_t i = 0; i < r->id.n_services; i++)
		json_object_array_add(svc, json_object_new_string(r->id.services[i]));
	json_object_object_add(h, "op", json_object_new_string("ca"));
	json_object_object_add(h, "stage", json_object_new_string(stages[stage]));
	json_object_object_add(h, "node", json_object_new_string(r->id.node_id));
	json_object_object_add(h, "role", json_object_new_string(roles[r->id.role & 3]));
	json_object_object_add(h, "trust", json_object_new_int((int)r->id.trust));
	json_object_object_add(h, "services", svc);
	json_object_object_add(h, "accepted_by", json_object_new_string(r->accepted_by ? r->accepted_by : ""));
	json_object_object_add(h, "validity", json_object_new_int64((int64_t)r->validity));
	json_object_object_add(h, "serial", json_object_new_string(r->serial ? r->serial : ""));
	if (hook_verdict(p, h, &ans) != 0) {
		snprintf(r->why, sizeof(r->why), "policy plugin %s did not answer", p->name);
		return -1;
	}
	rc = spn_plugin_verdict_read(p->name, ans, stage, r);
	json_object_put(ans);
	return rc;
}

static bool listed(json_object *list, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (s && strcmp(s, name) == 0)
			return true;
	}
	return false;
}

int spn_plugin_verdict_read(const char *name, json_object *ans, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r)
{
	json_object *v;

	if (!json_object_object_get_ex(ans, "allow", &v) || !json_object_get_boolean(v)) {
		snprintf(r->why, sizeof(r->why), "%s (plugin %s)", spn_json_str_or(ans, "reason", "no reason given"), name);
		return -1;
	}
	if (stage == SPN_CA_HOOK_ADJUST) {
		spn_ident_t narrowed = r->id;
		/* The process answers for a hook that may only drop services:
		 * one it names that was not asked for is not granted. */
		narrowed.n_services = 0;
		if (json_object_object_get_ex(ans, "services", &v) && json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < r->id.n_services; i++)
				if (listed(v, r->id.services[i]))
					spn_ident_add_service(&narrowed, r->id.services[i]);
		r->id = narrowed;
		if (json_object_object_get_ex(ans, "validity", &v) && json_object_get_int64(v) > 0 &&
		    (unsigned long)json_object_get_int64(v) < r->validity)
			r->validity = (unsigned long)json_object_get_int64(v);
	}
	return 0;
}
