/* HTTP(S) server on libmicrohttpd: routing, bounded bodies, JSON errors,
 * client certificate identity. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "http_server.h"
#include "http_sig.h"
#include "log.h"
#include "mem.h"
#include "pki_cert.h"

#define DEFAULT_MAX_BODY (64 * 1024)
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

#define DRAINING_MAX 4

struct spn_http_server {
	struct MHD_Daemon *mhd;
	/* handlers that wait on other nodes run here, their connections
	 * suspended, so that MHD's threads keep serving everything else */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	spn_http_req_t *head, *tail;
	size_t queued;
	bool stopping;
	pthread_t *workers;
	size_t n_workers;
	/* listeners of earlier certificates, finishing their connections */
	struct MHD_Daemon *draining[DRAINING_MAX];
	time_t drain_until[DRAINING_MAX];
	spn_http_config_t cfg;
	gnutls_x509_crt_t root;
	spn_pki_peers_t *peers; /* client certificates verified before */
	uint16_t port;
};

struct spn_http_req {
	spn_http_server_t *server;
	struct MHD_Connection *conn;
	const spn_http_route_t *route;
	const char *method, *path;
	char *body;
	size_t len, cap, max, dropped;
	bool too_big;
	enum { REQ_READING, REQ_QUEUED, REQ_DONE } state;
	spn_http_resp_t resp;
	spn_http_req_t *next;
};

#define QUEUE_MAX 1024

unsigned spn_http_status_of(int rc)
{
	switch (rc) {
	case 0: return 200;
	case SPN_EINVAL:
	case SPN_EBADCSR:
	case SPN_EBADCERT:
	case SPN_EBADSIG:
	case SPN_ETOKEN:
	case SPN_EUNSUPPORTED: return 400;
	case SPN_EDENIED:
	case SPN_EPOLICY:
	case SPN_ELIMIT:
	case SPN_EREVOKED:
	case SPN_ETOKENEXPIRED:
	case SPN_EEXPIRED: return 403;
	case SPN_ENOTFOUND:
	case SPN_ESESSION:
	case SPN_ENOPROVIDER: return 404;
	case SPN_ERESYNC:
	case SPN_EREPLAY: return 409;
	case SPN_ELOOP: return 508;
	case SPN_EUNAVAILABLE:
	case SPN_EPLUGIN: return 502;
	case SPN_ETIMEOUT: return 504;
	case SPN_EBUSY:
	case SPN_ELEDGERLOST: return 503;
	case SPN_ETOKENUSED:
	case SPN_EEXIST:
	case SPN_ESTATE: return 409;
	case SPN_ETOOBIG: return 413;
	default: return 500;
	}
}

void spn_http_json(spn_http_resp_t *resp, unsigned status, json_object *obj)
{
	size_t len;
	const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);

	spn_http_text(resp, status, "application/json", text, len);
	json_object_put(obj);
}

void spn_http_text(spn_http_resp_t *resp, unsigned status, const char *type, const char *text, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = type;
	resp->body = malloc(len + 1);
	resp->len = resp->body ? len : 0;
	if (resp->body) {
		memcpy(resp->body, text, len);
		resp->body[len] = '\0';
	} else {
		resp->status = 500;
	}
}

static void error_status(spn_http_resp_t *resp, unsigned status, const char *name, const char *message)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(name));
	json_object_object_add(o, "message", json_object_new_string(message));
	spn_http_json(resp, status, o);
}

void spn_http_error(spn_http_resp_t *resp, int rc, const char *detail)
{
	unsigned status = spn_http_status_of(rc);

	/* Server-side failures may name paths or database errors: those go to
	 * the log, the client gets the words for the code. */
	if (status == 500) {
		spn_log_error("answering %u: %s", status, detail ? detail : spn_strerror(rc));
		detail = NULL;
	}
	error_status(resp, status, spn_errname(rc), detail ? detail : spn_strerror(rc));
}

const char *spn_http_req_method(const spn_http_req_t *r)
{
	return r->method;
}

const char *spn_http_req_path(const spn_http_req_t *r)
{
	return r->path;
}

const char *spn_http_req_body(const spn_http_req_t *r, size_t *len)
{
	if (len)
		*len = r->len;
	return r->body ? r->body : "";
}

int spn_http_req_peer(spn_http_req_t *r, spn_http_peer_t *peer)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt = NULL;
	unsigned n = 0;
	int rc;

	if (!r->server->root)
		return spn_err(SPN_EDENIED, "this endpoint needs a group member, and this server knows no group root");
	if (r->server->cfg.cert_pem) {
		ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (!ci || !ci->tls_session || !(chain = gnutls_certificate_get_peers(ci->tls_session, &n)) || n == 0)
			return spn_err(SPN_EDENIED, "this endpoint needs a client certificate from the group");
		if ((rc = spn_pki_peers_get(r->server->peers, &chain[0], peer)))
			return spn_err(SPN_EDENIED, "client certificate refused: %s", spn_err_detail(rc));
		return 0;
	}
	/* Plain HTTP (development): the request is signed instead. */
	if ((rc = spn_http_sig_verify(r->server->root, MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Spn-Cert"),
				      MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Spn-Time"),
				      MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Spn-Signature"), r->method,
				      r->path, r->body, r->len, &crt)))
		return rc;
	/* spn_http_sig_verify has checked the certificate against the root. */
	if ((rc = spn_pki_cert_ident(crt, &peer->id)) == 0 && (rc = spn_pki_cert_serial(crt, peer->serial)) == 0)
		rc = spn_pki_cert_pin(crt, peer->pin);
	gnutls_x509_crt_deinit(crt);
	if (rc)
		return spn_err(SPN_EDENIED, "client certificate refused: %s", spn_err_detail(rc));
	return 0;
}

/* Bodies are NUL-terminated text (spn_http_text, the client's answers). */
static void free_wiped(void *p)
{
	spn_free_secret_str(p);
}

static enum MHD_Result queue(struct MHD_Connection *conn, spn_http_resp_t *resp)
{
	struct MHD_Response *r =
		resp->secret ? MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, free_wiped)
			     : MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		if (resp->secret)
			spn_free_secret_str(resp->body);
		else
			free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : "text/plain");
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_error(struct MHD_Connection *conn, unsigned status, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum MHD_Result answer_error(struct MHD_Connection *conn, unsigned status, const char *name, const char *fmt, ...)
{
	spn_http_resp_t resp = {0};
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_status(&resp, status, name, msg);
	return queue(conn, &resp);
}

static const spn_http_route_t *find_route(const spn_http_server_t *s, const char *method, const char *url,
					  bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < s->cfg.n_routes; i++) {
		const spn_http_route_t *rt = &s->cfg.routes[i];
		size_t n = strlen(rt->path);
		bool match = rt->path[n - 1] == '/' ? strncmp(url, rt->path, n) == 0 : strcmp(url, rt->path) == 0;
		if (!match)
			continue;
		*path_known = true;
		if (strcmp(method, rt->method) == 0)
			return rt;
	}
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
	spn_http_server_t *s = cls;
	spn_http_req_t *req = *ctx;
	spn_http_resp_t resp = {0};

	(void)version;
	if (!req) {
		bool known;
		const spn_http_route_t *rt = find_route(s, method, url, &known);
		const char *cl;
		size_t max;

		if (!rt)
			return known ? answer_error(conn, 405, "method_not_allowed", "%s is not allowed on %.100s", method, url)
				     : answer_error(conn, 404, "not_found", "no such endpoint: %.100s", url);
		max = rt->max_body ? rt->max_body : s->cfg.max_body ? s->cfg.max_body : DEFAULT_MAX_BODY;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		/* A body a little too large is read and dropped so that the
		 * client gets to read the 413; a far larger one is refused at
		 * once, at the cost of a reset the client may see. */
		if (cl && strtoull(cl, NULL, 10) > 8 * max)
			return answer_error(conn, 413, "too_big", "request body larger than %zu bytes", max);
		if (strcmp(method, "GET") == 0 &&
		    ((cl && strtoull(cl, NULL, 10) > 0) ||
		     MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)))
			return answer_error(conn, 413, "too_big", "a GET request carries no body");
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->server = s;
		req->conn = conn;
		req->route = rt;
		req->method = method;
		req->path = url;
		req->max = max;
		*ctx = req;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!req->too_big && req->len + *upload_size <= req->max) {
			if (req->len + *upload_size + 1 > req->cap) {
				size_t cap = (req->len + *upload_size + 1) * 2;
				char *bigger = realloc(req->body, cap > req->max + 1 ? req->max + 1 : cap);
				if (!bigger)
					return MHD_NO;
				req->body = bigger;
				req->cap = cap > req->max + 1 ? req->max + 1 : cap;
			}
			memcpy(req->body + req->len, upload, *upload_size);
			req->len += *upload_size;
			req->body[req->len] = '\0';
		} else {
			/* Keep reading to answer cleanly, store nothing more; a
			 * sender that goes on far past the limit is cut off. */
			req->too_big = true;
			req->dropped += *upload_size;
			if (req->dropped > 8 * req->max)
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->too_big)
		return answer_error(conn, 413, "too_big", "request body larger than %zu bytes", req->max);
	if (req->state == REQ_DONE) {
		spn_log_debug("%s %s -> %u", method, url, req->resp.status);
		return queue(conn, &req->resp);
	}
	if (req->route->async) {
		bool busy;
		pthread_mutex_lock(&s->qlock);
		busy = s->stopping || s->queued >= QUEUE_MAX;
		if (!busy) {
			req->state = REQ_QUEUED;
			MHD_suspend_connection(conn);
			if (s->tail)
				s->tail->next = req;
			else
				s->head = req;
			s->tail = req;
			s->queued++;
			pthread_cond_signal(&s->qcond);
		}
		pthread_mutex_unlock(&s->qlock);
		if (!busy)
			return MHD_YES;
		return answer_error(conn, 503, "busy", "%zu requests are waiting; try again", (size_t)QUEUE_MAX);
	}
	spn_err_clear();
	req->route->fn(req, &resp, s->cfg.user);
	if (!resp.status)
		spn_http_error(&resp, SPN_EIO, "the handler gave no answer");
	spn_log_debug("%s %s -> %u", method, url, resp.status);
	return queue(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx, enum MHD_RequestTerminationCode toe)
{
	spn_http_req_t *req = *ctx;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req) {
		free(req->body);
		free(req);
		*ctx = NULL;
	}
}

static void *async_worker(void *arg)
{
	spn_http_server_t *s = arg;
	bool stopping;

	pthread_mutex_lock(&s->qlock);
	for (;;) {
		spn_http_req_t *req;
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (!(req = s->head))
			break;
		s->head = req->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		stopping = s->stopping;
		pthread_mutex_unlock(&s->qlock);
		spn_err_clear();
		if (stopping)
			spn_http_error(&req->resp, SPN_EBUSY, "the node is stopping");
		else
			req->route->fn(req, &req->resp, s->cfg.user);
		if (!req->resp.status)
			spn_http_error(&req->resp, SPN_EIO, "the handler gave no answer");
		req->state = REQ_DONE;
		MHD_resume_connection(req->conn);
		pthread_mutex_lock(&s->qlock);
	}
	pthread_mutex_unlock(&s->qlock);
	return NULL;
}

/* Answers what is queued, then stops the workers: no connection may stay
 * suspended when MHD stops. */
static void stop_workers(spn_http_server_t *s)
{
	pthread_mutex_lock(&s->qlock);
	s->stopping = true;
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	for (size_t i = 0; i < s->n_workers; i++)
		pthread_join(s->workers[i], NULL);
	free(s->workers);
	s->workers = NULL;
	s->n_workers = 0;
}

static int start_workers(spn_http_server_t *s)
{
	size_t n = s->cfg.workers ? s->cfg.workers : 16;

	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	if (!(s->workers = calloc(n, sizeof(*s->workers))))
		return SPN_ENOMEM;
	for (; s->n_workers < n; s->n_workers++)
		if (pthread_create(&s->workers[s->n_workers], NULL, async_worker, s) != 0) {
			stop_workers(s);
			return spn_err(SPN_ENOMEM, "cannot start the request workers");
		}
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	spn_log_warn("http: %s", line);
}

static int sock_addr(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, address, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, address, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
	} else {
		return spn_err(SPN_ECONFIG, "listen address '%s' is not a numeric IPv4 or IPv6 address", address);
	}
	return 0;
}

/* The listening socket is shared (SO_REUSEPORT) so that a renewed
 * certificate can take over without a gap; a plain bind first makes sure
 * no other process holds the port. */
static int port_free(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0, one = 1;

	if (fd < 0)
		return spn_err(SPN_EIO, "socket: %s", strerror(errno));
	/* Connections of a previous run in TIME_WAIT do not hold the port; a
	 * listener does, even with SO_REUSEADDR. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) != 0)
		rc = spn_err(SPN_EIO, "cannot listen: %s", strerror(errno));
	close(fd);
	return rc;
}

static struct MHD_Daemon *start_mhd(spn_http_server_t *s, struct sockaddr_storage *ss)
{
	const spn_http_config_t *cfg = &s->cfg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->key_pem},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
		{cfg->trust_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, (void *)cfg->trust_pem},
		{MHD_OPTION_END, 0, NULL},
	};

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->cert_pem)
		flags |= MHD_USE_TLS;
	/* The logger first, so that MHD never prints on its own. */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(cfg->threads == 1 ? 0 : cfg->threads ? cfg->threads : 2),
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_ARRAY, cfg->cert_pem ? tls : &tls[4],
				MHD_OPTION_END);
}

int spn_http_start(const spn_http_config_t *cfg, spn_http_server_t **out)
{
	spn_http_server_t *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	socklen_t sslen;
	const union MHD_DaemonInfo *info;
	int rc;

	if (!s)
		return SPN_ENOMEM;
	s->cfg = *cfg;
	if ((rc = sock_addr(cfg->address, cfg->port, &ss, &sslen)) || (cfg->port && (rc = port_free(&ss, sslen)))) {
		free(s);
		return cfg->port ? spn_err(rc, "%s port %u: %s", cfg->address, (unsigned)cfg->port, spn_err_detail(rc))
				 : rc;
	}
	if (cfg->trust_pem && ((rc = spn_pki_cert_import(cfg->trust_pem, strlen(cfg->trust_pem), &s->root)) ||
			       (rc = spn_pki_peers_new(s->root, &s->peers)))) {
		if (s->root)
			gnutls_x509_crt_deinit(s->root);
		free(s);
		return rc;
	}
	if ((rc = start_workers(s))) {
		spn_pki_peers_free(s->peers);
		if (s->root)
			gnutls_x509_crt_deinit(s->root);
		free(s);
		return rc;
	}
	if (!(s->mhd = start_mhd(s, &ss))) {
		stop_workers(s);
		pthread_mutex_destroy(&s->qlock);
		pthread_cond_destroy(&s->qcond);
		spn_pki_peers_free(s->peers);
		if (s->root)
			gnutls_x509_crt_deinit(s->root);
		free(s);
		return spn_err(SPN_EIO, "cannot listen on %s port %u (in use, or a bad certificate or key)",
			       cfg->address, (unsigned)cfg->port);
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : cfg->port;
	*out = s;
	return 0;
}

int spn_http_set_identity(spn_http_server_t *s, const char *cert_pem, const char *key_pem)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *fresh, *old = s->mhd;
	const char *old_cert = s->cfg.cert_pem, *old_key = s->cfg.key_pem;
	socklen_t sslen;
	int rc;

	if (!s->cfg.cert_pem)
		return spn_err(SPN_ESTATE, "this server does not use TLS");
	if ((rc = sock_addr(s->cfg.address, s->port, &ss, &sslen)))
		return rc;
	s->cfg.cert_pem = cert_pem;
	s->cfg.key_pem = key_pem;
	if (!(fresh = start_mhd(s, &ss))) {
		s->cfg.cert_pem = old_cert;
		s->cfg.key_pem = old_key;
		return spn_err(SPN_EIO, "cannot listen again on port %u with the new certificate", (unsigned)s->port);
	}
	/* The new one listens; the old one stops accepting and finishes the
	 * connections it has before spn_http_reap stops it. */
	s->mhd = fresh;
	spn_http_reap(s);
	for (size_t i = 0; i < DRAINING_MAX; i++) {
		if (!s->draining[i]) {
			MHD_socket fd = MHD_quiesce_daemon(old);
			if (fd != MHD_INVALID_SOCKET)
				close(fd);
			s->draining[i] = old;
			s->drain_until[i] = time(NULL) + 60;
			return 0;
		}
	}
	MHD_stop_daemon(old);
	return 0;
}

void spn_http_reap(spn_http_server_t *s)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < DRAINING_MAX; i++) {
		const union MHD_DaemonInfo *info;
		if (!s->draining[i])
			continue;
		info = MHD_get_daemon_info(s->draining[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if ((info && info->num_connections == 0) || now >= s->drain_until[i]) {
			MHD_stop_daemon(s->draining[i]);
			s->draining[i] = NULL;
		}
	}
}

uint16_t spn_http_port(const spn_http_server_t *s)
{
	return s->port;
}

void spn_http_stop(spn_http_server_t *s)
{
	if (!s)
		return;
	/* No new connections; the suspended ones are answered first. */
	{
		MHD_socket fd = MHD_quiesce_daemon(s->mhd);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	stop_workers(s);
	MHD_stop_daemon(s->mhd);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	for (size_t i = 0; i < DRAINING_MAX; i++)
		if (s->draining[i])
			MHD_stop_daemon(s->draining[i]);
	spn_pki_peers_free(s->peers);
	if (s->root)
		gnutls_x509_crt_deinit(s->root);
	free(s);
}
