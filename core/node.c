/* Loading a node's identity and starting its server. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "pki_cert.h"
#include "pki_key.h"

const spn_conf_key_t spn_node_http_keys[] = {
	{"http", "listen", SPN_CONF_STR, 1, 0, NULL},
	{"http", "port", SPN_CONF_UINT, 0, 65535, NULL},
	{"http", "threads", SPN_CONF_UINT, 1, 64, NULL},
	{"http", "tls", SPN_CONF_BOOL, 0, 0, NULL},
	{"http", "port_file", SPN_CONF_STR, 1, 0, NULL},
	{"http", "max_body", SPN_CONF_UINT, 1024, 16 * 1024 * 1024, NULL},
};
const size_t spn_node_http_nkeys = sizeof(spn_node_http_keys) / sizeof(spn_node_http_keys[0]);

static int read_pem(const spn_conf_t *c, const char *key, char **out)
{
	char *path;
	size_t len;
	int rc = spn_conf_path(c, "node", key, NULL, &path);

	if (rc)
		return rc;
	rc = spn_file_read(path, SPN_CERT_MAX, out, &len);
	free(path);
	return rc;
}

int spn_node_open(spn_conf_t *conf, spn_node_t **out)
{
	spn_node_t *n = calloc(1, sizeof(*n));
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t pem = {NULL, 0};
	char *key_path = NULL;
	int rc;

	if (!n)
		return SPN_ENOMEM;
	n->conf = conf;
	pthread_mutex_init(&n->ca_lock, NULL);
	if ((rc = read_pem(conf, "cert", &n->cert_pem)) || (rc = read_pem(conf, "root", &n->root_pem)) ||
	    (rc = spn_conf_path(conf, "node", "key", NULL, &key_path)))
		goto out;
	if ((rc = spn_pki_key_load(key_path, spn_conf_str(conf, "node", "key_passphrase_env", "SPN_KEY_PASSPHRASE"),
				   &key)))
		goto out;
	/* MHD wants the key as unencrypted PEM in memory: it stays in this
	 * process and is wiped at close. */
	if ((rc = spn_pki_key_export(key, NULL, &pem)))
		goto out;
	n->key_pem = strndup((char *)pem.data, pem.size);
	spn_pki_datum_free_secret(&pem);
	if (!n->key_pem) {
		rc = SPN_ENOMEM;
		goto out;
	}
	if ((rc = spn_pki_cert_import(n->cert_pem, strlen(n->cert_pem), &crt)) ||
	    (rc = spn_pki_cert_import(n->root_pem, strlen(n->root_pem), &n->root)))
		goto out;
	if ((rc = spn_pki_cert_matches_key(crt, key))) {
		rc = spn_err(rc, "%s: the node key does not belong to its certificate", key_path);
		goto out;
	}
	if ((rc = spn_pki_cert_verify(crt, n->root))) {
		rc = spn_err(rc, "the node certificate: %s", spn_err_detail(rc));
		goto out;
	}
	if ((rc = spn_pki_cert_ident(crt, &n->id)))
		goto out;
	if (strcmp(n->id.node_id, spn_conf_str(conf, "node", "id", "")) != 0) {
		rc = spn_err(SPN_ECONFIG, "%s: [node] id = '%s' but the certificate is for '%s'", spn_conf_file(conf),
			     spn_conf_str(conf, "node", "id", ""), n->id.node_id);
		goto out;
	}
	if (n->id.role == SPN_ROLE_PSP) {
		if (!spn_conf_has_section(conf, "ca")) {
			rc = spn_err(SPN_ECONFIG, "%s: this is the PSP's certificate but there is no [ca] section",
				     spn_conf_file(conf));
			goto out;
		}
		if ((rc = spn_ca_open(conf, true, &n->ca)))
			goto out;
	}
	*out = n;
	n = NULL;
out:
	free(key_path);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	spn_node_close(n);
	return rc;
}

int spn_node_start(spn_node_t *n)
{
	spn_http_config_t cfg = {0};
	unsigned long port, threads, max_body;
	bool tls;
	char *port_file = NULL;
	int rc;

	if ((rc = spn_conf_uint(n->conf, "http", "port", 0, 0, 65535, &port)) ||
	    (rc = spn_conf_uint(n->conf, "http", "threads", 4, 1, 64, &threads)) ||
	    (rc = spn_conf_uint(n->conf, "http", "max_body", 1024 * 1024, 1024, 16 * 1024 * 1024, &max_body)) ||
	    (rc = spn_conf_bool(n->conf, "http", "tls", true, &tls)))
		return rc;
	n->tls = tls;
	cfg.address = spn_conf_str(n->conf, "http", "listen", "127.0.0.1");
	cfg.port = (uint16_t)port;
	cfg.threads = (unsigned)threads;
	cfg.max_body = max_body;
	cfg.routes = spn_node_routes;
	cfg.n_routes = spn_node_nroutes;
	cfg.user = n;
	if (tls) {
		cfg.cert_pem = n->cert_pem;
		cfg.key_pem = n->key_pem;
		cfg.trust_pem = n->root_pem;
	} else {
		if (n->ca && strcmp(cfg.address, "127.0.0.1") != 0 && strcmp(cfg.address, "::1") != 0)
			return spn_err(SPN_ECONFIG, "%s: [http] tls = false: the PSP hands out tokens' certificates and "
						    "keys; plain HTTP is allowed only on loopback",
				       spn_conf_file(n->conf));
		spn_log_warn("TLS IS OFF ([http] tls = false): for development only; message-level security still applies");
	}
	if ((rc = spn_http_start(&cfg, &n->http)))
		return rc;
	spn_log_info("node %s (%s) of group %s listening on %s port %u (%s)", n->id.node_id, spn_role_name(n->id.role),
		     n->id.group, cfg.address, (unsigned)spn_http_port(n->http), tls ? "https" : "http");
	if (spn_conf_get(n->conf, "http", "port_file")) {
		char text[16];
		if ((rc = spn_conf_path(n->conf, "http", "port_file", NULL, &port_file)))
			return rc;
		snprintf(text, sizeof(text), "%u\n", (unsigned)spn_http_port(n->http));
		rc = spn_file_write(port_file, text, strlen(text), 0644);
		free(port_file);
	}
	return rc;
}

void spn_node_close(spn_node_t *n)
{
	if (!n)
		return;
	spn_http_stop(n->http);
	spn_ca_close(n->ca);
	if (n->root)
		gnutls_x509_crt_deinit(n->root);
	spn_free_secret_str(n->key_pem);
	free(n->cert_pem);
	free(n->root_pem);
	pthread_mutex_destroy(&n->ca_lock);
	free(n);
}
