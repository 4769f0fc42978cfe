/* base64url: RFC 4648 test vectors, refusal of non-canonical input, and
 * every vector kernel this processor runs held to the scalar code: the same
 * output for every length and content, the same refusals with the same
 * codes and words wherever the bad character falls. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nettle/base64.h>

#include "b64.h"
#include "b64_vec.h"
#include "error.h"

static void rfc4648_vectors(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char *s;
		uint8_t *d;
		size_t n;
		assert_int_equal(spn_b64url_encode((const uint8_t *)plain[i], strlen(plain[i]), &s), 0);
		assert_string_equal(s, enc[i]);
		assert_int_equal(spn_b64url_decode(s, strlen(s), &d, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(s);
		free(d);
	}
}

static void url_alphabet(void **state)
{
	const uint8_t raw[] = {0xfb, 0xff};
	char *s;

	(void)state;
	assert_int_equal(spn_b64url_encode(raw, 2, &s), 0);
	assert_string_equal(s, "-_8");
	free(s);
}

static void refuses_non_canonical(void **state)
{
	static const char *const bad[] = {"Zg==", "Zh", "Z", "Zm9v+", "Zm9v/", "Zm 9v", "Zm9v\n"};
	uint8_t *d;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(spn_b64url_decode(bad[i], strlen(bad[i]), &d, &n), SPN_EINVAL);
}

/* The encoder agrees with Nettle's base64url (padding dropped) on every
 * length and random content, and every encoding decodes back; changing
 * the last character's unused bits is refused. */
static void agrees_with_nettle(void **state)
{
	uint8_t in[300], *back = NULL;
	char ref[420], *mine = NULL;
	struct base64_encode_ctx ctx;
	size_t n, blen;

	(void)state;
	srand(7);
	for (size_t len = 0; len < sizeof(in); len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)rand();
		base64url_encode_init(&ctx);
		n = base64_encode_update(&ctx, ref, len, in);
		n += base64_encode_final(&ctx, ref + n);
		while (n && ref[n - 1] == '=')
			n--;
		ref[n] = '\0';
		assert_int_equal(spn_b64url_encode(in, len, &mine), 0);
		assert_string_equal(mine, ref);
		assert_int_equal(spn_b64url_len(len), n);
		assert_int_equal(spn_b64url_decode(mine, n, &back, &blen), 0);
		assert_int_equal(blen, len);
		assert_memory_equal(back, in, len);
		free(back);
		if (n % 4) {
			/* 'B' (1) or 'C' (2) in the last place sets an unused bit. */
			mine[n - 1] = mine[n - 1] == 'B' ? 'C' : 'B';
			assert_int_not_equal(spn_b64url_decode(mine, n, &back, &blen), 0);
		}
		free(mine);
	}
}

/* Decodes with kernel k (NULL: scalar) into a buffer of exactly the
 * decoded size; returns the code, and the detail message in why. */
static int decode_k(const spn_b64_vec_t *k, const char *in, size_t len, uint8_t *out, size_t *n, char why[128])
{
	size_t cap = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	int rc;

	spn_err_clear();
	rc = spn_b64url_decode_with(k, in, len, out, cap, n);
	snprintf(why, 128, "%s", rc ? spn_err_detail(rc) : "");
	return rc;
}

/* The scalar verdict and the kernel's agree on in: code, words, bytes. */
static void same_verdict(const spn_b64_vec_t *k, const char *in, size_t len)
{
	uint8_t a[512], b[512];
	size_t na = 0, nb = 0;
	char wa[128], wb[128];
	int ra, rb;

	assert_true(len <= 680);
	ra = decode_k(NULL, in, len, a, &na, wa);
	rb = decode_k(k, in, len, b, &nb, wb);
	if (ra != rb || strcmp(wa, wb) != 0)
		fail_msg("%s on %.*s: %d (%s) where scalar code gives %d (%s)", k->name, (int)len, in, rb, wb, ra, wa);
	if (ra == 0) {
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na);
	}
}

static void vector_matches_scalar(void **state)
{
	size_t nk;
	const spn_b64_vec_t *ks = spn_b64_vec_list(&nk);
	uint8_t in[300], back[300], *exact_in;
	char ref[402], got[402], why[128], *exact_ref;
	size_t n, m;

	(void)state;
	for (size_t j = 0; j < nk; j++) {
		srand(11);
		for (int round = 0; round < 8; round++)
			for (size_t len = 0; len <= sizeof(in); len++) {
				for (size_t i = 0; i < len; i++)
					in[i] = (uint8_t)rand();
				/* Every 6-bit value in every place of a block. */
				if (round == 0)
					for (size_t i = 0; i < len; i++)
						in[i] = (uint8_t)(i * 13 + i / 3);
				n = spn_b64url_encode_with(NULL, in, len, ref);
				/* Copies of exactly the size, so that a sanitizer
				 * build catches a kernel reading past the end. */
				exact_in = malloc(len ? len : 1);
				exact_ref = malloc(n ? n : 1);
				memcpy(exact_in, in, len);
				memcpy(exact_ref, ref, n);
				memset(got, 0x55, sizeof(got));
				assert_int_equal(spn_b64url_encode_with(&ks[j], exact_in, len, got), n);
				assert_string_equal(got, ref);
				/* Nothing written past the NUL. */
				assert_int_equal((unsigned char)got[n + 1], 0x55);
				assert_int_equal(decode_k(&ks[j], exact_ref, n, back, &m, why), 0);
				assert_int_equal(m, len);
				assert_memory_equal(back, in, len);
				same_verdict(&ks[j], exact_ref, n);
				free(exact_in);
				free(exact_ref);
			}
	}
}

/* A valid string of len characters with every 6-bit value in it. */
static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void valid_string(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s[i] = alphabet[(i * 7) % 64];
	/* The last character of a short group carries no unused bits. */
	if (len % 4 == 2)
		s[len - 1] = 'A';
	else if (len % 4 == 3)
		s[len - 1] = 'E';
	s[len] = '\0';
}

/* A kernel left alone with valid input, and room, goes to within a block
 * of the end (a kernel that gave up early would pass every other test). */
static void kernels_do_the_bulk(void **state)
{
	size_t nk;
	const spn_b64_vec_t *ks = spn_b64_vec_list(&nk);
	uint8_t in[768], out[800];
	char s[1025];
	size_t n;

	(void)state;
	valid_string(s, 1024);
	assert_int_equal(spn_b64url_decode_with(NULL, s, 1024, in, sizeof(in), &n), 0);
	for (size_t j = 0; j < nk; j++) {
		assert_true(ks[j].decode(s, 1024, out, sizeof(out)) + 64 >= 1024);
		assert_true(ks[j].encode(in, sizeof(in), s) + 64 >= sizeof(in));
	}
}

static void vector_refusals(void **state)
{
	size_t nk;
	const spn_b64_vec_t *ks = spn_b64_vec_list(&nk);
	char s[200];

	(void)state;
	for (size_t j = 0; j < nk; j++) {
		/* Every byte outside the alphabet at every position of two
		 * 32-character blocks and of the tail after them. */
		for (size_t len = 96; len <= 107; len++) {
			if (len % 4 == 1)
				continue;
			valid_string(s, len);
			same_verdict(&ks[j], s, len);
			for (size_t pos = 0; pos < len; pos++)
				for (int c = 0; c < 256; c++) {
					char keep = s[pos];
					if (c && strchr(alphabet, c))
						continue;
					s[pos] = (char)c;
					same_verdict(&ks[j], s, len);
					s[pos] = keep;
				}
		}
		/* Padding, in and after the vector blocks. */
		for (size_t len = 66; len <= 100; len++) {
			valid_string(s, len);
			s[len - 1] = '=';
			same_verdict(&ks[j], s, len);
			s[len - 2] = '=';
			same_verdict(&ks[j], s, len);
		}
		/* Non-zero unused bits in the last character, past vector
		 * blocks; and a length no encoding has. */
		for (size_t len = 64; len <= 140; len++) {
			valid_string(s, len);
			if (len % 4 == 2 || len % 4 == 3) {
				for (const char *c = "BCDFGH"; *c; c++) {
					s[len - 1] = *c;
					same_verdict(&ks[j], s, len);
				}
			} else if (len % 4 == 1) {
				same_verdict(&ks[j], s, len);
			}
		}
	}
}

static void decode_into_bounds(void **state)
{
	uint8_t out[16];
	size_t n = 99;

	(void)state;
	memset(out, 0x55, sizeof(out));
	/* 16 characters are 12 bytes: 11 is too small, and nothing moves. */
	assert_int_equal(spn_b64url_decode_into("AAECAwQFBgcICQoL", 16, out, 11, &n), SPN_ETOOBIG);
	assert_int_equal(out[0], 0x55);
	assert_int_equal(spn_b64url_decode_into("AAECAwQFBgcICQoL", 16, out, 12, &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(out[11], 11);
	/* A refused value leaves no decoded byte behind. */
	assert_int_equal(spn_b64url_decode_into("AAECAwQFBgcICQo=", 16, out, sizeof(out), &n), SPN_EINVAL);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors),
		cmocka_unit_test(url_alphabet),
		cmocka_unit_test(refuses_non_canonical),
		cmocka_unit_test(agrees_with_nettle),
		cmocka_unit_test(vector_matches_scalar),
		cmocka_unit_test(kernels_do_the_bulk),
		cmocka_unit_test(vector_refusals),
		cmocka_unit_test(decode_into_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
