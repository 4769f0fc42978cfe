/* Session offers: HPKE-sealed keys in signed transcripts. */
#include "config.h"

#include <gnutls/crypto.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"
#include "json.h"
#include "mem.h"
#include "pki_cert.h"
#include "pki_key.h"
#include "session.h"

#define LABEL "spn-session-v1"

/* HPKE info: what the sealed key is for, so that it opens for nothing else. */
static size_t hpke_info(const spn_session_offer_t *o, uint8_t *buf, size_t cap)
{
	int n = snprintf((char *)buf, cap, LABEL "%c%s%c%s%c%s", 0, o->session_id, 0, o->service, 0, o->provider);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int spn_session_transcript(const spn_session_offer_t *o, char **out)
{
	char pk[65], enc[65], sealed[2 * sizeof(o->sealed) + 1];

	spn_hex(o->client_pk, sizeof(o->client_pk), pk);
	spn_hex(o->enc, sizeof(o->enc), enc);
	spn_hex(o->sealed, sizeof(o->sealed), sealed);
	if (asprintf(out, LABEL "\n%s\n%s\n%s\n%s\n%s\n%s\n", o->session_id, o->service, o->provider, pk, enc, sealed) < 0)
		return SPN_ENOMEM;
	return 0;
}

int spn_session_offer(const char *session_id, const char *service, const spn_ident_t *me, gnutls_x509_privkey_t key,
		      const char *cert_pem, const uint8_t client_pk[SPN_HPKE_KEY], spn_session_offer_t *out,
		      uint8_t k[SPN_SESSION_KEY])
{
	spn_hpke_ctx_t ctx;
	gnutls_datum_t sig = {NULL, 0};
	uint8_t info[256];
	size_t info_len;
	char *transcript = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!spn_id_is_valid(session_id) || !spn_service_name_is_valid(service))
		return spn_err(SPN_EINVAL, "session: bad session id or service");
	if (!spn_ident_provides(me, service))
		return spn_err(SPN_EDENIED, "%s is not authorised to provide %s", me->node_id, service);
	snprintf(out->session_id, sizeof(out->session_id), "%s", session_id);
	snprintf(out->service, sizeof(out->service), "%s", service);
	snprintf(out->provider, sizeof(out->provider), "%s", me->node_id);
	memcpy(out->client_pk, client_pk, SPN_HPKE_KEY);
	if (!(info_len = hpke_info(out, info, sizeof(info))))
		return SPN_EINVAL;
	if (gnutls_rnd(GNUTLS_RND_KEY, k, SPN_SESSION_KEY) < 0)
		return spn_err(SPN_ECRYPTO, "no random bytes for a session key");
	if ((rc = spn_hpke_setup_sender(SPN_HPKE_AES256GCM, client_pk, info, info_len, NULL, 0, out->enc, &ctx)) == 0)
		rc = spn_hpke_seal(&ctx, NULL, 0, k, SPN_SESSION_KEY, out->sealed);
	else if (rc == SPN_EINVAL)
		rc = spn_err(rc, "client_key: %s", spn_err_detail(rc));
	spn_hpke_ctx_clear(&ctx);
	if (rc == 0 && (rc = spn_session_transcript(out, &transcript)) == 0 &&
	    (rc = spn_pki_sign(key, transcript, strlen(transcript), &sig)) == 0) {
		if (sig.size > sizeof(out->sig))
			rc = SPN_ETOOBIG;
		else
			memcpy(out->sig, sig.data, out->sig_len = sig.size);
	}
	if (rc == 0 && !(out->cert_pem = strdup(cert_pem)))
		rc = SPN_ENOMEM;
	gnutls_free(sig.data);
	free(transcript);
	if (rc) {
		spn_wipe(k, SPN_SESSION_KEY);
		spn_session_offer_clear(out);
	}
	return rc;
}

int spn_session_accept(const spn_session_offer_t *o, const char *session_id, const char *service,
		       const uint8_t client_sk[SPN_HPKE_KEY], const uint8_t client_pk[SPN_HPKE_KEY], gnutls_x509_crt_t root,
		       bool (*is_revoked)(const char *serial, void *user), void *user, uint8_t k[SPN_SESSION_KEY])
{
	gnutls_x509_crt_t crt = NULL;
	spn_ident_t id;
	spn_hpke_ctx_t ctx;
	char serial[SPN_SERIAL_HEX], *transcript = NULL;
	uint8_t info[256];
	size_t info_len;
	int rc;

	/* The offer must answer this request, not another one. */
	if (strcmp(o->session_id, session_id) != 0 || strcmp(o->service, service) != 0 ||
	    !spn_mem_is_equal(o->client_pk, client_pk, SPN_HPKE_KEY))
		return spn_err(SPN_EDENIED, "session offer for %s/%s does not answer this request", o->session_id,
			       o->service);
	if (!o->cert_pem || (rc = spn_pki_cert_import(o->cert_pem, strlen(o->cert_pem), &crt)))
		return spn_err(SPN_EBADCERT, "session offer of %s: no readable certificate", o->provider);
	if ((rc = spn_pki_cert_verify(crt, root)) || (rc = spn_pki_cert_ident(crt, &id)) ||
	    (rc = spn_pki_cert_serial(crt, serial))) {
		rc = spn_err(rc, "provider %s: %s", o->provider, spn_err_detail(rc));
		goto out;
	}
	if (is_revoked && is_revoked(serial, user)) {
		rc = spn_err(SPN_EREVOKED, "provider %s: its certificate %s is revoked", o->provider, serial);
		goto out;
	}
	if (strcmp(id.node_id, o->provider) != 0) {
		rc = spn_err(SPN_EDENIED, "the offer says %s but the certificate is %s's", o->provider, id.node_id);
		goto out;
	}
	if (!spn_ident_provides(&id, service)) {
		rc = spn_err(SPN_EDENIED, "provider %s: its certificate does not authorise service %s", id.node_id,
			     service);
		goto out;
	}
	if ((rc = spn_session_transcript(o, &transcript)) ||
	    (rc = spn_pki_verify(crt, transcript, strlen(transcript), o->sig, o->sig_len))) {
		rc = spn_err(SPN_EBADSIG, "provider %s: the session transcript's signature does not verify (key "
					  "substituted on the way?)",
			     o->provider);
		goto out;
	}
	if (!(info_len = hpke_info(o, info, sizeof(info)))) {
		rc = SPN_EINVAL;
		goto out;
	}
	if ((rc = spn_hpke_setup_receiver(SPN_HPKE_AES256GCM, o->enc, client_sk, info, info_len, &ctx)) == 0)
		rc = spn_hpke_open(&ctx, NULL, 0, o->sealed, sizeof(o->sealed), k);
	spn_hpke_ctx_clear(&ctx);
out:
	free(transcript);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

int spn_session_keys(const uint8_t k[SPN_SESSION_KEY], const char *session_id, uint8_t to_provider[32],
		     uint8_t to_client[32])
{
	struct hmac_sha256_ctx h;
	uint8_t prk[32];

	hmac_sha256_set_key(&h, strlen(session_id), (const uint8_t *)session_id);
	hkdf_extract(&h, (nettle_hash_update_func *)hmac_sha256_update, (nettle_hash_digest_func *)hmac_sha256_digest,
		     32, SPN_SESSION_KEY, k, prk);
	hmac_sha256_set_key(&h, 32, prk);
	hkdf_expand(&h, (nettle_hash_update_func *)hmac_sha256_update, (nettle_hash_digest_func *)hmac_sha256_digest,
		    32, strlen(LABEL " to provider"), (const uint8_t *)LABEL " to provider", 32, to_provider);
	hmac_sha256_set_key(&h, 32, prk);
	hkdf_expand(&h, (nettle_hash_update_func *)hmac_sha256_update, (nettle_hash_digest_func *)hmac_sha256_digest,
		    32, strlen(LABEL " to client"), (const uint8_t *)LABEL " to client", 32, to_client);
	spn_wipe(prk, sizeof(prk));
	spn_wipe(&h, sizeof(h));
	return 0;
}

json_object *spn_session_offer_json(const spn_session_offer_t *o)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "session", json_object_new_string(o->session_id));
	json_object_object_add(j, "service", json_object_new_string(o->service));
	json_object_object_add(j, "provider", json_object_new_string(o->provider));
	spn_json_add_b64u(j, "client_key", o->client_pk, sizeof(o->client_pk));
	spn_json_add_b64u(j, "enc", o->enc, sizeof(o->enc));
	spn_json_add_b64u(j, "sealed_key", o->sealed, sizeof(o->sealed));
	spn_json_add_b64u(j, "sig", o->sig, o->sig_len);
	json_object_object_add(j, "certificate", json_object_new_string(o->cert_pem ? o->cert_pem : ""));
	return j;
}

int spn_session_offer_parse(json_object *o, spn_session_offer_t *out)
{
	static const char *const fields[] = {"session", "service", "provider", "client_key", "enc", "sealed_key",
					     "sig", "certificate", NULL};
	const char *sid, *svc, *prov, *cert;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_json_only(o, "session offer", fields)) ||
	    (rc = spn_json_str(o, "session", true, SPN_SESSION_ID_MAX, &sid)) ||
	    (rc = spn_json_str(o, "service", true, SPN_SERVICE_MAX, &svc)) ||
	    (rc = spn_json_str(o, "provider", true, SPN_NAME_MAX, &prov)) ||
	    (rc = spn_json_str(o, "certificate", true, SPN_CERT_MAX, &cert)) ||
	    (rc = spn_json_b64u(o, "client_key", true, out->client_pk, SPN_HPKE_KEY, SPN_HPKE_KEY, NULL)) ||
	    (rc = spn_json_b64u(o, "enc", true, out->enc, SPN_HPKE_KEY, SPN_HPKE_KEY, NULL)) ||
	    (rc = spn_json_b64u(o, "sealed_key", true, out->sealed, sizeof(out->sealed), sizeof(out->sealed), NULL)) ||
	    (rc = spn_json_b64u(o, "sig", true, out->sig, 0, sizeof(out->sig), &out->sig_len)))
		return rc;
	snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
	snprintf(out->service, sizeof(out->service), "%s", svc);
	snprintf(out->provider, sizeof(out->provider), "%s", prov);
	if (!(out->cert_pem = strdup(cert)))
		return SPN_ENOMEM;
	return 0;
}

void spn_session_offer_clear(spn_session_offer_t *o)
{
	free(o->cert_pem);
	memset(o, 0, sizeof(*o));
}
