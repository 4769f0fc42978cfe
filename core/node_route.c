/* Routing through the lowest common ancestor (doc/rest-api.md, "Routing"):
 * a request is handled here when this node is the provider, sent down
 * toward the provider a selection policy picks in this subtree, or else up
 * to the parent. A request that came down never goes up again; a node
 * already on the path or a spent hop limit ends it. */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "node_internal.h"
#include "revoked.h"


/* One request on its way: parsed once, then carried through the choice
 * of the next hop, the transfer (on the loop's forwarder, or blocking on
 * a worker thread) and the retries, to its answer. */
typedef struct {
	spn_node_t *n;
	spn_http_req_t *req;   /* on a loop; NULL: blocking, on a worker thread */
	json_object *msg;      /* the request as it will travel on */
	json_object *path;     /* array inside msg */
	const char *kind, *service, *node, *id;
	const char *origin;    /* inside msg */
	char path_text[1024];
	bool from_parent;
	unsigned hops;
	spn_tree_hop_t hop;
	bool to_parent, chosen_here;
	int tries;
	struct timespec t0;
	spn_http_resp_t *out;  /* the answer goes here, then done(ctx) */
	spn_loop_fn done;
	void *ctx;
} route_t;

static void path_text(route_t *r)
{
	size_t off = 0, n = json_object_array_length(r->path);

	r->path_text[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(r->path_text); i++)
		off += (size_t)snprintf(r->path_text + off, sizeof(r->path_text) - off, "%s%s", i ? ">" : "",
					json_object_get_string(json_object_array_get_idx(r->path, i)));
}

/* The routing probe (kind echo, the default) answers in plaintext with the
 * path a request took: for the group's members only, and for none when
 * [route] probe is off. Sessions and sections are anyone's. */
static int probe_allowed(spn_node_t *n, const route_t *r, bool member)
{
	if (r->kind && strcmp(r->kind, "echo") != 0)
		return 0;
	if (!n->route_probe)
		return spn_err(SPN_EDENIED,
			       "the routing probe (kind echo) is switched off on %s ([route] probe = false)",
			       n->id.node_id);
	if (!member)
		return spn_err(SPN_EDENIED, "the routing probe (kind echo) is for members of the group: present a "
					    "member's certificate (over plain HTTP, sign the request with it)");
	return 0;
}

/* Whom a provider counts an anonymous client's session to: the entry node
 * and the address the request came from there. Members pass it on; from
 * anyone else it is replaced, so that no client chooses its own. */
static void origin(spn_node_t *n, route_t *r, const spn_http_peer_t *peer, const char *sent, bool forwarded)
{
	char o[SPN_ROUTE_ORIGIN_MAX + 1], src[SPN_NAME_MAX + 1];

	if (forwarded && sent) {
		r->origin = sent;
		return;
	}
	if (peer)
		snprintf(o, sizeof(o), "%s", peer->id.node_id);
	else if (r->req && spn_http_req_source(r->req, src, sizeof(src)) == 0)
		snprintf(o, sizeof(o), "%s/%s", n->id.node_id, src);
	else
		snprintf(o, sizeof(o), "%s/local", n->id.node_id);
	json_object_object_add(r->msg, "origin", json_object_new_string(o));
	r->origin = spn_json_str_or(r->msg, "origin", "");
}

/* Who sent it decides what may be trusted: a member forwards (the path must
 * end with it) or starts a request of its own (no path), anyone else starts
 * a new request. */
static int admit(spn_node_t *n, const spn_http_peer_t *peer, route_t *r, unsigned *hops)
{
	spn_route_fields_t f;
	bool member = false;
	size_t np;
	int64_t h = n->hop_limit;
	int rc;

	if (peer) {
		if (spn_revoked_has(n->revoked, peer->serial))
			return spn_err(SPN_EREVOKED, "the certificate %s of %s is revoked", peer->serial, peer->id.node_id);
		member = (SPN_ROLES_MEMBERS & (1u << peer->id.role)) != 0;
	}
	if ((rc = spn_route_fields_parse(r->msg, &f)))
		return rc;
	r->kind = f.kind;
	r->service = f.service;
	r->node = f.node;
	r->id = f.id;
	r->path = f.path;
	if ((rc = probe_allowed(n, r, member)))
		return rc;
	if (!r->id) {
		unsigned char raw[16];
		char hex[33];
		if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0)
			return SPN_ECRYPTO;
		spn_hex(raw, sizeof(raw), hex);
		json_object_object_add(r->msg, "id", json_object_new_string(hex));
		spn_json_str(r->msg, "id", true, SPN_ID_MAX, &r->id);
	}
	/* Anyone may send a path and a hop count; they only ever shorten the
	 * way (a node already on it refuses, hops never exceed this node's
	 * limit), so they are kept even from a caller that cannot be
	 * identified, as over plain HTTP. */
	if (!r->path) {
		r->path = json_object_new_array();
		json_object_object_add(r->msg, "path", r->path);
	}
	if (f.hops >= 0 && f.hops < h)
		h = f.hops;
	np = json_object_array_length(r->path);
	if (member && np) {
		json_object *last = json_object_array_get_idx(r->path, np - 1);
		if (strcmp(json_object_get_string(last), peer->id.node_id) != 0)
			return spn_err(SPN_EDENIED, "%s forwarded a request whose path does not end with it",
				       peer->id.node_id);
		r->from_parent = strcmp(peer->id.node_id, n->id.parent) == 0 && n->id.parent[0];
	}
	origin(n, r, peer, f.origin, member && np);
	for (size_t i = 0; i < np; i++) {
		json_object *e = json_object_array_get_idx(r->path, i);
		if (strcmp(json_object_get_string(e), n->id.node_id) == 0) {
			path_text(r);
			return spn_err(SPN_ELOOP, "request %s came back to %s (path %s)", r->id, n->id.node_id,
				       r->path_text);
		}
	}
	if (np >= SPN_ROUTE_PATH_MAX)
		return spn_err(SPN_ELOOP, "request %s: path too long", r->id);
	json_object_array_add(r->path, json_object_new_string(n->id.node_id));
	path_text(r);
	*hops = (unsigned)h;
	return 0;
}

/* The routing probe: answers with what it was sent and the path it took,
 * so that members can see and test routing without a session. */
static void echo_here(spn_node_t *n, route_t *r, spn_http_resp_t *resp)
{
	json_object *payload = NULL, *o = json_object_new_object();

	json_object_object_get_ex(r->msg, "payload", &payload);
	if (spn_node_probe_hook)
		spn_node_probe_hook(payload);
	spn_log_info("route %s %s%s path=%s: handled here", r->id, r->service ? "service " : "node ",
		     r->service ? r->service : r->node, r->path_text);
	json_object_object_add(o, "id", json_object_new_string(r->id));
	if (r->service)
		json_object_object_add(o, "service", json_object_new_string(r->service));
	json_object_object_add(o, "handled_by", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "path", json_object_get(r->path));
	json_object_object_add(o, "payload", payload ? json_object_get(payload) : NULL);
	spn_http_json(resp, 200, o);
}

/* Session offers and sections are the provider's (node_session.c); the
 * answer says which node handled it and by which path. Blocking: a
 * section waits on its plugin. */
static void handle_here(spn_node_t *n, route_t *r, spn_http_resp_t *resp)
{
	json_object *payload = NULL;

	if (!r->kind || strcmp(r->kind, "echo") == 0) {
		echo_here(n, r, resp);
		return;
	}
	spn_log_info("route %s %s %s%s path=%s: handled here", r->id, r->kind, r->service ? "service " : "node ",
		     r->service ? r->service : r->node, r->path_text);
	json_object_object_get_ex(r->msg, "payload", &payload);
	if (strcmp(r->kind, "session") == 0)
		spn_node_session_here(n, payload, r->path, r->origin, resp);
	else
		spn_node_section_here(n, payload, r->path, resp);
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The provider this node chose is leaving, and the nodes below have not yet
 * told. For a request addressed to a service (an echo, a session to open),
 * these answers mean that no handler ran: the next hop has no such node or
 * that node no such service (no_provider), a connection toward it could not
 * be made (unavailable: node_route.c and node_tree.c only say so then), or
 * the provider answered from its queue or its session table without acting
 * (busy). Another provider may take it. Only error answers are read. */
static bool gone_below(long status, const char *body, size_t len)
{
	json_object *o = NULL;
	const char *e;
	bool gone;

	if (status < 400 || !body || spn_json_parse(body, len, &o) != 0)
		return false;
	e = spn_json_str_or(o, "error", "");
	gone = strcmp(e, "no_provider") == 0 || strcmp(e, "unavailable") == 0 || strcmp(e, "busy") == 0;
	json_object_put(o);
	return gone;
}

void (*spn_node_probe_hook)(struct json_object *payload);
void (*spn_node_relay_hook)(spn_node_t *n, const char *kind, long *status, char **body, size_t *len);

static void route_end(route_t *r, int rc)
{
	if (rc) {
		spn_log_info("route %s refused at %s: %s", r->id ? r->id : "-", r->n->id.node_id, spn_err_detail(rc));
		spn_http_error(r->out, rc, spn_err_detail(rc));
	}
	json_object_put(r->msg);
	r->done(r->ctx);
	free(r);
}

static void forward(route_t *r);

/* What the next hop said, or that it could not be had. */
static void forwarded(void *ctx, int rc, long status, char *ans, size_t alen)
{
	route_t *r = ctx;
	spn_node_t *n = r->n;
	const char *to = r->to_parent ? "the parent" : r->hop.via;

	if (!r->to_parent)
		spn_tree_end(n->tree, r->hop.target, elapsed_ms(&r->t0));
	if (rc == SPN_EBUSY) {
		route_end(r, rc);
		return;
	}
	if (rc)
		spn_log_warn("route %s: %s cannot be reached: %s", r->id, to, spn_err_detail(rc));
	else if (spn_node_relay_hook)
		spn_node_relay_hook(n, r->kind, &status, &ans, &alen);
	/* A provider that could not even be connected to never saw the
	 * request: another one may take it (it may be leaving). Without
	 * another choice, the last answer stands. */
	if ((rc == SPN_EUNAVAILABLE || (rc == 0 && r->chosen_here && gone_below(status, ans, alen))) && --r->tries > 0) {
		spn_tree_hop_t next;
		if (spn_tree_route(n->tree, r->service, NULL, n->policy, &next) == 0 && !next.local) {
			if (rc == 0)
				spn_log_info("route %s: %s cannot be had below %s; choosing again", r->id, r->hop.target,
					     r->hop.via);
			free(ans);
			json_object_object_del(r->msg, "node");
			spn_metrics_inc(&n->metrics.reroutes);
			r->hop = next;
			forward(r);
			return;
		}
	}
	if (rc == 0) {
		spn_node_relay(r->out, status, ans, alen);
		route_end(r, 0);
		return;
	}
	/* Only a connection never made means the request was not received:
	 * the rest may have been acted on. */
	if (r->to_parent)
		rc = spn_err(rc == SPN_EUNAVAILABLE ? SPN_EUNAVAILABLE : SPN_ETIMEOUT, "the parent of %s %s", n->id.node_id,
			     rc == SPN_EUNAVAILABLE ? "cannot be reached"
			     : rc == SPN_ETIMEOUT   ? "did not answer in time"
						    : "did not answer (the connection broke); it may have acted");
	else
		rc = spn_err(rc == SPN_EUNAVAILABLE ? SPN_EUNAVAILABLE : SPN_ETIMEOUT, "%s (next hop from %s toward %s) %s",
			     r->hop.via, n->id.node_id, r->hop.target,
			     rc == SPN_EUNAVAILABLE ? "cannot be reached"
			     : rc == SPN_ETIMEOUT   ? "did not answer in time"
						    : "did not answer (the connection broke); it may have acted");
	route_end(r, rc);
}

/* Sends the request on: to r->hop, or to the parent. */
static void forward(route_t *r)
{
	spn_node_t *n = r->n;
	char url[SPN_URL_MAX + 16], *ans = NULL;
	const char *text, *pin = NULL, *expect = NULL;
	spn_http_fwd_t *f;
	size_t len, alen = 0;
	long status = 0;
	int rc;

	json_object_object_add(r->msg, "hops", json_object_new_int((int)r->hops - 1));
	/* Below the node that chose, everyone heads for its choice. */
	if (!r->to_parent && r->service)
		json_object_object_add(r->msg, "node", json_object_new_string(r->hop.target));
	text = spn_json_text(r->msg, &len);
	spn_log_info("route %s %s%s path=%s: to %s%s%s", r->id, r->service ? "service " : "node ",
		     r->service ? r->service : r->node, r->path_text, r->to_parent ? "the parent" : r->hop.via,
		     r->to_parent ? "" : " toward ", r->to_parent ? "" : r->hop.target);
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	if (r->to_parent) {
		snprintf(url, sizeof(url), "%s/v1/route", spn_node_parent_url(n));
		expect = n->id.parent;
	} else {
		spn_tree_begin(n->tree, r->hop.target);
		snprintf(url, sizeof(url), "%s/v1/route", r->hop.url);
		pin = n->tls ? r->hop.pin : NULL;
	}
	if (!r->req) {
		rc = expect ? spn_http_client_call_node(n->client, url, expect, text, len, &status, &ans, &alen)
			    : spn_http_client_call_pinned(n->client, url, pin, text, len, &status, &ans, &alen);
		forwarded(r, rc, status, ans, alen);
		return;
	}
	f = spn_http_req_fwd(r->req);
	rc = f ? spn_http_fwd_post(f, n->client, url, pin, expect, text, len, forwarded, r)
	       : spn_err(SPN_EBUSY, "the node is stopping");
	if (rc)
		forwarded(r, rc, 0, NULL, 0);
}

static void local_work(void *ctx, bool stopping)
{
	route_t *r = ctx;

	if (stopping)
		spn_http_error(r->out, SPN_EBUSY, "the node is stopping");
	else
		handle_here(r->n, r, r->out);
}

static void local_done(void *ctx)
{
	route_end(ctx, 0);
}

static void route_go(route_t *r)
{
	spn_node_t *n = r->n;
	int rc = spn_tree_route(n->tree, r->node ? NULL : r->service, r->node, n->policy, &r->hop);

	if (rc == 0 && r->hop.local) {
		if (r->service && !spn_ident_provides(&n->id, r->service)) {
			route_end(r, spn_err(SPN_ENOPROVIDER, "%s does not provide service %s", n->id.node_id, r->service));
			return;
		}
		spn_node_metrics_routed(n, SPN_ROUTED_HERE);
		/* Handlers may wait (a plugin, its calls): never on a loop. */
		if (!r->req) {
			local_work(r, false);
			route_end(r, 0);
		} else if ((rc = spn_http_offload(r->req, local_work, local_done, r))) {
			route_end(r, rc);
		}
		return;
	}
	if (rc && rc != SPN_ENOTFOUND) {
		route_end(r, rc);
		return;
	}
	if (r->hops <= 1) {
		route_end(r, spn_err(SPN_ELOOP, "request %s: hop limit reached at %s (path %s)", r->id, n->id.node_id,
				     r->path_text));
		return;
	}
	if (rc == 0) {
		r->chosen_here = r->service && !r->node;
		r->tries = r->chosen_here ? 3 : 1;
	} else if (r->from_parent || !n->n_parents) {
		if (r->node)
			rc = spn_err(SPN_ENOPROVIDER, "no node %s %s %s", r->node, r->from_parent ? "below" : "in group",
				     r->from_parent ? n->id.node_id : n->id.group);
		else
			rc = spn_err(SPN_ENOPROVIDER, "no provider for service %s %s %s", r->service,
				     r->from_parent ? "below" : "in group", r->from_parent ? n->id.node_id : n->id.group);
		route_end(r, rc);
		return;
	} else {
		r->to_parent = true;
		r->tries = 1;
	}
	spn_node_metrics_routed(n, r->to_parent ? SPN_ROUTED_UP : SPN_ROUTED_DOWN);
	forward(r);
}

/* Starts routing msg (taken): the answer is left in out, then done(ctx),
 * from req's loop, or before this returns when req is NULL. */
static void route_start(spn_node_t *n, spn_http_req_t *req, const spn_http_peer_t *peer, json_object *msg,
			spn_http_resp_t *out, spn_loop_fn done, void *ctx)
{
	route_t *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		json_object_put(msg);
		spn_http_error(out, SPN_ENOMEM, NULL);
		done(ctx);
		return;
	}
	r->n = n;
	r->req = req;
	r->msg = msg;
	r->out = out;
	r->done = done;
	r->ctx = ctx;
	if (!msg) {
		route_end(r, spn_err(SPN_EINVAL, "a request is a JSON object"));
		return;
	}
	if ((rc = admit(n, peer, r, &r->hops))) {
		route_end(r, rc);
		return;
	}
	route_go(r);
}

static void answered(void *ctx)
{
	spn_http_done(ctx);
}

void spn_node_route(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_http_peer_t peer;
	const char *body;
	json_object *msg = NULL;
	size_t len;
	int rc;

	body = spn_http_req_body(req, &len);
	if ((rc = spn_json_parse(body, len, &msg))) {
		spn_log_info("route - refused at %s: %s", ((spn_node_t *)user)->id.node_id, spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	spn_http_defer(req);
	route_start(user, req, spn_http_req_peer(req, &peer) == 0 ? &peer : NULL, msg, resp, answered, req);
}

static void nothing(void *ctx)
{
	(void)ctx;
}

void spn_node_route_local(spn_node_t *n, json_object *msg, spn_http_resp_t *resp)
{
	route_start(n, NULL, NULL, json_object_get(msg), resp, nothing, NULL);
}

void spn_node_route_start(spn_node_t *n, spn_http_req_t *req, json_object *msg, spn_http_resp_t *out,
			  spn_loop_fn done, void *ctx)
{
	route_start(n, req, NULL, msg, out, done, ctx);
}
