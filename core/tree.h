/* The registry of a node's subtree: every node below it, who its parent is,
 * the services it provides and the direct child it is reached through; the
 * direct children's addresses and heartbeats; and the versioned deltas this
 * node sends up to its own parent. The protocol is in doc/rest-api.md
 * ("The tree"). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "ident.h"
#include "pki_cert.h"

#define SPN_URL_MAX 256

typedef struct spn_tree spn_tree_t;

/* How a node chooses among several providers of a service. */
typedef enum {
	SPN_POLICY_ROUND_ROBIN = 0,
	SPN_POLICY_LEAST_INFLIGHT = 1,
	SPN_POLICY_LATENCY = 2,
} spn_policy_t;

int spn_policy_parse(const char *s, spn_policy_t *out);
const char *spn_policy_name(spn_policy_t p);

/* Where a request goes next. */
typedef struct {
	bool local;                       /* this node handles it */
	char target[SPN_NAME_MAX + 1];    /* the provider chosen */
	char via[SPN_NAME_MAX + 1];       /* the direct child toward it */
	char url[SPN_URL_MAX];            /* that child's address */
	char pin[SPN_PIN_MAX];            /* and its public key pin */
} spn_tree_hop_t;

/* A direct child as it registers: its certificate says who it is. */
typedef struct {
	const spn_ident_t *id;
	const char *serial, *pin, *url;
} spn_tree_child_t;

int spn_tree_new(const spn_ident_t *self, spn_tree_t **out);
void spn_tree_free(spn_tree_t *t);
/* The most registry entries one direct child may bring (its subtree, the
 * child included): a sync beyond is refused with SPN_ETOOBIG and changes
 * nothing. Returns 0. */
int spn_tree_set_max_subtree(spn_tree_t *t, size_t max);

uint64_t spn_tree_version(spn_tree_t *t);
/* The registry's entries: this node and its subtree. */
size_t spn_tree_size(spn_tree_t *t);

/* The nodes above this one, as its parent reported them (parent first):
 * no child may claim their ids. */
void spn_tree_set_ancestors(spn_tree_t *t, const char *const *ids, size_t n);
/* This node and its ancestors, for the children's sync answers. */
json_object *spn_tree_lineage(spn_tree_t *t);

/* Applies a child's sync message (doc/rest-api.md): its full registry or the
 * deltas since the version this node holds. SPN_ERESYNC when they do not
 * follow on from it: the child must send everything. Entries a child may not
 * claim (anything below a child that is not an administrator, this node's
 * ancestors, nodes registered elsewhere, parents outside its subtree, more
 * than 10000 nodes) are left out and logged. */
int spn_tree_child_sync(spn_tree_t *t, const spn_tree_child_t *child, json_object *msg, int64_t now_ms);

/* Removes a direct child and its subtree (it left, was revoked, or missed its
 * heartbeats). SPN_ENOTFOUND when it is not a child. */
int spn_tree_child_drop(spn_tree_t *t, const char *child_id, const char *why);

/* Drops children not heard from since now_ms - deadline_ms; returns how many. */
size_t spn_tree_reap(spn_tree_t *t, int64_t now_ms, int64_t deadline_ms);

/* Drops children whose certificate serial is_revoked says is revoked. */
size_t spn_tree_drop_revoked(spn_tree_t *t, bool (*is_revoked)(const char *serial, void *user), void *user);

/* The message to send to the parent, given the version it acknowledged
 * (0: none, send everything); NULL when out of memory. */
json_object *spn_tree_sync_message(spn_tree_t *t, uint64_t acked, const char *url);

/* Next hop for a service (node NULL) or for a node id (service NULL), below
 * or at this node. SPN_ENOTFOUND when this subtree has none. */
int spn_tree_route(spn_tree_t *t, const char *service, const char *node, spn_policy_t policy, spn_tree_hop_t *hop);

/* The direct children as hops (target = via = the child); *out is the
 * caller's to free. */
int spn_tree_children(spn_tree_t *t, spn_tree_hop_t **out, size_t *n);

/* Selection statistics around a request sent toward target. */
void spn_tree_begin(spn_tree_t *t, const char *target);
void spn_tree_end(spn_tree_t *t, const char *target, double ms);

/* True when id is this node or in its subtree. */
bool spn_tree_has(spn_tree_t *t, const char *id);

/* The subtree as JSON and as Graphviz DOT; *dot is the caller's to free. */
json_object *spn_tree_json(spn_tree_t *t, int64_t now_ms);
int spn_tree_dot(spn_tree_t *t, char **dot);
