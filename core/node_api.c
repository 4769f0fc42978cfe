/* The REST API of a node (doc/rest-api.md): the group's root and
 * CRL, enrollment at the PSP, and the ledger for administrators. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "clock.h"
#include "error.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "node_internal.h"
#include "sstore.h"
#include "revoked.h"
#include "token.h"

#define PEM_TYPE "application/x-pem-file"

/* What the node holds, for its operators and the group's members: not
 * for anyone, since the figures tell how busy a provider is. */
static void metrics(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;
	spn_sstore_stats_t st;
	json_object *o, *ss;

	if (spn_node_peer(n, req, resp, SPN_ROLES_MEMBERS, &peer))
		return;
	spn_sstore_stats(n->sessions, &st);
	ss = json_object_new_object();
	json_object_object_add(ss, "open", json_object_new_int64((int64_t)st.sessions));
	json_object_object_add(ss, "anonymous", json_object_new_int64((int64_t)st.anonymous));
	json_object_object_add(ss, "owners", json_object_new_int64((int64_t)st.owners));
	json_object_object_add(ss, "in_flight", json_object_new_int64((int64_t)st.inflight));
	json_object_object_add(ss, "answer_bytes", json_object_new_int64((int64_t)st.answer_bytes));
	json_object_object_add(ss, "evicted", json_object_new_int64((int64_t)st.evicted));
	json_object_object_add(ss, "answers_evicted", json_object_new_int64((int64_t)st.answers_evicted));
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "sessions", ss);
	spn_http_json(resp, 200, o);
}

static void root(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;

	(void)req;
	spn_http_text(resp, 200, PEM_TYPE, n->root_pem, strlen(n->root_pem));
}

static int need_ca(spn_node_t *n, spn_http_resp_t *resp)
{
	if (n->ca)
		return 0;
	spn_http_error(resp, SPN_ENOTFOUND, "this node is not the group's certificate authority (ask the PSP)");
	return -1;
}

static void crl(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	char *path, *pem;
	size_t len;
	int rc;

	(void)req;
	if (!n->ca) {
		/* A member serves the newest CRL that came down the tree. */
		if (!(pem = spn_revoked_pem(n->revoked, &len))) {
			spn_http_error(resp, SPN_ENOTFOUND, "this node holds no CRL yet");
			return;
		}
		spn_http_text(resp, 200, PEM_TYPE, pem, len);
		free(pem);
		return;
	}
	if ((rc = spn_conf_path(n->conf, "ca", "crl", NULL, &path)) == 0) {
		rc = spn_file_read(path, 16 * 1024 * 1024, &pem, &len);
		free(path);
	}
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_http_text(resp, 200, PEM_TYPE, pem, len);
	free(pem);
}

static void issued(spn_http_resp_t *resp, spn_node_t *n, spn_ca_issued_t *is)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "serial", json_object_new_string(is->serial));
	json_object_object_add(o, "node", json_object_new_string(is->id.node_id));
	json_object_object_add(o, "not_after", json_object_new_int64(is->not_after));
	json_object_object_add(o, "certificate", json_object_new_string(is->cert_pem));
	json_object_object_add(o, "root", json_object_new_string(n->root_pem));
	if (is->p12) {
		char *b64 = NULL;
		size_t len;
		const char *text;
		if (spn_b64_encode(is->p12, is->p12_len, &b64) == 0)
			json_object_object_add(o, "pkcs12", json_object_new_string(b64));
		spn_free_secret_str(b64);
		json_object_object_add(o, "passphrase", json_object_new_string(is->p12_pass));
		/* A CA-generated key and its passphrase do not outlive the
		 * answer: the serialised text is wiped here, the body once sent. */
		text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
		spn_http_text(resp, 201, "application/json", text, len);
		spn_wipe((char *)text, len);
		resp->secret = true;
		json_object_put(o);
		return;
	}
	spn_http_json(resp, 201, o);
}

/* POST /v1/enroll {"csr": PEM, "token": T} or
 * POST /v1/enroll/pseudo {"request": {...}, "token": T, "passphrase": P?} */
static void enroll(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	bool pseudo = strcmp(spn_http_req_path(req), "/v1/enroll/pseudo") == 0;
	spn_enroll_body_t b;
	const char *body;
	spn_ca_issued_t is;
	spn_token_t t;
	struct timespec t0;
	size_t len;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!n->ca && !pseudo) {
		spn_node_enroll_relay(req, resp, user);
		return;
	}
	if (need_ca(n, resp))
		return;
	body = spn_http_req_body(req, &len);
	if ((rc = spn_enroll_body_parse(body, len, pseudo, &b))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	/* A token an administrator minted comes with that administrator's
	 * endorsement and those of every administrator up to here. */
	if ((rc = spn_token_decode(b.token, strlen(b.token), &t)) == 0 && b.endorsed_by) {
		spn_http_peer_t peer;
		if (spn_node_peer(n, req, resp, SPN_ROLES_ADMINS, &peer)) {
			spn_enroll_body_clear(&b);
			return;
		}
		rc = spn_node_check_endorsements(n, &b, &peer);
	} else if (rc == 0 && strcmp(t.minted_by, n->id.node_id) != 0) {
		rc = spn_err(SPN_EDENIED, "this join token was minted by %s: send the request to %s", t.minted_by,
			     t.minted_by);
	}
	if (rc == 0 && pseudo) {
		size_t rlen;
		const char *rtext = spn_json_text(b.request, &rlen);
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ca_enroll_pseudo(n->ca, rtext, rlen, b.token, strlen(b.token), b.passphrase, &is);
		pthread_mutex_unlock(&n->ca_lock);
	} else if (rc == 0) {
		rc = spn_node_issue_csr(n, b.csr, b.token, &is);
	}
	spn_enroll_body_clear(&b);
	if (rc) {
		spn_log_info("enrollment refused: %s", spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_metrics_inc(&n->metrics.issued);
	spn_metrics_observe_since(&n->metrics.issue_latency, &t0);
	issued(resp, n, &is);
	spn_ca_issued_clear(&is);
}

/* Administrators see the ledger; everyone else is refused. */
static int need_admin(spn_node_t *n, spn_http_req_t *req, spn_http_resp_t *resp, spn_ident_t *peer)
{
	spn_ledger_cert_t cur;
	spn_http_peer_t p;
	const char *serial = p.serial;
	int rc;

	if (need_ca(n, resp))
		return -1;
	if ((rc = spn_http_req_peer(req, &p)) == 0 && spn_revoked_has(n->revoked, serial))
		rc = spn_err(SPN_EDENIED, "the certificate %s of %s is revoked", serial, p.id.node_id);
	if (rc == 0) {
		*peer = p.id;
		/* The certificate presented, not just its node id, must be valid
		 * in the ledger: a revoked or superseded one is refused, and the
		 * ledger's role is the one that counts. */
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ledger_cert_get(spn_ca_ledger(n->ca), serial, &cur);
		pthread_mutex_unlock(&n->ca_lock);
		if (rc == 0) {
			if (cur.status != SPN_CERT_VALID || cur.not_after <= spn_clock_now() ||
			    strcmp(cur.id.node_id, peer->node_id) != 0)
				rc = spn_err(SPN_EDENIED, "the certificate %s of %s is %s", serial, peer->node_id,
					     spn_cert_status_name(cur.status));
			else
				*peer = cur.id;
			spn_ledger_cert_clear(spn_ca_ledger(n->ca), &cur);
		} else if (rc == SPN_ENOTFOUND) {
			rc = spn_err(SPN_EDENIED, "the certificate %s is not in the ledger", serial);
		}
	}
	if (rc == 0 && !spn_role_is_admin(peer->role))
		rc = spn_err(SPN_EDENIED, "%s is a %s; only administrators may do this", peer->node_id,
			     spn_role_name(peer->role));
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return -1;
	}
	return 0;
}

static int add_row(const spn_ledger_cert_t *c, void *user)
{
	json_object *a = user, *o = json_object_new_object(), *svc = json_object_new_array();

	for (size_t i = 0; i < c->id.n_services; i++)
		json_object_array_add(svc, json_object_new_string(c->id.services[i]));
	json_object_object_add(o, "serial", json_object_new_string(c->serial));
	json_object_object_add(o, "node", json_object_new_string(c->id.node_id));
	json_object_object_add(o, "role", json_object_new_string(spn_role_name(c->id.role)));
	json_object_object_add(o, "trust", json_object_new_int((int)c->id.trust));
	json_object_object_add(o, "services", svc);
	json_object_object_add(o, "parent", json_object_new_string(c->parent));
	json_object_object_add(o, "status", json_object_new_string(spn_cert_status_name(c->status)));
	json_object_object_add(o, "not_after", json_object_new_int64(c->not_after));
	json_object_array_add(a, o);
	return 0;
}

static void certs(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_ident_t peer;
	json_object *a;
	int rc;

	if (need_admin(n, req, resp, &peer))
		return;
	a = json_object_new_array();
	pthread_mutex_lock(&n->ca_lock);
	rc = spn_ledger_cert_each(spn_ca_ledger(n->ca), false, spn_clock_now(), add_row, a);
	pthread_mutex_unlock(&n->ca_lock);
	if (rc) {
		json_object_put(a);
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_http_json(resp, 200, a);
}

/* Whether peer may revoke serial: the PSP anything in the ledger, an
 * administrator only what it accepted. Under the CA lock. */
static int may_revoke(spn_node_t *n, const spn_ident_t *peer, const char *serial)
{
	spn_ledger_cert_t c;
	int rc = spn_ledger_cert_get(spn_ca_ledger(n->ca), serial, &c);

	if (rc)
		return rc;
	if (peer->role != SPN_ROLE_PSP && strcmp(c.parent, peer->node_id) != 0)
		rc = spn_err(SPN_EDENIED, "%s did not accept %s and cannot revoke it", peer->node_id, c.id.node_id);
	spn_ledger_cert_clear(spn_ca_ledger(n->ca), &c);
	return rc;
}

/* POST /v1/revoke {"serial": S, "reason": R}. Everything this answer
 * depends on is this request's own: nothing carries over from another. */
static void revoke(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_ident_t peer;
	spn_revoke_body_t rb;
	json_object *o;
	const char *body;
	bool recorded = false;
	size_t len;
	int rc;

	if (need_admin(n, req, resp, &peer))
		return;
	body = spn_http_req_body(req, &len);
	if ((rc = spn_revoke_body_parse(body, len, &rb))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	pthread_mutex_lock(&n->ca_lock);
	if ((rc = may_revoke(n, &peer, rb.serial)) == 0)
		rc = spn_ca_revoke(n->ca, rb.serial, rb.reason, peer.node_id, &recorded);
	pthread_mutex_unlock(&n->ca_lock);
	/* Recorded but not yet on the CRL: the worker signs it again. */
	if (rc && recorded) {
		spn_log_error("%s", spn_err_detail(rc));
		rc = 0;
	}
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	/* Every node refuses it as soon as the CRL reaches it. */
	spn_node_load_crl(n, false);
	o = json_object_new_object();
	json_object_object_add(o, "serial", json_object_new_string(rb.serial));
	json_object_object_add(o, "status", json_object_new_string("revoked"));
	json_object_object_add(o, "reason", json_object_new_string(spn_crl_reason_name(rb.reason)));
	spn_http_json(resp, 200, o);
}

const spn_http_route_t spn_node_routes[] = {
	/* method, path, handler, max body, async (blocks: a worker thread),
	 * staged (on the loop, may answer later) */
	{"GET", "/v1/health", spn_node_health, 0, false, false},
	{"GET", "/v1/root", root, 0, false, false},
	{"GET", "/v1/metrics", metrics, 0, false, false},
	{"GET", "/metrics", spn_node_metrics_get, 0, false, false},
	{"GET", "/v1/crl", crl, 0, false, false},
	{"POST", "/v1/enroll", enroll, 96 * 1024, true, false},
	{"POST", "/v1/enroll/pseudo", enroll, 96 * 1024, true, false},
	{"GET", "/v1/certs", certs, 0, true, false},
	{"POST", "/v1/revoke", revoke, 4096, true, false},
	{"POST", "/v1/token", spn_node_token, 4096, true, false},
	{"POST", "/v1/renew", spn_node_renew, 96 * 1024, true, false},
	{"POST", "/v1/crl", spn_node_crl_push, 16 * 1024 * 1024, true, false},
	{"POST", "/v1/tree/sync", spn_node_tree_sync, 8 * 1024 * 1024, true, false},
	{"POST", "/v1/tree/leave", spn_node_tree_leave, 1024, true, false},
	{"GET", "/v1/tree", spn_node_tree_get, 0, false, false},
	{"GET", "/v1/tree.dot", spn_node_tree_get, 0, false, false},
	{"GET", "/view", spn_node_view_get, 0, false, false},
	{"GET", "/view.js", spn_node_view_get, 0, false, false},
	{"GET", "/view.css", spn_node_view_get, 0, false, false},
	/* At the PSP it reads the ledger. */
	{"GET", "/v1/view", spn_node_view_get, 0, true, false},
	{"POST", "/v1/route", spn_node_route, 0, false, true},
	{"POST", "/v1/session", spn_node_session_open, 256 * 1024, false, true},
	{"POST", "/v1/message", spn_node_message, 0, false, true},
};
const size_t spn_node_nroutes = sizeof(spn_node_routes) / sizeof(spn_node_routes[0]);
