/* Revocation, holds and the signed CRL. GnuTLS writes no per-entry
 * extensions, so CRL entries carry no reason code: the reason is recorded in
 * the ledger, and a held certificate is listed exactly like a revoked one
 * until it is released. */
#include "config.h"

#include <gnutls/abstract.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ca_internal.h"
#include "clock.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "pki_cert.h"
#include "revoked.h"

static int hex_to_bin(const char *hex, unsigned char *out, size_t cap, size_t *n)
{
	size_t len = strlen(hex);

	if (len % 2 || len / 2 > cap)
		return SPN_EINVAL;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return SPN_EINVAL;
		out[i] = (unsigned char)v;
	}
	*n = len / 2;
	return 0;
}

static int add_entry(const spn_ledger_cert_t *c, void *user)
{
	gnutls_x509_crl_t crl = user;
	unsigned char serial[20];
	size_t n;

	if (hex_to_bin(c->serial, serial, sizeof(serial), &n) != 0)
		return spn_err(SPN_ELEDGER, "ledger: bad serial %s", c->serial);
	if (gnutls_x509_crl_set_crt_serial(crl, serial, n, c->revoked_at) < 0)
		return spn_err(SPN_ECRYPTO, "cannot add %s to the CRL", c->serial);
	return 0;
}

/* The number of the CRL published at path; 0 when there is none. */
static uint64_t published_number(const char *path)
{
	struct stat st;
	char *pem = NULL;
	size_t len;
	uint64_t number = 0;

	if (stat(path, &st) == 0 && spn_file_read(path, 16 * 1024 * 1024, &pem, &len) == 0)
		number = spn_crl_pem_number(pem, len);
	free(pem);
	return number;
}

/* The CRL's number and entries, from one ledger transaction: every
 * revocation committed before it is listed, any committed after it gets a
 * CRL with a higher number. */
static int fill(spn_ca_t *ca, gnutls_x509_crl_t crl, uint64_t published, time_t now, uint64_t *out)
{
	unsigned char number[8];
	uint64_t n;
	int rc;

	if ((rc = spn_ledger_begin(ca->ledger)))
		return rc;
	if ((rc = spn_ledger_next_crl_number(ca->ledger, published, out)) == 0) {
		n = *out;
		for (int i = 7; i >= 0; i--, n >>= 8)
			number[i] = (unsigned char)(n & 0xff);
		if (gnutls_x509_crl_set_number(crl, number, sizeof(number)) < 0)
			rc = spn_err(SPN_ECRYPTO, "cannot number the CRL");
	}
	if (rc == 0)
		rc = spn_ledger_cert_each_revoked(ca->ledger, now, add_entry, crl);
	if (rc == 0)
		rc = spn_ledger_commit(ca->ledger);
	if (rc)
		spn_ledger_rollback(ca->ledger);
	return rc;
}

/* Signs and publishes under the lock: numbered above the one published,
 * written before anyone else numbers another. */
static int sign_and_publish(spn_ca_t *ca, char **pem_out)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t pem = {NULL, 0};
	unsigned char kid[64];
	size_t kid_len = sizeof(kid);
	time_t now = spn_clock_now();
	uint64_t number = 0, newer;
	int rc;

	if (gnutls_x509_crl_init(&crl) < 0)
		return SPN_ENOMEM;
	rc = gnutls_x509_crl_set_version(crl, 2);
	if (rc >= 0) rc = gnutls_x509_crl_set_this_update(crl, now);
	if (rc >= 0) rc = gnutls_x509_crl_set_next_update(crl, now + (time_t)ca->policy.crl_validity);
	if (rc >= 0) rc = gnutls_x509_crt_get_subject_key_id(ca->root, kid, &kid_len, NULL);
	if (rc >= 0) rc = gnutls_x509_crl_set_authority_key_id(crl, kid, kid_len);
	if (rc < 0) {
		rc = spn_err(SPN_ECRYPTO, "cannot build the CRL: %s", gnutls_strerror(rc));
		goto out;
	}
	if ((rc = fill(ca, crl, published_number(ca->crl_path), now, &number)))
		goto out;
	rc = gnutls_x509_crl_privkey_sign(crl, ca->root, ca->signer.key, spn_pki_signer_digest(&ca->signer), 0);
	if (rc >= 0)
		rc = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem);
	if (rc < 0) {
		rc = spn_err(SPN_ECRYPTO, "cannot sign the CRL: %s", gnutls_strerror(rc));
		goto out;
	}
	/* Only a signer that does not take the lock could have published
	 * since; a newer CRL is never replaced by an older one. */
	if ((newer = published_number(ca->crl_path)) >= number) {
		rc = spn_err(SPN_ESTATE, "CRL %llu not published: %s already holds CRL %llu",
			     (unsigned long long)number, ca->crl_path, (unsigned long long)newer);
		goto out;
	}
	if ((rc = spn_file_write(ca->crl_path, pem.data, pem.size, 0644)))
		goto out;
	ca->crl_stale = false;
	if (pem_out && !(*pem_out = strndup((char *)pem.data, pem.size)))
		rc = SPN_ENOMEM;
out:
	gnutls_free(pem.data);
	gnutls_x509_crl_deinit(crl);
	return rc;
}

int spn_ca_crl_update(spn_ca_t *ca, char **pem_out)
{
	char *lock_path = NULL;
	int lock = -1, rc;

	if ((rc = spn_ca_need_key(ca)))
		return rc;
	/* Several signers at once (spnd and spnctl, or many spnctl) take turns
	 * from numbering to publishing, so that the file never goes back to a
	 * lower number than one already published. */
	if (asprintf(&lock_path, "%s.lock", ca->crl_path) < 0)
		return SPN_ENOMEM;
	if ((rc = spn_file_lock(lock_path, &lock)) == 0) {
		rc = sign_and_publish(ca, pem_out);
		spn_file_unlock(lock);
	}
	free(lock_path);
	return rc;
}

/* The other certificates of the same node and key, in a given state: its
 * renewals. */
typedef struct {
	const char *node, *skip;
	char pin[SPN_PIN_MAX];
	spn_cert_status_t status;
	char (*serials)[SPN_SERIAL_HEX];
	size_t n, cap;
} family_t;

static int same_key(const spn_ledger_cert_t *c, void *user)
{
	family_t *f = user;
	gnutls_x509_crt_t crt;
	char pin[SPN_PIN_MAX];
	int rc = 0;

	if (c->status != f->status || strcmp(c->id.node_id, f->node) != 0 || strcmp(c->serial, f->skip) == 0 ||
	    spn_pki_cert_import(c->pem, strlen(c->pem), &crt) != 0)
		return 0;
	if (spn_pki_cert_pin(crt, pin) == 0 && strcmp(pin, f->pin) == 0) {
		if (f->n == f->cap) {
			char (*bigger)[SPN_SERIAL_HEX] = realloc(f->serials, (f->cap = f->cap ? f->cap * 2 : 4) * sizeof(*bigger));
			if (!bigger)
				rc = SPN_ENOMEM;
			else
				f->serials = bigger;
		}
		if (rc == 0)
			strcpy(f->serials[f->n++], c->serial);
	}
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* Revoking, holding or releasing a certificate does the same to the
 * renewals of its key: otherwise another certificate for the same key would
 * still open every door. */
static int renewals(spn_ca_t *ca, const spn_ledger_cert_t *c, spn_cert_status_t status, time_t now, family_t *f)
{
	gnutls_x509_crt_t crt;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = spn_pki_cert_import(c->pem, strlen(c->pem), &crt)))
		return rc;
	rc = spn_pki_cert_pin(crt, f->pin);
	gnutls_x509_crt_deinit(crt);
	f->node = c->id.node_id;
	f->skip = c->serial;
	f->status = status;
	return rc ? rc : spn_ledger_cert_each(ca->ledger, false, now, same_key, f);
}

/* One certificate's new status. */
static int set_status(spn_ca_t *ca, const char *kind, const char *serial, int reason, time_t now)
{
	if (strcmp(kind, "revoke") == 0)
		return spn_ledger_cert_revoke(ca->ledger, serial, reason, now);
	if (strcmp(kind, "hold") == 0)
		return spn_ledger_cert_hold(ca->ledger, serial, now);
	return spn_ledger_cert_release(ca->ledger, serial, now);
}

/* The change, its events and the same change to the key's other
 * certificates, inside the caller's transaction. */
static int record_change(spn_ca_t *ca, const char *serial, const char *kind, int reason, const char *by, time_t now)
{
	spn_ledger_cert_t c;
	family_t more = {0};
	char detail[SPN_NAME_MAX + 8];
	int rc;

	if ((rc = set_status(ca, kind, serial, reason, now)) || (rc = spn_ledger_cert_get(ca->ledger, serial, &c)))
		return rc;
	rc = spn_ledger_event(ca->ledger, now, kind, serial, c.id.node_id,
			      strcmp(kind, "revoke") == 0 ? spn_crl_reason_name(reason) : "");
	if (rc == 0)
		rc = renewals(ca, &c, strcmp(kind, "release") == 0 ? SPN_CERT_HOLD : SPN_CERT_VALID, now, &more);
	for (size_t i = 0; rc == 0 && i < more.n; i++)
		if ((rc = set_status(ca, kind, more.serials[i], reason, now)) == 0)
			rc = spn_ledger_event(ca->ledger, now, kind, more.serials[i], c.id.node_id, "same key");
	/* The ledger says who asked, not only what was done. */
	if (rc == 0 && by) {
		snprintf(detail, sizeof(detail), "by %s", by);
		rc = spn_ledger_event(ca->ledger, now, "requested", serial, "", detail);
	}
	free(more.serials);
	spn_ledger_cert_clear(ca->ledger, &c);
	return rc;
}

static int change(spn_ca_t *ca, const char *serial, const char *kind, int reason, const char *by, bool *recorded)
{
	time_t now = spn_clock_now();
	int rc;

	if (recorded)
		*recorded = false;
	if ((rc = spn_ca_need_key(ca)) || (rc = spn_ledger_begin(ca->ledger)))
		return rc;
	if ((rc = record_change(ca, serial, kind, reason, by, now)) == 0)
		rc = spn_ledger_commit(ca->ledger);
	if (rc) {
		spn_ledger_rollback(ca->ledger);
		return rc;
	}
	spn_log_info("certificate %s: %s%s%s", serial, kind, reason ? " " : "", reason ? spn_crl_reason_name(reason) : "");
	ca->crl_stale = true;
	if (recorded)
		*recorded = true;
	if ((rc = spn_ca_crl_update(ca, NULL)))
		return spn_err(rc, "%s of %s recorded, but the CRL could not be signed (%s); run spnctl crl", kind, serial,
			       spn_err_detail(rc));
	return 0;
}

bool spn_ca_crl_stale(spn_ca_t *ca)
{
	return ca->crl_stale;
}

int spn_ca_revoke(spn_ca_t *ca, const char *serial, int reason, const char *by, bool *recorded)
{
	return change(ca, serial, "revoke", reason, by, recorded);
}

int spn_ca_hold(spn_ca_t *ca, const char *serial)
{
	return change(ca, serial, "hold", 0, NULL, NULL);
}

int spn_ca_release(spn_ca_t *ca, const char *serial)
{
	return change(ca, serial, "release", 0, NULL, NULL);
}
