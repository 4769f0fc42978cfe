/* Session requests: what a client asks a provider for, signed when the
 * client holds a certificate of the group, so that a service may require
 * to know who it talks to. The signature binds the client's ephemeral key:
 * a node on the path cannot put its own key under the client's name. */
#include "config.h"

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

#define LABEL "spn-session-request-v1"

int spn_session_request_transcript(const spn_session_request_t *r, char **out)
{
	char pk[2 * SPN_HPKE_KEY + 1];

	spn_hex(r->client_pk, sizeof(r->client_pk), pk);
	if (asprintf(out, LABEL "\n%s\n%s\n%s\n", r->session_id, r->service, pk) < 0)
		return SPN_ENOMEM;
	return 0;
}

int spn_session_request_sign(spn_session_request_t *r, gnutls_x509_privkey_t key, const char *cert_pem)
{
	gnutls_datum_t sig = {NULL, 0};
	char *t = NULL;
	int rc;

	if ((rc = spn_session_request_transcript(r, &t)) == 0 && (rc = spn_pki_sign(key, t, strlen(t), &sig)) == 0) {
		if (sig.size > sizeof(r->sig))
			rc = SPN_ETOOBIG;
		else
			memcpy(r->sig, sig.data, r->sig_len = sig.size);
	}
	free(r->cert_pem);
	r->cert_pem = NULL;
	if (rc == 0 && !(r->cert_pem = strdup(cert_pem)))
		rc = SPN_ENOMEM;
	gnutls_free(sig.data);
	free(t);
	return rc;
}

int spn_session_request_check(const spn_session_request_t *r, gnutls_x509_crt_t root,
			      bool (*is_revoked)(const char *serial, void *user), void *user, spn_ident_t *who,
			      char *serial)
{
	gnutls_x509_crt_t crt = NULL;
	char *t = NULL;
	int rc;

	if (!r->cert_pem)
		return spn_err(SPN_EDENIED, "service %s takes only clients with a certificate of the group", r->service);
	if ((rc = spn_pki_cert_import(r->cert_pem, strlen(r->cert_pem), &crt)))
		return spn_err(SPN_EBADCERT, "session %s: the client's certificate is not readable", r->session_id);
	if ((rc = spn_pki_cert_verify(crt, root)) || (rc = spn_pki_cert_ident(crt, who)) ||
	    (rc = spn_pki_cert_serial(crt, serial))) {
		rc = spn_err(rc, "session %s: the client's certificate: %s", r->session_id, spn_err_detail(rc));
		goto out;
	}
	if (is_revoked && is_revoked(serial, user)) {
		rc = spn_err(SPN_EREVOKED, "session %s: the client's certificate %s (%s) is revoked", r->session_id,
			     serial, who->node_id);
		goto out;
	}
	if ((rc = spn_session_request_transcript(r, &t)) ||
	    (rc = spn_pki_verify(crt, t, strlen(t), r->sig, r->sig_len)))
		rc = spn_err(SPN_EBADSIG, "session %s: the request's signature does not verify with %s's certificate",
			     r->session_id, who->node_id);
out:
	free(t);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

json_object *spn_session_request_json(const spn_session_request_t *r)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "session", json_object_new_string(r->session_id));
	json_object_object_add(j, "service", json_object_new_string(r->service));
	spn_json_add_b64u(j, "client_key", r->client_pk, sizeof(r->client_pk));
	if (r->cert_pem) {
		json_object_object_add(j, "certificate", json_object_new_string(r->cert_pem));
		spn_json_add_b64u(j, "sig", r->sig, r->sig_len);
	}
	return j;
}

int spn_session_request_parse(json_object *o, spn_session_request_t *out)
{
	static const char *const fields[] = {"session", "service", "client_key", "certificate", "sig", NULL};
	const char *sid, *svc, *cert;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_json_only(o, "session request", fields)) ||
	    (rc = spn_json_str(o, "session", true, SPN_SESSION_ID_MAX, &sid)) ||
	    (rc = spn_json_str(o, "service", true, SPN_SERVICE_MAX, &svc)) ||
	    (rc = spn_json_str(o, "certificate", false, SPN_CERT_MAX, &cert)) ||
	    (rc = spn_json_b64u(o, "client_key", true, out->client_pk, SPN_HPKE_KEY, SPN_HPKE_KEY, NULL)) ||
	    (rc = spn_json_b64u(o, "sig", cert != NULL, out->sig, 0, sizeof(out->sig), &out->sig_len)))
		return rc;
	/* Taken as anonymous, such a request would pass for what its client
	 * did not mean, and the request written back would differ. */
	if (!cert && json_object_object_get_ex(o, "sig", NULL))
		return spn_err(SPN_EINVAL, "'sig' without 'certificate': a signed request carries its certificate");
	if (!spn_id_is_valid(sid))
		return spn_err(SPN_EINVAL, "'session': 1-%d of [A-Za-z0-9._-]", SPN_SESSION_ID_MAX);
	if (!spn_service_name_is_valid(svc))
		return spn_err(SPN_EINVAL, "'service': '%s' is not a service name", svc);
	snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
	snprintf(out->service, sizeof(out->service), "%s", svc);
	if (cert && !(out->cert_pem = strdup(cert)))
		return SPN_ENOMEM;
	return 0;
}

void spn_session_request_clear(spn_session_request_t *r)
{
	free(r->cert_pem);
	memset(r, 0, sizeof(*r));
}
