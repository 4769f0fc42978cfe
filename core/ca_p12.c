/* PKCS#12 bundles for CA-generated keys: the key (shrouded with PBES2 and
 * AES-256), its certificate, the group's root and what is above it, under a
 * SHA-256 MAC. */
#include "config.h"

#include <gnutls/pkcs12.h>
#include <string.h>

#include "ca.h"
#include "error.h"
#include "mem.h"

static int add_bag(gnutls_pkcs12_t p12, gnutls_pkcs12_bag_t bag, const char *pass)
{
	int rc = pass ? gnutls_pkcs12_bag_encrypt(bag, pass, GNUTLS_PKCS_PBES2_AES_256) : 0;

	return rc < 0 ? rc : gnutls_pkcs12_set_bag(p12, bag);
}

int spn_ca_p12(gnutls_x509_privkey_t key, gnutls_x509_crt_t crt, gnutls_x509_crt_t root,
	       const gnutls_x509_crt_t *above, unsigned n, const char *name, const char *pass, gnutls_datum_t *der)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_pkcs12_bag_t certs = NULL, keys = NULL;
	gnutls_datum_t shrouded = {NULL, 0}, kid;
	unsigned char id[64];
	size_t id_len = sizeof(id);
	int rc, idx;

	if (gnutls_pkcs12_init(&p12) < 0 || gnutls_pkcs12_bag_init(&certs) < 0 || gnutls_pkcs12_bag_init(&keys) < 0) {
		rc = GNUTLS_E_MEMORY_ERROR;
		goto out;
	}
	rc = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, id, &id_len);
	kid.data = id;
	kid.size = (unsigned)id_len;
	if (rc >= 0 && (idx = gnutls_pkcs12_bag_set_crt(certs, crt)) >= 0) {
		rc = gnutls_pkcs12_bag_set_friendly_name(certs, idx, name);
		if (rc >= 0)
			rc = gnutls_pkcs12_bag_set_key_id(certs, idx, &kid);
	} else if (rc >= 0) {
		rc = idx;
	}
	if (rc >= 0 && root)
		rc = gnutls_pkcs12_bag_set_crt(certs, root);
	for (unsigned i = 0; rc >= 0 && i < n; i++)
		rc = gnutls_pkcs12_bag_set_crt(certs, above[i]);
	if (rc >= 0)
		rc = add_bag(p12, certs, pass);
	if (rc >= 0)
		rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, pass, GNUTLS_PKCS_PBES2_AES_256,
						       &shrouded);
	if (rc >= 0 && (idx = gnutls_pkcs12_bag_set_data(keys, GNUTLS_BAG_PKCS8_ENCRYPTED_KEY, &shrouded)) >= 0) {
		rc = gnutls_pkcs12_bag_set_friendly_name(keys, idx, name);
		if (rc >= 0)
			rc = gnutls_pkcs12_bag_set_key_id(keys, idx, &kid);
	} else if (rc >= 0) {
		rc = idx;
	}
	if (rc >= 0)
		rc = gnutls_pkcs12_set_bag(p12, keys);
	if (rc >= 0)
		rc = gnutls_pkcs12_generate_mac2(p12, GNUTLS_MAC_SHA256, pass);
	if (rc >= 0)
		rc = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, der);
out:
	if (shrouded.data) {
		spn_wipe(shrouded.data, shrouded.size);
		gnutls_free(shrouded.data);
	}
	if (certs)
		gnutls_pkcs12_bag_deinit(certs);
	if (keys)
		gnutls_pkcs12_bag_deinit(keys);
	if (p12)
		gnutls_pkcs12_deinit(p12);
	return rc < 0 ? spn_err(SPN_ECRYPTO, "cannot build the PKCS#12 bundle: %s", gnutls_strerror(rc)) : 0;
}
