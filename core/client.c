/* The client library's sessions: it draws an ephemeral key per call, asks
 * the entry node for offers from one provider per service, and takes an
 * offer only once its certificate, authorisation and signature check out. */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "client_internal.h"
#include "clock.h"
#include "error.h"
#include "file.h"
#include "ident.h"
#include "json.h"
#include "jwe.h"
#include "log.h"
#include "mem.h"
#include "pki_anchor.h"
#include "pki_cert.h"
#include "pki_key.h"
#include "revoked.h"
#include "session.h"

#define CRL_MAX (16 * 1024 * 1024)

static bool is_revoked(const char *serial, void *user)
{
	return spn_revoked_has(user, serial);
}

/* The CRL given, or the entry node's; either must verify against the root
 * and be current: an entry node that withholds a newer one can do so only
 * until the one it serves runs out, and one that serves none is refused. */
static int load_crl(spn_client_t *c, const char *file)
{
	char *pem = NULL, url[600];
	size_t len = 0;
	long status = 0;
	int rc;

	if (file) {
		if ((rc = spn_file_read(file, CRL_MAX, &pem, &len)))
			return rc;
	} else {
		snprintf(url, sizeof(url), "%s/v1/crl", c->url);
		if ((rc = spn_http_client_call(c->http, url, NULL, 0, &status, &pem, &len)))
			return spn_err(rc, "%s: %s", c->url, spn_err_detail(rc));
		if (status != 200) {
			free(pem);
			return spn_err(SPN_EUNAVAILABLE, "%s/v1/crl answered %ld", c->url, status);
		}
	}
	rc = spn_revoked_update(c->revoked, pem, len);
	free(pem);
	if (rc < 0)
		return spn_err(rc, "%s: the CRL: %s", file ? file : c->url, spn_err_detail(rc));
	if (spn_revoked_next_update(c->revoked) <= spn_clock_now())
		return spn_err(SPN_EEXPIRED, "%s: the CRL is past its next update, or has none; a current one is needed",
			       file ? file : c->url);
	return 0;
}

int spn_client_new(const spn_client_config_t *cfg, spn_client_t **out)
{
	spn_client_t *c;
	spn_http_client_config_t hc = {0};
	spn_pass_src_t src = {.env = "SPN_KEY_PASSPHRASE"};
	gnutls_x509_crt_t crt = NULL;
	spn_ident_t id;
	char *pass = NULL, *ca_pem = NULL;
	bool above = false;
	size_t len;
	int rc;

	*out = NULL;
	spn_err_clear();
	if (!cfg->url || !cfg->root_file)
		return spn_err(SPN_EINVAL, "a client needs the URL of a node and the group's root certificate");
	if ((cfg->cert_file == NULL) != (cfg->key_file == NULL))
		return spn_err(SPN_EINVAL, "a client certificate goes with its key: give both or neither");
	if (strncmp(cfg->url, "https://", 8) != 0 && strncmp(cfg->url, "http://", 7) != 0)
		return spn_err(SPN_EINVAL, "%s: not an http(s):// URL", cfg->url);
	if (!(c = calloc(1, sizeof(*c))))
		return SPN_ENOMEM;
	snprintf(c->url, sizeof(c->url), "%s", cfg->url);
	while (c->url[0] && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	snprintf(c->name, sizeof(c->name), "%s", cfg->name ? cfg->name : "client");
	c->no_reopen = cfg->no_reopen;
	if (!spn_name_is_valid(c->name)) {
		rc = spn_err(SPN_EINVAL, "client name '%s': 1-%d of [a-z0-9.-], the first a letter or digit", c->name,
			     SPN_NAME_MAX);
		goto fail;
	}
	if (cfg->cert_file && (rc = spn_file_read(cfg->cert_file, SPN_CERT_MAX, &c->cert_pem, &len)))
		goto fail;
	/* A client with a certificate may trust an anchor above the group's
	 * CA; one without needs the group's CA itself. */
	if (cfg->cert_file && (rc = spn_pki_anchor_files(cfg->root_file, cfg->cert_file, &ca_pem, &above)))
		goto fail;
	rc = ca_pem ? spn_pki_cert_import(ca_pem, strlen(ca_pem), &c->root) : spn_pki_cert_load(cfg->root_file, &c->root);
	if (rc)
		goto fail;
	if ((rc = spn_revoked_new(c->root, &c->revoked)))
		goto fail;
	if (cfg->cert_file) {
		if ((rc = spn_pki_key_load_src(cfg->key_file, &src, &c->key, &pass)) ||
		    (rc = spn_pki_cert_import(c->cert_pem, strlen(c->cert_pem), &crt)))
			goto fail;
		if ((rc = spn_pki_cert_matches_key(crt, c->key)) || (rc = spn_pki_cert_verify(crt, c->root)) ||
		    (rc = spn_pki_cert_ident(crt, &id))) {
			rc = spn_err(rc, "%s: %s", cfg->cert_file, spn_err_detail(rc));
			goto fail;
		}
		snprintf(c->name, sizeof(c->name), "%s", id.node_id);
	}
	hc.root_file = cfg->root_file;
	hc.root_pem = above ? ca_pem : NULL;
	hc.cert_file = cfg->cert_file;
	hc.key_file = cfg->key_file;
	hc.key_pass = pass; /* libcurl reads the key file again */
	hc.tls = strncmp(c->url, "https://", 8) == 0;
	hc.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
	hc.max_response = 64 * 1024 * 1024;
	if (cfg->crl_file && !(c->crl_file = strdup(cfg->crl_file))) {
		rc = SPN_ENOMEM;
		goto fail;
	}
	if ((rc = spn_http_client_new(&hc, &c->http)) || (rc = load_crl(c, c->crl_file)))
		goto fail;
	*out = c;
	c = NULL;
fail:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	spn_free_secret_str(pass);
	free(ca_pem);
	spn_client_free(c);
	return rc;
}

void spn_client_session_drop(spn_client_session_t *s)
{
	char service[sizeof(s->service)];

	memcpy(service, s->service, sizeof(service));
	spn_wipe(s, sizeof(*s));
	memcpy(s->service, service, sizeof(service));
}

void spn_client_forget(spn_client_t *c)
{
	for (size_t i = 0; i < SPN_CLIENT_SESSIONS; i++) {
		spn_client_session_drop(&c->s[i]);
		c->s[i].service[0] = '\0';
	}
}

int spn_client_new_local(const char *name, gnutls_x509_crt_t root, gnutls_x509_privkey_t key, const char *cert_pem,
			 spn_revoked_t *revoked, spn_client_post_fn post, void *user, spn_client_t **out)
{
	spn_client_t *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c || !(c->cert_pem = strdup(cert_pem))) {
		free(c);
		return SPN_ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->url, sizeof(c->url), "(this node)");
	c->root = root;
	c->key = key;
	c->revoked = revoked;
	c->borrowed = true;
	c->post = post;
	c->post_user = user;
	*out = c;
	return 0;
}

void spn_client_free(spn_client_t *c)
{
	if (!c)
		return;
	spn_http_client_free(c->http);
	if (!c->borrowed) {
		if (c->root)
			gnutls_x509_crt_deinit(c->root);
		if (c->key)
			gnutls_x509_privkey_deinit(c->key);
		spn_revoked_free(c->revoked);
	}
	free(c->cert_pem);
	free(c->crl_file);
	spn_free_secret(c, sizeof(*c));
}

int spn_client_post(spn_client_t *c, const char *path, json_object *body, long *status, json_object **ans)
{
	char url[600], *text = NULL;
	const char *b;
	size_t len, alen = 0;
	int rc;

	*ans = NULL;
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	b = spn_json_text(body, &len);
	if (c->post)
		rc = c->post(c->post_user, path, b, len, status, &text, &alen);
	else
		rc = spn_http_client_call(c->http, url, b, len, status, &text, &alen);
	if (rc)
		return spn_err(rc, "%s: %s", c->url, spn_err_detail(rc));
	rc = spn_json_parse(text, alen, ans);
	free(text);
	if (rc)
		return spn_err(SPN_EUNAVAILABLE, "%s%s answered %ld with no JSON", c->url, path, *status);
	if (*status != 200) {
		const char *e = spn_json_str_or(*ans, "error", "unavailable"), *m = spn_json_str_or(*ans, "message", "");
		rc = spn_err(spn_client_code_of(e), "%s%s: %s: %s", c->url, path, e, m);
		json_object_put(*ans);
		*ans = NULL;
	}
	return rc;
}

spn_client_session_t *spn_client_session(spn_client_t *c, const char *service)
{
	spn_client_session_t *free_slot = NULL;

	for (size_t i = 0; i < SPN_CLIENT_SESSIONS; i++) {
		if (strcmp(c->s[i].service, service) == 0)
			return &c->s[i];
		if (!free_slot && !c->s[i].service[0])
			free_slot = &c->s[i];
	}
	if (free_slot)
		snprintf(free_slot->service, sizeof(free_slot->service), "%s", service);
	return free_slot;
}

const char *spn_client_provider(const spn_client_t *c, const char *service)
{
	for (size_t i = 0; i < SPN_CLIENT_SESSIONS; i++)
		if (c->s[i].open && strcmp(c->s[i].service, service) == 0)
			return c->s[i].provider;
	return NULL;
}

/* snprintf would do, but gcc cannot see that the ids fit. */
static void copy_id(char dst[SPN_JWE_ID_MAX + 1], const char *src)
{
	size_t l = strnlen(src, SPN_JWE_ID_MAX);

	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void random_id(const char *prefix, char *out, size_t cap)
{
	uint8_t raw[16];
	char hex[33];

	gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw));
	spn_hex(raw, sizeof(raw), hex);
	snprintf(out, cap, "%s%s", prefix, hex);
}

void spn_client_new_mid(char *out, size_t cap)
{
	random_id("m-", out, cap);
}

/* Takes one answer of the session call: the offer, checked and opened. */
static int take_offer(spn_client_t *c, spn_client_session_t *s, const char *sid, json_object *item,
		      const uint8_t sk[SPN_HPKE_KEY], const uint8_t pk[SPN_HPKE_KEY])
{
	spn_session_offer_t of;
	json_object *v;
	uint8_t k[SPN_SESSION_KEY];
	int rc;

	if (!json_object_object_get_ex(item, "offer", &v)) {
		const char *e = spn_json_str_or(item, "error", "unavailable"), *m = spn_json_str_or(item, "message", "no offer");
		return spn_err(spn_client_code_of(e), "service %s: %s: %s", s->service, e, m);
	}
	if ((rc = spn_session_offer_parse(v, &of)))
		return spn_err(rc, "service %s: the offer: %s", s->service, spn_err_detail(rc));
	rc = spn_session_accept(&of, sid, s->service, sk, pk, c->root, is_revoked, c->revoked, k);
	if (rc == 0) {
		spn_client_session_drop(s);
		copy_id(s->id, sid);
		snprintf(s->provider, sizeof(s->provider), "%s", of.provider);
		spn_session_keys(k, sid, s->to_provider, s->to_client);
		s->open = true;
	}
	spn_wipe(k, sizeof(k));
	spn_session_offer_clear(&of);
	return rc;
}

int spn_client_open(spn_client_t *c, const char *const *services, size_t n)
{
	spn_client_session_t *want[SPN_CLIENT_SESSIONS];
	struct {
		char v[SPN_JWE_ID_MAX + 1];
	} sids[SPN_CLIENT_SESSIONS];
	uint8_t sk[SPN_HPKE_KEY], pk[SPN_HPKE_KEY];
	json_object *body = NULL, *list, *ans = NULL, *items;
	size_t k = 0;
	long status;
	int rc = 0, first = 0;

	spn_err_clear();
	for (size_t i = 0; i < n; i++) {
		spn_client_session_t *s;
		if (!spn_service_name_is_valid(services[i]))
			return spn_err(SPN_EINVAL, "'%s' is not a service name", services[i]);
		if (!(s = spn_client_session(c, services[i])))
			return spn_err(SPN_ELIMIT, "a client holds at most %d sessions", SPN_CLIENT_SESSIONS);
		if (!s->open) {
			bool dup = false;
			for (size_t j = 0; j < k; j++)
				dup |= want[j] == s;
			if (!dup)
				want[k++] = s;
		}
	}
	if (!k)
		return 0;
	for (size_t i = 0; i < k; i++)
		want[i]->error = 0;
	/* Offers are checked against a current CRL only (a node keeps its own
	 * current). */
	if (!c->borrowed && spn_revoked_next_update(c->revoked) <= spn_clock_now() && (rc = load_crl(c, c->crl_file)))
		goto out;
	if ((rc = spn_hpke_keypair(sk, pk)))
		goto out;
	body = json_object_new_object();
	spn_json_add_b64u(body, "client_key", pk, sizeof(pk));
	if (c->cert_pem)
		json_object_object_add(body, "certificate", json_object_new_string(c->cert_pem));
	list = json_object_new_array();
	for (size_t i = 0; i < k && rc == 0; i++) {
		json_object *it = json_object_new_object();
		random_id("s-", sids[i].v, sizeof(sids[i].v));
		json_object_object_add(it, "session", json_object_new_string(sids[i].v));
		json_object_object_add(it, "service", json_object_new_string(want[i]->service));
		if (want[i]->prefer[0])
			json_object_object_add(it, "node", json_object_new_string(want[i]->prefer));
		if (c->key) {
			spn_session_request_t rq;
			memset(&rq, 0, sizeof(rq));
			copy_id(rq.session_id, sids[i].v);
			snprintf(rq.service, sizeof(rq.service), "%s", want[i]->service);
			memcpy(rq.client_pk, pk, sizeof(pk));
			if ((rc = spn_session_request_sign(&rq, c->key, c->cert_pem)) == 0)
				spn_json_add_b64u(it, "sig", rq.sig, rq.sig_len);
			spn_session_request_clear(&rq);
		}
		json_object_array_add(list, it);
	}
	json_object_object_add(body, "sessions", list);
	if (rc || (rc = spn_client_post(c, "/v1/session", body, &status, &ans)))
		goto out;
	if (!json_object_object_get_ex(ans, "sessions", &items) || !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) != k) {
		rc = spn_err(SPN_EUNAVAILABLE, "%s/v1/session: an answer that does not match the call", c->url);
		goto out;
	}
	/* Every offer is taken that checks out; each refusal is kept with its
	 * session, the first one is told. */
	for (size_t i = 0; i < k; i++) {
		int r = take_offer(c, want[i], sids[i].v, json_object_array_get_idx(items, i), sk, pk);
		want[i]->error = r;
		if (r) {
			snprintf(want[i]->why, sizeof(want[i]->why), "%s", spn_err_detail(r));
			if (!first)
				first = (int)i + 1;
		}
	}
	if (first)
		rc = spn_err(want[first - 1]->error, "%s", want[first - 1]->why);
out:
	/* Whatever failed, each session asked for says so. */
	for (size_t i = 0; rc && !first && i < k; i++) {
		want[i]->error = rc;
		snprintf(want[i]->why, sizeof(want[i]->why), "%s", spn_err_detail(rc));
	}
	spn_wipe(sk, sizeof(sk));
	json_object_put(body);
	json_object_put(ans);
	return rc;
}

int spn_client_code_of(const char *name)
{
	for (int c = 0; c > SPN_ELAST; c--)
		if (strcmp(spn_errname(c), name) == 0)
			return c;
	return SPN_EUNAVAILABLE;
}

const char *spn_client_last_error(void)
{
	return spn_err_detail(SPN_EINVAL);
}

const char *spn_client_errname(int code)
{
	return spn_errname(code);
}

const char *spn_client_strerror(int code)
{
	return spn_strerror(code);
}

void spn_client_verbose(bool on)
{
	spn_log_set_level(on ? SPN_LOG_DEBUG : SPN_LOG_WARN);
}

const char *spn_client_version(void)
{
	return PACKAGE_VERSION;
}

/* The public header owns its sizes and codes so that a program needs no
 * other; they must still be the library's, or buffers overflow and codes
 * lie. */
_Static_assert(SPN_CLIENT_SERVICE_MAX == SPN_SERVICE_MAX, "service name size");
_Static_assert(SPN_CLIENT_NAME_MAX == SPN_NAME_MAX, "node name size");
_Static_assert(SPN_CLIENT_ID_MAX == SPN_JWE_ID_MAX, "message id size");
_Static_assert(SPN_CLIENT_SESSIONS_MAX == SPN_CLIENT_SESSIONS, "sessions per client");
_Static_assert(SPN_CLIENT_ERRNAME_MAX + 1 == sizeof(((spn_client_reply_t *)0)->error_name), "error name size");
#define SAME(e) _Static_assert((int)SPN_CLIENT_##e == (int)SPN_##e, "error code " #e)
SAME(OK);
SAME(ENOMEM);
SAME(EINVAL);
SAME(EIO);
SAME(ECONFIG);
SAME(ECRYPTO);
SAME(EBADCSR);
SAME(EBADCERT);
SAME(EBADSIG);
SAME(EUNSUPPORTED);
SAME(ETOOBIG);
SAME(ETOKEN);
SAME(ETOKENUSED);
SAME(ETOKENEXPIRED);
SAME(EPOLICY);
SAME(ELIMIT);
SAME(EEXIST);
SAME(ENOTFOUND);
SAME(ELEDGER);
SAME(EPASSPHRASE);
SAME(EREVOKED);
SAME(EEXPIRED);
SAME(EDENIED);
SAME(ESTATE);
SAME(ERESYNC);
SAME(ENOPROVIDER);
SAME(ELOOP);
SAME(EUNAVAILABLE);
SAME(ETIMEOUT);
SAME(EBUSY);
SAME(ESESSION);
SAME(EREPLAY);
SAME(EPLUGIN);
SAME(ELEDGERLOST);
SAME(ESTANDBY);
/* A code added to error.h needs its name here too. */
_Static_assert(SPN_ELAST == SPN_ESTANDBY - 1, "error.h has codes client.h does not");
#undef SAME
