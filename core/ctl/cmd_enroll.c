/* spnctl enroll: joins a group from the new node's own machine. The key is
 * generated here and never leaves; the group's root is fetched once and
 * accepted only when its fingerprint matches the one the operator was given
 * (as `step ca bootstrap --fingerprint` does); every later call verifies the
 * server against that root. Leaves a ready state directory for spnd. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "http_client.h"
#include "json.h"
#include "mem.h"
#include "pki_cert.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "spnctl.h"
#include "token.h"

typedef struct {
	const char *url, *fingerprint, *token, *dir, *listen, *user;
	spnctl_owner_t owner; /* with user: who the directory goes to */
	unsigned long port;
	spn_key_type_t key_type;
	spn_names_t names;
} enroll_args_t;

/* The fingerprint as the operator may write it: hex, any case, colons. */
static int normalise_fpr(const char *in, char *out)
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n == SPN_FPR_HEX - 1)
			return spn_err(SPN_EINVAL, "--fingerprint: 64 hex digits (SHA-256 of the root certificate)");
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	if (n != SPN_FPR_HEX - 1)
		return spn_err(SPN_EINVAL, "--fingerprint: 64 hex digits (SHA-256 of the root certificate)");
	return 0;
}

/* A parent on plain HTTP (development): the node follows it. */
static bool plain(const char *url)
{
	return strncmp(url, "http://", 7) == 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;

	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int call(spn_http_client_t *c, const char *base, const char *path, const char *node, const char *body,
		size_t len, long want, char **out, size_t *out_len)
{
	char url[512];
	long status = 0;
	json_object *o = NULL;
	const char *msg = NULL;
	int rc;

	snprintf(url, sizeof(url), "%s%s", base, path);
	if ((rc = node ? spn_http_client_call_node(c, url, node, body, len, &status, out, out_len)
		       : spn_http_client_call(c, url, body, len, &status, out, out_len)))
		return rc;
	if (status == want)
		return 0;
	if (spn_json_parse(*out, *out_len, &o) == 0)
		spn_json_str(o, "message", false, 4096, &msg);
	rc = spn_err(SPN_EDENIED, "%s answered %ld: %s", url, status, msg ? msg : *out);
	json_object_put(o);
	free(*out);
	*out = NULL;
	return rc;
}

/* Fetches the root without trusting the server, and keeps it only when its
 * fingerprint is the pinned one. */
static int bootstrap_root(const enroll_args_t *a, const char *root_path)
{
	spn_http_client_config_t cfg = {.tls = !plain(a->url), .no_verify = true};
	spn_http_client_t *c;
	gnutls_x509_crt_t root;
	char want[SPN_FPR_HEX], got[SPN_FPR_HEX], *pem = NULL;
	size_t len = 0;
	int rc;

	if ((rc = normalise_fpr(a->fingerprint, want)) || (rc = spn_http_client_new(&cfg, &c)))
		return rc;
	rc = call(c, a->url, "/v1/root", NULL, NULL, 0, 200, &pem, &len);
	spn_http_client_free(c);
	if (rc)
		return rc;
	if ((rc = spn_pki_cert_import(pem, len, &root)) == 0) {
		rc = spn_pki_cert_fingerprint(root, got);
		gnutls_x509_crt_deinit(root);
	}
	if (rc == 0 && strcmp(got, want) != 0)
		rc = spn_err(SPN_EBADCERT, "%s offers a root with fingerprint %s, not the pinned %s: refused", a->url,
			     got, want);
	if (rc == 0)
		rc = spn_file_create(root_path, pem, len, 0644);
	free(pem);
	return rc;
}

static int write_conf(const enroll_args_t *a, const spn_token_t *t)
{
	char *path = path_in(a->dir, "spnd.conf"), *text = NULL;
	int rc;

	if (!path || asprintf(&text,
			      "# spnd configuration of %s in group %s, written by spnctl enroll.\n"
			      "[node]\nid = %s\ngroup = %s\nkey = node.key\ncert = node.crt\nroot = root.pem\n"
			      "# the administrator that accepted this node\nparent = %s\n\n"
			      "[http]\nlisten = %s\nport = %lu\nport_file = spnd.port\n%s",
			      t->node.node_id, t->node.group, t->node.node_id, t->node.group, a->url, a->listen,
			      a->port, plain(a->url) ? "# as its parent: development only\ntls = false\n" : "") < 0) {
		free(path);
		return SPN_ENOMEM;
	}
	rc = spn_file_create(path, text, strlen(text), 0644);
	free(text);
	free(path);
	return rc;
}

static int enroll(enroll_args_t *a)
{
	spn_http_client_config_t cfg = {.tls = !plain(a->url)};
	spn_http_client_t *c = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL, root = NULL;
	json_object *req = NULL, *ans = NULL;
	spn_ident_t id;
	spn_token_t t;
	const char *cert_pem, *text;
	char *key_path = path_in(a->dir, "node.key"), *root_path = path_in(a->dir, "root.pem");
	char *crt_path = path_in(a->dir, "node.crt"), *conf_path = path_in(a->dir, "spnd.conf");
	char *csr = NULL, *body = NULL;
	size_t len = 0;
	bool made_root = false;
	int rc;

	if (!key_path || !root_path || !crt_path || !conf_path) {
		rc = SPN_ENOMEM;
		goto out;
	}
	if ((rc = spn_token_decode(a->token, strlen(a->token), &t)))
		goto out;
	if (mkdir(a->dir, 0700) != 0 && errno != EEXIST) {
		rc = spn_err(SPN_EIO, "%s: %s", a->dir, strerror(errno));
		goto out;
	}
	/* Everything that will be written must be free before the token is spent. */
	if ((rc = spnctl_output_free(crt_path)) || (rc = spnctl_output_free(key_path)) ||
	    (rc = spnctl_output_free(conf_path)) || (rc = spnctl_output_free(root_path)) ||
	    (rc = bootstrap_root(a, root_path)))
		goto out;
	made_root = true;
	if ((rc = spn_pki_key_generate(a->key_type, &key)) || (rc = spn_pki_key_save(key, key_path, NULL)) ||
	    (rc = spn_pki_csr_build(key, t.node.node_id, &a->names, &csr)))
		goto out;
	req = json_object_new_object();
	json_object_object_add(req, "csr", json_object_new_string(csr));
	json_object_object_add(req, "token", json_object_new_string(a->token));
	text = spn_json_text(req, &len);
	cfg.root_file = root_path;
	if ((rc = spn_http_client_new(&cfg, &c)))
		goto out;
	rc = call(c, a->url, "/v1/enroll", t.minted_by, text, len, 201, &body, &len);
	if (rc == SPN_ETIMEOUT || rc == SPN_EIO) {
		/* Sent, but no answer: the certificate may exist. The key stays,
		 * so that it can be used once the certificate is found. */
		made_root = false;
		rc = spn_err(rc, "%s; the request may have been processed: %s is kept (spnctl list/show at the PSP "
				 "tells whether %s was issued a certificate)",
			     spn_err_detail(rc), key_path, t.node.node_id);
	}
	if (rc)
		goto out;
	if ((rc = spn_json_parse(body, len, &ans)) || (rc = spn_json_str(ans, "certificate", true, SPN_CERT_MAX, &cert_pem)))
		goto out;
	/* What came back must be ours: from the pinned root, for this key and id. */
	if ((rc = spn_pki_cert_import(cert_pem, strlen(cert_pem), &crt)) || (rc = spn_pki_cert_load(root_path, &root)) ||
	    (rc = spn_pki_cert_verify(crt, root)) || (rc = spn_pki_cert_matches_key(crt, key)) ||
	    (rc = spn_pki_cert_ident(crt, &id)))
		goto out;
	if (strcmp(id.node_id, t.node.node_id) != 0) {
		rc = spn_err(SPN_EBADCERT, "the certificate is for %s, not %s", id.node_id, t.node.node_id);
		goto out;
	}
	if ((rc = spn_file_create(crt_path, cert_pem, strlen(cert_pem), 0644)))
		goto out;
	/* From here the key is certified: it stays, whatever happens next. */
	made_root = false;
	if ((rc = write_conf(a, &t)) || (a->user && (rc = spnctl_give(a->dir, &a->owner))))
		goto out;
	printf("%s enrolled in group %s as %s (trust %u) below %s\n  state: %s (key 0600, never sent)\n  run: spnd -c "
	       "%s/spnd.conf\n",
	       id.node_id, id.group, spn_role_name(id.role), id.trust, id.parent, a->dir, a->dir);
out:
	/* A failed run leaves nothing that would stop the next one. */
	if (rc && made_root) {
		if (key_path)
			unlink(key_path);
		if (root_path)
			unlink(root_path);
	}
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (root)
		gnutls_x509_crt_deinit(root);
	json_object_put(req);
	json_object_put(ans);
	spn_http_client_free(c);
	free(key_path);
	free(root_path);
	free(crt_path);
	free(conf_path);
	free(csr);
	free(body);
	return rc;
}

int spnctl_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},      {"fingerprint", required_argument, NULL, 'f'},
		{"token", required_argument, NULL, 'T'},    {"dir", required_argument, NULL, 'd'},
		{"key-type", required_argument, NULL, 't'}, {"name", required_argument, NULL, 'n'},
		{"listen", required_argument, NULL, 'l'},   {"port", required_argument, NULL, 'p'},
		{"user", required_argument, NULL, 'U'},     {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enroll_args_t a = {.key_type = SPN_KEY_ED25519, .listen = "127.0.0.1"};
	char *tok = NULL, *end;
	size_t tlen;
	int c, rc;

	while ((c = getopt_long(argc, argv, "u:f:T:d:t:n:l:p:U:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': a.url = optarg; break;
		case 'f': a.fingerprint = optarg; break;
		case 'T': a.token = optarg; break;
		case 'd': a.dir = optarg; break;
		case 't':
			if ((rc = spn_key_type_parse(optarg, &a.key_type)))
				return spnctl_fail("enroll", rc);
			break;
		case 'n':
			if ((rc = spn_names_add(&a.names, optarg)))
				return spnctl_fail("enroll", rc);
			break;
		case 'l': a.listen = optarg; break;
		case 'U': a.user = optarg; break;
		case 'p':
			a.port = strtoul(optarg, &end, 10);
			if (*end || a.port > 65535)
				return spnctl_usage("enroll: --port: 0 to 65535");
			break;
		case 'h':
			printf("usage: spnctl enroll --url ADMIN_URL --fingerprint ROOT_SHA256 --token TOKEN|@FILE -d DIR\n"
			       "                    [--key-type ed25519|p256|rsa2048|rsa3072|rsa4096] [--name DNS_OR_IP]...\n"
			       "                    [--listen ADDR] [--port N] [--user NAME]\n");
			return 0;
		default: return 2;
		}
	}
	if (!a.url || !a.fingerprint || !a.token || !a.dir)
		return spnctl_usage("enroll: --url, --fingerprint, --token and -d are required");
	/* Before the token is spent: a user that does not exist stops it. */
	if (a.user && (rc = spnctl_owner(a.user, &a.owner)))
		return spnctl_fail("enroll", rc);
	/* The node's HTTPS name: its listening address unless given. */
	if (a.names.n_dns + a.names.n_ip == 0 && (rc = spn_names_add(&a.names, a.listen)))
		return spnctl_fail("enroll", rc);
	if ((rc = spnctl_arg_text(a.token, SPN_TOKEN_MAX, &tok, &tlen)))
		return spnctl_fail("enroll", rc);
	while (tlen && isspace((unsigned char)tok[tlen - 1]))
		tok[--tlen] = '\0';
	a.token = tok;
	rc = enroll(&a);
	free(tok);
	return rc ? spnctl_fail("enroll", rc) : 0;
}
