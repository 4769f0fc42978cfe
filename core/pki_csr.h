/* Certificate signing requests: built on the node that holds the key, and
 * parsed at the CA with every check a CA owes its requesters. */
#pragma once

#include <gnutls/x509.h>
#include <stddef.h>

#include "pki_key.h"

#define SPN_CSR_MAX (16 * 1024)
#define SPN_SAN_MAX 8
#define SPN_DNS_MAX 253

/* The names a node serves HTTPS on, bound into its certificate. */
typedef struct spn_names {
	size_t n_dns, n_ip;
	char dns[SPN_SAN_MAX][SPN_DNS_MAX + 1];
	char ip[SPN_SAN_MAX][46];
} spn_names_t;

/* The binary form of a textual IP address in bin; returns 4 or 16, or -1
 * when ip is not an address. */
int spn_names_ip_bin(const char *ip, unsigned char bin[16]);

/* Reads DNS names and IP addresses through get (a subjectAltName getter of
 * GnuTLS's shape) into names; what names the object in errors. */
typedef int (*spn_names_get_fn)(void *ctx, unsigned i, void *buf, size_t *n, unsigned *type);
int spn_names_collect(spn_names_get_fn get, void *ctx, const char *what, spn_names_t *names);

/* Adds a name whose type was given: a DNS name (refusing an invalid one,
 * and an IP address written as one), or an IP address (refusing anything
 * else). A name is never moved to the other type behind its writer's back. */
int spn_names_add_dns(spn_names_t *names, const char *name);
int spn_names_add_ip(spn_names_t *names, const char *ip);

/* Adds a name given without a type (the command line's DNS_OR_IP): an IP
 * address when it reads as one, else a DNS name. */
int spn_names_add(spn_names_t *names, const char *name);

/* A PEM CSR for node_id (the subject CN) with names as subjectAltName,
 * signed by key. *pem is the caller's to free. */
int spn_pki_csr_build(gnutls_x509_privkey_t key, const char *node_id, const spn_names_t *names, char **pem);

/* Parses exactly one PEM CSR of at most SPN_CSR_MAX bytes, verifies its self
 * signature and key type. Release with gnutls_x509_crq_deinit. */
int spn_pki_csr_parse(const char *pem, size_t len, gnutls_x509_crq_t *out);

/* The CN the request asks for, in buf of cap bytes. */
int spn_pki_csr_node_id(gnutls_x509_crq_t crq, char *buf, size_t cap);

/* The DNS and IP subjectAltNames the request asks for, validated. */
int spn_pki_csr_names(gnutls_x509_crq_t crq, spn_names_t *names);
