/* A member's identity as its certificate binds it: node id, group, role,
 * trust level and the services it may provide. The role, trust and services
 * travel in one X.509 extension whose value is a UTF8String of the form
 *   "role=admin; trust=7; services=healthcare,bank"
 * so that openssl x509 -text and certtool -i show it as it is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* 2.25 arc: an OID derived from a UUID (ITU-T X.667), owned by spn. */
#define SPN_ATTR_OID "2.25.162527158746869031575259248085451813285"

#define SPN_NAME_MAX 63
#define SPN_SERVICE_MAX 32
#define SPN_SERVICES_MAX 32
#define SPN_TRUST_MAX 100

typedef enum {
	SPN_ROLE_PSP = 0,
	SPN_ROLE_ADMIN = 1,
	SPN_ROLE_SPN = 2,
	SPN_ROLE_CLIENT = 3,
} spn_role_t;

typedef struct {
	char node_id[SPN_NAME_MAX + 1];
	char group[SPN_NAME_MAX + 1];
	spn_role_t role;
	unsigned trust;
	size_t n_services;
	char services[SPN_SERVICES_MAX][SPN_SERVICE_MAX + 1];
} spn_ident_t;

/* Node ids and group names: 1-63 of [a-z0-9.-], starting with [a-z0-9]. */
bool spn_name_is_valid(const char *s);
/* Service names: 1-32 of [a-z0-9_-], starting with [a-z]. */
bool spn_service_name_is_valid(const char *s);

int spn_role_parse(const char *s, spn_role_t *out);
const char *spn_role_name(spn_role_t role);
/* Admins and the PSP accept members. */
bool spn_role_is_admin(spn_role_t role);

/* Adds a service, refusing invalid names, duplicates and overflow. */
int spn_ident_add_service(spn_ident_t *id, const char *service);
/* Parses a comma-separated list ("a,b"; "" is none) into id's services. */
int spn_ident_set_services(spn_ident_t *id, const char *list);
bool spn_ident_provides(const spn_ident_t *id, const char *service);

/* The extension text; *out is the caller's to free. */
int spn_ident_attr_encode(const spn_ident_t *id, char **out);
/* Strict parse of the extension text into role, trust and services. */
int spn_ident_attr_decode(const char *text, size_t len, spn_ident_t *id);

/* services joined by commas into buf; returns buf. */
const char *spn_ident_services_str(const spn_ident_t *id, char *buf, size_t cap);
