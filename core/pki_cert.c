/* Certificate helpers on GnuTLS and libtasn1. */
#include "config.h"

#include <ctype.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "clock.h"
#include "error.h"
#include "file.h"
#include "pki_cert.h"
#include "pki_csr.h"

int spn_pki_cert_import(const char *pem, size_t len, gnutls_x509_crt_t *out)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	gnutls_x509_crt_t crt;
	const char *b;
	int rc;

	if (len > SPN_CERT_MAX)
		return spn_err(SPN_EBADCERT, "certificate larger than %d bytes", SPN_CERT_MAX);
	b = memmem(pem, len, begin, sizeof(begin) - 1);
	if (!b)
		return spn_err(SPN_EBADCERT, "not a PEM certificate");
	if (gnutls_x509_crt_init(&crt) < 0)
		return SPN_ENOMEM;
	rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		gnutls_x509_crt_deinit(crt);
		return spn_err(SPN_EBADCERT, "cannot decode certificate: %s", gnutls_strerror(rc));
	}
	*out = crt;
	return 0;
}

int spn_pki_cert_load(const char *path, gnutls_x509_crt_t *out)
{
	char *buf;
	size_t len;
	int rc = spn_file_read(path, SPN_CERT_MAX, &buf, &len);

	if (rc)
		return rc;
	rc = spn_pki_cert_import(buf, len, out);
	free(buf);
	if (rc)
		return spn_err(rc, "%s: %s", path, spn_err_detail(rc));
	return 0;
}

int spn_pki_cert_list_import(const char *text, size_t len, const char *what, unsigned max, gnutls_x509_crt_t **out,
			     unsigned *n)
{
	gnutls_datum_t d = {(unsigned char *)text, (unsigned)len};
	bool pem = memmem(text, len, "-----BEGIN CERTIFICATE-----", 27) != NULL;
	int rc = gnutls_x509_crt_list_import2(out, n, &d, pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, 0);

	if (rc < 0) {
		*out = NULL;
		*n = 0;
		return spn_err(SPN_EBADCERT, "%s: not a certificate in PEM or DER: %s", what, gnutls_strerror(rc));
	}
	if (*n > max) {
		rc = spn_err(SPN_EBADCERT, "%s: %u certificates, more than %u", what, *n, max);
		spn_pki_cert_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

int spn_pki_cert_list_load(const char *path, unsigned max, gnutls_x509_crt_t **out, unsigned *n)
{
	char *buf;
	size_t len;
	int rc = spn_file_read(path, (size_t)max * SPN_CERT_MAX, &buf, &len);

	if (rc)
		return rc;
	rc = spn_pki_cert_list_import(buf, len, path, max, out, n);
	free(buf);
	return rc;
}

void spn_pki_cert_list_free(gnutls_x509_crt_t *certs, unsigned n)
{
	for (unsigned i = 0; certs && i < n; i++)
		if (certs[i])
			gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
}

int spn_pki_cert_list_export(const gnutls_x509_crt_t *certs, unsigned n, char **pem)
{
	char *all = strdup(""), *one, *grown;
	int rc = all ? 0 : SPN_ENOMEM;

	for (unsigned i = 0; rc == 0 && i < n; i++) {
		if ((rc = spn_pki_cert_export(certs[i], &one)))
			break;
		if (asprintf(&grown, "%s%s", all, one) < 0)
			rc = SPN_ENOMEM;
		else {
			free(all);
			all = grown;
		}
		free(one);
	}
	if (rc) {
		free(all);
		return rc;
	}
	*pem = all;
	return 0;
}

int spn_pki_cert_export(gnutls_x509_crt_t crt, char **pem)
{
	gnutls_datum_t d;
	int rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);

	if (rc < 0)
		return spn_err(SPN_ECRYPTO, "cannot export certificate: %s", gnutls_strerror(rc));
	*pem = strndup((char *)d.data, d.size);
	gnutls_free(d.data);
	return *pem ? 0 : SPN_ENOMEM;
}

static int dn_field(gnutls_x509_crt_t crt, const char *oid, char *buf, size_t cap, const char *what)
{
	size_t n = cap;
	int rc = gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &n);

	if (rc < 0 || n >= cap || strlen(buf) != n || !spn_name_is_valid(buf))
		return spn_err(SPN_EBADCERT, "certificate has no valid %s", what);
	return 0;
}

int spn_pki_cert_ident(gnutls_x509_crt_t crt, spn_ident_t *id)
{
	spn_ident_t dn;
	char uri[1600];
	bool found = false;
	int rc;

	memset(id, 0, sizeof(*id));
	memset(&dn, 0, sizeof(dn));
	if ((rc = dn_field(crt, GNUTLS_OID_X520_COMMON_NAME, dn.node_id, sizeof(dn.node_id), "node id (CN)")) ||
	    (rc = dn_field(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, dn.group, sizeof(dn.group), "group (O)")))
		return rc;
	for (unsigned i = 0;; i++) {
		size_t n = sizeof(uri) - 1;
		unsigned type = 0;
		rc = gnutls_x509_crt_get_subject_alt_name2(crt, i, uri, &n, &type, NULL);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0)
			return spn_err(SPN_EBADCERT, "certificate of %s: unreadable subjectAltName", dn.node_id);
		if (type != GNUTLS_SAN_URI || n < strlen(SPN_URI_SCHEME) ||
		    memcmp(uri, SPN_URI_SCHEME, strlen(SPN_URI_SCHEME)) != 0)
			continue;
		if (found)
			return spn_err(SPN_EBADCERT, "certificate of %s carries two spn identities", dn.node_id);
		if ((rc = spn_ident_uri_decode(uri, n, id)))
			return rc;
		found = true;
	}
	if (!found)
		return spn_err(SPN_EBADCERT, "certificate of %s carries no spn identity URI", dn.node_id);
	if (strcmp(dn.node_id, id->node_id) != 0 || strcmp(dn.group, id->group) != 0)
		return spn_err(SPN_EBADCERT, "certificate subject %s/%s disagrees with its spn identity %s/%s", dn.group,
			       dn.node_id, id->group, id->node_id);
	return 0;
}

int spn_pki_cert_serial(gnutls_x509_crt_t crt, char *buf)
{
	unsigned char raw[20];
	size_t n = sizeof(raw);

	if (gnutls_x509_crt_get_serial(crt, raw, &n) < 0)
		return spn_err(SPN_EBADCERT, "certificate serial unreadable");
	spn_hex(raw, n, buf);
	return 0;
}

int spn_serial_parse(const char *text, char *buf)
{
	size_t n = strlen(text);

	if (n == 0 || n >= SPN_SERIAL_HEX || strspn(text, "0123456789abcdefABCDEF") != n)
		return spn_err(SPN_EINVAL, "'%.80s' is not a certificate serial (1 to %d hexadecimal digits)", text,
			       SPN_SERIAL_HEX - 1);
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)text[i]);
	return 0;
}

int spn_pki_cert_fingerprint(gnutls_x509_crt_t crt, char *buf)
{
	unsigned char raw[32];
	size_t n = sizeof(raw);

	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, raw, &n) < 0 || n != 32)
		return spn_err(SPN_ECRYPTO, "cannot compute fingerprint");
	spn_hex(raw, n, buf);
	return 0;
}

int spn_pki_cert_b64(const char *pem, char **out)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = {NULL, 0};
	int rc;

	if ((rc = spn_pki_cert_import(pem, strlen(pem), &crt)))
		return rc;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		rc = spn_err(SPN_EBADCERT, "certificate cannot be encoded");
	else
		rc = spn_b64_encode(der.data, der.size, out);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

static int crt_san(void *ctx, unsigned i, void *buf, size_t *n, unsigned *type)
{
	return gnutls_x509_crt_get_subject_alt_name2(ctx, i, buf, n, type, NULL);
}

int spn_pki_cert_names(gnutls_x509_crt_t crt, spn_names_t *names)
{
	return spn_names_collect(crt_san, crt, "certificate", names);
}

int spn_pki_cert_pin(gnutls_x509_crt_t crt, char *buf)
{
	gnutls_pubkey_t pub;
	gnutls_datum_t der = {NULL, 0};
	unsigned char digest[32];
	char *b64 = NULL;
	int rc = SPN_ECRYPTO;

	if (gnutls_pubkey_init(&pub) < 0)
		return SPN_ENOMEM;
	if (gnutls_pubkey_import_x509(pub, crt, 0) >= 0 && gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) >= 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest) >= 0 &&
	    (rc = spn_b64_encode(digest, sizeof(digest), &b64)) == 0) {
		snprintf(buf, SPN_PIN_MAX, "sha256//%s", b64);
		free(b64);
	}
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	return rc == SPN_ECRYPTO ? spn_err(rc, "cannot hash the certificate's public key") : rc;
}

int spn_pki_cert_verify(gnutls_x509_crt_t crt, gnutls_x509_crt_t root)
{
	unsigned status = 0;
	time_t now = spn_clock_now();
	int rc = gnutls_x509_crt_verify(crt, &root, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status);

	if (rc < 0 || status)
		return spn_err(SPN_EBADCERT, "certificate not issued by this group's root (status 0x%x)", status);
	if (gnutls_x509_crt_get_activation_time(crt) > now || gnutls_x509_crt_get_expiration_time(crt) <= now)
		return spn_err(SPN_EEXPIRED, "certificate is expired or not yet valid");
	if (gnutls_x509_crt_get_expiration_time(root) <= now)
		return spn_err(SPN_EEXPIRED, "the group's root certificate has expired");
	return 0;
}

int spn_pki_cert_matches_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);

	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &na) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &nb) < 0 || na != nb ||
	    memcmp(a, b, na) != 0)
		return spn_err(SPN_EINVAL, "the private key does not belong to the certificate");
	return 0;
}
