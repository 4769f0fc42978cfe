/* Private keys on GnuTLS: generation, encrypted PKCS#8, signing. */
#include "config.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "file.h"
#include "mem.h"
#include "pass.h"
#include "pki_key.h"

#define KEY_FILE_MAX (64 * 1024)

static const struct {
	const char *name;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
} types[] = {
	[SPN_KEY_ED25519] = {"ed25519", GNUTLS_PK_EDDSA_ED25519, 256},
	[SPN_KEY_P256] = {"p256", GNUTLS_PK_ECDSA, 256},
	[SPN_KEY_RSA2048] = {"rsa2048", GNUTLS_PK_RSA, 2048},
	[SPN_KEY_RSA3072] = {"rsa3072", GNUTLS_PK_RSA, 3072},
	[SPN_KEY_RSA4096] = {"rsa4096", GNUTLS_PK_RSA, 4096},
};

int spn_key_type_parse(const char *s, spn_key_type_t *out)
{
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (s && strcmp(s, types[i].name) == 0) {
			*out = (spn_key_type_t)i;
			return 0;
		}
	}
	return spn_err(SPN_EUNSUPPORTED, "unsupported key type '%s' (ed25519, p256, rsa2048, rsa3072, rsa4096)",
		       s ? s : "");
}

const char *spn_key_type_name(spn_key_type_t t)
{
	return (unsigned)t < sizeof(types) / sizeof(types[0]) ? types[t].name : "unknown";
}

int spn_pki_key_type_of(gnutls_pk_algorithm_t pk, unsigned bits, spn_key_type_t *out)
{
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* GnuTLS reports 0 bits for some Ed25519 public keys. */
		if (types[i].pk == pk && (types[i].bits == bits || pk == GNUTLS_PK_EDDSA_ED25519)) {
			*out = (spn_key_type_t)i;
			return 0;
		}
	}
	return spn_err(SPN_EUNSUPPORTED, "unsupported key: %s of %u bits (ed25519, p256, rsa2048, rsa3072, rsa4096)",
		       gnutls_pk_get_name(pk) ? gnutls_pk_get_name(pk) : "unknown algorithm", bits);
}

int spn_pki_pubkey_type(gnutls_pubkey_t pub, spn_key_type_t *out)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	unsigned bits = 0;
	int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);

	/* A token's EC key reports no size; its curve says it all. */
	if (pk == GNUTLS_PK_ECDSA) {
		if (gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0) < 0 || curve != GNUTLS_ECC_CURVE_SECP256R1)
			return spn_err(SPN_EUNSUPPORTED, "unsupported key: ECDSA on a curve other than P-256 (%s)",
				       gnutls_ecc_curve_get_name(curve) ? gnutls_ecc_curve_get_name(curve) : "unknown");
		*out = SPN_KEY_P256;
		return 0;
	}
	return spn_pki_key_type_of((gnutls_pk_algorithm_t)pk, bits, out);
}

/* v as exactly 32 big-endian bytes; GnuTLS hands out integers with a
 * leading zero or without the zeros a fixed width has. */
static int fixed32(const gnutls_datum_t *v, uint8_t out[32])
{
	size_t skip = 0;

	while (skip < v->size && v->data[skip] == 0)
		skip++;
	if (v->size - skip > 32)
		return SPN_ECRYPTO;
	memset(out, 0, 32);
	memcpy(out + 32 - (v->size - skip), v->data + skip, v->size - skip);
	return 0;
}

/* GnuTLS 3.7 writes a P-256 ECPrivateKey's scalar as an integer: 33 bytes
 * with a leading zero when its top bit is set, 31 when its top byte is
 * zero. RFC 5915 fixes it at 32 octets and strict readers refuse anything
 * else (python-cryptography does). GnuTLS writes back the ECPrivateKey it
 * imported as it was, so the key is imported once more from one with the
 * scalar at its fixed length; every export after that (PKCS#8, encrypted
 * or not, PKCS#12) carries it. The structure is fixed for the curve: a
 * template, with the scalar and the point filled in. */
static int p256_fixed_length(gnutls_x509_privkey_t *key)
{
	static const uint8_t head[] = {0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20};
	static const uint8_t curve_and_point[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
						  0x03, 0x01, 0x07, 0xa1, 0x44, 0x03, 0x42, 0x00, 0x04};
	uint8_t der[sizeof(head) + 32 + sizeof(curve_and_point) + 64];
	gnutls_datum_t x = {NULL, 0}, y = {NULL, 0}, k = {NULL, 0}, d = {der, sizeof(der)};
	gnutls_x509_privkey_t fixed = NULL;
	gnutls_ecc_curve_t curve;
	int rc;

	if (gnutls_x509_privkey_get_pk_algorithm(*key) != GNUTLS_PK_ECDSA)
		return 0;
	if (gnutls_x509_privkey_export_ecc_raw(*key, &curve, &x, &y, &k) < 0)
		return spn_err(SPN_ECRYPTO, "cannot read the P-256 key back");
	memcpy(der, head, sizeof(head));
	memcpy(der + sizeof(head) + 32, curve_and_point, sizeof(curve_and_point));
	rc = curve != GNUTLS_ECC_CURVE_SECP256R1 ? SPN_EUNSUPPORTED : 0;
	if (rc == 0 && ((rc = fixed32(&k, der + sizeof(head))) || (rc = fixed32(&x, der + sizeof(der) - 64)) ||
			(rc = fixed32(&y, der + sizeof(der) - 32))))
		rc = spn_err(rc, "a P-256 key whose values do not fit the curve");
	if (rc == 0 && (gnutls_x509_privkey_init(&fixed) < 0 ||
			gnutls_x509_privkey_import(fixed, &d, GNUTLS_X509_FMT_DER) < 0))
		rc = spn_err(SPN_ECRYPTO, "cannot re-encode the P-256 key");
	if (rc == 0) {
		gnutls_x509_privkey_deinit(*key);
		*key = fixed;
		fixed = NULL;
	}
	if (fixed)
		gnutls_x509_privkey_deinit(fixed);
	spn_wipe(der, sizeof(der));
	spn_pki_datum_free_secret(&k);
	gnutls_free(x.data);
	gnutls_free(y.data);
	/* Other curves are not spn's to rewrite. */
	return rc == SPN_EUNSUPPORTED ? 0 : rc;
}

int spn_pki_key_generate(spn_key_type_t type, gnutls_x509_privkey_t *out)
{
	gnutls_x509_privkey_t key;
	unsigned bits;
	int rc;

	if ((unsigned)type >= sizeof(types) / sizeof(types[0]))
		return spn_err(SPN_EUNSUPPORTED, "unsupported key type");
	if (gnutls_x509_privkey_init(&key) < 0)
		return SPN_ENOMEM;
	bits = types[type].pk == GNUTLS_PK_ECDSA ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)
						 : types[type].bits;
	rc = gnutls_x509_privkey_generate2(key, types[type].pk, bits, 0, NULL, 0);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(key);
		return spn_err(SPN_ECRYPTO, "key generation failed: %s", gnutls_strerror(rc));
	}
	if ((rc = p256_fixed_length(&key))) {
		gnutls_x509_privkey_deinit(key);
		return rc;
	}
	*out = key;
	return 0;
}

int spn_pki_key_export(gnutls_x509_privkey_t key, const char *pass, gnutls_datum_t *pem)
{
	int rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, pass,
						   pass ? GNUTLS_PKCS_PBES2_AES_256 : GNUTLS_PKCS_PLAIN, pem);

	return rc < 0 ? spn_err(SPN_ECRYPTO, "cannot export key: %s", gnutls_strerror(rc)) : 0;
}

void spn_pki_datum_free_secret(gnutls_datum_t *d)
{
	if (d && d->data) {
		spn_wipe(d->data, d->size);
		gnutls_free(d->data);
		d->data = NULL;
		d->size = 0;
	}
}

int spn_pki_key_save(gnutls_x509_privkey_t key, const char *path, const char *pass)
{
	gnutls_datum_t pem = {NULL, 0};
	int rc = spn_pki_key_export(key, pass, &pem);

	if (rc == 0)
		rc = spn_file_create(path, pem.data, pem.size, 0600);
	spn_pki_datum_free_secret(&pem);
	return rc;
}

int spn_pki_key_import(const char *pem, size_t len, const char *what, const spn_pass_src_t *src,
		       gnutls_x509_privkey_t *out, char **pass_out)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	char *pass = NULL;
	int rc;

	if (pass_out)
		*pass_out = NULL;
	if (len > KEY_FILE_MAX)
		return spn_err(SPN_ETOOBIG, "%s: larger than a private key", what);
	if (gnutls_x509_privkey_init(&key) < 0)
		return SPN_ENOMEM;
	if (memmem(pem, len, "ENCRYPTED PRIVATE KEY-----", 26)) {
		if ((rc = spn_pass_read(src, "Passphrase for the private key: ", &pass)) != 0)
			goto out;
		rc = gnutls_x509_privkey_import_pkcs8(key, &d, GNUTLS_X509_FMT_PEM, pass, 0);
		if (rc == GNUTLS_E_DECRYPTION_FAILED) {
			rc = spn_err(SPN_EPASSPHRASE, "%s: wrong passphrase", what);
			goto out;
		}
	} else {
		rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	}
	/* A key whose public half does not follow from its private one (a
	 * point of another curve, say) would be taken here and fail only
	 * when it signs, or sign what nothing verifies. */
	if (rc >= 0)
		rc = gnutls_x509_privkey_verify_params(key);
	if (rc < 0) {
		rc = spn_err(SPN_EINVAL, "%s: not a usable private key: %s", what, gnutls_strerror(rc));
		goto out;
	}
	/* A key file written before spn fixed the scalar's length is read as
	 * it is; whatever is exported from it now is right. */
	if ((rc = p256_fixed_length(&key)))
		goto out;
	*out = key;
	key = NULL;
	if (pass_out) {
		*pass_out = pass;
		pass = NULL;
	}
out:
	spn_free_secret_str(pass);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

int spn_pki_key_load_src(const char *path, const spn_pass_src_t *src, gnutls_x509_privkey_t *out, char **pass_out)
{
	struct stat st;
	char *buf = NULL;
	size_t len;
	int rc;

	if (pass_out)
		*pass_out = NULL;
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		return spn_err(SPN_EINVAL, "%s: private key is accessible to group or others (mode %03o); chmod 600 it",
			       path, (unsigned)(st.st_mode & 0777));
	if ((rc = spn_file_read(path, KEY_FILE_MAX, &buf, &len)) != 0)
		return rc;
	rc = spn_pki_key_import(buf, len, path, src, out, pass_out);
	spn_free_secret(buf, len);
	return rc;
}

int spn_pki_key_load(const char *path, const char *pass_env, gnutls_x509_privkey_t *out)
{
	spn_pass_src_t src = {.env = pass_env};

	return spn_pki_key_load_src(path, &src, out, NULL);
}

gnutls_sign_algorithm_t spn_pki_sign_algo(gnutls_pk_algorithm_t pk)
{
	switch (pk) {
	case GNUTLS_PK_EDDSA_ED25519: return GNUTLS_SIGN_EDDSA_ED25519;
	case GNUTLS_PK_ECDSA: return GNUTLS_SIGN_ECDSA_SHA256;
	case GNUTLS_PK_RSA: return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	default: return GNUTLS_SIGN_UNKNOWN;
	}
}

gnutls_digest_algorithm_t spn_pki_sign_digest(gnutls_pk_algorithm_t pk)
{
	return pk == GNUTLS_PK_EDDSA_ED25519 ? GNUTLS_DIG_SHA512 : GNUTLS_DIG_SHA256;
}

int spn_pki_sign(gnutls_x509_privkey_t key, const void *data, size_t len, gnutls_datum_t *sig)
{
	gnutls_privkey_t pk;
	gnutls_datum_t d = {(unsigned char *)data, (unsigned)len};
	int rc;

	if (gnutls_privkey_init(&pk) < 0)
		return SPN_ENOMEM;
	rc = gnutls_privkey_import_x509(pk, key, 0);
	if (rc >= 0)
		rc = gnutls_privkey_sign_data2(pk, spn_pki_sign_algo(gnutls_x509_privkey_get_pk_algorithm(key)), 0,
					       &d, sig);
	gnutls_privkey_deinit(pk);
	return rc < 0 ? spn_err(SPN_ECRYPTO, "signing failed: %s", gnutls_strerror(rc)) : 0;
}

int spn_pki_verify(gnutls_x509_crt_t crt, const void *data, size_t len, const void *sig, size_t siglen)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t d = {(unsigned char *)data, (unsigned)len};
	gnutls_datum_t s = {(unsigned char *)sig, (unsigned)siglen};
	int rc;

	if (gnutls_pubkey_init(&pub) < 0)
		return SPN_ENOMEM;
	rc = gnutls_pubkey_import_x509(pub, crt, 0);
	if (rc >= 0)
		rc = gnutls_pubkey_verify_data2(pub, spn_pki_sign_algo(gnutls_x509_crt_get_pk_algorithm(crt, NULL)),
						0, &d, &s);
	gnutls_pubkey_deinit(pub);
	return rc < 0 ? spn_err(SPN_EBADSIG, "signature does not verify") : 0;
}

int spn_pki_key_pubkey(gnutls_x509_privkey_t key, gnutls_pubkey_t *out)
{
	gnutls_privkey_t pk = NULL;
	gnutls_pubkey_t pub = NULL;
	int rc = GNUTLS_E_MEMORY_ERROR;

	if (gnutls_privkey_init(&pk) == 0 && gnutls_pubkey_init(&pub) == 0) {
		rc = gnutls_privkey_import_x509(pk, key, 0);
		if (rc >= 0)
			rc = gnutls_pubkey_import_privkey(pub, pk, 0, 0);
	}
	if (pk)
		gnutls_privkey_deinit(pk);
	if (rc < 0) {
		if (pub)
			gnutls_pubkey_deinit(pub);
		return spn_err(SPN_ECRYPTO, "cannot derive the public key: %s", gnutls_strerror(rc));
	}
	*out = pub;
	return 0;
}
