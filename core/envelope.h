/* What a client sends an entry node (doc/protocol.md §5-§6), read and
 * checked before anything is routed: a call for sessions, and a message's
 * envelope with the routing header of each section. A section that cannot
 * be read fails alone; a body that cannot be read fails whole. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "jwe.h"

#define SPN_ENVELOPE_MAX 16 /* sessions per call, sections per message */

/* POST /v1/session */
typedef struct {
	json_object *root;
	const char *client_key;     /* base64url of 32 bytes */
	json_object *certificate;   /* NULL: anonymous */
	size_t n;
	struct {
		const char *session, *service;
		const char *node;       /* NULL: the provider the tree picks */
		json_object *sig;       /* NULL when absent */
	} item[SPN_ENVELOPE_MAX];
} spn_session_call_t;

int spn_session_call_parse(const char *body, size_t len, spn_session_call_t *c);
void spn_session_call_clear(spn_session_call_t *c);

/* POST /v1/message */
typedef struct {
	json_object *root;
	const char *id;
	size_t n;
	json_object *section[SPN_ENVELOPE_MAX];  /* the JWE strings */
	json_object *carry;                      /* the sections that travel along; NULL: none */
	json_object *chain;                      /* the calls it is part of (chain.h); NULL: none */
	spn_jwe_header_t h[SPN_ENVELOPE_MAX];    /* valid where rc is 0 */
	int rc[SPN_ENVELOPE_MAX];                /* why a section is refused */
	char why[SPN_ENVELOPE_MAX][200];
} spn_envelope_t;

/* Refuses the whole body when two of its sections (in sections and carry
 * together) clash, as spn_envelope_sections_clash says. */
int spn_envelope_parse(const char *body, size_t len, spn_envelope_t *e);

/* Whether a provider would take sections a and b as one message twice: the
 * same node, message id and session, or the same node, message id,
 * service and author. Only one of them could be acted on; the other would
 * wait on it for ever. */
bool spn_envelope_sections_clash(const spn_jwe_header_t *a, const spn_jwe_header_t *b);
void spn_envelope_clear(spn_envelope_t *e);
