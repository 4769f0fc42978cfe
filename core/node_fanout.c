/* The entry node (doc/protocol.md §5-§6): a client's one call for sessions
 * with several services, or one message with sections for several
 * providers, is fanned out through the tree in parallel, and the answers
 * come back together in the order they were asked. The entry node reads
 * only what routing needs: services, node ids, session and message ids. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carry.h"
#include "error.h"
#include "json.h"
#include "envelope.h"
#include "jwe.h"
#include "log.h"
#include "node_internal.h"

#define LEGS_MAX SPN_ENVELOPE_MAX

typedef struct fan fan_t;

typedef struct {
	spn_node_t *n;
	json_object *msg;        /* the routed request; NULL: refused here */
	spn_http_resp_t resp;
	pthread_t thread;
	bool started;
	int rc;                  /* refused here: why */
	char why[256];
} leg_t;

/* A client's call in flight: its legs, and what is needed to answer. */
struct fan {
	spn_node_t *n;
	spn_http_req_t *req;      /* on a loop; NULL: blocking */
	spn_http_resp_t *out;
	size_t k, pending;
	void (*answer)(fan_t *f);
	leg_t legs[LEGS_MAX];
	spn_session_call_t call;  /* a session call */
	spn_envelope_t *e;        /* a message */
};

static void *leg_run(void *p)
{
	leg_t *l = p;

	spn_node_route_local(l->n, l->msg, &l->resp);
	return NULL;
}

/* Blocking: the legs in parallel on threads of their own. */
static void run_legs_blocking(leg_t *legs, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (legs[i].msg && k > 1)
			legs[i].started = pthread_create(&legs[i].thread, NULL, leg_run, &legs[i]) == 0;
	for (size_t i = 0; i < k; i++) {
		if (legs[i].started)
			pthread_join(legs[i].thread, NULL);
		else if (legs[i].msg)
			leg_run(&legs[i]);
	}
}

static void fan_free(fan_t *f);

static void leg_done(void *ctx)
{
	fan_t *f = ctx;

	if (--f->pending)
		return;
	f->answer(f);
	if (f->req)
		spn_http_done(f->req);
	fan_free(f);
}

/* On the loop, the legs all at once through the forwarder; the call is
 * answered when the last one is. */
static void run_legs(fan_t *f)
{
	if (!f->req) {
		run_legs_blocking(f->legs, f->k);
		f->pending = 1;
		leg_done(f);
		return;
	}
	spn_http_defer(f->req);
	/* One count for this loop, so that legs answered at once do not end
	 * the call before the last is started. */
	f->pending = 1;
	for (size_t i = 0; i < f->k; i++) {
		if (!f->legs[i].msg)
			continue;
		f->pending++;
		spn_node_route_start(f->n, f->req, json_object_get(f->legs[i].msg), &f->legs[i].resp, leg_done, f);
	}
	leg_done(f);
}

static void leg_refuse(leg_t *l, int rc, const char *why)
{
	l->rc = rc;
	snprintf(l->why, sizeof(l->why), "%s", why);
}

/* Adds to item what the leg came back with: on success the members named
 * in keep and the path, else the error and its message. */
static void leg_result(leg_t *l, json_object *item, const char *const *keep, json_object *carried)
{
	json_object *ans = NULL, *v;

	if (!l->msg) {
		json_object_object_add(item, "error", json_object_new_string(spn_errname(l->rc)));
		json_object_object_add(item, "message", json_object_new_string(l->why));
		return;
	}
	if (!l->resp.body || spn_json_parse(l->resp.body, l->resp.len, &ans) != 0 ||
	    !json_object_is_type(ans, json_type_object)) {
		json_object_object_add(item, "error", json_object_new_string(spn_errname(SPN_EUNAVAILABLE)));
		json_object_object_add(item, "message", json_object_new_string("the answer was not readable"));
		json_object_put(ans);
		return;
	}
	if (l->resp.status == 200) {
		for (size_t i = 0; keep[i]; i++)
			if (json_object_object_get_ex(ans, keep[i], &v))
				json_object_object_add(item, keep[i], json_object_get(v));
	} else {
		/* Passed on only as strings: what clients expect there. */
		if (json_object_object_get_ex(ans, "error", &v) && json_object_is_type(v, json_type_string))
			json_object_object_add(item, "error", json_object_get(v));
		else
			json_object_object_add(item, "error", json_object_new_string(spn_errname(SPN_EUNAVAILABLE)));
		if (json_object_object_get_ex(ans, "message", &v) && json_object_is_type(v, json_type_string))
			json_object_object_add(item, "message", json_object_get(v));
	}
	/* Replies to carried sections, for the client alone, whether the
	 * section itself succeeded or not. */
	spn_carry_collect(ans, carried);
	json_object_put(ans);
}

static void fan_free(fan_t *f)
{
	for (size_t i = 0; i < f->k; i++) {
		json_object_put(f->legs[i].msg);
		free(f->legs[i].resp.body);
	}
	spn_session_call_clear(&f->call);
	if (f->e) {
		spn_envelope_clear(f->e);
		free(f->e);
	}
	free(f);
}

static json_object *leg_msg(const char *kind, const char *service, const char *node, const char *id,
			    json_object *payload)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "kind", json_object_new_string(kind));
	if (service)
		json_object_object_add(m, "service", json_object_new_string(service));
	if (node)
		json_object_object_add(m, "node", json_object_new_string(node));
	json_object_object_add(m, "id", json_object_new_string(id));
	json_object_object_add(m, "payload", payload);
	return m;
}

static fan_t *fan_new(spn_node_t *n, spn_http_req_t *req, spn_http_resp_t *out)
{
	fan_t *f = calloc(1, sizeof(*f));

	if (!f) {
		spn_http_error(out, SPN_ENOMEM, NULL);
		return NULL;
	}
	f->n = n;
	f->req = req;
	f->out = out;
	return f;
}

static void session_answer(fan_t *f)
{
	static const char *const keep[] = {"offer", "path", NULL};
	json_object *out = json_object_new_array(), *o;

	for (size_t i = 0; i < f->call.n; i++) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "session", json_object_new_string(f->call.item[i].session));
		json_object_object_add(r, "service", json_object_new_string(f->call.item[i].service));
		leg_result(&f->legs[i], r, keep, NULL);
		json_object_array_add(out, r);
	}
	o = json_object_new_object();
	json_object_object_add(o, "sessions", out);
	spn_http_json(f->out, 200, o);
}

/* POST /v1/session {"client_key", "certificate"?, "sessions": [{"session",
 * "service", "node"?, "sig"?}]} */
static void fanout_session(spn_node_t *n, spn_http_req_t *req, const char *body, size_t len, spn_http_resp_t *resp)
{
	fan_t *f = fan_new(n, req, resp);
	int rc;

	if (!f)
		return;
	if ((rc = spn_session_call_parse(body, len, &f->call))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		fan_free(f);
		return;
	}
	for (size_t i = 0; i < f->call.n; i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "session", json_object_new_string(f->call.item[i].session));
		json_object_object_add(p, "service", json_object_new_string(f->call.item[i].service));
		json_object_object_add(p, "client_key", json_object_new_string(f->call.client_key));
		if (f->call.certificate)
			json_object_object_add(p, "certificate", json_object_get(f->call.certificate));
		if (f->call.item[i].sig)
			json_object_object_add(p, "sig", json_object_get(f->call.item[i].sig));
		f->legs[i].n = n;
		/* A client may ask for the provider it had: the one that
		 * remembers the messages it acted on. */
		f->legs[i].msg = leg_msg("session", f->call.item[i].service, f->call.item[i].node,
					 f->call.item[i].session, p);
	}
	f->k = f->call.n;
	f->answer = session_answer;
	spn_log_info("session call at %s: %zu service(s)", n->id.node_id, f->call.n);
	run_legs(f);
}

void spn_node_session_open(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	size_t len;
	const char *body = spn_http_req_body(req, &len);

	fanout_session(user, req, body, len, resp);
}

void spn_node_fanout_session(spn_node_t *n, const char *body, size_t len, spn_http_resp_t *resp)
{
	fanout_session(n, NULL, body, len, resp);
}

static void message_answer(fan_t *f)
{
	static const char *const keep[] = {"section", "path", NULL};
	spn_envelope_t *e = f->e;
	json_object *out = json_object_new_array(), *o, *carried = json_object_new_array();

	for (size_t i = 0; i < e->n; i++) {
		json_object *r = json_object_new_object();
		if (!e->rc[i]) {
			json_object_object_add(r, "service", json_object_new_string(e->h[i].svc));
			json_object_object_add(r, "node", json_object_new_string(e->h[i].to));
		}
		leg_result(&f->legs[i], r, keep, carried);
		json_object_array_add(out, r);
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(e->id));
	json_object_object_add(o, "replies", out);
	json_object_object_add(o, "carried", carried);
	spn_http_json(f->out, 200, o);
}

/* POST /v1/message {"id", "sections": [JWE, ...]} */
static void fanout_message(spn_node_t *n, spn_http_req_t *req, const char *body, size_t len, spn_http_resp_t *resp)
{
	fan_t *f = fan_new(n, req, resp);
	spn_envelope_t *e;
	int rc;

	if (!f)
		return;
	if (!(e = f->e = malloc(sizeof(*e)))) {
		spn_http_error(resp, SPN_ENOMEM, NULL);
		fan_free(f);
		return;
	}
	if ((rc = spn_envelope_parse(body, len, e))) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		free(e);
		f->e = NULL;
		fan_free(f);
		return;
	}
	for (size_t i = 0; i < e->n; i++) {
		f->legs[i].n = n;
		if (e->rc[i]) {
			leg_refuse(&f->legs[i], e->rc[i], e->why[i]);
		} else {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "section", json_object_get(e->section[i]));
			if (e->carry)
				json_object_object_add(p, "carry", json_object_get(e->carry));
			if (e->chain)
				json_object_object_add(p, "chain", json_object_get(e->chain));
			f->legs[i].msg = leg_msg("section", e->h[i].svc, e->h[i].to, e->id, p);
		}
	}
	f->k = e->n;
	f->answer = message_answer;
	spn_log_info("message %s at %s: %zu section(s)", e->id, n->id.node_id, e->n);
	run_legs(f);
}

void spn_node_message(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	size_t len;
	const char *body = spn_http_req_body(req, &len);

	fanout_message(user, req, body, len, resp);
}

void spn_node_fanout_message(spn_node_t *n, const char *body, size_t len, spn_http_resp_t *resp)
{
	fanout_message(n, NULL, body, len, resp);
}
