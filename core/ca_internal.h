/* What the CA's files share: the CA object and the one function that signs
 * a certificate. */
#pragma once

#include <gnutls/abstract.h>

#include "ca.h"
#include "ca_template.h"

struct spn_ca {
	spn_conf_t *conf; /* not owned */
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t root;
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
int spn_ca_sign(gnutls_x509_crt_t root, gnutls_x509_privkey_t key, gnutls_pubkey_t pub, const spn_ident_t *id,
		const spn_names_t *names, const spn_ca_profile_t *profile, const char *crl_url, time_t now,
		gnutls_x509_crt_t *out, char *serial, const spn_ca_subject_t *subject);

/* Records crt in the ledger and returns it in out; inside the caller's
 * transaction. tpl (NULL: none) is the template it was issued under. */
int spn_ca_record(spn_ca_t *ca, gnutls_x509_crt_t crt, const spn_ident_t *id, const char *parent,
		  const char *token_id, const char *tpl, time_t now, spn_ca_issued_t *out);
