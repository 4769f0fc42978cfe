/* A small cache of verified peer certificates (pki_peers.h). */
#include "config.h"

#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "pki_peers.h"

/* A node has a parent, its children and the peers it calls back; 64 slots
 * hold them all in a tree of ordinary fan-out. A collision costs one
 * verification, never a wrong answer: the whole digest is compared. */
#define SLOTS 64

typedef struct {
	uint8_t digest[32];
	time_t not_before, not_after;
	spn_pki_peer_t peer;
} slot_t;

struct spn_pki_peers {
	gnutls_x509_crt_t root;
	pthread_mutex_t lock;
	slot_t *slots;  /* allocated on first use */
};

int spn_pki_peers_new(gnutls_x509_crt_t root, spn_pki_peers_t **out)
{
	spn_pki_peers_t *p = calloc(1, sizeof(*p));

	if (!p)
		return SPN_ENOMEM;
	p->root = root;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void spn_pki_peers_free(spn_pki_peers_t *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->slots);
	free(p);
}

static int verify(spn_pki_peers_t *p, const gnutls_datum_t *der, slot_t *s)
{
	gnutls_x509_crt_t crt;
	time_t root_end = gnutls_x509_crt_get_expiration_time(p->root);
	int rc;

	if (gnutls_x509_crt_init(&crt) < 0)
		return SPN_ENOMEM;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		rc = spn_err(SPN_EBADCERT, "certificate unreadable");
	else if ((rc = spn_pki_cert_verify(crt, p->root)) == 0 && (rc = spn_pki_cert_ident(crt, &s->peer.id)) == 0 &&
		 (rc = spn_pki_cert_serial(crt, s->peer.serial)) == 0)
		rc = spn_pki_cert_pin(crt, s->peer.pin);
	s->not_before = gnutls_x509_crt_get_activation_time(crt);
	s->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (root_end < s->not_after)
		s->not_after = root_end;
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int spn_pki_peers_get(spn_pki_peers_t *p, const gnutls_datum_t *der, spn_pki_peer_t *out)
{
	uint8_t digest[32];
	time_t now = spn_clock_now();
	slot_t fresh, *s;
	int rc;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, digest) < 0)
		return spn_err(SPN_ECRYPTO, "SHA-256 failed");
	pthread_mutex_lock(&p->lock);
	if (!p->slots && !(p->slots = calloc(SLOTS, sizeof(*p->slots)))) {
		pthread_mutex_unlock(&p->lock);
		return SPN_ENOMEM;
	}
	s = &p->slots[digest[0] % SLOTS];
	if (memcmp(s->digest, digest, sizeof(digest)) == 0) {
		rc = now >= s->not_before && now < s->not_after
			     ? 0
			     : spn_err(SPN_EEXPIRED, "certificate is expired or not yet valid");
		if (rc == 0)
			*out = s->peer;
		pthread_mutex_unlock(&p->lock);
		return rc;
	}
	pthread_mutex_unlock(&p->lock);
	/* Verified outside the lock; the slot is taken only by a good one. */
	memset(&fresh, 0, sizeof(fresh));
	if ((rc = verify(p, der, &fresh)))
		return rc;
	memcpy(fresh.digest, digest, sizeof(digest));
	pthread_mutex_lock(&p->lock);
	*s = fresh;
	pthread_mutex_unlock(&p->lock);
	*out = fresh.peer;
	return 0;
}
