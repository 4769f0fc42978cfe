/* The subtree registry: entries, the delta log that feeds the parent, the
 * children's bookkeeping and provider selection. One lock guards it all;
 * every operation is short and never calls out. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "tree.h"

/* Deltas kept for the parent; a parent further behind gets everything. */
#define RING 1024
#define RR_SERVICES 64
#define MAX_NODES 100000
#define MAX_ANCESTORS 64

typedef struct {
	spn_ident_t id;              /* node id, role, trust, services, parent */
	char via[SPN_NAME_MAX + 1];  /* direct child leading to it; "" for this node */
	unsigned in_flight;
	double latency_ms;           /* moving average; 0 until measured */
	bool mark;
} entry_t;

typedef struct {
	char id[SPN_NAME_MAX + 1];
	char url[SPN_URL_MAX];
	char pin[SPN_PIN_MAX];
	char serial[SPN_SERIAL_HEX];
	uint64_t version;
	int64_t last_seen_ms;
} child_t;

typedef struct {
	uint64_t version;
	bool del;
	char node[SPN_NAME_MAX + 1];
} op_t;

struct spn_tree {
	pthread_mutex_t lock;
	char self[SPN_NAME_MAX + 1];
	entry_t *e;
	size_t n, cap;
	child_t *c;
	size_t nc, capc;
	uint64_t version;
	op_t ring[RING];
	bool conflict;  /* a claim clashed with another subtree during this sync */
	size_t max_subtree;
	/* ids above this node: no child may claim them */
	char ancestors[MAX_ANCESTORS][SPN_NAME_MAX + 1];
	size_t n_ancestors;
	struct {
		char service[SPN_SERVICE_MAX + 1];
		unsigned long next;
	} rr[RR_SERVICES];
};

int spn_policy_parse(const char *s, spn_policy_t *out)
{
	if (strcmp(s, "round_robin") == 0)
		*out = SPN_POLICY_ROUND_ROBIN;
	else if (strcmp(s, "least_inflight") == 0)
		*out = SPN_POLICY_LEAST_INFLIGHT;
	else if (strcmp(s, "latency") == 0)
		*out = SPN_POLICY_LATENCY;
	else
		return spn_err(SPN_EINVAL, "unknown selection policy '%s' (round_robin, least_inflight, latency)", s);
	return 0;
}

const char *spn_policy_name(spn_policy_t p)
{
	switch (p) {
	case SPN_POLICY_LEAST_INFLIGHT: return "least_inflight";
	case SPN_POLICY_LATENCY: return "latency";
	default: return "round_robin";
	}
}

static entry_t *find(spn_tree_t *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].id.node_id, id) == 0)
			return &t->e[i];
	return NULL;
}

static child_t *find_child(spn_tree_t *t, const char *id)
{
	for (size_t i = 0; i < t->nc; i++)
		if (strcmp(t->c[i].id, id) == 0)
			return &t->c[i];
	return NULL;
}

static void record(spn_tree_t *t, bool del, const char *node)
{
	op_t *op = &t->ring[++t->version % RING];

	op->version = t->version;
	op->del = del;
	snprintf(op->node, sizeof(op->node), "%s", node);
}

/* Adds or updates; records a delta only when something changed. */
static int upsert(spn_tree_t *t, const spn_ident_t *id, const char *via)
{
	entry_t *e = find(t, id->node_id);

	if (e) {
		e->mark = false;
		if (spn_ident_is_same_grant(&e->id, id) && strcmp(e->via, via) == 0)
			return 0;
	} else {
		if (t->n == t->cap) {
			/* Doubling would step past the cap at 65,536: the last
			 * step goes to the cap itself. */
			size_t cap = t->cap ? (t->cap * 2 < MAX_NODES ? t->cap * 2 : MAX_NODES) : 16;
			entry_t *bigger;
			if (t->n >= MAX_NODES || !(bigger = realloc(t->e, cap * sizeof(*bigger))))
				return spn_err(SPN_ELIMIT, "registry full (%zu nodes)", t->n);
			t->e = bigger;
			t->cap = cap;
		}
		e = &t->e[t->n++];
		memset(e, 0, sizeof(*e));
	}
	e->id = *id;
	e->id.group[0] = '\0';
	snprintf(e->via, sizeof(e->via), "%s", via);
	record(t, false, id->node_id);
	return 0;
}

/* Removes id and, so that nothing is left hanging, whatever lies below it. */
static void remove_node(spn_tree_t *t, const char *id)
{
	char gone[SPN_NAME_MAX + 1];
	entry_t *e = find(t, id);

	if (!e || strcmp(id, t->self) == 0)
		return;
	snprintf(gone, sizeof(gone), "%s", id);
	*e = t->e[--t->n];
	record(t, true, gone);
	for (size_t i = 0; i < t->n;) {
		if (strcmp(t->e[i].id.parent, gone) == 0) {
			remove_node(t, t->e[i].id.node_id);
			i = 0;
		} else {
			i++;
		}
	}
}

int spn_tree_new(const spn_ident_t *self, spn_tree_t **out)
{
	spn_tree_t *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return SPN_ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->max_subtree = MAX_NODES;
	snprintf(t->self, sizeof(t->self), "%s", self->node_id);
	if ((rc = upsert(t, self, ""))) {
		spn_tree_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void spn_tree_free(spn_tree_t *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->e);
	free(t->c);
	free(t);
}

void spn_tree_set_ancestors(spn_tree_t *t, const char *const *ids, size_t n)
{
	pthread_mutex_lock(&t->lock);
	t->n_ancestors = 0;
	for (size_t i = 0; i < n && t->n_ancestors < MAX_ANCESTORS; i++)
		if (spn_name_is_valid(ids[i]))
			snprintf(t->ancestors[t->n_ancestors++], SPN_NAME_MAX + 1, "%s", ids[i]);
	pthread_mutex_unlock(&t->lock);
}

json_object *spn_tree_lineage(spn_tree_t *t)
{
	json_object *a = json_object_new_array();

	pthread_mutex_lock(&t->lock);
	json_object_array_add(a, json_object_new_string(t->self));
	for (size_t i = 0; i < t->n_ancestors; i++)
		json_object_array_add(a, json_object_new_string(t->ancestors[i]));
	pthread_mutex_unlock(&t->lock);
	return a;
}

uint64_t spn_tree_version(spn_tree_t *t)
{
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->version;
	pthread_mutex_unlock(&t->lock);
	return v;
}

size_t spn_tree_size(spn_tree_t *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* One node as the wire has it: {"node","parent","role","trust","services"}. */
static int node_from_json(json_object *o, spn_ident_t *id)
{
	static const char *const fields[] = {"op", "node", "parent", "role", "trust", "services", NULL};
	const char *node, *parent, *role, **svc = NULL;
	int64_t trust;
	size_t n = 0;
	int rc;

	memset(id, 0, sizeof(*id));
	if ((rc = spn_json_only(o, "registry entry", fields)) ||
	    (rc = spn_json_str(o, "node", true, SPN_NAME_MAX, &node)) ||
	    (rc = spn_json_str(o, "parent", true, SPN_NAME_MAX, &parent)) ||
	    (rc = spn_json_str(o, "role", true, 16, &role)) ||
	    (rc = spn_json_int(o, "trust", true, 0, SPN_TRUST_MAX, &trust)) ||
	    (rc = spn_json_strs(o, "services", true, SPN_SERVICES_MAX, SPN_SERVICE_MAX, &svc, &n)))
		return rc;
	if (!spn_name_is_valid(node) || !spn_name_is_valid(parent))
		rc = spn_err(SPN_EINVAL, "registry entry: bad node id '%s' or parent '%s'", node, parent);
	else if (spn_role_parse(role, &id->role) != 0 || id->role == SPN_ROLE_PSP)
		rc = spn_err(SPN_EINVAL, "registry entry %s: bad role '%s'", node, role);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = spn_ident_add_service(id, svc[i]);
	free(svc);
	if (rc)
		return rc;
	strcpy(id->node_id, node);
	strcpy(id->parent, parent);
	id->trust = (unsigned)trust;
	return 0;
}

static json_object *node_to_json(const spn_ident_t *id, const char *op)
{
	json_object *o = json_object_new_object(), *svc = json_object_new_array();

	for (size_t i = 0; i < id->n_services; i++)
		json_object_array_add(svc, json_object_new_string(id->services[i]));
	if (op)
		json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "node", json_object_new_string(id->node_id));
	json_object_object_add(o, "parent", json_object_new_string(id->parent));
	json_object_object_add(o, "role", json_object_new_string(spn_role_name(id->role)));
	json_object_object_add(o, "trust", json_object_new_int((int)id->trust));
	json_object_object_add(o, "services", svc);
	return o;
}

static size_t count_via(spn_tree_t *t, const char *via)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += strcmp(t->e[i].via, via) == 0;
	return n;
}

/* What a child may claim: itself as its certificate says, and nodes below
 * it that no other subtree holds. */
static int claim(spn_tree_t *t, const spn_tree_child_t *ch, spn_ident_t *id)
{
	entry_t *e;

	if (strcmp(id->node_id, ch->id->node_id) == 0) {
		*id = *ch->id;
		snprintf(id->parent, sizeof(id->parent), "%s", t->self);
		return upsert(t, id, ch->id->node_id);
	}
	/* Only administrators have members below them. */
	if (!spn_role_is_admin(ch->id->role)) {
		spn_log_warn("registry: %s is a %s and cannot have %s below it; left out", ch->id->node_id,
			     spn_role_name(ch->id->role), id->node_id);
		return 0;
	}
	for (size_t i = 0; i < t->n_ancestors; i++)
		if (strcmp(t->ancestors[i], id->node_id) == 0) {
			spn_log_warn("registry: %s claims %s, which is above this node; left out", ch->id->node_id,
				     id->node_id);
			return 0;
		}
	e = find(t, id->node_id);
	if (!e && count_via(t, ch->id->node_id) >= t->max_subtree) {
		spn_log_warn("registry: %s has %zu nodes below it already ([tree] max_subtree); %s left out",
			     ch->id->node_id, t->max_subtree, id->node_id);
		return 0;
	}
	if (e && strcmp(e->via, ch->id->node_id) != 0) {
		spn_log_warn("registry: %s claims %s, which is registered %s%s; left out", ch->id->node_id,
			     id->node_id, e->via[0] ? "below " : "here", e->via);
		/* Likely a node that moved and whose old place has not been
		 * dropped yet: the child is asked again until it clears. */
		if (e->via[0])
			t->conflict = true;
		return 0;
	}
	e = find(t, id->parent);
	if (!e || strcmp(e->via, ch->id->node_id) != 0) {
		spn_log_warn("registry: %s claims %s below %s, which is not in its subtree; left out", ch->id->node_id,
			     id->node_id, id->parent);
		return 0;
	}
	return upsert(t, id, ch->id->node_id);
}

static int apply(spn_tree_t *t, const spn_tree_child_t *ch, json_object *list, bool full)
{
	size_t n = list ? json_object_array_length(list) : 0;
	spn_ident_t id;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i), *op = NULL;
		const char *what = "add";
		if (!json_object_is_type(o, json_type_object))
			return spn_err(SPN_EINVAL, "registry entry %zu is not an object", i);
		if (!full && json_object_object_get_ex(o, "op", &op))
			what = json_object_get_string(op);
		if (strcmp(what, "del") == 0) {
			const char *node;
			entry_t *e;
			if ((rc = spn_json_str(o, "node", true, SPN_NAME_MAX, &node)))
				return rc;
			e = find(t, node);
			/* A child does not delete itself: it leaves. */
			if (e && strcmp(e->via, ch->id->node_id) == 0 && strcmp(node, ch->id->node_id) != 0)
				remove_node(t, node);
			continue;
		}
		if (strcmp(what, "add") != 0)
			return spn_err(SPN_EINVAL, "registry entry %zu: op must be add or del", i);
		/* A bad entry is left out, not the whole message: the rest of
		 * the subtree still stands. */
		if (node_from_json(o, &id) != 0) {
			spn_log_warn("registry: %s sent a bad entry: %s", ch->id->node_id, spn_err_detail(SPN_EINVAL));
			continue;
		}
		rc = claim(t, ch, &id);
	}
	return rc;
}

int spn_tree_set_max_subtree(spn_tree_t *t, size_t max)
{
	pthread_mutex_lock(&t->lock);
	t->max_subtree = max < MAX_NODES ? max : MAX_NODES;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* The entries the child would hold after the sync: its whole list, or
 * those it holds now and the ones the ops add. Counted before anything is
 * applied, so that an oversized sync changes nothing. */
static size_t would_hold(spn_tree_t *t, const char *child, json_object *list, bool full)
{
	size_t n = json_object_array_length(list), have = 0;
	json_object *op;

	if (full)
		return n;
	for (size_t i = 0; i < t->n; i++)
		have += strcmp(t->e[i].via, child) == 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(o, "op", &op) || strcmp(json_object_get_string(op), "del") != 0)
			have++;
	}
	return have;
}

int spn_tree_child_sync(spn_tree_t *t, const spn_tree_child_t *ch, json_object *msg, int64_t now_ms)
{
	size_t holds;
	static const char *const fields[] = {"url", "version", "base", "full", "nodes", "ops", NULL};
	json_object *list = NULL, *full_o = NULL;
	const char *url;
	int64_t version, base = 0;
	bool full;
	child_t *c;
	int rc;

	if ((rc = spn_json_only(msg, "registry sync", fields)) ||
	    (rc = spn_json_str(msg, "url", true, SPN_URL_MAX - 1, &url)) ||
	    (rc = spn_json_int(msg, "version", true, 1, INT64_MAX, &version)))
		return rc;
	full = json_object_object_get_ex(msg, "full", &full_o) && json_object_get_boolean(full_o);
	if (!full && (rc = spn_json_int(msg, "base", true, 0, version, &base)))
		return rc;
	if (!json_object_object_get_ex(msg, full ? "nodes" : "ops", &list) || !json_object_is_type(list, json_type_array))
		return spn_err(SPN_EINVAL, "registry sync: '%s' must be an array", full ? "nodes" : "ops");
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return spn_err(SPN_EINVAL, "registry sync: url must be http(s)://host:port");
	if (strcmp(ch->id->node_id, t->self) == 0)
		return spn_err(SPN_EINVAL, "registry sync: %s cannot be its own child", t->self);
	pthread_mutex_lock(&t->lock);
	c = find_child(t, ch->id->node_id);
	if ((holds = would_hold(t, ch->id->node_id, list, full)) > t->max_subtree) {
		rc = spn_err(SPN_ETOOBIG, "%s's registry would hold %zu nodes; a child's subtree here holds at most %zu "
					  "([tree] max_subtree)",
			     ch->id->node_id, holds, t->max_subtree);
		goto out;
	}
	if (!full && (!c || c->version != (uint64_t)base)) {
		rc = spn_err(SPN_ERESYNC, "%s: this node holds version %llu of your registry, not %lld; send it whole",
			     ch->id->node_id, c ? (unsigned long long)c->version : 0ULL, (long long)base);
		goto out;
	}
	if (!c) {
		child_t *bigger = t->nc == t->capc ? realloc(t->c, (t->capc ? t->capc * 2 : 8) * sizeof(*bigger)) : t->c;
		if (!bigger) {
			rc = SPN_ENOMEM;
			goto out;
		}
		if (t->nc == t->capc)
			t->capc = t->capc ? t->capc * 2 : 8;
		t->c = bigger;
		c = &t->c[t->nc++];
		memset(c, 0, sizeof(*c));
		snprintf(c->id, sizeof(c->id), "%s", ch->id->node_id);
		spn_log_info("registry: child %s registered from %s", c->id, url);
	}
	snprintf(c->url, sizeof(c->url), "%s", url);
	snprintf(c->pin, sizeof(c->pin), "%s", ch->pin);
	snprintf(c->serial, sizeof(c->serial), "%s", ch->serial);
	c->last_seen_ms = now_ms;
	if (full)
		for (size_t i = 0; i < t->n; i++)
			t->e[i].mark = strcmp(t->e[i].via, c->id) == 0;
	rc = apply(t, ch, list, full);
	/* The child itself always stands, whatever it sent. */
	if (rc == 0 && !find(t, c->id)) {
		spn_ident_t id = *ch->id;
		snprintf(id.parent, sizeof(id.parent), "%s", t->self);
		rc = upsert(t, &id, c->id);
	}
	if (full && rc == 0) {
		for (size_t i = 0; i < t->n;) {
			if (t->e[i].mark && strcmp(t->e[i].id.node_id, c->id) != 0)
				remove_node(t, t->e[i].id.node_id);
			else
				t->e[i++].mark = false;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		t->e[i].mark = false;
	/* After a clash the next delta is refused, so the child sends its
	 * whole registry again and the clashing entry gets another chance. */
	c->version = rc == 0 && !t->conflict ? (uint64_t)version : 0;
	t->conflict = false;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static void drop_locked(spn_tree_t *t, size_t i, const char *why)
{
	char id[SPN_NAME_MAX + 1];

	snprintf(id, sizeof(id), "%s", t->c[i].id);
	t->c[i] = t->c[--t->nc];
	remove_node(t, id);
	spn_log_info("registry: child %s dropped: %s", id, why);
}

int spn_tree_child_drop(spn_tree_t *t, const char *child_id, const char *why)
{
	int rc = spn_err(SPN_ENOTFOUND, "%s is not a child of this node", child_id);

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->nc; i++)
		if (strcmp(t->c[i].id, child_id) == 0) {
			drop_locked(t, i, why);
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

size_t spn_tree_reap(spn_tree_t *t, int64_t now_ms, int64_t deadline_ms)
{
	size_t dropped = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->nc;)
		if (now_ms - t->c[i].last_seen_ms > deadline_ms) {
			drop_locked(t, i, "missed its heartbeats");
			dropped++;
		} else {
			i++;
		}
	pthread_mutex_unlock(&t->lock);
	return dropped;
}

size_t spn_tree_drop_revoked(spn_tree_t *t, bool (*is_revoked)(const char *serial, void *user), void *user)
{
	size_t dropped = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->nc;)
		if (is_revoked(t->c[i].serial, user)) {
			drop_locked(t, i, "its certificate is revoked");
			dropped++;
		} else {
			i++;
		}
	pthread_mutex_unlock(&t->lock);
	return dropped;
}

json_object *spn_tree_sync_message(spn_tree_t *t, uint64_t acked, const char *url)
{
	json_object *msg = json_object_new_object(), *list = json_object_new_array();

	pthread_mutex_lock(&t->lock);
	json_object_object_add(msg, "url", json_object_new_string(url));
	json_object_object_add(msg, "version", json_object_new_int64((int64_t)t->version));
	if (acked == 0 || acked > t->version || t->version - acked >= RING) {
		/* Parents before children, so that every parent is known first. */
		char (*done)[SPN_NAME_MAX + 1] = calloc(t->n ? t->n : 1, sizeof(*done));
		size_t nd = 0;
		bool progress = true;
		while (done && progress) {
			progress = false;
			for (size_t i = 0; i < t->n; i++) {
				const entry_t *e = &t->e[i];
				bool seen = false, parent_done = e->via[0] == '\0' || strcmp(e->id.parent, t->self) == 0;
				for (size_t k = 0; k < nd && !(seen && parent_done); k++) {
					seen = seen || strcmp(done[k], e->id.node_id) == 0;
					parent_done = parent_done || strcmp(done[k], e->id.parent) == 0;
				}
				if (seen || !parent_done)
					continue;
				json_object_array_add(list, node_to_json(&e->id, NULL));
				strcpy(done[nd++], e->id.node_id);
				progress = true;
			}
		}
		if (!done) {
			/* An empty "full" message would drop the whole subtree. */
			pthread_mutex_unlock(&t->lock);
			json_object_put(list);
			json_object_put(msg);
			return NULL;
		}
		free(done);
		json_object_object_add(msg, "full", json_object_new_boolean(1));
		json_object_object_add(msg, "nodes", list);
	} else {
		for (uint64_t v = acked + 1; v <= t->version; v++) {
			const op_t *op = &t->ring[v % RING];
			const entry_t *e = op->del ? NULL : find(t, op->node);
			if (op->del) {
				json_object *o = json_object_new_object();
				json_object_object_add(o, "op", json_object_new_string("del"));
				json_object_object_add(o, "node", json_object_new_string(op->node));
				json_object_array_add(list, o);
			} else if (e) {
				json_object_array_add(list, node_to_json(&e->id, "add"));
			}
		}
		json_object_object_add(msg, "base", json_object_new_int64((int64_t)acked));
		json_object_object_add(msg, "ops", list);
	}
	pthread_mutex_unlock(&t->lock);
	return msg;
}

static unsigned long *rr_counter(spn_tree_t *t, const char *service)
{
	size_t free_slot = RR_SERVICES;

	for (size_t i = 0; i < RR_SERVICES; i++) {
		if (strcmp(t->rr[i].service, service) == 0)
			return &t->rr[i].next;
		if (!t->rr[i].service[0] && free_slot == RR_SERVICES)
			free_slot = i;
	}
	if (free_slot == RR_SERVICES)
		free_slot = (size_t)(service[0] % RR_SERVICES);
	snprintf(t->rr[free_slot].service, sizeof(t->rr[free_slot].service), "%s", service);
	t->rr[free_slot].next = 0;
	return &t->rr[free_slot].next;
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(entry_t *const *)a)->id.node_id, (*(entry_t *const *)b)->id.node_id);
}

/* Picks among providers (sorted by id, so that round robin is fair). */
static entry_t *pick(spn_tree_t *t, entry_t **cand, size_t n, const char *service, spn_policy_t policy)
{
	entry_t *best;

	qsort(cand, n, sizeof(*cand), by_id);
	best = cand[0];
	switch (policy) {
	case SPN_POLICY_LEAST_INFLIGHT:
		best = cand[0];
		for (size_t i = 1; i < n; i++)
			if (cand[i]->in_flight < best->in_flight)
				best = cand[i];
		/* Ties go round robin so that idle providers share the work. */
		{
			size_t ties = 0, k;
			unsigned long *next = rr_counter(t, service);
			for (size_t i = 0; i < n; i++)
				ties += cand[i]->in_flight == best->in_flight;
			k = (size_t)((*next)++ % ties);
			for (size_t i = 0; i < n; i++)
				if (cand[i]->in_flight == best->in_flight && k-- == 0)
					return cand[i];
		}
		return best;
	case SPN_POLICY_LATENCY:
		/* Unmeasured providers first, so that each gets measured. */
		for (size_t i = 0; i < n; i++)
			if (cand[i]->latency_ms == 0)
				return cand[i];
		for (size_t i = 1; i < n; i++)
			if (cand[i]->latency_ms < best->latency_ms)
				best = cand[i];
		return best;
	default: {
		unsigned long *next = rr_counter(t, service);
		return cand[(*next)++ % n];
	}
	}
}

int spn_tree_route(spn_tree_t *t, const char *service, const char *node, spn_policy_t policy, spn_tree_hop_t *hop)
{
	entry_t *e = NULL, **cand;
	size_t n = 0;
	int rc = 0;

	memset(hop, 0, sizeof(*hop));
	pthread_mutex_lock(&t->lock);
	if (node) {
		e = find(t, node);
	} else if ((e = find(t, t->self)) && !spn_ident_provides(&e->id, service)) {
		e = NULL;
		if ((cand = malloc((t->n ? t->n : 1) * sizeof(*cand)))) {
			for (size_t i = 0; i < t->n; i++)
				if (spn_ident_provides(&t->e[i].id, service))
					cand[n++] = &t->e[i];
			if (n)
				e = pick(t, cand, n, service, policy);
			free(cand);
		} else {
			rc = SPN_ENOMEM;
		}
	}
	if (rc == 0 && !e)
		rc = SPN_ENOTFOUND;
	if (rc == 0) {
		const child_t *c = e->via[0] ? find_child(t, e->via) : NULL;
		snprintf(hop->target, sizeof(hop->target), "%s", e->id.node_id);
		hop->local = !e->via[0];
		if (c) {
			snprintf(hop->via, sizeof(hop->via), "%s", c->id);
			snprintf(hop->url, sizeof(hop->url), "%s", c->url);
			snprintf(hop->pin, sizeof(hop->pin), "%s", c->pin);
		} else if (!hop->local) {
			rc = SPN_ENOTFOUND;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int spn_tree_children(spn_tree_t *t, spn_tree_hop_t **out, size_t *n)
{
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	*n = t->nc;
	if (!(*out = calloc(t->nc ? t->nc : 1, sizeof(**out))))
		rc = SPN_ENOMEM;
	for (size_t i = 0; rc == 0 && i < t->nc; i++) {
		spn_tree_hop_t *h = &(*out)[i];
		snprintf(h->target, sizeof(h->target), "%s", t->c[i].id);
		snprintf(h->via, sizeof(h->via), "%s", t->c[i].id);
		snprintf(h->url, sizeof(h->url), "%s", t->c[i].url);
		snprintf(h->pin, sizeof(h->pin), "%s", t->c[i].pin);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void spn_tree_begin(spn_tree_t *t, const char *target)
{
	entry_t *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find(t, target)))
		e->in_flight++;
	pthread_mutex_unlock(&t->lock);
}

void spn_tree_end(spn_tree_t *t, const char *target, double ms)
{
	entry_t *e;

	pthread_mutex_lock(&t->lock);
	if ((e = find(t, target))) {
		if (e->in_flight)
			e->in_flight--;
		/* Recent answers count most: an average over about 8. */
		e->latency_ms = e->latency_ms == 0 ? ms : e->latency_ms + (ms - e->latency_ms) / 8;
		if (e->latency_ms <= 0)
			e->latency_ms = 0.001;
	}
	pthread_mutex_unlock(&t->lock);
}

bool spn_tree_has(spn_tree_t *t, const char *id)
{
	bool has;

	pthread_mutex_lock(&t->lock);
	has = find(t, id) != NULL;
	pthread_mutex_unlock(&t->lock);
	return has;
}

json_object *spn_tree_json(spn_tree_t *t, int64_t now_ms)
{
	json_object *o = json_object_new_object(), *nodes = json_object_new_array(), *kids = json_object_new_array();

	pthread_mutex_lock(&t->lock);
	json_object_object_add(o, "node", json_object_new_string(t->self));
	json_object_object_add(o, "version", json_object_new_int64((int64_t)t->version));
	for (size_t i = 0; i < t->n; i++) {
		json_object *e = node_to_json(&t->e[i].id, NULL);
		json_object_object_add(e, "via", json_object_new_string(t->e[i].via));
		json_object_object_add(e, "in_flight", json_object_new_int((int)t->e[i].in_flight));
		json_object_object_add(e, "latency_ms", json_object_new_double(t->e[i].latency_ms));
		json_object_array_add(nodes, e);
	}
	for (size_t i = 0; i < t->nc; i++) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "node", json_object_new_string(t->c[i].id));
		json_object_object_add(c, "url", json_object_new_string(t->c[i].url));
		json_object_object_add(c, "serial", json_object_new_string(t->c[i].serial));
		json_object_object_add(c, "version", json_object_new_int64((int64_t)t->c[i].version));
		json_object_object_add(c, "last_seen_ms_ago", json_object_new_int64(now_ms - t->c[i].last_seen_ms));
		json_object_array_add(kids, c);
	}
	pthread_mutex_unlock(&t->lock);
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "children", kids);
	return o;
}

int spn_tree_dot(spn_tree_t *t, char **dot)
{
	char *buf = NULL, svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return SPN_ENOMEM;
	pthread_mutex_lock(&t->lock);
	/* Node ids and services are [a-z0-9._-]: nothing to quote. */
	fprintf(f, "digraph \"%s\" {\n\tnode [shape=box];\n", t->self);
	for (size_t i = 0; i < t->n; i++) {
		const entry_t *e = &t->e[i];
		fprintf(f, "\t\"%s\" [label=\"%s\\n%s%s%s\"];\n", e->id.node_id, e->id.node_id, spn_role_name(e->id.role),
			e->id.n_services ? ": " : "", spn_ident_services_str(&e->id, svc, sizeof(svc)));
		if (e->id.parent[0] && (e->via[0] || strcmp(e->id.parent, t->self) == 0))
			fprintf(f, "\t\"%s\" -> \"%s\";\n", e->id.parent, e->id.node_id);
	}
	fprintf(f, "}\n");
	pthread_mutex_unlock(&t->lock);
	if (fclose(f) != 0) {
		free(buf);
		return SPN_ENOMEM;
	}
	*dot = buf;
	return 0;
}
