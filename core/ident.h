/* A member's identity as its certificate binds it: node id, group, role,
 * trust level and the services it may provide. They travel as one URI in the
 * subjectAltName, in the manner of a SPIFFE ID with the attributes added:
 *   spn://<group>/<node id>?role=admin&trust=7&services=healthcare,bank&parent=psp
 * so that openssl x509 -text, certtool -i and any X.509 library show and read
 * it without knowing spn (subject CN and O repeat node id and group). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SPN_URI_SCHEME "spn://"

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
	/* The administrator that accepted the node, its parent in the tree
	 * ("" for the PSP): a node can only register below its own parent. */
	char parent[SPN_NAME_MAX + 1];
} spn_ident_t;

/* Node ids and group names: 1-63 of [a-z0-9.-], starting with [a-z0-9]. */
bool spn_name_is_valid(const char *s);
/* Message, session and key ids: 1-64 of [A-Za-z0-9._-]. */
#define SPN_ID_MAX 64
bool spn_id_is_valid(const char *s);

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
/* The same role, trust level, services (in the same order) and parent:
 * what a certificate grants its node, its names aside. */
bool spn_ident_is_same_grant(const spn_ident_t *a, const spn_ident_t *b);
/* And the same node id and group. */
bool spn_ident_is_equal(const spn_ident_t *a, const spn_ident_t *b);

/* The identity URI; *out is the caller's to free. */
int spn_ident_uri_encode(const spn_ident_t *id, char **out);
/* Strict parse of an identity URI (one canonical form only). */
int spn_ident_uri_decode(const char *text, size_t len, spn_ident_t *id);

/* services joined by commas into buf; returns buf. */
const char *spn_ident_services_str(const spn_ident_t *id, char *buf, size_t cap);
