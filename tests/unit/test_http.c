/* The HTTP server and the node-to-node client against each other on
 * loopback, over mutual TLS with certificates from a real group. */
#include "config.h"

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ca.h"
#include "error.h"
#include "file.h"
#include "http_client.h"
#include "http_server.h"
#include "http_sig.h"
#include "pki_cert.h"
#include "pki_key.h"

static char dir[64], other[64];
static spn_http_server_t *server;
static char url[128];

static void whoami(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	spn_http_peer_t peer;
	json_object *o;
	int rc = spn_http_req_peer(req, &peer);

	(void)user;
	if (rc) {
		spn_http_error(resp, rc, spn_err_detail(rc));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(peer.id.node_id));
	spn_http_json(resp, 200, o);
}

static void echo(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	size_t len;
	const char *body = spn_http_req_body(req, &len);

	(void)user;
	spn_http_text(resp, 200, "text/plain", body, len);
}

/* An async handler that waits until the test lets it go: it can only be let
 * go if other requests are answered meanwhile, i.e. if it does not hold one
 * of the server's own threads. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static void waiter(spn_http_req_t *req, spn_http_resp_t *resp, void *user)
{
	struct timespec until;
	bool released;

	(void)req;
	(void)user;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&gate_lock);
	while (!gate_open && pthread_cond_timedwait(&gate_cond, &gate_lock, &until) == 0)
		;
	released = gate_open;
	pthread_mutex_unlock(&gate_lock);
	spn_http_text(resp, 200, "text/plain", released ? "released" : "timed out", released ? 8 : 9);
}

static const spn_http_route_t routes[] = {
	{"GET", "/whoami", whoami, 0, false, false},
	{"POST", "/echo", echo, 1024, false, false},
	{"POST", "/wait", waiter, 1024, true, false},
};

static char *path(const char *d, const char *name)
{
	return spn_file_join(d, name);
}

static int make_group(char *d, const char *group)
{
	spn_ca_init_t p = {.group = group, .psp_id = "psp", .key_type = SPN_KEY_P256, .root_validity = 86400 * 30};

	snprintf(d, 64, "/tmp/spn-http-XXXXXX");
	if (!mkdtemp(d))
		return -1;
	p.dir = d;
	spn_names_add(&p.names, "127.0.0.1");
	return spn_ca_init(&p);
}

static int setup(void **state)
{
	spn_http_config_t cfg = {.address = "127.0.0.1", .threads = 1, .routes = routes, .n_routes = 3};
	char *files[3];
	size_t len;

	(void)state;
	gnutls_global_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (make_group(dir, "demo") || make_group(other, "other"))
		return -1;
	const char *names[3] = {"node.crt", "node.key", "ca/root.crt"};
	for (int i = 0; i < 3; i++) {
		char *p = path(dir, names[i]);
		if (spn_file_read(p, 65536, &files[i], &len))
			return -1;
		free(p);
	}
	cfg.cert_pem = files[0];
	cfg.key_pem = files[1];
	cfg.trust_pem = files[2];
	if (spn_http_start(&cfg, &server))
		return -1;
	for (int i = 0; i < 3; i++)
		free(files[i]);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned)spn_http_port(server));
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	spn_http_stop(server);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, other);
	curl_global_cleanup();
	return system(cmd);
}

static spn_http_client_t *client(const char *d, bool with_cert, const char *root_dir)
{
	spn_http_client_t *c;
	char *cert = path(d, "node.crt"), *key = path(d, "node.key"), *root = path(root_dir, "ca/root.crt");
	spn_http_client_config_t cfg = {.cert_file = with_cert ? cert : NULL, .key_file = key, .root_file = root, .tls = true};

	assert_int_equal(spn_http_client_new(&cfg, &c), 0);
	free(cert);
	free(key);
	free(root);
	return c;
}

static char *call(spn_http_client_t *c, const char *p, const char *body, long *status, int *rc)
{
	char u[256], *resp = NULL;

	snprintf(u, sizeof(u), "%s%s", url, p);
	*rc = spn_http_client_call(c, u, body, body ? strlen(body) : 0, status, &resp, NULL);
	return resp;
}

static void mutual_tls_identity(void **state)
{
	spn_http_client_t *c = client(dir, true, dir);
	long status = 0;
	int rc;
	char *r = call(c, "/whoami", NULL, &status, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(status, 200);
	assert_string_equal(r, "{\"node\":\"psp\"}");
	free(r);
	spn_http_client_free(c);
}

static void anonymous_client_is_denied(void **state)
{
	spn_http_client_t *c = client(dir, false, dir);
	long status = 0;
	int rc;
	char *r = call(c, "/whoami", NULL, &status, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(status, 403);
	assert_non_null(strstr(r, "\"error\":\"denied\""));
	free(r);
	spn_http_client_free(c);
}

static void foreign_client_certificate_is_denied(void **state)
{
	/* A certificate from another group, trusting our root for the server. */
	spn_http_client_t *c = client(other, true, dir);
	long status = 0;
	int rc;
	char *r = call(c, "/whoami", NULL, &status, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(status, 403);
	free(r);
	spn_http_client_free(c);
}

static void server_outside_the_group_is_refused(void **state)
{
	spn_http_client_t *c = client(dir, true, other);
	long status = 0;
	int rc;
	char *r = call(c, "/whoami", NULL, &status, &rc);

	(void)state;
	assert_int_equal(rc, SPN_EIO);
	assert_null(r);
	spn_http_client_free(c);
}

static void bodies_and_limits(void **state)
{
	spn_http_client_t *c = client(dir, true, dir);
	char big[3000];
	long status = 0;
	int rc;
	char *r = call(c, "/echo", "{\"a\":1}", &status, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(status, 200);
	assert_string_equal(r, "{\"a\":1}");
	free(r);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r = call(c, "/echo", big, &status, &rc);
	assert_int_equal(status, 413);
	assert_non_null(strstr(r, "too_big"));
	free(r);
	r = call(c, "/nowhere", NULL, &status, &rc);
	assert_int_equal(status, 404);
	free(r);
	r = call(c, "/echo", NULL, &status, &rc);
	assert_int_equal(status, 405);
	free(r);
	spn_http_client_free(c);
}

static void *hammer(void *arg)
{
	spn_http_client_t *c = arg;
	long ok = 0;

	for (int i = 0; i < 25; i++) {
		long status = 0;
		int rc;
		char *r = call(c, "/echo", "ping", &status, &rc);
		ok += rc == 0 && status == 200 && r && strcmp(r, "ping") == 0;
		free(r);
	}
	return (void *)ok;
}

static void concurrent_requests_share_the_pool(void **state)
{
	spn_http_client_t *c = client(dir, true, dir);
	pthread_t t[4];
	long total = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, c);
	for (int i = 0; i < 4; i++) {
		void *ok;
		pthread_join(t[i], &ok);
		total += (long)ok;
	}
	assert_int_equal(total, 100);
	spn_http_client_free(c);
}

static void *call_wait(void *arg)
{
	long status = 0;
	int rc;

	return call(arg, "/wait", "x", &status, &rc);
}

static void async_routes_leave_the_server_free(void **state)
{
	spn_http_client_t *c = client(dir, true, dir);
	pthread_t t[3];
	long status = 0;
	int rc;
	char *r;

	(void)state;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, call_wait, c);
	/* The server has one thread: this answer proves it is not held. */
	for (int i = 0; i < 5; i++) {
		r = call(c, "/echo", "ping", &status, &rc);
		assert_int_equal(status, 200);
		free(r);
	}
	pthread_mutex_lock(&gate_lock);
	gate_open = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	for (int i = 0; i < 3; i++) {
		void *ans;
		pthread_join(t[i], &ans);
		assert_non_null(ans);
		assert_string_equal(ans, "released");
		free(ans);
	}
	spn_http_client_free(c);
}

/* Plain HTTP between nodes: the signature binds method, path, time and
 * body to the certificate's key; anything changed is refused. */
static void signed_requests(void **state)
{
	char *crt_path = path(dir, "node.crt"), *key_path = path(dir, "node.key"), *root_path = path(dir, "ca/root.crt");
	char *other_root = path(other, "ca/root.crt"), *pem = NULL, *b64 = NULL, *lines[3], when[32];
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t root, foreign, crt = NULL;
	const char *body = "{\"service\":\"a\"}";
	size_t len;

	(void)state;
	assert_int_equal(spn_file_read(crt_path, 65536, &pem, &len), 0);
	assert_int_equal(spn_pki_cert_b64(pem, &b64), 0);
	assert_int_equal(spn_pki_key_load(key_path, "SPN_KEY_PASSPHRASE", &key), 0);
	assert_int_equal(spn_pki_cert_load(root_path, &root), 0);
	assert_int_equal(spn_pki_cert_load(other_root, &foreign), 0);
	assert_int_equal(spn_http_sig_headers(key, b64, "POST", "/v1/route", body, strlen(body), lines), 0);
	snprintf(when, sizeof(when), "%s", lines[1] + strlen("Spn-Time: "));
	const char *sig = lines[2] + strlen("Spn-Signature: ");
	assert_int_equal(spn_http_sig_verify(root, b64, when, sig, "POST", "/v1/route", body, strlen(body), &crt), 0);
	gnutls_x509_crt_deinit(crt);
	assert_int_equal(spn_http_sig_verify(root, b64, when, sig, "POST", "/v1/route", "{}", 2, &crt), SPN_EDENIED);
	assert_int_equal(spn_http_sig_verify(root, b64, when, sig, "POST", "/v1/tree/sync", body, strlen(body), &crt),
			 SPN_EDENIED);
	assert_int_equal(spn_http_sig_verify(root, b64, "12", sig, "POST", "/v1/route", body, strlen(body), &crt),
			 SPN_EDENIED);
	assert_int_equal(spn_http_sig_verify(foreign, b64, when, sig, "POST", "/v1/route", body, strlen(body), &crt),
			 SPN_EDENIED);
	assert_int_equal(spn_http_sig_verify(root, b64, when, NULL, "POST", "/v1/route", body, strlen(body), &crt),
			 SPN_EDENIED);
	assert_null(crt);
	for (int i = 0; i < 3; i++)
		free(lines[i]);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(root);
	gnutls_x509_crt_deinit(foreign);
	free(pem);
	free(b64);
	free(crt_path);
	free(key_path);
	free(root_path);
	free(other_root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mutual_tls_identity),
		cmocka_unit_test(anonymous_client_is_denied),
		cmocka_unit_test(foreign_client_certificate_is_denied),
		cmocka_unit_test(server_outside_the_group_is_refused),
		cmocka_unit_test(bodies_and_limits),
		cmocka_unit_test(concurrent_requests_share_the_pool),
		cmocka_unit_test(async_routes_leave_the_server_free),
		cmocka_unit_test(signed_requests),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
