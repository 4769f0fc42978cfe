/* The group's CA as a node finds it under the anchor it trusts: the anchor
 * itself, or the intermediate its own certificate carries (doc/ca.md §2,
 * "Adopting an existing CA"). */
#pragma once

/* anchor_pem: [node] root (one or more PEM certificates); cert_pem: the
 * node's certificate, the leaf first and the chain it carries after it.
 * When an anchor issued the leaf, *ca_pem is that anchor; else the carried
 * certificate that issued it, once the carried chain is verified up to an
 * anchor. *ca_pem is the caller's. SPN_EBADCERT says what did not lead
 * there. */
int spn_pki_anchor_ca(const char *anchor_pem, const char *cert_pem, char **ca_pem);
