/* The CA object: creation of a new group, opening an existing one, and the
 * certificate signing every issuance path goes through. */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ca_import.h"
#include "ca_internal.h"
#include "clock.h"
#include "b64.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "pki_cert.h"


static int fresh_serial(unsigned char serial[16])
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, 16) < 0)
		return spn_err(SPN_ECRYPTO, "no randomness for a serial");
	/* Positive and exactly 16 bytes in DER: top bit clear, next bit set. */
	serial[0] = (unsigned char)((serial[0] & 0x3f) | 0x40);
	return 0;
}

static int set_ip(gnutls_x509_crt_t crt, const char *ip)
{
	unsigned char bin[16];
	int n = spn_names_ip_bin(ip, bin);

	return n < 0 ? GNUTLS_E_INVALID_REQUEST
		     : gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, bin, (unsigned)n, GNUTLS_FSAN_APPEND);
}

static int set_ident(gnutls_x509_crt_t crt, const spn_ident_t *id)
{
	char *uri;
	int rc;

	if (spn_ident_uri_encode(id, &uri) != 0)
		return GNUTLS_E_INVALID_REQUEST;
	rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_URI, uri, (unsigned)strlen(uri), GNUTLS_FSAN_APPEND);
	free(uri);
	return rc;
}

int spn_ca_sign(gnutls_x509_crt_t root, gnutls_privkey_t key, gnutls_pubkey_t pub, const spn_ident_t *id,
		const spn_names_t *names, const spn_ca_profile_t *profile, const char *crl_url, time_t now,
		gnutls_x509_crt_t *out, char *serial_hex, const spn_ca_subject_t *subject)
{
	gnutls_x509_crt_t crt;
	unsigned char serial[16], kid[64];
	size_t kid_len = sizeof(kid);
	time_t not_after = now + (time_t)profile->validity;
	int rc;

	if (root && not_after > gnutls_x509_crt_get_expiration_time(root))
		not_after = gnutls_x509_crt_get_expiration_time(root);
	/* Never a certificate without usages: it would serve any purpose
	 * (a renewal's narrowing could otherwise come to nothing). */
	if (!profile->key_usage || (!profile->server_auth && !profile->client_auth))
		return spn_err(SPN_EPOLICY, "no key usage or extended key usage left for %s's certificate", id->node_id);
	if ((rc = spn_ca_profile_check_key(profile, id->role, pub)) || (rc = fresh_serial(serial)))
		return rc;
	if (gnutls_x509_crt_init(&crt) < 0)
		return SPN_ENOMEM;
	rc = gnutls_x509_crt_set_version(crt, 3);
	if (rc >= 0) rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (rc >= 0) rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, id->node_id, (unsigned)strlen(id->node_id));
	if (rc >= 0) rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, id->group, (unsigned)strlen(id->group));
	if (rc >= 0 && subject) rc = spn_ca_subject_apply(subject, crt);
	if (rc >= 0) rc = gnutls_x509_crt_set_pubkey(crt, pub);
	if (rc >= 0) rc = gnutls_x509_crt_set_activation_time(crt, now - SPN_CA_BACKDATE);
	if (rc >= 0) rc = gnutls_x509_crt_set_expiration_time(crt, not_after);
	if (rc >= 0) rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (rc >= 0) rc = gnutls_x509_crt_set_key_usage(crt, profile->key_usage);
	if (rc >= 0 && profile->server_auth) rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (rc >= 0 && profile->client_auth) rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0);
	for (size_t i = 0; rc >= 0 && names && i < names->n_dns; i++)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, names->dns[i],
							  (unsigned)strlen(names->dns[i]), GNUTLS_FSAN_APPEND);
	for (size_t i = 0; rc >= 0 && names && i < names->n_ip; i++)
		rc = set_ip(crt, names->ip[i]);
	if (rc >= 0) rc = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1, kid, &kid_len);
	if (rc >= 0) rc = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
	if (rc >= 0) {
		kid_len = sizeof(kid);
		rc = gnutls_x509_crt_get_subject_key_id(root, kid, &kid_len, NULL);
		if (rc >= 0)
			rc = gnutls_x509_crt_set_authority_key_id(crt, kid, kid_len);
	}
	if (rc >= 0 && crl_url && *crl_url)
		rc = gnutls_x509_crt_set_crl_dist_points(crt, GNUTLS_SAN_URI, crl_url, 0);
	if (rc >= 0) rc = set_ident(crt, id);
	if (rc >= 0)
		rc = gnutls_x509_crt_privkey_sign(crt, root, key,
						  spn_pki_sign_digest((gnutls_pk_algorithm_t)gnutls_privkey_get_pk_algorithm(key, NULL)), 0);
	if (rc < 0) {
		gnutls_x509_crt_deinit(crt);
		return spn_err(SPN_ECRYPTO, "cannot sign certificate: %s", gnutls_strerror(rc));
	}
	spn_hex(serial, sizeof(serial), serial_hex);
	*out = crt;
	return 0;
}

int spn_ca_record(spn_ca_t *ca, gnutls_x509_crt_t crt, const spn_ident_t *id, const char *parent,
		  const char *token_id, const char *tpl, time_t now, spn_ca_issued_t *out)
{
	spn_ledger_cert_t rec;
	char detail[256];
	int rc;

	memset(&rec, 0, sizeof(rec));
	if ((rc = spn_pki_cert_serial(crt, rec.serial)) || (rc = spn_pki_cert_export(crt, &rec.pem)))
		return rc;
	rec.id = *id;
	snprintf(rec.parent, sizeof(rec.parent), "%s", parent ? parent : "");
	snprintf(rec.token_id, sizeof(rec.token_id), "%s", token_id ? token_id : "");
	rec.not_before = gnutls_x509_crt_get_activation_time(crt);
	rec.not_after = gnutls_x509_crt_get_expiration_time(crt);
	rec.issued_at = now;
	rc = spn_ledger_cert_add(ca->ledger, &rec);
	if (rc == 0) {
		snprintf(detail, sizeof(detail), "role=%s trust=%u by=%s%s%s", spn_role_name(id->role), id->trust,
			 rec.parent[0] ? rec.parent : "-", tpl && *tpl ? " template=" : "", tpl ? tpl : "");
		rc = spn_ledger_event(ca->ledger, now, "issue", rec.serial, id->node_id, detail);
	}
	if (rc) {
		free(rec.pem);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	/* The ledger keeps the certificate; the answer carries the chain. */
	rc = spn_ca_chain_attach(ca, rec.pem, &out->cert_pem);
	free(rec.pem);
	if (rc)
		return rc;
	strcpy(out->serial, rec.serial);
	out->id = *id;
	out->not_after = rec.not_after;
	return 0;
}

void spn_ca_issued_clear(spn_ca_issued_t *out)
{
	free(out->cert_pem);
	if (out->p12) {
		spn_wipe(out->p12, out->p12_len);
		gnutls_free(out->p12);
	}
	spn_free_secret_str(out->p12_pass);
	memset(out, 0, sizeof(*out));
}

static int self_sign_root(const spn_pki_signer_t *key, const char *group, unsigned long validity, time_t now,
			  gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub = NULL;
	unsigned char serial[16], kid[64];
	size_t kid_len = sizeof(kid);
	char cn[SPN_NAME_MAX + 8];
	int rc;

	if ((rc = fresh_serial(serial)) || (rc = spn_pki_signer_pubkey(key, &pub)))
		return rc;
	snprintf(cn, sizeof(cn), "%s root", group);
	if (gnutls_x509_crt_init(&crt) < 0) {
		gnutls_pubkey_deinit(pub);
		return SPN_ENOMEM;
	}
	rc = gnutls_x509_crt_set_version(crt, 3);
	if (rc >= 0) rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (rc >= 0) rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn));
	if (rc >= 0) rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, group, (unsigned)strlen(group));
	if (rc >= 0) rc = gnutls_x509_crt_set_pubkey(crt, pub);
	if (rc >= 0) rc = gnutls_x509_crt_set_activation_time(crt, now - SPN_CA_BACKDATE);
	if (rc >= 0) rc = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)validity);
	/* Path length 0: the PSP signs every certificate itself. */
	if (rc >= 0) rc = gnutls_x509_crt_set_basic_constraints(crt, 1, 0);
	if (rc >= 0) rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	if (rc >= 0) rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid, &kid_len);
	if (rc >= 0) rc = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
	if (rc >= 0) rc = gnutls_x509_crt_privkey_sign(crt, crt, key->key, spn_pki_signer_digest(key), 0);
	gnutls_pubkey_deinit(pub);
	if (rc < 0) {
		gnutls_x509_crt_deinit(crt);
		return spn_err(SPN_ECRYPTO, "cannot create the root certificate: %s", gnutls_strerror(rc));
	}
	*out = crt;
	return 0;
}

/* key: where [ca] key points; chain: whether ca/chain.pem was written. */
static int write_conf(const spn_ca_init_t *p, const char *key, bool chain, const char *path)
{
	char *text = NULL;
	int n = asprintf(&text,
			 "# spn node configuration, written by spnctl init (doc/operator-guide.md).\n"
			 "# Relative paths are relative to this file.\n\n"
			 "[node]\n"
			 "id = %s\n"
			 "group = %s\n"
			 "key = node.key\n"
			 "key_passphrase_env = SPN_NODE_PASSPHRASE\n"
			 "cert = node.crt\n"
			 "root = ca/root.crt\n\n"
			 "[ca]\n"
			 "key = %s\n%s%s%s"
			 "cert = ca/root.crt\n%s"
			 "ledger = %s\n"
			 "crl = crl.pem\n"
			 "passphrase_env = SPN_CA_PASSPHRASE\n"
			 "admin_threshold = 7\n"
			 "max_children = 16\n"
			 "token_ttl = 1h\n"
			 "crl_validity = 1d\n"
			 "generated_key_type = %s\n\n"
			 "[profile.psp]\nvalidity = 30d\nkey_usage = digital_signature\next_key_usage = server_auth, client_auth\n\n"
			 "[profile.admin]\nvalidity = 7d\nkey_usage = digital_signature\next_key_usage = server_auth, client_auth\n\n"
			 "[profile.spn]\nvalidity = 3d\nkey_usage = digital_signature\next_key_usage = server_auth, client_auth\n\n"
			 "[profile.client]\nvalidity = 1d\nkey_usage = digital_signature\next_key_usage = client_auth\n\n"
			 "[log]\nlevel = info\n",
			 p->psp_id, p->group, key, p->pkcs11_module ? "pkcs11_module = " : "",
			 p->pkcs11_module ? p->pkcs11_module : "", p->pkcs11_module ? "\n" : "",
			 chain ? "chain = ca/chain.pem\n" : "", p->ledger ? p->ledger : "ledger.db", spn_key_type_name(p->key_type));
	int rc;

	if (n < 0)
		return SPN_ENOMEM;
	rc = spn_file_create(path, text, strlen(text), 0640);
	free(text);
	return rc;
}

int spn_ca_ledger_location(const spn_conf_t *conf, char **out)
{
	const char *v = spn_conf_get(conf, "ca", "ledger");

	if (v && spn_ledger_is_uri(v))
		return (*out = strdup(v)) ? 0 : SPN_ENOMEM;
	return spn_conf_path(conf, "ca", "ledger", NULL, out);
}

/* The root key is created where it is used and never leaves: in the state
 * directory, or inside the token p->key_uri names. */
static int make_root_key(const spn_ca_init_t *p, spn_pki_signer_t *out)
{
	gnutls_x509_privkey_t key;
	char *path;
	bool exists;
	int rc;

	if (p->key_uri) {
		if ((rc = spn_pki_token_setup(p->pkcs11_module)))
			return rc;
		rc = spn_pki_signer_generate(out, p->key_uri, p->key_type, p->passphrase ? p->passphrase : "", &exists);
		if (rc && exists)
			return spn_err(rc, "%s; a group is made with a new key, or adopts a key with its certificate "
					   "(--import-root, --import-key)", spn_err_detail(rc));
		return rc;
	}
	if ((rc = spn_pki_key_generate(p->key_type, &key)))
		return rc;
	if (!(path = spn_file_join(p->dir, "ca/root.key"))) {
		gnutls_x509_privkey_deinit(key);
		return SPN_ENOMEM;
	}
	rc = spn_pki_key_save(key, path, p->passphrase);
	free(path);
	if (rc) {
		gnutls_x509_privkey_deinit(key);
		return rc;
	}
	return spn_pki_signer_adopt(out, key);
}

/* The group's CA, made here or adopted (checked by spn_ca_import_open
 * before anything was written), and its certificate in ca/root.crt. */
static int make_root(const spn_ca_init_t *p, spn_ca_import_t *im, time_t now, spn_pki_signer_t *key,
		     gnutls_x509_crt_t *root)
{
	char *pem = NULL, *path;
	int rc;

	if (p->import_root) {
		if ((rc = spn_ca_import_write(p, im)))
			return rc;
		*key = im->key;
		memset(&im->key, 0, sizeof(im->key));
		*root = im->certs[0];
		im->certs[0] = NULL;
		return 0;
	}
	if ((rc = make_root_key(p, key)) || (rc = self_sign_root(key, p->group, p->root_validity, now, root)))
		return rc;
	if (!(path = spn_file_join(p->dir, "ca/root.crt")))
		return SPN_ENOMEM;
	if ((rc = spn_pki_cert_export(*root, &pem)) == 0)
		rc = spn_file_create(path, pem, strlen(pem), 0644);
	free(pem);
	free(path);
	return rc;
}

int spn_ca_init(const spn_ca_init_t *p)
{
	gnutls_x509_privkey_t node_key = NULL;
	spn_pki_signer_t root_key = {0};
	gnutls_x509_crt_t root = NULL, node = NULL;
	gnutls_pubkey_t pub = NULL;
	spn_ledger_t *ledger = NULL;
	spn_conf_t *conf = NULL;
	spn_ca_t ca;
	spn_ca_import_t im = {0};
	spn_ca_profile_t profile;
	spn_ca_issued_t issued;
	spn_ident_t id;
	char *path = NULL, serial[SPN_SERIAL_HEX];
	struct stat st;
	time_t now = spn_clock_now();
	int rc;

	memset(&ca, 0, sizeof(ca));
	memset(&issued, 0, sizeof(issued));
	if (!spn_name_is_valid(p->group) || !spn_name_is_valid(p->psp_id))
		return spn_err(SPN_EINVAL, "group and PSP id must be 1-63 of a-z 0-9 . - (got '%s', '%s')", p->group,
			       p->psp_id);
	path = spn_file_join(p->dir, "spnd.conf");
	if (!path)
		return SPN_ENOMEM;
	if (stat(path, &st) == 0) {
		rc = spn_err(SPN_EEXIST, "%s already exists: %s holds a group; refusing to overwrite it", path, p->dir);
		free(path);
		return rc;
	}
	free(path);
	path = NULL;
	/* Every check before the first file, so that a refusal leaves nothing
	 * in the way of the next attempt. */
	if (p->import_root && (rc = spn_ca_import_open(p, now, &im)))
		return rc;

#define PATH(name)                                                                                         \
	do {                                                                                               \
		free(path);                                                                                \
		if (!(path = spn_file_join(p->dir, name))) {                                               \
			rc = SPN_ENOMEM;                                                                   \
			goto out;                                                                          \
		}                                                                                          \
	} while (0)

	PATH("ca");
	if ((rc = spn_file_mkdir(path, 0700)))
		goto out;
	if ((rc = make_root(p, &im, now, &root_key, &root)) ||
	    (rc = spn_ca_chain_tail(root, im.n > 1 ? im.certs + 1 : NULL, im.n > 1 ? im.n - 1 : 0, &ca.tail)))
		goto out;

	PATH("spnd.conf");
	if ((rc = write_conf(p, root_key.in_token ? root_key.uri : "ca/root.key", im.n > 1, path)) ||
	    (rc = spn_conf_load(path, &conf)))
		goto out;
	if (p->import_root)
		spn_ca_import_warn_expiry(conf, root, now);
	PATH("ledger.db");
	if ((rc = spn_ledger_open(p->ledger ? p->ledger : path, SPN_LEDGER_CREATE, &ledger)))
		goto out;

	/* The PSP is a member like any other: its own node key and certificate. */
	if ((rc = spn_pki_key_generate(p->key_type, &node_key)))
		goto out;
	PATH("node.key");
	if ((rc = spn_pki_key_save(node_key, path, p->node_passphrase)))
		goto out;
	memset(&id, 0, sizeof(id));
	strcpy(id.node_id, p->psp_id);
	strcpy(id.group, p->group);
	id.role = SPN_ROLE_PSP;
	id.trust = SPN_TRUST_MAX;
	if ((rc = spn_ca_profile_load(conf, SPN_ROLE_PSP, &profile)))
		goto out;
	if ((rc = spn_pki_key_pubkey(node_key, &pub)))
		goto out;
	if ((rc = spn_ca_sign(root, root_key.key, pub, &id, &p->names, &profile, NULL, now, &node, serial, NULL)))
		goto out;
	ca.ledger = ledger;
	if ((rc = spn_ledger_begin(ledger)))
		goto out;
	if ((rc = spn_ledger_meta_set(ledger, "group", p->group)) ||
	    (rc = spn_ledger_meta_set(ledger, "psp", p->psp_id)) ||
	    (rc = spn_ca_record(&ca, node, &id, "", "", NULL, now, &issued)) ||
	    (rc = spn_ledger_event(ledger, now, "init", "", p->psp_id, p->group)) || (rc = spn_ledger_commit(ledger))) {
		spn_ledger_rollback(ledger);
		goto out;
	}
	PATH("node.crt");
	if ((rc = spn_file_create(path, issued.cert_pem, strlen(issued.cert_pem), 0644)))
		goto out;
	/* An empty CRL from the start, so relying parties always find one. */
	ca.signer = root_key;
	ca.root = root;
	PATH("crl.pem");
	ca.crl_path = path;
	ca.policy.crl_validity = 86400;
	rc = spn_ca_crl_update(&ca, NULL);
	ca.crl_path = NULL;
	if (rc)
		goto out;
	spn_log_info("group %s created in %s: %s root, PSP %s (serial %s)", p->group, p->dir,
		     p->import_root ? "adopted" : spn_key_type_name(p->key_type), p->psp_id, issued.serial);
	rc = 0;
#undef PATH
out:
	free(path);
	free(ca.tail);
	spn_ca_import_clear(&im);
	spn_ca_issued_clear(&issued);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (rc)
		spn_pki_signer_discard(&root_key);
	spn_pki_signer_close(&root_key);
	if (node_key)
		gnutls_x509_privkey_deinit(node_key);
	if (root)
		gnutls_x509_crt_deinit(root);
	if (node)
		gnutls_x509_crt_deinit(node);
	spn_ledger_close(ledger);
	spn_conf_free(conf);
	return rc;
}

/* The root key, in a file or a token: its passphrase or PIN from [ca]
 * passphrase_file, passphrase_env or the service manager's credential. */
static int load_root_key(spn_ca_t *ca, const char *ref)
{
	spn_pass_src_t src;
	char buf[1024];
	int rc;

	if (spn_pki_is_token_uri(ref) && (rc = spn_pki_token_setup(spn_conf_get(ca->conf, "ca", "pkcs11_module"))))
		return rc;
	if ((rc = spn_pass_src_conf(ca->conf, "ca", "passphrase", "SPN_CA_PASSPHRASE", &src)) == 0)
		rc = spn_pki_signer_open(&ca->signer, ref, "CA key", &src);
	spn_pass_src_clear(&src);
	return rc ? spn_err(rc, "CA key %s: %s", spn_pki_key_ref_shown(ref, buf, sizeof(buf)), spn_err_detail(rc)) : 0;
}

int spn_ca_open(const spn_conf_t *conf, bool with_key, spn_ca_t **out)
{
	spn_ca_t *ca = calloc(1, sizeof(*ca));
	char *key = NULL, *cert = NULL, *ledger = NULL, buf[SPN_NAME_MAX + 1];
	int rc;

	if (!ca)
		return SPN_ENOMEM;
	ca->conf = (spn_conf_t *)conf;
	if (spn_pki_is_token_uri(spn_conf_get(conf, "ca", "key")))
		rc = (key = strdup(spn_conf_get(conf, "ca", "key"))) ? 0 : SPN_ENOMEM;
	else
		rc = spn_conf_path(conf, "ca", "key", NULL, &key);
	if (rc || (rc = spn_conf_path(conf, "ca", "cert", NULL, &cert)) ||
	    (rc = spn_ca_ledger_location(conf, &ledger)) ||
	    (rc = spn_conf_path(conf, "ca", "crl", NULL, &ca->crl_path)))
		goto out;
	if ((rc = spn_ca_policy_load(conf, &ca->policy)))
		goto out;
	for (int r = SPN_ROLE_PSP; r <= SPN_ROLE_CLIENT; r++)
		if ((rc = spn_ca_profile_load(conf, (spn_role_t)r, &ca->profiles[r])))
			goto out;
	if ((rc = spn_ca_templates_load(conf, ca->profiles, &ca->templates)))
		goto out;
	if (spn_conf_get(conf, "ca", "crl_url") && !(ca->crl_url = strdup(spn_conf_get(conf, "ca", "crl_url")))) {
		rc = SPN_ENOMEM;
		goto out;
	}
	if ((rc = spn_pki_cert_load(cert, &ca->root)) || (rc = spn_ca_chain_load(ca)))
		goto out;
	if (with_key && (rc = load_root_key(ca, key)))
		goto out;
	if (with_key && (rc = spn_pki_signer_matches(&ca->signer, ca->root))) {
		char shown[1024];
		rc = spn_err(rc, "CA key %s does not belong to %s", spn_pki_key_ref_shown(key, shown, sizeof(shown)), cert);
		goto out;
	}
	if ((rc = spn_ledger_open(ledger, SPN_LEDGER_WRITE, &ca->ledger)) ||
	    (rc = spn_ledger_meta_get(ca->ledger, "group", ca->group, sizeof(ca->group))) ||
	    (rc = spn_ledger_meta_get(ca->ledger, "psp", ca->psp_id, sizeof(ca->psp_id))))
		goto out;
	if (strcmp(spn_conf_str(conf, "node", "id", ""), ca->psp_id) != 0) {
		rc = spn_err(SPN_ECONFIG, "%s: [node] id = '%s' but the ledger's PSP is '%s'", spn_conf_file(conf),
			     spn_conf_str(conf, "node", "id", ""), ca->psp_id);
		goto out;
	}
	snprintf(buf, sizeof(buf), "%s", spn_conf_str(conf, "node", "group", ""));
	if (strcmp(buf, ca->group) != 0) {
		rc = spn_err(SPN_ECONFIG, "%s: [node] group = '%s' but the ledger belongs to group '%s'",
			     spn_conf_file(conf), buf, ca->group);
		goto out;
	}
	*out = ca;
	ca = NULL;
out:
	free(key);
	free(cert);
	free(ledger);
	spn_ca_close(ca);
	return rc;
}

int spn_ca_use_node_key(spn_ca_t *ca, gnutls_x509_privkey_t key)
{
	gnutls_x509_privkey_t copy;

	if (gnutls_x509_privkey_init(&copy) < 0)
		return SPN_ENOMEM;
	if (gnutls_x509_privkey_cpy(copy, key) < 0) {
		gnutls_x509_privkey_deinit(copy);
		return spn_err(SPN_ECRYPTO, "cannot copy the node key");
	}
	if (ca->node_key)
		gnutls_x509_privkey_deinit(ca->node_key);
	ca->node_key = copy;
	return 0;
}

int spn_ca_node_key(spn_ca_t *ca, gnutls_x509_privkey_t *out)
{
	spn_pass_src_t src;
	char *path = NULL;
	int rc;

	/* Loaded when first needed: only minting a token needs it, so the
	 * commands that sign with the root key need no passphrase for it. */
	if (!ca->node_key) {
		if ((rc = spn_conf_path(ca->conf, "node", "key", NULL, &path)) ||
		    (rc = spn_pass_src_conf(ca->conf, "node", "key_passphrase", "SPN_KEY_PASSPHRASE", &src))) {
			free(path);
			return rc;
		}
		rc = spn_pki_key_load_src(path, &src, &ca->node_key, NULL);
		spn_pass_src_clear(&src);
		free(path);
		if (rc)
			return rc;
	}
	*out = ca->node_key;
	return 0;
}

void spn_ca_close(spn_ca_t *ca)
{
	if (!ca)
		return;
	spn_pki_signer_close(&ca->signer);
	if (ca->node_key)
		gnutls_x509_privkey_deinit(ca->node_key);
	spn_ca_templates_free(&ca->templates);
	if (ca->root)
		gnutls_x509_crt_deinit(ca->root);
	spn_pki_cert_list_free(ca->above, ca->n_above);
	free(ca->tail);
	spn_ledger_close(ca->ledger);
	free(ca->crl_path);
	free(ca->crl_url);
	free(ca);
}

int spn_ca_need_key(const spn_ca_t *ca)
{
	return ca->signer.key ? 0 : spn_err(SPN_ESTATE, "the CA was opened without its root key");
}

spn_ledger_t *spn_ca_ledger(spn_ca_t *ca)
{
	return ca->ledger;
}

gnutls_x509_crt_t spn_ca_root(spn_ca_t *ca)
{
	return ca->root;
}

const spn_ca_policy_t *spn_ca_policy(spn_ca_t *ca)
{
	return &ca->policy;
}

const char *spn_ca_group(spn_ca_t *ca)
{
	return ca->group;
}
