/* The chain of calls a section is part of (doc/protocol.md §6.5): the
 * services, and the nodes they run on, that are waiting for it, outermost
 * first. It travels with every call a plugin makes, so that a provider
 * refuses a section whose service is already waiting further up, on this
 * node or another, instead of waiting for itself. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

#include "ident.h"

/* How deep calls may nest: a chain holds at most this many links. */
#define SPN_CHAIN_MAX 8

typedef struct {
	size_t n;
	struct {
		char service[SPN_SERVICE_MAX + 1];
		char node[SPN_NAME_MAX + 1];
	} link[SPN_CHAIN_MAX];
} spn_chain_t;

/* Reads "chain": a list of 1 to SPN_CHAIN_MAX objects {"service", "node"},
 * exactly those members, a service name and a name; NULL is the empty
 * chain (a client's own section). SPN_EINVAL saying what is wrong. */
int spn_chain_read(json_object *list, spn_chain_t *c);

/* Whether service on node may act for a section with chain c: SPN_ELOOP,
 * naming the circle, when it is already on it, or when c is full (one
 * more call could not be carried). */
int spn_chain_admit(const spn_chain_t *c, const char *node, const char *service);

/* c with service on node added at the end, as JSON for a call (the caller
 * puts it). */
json_object *spn_chain_json_with(const spn_chain_t *c, const char *node, const char *service);
