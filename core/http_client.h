/* The node-to-node HTTP client, on libcurl built with GnuTLS: the group's
 * root is the only trust anchor, the node's certificate authenticates it to
 * its peers, and connections are kept and reused across requests. */
#pragma once

#include <gnutls/x509.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct spn_http_client spn_http_client_t;

typedef struct {
	const char *cert_file, *key_file, *root_file; /* NULL cert: anonymous */
	const char *root_pem; /* the group's CA when root_file is an anchor above
			       * it (pki_anchor.h): peers are checked against it */
	const char *key_pass;                          /* for an encrypted key */
	bool tls;                                      /* false: plain HTTP (development) */
	bool no_verify;  /* accept any server: only to fetch a root that is then pinned by fingerprint */
	/* With spn_http_client_call_node: refuse a server whose certificate
	 * serial this says is revoked. */
	bool (*is_revoked)(const char *serial, void *user);
	void *revoked_user;
	/* Plain HTTP (development): requests are signed with this key and
	 * carry this certificate (base64 DER), see http_sig.h. */
	gnutls_x509_privkey_t sign_key;
	const char *sign_cert_b64;
	long timeout_ms;
	size_t max_response;
} spn_http_client_config_t;

int spn_http_client_new(const spn_http_client_config_t *cfg, spn_http_client_t **out);
void spn_http_client_free(spn_http_client_t *c);

/* New connections from now on (the certificate file changed): the pooled
 * ones are closed as they come back. sign_cert_b64, when given, replaces the
 * certificate sent with signed requests. */
void spn_http_client_reconnect(spn_http_client_t *c, const char *sign_cert_b64);

/* One request; body NULL sends a GET. *resp (NUL-terminated) is the
 * caller's to free. Transport failures are SPN_EIO with curl's reason;
 * any HTTP status is returned in *status. Safe from several threads. */
int spn_http_client_call(spn_http_client_t *c, const char *url, const char *body, size_t len, long *status,
			 char **resp, size_t *resp_len);

/* The same, accepting only a server whose public key hashes to pin, in
 * libcurl's "sha256//<base64>" form (see spn_pki_cert_pin): the group's root
 * says the peer is a member, the pin says which one. */
int spn_http_client_call_pinned(spn_http_client_t *c, const char *url, const char *pin, const char *body,
				size_t len, long *status, char **resp, size_t *resp_len);

/* The same, accepting only a server whose certificate is node's: for the
 * parent, whose key a node does not know in advance but whose id its own
 * certificate names. */
int spn_http_client_call_node(spn_http_client_t *c, const char *url, const char *node, const char *body, size_t len,
			      long *status, char **resp, size_t *resp_len);
