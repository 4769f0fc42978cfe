/* Fuzz target for CRLs as a node takes them (POST /v1/crl, and from its
 * parent) and as a client checks the one it is given: any bytes, taken as
 * they are, then once more re-signed with the root's key, so that what
 * follows the signature check (the number, the listed serials, the next
 * update) is reached by inputs the fuzzer changed. */
#include "config.h"

#include <gnutls/abstract.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fuzz.h"
#include "fuzz_root.h"
#include "revoked.h"

const char fuzz_target[] = "crl";

/* After the seeds' thisUpdate, before their nextUpdate. */
#define SEED_TIME 1796475600

static gnutls_x509_crt_t root;
static gnutls_privkey_t root_key;

static void setup(void)
{
	gnutls_x509_privkey_t k;

	spn_clock_pin(SEED_TIME);
	if (fuzz_root(&root, &k) != 0 || gnutls_privkey_init(&root_key) < 0 ||
	    gnutls_privkey_import_x509(root_key, k, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0)
		abort();
}

/* What a node and a client do with a CRL, and what must then hold. */
static void take(const char *pem, size_t len)
{
	spn_revoked_t *r;
	char *back;
	size_t back_len = 0;
	int rc;

	if (spn_revoked_new(root, &r) != 0)
		abort();
	rc = spn_revoked_update(r, pem, len);
	if (rc == 1) {
		/* What was taken is what a node serves again, by its number;
		 * the same CRL again is not newer. */
		back = spn_revoked_pem(r, &back_len);
		if (!back || back_len != len || memcmp(back, pem, len) != 0 ||
		    spn_revoked_number(r) != spn_crl_pem_number(pem, len) || spn_revoked_number(r) == 0 ||
		    spn_revoked_update(r, pem, len) != 0)
			abort();
		free(back);
		/* The client's check: current or not, never a crash. */
		(void)(spn_revoked_next_update(r) > spn_clock_now());
		spn_revoked_has(r, "0a1b2c");
		spn_revoked_has(r, "");
	} else if (rc == 0 && spn_revoked_number(r) != 0) {
		abort();
	}
	spn_revoked_free(r);
}

/* The input as a CRL with the root's signature, when it reads as one. */
static void take_resigned(const uint8_t *data, size_t size)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t d = {(unsigned char *)data, (unsigned)size}, pem = {NULL, 0};

	if (gnutls_x509_crl_init(&crl) < 0)
		return;
	if (gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_x509_crl_privkey_sign(crl, root, root_key, GNUTLS_DIG_SHA512, 0) >= 0 &&
	    gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem) >= 0)
		take((const char *)pem.data, pem.size);
	gnutls_free(pem.data);
	gnutls_x509_crl_deinit(crl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	take((const char *)data, size);
	spn_crl_pem_number((const char *)data, size);
	take_resigned(data, size);
	return 0;
}
