/* The node's worker thread: registers with the parent and keeps it current
 * (deltas, heartbeats), drops children that stop, passes CRLs down, and on
 * the PSP notices revocations made with spnctl. One thread, so that the
 * parent sees one ordered stream of deltas. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "file.h"
#include "json.h"
#include "log.h"
#include "node_internal.h"
#include "revoked.h"
#include "sstore.h"

void spn_node_poke(spn_node_t *n)
{
	pthread_mutex_lock(&n->state_lock);
	n->dirty = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->state_lock);
}

const char *spn_node_parent_url(spn_node_t *n)
{
	return n->n_parents ? n->parents[atomic_load(&n->parent_at) % n->n_parents] : "";
}

static int call_parent(spn_node_t *n, spn_http_client_t *c, const char *path, const char *body, size_t len,
		       long *status, char **out, size_t *out_len)
{
	char url[SPN_URL_MAX + 64];
	unsigned at = atomic_load(&n->parent_at);
	int rc = 0;

	if (!n->n_parents)
		return spn_err(SPN_ENOTFOUND, "this node is the root and has no parent");
	/* Each address once, from the one that answered last: one that does
	 * not answer, or answers 503 (a PSP on standby), gives way. */
	for (unsigned i = 0; i < n->n_parents; i++) {
		unsigned k = (at + i) % n->n_parents;
		bool last = i + 1 == n->n_parents;
		*status = 0;
		*out = NULL;
		if (out_len)
			*out_len = 0;
		snprintf(url, sizeof(url), "%s%s", n->parents[k], path);
		rc = spn_http_client_call_node(c, url, n->id.parent, body, len, status, out, out_len);
		if (*status != 0 && *status != 503) {
			atomic_store(&n->parent_down[k], false);
			if (k != at) {
				atomic_store(&n->parent_at, k);
				spn_log_info("the parent answers at %s now", n->parents[k]);
			}
			break;
		}
		if (last)
			break;
		/* Once per address until it answers again: heartbeats would
		 * repeat it several times a second. */
		if (!atomic_exchange(&n->parent_down[k], true))
			spn_log_warn("the parent at %s %s; trying %s", n->parents[k],
				     *status ? "is on standby (503)" : "cannot be reached",
				     n->parents[(k + 1) % n->n_parents]);
		free(*out);
		*out = NULL;
	}
	return rc;
}

int spn_node_call_parent(spn_node_t *n, const char *path, const char *body, size_t len, long *status, char **out,
			 size_t *out_len)
{
	return call_parent(n, n->client, path, body, len, status, out, out_len);
}

int spn_node_call_parent_quick(spn_node_t *n, const char *path, const char *body, size_t len, long *status,
			       char **out, size_t *out_len)
{
	return call_parent(n, n->ctl, path, body, len, status, out, out_len);
}

bool spn_node_is_revoked(const char *serial, void *user)
{
	return spn_revoked_has(user, serial);
}

int spn_node_take_crl(spn_node_t *n, const char *pem, size_t len)
{
	int rc = spn_revoked_update(n->revoked, pem, len);
	size_t dropped, closed;

	if (rc <= 0)
		return rc;
	dropped = spn_tree_drop_revoked(n->tree, spn_node_is_revoked, n->revoked);
	/* A revoked client's sessions end now, not when their time is up. */
	closed = spn_sstore_close_revoked(n->sessions, spn_node_is_revoked, n->revoked);
	spn_log_info("CRL %llu: %zu session(s) of revoked certificates closed",
		     (unsigned long long)spn_revoked_number(n->revoked), closed);
	pthread_mutex_lock(&n->state_lock);
	n->crl_to_push = true;
	n->dirty = n->dirty || dropped;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->state_lock);
	return 1;
}

/* Says what went wrong with the parent once, not on every heartbeat. */
static void parent_trouble(char *last, size_t cap, const char *what, const char *detail)
{
	char now[256];

	snprintf(now, sizeof(now), "%s: %s", what, detail);
	if (strcmp(now, last) != 0)
		spn_log_warn("%s", now);
	snprintf(last, cap, "%s", now);
}

static void fetch_crl(spn_node_t *n)
{
	char *pem = NULL;
	size_t len = 0;
	long status = 0;
	int rc = call_parent(n, n->ctl, "/v1/crl", NULL, 0, &status, &pem, &len);

	if (rc == 0 && status == 200 && (rc = spn_node_take_crl(n, pem, len)) < 0)
		spn_log_warn("the parent's CRL was refused: %s", spn_err_detail(rc));
	free(pem);
}

/* Returns the parent's status (0: not reached). */
static long sync_up(spn_node_t *n, char *last, size_t cap)
{
	json_object *msg, *reply = NULL, *v;
	uint64_t acked, version;
	const char *text;
	char *body = NULL;
	size_t len, blen = 0;
	long status = 0;
	int rc;

	pthread_mutex_lock(&n->state_lock);
	acked = n->acked;
	pthread_mutex_unlock(&n->state_lock);
	if (!(msg = spn_tree_sync_message(n->tree, acked, n->url)))
		return 0;
	json_object_object_get_ex(msg, "version", &v);
	version = (uint64_t)json_object_get_int64(v);
	text = spn_json_text(msg, &len);
	rc = call_parent(n, n->ctl, "/v1/tree/sync", text, len, &status, &body, &blen);
	json_object_put(msg);
	if (rc) {
		spn_metrics_inc(&n->metrics.heartbeats_missed);
		parent_trouble(last, cap, "the parent cannot be reached", spn_err_detail(rc));
		return 0;
	}
	if (status == 409) {
		/* The parent lost track (it restarted, or a delta went missing). */
		pthread_mutex_lock(&n->state_lock);
		n->acked = 0;
		n->dirty = true;
		pthread_mutex_unlock(&n->state_lock);
	} else if (status != 200 || spn_json_parse(body, blen, &reply) != 0) {
		spn_metrics_inc(&n->metrics.heartbeats_missed);
		parent_trouble(last, cap, "the parent refused this node's registration", body ? body : "");
		/* Refused, perhaps because this node was revoked: the CRL that says
		 * so must still reach the nodes below, so that they refuse it too. */
		fetch_crl(n);
	} else {
		int64_t crl_number = 0, threshold = 0;
		json_object *o;
		if (json_object_object_get_ex(reply, "crl_number", &o))
			crl_number = json_object_get_int64(o);
		if (json_object_object_get_ex(reply, "admin_threshold", &o))
			threshold = json_object_get_int64(o);
		if (json_object_object_get_ex(reply, "lineage", &o) && json_object_is_type(o, json_type_array)) {
			const char *ids[64];
			size_t k = 0;
			for (size_t i = 0; i < json_object_array_length(o) && k < 64; i++)
				if (json_object_is_type(json_object_array_get_idx(o, i), json_type_string))
					ids[k++] = json_object_get_string(json_object_array_get_idx(o, i));
			spn_tree_set_ancestors(n->tree, ids, k);
		}
		pthread_mutex_lock(&n->state_lock);
		n->acked = version;
		if (threshold > 0 && threshold <= SPN_TRUST_MAX)
			n->admin_threshold = (unsigned)threshold;
		if (!n->registered)
			spn_log_info("registered with the parent at %s (registry version %llu)", spn_node_parent_url(n),
				     (unsigned long long)version);
		n->registered = true;
		n->heard_at = spn_clock_now();
		n->heard_ms = spn_clock_mono_ms();
		pthread_mutex_unlock(&n->state_lock);
		last[0] = '\0';
		if ((uint64_t)crl_number > spn_revoked_number(n->revoked))
			fetch_crl(n);
	}
	json_object_put(reply);
	free(body);
	return status;
}

static void push_crl(spn_node_t *n)
{
	spn_tree_hop_t *kids = NULL;
	size_t nk = 0, len = 0;
	char *pem = spn_revoked_pem(n->revoked, &len);

	if (pem && spn_tree_children(n->tree, &kids, &nk) == 0) {
		for (size_t i = 0; i < nk; i++) {
			char url[SPN_URL_MAX + 16], *ans = NULL;
			long status = 0;
			int rc;
			snprintf(url, sizeof(url), "%s/v1/crl", kids[i].url);
			rc = spn_http_client_call_pinned(n->ctl, url, n->tls ? kids[i].pin : NULL, pem, len, &status, &ans,
							 NULL);
			if (rc || status != 200)
				spn_log_warn("CRL not delivered to %s (%s; it fetches it with its next heartbeat)",
					     kids[i].target, rc ? spn_err_detail(rc) : ans ? ans : "");
			free(ans);
		}
	}
	free(kids);
	free(pem);
}

int spn_node_load_crl(spn_node_t *n, bool resign)
{
	char *path = NULL, *pem = NULL;
	size_t len = 0;
	int rc;

	if ((rc = spn_conf_path(n->conf, "ca", "crl", NULL, &path)))
		return rc;
	/* The CRL on disk is the one to serve, unless it is missing, unreadable
	 * or half-way to its next update: then the CA signs a fresh one. */
	if (!resign && spn_file_read(path, 16 * 1024 * 1024, &pem, &len) == 0 &&
	    spn_node_take_crl(n, pem, len) >= 0 && spn_revoked_number(n->revoked) > 0)
		resign = spn_revoked_next_update(n->revoked) - spn_clock_now() <
			 (time_t)spn_ca_policy(n->ca)->crl_validity / 2;
	else
		resign = true;
	free(pem);
	pem = NULL;
	if (resign) {
		pthread_mutex_lock(&n->ca_lock);
		rc = spn_ca_crl_update(n->ca, &pem);
		pthread_mutex_unlock(&n->ca_lock);
		if (rc == 0 && (rc = spn_node_take_crl(n, pem, strlen(pem))) > 0)
			rc = 0;
		if (rc == 0)
			spn_log_info("CRL signed again (number %llu)", (unsigned long long)spn_revoked_number(n->revoked));
	}
	free(pem);
	free(path);
	return rc < 0 ? rc : 0;
}

/* The PSP's CRL file changes when spnctl revokes, holds or releases; and it
 * must be signed again before its next update comes. */
static void watch_crl_file(spn_node_t *n, struct timespec *seen)
{
	char *path = NULL;
	struct stat st;
	bool stale;

	if (spn_conf_path(n->conf, "ca", "crl", NULL, &path) != 0)
		return;
	pthread_mutex_lock(&n->ca_lock);
	stale = spn_ca_crl_stale(n->ca);
	pthread_mutex_unlock(&n->ca_lock);
	if (stale) {
		spn_node_load_crl(n, true);
	} else if (stat(path, &st) == 0 &&
	    (st.st_mtim.tv_sec != seen->tv_sec || st.st_mtim.tv_nsec != seen->tv_nsec)) {
		*seen = st.st_mtim;
		spn_node_load_crl(n, false);
	} else if (spn_revoked_next_update(n->revoked) - spn_clock_now() <
		   (time_t)spn_ca_policy(n->ca)->crl_validity / 2) {
		spn_node_load_crl(n, true);
	}
	free(path);
}

static void *worker(void *arg)
{
	spn_node_t *n = arg;
	char last[256] = "";
	struct timespec crl_seen = {0, 0};
	int64_t last_sent = 0, quiet_until = 0, backoff = 0;
	unsigned long tick = n->heartbeat_ms < 200 ? n->heartbeat_ms : 200;

	pthread_mutex_lock(&n->state_lock);
	while (!n->stopping) {
		bool dirty = n->dirty, push = n->crl_to_push;
		n->dirty = false;
		n->crl_to_push = false;
		pthread_mutex_unlock(&n->state_lock);

		if (spn_tree_reap(n->tree, spn_clock_mono_ms(), (int64_t)n->deadline_ms))
			dirty = true;
		spn_node_lease_tick(n);
		/* A PSP on standby signs nothing: the active one does. */
		if (n->ca && !spn_node_standby(n))
			watch_crl_file(n, &crl_seen);
		spn_node_renew_if_due(n);
		if (push)
			push_crl(n);
		if (n->n_parents && spn_clock_mono_ms() >= quiet_until &&
		    (dirty || spn_tree_version(n->tree) != n->acked || spn_clock_mono_ms() - last_sent >= (int64_t)n->heartbeat_ms)) {
			long status;
			last_sent = spn_clock_mono_ms();
			status = sync_up(n, last, sizeof(last));
			/* A parent that refuses is asked again less and less often. */
			if (status == 403) {
				backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : (int64_t)n->heartbeat_ms;
				quiet_until = spn_clock_mono_ms() + backoff;
			} else {
				backoff = 0;
			}
		}

		pthread_mutex_lock(&n->state_lock);
		if (!n->dirty && !n->crl_to_push && !n->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(tick % 1000) * 1000000;
			ts.tv_sec += (time_t)(tick / 1000) + ts.tv_nsec / 1000000000;
			ts.tv_nsec %= 1000000000;
			pthread_cond_timedwait(&n->wake, &n->state_lock, &ts);
		}
	}
	pthread_mutex_unlock(&n->state_lock);
	return NULL;
}

int spn_node_worker_start(spn_node_t *n)
{
	int err = pthread_create(&n->worker, NULL, worker, n);

	if (err)
		return spn_err(SPN_ENOMEM, "cannot start the worker thread: %s", strerror(err));
	n->worker_started = true;
	return 0;
}

void spn_node_worker_stop(spn_node_t *n)
{
	if (!n->worker_started)
		return;
	pthread_mutex_lock(&n->state_lock);
	n->stopping = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->state_lock);
	pthread_join(n->worker, NULL);
	n->worker_started = false;
	if (n->n_parents && n->registered) {
		char *ans = NULL;
		long status = 0;
		if (call_parent(n, n->ctl, "/v1/tree/leave", "{}", 2, &status, &ans, NULL) == 0 && status == 200)
			spn_log_info("left the parent at %s", spn_node_parent_url(n));
		free(ans);
	}
}
