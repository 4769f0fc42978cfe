/* Named certificate templates: read and held to their role's profile when
 * the configuration is loaded, so that a template that would widen it
 * stops the daemon or command at once rather than at some enrollment. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_template.h"
#include "error.h"

#define PREFIX "template."

/* "a, b" as the identity's service list ("a,b"). */
static int read_services(const spn_conf_t *c, const char *section, spn_ca_template_t *t)
{
	const char *v = spn_conf_get(c, section, "services");
	char list[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 2)];
	size_t n = 0;

	if (!v)
		return 0;
	for (const char *p = v; *p && n + 1 < sizeof(list); p++)
		if (*p != ' ' && *p != '\t')
			list[n++] = *p;
	list[n] = '\0';
	t->has_services = true;
	if (strlen(v) >= sizeof(list) || spn_ident_set_services(&t->services, list) != 0)
		return spn_err(SPN_ECONFIG, "%s: [%s] services: '%.200s' is not a list of up to %d service names",
			       spn_conf_file(c), section, v, SPN_SERVICES_MAX);
	return 0;
}

/* Refuses what the template would add to its role's profile. */
static int no_wider(const spn_conf_t *c, const char *section, const spn_ca_template_t *t, const spn_ca_profile_t *role)
{
	const spn_ca_profile_t *p = &t->profile;
	const char *why = NULL, *key = NULL;

	if (p->validity > role->validity) {
		key = "validity";
		why = "is longer than";
	} else if (p->key_usage & ~role->key_usage) {
		key = "key_usage";
		why = "has a usage not in";
	} else if ((p->server_auth && !role->server_auth) || (p->client_auth && !role->client_auth)) {
		key = "ext_key_usage";
		why = "has a usage not in";
	}
	if (!key)
		return 0;
	return spn_err(SPN_ECONFIG, "%s: [%s] %s: '%s' %s [profile.%s]: a template may only narrow its role's profile",
		       spn_conf_file(c), section, key, spn_conf_get(c, section, key), why, spn_role_name(t->role));
}

static int load_one(const spn_conf_t *c, const char *section, const spn_ca_profile_t profiles[4], spn_ca_template_t *t)
{
	const char *name = section + strlen(PREFIX), *role = spn_conf_get(c, section, "role");
	int rc;

	memset(t, 0, sizeof(*t));
	if (!spn_name_is_valid(name))
		return spn_err(SPN_ECONFIG, "%s: [%s]: '%.80s' is not a valid template name (1-63 of a-z 0-9 . -)",
			       spn_conf_file(c), section, name);
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (!role)
		return spn_err(SPN_ECONFIG, "%s: [%s] role: required (admin, spn or client)", spn_conf_file(c),
			       section);
	if (spn_role_parse(role, &t->role) != 0 || t->role == SPN_ROLE_PSP)
		return spn_err(SPN_ECONFIG, "%s: [%s] role: '%s' is not admin, spn or client", spn_conf_file(c),
			       section, role);
	if ((rc = spn_ca_profile_read(c, section, &profiles[t->role], &t->profile)) ||
	    (rc = read_services(c, section, t)))
		return rc;
	return no_wider(c, section, t, &profiles[t->role]);
}

int spn_ca_templates_load(const spn_conf_t *c, const spn_ca_profile_t profiles[4], spn_ca_templates_t *out)
{
	const char **sections = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_conf_sections(c, PREFIX, &sections, &n)) || n == 0) {
		free(sections);
		return rc;
	}
	if (!(out->v = calloc(n, sizeof(*out->v)))) {
		free(sections);
		return SPN_ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((rc = load_one(c, sections[i], profiles, &out->v[i])) == 0)
			out->n++;
	free(sections);
	if (rc)
		spn_ca_templates_free(out);
	return rc;
}

void spn_ca_templates_free(spn_ca_templates_t *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int spn_ca_templates_check(const spn_conf_t *c)
{
	spn_ca_profile_t profiles[4];
	spn_ca_templates_t t;
	int rc = 0;

	for (int r = 0; rc == 0 && r < 4; r++)
		rc = spn_ca_profile_load(c, (spn_role_t)r, &profiles[r]);
	if (rc == 0 && (rc = spn_ca_templates_load(c, profiles, &t)) == 0)
		spn_ca_templates_free(&t);
	return rc;
}

int spn_ca_template_apply(const spn_ca_templates_t *t, const char *name, spn_ident_t *id, spn_ca_profile_t *prof)
{
	const spn_ca_template_t *tpl = NULL;
	spn_ident_t narrowed = *id;

	for (size_t i = 0; !tpl && i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			tpl = &t->v[i];
	if (!tpl)
		return spn_err(SPN_EPOLICY, "join token for %s names template '%s', which is not configured here",
			       id->node_id, name);
	if (tpl->role != id->role)
		return spn_err(SPN_EPOLICY, "template '%s' is for the role %s, the join token for %s is for %s", name,
			       spn_role_name(tpl->role), id->node_id, spn_role_name(id->role));
	*prof = tpl->profile;
	if (!tpl->has_services)
		return 0;
	narrowed.n_services = 0;
	for (size_t i = 0; i < id->n_services; i++)
		if (spn_ident_provides(&tpl->services, id->services[i]))
			spn_ident_add_service(&narrowed, id->services[i]);
	*id = narrowed;
	return 0;
}
