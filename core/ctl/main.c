/* spnctl: the operator's command line over libspn. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "spnctl.h"

static const struct {
	const char *name;
	spnctl_fn fn;
	const char *help;
} commands[] = {
	{"init", spnctl_init, "create a new group: root CA, PSP certificate, ledger, config"},
	{"keygen", spnctl_keygen, "generate a private key on this machine"},
	{"csr", spnctl_csr, "build a certificate signing request from a local key"},
	{"enroll", spnctl_enroll, "join a group: local key, pinned root, CSR and token to an administrator"},
	{"token", spnctl_token, "mint a join token for a new member"},
	{"issue", spnctl_issue, "issue a certificate from a CSR and a join token (PSP)"},
	{"issue-pseudo", spnctl_issue_pseudo, "issue from a JSON pseudo-CSR, optionally with a CA-generated key"},
	{"list", spnctl_list, "list certificates in the ledger"},
	{"show", spnctl_show, "show one certificate of the ledger"},
	{"revoke", spnctl_revoke, "revoke a certificate (final)"},
	{"hold", spnctl_hold, "put a certificate on hold"},
	{"release", spnctl_release, "release a certificate from hold"},
	{"crl", spnctl_crl, "sign a fresh CRL and print it"},
	{"log", spnctl_log, "print the ledger's audit trail"},
	{"tree", spnctl_tree, "show the registry of a running node (its subtree; the group from the PSP)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: spnctl <command> [options]   (spnctl <command> --help)\n"
		   "       spnctl --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("spnctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (gnutls_global_init() < 0) {
		fprintf(stderr, "spnctl: cannot initialise GnuTLS\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			rc = commands[i].fn(argc - 1, argv + 1);
			gnutls_global_deinit();
			return rc;
		}
	}
	fprintf(stderr, "spnctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
