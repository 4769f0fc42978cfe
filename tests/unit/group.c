/* A group for the unit tests that need real certificates. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "file.h"
#include "group.h"
#include "pki_cert.h"

int unit_group_new(const char *name, char *dir, spn_conf_t **conf, spn_ca_t **ca, gnutls_x509_crt_t *root)
{
	spn_ca_init_t p = {.group = name, .psp_id = "psp", .key_type = SPN_KEY_ED25519, .root_validity = 86400 * 30};
	char *path;
	int rc;

	*conf = NULL;
	*ca = NULL;
	*root = NULL;
	snprintf(dir, UNIT_GROUP_DIR, "/tmp/spn-%s-XXXXXX", name);
	if (!mkdtemp(dir))
		return -1;
	p.dir = dir;
	if ((rc = spn_ca_init(&p)))
		return rc;
	path = spn_file_join(dir, "spnd.conf");
	rc = spn_conf_load(path, conf);
	free(path);
	if (rc || (rc = spn_ca_open(*conf, true, ca)))
		return rc;
	path = spn_file_join(dir, "ca/root.crt");
	rc = spn_pki_cert_load(path, root);
	free(path);
	return rc;
}

int unit_group_remove(const char *dir)
{
	char cmd[UNIT_GROUP_DIR + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}
