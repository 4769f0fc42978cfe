/* Certificates seen before: the peers a node talks to present the same few
 * certificates on every request, and parsing and verifying one against the
 * root costs more than the rest of forwarding a message. A certificate is
 * verified the first time; afterwards only its validity at spn's clock is
 * checked again. Revocation stays the caller's check, on every request. */
#pragma once

#include <gnutls/x509.h>

#include "ident.h"
#include "pki_cert.h"

typedef struct spn_pki_peers spn_pki_peers_t;

typedef struct {
	spn_ident_t id;
	char serial[SPN_SERIAL_HEX];
	char pin[SPN_PIN_MAX];
} spn_pki_peer_t;

/* root is borrowed and must outlive the cache. */
int spn_pki_peers_new(gnutls_x509_crt_t root, spn_pki_peers_t **out);
void spn_pki_peers_free(spn_pki_peers_t *p);

/* The identity in a DER certificate issued by the root and valid now.
 * Safe from several threads. */
int spn_pki_peers_get(spn_pki_peers_t *p, const gnutls_datum_t *der, spn_pki_peer_t *out);
