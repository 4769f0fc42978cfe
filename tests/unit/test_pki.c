/* PKI with the clock pinned: CSRs, join tokens and certificate validity,
 * including tampering with each. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "b64.h"
#include "ca.h"
#include "clock.h"
#include "error.h"
#include "file.h"
#include "pki_cert.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "pki_peers.h"
#include "pki_signer.h"
#include "token.h"

/* 2030-01-01T00:00:00Z: far from today, so nothing here depends on it. */
#define PINNED ((time_t)1893456000)

static char dir[64];

static int setup(void **state)
{
	spn_ca_init_t p = {.group = "demo", .psp_id = "psp", .key_type = SPN_KEY_ED25519, .root_validity = 3650UL * 86400};

	(void)state;
	gnutls_global_init();
	spn_clock_pin(PINNED);
	snprintf(dir, sizeof(dir), "/tmp/spn-pki-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	p.dir = dir;
	spn_names_add(&p.names, "127.0.0.1");
	return spn_ca_init(&p);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static gnutls_x509_crt_t load(const char *name)
{
	gnutls_x509_crt_t crt;
	char *path = spn_file_join(dir, name);

	assert_int_equal(spn_pki_cert_load(path, &crt), 0);
	free(path);
	return crt;
}

static void csr_round_trip_and_tamper(void **state)
{
	static const spn_key_type_t types[] = {SPN_KEY_ED25519, SPN_KEY_P256, SPN_KEY_RSA2048};
	(void)state;
	for (size_t t = 0; t < 3; t++) {
		gnutls_x509_privkey_t key;
		gnutls_x509_crq_t crq;
		spn_names_t names = {0}, got;
		char *pem, cn[64];

		assert_int_equal(spn_pki_key_generate(types[t], &key), 0);
		assert_int_equal(spn_names_add(&names, "node.example"), 0);
		assert_int_equal(spn_names_add(&names, "::1"), 0);
		assert_int_equal(spn_pki_csr_build(key, "node-1", &names, &pem), 0);
		assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----"));
		assert_int_equal(spn_pki_csr_parse(pem, strlen(pem), &crq), 0);
		assert_int_equal(spn_pki_csr_node_id(crq, cn, sizeof(cn)), 0);
		assert_string_equal(cn, "node-1");
		assert_int_equal(spn_pki_csr_names(crq, &got), 0);
		assert_int_equal(got.n_dns, 1);
		assert_string_equal(got.ip[0], "::1");
		gnutls_x509_crq_deinit(crq);
		/* A character changed in the base64 body: decode or signature fails. */
		pem[100] = pem[100] == 'A' ? 'B' : 'A';
		assert_int_not_equal(spn_pki_csr_parse(pem, strlen(pem), &crq), 0);
		free(pem);
		gnutls_x509_privkey_deinit(key);
	}
}

static void tokens(void **state)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt = load("node.crt");
	spn_token_t t, got;
	char *path = spn_file_join(dir, "node.key"), *text;

	(void)state;
	assert_int_equal(spn_pki_key_load(path, NULL, &key), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(spn_token_new_id(&t), 0);
	strcpy(t.node.node_id, "n1");
	strcpy(t.node.group, "demo");
	t.node.role = SPN_ROLE_SPN;
	t.node.trust = 4;
	spn_ident_add_service(&t.node, "bank");
	strcpy(t.minted_by, "psp");
	t.issued_at = PINNED;
	t.expires = PINNED + 600;
	assert_int_equal(spn_token_mint(&t, key, &text), 0);
	assert_int_equal(spn_token_decode(text, strlen(text), &got), 0);
	assert_int_equal(spn_token_verify(text, &got, crt), 0);
	assert_string_equal(got.node.node_id, "n1");
	assert_true(spn_ident_provides(&got.node, "bank"));
	assert_int_equal(got.expires, PINNED + 600);
	/* Flip one signature character: decodes, does not verify. */
	size_t n = strlen(text);
	text[n - 2] = text[n - 2] == 'A' ? 'B' : 'A';
	if (spn_token_decode(text, n, &got) == 0)
		assert_int_equal(spn_token_verify(text, &got, crt), SPN_ETOKEN);
	free(text);
	free(path);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
}

/* A token whose claims are json, signed properly with key. */
static char *signed_token(gnutls_x509_privkey_t key, const char *json)
{
	char *claims = NULL, *input = NULL, *sig64 = NULL, *out = NULL;
	gnutls_datum_t sig = {NULL, 0};

	assert_int_equal(spn_b64url_encode((const uint8_t *)json, strlen(json), &claims), 0);
	assert_true(asprintf(&input, "spn1.%s", claims) > 0);
	assert_int_equal(spn_pki_sign(key, input, strlen(input), &sig), 0);
	assert_int_equal(spn_b64url_encode(sig.data, sig.size, &sig64), 0);
	assert_true(asprintf(&out, "%s.%s", input, sig64) > 0);
	gnutls_free(sig.data);
	free(claims);
	free(input);
	free(sig64);
	return out;
}

/* A claim twice, signed by the PSP itself: json-c would keep the last one
 * (trust 100); the token is refused whichever comes last. */
static void token_claims_twice(void **state)
{
	static const char head[] = "{\"v\":1,\"tid\":\"0123456789abcdef0123456789abcdef\",\"grp\":\"demo\","
				   "\"node\":\"n1\",\"role\":\"spn\",\"trust\":0,\"svc\":[\"bank\"],\"by\":\"psp\","
				   "\"iat\":1893456000,\"exp\":1893456600";
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt = load("node.crt");
	char *path = spn_file_join(dir, "node.key"), json[512], *text;
	spn_token_t got;

	(void)state;
	assert_int_equal(spn_pki_key_load(path, NULL, &key), 0);
	snprintf(json, sizeof(json), "%s}", head);
	text = signed_token(key, json);
	assert_int_equal(spn_token_decode(text, strlen(text), &got), 0);
	assert_int_equal(spn_token_verify(text, &got, crt), 0);
	assert_int_equal(got.node.trust, 0);
	free(text);
	snprintf(json, sizeof(json), "%s,\"trust\":100}", head);
	text = signed_token(key, json);
	assert_int_equal(spn_token_decode(text, strlen(text), &got), SPN_ETOKEN);
	free(text);
	snprintf(json, sizeof(json), "%s,\"role\":\"admin\"}", head);
	text = signed_token(key, json);
	assert_int_equal(spn_token_decode(text, strlen(text), &got), SPN_ETOKEN);
	free(text);
	free(path);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
}

static void validity_follows_the_pinned_clock(void **state)
{
	gnutls_x509_crt_t root = load("ca/root.crt"), node = load("node.crt");
	spn_ident_t id;

	(void)state;
	assert_int_equal(spn_pki_cert_verify(node, root), 0);
	assert_int_equal(spn_pki_cert_ident(node, &id), 0);
	assert_int_equal(id.role, SPN_ROLE_PSP);
	spn_clock_pin(PINNED + 31 * 86400);
	assert_int_equal(spn_pki_cert_verify(node, root), SPN_EEXPIRED);
	spn_clock_pin(PINNED - 3600);
	assert_int_equal(spn_pki_cert_verify(node, root), SPN_EEXPIRED);
	spn_clock_pin(PINNED);
	/* A certificate from another group's root is refused. */
	assert_int_equal(spn_pki_cert_verify(root, node), SPN_EBADCERT);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(node);
}

static gnutls_datum_t der_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = {NULL, 0};

	assert_true(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d) >= 0);
	return d;
}

/* The cache of verified certificates answers as a full verification
 * would: it follows the clock on every hit and never keeps a refusal. */
static void peers_cache(void **state)
{
	gnutls_x509_crt_t root = load("ca/root.crt"), node = load("node.crt");
	gnutls_datum_t der = der_of(node), root_der = der_of(root);
	spn_pki_peers_t *peers, *foreign;
	spn_pki_peer_t peer;
	char serial[SPN_SERIAL_HEX];

	(void)state;
	assert_int_equal(spn_pki_peers_new(root, &peers), 0);
	assert_int_equal(spn_pki_cert_serial(node, serial), 0);
	for (int i = 0; i < 2; i++) {
		memset(&peer, 0, sizeof(peer));
		assert_int_equal(spn_pki_peers_get(peers, &der, &peer), 0);
		assert_string_equal(peer.id.node_id, "psp");
		assert_string_equal(peer.serial, serial);
		assert_memory_equal(peer.pin, "sha256//", 8);
	}
	spn_clock_pin(PINNED + 31 * 86400);
	assert_int_equal(spn_pki_peers_get(peers, &der, &peer), SPN_EEXPIRED);
	spn_clock_pin(PINNED - 3600);
	assert_int_equal(spn_pki_peers_get(peers, &der, &peer), SPN_EEXPIRED);
	spn_clock_pin(PINNED);
	assert_int_equal(spn_pki_peers_get(peers, &der, &peer), 0);
	/* A changed signature is another certificate, refused each time. */
	der.data[der.size - 3] ^= 1;
	for (int i = 0; i < 2; i++)
		assert_int_equal(spn_pki_peers_get(peers, &der, &peer), SPN_EBADCERT);
	der.data[der.size - 3] ^= 1;
	assert_int_equal(spn_pki_peers_get(peers, &der, &peer), 0);
	/* Under another root (here the node's own certificate), refused. */
	assert_int_equal(spn_pki_peers_new(node, &foreign), 0);
	assert_int_equal(spn_pki_peers_get(foreign, &root_der, &peer), SPN_EBADCERT);
	spn_pki_peers_free(foreign);
	spn_pki_peers_free(peers);
	gnutls_free(der.data);
	gnutls_free(root_der.data);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(node);
}

static void key_files(void **state)
{
	gnutls_x509_privkey_t key;
	char *path = spn_file_join(dir, "node.key");

	(void)state;
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(spn_pki_key_load(path, NULL, &key), SPN_EINVAL);
	assert_non_null(strstr(spn_err_detail(SPN_EINVAL), "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	free(path);
	path = spn_file_join(dir, "ca/root.key");
	/* init was given no passphrase here: plain PKCS#8, loads without one. */
	assert_int_equal(spn_pki_key_load(path, NULL, &key), 0);
	gnutls_x509_privkey_deinit(key);
	free(path);
}

/* The DER inside a PKCS#8 PEM; the caller frees. */
static uint8_t *pem_der(const char *pem, size_t *len)
{
	char b64[1024];
	size_t n = 0;
	uint8_t *der = NULL;

	for (const char *p = strchr(pem, '\n') + 1; *p && *p != '-'; p++)
		if (*p != '\n')
			b64[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	while (n && b64[n - 1] == '=')
		n--;
	assert_int_equal(spn_b64url_decode(b64, n, &der, len), 0);
	return der;
}

static bool has(const uint8_t *b, size_t n, const uint8_t *what, size_t wn)
{
	for (size_t i = 0; i + wn <= n; i++)
		if (memcmp(b + i, what, wn) == 0)
			return true;
	return false;
}

/* RFC 5915: a P-256 ECPrivateKey holds its scalar in exactly 32 octets.
 * Keys spn makes say so, and a key file GnuTLS wrote with 33 (a leading
 * zero before a scalar whose top bit is set) is written right once loaded. */
static void p256_scalar_fixed_length(void **state)
{
	static const char old[] = "-----BEGIN PRIVATE KEY-----\n"
				  "MIGUAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHoweAIBAQQhANXS/Lw9cWmqzQTV\n"
				  "nP0bdXAxT6A8oNM17c20MZ67+DwdoAoGCCqGSM49AwEHoUQDQgAEG7vVbVWpwwM4\n"
				  "4cPDvptcynM3dsva9Zn39K7a6wCmBZlc83Hhj2JZ6ixbY+NmUKz+8HMBjVn0GVZk\n"
				  "d0Z+3V4WDw==\n"
				  "-----END PRIVATE KEY-----\n";
	static const uint8_t fixed[] = {0x02, 0x01, 0x01, 0x04, 0x20}, padded[] = {0x02, 0x01, 0x01, 0x04, 0x21};
	char *path = spn_file_join(dir, "old-p256.key");
	gnutls_x509_privkey_t key;
	gnutls_datum_t pem;
	uint8_t *der;
	size_t len;

	(void)state;
	der = pem_der(old, &len);
	assert_true(has(der, len, padded, sizeof(padded)));
	free(der);
	assert_int_equal(spn_file_create(path, old, strlen(old), 0600), 0);
	assert_int_equal(spn_pki_key_load(path, NULL, &key), 0);
	assert_int_equal(spn_pki_key_export(key, NULL, &pem), 0);
	der = pem_der((const char *)pem.data, &len);
	assert_true(has(der, len, fixed, sizeof(fixed)) && !has(der, len, padded, sizeof(padded)));
	/* Still the same key: its scalar's first bytes follow. */
	assert_true(has(der, len, (const uint8_t[]){0x04, 0x20, 0xd5, 0xd2, 0xfc, 0xbc, 0x3d, 0x71}, 8));
	free(der);
	spn_pki_datum_free_secret(&pem);
	gnutls_x509_privkey_deinit(key);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(spn_pki_key_generate(SPN_KEY_P256, &key), 0);
		assert_int_equal(spn_pki_key_export(key, NULL, &pem), 0);
		der = pem_der((const char *)pem.data, &len);
		assert_true(has(der, len, fixed, sizeof(fixed)));
		free(der);
		spn_pki_datum_free_secret(&pem);
		gnutls_x509_privkey_deinit(key);
	}
	free(path);
}

/* A token's PIN is offered once: a second attempt, or one after GnuTLS
 * says the PIN was wrong, gets nothing, so that spn never spends the
 * token's retry counter; and a PIN that does not fit is not cut. */
static void pin_offered_once(void **state)
{
	char pin[16], pin_value[] = "1234";

	(void)state;
	memset(pin, 'x', sizeof(pin));
	assert_int_equal(spn_pki_pin_offer(pin_value, 0, "pkcs11:token=t", "t", 0, pin, sizeof(pin)), 0);
	assert_string_equal(pin, "1234");
	assert_int_equal(spn_pki_pin_offer(pin_value, 1, "pkcs11:token=t", "t", 0, pin, sizeof(pin)), -1);
	assert_int_equal(spn_pki_pin_offer(pin_value, 0, "pkcs11:token=t", "t", GNUTLS_PIN_WRONG, pin, sizeof(pin)), -1);
	assert_int_equal(spn_pki_pin_offer(NULL, 0, "pkcs11:token=t", "t", 0, pin, sizeof(pin)), -1);
	assert_int_equal(spn_pki_pin_offer(pin_value, 0, "pkcs11:token=t", "t", 0, pin, 4), -1);
	assert_int_equal(spn_pki_pin_offer(pin_value, 0, "pkcs11:token=t", "t", 0, pin, 5), 0);
}

/* A URI's PIN never reaches a message: pin-value and pin-source go. */
static void key_ref_shown(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(spn_pki_key_ref_shown("/etc/spn/root.key", buf, sizeof(buf)), "/etc/spn/root.key");
	assert_string_equal(spn_pki_key_ref_shown("pkcs11:token=a;object=b", buf, sizeof(buf)), "pkcs11:token=a;object=b");
	assert_string_equal(spn_pki_key_ref_shown("pkcs11:token=a;object=b?pin-value=1111", buf, sizeof(buf)),
			    "pkcs11:token=a;object=b");
	assert_string_equal(
		spn_pki_key_ref_shown("pkcs11:token=a;pin-value=22;object=b?module-path=/m&pin-source=/p", buf, sizeof(buf)),
		"pkcs11:token=a;object=b?module-path=/m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csr_round_trip_and_tamper),
		cmocka_unit_test(tokens),
		cmocka_unit_test(token_claims_twice),
		cmocka_unit_test(validity_follows_the_pinned_clock),
		cmocka_unit_test(peers_cache),
		cmocka_unit_test(key_files),
		cmocka_unit_test(p256_scalar_fixed_length), cmocka_unit_test(pin_offered_once),
	    cmocka_unit_test(key_ref_shown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
