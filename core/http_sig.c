/* Signed requests for plain HTTP between nodes (development only). */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "clock.h"
#include "error.h"
#include "http_sig.h"
#include "pki_peers.h"
#include "pki_cert.h"
#include "pki_key.h"

int spn_http_sig_input(const char *method, const char *path, long long when, const char *body, size_t len,
		       char **out)
{
	unsigned char digest[32];
	char hex[65];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, body ? body : "", body ? len : 0, digest) < 0)
		return SPN_ECRYPTO;
	spn_hex(digest, sizeof(digest), hex);
	if (asprintf(out, "spn-request-v1\n%s\n%s\n%lld\n%s\n", method, path, when, hex) < 0)
		return SPN_ENOMEM;
	return 0;
}

int spn_http_sig_headers(gnutls_x509_privkey_t key, const char *cert_b64, const char *method, const char *path,
			 const char *body, size_t len, char *lines[3])
{
	long long when = (long long)spn_clock_now();
	gnutls_datum_t sig = {NULL, 0};
	char *input = NULL, *sig64 = NULL;
	int rc;

	lines[0] = lines[1] = lines[2] = NULL;
	if ((rc = spn_http_sig_input(method, path, when, body, len, &input)) ||
	    (rc = spn_pki_sign(key, input, strlen(input), &sig)) || (rc = spn_b64url_encode(sig.data, sig.size, &sig64)))
		goto out;
	if (asprintf(&lines[0], "Spn-Cert: %s", cert_b64) < 0 || asprintf(&lines[1], "Spn-Time: %lld", when) < 0 ||
	    asprintf(&lines[2], "Spn-Signature: %s", sig64) < 0)
		rc = SPN_ENOMEM;
out:
	if (rc)
		for (int i = 0; i < 3; i++) {
			free(lines[i]);
			lines[i] = NULL;
		}
	gnutls_free(sig.data);
	free(input);
	free(sig64);
	return rc;
}

/* With peers, the certificate's chain is checked once and remembered (the
 * same few members sign every request); the signature, every time. */
static int verify(gnutls_x509_crt_t root, spn_pki_peers_t *peers, const char *cert_b64, const char *when,
		  const char *sig, const char *method, const char *path, const char *body, size_t len,
		  gnutls_x509_crt_t *crt, spn_pki_peer_t *peer)
{
	uint8_t *der = NULL, *raw = NULL;
	size_t der_len = 0, raw_len = 0;
	gnutls_datum_t d;
	char *input = NULL, *end;
	long long t;
	int rc;

	*crt = NULL;
	if (!cert_b64 || !when || !sig)
		return spn_err(SPN_EDENIED, "this endpoint needs a group member's signed request (plain HTTP)");
	t = strtoll(when, &end, 10);
	if (*end || t < (long long)spn_clock_now() - SPN_SIG_SKEW || t > (long long)spn_clock_now() + SPN_SIG_SKEW)
		return spn_err(SPN_EDENIED, "signed request too old or from the future");
	if (spn_b64_decode(cert_b64, strlen(cert_b64), &der, &der_len) != 0 ||
	    spn_b64url_decode(sig, strlen(sig), &raw, &raw_len) != 0) {
		rc = spn_err(SPN_EDENIED, "signed request: bad encoding");
		goto out;
	}
	d.data = der;
	d.size = (unsigned)der_len;
	if (peers && (rc = spn_pki_peers_get(peers, &d, peer))) {
		rc = spn_err(SPN_EDENIED, "signed request refused: %s", spn_err_detail(rc));
		goto out;
	}
	if (gnutls_x509_crt_init(crt) < 0 || gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		rc = spn_err(SPN_EDENIED, "signed request: certificate unreadable");
		goto out;
	}
	if ((!peers && (rc = spn_pki_cert_verify(*crt, root))) ||
	    (rc = spn_http_sig_input(method, path, t, body, len, &input)) ||
	    (rc = spn_pki_verify(*crt, input, strlen(input), raw, raw_len)))
		rc = spn_err(SPN_EDENIED, "signed request refused: %s", spn_err_detail(rc));
out:
	if ((rc || peers) && *crt) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
	}
	free(der);
	free(raw);
	free(input);
	return rc;
}

int spn_http_sig_verify(gnutls_x509_crt_t root, const char *cert_b64, const char *when, const char *sig,
			const char *method, const char *path, const char *body, size_t len, gnutls_x509_crt_t *crt)
{
	return verify(root, NULL, cert_b64, when, sig, method, path, body, len, crt, NULL);
}

int spn_http_sig_verify_peer(spn_pki_peers_t *peers, const char *cert_b64, const char *when, const char *sig,
			     const char *method, const char *path, const char *body, size_t len, spn_pki_peer_t *peer)
{
	gnutls_x509_crt_t crt;

	return verify(NULL, peers, cert_b64, when, sig, method, path, body, len, &crt, peer);
}
