/* Registry convergence for make bench: many members join the tree at once
 * and the root is watched until it lists every one of them.
 *
 * The members are in-process instances: each has its own certificate from
 * the group (enrolled over REST through its administrator, as spnctl enroll
 * does) and its own registry, and registers with its administrator, a real
 * spnd, exactly as spnd does (POST /v1/tree/sync over mutual TLS with its
 * certificate). The administrators send the deltas up to the PSP.
 *
 *   bench_join members ADMIN_DIR ADMIN_URL ROOT COUNT OUTDIR
 *     enrolls COUNT members below the administrator whose state is
 *     ADMIN_DIR; OUTDIR gets member.key, url and <id>.crt for each.
 *   bench_join join PSP_DIR PSP_URL ROOT THREADS OUTDIR...
 *     registers every member of the OUTDIRs (THREADS at a time) and polls
 *     the PSP's registry (its graph); prints one JSON line: how long after its
 *     registration started each member was listed at the root.
 *   bench_join tree MEMBERS ADMINS
 *     the root's registry alone, in this process, with the registries of
 *     ADMINS administrators below it and MEMBERS members below them, built
 *     by the messages spnd sends; prints one JSON line: what the root's
 *     registry code takes for one delta, one heartbeat, one whole subtree
 *     sent again and one listing of the registry at that size, and the
 *     bodies' sizes. Network and TLS are left out: they are the real row's. */
#include "config.h"

#include <dirent.h>
#include <json-c/json.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "file.h"
#include "http_client.h"
#include "json.h"
#include "log.h"
#include "pki_cert.h"
#include "pki_csr.h"
#include "pki_key.h"
#include "token.h"
#include "tree.h"

static int die(const char *what, int rc)
{
	fprintf(stderr, "bench_join: %s: %s\n", what, spn_err_detail(rc));
	return 1;
}

static char *path_of(const char *dir, const char *name)
{
	return spn_file_join(dir, name);
}

/* --- members: certificates through the administrator ----------------------- */

static int members(char **argv)
{
	const char *adir = argv[0], *aurl = argv[1], *root = argv[2], *out = argv[4];
	size_t count = strtoul(argv[3], NULL, 10);
	spn_http_client_config_t hc = {.root_file = root, .tls = strncmp(aurl, "https://", 8) == 0, .timeout_ms = 30000};
	gnutls_x509_privkey_t akey = NULL, key = NULL;
	gnutls_x509_crt_t acrt = NULL;
	spn_http_client_t *http = NULL;
	spn_ident_t admin;
	spn_names_t names;
	char *p, *url_file;
	int rc;

	memset(&names, 0, sizeof(names));
	p = path_of(adir, "node.crt");
	rc = spn_pki_cert_load(p, &acrt);
	free(p);
	if (rc || (rc = spn_pki_cert_ident(acrt, &admin)))
		return die(adir, rc);
	p = path_of(adir, "node.key");
	rc = spn_pki_key_load(p, NULL, &akey);
	free(p);
	if (rc || (rc = spn_pki_key_generate(SPN_KEY_ED25519, &key)) || (rc = spn_names_add(&names, "127.0.0.1")) ||
	    (rc = spn_http_client_new(&hc, &http)))
		return die("setup", rc);
	p = path_of(out, "member.key");
	rc = spn_pki_key_save(key, p, NULL);
	free(p);
	url_file = path_of(out, "url");
	if (rc || (rc = spn_file_create(url_file, aurl, strlen(aurl), 0644)))
		return die(out, rc);
	free(url_file);
	for (size_t i = 0; i < count && rc == 0; i++) {
		spn_ident_t node;
		char *token = NULL, *csr = NULL, *ans = NULL, url[600], name[128];
		json_object *o = json_object_new_object(), *a = NULL;
		const char *cert = NULL;
		long status = 0;

		memset(&node, 0, sizeof(node));
		/* ids stay well under SPN_NAME_MAX: administrators' ids are short */
		if (snprintf(node.node_id, sizeof(node.node_id), "%.40s-m%zu", admin.node_id, i) >= (int)sizeof(node.node_id))
			rc = SPN_EINVAL;
		node.role = SPN_ROLE_SPN;
		node.trust = 1;
		if (rc || (rc = spn_token_issue(akey, &admin, &node, 900, NULL, &token)) ||
		    (rc = spn_pki_csr_build(key, node.node_id, &names, &csr))) {
			json_object_put(o);
			break;
		}
		json_object_object_add(o, "csr", json_object_new_string(csr));
		json_object_object_add(o, "token", json_object_new_string(token));
		snprintf(url, sizeof(url), "%s/v1/enroll", aurl);
		rc = spn_http_client_call(http, url, json_object_get_string(o), strlen(json_object_get_string(o)),
					  &status, &ans, NULL);
		if (rc == 0 && (status != 201 || spn_json_parse(ans, strlen(ans), &a) != 0 ||
				!(cert = spn_json_str_or(a, "certificate", NULL))))
			rc = spn_err(SPN_EDENIED, "enrolling %s: %ld %.300s", node.node_id, status, ans ? ans : "");
		if (rc == 0) {
			snprintf(name, sizeof(name), "%s.crt", node.node_id);
			p = path_of(out, name);
			rc = spn_file_create(p, cert, strlen(cert), 0644);
			free(p);
		}
		json_object_put(a);
		json_object_put(o);
		free(ans);
		free(csr);
		free(token);
	}
	spn_http_client_free(http);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(akey);
	gnutls_x509_crt_deinit(acrt);
	return rc ? die("members", rc) : 0;
}

/* --- join: everyone registers, the root is watched -------------------------- */

typedef struct {
	char id[SPN_NAME_MAX + 1];
	char cert[1024], key[1024], url[600];
	int64_t started, registered, seen;  /* ms, monotonic; 0: not yet */
	int rc;
} member_t;

static member_t *all;
static size_t n_all, cap_all;
static atomic_size_t next_member, n_seen;

static int load_members(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *url = NULL, *p = path_of(dir, "url");
	size_t len;
	int rc = spn_file_read(p, 600, &url, &len);

	free(p);
	if (rc || !d) {
		free(url);
		if (d)
			closedir(d);
		return rc ? rc : spn_err(SPN_EIO, "%s: cannot read", dir);
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		member_t *m;
		if (l < 5 || strcmp(e->d_name + l - 4, ".crt") != 0 || l - 4 > SPN_NAME_MAX)
			continue;
		if (n_all == cap_all) {
			member_t *more = realloc(all, (cap_all ? cap_all * 2 : 1024) * sizeof(*all));
			if (!more) {
				rc = SPN_ENOMEM;
				break;
			}
			all = more;
			cap_all = cap_all ? cap_all * 2 : 1024;
		}
		m = &all[n_all];
		memset(m, 0, sizeof(*m));
		memcpy(m->id, e->d_name, l - 4);
		snprintf(m->cert, sizeof(m->cert), "%s/%s", dir, e->d_name);
		snprintf(m->key, sizeof(m->key), "%s/member.key", dir);
		snprintf(m->url, sizeof(m->url), "%s/v1/tree/sync", url);
		n_all++;
	}
	closedir(d);
	free(url);
	return rc;
}

static const char *root_file;

static void *joiner(void *unused)
{
	size_t i;

	(void)unused;
	while ((i = atomic_fetch_add(&next_member, 1)) < n_all) {
		member_t *m = &all[i];
		spn_http_client_config_t hc = {.cert_file = m->cert, .key_file = m->key, .root_file = root_file,
					       .tls = strncmp(m->url, "https://", 8) == 0, .timeout_ms = 30000};
		spn_http_client_t *http = NULL;
		gnutls_x509_crt_t crt = NULL;
		spn_tree_t *tree = NULL;
		spn_ident_t id;
		json_object *msg = NULL;
		long status = 0;

		m->started = spn_clock_mono_ms();
		if ((m->rc = spn_pki_cert_load(m->cert, &crt)) || (m->rc = spn_pki_cert_ident(crt, &id)) ||
		    (m->rc = spn_tree_new(&id, &tree)) || (m->rc = spn_http_client_new(&hc, &http)) ||
		    !(msg = spn_tree_sync_message(tree, 0, "https://127.0.0.1:9"))) {
			m->rc = m->rc ? m->rc : SPN_ENOMEM;
		} else {
			size_t len;
			const char *text = spn_json_text(msg, &len);
			char *ans = NULL;
			m->rc = spn_http_client_call(http, m->url, text, len, &status, &ans, NULL);
			free(ans);
			if (m->rc == 0 && status != 200)
				m->rc = spn_err(SPN_EDENIED, "%s: registration answered %ld", m->id, status);
			m->registered = spn_clock_mono_ms();
		}
		json_object_put(msg);
		spn_http_client_free(http);
		spn_tree_free(tree);
		if (crt)
			gnutls_x509_crt_deinit(crt);
	}
	return NULL;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const member_t *)a)->id, ((const member_t *)b)->id);
}

/* Marks the members the root lists now. The graph (GET /v1/tree.dot) is
 * read rather than the JSON registry: it holds the same nodes and costs the
 * root a fraction of it, so that watching disturbs less what is watched. */
static int watch_once(spn_http_client_t *http, const char *url)
{
	char *ans = NULL, *line, *save = NULL;
	long status = 0;
	int64_t now;
	int rc = spn_http_client_call(http, url, NULL, 0, &status, &ans, NULL);

	now = spn_clock_mono_ms();
	if (rc == 0 && status != 200)
		rc = spn_err(SPN_EIO, "the root's registry: %ld", status);
	/* A node's line: <tab>"id" [label=...]; edges have no label. */
	for (line = rc == 0 ? strtok_r(ans, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		member_t key, *m;
		size_t len;
		if (line[0] != '\t' || line[1] != '"' || !(end = strchr(line + 2, '"')) || strncmp(end, "\" [label=", 9) != 0)
			continue;
		len = (size_t)(end - line - 2);
		if (len > SPN_NAME_MAX)
			continue;
		memcpy(key.id, line + 2, len);
		key.id[len] = '\0';
		if ((m = bsearch(&key, all, n_all, sizeof(*all), by_id)) && !m->seen) {
			m->seen = now;
			atomic_fetch_add(&n_seen, 1);
		}
	}
	free(ans);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int join(int argc, char **argv)
{
	const char *pdir = argv[0], *purl = argv[1];
	unsigned threads = (unsigned)strtoul(argv[3], NULL, 10);
	char *cert = path_of(pdir, "node.crt"), *key = path_of(pdir, "node.key"), url[600];
	spn_http_client_config_t hc = {.cert_file = cert, .key_file = key, .root_file = argv[2],
				       .tls = strncmp(purl, "https://", 8) == 0, .timeout_ms = 30000};
	spn_http_client_t *http = NULL;
	pthread_t tid[64];
	int64_t t0, *lat, deadline, t_all = -1;
	double poll_ms;
	size_t within = 0, failed = 0, polls = 0;
	int rc;

	root_file = argv[2];
	if (threads == 0 || threads > 64)
		return die("threads", SPN_EINVAL);
	for (int i = 4; i < argc; i++)
		if ((rc = load_members(argv[i])))
			return die(argv[i], rc);
	if (n_all == 0)
		return die("no members", SPN_EINVAL);
	qsort(all, n_all, sizeof(*all), by_id);
	if ((rc = spn_http_client_new(&hc, &http)))
		return die("the PSP's client", rc);
	snprintf(url, sizeof(url), "%s/v1/tree.dot", purl);
	t0 = spn_clock_mono_ms();
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, joiner, NULL);
	/* Watched until every member is listed, or 30 s after the last join
	 * started. */
	deadline = t0 + 600000;
	while (atomic_load(&n_seen) < n_all && spn_clock_mono_ms() < deadline) {
		if ((rc = watch_once(http, url)))
			return die("watching", rc);
		polls++;
		if (atomic_load(&next_member) >= n_all && deadline > spn_clock_mono_ms() + 30000)
			deadline = spn_clock_mono_ms() + 30000;
		usleep(5000);
	}
	if (atomic_load(&n_seen) == n_all)
		t_all = spn_clock_mono_ms() - t0;
	/* A join is seen at the first listing after it: the time between
	 * listings is the figures' resolution. */
	poll_ms = (double)(spn_clock_mono_ms() - t0) / (double)(polls ? polls : 1);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	if (!(lat = calloc(n_all + 1, sizeof(*lat))))
		return die("memory", SPN_ENOMEM);
	for (size_t i = 0; i < n_all; i++) {
		member_t *m = &all[i];
		if (m->rc) {
			if (failed++ == 0)
				fprintf(stderr, "bench_join: %s: %s\n", m->id, spn_err_detail(m->rc));
			lat[i] = INT64_MAX;
			continue;
		}
		lat[i] = m->seen ? m->seen - m->started : INT64_MAX;
		within += lat[i] <= 1000;
	}
	qsort(lat, n_all, sizeof(*lat), cmp_i64);
	printf("{\"members\":%zu,\"failed\":%zu,\"within_1s\":%zu,\"p50_ms\":%lld,\"p99_ms\":%lld,\"max_ms\":%lld,"
	       "\"all_listed_after_ms\":%lld,\"listing_every_ms\":%.1f}\n",
	       n_all, failed, within, (long long)lat[n_all / 2], (long long)lat[n_all * 99 / 100],
	       (long long)lat[n_all - 1], (long long)t_all, poll_ms);
	free(lat);
	free(all);
	free(cert);
	free(key);
	spn_http_client_free(http);
	return 0;
}

/* --- tree: the root's registry code alone -------------------------------- */

typedef struct {
	spn_ident_t id;
	spn_tree_t *tree;
	uint64_t acked;
} admin_t;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* What the root's registry keeps from its syncs, by malloc's count. */
static long long root_held;

static long long heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long long)(mi.uordblks + mi.hblkhd);
}

/* What the administrator sends up now, as spnd's worker would (acked 0: its
 * whole registry); *len gets the body's size. Returns the root's verdict. */
static int send_up(spn_tree_t *root, admin_t *a, bool whole, size_t *len, double *us)
{
	long long before;
	spn_tree_child_t ch = {.id = &a->id, .serial = "01", .pin = "", .url = NULL};
	json_object *msg = spn_tree_sync_message(a->tree, whole ? 0 : a->acked, "https://127.0.0.1:9"), *v;
	double t;
	int rc;

	if (!msg)
		return SPN_ENOMEM;
	spn_json_text(msg, len);
	json_object_object_get_ex(msg, "version", &v);
	before = heap_in_use();
	t = now_us();
	rc = spn_tree_child_sync(root, &ch, msg, spn_clock_mono_ms());
	*us = now_us() - t;
	root_held += heap_in_use() - before;
	if (rc == 0)
		a->acked = (uint64_t)json_object_get_int64(v);
	json_object_put(msg);
	return rc;
}

/* A member registers with its administrator: its own registry, whole. */
static int member_joins(admin_t *a, size_t i)
{
	spn_ident_t m;
	spn_tree_t *mt = NULL;
	spn_tree_child_t ch = {.id = &m, .serial = "02", .pin = "", .url = NULL};
	json_object *msg = NULL;
	int rc;

	memset(&m, 0, sizeof(m));
	snprintf(m.node_id, sizeof(m.node_id), "%.40s-m%zu", a->id.node_id, i);
	snprintf(m.parent, sizeof(m.parent), "%s", a->id.node_id);
	m.role = SPN_ROLE_SPN;
	m.trust = 1;
	if ((rc = spn_tree_new(&m, &mt)) == 0 && !(msg = spn_tree_sync_message(mt, 0, "https://127.0.0.1:9")))
		rc = SPN_ENOMEM;
	if (rc == 0)
		rc = spn_tree_child_sync(a->tree, &ch, msg, spn_clock_mono_ms());
	json_object_put(msg);
	spn_tree_free(mt);
	return rc;
}

static int tree(char **argv)
{
	size_t members = strtoul(argv[0], NULL, 10), admins = strtoul(argv[1], NULL, 10), len = 0, delta_len = 0,
	       beat_len = 0, whole_len = 0, list_len = 0, timed = 0;
	double us = 0, delta_us = 0, beat_us = 0, whole_us = 0, list_us, t;
	spn_ident_t root_id;
	spn_tree_t *root = NULL;
	admin_t *adm;
	json_object *listing;
	long long list_heap;
	int rc = 0;

	if (admins == 0 || members < admins || !(adm = calloc(admins, sizeof(*adm))))
		return die("tree: MEMBERS >= ADMINS >= 1", SPN_EINVAL);
	memset(&root_id, 0, sizeof(root_id));
	snprintf(root_id.node_id, sizeof(root_id.node_id), "psp");
	root_id.role = SPN_ROLE_PSP;
	root_id.trust = SPN_TRUST_MAX;
	if ((rc = spn_tree_new(&root_id, &root)))
		return die("tree", rc);
	spn_tree_set_max_subtree(root, members);
	for (size_t a = 0; rc == 0 && a < admins; a++) {
		snprintf(adm[a].id.node_id, sizeof(adm[a].id.node_id), "adm%zu", a);
		snprintf(adm[a].id.parent, sizeof(adm[a].id.parent), "psp");
		adm[a].id.role = SPN_ROLE_ADMIN;
		adm[a].id.trust = 8;
		if ((rc = spn_tree_new(&adm[a].id, &adm[a].tree)) == 0)
			rc = send_up(root, &adm[a], true, &len, &us);
	}
	/* Members join round the administrators, each change sent up alone;
	 * the last tenth are timed, at about the full size. */
	for (size_t i = 0; rc == 0 && i < members; i++) {
		admin_t *a = &adm[i % admins];
		if ((rc = member_joins(a, i / admins)) || (rc = send_up(root, a, false, &len, &us)))
			break;
		if (i >= members - members / 10) {
			delta_us += us;
			delta_len = len;
			timed++;
		}
	}
	for (size_t i = 0; rc == 0 && i < 1000; i++) {
		rc = send_up(root, &adm[i % admins], false, &beat_len, &us);
		beat_us += us;
	}
	for (size_t i = 0; rc == 0 && i < admins; i++) {
		rc = send_up(root, &adm[i], true, &whole_len, &us);
		whole_us += us;
	}
	if (rc)
		return die("tree", rc);
	list_heap = heap_in_use();
	t = now_us();
	listing = spn_tree_json(root, spn_clock_mono_ms());
	spn_json_text(listing, &list_len);
	list_us = now_us() - t;
	list_heap = heap_in_use() - list_heap;
	json_object_put(listing);
	printf("{\"entries\":%zu,\"held_bytes_per_entry\":%.0f,\"delta_us\":%.1f,\"delta_bytes\":%zu,\"heartbeat_us\":%.1f,\"heartbeat_bytes\":%zu,"
	       "\"subtree_entries\":%zu,\"subtree_us\":%.0f,\"subtree_bytes\":%zu,\"listing_us\":%.0f,"
	       "\"listing_bytes\":%zu,\"listing_heap_bytes\":%lld}\n",
	       spn_tree_size(root), (double)root_held / (double)spn_tree_size(root), delta_us / (timed ? timed : 1), delta_len, beat_us / 1000, beat_len,
	       spn_tree_size(adm[0].tree), whole_us / admins, whole_len, list_us, list_len, list_heap);
	for (size_t a = 0; a < admins; a++)
		spn_tree_free(adm[a].tree);
	free(adm);
	spn_tree_free(root);
	return 0;
}

int main(int argc, char **argv)
{
	spn_log_set_level(SPN_LOG_WARN);
	if (argc == 7 && strcmp(argv[1], "members") == 0)
		return members(argv + 2);
	if (argc >= 7 && strcmp(argv[1], "join") == 0)
		return join(argc - 2, argv + 2);
	if (argc == 4 && strcmp(argv[1], "tree") == 0)
		return tree(argv + 2);
	fprintf(stderr, "usage: bench_join members ADMIN_DIR ADMIN_URL ROOT COUNT OUTDIR\n"
			"       bench_join join PSP_DIR PSP_URL ROOT THREADS OUTDIR...\n"
			"       bench_join tree MEMBERS ADMINS\n");
	return 2;
}
