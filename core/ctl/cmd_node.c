/* spnctl keygen and csr: what a joining node runs on its own machine, so
 * that its private key never leaves it. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mem.h"
#include "pass.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "spnctl.h"

int spnctl_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'}, {"key-type", required_argument, NULL, 't'},
		{"encrypt", no_argument, NULL, 'e'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	spn_key_type_t type = SPN_KEY_ED25519;
	gnutls_x509_privkey_t key;
	char *pass = NULL;
	bool encrypt = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:t:eh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 't':
			if ((rc = spn_key_type_parse(optarg, &type)))
				return spnctl_fail("keygen", rc);
			break;
		case 'e': encrypt = true; break;
		case 'h':
			printf("usage: spnctl keygen -o KEYFILE [--key-type ed25519|p256|rsa2048|rsa3072|rsa4096] [--encrypt]\n"
			       "  --encrypt  protect the key with a passphrase from $SPN_KEY_PASSPHRASE or the terminal\n");
			return 0;
		default: return 2;
		}
	}
	if (!out)
		return spnctl_usage("keygen: -o KEYFILE is required");
	if (encrypt && (rc = spn_pass_get("SPN_KEY_PASSPHRASE", "New passphrase for the key: ", true, &pass)))
		return spnctl_fail("keygen", rc);
	if ((rc = spn_pki_key_generate(type, &key)) == 0) {
		rc = spn_pki_key_save(key, out, pass);
		gnutls_x509_privkey_deinit(key);
	}
	spn_free_secret_str(pass);
	if (rc)
		return spnctl_fail("keygen", rc);
	fprintf(stderr, "spnctl: %s key written to %s (mode 0600%s)\n", spn_key_type_name(type), out,
		encrypt ? ", encrypted" : "");
	return 0;
}

int spnctl_csr(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'}, {"id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'}, {"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *id = NULL, *out = NULL;
	spn_names_t names;
	gnutls_x509_privkey_t key;
	char *pem = NULL;
	int c, rc;

	memset(&names, 0, sizeof(names));
	while ((c = getopt_long(argc, argv, "k:i:n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'i': id = optarg; break;
		case 'n':
			if ((rc = spn_names_add(&names, optarg)))
				return spnctl_fail("csr", rc);
			break;
		case 'o': out = optarg; break;
		case 'h':
			printf("usage: spnctl csr --key KEYFILE --id NODE_ID [--name DNS_OR_IP]... [-o CSRFILE]\n");
			return 0;
		default: return 2;
		}
	}
	if (!keyfile || !id)
		return spnctl_usage("csr: --key and --id are required");
	if ((rc = spn_pki_key_load(keyfile, "SPN_KEY_PASSPHRASE", &key)))
		return spnctl_fail("csr", rc);
	rc = spn_pki_csr_build(key, id, &names, &pem);
	gnutls_x509_privkey_deinit(key);
	if (rc == 0)
		rc = spnctl_output(out, pem, strlen(pem), 0644);
	free(pem);
	return rc ? spnctl_fail("csr", rc) : 0;
}
