/* Request bodies for the load generator of make bench, made before the
 * clock starts so that the figures measure the servers, not their clients.
 * Every message and every enrollment can be used once only (replay window,
 * single-use join tokens), so the load is a file of distinct requests, one
 * per line, one file per load thread.
 *
 *   bench_prep msgs URL ROOT SERVICE BYTES COUNT PREFIX THREADS
 *     opens sessions with the provider of SERVICE through the node at URL
 *     and writes PREFIX.<thread>: COUNT messages of one BYTES-long section
 *     each, in sequence within each session.
 *   bench_prep enroll CONF COUNT PREFIX THREADS
 *     mints COUNT join tokens with the PSP of CONF (in one ledger
 *     transaction) and writes PREFIX.<thread>: {"csr","token"} bodies, one
 *     ECDSA P-256 key, a node id per line; PREFIX.csr holds one such CSR
 *     for the baseline. */
#include "config.h"

#include <gnutls/crypto.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_internal.h"
#include "client_internal.h"
#include "conf.h"
#include "error.h"
#include "jwe.h"
#include "ledger.h"
#include "log.h"
#include "pki_csr.h"
#include "pki_key.h"

static int die(const char *what, int rc)
{
	fprintf(stderr, "bench_prep: %s: %s\n", what, spn_err_detail(rc));
	return 1;
}

static FILE *open_out(const char *prefix, const char *suffix)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	if (!(f = fopen(path, "w")))
		perror(path);
	return f;
}

/* Sessions per file: the lines take them in turn, so that the requests one
 * session has in flight at once stay far inside its replay window however
 * many connections a load thread keeps open. */
#define SESSIONS 8

static int msgs(char **argv)
{
	spn_client_config_t cfg = {.url = argv[0], .root_file = argv[1], .name = "bench"};
	const char *service = argv[2];
	size_t bytes = strtoul(argv[3], NULL, 10), count = strtoul(argv[4], NULL, 10);
	unsigned threads = (unsigned)strtoul(argv[6], NULL, 10);
	uint8_t *data = malloc(bytes);
	int rc = 0;

	if (!data)
		return die("memory", SPN_ENOMEM);
	for (size_t i = 0; i < bytes; i++)
		data[i] = (uint8_t)('a' + i % 26);
	for (unsigned t = 0; t < threads && rc == 0; t++) {
		spn_client_t *c[SESSIONS] = {0};
		spn_client_session_t *s[SESSIONS];
		char suffix[16];
		FILE *f;

		snprintf(suffix, sizeof(suffix), "%u", t);
		for (unsigned k = 0; k < SESSIONS && rc == 0; k++) {
			if ((rc = spn_client_new(&cfg, &c[k])))
				break;
			if ((rc = spn_client_open(c[k], &service, 1)) || !(s[k] = spn_client_session(c[k], service)) ||
			    !s[k]->open)
				rc = rc ? rc : SPN_ESESSION;
		}
		if (rc || !(f = open_out(argv[5], suffix))) {
			for (unsigned k = 0; k < SESSIONS; k++)
				spn_client_free(c[k]);
			return rc ? die("opening a session", rc) : 1;
		}
		for (size_t i = 0; i < count && rc == 0; i++) {
			spn_client_session_t *cur = s[i % SESSIONS];
			spn_jwe_header_t h;
			char *jwe = NULL;
			memset(&h, 0, sizeof(h));
			snprintf(h.kid, sizeof(h.kid), "%s", cur->id);
			snprintf(h.svc, sizeof(h.svc), "%s", cur->service);
			snprintf(h.to, sizeof(h.to), "%s", cur->provider);
			snprintf(h.from, sizeof(h.from), "%s", c[i % SESSIONS]->name);
			spn_client_new_mid(h.mid, sizeof(h.mid));
			h.seq = cur->seq++;
			if ((rc = spn_jwe_seal(cur->to_provider, &h, data, bytes, &jwe)) == 0)
				fprintf(f, "{\"id\":\"%s\",\"sections\":[\"%s\"]}\n", h.mid, jwe);
			free(jwe);
		}
		if (fclose(f) != 0 && rc == 0)
			rc = SPN_EIO;
		for (unsigned k = 0; k < SESSIONS; k++)
			spn_client_free(c[k]);
	}
	free(data);
	return rc ? die("sealing", rc) : 0;
}

static int enroll(char **argv)
{
	size_t count = strtoul(argv[1], NULL, 10);
	unsigned threads = (unsigned)strtoul(argv[3], NULL, 10);
	gnutls_x509_privkey_t key = NULL;
	spn_conf_t *conf = NULL;
	spn_ca_t *ca = NULL;
	spn_names_t names;
	FILE *out[64] = {0}, *one;
	char *csr = NULL;
	uint32_t run;
	int rc;

	if (threads == 0 || threads > 64)
		return die("threads", SPN_EINVAL);
	memset(&names, 0, sizeof(names));
	if ((rc = spn_conf_load(argv[0], &conf)) || (rc = spn_ca_open(conf, true, &ca)))
		return die(argv[0], rc);
	if ((rc = spn_pki_key_generate(SPN_KEY_P256, &key)) || (rc = spn_names_add(&names, "127.0.0.1")))
		return die("key", rc);
	/* The baseline signs the same kind of CSR. */
	if ((rc = spn_pki_csr_build(key, "bench-baseline", &names, &csr)) || !(one = open_out(argv[2], "csr")))
		return rc ? die("CSR", rc) : 1;
	fputs(csr, one);
	fclose(one);
	free(csr);
	for (unsigned t = 0; t < threads; t++) {
		char suffix[16];
		snprintf(suffix, sizeof(suffix), "%u", t);
		if (!(out[t] = open_out(argv[2], suffix)))
			return 1;
	}
	/* One transaction for all tokens: minting is not what is measured.
	 * Node ids are new in each run: a valid certificate holds its id. */
	if ((rc = spn_ledger_begin(ca->ledger)))
		return die("ledger", rc);
	gnutls_rnd(GNUTLS_RND_NONCE, &run, sizeof(run));
	for (size_t i = 0; i < count && rc == 0; i++) {
		spn_ident_t node;
		char *token = NULL;
		json_object *o;

		memset(&node, 0, sizeof(node));
		snprintf(node.node_id, sizeof(node.node_id), "b%08x-%07zu", run, i);
		node.role = SPN_ROLE_SPN;
		node.trust = 1;
		if ((rc = spn_ca_token_mint(ca, &node, spn_ca_policy(ca)->token_ttl, NULL, &token)) ||
		    (rc = spn_pki_csr_build(key, node.node_id, &names, &csr)))
			break;
		o = json_object_new_object();
		json_object_object_add(o, "csr", json_object_new_string(csr));
		json_object_object_add(o, "token", json_object_new_string(token));
		fprintf(out[i % threads], "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		free(token);
		free(csr);
	}
	if (rc) {
		spn_ledger_rollback(ca->ledger);
		return die("minting", rc);
	}
	if ((rc = spn_ledger_commit(ca->ledger)))
		return die("ledger", rc);
	for (unsigned t = 0; t < threads; t++)
		fclose(out[t]);
	gnutls_x509_privkey_deinit(key);
	spn_ca_close(ca);
	spn_conf_free(conf);
	return 0;
}

int main(int argc, char **argv)
{
	spn_log_set_level(SPN_LOG_WARN);
	if (argc == 9 && strcmp(argv[1], "msgs") == 0)
		return msgs(argv + 2);
	if (argc == 6 && strcmp(argv[1], "enroll") == 0)
		return enroll(argv + 2);
	fprintf(stderr, "usage: bench_prep msgs URL ROOT SERVICE BYTES COUNT PREFIX THREADS\n"
			"       bench_prep enroll CONF COUNT PREFIX THREADS\n");
	return 2;
}
