/* A running node: its identity (key, certificate, the group's root), its
 * HTTPS server, and on the PSP the certificate authority. spnd is a thin
 * main over this. */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "ca.h"
#include "conf.h"
#include "http_server.h"
#include "ident.h"

typedef struct {
	spn_conf_t *conf;
	spn_ident_t id;
	char *key_pem, *cert_pem, *root_pem;
	gnutls_x509_crt_t root;
	spn_ca_t *ca;              /* PSP only */
	pthread_mutex_t ca_lock;   /* the CA's ledger transactions are one at a time */
	spn_http_server_t *http;
	bool tls;
} spn_node_t;

/* The configuration keys of [http]. */
extern const spn_conf_key_t spn_node_http_keys[];
extern const size_t spn_node_http_nkeys;

/* Loads the node described by conf (which it keeps, not owns): checks that
 * the key matches the certificate, that the certificate comes from the
 * group's root and is valid now; on the PSP opens the CA with its key. */
int spn_node_open(spn_conf_t *conf, spn_node_t **out);

/* Starts the HTTPS server as [http] says; writes the bound port to
 * [http] port_file when set. */
int spn_node_start(spn_node_t *node);

void spn_node_close(spn_node_t *node);

/* The REST API (doc/rest-api.md). */
extern const spn_http_route_t spn_node_routes[];
extern const size_t spn_node_nroutes;
