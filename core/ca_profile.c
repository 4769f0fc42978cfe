/* Certificate profiles per role and the CA's policy, read from the
 * configuration with defaults that keep certificates short-lived. */
#include "config.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>

#include "ca.h"
#include "error.h"
#include "pki_key.h"

const spn_conf_key_t spn_ca_conf_keys[] = {
	{"ca", "key", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "cert", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "chain", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "ledger", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "crl", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "crl_url", SPN_CONF_STR, 0, 0, NULL},
	{"ca", "pkcs11_module", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "lease_ms", SPN_CONF_UINT, 300, 600000, NULL},
	{"ca", "passphrase_env", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "passphrase_file", SPN_CONF_STR, 1, 0, NULL},
	{"ca", "admin_threshold", SPN_CONF_UINT, 0, SPN_TRUST_MAX, NULL},
	{"ca", "max_children", SPN_CONF_UINT, 0, 1000000, NULL},
	{"ca", "token_ttl", SPN_CONF_DURATION, 60, 30 * 86400, NULL},
	{"ca", "crl_validity", SPN_CONF_DURATION, 60, 365 * 86400, NULL},
	{"ca", "generated_key_type", SPN_CONF_ENUM, 0, 0, "ed25519|p256|rsa2048|rsa3072|rsa4096"},
	{"profile.*", "validity", SPN_CONF_DURATION, 60, 10 * 365 * 86400UL, NULL},
	{"profile.*", "key_usage", SPN_CONF_LIST, 1, 0, NULL},
	{"profile.*", "ext_key_usage", SPN_CONF_LIST, 0, 0, NULL},
	{"template.*", "role", SPN_CONF_ENUM, 0, 0, "admin|spn|client"},
	{"template.*", "validity", SPN_CONF_DURATION, 60, 10 * 365 * 86400UL, NULL},
	{"template.*", "services", SPN_CONF_LIST, 0, 0, NULL},
	{"template.*", "key_usage", SPN_CONF_LIST, 1, 0, NULL},
	{"template.*", "ext_key_usage", SPN_CONF_LIST, 0, 0, NULL},
};
const size_t spn_ca_conf_nkeys = sizeof(spn_ca_conf_keys) / sizeof(spn_ca_conf_keys[0]);

int spn_ca_policy_load(const spn_conf_t *c, spn_ca_policy_t *p)
{
	unsigned long u;
	int rc;

	if ((rc = spn_conf_uint(c, "ca", "admin_threshold", 7, 0, SPN_TRUST_MAX, &u)))
		return rc;
	p->admin_threshold = (unsigned)u;
	if ((rc = spn_conf_uint(c, "ca", "max_children", 16, 0, 1000000, &u)))
		return rc;
	p->max_children = (unsigned)u;
	if ((rc = spn_conf_duration(c, "ca", "token_ttl", 3600, &p->token_ttl)) ||
	    (rc = spn_conf_duration(c, "ca", "crl_validity", 86400, &p->crl_validity)))
		return rc;
	return spn_key_type_parse(spn_conf_str(c, "ca", "generated_key_type", "ed25519"), &p->generated_key_type);
}

static const struct {
	const char *name;
	unsigned bit;
} usages[] = {
	{"digital_signature", GNUTLS_KEY_DIGITAL_SIGNATURE},
	{"non_repudiation", GNUTLS_KEY_NON_REPUDIATION},
	{"key_encipherment", GNUTLS_KEY_KEY_ENCIPHERMENT},
	{"key_agreement", GNUTLS_KEY_KEY_AGREEMENT},
};

/* Splits "a, b" and calls fn on each trimmed word. */
static int each_word(const char *list, int (*fn)(const char *w, void *u), void *u)
{
	char word[64];
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(word))
			return SPN_EINVAL;
		memcpy(word, p, n);
		word[n] = '\0';
		int rc = fn(word, u);
		if (rc)
			return rc;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static int add_usage(const char *w, void *u)
{
	spn_ca_profile_t *p = u;

	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		if (strcmp(w, usages[i].name) == 0) {
			p->key_usage |= usages[i].bit;
			return 0;
		}
	}
	return SPN_EINVAL;
}

static int add_eku(const char *w, void *u)
{
	spn_ca_profile_t *p = u;

	if (strcmp(w, "server_auth") == 0)
		p->server_auth = true;
	else if (strcmp(w, "client_auth") == 0)
		p->client_auth = true;
	else
		return SPN_EINVAL;
	return 0;
}

int spn_ca_profile_read(const spn_conf_t *c, const char *section, const spn_ca_profile_t *def, spn_ca_profile_t *p)
{
	const char *v;
	int rc;

	*p = *def;
	if ((rc = spn_conf_duration(c, section, "validity", def->validity, &p->validity)))
		return rc;
	if ((v = spn_conf_get(c, section, "key_usage"))) {
		p->key_usage = 0;
		if (each_word(v, add_usage, p) != 0)
			return spn_err(SPN_ECONFIG, "%s: [%s] key_usage: '%s' is not a list of digital_signature, "
					      "non_repudiation, key_encipherment, key_agreement",
				       spn_conf_file(c), section, v);
	}
	if ((v = spn_conf_get(c, section, "ext_key_usage"))) {
		p->server_auth = p->client_auth = false;
		if (each_word(v, add_eku, p) != 0)
			return spn_err(SPN_ECONFIG, "%s: [%s] ext_key_usage: '%s' is not a list of server_auth, client_auth",
				       spn_conf_file(c), section, v);
	}
	/* A certificate without either extension may serve any purpose:
	 * empty is the widest value, never the narrowest. */
	if (!p->key_usage)
		return spn_err(SPN_ECONFIG, "%s: [%s] key_usage: empty; a certificate needs at least one usage",
			       spn_conf_file(c), section);
	if (!p->server_auth && !p->client_auth)
		return spn_err(SPN_ECONFIG, "%s: [%s] ext_key_usage: empty; a certificate without one would serve any "
					    "purpose", spn_conf_file(c), section);
	return 0;
}

int spn_ca_profile_load(const spn_conf_t *c, spn_role_t role, spn_ca_profile_t *p)
{
	/* Short-lived by default: nodes renew well before expiry. */
	static const unsigned long validity[] = {30 * 86400, 7 * 86400, 3 * 86400, 86400};
	spn_ca_profile_t def = {validity[role], GNUTLS_KEY_DIGITAL_SIGNATURE, role != SPN_ROLE_CLIENT, true};
	char section[32];

	snprintf(section, sizeof(section), "profile.%s", spn_role_name(role));
	return spn_ca_profile_read(c, section, &def, p);
}

/* The key usages a key of each algorithm may carry: Ed25519 signs only (RFC
 * 8410), an ECDSA key signs or agrees on keys (RFC 5480), an RSA key signs or
 * enciphers keys (RFC 4055). Anything else would make a certificate that
 * strict relying parties reject, or that promises what the key cannot do. */
static unsigned usages_allowed(gnutls_pk_algorithm_t pk)
{
	unsigned sign = GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_NON_REPUDIATION;

	switch (pk) {
	case GNUTLS_PK_ECDSA: return sign | GNUTLS_KEY_KEY_AGREEMENT;
	case GNUTLS_PK_RSA: return sign | GNUTLS_KEY_KEY_ENCIPHERMENT;
	default: return sign;
	}
}

/* The names of the usages in bits, comma-separated, in buf. */
static const char *usage_names(unsigned bits, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (bits & usages[i].bit)
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "", usages[i].name);
	return buf;
}

int spn_ca_profile_check_key(const spn_ca_profile_t *p, spn_role_t role, gnutls_pubkey_t pub)
{
	unsigned bits = 0, allowed, wrong;
	gnutls_pk_algorithm_t pk = (gnutls_pk_algorithm_t)gnutls_pubkey_get_pk_algorithm(pub, &bits);
	spn_key_type_t type;
	char bad[128], ok[128];
	int rc;

	if ((rc = spn_pki_key_type_of(pk, bits, &type)))
		return rc;
	allowed = usages_allowed(pk);
	if (!(wrong = p->key_usage & ~allowed))
		return 0;
	return spn_err(SPN_EPOLICY, "[profile.%s] key_usage %s cannot be used with %s keys (they may carry %s)",
		       spn_role_name(role), usage_names(wrong, bad, sizeof(bad)), spn_key_type_name(type),
		       usage_names(allowed, ok, sizeof(ok)));
}
