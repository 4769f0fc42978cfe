/* Call chains: read strictly where they arrive, checked before a service
 * acts, extended by one link for each call a plugin makes. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "error.h"
#include "json.h"

int spn_chain_read(json_object *list, spn_chain_t *c)
{
	static const char *const fields[] = {"service", "node", NULL};
	size_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!list)
		return 0;
	if (!json_object_is_type(list, json_type_array) || (n = json_object_array_length(list)) < 1 ||
	    n > SPN_CHAIN_MAX)
		return spn_err(SPN_EINVAL, "'chain': a list of 1 to %d calls", SPN_CHAIN_MAX);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		const char *svc, *node;
		if (!json_object_is_type(o, json_type_object))
			return spn_err(SPN_EINVAL, "chain[%zu]: an object {\"service\", \"node\"}", i);
		if ((rc = spn_json_only(o, "a call of the chain", fields)) ||
		    (rc = spn_json_str(o, "service", true, SPN_SERVICE_MAX, &svc)) ||
		    (rc = spn_json_str(o, "node", true, SPN_NAME_MAX, &node)))
			return spn_err(rc, "chain[%zu]: %s", i, spn_err_detail(rc));
		if (!spn_service_name_is_valid(svc) || !spn_name_is_valid(node))
			return spn_err(SPN_EINVAL, "chain[%zu]: a service name and a node's name", i);
		snprintf(c->link[i].service, sizeof(c->link[i].service), "%s", svc);
		snprintf(c->link[i].node, sizeof(c->link[i].node), "%s", node);
	}
	c->n = n;
	return 0;
}

int spn_chain_admit(const spn_chain_t *c, const char *node, const char *service)
{
	char seen[SPN_CHAIN_MAX * (SPN_SERVICE_MAX + SPN_NAME_MAX + 8)];
	size_t off = 0;
	bool circle = false;

	for (size_t i = 0; i < c->n; i++) {
		circle |= strcmp(c->link[i].node, node) == 0 && strcmp(c->link[i].service, service) == 0;
		off += (size_t)snprintf(seen + off, sizeof(seen) - off, "%s%s on %s", i ? " > " : "",
					c->link[i].service, c->link[i].node);
	}
	if (circle)
		return spn_err(SPN_ELOOP,
			       "service %s on %s is already handling this message further up its chain of "
			       "calls (%s): the services call each other in a circle",
			       service, node, seen);
	if (c->n == SPN_CHAIN_MAX)
		return spn_err(SPN_ELOOP, "calls between services nested deeper than %d (%s)", SPN_CHAIN_MAX, seen);
	return 0;
}

json_object *spn_chain_json_with(const spn_chain_t *c, const char *node, const char *service)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; i <= c->n && i < SPN_CHAIN_MAX; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "service", json_object_new_string(i < c->n ? c->link[i].service : service));
		json_object_object_add(o, "node", json_object_new_string(i < c->n ? c->link[i].node : node));
		json_object_array_add(list, o);
	}
	return list;
}
