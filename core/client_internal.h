/* What the parts of the client library share: its sessions, its identity
 * and its connection to the entry node. */
#pragma once

#include <gnutls/x509.h>
#include <json-c/json.h>

#include "http_client.h"
#include "ident.h"
#include "jwe.h"
#include "spn/client.h"

typedef struct spn_revoked spn_revoked_t;

typedef struct {
	char service[SPN_SERVICE_MAX + 1];
	char id[SPN_JWE_ID_MAX + 1];
	char provider[SPN_NAME_MAX + 1];
	uint8_t to_provider[32], to_client[32];
	uint64_t seq;
	bool open;
	char prefer[SPN_NAME_MAX + 1]; /* the provider to open it with, if any */
	int error;              /* why the last attempt to open it failed */
	char why[400];
} spn_client_session_t;

#define SPN_CLIENT_SESSIONS 16

/* How a client inside a node reaches the entry node's functions: the node
 * itself, without HTTP. */
typedef int (*spn_client_post_fn)(void *user, const char *path, const char *body, size_t len, long *status,
				  char **ans, size_t *ans_len);

struct spn_client {
	char url[512];
	spn_client_post_fn post;    /* NULL: HTTP to url */
	void *post_user;
	bool borrowed;              /* key and revoked are the node's */
	char name[SPN_NAME_MAX + 1];
	spn_http_client_t *http;
	gnutls_x509_crt_t root;
	gnutls_x509_privkey_t key;  /* NULL: anonymous */
	char *cert_pem;
	spn_revoked_t *revoked;
	char *crl_file;             /* NULL: the entry node's */
	bool no_reopen;
	json_object *chain;         /* a node's calls: the chain its messages carry (chain.h), not owned */
	spn_client_session_t s[SPN_CLIENT_SESSIONS];
};

/* A client inside a node, for the calls its plugins make: it signs its
 * session requests with the node's key and certificate (both borrowed, as
 * is the node's CRL), and reaches the tree through post. */
int spn_client_new_local(const char *name, gnutls_x509_crt_t root, gnutls_x509_privkey_t key, const char *cert_pem,
			 spn_revoked_t *revoked, spn_client_post_fn post, void *user, spn_client_t **out);

/* spn_client_send with the message id given, sections of others carried
 * along (opaque JWEs), and the replies for the original client that came
 * back (a JSON array the caller puts; NULL when none). */
int spn_client_send_ex(spn_client_t *c, const char *mid, const spn_client_part_t *parts, size_t n,
		       spn_client_reply_t *replies, json_object *carry, json_object **carried_back);

/* POSTs a JSON body to path at the entry node; *ans is the answer parsed,
 * whatever its status. */
int spn_client_post(spn_client_t *c, const char *path, json_object *body, long *status, json_object **ans);

/* The session for service (open or not), or a free slot for it; NULL when
 * all slots hold other services. */
spn_client_session_t *spn_client_session(spn_client_t *c, const char *service);

/* The code of an error name as nodes send it (unknown names: unavailable). */
int spn_client_code_of(const char *name);

/* A fresh message id. */
void spn_client_new_mid(char *out, size_t cap);

/* Forgets every session (their keys wiped). */
void spn_client_forget(spn_client_t *c);

/* Forgets a session's keys. */
void spn_client_session_drop(spn_client_session_t *s);
