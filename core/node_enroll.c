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

int spn_node_check_endorsements(spn_node_t *n, const spn_enroll_body_t *b, const spn_http_peer_t *peer)
{
	size_t count = b->n_endorsements;
	spn_token_t t;
	char prev[SPN_NAME_MAX + 1] = "";
	time_t now = spn_clock_now();
	int rc;

	if ((rc = spn_token_decode(b->token, strlen(b->token), &t)))
		return rc;
	/* Who relayed it is known for sure: check that before any signature. */
	if (strcmp(b->endorsement[count - 1].node, peer->id.node_id) != 0)
		return spn_err(SPN_EDENIED, "the last endorser must be the sender, %s", peer->id.node_id);
	for (size_t i = 0; i < count; i++) {
		const char *node = b->endorsement[i].node, *sig64 = b->endorsement[i].sig;
		spn_ledger_cert_t c;
		gnutls_x509_crt_t crt;
		uint8_t *sig = NULL;
		size_t siglen = 0;
		char input[256];

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
			if ((rc = endorse_input(t.id, b->csr, node, input, sizeof(input))) == 0 &&
			    (rc = spn_b64url_decode(sig64, strlen(sig64), &sig, &siglen)) == 0)
				rc = spn_pki_verify(crt, input, strlen(input), sig, siglen);
			free(sig);
			gnutls_x509_crt_deinit(crt);
			if (rc)
				rc = spn_err(SPN_EBADSIG, "the endorsement of %s does not verify", node);
		}
		snprintf(prev, sizeof(prev), "%s", c.parent);
		if (rc == 0 && i == count - 1 && strcmp(c.parent, n->id.node_id) != 0)
			rc = spn_err(SPN_EDENIED, "endorsement chain does not reach the PSP: %s's parent is %s", node,
				     c.parent);
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
	spn_node_t *n = user;
	spn_http_peer_t peer;
	spn_enroll_body_t b;
	const char *body, *text;
	spn_token_t t;
	size_t len;
	int rc;

	body = spn_http_req_body(req, &len);
	if ((rc = spn_enroll_body_parse(body, len, false, &b)))
		goto fail;
	if (b.endorsed_by) {
		/* Relayed by a child administrator: it must be one, and the last
		 * to endorse; the PSP checks the whole chain. */
		if (spn_node_peer(n, req, resp, SPN_ROLES_ADMINS, &peer)) {
			spn_enroll_body_clear(&b);
			return;
		}
		if (b.n_endorsements >= SPN_ENDORSEMENTS_MAX) {
			rc = spn_err(SPN_EINVAL, "endorsed_by: no room for another endorsement");
			goto fail;
		}
		if (strcmp(peer.id.parent, n->id.node_id) != 0) {
			rc = spn_err(SPN_EDENIED, "%s is not a child of %s", peer.id.node_id, n->id.node_id);
			goto fail;
		}
		if ((rc = spn_token_decode(b.token, strlen(b.token), &t)))
			goto fail;
	} else if ((rc = first_check(n, b.token, b.csr, &t))) {
		goto fail;
	}
	if ((rc = endorse(n, b.root, t.id, b.csr)))
		goto fail;
	text = spn_json_text(b.root, &len);
	spn_log_info("enrollment of %s (token %s) endorsed and sent to the parent", t.node.node_id, t.id);
	spn_node_relay_up(n, "/v1/enroll", text, len, resp);
	spn_enroll_body_clear(&b);
	return;
fail:
	spn_log_info("enrollment refused at %s: %s", n->id.node_id, spn_err_detail(rc));
	spn_http_error(resp, rc, spn_err_detail(rc));
	spn_enroll_body_clear(&b);
}

/* POST /v1/token {"node","role","trust","services","ttl"}: the node's own
 * operator (holding its certificate) or the PSP asks this administrator to
 * mint a join token. */
void spn_node_token(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;
	spn_token_body_t tb;
	spn_ident_t *node = &tb.node;
	json_object *o;
	const char *body;
	size_t len;
	char *token = NULL;
	int rc;

	if (spn_node_peer(n, req, resp, SPN_ROLES_ADMINS, &peer))
		return;
	if (strcmp(peer.id.node_id, n->id.node_id) != 0 && peer.id.role != SPN_ROLE_PSP) {
		rc = spn_err(SPN_EDENIED, "only %s's own operator or the PSP may mint its tokens", n->id.node_id);
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	body = spn_http_req_body(req, &len);
	if ((rc = spn_token_body_parse(body, len, &tb)))
		goto out;
	if (n->ca) {
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ca_token_mint(n->ca, node, tb.ttl, tb.tpl, &token);
		pthread_mutex_unlock(&n->ca_lock);
	} else {
		rc = spn_token_issue(n->key, &n->id, node, tb.ttl, tb.tpl, &token);
	}
out:
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_log_info("join token minted for %s (%s, trust %u)", node->node_id, spn_role_name(node->role), node->trust);
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	free(token);
	spn_http_json(resp, 201, o);
}
