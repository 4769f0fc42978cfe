/* Fuzz target for PEM private keys as spnd, spnctl and the client load
 * them (PKCS#8, encrypted or not, and the traditional forms): a key that
 * reads is written back and read again as the same key. An encrypted key
 * gets the passphrase of the seeds. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pki_key.h"

const char fuzz_target[] = "key";

#define PASS_ENV "SPN_FUZZ_KEY_PASS"

static int same_key(gnutls_x509_privkey_t a, gnutls_x509_privkey_t b)
{
	unsigned char ia[64], ib[64];
	size_t na = sizeof(ia), nb = sizeof(ib);

	return gnutls_x509_privkey_get_key_id(a, GNUTLS_KEYID_USE_SHA256, ia, &na) >= 0 &&
	       gnutls_x509_privkey_get_key_id(b, GNUTLS_KEYID_USE_SHA256, ib, &nb) >= 0 && na == nb &&
	       memcmp(ia, ib, na) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_pass_src_t src = {.env = PASS_ENV};
	gnutls_x509_privkey_t key = NULL, again = NULL;
	gnutls_datum_t pem = {NULL, 0};
	gnutls_pubkey_t pub = NULL;

	/* Read once and taken out of the environment by each load. */
	setenv(PASS_ENV, "fuzz-passphrase", 1);
	if (spn_pki_key_import((const char *)data, size, "fuzz", &src, &key, NULL) != 0)
		return 0;
	if (spn_pki_key_export(key, NULL, &pem) != 0 ||
	    spn_pki_key_import((const char *)pem.data, pem.size, "fuzz", &src, &again, NULL) != 0 ||
	    !same_key(key, again))
		abort();
	if (spn_pki_key_pubkey(key, &pub) == 0)
		gnutls_pubkey_deinit(pub);
	spn_pki_datum_free_secret(&pem);
	gnutls_x509_privkey_deinit(again);
	gnutls_x509_privkey_deinit(key);
	return 0;
}
