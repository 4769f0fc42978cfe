/* Fuzz target for the small REST bodies a node reads from the network: any
 * bytes, read as an enrollment (with its chain of endorsements, and in the
 * pseudo-CSR form), a join token request, a renewal, a revocation and a
 * routed request. What each parse hands on must be within the bounds the
 * handlers rely on. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "node_body.h"

const char fuzz_target[] = "body";

static void enrollment(const uint8_t *data, size_t size, bool pseudo)
{
	spn_enroll_body_t b;

	if (spn_enroll_body_parse((const char *)data, size, pseudo, &b) != 0)
		return;
	if (!b.token || (pseudo ? !b.request || b.csr : !b.csr || b.request) ||
	    (b.endorsed_by && (b.n_endorsements == 0 || b.n_endorsements > SPN_ENDORSEMENTS_MAX)) ||
	    (!b.endorsed_by && b.n_endorsements))
		abort();
	for (size_t i = 0; i < b.n_endorsements; i++)
		if (strlen(b.endorsement[i].node) > SPN_NAME_MAX || !b.endorsement[i].sig)
			abort();
	spn_enroll_body_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_token_body_t t;
	spn_renew_body_t rn;
	spn_revoke_body_t rv;
	spn_route_fields_t f;
	json_object *msg = NULL;

	enrollment(data, size, false);
	enrollment(data, size, true);
	if (spn_token_body_parse((const char *)data, size, &t) == 0 &&
	    (t.ttl == 0 || t.ttl > 7 * 86400 || t.node.trust > SPN_TRUST_MAX || t.node.n_services > SPN_SERVICES_MAX))
		abort();
	if (spn_renew_body_parse((const char *)data, size, &msg, &rn) == 0 && (!rn.csr || !rn.certificate))
		abort();
	json_object_put(msg);
	msg = NULL;
	if (spn_revoke_body_parse((const char *)data, size, &rv) == 0 &&
	    (strlen(rv.serial) == 0 || strlen(rv.serial) >= SPN_SERIAL_HEX))
		abort();
	if (spn_json_parse((const char *)data, size, &msg) == 0) {
		if (spn_route_fields_parse(msg, &f) == 0 &&
		    ((!f.service && !f.node) || f.hops > SPN_ROUTE_PATH_MAX || (f.id && !spn_id_is_valid(f.id)) ||
		     (f.path && !json_object_is_type(f.path, json_type_array))))
			abort();
		json_object_put(msg);
	}
	return 0;
}
