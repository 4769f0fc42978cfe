/* Session keys (doc/protocol.md §4): a provider draws a fresh key K for a
 * client, seals it with HPKE to the client's ephemeral X25519 key, and signs
 * the transcript (session id, service, provider id, client key, enc and the
 * sealed key) with its certificate key. The client checks the certificate
 * against the pinned root and the CRL, that it authorises the service, and
 * the signature, before it opens K. Without the signature any node on the
 * path could swap in a key of its own; with it, that is refused. */
#pragma once

#include <gnutls/x509.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "hpke.h"
#include "ident.h"

#define SPN_SESSION_ID_MAX SPN_ID_MAX
#define SPN_SESSION_KEY 32

typedef struct {
	char session_id[SPN_SESSION_ID_MAX + 1];
	char service[SPN_SERVICE_MAX + 1];
	char provider[SPN_NAME_MAX + 1];
	uint8_t client_pk[SPN_HPKE_KEY];
	uint8_t enc[SPN_HPKE_KEY];
	uint8_t sealed[SPN_SESSION_KEY + SPN_HPKE_TAG];
	uint8_t sig[1024];
	size_t sig_len;
	char *cert_pem;    /* the provider's certificate, PEM */
} spn_session_offer_t;

/* Provider: a fresh key for session_id and service, sealed to client_pk and
 * signed; k receives the key. Clear the offer with spn_session_offer_clear. */
int spn_session_offer(const char *session_id, const char *service, const spn_ident_t *me, gnutls_x509_privkey_t key,
		      const char *cert_pem, const uint8_t client_pk[SPN_HPKE_KEY], spn_session_offer_t *out,
		      uint8_t k[SPN_SESSION_KEY]);

/* Client: every check of the header comment, then opens k. is_revoked may be
 * NULL only where no CRL is known (tests). */
int spn_session_accept(const spn_session_offer_t *o, const char *session_id, const char *service,
		       const uint8_t client_sk[SPN_HPKE_KEY], const uint8_t client_pk[SPN_HPKE_KEY], gnutls_x509_crt_t root,
		       bool (*is_revoked)(const char *serial, void *user), void *user, uint8_t k[SPN_SESSION_KEY]);

/* The exact bytes that are signed; *out is the caller's to free. */
int spn_session_transcript(const spn_session_offer_t *o, char **out);

/* One key per direction, so that a reply can never pass for a request. */
int spn_session_keys(const uint8_t k[SPN_SESSION_KEY], const char *session_id, uint8_t to_provider[32],
		     uint8_t to_client[32]);

/* The offer as JSON (doc/protocol.md) and back. */
json_object *spn_session_offer_json(const spn_session_offer_t *o);
int spn_session_offer_parse(json_object *o, spn_session_offer_t *out);

void spn_session_offer_clear(spn_session_offer_t *o);

/* A client's request for a session (doc/protocol.md §4.1): the session id,
 * the service, its ephemeral key and, from a client with a certificate of
 * the group, that certificate and its signature over the request. */
typedef struct {
	char session_id[SPN_SESSION_ID_MAX + 1];
	char service[SPN_SERVICE_MAX + 1];
	uint8_t client_pk[SPN_HPKE_KEY];
	char *cert_pem;    /* NULL: anonymous */
	uint8_t sig[1024];
	size_t sig_len;
} spn_session_request_t;

/* The exact bytes a client signs; *out is the caller's to free. */
int spn_session_request_transcript(const spn_session_request_t *r, char **out);

/* Signs r with the client's key and attaches its certificate. */
int spn_session_request_sign(spn_session_request_t *r, gnutls_x509_privkey_t key, const char *cert_pem);

/* Provider: the client's certificate verifies against root, is valid and
 * not revoked, and signed this request; *who is its identity and serial
 * (SPN_SERIAL_HEX bytes, lowercase hex) its serial, by which the session
 * is closed when that certificate is revoked later. */
int spn_session_request_check(const spn_session_request_t *r, gnutls_x509_crt_t root,
			      bool (*is_revoked)(const char *serial, void *user), void *user, spn_ident_t *who,
			      char *serial);

json_object *spn_session_request_json(const spn_session_request_t *r);
int spn_session_request_parse(json_object *o, spn_session_request_t *out);
void spn_session_request_clear(spn_session_request_t *r);
