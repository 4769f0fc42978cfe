/* Fuzz target for base64url: any bytes, decoded by the scalar code and by
 * each vector kernel this processor runs, must get one verdict and the same
 * bytes from all; what decodes must encode back to the very characters
 * (one encoding per value), and any bytes must encode alike in each. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "b64_vec.h"
#include "fuzz.h"

const char fuzz_target[] = "b64";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nk, cap = size / 4 * 3 + 3, ref_len = 0, got_len = 0, enc_len;
	const spn_b64_vec_t *ks = spn_b64_vec_list(&nk);
	uint8_t *ref = malloc(cap), *got = malloc(cap);
	char *enc = malloc(size / 3 * 4 + 5), *enc2 = malloc(size / 3 * 4 + 5);
	int rc;

	if (!ref || !got || !enc || !enc2)
		abort();
	rc = spn_b64url_decode_with(NULL, (const char *)data, size, ref, cap, &ref_len);
	if (rc == 0 && (spn_b64url_encode_with(NULL, ref, ref_len, enc) != size || memcmp(enc, data, size) != 0))
		abort();
	enc_len = spn_b64url_encode_with(NULL, data, size, enc);
	for (size_t k = 0; k < nk; k++) {
		if (spn_b64url_decode_with(&ks[k], (const char *)data, size, got, cap, &got_len) != rc ||
		    (rc == 0 && (got_len != ref_len || memcmp(got, ref, ref_len) != 0)))
			abort();
		if (spn_b64url_encode_with(&ks[k], data, size, enc2) != enc_len || memcmp(enc, enc2, enc_len + 1) != 0)
			abort();
	}
	free(ref);
	free(got);
	free(enc);
	free(enc2);
	return 0;
}
