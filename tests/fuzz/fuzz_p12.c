/* Fuzz target for the PKCS#12 bundles the CA builds for devices that let
 * it make their key (POST /v1/enroll/pseudo without a public key): the
 * passphrase is the client's choice, the friendly name the node id. The
 * input is the passphrase, a newline, then the name; a bundle the CA
 * hands out must open with that passphrase and hold that key. */
#include "config.h"

#include <gnutls/pkcs12.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "fuzz.h"
#include "fuzz_root.h"

const char fuzz_target[] = "p12";

/* The key, its certificate and the root as a device finds them in the
 * bundle; 0 when they are the ones put in. */
static int opens(const gnutls_datum_t *der, const char *pass, gnutls_x509_privkey_t key)
{
	gnutls_pkcs12_t p12;
	gnutls_x509_privkey_t got = NULL;
	gnutls_x509_crt_t *chain = NULL;
	unsigned n = 0;
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	int rc = -1;

	if (gnutls_pkcs12_init(&p12) < 0)
		return -1;
	if (gnutls_pkcs12_import(p12, der, GNUTLS_X509_FMT_DER, 0) >= 0 && gnutls_pkcs12_verify_mac(p12, pass) >= 0 &&
	    gnutls_pkcs12_simple_parse(p12, pass, &got, &chain, &n, NULL, NULL, NULL, 0) >= 0 &&
	    gnutls_x509_privkey_get_key_id(got, GNUTLS_KEYID_USE_SHA256, a, &na) >= 0 &&
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &nb) >= 0 && na == nb &&
	    memcmp(a, b, na) == 0 && n >= 1)
		rc = 0;
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	gnutls_free(chain);
	if (got)
		gnutls_x509_privkey_deinit(got);
	gnutls_pkcs12_deinit(p12);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gnutls_x509_crt_t root;
	static gnutls_x509_privkey_t key;
	char *pass, *name;
	gnutls_datum_t der = {NULL, 0};

	if (!root && fuzz_root(&root, &key) != 0)
		abort();
	if (!(pass = malloc(size + 1)))
		return 0;
	memcpy(pass, data, size);
	pass[size] = '\0';
	name = strchr(pass, '\n');
	if (name)
		*name++ = '\0';
	/* The CA refuses shorter passphrases before it makes a key. */
	if (strlen(pass) >= 8 && spn_ca_p12(key, root, root, NULL, 0, name ? name : "node", pass, &der) == 0) {
		if (opens(&der, pass, key) != 0)
			abort();
		gnutls_free(der.data);
	}
	free(pass);
	return 0;
}
