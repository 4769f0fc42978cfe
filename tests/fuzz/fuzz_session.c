/* Fuzz target for session offers as they arrive from providers and session
 * requests as they arrive from clients: any bytes, parsed as JSON and as
 * both, written back and put in a transcript. */
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
	spn_session_request_t req, req2;
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
	if (spn_session_request_parse(o, &req) == 0) {
		back = spn_session_request_json(&req);
		if (spn_session_request_parse(back, &req2) != 0 || memcmp(req2.client_pk, req.client_pk, 32) ||
		    req2.sig_len != req.sig_len || (req.cert_pem == NULL) != (req2.cert_pem == NULL) ||
		    spn_session_request_transcript(&req, &t) != 0)
			abort();
		free(t);
		json_object_put(back);
		spn_session_request_clear(&req2);
	}
	spn_session_request_clear(&req);
	json_object_put(o);
	return 0;
}
