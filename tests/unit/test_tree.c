/* The subtree registry: full syncs and deltas carried up a three-level tree,
 * what a child may and may not claim, children leaving, routing and the
 * provider selection policies. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "ident.h"
#include "log.h"
#include "tree.h"

#define MID_URL "https://mid.example:8443"
#define MID_PIN "pin-of-mid"
#define LEAF_URL "https://leaf.example:8443"
#define LEAF_PIN "pin-of-leaf"

static spn_ident_t ident(const char *node, spn_role_t role, unsigned trust, const char *parent, const char *services)
{
	spn_ident_t id;

	memset(&id, 0, sizeof(id));
	snprintf(id.node_id, sizeof(id.node_id), "%s", node);
	snprintf(id.group, sizeof(id.group), "demo");
	snprintf(id.parent, sizeof(id.parent), "%s", parent);
	id.role = role;
	id.trust = trust;
	assert_int_equal(spn_ident_set_services(&id, services), 0);
	return id;
}

static spn_tree_t *tree(const spn_ident_t *self)
{
	spn_tree_t *t = NULL;

	assert_int_equal(spn_tree_new(self, &t), 0);
	assert_non_null(t);
	return t;
}

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static int64_t msg_int(json_object *msg, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(msg, key, &v));
	return json_object_get_int64(v);
}

/* Applies msg as the sync of the direct child whose certificate says id. */
static int sync_as(spn_tree_t *parent, const spn_ident_t *id, const char *serial, const char *pin, json_object *msg,
		   int64_t now)
{
	spn_tree_child_t ch = {.id = id, .serial = serial, .pin = pin, .url = NULL};
	json_object *url;

	if (json_object_object_get_ex(msg, "url", &url))
		ch.url = json_object_get_string(url);
	return spn_tree_child_sync(parent, &ch, msg, now);
}

/* One round of the upward protocol: child's message since acked, applied by
 * parent. Returns the version the parent now holds (what the child would be
 * told it acknowledged). */
static uint64_t push(spn_tree_t *parent, spn_tree_t *child, const spn_ident_t *child_id, uint64_t acked,
		     const char *url, const char *pin, int64_t now)
{
	json_object *msg = spn_tree_sync_message(child, acked, url);
	uint64_t version = (uint64_t)msg_int(msg, "version");

	assert_int_equal(sync_as(parent, child_id, "01", pin, msg, now), 0);
	json_object_put(msg);
	return version;
}

/* A node as the parent's registry shows it, read back through spn_tree_json
 * so that the test sees what operators and the API see. */
static bool lookup(spn_tree_t *t, const char *node, spn_ident_t *id, char *via, size_t via_cap)
{
	json_object *all = spn_tree_json(t, 0), *nodes, *v;
	bool found = false;

	assert_true(json_object_object_get_ex(all, "nodes", &nodes));
	for (size_t i = 0; !found && i < json_object_array_length(nodes); i++) {
		json_object *e = json_object_array_get_idx(nodes, i), *svc;
		assert_true(json_object_object_get_ex(e, "node", &v));
		if (strcmp(json_object_get_string(v), node) != 0)
			continue;
		found = true;
		if (id) {
			memset(id, 0, sizeof(*id));
			snprintf(id->node_id, sizeof(id->node_id), "%s", node);
			assert_true(json_object_object_get_ex(e, "parent", &v));
			snprintf(id->parent, sizeof(id->parent), "%s", json_object_get_string(v));
			assert_true(json_object_object_get_ex(e, "role", &v));
			assert_int_equal(spn_role_parse(json_object_get_string(v), &id->role), 0);
			assert_true(json_object_object_get_ex(e, "trust", &v));
			id->trust = (unsigned)json_object_get_int(v);
			assert_true(json_object_object_get_ex(e, "services", &svc));
			for (size_t k = 0; k < json_object_array_length(svc); k++) {
				const char *name = json_object_get_string(json_object_array_get_idx(svc, k));
				assert_int_equal(spn_ident_add_service(id, name), 0);
			}
		}
		if (via) {
			assert_true(json_object_object_get_ex(e, "via", &v));
			snprintf(via, via_cap, "%s", json_object_get_string(v));
		}
	}
	json_object_put(all);
	return found;
}

static size_t count_nodes(spn_tree_t *t)
{
	json_object *all = spn_tree_json(t, 0), *nodes;
	size_t n;

	assert_true(json_object_object_get_ex(all, "nodes", &nodes));
	n = json_object_array_length(nodes);
	json_object_put(all);
	return n;
}

static size_t count_children(spn_tree_t *t)
{
	spn_tree_hop_t *hops = NULL;
	size_t n = 0;

	assert_int_equal(spn_tree_children(t, &hops, &n), 0);
	free(hops);
	return n;
}

static void assert_via(spn_tree_t *t, const char *node, const char *want_via, const char *want_parent)
{
	spn_ident_t id;
	char via[SPN_NAME_MAX + 1];

	if (!lookup(t, node, &id, via, sizeof(via)))
		fail_msg("%s is not in the registry", node);
	assert_string_equal(via, want_via);
	assert_string_equal(id.parent, want_parent);
}

/* Whether a delta message carries op ("add" or "del") for node. */
static bool has_op(json_object *msg, const char *op, const char *node)
{
	json_object *ops, *v;

	assert_true(json_object_object_get_ex(msg, "ops", &ops));
	for (size_t i = 0; i < json_object_array_length(ops); i++) {
		json_object *o = json_object_array_get_idx(ops, i);
		if (!json_object_object_get_ex(o, "op", &v) || strcmp(json_object_get_string(v), op) != 0)
			continue;
		if (json_object_object_get_ex(o, "node", &v) && strcmp(json_object_get_string(v), node) == 0)
			return true;
	}
	return false;
}

/* root <- mid <- leaf, registered bottom-up as the daemons do at start. */
typedef struct {
	spn_ident_t root_id, mid_id, leaf_id;
	spn_tree_t *root, *mid, *leaf;
	uint64_t root_holds; /* the version of mid's registry that root holds */
	uint64_t mid_holds;  /* the version of leaf's registry that mid holds */
} chain_t;

static int chain_setup(void **state)
{
	chain_t *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->root_id = ident("root", SPN_ROLE_PSP, 100, "", "ca");
	c->mid_id = ident("mid", SPN_ROLE_ADMIN, 50, "root", "");
	c->leaf_id = ident("leaf", SPN_ROLE_SPN, 5, "mid", "bank");
	c->root = tree(&c->root_id);
	c->mid = tree(&c->mid_id);
	c->leaf = tree(&c->leaf_id);
	c->mid_holds = push(c->mid, c->leaf, &c->leaf_id, 0, LEAF_URL, LEAF_PIN, 1000);
	c->root_holds = push(c->root, c->mid, &c->mid_id, 0, MID_URL, MID_PIN, 1000);
	*state = c;
	return 0;
}

static int chain_teardown(void **state)
{
	chain_t *c = *state;

	spn_tree_free(c->root);
	spn_tree_free(c->mid);
	spn_tree_free(c->leaf);
	free(c);
	return 0;
}

static void full_sync_three_levels(void **state)
{
	chain_t *c = *state;
	json_object *msg = spn_tree_sync_message(c->mid, 0, MID_URL), *v;
	spn_ident_t leaf;

	/* Nothing acknowledged: the whole registry, not deltas. */
	assert_true(json_object_object_get_ex(msg, "full", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(msg, "nodes", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_false(json_object_object_get_ex(msg, "ops", NULL));
	assert_int_equal((uint64_t)msg_int(msg, "version"), spn_tree_version(c->mid));
	json_object_put(msg);

	assert_int_equal(count_nodes(c->root), 3);
	assert_via(c->root, "mid", "mid", "root");
	assert_via(c->root, "leaf", "mid", "mid");
	assert_via(c->mid, "leaf", "leaf", "mid");
	assert_true(lookup(c->root, "leaf", &leaf, NULL, 0));
	assert_int_equal(leaf.role, SPN_ROLE_SPN);
	assert_int_equal(leaf.trust, 5);
	assert_true(spn_ident_provides(&leaf, "bank"));
	assert_true(spn_tree_has(c->root, "leaf"));
	assert_true(spn_tree_has(c->root, "root"));
	assert_false(spn_tree_has(c->leaf, "root"));
	assert_int_equal(count_children(c->root), 1);
	assert_int_equal(count_children(c->leaf), 0);
}

static void deltas(void **state)
{
	chain_t *c = *state;
	spn_ident_t leaf2_id = ident("leaf2", SPN_ROLE_SPN, 5, "mid", "insurance");
	spn_tree_t *leaf2 = tree(&leaf2_id);
	json_object *msg, *v;
	uint64_t before;

	push(c->mid, leaf2, &leaf2_id, 0, "https://leaf2.example:8443", "pin-of-leaf2", 2000);
	msg = spn_tree_sync_message(c->mid, c->root_holds, MID_URL);
	assert_false(json_object_object_get_ex(msg, "full", NULL));
	assert_false(json_object_object_get_ex(msg, "nodes", NULL));
	assert_int_equal((uint64_t)msg_int(msg, "base"), c->root_holds);
	assert_true(has_op(msg, "add", "leaf2"));
	/* Only what changed since the acknowledged version travels. */
	assert_false(has_op(msg, "add", "leaf"));
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 2000), 0);
	assert_via(c->root, "leaf2", "mid", "mid");
	assert_via(c->root, "leaf", "mid", "mid");

	/* Replayed, the same delta no longer follows on from what root holds. */
	before = spn_tree_version(c->root);
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 2000), SPN_ERESYNC);
	json_object_put(msg);
	msg = spn_tree_sync_message(c->mid, c->root_holds - 1, MID_URL);
	assert_true(json_object_object_get_ex(msg, "base", &v));
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 2000), SPN_ERESYNC);
	json_object_put(msg);
	assert_int_equal(spn_tree_version(c->root), before);
	assert_int_equal(count_nodes(c->root), 4);

	/* A child root has never heard of cannot start with a delta. */
	{
		spn_ident_t stranger = ident("stranger", SPN_ROLE_ADMIN, 50, "root", "");
		msg = parse("{\"url\":\"https://s.example:1\",\"version\":3,\"base\":2,\"ops\":[]}");
		assert_int_equal(sync_as(c->root, &stranger, "02", "p", msg, 2000), SPN_ERESYNC);
		json_object_put(msg);
		assert_false(spn_tree_has(c->root, "stranger"));
		assert_int_equal(count_children(c->root), 1);
	}

	/* A full sync applies whatever root held, and what it no longer lists
	 * is gone, subtree included. */
	assert_int_equal(spn_tree_child_drop(c->mid, "leaf", "left"), 0);
	msg = spn_tree_sync_message(c->mid, 0, MID_URL);
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 3000), 0);
	json_object_put(msg);
	assert_false(spn_tree_has(c->root, "leaf"));
	assert_via(c->root, "leaf2", "mid", "mid");
	assert_int_equal(count_nodes(c->root), 3);

	/* The same full sync again (a heartbeat) changes nothing, so root has
	 * nothing new to send its own parent. */
	before = spn_tree_version(c->root);
	msg = spn_tree_sync_message(c->mid, 0, MID_URL);
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 4000), 0);
	json_object_put(msg);
	assert_int_equal(spn_tree_version(c->root), before);
	spn_tree_free(leaf2);
}

static void delta_removals(void **state)
{
	chain_t *c = *state;
	json_object *msg;
	char text[256];

	/* A child leaves by going away, not by deleting itself: it stays, and
	 * so does its subtree. */
	snprintf(text, sizeof(text),
		 "{\"url\":\"" MID_URL "\",\"version\":%llu,\"base\":%llu,\"ops\":[{\"op\":\"del\",\"node\":\"mid\"}]}",
		 (unsigned long long)c->root_holds, (unsigned long long)c->root_holds);
	msg = parse(text);
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 2000), 0);
	json_object_put(msg);
	assert_via(c->root, "mid", "mid", "root");
	assert_via(c->root, "leaf", "mid", "mid");

	assert_int_equal(spn_tree_child_drop(c->mid, "leaf", "left"), 0);
	msg = spn_tree_sync_message(c->mid, c->root_holds, MID_URL);
	assert_true(has_op(msg, "del", "leaf"));
	assert_int_equal(sync_as(c->root, &c->mid_id, "01", MID_PIN, msg, 2000), 0);
	json_object_put(msg);
	assert_false(spn_tree_has(c->root, "leaf"));
	assert_via(c->root, "mid", "mid", "root");
}

static void child_entry_from_certificate(void **state)
{
	spn_ident_t root_id = ident("root", SPN_ROLE_PSP, 100, "", "");
	spn_ident_t cert = ident("mid", SPN_ROLE_SPN, 5, "root", "bank");
	spn_tree_t *root = tree(&root_id);
	spn_ident_t got;
	spn_tree_hop_t hop;
	json_object *msg;

	(void)state;
	msg = parse("{\"url\":\"" MID_URL "\",\"version\":4,\"full\":true,\"nodes\":["
		    "{\"node\":\"mid\",\"parent\":\"other\",\"role\":\"admin\",\"trust\":100,"
		    "\"services\":[\"audit\",\"ca\"]}]}");
	assert_int_equal(sync_as(root, &cert, "01", MID_PIN, msg, 1000), 0);
	json_object_put(msg);
	assert_true(lookup(root, "mid", &got, NULL, 0));
	assert_int_equal(got.role, SPN_ROLE_SPN);
	assert_int_equal(got.trust, 5);
	assert_int_equal(got.n_services, 1);
	assert_string_equal(got.services[0], "bank");
	assert_string_equal(got.parent, "root");
	assert_int_equal(spn_tree_route(root, "audit", NULL, SPN_POLICY_ROUND_ROBIN, &hop), SPN_ENOTFOUND);
	assert_int_equal(spn_tree_route(root, "bank", NULL, SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_string_equal(hop.target, "mid");

	/* Nor can a later delta rewrite it. */
	msg = parse("{\"url\":\"" MID_URL "\",\"version\":5,\"base\":4,\"ops\":["
		    "{\"op\":\"add\",\"node\":\"mid\",\"parent\":\"root\",\"role\":\"admin\",\"trust\":90,"
		    "\"services\":[\"audit\"]}]}");
	assert_int_equal(sync_as(root, &cert, "01", MID_PIN, msg, 1000), 0);
	json_object_put(msg);
	assert_true(lookup(root, "mid", &got, NULL, 0));
	assert_int_equal(got.role, SPN_ROLE_SPN);
	assert_int_equal(got.trust, 5);
	assert_false(spn_ident_provides(&got, "audit"));

	/* A child that leaves itself out of its own registry still stands. */
	msg = parse("{\"url\":\"" MID_URL "\",\"version\":6,\"full\":true,\"nodes\":[]}");
	assert_int_equal(sync_as(root, &cert, "01", MID_PIN, msg, 1000), 0);
	json_object_put(msg);
	assert_true(lookup(root, "mid", &got, NULL, 0));
	assert_int_equal(got.trust, 5);
	spn_tree_free(root);
}

static void claims_refused(void **state)
{
	chain_t *c = *state;
	spn_ident_t mid2_id = ident("mid2", SPN_ROLE_ADMIN, 50, "root", "");
	spn_ident_t got;
	char via[SPN_NAME_MAX + 1];
	json_object *msg;

	msg = parse("{\"url\":\"https://mid2.example:8443\",\"version\":7,\"full\":true,\"nodes\":["
		    "{\"node\":\"mid2\",\"parent\":\"root\",\"role\":\"admin\",\"trust\":50,\"services\":[]},"
		    "{\"node\":\"ok\",\"parent\":\"mid2\",\"role\":\"spn\",\"trust\":1,\"services\":[]},"
		    "{\"node\":\"leaf\",\"parent\":\"mid2\",\"role\":\"spn\",\"trust\":9,\"services\":[\"evil\"]},"
		    "{\"node\":\"root\",\"parent\":\"mid2\",\"role\":\"spn\",\"trust\":1,\"services\":[]},"
		    "{\"node\":\"x\",\"parent\":\"mid\",\"role\":\"spn\",\"trust\":1,\"services\":[]},"
		    "{\"node\":\"y\",\"parent\":\"nowhere\",\"role\":\"spn\",\"trust\":1,\"services\":[]},"
		    "{\"node\":\"z\",\"parent\":\"root\",\"role\":\"spn\",\"trust\":1,\"services\":[]}]}");
	assert_int_equal(sync_as(c->root, &mid2_id, "02", "pin-of-mid2", msg, 1000), 0);
	json_object_put(msg);
	/* What it may claim is taken, so the refusals below are refusals. */
	assert_via(c->root, "ok", "mid2", "mid2");
	/* Registered under mid: unchanged. */
	assert_true(lookup(c->root, "leaf", &got, via, sizeof(via)));
	assert_string_equal(via, "mid");
	assert_string_equal(got.parent, "mid");
	assert_int_equal(got.trust, 5);
	assert_false(spn_ident_provides(&got, "evil"));
	/* This node itself. */
	assert_true(lookup(c->root, "root", &got, via, sizeof(via)));
	assert_string_equal(via, "");
	assert_int_equal(got.role, SPN_ROLE_PSP);
	/* Parents outside mid2's subtree: another child's, unknown, root. */
	assert_false(spn_tree_has(c->root, "x"));
	assert_false(spn_tree_has(c->root, "y"));
	assert_false(spn_tree_has(c->root, "z"));

	/* A clash with another subtree (a node that may have moved) makes the
	 * next delta ask for everything again, so the claim is retried. */
	msg = parse("{\"url\":\"https://mid2.example:8443\",\"version\":8,\"base\":7,\"ops\":[]}");
	assert_int_equal(sync_as(c->root, &mid2_id, "02", "pin-of-mid2", msg, 1000), SPN_ERESYNC);
	json_object_put(msg);

	/* The same rules hold then, and for deltas, deletions included. */
	msg = parse("{\"url\":\"https://mid2.example:8443\",\"version\":9,\"full\":true,\"nodes\":["
		    "{\"node\":\"mid2\",\"parent\":\"root\",\"role\":\"admin\",\"trust\":50,\"services\":[]},"
		    "{\"node\":\"ok\",\"parent\":\"mid2\",\"role\":\"spn\",\"trust\":1,\"services\":[]}]}");
	assert_int_equal(sync_as(c->root, &mid2_id, "02", "pin-of-mid2", msg, 1000), 0);
	json_object_put(msg);
	msg = parse("{\"url\":\"https://mid2.example:8443\",\"version\":10,\"base\":9,\"ops\":["
		    "{\"op\":\"add\",\"node\":\"x\",\"parent\":\"leaf\",\"role\":\"spn\",\"trust\":1,\"services\":[]},"
		    "{\"op\":\"del\",\"node\":\"mid\"},"
		    "{\"op\":\"del\",\"node\":\"leaf\"}]}");
	assert_int_equal(sync_as(c->root, &mid2_id, "02", "pin-of-mid2", msg, 1000), 0);
	json_object_put(msg);
	assert_via(c->root, "leaf", "mid", "mid");
	assert_via(c->root, "mid", "mid", "root");
	assert_false(spn_tree_has(c->root, "x"));
	assert_int_equal(count_nodes(c->root), 5);
}

/* A member that is not an administrator has nothing below it, and no child
 * may claim a node above the parent (it would pull traffic for it down). */
static void members_and_ancestors(void **state)
{
	spn_ident_t me = ident("adm", SPN_ROLE_ADMIN, 50, "top", "");
	spn_ident_t plain = ident("plain", SPN_ROLE_SPN, 3, "adm", "b");
	spn_ident_t sub = ident("sub", SPN_ROLE_ADMIN, 40, "adm", "");
	const char *above[] = {"top", "psp"};
	spn_tree_t *t = tree(&me);
	json_object *msg;

	(void)state;
	spn_tree_set_ancestors(t, above, 2);
	msg = parse("{\"url\":\"https://plain.example:1\",\"version\":2,\"full\":true,\"nodes\":["
		    "{\"node\":\"plain\",\"parent\":\"adm\",\"role\":\"spn\",\"trust\":3,\"services\":[\"b\"]},"
		    "{\"node\":\"fake\",\"parent\":\"plain\",\"role\":\"spn\",\"trust\":1,\"services\":[\"bank\"]}]}");
	assert_int_equal(sync_as(t, &plain, "01", "pin", msg, 1), 0);
	json_object_put(msg);
	assert_true(spn_tree_has(t, "plain"));
	assert_false(spn_tree_has(t, "fake"));
	msg = parse("{\"url\":\"https://sub.example:1\",\"version\":3,\"full\":true,\"nodes\":["
		    "{\"node\":\"sub\",\"parent\":\"adm\",\"role\":\"admin\",\"trust\":40,\"services\":[]},"
		    "{\"node\":\"psp\",\"parent\":\"sub\",\"role\":\"spn\",\"trust\":1,\"services\":[\"bank\"]},"
		    "{\"node\":\"top\",\"parent\":\"sub\",\"role\":\"admin\",\"trust\":50,\"services\":[]},"
		    "{\"node\":\"leaf\",\"parent\":\"sub\",\"role\":\"spn\",\"trust\":1,\"services\":[\"c\"]}]}");
	assert_int_equal(sync_as(t, &sub, "02", "pin", msg, 1), 0);
	json_object_put(msg);
	assert_true(spn_tree_has(t, "leaf"));
	assert_false(spn_tree_has(t, "psp"));
	assert_false(spn_tree_has(t, "top"));
	msg = spn_tree_lineage(t);
	assert_string_equal(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN), "[\"adm\",\"top\",\"psp\"]");
	json_object_put(msg);
	spn_tree_free(t);
}

static void drop(void **state)
{
	chain_t *c = *state;
	spn_ident_t mid2_id = ident("mid2", SPN_ROLE_ADMIN, 50, "root", "bank");
	spn_tree_t *mid2 = tree(&mid2_id);
	json_object *msg;
	spn_tree_hop_t hop;
	uint64_t before;

	push(c->root, mid2, &mid2_id, 0, "https://mid2.example:8443", "pin-of-mid2", 1000);
	before = spn_tree_version(c->root);
	/* Only direct children can be dropped. */
	assert_int_equal(spn_tree_child_drop(c->root, "leaf", "test"), SPN_ENOTFOUND);
	assert_true(spn_tree_has(c->root, "leaf"));
	assert_int_equal(spn_tree_child_drop(c->root, "mid", "test"), 0);
	assert_false(spn_tree_has(c->root, "mid"));
	assert_false(spn_tree_has(c->root, "leaf"));
	assert_true(spn_tree_has(c->root, "mid2"));
	assert_int_equal(count_children(c->root), 1);
	assert_int_equal(spn_tree_child_drop(c->root, "mid", "test"), SPN_ENOTFOUND);
	/* Nothing is left to route to through the dropped child. */
	assert_int_equal(spn_tree_route(c->root, NULL, "leaf", SPN_POLICY_ROUND_ROBIN, &hop), SPN_ENOTFOUND);
	assert_int_equal(spn_tree_route(c->root, "bank", NULL, SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_string_equal(hop.target, "mid2");

	/* Root's own parent learns of the removal through root's deltas. */
	msg = spn_tree_sync_message(c->root, before, "https://root.example:8443");
	assert_true(has_op(msg, "del", "mid"));
	assert_true(has_op(msg, "del", "leaf"));
	assert_false(has_op(msg, "del", "mid2"));
	json_object_put(msg);
	spn_tree_free(mid2);
}

static void reap(void **state)
{
	spn_ident_t root_id = ident("root", SPN_ROLE_PSP, 100, "", "");
	spn_ident_t old_id = ident("old", SPN_ROLE_ADMIN, 50, "root", "");
	spn_ident_t fresh_id = ident("fresh", SPN_ROLE_ADMIN, 50, "root", "");
	spn_ident_t under_id = ident("under", SPN_ROLE_SPN, 5, "old", "");
	spn_tree_t *root = tree(&root_id), *old = tree(&old_id), *fresh = tree(&fresh_id), *under = tree(&under_id);
	uint64_t fresh_holds;

	(void)state;
	push(old, under, &under_id, 0, "https://under.example:1", "p", 1000);
	push(root, old, &old_id, 0, "https://old.example:1", "p", 1000);
	fresh_holds = push(root, fresh, &fresh_id, 0, "https://fresh.example:1", "p", 1000);
	/* An empty delta is the heartbeat: it alone keeps fresh alive. */
	push(root, fresh, &fresh_id, fresh_holds, "https://fresh.example:1", "p", 5000);
	assert_true(spn_tree_has(root, "under"));
	assert_int_equal(spn_tree_reap(root, 6000, 2000), 1);
	assert_false(spn_tree_has(root, "old"));
	assert_false(spn_tree_has(root, "under"));
	assert_true(spn_tree_has(root, "fresh"));
	assert_int_equal(count_children(root), 1);
	assert_int_equal(spn_tree_reap(root, 6000, 2000), 0);
	assert_int_equal(spn_tree_reap(root, 8000, 2000), 1);
	assert_false(spn_tree_has(root, "fresh"));
	spn_tree_free(root);
	spn_tree_free(old);
	spn_tree_free(fresh);
	spn_tree_free(under);
}

typedef struct {
	const char *revoked;
	unsigned calls;
	bool saw_good;
} revocation_t;

static bool is_revoked(const char *serial, void *user)
{
	revocation_t *r = user;

	r->calls++;
	r->saw_good = r->saw_good || strcmp(serial, "0a") == 0;
	return r->revoked && strcmp(serial, r->revoked) == 0;
}

static void drop_revoked(void **state)
{
	spn_ident_t root_id = ident("root", SPN_ROLE_PSP, 100, "", "");
	spn_ident_t a_id = ident("a", SPN_ROLE_SPN, 5, "root", "");
	spn_ident_t b_id = ident("b", SPN_ROLE_SPN, 5, "root", "");
	spn_tree_t *root = tree(&root_id), *a = tree(&a_id), *b = tree(&b_id);
	revocation_t r = {.revoked = "0b"};
	json_object *msg;

	(void)state;
	msg = spn_tree_sync_message(a, 0, "https://a.example:1");
	assert_int_equal(sync_as(root, &a_id, "0a", "p", msg, 1000), 0);
	json_object_put(msg);
	msg = spn_tree_sync_message(b, 0, "https://b.example:1");
	assert_int_equal(sync_as(root, &b_id, "0b", "p", msg, 1000), 0);
	json_object_put(msg);

	/* The callback sees each child's serial, with the caller's data. */
	assert_int_equal(spn_tree_drop_revoked(root, is_revoked, &r), 1);
	assert_int_equal(r.calls, 2);
	assert_true(r.saw_good);
	assert_true(spn_tree_has(root, "a"));
	assert_false(spn_tree_has(root, "b"));
	r.revoked = NULL;
	assert_int_equal(spn_tree_drop_revoked(root, is_revoked, &r), 0);
	assert_true(spn_tree_has(root, "a"));
	spn_tree_free(root);
	spn_tree_free(a);
	spn_tree_free(b);
}

static void routing(void **state)
{
	chain_t *c = *state;
	spn_tree_hop_t hop;

	assert_int_equal(spn_tree_route(c->root, "ca", NULL, SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_true(hop.local);
	assert_string_equal(hop.target, "root");
	assert_string_equal(hop.via, "");

	assert_int_equal(spn_tree_route(c->root, "bank", NULL, SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_false(hop.local);
	assert_string_equal(hop.target, "leaf");
	assert_string_equal(hop.via, "mid");
	assert_string_equal(hop.url, MID_URL);
	assert_string_equal(hop.pin, MID_PIN);
	/* One level down, the next hop is leaf itself. */
	assert_int_equal(spn_tree_route(c->mid, "bank", NULL, SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_string_equal(hop.via, "leaf");
	assert_string_equal(hop.url, LEAF_URL);
	assert_string_equal(hop.pin, LEAF_PIN);

	assert_int_equal(spn_tree_route(c->root, "nope", NULL, SPN_POLICY_ROUND_ROBIN, &hop), SPN_ENOTFOUND);
	assert_int_equal(spn_tree_route(c->leaf, "ca", NULL, SPN_POLICY_ROUND_ROBIN, &hop), SPN_ENOTFOUND);

	assert_int_equal(spn_tree_route(c->root, NULL, "leaf", SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_false(hop.local);
	assert_string_equal(hop.target, "leaf");
	assert_string_equal(hop.via, "mid");
	assert_string_equal(hop.url, MID_URL);
	assert_int_equal(spn_tree_route(c->root, NULL, "mid", SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_string_equal(hop.via, "mid");
	assert_int_equal(spn_tree_route(c->root, NULL, "root", SPN_POLICY_ROUND_ROBIN, &hop), 0);
	assert_true(hop.local);
	assert_int_equal(spn_tree_route(c->root, NULL, "ghost", SPN_POLICY_ROUND_ROBIN, &hop), SPN_ENOTFOUND);
}

static void local_first(void **state)
{
	spn_ident_t self_id = ident("self", SPN_ROLE_ADMIN, 50, "root", "bank");
	spn_ident_t kid_id = ident("kid", SPN_ROLE_SPN, 5, "self", "bank");
	spn_tree_t *self = tree(&self_id), *kid = tree(&kid_id);
	spn_tree_hop_t hop;

	(void)state;
	push(self, kid, &kid_id, 0, "https://kid.example:1", "p", 1000);
	/* A provider below is a network hop away; this node never is. */
	for (spn_policy_t p = SPN_POLICY_ROUND_ROBIN; p <= SPN_POLICY_LATENCY; p++)
		for (int i = 0; i < 3; i++) {
			assert_int_equal(spn_tree_route(self, "bank", NULL, p, &hop), 0);
			assert_true(hop.local);
			assert_string_equal(hop.target, "self");
		}
	spn_tree_free(self);
	spn_tree_free(kid);
}

/* A hub with two direct children providing bank, registered in the order
 * given: the policies must not depend on it. */
static spn_tree_t *two_providers(bool a_first)
{
	spn_ident_t hub_id = ident("hub", SPN_ROLE_ADMIN, 50, "root", "");
	spn_ident_t ids[2] = {ident("p-a", SPN_ROLE_SPN, 5, "hub", "bank"),
			      ident("p-b", SPN_ROLE_SPN, 5, "hub", "bank")};
	spn_tree_t *hub = tree(&hub_id);

	for (int i = 0; i < 2; i++) {
		const spn_ident_t *id = &ids[a_first ? i : 1 - i];
		spn_tree_t *kid = tree(id);
		char url[64];
		snprintf(url, sizeof(url), "https://%s.example:1", id->node_id);
		push(hub, kid, id, 0, url, "p", 1000);
		spn_tree_free(kid);
	}
	return hub;
}

static const char *pick(spn_tree_t *t, spn_policy_t policy, spn_tree_hop_t *hop)
{
	assert_int_equal(spn_tree_route(t, "bank", NULL, policy, hop), 0);
	assert_false(hop->local);
	/* Direct children: the next hop is the provider. */
	assert_string_equal(hop->via, hop->target);
	return hop->target;
}

static void round_robin(void **state)
{
	spn_tree_hop_t h[4];

	(void)state;
	for (int order = 0; order < 2; order++) {
		spn_tree_t *hub = two_providers(order);
		for (int i = 0; i < 4; i++)
			pick(hub, SPN_POLICY_ROUND_ROBIN, &h[i]);
		assert_string_not_equal(h[0].target, h[1].target);
		assert_string_equal(h[0].target, h[2].target);
		assert_string_equal(h[1].target, h[3].target);
		spn_tree_free(hub);
	}
}

static void least_inflight(void **state)
{
	spn_tree_hop_t h;

	(void)state;
	for (int order = 0; order < 2; order++) {
		spn_tree_t *hub = two_providers(order);
		spn_tree_begin(hub, "p-a");
		for (int i = 0; i < 3; i++)
			assert_string_equal(pick(hub, SPN_POLICY_LEAST_INFLIGHT, &h), "p-b");
		spn_tree_begin(hub, "p-b");
		spn_tree_begin(hub, "p-b");
		for (int i = 0; i < 3; i++)
			assert_string_equal(pick(hub, SPN_POLICY_LEAST_INFLIGHT, &h), "p-a");
		/* Answers coming back free the provider up again. */
		spn_tree_end(hub, "p-b", 5);
		spn_tree_end(hub, "p-b", 5);
		assert_string_equal(pick(hub, SPN_POLICY_LEAST_INFLIGHT, &h), "p-b");
		spn_tree_free(hub);
	}
}

static void latency(void **state)
{
	spn_tree_hop_t h;
	char first[SPN_NAME_MAX + 1], second[SPN_NAME_MAX + 1];

	(void)state;
	/* Every registration order, and the faster provider measured first or
	 * second. */
	for (int order = 0; order < 2; order++)
		for (int faster_first = 0; faster_first < 2; faster_first++) {
			spn_tree_t *hub = two_providers(order);
			snprintf(first, sizeof(first), "%s", pick(hub, SPN_POLICY_LATENCY, &h));
			spn_tree_begin(hub, first);
			spn_tree_end(hub, first, faster_first ? 10 : 50);
			/* The one not measured yet goes next, however fast the other. */
			snprintf(second, sizeof(second), "%s", pick(hub, SPN_POLICY_LATENCY, &h));
			assert_string_not_equal(first, second);
			spn_tree_begin(hub, second);
			spn_tree_end(hub, second, faster_first ? 50 : 10);
			for (int i = 0; i < 3; i++) {
				const char *want = faster_first ? first : second;
				const char *got = pick(hub, SPN_POLICY_LATENCY, &h);
				if (strcmp(got, want) != 0)
					fail_msg("%s registered first, %s at 10 ms and %s at 50 ms: chose %s",
						 order ? "p-a" : "p-b", want, faster_first ? second : first, got);
			}
			spn_tree_free(hub);
		}
}

static void json_view(void **state)
{
	chain_t *c = *state;
	json_object *all = spn_tree_json(c->root, 1500), *v, *kid;

	assert_true(json_object_object_get_ex(all, "node", &v));
	assert_string_equal(json_object_get_string(v), "root");
	assert_true(json_object_object_get_ex(all, "version", &v));
	assert_int_equal((uint64_t)json_object_get_int64(v), spn_tree_version(c->root));
	assert_true(json_object_object_get_ex(all, "nodes", &v));
	assert_int_equal(json_object_array_length(v), 3);
	assert_true(lookup(c->root, "root", NULL, NULL, 0));
	assert_true(lookup(c->root, "mid", NULL, NULL, 0));
	assert_true(lookup(c->root, "leaf", NULL, NULL, 0));
	assert_true(json_object_object_get_ex(all, "children", &v));
	assert_int_equal(json_object_array_length(v), 1);
	kid = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(kid, "node", &v));
	assert_string_equal(json_object_get_string(v), "mid");
	assert_true(json_object_object_get_ex(kid, "url", &v));
	assert_string_equal(json_object_get_string(v), MID_URL);
	assert_true(json_object_object_get_ex(kid, "serial", &v));
	assert_string_equal(json_object_get_string(v), "01");
	assert_true(json_object_object_get_ex(kid, "version", &v));
	assert_int_equal((uint64_t)json_object_get_int64(v), c->root_holds);
	assert_true(json_object_object_get_ex(kid, "last_seen_ms_ago", &v));
	assert_int_equal(json_object_get_int64(v), 500);
	json_object_put(all);
}

static void dot(void **state)
{
	chain_t *c = *state;
	char *text = NULL;

	assert_int_equal(spn_tree_dot(c->root, &text), 0);
	assert_non_null(text);
	assert_true(strncmp(text, "digraph \"root\"", 14) == 0);
	assert_non_null(strstr(text, "\"root\" -> \"mid\""));
	assert_non_null(strstr(text, "\"mid\" -> \"leaf\""));
	free(text);
	/* mid's own parent is not in its registry: no edge to a node not drawn. */
	assert_int_equal(spn_tree_dot(c->mid, &text), 0);
	assert_non_null(strstr(text, "\"mid\" -> \"leaf\""));
	assert_null(strstr(text, "-> \"mid\""));
	free(text);
}

static void refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"{\"url\":\"ftp://c.example:1\",\"version\":1,\"full\":true,\"nodes\":[]}",
		"{\"url\":\"https://c.example:1\",\"full\":true,\"nodes\":[]}",
		"{\"url\":\"https://c.example:1\",\"version\":0,\"full\":true,\"nodes\":[]}",
		"{\"url\":\"https://c.example:1\",\"version\":1,\"full\":true,\"nodes\":{}}",
		"{\"url\":\"https://c.example:1\",\"version\":1,\"full\":true,\"nodes\":[],\"extra\":1}",
		"{\"url\":\"https://c.example:1\",\"version\":1,\"ops\":[]}",
	};
	spn_ident_t root_id = ident("root", SPN_ROLE_PSP, 100, "", "");
	spn_ident_t c_id = ident("c", SPN_ROLE_SPN, 5, "root", "");
	spn_tree_t *root = tree(&root_id);

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *msg = parse(bad[i]);
		if (sync_as(root, &c_id, "01", "p", msg, 1000) != SPN_EINVAL)
			fail_msg("did not refuse %s", bad[i]);
		json_object_put(msg);
	}
	assert_int_equal(count_children(root), 0);
	assert_false(spn_tree_has(root, "c"));
	spn_tree_free(root);
}

static void policy_names(void **state)
{
	static const char *const bad[] = {"", "random", "Round_Robin", "latency ", "least-inflight"};
	static const char *const good[] = {"round_robin", "least_inflight", "latency"};
	static const spn_policy_t want[] = {SPN_POLICY_ROUND_ROBIN, SPN_POLICY_LEAST_INFLIGHT, SPN_POLICY_LATENCY};
	spn_policy_t p;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		p = (spn_policy_t)-1;
		assert_int_equal(spn_policy_parse(good[i], &p), 0);
		assert_int_equal(p, want[i]);
		assert_string_equal(spn_policy_name(p), good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (spn_policy_parse(bad[i], &p) != SPN_EINVAL)
			fail_msg("accepted policy '%s'", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(full_sync_three_levels, chain_setup, chain_teardown),
		cmocka_unit_test_setup_teardown(deltas, chain_setup, chain_teardown),
		cmocka_unit_test_setup_teardown(delta_removals, chain_setup, chain_teardown),
		cmocka_unit_test(child_entry_from_certificate),
		cmocka_unit_test_setup_teardown(claims_refused, chain_setup, chain_teardown),
		cmocka_unit_test_setup_teardown(drop, chain_setup, chain_teardown),
		cmocka_unit_test(reap),
		cmocka_unit_test(drop_revoked),
		cmocka_unit_test_setup_teardown(routing, chain_setup, chain_teardown),
		cmocka_unit_test(local_first),
		cmocka_unit_test(round_robin),
		cmocka_unit_test(least_inflight),
		cmocka_unit_test(latency),
		cmocka_unit_test_setup_teardown(json_view, chain_setup, chain_teardown),
		cmocka_unit_test_setup_teardown(dot, chain_setup, chain_teardown),
		cmocka_unit_test(refuses_malformed),
		cmocka_unit_test(policy_names),
		cmocka_unit_test(members_and_ancestors),
	};

	/* Refused claims are logged as warnings; registrations are noise here. */
	spn_log_set_level(SPN_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
