/* The group's CA under the anchor a node is configured with. A group whose
 * CA is an intermediate of an organisation's authority lets its nodes trust
 * the organisation's root ([node] root): the node finds the group's CA in
 * the chain its own certificate carries, proves that chain to the anchor
 * once, and from then on checks members, sessions and CRLs against the
 * group's CA, which alone makes members. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "pki_anchor.h"
#include "pki_cert.h"

/* Only PEM: the files a node reads hold PEM, and a DER certificate is one
 * alone. */
static int import_list(const char *pem, const char *what, gnutls_x509_crt_t **out, unsigned *n)
{
	if (!strstr(pem, "-----BEGIN CERTIFICATE-----"))
		return spn_err(SPN_EBADCERT, "%s: no PEM certificate", what);
	return spn_pki_cert_list_import(pem, strlen(pem), what, SPN_CERT_PATH_MAX, out, n);
}

static bool issued(gnutls_x509_crt_t crt, gnutls_x509_crt_t by)
{
	unsigned status = 0;

	return gnutls_x509_crt_verify(crt, &by, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) >= 0 && status == 0;
}

/* The carried chain up to the anchor, by GnuTLS's path validation: each
 * certificate a CA allowed to sign the one below, within its path length
 * and its validity. */
static int verify_to(gnutls_x509_crt_t *anchors, unsigned na, gnutls_x509_crt_t *chain, unsigned n)
{
	gnutls_x509_trust_list_t tl;
	unsigned status = 0;
	int rc;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return SPN_ENOMEM;
	/* Lent, not handed over: deinit below leaves them to the caller. */
	rc = gnutls_x509_trust_list_add_cas(tl, anchors, na, 0);
	if (rc >= 0)
		rc = gnutls_x509_trust_list_verify_crt2(tl, chain, n, NULL, 0, 0, &status, NULL);
	gnutls_x509_trust_list_deinit(tl, 0);
	if (rc < 0 || status) {
		gnutls_datum_t why = {NULL, 0};
		if (rc >= 0)
			gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
		rc = spn_err(SPN_EBADCERT, "the chain the certificate carries does not lead to [node] root: %s",
			     why.data ? (char *)why.data : gnutls_strerror(rc));
		gnutls_free(why.data);
		return rc;
	}
	return 0;
}

int spn_pki_anchor_ca(const char *anchor_pem, const char *cert_pem, char **ca_pem, bool *above)
{
	gnutls_x509_crt_t *anchors = NULL, *chain = NULL;
	unsigned na = 0, n = 0;
	int rc;

	*ca_pem = NULL;
	*above = false;
	if ((rc = import_list(anchor_pem, "[node] root", &anchors, &na)))
		return rc;
	if ((rc = import_list(cert_pem, "the node's certificate", &chain, &n)))
		goto out;
	/* The usual group: its CA is the anchor. */
	for (unsigned i = 0; i < na; i++)
		if (issued(chain[0], anchors[i])) {
			rc = spn_pki_cert_export(anchors[i], ca_pem);
			goto out;
		}
	if (n < 2 || !issued(chain[0], chain[1])) {
		rc = spn_err(SPN_EBADCERT, "[node] root did not issue this node's certificate, and the certificate "
					   "carries no CA that did");
		goto out;
	}
	if ((rc = verify_to(anchors, na, chain, n)) == 0 && (rc = spn_pki_cert_export(chain[1], ca_pem)) == 0)
		*above = true;
out:
	spn_pki_cert_list_free(anchors, na);
	spn_pki_cert_list_free(chain, n);
	return rc;
}

int spn_pki_anchor_files(const char *anchor_file, const char *cert_file, char **ca_pem, bool *above)
{
	char *anchor = NULL, *cert = NULL;
	size_t len;
	int rc;

	*ca_pem = NULL;
	*above = false;
	if ((rc = spn_file_read(anchor_file, (size_t)SPN_CERT_PATH_MAX * SPN_CERT_MAX, &anchor, &len)) == 0 &&
	    (rc = spn_file_read(cert_file, (size_t)SPN_CERT_PATH_MAX * SPN_CERT_MAX, &cert, &len)) == 0 &&
	    (rc = spn_pki_anchor_ca(anchor, cert, ca_pem, above)))
		rc = spn_err(rc, "%s, %s: %s", anchor_file, cert_file, spn_err_detail(rc));
	free(anchor);
	free(cert);
	return rc;
}
