/* Issues certificates as fast as it can and prints each serial the moment
 * it is handed out, for the crash test that kills it mid-burst. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "error.h"
#include "pki_csr.h"
#include "schema.h"

int main(int argc, char **argv)
{
	spn_conf_t *conf;
	spn_ca_t *ca;
	gnutls_x509_privkey_t key;
	long count;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: ledger_burst CONF PREFIX COUNT\n");
		return 2;
	}
	count = atol(argv[3]);
	gnutls_global_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = spn_conf_load(argv[1], &conf)) || (rc = spn_schema_check(conf)) || (rc = spn_ca_open(conf, true, &ca)) ||
	    (rc = spn_pki_key_generate(SPN_KEY_ED25519, &key))) {
		fprintf(stderr, "ledger_burst: %s\n", spn_err_detail(rc));
		return 1;
	}
	for (long i = 0; i < count; i++) {
		spn_ident_t node;
		spn_ca_issued_t is;
		char *token, *csr;

		memset(&node, 0, sizeof(node));
		snprintf(node.node_id, sizeof(node.node_id), "%s-%ld", argv[2], i);
		node.role = SPN_ROLE_SPN;
		node.trust = 1;
		if ((rc = spn_ca_token_mint(ca, &node, 600, NULL, &token)) || (rc = spn_pki_csr_build(key, node.node_id, NULL, &csr))) {
			fprintf(stderr, "ledger_burst: %s\n", spn_err_detail(rc));
			return 1;
		}
		rc = spn_ca_enroll_csr(ca, csr, strlen(csr), token, strlen(token), &is);
		free(token);
		free(csr);
		if (rc) {
			fprintf(stderr, "ledger_burst: %s\n", spn_err_detail(rc));
			return 1;
		}
		/* Handed out: only now may anyone learn the serial. */
		printf("%s\n", is.serial);
		spn_ca_issued_clear(&is);
	}
	gnutls_x509_privkey_deinit(key);
	spn_ca_close(ca);
	spn_conf_free(conf);
	gnutls_global_deinit();
	return 0;
}
