/* The calls a node's plugins make to other services while they handle a
 * section (doc/protocol.md §6.5): the node is then a client of that
 * service, with its own certificate (the provider sees the call's author
 * verified), through the client library whose transport is the node's own
 * fan-out. The sections the client wrote for services further on travel
 * with every call; a call to a service for which one of them is carried
 * goes to the node that section names. Replies to carried sections come
 * back up, for the client alone. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"
#include "error.h"
#include "json.h"
#include "jwe.h"
#include "log.h"
#include "mem.h"
#include "node_internal.h"

#define CALLERS 8

struct spn_node_callers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	spn_client_t *c[CALLERS];
	char serial[CALLERS][SPN_SERIAL_HEX]; /* of the certificate each was made with */
	bool busy[CALLERS];
};

static int post(void *user, const char *path, const char *body, size_t len, long *status, char **ans,
		size_t *ans_len)
{
	spn_node_t *n = user;
	spn_http_resp_t r = {0};

	if (strcmp(path, "/v1/session") == 0)
		spn_node_fanout_session(n, body, len, &r);
	else if (strcmp(path, "/v1/message") == 0)
		spn_node_fanout_message(n, body, len, &r);
	else
		return spn_err(SPN_EINVAL, "no %s here", path);
	*status = r.status;
	*ans = r.body;
	*ans_len = r.len;
	return r.body ? 0 : SPN_ENOMEM;
}

static int callers(spn_node_t *n, struct spn_node_callers **out)
{
	struct spn_node_callers *k;

	pthread_mutex_lock(&n->state_lock);
	if (!n->callers && (k = calloc(1, sizeof(*k)))) {
		pthread_mutex_init(&k->lock, NULL);
		pthread_cond_init(&k->cond, NULL);
		n->callers = k;
	}
	*out = n->callers;
	pthread_mutex_unlock(&n->state_lock);
	return *out ? 0 : SPN_ENOMEM;
}

/* A client of the pool, made again when the node's certificate was
 * renewed since. Its sessions are not kept from one call to the next: a
 * provider answers a message id it saw in a session from its record, and
 * a session shared by the calls made for different clients would hand one
 * client's answer to another that reused its message id. */
static int take(spn_node_t *n, struct spn_node_callers *k, size_t *slot)
{
	size_t i;
	int rc = 0;

	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&k->lock);
	for (;;) {
		for (i = 0; i < CALLERS && k->busy[i]; i++)
			;
		if (i < CALLERS)
			break;
		if (pthread_cond_timedwait(&k->cond, &k->lock, &until) != 0) {
			pthread_mutex_unlock(&k->lock);
			return spn_err(SPN_EBUSY, "%s: all %d of its clients for calls are busy", n->id.node_id, CALLERS);
		}
	}
	k->busy[i] = true;
	pthread_mutex_unlock(&k->lock);
	const spn_node_me_t *me = spn_node_me(n);
	if (k->c[i] && strcmp(k->serial[i], me->serial) != 0) {
		spn_client_free(k->c[i]);
		k->c[i] = NULL;
	}
	if (!k->c[i]) {
		strcpy(k->serial[i], me->serial);
		rc = spn_client_new_local(n->id.node_id, n->root, n->key, me->pem, n->revoked, post, n, &k->c[i]);
	}
	spn_node_me_put(me);
	*slot = i;
	return rc;
}

static void give(struct spn_node_callers *k, size_t i)
{
	pthread_mutex_lock(&k->lock);
	k->busy[i] = false;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

/* The node a carried section for service names, if one is carried. */
static bool carried_for(json_object *carry, const char *service, char *node, size_t cap)
{
	for (size_t i = 0; carry && i < json_object_array_length(carry); i++) {
		json_object *s = json_object_array_get_idx(carry, i);
		spn_jwe_header_t h;
		if (spn_jwe_peek(json_object_get_string(s), (size_t)json_object_get_string_len(s), &h) == 0 &&
		    strcmp(h.svc, service) == 0) {
			snprintf(node, cap, "%s", h.to);
			return true;
		}
	}
	return false;
}

static int refuse(int rc, uint8_t **reply, size_t *len, const char *why)
{
	*reply = (uint8_t *)strdup(why);
	*len = *reply ? strlen(why) : 0;
	return rc;
}

int spn_node_call(void *user, const char *service, const uint8_t *data, size_t len, uint8_t **reply,
		  size_t *reply_len)
{
	spn_node_call_ctx_t *ctx = user;
	spn_node_t *n = ctx->n;
	struct spn_node_callers *k;
	spn_client_part_t part = {service, data, len, false};
	spn_client_reply_t r;
	spn_client_session_t *s;
	json_object *back = NULL;
	char node[SPN_NAME_MAX + 1];
	size_t slot = 0;
	int rc;

	*reply = NULL;
	*reply_len = 0;
	if (!spn_service_name_is_valid(service))
		return refuse(SPN_EINVAL, reply, reply_len, "not a service name");
	/* The plugin handling this section waits for the answer: it cannot
	 * also be the one to give it. */
	if (spn_node_plugin_for(n, service) && spn_node_plugin_for(n, service) == spn_node_plugin_for(n, ctx->service))
		return refuse(SPN_EDENIED, reply, reply_len, "a plugin cannot call a service it provides itself");
	if ((rc = callers(n, &k)))
		return refuse(rc, reply, reply_len, spn_err_detail(rc));
	if ((rc = take(n, k, &slot))) {
		if (rc != SPN_EBUSY)
			give(k, slot);
		return refuse(rc, reply, reply_len, spn_err_detail(rc));
	}
	/* Where the client carries a section for this service, the call goes
	 * to the node it names: the one that can read it. */
	if (carried_for(ctx->carry, service, node, sizeof(node)) && (s = spn_client_session(k->c[slot], service))) {
		if (s->open && strcmp(s->provider, node) != 0)
			spn_client_session_drop(s);
		if (!s->open)
			snprintf(s->prefer, sizeof(s->prefer), "%s", node);
	}
	rc = spn_client_send_ex(k->c[slot], ctx->mid, &part, 1, &r, ctx->carry, &back);
	spn_client_forget(k->c[slot]);
	give(k, slot);
	for (size_t i = 0; back && i < json_object_array_length(back); i++)
		json_object_array_add(ctx->client_replies, json_object_get(json_object_array_get_idx(back, i)));
	json_object_put(back);
	if (rc)
		return refuse(rc, reply, reply_len, spn_err_detail(rc));
	if (r.error) {
		spn_log_info("call %s/%s from %s: %s", service, ctx->mid, n->id.node_id, r.message);
		spn_client_reply_clear(&r);
		return refuse(r.error, reply, reply_len, r.message);
	}
	spn_log_info("call %s/%s from %s: answered by %s", service, ctx->mid, n->id.node_id, r.provider);
	*reply = r.data;
	*reply_len = r.len;
	return 0;
}

void spn_node_callers_free(spn_node_t *n)
{
	struct spn_node_callers *k = n->callers;

	if (!k)
		return;
	for (size_t i = 0; i < CALLERS; i++)
		spn_client_free(k->c[i]);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->cond);
	free(k);
	n->callers = NULL;
}
