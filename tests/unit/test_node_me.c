/* The node's certificate as a value shared by reference: a reader that took
 * it before a renewal keeps reading the old certificate whole, the old value
 * goes with its last reader (the sanitizer build finds a value freed early
 * or never), and readers racing a stream of renewals never see a serial of
 * one certificate beside the text of another. Two real certificates of one
 * node: the PSP's, and its renewal. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ca.h"
#include "conf.h"
#include "error.h"
#include "file.h"
#include "group.h"
#include "node_me.h"
#include "pki_csr.h"
#include "pki_key.h"

typedef struct {
	char *pem;
	gnutls_x509_crt_t crt;
	char serial[SPN_SERIAL_HEX];
} cert_t;

static char dir[UNIT_GROUP_DIR];
static cert_t first, second;
static gnutls_x509_crt_t root;

static int load(const char *pem, cert_t *c)
{
	if (!(c->pem = strdup(pem)) || spn_pki_cert_import(pem, strlen(pem), &c->crt) ||
	    spn_pki_cert_serial(c->crt, c->serial))
		return -1;
	return 0;
}

/* The PSP's certificate, then its renewal for the same key. */
static int setup(void **state)
{
	spn_conf_t *conf = NULL;
	spn_ca_t *ca = NULL;
	spn_ca_issued_t is;
	gnutls_x509_privkey_t key = NULL;
	spn_names_t names;
	char *path, *pem = NULL, *csr = NULL;
	size_t len;
	int rc;

	(void)state;
	gnutls_global_init();
	rc = unit_group_new("me", dir, &conf, &ca, &root);
	path = spn_file_join(dir, "node.crt");
	rc = rc || spn_file_read(path, SPN_CERT_MAX, &pem, &len) || load(pem, &first);
	free(path);
	path = spn_file_join(dir, "node.key");
	rc = rc || spn_pki_key_load(path, NULL, &key) || spn_pki_cert_names(first.crt, &names) ||
	     spn_pki_csr_build(key, "psp", &names, &csr) ||
	     spn_ca_renew(ca, csr, strlen(csr), first.pem, strlen(first.pem), &is);
	free(path);
	if (rc == 0) {
		rc = load(is.cert_pem, &second);
		spn_ca_issued_clear(&is);
	}
	if (key)
		gnutls_x509_privkey_deinit(key);
	free(pem);
	free(csr);
	spn_ca_close(ca);
	spn_conf_free(conf);
	return rc ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (unit_group_remove(dir) != 0)
		return -1;
	for (cert_t *c = &first; c; c = c == &first ? &second : NULL) {
		gnutls_x509_crt_deinit(c->crt);
		free(c->pem);
	}
	gnutls_x509_crt_deinit(root);
	return 0;
}

static const spn_node_me_t *value_of(const cert_t *c)
{
	const spn_node_me_t *me = NULL;

	assert_int_equal(spn_node_me_new(c->crt, c->pem, &me), 0);
	return me;
}

static void is_whole(const spn_node_me_t *me, const cert_t *c)
{
	assert_string_equal(me->serial, c->serial);
	assert_string_equal(me->pem, c->pem);
	assert_string_equal(me->id.node_id, "psp");
	assert_int_equal(me->not_after, gnutls_x509_crt_get_expiration_time(c->crt));
}

static void two_certificates_of_one_node(void **state)
{
	(void)state;
	assert_string_not_equal(first.serial, second.serial);
}

static void a_reader_keeps_the_old_value(void **state)
{
	spn_node_me_slot_t slot;
	const spn_node_me_t *held, *now;

	(void)state;
	spn_node_me_slot_init(&slot);
	assert_null(spn_node_me_slot_get(&slot));
	spn_node_me_slot_set(&slot, value_of(&first));
	held = spn_node_me_slot_get(&slot);
	is_whole(held, &first);
	assert_int_equal(atomic_load(&held->refs), 2);

	/* The renewal: the slot lets go of the old value, the reader does not. */
	spn_node_me_slot_set(&slot, value_of(&second));
	assert_int_equal(atomic_load(&held->refs), 1);
	is_whole(held, &first);
	now = spn_node_me_slot_get(&slot);
	is_whole(now, &second);

	/* The last reader frees it; a value still in the slot outlives its
	 * readers. */
	spn_node_me_put(held);
	spn_node_me_put(now);
	now = spn_node_me_slot_get(&slot);
	is_whole(now, &second);
	spn_node_me_slot_clear(&slot);
	assert_int_equal(atomic_load(&now->refs), 1);
	is_whole(now, &second);
	spn_node_me_put(now);
	spn_node_me_put(NULL);
}

static void no_value_without_an_identity(void **state)
{
	const spn_node_me_t *me = (const spn_node_me_t *)&me;

	(void)state;
	/* The group's root names no member. */
	assert_int_not_equal(spn_node_me_new(root, first.pem, &me), 0);
	assert_null(me);
}

#define READERS 3
#define SWAPS 2000

static spn_node_me_slot_t raced;
static atomic_bool swapping;

static void *reader(void *arg)
{
	unsigned long *torn = arg;

	while (atomic_load(&swapping)) {
		const spn_node_me_t *me = spn_node_me_slot_get(&raced);
		const cert_t *c = strcmp(me->serial, first.serial) == 0 ? &first : &second;
		if (strcmp(me->serial, c->serial) != 0 || strcmp(me->pem, c->pem) != 0)
			(*torn)++;
		spn_node_me_put(me);
	}
	return NULL;
}

static void readers_race_renewals(void **state)
{
	pthread_t t[READERS];
	unsigned long torn[READERS] = {0};

	(void)state;
	spn_node_me_slot_init(&raced);
	spn_node_me_slot_set(&raced, value_of(&first));
	atomic_store(&swapping, true);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &torn[i]), 0);
	for (int i = 0; i < SWAPS; i++)
		spn_node_me_slot_set(&raced, value_of(i % 2 ? &first : &second));
	atomic_store(&swapping, false);
	for (int i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(torn[i], 0);
	}
	spn_node_me_slot_clear(&raced);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_certificates_of_one_node),
		cmocka_unit_test(a_reader_keeps_the_old_value),
		cmocka_unit_test(no_value_without_an_identity),
		cmocka_unit_test(readers_race_renewals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
