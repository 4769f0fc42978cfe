/* A signing key that may live outside the process: a PKCS#8 file loaded
 * into memory, or a key in a PKCS#11 token (RFC 7512 URI) that signs inside
 * the token and is never read. The CA signs certificates and CRLs through
 * it either way. */
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdbool.h>

#include "pass.h"
#include "pki_key.h"

typedef struct {
	gnutls_privkey_t key;
	char *pin;     /* the token's PIN, kept for the logins a token asks for
			* again (a new session, after fork); wiped on close */
	bool in_token;
	char *uri;     /* the key's PKCS#11 URI; NULL for a file key */
	char *made;    /* the objects spn_pki_signer_generate made, by id */
} spn_pki_signer_t;

/* Whether ref names a key in a token ("pkcs11:...") rather than a file. */
bool spn_pki_is_token_uri(const char *ref);

/* The value of the path attribute name (RFC 7512 §2.3) in a "pkcs11:" URI,
 * percent-decoded into out: 1 when found, 0 when absent, SPN_EINVAL for a
 * bad escape, a NUL or a value longer than cap - 1. */
int spn_pki_uri_attr(const char *uri, const char *name, char *out, size_t cap);

/* ref as it may be shown in a message or a log: a PKCS#11 URI without its
 * pin-value and pin-source attributes (in buf, cut to cap); else ref. */
const char *spn_pki_key_ref_shown(const char *ref, char *buf, size_t cap);

/* GnuTLS's PIN callback for a signer, user its PIN: the PIN on a token's
 * first request, and a refusal (-1) on any further attempt or when GnuTLS
 * says the last one was wrong, since tokens lock after a few wrong PINs;
 * also when the PIN does not fit. */
int spn_pki_pin_offer(void *user, int attempt, const char *token_url, const char *token_label, unsigned flags,
		      char *pin, size_t pin_max);

/* Loads PKCS#11 modules once per process: module (a path such as
 * /usr/lib/softhsm/libsofthsm2.so) alone, or with NULL the modules p11-kit
 * has registered on this machine. A second call must name the same. */
int spn_pki_token_setup(const char *module);

/* Opens the key ref names: a file (its passphrase from src when encrypted)
 * or a token's key (its PIN from src, read once). what names the key in
 * errors. A URI carrying its PIN (pin-value) is refused: the PIN goes where
 * passphrases go. Release with spn_pki_signer_close. */
int spn_pki_signer_open(spn_pki_signer_t *s, const char *ref, const char *what, const spn_pass_src_t *src);

/* Takes a key already in memory (generated here); key is owned by s
 * afterwards. */
int spn_pki_signer_adopt(spn_pki_signer_t *s, gnutls_x509_privkey_t key);

/* Makes a fresh key of type in the token uri names, labelled with the
 * URI's object attribute, private, sensitive and never extractable; with
 * pin as the token's PIN. Refuses when the token already holds a private
 * key of that label (*exists set) so that no key is made twice under one
 * name. */
int spn_pki_signer_generate(spn_pki_signer_t *s, const char *uri, spn_key_type_t type, const char *pin,
			    bool *exists);

/* Removes from the token the key spn_pki_signer_generate made (when the
 * group it was made for could not be created), so that the label is free
 * for another try; nothing for a key it opened. */
void spn_pki_signer_discard(spn_pki_signer_t *s);

/* Proves that s holds the private half of crt's public key: signs fresh
 * random data and verifies it with crt (a token's key never leaves it). */
int spn_pki_signer_matches(const spn_pki_signer_t *s, gnutls_x509_crt_t crt);

/* The signer's public key; release with gnutls_pubkey_deinit. */
int spn_pki_signer_pubkey(const spn_pki_signer_t *s, gnutls_pubkey_t *out);

/* The digest to sign certificates and CRLs with under this key. */
gnutls_digest_algorithm_t spn_pki_signer_digest(const spn_pki_signer_t *s);

void spn_pki_signer_close(spn_pki_signer_t *s);
