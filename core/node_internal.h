/* What the parts of a node share: the handlers of its REST API, the checks
 * on a calling peer, and the calls it makes to its parent and children. */
#pragma once

#include "http_server.h"
#include "node.h"

/* The calling node's certificate identity, refused (with the answer filled
 * in, returning -1) when there is none, when it is revoked, or when its role
 * is not one of the roles in mask (1 << SPN_ROLE_x). */
int spn_node_peer(spn_node_t *n, spn_http_req_t *req, spn_http_resp_t *resp, unsigned mask, spn_http_peer_t *peer);
#define SPN_ROLES_MEMBERS ((1u << SPN_ROLE_PSP) | (1u << SPN_ROLE_ADMIN) | (1u << SPN_ROLE_SPN))
#define SPN_ROLES_ADMINS ((1u << SPN_ROLE_PSP) | (1u << SPN_ROLE_ADMIN))

/* A JSON body for the parent: path is appended to the parent's URL.
 * Returns the HTTP status in *status and the answer in *out. */
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
int spn_node_check_endorsements(spn_node_t *n, json_object *list, const char *token, const char *csr,
				const spn_http_peer_t *peer);

/* The PSP's CRL: the file's, or a freshly signed one when resign is set or
 * the file's is missing or half-way to its next update. */
int spn_node_load_crl(spn_node_t *n, bool resign);

/* The worker thread (node_worker.c). */
int spn_node_worker_start(spn_node_t *n);
void spn_node_worker_stop(spn_node_t *n);

/* Handlers. */
void spn_node_tree_sync(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_tree_leave(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_tree_get(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
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
void spn_node_session_here(spn_node_t *n, json_object *payload, json_object *path, spn_http_resp_t *resp);
void spn_node_section_here(spn_node_t *n, json_object *payload, json_object *path, spn_http_resp_t *resp);
void spn_node_session_open(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
void spn_node_message(spn_http_req_t *req, spn_http_resp_t *resp, void *user);
/* The same for a body that did not come over HTTP (the node's own calls). */
void spn_node_fanout_session(spn_node_t *n, const char *body, size_t len, spn_http_resp_t *resp);
void spn_node_fanout_message(spn_node_t *n, const char *body, size_t len, spn_http_resp_t *resp);

/* Test builds only (tests/integration/spnd_evil): sees, and may change,
 * every answer a node relays on its way back to the caller. Never set in
 * spnd. */
extern void (*spn_node_relay_hook)(spn_node_t *n, const char *kind, long *status, char **body, size_t *len);

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
