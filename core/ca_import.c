/* Adopting an existing CA: the checks an operator's certificate and key
 * pass before a group is made under them, and the copies the group keeps
 * (ca_import.h; doc/ca.md, "Adopting an existing CA"). */
#include "config.h"

#include <gnutls/abstract.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_import.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "pki_cert.h"

/* The certificate's place in the file, and its subject, for errors. */
static void describe(const spn_ca_import_t *im, unsigned i, char *buf, size_t cap)
{
	gnutls_datum_t dn = {NULL, 0};

	if (gnutls_x509_crt_get_dn3(im->certs[i], &dn, 0) < 0)
		dn.data = NULL;
	if (i == 0)
		snprintf(buf, cap, "the CA certificate (%s)", dn.data ? (char *)dn.data : "no subject");
	else
		snprintf(buf, cap, "certificate %u above the CA (%s)", i, dn.data ? (char *)dn.data : "no subject");
	gnutls_free(dn.data);
}

static const char *utc(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	return buf;
}

static int check_time(const char *path, const char *what, gnutls_x509_crt_t crt, time_t now)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt), until = gnutls_x509_crt_get_expiration_time(crt);
	char when[32];

	if (from > now)
		return spn_err(SPN_EEXPIRED, "%s: %s is not valid before %s", path, what,
			       utc(from, when, sizeof(when)));
	if (until <= now)
		return spn_err(SPN_EEXPIRED, "%s: %s expired on %s", path, what, utc(until, when, sizeof(when)));
	return 0;
}

/* A CA that may have i CA certificates below it: the group's CA (i = 0)
 * signs end-entity certificates and CRLs, the ones above only certificates. */
static int check_ca(const char *path, const char *what, gnutls_x509_crt_t crt, unsigned i)
{
	unsigned critical = 0, ca = 0, usage = 0;
	int pathlen = -1, rc = gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen);

	if (rc < 0)
		return spn_err(SPN_EBADCERT, "%s: %s has no basicConstraints: not a CA certificate", path, what);
	if (!ca)
		return spn_err(SPN_EBADCERT, "%s: %s has basicConstraints CA:FALSE: not a CA certificate", path, what);
	if (pathlen >= 0 && (unsigned)pathlen < i)
		return spn_err(SPN_EBADCERT, "%s: %s allows %d CA certificates below it (pathlen), the file puts %u",
			       path, what, pathlen, i);
	/* Without keyUsage a CA certificate may sign anything (RFC 5280). */
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &critical) < 0)
		return 0;
	if (!(usage & GNUTLS_KEY_KEY_CERT_SIGN))
		return spn_err(SPN_EBADCERT, "%s: %s: its keyUsage lacks keyCertSign: it may not sign certificates",
			       path, what);
	if (i == 0 && !(usage & GNUTLS_KEY_CRL_SIGN))
		return spn_err(SPN_EBADCERT, "%s: %s: its keyUsage lacks cRLSign: it may not sign the group's CRL",
			       path, what);
	return 0;
}

/* Each certificate issued by the next; the last one may be anything the
 * operator trusts, self-signed or not. */
static int check_chain(const char *path, const spn_ca_import_t *im)
{
	char what[320], next[320];
	unsigned status = 0;

	for (unsigned i = 0; i + 1 < im->n; i++) {
		describe(im, i, what, sizeof(what));
		describe(im, i + 1, next, sizeof(next));
		if (!gnutls_x509_crt_check_issuer(im->certs[i], im->certs[i + 1]))
			return spn_err(SPN_EBADCERT, "%s: %s is not issued by %s, which follows it", path, what, next);
		if (gnutls_x509_crt_verify(im->certs[i], &im->certs[i + 1], 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS,
					   &status) < 0 ||
		    status)
			return spn_err(SPN_EBADCERT, "%s: %s does not verify with %s, which follows it (status 0x%x)",
				       path, what, next, status);
	}
	return 0;
}

/* Issued certificates name their issuer's key by it (authorityKeyIdentifier). */
static int check_ski(const char *path, const char *what, gnutls_x509_crt_t crt)
{
	unsigned char kid[64];
	size_t n = sizeof(kid);

	if (gnutls_x509_crt_get_subject_key_id(crt, kid, &n, NULL) < 0)
		return spn_err(SPN_EBADCERT,
			       "%s: %s has no subjectKeyIdentifier, which the certificates it issues name "
			       "it by; issue it again with one",
			       path, what);
	return 0;
}

/* Refused before any passphrase or PIN is asked for. */
static int check_key_type(const char *path, const char *what, gnutls_x509_crt_t crt)
{
	gnutls_pubkey_t pub;
	spn_key_type_t t;
	int rc;

	if (gnutls_pubkey_init(&pub) < 0)
		return SPN_ENOMEM;
	if (gnutls_pubkey_import_x509(pub, crt, 0) < 0)
		rc = spn_err(SPN_EBADCERT, "%s: %s: unreadable public key", path, what);
	else if ((rc = spn_pki_pubkey_type(pub, &t)))
		rc = spn_err(rc, "%s: %s: %s", path, what, spn_err_detail(rc));
	gnutls_pubkey_deinit(pub);
	return rc;
}

static int open_key(const spn_ca_init_t *p, spn_ca_import_t *im)
{
	/* One passphrase: the one that opens an encrypted key file is the one
	 * the copy is written under; for a token, its PIN. */
	spn_pass_src_t src = {.env = "SPN_CA_PASSPHRASE", .given = p->passphrase};
	char buf[1024];
	const char *shown = spn_pki_key_ref_shown(p->import_key, buf, sizeof(buf));
	int rc;

	if (spn_pki_is_token_uri(p->import_key) && (rc = spn_pki_token_setup(p->pkcs11_module)))
		return rc;
	if ((rc = spn_pki_signer_open(&im->key, p->import_key, shown, &src)))
		return spn_err(rc, "--import-key: %s", spn_err_detail(rc));
	rc = spn_pki_signer_matches(&im->key, im->certs[0]);
	if (rc == SPN_EINVAL)
		return spn_err(rc, "--import-key %s does not belong to the CA certificate in %s", shown, p->import_root);
	return rc ? spn_err(rc, "--import-key %s: %s", shown, spn_err_detail(rc)) : 0;
}

int spn_ca_import_open(const spn_ca_init_t *p, time_t now, spn_ca_import_t *out)
{
	const char *path = p->import_root;
	char what[320];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_pki_cert_list_load(path, SPN_CERT_PATH_MAX, &out->certs, &out->n)))
		return rc;
	for (unsigned i = 0; i < out->n; i++) {
		describe(out, i, what, sizeof(what));
		if ((rc = check_ca(path, what, out->certs[i], i)) || (rc = check_time(path, what, out->certs[i], now)))
			goto fail;
	}
	describe(out, 0, what, sizeof(what));
	if ((rc = check_chain(path, out)) || (rc = check_ski(path, what, out->certs[0])) ||
	    (rc = check_key_type(path, what, out->certs[0])) || (rc = open_key(p, out)))
		goto fail;
	if (out->n == 1 && !gnutls_x509_crt_check_issuer(out->certs[0], out->certs[0]))
		spn_log_warn("%s: the CA is not self-signed and the file holds nothing above it: certificates carry "
			     "the CA alone, and relying parties need the rest of the path",
			     path);
	return 0;
fail:
	spn_ca_import_clear(out);
	return rc;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char *path = spn_file_join(dir, name);
	int rc = path ? spn_file_create(path, text, strlen(text), 0644) : SPN_ENOMEM;

	free(path);
	return rc;
}

int spn_ca_import_write(const spn_ca_init_t *p, const spn_ca_import_t *im)
{
	gnutls_x509_privkey_t key;
	char *pem = NULL, *path;
	int rc;

	if ((rc = spn_pki_cert_export(im->certs[0], &pem)) || (rc = write_file(p->dir, "ca/root.crt", pem)))
		goto out;
	free(pem);
	pem = NULL;
	if (im->n > 1 && ((rc = spn_pki_cert_list_export(im->certs + 1, im->n - 1, &pem)) ||
			  (rc = write_file(p->dir, "ca/chain.pem", pem))))
		goto out;
	if (im->key.in_token)
		goto out;
	if (gnutls_privkey_export_x509(im->key.key, &key) < 0) {
		rc = spn_err(SPN_ECRYPTO, "%s: cannot copy the key", p->import_key);
		goto out;
	}
	if (!(path = spn_file_join(p->dir, "ca/root.key")))
		rc = SPN_ENOMEM;
	else
		rc = spn_pki_key_save(key, path, p->passphrase);
	free(path);
	gnutls_x509_privkey_deinit(key);
out:
	free(pem);
	return rc;
}

void spn_ca_import_warn_expiry(const spn_conf_t *conf, gnutls_x509_crt_t ca, time_t now)
{
	spn_ca_profile_t prof;
	unsigned long longest = 0;
	time_t until = gnutls_x509_crt_get_expiration_time(ca);
	char when[32];

	for (int r = SPN_ROLE_PSP; r <= SPN_ROLE_CLIENT; r++)
		if (spn_ca_profile_load(conf, (spn_role_t)r, &prof) == 0 && prof.validity > longest)
			longest = prof.validity;
	if (until < now + (time_t)longest)
		spn_log_warn("the adopted CA expires on %s, within the longest profile's validity (%lus): certificates "
			     "issued from now on end with it",
			     utc(until, when, sizeof(when)), longest);
}

void spn_ca_import_clear(spn_ca_import_t *im)
{
	spn_pki_cert_list_free(im->certs, im->n);
	spn_pki_signer_close(&im->key);
	memset(im, 0, sizeof(*im));
}
