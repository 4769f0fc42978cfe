/* A node's metrics in the Prometheus text format: its own counters, the
 * HTTP server's answers, the plugins', the session store's figures and
 * the state of its certificate, CRL and place in the tree
 * (doc/operator-guide.md, "Watching a group"). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "node_internal.h"
#include "plugin.h"
#include "revoked.h"
#include "sstore.h"

#define OUTCOMES (-SPN_ELAST)

int spn_node_metrics_init(spn_node_t *n)
{
	spn_node_metrics_t *m = &n->metrics;

	m->n_services = n->id.n_services;
	if (!(m->sections = calloc((m->n_services + 1) * OUTCOMES, sizeof(*m->sections))))
		return SPN_ENOMEM;
	return 0;
}

void spn_node_metrics_free(spn_node_t *n)
{
	free(n->metrics.sections);
	n->metrics.sections = NULL;
}

void spn_node_metrics_routed(spn_node_t *n, spn_node_routed_t how)
{
	spn_metrics_inc(&n->metrics.routed[how]);
}

void spn_node_metrics_section(spn_node_t *n, const char *service, int rc)
{
	spn_node_metrics_t *m = &n->metrics;
	size_t i = 0;

	while (service && i < m->n_services && strcmp(n->id.services[i], service) != 0)
		i++;
	if (!service)
		i = m->n_services;
	if (rc > 0 || rc <= SPN_ELAST)
		rc = SPN_EIO;
	spn_metrics_inc(&m->sections[i * OUTCOMES + (size_t)-rc]);
}

/* A family with one sample and no labels. */
static void single(spn_metrics_out_t *o, const char *name, const char *type, const char *help, double v)
{
	spn_metrics_family(o, name, type, help);
	spn_metrics_sample(o, name, v, NULL);
}

static void answered(const spn_http_route_t *rt, unsigned status, uint64_t count, void *user)
{
	char st[8];

	snprintf(st, sizeof(st), "%u", status);
	spn_metrics_sample(user, "spn_http_requests_total", (double)count, "method", rt ? rt->method : "other",
			   "endpoint", rt ? rt->path : "other", "status", st, NULL);
}

static void routing(spn_node_t *n, spn_metrics_out_t *o)
{
	static const char *const how[SPN_ROUTED_N] = {"here", "down", "up"};
	spn_node_metrics_t *m = &n->metrics;

	spn_metrics_family(o, "spn_routed_total", "counter",
			   "Requests routed by this node: handled here, sent down toward a provider, or up to the parent.");
	for (size_t i = 0; i < SPN_ROUTED_N; i++)
		spn_metrics_sample(o, "spn_routed_total", (double)spn_metrics_get(&m->routed[i]), "decision", how[i],
				   NULL);
	single(o, "spn_reroutes_total", "counter",
	       "Requests sent to another provider after the one chosen below could not be had.",
	       (double)spn_metrics_get(&m->reroutes));
}

static void sections(spn_node_t *n, spn_metrics_out_t *o)
{
	spn_node_metrics_t *m = &n->metrics;

	spn_metrics_family(o, "spn_sections_total", "counter",
			   "Sections acted on or refused at this provider, by service and outcome (ok or the error's "
			   "name).");
	for (size_t i = 0; i <= m->n_services; i++)
		for (size_t k = 0; k < OUTCOMES; k++) {
			uint64_t v = spn_metrics_get(&m->sections[i * OUTCOMES + k]);
			/* ok is always there, so that a rate has a start. */
			if (v || (k == 0 && i < m->n_services))
				spn_metrics_sample(o, "spn_sections_total", (double)v, "service",
						   i < m->n_services ? n->id.services[i] : "other", "outcome",
						   spn_errname(-(int)k), NULL);
		}
}

static void sessions(spn_node_t *n, spn_metrics_out_t *o)
{
	spn_sstore_stats_t st;

	if (!n->sessions)
		return;
	spn_sstore_stats(n->sessions, &st);
	single(o, "spn_sessions_open", "gauge", "Sessions open at this provider.", (double)st.sessions);
	single(o, "spn_sessions_anonymous", "gauge", "Open sessions of clients without a certificate.",
	       (double)st.anonymous);
	single(o, "spn_sessions_owners", "gauge", "Certificates and addresses holding open sessions.", (double)st.owners);
	single(o, "spn_sessions_in_flight", "gauge", "Sections being acted on.", (double)st.inflight);
	single(o, "spn_sessions_answer_bytes", "gauge", "Bytes of answers kept for retries.", (double)st.answer_bytes);
	single(o, "spn_sessions_opened_total", "counter", "Sessions opened.", (double)st.opened);
	single(o, "spn_sessions_expired_total", "counter", "Sessions dropped at their expiry.", (double)st.expired);
	single(o, "spn_sessions_evicted_total", "counter", "Idle sessions dropped to make room for new ones.",
	       (double)st.evicted);
	single(o, "spn_sessions_answers_evicted_total", "counter", "Kept answers dropped to make room.",
	       (double)st.answers_evicted);
}

static void plugins(spn_node_t *n, spn_metrics_out_t *o)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{"spn_plugin_calls_total", "counter", "Sections handed to the plugin."},
		{"spn_plugin_failures_total", "counter",
		 "Sections the plugin gave no answer for (no process free, a crash, a hang, an error)."},
		{"spn_plugin_restarts_total", "counter", "Processes of the plugin that crashed, hung or ended, each replaced."},
		{"spn_plugin_processes", "gauge", "Processes of the plugin running now."},
		{"spn_plugin_up", "gauge", "1 while the plugin runs or can start a process, 0 when none would start."},
	};
	spn_plugin_stats_t *st;

	if (!n->n_plugins || !(st = calloc(n->n_plugins, sizeof(*st))))
		return;
	for (size_t i = 0; i < n->n_plugins; i++)
		spn_plugin_proc_stats(n->plugins[i], &st[i]);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		spn_metrics_family(o, fam[f].name, fam[f].type, fam[f].help);
		for (size_t i = 0; i < n->n_plugins; i++) {
			double v[] = {(double)st[i].calls, (double)st[i].failures, (double)st[i].ended,
				      (double)st[i].processes, st[i].failed ? 0 : 1};
			spn_metrics_sample(o, fam[f].name, v[f], "plugin", spn_plugin_proc_name(n->plugins[i]), NULL);
		}
	}
	spn_metrics_family(o, "spn_plugin_call_duration_seconds", "histogram",
			   "How long sections took at the plugin, waiting for a process included.");
	for (size_t i = 0; i < n->n_plugins; i++)
		spn_metrics_hist(o, "spn_plugin_call_duration_seconds", st[i].latency, "plugin",
				 spn_plugin_proc_name(n->plugins[i]), NULL);
	free(st);
}

static void state(spn_node_t *n, spn_metrics_out_t *o)
{
	const spn_node_me_t *me = spn_node_me(n);
	time_t signed_at = spn_revoked_this_update(n->revoked);
	bool registered;
	time_t heard;

	spn_metrics_family(o, "spn_node_info", "gauge", "This node: its id, group and role.");
	spn_metrics_sample(o, "spn_node_info", 1, "node", n->id.node_id, "group", n->id.group, "role",
			   spn_role_name(n->id.role), NULL);
	single(o, "spn_certificate_expiry_timestamp_seconds", "gauge",
	       "When this node's certificate expires (unix time).", (double)me->not_after);
	spn_node_me_put(me);
	single(o, "spn_registry_nodes", "gauge", "Nodes in this node's registry: itself and its subtree.",
	       (double)spn_tree_size(n->tree));
	single(o, "spn_crl_number", "gauge", "The number of the newest CRL this node holds (0: none).",
	       (double)spn_revoked_number(n->revoked));
	if (signed_at)
		single(o, "spn_crl_age_seconds", "gauge", "Seconds since the CRL this node holds was signed.",
		       (double)(spn_clock_now() - signed_at));
	if (!n->n_parents)
		return;
	pthread_mutex_lock(&n->state_lock);
	registered = n->registered;
	heard = n->heard_at;
	pthread_mutex_unlock(&n->state_lock);
	single(o, "spn_parent_registered", "gauge", "1 once the parent has taken this node's registration.",
	       registered ? 1 : 0);
	if (heard)
		single(o, "spn_parent_last_heard_timestamp_seconds", "gauge",
		       "When the parent last took a heartbeat (unix time).", (double)heard);
	single(o, "spn_heartbeats_missed_total", "counter", "Heartbeats the parent did not take.",
	       (double)spn_metrics_get(&n->metrics.heartbeats_missed));
}

static void exposition(spn_node_t *n, spn_http_resp_t *resp)
{
	spn_metrics_out_t o = {0};

	spn_metrics_family(&o, "spn_http_requests_total", "counter",
			   "Requests answered on the HTTPS port, by method, endpoint (other: none matched) and status.");
	spn_http_answers(n->http, answered, &o);
	routing(n, &o);
	sections(n, &o);
	sessions(n, &o);
	plugins(n, &o);
	state(n, &o);
	if (n->ca) {
		single(&o, "spn_ca_issued_total", "counter", "Certificates issued by enrollment.",
		       (double)spn_metrics_get(&n->metrics.issued));
		spn_metrics_family(&o, "spn_ca_issue_duration_seconds", "histogram",
				   "How long an enrollment took to be issued and recorded.");
		spn_metrics_hist(&o, "spn_ca_issue_duration_seconds", &n->metrics.issue_latency, NULL);
	}
	if (o.failed) {
		free(o.text);
		spn_http_error(resp, SPN_ENOMEM, NULL);
		return;
	}
	resp->status = 200;
	resp->body = o.text;
	resp->len = o.len;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* How busy a provider is, and which services it acts for, is for the
 * group's members. */
void spn_node_metrics_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_node_t *n = user;
	spn_http_peer_t peer;

	if (spn_node_peer(n, req, resp, SPN_ROLES_MEMBERS, &peer))
		return;
	exposition(n, resp);
}

/* The local listener: whoever can reach its address may read. */
static void local_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	(void)req;
	exposition(user, resp);
}

static const spn_http_route_t local_routes[] = {
	{"GET", "/metrics", local_get, 0, false, false},
	{"GET", "/view", spn_node_view_local, 0, false, false},
	{"GET", "/view.js", spn_node_view_local, 0, false, false},
	{"GET", "/view.css", spn_node_view_local, 0, false, false},
	{"GET", "/v1/view", spn_node_view_local, 0, true, false},
};

/* "127.0.0.1:9464", "[::1]:9464". */
static int parse_listen(const char *file, const char *s, char *addr, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *a = s, *end = colon;
	char *rest;
	unsigned long p;

	if (colon && s[0] == '[' && colon > s && colon[-1] == ']') {
		a = s + 1;
		end = colon - 1;
	}
	if (!colon || end == a || (size_t)(end - a) >= cap || !colon[1])
		return spn_err(SPN_ECONFIG, "%s: [metrics] listen: an address and a port (127.0.0.1:9464, [::1]:9464)",
			       file);
	p = strtoul(colon + 1, &rest, 10);
	if (*rest || p > 65535)
		return spn_err(SPN_ECONFIG, "%s: [metrics] listen: the port is 0-65535", file);
	memcpy(addr, a, (size_t)(end - a));
	addr[end - a] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int spn_node_metrics_listen(spn_node_t *n)
{
	const char *listen = spn_conf_get(n->conf, "metrics", "listen");
	spn_http_config_t cfg = {0};
	char addr[64];
	int rc;

	if (!listen)
		return 0;
	if ((rc = parse_listen(spn_conf_file(n->conf), listen, addr, sizeof(addr), &cfg.port)))
		return rc;
	cfg.address = addr;
	cfg.threads = 1;
	cfg.workers = 1;
	cfg.routes = local_routes;
	cfg.n_routes = sizeof(local_routes) / sizeof(local_routes[0]);
	cfg.user = n;
	if ((rc = spn_http_start(&cfg, &n->metrics.listener)))
		return spn_err(rc, "[metrics] listen %s: %s", listen, spn_err_detail(rc));
	spn_log_info("metrics on http://%s%s%s:%u/metrics", strchr(addr, ':') ? "[" : "", addr,
		     strchr(addr, ':') ? "]" : "", (unsigned)spn_http_port(n->metrics.listener));
	return spn_node_port_file(n, "metrics", spn_http_port(n->metrics.listener));
}

void spn_node_metrics_stop(spn_node_t *n)
{
	spn_http_stop(n->metrics.listener);
	n->metrics.listener = NULL;
}
