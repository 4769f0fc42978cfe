/* Fuzz target for the signed-request headers of plain HTTP between nodes:
 * certificate, time and signature come from the network; the input is split
 * on newlines into the three header values and the body. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fuzz.h"
#include "http_sig.h"
#include "pki_cert.h"

const char fuzz_target[] = "sig";

/* The time of the seeds' Spn-Time, while their certificates are valid:
 * without it every input would stop at the freshness window. */
#define SEED_TIME 1795434335

/* A root for the check (the cert corpus's): nothing here verifies. */
static const char root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBWzCCAQ2gAwIBAgIUEuCGNZWDdoBx0cwiyWK66WQLqL4wBQYDK2VwMCMxEjAQ\n"
	"BgNVBAMMCWRlbW8tcm9vdDENMAsGA1UECgwEZGVtbzAeFw0yNjExMjMwOTM5NDRa\n"
	"Fw0zNjExMjAwOTM5NDRaMCMxEjAQBgNVBAMMCWRlbW8tcm9vdDENMAsGA1UECgwE\n"
	"ZGVtbzAqMAUGAytlcAMhAE3akSv1dYWCd4HSdjWJS9ufAS7sKv2DZolX0emP+w8K\n"
	"o1MwUTAdBgNVHQ4EFgQU0WEO//CVMCMPLJBQMNcTop5RQaowHwYDVR0jBBgwFoAU\n"
	"0WEO//CVMCMPLJBQMNcTop5RQaowDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQCu\n"
	"Xd88G71XDpGFeCrFOna4EG1nYyk8Fsi/T//TMJl5zgx9V0qyz1rOILMyWGfL7dyt\n"
	"oaVa1Hi4TA6dgmOGEdQE\n"
	"-----END CERTIFICATE-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static gnutls_x509_crt_t root;
	static int loaded = -1;
	char *text = malloc(size + 1), *parts[4] = {NULL, NULL, NULL, NULL}, *p;
	gnutls_x509_crt_t crt = NULL;

	if (!text)
		return 0;
	if (loaded < 0) {
		spn_clock_pin(SEED_TIME);
		loaded = spn_pki_cert_import(root_pem, strlen(root_pem), &root) == 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	for (int i = 0; i < 4 && p; i++) {
		parts[i] = p;
		p = i < 3 ? strchr(p, '\n') : NULL;
		if (p)
			*p++ = '\0';
	}
	if (loaded == 1 &&
	    spn_http_sig_verify(root, parts[0], parts[1], parts[2], "POST", "/v1/route", parts[3],
				parts[3] ? strlen(parts[3]) : 0, &crt) == 0)
		abort(); /* nothing here is signed by that root */
	if (crt)
		gnutls_x509_crt_deinit(crt);
	free(text);
	return 0;
}
