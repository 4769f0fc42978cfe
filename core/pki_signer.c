/* Signing keys in a file or in a PKCS#11 token, behind GnuTLS's abstract
 * private key, so that the CA signs the same way with either. */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/pkcs11.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "mem.h"
#include "pki_signer.h"

static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static bool setup_done;
static char *setup_module;

bool spn_pki_is_token_uri(const char *ref)
{
	return ref && strncmp(ref, "pkcs11:", 7) == 0;
}

int spn_pki_token_setup(const char *module)
{
	int rc = 0;

	pthread_mutex_lock(&setup_lock);
	if (setup_done) {
		if ((module == NULL) != (setup_module == NULL) || (module && strcmp(module, setup_module) != 0))
			rc = spn_err(SPN_ECONFIG, "PKCS#11 module %s asked for after %s was loaded",
				     module ? module : "(p11-kit's)", setup_module ? setup_module : "p11-kit's");
		goto out;
	}
	if (!module) {
		rc = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_AUTO, NULL);
	} else {
		rc = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL);
		if (rc >= 0)
			rc = gnutls_pkcs11_add_provider(module, NULL);
	}
	if (rc < 0) {
		rc = spn_err(SPN_ECRYPTO, "cannot load PKCS#11 module %s: %s", module ? module : "(p11-kit's)",
			     gnutls_strerror(rc));
		goto out;
	}
	if (module && !(setup_module = strdup(module))) {
		rc = SPN_ENOMEM;
		goto out;
	}
	setup_done = true;
	rc = 0;
out:
	pthread_mutex_unlock(&setup_lock);
	return rc;
}

int spn_pki_pin_offer(void *user, int attempt, const char *token_url, const char *token_label, unsigned flags,
		      char *pin, size_t pin_max)
{
	const char *have = user;
	size_t n;

	(void)token_url;
	(void)token_label;
	if (!have || attempt > 0 || (flags & GNUTLS_PIN_WRONG))
		return -1;
	n = strlen(have);
	if (n >= pin_max)
		return -1;
	memcpy(pin, have, n + 1);
	return 0;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int spn_pki_uri_attr(const char *uri, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), o = 0;
	const char *p, *end;

	if (!spn_pki_is_token_uri(uri) || cap == 0)
		return spn_err(SPN_EINVAL, "not a PKCS#11 URI");
	p = uri + 7;
	end = p + strcspn(p, "?");
	while (p < end) {
		size_t len = strcspn(p, ";?");
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			for (const char *v = p + nl + 1; v < p + len; v++) {
				int c = (unsigned char)*v;
				if (c == '%') {
					int hi = v + 2 < p + len ? hex_digit(v[1]) : -1, lo = hi < 0 ? -1 : hex_digit(v[2]);
					if (lo < 0)
						return spn_err(SPN_EINVAL, "PKCS#11 URI: bad %%-escape in %s", name);
					c = hi * 16 + lo;
					v += 2;
				}
				if (c == 0)
					return spn_err(SPN_EINVAL, "PKCS#11 URI: %s holds a NUL", name);
				if (o + 1 >= cap)
					return spn_err(SPN_EINVAL, "PKCS#11 URI: %s longer than %zu bytes", name, cap - 1);
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 1;
		}
		p += len + (p[len] == ';');
	}
	return 0;
}

const char *spn_pki_key_ref_shown(const char *ref, char *buf, size_t cap)
{
	size_t o = 0;

	if (!spn_pki_is_token_uri(ref) || !strstr(ref, "pin-") || cap == 0)
		return ref;
	for (const char *p = ref; *p;) {
		/* One attribute with the separator before it ("pkcs11:" first). */
		size_t len = (p == ref ? 0 : 1) + strcspn(p + (p == ref ? 0 : 1), ";?&");
		const char *name = p + (p == ref ? 0 : 1);
		if (strncmp(name, "pin-", 4) != 0)
			for (size_t i = 0; i < len && o + 1 < cap; i++)
				buf[o++] = p[i];
		p += len;
	}
	buf[o] = '\0';
	return buf;
}

static int check_uri(const char *uri, const char *what)
{
	if (strstr(uri, "pin-value=") || strstr(uri, "pin-source="))
		return spn_err(SPN_ECONFIG, "%s: the PKCS#11 URI carries a PIN; give it where passphrases go "
					    "([ca] passphrase_file, passphrase_env or the credential)", what);
	return 0;
}

/* Refuses a key spn does not sign with: it could not verify its own
 * certificates. */
static int check_type(const spn_pki_signer_t *s, const char *what)
{
	gnutls_pubkey_t pub;
	spn_key_type_t t;
	int rc;

	/* A token's key reports its size through the public half only. */
	if ((rc = spn_pki_signer_pubkey(s, &pub)))
		return spn_err(rc, "%s: %s", what, spn_err_detail(rc));
	rc = spn_pki_pubkey_type(pub, &t);
	gnutls_pubkey_deinit(pub);
	return rc ? spn_err(rc, "%s: %s", what, spn_err_detail(rc)) : 0;
}

int spn_pki_signer_adopt(spn_pki_signer_t *s, gnutls_x509_privkey_t key)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (gnutls_privkey_init(&s->key) < 0)
		return SPN_ENOMEM;
	/* From here the abstract key owns (and on deinit wipes) the x509 key. */
	if ((rc = gnutls_privkey_import_x509(s->key, key, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		gnutls_privkey_deinit(s->key);
		s->key = NULL;
		gnutls_x509_privkey_deinit(key);
		return spn_err(SPN_ECRYPTO, "cannot use the key: %s", gnutls_strerror(rc));
	}
	return 0;
}

static int open_token(spn_pki_signer_t *s, const char *uri, const char *what)
{
	int rc;

	free(s->uri); /* a second open, after generation */
	if (!(s->uri = strdup(uri)))
		return SPN_ENOMEM;
	s->in_token = true;
	if (gnutls_privkey_init(&s->key) < 0)
		return SPN_ENOMEM;
	gnutls_privkey_set_pin_function(s->key, spn_pki_pin_offer, s->pin);
	rc = gnutls_privkey_import_url(s->key, uri, 0);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return spn_err(SPN_ENOTFOUND, "%s: no private key at %s", what, uri);
	if (rc == GNUTLS_E_PKCS11_PIN_ERROR || rc == GNUTLS_E_PKCS11_USER_ERROR)
		return spn_err(SPN_EPASSPHRASE, "%s: the token refused the PIN (%s)", what, gnutls_strerror(rc));
	if (rc < 0)
		return spn_err(SPN_ECRYPTO, "%s: cannot open %s: %s", what, uri, gnutls_strerror(rc));
	return 0;
}

int spn_pki_signer_open(spn_pki_signer_t *s, const char *ref, const char *what, const spn_pass_src_t *src)
{
	gnutls_x509_privkey_t key;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!spn_pki_is_token_uri(ref)) {
		if ((rc = spn_pki_key_load_src(ref, src, &key, NULL)))
			return rc;
		if ((rc = spn_pki_signer_adopt(s, key)) == 0 && (rc = check_type(s, what)))
			spn_pki_signer_close(s);
		return rc;
	}
	if ((rc = check_uri(ref, what)))
		return rc;
	if ((rc = spn_pass_read(src, "PIN of the token holding the CA key: ", &s->pin)) ||
	    (rc = open_token(s, ref, what)) || (rc = check_type(s, what)))
		spn_pki_signer_close(s);
	return rc;
}

/* uri with the object id cid added as a path attribute (RFC 7512). */
static int with_id(const char *uri, const unsigned char *cid, size_t n, char **out)
{
	size_t path = strcspn(uri, "?"), len = strlen(uri);
	char *u = malloc(len + 4 + 3 * n + 1), *p;

	if (!u)
		return SPN_ENOMEM;
	memcpy(u, uri, path);
	p = u + path;
	p += sprintf(p, ";id=");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%%%02X", cid[i]);
	memcpy(p, uri + path, len - path + 1);
	*out = u;
	return 0;
}

int spn_pki_signer_generate(spn_pki_signer_t *s, const char *uri, spn_key_type_t type, const char *pin,
			    bool *exists)
{
	static const struct {
		gnutls_pk_algorithm_t pk;
		unsigned bits;
	} how[] = {
		[SPN_KEY_ED25519] = {GNUTLS_PK_EDDSA_ED25519, 256},
		[SPN_KEY_P256] = {GNUTLS_PK_ECDSA, 0},
		[SPN_KEY_RSA2048] = {GNUTLS_PK_RSA, 2048},
		[SPN_KEY_RSA3072] = {GNUTLS_PK_RSA, 3072},
		[SPN_KEY_RSA4096] = {GNUTLS_PK_RSA, 4096},
	};
	char label[128];
	unsigned char cid[20];
	gnutls_datum_t id = {cid, sizeof(cid)};
	int rc;

	memset(s, 0, sizeof(*s));
	*exists = false;
	if ((rc = check_uri(uri, "the CA key")))
		return rc;
	if ((rc = spn_pki_uri_attr(uri, "object", label, sizeof(label))) < 0)
		return rc;
	if (rc == 0 || !label[0])
		return spn_err(SPN_EINVAL, "%s: name the key with object=<label>", uri);
	if (!(s->pin = strdup(pin))) {
		rc = SPN_ENOMEM;
		goto fail;
	}
	rc = open_token(s, uri, "the CA key");
	if (rc == 0) {
		*exists = true;
		rc = spn_err(SPN_EEXIST, "%s already holds a private key labelled '%s'", uri, label);
		goto fail;
	}
	if (rc != SPN_ENOTFOUND)
		goto fail;
	gnutls_privkey_deinit(s->key);
	s->key = NULL;
	/* An id of its own, so that exactly these objects can be removed again. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, cid, sizeof(cid)) < 0 || (rc = with_id(uri, cid, sizeof(cid), &s->made))) {
		rc = rc ? rc : spn_err(SPN_ECRYPTO, "no randomness");
		goto fail;
	}
	/* Generation has no key object to carry a PIN function yet. */
	gnutls_pkcs11_set_pin_function(spn_pki_pin_offer, s->pin);
	rc = gnutls_pkcs11_privkey_generate3(
		uri, how[type].pk,
		how[type].pk == GNUTLS_PK_ECDSA ? GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) : how[type].bits,
		label, &id, 0, NULL, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE,
		GNUTLS_PKCS11_OBJ_FLAG_LOGIN | GNUTLS_PKCS11_OBJ_FLAG_MARK_PRIVATE |
			GNUTLS_PKCS11_OBJ_FLAG_MARK_SENSITIVE);
	gnutls_pkcs11_set_pin_function(NULL, NULL);
	if (rc < 0) {
		rc = spn_err(rc == GNUTLS_E_PKCS11_PIN_ERROR ? SPN_EPASSPHRASE : SPN_ECRYPTO,
			     "cannot make a %s key in %s: %s", spn_key_type_name(type), uri, gnutls_strerror(rc));
		free(s->made);
		s->made = NULL;
		goto fail;
	}
	if ((rc = open_token(s, s->made, "the CA key")) == 0)
		return 0;
	spn_pki_signer_discard(s);
fail:
	spn_pki_signer_close(s);
	return rc;
}

void spn_pki_signer_discard(spn_pki_signer_t *s)
{
	int rc;

	if (!s->made)
		return;
	if (s->key) {
		gnutls_privkey_deinit(s->key);
		s->key = NULL;
	}
	gnutls_pkcs11_set_pin_function(spn_pki_pin_offer, s->pin);
	rc = gnutls_pkcs11_delete_url(s->made, GNUTLS_PKCS11_OBJ_FLAG_LOGIN);
	gnutls_pkcs11_set_pin_function(NULL, NULL);
	if (rc < 0)
		spn_log_warn("the key made in the token stays there (%s): remove it before using its label again",
			     gnutls_strerror(rc));
	free(s->made);
	s->made = NULL;
}

int spn_pki_signer_pubkey(const spn_pki_signer_t *s, gnutls_pubkey_t *out)
{
	gnutls_pubkey_t pub;
	int rc;

	if (gnutls_pubkey_init(&pub) < 0)
		return SPN_ENOMEM;
	if ((rc = gnutls_pubkey_import_privkey(pub, s->key, 0, 0)) < 0) {
		gnutls_pubkey_deinit(pub);
		return spn_err(SPN_ECRYPTO, "cannot read the public half of the key: %s", gnutls_strerror(rc));
	}
	*out = pub;
	return 0;
}

int spn_pki_signer_matches(const spn_pki_signer_t *s, gnutls_x509_crt_t crt)
{
	unsigned char nonce[32];
	gnutls_datum_t data = {nonce, sizeof(nonce)}, sig = {NULL, 0};
	gnutls_pubkey_t pub = NULL;
	gnutls_sign_algorithm_t algo = spn_pki_sign_algo(gnutls_privkey_get_pk_algorithm(s->key, NULL));
	int rc;

	if (gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof(nonce)) < 0)
		return spn_err(SPN_ECRYPTO, "no randomness");
	if ((rc = gnutls_privkey_sign_data2(s->key, algo, 0, &data, &sig)) < 0)
		return spn_err(rc == GNUTLS_E_PKCS11_PIN_ERROR ? SPN_EPASSPHRASE : SPN_ECRYPTO, "the key cannot sign: %s",
			       gnutls_strerror(rc));
	if (gnutls_pubkey_init(&pub) < 0) {
		gnutls_free(sig.data);
		return SPN_ENOMEM;
	}
	rc = gnutls_pubkey_import_x509(pub, crt, 0);
	if (rc >= 0)
		rc = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig);
	gnutls_pubkey_deinit(pub);
	gnutls_free(sig.data);
	return rc < 0 ? spn_err(SPN_EINVAL, "the private key does not belong to the certificate") : 0;
}

gnutls_digest_algorithm_t spn_pki_signer_digest(const spn_pki_signer_t *s)
{
	return spn_pki_sign_digest((gnutls_pk_algorithm_t)gnutls_privkey_get_pk_algorithm(s->key, NULL));
}

void spn_pki_signer_close(spn_pki_signer_t *s)
{
	if (s->key)
		gnutls_privkey_deinit(s->key);
	spn_free_secret_str(s->pin);
	free(s->uri);
	free(s->made);
	memset(s, 0, sizeof(*s));
}
