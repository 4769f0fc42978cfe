/* Sections: JWE compact objects (RFC 7516) with "alg": "dir" and "enc":
 * "A256GCM", whose protected header names the key, the recipient service and
 * node, the author, the message id and the sequence number. The protected
 * header is the AEAD's associated data: routers read it, nobody changes it
 * unnoticed. Any JOSE library given the key opens a section. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ident.h"

#define SPN_JWE_KEY 32
#define SPN_JWE_ID_MAX SPN_ID_MAX

/* What the protected header says, besides "alg" and "enc". */
typedef struct {
	char kid[SPN_JWE_ID_MAX + 1];      /* the session key's id */
	char svc[SPN_SERVICE_MAX + 1];     /* recipient service */
	char to[SPN_NAME_MAX + 1];         /* recipient node */
	char from[SPN_NAME_MAX + 1];       /* author: a node id or a client's name */
	char mid[SPN_JWE_ID_MAX + 1];      /* message id */
	uint64_t seq;                      /* sequence number in the session */
} spn_jwe_header_t;

/* Seals pt into a compact JWE under key; *out is the caller's to free. */
int spn_jwe_seal(const uint8_t key[SPN_JWE_KEY], const spn_jwe_header_t *h, const uint8_t *pt, size_t pt_len,
		 char **out);

/* Reads the protected header without the key (what a router may do). */
int spn_jwe_peek(const char *jwe, size_t len, spn_jwe_header_t *h);

/* Opens a compact JWE: its header must say dir/A256GCM and carry every spn
 * field; the tag must verify. *pt (NUL-terminated for convenience) is the
 * caller's to wipe and free. */
int spn_jwe_open(const uint8_t key[SPN_JWE_KEY], const char *jwe, size_t len, spn_jwe_header_t *h, uint8_t **pt,
		 size_t *pt_len);
/* The same for a section whose header h was read from this very jwe by
 * spn_jwe_peek: the header is not parsed again (the tag still covers it). */
int spn_jwe_open_read(const uint8_t key[SPN_JWE_KEY], const char *jwe, size_t len, const spn_jwe_header_t *h,
		      uint8_t **pt, size_t *pt_len);
