/* The tree's REST endpoints: children register, send deltas and heartbeats,
 * and leave; CRLs come down; anyone in the group reads the registry. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "node_internal.h"
#include "revoked.h"

/* What one registry entry takes in a sync, at most on average: a typical
 * one is about 100 bytes. */
#define SYNC_NODE_BYTES 512

int spn_node_peer(spn_node_t *n, spn_http_req_t *req, spn_http_resp_t *resp, unsigned mask, spn_http_peer_t *peer)
{
	int rc = spn_http_req_peer(req, peer);

	if (rc == 0 && spn_revoked_has(n->revoked, peer->serial))
		rc = spn_err(SPN_EREVOKED, "the certificate %s of %s is revoked", peer->serial, peer->id.node_id);
	if (rc == 0 && !(mask & (1u << peer->id.role)))
		rc = spn_err(SPN_EDENIED, "%s is a %s and may not call this", peer->id.node_id,
			     spn_role_name(peer->id.role));
	if (rc) {
		spn_log_info("refused %s %s: %s", spn_http_req_method(req), spn_http_req_path(req), spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
		return -1;
	}
	return 0;
}

void spn_node_relay(spn_http_resp_t *resp, long status, char *body, size_t len)
{
	resp->status = (unsigned)status;
	resp->body = body;
	resp->len = len;
	resp->content_type = "application/json";
}

void spn_node_relay_up(spn_node_t *n, const char *path, const char *body, size_t len, spn_http_resp_t *resp)
{
	char *ans = NULL;
	size_t alen = 0;
	long status = 0;
	int rc = spn_node_call_parent(n, path, body, len, &status, &ans, &alen);

	if (rc == SPN_ETIMEOUT) {
		spn_log_warn("relaying %s to the parent: %s", path, spn_err_detail(rc));
		rc = spn_err(SPN_ETIMEOUT, "the parent of %s did not answer in time; the request may have been processed",
			     n->id.node_id);
	} else if (rc) {
		/* The parent's address stays in the log. */
		spn_log_warn("relaying %s to the parent: %s", path, spn_err_detail(rc));
		rc = spn_err(SPN_EUNAVAILABLE, "the parent of %s cannot be reached", n->id.node_id);
	}
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_node_relay(resp, status, ans, alen);
}

/* A child may only register with the administrator its certificate names. */
static int own_child(spn_node_t *n, spn_http_req_t *req, spn_http_resp_t *resp, spn_http_peer_t *peer)
{
	if (spn_node_peer(n, req, resp, SPN_ROLES_MEMBERS, peer))
		return -1;
	if (strcmp(peer->id.parent, n->id.node_id) != 0) {
		int rc = spn_err(SPN_EDENIED, "%s was accepted by %s, not by %s", peer->id.node_id,
				 peer->id.parent[0] ? peer->id.parent : "nobody", n->id.node_id);
		spn_log_warn("registration refused: %s", spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
		return -1;
	}
	return 0;
}

void spn_node_tree_sync(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;
	spn_tree_child_t child;
	json_object *msg = NULL, *o;
	uint64_t before;
	const char *body;
	size_t len;
	int rc;

	if (own_child(n, req, resp, &peer))
		return;
	body = spn_http_req_body(req, &len);
	/* Refused before it is parsed: a registry as large as the child may
	 * bring is far below this, however long its entries' names. */
	if (len > n->max_subtree * SYNC_NODE_BYTES + 4096) {
		rc = spn_err(SPN_ETOOBIG, "a registry sync of %zu bytes from %s: a child's subtree here holds at most %lu "
					  "nodes ([tree] max_subtree)",
			     len, peer.id.node_id, n->max_subtree);
		spn_log_warn("registry sync from %s refused: %s", peer.id.node_id, spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	if ((rc = spn_json_parse(body, len, &msg))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	child.id = &peer.id;
	child.serial = peer.serial;
	child.pin = peer.pin;
	child.url = NULL;
	before = spn_tree_version(n->tree);
	rc = spn_tree_child_sync(n->tree, &child, msg, spn_clock_mono_ms());
	json_object_put(msg);
	if (spn_tree_version(n->tree) != before)
		spn_node_poke(n);
	if (rc) {
		if (rc != SPN_ERESYNC)
			spn_log_warn("registry sync from %s refused: %s", peer.id.node_id, spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "lineage", spn_tree_lineage(n->tree));
	json_object_object_add(o, "crl_number", json_object_new_int64((int64_t)spn_revoked_number(n->revoked)));
	pthread_mutex_lock(&n->state_lock);
	json_object_object_add(o, "admin_threshold", json_object_new_int((int)n->admin_threshold));
	pthread_mutex_unlock(&n->state_lock);
	spn_http_json(resp, 200, o);
}

void spn_node_tree_leave(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;
	json_object *o;
	int rc;

	if (own_child(n, req, resp, &peer))
		return;
	if ((rc = spn_tree_child_drop(n->tree, peer.id.node_id, "it left"))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_node_poke(n);
	o = json_object_new_object();
	json_object_object_add(o, "left", json_object_new_string(peer.id.node_id));
	spn_http_json(resp, 200, o);
}

void spn_node_tree_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;
	char *dot;
	int rc;

	if (spn_node_peer(n, req, resp, SPN_ROLES_MEMBERS, &peer))
		return;
	if (strcmp(spn_http_req_path(req), "/v1/tree.dot") == 0) {
		if ((rc = spn_tree_dot(n->tree, &dot))) {
			spn_http_error(resp, rc, spn_err_detail(rc));
			return;
		}
		spn_http_text(resp, 200, "text/vnd.graphviz", dot, strlen(dot));
		free(dot);
		return;
	}
	spn_http_json(resp, 200, spn_tree_json(n->tree, spn_clock_mono_ms()));
}

void spn_node_crl_push(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;
	json_object *o;
	const char *body;
	size_t len;
	int rc;

	/* Whoever sends it, only the root's signature makes it count. */
	if (spn_node_peer(n, req, resp, SPN_ROLES_MEMBERS, &peer))
		return;
	body = spn_http_req_body(req, &len);
	if ((rc = spn_node_take_crl(n, body, len)) < 0) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "crl_number", json_object_new_int64((int64_t)spn_revoked_number(n->revoked)));
	json_object_object_add(o, "taken", json_object_new_boolean(rc == 1));
	spn_http_json(resp, 200, o);
}
