/* What the CA's files share: the CA object and the one function that signs
 * a certificate. */
#pragma once

#include <gnutls/abstract.h>

#include "ca.h"
#include "pki_signer.h"
#include "ca_template.h"

/* Clock skew tolerated between members: certificates start a little early. */
#define SPN_CA_BACKDATE 60

struct spn_ca {
	spn_conf_t *conf; /* not owned */
	spn_pki_signer_t signer; /* the root key, in a file or a token */
	gnutls_x509_crt_t root;   /* the group's CA, self-signed or not */
	gnutls_x509_crt_t *above; /* [ca] chain: the certificates above root */
	unsigned n_above;
	char *tail;               /* what issued certificates carry after
				   * themselves (ca_chain.c); NULL: nothing */
	gnutls_x509_privkey_t node_key; /* the PSP's node key, for tokens */
	char psp_id[SPN_NAME_MAX + 1];
	char group[SPN_NAME_MAX + 1];
	char *crl_path;
	char *crl_url;
	bool crl_stale;   /* a change is recorded that the CRL file does not show yet */
	spn_ledger_t *ledger;
	spn_ca_policy_t policy;
	spn_ca_profile_t profiles[4];
	spn_ca_templates_t templates;
	spn_ca_hook_fn hook;
	void *hook_user;
};

/* SPN_ESTATE unless the CA was opened with its root key. */
int spn_ca_need_key(const spn_ca_t *ca);

/* Signs a certificate for pub binding id and names under profile, with a
 * fresh serial, issued by (root, key); *serial receives the hex serial.
 * subject (NULL: none) adds the attributes beyond CN and O. */
int spn_ca_sign(gnutls_x509_crt_t root, gnutls_privkey_t key, gnutls_pubkey_t pub, const spn_ident_t *id,
		const spn_names_t *names, const spn_ca_profile_t *profile, const char *crl_url, time_t now,
		gnutls_x509_crt_t *out, char *serial, const spn_ca_subject_t *subject);

/* Records crt in the ledger and returns it in out; inside the caller's
 * transaction. tpl (NULL: none) is the template it was issued under. */
int spn_ca_record(spn_ca_t *ca, gnutls_x509_crt_t crt, const spn_ident_t *id, const char *parent,
		  const char *token_id, const char *tpl, time_t now, spn_ca_issued_t *out);

/* The certificates above the group's CA (ca_chain.c). A CA that is not
 * self-signed is an intermediate of some other authority: the certificates
 * it issues carry it and what is above it, so that a relying party holding
 * only the top one can build the path.
 *   spn_ca_chain_tail: that text for root and above (*out NULL when root
 *     is self-signed; else the caller's).
 *   spn_ca_chain_load: [ca] chain, when set, into ca->above; ca->tail.
 *   spn_ca_chain_attach: leaf followed by ca->tail, in *out (caller's). */
int spn_ca_chain_tail(gnutls_x509_crt_t root, const gnutls_x509_crt_t *above, unsigned n, char **out);
int spn_ca_chain_load(spn_ca_t *ca);
int spn_ca_chain_attach(const spn_ca_t *ca, const char *leaf, char **out);
