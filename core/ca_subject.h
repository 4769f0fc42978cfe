/* Subject attributes a request may ask for beyond the identity: the
 * pseudo-CSR's "subject" object (CN, O, OU, C, ST, L, E, GN, SN, the names
 * the seed appliance uses), checked against X.520 / RFC 5280 bounds. CN and
 * O stay the CA's: node id and group (doc/ca.md §8). */
#pragma once

#include <gnutls/x509.h>
#include <json-c/json.h>
#include <stdbool.h>

/* Upper bounds in characters (RFC 5280 Appendix A ub-* values; E is
 * ASCII, so bytes). A character takes up to 4 bytes in UTF-8. */
#define SPN_CA_SUBJECT_NAME_MAX 64   /* CN, O, OU, GN, SN */
#define SPN_CA_SUBJECT_PLACE_MAX 128 /* ST, L */
#define SPN_CA_SUBJECT_EMAIL_MAX 255 /* E */

typedef struct {
	char cn[4 * SPN_CA_SUBJECT_NAME_MAX + 1];
	char o[4 * SPN_CA_SUBJECT_NAME_MAX + 1];
	char ou[4 * SPN_CA_SUBJECT_NAME_MAX + 1];
	char c[3];
	char st[4 * SPN_CA_SUBJECT_PLACE_MAX + 1];
	char l[4 * SPN_CA_SUBJECT_PLACE_MAX + 1];
	char e[SPN_CA_SUBJECT_EMAIL_MAX + 1];
	char gn[4 * SPN_CA_SUBJECT_NAME_MAX + 1];
	char sn[4 * SPN_CA_SUBJECT_NAME_MAX + 1];
} spn_ca_subject_t;

/* Sets attribute key ("OU", "C", …) to value after its rules: length,
 * valid UTF-8 without control characters, C two upper-case letters, E an
 * addr-spec. SPN_EINVAL naming the key on failure. */
int spn_ca_subject_set(spn_ca_subject_t *s, const char *key, const char *value);

/* Reads a JSON object of attributes (unknown keys refused, each value a
 * string) into *s, which it clears first. */
int spn_ca_subject_parse(json_object *obj, spn_ca_subject_t *s);

/* Refuses (SPN_EPOLICY) a CN or O that is not the node id or group: the
 * CA binds those itself and never silently replaces what was asked. */
int spn_ca_subject_check_ident(const spn_ca_subject_t *s, const char *node_id, const char *group);

/* Whether any attribute beyond CN and O is set. */
bool spn_ca_subject_is_empty(const spn_ca_subject_t *s);

/* Adds OU, C, ST, L, E, GN and SN to crt's subject DN (CN and O are the
 * signer's). Returns a GnuTLS code, as the signing steps around it do. */
int spn_ca_subject_apply(const spn_ca_subject_t *s, gnutls_x509_crt_t crt);

/* Reads those attributes back from an issued certificate, so that a
 * renewal keeps them. */
int spn_ca_subject_from_crt(gnutls_x509_crt_t crt, spn_ca_subject_t *s);
