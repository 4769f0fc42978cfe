/* The certificates above the group's CA, when the group adopted an
 * intermediate CA of another authority: loaded from [ca] chain and carried
 * by every certificate the CA hands out (ca_internal.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "error.h"
#include "pki_cert.h"

int spn_ca_chain_tail(gnutls_x509_crt_t root, const gnutls_x509_crt_t *above, unsigned n, char **out)
{
	gnutls_x509_crt_t all[SPN_CERT_PATH_MAX + 1];

	*out = NULL;
	/* A self-signed CA is what relying parties hold already. */
	if (gnutls_x509_crt_check_issuer(root, root) || n > SPN_CERT_PATH_MAX)
		return n > SPN_CERT_PATH_MAX ? spn_err(SPN_EINVAL, "more than %d certificates above the CA", SPN_CERT_PATH_MAX) : 0;
	all[0] = root;
	memcpy(all + 1, above, n * sizeof(*above));
	return spn_pki_cert_list_export(all, n + 1, out);
}

int spn_ca_chain_load(spn_ca_t *ca)
{
	char *path = NULL;
	int rc;

	if (spn_conf_get(ca->conf, "ca", "chain")) {
		if ((rc = spn_conf_path(ca->conf, "ca", "chain", NULL, &path)))
			return rc;
		rc = spn_pki_cert_list_load(path, SPN_CERT_PATH_MAX, &ca->above, &ca->n_above);
		free(path);
		if (rc)
			return spn_err(rc, "[ca] chain: %s", spn_err_detail(rc));
	}
	return spn_ca_chain_tail(ca->root, ca->above, ca->n_above, &ca->tail);
}

int spn_ca_chain_attach(const spn_ca_t *ca, const char *leaf, char **out)
{
	if (asprintf(out, "%s%s", leaf, ca->tail ? ca->tail : "") < 0) {
		*out = NULL;
		return SPN_ENOMEM;
	}
	return 0;
}
