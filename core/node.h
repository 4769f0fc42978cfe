/* A running node: its identity (key, certificate, the group's root), its
 * HTTPS server, its place in the tree (parent, registry of its subtree,
 * heartbeats), the revocations it enforces, and on the PSP the certificate
 * authority. spnd is a thin main over this. */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "ca.h"
#include "conf.h"
#include "http_client.h"
#include "http_server.h"
#include "ident.h"
#include "tree.h"

typedef struct spn_revoked spn_revoked_t;
typedef struct spn_sstore spn_sstore_t;
typedef struct spn_plugin_proc spn_plugin_proc_t;

typedef struct {
	spn_conf_t *conf;
	spn_ident_t id;
	char serial[SPN_SERIAL_HEX];
	char *key_pem, *cert_pem, *root_pem;
	char *cert_b64;            /* plain HTTP only: sent with signed requests */
	char *key_path, *cert_path, *root_path;
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t root;
	time_t not_before, not_after;
	spn_ca_t *ca;              /* PSP only */
	pthread_mutex_t ca_lock;   /* the CA's ledger transactions are one at a time */
	struct spn_node_issuing *issuing; /* enrollments waiting for a commit (node_issue.c) */
	spn_http_server_t *http;
	spn_http_client_t *client; /* to the parent and the children */
	spn_http_client_t *ctl;    /* the worker's own: heartbeats, CRLs; short timeout */
	bool tls;

	/* the tree */
	spn_tree_t *tree;
	char url[SPN_URL_MAX];        /* where the parent reaches this node */
	char parent_url[SPN_URL_MAX]; /* "" on the PSP */
	spn_policy_t policy;
	unsigned hop_limit;
	unsigned long heartbeat_ms, deadline_ms, timeout_ms;
	unsigned long max_children;   /* this administrator's own limit */
	bool allow_delay;             /* the routing probe may be asked to wait */
	bool route_probe;             /* [route] probe: members may send kind echo */

	/* what the parent last said (under state_lock) */
	pthread_mutex_t state_lock;
	pthread_cond_t wake;
	bool stopping, dirty, registered, crl_to_push;
	uint64_t acked;
	unsigned admin_threshold;

	/* revocation: the newest CRL this node holds and the serials in it */
	spn_revoked_t *revoked;

	/* sessions this node provides (doc/protocol.md §5) */
	spn_sstore_t *sessions;
	spn_ident_t cert_required;    /* its services: those that need a client certificate */
	spn_plugin_proc_t **plugins;  /* each in its own process */
	size_t n_plugins;
	struct spn_node_callers *callers; /* clients for the plugins' calls (node_call.c) */

	/* renewal: certificates replaced, kept until close for readers */
	char **retired;
	size_t n_retired;
	time_t renew_retry;
	long renew_backoff;

	pthread_t worker;
	bool worker_started;
} spn_node_t;

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

/* Starts the HTTPS server as [http] says (writing the bound port to [http]
 * port_file when set), then the worker that registers with the parent,
 * sends heartbeats and deltas, drops silent children and spreads
 * revocations. */
int spn_node_start(spn_node_t *node);

/* Tells the parent this node leaves, then stops. */
void spn_node_close(spn_node_t *node);

/* The REST API (doc/rest-api.md). */
extern const spn_http_route_t spn_node_routes[];
extern const size_t spn_node_nroutes;
