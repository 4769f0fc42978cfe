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

#include "error.h"
#include "json.h"
#include "jwe.h"
#include "log.h"
#include "node_internal.h"
#include "session.h"

#define LEGS_MAX 16

typedef struct {
	spn_node_t *n;
	json_object *msg;        /* the routed request; NULL: refused here */
	spn_http_resp_t resp;
	pthread_t thread;
	bool started;
	int rc;                  /* refused here: why */
	char why[256];
} leg_t;

static void *leg_run(void *p)
{
	leg_t *l = p;

	spn_node_route_local(l->n, l->msg, &l->resp);
	return NULL;
}

static void run_legs(leg_t *legs, size_t k)
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

static void leg_refuse(leg_t *l, int rc, const char *why)
{
	l->rc = rc;
	snprintf(l->why, sizeof(l->why), "%s", why);
}

/* Adds to item what the leg came back with: on success the members named
 * in keep and the path, else the error and its message. */
static void leg_result(leg_t *l, json_object *item, const char *const *keep)
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
	json_object_put(ans);
}

static void legs_free(leg_t *legs, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		json_object_put(legs[i].msg);
		free(legs[i].resp.body);
	}
}

/* The list under key: 1 to LEGS_MAX items. */
static int leg_list(json_object *o, const char *key, const char *items, json_object **list, size_t *k)
{
	if (!json_object_object_get_ex(o, key, list) || !json_object_is_type(*list, json_type_array) ||
	    (*k = json_object_array_length(*list)) == 0 || *k > LEGS_MAX) {
		*k = 0;
		return spn_err(SPN_EINVAL, "'%s': a list of 1 to %d %s", key, LEGS_MAX, items);
	}
	return 0;
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

/* POST /v1/session {"client_key", "certificate"?, "sessions": [{"session",
 * "service", "sig"?}]} */
void spn_node_session_open(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	static const char *const fields[] = {"client_key", "certificate", "sessions", NULL};
	static const char *const item_fields[] = {"session", "service", "node", "sig", NULL};
	static const char *const keep[] = {"offer", "path", NULL};
	spn_node_t *n = user;
	json_object *o = NULL, *list, *cert = NULL, *out;
	leg_t legs[LEGS_MAX];
	const char *body, *key, *sid, *svc, *node;
	uint8_t pk[SPN_HPKE_KEY];
	size_t len, k = 0;
	int rc;

	memset(legs, 0, sizeof(legs));
	body = spn_http_req_body(req, &len);
	if ((rc = spn_json_parse(body, len, &o)) || (rc = spn_json_only(o, "session call", fields)) ||
	    (rc = spn_json_str(o, "client_key", true, 64, &key)) ||
	    (rc = spn_json_b64u(o, "client_key", true, pk, sizeof(pk), sizeof(pk), NULL)))
		goto fail;
	json_object_object_get_ex(o, "certificate", &cert);
	if ((rc = leg_list(o, "sessions", "{\"session\", \"service\"}", &list, &k)))
		goto fail;
	for (size_t i = 0; i < k; i++) {
		json_object *it = json_object_array_get_idx(list, i), *p, *sig;
		if ((rc = spn_json_only(it, "session", item_fields)) ||
		    (rc = spn_json_str(it, "session", true, SPN_SESSION_ID_MAX, &sid)) ||
		    (rc = spn_json_str(it, "service", true, SPN_SERVICE_MAX, &svc)) ||
		    (rc = spn_json_str(it, "node", false, SPN_NAME_MAX, &node)))
			goto fail;
		if (!spn_id_is_valid(sid) || !spn_service_name_is_valid(svc) || (node && !spn_name_is_valid(node))) {
			rc = spn_err(SPN_EINVAL, "sessions[%zu]: bad session id, service or node name", i);
			goto fail;
		}
		p = json_object_new_object();
		json_object_object_add(p, "session", json_object_new_string(sid));
		json_object_object_add(p, "service", json_object_new_string(svc));
		json_object_object_add(p, "client_key", json_object_new_string(key));
		if (cert)
			json_object_object_add(p, "certificate", json_object_get(cert));
		if (json_object_object_get_ex(it, "sig", &sig))
			json_object_object_add(p, "sig", json_object_get(sig));
		legs[i].n = n;
		/* A client may ask for the provider it had: the one that
		 * remembers the messages it acted on. */
		legs[i].msg = leg_msg("session", svc, node, sid, p);
	}
	spn_log_info("session call at %s: %zu service(s)", n->id.node_id, k);
	run_legs(legs, k);
	out = json_object_new_array();
	for (size_t i = 0; i < k; i++) {
		json_object *it = json_object_array_get_idx(list, i), *r = json_object_new_object(), *v;
		json_object_object_get_ex(it, "session", &v);
		json_object_object_add(r, "session", json_object_get(v));
		json_object_object_get_ex(it, "service", &v);
		json_object_object_add(r, "service", json_object_get(v));
		leg_result(&legs[i], r, keep);
		json_object_array_add(out, r);
	}
	legs_free(legs, k);
	json_object_put(o);
	o = json_object_new_object();
	json_object_object_add(o, "sessions", out);
	spn_http_json(resp, 200, o);
	return;
fail:
	legs_free(legs, k);
	json_object_put(o);
	spn_http_error(resp, rc, spn_err_detail(rc));
}

/* POST /v1/message {"id", "sections": [JWE, ...]} */
void spn_node_message(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	static const char *const fields[] = {"id", "sections", NULL};
	static const char *const keep[] = {"section", "path", NULL};
	spn_node_t *n = user;
	json_object *o = NULL, *list, *out;
	leg_t legs[LEGS_MAX];
	spn_jwe_header_t h[LEGS_MAX];
	const char *body, *mid;
	size_t len, k = 0;
	int rc;

	memset(legs, 0, sizeof(legs));
	memset(h, 0, sizeof(h));
	body = spn_http_req_body(req, &len);
	if ((rc = spn_json_parse(body, len, &o)) || (rc = spn_json_only(o, "message", fields)) ||
	    (rc = spn_json_str(o, "id", true, SPN_JWE_ID_MAX, &mid)))
		goto fail;
	if (!spn_id_is_valid(mid)) {
		rc = spn_err(SPN_EINVAL, "'id': 1-%d of [A-Za-z0-9._-]", SPN_JWE_ID_MAX);
		goto fail;
	}
	if ((rc = leg_list(o, "sections", "sections", &list, &k)))
		goto fail;
	for (size_t i = 0; i < k; i++) {
		json_object *s = json_object_array_get_idx(list, i);
		const char *text = json_object_get_string(s);
		legs[i].n = n;
		if (!json_object_is_type(s, json_type_string)) {
			leg_refuse(&legs[i], SPN_EINVAL, "a section is a string: a JWE in compact form");
		} else if ((rc = spn_jwe_peek(text, (size_t)json_object_get_string_len(s), &h[i]))) {
			leg_refuse(&legs[i], rc, spn_err_detail(rc));
		} else if (strcmp(h[i].mid, mid) != 0) {
			leg_refuse(&legs[i], SPN_EINVAL, "the section's message id is not the message's");
		} else {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "section", json_object_get(s));
			legs[i].msg = leg_msg("section", h[i].svc, h[i].to, mid, p);
		}
	}
	rc = 0;
	spn_log_info("message %s at %s: %zu section(s)", mid, n->id.node_id, k);
	run_legs(legs, k);
	out = json_object_new_array();
	for (size_t i = 0; i < k; i++) {
		json_object *r = json_object_new_object();
		if (h[i].svc[0]) {
			json_object_object_add(r, "service", json_object_new_string(h[i].svc));
			json_object_object_add(r, "node", json_object_new_string(h[i].to));
		}
		leg_result(&legs[i], r, keep);
		json_object_array_add(out, r);
	}
	legs_free(legs, k);
	json_object_object_add(o, "replies", out);
	json_object_object_del(o, "sections");
	spn_http_json(resp, 200, o);
	return;
fail:
	legs_free(legs, k);
	json_object_put(o);
	spn_http_error(resp, rc, spn_err_detail(rc));
}
