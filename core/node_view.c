/* The live view of a group (doc/operator-guide.md, "Watching a group"): the
 * page built in from core/view/, and GET /v1/view, the registry joined with
 * what this node knows of each entry, its own health and the CRL it holds.
 * Members read it over HTTPS, operators on the local [metrics] listener. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "json.h"
#include "ledger.h"
#include "node_internal.h"
#include "revoked.h"
#include "view/assets.h"

/* Enough to see what changed lately; the whole list is GET /v1/crl. */
#define RECENT_REVOCATIONS 20

/* The registry's entries, each direct child with how long ago it was
 * last heard from. */
static json_object *nodes_part(spn_node_t *n)
{
	json_object *tree = spn_tree_json(n->tree, spn_clock_mono_ms()), *nodes, *kids, *heard, *v;

	json_object_object_get_ex(tree, "nodes", &nodes);
	json_object_object_get_ex(tree, "children", &kids);
	heard = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(kids); i++) {
		json_object *c = json_object_array_get_idx(kids, i), *id, *ago;
		if (json_object_object_get_ex(c, "node", &id) && json_object_object_get_ex(c, "last_seen_ms_ago", &ago))
			json_object_object_add(heard, json_object_get_string(id), json_object_get(ago));
	}
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *e = json_object_array_get_idx(nodes, i), *id;
		if (json_object_object_get_ex(e, "node", &id) &&
		    json_object_object_get_ex(heard, json_object_get_string(id), &v))
			json_object_object_add(e, "last_heard_ms_ago", json_object_get(v));
	}
	json_object_get(nodes);
	json_object_put(heard);
	json_object_put(tree);
	return nodes;
}

/* At the PSP, whose ledger has them, the node and reason of a revoked
 * certificate, for those who may read the ledger. */
static void from_ledger(spn_node_t *n, json_object *o, const char *serial)
{
	spn_ledger_cert_t c;

	pthread_mutex_lock(&n->ca_lock);
	if (spn_ledger_cert_get(spn_ca_ledger(n->ca), serial, &c) == 0) {
		json_object_object_add(o, "node", json_object_new_string(c.id.node_id));
		json_object_object_add(o, "status", json_object_new_string(spn_cert_status_name(c.status)));
		json_object_object_add(o, "reason", json_object_new_string(spn_crl_reason_name(c.reason)));
		spn_ledger_cert_clear(spn_ca_ledger(n->ca), &c);
	}
	pthread_mutex_unlock(&n->ca_lock);
}

static int revocations_part(spn_node_t *n, bool ledger, json_object **out)
{
	json_object *o, *a;
	spn_revoked_entry_t *v;
	size_t k, total;
	int rc;

	if ((rc = spn_revoked_recent(n->revoked, RECENT_REVOCATIONS, &v, &k, &total)))
		return rc;
	a = json_object_new_array();
	for (size_t i = 0; i < k; i++) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "serial", json_object_new_string(v[i].serial));
		json_object_object_add(r, "revoked_at", json_object_new_int64(v[i].at));
		if (ledger && n->ca)
			from_ledger(n, r, v[i].serial);
		json_object_array_add(a, r);
	}
	free(v);
	o = json_object_new_object();
	json_object_object_add(o, "crl_number", json_object_new_int64((int64_t)spn_revoked_number(n->revoked)));
	json_object_object_add(o, "listed", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "recent", a);
	*out = o;
	return 0;
}

static void data(spn_node_t *n, bool ledger, spn_http_resp_t *resp)
{
	json_object *o, *rev;
	bool ok;
	int rc;

	if ((rc = revocations_part(n, ledger, &rev))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "time", json_object_new_int64(spn_clock_now()));
	json_object_object_add(o, "deadline_ms", json_object_new_int64((int64_t)n->deadline_ms));
	json_object_object_add(o, "health", spn_node_health_json(n, &ok));
	json_object_object_add(o, "nodes", nodes_part(n));
	json_object_object_add(o, "revocations", rev);
	spn_http_json(resp, 200, o);
}

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (dot && strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	return "text/html; charset=utf-8";
}

/* /view is view.html; /view.js and /view.css are themselves. */
static void page(const char *path, spn_http_resp_t *resp)
{
	const char *name = strcmp(path, "/view") == 0 ? "view.html" : path + 1;

	for (size_t i = 0; i < spn_view_nassets; i++)
		if (strcmp(spn_view_assets[i].name, name) == 0) {
			spn_http_text(resp, 200, type_of(name), (const char *)spn_view_assets[i].data,
				      spn_view_assets[i].len);
			return;
		}
	spn_http_error(resp, SPN_ENOTFOUND, "no such file in the view");
}

static void answer(spn_node_t *n, spn_http_req_t *req, bool ledger, spn_http_resp_t *resp)
{
	const char *path = spn_http_req_path(req);

	if (strcmp(path, "/v1/view") == 0)
		data(n, ledger, resp);
	else
		page(path, resp);
}

/* Members: the registry is theirs to read already (GET /v1/tree). Which
 * node a revoked certificate was and why is the ledger's, for the PSP and
 * administrators. */
void spn_node_view_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;

	if (spn_node_peer(n, req, resp, SPN_ROLES_MEMBERS, &peer))
		return;
	answer(n, req, spn_role_is_admin(peer.id.role), resp);
}

/* The local listener: its operator, who runs the node, sees everything. */
void spn_node_view_local(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	answer(user, req, true, resp);
}
