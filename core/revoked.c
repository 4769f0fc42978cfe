/* The revoked set: a sorted array of serials, each with the date it was
 * revoked, swapped whole under a read-write lock, so that checks on every
 * request never wait on an update. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"
#include "log.h"
#include "pki_cert.h"
#include "revoked.h"

/* The serial first: bsearch and qsort compare entries as strings. */
typedef spn_revoked_entry_t serial_t;

struct spn_revoked {
	pthread_rwlock_t lock;
	gnutls_x509_crt_t root;
	uint64_t number;
	time_t this_update, next_update;
	serial_t *serials;
	size_t n;
	char *pem;
	size_t pem_len;
};

int spn_revoked_new(gnutls_x509_crt_t root, spn_revoked_t **out)
{
	spn_revoked_t *r = calloc(1, sizeof(*r));

	if (!r)
		return SPN_ENOMEM;
	pthread_rwlock_init(&r->lock, NULL);
	r->root = root;
	*out = r;
	return 0;
}

void spn_revoked_free(spn_revoked_t *r)
{
	if (!r)
		return;
	pthread_rwlock_destroy(&r->lock);
	free(r->serials);
	free(r->pem);
	free(r);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static uint64_t crl_number(gnutls_x509_crl_t crl)
{
	unsigned char raw[20];
	size_t n = sizeof(raw);
	uint64_t v = 0;

	if (gnutls_x509_crl_get_number(crl, raw, &n, NULL) < 0 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | raw[i];
	return v;
}

uint64_t spn_crl_pem_number(const char *pem, size_t len)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	uint64_t number = 0;

	if (gnutls_x509_crl_init(&crl) < 0)
		return 0;
	if (gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_PEM) >= 0)
		number = crl_number(crl);
	gnutls_x509_crl_deinit(crl);
	return number;
}

/* The entries of crl, sorted by serial. */
static int list(gnutls_x509_crl_t crl, serial_t **out, size_t *n_out)
{
	gnutls_x509_crl_iter_t iter = NULL;
	unsigned char raw[20];
	size_t n = 0, cap = 0, len;
	serial_t *v = NULL;
	time_t at;
	int g;

	for (;;) {
		len = sizeof(raw);
		g = gnutls_x509_crl_iter_crt_serial(crl, &iter, raw, &len, &at);
		if (g == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (g < 0) {
			free(v);
			gnutls_x509_crl_iter_deinit(iter);
			return spn_err(SPN_EBADCERT, "CRL entry unreadable: %s", gnutls_strerror(g));
		}
		if (n == cap) {
			serial_t *bigger = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!bigger) {
				free(v);
				gnutls_x509_crl_iter_deinit(iter);
				return SPN_ENOMEM;
			}
			v = bigger;
		}
		spn_hex(raw, len, v[n].serial);
		v[n++].at = at;
	}
	gnutls_x509_crl_iter_deinit(iter);
	if (n)
		qsort(v, n, sizeof(*v), cmp);
	*out = v;
	*n_out = n;
	return 0;
}

int spn_revoked_update(spn_revoked_t *r, const char *pem, size_t len)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
	serial_t *serials = NULL;
	unsigned status = 0;
	uint64_t number;
	time_t next, issued;
	size_t n = 0;
	char *copy;
	int rc;

	if (len > 16 * 1024 * 1024 || gnutls_x509_crl_init(&crl) < 0)
		return SPN_ENOMEM;
	/* PEM is text: a NUL would end the copy a node serves on early. */
	if (memchr(pem, 0, len) || gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crl_deinit(crl);
		return spn_err(SPN_EINVAL, "not a PEM CRL");
	}
	if (gnutls_x509_crl_verify(crl, &r->root, 1, 0, &status) < 0 || status) {
		gnutls_x509_crl_deinit(crl);
		return spn_err(SPN_EBADSIG, "CRL not signed by the group's root (status 0x%x)", status);
	}
	number = crl_number(crl);
	next = gnutls_x509_crl_get_next_update(crl);
	issued = gnutls_x509_crl_get_this_update(crl);
	pthread_rwlock_rdlock(&r->lock);
	rc = number > r->number;
	pthread_rwlock_unlock(&r->lock);
	if (rc == 1 && (rc = list(crl, &serials, &n)) == 0)
		rc = 1;
	gnutls_x509_crl_deinit(crl);
	if (rc != 1)
		return rc;
	if (!(copy = strndup(pem, len))) {
		free(serials);
		return SPN_ENOMEM;
	}
	pthread_rwlock_wrlock(&r->lock);
	if (number > r->number) {
		free(r->serials);
		free(r->pem);
		r->serials = serials;
		r->n = n;
		r->pem = copy;
		r->pem_len = len;
		r->number = number;
		r->next_update = next;
		r->this_update = issued;
		serials = NULL;
		copy = NULL;
	} else {
		rc = 0;
	}
	pthread_rwlock_unlock(&r->lock);
	free(serials);
	free(copy);
	if (rc == 1)
		spn_log_info("CRL %llu taken: %zu certificate(s) refused", (unsigned long long)number, n);
	return rc;
}

bool spn_revoked_has(spn_revoked_t *r, const char *serial)
{
	bool has;

	pthread_rwlock_rdlock(&r->lock);
	has = r->n && bsearch(serial, r->serials, r->n, sizeof(*r->serials), cmp) != NULL;
	pthread_rwlock_unlock(&r->lock);
	return has;
}

uint64_t spn_revoked_number(spn_revoked_t *r)
{
	uint64_t v;

	pthread_rwlock_rdlock(&r->lock);
	v = r->number;
	pthread_rwlock_unlock(&r->lock);
	return v;
}

static time_t read_time(spn_revoked_t *r, const time_t *field)
{
	time_t v;

	pthread_rwlock_rdlock(&r->lock);
	v = *field;
	pthread_rwlock_unlock(&r->lock);
	return v;
}

time_t spn_revoked_next_update(spn_revoked_t *r)
{
	return read_time(r, &r->next_update);
}

time_t spn_revoked_this_update(spn_revoked_t *r)
{
	return read_time(r, &r->this_update);
}

char *spn_revoked_pem(spn_revoked_t *r, size_t *len)
{
	char *copy = NULL;

	pthread_rwlock_rdlock(&r->lock);
	if (r->pem && (copy = malloc(r->pem_len + 1))) {
		memcpy(copy, r->pem, r->pem_len);
		copy[r->pem_len] = '\0';
		*len = r->pem_len;
	}
	pthread_rwlock_unlock(&r->lock);
	return copy;
}

static int newest_first(const void *a, const void *b)
{
	const spn_revoked_entry_t *x = a, *y = b;

	return x->at < y->at ? 1 : x->at > y->at ? -1 : strcmp(x->serial, y->serial);
}

int spn_revoked_recent(spn_revoked_t *r, size_t max, spn_revoked_entry_t **out, size_t *n, size_t *total)
{
	spn_revoked_entry_t *v = NULL;
	size_t all;

	pthread_rwlock_rdlock(&r->lock);
	all = r->n;
	if (all && !(v = malloc(all * sizeof(*v)))) {
		pthread_rwlock_unlock(&r->lock);
		return SPN_ENOMEM;
	}
	if (all)
		memcpy(v, r->serials, all * sizeof(*v));
	pthread_rwlock_unlock(&r->lock);
	if (all)
		qsort(v, all, sizeof(*v), newest_first);
	*out = v;
	*n = all < max ? all : max;
	*total = all;
	return 0;
}
