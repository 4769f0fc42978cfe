/* Private keys: generation, PKCS#8 storage (optionally passphrase-encrypted,
 * always 0600), loading, and signatures with an algorithm fixed by the key
 * type, never chosen by the data being verified. */
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "pass.h"

typedef enum {
	SPN_KEY_ED25519 = 0,
	SPN_KEY_P256,
	SPN_KEY_RSA2048,
	SPN_KEY_RSA3072,
	SPN_KEY_RSA4096,
} spn_key_type_t;

int spn_key_type_parse(const char *s, spn_key_type_t *out);
const char *spn_key_type_name(spn_key_type_t t);

/* A fresh key; release with gnutls_x509_privkey_deinit. */
int spn_pki_key_generate(spn_key_type_t type, gnutls_x509_privkey_t *out);

/* PKCS#8 PEM, encrypted with PBES2/AES-256 when pass is non-NULL. The caller
 * releases *pem with spn_pki_datum_free_secret. */
int spn_pki_key_export(gnutls_x509_privkey_t key, const char *pass, gnutls_datum_t *pem);

/* Writes the key to path, mode 0600; refuses to replace an existing file. */
int spn_pki_key_save(gnutls_x509_privkey_t key, const char *path, const char *pass);

/* Reads a PKCS#8 (or traditional) PEM key from memory, as
 * spn_pki_key_load_src does from a file; what names it in errors. */
int spn_pki_key_import(const char *pem, size_t len, const char *what, const spn_pass_src_t *src,
		       gnutls_x509_privkey_t *out, char **pass_out);

/* Loads a PKCS#8 (or traditional) PEM key. An encrypted key asks src for
 * its passphrase (spn_pass_read); pass_out (optional) then receives it, for
 * a caller that must hand the file on to a library that decrypts it again
 * (libcurl), to release with spn_free_secret_str; NULL for a key that is not
 * encrypted. Refuses a key file readable by group or others. */
int spn_pki_key_load_src(const char *path, const spn_pass_src_t *src, gnutls_x509_privkey_t *out, char **pass_out);
/* The same with the passphrase from the variable pass_env or the terminal. */
int spn_pki_key_load(const char *path, const char *pass_env, gnutls_x509_privkey_t *out);

/* The key's type when spn supports it, else SPN_EUNSUPPORTED. */
int spn_pki_key_type_of(gnutls_pk_algorithm_t pk, unsigned bits, spn_key_type_t *out);

/* The same for a public key, whether in a file, a certificate or a token
 * (which reports an EC key's curve but not its size). */
int spn_pki_pubkey_type(gnutls_pubkey_t pub, spn_key_type_t *out);

/* The signature algorithm spn uses for a public key of this kind. */
gnutls_sign_algorithm_t spn_pki_sign_algo(gnutls_pk_algorithm_t pk);
/* The digest handed to GnuTLS when it signs certificates, CRLs and CSRs. */
gnutls_digest_algorithm_t spn_pki_sign_digest(gnutls_pk_algorithm_t pk);

/* Signs data; *sig is the caller's (gnutls_free). */
int spn_pki_sign(gnutls_x509_privkey_t key, const void *data, size_t len, gnutls_datum_t *sig);
/* Verifies a signature made by the holder of crt's key. */
int spn_pki_verify(gnutls_x509_crt_t crt, const void *data, size_t len, const void *sig,
		   size_t siglen);

/* The public half of key; release with gnutls_pubkey_deinit. */
int spn_pki_key_pubkey(gnutls_x509_privkey_t key, gnutls_pubkey_t *out);

/* Wipes then releases a datum GnuTLS allocated. */
void spn_pki_datum_free_secret(gnutls_datum_t *d);
