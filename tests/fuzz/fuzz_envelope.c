/* Fuzz target for what clients send an entry node: any bytes, read as a
 * session call and as a message envelope. Neither may crash; what is read
 * stays within its bounds. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "fuzz.h"
#include "ident.h"

const char fuzz_target[] = "envelope";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_session_call_t c;
	spn_envelope_t *e = malloc(sizeof(*e));

	if (spn_session_call_parse((const char *)data, size, &c) == 0) {
		if (c.n == 0 || c.n > SPN_ENVELOPE_MAX || strlen(c.client_key) > 64)
			abort();
		for (size_t i = 0; i < c.n; i++)
			if (!spn_id_is_valid(c.item[i].session) || !spn_service_name_is_valid(c.item[i].service))
				abort();
		spn_session_call_clear(&c);
	}
	if (e && spn_envelope_parse((const char *)data, size, e) == 0) {
		if (e->n == 0 || e->n > SPN_ENVELOPE_MAX || !spn_id_is_valid(e->id))
			abort();
		for (size_t i = 0; i < e->n; i++) {
			if (e->rc[i] == 0 && strcmp(e->h[i].mid, e->id) != 0)
				abort();
			/* No two sections a provider would take for one. */
			for (size_t j = 0; j < i; j++)
				if (e->rc[i] == 0 && e->rc[j] == 0 && spn_envelope_sections_clash(&e->h[i], &e->h[j]))
					abort();
		}
		spn_envelope_clear(e);
	}
	free(e);
	return 0;
}
