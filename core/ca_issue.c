/* Issuance: join tokens checked against the ledger and the group's policy,
 * then a certificate signed and recorded in one transaction. */
#include "config.h"

#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "ca_internal.h"
#include "clock.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "pki_cert.h"
#include "token.h"

int spn_ca_token_mint(spn_ca_t *ca, const spn_ident_t *node, unsigned long ttl, const char *tpl, char **out)
{
	spn_ident_t narrowed = *node;
	spn_ca_profile_t prof;
	gnutls_x509_privkey_t key;
	spn_token_t t;
	spn_ledger_token_t rec;
	time_t now = spn_clock_now();
	int rc;

	if (ttl == 0 || ttl > ca->policy.token_ttl)
		return spn_err(SPN_EPOLICY, "token lifetime must be between 1s and %lus ([ca] token_ttl)",
			       ca->policy.token_ttl);
	if (!spn_name_is_valid(node->node_id))
		return spn_err(SPN_EINVAL, "invalid node id '%.80s'", node->node_id);
	if (strcmp(node->node_id, ca->psp_id) == 0)
		return spn_err(SPN_EPOLICY, "node id '%s' is the PSP's and cannot be enrolled", ca->psp_id);
	if (node->role == SPN_ROLE_PSP)
		return spn_err(SPN_EPOLICY, "there is one PSP; a token can only be for an admin, spn or client");
	if (node->role == SPN_ROLE_ADMIN && node->trust < ca->policy.admin_threshold)
		return spn_err(SPN_EPOLICY, "trust level %u is under the admin threshold %u", node->trust,
			       ca->policy.admin_threshold);
	/* Said now rather than at enrollment: the PSP knows its templates. */
	if (tpl && *tpl && (rc = spn_ca_template_apply(&ca->templates, tpl, &narrowed, &prof)))
		return rc;
	memset(&t, 0, sizeof(t));
	if ((rc = spn_token_new_id(&t)))
		return rc;
	t.node = *node;
	snprintf(t.tpl, sizeof(t.tpl), "%s", tpl ? tpl : "");
	strcpy(t.node.group, ca->group);
	strcpy(t.minted_by, ca->psp_id);
	t.issued_at = now;
	t.expires = now + (time_t)ttl;
	memset(&rec, 0, sizeof(rec));
	strcpy(rec.id, t.id);
	strcpy(rec.node_id, node->node_id);
	strcpy(rec.minted_by, ca->psp_id);
	rec.expires = t.expires;
	if ((rc = spn_ca_node_key(ca, &key)) || (rc = spn_token_mint(&t, key, out)))
		return rc;
	if ((rc = spn_ledger_begin(ca->ledger)) == 0) {
		if ((rc = spn_ledger_token_add(ca->ledger, &rec, now)) ||
		    (rc = spn_ledger_event(ca->ledger, now, "token", "", node->node_id, t.id)) ||
		    (rc = spn_ledger_commit(ca->ledger)))
			spn_ledger_rollback(ca->ledger);
	}
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Everything about a token that can be checked before the transaction. The
 * minter's record is read under lock, when one is given: the caller's guard
 * of the ledger. */
static int token_check(spn_ca_t *ca, const char *text, size_t len, time_t now, spn_token_t *t,
		       spn_ledger_cert_t *minter, pthread_mutex_t *lock)
{
	gnutls_x509_crt_t crt;
	int rc;

	if ((rc = spn_token_decode(text, len, t)))
		return rc;
	if (strcmp(t->node.group, ca->group) != 0)
		return spn_err(SPN_ETOKEN, "join token is for group '%s', this is '%s'", t->node.group, ca->group);
	/* The PSP's id stays reserved even while it holds no valid certificate:
	 * whoever held it would sign the PSP's tokens. */
	if (strcmp(t->node.node_id, ca->psp_id) == 0)
		return spn_err(SPN_EPOLICY, "node id '%s' is the PSP's and cannot be enrolled", ca->psp_id);
	if (lock)
		pthread_mutex_lock(lock);
	rc = spn_ledger_cert_current(ca->ledger, t->minted_by, now, minter);
	if (lock)
		pthread_mutex_unlock(lock);
	if (rc && rc != SPN_ENOTFOUND)
		return rc; /* the ledger's trouble (503), not the token's */
	if (rc)
		return spn_err(SPN_ETOKEN, "join token minted by '%s', which holds no valid certificate here",
			       t->minted_by);
	rc = spn_pki_cert_import(minter->pem, strlen(minter->pem), &crt);
	if (rc == 0) {
		rc = spn_token_verify(text, t, crt);
		gnutls_x509_crt_deinit(crt);
	}
	if (rc)
		return rc;
	/* Only checked once the signature holds, so forged claims say nothing. */
	if (!spn_role_is_admin(minter->id.role))
		return spn_err(SPN_EDENIED, "'%s' is a %s and cannot accept members", t->minted_by,
			       spn_role_name(minter->id.role));
	if ((rc = spn_token_check_time(t, now, ca->policy.token_ttl)))
		return rc;
	if (t->node.role == SPN_ROLE_ADMIN && t->node.trust < ca->policy.admin_threshold)
		return spn_err(SPN_EPOLICY, "trust level %u is under the admin threshold %u", t->node.trust,
			       ca->policy.admin_threshold);
	if (minter->id.role == SPN_ROLE_ADMIN && t->node.trust > minter->id.trust)
		return spn_err(SPN_EPOLICY, "admin %s (trust %u) cannot grant trust %u", t->minted_by,
			       minter->id.trust, t->node.trust);
	/* The minter becomes the node's parent, bound in its certificate. */
	strcpy(t->node.parent, t->minted_by);
	return 0;
}

void spn_ca_set_hook(spn_ca_t *ca, spn_ca_hook_fn fn, void *user)
{
	ca->hook = fn;
	ca->hook_user = user;
}

/* The template the token names, then the policy hook's say on what is
 * about to be issued: a refusal, or a narrower identity and validity. Each
 * only narrows: neither can grant what the token and the profile did not. */
static int policy(spn_ca_t *ca, const spn_token_t *t, const char *minter, spn_ident_t *id, spn_ca_profile_t *prof)
{
	spn_ca_hook_req_t r;
	spn_ident_t base = t->node;
	int rc;

	*prof = ca->profiles[t->node.role];
	if (t->tpl[0] && (rc = spn_ca_template_apply(&ca->templates, t->tpl, &base, prof)))
		return rc;
	*id = base;
	if (!ca->hook)
		return 0;
	memset(&r, 0, sizeof(r));
	r.id = base;
	r.accepted_by = minter;
	r.validity = prof->validity;
	if (ca->hook(ca->hook_user, SPN_CA_HOOK_AUTHORIZE, &r) != 0)
		return spn_err(SPN_EPOLICY, "enrollment of %s refused by policy: %s", t->node.node_id,
			       r.why[0] ? r.why : "no reason given");
	if (ca->hook(ca->hook_user, SPN_CA_HOOK_ADJUST, &r) != 0)
		return spn_err(SPN_EPOLICY, "enrollment of %s refused by policy: %s", t->node.node_id,
			       r.why[0] ? r.why : "no reason given");
	for (size_t i = 0; i < r.id.n_services; i++)
		if (!spn_ident_provides(&base, r.id.services[i]))
			return spn_err(SPN_EPOLICY, "the policy hook added service %s, which the token does not grant",
				       r.id.services[i]);
	if (strcmp(r.id.node_id, t->node.node_id) != 0 || r.id.role != t->node.role || r.id.trust > t->node.trust ||
	    strcmp(r.id.parent, t->node.parent) != 0 || strcmp(r.id.group, t->node.group) != 0)
		return spn_err(SPN_EPOLICY, "the policy hook changed more than services, trust or validity");
	if (r.validity && r.validity < prof->validity)
		prof->validity = r.validity;
	*id = r.id;
	return 0;
}

/* An issuance between its signature and its record (ca.h). */
struct spn_ca_pending {
	spn_token_t t;
	spn_ledger_cert_t minter;
	spn_ident_t id;
	spn_ca_profile_t prof;
	gnutls_pubkey_t pub;
	spn_names_t names;
	spn_ca_subject_t subject;
	gnutls_x509_crt_t crt;
	char serial[SPN_SERIAL_HEX];
	time_t now;
	bool recorded;
};

void spn_ca_pending_free(spn_ca_t *ca, spn_ca_pending_t *p)
{
	if (!p)
		return;
	spn_ledger_cert_clear(ca->ledger, &p->minter);
	if (p->pub)
		gnutls_pubkey_deinit(p->pub);
	if (p->crt)
		gnutls_x509_crt_deinit(p->crt);
	free(p);
}

/* The work that needs no ledger: the policy's say, and the signature. */
static int sign(spn_ca_t *ca, spn_ca_pending_t *p)
{
	int rc;

	if ((rc = spn_ca_need_key(ca)) || (rc = policy(ca, &p->t, p->minter.id.node_id, &p->id, &p->prof)))
		return rc;
	return spn_ca_sign(ca->root, ca->signer.key, p->pub, &p->id, &p->names, &p->prof, ca->crl_url, p->now, &p->crt,
			   p->serial, &p->subject);
}

int spn_ca_pending_record(spn_ca_t *ca, spn_ca_pending_t *p, spn_ca_issued_t *out)
{
	spn_ledger_token_t use;
	spn_ledger_cert_t cur;
	const spn_token_t *t = &p->t;
	time_t now = spn_clock_now();  /* the request may have waited for its turn */
	unsigned children = 0;
	bool in_use = false;
	int rc, tries;

	memset(out, 0, sizeof(*out));
	memset(&cur, 0, sizeof(cur));
	memset(&use, 0, sizeof(use));
	strcpy(use.id, t->id);
	strcpy(use.node_id, t->node.node_id);
	strcpy(use.minted_by, t->minted_by);
	use.expires = t->expires;
	if ((rc = spn_token_check_time(t, now, ca->policy.token_ttl)))
		return rc;
	if ((rc = spn_ledger_begin(ca->ledger)))
		return rc;
	/* What the ledger says now: the minter still holds the certificate
	 * whose key signed the token, the id is free, the minter has room. */
	if ((rc = spn_ledger_cert_current(ca->ledger, t->minted_by, now, &cur)) && rc != SPN_ENOTFOUND)
		goto fail; /* the ledger's trouble, not the token's */
	if (rc || strcmp(cur.serial, p->minter.serial) != 0) {
		rc = spn_err(SPN_ETOKEN, "join token minted by '%s', which no longer holds the certificate that signed it",
			     t->minted_by);
		goto fail;
	}
	if ((rc = spn_ledger_node_in_use(ca->ledger, t->node.node_id, now, &in_use)))
		goto fail;
	if (in_use) {
		rc = spn_err(SPN_EEXIST, "node id '%s' already holds a valid certificate", t->node.node_id);
		goto fail;
	}
	if (p->minter.id.role == SPN_ROLE_ADMIN) {
		if ((rc = spn_ledger_children(ca->ledger, p->minter.id.node_id, now, &children)))
			goto fail;
		if (children >= ca->policy.max_children) {
			rc = spn_err(SPN_ELIMIT, "admin %s already has %u members (max_children = %u)",
				     p->minter.id.node_id, children, ca->policy.max_children);
			goto fail;
		}
	}
	/* A serial collision is astronomically unlikely; the primary key makes
	 * it harmless, and a new signature draws a fresh one. */
	for (tries = 0; tries < 3; tries++) {
		rc = spn_ca_record(ca, p->crt, &p->id, p->minter.id.node_id, t->id, t->tpl, p->now, out);
		if (rc != SPN_EEXIST)
			break;
		gnutls_x509_crt_deinit(p->crt);
		p->crt = NULL;
		if ((rc = spn_ca_sign(ca->root, ca->signer.key, p->pub, &p->id, &p->names, &p->prof, ca->crl_url, p->now,
				      &p->crt, p->serial, &p->subject)))
			break;
	}
	if (rc)
		goto fail;
	if ((rc = spn_ledger_token_use(ca->ledger, &use, p->serial, now)) || (rc = spn_ledger_commit(ca->ledger))) {
		spn_ca_issued_clear(out);
		goto fail;
	}
	spn_ledger_cert_clear(ca->ledger, &cur);
	p->recorded = true;
	return 0;
fail:
	spn_ledger_cert_clear(ca->ledger, &cur);
	spn_ledger_rollback(ca->ledger);
	return rc;
}

void spn_ca_pending_announce(spn_ca_t *ca, const spn_ca_pending_t *p)
{
	spn_ca_hook_req_t r;

	if (!p->recorded)
		return;
	spn_log_info("issued %s to %s (%s, trust %u) accepted by %s", p->serial, p->t.node.node_id,
		     spn_role_name(p->t.node.role), p->id.trust, p->minter.id.node_id);
	if (!ca->hook)
		return;
	memset(&r, 0, sizeof(r));
	r.id = p->id;
	r.accepted_by = p->minter.id.node_id;
	r.validity = p->prof.validity;
	r.serial = p->serial;
	ca->hook(ca->hook_user, SPN_CA_HOOK_ISSUED, &r);
}

/* Signs, records and announces in one go: the pending issuance p has its
 * token, minter, public key and names. */
static int issue(spn_ca_t *ca, spn_ca_pending_t *p, spn_ca_issued_t *out)
{
	int rc;

	if ((rc = sign(ca, p)) || (rc = spn_ca_pending_record(ca, p, out)))
		return rc;
	spn_ca_pending_announce(ca, p);
	return 0;
}

int spn_ca_prepare_csr(spn_ca_t *ca, const char *csr, size_t csr_len, const char *token, size_t token_len,
		       pthread_mutex_t *lock, spn_ca_pending_t **out)
{
	gnutls_x509_crq_t crq = NULL;
	spn_ca_pending_t *p = calloc(1, sizeof(*p));
	char cn[SPN_NAME_MAX + 1];
	int rc;

	*out = NULL;
	if (!p)
		return SPN_ENOMEM;
	p->now = spn_clock_now();
	if ((rc = spn_pki_csr_parse(csr, csr_len, &crq)) || (rc = spn_pki_csr_node_id(crq, cn, sizeof(cn))) ||
	    (rc = spn_pki_csr_names(crq, &p->names)))
		goto out;
	if ((rc = token_check(ca, token, token_len, p->now, &p->t, &p->minter, lock)))
		goto out;
	if (strcmp(cn, p->t.node.node_id) != 0) {
		rc = spn_err(SPN_ETOKEN, "join token is for node '%s' but the CSR asks for '%s'", p->t.node.node_id,
			     cn);
		goto out;
	}
	if (gnutls_pubkey_init(&p->pub) < 0 || gnutls_pubkey_import_x509_crq(p->pub, crq, 0) < 0) {
		rc = spn_err(SPN_EBADCSR, "cannot read the CSR's public key");
		goto out;
	}
	rc = sign(ca, p);
out:
	if (crq)
		gnutls_x509_crq_deinit(crq);
	if (rc)
		spn_ca_pending_free(ca, p);
	else
		*out = p;
	return rc;
}

int spn_ca_enroll_csr(spn_ca_t *ca, const char *csr, size_t csr_len, const char *token, size_t token_len,
		      spn_ca_issued_t *out)
{
	spn_ca_pending_t *p = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_ca_prepare_csr(ca, csr, csr_len, token, token_len, NULL, &p)))
		return rc;
	if ((rc = spn_ca_pending_record(ca, p, out)) == 0)
		spn_ca_pending_announce(ca, p);
	spn_ca_pending_free(ca, p);
	return rc;
}

#define PSEUDO_MAX (16 * 1024)

/* A passphrase of 144 random bits, base64url. */
static int random_pass(char **out)
{
	unsigned char raw[18];
	int rc;

	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0)
		return spn_err(SPN_ECRYPTO, "no randomness");
	rc = spn_b64url_encode(raw, sizeof(raw), out);
	spn_wipe(raw, sizeof(raw));
	return rc;
}

int spn_ca_pseudo_parse(const char *json, size_t json_len, spn_ca_pseudo_t *out)
{
	static const char *const allowed[] = {"node_id", "dns", "ip", "public_key", "subject", NULL};
	json_object *o = NULL, *subject;
	const char *node_id, *pubkey_pem, **dns = NULL, **ip = NULL;
	size_t ndns = 0, nip = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (json_len > PSEUDO_MAX)
		return spn_err(SPN_EBADCSR, "pseudo-CSR larger than %d bytes", PSEUDO_MAX);
	if ((rc = spn_json_parse(json, json_len, &o)) || (rc = spn_json_only(o, "request", allowed)) ||
	    (rc = spn_json_str(o, "node_id", true, SPN_NAME_MAX, &node_id)) ||
	    (rc = spn_json_str(o, "public_key", false, 8192, &pubkey_pem)) ||
	    (rc = spn_json_strs(o, "dns", false, SPN_SAN_MAX, SPN_DNS_MAX, &dns, &ndns)) ||
	    (rc = spn_json_strs(o, "ip", false, SPN_SAN_MAX, 45, &ip, &nip))) {
		rc = spn_err(SPN_EBADCSR, "pseudo-CSR: %s", spn_err_detail(rc));
		goto out;
	}
	snprintf(out->node_id, sizeof(out->node_id), "%s", node_id);
	if (json_object_object_get_ex(o, "subject", &subject) && subject &&
	    (rc = spn_ca_subject_parse(subject, &out->subject))) {
		rc = spn_err(SPN_EBADCSR, "pseudo-CSR: %s", spn_err_detail(rc));
		goto out;
	}
	/* Each entry is of the type its member says, or refused. */
	for (size_t i = 0; i < ndns + nip; i++) {
		bool is_dns = i < ndns;
		if ((rc = is_dns ? spn_names_add_dns(&out->names, dns[i]) : spn_names_add_ip(&out->names, ip[i - ndns]))) {
			rc = spn_err(SPN_EBADCSR, "pseudo-CSR: %s[%zu]: %s", is_dns ? "dns" : "ip",
				     is_dns ? i : i - ndns, spn_err_detail(rc));
			goto out;
		}
	}
	if (pubkey_pem) {
		gnutls_datum_t d = {(unsigned char *)pubkey_pem, (unsigned)strlen(pubkey_pem)};
		unsigned bits = 0;
		spn_key_type_t type;
		if (gnutls_pubkey_init(&out->pub) < 0) {
			rc = SPN_ENOMEM;
			goto out;
		}
		if (gnutls_pubkey_import(out->pub, &d, GNUTLS_X509_FMT_PEM) < 0) {
			rc = spn_err(SPN_EBADCSR, "pseudo-CSR: public_key is not a PEM SubjectPublicKeyInfo");
			goto out;
		}
		rc = spn_pki_key_type_of((gnutls_pk_algorithm_t)gnutls_pubkey_get_pk_algorithm(out->pub, &bits), bits,
					 &type);
	}
out:
	if (rc)
		spn_ca_pseudo_clear(out);
	free(dns);
	free(ip);
	json_object_put(o);
	return rc;
}

void spn_ca_pseudo_clear(spn_ca_pseudo_t *r)
{
	if (r->pub)
		gnutls_pubkey_deinit(r->pub);
	memset(r, 0, sizeof(*r));
}

int spn_ca_enroll_pseudo(spn_ca_t *ca, const char *json, size_t json_len, const char *token, size_t token_len,
			 const char *pass, spn_ca_issued_t *out)
{
	spn_ca_pseudo_t rq;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t der = {NULL, 0};
	spn_ca_pending_t *p;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_ca_pseudo_parse(json, json_len, &rq)))
		return rc;
	if (!rq.pub && pass && strlen(pass) < 8) {
		spn_ca_pseudo_clear(&rq);
		return spn_err(SPN_EINVAL, "PKCS#12 passphrase must have at least 8 characters");
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		spn_ca_pseudo_clear(&rq);
		return SPN_ENOMEM;
	}
	p->now = spn_clock_now();
	p->names = rq.names;
	p->subject = rq.subject;
	/* The pending request owns the key from here. */
	p->pub = rq.pub;
	rq.pub = NULL;
	if ((rc = token_check(ca, token, token_len, p->now, &p->t, &p->minter, NULL)))
		goto out;
	if (strcmp(rq.node_id, p->t.node.node_id) != 0) {
		rc = spn_err(SPN_ETOKEN, "join token is for node '%s' but the pseudo-CSR asks for '%s'",
			     p->t.node.node_id, rq.node_id);
		goto out;
	}
	if ((rc = spn_ca_subject_check_ident(&rq.subject, rq.node_id, ca->group))) {
		rc = spn_err(rc, "pseudo-CSR: %s", spn_err_detail(rc));
		goto out;
	}
	/* The constrained-device flow: the key is made here and leaves only
	 * inside the passphrase-protected bundle. */
	if (!p->pub && ((rc = spn_pki_key_generate(ca->policy.generated_key_type, &key)) ||
			(rc = spn_pki_key_pubkey(key, &p->pub))))
		goto out;
	if ((rc = issue(ca, p, out)))
		goto out;
	if (key) {
		if (pass) {
			out->p12_pass = strdup(pass);
			rc = out->p12_pass ? 0 : SPN_ENOMEM;
		} else {
			rc = random_pass(&out->p12_pass);
		}
		if (rc == 0)
			rc = spn_ca_p12(key, p->crt, ca->root, ca->above, ca->n_above, rq.node_id, out->p12_pass, &der);
		if (rc) {
			/* The certificate is recorded but its key is lost: revoke
			 * it so that nothing accepted is left dangling. */
			spn_ca_revoke(ca, out->serial, 5, NULL, NULL);
			spn_ca_issued_clear(out);
			goto out;
		}
		out->p12 = der.data;
		out->p12_len = der.size;
	}
out:
	spn_ca_pending_free(ca, p);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}
