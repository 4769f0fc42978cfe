/* Benchmarks of the message-level cryptography, each beside its baseline in
 * the same run: sessions established per second (offer and accept, both
 * sides in one thread) against GnuTLS's full TLS 1.3 handshake with X25519
 * and Ed25519 over memory, with the same certificate and root; section seal
 * + open at 1 KB and 16 KB against raw AES-256-GCM through GnuTLS. Figures
 * are printed, never asserted.
 *   bench_crypto [SECONDS_PER_ROW [JSON_FILE]]   (default 2; 0 runs each row
 *   once; the figures also go to JSON_FILE, one object per line) */
#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "conf.h"
#include "error.h"
#include "file.h"
#include "hpke.h"
#include "jwe.h"
#include "log.h"
#include "pki_cert.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "session.h"
#include "sstore.h"

static char dir[64] = "/tmp/spn-bench-XXXXXX";
static gnutls_x509_crt_t root;
static gnutls_x509_privkey_t prov_key;
static char *prov_cert, *root_pem;
static spn_ident_t prov_id;
static double seconds = 2.0;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs fn until the time is up; operations per second. */
static double rate(int (*fn)(size_t), size_t arg)
{
	double t0 = now_s(), t;
	unsigned long n = 0;

	do {
		if (fn(arg) != 0) {
			fprintf(stderr, "bench_crypto: an operation failed: %s\n", spn_err_detail(SPN_ECRYPTO));
			exit(1);
		}
		n++;
		t = now_s() - t0;
	} while (t < seconds);
	return (double)n / t;
}

/* --- a group with one provider, as the nodes have it ------------------- */

static void fail(const char *what)
{
	fprintf(stderr, "bench_crypto: %s: %s\n", what, spn_err_detail(SPN_EINVAL));
	exit(1);
}

static void setup(void)
{
	spn_ca_init_t p = {.group = "bench", .psp_id = "psp", .key_type = SPN_KEY_ED25519, .root_validity = 86400};
	spn_conf_t *conf = NULL;
	spn_ca_t *ca = NULL;
	spn_ca_issued_t is;
	gnutls_x509_crt_t crt;
	char *path, *csr = NULL, *tok = NULL;
	size_t len;

	if (!mkdtemp(dir))
		fail("mkdtemp");
	p.dir = dir;
	path = spn_file_join(dir, "spnd.conf");
	if (spn_ca_init(&p) || spn_conf_load(path, &conf) || spn_ca_open(conf, true, &ca))
		fail("the CA");
	free(path);
	memset(&prov_id, 0, sizeof(prov_id));
	strcpy(prov_id.node_id, "bank-1");
	prov_id.role = SPN_ROLE_SPN;
	prov_id.trust = 3;
	spn_ident_set_services(&prov_id, "bank");
	if (spn_pki_key_generate(SPN_KEY_ED25519, &prov_key) || spn_pki_csr_build(prov_key, "bank-1", NULL, &csr) ||
	    spn_ca_token_mint(ca, &prov_id, 600, NULL, &tok) || spn_ca_enroll_csr(ca, csr, strlen(csr), tok, strlen(tok), &is))
		fail("the provider's certificate");
	prov_cert = strdup(is.cert_pem);
	spn_ca_issued_clear(&is);
	if (spn_pki_cert_import(prov_cert, strlen(prov_cert), &crt) || spn_pki_cert_ident(crt, &prov_id))
		fail("the provider's identity");
	gnutls_x509_crt_deinit(crt);
	path = spn_file_join(dir, "ca/root.crt");
	if (spn_pki_cert_load(path, &root) || spn_file_read(path, 65536, &root_pem, &len))
		fail("the root");
	free(path);
	free(csr);
	free(tok);
	spn_ca_close(ca);
	spn_conf_free(conf);
}

/* --- sessions ------------------------------------------------------------ */

/* What a client and a provider each do for one session: the client's
 * ephemeral key, the provider's offer (HPKE seal, signature), the client's
 * checks (chain to the root, authorisation, signature) and HPKE open, and
 * the direction keys on both sides. */
static int one_session(size_t unused)
{
	uint8_t sk[SPN_HPKE_KEY], pk[SPN_HPKE_KEY], k1[32], k2[32], a[32], b[32];
	spn_session_offer_t o;
	int rc;

	(void)unused;
	if ((rc = spn_hpke_keypair(sk, pk)) ||
	    (rc = spn_session_offer("s-1", "bank", &prov_id, prov_key, prov_cert, pk, &o, k1)))
		return rc;
	rc = spn_session_accept(&o, "s-1", "bank", sk, pk, root, NULL, NULL, k2);
	spn_session_keys(k1, "s-1", a, b);
	spn_session_keys(k2, "s-1", a, b);
	spn_session_offer_clear(&o);
	return rc || memcmp(k1, k2, 32) != 0;
}

/* The TLS 1.3 baseline: both ends in this thread, records passed through
 * memory, the client verifying the server's certificate against the same
 * root. */
typedef struct {
	uint8_t buf[65536];
	size_t len, off;
} pipe_t;

static pipe_t c2s, s2c;

static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	pipe_t *q = p;

	if (q->len + len > sizeof(q->buf))
		return -1;
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	return (ssize_t)len;
}

static ssize_t pull_from(pipe_t *q, gnutls_session_t s, void *data, size_t len)
{
	if (q->off == q->len) {
		gnutls_transport_set_errno(s, EAGAIN);
		return -1;
	}
	if (len > q->len - q->off)
		len = q->len - q->off;
	memcpy(data, q->buf + q->off, len);
	q->off += len;
	if (q->off == q->len)
		q->off = q->len = 0;
	return (ssize_t)len;
}

static gnutls_session_t tls_client, tls_server;
static ssize_t pull_c(gnutls_transport_ptr_t p, void *d, size_t l) { return pull_from(p, tls_client, d, l); }
static ssize_t pull_s(gnutls_transport_ptr_t p, void *d, size_t l) { return pull_from(p, tls_server, d, l); }

static gnutls_certificate_credentials_t srv_cred, cli_cred;
static const char *const prio = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:-SIGN-ALL:+SIGN-EDDSA-ED25519";

static void tls_setup(void)
{
	gnutls_datum_t cert = {(unsigned char *)prov_cert, (unsigned)strlen(prov_cert)};
	gnutls_datum_t key = {NULL, 0}, ca = {(unsigned char *)root_pem, (unsigned)strlen(root_pem)};

	if (spn_pki_key_export(prov_key, NULL, &key) || gnutls_certificate_allocate_credentials(&srv_cred) < 0 ||
	    gnutls_certificate_set_x509_key_mem(srv_cred, &cert, &key, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_certificate_allocate_credentials(&cli_cred) < 0 ||
	    gnutls_certificate_set_x509_trust_mem(cli_cred, &ca, GNUTLS_X509_FMT_PEM) < 0)
		fail("TLS credentials");
	spn_pki_datum_free_secret(&key);
}

static int one_handshake(size_t unused)
{
	int rc_c = GNUTLS_E_AGAIN, rc_s = GNUTLS_E_AGAIN, rounds = 0;

	(void)unused;
	c2s.len = c2s.off = s2c.len = s2c.off = 0;
	if (gnutls_init(&tls_client, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
	    gnutls_init(&tls_server, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0)
		return -1;
	gnutls_priority_set_direct(tls_client, prio, NULL);
	gnutls_priority_set_direct(tls_server, prio, NULL);
	gnutls_credentials_set(tls_client, GNUTLS_CRD_CERTIFICATE, cli_cred);
	gnutls_credentials_set(tls_server, GNUTLS_CRD_CERTIFICATE, srv_cred);
	/* The certificate names the node by URI, not by host: verify the chain
	 * only, as spn's client checks the chain and the node id itself. */
	gnutls_session_set_verify_cert(tls_client, NULL, 0);
	gnutls_transport_set_ptr2(tls_client, &s2c, &c2s);
	gnutls_transport_set_ptr2(tls_server, &c2s, &s2c);
	gnutls_transport_set_push_function(tls_client, push);
	gnutls_transport_set_push_function(tls_server, push);
	gnutls_transport_set_pull_function(tls_client, pull_c);
	gnutls_transport_set_pull_function(tls_server, pull_s);
	while ((rc_c != 0 || rc_s != 0) && rounds++ < 20) {
		if (rc_c != 0)
			rc_c = gnutls_handshake(tls_client);
		if (rc_s != 0)
			rc_s = gnutls_handshake(tls_server);
		if ((rc_c < 0 && rc_c != GNUTLS_E_AGAIN) || (rc_s < 0 && rc_s != GNUTLS_E_AGAIN))
			break;
	}
	gnutls_deinit(tls_client);
	gnutls_deinit(tls_server);
	if (rc_c || rc_s)
		fprintf(stderr, "bench_crypto: TLS handshake: %s / %s\n", gnutls_strerror(rc_c), gnutls_strerror(rc_s));
	return rc_c || rc_s;
}

/* --- sections ------------------------------------------------------------ */

static uint8_t key[32], data[16384];
static spn_jwe_header_t hdr = {"s-7f3a", "bank", "bank-1", "wristband-7", "m-0001", 3};

static int seal_open(size_t n)
{
	char *jwe = NULL;
	uint8_t *pt = NULL;
	size_t len = 0;
	spn_jwe_header_t h;
	int rc;

	if ((rc = spn_jwe_seal(key, &hdr, data, n, &jwe)) == 0)
		rc = spn_jwe_open(key, jwe, strlen(jwe), &h, &pt, &len);
	free(jwe);
	free(pt);
	return rc || len != n;
}

static gnutls_aead_cipher_hd_t aead;

static int raw_gcm(size_t n)
{
	static uint8_t ct[16384 + 16], pt[16384];
	uint8_t iv[12];
	size_t ct_len = sizeof(ct), pt_len = sizeof(pt);

	/* The same random IV per section as spn draws. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, iv, sizeof(iv)) < 0 ||
	    gnutls_aead_cipher_encrypt(aead, iv, sizeof(iv), "hdr", 3, 16, data, n, ct, &ct_len) < 0 ||
	    gnutls_aead_cipher_decrypt(aead, iv, sizeof(iv), "hdr", 3, 16, ct, ct_len, pt, &pt_len) < 0)
		return -1;
	return pt_len != n;
}

/* Resident memory of this process, in bytes. */
static long rss(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * sysconf(_SC_PAGESIZE);
}

/* What a provider holds per open session, with n sessions in its store,
 * each from an anonymous client of its own: the worst case, an owner's
 * record per session. */
static double bytes_per_session(unsigned long n)
{
	spn_sstore_limits_t l = {n, 3600, 10000, 1 << 20, n, n, n, 256};
	spn_sstore_t *s = NULL;
	spn_sstore_keys_t k;
	char id[40], origin[64];
	long before;

	memset(&k, 0, sizeof(k));
	strcpy(k.service, "bank");
	if (spn_sstore_new(&l, &s))
		fail("the session store");
	before = rss();
	for (unsigned long i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "s-%032lx", i * 2654435761u);
		snprintf(origin, sizeof(origin), "e1/10.%lu.%lu.%lu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		if (spn_sstore_add(s, id, &k, origin, 1000) != 0)
			fail("a session");
	}
	{
		double per = (double)(rss() - before) / (double)n;
		spn_sstore_free(s);
		return per;
	}
}

static FILE *json;

static void row(const char *what, const char *unit, double spn, const char *base_name, double base)
{
	printf("%-34s %12.0f %-9s %-36s %12.0f %8.2fx\n", what, spn, unit, base_name, base, spn / base);
	if (json)
		fprintf(json, "{\"row\":\"%s\",\"rate\":%.1f,\"baseline_name\":\"%s\",\"baseline_rate\":%.1f}\n", what, spn,
			base_name, base);
}

int main(int argc, char **argv)
{
	gnutls_datum_t k = {key, sizeof(key)};
	char cmd[128];
	double s, b;

	if (argc > 1)
		seconds = atof(argv[1]);
	if (argc > 2 && !(json = fopen(argv[2], "w"))) {
		perror(argv[2]);
		return 1;
	}
	spn_log_set_level(SPN_LOG_WARN);
	gnutls_global_init();
	setup();
	tls_setup();
	gnutls_rnd(GNUTLS_RND_RANDOM, key, sizeof(key));
	gnutls_rnd(GNUTLS_RND_NONCE, data, sizeof(data));
	if (gnutls_aead_cipher_init(&aead, GNUTLS_CIPHER_AES_256_GCM, &k) < 0)
		fail("AES-256-GCM");
	printf("%-34s %12s %-9s %-36s %12s %9s\n", "spn", "rate", "", "baseline (same run)", "rate", "ratio");
	s = rate(one_session, 0);
	b = rate(one_handshake, 0);
	row("session (offer + accept)", "/s", s, "GnuTLS TLS 1.3 handshake X25519+Ed25519", b);
	s = rate(seal_open, 1024);
	b = rate(raw_gcm, 1024);
	row("section seal + open, 1 KB", "/s", s, "raw AES-256-GCM encrypt + decrypt", b);
	printf("%-34s %12.1f %-9s %-36s %12.1f\n", "", s * 1024 / 1e6, "MB/s", "", b * 1024 / 1e6);
	s = rate(seal_open, 16384);
	b = rate(raw_gcm, 16384);
	row("section seal + open, 16 KB", "/s", s, "raw AES-256-GCM encrypt + decrypt", b);
	printf("%-34s %12.1f %-9s %-36s %12.1f\n", "", s * 16384 / 1e6, "MB/s", "", b * 16384 / 1e6);
	s = bytes_per_session(seconds > 0 ? 100000 : 1000);
	printf("%-34s %12.0f %-9s (goal: at most 1024; 100,000 sessions held)\n", "provider memory per session", s,
	       "bytes");
	if (json) {
		fprintf(json, "{\"row\":\"provider memory per session\",\"bytes\":%.0f}\n", s);
		fclose(json);
	}
	gnutls_aead_cipher_deinit(aead);
	gnutls_certificate_free_credentials(srv_cred);
	gnutls_certificate_free_credentials(cli_cred);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_privkey_deinit(prov_key);
	free(prov_cert);
	free(root_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	gnutls_global_deinit();
	return 0;
}
