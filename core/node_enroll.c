/* Enrollment through administrators (doc/rest-api.md, "Enrollment"): the
 * administrator that minted a join token checks it, its child limit and the
 * admin threshold, endorses the request with its key and sends it to its
 * parent; each administrator above adds its endorsement, and the PSP checks
 * the chain of endorsements against the ledger before it issues. Also the
 * token minting endpoint of administrators and the PSP. */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "clock.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "node_internal.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "token.h"

#define MAX_ENDORSEMENTS 16

/* The bytes an endorsement signs: the token, the CSR and the endorser. */
static int endorse_input(const char *token_id, const char *csr, const char *node, char *buf, size_t cap)
{
	unsigned char digest[32];
	char hex[65];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, csr, strlen(csr), digest) < 0)
		return SPN_ECRYPTO;
	spn_hex(digest, sizeof(digest), hex);
	if ((size_t)snprintf(buf, cap, "spn-endorse-v1\n%s\n%s\n%s\n", token_id, hex, node) >= cap)
		return SPN_EINVAL;
	return 0;
}

static int endorse(spn_node_t *n, json_object *msg, const char *token_id, const char *csr)
{
	json_object *list, *e;
	gnutls_datum_t sig = {NULL, 0};
	char input[256], *sig64 = NULL;
	int rc;

	if ((rc = endorse_input(token_id, csr, n->id.node_id, input, sizeof(input))) ||
	    (rc = spn_pki_sign(n->key, input, strlen(input), &sig)) ||
	    (rc = spn_b64url_encode(sig.data, sig.size, &sig64))) {
		gnutls_free(sig.data);
		return rc;
	}
	gnutls_free(sig.data);
	if (!json_object_object_get_ex(msg, "endorsed_by", &list)) {
		list = json_object_new_array();
		json_object_object_add(msg, "endorsed_by", list);
	}
	e = json_object_new_object();
	json_object_object_add(e, "node", json_object_new_string(n->id.node_id));
	json_object_object_add(e, "sig", json_object_new_string(sig64));
	json_object_array_add(list, e);
	free(sig64);
	return 0;
}

/* What the minting administrator checks before it vouches for a request. */
static int first_check(spn_node_t *n, const char *token, const char *csr, spn_token_t *t)
{
	gnutls_x509_crt_t me = NULL;
	const spn_node_me_t *cur;
	gnutls_x509_crq_t crq = NULL;
	spn_tree_hop_t *kids = NULL;
	char cn[SPN_NAME_MAX + 1];
	size_t nk = 0;
	time_t now = spn_clock_now();
	int rc;

	if (!spn_role_is_admin(n->id.role))
		return spn_err(SPN_EDENIED, "%s is a %s and accepts no members", n->id.node_id, spn_role_name(n->id.role));
	if ((rc = spn_token_decode(token, strlen(token), t)))
		return rc;
	if (strcmp(t->minted_by, n->id.node_id) != 0)
		return spn_err(SPN_EDENIED, "this join token was minted by %s: send the request to %s", t->minted_by,
			       t->minted_by);
	cur = spn_node_me(n);
	rc = spn_pki_cert_import(cur->pem, strlen(cur->pem), &me);
	spn_node_me_put(cur);
	if (rc == 0) {
		rc = spn_token_verify(token, t, me);
		gnutls_x509_crt_deinit(me);
	}
	if (rc)
		return rc;
	/* The group's token_ttl is the PSP's to check. */
	if ((rc = spn_token_check_time(t, now, 0)))
		return rc;
	pthread_mutex_lock(&n->state_lock);
	if (t->node.role == SPN_ROLE_ADMIN && n->admin_threshold && t->node.trust < n->admin_threshold)
		rc = spn_err(SPN_EPOLICY, "trust level %u is under the admin threshold %u", t->node.trust,
			     n->admin_threshold);
	pthread_mutex_unlock(&n->state_lock);
	if (rc)
		return rc;
	if (n->max_children && (rc = spn_tree_children(n->tree, &kids, &nk)) == 0) {
		free(kids);
		if (nk >= n->max_children)
			return spn_err(SPN_ELIMIT, "%s already has %zu members ([admin] max_children = %lu)",
				       n->id.node_id, nk, n->max_children);
	}
	if (rc)
		return rc;
	if ((rc = spn_pki_csr_parse(csr, strlen(csr), &crq)) == 0) {
		rc = spn_pki_csr_node_id(crq, cn, sizeof(cn));
		gnutls_x509_crq_deinit(crq);
	}
	if (rc == 0 && strcmp(cn, t->node.node_id) != 0)
		rc = spn_err(SPN_ETOKEN, "join token is for node '%s' but the CSR asks for '%s'", t->node.node_id, cn);
	return rc;
}

int spn_node_check_endorsements(spn_node_t *n, json_object *list, const char *token, const char *csr,
				const spn_http_peer_t *peer)
{
	static const char *const fields[] = {"node", "sig", NULL};
	size_t count = json_object_array_length(list);
	spn_token_t t;
	char prev[SPN_NAME_MAX + 1] = "";
	time_t now = spn_clock_now();
	int rc;

	if ((rc = spn_token_decode(token, strlen(token), &t)))
		return rc;
	if (count == 0 || count > MAX_ENDORSEMENTS)
		return spn_err(SPN_EINVAL, "endorsed_by: 1 to %d endorsements", MAX_ENDORSEMENTS);
	{
		/* Who relayed it is known for sure: check that before any signature. */
		json_object *last = json_object_array_get_idx(list, count - 1), *node = NULL;
		if (!json_object_is_type(last, json_type_object) || !json_object_object_get_ex(last, "node", &node) ||
		    !json_object_is_type(node, json_type_string) ||
		    strcmp(json_object_get_string(node), peer->id.node_id) != 0)
			return spn_err(SPN_EDENIED, "the last endorser must be the sender, %s", peer->id.node_id);
	}
	for (size_t i = 0; i < count; i++) {
		json_object *e = json_object_array_get_idx(list, i);
		const char *node, *sig64;
		spn_ledger_cert_t c;
		gnutls_x509_crt_t crt;
		uint8_t *sig = NULL;
		size_t siglen = 0;
		char input[256];

		if (!json_object_is_type(e, json_type_object) || (rc = spn_json_only(e, "endorsement", fields)) ||
		    (rc = spn_json_str(e, "node", true, SPN_NAME_MAX, &node)) ||
		    (rc = spn_json_str(e, "sig", true, 2048, &sig64)))
			return rc ? rc : spn_err(SPN_EINVAL, "endorsement %zu is not an object", i);
		if (i == 0 && strcmp(node, t.minted_by) != 0)
			return spn_err(SPN_EDENIED, "the first endorsement must be the minter's (%s), not %s's",
				       t.minted_by, node);
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ledger_cert_current(spn_ca_ledger(n->ca), node, now, &c);
		pthread_mutex_unlock(&n->ca_lock);
		if (rc)
			return spn_err(SPN_EDENIED, "endorser %s holds no valid certificate", node);
		if (i > 0 && strcmp(prev, node) != 0)
			rc = spn_err(SPN_EDENIED, "endorsement chain broken: endorsement %zu should be %s's, not %s's", i,
				     prev, node);
		if (rc == 0 && !spn_role_is_admin(c.id.role))
			rc = spn_err(SPN_EDENIED, "endorser %s is not an administrator", node);
		if (rc == 0 && (rc = spn_pki_cert_import(c.pem, strlen(c.pem), &crt)) == 0) {
			if ((rc = endorse_input(t.id, csr, node, input, sizeof(input))) == 0 &&
			    (rc = spn_b64url_decode(sig64, strlen(sig64), &sig, &siglen)) == 0)
				rc = spn_pki_verify(crt, input, strlen(input), sig, siglen);
			free(sig);
			gnutls_x509_crt_deinit(crt);
			if (rc)
				rc = spn_err(SPN_EBADSIG, "the endorsement of %s does not verify", node);
		}
		snprintf(prev, sizeof(prev), "%s", c.parent);
		if (rc == 0 && i == count - 1) {
			if (strcmp(node, peer->id.node_id) != 0)
				rc = spn_err(SPN_EDENIED, "the last endorser must be the sender, %s, not %s",
					     peer->id.node_id, node);
			else if (strcmp(c.parent, n->id.node_id) != 0)
				rc = spn_err(SPN_EDENIED, "endorsement chain does not reach the PSP: %s's parent is %s",
					     node, c.parent);
		}
		spn_ledger_cert_clear(spn_ca_ledger(n->ca), &c);
		if (rc)
			return rc;
	}
	return 0;
}

/* POST /v1/enroll at an administrator: from the joining node (CSR and
 * token), or from a child administrator relaying an endorsed request. */
void spn_node_enroll_relay(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	static const char *const fields[] = {"csr", "token", "endorsed_by", NULL};
	spn_node_t *n = user;
	spn_http_peer_t peer;
	json_object *msg = NULL, *list = NULL;
	const char *csr, *token, *body, *text;
	spn_token_t t;
	size_t len;
	int rc;

	body = spn_http_req_body(req, &len);
	if ((rc = spn_json_parse(body, len, &msg)) || (rc = spn_json_only(msg, "enrollment", fields)) ||
	    (rc = spn_json_str(msg, "csr", true, 64 * 1024, &csr)) ||
	    (rc = spn_json_str(msg, "token", true, SPN_TOKEN_MAX, &token)))
		goto fail;
	if (json_object_object_get_ex(msg, "endorsed_by", &list)) {
		/* Relayed by a child administrator: it must be one, and the last
		 * to endorse; the PSP checks the whole chain. */
		size_t k;
		json_object *last;
		if (spn_node_peer(n, req, resp, SPN_ROLES_ADMINS, &peer)) {
			json_object_put(msg);
			return;
		}
		if (!json_object_is_type(list, json_type_array) || (k = json_object_array_length(list)) == 0 ||
		    k >= MAX_ENDORSEMENTS || !(last = json_object_array_get_idx(list, k - 1)) ||
		    !json_object_is_type(last, json_type_object)) {
			rc = spn_err(SPN_EINVAL, "endorsed_by: a list of endorsements");
			goto fail;
		}
		if (strcmp(peer.id.parent, n->id.node_id) != 0) {
			rc = spn_err(SPN_EDENIED, "%s is not a child of %s", peer.id.node_id, n->id.node_id);
			goto fail;
		}
		if ((rc = spn_token_decode(token, strlen(token), &t)))
			goto fail;
	} else if ((rc = first_check(n, token, csr, &t))) {
		goto fail;
	}
	if ((rc = endorse(n, msg, t.id, csr)))
		goto fail;
	text = spn_json_text(msg, &len);
	spn_log_info("enrollment of %s (token %s) endorsed and sent to the parent", t.node.node_id, t.id);
	spn_node_relay_up(n, "/v1/enroll", text, len, resp);
	json_object_put(msg);
	return;
fail:
	spn_log_info("enrollment refused at %s: %s", n->id.node_id, spn_err_detail(rc));
	spn_http_error(resp, rc, spn_err_detail(rc));
	json_object_put(msg);
}

/* POST /v1/token {"node","role","trust","services","ttl"}: the node's own
 * operator (holding its certificate) or the PSP asks this administrator to
 * mint a join token. */
void spn_node_token(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	static const char *const fields[] = {"node", "role", "trust", "services", "ttl", NULL};
	spn_node_t *n = user;
	spn_http_peer_t peer;
	spn_ident_t node;
	json_object *msg = NULL, *o;
	const char *id, *role, **svc = NULL, *body;
	int64_t trust = 0, ttl = 900;
	size_t len, ns = 0;
	char *token = NULL;
	int rc;

	if (spn_node_peer(n, req, resp, SPN_ROLES_ADMINS, &peer))
		return;
	if (strcmp(peer.id.node_id, n->id.node_id) != 0 && peer.id.role != SPN_ROLE_PSP) {
		rc = spn_err(SPN_EDENIED, "only %s's own operator or the PSP may mint its tokens", n->id.node_id);
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	memset(&node, 0, sizeof(node));
	body = spn_http_req_body(req, &len);
	if ((rc = spn_json_parse(body, len, &msg)) || (rc = spn_json_only(msg, "token request", fields)) ||
	    (rc = spn_json_str(msg, "node", true, SPN_NAME_MAX, &id)) ||
	    (rc = spn_json_str(msg, "role", true, 16, &role)) ||
	    (rc = spn_json_int(msg, "trust", false, 0, SPN_TRUST_MAX, &trust)) ||
	    (rc = spn_json_int(msg, "ttl", false, 1, 7 * 86400, &ttl)) ||
	    (rc = spn_json_strs(msg, "services", false, SPN_SERVICES_MAX, SPN_SERVICE_MAX, &svc, &ns)) ||
	    (rc = spn_role_parse(role, &node.role)))
		goto out;
	snprintf(node.node_id, sizeof(node.node_id), "%s", id);
	node.trust = (unsigned)trust;
	for (size_t i = 0; rc == 0 && i < ns; i++)
		rc = spn_ident_add_service(&node, svc[i]);
	if (rc)
		goto out;
	if (n->ca) {
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ca_token_mint(n->ca, &node, (unsigned long)ttl, &token);
		pthread_mutex_unlock(&n->ca_lock);
	} else {
		rc = spn_token_issue(n->key, &n->id, &node, (unsigned long)ttl, &token);
	}
out:
	free(svc);
	json_object_put(msg);
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_log_info("join token minted for %s (%s, trust %u)", node.node_id, spn_role_name(node.role), node.trust);
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	free(token);
	spn_http_json(resp, 201, o);
}
