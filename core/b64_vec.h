/* Vector kernels for base64url, inside libspn: b64.c runs the best one the
 * processor has over the bulk of a value and finishes it in scalar code,
 * which also gives every verdict on bad input. Declared here for b64.c and
 * for the tests that hold each kernel to the scalar code. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *name;
	/* Encodes whole blocks from the start of in into out; returns how
	 * many input bytes it consumed (a multiple of 3), having written
	 * exactly 4/3 as many characters and nothing past them. */
	size_t (*encode)(const uint8_t *in, size_t len, char *out);
	/* Decodes whole blocks, stopping before the first block with a
	 * character outside the alphabet, and writing nothing at or past
	 * out + cap; returns how many characters it consumed (a multiple of
	 * 4), having written 3/4 as many bytes (and maybe scratch after them,
	 * below cap). */
	size_t (*decode)(const char *in, size_t len, uint8_t *out, size_t cap);
} spn_b64_vec_t;

/* The kernels this processor can run, fastest first; *n receives how many
 * (none on other architectures). Valid for the life of the program. */
const spn_b64_vec_t *spn_b64_vec_list(size_t *n);

/* base64url with the given kernel, or scalar code alone when k is NULL;
 * the public functions of b64.h are these with the fastest kernel. */
size_t spn_b64url_encode_with(const spn_b64_vec_t *k, const uint8_t *in, size_t len, char *dst);
int spn_b64url_decode_with(const spn_b64_vec_t *k, const char *in, size_t inlen, uint8_t *dst, size_t cap,
			   size_t *outlen);
