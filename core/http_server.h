/* The HTTP(S) server every node runs, on libmicrohttpd with GnuTLS: a pool
 * of threads over epoll, request bodies bounded, every error a JSON body
 * {"error": name, "message": why}, and the verified certificate identity of
 * a client that presents one from the group. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "pki_cert.h"
#include "pki_peers.h"

#include "http_fwd.h"
#include "http_guard.h"
#include "loop.h"

typedef struct spn_http_server spn_http_server_t;
typedef struct spn_http_req spn_http_req_t;

/* What a handler fills in; the server frees body with free(). */
typedef struct {
	unsigned status;
	char *body;
	size_t len;
	const char *content_type;
	bool secret;            /* the body is wiped once sent (keys, passphrases) */
} spn_http_resp_t;

typedef void (*spn_http_handler_fn)(spn_http_req_t *req, spn_http_resp_t *resp, void *user);

typedef struct {
	const char *method;
	const char *path;       /* exact, or a prefix ending in '/' */
	spn_http_handler_fn fn;
	size_t max_body;        /* 0: the server's default */
	bool async;             /* blocks (the ledger, other nodes): runs on a worker thread */
	bool staged;            /* runs on the loop and may answer later: spn_http_defer */
} spn_http_route_t;

typedef struct {
	const char *address;    /* numeric IPv4 or IPv6 */
	uint16_t port;          /* 0: any free port, see spn_http_port */
	unsigned threads;       /* event loops, each a thread */
	/* PEM texts; cert NULL serves plain HTTP (development only). With
	 * trust set, clients are asked for a certificate from that root. */
	const char *cert_pem, *key_pem, *trust_pem;
	const spn_http_route_t *routes;
	size_t n_routes;
	size_t max_body;
	spn_http_limits_t limits; /* a field left 0 takes its default */
	unsigned workers;       /* threads for async routes (0: 16) */
	/* Asked before each handler (may be NULL): false after answering
	 * resp itself keeps the handler from running (a PSP on standby). */
	bool (*gate)(const spn_http_route_t *route, spn_http_resp_t *resp, void *user);
	void *user;
} spn_http_config_t;

int spn_http_start(const spn_http_config_t *cfg, spn_http_server_t **out);
uint16_t spn_http_port(const spn_http_server_t *s);
/* The answers given so far: fn is called for each route (NULL: requests
 * that matched none) and status answered at least once, with how often. */
typedef void (*spn_http_answers_fn)(const spn_http_route_t *route, unsigned status, uint64_t n, void *user);
void spn_http_answers(const spn_http_server_t *s, spn_http_answers_fn fn, void *user);
/* Serves with a new certificate and key from now on, on the same port and
 * without a gap: new connections get the new one; the old listener stops
 * accepting and keeps its connections until they are done (or had a
 * minute), each loop stopping its own. The PEM texts
 * must outlive the server (or the next call). */
int spn_http_set_identity(spn_http_server_t *s, const char *cert_pem, const char *key_pem);
/* Stops accepting, finishes the requests in flight, frees the server. */
void spn_http_stop(spn_http_server_t *s);

const char *spn_http_req_method(const spn_http_req_t *r);
const char *spn_http_req_path(const spn_http_req_t *r);
/* The request body, NUL-terminated; valid during the handler. */
const char *spn_http_req_body(const spn_http_req_t *r, size_t *len);
/* A client that presented a certificate from the group; pin is how to
 * call it back (spn_http_client_call_pinned). */
typedef spn_pki_peer_t spn_http_peer_t;

/* The identity in the client's certificate, verified against the group's
 * root at spn's clock: SPN_EDENIED when there is none. Revocation is the
 * caller's check, on the serial. */
int spn_http_req_peer(spn_http_req_t *r, spn_http_peer_t *peer);

/* Where the request came from, as an owner of resources is counted: the
 * IPv4 address, or the IPv6 /64 it is in ("2001:db8::/64"). */
int spn_http_req_source(spn_http_req_t *r, char *out, size_t cap);

/* Staged routes. The handler runs on the connection's event loop and must
 * not block. It answers at once by filling resp, or calls spn_http_defer
 * and later, from the same loop, fills spn_http_req_resp(req) and calls
 * spn_http_done(req). */
void spn_http_defer(spn_http_req_t *req);
void spn_http_done(spn_http_req_t *req);
spn_http_resp_t *spn_http_req_resp(spn_http_req_t *req);
/* The loop's forwarder: NULL once the server is stopping. */
spn_http_fwd_t *spn_http_req_fwd(spn_http_req_t *req);
/* Blocking work for a staged request: work(ctx, stopping) runs on a worker
 * thread, then done(ctx) on the request's loop. An error returned (busy,
 * stopping) means neither will run. */
typedef void (*spn_http_work_fn)(void *ctx, bool stopping);
int spn_http_offload(spn_http_req_t *req, spn_http_work_fn work, spn_loop_fn done, void *ctx);

/* Fills resp with a JSON body (takes the reference to obj). */
void spn_http_json(spn_http_resp_t *resp, unsigned status, json_object *obj);
/* Fills resp with a text body of the given type (copied). */
void spn_http_text(spn_http_resp_t *resp, unsigned status, const char *type, const char *text, size_t len);
/* Fills resp with {"error": spn_errname(rc), "message": detail} and the
 * HTTP status that fits rc. */
void spn_http_error(spn_http_resp_t *resp, int rc, const char *detail);
unsigned spn_http_status_of(int rc);
