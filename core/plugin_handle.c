/* A section handed to a plugin: one of its processes taken for it, the
 * section and its carried ones sent, the calls the plugin makes meanwhile
 * done for it, and its answers taken back. A process that crashes or does
 * not answer in time is replaced, and the section is answered with what
 * happened; the plugin's other processes are not held up by it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "frame.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "plugin_internal.h"

/* How long stopping a process that ran out of time may take. */
#define STOP_MARGIN_MS 1000

static json_object *part_head(const spn_plugin_part_t *part)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "author", json_object_new_string(part->author ? part->author : ""));
	json_object_object_add(o, "verified", json_object_new_boolean(part->verified));
	return o;
}

static int send_request(spn_plugin_worker_t *w, const spn_plugin_req_t *rq)
{
	json_object *h = part_head(&rq->main), *parts = json_object_new_array(), *att = json_object_new_array();
	size_t total = rq->main.len;
	uint8_t *data, *cur;
	int rc;

	for (size_t i = 0; i < rq->n_attached; i++)
		total += rq->attached[i].len;
	if (!(data = malloc(total ? total : 1))) {
		json_object_put(h);
		json_object_put(parts);
		json_object_put(att);
		return SPN_ENOMEM;
	}
	cur = data;
	memcpy(cur, rq->main.data, rq->main.len);
	cur += rq->main.len;
	json_object_array_add(parts, json_object_new_int64((int64_t)rq->main.len));
	for (size_t i = 0; i < rq->n_attached; i++) {
		memcpy(cur, rq->attached[i].data, rq->attached[i].len);
		cur += rq->attached[i].len;
		json_object_array_add(parts, json_object_new_int64((int64_t)rq->attached[i].len));
		json_object_array_add(att, part_head(&rq->attached[i]));
	}
	json_object_object_add(h, "op", json_object_new_string("handle"));
	json_object_object_add(h, "service", json_object_new_string(rq->service));
	json_object_object_add(h, "mid", json_object_new_string(rq->mid));
	json_object_object_add(h, "parts", parts);
	json_object_object_add(h, "attached", att);
	rc = spn_frame_send(w->fd, h, data, total);
	json_object_put(h);
	spn_free_secret(data, total ? total : 1);
	return rc;
}

/* A call the plugin makes while handling: done, and answered. */
static int do_call(spn_plugin_worker_t *w, json_object *head, const uint8_t *data, size_t len, spn_plugin_call_fn call,
		   void *user)
{
	json_object *h = json_object_new_object();
	uint8_t *ans = NULL;
	size_t alen = 0;
	int rc = call ? call(user, spn_json_str_or(head, "service", ""), data, len, &ans, &alen) : SPN_EUNSUPPORTED;

	if (!call) {
		ans = (uint8_t *)strdup("calls to other services are not available here");
		alen = ans ? strlen((char *)ans) : 0;
	}
	json_object_object_add(h, "op", json_object_new_string("call_reply"));
	json_object_object_add(h, "ok", json_object_new_boolean(rc == 0));
	rc = spn_frame_send(w->fd, h, ans, alen);
	json_object_put(h);
	if (ans)
		spn_free_secret(ans, alen);
	return rc;
}

void spn_plugin_answer_clear(spn_plugin_answer_t *a)
{
	if (a->reply.data)
		spn_free_secret(a->reply.data, a->reply.len);
	for (size_t i = 0; i < SPN_PLUGIN_ATTACHED_MAX; i++)
		if (a->attached[i].data)
			spn_free_secret(a->attached[i].data, a->attached[i].len);
	memset(a, 0, sizeof(*a));
}

static int copy_out(spn_plugin_out_t *o, const uint8_t *d, size_t l)
{
	if (!(o->data = malloc(l + 1)))
		return SPN_ENOMEM;
	memcpy(o->data, d, l);
	o->data[l] = 0;
	o->len = l;
	o->given = true;
	return 0;
}

int spn_plugin_answers_take(const char *name, json_object *head, const uint8_t *d, size_t l, size_t n_attached, bool ok,
			    spn_plugin_answer_t *out)
{
	json_object *given, *g;
	const uint8_t *part;
	size_t plen;

	if (spn_frame_part(head, d, l, 0, &part, &plen) != 0 ||
	    (n_attached &&
	     (!json_object_object_get_ex(head, "given", &given) || !json_object_is_type(given, json_type_array) ||
	      json_object_array_length(given) != n_attached)))
		return spn_err(SPN_EIO, "plugin %s: its answers do not add up", name);
	if (ok && copy_out(&out->reply, part, plen))
		return SPN_ENOMEM;
	for (size_t i = 0; i < n_attached; i++) {
		g = json_object_array_get_idx(given, i);
		if (spn_frame_part(head, d, l, i + 1, &part, &plen) != 0)
			return spn_err(SPN_EIO, "plugin %s: its answers do not add up", name);
		if (json_object_get_boolean(g) && copy_out(&out->attached[i], part, plen))
			return SPN_ENOMEM;
	}
	return 0;
}

static int converse(spn_plugin_proc_t *p, spn_plugin_worker_t *w, const spn_plugin_req_t *rq, spn_plugin_call_fn call,
		    void *user, spn_plugin_answer_t *out)
{
	int64_t deadline = spn_clock_mono_ms() + (int64_t)p->timeout_ms;
	/* The services it calls do not count against its time, within reason:
	 * a plugin that keeps calling is stopped all the same. */
	int64_t hard = spn_clock_mono_ms() + 10 * (int64_t)p->timeout_ms;
	json_object *head;
	uint8_t *d;
	size_t l;
	int rc;

	if ((rc = send_request(w, rq)))
		return rc == SPN_ETOOBIG
			   ? spn_err(SPN_EPLUGIN, "plugin %s: the section is too large to hand over", p->name)
			   : rc;
	for (;;) {
		int64_t left = deadline - spn_clock_mono_ms(), t0;
		const char *op;
		if (left <= 0)
			return SPN_ETIMEOUT;
		if ((rc = spn_frame_recv(w->fd, (int)left, &head, &d, &l)))
			return rc;
		op = spn_json_str_or(head, "op", "");
		if (strcmp(op, "reply") == 0 || strcmp(op, "fail") == 0) {
			bool ok = strcmp(op, "reply") == 0;
			rc = spn_plugin_answers_take(p->name, head, d, l, rq->n_attached, ok, out);
			if (rc == 0 && !ok)
				rc = spn_err(SPN_EPLUGIN, "plugin %s: %s", p->name,
					     spn_json_str_or(head, "message", "failed"));
		} else if (strcmp(op, "log") == 0) {
			spn_plugin_pool_log(p, head);
		} else if (strcmp(op, "call") == 0) {
			/* The time the other service takes is not the plugin's. */
			t0 = spn_clock_mono_ms();
			rc = do_call(w, head, d, l, call, user);
			deadline += spn_clock_mono_ms() - t0;
			if (deadline > hard)
				deadline = hard;
		} else {
			rc = spn_err(SPN_EIO, "plugin %s: an unexpected answer", p->name);
		}
		if (d)
			spn_free_secret(d, l + 1);
		json_object_put(head);
		if (rc || out->reply.given)
			return rc;
	}
}

static int handle(spn_plugin_proc_t *p, const spn_plugin_req_t *rq, spn_plugin_call_fn call, void *user,
		  spn_plugin_answer_t *out)
{
	spn_plugin_worker_t *w;
	char how[64] = "stopped answering";
	int rc;

	/* A section waits for a process no longer than one may take over it,
	 * and the moment it takes to stop one that took too long: a section
	 * that came just after a hung one is served by the process started
	 * in its place, not refused as that one ends. */
	if ((rc = spn_plugin_pool_take(p, (int64_t)p->timeout_ms + STOP_MARGIN_MS, &w)))
		return rc;
	rc = converse(p, w, rq, call, user, out);
	if (rc == SPN_ETIMEOUT || (rc && rc != SPN_EPLUGIN)) {
		bool hung = rc == SPN_ETIMEOUT;
		char why[256];
		spn_plugin_pool_end(p, w, hung, how, sizeof(how));
		spn_metrics_inc(&p->ended);
		if (hung)
			snprintf(why, sizeof(why),
				 "plugin %s did not answer within %lu ms and was stopped; the message was "
				 "not completed",
				 p->name, p->timeout_ms);
		else
			snprintf(why, sizeof(why), "plugin %s %s; the message was not completed", p->name, how);
		spn_log_error("%s", why);
		/* Its place is filled again, by a section waiting for it or
		 * here; what the section is told is what happened to it. */
		spn_plugin_pool_give_ended(p, w);
		return spn_err(SPN_EPLUGIN, "%s", why);
	}
	spn_plugin_pool_give(p, w);
	return rc;
}

int spn_plugin_proc_handle(spn_plugin_proc_t *p, const spn_plugin_req_t *rq, spn_plugin_call_fn call, void *user,
			   spn_plugin_answer_t *out)
{
	struct timespec t0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (rq->n_attached > SPN_PLUGIN_ATTACHED_MAX)
		return spn_err(SPN_ETOOBIG, "more than %d carried sections for one plugin", SPN_PLUGIN_ATTACHED_MAX);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	spn_metrics_inc(&p->calls);
	if ((rc = handle(p, rq, call, user, out)))
		spn_metrics_inc(&p->failures);
	spn_metrics_observe_since(&p->latency, &t0);
	return rc;
}

void spn_plugin_proc_stats(spn_plugin_proc_t *p, spn_plugin_stats_t *out)
{
	unsigned running = atomic_load(&p->alive);

	out->calls = spn_metrics_get(&p->calls);
	out->failures = spn_metrics_get(&p->failures);
	out->ended = spn_metrics_get(&p->ended);
	out->latency = &p->latency;
	out->processes = running;
	out->failed = !running && atomic_load(&p->start_failed);
}
