/* Fuzz target for the JSON pseudo-CSR of devices that cannot build ASN.1
 * (POST /v1/enroll/pseudo, "request"): node id, names, subject attributes
 * and an optional public key, read as the CA reads them before it looks at
 * the token. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "fuzz.h"

const char fuzz_target[] = "pseudo";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spn_ca_pseudo_t rq;

	if (spn_ca_pseudo_parse((const char *)data, size, &rq) != 0)
		return 0;
	/* What was read stays within what the certificate can carry. */
	if (strlen(rq.node_id) > SPN_NAME_MAX || rq.names.n_dns > SPN_SAN_MAX || rq.names.n_ip > SPN_SAN_MAX)
		abort();
	/* A subject attribute read is one the rules accept again. */
	if ((rq.subject.c[0] && spn_ca_subject_set(&rq.subject, "C", rq.subject.c) != 0) ||
	    (rq.subject.e[0] && spn_ca_subject_set(&rq.subject, "E", rq.subject.e) != 0) ||
	    (rq.subject.ou[0] && spn_ca_subject_set(&rq.subject, "OU", rq.subject.ou) != 0))
		abort();
	spn_ca_pseudo_clear(&rq);
	return 0;
}
