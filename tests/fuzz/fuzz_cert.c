/* Fuzz target for certificates as members and the CA load them: PEM import,
 * then the identity read from the subject and the spn URI. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>

#include "fuzz.h"
#include "ident.h"
#include "pki_cert.h"

const char fuzz_target[] = "cert";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	gnutls_x509_crt_t crt;
	spn_ident_t id;

	/* Once per process: the library's own setup, not part of what is
	 * being fuzzed. */
	if (!ready) {
		if (gnutls_global_init() < 0)
			abort();
		ready = 1;
	}
	if (spn_pki_cert_import((const char *)data, size, &crt) != 0)
		return 0;
	spn_pki_cert_ident(crt, &id);
	gnutls_x509_crt_deinit(crt);
	return 0;
}
