/* Fuzz target for certificate signing requests as the CA reads them from a
 * joining node: parse and self-signature check, then the node id and the
 * subjectAltNames. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>

#include "fuzz.h"
#include "ident.h"
#include "pki_csr.h"

const char fuzz_target[] = "csr";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	gnutls_x509_crq_t crq;
	char cn[SPN_NAME_MAX + 1];
	spn_names_t names;

	/* Once per process: the library's own setup, not part of what is
	 * being fuzzed. */
	if (!ready) {
		if (gnutls_global_init() < 0)
			abort();
		ready = 1;
	}
	if (spn_pki_csr_parse((const char *)data, size, &crq) != 0)
		return 0;
	/* Both are read even when the first fails, to reach more code. The
	 * buffer is sized as the CA sizes it. */
	spn_pki_csr_node_id(crq, cn, sizeof(cn));
	spn_pki_csr_names(crq, &names);
	gnutls_x509_crq_deinit(crq);
	return 0;
}
