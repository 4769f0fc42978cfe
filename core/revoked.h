/* The revocations a node enforces: the newest CRL it holds, checked against
 * the group's root, and the serials it lists. Every node keeps one, fed
 * down the tree from the PSP, and refuses the listed certificates. */
#pragma once

#include <gnutls/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pki_cert.h"

typedef struct spn_revoked spn_revoked_t;

/* A certificate the CRL lists and when it was revoked. CRL entries carry
 * no reason (see ca_crl.c): the PSP's ledger has it. */
typedef struct {
	char serial[SPN_SERIAL_HEX];
	time_t at;
} spn_revoked_entry_t;

int spn_revoked_new(gnutls_x509_crt_t root, spn_revoked_t **out);
void spn_revoked_free(spn_revoked_t *r);

/* Takes a CRL (PEM) when it is signed by the root and newer than the one
 * held: returns 1 when taken, 0 when not newer, or an error when it does
 * not verify. */
int spn_revoked_update(spn_revoked_t *r, const char *pem, size_t len);

/* Whether serial (lowercase hex) is listed. */
bool spn_revoked_has(spn_revoked_t *r, const char *serial);

/* The number of the CRL held (0: none). */
uint64_t spn_revoked_number(spn_revoked_t *r);

/* When the CRL held says the next one is due (0: none held). */
time_t spn_revoked_next_update(spn_revoked_t *r);
/* When the CRL held was signed (0: none held). */
time_t spn_revoked_this_update(spn_revoked_t *r);

/* The entries of the CRL held, newest first: *n of them (at most max) in
 * *out, which the caller frees; *total is how many it lists. */
int spn_revoked_recent(spn_revoked_t *r, size_t max, spn_revoked_entry_t **out, size_t *n, size_t *total);

/* A copy of the CRL held (NULL when none); the caller frees. */
char *spn_revoked_pem(spn_revoked_t *r, size_t *len);

/* The CRL number of a PEM CRL; 0 when it does not read as one. */
uint64_t spn_crl_pem_number(const char *pem, size_t len);
