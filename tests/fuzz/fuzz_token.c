/* Fuzz target for join token decoding, the first thing the CA does with a
 * token a joining node sends. */
#include "config.h"

#include "fuzz.h"
#include "token.h"

const char fuzz_target[] = "token";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_token_t t;

	/* Failure is the expected outcome for most inputs; only memory errors
	 * and crashes matter here. */
	spn_token_decode((const char *)data, size, &t);
	return 0;
}
