/* Session offers with real certificates from a real group: the client opens
 * the key only from the provider its certificate names and authorises, and
 * refuses a key substituted on the way, a re-signed offer, a provider not
 * authorised for the service, a revoked one, an offer for another request. */
#include "config.h"

#include <gnutls/gnutls.h>
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
#include "group.h"
#include "pki_cert.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "session.h"

typedef struct {
	gnutls_x509_privkey_t key;
	char *cert;
	spn_ident_t id;
	char serial[SPN_SERIAL_HEX];
} member_t;

static char dir[UNIT_GROUP_DIR];
static gnutls_x509_crt_t root;
static member_t bank, hosp;

static void member(spn_ca_t *ca, const char *id, const char *services, member_t *m)
{
	spn_ident_t node;
	spn_ca_issued_t is;
	char *csr = NULL, *tok = NULL;
	gnutls_x509_crt_t crt;

	memset(&node, 0, sizeof(node));
	strcpy(node.node_id, id);
	node.role = SPN_ROLE_SPN;
	node.trust = 3;
	assert_int_equal(spn_ident_set_services(&node, services), 0);
	assert_int_equal(spn_pki_key_generate(SPN_KEY_ED25519, &m->key), 0);
	assert_int_equal(spn_pki_csr_build(m->key, id, NULL, &csr), 0);
	assert_int_equal(spn_ca_token_mint(ca, &node, 600, NULL, &tok), 0);
	assert_int_equal(spn_ca_enroll_csr(ca, csr, strlen(csr), tok, strlen(tok), &is), 0);
	m->cert = strdup(is.cert_pem);
	strcpy(m->serial, is.serial);
	spn_ca_issued_clear(&is);
	assert_int_equal(spn_pki_cert_import(m->cert, strlen(m->cert), &crt), 0);
	assert_int_equal(spn_pki_cert_ident(crt, &m->id), 0);
	gnutls_x509_crt_deinit(crt);
	free(csr);
	free(tok);
}

static int setup(void **state)
{
	spn_conf_t *conf = NULL;
	spn_ca_t *ca = NULL;

	(void)state;
	gnutls_global_init();
	if (unit_group_new("care", dir, &conf, &ca, &root) != 0)
		return -1;
	member(ca, "bank-1", "bank", &bank);
	member(ca, "hosp-1", "hospital", &hosp);
	spn_ca_close(ca);
	spn_conf_free(conf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (unit_group_remove(dir) != 0)
		return -1;
	gnutls_x509_crt_deinit(root);
	gnutls_x509_privkey_deinit(bank.key);
	gnutls_x509_privkey_deinit(hosp.key);
	free(bank.cert);
	free(hosp.cert);
	return 0;
}

static bool revoked_bank(const char *serial, void *user)
{
	(void)user;
	return strcmp(serial, bank.serial) == 0;
}

static void key_agreed(void **state)
{
	uint8_t sk[32], pk[32], k[32], got[32], c2p[32], p2c[32], c2p2[32], p2c2[32];
	spn_session_offer_t o, back;
	json_object *j;

	(void)state;
	assert_int_equal(spn_hpke_keypair(sk, pk), 0);
	assert_int_equal(spn_session_offer("s-1", "bank", &bank.id, bank.key, bank.cert, pk, &o, k), 0);
	/* Through JSON, as it travels. */
	j = spn_session_offer_json(&o);
	assert_int_equal(spn_session_offer_parse(j, &back), 0);
	json_object_put(j);
	assert_int_equal(spn_session_accept(&back, "s-1", "bank", sk, pk, root, revoked_bank, NULL, got), SPN_EREVOKED);
	assert_int_equal(spn_session_accept(&back, "s-1", "bank", sk, pk, root, NULL, NULL, got), 0);
	assert_memory_equal(got, k, 32);
	/* Both ends derive the same keys, one per direction. */
	assert_int_equal(spn_session_keys(k, "s-1", c2p, p2c), 0);
	assert_int_equal(spn_session_keys(got, "s-1", c2p2, p2c2), 0);
	assert_memory_equal(c2p, c2p2, 32);
	assert_memory_equal(p2c, p2c2, 32);
	assert_memory_not_equal(c2p, p2c, 32);
	spn_session_offer_clear(&o);
	spn_session_offer_clear(&back);
}

static void substitution_refused(void **state)
{
	uint8_t sk[32], pk[32], k[32], mine[32], got[32];
	spn_session_offer_t o, evil;
	char *t = NULL;
	gnutls_datum_t sig = {NULL, 0};

	(void)state;
	assert_int_equal(spn_hpke_keypair(sk, pk), 0);
	assert_int_equal(spn_session_offer("s-2", "bank", &bank.id, bank.key, bank.cert, pk, &o, k), 0);
	/* A node on the path seals a key of its own to the client. */
	assert_int_equal(spn_session_offer("s-2", "hospital", &hosp.id, hosp.key, hosp.cert, pk, &evil, mine), 0);
	memcpy(o.enc, evil.enc, sizeof(o.enc));
	memcpy(o.sealed, evil.sealed, sizeof(o.sealed));
	assert_int_equal(spn_session_accept(&o, "s-2", "bank", sk, pk, root, NULL, NULL, got), SPN_EBADSIG);
	/* ...and signs the transcript itself: its certificate is not bank-1's. */
	strcpy(evil.service, "bank");
	assert_int_equal(spn_session_transcript(&evil, &t), 0);
	assert_int_equal(spn_pki_sign(hosp.key, t, strlen(t), &sig), 0);
	memcpy(evil.sig, sig.data, evil.sig_len = sig.size);
	gnutls_free(sig.data);
	free(t);
	assert_int_equal(spn_session_accept(&evil, "s-2", "bank", sk, pk, root, NULL, NULL, got), SPN_EDENIED);
	/* ...or claims to be bank-1 with its own certificate. */
	strcpy(evil.provider, "bank-1");
	assert_int_equal(spn_session_accept(&evil, "s-2", "bank", sk, pk, root, NULL, NULL, got), SPN_EDENIED);
	spn_session_offer_clear(&o);
	spn_session_offer_clear(&evil);
}

static void authorisation_and_binding(void **state)
{
	uint8_t sk[32], pk[32], sk2[32], pk2[32], k[32], got[32];
	spn_session_offer_t o;

	(void)state;
	assert_int_equal(spn_hpke_keypair(sk, pk), 0);
	assert_int_equal(spn_hpke_keypair(sk2, pk2), 0);
	/* A provider does not offer what its certificate does not authorise. */
	assert_int_equal(spn_session_offer("s-3", "bank", &hosp.id, hosp.key, hosp.cert, pk, &o, k), SPN_EDENIED);
	assert_int_equal(spn_session_offer("s-3", "bank", &bank.id, bank.key, bank.cert, pk, &o, k), 0);
	/* An offer answers one request: its session, service and client key. */
	assert_int_equal(spn_session_accept(&o, "s-4", "bank", sk, pk, root, NULL, NULL, got), SPN_EDENIED);
	assert_int_equal(spn_session_accept(&o, "s-3", "hospital", sk, pk, root, NULL, NULL, got), SPN_EDENIED);
	assert_int_equal(spn_session_accept(&o, "s-3", "bank", sk2, pk2, root, NULL, NULL, got), SPN_EDENIED);
	/* A flipped bit of the sealed key breaks the signature first. */
	o.sealed[0] ^= 1;
	assert_int_equal(spn_session_accept(&o, "s-3", "bank", sk, pk, root, NULL, NULL, got), SPN_EBADSIG);
	spn_session_offer_clear(&o);
}

/* A client_key of small order (RFC 7748 lists them) leaves no shared
 * secret: it is the client's bad input, refused as invalid, not a failed
 * operation of the provider's. */
static void small_order_client_key(void **state)
{
	static const uint8_t points[][32] = {
		{0},
		{1},
		{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
		 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
		{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	};
	spn_session_offer_t o;
	uint8_t k[32];

	(void)state;
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		assert_int_equal(spn_session_offer("s-5", "bank", &bank.id, bank.key, bank.cert, points[i], &o, k),
				 SPN_EINVAL);
}

/* Taken as anonymous, a request with a signature but no certificate would
 * not be the one its client meant to send. */
static void sig_without_certificate(void **state)
{
	static const char body[] = "{\"session\":\"s-6\",\"service\":\"bank\","
				   "\"client_key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\"sig\":\"c2ln\"}";
	spn_session_request_t r;
	json_object *j = json_tokener_parse(body);

	(void)state;
	assert_non_null(j);
	assert_int_equal(spn_session_request_parse(j, &r), SPN_EINVAL);
	spn_session_request_clear(&r);
	json_object_object_del(j, "sig");
	assert_int_equal(spn_session_request_parse(j, &r), 0);
	assert_null(r.cert_pem);
	spn_session_request_clear(&r);
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_agreed),
		cmocka_unit_test(substitution_refused),
		cmocka_unit_test(authorisation_and_binding),
		cmocka_unit_test(small_order_client_key),
		cmocka_unit_test(sig_without_certificate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
