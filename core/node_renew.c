/* Certificate renewal without a restart: once two thirds of its
 * certificate's life are gone, a node asks for a fresh one for the same key
 * (POST /v1/renew, relayed up the tree to the PSP), writes it to its state
 * directory, serves it on new connections and presents it on new calls. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "node_internal.h"
#include "pki_anchor.h"
#include "pki_csr.h"

/* POST /v1/renew {"csr": PEM, "certificate": PEM} */
void spn_node_renew(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	static const unsigned any_role = SPN_ROLES_MEMBERS | (1u << SPN_ROLE_CLIENT);
	spn_node_t *n = user;
	spn_http_peer_t peer;
	spn_renew_body_t b;
	json_object *msg = NULL, *o;
	spn_ca_issued_t is;
	const char *body;
	size_t len;
	int rc;

	if (spn_node_peer(n, req, resp, any_role, &peer))
		return;
	body = spn_http_req_body(req, &len);
	if ((rc = spn_renew_body_parse(body, len, &msg, &b)))
		goto fail;
	if (!n->ca) {
		spn_node_relay_up(n, "/v1/renew", body, len, resp);
		json_object_put(msg);
		return;
	}
	pthread_mutex_lock(&n->ca_lock);
	rc = spn_ca_renew(n->ca, b.csr, strlen(b.csr), b.certificate, strlen(b.certificate), &is);
	pthread_mutex_unlock(&n->ca_lock);
	if (rc)
		goto fail;
	json_object_put(msg);
	o = json_object_new_object();
	json_object_object_add(o, "serial", json_object_new_string(is.serial));
	json_object_object_add(o, "node", json_object_new_string(is.id.node_id));
	json_object_object_add(o, "not_after", json_object_new_int64(is.not_after));
	json_object_object_add(o, "certificate", json_object_new_string(is.cert_pem));
	spn_ca_issued_clear(&is);
	spn_http_json(resp, 201, o);
	return;
fail:
	spn_log_info("renewal refused: %s", spn_err_detail(rc));
	spn_http_error(resp, rc, spn_err_detail(rc));
	json_object_put(msg);
}

/* Asks for the new certificate: from the CA here, or up the tree. */
static int fetch(spn_node_t *n, const char *csr, const char *cert, char **pem)
{
	json_object *msg = json_object_new_object(), *ans = NULL;
	const char *text, *got;
	spn_ca_issued_t is;
	char *body = NULL;
	size_t len, blen = 0;
	long status = 0;
	int rc;

	if (n->ca) {
		json_object_put(msg);
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ca_renew(n->ca, csr, strlen(csr), cert, strlen(cert), &is);
		pthread_mutex_unlock(&n->ca_lock);
		if (rc == 0 && !(*pem = strdup(is.cert_pem)))
			rc = SPN_ENOMEM;
		if (rc == 0)
			spn_ca_issued_clear(&is);
		return rc;
	}
	json_object_object_add(msg, "csr", json_object_new_string(csr));
	json_object_object_add(msg, "certificate", json_object_new_string(cert));
	text = spn_json_text(msg, &len);
	/* On the worker's thread: a slow answer must not cost the heartbeats;
	 * a renewal whose answer is lost is answered again next time. */
	rc = spn_node_call_parent_quick(n, "/v1/renew", text, len, &status, &body, &blen);
	json_object_put(msg);
	if (rc == 0 && status != 201)
		rc = spn_err(SPN_EDENIED, "the parent answered %ld: %s", status, body);
	if (rc == 0 && (rc = spn_json_parse(body, blen, &ans)) == 0 &&
	    (rc = spn_json_str(ans, "certificate", true, SPN_CERT_MAX, &got)) == 0 && !(*pem = strdup(got)))
		rc = SPN_ENOMEM;
	json_object_put(ans);
	free(body);
	return rc;
}

/* Takes a new certificate for this node's key and identity into use. The
 * value it becomes replaces the old one for readers to come; those reading
 * the old one finish with it. */
static int take(spn_node_t *n, const char *pem)
{
	gnutls_x509_crt_t crt;
	const spn_node_me_t *me = NULL;
	int rc;

	if ((rc = spn_pki_cert_import(pem, strlen(pem), &crt)))
		return rc;
	if ((rc = spn_pki_cert_verify(crt, n->root)) == 0 && (rc = spn_pki_cert_matches_key(crt, n->key)) == 0 &&
	    (rc = spn_node_me_new(crt, pem, &me)) == 0 && !spn_ident_is_equal(&me->id, &n->id))
		rc = spn_err(SPN_EBADCERT, "the renewed certificate is for another identity (%s) than this node's",
			     me->id.node_id);
	gnutls_x509_crt_deinit(crt);
	/* The chain after the certificate came through the parents as it is:
	 * the file is kept only when it leads to this group's CA under the
	 * node's anchor, as it must at the next start. */
	if (rc == 0) {
		char *ca = NULL;
		bool above;
		if ((rc = spn_pki_anchor_ca(n->anchor_pem, pem, &ca, &above)) == 0 && strcmp(ca, n->root_pem) != 0)
			rc = spn_err(SPN_EBADCERT, "the renewed certificate's chain leads to another CA");
		free(ca);
	}
	if (rc == 0)
		rc = spn_file_write(n->cert_path, pem, strlen(pem), 0644);
	if (rc == 0 && n->http && n->tls && (rc = spn_http_set_identity(n->http, me->pem, n->key_pem)) == 0) {
		/* The server keeps the text until it is given the next. */
		spn_node_me_put(n->served);
		n->served = spn_node_me_hold(me);
	}
	if (rc) {
		spn_node_me_put(me);
		return rc;
	}
	spn_node_me_slot_set(&n->me, me);
	/* The clients keep a copy of what they send. */
	spn_http_client_reconnect(n->client, n->tls ? NULL : me->b64);
	spn_http_client_reconnect(n->ctl, n->tls ? NULL : me->b64);
	return 0;
}

void spn_node_renew_if_due(spn_node_t *n)
{
	gnutls_x509_crt_t crt = NULL;
	spn_names_t names;
	const spn_node_me_t *me = spn_node_me(n), *now_me;
	time_t now = spn_clock_now(), left = me->not_after - now;
	char *csr = NULL, *pem = NULL;
	int rc;

	if (left > (me->not_after - me->not_before) / 3 || now < n->renew_retry) {
		spn_node_me_put(me);
		return;
	}
	/* Failures back off from 5 s to 5 min, so that the log stays readable. */
	n->renew_backoff = n->renew_backoff ? (n->renew_backoff * 2 > 300 ? 300 : n->renew_backoff * 2) : 5;
	n->renew_retry = now + n->renew_backoff;
	if ((rc = spn_pki_cert_import(me->pem, strlen(me->pem), &crt)) == 0 &&
	    (rc = spn_pki_cert_names(crt, &names)) == 0 &&
	    (rc = spn_pki_csr_build(n->key, n->id.node_id, &names, &csr)) == 0 &&
	    (rc = fetch(n, csr, me->pem, &pem)) == 0 && (rc = take(n, pem)) == 0) {
		n->renew_backoff = 0;
		n->renew_retry = 0;
		now_me = spn_node_me(n);
		spn_log_info("certificate renewed: %s replaces %s, valid until %ld", now_me->serial, me->serial,
			     (long)now_me->not_after);
		spn_node_me_put(now_me);
	}
	if (rc && left <= 0)
		spn_log_error("the certificate has expired and renewal failed (retrying in %lds): %s", n->renew_backoff,
			      spn_err_detail(rc));
	else if (rc)
		spn_log_warn("certificate renewal (%lds left) failed, retrying in %lds: %s", (long)left, n->renew_backoff,
			     spn_err_detail(rc));
	if (crt)
		gnutls_x509_crt_deinit(crt);
	spn_node_me_put(me);
	free(csr);
	free(pem);
}
