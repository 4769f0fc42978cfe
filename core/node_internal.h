/* What the parts of a node share: the node itself, the handlers of its
 * REST API, the checks on a calling peer, and the calls it makes to its
 * parent and children. Included by core/node*.c alone. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ca.h"
#include "http_client.h"
#include "http_server.h"
#include "ident.h"
#include "node.h"
#include "node_body.h"
#include "node_me.h"
#include "node_metrics.h"
#include "tree.h"

typedef struct spn_revoked spn_revoked_t;
typedef struct spn_sstore spn_sstore_t;
typedef struct spn_plugin_proc spn_plugin_proc_t;

#define SPN_PARENTS_MAX 4 /* addresses of one parent: [node] parent */

struct spn_node {
	spn_conf_t *conf;
	/* The identity the node opened with. A renewal keeps it whole (its
	 * certificate is refused otherwise), so it is read here without a
	 * reference; all that a renewal changes is in me. */
	spn_ident_t id;
	spn_node_me_slot_t me;         /* the certificate now: read with spn_node_me */
	const spn_node_me_t *served;   /* the one given to the HTTPS server, which keeps its text */
	/* The key and the root outlive every certificate. */
	char *key_pem, *root_pem; /* root_pem: the group's CA */
	char *anchor_pem;         /* [node] root as read: the CA or above it */
	char *key_path, *cert_path, *root_path;
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t root;
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
	/* [node] parent: the parent's addresses (two PSPs have two), tried
	 * in turn; the one that last answered is used first. None on the
	 * PSP. Read with spn_node_parent_url. */
	char parents[SPN_PARENTS_MAX][SPN_URL_MAX];
	unsigned n_parents;
	atomic_uint parent_at;
	atomic_bool parent_down[SPN_PARENTS_MAX];
	/* Two PSPs on one ledger (node_lease.c): the active one holds the
	 * lease; the other is on standby. */
	bool lease, lease_held;
	atomic_bool standby;
	char lease_holder[SPN_URL_MAX + 64];
	unsigned long lease_ms;
	int64_t lease_next, lease_renewed;
	char revocations[96];      /* the ledger's mark the last CRL was signed at */
	spn_policy_t policy;
	unsigned hop_limit;
	unsigned long max_subtree;    /* registry entries one child may bring */
	unsigned long heartbeat_ms, deadline_ms, timeout_ms;
	unsigned long max_children;   /* this administrator's own limit */
	bool route_probe;             /* [route] probe: members may send kind echo */

	/* what the parent last said (under state_lock) */
	pthread_mutex_t state_lock;
	pthread_cond_t wake;
	bool stopping, dirty, registered, crl_to_push;
	uint64_t acked;
	/* when the parent last took a sync (0: never), and when the worker
	 * began trying: health's deadline runs from the later */
	time_t heard_at;
	int64_t heard_ms, since_ms;
	unsigned admin_threshold;

	/* revocation: the newest CRL this node holds and the serials in it */
	spn_revoked_t *revoked;

	/* sessions this node provides (doc/protocol.md §5) */
	spn_sstore_t *sessions;
	spn_ident_t cert_required;    /* its services: those that need a client certificate */
	spn_plugin_proc_t **plugins;  /* each in its own process */
	size_t n_plugins;
	struct spn_node_callers *callers; /* clients for the plugins' calls (node_call.c) */

	/* renewal: the worker's alone */
	time_t renew_retry;
	long renew_backoff;

	pthread_t worker;
	bool worker_started;

	spn_node_metrics_t metrics;
};

/* The node's certificate now, with a reference the caller drops with
 * spn_node_me_put once done with it (node_me.c). Never NULL once
 * spn_node_open has succeeded. */
const spn_node_me_t *spn_node_me(spn_node_t *n);

/* The REST API (doc/rest-api.md). */
extern const spn_http_route_t spn_node_routes[];
extern const size_t spn_node_nroutes;

/* The calling node's certificate identity, refused (with the answer filled
 * in, returning -1) when there is none, when it is revoked, or when its role
 * is not one of the roles in mask (1 << SPN_ROLE_x). */
int spn_node_peer(spn_node_t *n, spn_http_req_t *req, spn_http_resp_t *resp, unsigned mask, spn_http_peer_t *peer);
#define SPN_ROLES_MEMBERS ((1u << SPN_ROLE_PSP) | (1u << SPN_ROLE_ADMIN) | (1u << SPN_ROLE_SPN))
#define SPN_ROLES_ADMINS ((1u << SPN_ROLE_PSP) | (1u << SPN_ROLE_ADMIN))

/* node_lease.c: the lease of a PSP on a shared ledger (none otherwise),
 * renewed and acted on by the worker; the HTTP gate of a PSP on standby. */
int spn_node_lease_init(spn_node_t *n);
void spn_node_lease_tick(spn_node_t *n);
bool spn_node_gate(const spn_http_route_t *route, spn_http_resp_t *resp, void *user);
bool spn_node_standby(spn_node_t *n);

/* The parent's address calls go to now ("" on the PSP). */
const char *spn_node_parent_url(spn_node_t *n);

/* A JSON body for the parent: path is appended to the parent's URL.
 * Returns the HTTP status in *status and the answer in *out. With several
 * addresses, one that cannot be reached or answers 503 (a PSP on standby)
 * gives way to the next, which is then used first. */
int spn_node_call_parent(spn_node_t *n, const char *path, const char *body, size_t len, long *status, char **out,
			 size_t *out_len);

/* The same on the worker's client, whose timeout keeps heartbeats on time. */
int spn_node_call_parent_quick(spn_node_t *n, const char *path, const char *body, size_t len, long *status,
			       char **out, size_t *out_len);

/* Passes on another node's answer as it came. */
void spn_node_relay(spn_http_resp_t *resp, long status, char *body, size_t len);

/* Sends body to the parent's path and answers with what the parent said. */
void spn_node_relay_up(spn_node_t *n, const char *path, const char *body, size_t len, spn_http_resp_t *resp);

/* Whether serial is on the node's CRL (user: the spn_revoked_t). */
bool spn_node_is_revoked(const char *serial, void *user);

/* Wakes the worker: the registry changed or a CRL arrived. */
void spn_node_poke(spn_node_t *n);

/* Takes a CRL and, when it is new, drops revoked children and passes it on. */
int spn_node_take_crl(spn_node_t *n, const char *pem, size_t len);

/* At the PSP: the endorsements on a request relayed by peer go from the
 * token's minter up through each one's parent to peer, a child of the PSP,
 * and each one's signature verifies with its current certificate. */
int spn_node_check_endorsements(spn_node_t *n, const spn_enroll_body_t *b, const spn_http_peer_t *peer);

/* The PSP's CRL: the file's, or a freshly signed one when resign is set or
 * the file's is missing or half-way to its next update. */
int spn_node_load_crl(spn_node_t *n, bool resign);

/* The worker thread (node_worker.c). */
int spn_node_worker_start(spn_node_t *n);
void spn_node_worker_stop(spn_node_t *n);

/* Writes port to the file [section] port_file names, when it names one. */
int spn_node_port_file(spn_node_t *n, const char *section, uint16_t port);

/* What GET /v1/health answers; *ok is whether the node does its work. */
json_object *spn_node_health_json(spn_node_t *n, bool *ok);

/* Handlers. */
void spn_node_health(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_tree_sync(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_tree_leave(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_tree_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
/* The live view: GET /view, its script and style, and GET /v1/view, for
 * members over HTTPS and for anyone on the local listener (node_view.c). */
void spn_node_view_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_view_local(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_crl_push(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_route(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_enroll_relay(spn_http_req_t *req, spn_http_resp_t *resp, void *user);

/* The PSP's enrollments by CSR, several under one ledger commit: returns once
 * this one is issued and durable, or refused (node_issue.c). */
int spn_node_issuing_new(spn_node_t *n);
void spn_node_issuing_free(spn_node_t *n);
int spn_node_issue_csr(spn_node_t *n, const char *csr, const char *token, spn_ca_issued_t *out);
void spn_node_token(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_renew(spn_http_req_t *req, spn_http_resp_t *resp, void *user);

/* Routes a request built on this node (the form /v1/route takes) and
 * leaves the answer in resp: how the entry node fans a client's call out.
 * Blocking: for worker threads (a plugin's calls). */
void spn_node_route_local(spn_node_t *n, json_object *msg, spn_http_resp_t *resp);
/* The same from req's event loop, without blocking: msg is taken, the
 * answer left in out, then done(ctx) called on the loop. */
void spn_node_route_start(spn_node_t *n, spn_http_req_t *req, json_object *msg, spn_http_resp_t *out,
			  spn_loop_fn done, void *ctx);

/* At the provider (node_session.c): a session offer for a client, and a
 * section to open, act on and answer; a successful answer carries path,
 * the way the request came. Blocking (a section waits on its plugin). */
/* origin: whom an anonymous client's session is counted to (node_route.c). */
void spn_node_session_here(spn_node_t *n, json_object *payload, json_object *path, const char *origin,
			   spn_http_resp_t *resp);
void spn_node_section_here(spn_node_t *n, json_object *payload, json_object *path, spn_http_resp_t *resp);
void spn_node_session_open(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_message(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
/* The same for a body that did not come over HTTP (the node's own calls). */
void spn_node_fanout_session(spn_node_t *n, const char *body, size_t len, spn_http_resp_t *resp);
void spn_node_fanout_message(spn_node_t *n, const char *body, size_t len, spn_http_resp_t *resp);

/* The plugins (node_plugins.c): started in spn_node_open, stopped at close;
 * the one that provides service, or NULL. */
int spn_node_plugins_start(spn_node_t *n);
void spn_node_plugins_stop(spn_node_t *n);
spn_plugin_proc_t *spn_node_plugin_for(spn_node_t *n, const char *service);

/* A plugin's calls to other services while it handles a section of
 * message mid for service (node_call.c): user is this context. */
typedef struct {
	spn_node_t *n;
	const char *mid, *service;
	json_object *carry;           /* the client's sections travelling on */
	json_object *client_replies;  /* replies for the client, collected */
	json_object *chain;           /* the calls the section is part of (chain.h), as it came; NULL: none */
} spn_node_call_ctx_t;
/* Whether the section's service may act here: its chain of calls reads,
 * and neither holds this node's service already nor is full (SPN_ELOOP). */
int spn_node_call_admit(const spn_node_call_ctx_t *ctx);
int spn_node_call(void *user, const char *service, const uint8_t *data, size_t len, uint8_t **reply,
		  size_t *reply_len);
void spn_node_callers_free(spn_node_t *n);

/* [session] settings and the store (node_session.c). */
int spn_node_sessions_init(spn_node_t *n);

/* Renews the certificate when a third of its life is left (worker). */
void spn_node_renew_if_due(spn_node_t *n);
