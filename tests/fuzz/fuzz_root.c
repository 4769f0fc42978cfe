/* The fuzz targets' own root: a certificate and its key made for them
 * alone, which sign only what the targets and their seeds need. */
#include "config.h"

#include <string.h>

#include "fuzz_root.h"
#include "pki_cert.h"

static const char root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBRzCB+qADAgECAgEBMAUGAytlcDAjMRIwEAYDVQQDDAlmdXp6LXJvb3QxDTAL\n"
	"BgNVBAoMBGZ1enowHhcNMjYxMjA1MTI0OTE4WhcNMzYxMjAyMTI0OTE4WjAjMRIw\n"
	"EAYDVQQDDAlmdXp6LXJvb3QxDTALBgNVBAoMBGZ1enowKjAFBgMrZXADIQCp0iRG\n"
	"dAE67/pkJc/UGfrzs4m5a/eVWzZo7U9CNVcAmqNTMFEwHQYDVR0OBBYEFAJ7NrjC\n"
	"5/drNM1ELaAIcKdxxp8cMB8GA1UdIwQYMBaAFAJ7NrjC5/drNM1ELaAIcKdxxp8c\n"
	"MA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EAxxWwVOyT4HsMjtZHQacVTlxUx+NF\n"
	"tmEwPjiz1i6eWdCgjpBHDgKOMz2t2lqqN+B7dtcgb8ozgkaNTC34E/MiCg==\n"
	"-----END CERTIFICATE-----\n";
static const char root_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MC4CAQAwBQYDK2VwBCIEICELtpbAxfG8/J7O+IOs8ggIqN/Oo2rs7ribO0NbzkWG\n"
	"-----END PRIVATE KEY-----\n";

int fuzz_root(gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key)
{
	gnutls_datum_t d = {(unsigned char *)root_key_pem, sizeof(root_key_pem) - 1};

	if (spn_pki_cert_import(root_pem, strlen(root_pem), crt) != 0)
		return -1;
	if (gnutls_x509_privkey_init(key) < 0 || gnutls_x509_privkey_import(*key, &d, GNUTLS_X509_FMT_PEM) < 0)
		return -1;
	return 0;
}
