/* Fuzz target for the registry sync messages a child sends its parent: any
 * bytes, parsed as JSON and applied to a fresh parent registry, must leave
 * a registry that can still be routed, serialised and sent on. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "log.h"
#include "tree.h"

const char fuzz_target[] = "tree";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_ident_t root = {.node_id = "root", .group = "g", .role = SPN_ROLE_ADMIN, .trust = 8};
	spn_ident_t kid = {.node_id = "kid", .group = "g", .role = SPN_ROLE_ADMIN, .trust = 8, .parent = "root"};
	spn_tree_child_t child = {&kid, "00", "sha256//AAAA", NULL};
	spn_tree_hop_t hop;
	spn_tree_t *t;
	json_object *msg = NULL, *out;
	char *dot = NULL;

	spn_log_open(NULL, SPN_LOG_ERROR);
	if (spn_json_parse((const char *)data, size, &msg) != 0)
		return 0;
	if (spn_tree_new(&root, &t) != 0)
		abort();
	/* Twice: the second time as a delta on whatever the first left. */
	spn_tree_child_sync(t, &child, msg, 1);
	spn_tree_child_sync(t, &child, msg, 2);
	spn_tree_route(t, "b", NULL, SPN_POLICY_ROUND_ROBIN, &hop);
	spn_tree_route(t, "b", NULL, SPN_POLICY_LATENCY, &hop);
	spn_tree_route(t, NULL, "x", SPN_POLICY_LEAST_INFLIGHT, &hop);
	out = spn_tree_sync_message(t, 0, "https://127.0.0.1:1");
	json_object_put(out);
	out = spn_tree_json(t, 3);
	json_object_put(out);
	if (spn_tree_dot(t, &dot) != 0)
		abort();
	free(dot);
	spn_tree_child_drop(t, "kid", "fuzz");
	if (spn_tree_has(t, "kid"))
		abort();
	spn_tree_free(t);
	json_object_put(msg);
	return 0;
}
