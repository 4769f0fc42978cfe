/* The group's certificate authority, run by the PSP: the root key and
 * certificate, issuance from CSRs and pseudo-CSRs under join tokens and the
 * group's policy, revocation, holds and the CRL, all recorded in the ledger.
 * doc/ca.md describes it for operators. */
#pragma once

#include <gnutls/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "ident.h"
#include "ca_subject.h"
#include "ledger.h"
#include "pki_csr.h"
#include "pki_key.h"

typedef struct spn_ca spn_ca_t;

/* A certificate profile: one per role, from [profile.<role>]. */
typedef struct {
	unsigned long validity;  /* seconds */
	unsigned key_usage;      /* GNUTLS_KEY_* bits */
	bool server_auth, client_auth;
} spn_ca_profile_t;

/* The group's policy, from [ca]. */
typedef struct {
	unsigned admin_threshold;  /* minimum trust level of an admin */
	unsigned max_children;     /* nodes one admin may accept */
	unsigned long token_ttl;   /* longest lifetime of a join token */
	unsigned long crl_validity;
	spn_key_type_t generated_key_type; /* for CA-generated keys */
} spn_ca_policy_t;

/* What spnctl init asks for. */
typedef struct {
	const char *dir;        /* state directory, created */
	const char *group;
	const char *psp_id;     /* the PSP's node id */
	spn_key_type_t key_type;
	const char *passphrase; /* for the root key (its token's PIN with key_uri);
				 * NULL leaves a key file unencrypted */
	const char *key_uri;    /* a PKCS#11 URI: the root key is made in that
				 * token; NULL: ca/root.key in dir */
	const char *pkcs11_module; /* NULL: the modules p11-kit registered */
	const char *import_root; /* adopt this CA certificate (and those above
				  * it, after it in the file) instead of
				  * making a root; NULL: make one */
	const char *import_key;  /* its key: a PKCS#8 file, copied to
				  * ca/root.key under passphrase, or a PKCS#11
				  * URI, used where it is */
	const char *node_passphrase; /* for the PSP's node key; NULL: unencrypted */
	spn_names_t names;      /* where the PSP serves HTTPS */
	unsigned long root_validity;
	const char *ledger;     /* a postgresql:// URI; NULL: ledger.db in dir */
} spn_ca_init_t;

/* [ca] ledger as the ledger opens it: a file relative to the configuration,
 * or a PostgreSQL URI as written. Caller frees. */
int spn_ca_ledger_location(const spn_conf_t *conf, char **out);

/* A freshly issued certificate. Clear with spn_ca_issued_clear. */
typedef struct {
	char serial[SPN_SERIAL_HEX];
	spn_ident_t id;
	time_t not_after;
	char *cert_pem;
	/* pseudo-CSR without a public key: the CA-generated key and certificate
	 * as PKCS#12 (DER), and its passphrase */
	unsigned char *p12;
	size_t p12_len;
	char *p12_pass;
} spn_ca_issued_t;

/* The configuration keys of [ca] and [profile.*]. */
extern const spn_conf_key_t spn_ca_conf_keys[];
extern const size_t spn_ca_conf_nkeys;

/* Creates a new group in p->dir: root key and certificate (made, or the
 * ones p->import_root and p->import_key name, once they pass every check of
 * ca_import.c), the PSP's node key and certificate, the ledger, the CRL and
 * spnd.conf. Refuses to touch a directory that already holds a group. */
int spn_ca_init(const spn_ca_init_t *p);

/* Opens the CA described by conf: the root certificate, the ledger, the
 * policy and the profiles, and with with_key the root key too (asking for its
 * passphrase through [ca] passphrase_env or the terminal). Without the root
 * key the CA can mint tokens but not sign. */
int spn_ca_open(const spn_conf_t *conf, bool with_key, spn_ca_t **out);
void spn_ca_close(spn_ca_t *ca);

/* The PSP's node key, which signs the tokens it mints: loaded from [node]
 * key when first asked for (its passphrase from [node] key_passphrase_file
 * or key_passphrase_env), or the copy spn_ca_use_node_key gave (spnd, which
 * holds the key already). Valid until spn_ca_close. */
int spn_ca_node_key(spn_ca_t *ca, gnutls_x509_privkey_t *out);
int spn_ca_use_node_key(spn_ca_t *ca, gnutls_x509_privkey_t key);

spn_ledger_t *spn_ca_ledger(spn_ca_t *ca);
gnutls_x509_crt_t spn_ca_root(spn_ca_t *ca);
const spn_ca_policy_t *spn_ca_policy(spn_ca_t *ca);
const char *spn_ca_group(spn_ca_t *ca);

/* Reads [ca] and [profile.*] from conf. */
int spn_ca_policy_load(const spn_conf_t *conf, spn_ca_policy_t *policy);
int spn_ca_profile_load(const spn_conf_t *conf, spn_role_t role, spn_ca_profile_t *profile);
/* The validity, key_usage and ext_key_usage of section over def: what a
 * profile and a template (core/ca_template.c) both read. */
int spn_ca_profile_read(const spn_conf_t *conf, const char *section, const spn_ca_profile_t *def,
			spn_ca_profile_t *profile);
/* Refuses (SPN_EPOLICY, naming the profile and the key type) a profile whose
 * key usages a key of pub's type may not carry, such as key_encipherment on
 * an Ed25519 or ECDSA key. */
int spn_ca_profile_check_key(const spn_ca_profile_t *profile, spn_role_t role, gnutls_pubkey_t pub);

/* Mints a join token with the PSP's own node key, recorded in the ledger;
 * tpl (NULL or "": none) must be a configured template for node's role. */
int spn_ca_token_mint(spn_ca_t *ca, const spn_ident_t *node, unsigned long ttl, const char *tpl, char **token);

/* Issues a certificate for a CSR under a join token, after every check:
 * token signature, minter, expiry, one use, group, node id, the admin
 * threshold and the minter's child limit. Nothing is recorded on refusal. */
int spn_ca_enroll_csr(spn_ca_t *ca, const char *csr, size_t csr_len, const char *token, size_t token_len,
		      spn_ca_issued_t *out);

/* spn_ca_enroll_csr in two steps, so that the work of many enrollments can
 * run at once and only the ledger's part is one at a time (spnd batches
 * those under one commit: core/node_issue.c):
 *   spn_ca_prepare_csr checks the CSR and the token (its signature against
 *     the minter's certificate, read under lock, the caller's guard of the
 *     ledger, when given), asks the policy hooks and signs the certificate.
 *     Nothing is recorded; the certificate never leaves the CA unless
 *     spn_ca_pending_record succeeds.
 *   spn_ca_pending_record, under the caller's guard, in a ledger
 *     transaction (a savepoint when the caller holds one open): the minter
 *     still holds the certificate that signed the token, the node id is free,
 *     the minter is under its child limit, the token is unused; then the
 *     record. Durable when the outermost transaction commits.
 *   spn_ca_pending_announce logs the issuance and tells the ISSUED hook;
 *     call it once the record is durable. */
typedef struct spn_ca_pending spn_ca_pending_t;
int spn_ca_prepare_csr(spn_ca_t *ca, const char *csr, size_t csr_len, const char *token, size_t token_len,
		       pthread_mutex_t *lock, spn_ca_pending_t **out);
int spn_ca_pending_record(spn_ca_t *ca, spn_ca_pending_t *p, spn_ca_issued_t *out);
void spn_ca_pending_announce(spn_ca_t *ca, const spn_ca_pending_t *p);
void spn_ca_pending_free(spn_ca_t *ca, spn_ca_pending_t *p);

/* A JSON pseudo-CSR (doc/ca.md) read: the node id, the names and subject
 * attributes asked for and, when it has one, the public key (NULL: the CA
 * is to make the key). Release with spn_ca_pseudo_clear. */
typedef struct {
	char node_id[SPN_NAME_MAX + 1];
	spn_names_t names;
	spn_ca_subject_t subject;
	gnutls_pubkey_t pub;
} spn_ca_pseudo_t;
int spn_ca_pseudo_parse(const char *json, size_t json_len, spn_ca_pseudo_t *out);
void spn_ca_pseudo_clear(spn_ca_pseudo_t *r);

/* The same for a JSON pseudo-CSR (doc/ca.md); without a public key in it,
 * the CA generates the key and returns it as PKCS#12 protected by pass (or a
 * generated passphrase when pass is NULL). */
int spn_ca_enroll_pseudo(spn_ca_t *ca, const char *json, size_t json_len, const char *token, size_t token_len,
			 const char *pass, spn_ca_issued_t *out);

/* Issues a fresh certificate for the identity and key of cert, a valid
 * certificate of the group, on a CSR signed by that same key. */
int spn_ca_renew(spn_ca_t *ca, const char *csr, size_t csr_len, const char *cert, size_t cert_len,
		 spn_ca_issued_t *out);

void spn_ca_issued_clear(spn_ca_issued_t *out);

/* Revocation (final), hold and release. Each changes the other valid
 * certificates of the same node and key alike, in the same transaction, and
 * then signs a new CRL. A revocation asked for by another node (by, else
 * NULL) is recorded with a "requested" event naming it, in that same
 * transaction. When the change is recorded but the CRL cannot be signed,
 * the error is returned with *recorded (optional) set: the caller's
 * own answer, never another call's. */
int spn_ca_revoke(spn_ca_t *ca, const char *serial, int reason, const char *by, bool *recorded);
int spn_ca_hold(spn_ca_t *ca, const char *serial);
int spn_ca_release(spn_ca_t *ca, const char *serial);

/* Whether a revocation, hold or release is recorded that the CRL file does
 * not show yet (its signing failed): the caller signs it again. */
bool spn_ca_crl_stale(spn_ca_t *ca);

/* Signs a fresh CRL from the ledger and writes it to the configured file;
 * *pem (optional) is the caller's to free. */
int spn_ca_crl_update(spn_ca_t *ca, char **pem);

/* Builds a PKCS#12 bundle of key, certificate, root and the n
 * certificates above root (an adopted intermediate's chain), encrypted and
 * MAC-protected with pass. *der is the caller's (gnutls_free). */
int spn_ca_p12(gnutls_x509_privkey_t key, gnutls_x509_crt_t crt, gnutls_x509_crt_t root,
	       const gnutls_x509_crt_t *above, unsigned n, const char *name, const char *pass, gnutls_datum_t *der);

/* Policy hooks (a plugin's, doc/plugin-guide.md §9): asked before a
 * certificate is issued for an enrollment (AUTHORIZE: nonzero refuses,
 * with why), then allowed to narrow it (ADJUST: fewer services, a shorter
 * validity), then told what was issued (ISSUED). */
typedef enum {
	SPN_CA_HOOK_AUTHORIZE,
	SPN_CA_HOOK_ADJUST,
	SPN_CA_HOOK_ISSUED,
} spn_ca_hook_stage_t;

typedef struct {
	spn_ident_t id;               /* what will be (or was) issued */
	const char *accepted_by;      /* the administrator that minted the token */
	unsigned long validity;       /* seconds, from the role's profile */
	const char *serial;           /* ISSUED only */
	char why[256];                /* a refusal's reason */
} spn_ca_hook_req_t;

typedef int (*spn_ca_hook_fn)(void *user, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r);

void spn_ca_set_hook(spn_ca_t *ca, spn_ca_hook_fn fn, void *user);
