/* Loading a node's identity and starting its server; what the code outside
 * the node module may ask of it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "clock.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "node_internal.h"
#include "pki_anchor.h"
#include "pki_cert.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "plugin.h"
#include "revoked.h"
#include "sstore.h"

const spn_conf_key_t spn_node_http_keys[] = {
	{"http", "listen", SPN_CONF_STR, 1, 0, NULL},
	{"http", "port", SPN_CONF_UINT, 0, 65535, NULL},
	{"http", "threads", SPN_CONF_UINT, 1, 64, NULL},
	{"http", "tls", SPN_CONF_BOOL, 0, 0, NULL},
	{"http", "port_file", SPN_CONF_STR, 1, 0, NULL},
	{"http", "max_body", SPN_CONF_UINT, 1024, 16 * 1024 * 1024, NULL},
	{"http", "max_connections", SPN_CONF_UINT, 16, 1000000, NULL},
	{"http", "max_connections_per_address", SPN_CONF_UINT, 1, 1000000, NULL},
	{"http", "body_memory", SPN_CONF_UINT, 1024, 1UL << 40, NULL},
	{"http", "body_memory_per_address", SPN_CONF_UINT, 1024, 1UL << 40, NULL},
	{"http", "handshake_timeout", SPN_CONF_DURATION, 1, 300, NULL},
	{"http", "header_timeout", SPN_CONF_DURATION, 1, 300, NULL},
	{"http", "idle_timeout", SPN_CONF_DURATION, 1, 3600, NULL},
	{"http", "min_body_rate", SPN_CONF_UINT, 1, 1UL << 30, NULL},
	{"tree", "heartbeat_ms", SPN_CONF_UINT, 50, 600000, NULL},
	{"tree", "deadline_ms", SPN_CONF_UINT, 100, 3600000, NULL},
	{"tree", "policy", SPN_CONF_ENUM, 0, 0, "round_robin|least_inflight|latency"},
	{"tree", "hop_limit", SPN_CONF_UINT, 1, 64, NULL},
	{"tree", "max_subtree", SPN_CONF_UINT, 1, 100000, NULL},
	{"tree", "timeout_ms", SPN_CONF_UINT, 100, SPN_NODE_TIMEOUT_MAX_MS, NULL},
	{"route", "probe", SPN_CONF_BOOL, 0, 0, NULL},
	{"admin", "max_children", SPN_CONF_UINT, 0, 1000000, NULL},
	{"session", "max", SPN_CONF_UINT, 1, 10000000, NULL},
	{"session", "ttl", SPN_CONF_DURATION, 1, 30 * 86400, NULL},
	{"session", "budget", SPN_CONF_UINT, 1, 100000000, NULL},
	{"session", "answer_bytes", SPN_CONF_UINT, 0, 1UL << 32, NULL},
	{"session", "client_certificate", SPN_CONF_LIST, 0, 0, NULL},
	{"session", "per_client", SPN_CONF_UINT, 1, 10000000, NULL},
	{"session", "per_certificate", SPN_CONF_UINT, 1, 10000000, NULL},
	{"session", "anonymous", SPN_CONF_UINT, 0, 10000000, NULL},
	{"session", "inflight", SPN_CONF_UINT, 1, 1000000, NULL},
	{"metrics", "listen", SPN_CONF_STR, 1, 0, NULL},
	{"metrics", "port_file", SPN_CONF_STR, 1, 0, NULL},
};
const size_t spn_node_http_nkeys = sizeof(spn_node_http_keys) / sizeof(spn_node_http_keys[0]);

/* What a node waiting on the next one allows, beyond a plugin's own
 * timeout, for the plugin to be stopped and started again and its answer
 * (plugin_failed) to come back along the path. */
#define HOP_MARGIN_MS 5000

static int read_pem(const spn_conf_t *c, const char *key, char **path, char **out)
{
	size_t len;
	int rc = spn_conf_path(c, "node", key, NULL, path);

	if (rc)
		return rc;
	return spn_file_read(*path, SPN_CERT_MAX, out, &len);
}

/* [node] parent: one URL, or several separated by commas (a group with
 * two PSPs), tried in turn. */
static int parents(spn_node_t *n, const char *list)
{
	const spn_conf_t *c = n->conf;
	char *copy = strdup(list), *save = NULL;
	int rc = copy ? 0 : SPN_ENOMEM;

	for (char *u = copy ? strtok_r(copy, ", ", &save) : NULL; u && rc == 0; u = strtok_r(NULL, ", ", &save)) {
		char *p = n->parents[n->n_parents];
		if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
			rc = spn_err(SPN_ECONFIG, "%s: [node] parent: '%s' is not an http(s):// URL", spn_conf_file(c), u);
		else if (n->n_parents == SPN_PARENTS_MAX)
			rc = spn_err(SPN_ECONFIG, "%s: [node] parent: more than %d addresses", spn_conf_file(c),
				     SPN_PARENTS_MAX);
		else if (strlen(u) >= SPN_URL_MAX)
			rc = spn_err(SPN_ECONFIG, "%s: [node] parent: too long", spn_conf_file(c));
		else {
			strcpy(p, u);
			/* A trailing slash would double up with the paths added to it. */
			while (p[0] && p[strlen(p) - 1] == '/')
				p[strlen(p) - 1] = '\0';
			n->n_parents++;
		}
	}
	free(copy);
	return rc;
}

/* [tree], [route], [admin] and the parent's address. */
static int tree_settings(spn_node_t *n)
{
	const spn_conf_t *c = n->conf;
	unsigned long hops, timeout;
	const char *parent = spn_conf_str(c, "node", "parent", "");
	int rc;

	if ((rc = spn_conf_uint(c, "tree", "heartbeat_ms", 1000, 50, 600000, &n->heartbeat_ms)) ||
	    (rc = spn_conf_uint(c, "tree", "deadline_ms", 3 * n->heartbeat_ms, 100, 3600000, &n->deadline_ms)) ||
	    (rc = spn_conf_uint(c, "tree", "hop_limit", 16, 1, 64, &hops)) ||
	    (rc = spn_conf_uint(c, "tree", "max_subtree", 4096, 1, 100000, &n->max_subtree)) ||
	    (rc = spn_conf_uint(c, "tree", "timeout_ms", 0, 100, SPN_NODE_TIMEOUT_MAX_MS, &timeout)) ||
	    (rc = spn_conf_bool(c, "route", "probe", true, &n->route_probe)) ||
	    (rc = spn_conf_uint(c, "admin", "max_children", 0, 0, 1000000, &n->max_children)) ||
	    (rc = spn_policy_parse(spn_conf_str(c, "tree", "policy", "round_robin"), &n->policy)))
		return rc;
	n->hop_limit = (unsigned)hops;
	n->timeout_ms = timeout; /* 0: set by hop_timeout once the plugins run */
	if (n->deadline_ms <= n->heartbeat_ms)
		return spn_err(SPN_ECONFIG, "%s: [tree] deadline_ms must be longer than heartbeat_ms", spn_conf_file(c));
	if (n->id.role == SPN_ROLE_PSP && parent[0])
		return spn_err(SPN_ECONFIG, "%s: [node] parent: the PSP is the root and has no parent", spn_conf_file(c));
	if (n->id.role != SPN_ROLE_PSP && !parent[0])
		return spn_err(SPN_ECONFIG, "%s: [node] parent: required (the URL of %s, which accepted this node)",
			       spn_conf_file(c), n->id.parent[0] ? n->id.parent : "the parent");
	return parents(n, parent);
}

/* [tree] timeout_ms, how long this node waits for the next one. A
 * provider whose plugin hangs stops it when its timeout is over and answers
 * plugin_failed (the message was not completed); a node on the way that
 * gave up before tells the client timeout instead (it may have acted), and
 * the client sends the section again. So every node waits longer than
 * plugins take, by a margin: by default the default plugin timeout, or the
 * longest timeout of this node's own plugins when that is longer, plus the
 * margin; a value set shorter than this node's plugins need is refused.
 * The nodes on the way to a plugin with a longer timeout need their own
 * timeout_ms raised (doc/operator-guide.md §10). */
static int hop_timeout(spn_node_t *n)
{
	unsigned long longest = 0, t;
	const char *which = NULL;

	for (size_t i = 0; i < n->n_plugins; i++) {
		/* Policy hooks only: no section to wait for. */
		if (!spn_plugin_proc_services(n->plugins[i])[0])
			continue;
		if ((t = spn_plugin_proc_timeout_ms(n->plugins[i])) > longest) {
			longest = t;
			which = spn_plugin_proc_name(n->plugins[i]);
		}
	}
	if (!n->timeout_ms) {
		n->timeout_ms = (longest > SPN_PLUGIN_TIMEOUT_MS ? longest : SPN_PLUGIN_TIMEOUT_MS) + HOP_MARGIN_MS;
		return 0;
	}
	if (which && n->timeout_ms < longest + HOP_MARGIN_MS)
		return spn_err(SPN_ECONFIG,
			       "%s: [tree] timeout_ms: %lu ms is shorter than [plugin.%s] timeout (%lu ms) plus %d ms: "
			       "a node must wait for the next one longer than plugins take, or a client is told "
			       "timeout where a plugin's answer (plugin_failed) is due; set at least %lu, or leave it "
			       "unset",
			       spn_conf_file(n->conf), n->timeout_ms, which, longest, HOP_MARGIN_MS,
			       longest + HOP_MARGIN_MS);
	return 0;
}

int spn_node_open(spn_conf_t *conf, spn_node_t **out)
{
	spn_node_t *n = calloc(1, sizeof(*n));
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = {NULL, 0};
	spn_pass_src_t src = {0};
	spn_http_client_config_t cc = {0};
	const spn_node_me_t *me = NULL;
	char *pass = NULL, *cert_pem = NULL;
	bool above = false;
	int rc;

	if (!n)
		return SPN_ENOMEM;
	n->conf = conf;
	spn_node_me_slot_init(&n->me);
	pthread_mutex_init(&n->ca_lock, NULL);
	pthread_mutex_init(&n->state_lock, NULL);
	pthread_cond_init(&n->wake, NULL);
	if ((rc = spn_node_issuing_new(n)) || (rc = read_pem(conf, "cert", &n->cert_path, &cert_pem)) ||
	    (rc = read_pem(conf, "root", &n->root_path, &n->anchor_pem)) ||
	    (rc = spn_conf_path(conf, "node", "key", NULL, &n->key_path)))
		goto out;
	/* From here on the root is the group's CA, under whatever anchor. */
	if ((rc = spn_pki_anchor_ca(n->anchor_pem, cert_pem, &n->root_pem, &above))) {
		rc = spn_err(rc, "%s, %s: %s", n->root_path, n->cert_path, spn_err_detail(rc));
		goto out;
	}
	/* The passphrase is kept until the clients are made: libcurl reads the
	 * key file again at each handshake. */
	if ((rc = spn_pass_src_conf(conf, "node", "key_passphrase", "SPN_KEY_PASSPHRASE", &src)) ||
	    (rc = spn_pki_key_load_src(n->key_path, &src, &n->key, &pass)))
		goto out;
	/* MHD wants the key as unencrypted PEM in memory: it stays in this
	 * process and is wiped at close. */
	if ((rc = spn_pki_key_export(n->key, NULL, &pem)))
		goto out;
	n->key_pem = strndup((char *)pem.data, pem.size);
	spn_pki_datum_free_secret(&pem);
	if (!n->key_pem) {
		rc = SPN_ENOMEM;
		goto out;
	}
	if ((rc = spn_pki_cert_import(cert_pem, strlen(cert_pem), &crt)) ||
	    (rc = spn_pki_cert_import(n->root_pem, strlen(n->root_pem), &n->root)))
		goto out;
	if ((rc = spn_pki_cert_matches_key(crt, n->key))) {
		rc = spn_err(rc, "%s: the node key does not belong to its certificate", n->key_path);
		goto out;
	}
	if ((rc = spn_pki_cert_verify(crt, n->root))) {
		rc = spn_err(rc, "the node certificate: %s", spn_err_detail(rc));
		goto out;
	}
	if ((rc = spn_node_me_new(crt, cert_pem, &me)))
		goto out;
	n->id = me->id;
	spn_node_me_slot_set(&n->me, me);
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
		if ((rc = spn_ca_open(conf, true, &n->ca)) || (rc = spn_ca_use_node_key(n->ca, n->key)))
			goto out;
		n->admin_threshold = spn_ca_policy(n->ca)->admin_threshold;
	}
	if ((rc = tree_settings(n)) || (rc = spn_node_sessions_init(n)) || (rc = spn_node_metrics_init(n)) ||
	    (rc = spn_node_plugins_start(n)) ||
	    (rc = hop_timeout(n)) || (rc = spn_tree_new(&n->id, &n->tree)) ||
	    (rc = spn_tree_set_max_subtree(n->tree, n->max_subtree)) ||
	    (rc = spn_revoked_new(n->root, &n->revoked)))
		goto out;
	if (n->ca && (rc = spn_node_load_crl(n, false)))
		goto out;
	cc.is_revoked = spn_node_is_revoked;
	cc.revoked_user = n->revoked;
	cc.cert_file = n->cert_path;
	cc.key_file = n->key_path;
	cc.root_file = n->root_path;
	cc.root_pem = above ? n->root_pem : NULL;
	cc.key_pass = pass;
	cc.tls = true;
	cc.timeout_ms = (long)n->timeout_ms;
	if ((rc = spn_http_client_new(&cc, &n->client)))
		goto out;
	/* A heartbeat that waits longer than half the deadline is already late. */
	cc.timeout_ms = (long)(n->deadline_ms / 2 < n->timeout_ms ? n->deadline_ms / 2 : n->timeout_ms);
	if ((rc = spn_http_client_new(&cc, &n->ctl)))
		goto out;
	*out = n;
	n = NULL;
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	free(cert_pem);
	spn_free_secret_str(pass);
	spn_pass_src_clear(&src);
	spn_node_close(n);
	return rc;
}

/* [http]'s limits on connections and the memory their bodies hold. */
static int http_limits(const spn_conf_t *c, size_t max_body, spn_http_limits_t *lim)
{
	spn_http_limits_t d = {0};
	unsigned long conns, per_addr, mem, mem_addr, hs, hdr, idle, rate;
	int rc;

	spn_http_limits_fill(&d);
	if ((rc = spn_conf_uint(c, "http", "max_connections", d.max_connections, 16, 1000000, &conns)) ||
	    (rc = spn_conf_uint(c, "http", "max_connections_per_address",
				d.max_per_address < conns ? d.max_per_address : conns, 1, 1000000, &per_addr)) ||
	    (rc = spn_conf_uint(c, "http", "body_memory", d.body_memory, 1024, 1UL << 40, &mem)) ||
	    (rc = spn_conf_uint(c, "http", "body_memory_per_address", d.body_memory_per_address, 1024, 1UL << 40,
				&mem_addr)) ||
	    (rc = spn_conf_duration(c, "http", "handshake_timeout", d.handshake_ms / 1000, &hs)) ||
	    (rc = spn_conf_duration(c, "http", "header_timeout", d.header_ms / 1000, &hdr)) ||
	    (rc = spn_conf_duration(c, "http", "idle_timeout", d.idle_ms / 1000, &idle)) ||
	    (rc = spn_conf_uint(c, "http", "min_body_rate", d.min_body_rate, 1, 1UL << 30, &rate)))
		return rc;
	/* A limit that refuses every largest body, or a share larger than
	 * the whole, is a mistake to say at start rather than find later. */
	if (mem_addr < max_body + 1 || mem < mem_addr)
		return spn_err(SPN_ECONFIG,
			       "%s: [http] body_memory_per_address must hold one body of max_body (%zu bytes), and "
			       "body_memory at least that",
			       spn_conf_file(c), max_body);
	if (per_addr > conns)
		return spn_err(SPN_ECONFIG, "%s: [http] max_connections_per_address is more than max_connections",
			       spn_conf_file(c));
	lim->max_connections = (unsigned)conns;
	lim->max_per_address = (unsigned)per_addr;
	lim->body_memory = mem;
	lim->body_memory_per_address = mem_addr;
	lim->handshake_ms = (unsigned)hs * 1000;
	lim->header_ms = (unsigned)hdr * 1000;
	lim->idle_ms = (unsigned)idle * 1000;
	lim->min_body_rate = rate;
	return 0;
}

int spn_node_port_file(spn_node_t *n, const char *section, uint16_t port)
{
	char text[16], *path;
	int rc;

	if (!spn_conf_get(n->conf, section, "port_file"))
		return 0;
	if ((rc = spn_conf_path(n->conf, section, "port_file", NULL, &path)))
		return rc;
	snprintf(text, sizeof(text), "%u\n", (unsigned)port);
	rc = spn_file_write(path, text, strlen(text), 0644);
	free(path);
	return rc;
}

/* Whether the certificate n serves names the host of its URL: its parent
 * checks that name on every call, and a node that has moved would
 * otherwise register where it cannot be reached. */
static int url_named(spn_node_t *n)
{
	char host[SPN_URL_MAX], list[SPN_SAN_MAX * 2 * (SPN_DNS_MAX + 2)] = "";
	const char *p = strstr(n->url, "://");
	gnutls_x509_crt_t crt = NULL;
	spn_names_t names = {0};
	size_t len;
	int rc, named;

	p = p ? p + 3 : n->url;
	len = *p == '[' ? strcspn(++p, "]") : strcspn(p, ":/");
	snprintf(host, sizeof(host), "%.*s", (int)len, p);
	if ((rc = spn_pki_cert_import(n->served->pem, strlen(n->served->pem), &crt)))
		return rc;
	named = gnutls_x509_crt_check_hostname2(crt, host, 0);
	if (!named && (rc = spn_pki_cert_names(crt, &names)) == 0) {
		for (size_t i = 0; i < names.n_dns + names.n_ip; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
				 i < names.n_dns ? names.dns[i] : names.ip[i - names.n_dns]);
		rc = spn_err(SPN_ECONFIG, "%s: this node is reached at %s, but its certificate names %s, not %s: its "
					  "parent's calls to it would fail the name check; a node that has moved is enrolled "
					  "again with its new name (spnctl enroll --name)",
			     spn_conf_file(n->conf), n->url, list[0] ? list : "no host", host);
	}
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int spn_node_start(spn_node_t *n)
{
	spn_http_config_t cfg = {0};
	unsigned long port, threads, max_body;
	bool tls;
	const spn_node_me_t *me;
	int rc;

	if ((rc = spn_conf_uint(n->conf, "http", "port", 0, 0, 65535, &port)) ||
	    (rc = spn_conf_uint(n->conf, "http", "threads", 4, 1, 64, &threads)) ||
	    (rc = spn_conf_uint(n->conf, "http", "max_body", 1024 * 1024, 1024, 16 * 1024 * 1024, &max_body)) ||
	    (rc = spn_conf_bool(n->conf, "http", "tls", true, &tls)) ||
	    (rc = http_limits(n->conf, max_body, &cfg.limits)))
		return rc;
	n->tls = tls;
	if (!tls) {
		/* The node-to-node client speaks as the server does; it keeps a
		 * copy of the certificate it sends. */
		spn_http_client_config_t cc = {.timeout_ms = (long)n->timeout_ms, .sign_key = n->key};
		me = spn_node_me(n);
		cc.sign_cert_b64 = me->b64;
		spn_http_client_free(n->client);
		spn_http_client_free(n->ctl);
		n->client = n->ctl = NULL;
		rc = spn_http_client_new(&cc, &n->client);
		cc.timeout_ms = (long)(n->deadline_ms / 2 < n->timeout_ms ? n->deadline_ms / 2 : n->timeout_ms);
		if (rc == 0)
			rc = spn_http_client_new(&cc, &n->ctl);
		spn_node_me_put(me);
		if (rc)
			return rc;
	}
	cfg.address = spn_conf_str(n->conf, "http", "listen", "127.0.0.1");
	cfg.port = (uint16_t)port;
	cfg.threads = (unsigned)threads;
	cfg.max_body = max_body;
	cfg.routes = spn_node_routes;
	cfg.n_routes = spn_node_nroutes;
	cfg.gate = spn_node_gate;
	cfg.user = n;
	cfg.trust_pem = n->root_pem;
	if (tls) {
		/* The server keeps the text it is given: so does the node. */
		n->served = spn_node_me(n);
		cfg.cert_pem = n->served->pem;
		cfg.key_pem = n->key_pem;
	} else {
		if (n->ca && strcmp(cfg.address, "127.0.0.1") != 0 && strcmp(cfg.address, "::1") != 0)
			return spn_err(SPN_ECONFIG, "%s: [http] tls = false: the PSP hands out tokens' certificates and "
						    "keys; plain HTTP is allowed only on loopback",
				       spn_conf_file(n->conf));
		spn_log_warn("TLS IS OFF ([http] tls = false): for development only; nodes sign their requests, "
			     "nothing is encrypted but the sections");
	}
	if ((rc = spn_http_start(&cfg, &n->http)))
		return rc;
	spn_log_info("node %s (%s) of group %s listening on %s port %u (%s)", n->id.node_id, spn_role_name(n->id.role),
		     n->id.group, cfg.address, (unsigned)spn_http_port(n->http), tls ? "https" : "http");
	if (spn_conf_get(n->conf, "node", "url"))
		snprintf(n->url, sizeof(n->url), "%s", spn_conf_get(n->conf, "node", "url"));
	else if (n->n_parents && (strcmp(cfg.address, "0.0.0.0") == 0 || strcmp(cfg.address, "::") == 0))
		return spn_err(SPN_ECONFIG, "%s: [node] url: required when listening on %s (the address the parent "
					    "reaches this node at)",
			       spn_conf_file(n->conf), cfg.address);
	else
		snprintf(n->url, sizeof(n->url), "%s://%s%s%s:%u", tls ? "https" : "http",
			 strchr(cfg.address, ':') ? "[" : "", cfg.address, strchr(cfg.address, ':') ? "]" : "",
			 (unsigned)spn_http_port(n->http));
	/* A PSP on a shared ledger is on standby from its first request on,
	 * before its port is known to anyone. */
	if ((tls && n->n_parents && (rc = url_named(n))) || (rc = spn_node_lease_init(n)) ||
	    (rc = spn_node_port_file(n, "http", spn_http_port(n->http))) || (rc = spn_node_metrics_listen(n)))
		return rc;
	pthread_mutex_lock(&n->state_lock);
	n->since_ms = spn_clock_mono_ms();
	pthread_mutex_unlock(&n->state_lock);
	return spn_node_worker_start(n);
}

void spn_node_close(spn_node_t *n)
{
	if (!n)
		return;
	spn_node_metrics_stop(n);
	spn_node_worker_stop(n);
	spn_http_stop(n->http);
	spn_http_client_free(n->client);
	spn_http_client_free(n->ctl);
	spn_tree_free(n->tree);
	spn_revoked_free(n->revoked);
	spn_sstore_free(n->sessions);
	spn_node_callers_free(n);
	spn_node_plugins_stop(n);
	spn_ca_close(n->ca);
	if (n->key)
		gnutls_x509_privkey_deinit(n->key);
	free(n->key_path);
	free(n->cert_path);
	free(n->root_path);
	if (n->root)
		gnutls_x509_crt_deinit(n->root);
	spn_free_secret_str(n->key_pem);
	spn_node_me_put(n->served);
	spn_node_me_slot_clear(&n->me);
	free(n->root_pem);
	free(n->anchor_pem);
	spn_node_issuing_free(n);
	spn_node_metrics_free(n);
	pthread_mutex_destroy(&n->ca_lock);
	pthread_mutex_destroy(&n->state_lock);
	pthread_cond_destroy(&n->wake);
	free(n);
}

const char *spn_node_name(const spn_node_t *n)
{
	return n->id.node_id;
}

int spn_node_cert_pem(spn_node_t *n, char **out)
{
	const spn_node_me_t *me = spn_node_me(n);

	*out = strdup(me->pem);
	spn_node_me_put(me);
	return *out ? 0 : SPN_ENOMEM;
}

int spn_node_sign(spn_node_t *n, const void *data, size_t len, gnutls_datum_t *sig)
{
	return spn_pki_sign(n->key, data, len, sig);
}
