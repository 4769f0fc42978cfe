/* Sections: round trips, the header readable without the key, every size
 * read back by other code (Nettle's base64, GnuTLS's one-shot AES-GCM), and
 * every change refused: a header field, a ciphertext byte, the tag, another
 * key, another algorithm, an encrypted key where dir has none. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/crypto.h>
#include <nettle/base64.h>

#include "b64.h"
#include "error.h"
#include "jwe.h"

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static spn_jwe_header_t header(void)
{
	spn_jwe_header_t h;

	memset(&h, 0, sizeof(h));
	strcpy(h.kid, "s-7f3a");
	strcpy(h.svc, "bank");
	strcpy(h.to, "bank-1");
	strcpy(h.from, "wristband-7");
	strcpy(h.mid, "m-0001");
	h.seq = 3;
	return h;
}

static void round_trip(void **state)
{
	spn_jwe_header_t h = header(), got;
	const char *msg = "{\"iban\":\"DE02120300000000202051\"}";
	char *jwe = NULL;
	uint8_t *pt = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)msg, strlen(msg), &jwe), 0);
	/* Five parts, the second empty: dir. */
	assert_non_null(strstr(jwe, ".."));
	assert_null(strstr(jwe, "DE02"));
	assert_int_equal(spn_jwe_peek(jwe, strlen(jwe), &got), 0);
	assert_string_equal(got.to, "bank-1");
	assert_int_equal(got.seq, 3);
	assert_int_equal(spn_jwe_open(key, jwe, strlen(jwe), &got, &pt, &len), 0);
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(pt, msg, len);
	assert_string_equal(got.mid, "m-0001");
	assert_string_equal(got.from, "wristband-7");
	free(pt);
	free(jwe);
	/* An empty section is a section. */
	assert_int_equal(spn_jwe_seal(key, &h, NULL, 0, &jwe), 0);
	assert_int_equal(spn_jwe_open(key, jwe, strlen(jwe), &got, &pt, &len), 0);
	assert_int_equal(len, 0);
	free(pt);
	free(jwe);
}

/* Replaces the header with one whose field differs, keeping the rest. */
static char *with_header(const char *jwe, const char *json)
{
	char *hdr = NULL, *out = NULL;
	const char *rest = strchr(jwe, '.');

	assert_int_equal(spn_b64url_encode((const uint8_t *)json, strlen(json), &hdr), 0);
	assert_true(asprintf(&out, "%s%s", hdr, rest) > 0);
	free(hdr);
	return out;
}

/* A header read once by peek opens the section without being parsed
 * again; the tag still covers the header's bytes as they came. */
static void open_after_peek(void **state)
{
	spn_jwe_header_t h = header(), got;
	const char *msg = "dispensed";
	char *jwe = NULL;
	uint8_t *pt = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)msg, strlen(msg), &jwe), 0);
	assert_int_equal(spn_jwe_peek(jwe, strlen(jwe), &got), 0);
	assert_int_equal(spn_jwe_open_read(key, jwe, strlen(jwe), &got, &pt, &len), 0);
	assert_int_equal(len, strlen(msg));
	assert_memory_equal(pt, msg, len);
	free(pt);
	pt = NULL;
	/* A changed header byte, another key: refused as before. */
	jwe[3] ^= 1;
	assert_int_not_equal(spn_jwe_open_read(key, jwe, strlen(jwe), &got, &pt, &len), 0);
	assert_null(pt);
	jwe[3] ^= 1;
	{
		uint8_t other[32] = {1};
		assert_int_equal(spn_jwe_open_read(other, jwe, strlen(jwe), &got, &pt, &len), SPN_EBADSIG);
		assert_null(pt);
	}
	free(jwe);
}

static void tampering(void **state)
{
	spn_jwe_header_t h = header(), got;
	uint8_t other[32], *pt = NULL;
	char *jwe = NULL, *bad;
	size_t len, n;

	(void)state;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"pay 10", 6, &jwe), 0);
	n = strlen(jwe);
	/* A router redirects the section to another node. */
	bad = with_header(jwe, "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"s-7f3a\",\"svc\":\"bank\",\"to\":\"bank-2\","
			       "\"from\":\"wristband-7\",\"mid\":\"m-0001\",\"seq\":3}");
	assert_int_equal(spn_jwe_open(key, bad, strlen(bad), &got, &pt, &len), SPN_EBADSIG);
	assert_null(pt);
	free(bad);
	/* Another algorithm, or none. */
	bad = with_header(jwe, "{\"alg\":\"dir\",\"enc\":\"A128GCM\",\"kid\":\"s-7f3a\",\"svc\":\"bank\",\"to\":\"bank-1\","
			       "\"from\":\"wristband-7\",\"mid\":\"m-0001\",\"seq\":3}");
	assert_int_equal(spn_jwe_open(key, bad, strlen(bad), &got, &pt, &len), SPN_EUNSUPPORTED);
	free(bad);
	bad = with_header(jwe, "{\"alg\":\"none\",\"enc\":\"A256GCM\",\"kid\":\"s-7f3a\",\"svc\":\"bank\",\"to\":\"bank-1\","
			       "\"from\":\"wristband-7\",\"mid\":\"m-0001\",\"seq\":3}");
	assert_int_equal(spn_jwe_open(key, bad, strlen(bad), &got, &pt, &len), SPN_EUNSUPPORTED);
	free(bad);
	/* A field missing, or one more. */
	bad = with_header(jwe, "{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"s-7f3a\",\"svc\":\"bank\",\"to\":\"bank-1\","
			       "\"from\":\"wristband-7\",\"mid\":\"m-0001\"}");
	assert_int_equal(spn_jwe_open(key, bad, strlen(bad), &got, &pt, &len), SPN_EINVAL);
	free(bad);
	/* Each byte of the ciphertext and tag, changed in turn. */
	for (size_t i = strrchr(jwe, '.') - jwe - 8; i < n; i++) {
		if (jwe[i] == '.')
			continue;
		bad = strdup(jwe);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_not_equal(spn_jwe_open(key, bad, n, &got, &pt, &len), 0);
		assert_null(pt);
		free(bad);
	}
	/* An encrypted key where dir has none. */
	bad = malloc(n + 2);
	{
		const char *dots = strstr(jwe, "..");
		size_t head = (size_t)(dots - jwe) + 1;
		memcpy(bad, jwe, head);
		bad[head] = 'A';
		strcpy(bad + head + 1, dots + 1);
	}
	assert_int_equal(spn_jwe_open(key, bad, strlen(bad), &got, &pt, &len), SPN_EINVAL);
	free(bad);
	memcpy(other, key, 32);
	other[31] ^= 1;
	assert_int_equal(spn_jwe_open(other, jwe, n, &got, &pt, &len), SPN_EBADSIG);
	assert_int_equal(spn_jwe_open(key, "a.b.c", 5, &got, &pt, &len), SPN_EINVAL);
	assert_int_equal(spn_jwe_open(key, "a.b.c.d.e.f", 11, &got, &pt, &len), SPN_EINVAL);
	free(jwe);
}

/* The worked example of doc/protocol.md §3.3 opens as the text says. */
static void documented_example(void **state)
{
	static const char example[] =
		"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoicy03ZjNhIiwic3ZjIjoiYmFuayIsInRvIjoiYmFuay0xIiwiZnJvbSI6"
		"IndyaXN0YmFuZC03IiwibWlkIjoibS0wMDAxIiwic2VxIjozfQ..AAECAwQFBgcICQoL.ChJo9amzQzEtb_dxVqnFvRqnjaVOr0pM_XpN"
		"j2zgAxn7.ScyxeTbfkOH5Wn0Vguyz5Q";
	spn_jwe_header_t h;
	uint8_t *pt = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(spn_jwe_open(key, example, strlen(example), &h, &pt, &len), 0);
	assert_string_equal((char *)pt, "{\"iban\":\"DE02120300000000202051\"}");
	assert_string_equal(h.kid, "s-7f3a");
	assert_string_equal(h.to, "bank-1");
	assert_int_equal(h.seq, 3);
	free(pt);
}

static void bad_headers_are_not_written(void **state)
{
	spn_jwe_header_t h = header();
	char *jwe = NULL;

	(void)state;
	h.to[0] = '\0';
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"x", 1, &jwe), SPN_EINVAL);
	h = header();
	strcpy(h.mid, "has space");
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"x", 1, &jwe), SPN_EINVAL);
	/* A sequence number a JSON integer reader could not take back. */
	h = header();
	h.seq = (uint64_t)INT64_MAX + 1;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"x", 1, &jwe), SPN_EINVAL);
	h.seq = (uint64_t)INT64_MAX;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"x", 1, &jwe), 0);
	free(jwe);
	jwe = NULL;
	assert_null(jwe);
}

/* The header a reader takes is the header the tag covers, read one way:
 * no member twice (json-c would keep the last), no sequence number clamped
 * into range, and the algorithm judged before the members it brings. */
static int peek(const char *json)
{
	spn_jwe_header_t got;
	char *jwe = with_header("x..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA", json);
	int rc = spn_jwe_peek(jwe, strlen(jwe), &got);

	free(jwe);
	return rc;
}

#define REST "\"kid\":\"s-7f3a\",\"svc\":\"bank\",\"to\":\"bank-1\",\"from\":\"wristband-7\",\"mid\":\"m-0001\""

static void strict_headers(void **state)
{
	(void)state;
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\"," REST ",\"seq\":3}"), 0);
	/* Duplicates, whichever comes last. */
	assert_int_equal(peek("{\"alg\":\"none\",\"enc\":\"A256GCM\"," REST ",\"seq\":3,\"alg\":\"dir\"}"), SPN_EINVAL);
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\"," REST ",\"seq\":3,\"to\":\"bank-2\"}"), SPN_EINVAL);
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\"," REST ",\"seq\":3,\"seq\":3}"), SPN_EINVAL);
	/* seq is 0 to 2^63-1; above, refused rather than read as 2^63-1. */
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\"," REST ",\"seq\":9223372036854775807}"), 0);
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\"," REST ",\"seq\":9223372036854775808}"),
			 SPN_EINVAL);
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\"," REST ",\"seq\":18446744073709551616}"),
			 SPN_EINVAL);
	/* Another algorithm with its own members: unsupported, not an unknown
	 * field; an unknown field with dir/A256GCM stays invalid. */
	assert_int_equal(peek("{\"alg\":\"PBES2-HS512+A256KW\",\"enc\":\"A256GCM\",\"p2c\":1000000,\"p2s\":\"AAAA\"," REST
			      ",\"seq\":3}"),
			 SPN_EUNSUPPORTED);
	assert_int_equal(peek("{\"epk\":{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},\"alg\":\"ECDH-ES\",\"enc\":\"A256GCM\"," REST
			      ",\"seq\":3}"),
			 SPN_EUNSUPPORTED);
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A128CBC-HS256\",\"zip\":\"DEF\"," REST ",\"seq\":3}"),
			 SPN_EUNSUPPORTED);
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"zip\":\"DEF\"," REST ",\"seq\":3}"), SPN_EINVAL);
	/* An id over its length is invalid input (400), not too_big (413). */
	assert_int_equal(peek("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"s-7f3a\",\"svc\":\"bank\",\"to\":\"bank-1\","
			      "\"from\":\"w0123456789012345678901234567890123456789012345678901234567890123\","
			      "\"mid\":\"m-0001\",\"seq\":3}"),
			 SPN_EINVAL);
}

/* One part of a compact JWE decoded by Nettle (padding put back). */
static size_t other_decode(const char *part, size_t len, uint8_t *out, size_t cap)
{
	struct base64_decode_ctx ctx;
	char *padded = malloc(len + 4);
	size_t n = cap;

	memcpy(padded, part, len);
	while (len % 4)
		padded[len++] = '=';
	base64url_decode_init(&ctx);
	assert_true(base64_decode_update(&ctx, &n, out, len, padded));
	assert_true(base64_decode_final(&ctx));
	free(padded);
	return n;
}

/* Sizes on both sides of a GCM block, a base64 group and a vector block,
 * from none to 1 MB: what spn writes, other code opens, and spn opens too. */
#define MAX (1 << 20)
static void every_size_opens_elsewhere(void **state)
{
	static const size_t sizes[] = {0,    1,    2,    3,    4,    5,     6,     7,     8,    9,
				       15,   16,   17,   24,   28,   47,    48,    49,    100,  3071,
				       3072, 3073, 6143, 6144, 6145, 16383, 16384, 16385, 65537, MAX};
	spn_jwe_header_t h = header(), got;
	gnutls_datum_t k = {(unsigned char *)key, 32};
	gnutls_aead_cipher_hd_t aead;
	uint8_t *msg = malloc(MAX), *ct = malloc(MAX + 16), *back = malloc(MAX), iv[16], *pt;
	char *jwe;
	const char *dot[4];
	size_t len, n, ivn;

	(void)state;
	assert_int_equal(gnutls_aead_cipher_init(&aead, GNUTLS_CIPHER_AES_256_GCM, &k), 0);
	for (size_t i = 0; i < MAX; i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		assert_int_equal(spn_jwe_seal(key, &h, msg, sizes[s], &jwe), 0);
		dot[0] = strchr(jwe, '.');
		for (int d = 1; d < 4; d++)
			dot[d] = strchr(dot[d - 1] + 1, '.');
		ivn = other_decode(dot[1] + 1, (size_t)(dot[2] - dot[1] - 1), iv, sizeof(iv));
		assert_int_equal(ivn, 12);
		n = other_decode(dot[2] + 1, (size_t)(dot[3] - dot[2] - 1), ct, MAX);
		assert_int_equal(n, sizes[s]);
		assert_int_equal(other_decode(dot[3] + 1, strlen(dot[3] + 1), ct + n, 16), 16);
		len = MAX;
		assert_int_equal(gnutls_aead_cipher_decrypt(aead, iv, 12, jwe, (size_t)(dot[0] - jwe), 16, ct, n + 16,
							    back, &len),
				 0);
		assert_int_equal(len, sizes[s]);
		assert_memory_equal(back, msg, len);
		assert_int_equal(spn_jwe_open(key, jwe, strlen(jwe), &got, &pt, &len), 0);
		assert_int_equal(len, sizes[s]);
		assert_memory_equal(pt, msg, len);
		free(pt);
		free(jwe);
	}
	gnutls_aead_cipher_deinit(aead);
	free(msg);
	free(ct);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(open_after_peek),
		cmocka_unit_test(every_size_opens_elsewhere),
		cmocka_unit_test(tampering),
		cmocka_unit_test(bad_headers_are_not_written),
		cmocka_unit_test(documented_example),
		cmocka_unit_test(strict_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
