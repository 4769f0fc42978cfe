/* Join tokens: one use, short expiry, bound to the new node's id, role,
 * trust level and services, and signed by the minting node's key so that the
 * PSP can check who accepted the node. Wire form (doc/ca.md):
 *   spn1.<base64url(JSON claims)>.<base64url(signature)>
 * The signature covers "spn1." and the encoded claims, with the algorithm
 * fixed by the minter's key type. */
#pragma once

#include <gnutls/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ident.h"

#define SPN_TOKEN_MAX 4096

typedef struct {
	char id[33];                          /* 128 random bits, hex */
	spn_ident_t node;                     /* node id, group, role, trust, services */
	char minted_by[SPN_NAME_MAX + 1];     /* node id of the minter */
	char tpl[SPN_NAME_MAX + 1];           /* certificate template, "" for none */
	time_t issued_at, expires;
	/* filled by spn_token_decode */
	size_t signed_len;
	uint8_t sig[1024];
	size_t sig_len;
} spn_token_t;

/* Fills t->id with fresh random bits. */
int spn_token_new_id(spn_token_t *t);

/* Mints a token for node as minter (an administrator or the PSP, whose key
 * this is), valid ttl seconds, naming certificate template tpl (NULL or ""
 * for none; the PSP checks it at issuance); checks what the minter alone
 * can check: its role, and that it grants no more trust than it holds. */
int spn_token_issue(gnutls_x509_privkey_t key, const spn_ident_t *minter, const spn_ident_t *node, unsigned long ttl,
		    const char *tpl, char **out);

/* Signs t's claims with the minter's key; *out is the caller's to free. */
int spn_token_mint(const spn_token_t *t, gnutls_x509_privkey_t key, char **out);

/* Decodes a token's claims without trusting them: the caller must then check
 * the signature with spn_token_verify against the minter's certificate. */
int spn_token_decode(const char *text, size_t len, spn_token_t *t);

/* Checks text's signature (the same text given to spn_token_decode) against
 * the minter's certificate. */
int spn_token_verify(const char *text, const spn_token_t *t, gnutls_x509_crt_t minter);

/* Clock skew tolerated between a token's minter and whoever checks it. */
#define SPN_TOKEN_SKEW 300

/* Checks a token's times at now, each failure with its own reason: expired
 * (SPN_ETOKENEXPIRED), issued further in the future than the skew allows,
 * expiring before it was issued, or living longer than max_ttl seconds
 * (0: the checker does not know the group's token_ttl). */
int spn_token_check_time(const spn_token_t *t, time_t now, unsigned long max_ttl);
