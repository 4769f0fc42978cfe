/* spnctl tree: the registry a running node holds, read over its REST API
 * with the node's own certificate, printed as an indented tree, JSON or
 * Graphviz DOT. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "http_client.h"
#include "json.h"
#include "mem.h"
#include "pki_anchor.h"
#include "pki_cert.h"
#include "pki_key.h"
#include "spnctl.h"

/* Where the node listens: [node] url, else [http] listen and port (or the
 * port file of a node started on port 0). */
static int node_url(const spn_conf_t *conf, char *url, size_t cap)
{
	unsigned long port = 0;
	bool tls = true;
	char *pf = NULL, *text = NULL;
	size_t len;
	int rc;

	if (spn_conf_get(conf, "node", "url")) {
		snprintf(url, cap, "%s", spn_conf_get(conf, "node", "url"));
		return 0;
	}
	if ((rc = spn_conf_uint(conf, "http", "port", 0, 0, 65535, &port)) ||
	    (rc = spn_conf_bool(conf, "http", "tls", true, &tls)))
		return rc;
	if (port == 0 && spn_conf_get(conf, "http", "port_file")) {
		if ((rc = spn_conf_path(conf, "http", "port_file", NULL, &pf)) == 0 &&
		    (rc = spn_file_read(pf, 64, &text, &len)) == 0)
			port = strtoul(text, NULL, 10);
		free(pf);
		free(text);
		if (rc)
			return rc;
	}
	if (port == 0)
		return spn_err(SPN_ECONFIG, "%s: cannot tell the node's port: give --url", spn_conf_file(conf));
	snprintf(url, cap, "%s://%s:%lu", tls ? "https" : "http", spn_conf_str(conf, "http", "listen", "127.0.0.1"),
		 port);
	return 0;
}

static void print_below(json_object *nodes, const char *parent, int depth)
{
	size_t n = json_object_array_length(nodes);

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(nodes, i), *svc;
		const char *id = NULL, *par = NULL, *role = NULL;
		spn_json_str(e, "parent", true, 64, &par);
		spn_json_str(e, "node", true, 64, &id);
		spn_json_str(e, "role", true, 16, &role);
		if (!par || !id || !role || strcmp(par, parent) != 0 || strcmp(id, parent) == 0)
			continue;
		printf("%*s%s (%s)", depth * 2, "", id, role);
		if (json_object_object_get_ex(e, "services", &svc) && json_object_array_length(svc)) {
			printf(":");
			for (size_t k = 0; k < json_object_array_length(svc); k++)
				printf(" %s", json_object_get_string(json_object_array_get_idx(svc, k)));
		}
		printf("\n");
		print_below(nodes, id, depth + 1);
	}
}

static int print_text(const char *body, size_t len)
{
	json_object *o = NULL, *nodes, *self;
	int rc = spn_json_parse(body, len, &o);

	if (rc)
		return rc;
	if (!json_object_object_get_ex(o, "nodes", &nodes) || !json_object_object_get_ex(o, "node", &self)) {
		json_object_put(o);
		return spn_err(SPN_EINVAL, "the node's answer has no registry");
	}
	/* The node itself first, then everything below it. */
	if (!json_object_is_type(nodes, json_type_array) || !json_object_is_type(self, json_type_string)) {
		json_object_put(o);
		return spn_err(SPN_EINVAL, "the node's answer has no registry");
	}
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *e = json_object_array_get_idx(nodes, i);
		const char *id = NULL, *role = NULL;
		spn_json_str(e, "node", true, 64, &id);
		spn_json_str(e, "role", true, 16, &role);
		if (id && role && strcmp(id, json_object_get_string(self)) == 0)
			printf("%s (%s)\n", id, role);
	}
	print_below(nodes, json_object_get_string(self), 1);
	json_object_put(o);
	return 0;
}

/* The node's key and, when it is encrypted, its passphrase for libcurl,
 * from the sources [node] names. Over plain HTTP (development) the node's
 * requests are signed with the key instead of a TLS client certificate. */
static int node_identity(const spn_conf_t *conf, const char *cert, const char *key, spn_http_client_config_t *cfg,
			 char **pass)
{
	spn_pass_src_t src;
	char *pem = NULL, *b64 = NULL;
	size_t len;
	int rc;

	if ((rc = spn_pass_src_conf(conf, "node", "key_passphrase", "SPN_KEY_PASSPHRASE", &src)) ||
	    (rc = spn_pki_key_load_src(key, &src, &cfg->sign_key, pass)))
		goto out;
	cfg->key_pass = *pass;
	if (cfg->tls)
		goto out;
	if ((rc = spn_file_read(cert, SPN_CERT_MAX, &pem, &len)) == 0 && (rc = spn_pki_cert_b64(pem, &b64)) == 0)
		cfg->sign_cert_b64 = b64;
out:
	spn_pass_src_clear(&src);
	free(pem);
	return rc;
}

int spnctl_tree(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"url", required_argument, NULL, 'u'},
		{"format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *conf_path = NULL, *url_arg = NULL, *format = "text";
	spn_http_client_config_t cfg = {.tls = true};
	spn_http_client_t *c = NULL;
	spn_conf_t *conf = NULL;
	char url[600], base[512], *cert = NULL, *key = NULL, *root = NULL, *body = NULL, *pass = NULL;
	char *ca_pem = NULL;
	bool above = false;
	size_t len = 0;
	long status = 0;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:u:F:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'u': url_arg = optarg; break;
		case 'F': format = optarg; break;
		case 'h':
			printf("usage: spnctl tree -c NODE_CONF [--url URL] [--format text|json|dot]\n");
			return 0;
		default: return 2;
		}
	}
	if (!conf_path)
		return spnctl_usage("tree: -c NODE_CONF is required");
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "dot") != 0)
		return spnctl_usage("tree: --format is text, json or dot");
	if ((rc = spnctl_conf(conf_path, &conf)))
		return spnctl_fail("tree", rc);
	if (url_arg)
		snprintf(base, sizeof(base), "%s", url_arg);
	else
		rc = node_url(conf, base, sizeof(base));
	if (rc == 0 && (rc = spn_conf_path(conf, "node", "cert", NULL, &cert)) == 0 &&
	    (rc = spn_conf_path(conf, "node", "key", NULL, &key)) == 0 &&
	    (rc = spn_conf_path(conf, "node", "root", NULL, &root)) == 0) {
		cfg.cert_file = cert;
		cfg.key_file = key;
		cfg.root_file = root;
		cfg.tls = strncmp(base, "http://", 7) != 0;
		/* Under an anchor above the group's CA, the node must be a member. */
		if ((rc = spn_pki_anchor_files(root, cert, &ca_pem, &above)) == 0)
			cfg.root_pem = above ? ca_pem : NULL;
		if (rc == 0)
			rc = node_identity(conf, cert, key, &cfg, &pass);
		if (cfg.tls && cfg.sign_key) {
			/* Over TLS the key signs nothing itself. */
			gnutls_x509_privkey_deinit(cfg.sign_key);
			cfg.sign_key = NULL;
		}
		snprintf(url, sizeof(url), "%s/v1/tree%s", base, strcmp(format, "dot") == 0 ? ".dot" : "");
		if (rc == 0 && (rc = spn_http_client_new(&cfg, &c)) == 0 &&
		    (rc = spn_http_client_call(c, url, NULL, 0, &status, &body, &len)) == 0 && status != 200)
			rc = spn_err(SPN_EDENIED, "%s answered %ld: %s", url, status, body);
	}
	if (rc == 0) {
		if (strcmp(format, "text") == 0)
			rc = print_text(body, len);
		else
			printf("%s%s", body, strcmp(format, "json") == 0 ? "\n" : "");
	}
	spn_http_client_free(c);
	if (cfg.sign_key)
		gnutls_x509_privkey_deinit(cfg.sign_key);
	free((char *)cfg.sign_cert_b64);
	spn_free_secret_str(pass);
	spn_conf_free(conf);
	free(cert);
	free(key);
	free(root);
	free(ca_pem);
	free(body);
	return rc ? spnctl_fail("tree", rc) : 0;
}
