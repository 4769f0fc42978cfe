/* Fuzz target for sections: any bytes, read as a compact JWE by a router
 * (header only) and by a recipient (with a key); neither may crash, and no
 * forgery may open without the key's tag. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jwe.h"

const char fuzz_target[] = "jwe";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {7};
	spn_jwe_header_t h;
	uint8_t *pt = NULL;
	size_t len = 0;

	spn_jwe_peek((const char *)data, size, &h);
	if (spn_jwe_open(key, (const char *)data, size, &h, &pt, &len) == 0) {
		/* Only a section sealed with this key opens: seal it again and
		 * it must open to the same bytes. */
		char *again = NULL;
		uint8_t *pt2 = NULL;
		size_t len2 = 0;
		if (spn_jwe_seal(key, &h, pt, len, &again) != 0 ||
		    spn_jwe_open(key, again, strlen(again), &h, &pt2, &len2) != 0 || len2 != len ||
		    memcmp(pt, pt2, len) != 0)
			abort();
		free(again);
		free(pt2);
		free(pt);
	}
	return 0;
}
