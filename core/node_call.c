/* The calls a node's plugins make to other services while they handle a
 * section (doc/protocol.md §6.5): the node is then a client of that
 * service, with its own certificate (the provider sees the call's author
 * verified), through the client library whose transport is the node's own
 * fan-out. The sections the client wrote for services further on travel
 * with every call; a call to a service for which one of them is carried
 * goes to the node that section names. Replies to carried sections come
 * back up, for the client alone. Each call carries the chain of calls it
 * is part of, so that services calling each other in a circle, on one
 * node or across several, are refused rather than left waiting; and calls
 * to a provider share one session while it serves, instead of a key
 * exchange each. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "client_internal.h"
#include "clock.h"
#include "carry.h"
#include "error.h"
#include "json.h"
#include "jwe.h"
#include "log.h"
#include "mem.h"
#include "node_internal.h"

#define KEPT_MAX 32		     /* sessions kept: one per service and provider called */
#define KEPT_USES 512		     /* messages one carries before a new one is opened */
#define KEPT_AGE_MS (10 * 60 * 1000) /* and how long it is used */
/* Calls in one session at once: sequence numbers taken together arrive
 * within the provider's replay window (64) of each other. */
#define KEPT_IN_FLIGHT 32

/* A session with a provider that calls reuse while it is valid, instead of
 * a key exchange each. A provider answers a message id it saw in a session
 * from its record: a session shared by the calls made for different
 * clients would hand one client's answer to another that reused its
 * message id. So a kept session carries each message id once; a call for
 * a message it carried already goes in a new session, where the provider
 * refuses a message it acted on (protocol.md §6.3), as it would have. */
typedef struct {
	bool used;
	spn_client_session_t s; /* open; s.seq the next sequence number to give */
	char serial[SPN_SERIAL_HEX]; /* of the node's certificate it was opened with */
	int64_t born_ms;
	unsigned in_flight;
	size_t n_mids;
	uint64_t mids[KEPT_USES]; /* hashes of the message ids it carried */
} kept_t;

struct spn_node_callers {
	pthread_mutex_t lock;
	kept_t kept[KEPT_MAX];
};

static int post(void *user, const char *path, const char *body, size_t len, long *status, char **ans, size_t *ans_len)
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
		n->callers = k;
	}
	*out = n->callers;
	pthread_mutex_unlock(&n->state_lock);
	return *out ? 0 : SPN_ENOMEM;
}

/* FNV-1a: two ids that hash alike only cost a new session. */
static uint64_t mid_hash(const char *mid)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *mid; mid++)
		h = (h ^ (uint8_t)*mid) * 0x100000001b3ULL;
	return h;
}

static bool carried(const kept_t *e, uint64_t h)
{
	for (size_t i = 0; i < e->n_mids; i++)
		if (e->mids[i] == h)
			return true;
	return false;
}

static void forget(kept_t *e)
{
	spn_wipe(e, sizeof(*e));
}

/* Fills s with a kept session for service (with node, when one is named)
 * that may carry message mid, and takes a sequence number in it; false
 * when there is none. Those too old, too used or opened under a
 * certificate the node no longer has are forgotten on the way. */
static bool take_kept(struct spn_node_callers *k, spn_node_t *n, const char *service, const char *node, const char *mid,
		      spn_client_session_t *s)
{
	uint64_t h = mid_hash(mid);
	int64_t now = spn_clock_mono_ms();
	const spn_node_me_t *me = spn_node_me(n);
	bool found = false;

	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < KEPT_MAX && !found; i++) {
		kept_t *e = &k->kept[i];
		if (!e->used || strcmp(e->s.service, service) != 0 || (node[0] && strcmp(e->s.provider, node) != 0))
			continue;
		if (strcmp(e->serial, me->serial) != 0 || now - e->born_ms >= KEPT_AGE_MS || e->n_mids == KEPT_USES) {
			forget(e);
			continue;
		}
		if (e->in_flight >= KEPT_IN_FLIGHT || carried(e, h))
			continue;
		*s = e->s;
		e->s.seq++;
		e->mids[e->n_mids++] = h;
		e->in_flight++;
		found = true;
	}
	pthread_mutex_unlock(&k->lock);
	spn_node_me_put(me);
	return found;
}

static kept_t *kept_by_id(struct spn_node_callers *k, const char *id)
{
	for (size_t i = 0; id[0] && i < KEPT_MAX; i++)
		if (k->kept[i].used && strcmp(k->kept[i].s.id, id) == 0)
			return &k->kept[i];
	return NULL;
}

/* After a call in session s (taken: the kept one it started in, or ""):
 * a session the provider answered in is kept, or stays kept; one it did
 * not (gone, refused, replaced by a new one) is forgotten. */
static void keep_after(struct spn_node_callers *k, spn_node_t *n, const char *taken, const char *mid,
		       const spn_client_session_t *s, bool answered)
{
	const spn_node_me_t *me = spn_node_me(n);
	kept_t *mine, *slot = NULL;

	pthread_mutex_lock(&k->lock);
	if ((mine = kept_by_id(k, taken)))
		mine->in_flight--;
	if (mine && (!answered || !s->open || strcmp(mine->s.id, s->id) != 0)) {
		forget(mine);
		mine = NULL;
	}
	if (mine || !answered || !s->open || kept_by_id(k, s->id))
		goto out;
	for (size_t i = 0; i < KEPT_MAX; i++) {
		kept_t *e = &k->kept[i];
		/* One per service and provider: a call that opened another
		 * meanwhile lets it go. */
		if (e->used && strcmp(e->s.service, s->service) == 0 && strcmp(e->s.provider, s->provider) == 0)
			goto out;
		if (!slot || !e->used || (slot->used && e->born_ms < slot->born_ms))
			slot = e;
	}
	forget(slot);
	slot->used = true;
	slot->s = *s;
	snprintf(slot->serial, sizeof(slot->serial), "%s", me->serial);
	slot->born_ms = spn_clock_mono_ms();
	slot->mids[slot->n_mids++] = mid_hash(mid);
out:
	pthread_mutex_unlock(&k->lock);
	spn_node_me_put(me);
}


static int refuse(int rc, uint8_t **reply, size_t *len, const char *why)
{
	*reply = (uint8_t *)strdup(why);
	*len = *reply ? strlen(why) : 0;
	return rc;
}

int spn_node_call_admit(const spn_node_call_ctx_t *ctx)
{
	spn_chain_t links;
	int rc;

	if ((rc = spn_chain_read(ctx->chain, &links)))
		return rc;
	return spn_chain_admit(&links, ctx->n->id.node_id, ctx->service);
}

/* One try of a call: in a kept session when reuse allows one, else in a
 * new one (with node, when the call must go there). *reused says which. */
static int attempt(struct spn_node_callers *k, spn_node_call_ctx_t *ctx, const spn_client_part_t *part,
		   const char *node, json_object *chain, bool reuse, spn_client_reply_t *r, bool *reused)
{
	spn_node_t *n = ctx->n;
	const spn_node_me_t *me;
	spn_client_t *c;
	spn_client_session_t *s;
	char taken[SPN_JWE_ID_MAX + 1] = "";
	json_object *back = NULL;
	int rc;

	*reused = false;
	memset(r, 0, sizeof(*r));
	me = spn_node_me(n);
	rc = spn_client_new_local(n->id.node_id, n->root, n->key, me->pem, n->revoked, post, n, &c);
	spn_node_me_put(me);
	if (rc)
		return rc;
	c->chain = chain;
	if (!(s = spn_client_session(c, part->service))) {
		spn_client_free(c);
		return SPN_ENOMEM;
	}
	if (reuse && take_kept(k, n, part->service, node, ctx->mid, s))
		snprintf(taken, sizeof(taken), "%s", s->id);
	else if (node[0])
		snprintf(s->prefer, sizeof(s->prefer), "%s", node);
	rc = spn_client_send_ex(c, ctx->mid, part, 1, r, ctx->carry, &back);
	/* A refusal by the plugin came through the session all the same. */
	keep_after(k, n, taken, ctx->mid, s, rc == 0 && (!r->error || r->error == SPN_EPLUGIN));
	for (size_t i = 0; back && i < json_object_array_length(back); i++)
		json_object_array_add(ctx->client_replies, json_object_get(json_object_array_get_idx(back, i)));
	json_object_put(back);
	spn_client_free(c);
	*reused = taken[0] != '\0';
	return rc;
}

int spn_node_call(void *user, const char *service, const uint8_t *data, size_t len, uint8_t **reply, size_t *reply_len)
{
	spn_node_call_ctx_t *ctx = user;
	spn_node_t *n = ctx->n;
	struct spn_node_callers *k;
	spn_client_part_t part = {service, data, len, false};
	spn_client_reply_t r;
	spn_chain_t links;
	json_object *chain;
	char node[SPN_NAME_MAX + 1] = "";
	bool reused;
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
	/* Where the client carries a section for this service, the call goes
	 * to the node it names: the one that can read it. */
	spn_carry_hint(ctx->carry, service, node, sizeof(node));
	/* The callee sees that this service, here, waits for it. */
	if ((rc = spn_chain_read(ctx->chain, &links)))
		return refuse(rc, reply, reply_len, spn_err_detail(rc));
	chain = spn_chain_json_with(&links, n->id.node_id, ctx->service);
	rc = attempt(k, ctx, &part, node, chain, true, &r, &reused);
	/* Refused as a replay in a kept session: sequence numbers taken
	 * together arrived too far apart; it was not acted on there. Once
	 * more in a new session, where the provider tells a message it did
	 * act on. */
	if (rc == 0 && reused && r.error == SPN_EREPLAY) {
		spn_client_reply_clear(&r);
		rc = attempt(k, ctx, &part, node, chain, false, &r, &reused);
	}
	json_object_put(chain);
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
	pthread_mutex_destroy(&k->lock);
	spn_free_secret(k, sizeof(*k));
	n->callers = NULL;
}
