/* Fuzz target for session offers as they arrive from providers: any bytes,
 * parsed as JSON and as an offer, written back and put in a transcript. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "session.h"

const char fuzz_target[] = "session";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL, *back;
	spn_session_offer_t offer, again;
	char *t = NULL;

	if (spn_json_parse((const char *)data, size, &o) != 0)
		return 0;
	if (spn_session_offer_parse(o, &offer) == 0) {
		/* What was read is written back the same. */
		back = spn_session_offer_json(&offer);
		if (spn_session_offer_parse(back, &again) != 0 || memcmp(again.sealed, offer.sealed, sizeof(offer.sealed)) ||
		    again.sig_len != offer.sig_len || spn_session_transcript(&offer, &t) != 0)
			abort();
		free(t);
		json_object_put(back);
		spn_session_offer_clear(&again);
	}
	spn_session_offer_clear(&offer);
	json_object_put(o);
	return 0;
}
