/* GET /v1/health: whether the node does its work, for anyone (a load
 * balancer, a monitor): its place under its parent, its certificate, its
 * CRL and its plugins, and "ok" (200) or "degraded" (503). Nothing in it is
 * secret: no serials, no addresses, no figures of traffic. */
#include "config.h"

#include <stdlib.h>

#include "clock.h"
#include "json.h"
#include "node_internal.h"
#include "plugin.h"
#include "revoked.h"

/* A certificate this close to its end is renewed by now, or about to
 * stop the node. */
#define EXPIRY_MARGIN_S 86400

/* Whether the parent has taken a sync within the deadline, counted from
 * the start when it never has. */
static bool parent_part(spn_node_t *n, json_object *o)
{
	json_object *p = json_object_new_object();
	bool registered, fresh;
	int64_t last;
	time_t heard;

	pthread_mutex_lock(&n->state_lock);
	registered = n->registered;
	heard = n->heard_at;
	last = n->heard_ms > n->since_ms ? n->heard_ms : n->since_ms;
	pthread_mutex_unlock(&n->state_lock);
	fresh = spn_clock_mono_ms() - last <= (int64_t)n->deadline_ms;
	json_object_object_add(p, "registered", json_object_new_boolean(registered && fresh));
	json_object_object_add(p, "last_heard", heard ? json_object_new_int64(heard) : NULL);
	json_object_object_add(o, "parent", p);
	return fresh;
}

static bool certificate_part(spn_node_t *n, json_object *o)
{
	const spn_node_me_t *me = spn_node_me(n);
	json_object *c = json_object_new_object();
	time_t end = me->not_after;

	spn_node_me_put(me);
	json_object_object_add(c, "not_after", json_object_new_int64(end));
	json_object_object_add(c, "expires_in", json_object_new_int64(end - spn_clock_now()));
	json_object_object_add(o, "certificate", c);
	return end - spn_clock_now() > EXPIRY_MARGIN_S;
}

static void crl_part(spn_node_t *n, json_object *o)
{
	json_object *c = json_object_new_object();
	time_t signed_at = spn_revoked_this_update(n->revoked);

	json_object_object_add(c, "number", json_object_new_int64((int64_t)spn_revoked_number(n->revoked)));
	json_object_object_add(c, "age", signed_at ? json_object_new_int64(spn_clock_now() - signed_at) : NULL);
	json_object_object_add(o, "crl", c);
}

static bool plugins_part(spn_node_t *n, json_object *o)
{
	json_object *a = json_object_new_array();
	bool ok = true;

	for (size_t i = 0; i < n->n_plugins; i++) {
		json_object *p = json_object_new_object();
		spn_plugin_stats_t st;
		spn_plugin_proc_stats(n->plugins[i], &st);
		json_object_object_add(p, "name", json_object_new_string(spn_plugin_proc_name(n->plugins[i])));
		json_object_object_add(p, "state", json_object_new_string(st.failed ? "failed" : "running"));
		json_object_object_add(p, "processes", json_object_new_int((int)st.processes));
		json_object_array_add(a, p);
		ok = ok && !st.failed;
	}
	json_object_object_add(o, "plugins", a);
	return ok;
}

json_object *spn_node_health_json(spn_node_t *n, bool *ok)
{
	json_object *o = json_object_new_object(), *why = json_object_new_array();

	json_object_object_add(o, "node", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "group", json_object_new_string(n->id.group));
	json_object_object_add(o, "role", json_object_new_string(spn_role_name(n->id.role)));
	if (n->n_parents && !parent_part(n, o))
		json_object_array_add(why, json_object_new_string("parent"));
	if (!certificate_part(n, o))
		json_object_array_add(why, json_object_new_string("certificate"));
	crl_part(n, o);
	if (!plugins_part(n, o))
		json_object_array_add(why, json_object_new_string("plugins"));
	*ok = json_object_array_length(why) == 0;
	json_object_object_add(o, "status", json_object_new_string(*ok ? "ok" : "degraded"));
	json_object_object_add(o, "degraded", why);
	return o;
}

void spn_node_health(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	bool ok;
	json_object *o = spn_node_health_json(user, &ok);

	(void)req;
	spn_http_json(resp, ok ? 200 : 503, o);
}
