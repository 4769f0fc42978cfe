/* Fuzz target for what an operator writes to name a CA key and trust: the
 * attributes of a PKCS#11 URI, and a node's anchor and certificate chain as
 * spnd reads them at start. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pki_anchor.h"
#include "pki_signer.h"

const char fuzz_target[] = "p11uri";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *text = malloc(size + 1), *ca = NULL, *cut, label[64];

	if (!ready) {
		if (gnutls_global_init() < 0)
			abort();
		ready = 1;
	}
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	spn_pki_uri_attr(text, "object", label, sizeof(label));
	spn_pki_uri_attr(text, "token", label, 1);
	/* The anchor, a line "%", then the node's certificate and chain. */
	cut = strstr(text, "\n%\n");
	if (cut) {
		*cut = '\0';
		bool above;
		spn_pki_anchor_ca(text, cut + 3, &ca, &above);
		free(ca);
	}
	free(text);
	return 0;
}
