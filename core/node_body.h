/* The bodies of the node's small REST requests (doc/rest-api.md), read once
 * at the edge into typed values: enrollments and their endorsements, join
 * token requests, renewals, revocations and routed requests. Each parse
 * refuses what the API does not allow, with the error the handler answers;
 * what is checked against the node's state (the ledger, the tree, the
 * caller) stays with the handler. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "pki_cert.h"

#define SPN_ENDORSEMENTS_MAX 16

/* One administrator's endorsement: its node id and its signature, in
 * base64url as it came. */
typedef struct {
	const char *node, *sig;
} spn_endorsement_t;

/* POST /v1/enroll {"csr", "token", "endorsed_by"?} or, pseudo,
 * POST /v1/enroll/pseudo {"request", "token", "passphrase"?}. The strings
 * and objects live in root, which a relaying administrator adds its own
 * endorsement to and sends on. */
typedef struct {
	json_object *root;
	const char *csr, *token, *passphrase;
	json_object *request;     /* the pseudo-CSR object (pseudo only) */
	json_object *endorsed_by; /* NULL: sent by the joining node itself */
	spn_endorsement_t endorsement[SPN_ENDORSEMENTS_MAX];
	size_t n_endorsements;
} spn_enroll_body_t;

int spn_enroll_body_parse(const char *body, size_t len, bool pseudo, spn_enroll_body_t *out);
void spn_enroll_body_clear(spn_enroll_body_t *b);

/* endorsed_by: 1 to SPN_ENDORSEMENTS_MAX objects {"node", "sig"}. */
int spn_endorsements_parse(json_object *list, spn_endorsement_t *out, size_t *n);

/* POST /v1/token {"node", "role", "trust"?, "services"?, "ttl"?, "template"?}. */
typedef struct {
	spn_ident_t node;
	unsigned long ttl;
	char tpl[SPN_NAME_MAX + 1]; /* "" for none */
} spn_token_body_t;

int spn_token_body_parse(const char *body, size_t len, spn_token_body_t *out);

/* POST /v1/renew {"csr", "certificate"}, both PEM; the strings live in
 * *root, the caller's to put (also on failure). */
typedef struct {
	const char *csr, *certificate;
} spn_renew_body_t;

int spn_renew_body_parse(const char *body, size_t len, json_object **root, spn_renew_body_t *out);

/* POST /v1/revoke {"serial", "reason"?}: the serial in lowercase hex, the
 * reason's RFC 5280 code (unspecified when not given). */
typedef struct {
	char serial[SPN_SERIAL_HEX];
	int reason;
} spn_revoke_body_t;

int spn_revoke_body_parse(const char *body, size_t len, spn_revoke_body_t *out);

/* POST /v1/route: what a request says of itself, read from msg (which
 * the strings and path live in, and which travels on). kind, node, id and
 * path are NULL when absent, hops -1. Whether the path is this node's to
 * take and the hops its to allow is the router's; so is whether origin
 * (whom an anonymous client's session is counted to, up to
 * SPN_ROUTE_ORIGIN_MAX characters) is to be believed. */
typedef struct {
	const char *kind, *service, *node, *id, *origin;
	json_object *path;
	int64_t hops;
} spn_route_fields_t;

#define SPN_ROUTE_PATH_MAX 64
#define SPN_ROUTE_ORIGIN_MAX 127

int spn_route_fields_parse(json_object *msg, spn_route_fields_t *out);
