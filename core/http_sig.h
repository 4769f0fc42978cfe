/* Node identity without TLS (development only, [http] tls = false): a
 * request carries the sender's certificate and its signature over the
 * method, path, time and body digest, so that the tree still knows who
 * calls. It proves who sent a request, not that it is fresh beyond a
 * minute, and hides nothing: message-level security does that.
 *   Spn-Cert: base64(DER certificate)
 *   Spn-Time: unix seconds
 *   Spn-Signature: base64url(signature over
 *     "spn-request-v1\n" method "\n" path "\n" time "\n" hex(sha256(body)) "\n") */
#pragma once

#include "pki_peers.h"

#include <gnutls/x509.h>
#include <stddef.h>
#include <time.h>

#define SPN_SIG_SKEW 60

/* The signed bytes; *out is the caller's to free. */
int spn_http_sig_input(const char *method, const char *path, long long when, const char *body, size_t len,
		       char **out);

/* The three header lines ("Name: value") for a request; free each. */
int spn_http_sig_headers(gnutls_x509_privkey_t key, const char *cert_b64, const char *method, const char *path,
			 const char *body, size_t len, char *lines[3]);

/* Checks the headers' values against the group's root and the clock;
 * *crt is the sender's certificate on success (gnutls_x509_crt_deinit). */
int spn_http_sig_verify(gnutls_x509_crt_t root, const char *cert_b64, const char *when, const char *sig,
			const char *method, const char *path, const char *body, size_t len, gnutls_x509_crt_t *crt);

/* The same for a server: the certificate's chain is checked against the
 * root of peers once and remembered; *peer is the signer. */
int spn_http_sig_verify_peer(spn_pki_peers_t *peers, const char *cert_b64, const char *when, const char *sig,
			     const char *method, const char *path, const char *body, size_t len, spn_pki_peer_t *peer);
