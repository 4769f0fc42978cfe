/* The client's sections that travel with a message (the envelope's
 * "carry", doc/protocol.md §6): which of them a provider takes, where they
 * point a call made on the way, and how their replies come back to the
 * entry node for the client alone. The one place that knows. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "jwe.h"

/* A carried section taken here, its header read (not opened). */
typedef struct {
	json_object *section;   /* borrowed from the carry list */
	spn_jwe_header_t h;
} spn_carry_item_t;

/* The carried sections addressed to node for service, at most max of them,
 * go to mine; the others (and any beyond max, or unreadable) are appended
 * to rest to travel on. Returns how many are in mine. */
size_t spn_carry_select(json_object *carry, const char *node, const char *service, spn_carry_item_t *mine,
			size_t max, json_object *rest);

/* The node a carried section for service names: a call for that service
 * goes where the client's own section for it is. */
bool spn_carry_hint(json_object *carry, const char *service, char *node, size_t cap);

/* The replies to carried sections that an answer brings ("client_replies"),
 * appended to into; and the same put on an answer going back. */
void spn_carry_collect(json_object *answer, json_object *into);
void spn_carry_attach(json_object *answer, json_object *replies);
