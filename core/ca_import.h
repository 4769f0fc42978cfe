/* Adopting an existing CA at spnctl init (--import-root, --import-key)
 * instead of making a root: ca_import.c. */
#pragma once

#include <gnutls/x509.h>
#include <time.h>

#include "ca.h"
#include "pki_signer.h"

typedef struct {
	gnutls_x509_crt_t *certs; /* [0] the CA to adopt, then each one's issuer */
	unsigned n;
	spn_pki_signer_t key; /* the CA's key, proven to belong to certs[0] */
} spn_ca_import_t;

/* Reads p->import_root and p->import_key and checks them at now: a CA
 * certificate that may sign certificates and CRLs and issue end-entity
 * certificates, of a key type spn supports, valid, with a subject key
 * identifier; the certificates after it each the issuer of the one
 * before; the key its private half. Writes nothing. Release with
 * spn_ca_import_clear. */
int spn_ca_import_open(const spn_ca_init_t *p, time_t now, spn_ca_import_t *out);

/* Writes ca/root.crt, ca/chain.pem (when there are certificates above the
 * CA) and, for a key file, ca/root.key under p->passphrase, into p->dir.
 * The files given stay where they are. */
int spn_ca_import_write(const spn_ca_init_t *p, const spn_ca_import_t *im);

/* Warns when the CA expires before a certificate of the longest profile in
 * conf issued now would: spn_ca_sign cuts those short at the CA's end. */
void spn_ca_import_warn_expiry(const spn_conf_t *conf, gnutls_x509_crt_t ca, time_t now);

void spn_ca_import_clear(spn_ca_import_t *im);
