/* A running node: its identity (key, certificate, the group's root), its
 * HTTPS server, its place in the tree (parent, registry of its subtree,
 * heartbeats), the revocations it enforces, and on the PSP the certificate
 * authority. spnd is a thin main over this. */
#pragma once

#include <gnutls/gnutls.h>
#include <stddef.h>

#include "conf.h"

/* Opaque outside the node module (core/node*.c). */
typedef struct spn_node spn_node_t;

/* The longest [tree] timeout_ms: a plugin's longest timeout (an hour) and
 * then some. */
#define SPN_NODE_TIMEOUT_MAX_MS 7200000

/* The configuration keys of [http], [node], [tree] and [route] this module reads. */
extern const spn_conf_key_t spn_node_http_keys[];
extern const size_t spn_node_http_nkeys;
/* And of [plugins] (node_plugins.c). */
extern const spn_conf_key_t spn_node_plugin_keys[];
extern const size_t spn_node_plugin_nkeys;

/* Loads the node described by conf (which it keeps, not owns): checks that
 * the key matches the certificate, that the certificate comes from the
 * group's root and is valid now; on the PSP opens the CA with its key. */
int spn_node_open(spn_conf_t *conf, spn_node_t **out);

/* Checks [plugins] and each enabled plugin's section of conf against the
 * options the plugin declares, loading each in its host without running
 * its init; starts nothing else (spnd --check-config). */
int spn_node_plugins_check(const spn_conf_t *conf);

/* Starts the HTTPS server as [http] says (writing the bound port to [http]
 * port_file when set), then the worker that registers with the parent,
 * sends heartbeats and deltas, drops silent children and spreads
 * revocations. */
int spn_node_start(spn_node_t *node);

/* Tells the parent this node leaves, then stops. */
void spn_node_close(spn_node_t *node);

/* The node's id, as its certificate names it: valid until spn_node_close
 * (a renewal keeps the node's identity). */
const char *spn_node_name(const spn_node_t *node);

/* The certificate the node presents now, PEM; the caller frees *out. */
int spn_node_cert_pem(spn_node_t *node, char **out);

/* Signs data with the node's key, as its certificate's holder; the caller
 * frees sig->data with gnutls_free. */
int spn_node_sign(spn_node_t *node, const void *data, size_t len, gnutls_datum_t *sig);

/* Test builds only (tests/integration/test_hooks.c): called with the
 * routing probe's payload before it is answered. NULL in spnd. */
struct json_object;
extern void (*spn_node_probe_hook)(struct json_object *payload);
/* Test builds only (tests/integration/spnd_evil): sees, and may change,
 * every answer a node relays on its way back to the caller. Never set in
 * spnd. */
extern void (*spn_node_relay_hook)(spn_node_t *node, const char *kind, long *status, char **body, size_t *len);
