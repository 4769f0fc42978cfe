/* Renewal: a member whose certificate is valid gets a fresh one for the same
 * identity and key, on a CSR signed by that key, before the old one expires.
 * No token: the certificate and the proof of its key stand for it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ca_internal.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "pki_cert.h"

/* Only the newest certificate renews, so that old ones cannot breed; but
 * when the newest is this one's renewal, the answer was lost on the way and
 * is given again (1). */
static int newest_and_parent(spn_ca_t *ca, const spn_ledger_cert_t *cur, time_t now, spn_ca_issued_t *out)
{
	spn_ledger_cert_t latest;
	char again[SPN_SERIAL_HEX + 8];
	bool parent_ok = true;
	int rc = spn_ledger_cert_current(ca->ledger, cur->id.node_id, now, &latest);

	if (rc)
		return rc;
	snprintf(again, sizeof(again), "renew:%s", cur->serial);
	if (strcmp(latest.serial, cur->serial) != 0 && strcmp(latest.token_id, again) == 0) {
		strcpy(out->serial, latest.serial);
		out->id = latest.id;
		out->not_after = latest.not_after;
		rc = spn_ca_chain_attach(ca, latest.pem, &out->cert_pem);
		if (rc == 0)
			rc = 1;
	} else if (strcmp(latest.serial, cur->serial) != 0) {
		rc = spn_err(SPN_EDENIED, "%s holds a newer certificate (%s); renew that one", cur->id.node_id,
			     latest.serial);
	}
	spn_ledger_cert_clear(ca->ledger, &latest);
	if (rc == 0 && cur->parent[0]) {
		spn_ledger_cert_t parent;
		if (spn_ledger_cert_current(ca->ledger, cur->parent, now, &parent) == 0)
			spn_ledger_cert_clear(ca->ledger, &parent);
		else
			parent_ok = false;
		if (!parent_ok)
			rc = spn_err(SPN_EDENIED, "%s was accepted by %s, which holds no valid certificate any more",
				     cur->id.node_id, cur->parent);
	}
	return rc;
}

/* The role's profile, narrowed to what crt had: a certificate issued under
 * a template (a shorter validity, fewer key usages) renews as it was, never
 * as the wider profile. */
static void as_it_was(const spn_ca_profile_t *role, gnutls_x509_crt_t crt, gnutls_x509_crt_t ca,
		      spn_ca_profile_t *out)
{
	time_t end = gnutls_x509_crt_get_expiration_time(crt);
	/* A lifetime the CA's own end cut short says nothing of the profile. */
	time_t lived = end >= gnutls_x509_crt_get_expiration_time(ca)
			       ? 0
			       : end - gnutls_x509_crt_get_activation_time(crt) - SPN_CA_BACKDATE;
	unsigned ku = 0;
	bool server = false, client = false;
	char oid[128];

	*out = *role;
	if (lived > 0 && (unsigned long)lived < out->validity)
		out->validity = (unsigned long)lived;
	if (gnutls_x509_crt_get_key_usage(crt, &ku, NULL) >= 0)
		out->key_usage &= ku;
	for (unsigned i = 0;; i++) {
		size_t len = sizeof(oid);
		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len, NULL) < 0)
			break;
		server |= strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0;
		client |= strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0;
	}
	out->server_auth = out->server_auth && server;
	out->client_auth = out->client_auth && client;
}

int spn_ca_renew(spn_ca_t *ca, const char *csr, size_t csr_len, const char *cert, size_t cert_len,
		 spn_ca_issued_t *out)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_x509_crt_t crt = NULL, issued = NULL;
	gnutls_pubkey_t pub = NULL;
	spn_ledger_cert_t cur;
	spn_names_t names, old_names;
	spn_ca_subject_t subject;
	spn_ca_profile_t prof;
	char serial[SPN_SERIAL_HEX], new_serial[SPN_SERIAL_HEX], cn[SPN_NAME_MAX + 1];
	char pin_old[SPN_PIN_MAX], pin_new[SPN_PIN_MAX], token_id[SPN_SERIAL_HEX + 8];
	time_t now = spn_clock_now();
	bool have_cur = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_pki_cert_import(cert, cert_len, &crt)) || (rc = spn_pki_cert_verify(crt, ca->root)) ||
	    (rc = spn_pki_cert_serial(crt, serial)) || (rc = spn_pki_cert_pin(crt, pin_old)))
		goto out;
	if ((rc = spn_ledger_cert_get(ca->ledger, serial, &cur))) {
		rc = spn_err(SPN_EDENIED, "certificate %s is not in the ledger", serial);
		goto out;
	}
	have_cur = true;
	if (cur.status != SPN_CERT_VALID) {
		rc = spn_err(SPN_EREVOKED, "certificate %s of %s is not valid (%s): no renewal", serial, cur.id.node_id,
			     spn_cert_status_name(cur.status));
		goto out;
	}
	if ((rc = spn_pki_csr_parse(csr, csr_len, &crq)) || (rc = spn_pki_csr_node_id(crq, cn, sizeof(cn))) ||
	    (rc = spn_pki_csr_names(crq, &names)) || (rc = spn_pki_cert_names(crt, &old_names)))
		goto out;
	if (memcmp(&names, &old_names, sizeof(names)) != 0) {
		rc = spn_err(SPN_EBADCSR, "a renewal keeps the certificate's names; enroll again to change them");
		goto out;
	}
	if (strcmp(cn, cur.id.node_id) != 0) {
		rc = spn_err(SPN_EBADCSR, "renewal CSR asks for '%s' with the certificate of '%s'", cn, cur.id.node_id);
		goto out;
	}
	/* The CSR's self-signature proves the key; it must be the certified one. */
	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_x509_crq(pub, crq, 0) < 0) {
		rc = spn_err(SPN_EBADCSR, "cannot read the CSR's public key");
		goto out;
	}
	if (gnutls_x509_crt_init(&issued) < 0 || gnutls_x509_crt_set_pubkey(issued, pub) < 0 ||
	    (rc = spn_pki_cert_pin(issued, pin_new)))
		goto out;
	gnutls_x509_crt_deinit(issued);
	issued = NULL;
	if (strcmp(pin_old, pin_new) != 0) {
		rc = spn_err(SPN_EDENIED, "renewal CSR of %s is not signed by its certified key", cur.id.node_id);
		goto out;
	}
	/* Only while the administrator that accepted the node stands. */
	if ((rc = newest_and_parent(ca, &cur, now, out)) == 1) {
		spn_log_info("renewal of %s for %s answered again with %s", serial, cur.id.node_id, out->serial);
		rc = 0;
		goto out;
	}
	if (rc || (rc = spn_ca_need_key(ca)) || (rc = spn_ledger_begin(ca->ledger)))
		goto out;
	snprintf(token_id, sizeof(token_id), "renew:%s", serial);
	/* The subject attributes beyond CN and O, the validity and the usages
	 * go on as they were, within the role's profile as it is now. */
	as_it_was(&ca->profiles[cur.id.role], crt, ca->root, &prof);
	if ((rc = spn_ca_subject_from_crt(crt, &subject)) == 0)
		rc = spn_ca_sign(ca->root, ca->signer.key, pub, &cur.id, &names, &prof, ca->crl_url, now, &issued,
				 new_serial, &subject);
	if (rc == 0)
		rc = spn_ca_record(ca, issued, &cur.id, cur.parent, token_id, NULL, now, out);
	if (rc == 0 && (rc = spn_ledger_event(ca->ledger, now, "renew", new_serial, cur.id.node_id, serial)) == 0)
		rc = spn_ledger_commit(ca->ledger);
	if (rc) {
		spn_ledger_rollback(ca->ledger);
		spn_ca_issued_clear(out);
		goto out;
	}
	spn_log_info("renewed %s for %s as %s", serial, cur.id.node_id, new_serial);
out:
	if (have_cur)
		spn_ledger_cert_clear(ca->ledger, &cur);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crq)
		gnutls_x509_crq_deinit(crq);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (issued)
		gnutls_x509_crt_deinit(issued);
	return rc;
}
