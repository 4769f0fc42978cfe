/* Certificates: loading, the identity they bind, serials and fingerprints,
 * and chain verification to the group's root at spn's clock. */
#pragma once

#include <gnutls/x509.h>
#include <stddef.h>

#include "ident.h"

#define SPN_CERT_MAX (32 * 1024)
#define SPN_SERIAL_HEX 41
#define SPN_FPR_HEX 65

/* Exactly one PEM certificate; release with gnutls_x509_crt_deinit. */
int spn_pki_cert_import(const char *pem, size_t len, gnutls_x509_crt_t *out);
int spn_pki_cert_load(const char *path, gnutls_x509_crt_t *out);

/* The most certificates a path (a CA and those above it, or a leaf and
 * those above it) may hold where spn reads one. */
#define SPN_CERT_PATH_MAX 8

/* The certificates in a file, in their order: PEM (one or more) or one
 * DER certificate; at most max of them. Release with spn_pki_cert_list_free. */
int spn_pki_cert_list_load(const char *path, unsigned max, gnutls_x509_crt_t **out, unsigned *n);
/* The same from memory; what names the text in errors. On failure *out is
 * NULL and *n 0. */
int spn_pki_cert_list_import(const char *text, size_t len, const char *what, unsigned max, gnutls_x509_crt_t **out,
			     unsigned *n);
void spn_pki_cert_list_free(gnutls_x509_crt_t *certs, unsigned n);

/* The certificates as consecutive PEM blocks; *pem is the caller's. */
int spn_pki_cert_list_export(const gnutls_x509_crt_t *certs, unsigned n, char **pem);

/* The DER of a PEM certificate in standard base64; caller frees. */
int spn_pki_cert_b64(const char *pem, char **out);

/* PEM text; *pem is the caller's to free. */
int spn_pki_cert_export(gnutls_x509_crt_t crt, char **pem);

/* Node id (CN), group (O), role, trust and services (the spn extension). */
int spn_pki_cert_ident(gnutls_x509_crt_t crt, spn_ident_t *id);

/* Serial as lowercase hex, in buf of SPN_SERIAL_HEX bytes. */
int spn_pki_cert_serial(gnutls_x509_crt_t crt, char *buf);

/* A serial as an operator or a caller writes it (1 to 40 hexadecimal
 * digits, either case, as openssl prints them) in the form the ledger keeps,
 * lower case, in buf of SPN_SERIAL_HEX bytes; SPN_EINVAL for anything else. */
int spn_serial_parse(const char *text, char *buf);

/* SHA-256 of the DER certificate as lowercase hex (SPN_FPR_HEX bytes). */
int spn_pki_cert_fingerprint(gnutls_x509_crt_t crt, char *buf);

/* The DNS names and IP addresses crt serves HTTPS on. */
struct spn_names;
int spn_pki_cert_names(gnutls_x509_crt_t crt, struct spn_names *names);

/* libcurl's public key pin of crt: "sha256//" and the base64 SHA-256 of its
 * SubjectPublicKeyInfo, in buf of SPN_PIN_MAX bytes. */
#define SPN_PIN_MAX 53
int spn_pki_cert_pin(gnutls_x509_crt_t crt, char *buf);

/* Verifies crt was issued by root and is within its validity at spn's
 * clock. Revocation is the caller's check (ledger or CRL). */
int spn_pki_cert_verify(gnutls_x509_crt_t crt, gnutls_x509_crt_t root);

/* Checks that key is the private half of crt's public key. */
int spn_pki_cert_matches_key(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key);
