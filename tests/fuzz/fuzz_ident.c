/* Fuzz target for the identity URI carried in certificates. The parser
 * accepts one canonical form only, so whatever it accepts must encode back
 * to exactly the same bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ident.h"

const char fuzz_target[] = "ident";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_ident_t id;
	char *uri = NULL;

	memset(&id, 0, sizeof(id));
	if (spn_ident_uri_decode((const char *)data, size, &id) != 0)
		return 0;
	/* A second spelling of one identity would let two certificates that
	 * look different name the same member. */
	if (spn_ident_uri_encode(&id, &uri) != 0 || strlen(uri) != size || memcmp(uri, data, size) != 0)
		abort();
	free(uri);
	return 0;
}
