/* Node-to-node HTTP on libcurl: a small pool of easy handles, each keeping
 * its connections, handed out one request at a time. */
#include "config.h"

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http_client.h"
#include "http_client_internal.h"
#include "tls_priority.h"
#include "http_sig.h"
#include "mem.h"
#include "pki_cert.h"
#include "pki_peers.h"

#define POOL 8
#define DEFAULT_MAX_RESPONSE (4 * 1024 * 1024)

struct spn_http_client {
	spn_http_client_config_t cfg;
	char *sign_cert;  /* the certificate sent with signed requests (under lock) */
	char *cert, *key, *root, *pass;
	gnutls_x509_crt_t root_crt;
	spn_pki_peers_t *peers;  /* servers' certificates read before */
	bool anchored;           /* root is an anchor above the group's CA */
	pthread_mutex_t lock;
	pthread_cond_t freed;
	CURL *idle[POOL];
	unsigned idle_gen[POOL], gen;  /* connections older than gen are dropped */
	size_t n_idle, n_made;
};


static size_t on_data(char *p, size_t size, size_t n, void *user)
{
	spn_http_sink_t *s = user;
	size_t add = size * n;

	if (s->len + add > s->max) {
		s->too_big = true;
		return 0;
	}
	if (s->len + add + 1 > s->cap) {
		size_t cap = (s->len + add + 1) * 2;
		char *bigger = realloc(s->buf, cap);
		if (!bigger)
			return 0;
		s->buf = bigger;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, add);
	s->len += add;
	s->buf[s->len] = '\0';
	return add;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int spn_http_client_new(const spn_http_client_config_t *cfg, spn_http_client_t **out)
{
	spn_http_client_t *c = calloc(1, sizeof(*c));

	if (!c)
		return SPN_ENOMEM;
	c->cfg = *cfg;
	c->cfg.root_pem = NULL; /* read below, not kept */
	c->anchored = cfg->root_pem != NULL;
	c->cert = dup_or_null(cfg->cert_file);
	c->key = dup_or_null(cfg->key_file);
	c->root = dup_or_null(cfg->root_file);
	c->pass = dup_or_null(cfg->key_pass);
	c->sign_cert = dup_or_null(cfg->sign_cert_b64);
	if (!c->cfg.timeout_ms)
		c->cfg.timeout_ms = 10000;
	if (!c->cfg.max_response)
		c->cfg.max_response = DEFAULT_MAX_RESPONSE;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->freed, NULL);
	if (cfg->tls && !c->root && !cfg->no_verify) {
		spn_http_client_free(c);
		return spn_err(SPN_EINVAL, "a TLS client needs the group's root");
	}
	if (cfg->tls && c->root && !cfg->no_verify) {
		int rc;
		rc = cfg->root_pem ? spn_pki_cert_import(cfg->root_pem, strlen(cfg->root_pem), &c->root_crt)
				   : spn_pki_cert_load(c->root, &c->root_crt);
		if (rc || (rc = spn_pki_peers_new(c->root_crt, &c->peers))) {
			spn_http_client_free(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void spn_http_client_reconnect(spn_http_client_t *c, const char *sign_cert_b64)
{
	char *copy = sign_cert_b64 ? strdup(sign_cert_b64) : NULL;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	if (copy) {
		free(c->sign_cert);
		c->sign_cert = copy;
	}
	pthread_mutex_unlock(&c->lock);
}

void spn_http_client_free(spn_http_client_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_idle; i++)
		curl_easy_cleanup(c->idle[i]);
	free(c->cert);
	free(c->key);
	free(c->root);
	spn_free_secret_str(c->pass);
	free(c->sign_cert);
	spn_pki_peers_free(c->peers);
	if (c->root_crt)
		gnutls_x509_crt_deinit(c->root_crt);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->freed);
	free(c);
}

static CURL *take(spn_http_client_t *c, unsigned *gen)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	*gen = c->gen;
	while (c->n_idle == 0 && c->n_made == POOL)
		pthread_cond_wait(&c->freed, &c->lock);
	if (c->n_idle) {
		h = c->idle[--c->n_idle];
		if (c->idle_gen[c->n_idle] != c->gen) {
			curl_easy_cleanup(h);
			if (!(h = curl_easy_init()))
				c->n_made--;
		}
	} else if ((h = curl_easy_init())) {
		c->n_made++;
	}
	pthread_mutex_unlock(&c->lock);
	return h;
}

static void give_back(spn_http_client_t *c, CURL *h, unsigned gen)
{
	pthread_mutex_lock(&c->lock);
	c->idle_gen[c->n_idle] = gen;
	c->idle[c->n_idle++] = h;
	pthread_cond_signal(&c->freed);
	pthread_mutex_unlock(&c->lock);
}

static int request(spn_http_client_t *c, const char *url, const char *pin, const char *expect, const char *body,
		   size_t len, long *status, char **resp, size_t *resp_len);
static int on_connected(void *user, char *ip, char *local_ip, int port, int local_port);

int spn_http_client_call(spn_http_client_t *c, const char *url, const char *body, size_t len, long *status,
			 char **resp, size_t *resp_len)
{
	return request(c, url, NULL, NULL, body, len, status, resp, resp_len);
}

int spn_http_client_call_pinned(spn_http_client_t *c, const char *url, const char *pin, const char *body,
				size_t len, long *status, char **resp, size_t *resp_len)
{
	return request(c, url, pin, NULL, body, len, status, resp, resp_len);
}

int spn_http_client_call_node(spn_http_client_t *c, const char *url, const char *node, const char *body, size_t len,
			      long *status, char **resp, size_t *resp_len)
{
	return request(c, url, NULL, node, body, len, status, resp, resp_len);
}

static void check_server(spn_http_sink_t *s, const spn_ident_t *id, const char *serial)
{
	if (s->expect && strcmp(id->node_id, s->expect) != 0)
		s->id_rc = spn_err(SPN_EDENIED, "the server is %s, not %s", id->node_id, s->expect);
	else if (s->cfg->is_revoked && s->cfg->is_revoked(serial, s->cfg->revoked_user))
		s->id_rc = spn_err(SPN_EREVOKED, "the certificate %s of %s is revoked", serial, id->node_id);
}

/* Checks, once connected and before the request leaves, that the server's
 * certificate is the expected node's; aborts the transfer otherwise. */
static int on_connected(void *user, char *ip, char *local_ip, int port, int local_port)
{
	spn_http_sink_t *s = user;
	const struct curl_tlssessioninfo *ti = NULL;
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt;
	spn_ident_t id;
	char serial[SPN_SERIAL_HEX];
	unsigned count = 0;

	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	s->checked = true;
	if (curl_easy_getinfo(s->h, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
	    ti->backend != CURLSSLBACKEND_GNUTLS || !ti->internals ||
	    !(chain = gnutls_certificate_get_peers(ti->internals, &count)) || count == 0) {
		s->id_rc = spn_err(SPN_EDENIED, "the server's certificate cannot be read");
		return CURL_PREREQFUNC_ABORT;
	}
	if (s->peers) {
		spn_pki_peer_t peer;
		if (spn_pki_peers_get(s->peers, &chain[0], &peer) != 0)
			s->id_rc = spn_err(SPN_EDENIED, "the server's certificate is not a valid one of the group");
		else
			check_server(s, &peer.id, peer.serial);
		return s->id_rc ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
	}
	if (gnutls_x509_crt_init(&crt) < 0) {
		s->id_rc = SPN_ENOMEM;
		return CURL_PREREQFUNC_ABORT;
	}
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0 || spn_pki_cert_ident(crt, &id) != 0 ||
	    spn_pki_cert_serial(crt, serial) != 0)
		s->id_rc = spn_err(SPN_EDENIED, "the server's certificate carries no spn identity");
	else
		check_server(s, &id, serial);
	gnutls_x509_crt_deinit(crt);
	return s->id_rc ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

int spn_http_xfer_setup(spn_http_client_t *c, CURL *h, spn_http_xfer_t *x, const char *url, const char *pin,
			const char *expect, const char *body, size_t len, bool copy_body)
{
	int rc;

	x->sink.max = c->cfg.max_response;
	x->errbuf[0] = '\0';
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->cfg.timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->cfg.timeout_ms < 3000 ? c->cfg.timeout_ms : 3000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->cfg.tls ? "https" : "http");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x->sink);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	/* Nodes talk to each other directly: no proxy from the environment
	 * (and no looking for one on every request). */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (c->cfg.tls) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->root);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->cfg.no_verify ? 0L : 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->cfg.no_verify ? 0L : 2L);
		curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		/* With GnuTLS, libcurl takes this as the whole priority string:
		 * the same as the nodes' servers accept. */
		curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, SPN_TLS_PRIORITIES);
		if (pin)
			curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin);
		/* Under an anchor above the group's CA, libcurl's check alone
		 * would take any certificate that anchor vouches for: every
		 * server is checked to be a member, whichever node it is. */
		if (expect || (c->anchored && c->peers && !pin)) {
			x->sink.must_check = true;
			x->sink.h = h;
			x->sink.cfg = &c->cfg;
			x->sink.peers = c->peers;
			x->sink.expect = expect;
			curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_connected);
			curl_easy_setopt(h, CURLOPT_PREREQDATA, &x->sink);
		}
		if (c->cert) {
			curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
			curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
			if (c->pass)
				curl_easy_setopt(h, CURLOPT_KEYPASSWD, c->pass);
		}
	}
	if (!c->cfg.tls && c->cfg.sign_key && c->sign_cert) {
		/* The path as the server sees it: after the authority. */
		const char *p = strstr(url, "://"), *path = p ? strchr(p + 3, '/') : NULL;
		char *lines[3], *cert;
		size_t plen = path ? strcspn(path, "?#") : 0;
		char *just_path = path ? strndup(path, plen) : strdup("/");
		pthread_mutex_lock(&c->lock);
		cert = strdup(c->sign_cert);
		pthread_mutex_unlock(&c->lock);
		if (!just_path || !cert ||
		    (rc = spn_http_sig_headers(c->cfg.sign_key, cert, body ? "POST" : "GET", just_path, body,
					       body ? len : 0, lines))) {
			rc = just_path && cert ? rc : SPN_ENOMEM;
			free(just_path);
			free(cert);
			return rc;
		}
		free(just_path);
		free(cert);
		for (int i = 0; i < 3; i++) {
			x->headers = curl_slist_append(x->headers, lines[i]);
			free(lines[i]);
		}
	}
	if (body) {
		x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
		/* No 100-continue round trip: bodies here are small. */
		x->headers = curl_slist_append(x->headers, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, copy_body ? CURLOPT_COPYPOSTFIELDS : CURLOPT_POSTFIELDS, body);
	}
	if (x->headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

int spn_http_xfer_result(spn_http_xfer_t *x, CURL *h, const char *url, CURLcode cc, long *status, char **resp,
			 size_t *resp_len, bool *keep)
{
	int rc;

	*keep = true;
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	if (x->sink.id_rc || (cc == CURLE_OK && x->sink.must_check && !x->sink.checked)) {
		/* The answer is not to be trusted, nor the connection kept. */
		rc = x->sink.id_rc ? spn_err(x->sink.id_rc, "%s: %s", url, spn_err_detail(x->sink.id_rc))
				   : spn_err(SPN_EDENIED, "%s: the server was not checked", url);
		*keep = false;
		free(x->sink.buf);
		return rc;
	}
	if (cc != CURLE_OK) {
		free(x->sink.buf);
		if (x->sink.too_big)
			return spn_err(SPN_ETOOBIG, "%s: answer larger than %zu bytes", url, x->sink.max);
		/* Not connected: the request was certainly not delivered, and a
		 * caller may send it elsewhere. */
		if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
			return spn_err(SPN_EUNAVAILABLE, "%s: %s", url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
		if (cc == CURLE_OPERATION_TIMEDOUT)
			return spn_err(SPN_ETIMEOUT, "%s: %s", url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
		return spn_err(SPN_EIO, "%s: %s", url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
	}
	if (!x->sink.buf && !(x->sink.buf = calloc(1, 1)))
		return SPN_ENOMEM;
	*resp = x->sink.buf;
	if (resp_len)
		*resp_len = x->sink.len;
	x->sink.buf = NULL;
	return 0;
}

unsigned spn_http_client_gen(spn_http_client_t *c)
{
	unsigned gen;

	pthread_mutex_lock(&c->lock);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	return gen;
}

static int request(spn_http_client_t *c, const char *url, const char *pin, const char *expect, const char *body,
		   size_t len, long *status, char **resp, size_t *resp_len)
{
	spn_http_xfer_t x;
	unsigned gen;
	CURL *h = take(c, &gen);
	bool keep;
	int rc;

	if (!h)
		return SPN_ENOMEM;
	memset(&x, 0, sizeof(x));
	if ((rc = spn_http_xfer_setup(c, h, &x, url, pin, expect, body, len, false))) {
		curl_slist_free_all(x.headers);
		give_back(c, h, gen);
		return rc;
	}
	rc = spn_http_xfer_result(&x, h, url, curl_easy_perform(h), status, resp, resp_len, &keep);
	if (!keep) {
		curl_easy_cleanup(h);
		pthread_mutex_lock(&c->lock);
		c->n_made--;
		pthread_cond_signal(&c->freed);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	/* Reset above drops the options but keeps the connection cache. */
	give_back(c, h, gen);
	return rc;
}
