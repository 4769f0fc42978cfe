/* spnctl init, token, issue, issue-pseudo, revoke, hold, release and crl:
 * the PSP's certificate authority from the command line. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "file.h"
#include "mem.h"
#include "pass.h"
#include "pki_cert.h"
#include "pki_signer.h"
#include "spnctl.h"
#include "token.h"

int spnctl_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},           {"group", required_argument, NULL, 'g'},
		{"id", required_argument, NULL, 'i'},            {"key-type", required_argument, NULL, 't'},
		{"name", required_argument, NULL, 'n'},          {"root-validity", required_argument, NULL, 'v'},
		{"no-passphrase", no_argument, NULL, 'P'},       {"encrypt-node-key", no_argument, NULL, 'E'},
		{"ledger", required_argument, NULL, 'L'},        {"help", no_argument, NULL, 'h'},
		{"key", required_argument, NULL, 'K'},           {"pkcs11-module", required_argument, NULL, 'M'},
		{"import-root", required_argument, NULL, 'R'},   {"import-key", required_argument, NULL, 'I'},
		{NULL, 0, NULL, 0},
	};
	spn_ca_init_t p = {.psp_id = "psp", .key_type = SPN_KEY_ED25519, .root_validity = 3650UL * 86400};
	bool no_pass = false, encrypt_node = false, validity_set = false;
	char *pass = NULL, *node_pass = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "d:g:i:t:n:v:PEL:K:M:R:I:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': p.dir = optarg; break;
		case 'g': p.group = optarg; break;
		case 'i': p.psp_id = optarg; break;
		case 't':
			if ((rc = spn_key_type_parse(optarg, &p.key_type)))
				return spnctl_fail("init", rc);
			break;
		case 'n':
			if ((rc = spn_names_add(&p.names, optarg)))
				return spnctl_fail("init", rc);
			break;
		case 'v':
			if ((rc = spn_duration_parse(optarg, &p.root_validity)))
				return spnctl_fail("init", rc);
			validity_set = true;
			break;
		case 'P': no_pass = true; break;
		case 'E': encrypt_node = true; break;
		case 'L':
			if (!spn_ledger_is_uri(optarg))
				return spnctl_usage("init: --ledger takes a postgresql:// URI (without it, the ledger is "
						    "ledger.db in DIR)");
			p.ledger = optarg;
			break;
		case 'K':
			if (!spn_pki_is_token_uri(optarg))
				return spnctl_usage("init: --key takes a PKCS#11 URI (pkcs11:token=...;object=...); "
						    "without it the root key is DIR/ca/root.key");
			p.key_uri = optarg;
			break;
		case 'M': p.pkcs11_module = optarg; break;
		case 'R': p.import_root = optarg; break;
		case 'I': p.import_key = optarg; break;
		case 'h':
			printf("usage: spnctl init -d DIR -g GROUP [--id PSP_ID] [--key-type ed25519|p256|rsa2048|rsa3072|rsa4096]\n"
			       "                   [--name DNS_OR_IP]... [--root-validity 3650d] [--no-passphrase]\n"
			       "                   [--encrypt-node-key] [--ledger postgresql://...]\n"
			       "                   [--key pkcs11:token=...;object=... [--pkcs11-module PATH]]\n"
			       "       spnctl init -d DIR -g GROUP --import-root CERT --import-key KEYFILE|pkcs11:...\n"
			       "                   [--pkcs11-module PATH] [other options as above]\n"
			       "  The root key is encrypted with a passphrase from $SPN_CA_PASSPHRASE or the\n"
			       "  terminal; with --encrypt-node-key the PSP's node key too, with one from\n"
			       "  $SPN_NODE_PASSPHRASE or the terminal. With --ledger the ledger is made in that\n"
			       "  PostgreSQL database (which must hold none) instead of DIR/ledger.db.\n"
			       "  With --key the root key is made inside that PKCS#11 token (labelled with the\n"
			       "  URI's object) and never leaves it; $SPN_CA_PASSPHRASE or the terminal gives\n"
			       "  the token's PIN. --pkcs11-module names the token's module when p11-kit does\n"
			       "  not have it registered.\n"
			       "  With --import-root and --import-key the group adopts an existing CA instead of\n"
			       "  making a root: CERT holds its certificate (PEM or DER), followed by those above\n"
			       "  it when it is an intermediate; the key is a PKCS#8 file, copied to\n"
			       "  DIR/ca/root.key under the passphrase (which also opens it when it is\n"
			       "  encrypted), or a key in a token, used where it is, with the token's PIN.\n");
			return 0;
		default: return 2;
		}
	}
	if (!p.dir || !p.group)
		return spnctl_usage("init: -d DIR and -g GROUP are required");
	if (p.names.n_dns + p.names.n_ip == 0)
		spn_names_add(&p.names, "127.0.0.1");
	if (!p.import_root != !p.import_key)
		return spnctl_usage("init: --import-root and --import-key go together");
	if (p.import_root && (p.key_uri || validity_set))
		return spnctl_usage("init: --key and --root-validity are for a root made here, not with --import-root");
	if (p.pkcs11_module && !p.key_uri && !spn_pki_is_token_uri(p.import_key))
		return spnctl_usage("init: --pkcs11-module goes with --key pkcs11:... or --import-key pkcs11:...");
	if (p.key_uri || spn_pki_is_token_uri(p.import_key)) {
		if (no_pass)
			return spnctl_usage("init: --no-passphrase is for a key file; a token asks for its PIN");
		if ((rc = spn_pass_get("SPN_CA_PASSPHRASE", "PIN of the token for the root key: ", false, &pass)))
			return spnctl_fail("init", rc);
	} else if (no_pass)
		fprintf(stderr, "spnctl: warning: the root key is stored unencrypted (--no-passphrase)\n");
	else if ((rc = spn_pass_get("SPN_CA_PASSPHRASE", "New passphrase for the root key: ", true, &pass)))
		return spnctl_fail("init", rc);
	if (encrypt_node &&
	    (rc = spn_pass_get("SPN_NODE_PASSPHRASE", "New passphrase for the PSP's node key: ", true, &node_pass))) {
		spn_free_secret_str(pass);
		return spnctl_fail("init", rc);
	}
	p.passphrase = pass;
	p.node_passphrase = node_pass;
	rc = spn_ca_init(&p);
	spn_free_secret_str(pass);
	spn_free_secret_str(node_pass);
	if (rc)
		return spnctl_fail("init", rc);
	printf("group %s created in %s\n  config: %s/spnd.conf\n", p.group, p.dir, p.dir);
	{
		/* What joining nodes pin (spnctl enroll --fingerprint). */
		char *root_path = NULL, fpr[SPN_FPR_HEX];
		gnutls_x509_crt_t root;
		if (asprintf(&root_path, "%s/ca/root.crt", p.dir) >= 0 && spn_pki_cert_load(root_path, &root) == 0) {
			if (spn_pki_cert_fingerprint(root, fpr) == 0)
				printf("  root fingerprint: %s\n", fpr);
			gnutls_x509_crt_deinit(root);
		}
		free(root_path);
	}
	return 0;
}

/* Options shared by the commands that act on the CA. */
typedef struct {
	const char *conf, *csr, *json, *token, *out, *reason;
	const char *id, *role, *services, *key, *cert, *tpl;
	unsigned long trust, ttl;
	const char *arg;
} ca_args_t;

static int ca_args(int argc, char **argv, const char *usage, bool want_arg, ca_args_t *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},  {"csr", required_argument, NULL, 'r'},
		{"json", required_argument, NULL, 'j'},    {"token", required_argument, NULL, 'T'},
		{"out", required_argument, NULL, 'o'},     {"reason", required_argument, NULL, 'R'},
		{"id", required_argument, NULL, 'i'},      {"role", required_argument, NULL, 'l'},
		{"trust", required_argument, NULL, 't'},   {"services", required_argument, NULL, 's'},
		{"ttl", required_argument, NULL, 'L'},     {"key", required_argument, NULL, 'k'},
		{"cert", required_argument, NULL, 'C'},    {"template", required_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->conf = optarg; break;
		case 'r': a->csr = optarg; break;
		case 'j': a->json = optarg; break;
		case 'T': a->token = optarg; break;
		case 'o': a->out = optarg; break;
		case 'R': a->reason = optarg; break;
		case 'i': a->id = optarg; break;
		case 'l': a->role = optarg; break;
		case 's': a->services = optarg; break;
		case 'k': a->key = optarg; break;
		case 'C': a->cert = optarg; break;
		case 'M': a->tpl = optarg; break;
		case 't':
			a->trust = strtoul(optarg, &end, 10);
			if (*end || !*optarg || a->trust > SPN_TRUST_MAX)
				return spnctl_usage("--trust must be an integer from 0 to %d", SPN_TRUST_MAX);
			break;
		case 'L':
			if ((rc = spn_duration_parse(optarg, &a->ttl)))
				return spnctl_usage("--ttl: %s", spn_err_detail(rc));
			break;
		case 'h': printf("usage: %s\n", usage); return -1;
		default: return 2;
		}
	}
	if (want_arg) {
		if (optind != argc - 1)
			return spnctl_usage("usage: %s", usage);
		a->arg = argv[optind];
	} else if (optind != argc) {
		return spnctl_usage("usage: %s", usage);
	}
	return 0;
}

static int open_ca(const char *path, bool with_key, spn_conf_t **conf, spn_ca_t **ca)
{
	int rc = spnctl_psp_conf(path, conf);

	if (rc == 0 && (rc = spn_ca_open(*conf, with_key, ca)) != 0) {
		spn_conf_free(*conf);
		*conf = NULL;
	}
	return rc;
}

static void close_ca(spn_conf_t *conf, spn_ca_t *ca)
{
	spn_ca_close(ca);
	spn_conf_free(conf);
}

/* An admin mints offline with its own key and certificate: no ledger here;
 * the PSP checks the token against the admin's certificate at issuance. */
static int mint_as_admin(const ca_args_t *a, spn_ident_t *node, char **out)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	spn_ident_t me;
	int rc;

	if ((rc = spn_pki_cert_load(a->cert, &crt)))
		return rc;
	if ((rc = spn_pki_cert_ident(crt, &me)) || (rc = spn_pki_key_load(a->key, "SPN_KEY_PASSPHRASE", &key))) {
		gnutls_x509_crt_deinit(crt);
		return rc;
	}
	rc = spn_pki_cert_matches_key(crt, key);
	gnutls_x509_crt_deinit(crt);
	/* Offline, the group's token_ttl is unknown: 15 minutes fits any
	 * sensible one; --ttl overrides. */
	if (rc == 0)
		rc = spn_token_issue(key, &me, node, a->ttl ? a->ttl : 900, a->tpl, out);
	gnutls_x509_privkey_deinit(key);
	return rc;
}

int spnctl_token(int argc, char **argv)
{
	static const char usage[] =
		"spnctl token -c CONF --id NODE_ID --role admin|spn|client [--trust N] [--services a,b] [--ttl 15m]\n"
		"             [--template NAME]\n"
		"       spnctl token --key ADMIN_KEY --cert ADMIN_CERT --id NODE_ID --role ... (an admin, offline)";
	ca_args_t a = {0};
	spn_conf_t *conf;
	spn_ca_t *ca;
	spn_ident_t node;
	char *token = NULL;
	int rc = ca_args(argc, argv, usage, false, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!a.id || !a.role || (!a.conf && !(a.key && a.cert)))
		return spnctl_usage("usage: %s", usage);
	memset(&node, 0, sizeof(node));
	snprintf(node.node_id, sizeof(node.node_id), "%s", a.id);
	node.trust = (unsigned)a.trust;
	if ((rc = spn_role_parse(a.role, &node.role)) || (rc = spn_ident_set_services(&node, a.services)))
		return spnctl_fail("token", rc);
	if (!spn_name_is_valid(a.id))
		return spnctl_fail("token", spn_err(SPN_EINVAL, "invalid node id '%.80s'", a.id));
	if (a.conf) {
		if ((rc = open_ca(a.conf, false, &conf, &ca)))
			return spnctl_fail("token", rc);
		rc = spn_ca_token_mint(ca, &node, a.ttl ? a.ttl : spn_ca_policy(ca)->token_ttl, a.tpl, &token);
		close_ca(conf, ca);
	} else {
		rc = mint_as_admin(&a, &node, &token);
	}
	if (rc)
		return spnctl_fail("token", rc);
	printf("%s\n", token);
	spn_free_secret_str(token);
	return 0;
}

static void report(const spn_ca_issued_t *is)
{
	char svc[1100];

	fprintf(stderr, "spnctl: issued %s to %s (%s, trust %u, services: %s)\n", is->serial, is->id.node_id,
		spn_role_name(is->id.role), is->id.trust, spn_ident_services_str(&is->id, svc, sizeof(svc)));
}

int spnctl_issue(int argc, char **argv)
{
	static const char usage[] = "spnctl issue -c CONF --csr CSRFILE --token TOKEN|@FILE [-o CERTFILE]";
	ca_args_t a = {0};
	spn_conf_t *conf;
	spn_ca_t *ca;
	spn_ca_issued_t is;
	char *csr = NULL, *token = NULL;
	size_t csr_len = 0, token_len = 0;
	int rc = ca_args(argc, argv, usage, false, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!a.conf || !a.csr || !a.token)
		return spnctl_usage("usage: %s", usage);
	if ((rc = spnctl_output_free(a.out)))
		return spnctl_fail("issue", rc);
	/* Read a little past the limit so an oversized CSR is named as such. */
	/* Read past the limit so that an oversized CSR is refused as such by the
	 * CA's own check. */
	if ((rc = spn_file_read(strcmp(a.csr, "-") ? a.csr : "/dev/stdin", 4 * SPN_CSR_MAX, &csr, &csr_len)))
		return spnctl_fail("issue", rc);
	if ((rc = spnctl_arg_text(a.token, SPN_TOKEN_MAX, &token, &token_len))) {
		free(csr);
		return spnctl_fail("issue", rc);
	}
	while (token_len && (token[token_len - 1] == '\n' || token[token_len - 1] == '\r'))
		token[--token_len] = '\0';
	if ((rc = open_ca(a.conf, true, &conf, &ca)) == 0) {
		rc = spn_ca_enroll_csr(ca, csr, csr_len, token, token_len, &is);
		if (rc == 0) {
			report(&is);
			rc = spnctl_output(a.out, is.cert_pem, strlen(is.cert_pem), 0644);
			spn_ca_issued_clear(&is);
		}
		close_ca(conf, ca);
	}
	free(csr);
	spn_free_secret_str(token);
	return rc ? spnctl_fail("issue", rc) : 0;
}

int spnctl_issue_pseudo(int argc, char **argv)
{
	static const char usage[] =
		"spnctl issue-pseudo -c CONF --json REQFILE --token TOKEN|@FILE -o OUTFILE\n"
		"  Without \"public_key\" in the request the CA generates the key and writes a PKCS#12\n"
		"  bundle protected by $SPN_P12_PASSPHRASE, or by a generated passphrase it prints.";
	ca_args_t a = {0};
	spn_conf_t *conf;
	spn_ca_t *ca;
	spn_ca_issued_t is;
	char *json = NULL, *token = NULL, *pass = NULL;
	size_t json_len = 0, token_len = 0;
	int rc = ca_args(argc, argv, usage, false, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!a.conf || !a.json || !a.token || !a.out)
		return spnctl_usage("usage: %s", usage);
	if ((rc = spnctl_output_free(a.out)))
		return spnctl_fail("issue-pseudo", rc);
	if ((rc = spn_file_read(strcmp(a.json, "-") ? a.json : "/dev/stdin", 64 * 1024, &json, &json_len)) ||
	    (rc = spnctl_arg_text(a.token, SPN_TOKEN_MAX, &token, &token_len))) {
		free(json);
		return spnctl_fail("issue-pseudo", rc);
	}
	while (token_len && (token[token_len - 1] == '\n' || token[token_len - 1] == '\r'))
		token[--token_len] = '\0';
	if (getenv("SPN_P12_PASSPHRASE") && (rc = spn_pass_get("SPN_P12_PASSPHRASE", "", false, &pass))) {
		free(json);
		spn_free_secret_str(token);
		return spnctl_fail("issue-pseudo", rc);
	}
	if ((rc = open_ca(a.conf, true, &conf, &ca)) == 0) {
		rc = spn_ca_enroll_pseudo(ca, json, json_len, token, token_len, pass, &is);
		if (rc == 0) {
			report(&is);
			if (is.p12) {
				rc = spnctl_output(a.out, is.p12, is.p12_len, 0600);
				if (rc == 0 && !pass)
					printf("PKCS#12 passphrase: %s\n", is.p12_pass);
			} else {
				rc = spnctl_output(a.out, is.cert_pem, strlen(is.cert_pem), 0644);
			}
			spn_ca_issued_clear(&is);
		}
		close_ca(conf, ca);
	}
	free(json);
	spn_free_secret_str(token);
	spn_free_secret_str(pass);
	return rc ? spnctl_fail("issue-pseudo", rc) : 0;
}

static int status_cmd(int argc, char **argv, const char *name, const char *usage)
{
	ca_args_t a = {0};
	spn_conf_t *conf;
	spn_ca_t *ca;
	char serial[SPN_SERIAL_HEX];
	int reason = 0, rc = ca_args(argc, argv, usage, true, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!a.conf)
		return spnctl_usage("usage: %s", usage);
	if ((rc = spn_serial_parse(a.arg, serial)))
		return spnctl_fail(name, rc);
	if (strcmp(name, "revoke") == 0 && (rc = spn_crl_reason_parse(a.reason ? a.reason : "unspecified", &reason)))
		return spnctl_fail(name, rc);
	if ((rc = open_ca(a.conf, true, &conf, &ca)))
		return spnctl_fail(name, rc);
	if (strcmp(name, "revoke") == 0)
		rc = spn_ca_revoke(ca, serial, reason, NULL, NULL);
	else if (strcmp(name, "hold") == 0)
		rc = spn_ca_hold(ca, serial);
	else
		rc = spn_ca_release(ca, serial);
	close_ca(conf, ca);
	if (rc)
		return spnctl_fail(name, rc);
	fprintf(stderr, "spnctl: %s %s: done, CRL updated\n", name, serial);
	return 0;
}

int spnctl_revoke(int argc, char **argv)
{
	return status_cmd(argc, argv, "revoke", "spnctl revoke -c CONF [--reason keyCompromise|...] SERIAL");
}

int spnctl_hold(int argc, char **argv)
{
	return status_cmd(argc, argv, "hold", "spnctl hold -c CONF SERIAL");
}

int spnctl_release(int argc, char **argv)
{
	return status_cmd(argc, argv, "release", "spnctl release -c CONF SERIAL");
}

int spnctl_crl(int argc, char **argv)
{
	static const char usage[] = "spnctl crl -c CONF";
	ca_args_t a = {0};
	spn_conf_t *conf;
	spn_ca_t *ca;
	char *pem = NULL;
	int rc = ca_args(argc, argv, usage, false, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (!a.conf)
		return spnctl_usage("usage: %s", usage);
	if ((rc = open_ca(a.conf, true, &conf, &ca)))
		return spnctl_fail("crl", rc);
	rc = spn_ca_crl_update(ca, &pem);
	close_ca(conf, ca);
	if (rc)
		return spnctl_fail("crl", rc);
	fputs(pem, stdout);
	free(pem);
	return 0;
}
