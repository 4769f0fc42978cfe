/* Named certificate templates ([template.<name>]): an administrator names
 * one when minting a join token, and the certificate is issued under the
 * role's profile narrowed by it (a shorter validity, fewer services, fewer
 * key usages). A template never widens its role's profile: one that would
 * is refused when the configuration is read (doc/ca.md §12). */
#pragma once

#include <stddef.h>

#include "ca.h"

typedef struct {
	char name[SPN_NAME_MAX + 1];
	spn_role_t role;
	spn_ca_profile_t profile; /* the role's, narrowed */
	bool has_services;	  /* else the token's services stand */
	spn_ident_t services;	  /* only its services are used */
} spn_ca_template_t;

typedef struct {
	spn_ca_template_t *v;
	size_t n;
} spn_ca_templates_t;

/* Reads every [template.*] section of c against the roles' profiles
 * (indexed by spn_role_t). Refuses, naming file, section and key, a bad
 * name, a missing or unknown role, and anything wider than the profile.
 * Release with spn_ca_templates_free. */
int spn_ca_templates_load(const spn_conf_t *c, const spn_ca_profile_t profiles[4], spn_ca_templates_t *out);
void spn_ca_templates_free(spn_ca_templates_t *t);

/* The same check alone, profiles read from c: spnd --check-config. */
int spn_ca_templates_check(const spn_conf_t *c);

/* Narrows id's services and prof to template name, which must exist and
 * be for id's role (SPN_EPOLICY otherwise, naming both). */
int spn_ca_template_apply(const spn_ca_templates_t *t, const char *name, spn_ident_t *id, spn_ca_profile_t *prof);
