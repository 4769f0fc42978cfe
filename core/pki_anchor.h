/* The group's CA as a node finds it under the anchor it trusts: the anchor
 * itself, or the intermediate its own certificate carries (doc/ca.md §2,
 * "Adopting an existing CA"). */
#pragma once

#include <stdbool.h>

/* anchor_pem: [node] root (one or more PEM certificates); cert_pem: the
 * node's certificate, the leaf first and the chain it carries after it.
 * When an anchor issued the leaf, *ca_pem is that anchor; else the carried
 * certificate that issued it, once the carried chain is verified up to an
 * anchor. *ca_pem is the caller's. SPN_EBADCERT says what did not lead
 * there. */
int spn_pki_anchor_ca(const char *anchor_pem, const char *cert_pem, char **ca_pem, bool *above);

/* The same from the two files; errors name both. *above is true when the
 * anchor is above the group's CA: then libcurl's check of a server against
 * the anchor is not enough (http_client.h, root_pem). */
int spn_pki_anchor_files(const char *anchor_file, const char *cert_file, char **ca_pem, bool *above);
