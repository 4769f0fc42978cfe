/* Fuzz target for the strict JSON reader and for base64url decoding, the two
 * layers under join tokens, fed the same bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fuzz.h"
#include "json.h"

const char fuzz_target[] = "json";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL;
	uint8_t *raw = NULL;
	char *again = NULL;
	size_t len = 0;

	if (spn_json_parse((const char *)data, size, &o) == 0) {
		/* Serialising walks the whole tree the parser built; what json-c
		 * writes, the strict reader takes back. */
		json_object *again_o = NULL;
		const char *text = spn_json_text(o, &len);
		if (spn_json_parse(text, len, &again_o) != 0)
			abort();
		json_object_put(again_o);
		json_object_put(o);
	}
	if (spn_b64url_decode((const char *)data, size, &raw, &len) == 0) {
		/* The decoder promises a single encoding per value. */
		if (spn_b64url_encode(raw, len, &again) != 0 || strlen(again) != size ||
		    memcmp(again, data, size) != 0)
			abort();
		free(again);
		free(raw);
	}
	return 0;
}
