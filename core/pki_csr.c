/* CSR building and strict parsing on GnuTLS. */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ident.h"
#include "pki_csr.h"

static bool dns_is_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > SPN_DNS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && label > 0)))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-';
}

static bool is_ip(const char *s)
{
	unsigned char bin[16];

	return spn_names_ip_bin(s, bin) > 0;
}

/* Appends name to one of the lists of names (rows of width bytes), within
 * its limit. */
static int append(char *rows, size_t width, size_t *n, const char *name, const char *what)
{
	if (*n == SPN_SAN_MAX)
		return spn_err(SPN_EINVAL, "more than %d %s", SPN_SAN_MAX, what);
	strcpy(rows + (*n)++ * width, name);
	return 0;
}

int spn_names_add_ip(spn_names_t *names, const char *ip)
{
	if (!is_ip(ip))
		return spn_err(SPN_EINVAL, "'%.80s' is not an IP address", ip);
	return append(names->ip[0], sizeof(names->ip[0]), &names->n_ip, ip, "IP addresses");
}

int spn_names_add_dns(spn_names_t *names, const char *name)
{
	if (is_ip(name))
		return spn_err(SPN_EINVAL, "'%.80s' is an IP address, not a DNS name", name);
	if (!dns_is_valid(name))
		return spn_err(SPN_EINVAL, "'%.80s' is not a valid DNS name", name);
	return append(names->dns[0], sizeof(names->dns[0]), &names->n_dns, name, "DNS names");
}

int spn_names_add(spn_names_t *names, const char *name)
{
	if (is_ip(name))
		return spn_names_add_ip(names, name);
	if (!dns_is_valid(name))
		return spn_err(SPN_EINVAL, "'%.80s' is neither an IP address nor a DNS name", name);
	return spn_names_add_dns(names, name);
}

int spn_names_ip_bin(const char *ip, unsigned char bin[16])
{
	if (inet_pton(AF_INET, ip, bin) == 1)
		return 4;
	return inet_pton(AF_INET6, ip, bin) == 1 ? 16 : -1;
}

static int add_ip(gnutls_x509_crq_t crq, const char *ip)
{
	unsigned char bin[16];
	int n = spn_names_ip_bin(ip, bin);

	return n < 0 ? GNUTLS_E_INVALID_REQUEST
		     : gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_IPADDRESS, bin, (unsigned)n, GNUTLS_FSAN_APPEND);
}

int spn_pki_csr_build(gnutls_x509_privkey_t key, const char *node_id, const spn_names_t *names, char **pem)
{
	gnutls_x509_crq_t crq;
	gnutls_datum_t out = {NULL, 0};
	int rc;

	if (!spn_name_is_valid(node_id))
		return spn_err(SPN_EINVAL, "invalid node id '%.80s' (1-63 of a-z 0-9 . -)", node_id);
	if (gnutls_x509_crq_init(&crq) < 0)
		return SPN_ENOMEM;
	rc = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, node_id, (unsigned)strlen(node_id));
	for (size_t i = 0; rc >= 0 && names && i < names->n_dns; i++)
		rc = gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_DNSNAME, names->dns[i],
							  (unsigned)strlen(names->dns[i]), GNUTLS_FSAN_APPEND);
	for (size_t i = 0; rc >= 0 && names && i < names->n_ip; i++)
		rc = add_ip(crq, names->ip[i]);
	if (rc >= 0)
		rc = gnutls_x509_crq_set_version(crq, 1);
	if (rc >= 0)
		rc = gnutls_x509_crq_set_key(crq, key);
	if (rc >= 0) {
		gnutls_privkey_t pk;
		if (gnutls_privkey_init(&pk) < 0) {
			rc = GNUTLS_E_MEMORY_ERROR;
		} else {
			rc = gnutls_privkey_import_x509(pk, key, 0);
			if (rc >= 0)
				rc = gnutls_x509_crq_privkey_sign(
					crq, pk, spn_pki_sign_digest(gnutls_x509_privkey_get_pk_algorithm(key)), 0);
			gnutls_privkey_deinit(pk);
		}
	}
	if (rc >= 0) {
		/* RFC 7468's label, not GnuTLS's legacy "NEW CERTIFICATE REQUEST". */
		gnutls_datum_t der = {NULL, 0};
		rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der);
		if (rc >= 0)
			rc = gnutls_pem_base64_encode2("CERTIFICATE REQUEST", &der, &out);
		gnutls_free(der.data);
	}
	gnutls_x509_crq_deinit(crq);
	if (rc < 0)
		return spn_err(SPN_ECRYPTO, "cannot build CSR: %s", gnutls_strerror(rc));
	*pem = strndup((char *)out.data, out.size);
	gnutls_free(out.data);
	return *pem ? 0 : SPN_ENOMEM;
}

/* Exactly one PEM block, labelled as a CSR (RFC 7468 or the legacy "NEW"
 * label), with its END line: anything else is refused before decoding. */
static int pem_check(const char *pem, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	static const char *const labels[] = {"CERTIFICATE REQUEST-----", "NEW CERTIFICATE REQUEST-----"};
	const char *b = memmem(pem, len, begin, sizeof(begin) - 1), *label, *rest;
	size_t left;

	if (!b)
		return spn_err(SPN_EBADCSR, "not a PEM certificate request (no BEGIN line)");
	label = b + sizeof(begin) - 1;
	left = len - (size_t)(label - pem);
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(labels[i]);
		if (left < n || memcmp(label, labels[i], n) != 0)
			continue;
		rest = label + n;
		left -= n;
		char end[48];
		snprintf(end, sizeof(end), "-----END %s", labels[i]);
		const char *e = memmem(rest, left, end, strlen(end));
		if (!e)
			return spn_err(SPN_EBADCSR, "certificate request is truncated (no END line)");
		if (memmem(rest, left, begin, sizeof(begin) - 1))
			return spn_err(SPN_EBADCSR, "more than one PEM block; send exactly one certificate request");
		return 0;
	}
	return spn_err(SPN_EBADCSR, "PEM block is not a certificate request");
}

int spn_pki_csr_parse(const char *pem, size_t len, gnutls_x509_crq_t *out)
{
	gnutls_x509_crq_t crq;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	spn_key_type_t type;
	unsigned bits = 0;
	int rc, pk;

	if (len > SPN_CSR_MAX)
		return spn_err(SPN_EBADCSR, "CSR larger than %d bytes", SPN_CSR_MAX);
	if ((rc = pem_check(pem, len)))
		return rc;
	if (gnutls_x509_crq_init(&crq) < 0)
		return SPN_ENOMEM;
	rc = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		gnutls_x509_crq_deinit(crq);
		return spn_err(SPN_EBADCSR, "cannot decode CSR: %s", gnutls_strerror(rc));
	}
	pk = gnutls_x509_crq_get_pk_algorithm(crq, &bits);
	if (pk < 0 || spn_pki_key_type_of((gnutls_pk_algorithm_t)pk, bits, &type) != 0) {
		rc = spn_err(SPN_EUNSUPPORTED, "CSR key: %s of %u bits is not supported (ed25519, p256, rsa2048, rsa3072, rsa4096)",
			     pk >= 0 && gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) ? gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : "unknown",
			     bits);
		gnutls_x509_crq_deinit(crq);
		return rc;
	}
	if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
		gnutls_datum_t x = {0}, y = {0};
		gnutls_pubkey_t pub;
		if (gnutls_pubkey_init(&pub) == 0) {
			if (gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0 ||
			    gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, &y, 0) < 0)
				curve = GNUTLS_ECC_CURVE_INVALID;
			gnutls_pubkey_deinit(pub);
		}
		gnutls_free(x.data);
		gnutls_free(y.data);
		if (curve != GNUTLS_ECC_CURVE_SECP256R1) {
			gnutls_x509_crq_deinit(crq);
			return spn_err(SPN_EUNSUPPORTED, "CSR key: only the P-256 curve is supported");
		}
	}
	rc = gnutls_x509_crq_verify(crq, 0);
	if (rc < 0) {
		gnutls_x509_crq_deinit(crq);
		return spn_err(SPN_EBADCSR, "CSR signature does not verify: the request was altered or not signed by its key");
	}
	*out = crq;
	return 0;
}

int spn_pki_csr_node_id(gnutls_x509_crq_t crq, char *buf, size_t cap)
{
	size_t n = cap;
	int rc = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &n);

	if (rc < 0 || n >= cap)
		return spn_err(SPN_EBADCSR, "CSR has no usable common name");
	buf[n] = '\0';
	if (!spn_name_is_valid(buf))
		return spn_err(SPN_EBADCSR, "CSR common name '%.80s' is not a valid node id", buf);
	return 0;
}

int spn_names_collect(spn_names_get_fn get, void *ctx, const char *what, spn_names_t *names)
{
	memset(names, 0, sizeof(*names));
	for (unsigned i = 0;; i++) {
		char buf[SPN_DNS_MAX + 2];
		size_t n = sizeof(buf) - 1;
		unsigned type = 0;
		int rc = get(ctx, i, buf, &n, &type);

		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return 0;
		if (rc < 0)
			return spn_err(SPN_EBADCSR, "%s subjectAltName %u unreadable: %s", what, i, gnutls_strerror(rc));
		if (type == GNUTLS_SAN_DNSNAME) {
			buf[n] = '\0';
			if (strlen(buf) != n || !dns_is_valid(buf))
				return spn_err(SPN_EBADCSR, "%s DNS name %u is not valid", what, i);
			if ((rc = spn_names_add_dns(names, buf)) != 0)
				return spn_err(SPN_EBADCSR, "%s DNS name %u: %s", what, i, spn_err_detail(rc));
		} else if (type == GNUTLS_SAN_IPADDRESS && (n == 4 || n == 16)) {
			char text[46];
			if (!inet_ntop(n == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text)) ||
			    (rc = spn_names_add_ip(names, text)) != 0)
				return spn_err(SPN_EBADCSR, "%s IP address %u is not valid", what, i);
		} else if (!(type == GNUTLS_SAN_URI && strcmp(what, "certificate") == 0)) {
			/* A certificate's URI is its identity; a CSR asks for names only. */
			return spn_err(SPN_EBADCSR, "%s subjectAltName %u: only DNS names and IP addresses are accepted",
				       what, i);
		}
	}
}

static int crq_san(void *ctx, unsigned i, void *buf, size_t *n, unsigned *type)
{
	return gnutls_x509_crq_get_subject_alt_name(ctx, i, buf, n, type, NULL);
}

int spn_pki_csr_names(gnutls_x509_crq_t crq, spn_names_t *names)
{
	return spn_names_collect(crq_san, crq, "CSR", names);
}
