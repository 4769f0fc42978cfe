/* HTTP(S) server on libmicrohttpd: routing, strict framing, bounded bodies,
 * JSON errors, client certificate identity. */
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
#include "http_fwd.h"
#include "http_count.h"
#include "http_guard.h"
#include "http_sig.h"
#include "clock.h"
#include "loop.h"
#include <sys/epoll.h>
#include "log.h"
#include "mem.h"
#include "pki_cert.h"
#include "tls_priority.h"

#define DEFAULT_MAX_BODY (64 * 1024)
/* Above the guard's own ceiling: connections it has shut still count in
 * libmicrohttpd until their next turn. */
#define MHD_LIMIT_SLACK 64

#define LOOPS_MAX 64

typedef struct lp lp_t;

/* One libmicrohttpd daemon on one loop: the loop's listener for the
 * current certificate, or an earlier one finishing its connections. */
typedef struct dmn {
	lp_t *lp;
	struct MHD_Daemon *d;
	spn_loop_watch_t *w;
	int64_t until;          /* draining: stopped at this time at the latest */
	size_t suspended;       /* connections waiting on a handler */
	struct dmn *next;       /* draining: the next earlier listener */
} dmn_t;

/* A thread with its event loop: its daemons accept on the shared port
 * (SO_REUSEPORT), and its forwarder carries its requests to other nodes. */
struct lp {
	spn_http_server_t *s;
	spn_loop_t *loop;
	spn_http_fwd_t *fwd;    /* NULL once stopping */
	pthread_t thread;
	bool started;
	dmn_t *cur;
	dmn_t *draining;        /* earlier certificates' listeners, finishing */
	bool kick;              /* a connection was resumed: run the daemons now */
	spn_http_guard_conns_t *conns;
	int64_t sweep_at;       /* when the connections' deadlines are next looked at; 0: none */
};

/* Work that blocks (the ledger, plugins, other nodes' answers awaited in
 * turn) runs on the worker threads, never on a loop. */
typedef struct task {
	spn_http_req_t *req;            /* an async route's request, or NULL */
	spn_http_work_fn work;          /* else this, then done on loop */
	spn_loop_fn done;
	void *ctx;
	spn_loop_t *loop;
	struct task *next;
} task_t;

struct spn_http_server {
	lp_t lps[LOOPS_MAX];
	size_t n_lps;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	task_t *head, *tail;
	size_t queued;
	bool stopping;
	pthread_t *workers;
	size_t n_workers;
	/* cfg's certificate and key change with spn_http_set_identity (on the
	 * renewing thread alone); whether the server speaks TLS never does,
	 * and is what the loops read. */
	spn_http_config_t cfg;
	bool tls;
	gnutls_x509_crt_t root;
	spn_pki_peers_t *peers; /* client certificates verified before */
	spn_http_guard_t *guard;
	spn_http_count_t *count; /* the answers given, by route and status */
	uint16_t port;
};

struct spn_http_req {
	spn_http_server_t *server;
	dmn_t *dmn;
	struct MHD_Connection *conn;
	spn_http_guard_conn_t *gc;
	const spn_http_route_t *route;
	const char *method, *path;
	char *body;
	size_t len, cap, max, dropped;
	size_t held;            /* body memory the guard granted */
	size_t declared;        /* Content-Length, or 0 for a chunked body */
	bool answered;          /* refused half-way: the answer is out, the rest is read and dropped */
	enum { REQ_READING, REQ_QUEUED, REQ_STAGED, REQ_DONE } state;
	bool in_handler, deferred, suspended;
	spn_http_resp_t resp;
	task_t task;
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
	case SPN_ESTANDBY:
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
	unsigned n = 0;
	int rc;

	if (!r->server->root)
		return spn_err(SPN_EDENIED, "this endpoint needs a group member, and this server knows no group root");
	if (r->server->tls) {
		ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (!ci || !ci->tls_session || !(chain = gnutls_certificate_get_peers(ci->tls_session, &n)) || n == 0)
			return spn_err(SPN_EDENIED, "this endpoint needs a client certificate from the group");
		if ((rc = spn_pki_peers_get(r->server->peers, &chain[0], peer)))
			return spn_err(SPN_EDENIED, "client certificate refused: %s", spn_err_detail(rc));
		return 0;
	}
	/* Plain HTTP (development): the request is signed instead. */
	if ((rc = spn_http_sig_verify_peer(r->server->peers,
					   MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Spn-Cert"),
					   MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Spn-Time"),
					   MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Spn-Signature"),
					   r->method, r->path, r->body, r->len, peer)))
		return rc;
	return 0;
}

int spn_http_req_source(spn_http_req_t *r, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	char text[INET6_ADDRSTRLEN];

	if (sa && sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof(text))) {
		snprintf(out, cap, "%s", text);
		return 0;
	}
	if (sa && sa->sa_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
		/* One host, one /64: what a network hands a site. */
		memset(a.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &a, text, sizeof(text))) {
			snprintf(out, cap, "%s/64", text);
			return 0;
		}
	}
	return spn_err(SPN_EINVAL, "the connection has no IP address");
}

/* The guard's question, answered as spn_http_req_peer would: from the
 * certificates this server verified before, so that a connection's proof
 * is checked once, the same way, for the guard and the routes. */
static bool proven(void *tls, void *user)
{
	spn_http_server_t *s = user;
	const gnutls_datum_t *chain;
	spn_pki_peer_t peer;
	unsigned n = 0;

	return s->peers && (chain = gnutls_certificate_get_peers(tls, &n)) && n > 0 &&
	       spn_pki_peers_get(s->peers, &chain[0], &peer) == 0;
}

/* Bodies are NUL-terminated text (spn_http_text, the client's answers). */
static void free_wiped(void *p)
{
	spn_free_secret_str(p);
}

static void count(spn_http_server_t *s, const spn_http_route_t *rt, unsigned status)
{
	spn_http_count_add(s->count, rt ? (size_t)(rt - s->cfg.routes) : s->cfg.n_routes, status);
}

/* rt: the route answered, NULL when the request matched none. */
static enum MHD_Result queue(spn_http_server_t *s, const spn_http_route_t *rt, struct MHD_Connection *conn,
			     spn_http_resp_t *resp)
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
	count(s, rt, resp->status);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : "text/plain");
	/* Every answer is what its type says, and a page (the live view) runs
	 * only what this server sends as files of their own: no inline
	 * script, nothing from elsewhere, not in anyone's frame. */
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_error(spn_http_server_t *s, const spn_http_route_t *rt, struct MHD_Connection *conn,
				     unsigned status, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static enum MHD_Result answer_error(spn_http_server_t *s, const spn_http_route_t *rt, struct MHD_Connection *conn,
				     unsigned status, const char *name, const char *fmt, ...)
{
	spn_http_resp_t resp = {0};
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_status(&resp, status, name, msg);
	return queue(s, rt, conn, &resp);
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

/* From the loop's thread: the connection waits, counted so that its
 * daemon is not stopped under it. */
static void suspend(spn_http_req_t *req)
{
	req->suspended = true;
	req->dmn->suspended++;
	MHD_suspend_connection(req->conn);
}

static enum MHD_Result answer_done(spn_http_req_t *req)
{
	if (req->suspended) {
		req->suspended = false;
		req->dmn->suspended--;
	}
	spn_log_debug("%s %s -> %u", req->method, req->path, req->resp.status);
	return queue(req->server, req->route, req->conn, &req->resp);
}

static void push_task(spn_http_server_t *s, task_t *t)
{
	t->next = NULL;
	if (s->tail)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
	s->queued++;
	pthread_cond_signal(&s->qcond);
}

/* The route's handler, unless the gate answers for it. */
static void handle(spn_http_server_t *s, spn_http_req_t *req, spn_http_resp_t *resp)
{
	if (!s->cfg.gate || s->cfg.gate(req->route, resp, s->cfg.user))
		req->route->fn(req, resp, s->cfg.user);
}

/* A staged handler answers at once, or defers and answers from its loop. */
static enum MHD_Result run_staged(spn_http_req_t *req)
{
	req->state = REQ_STAGED;
	req->in_handler = true;
	spn_err_clear();
	handle(req->server, req, &req->resp);
	req->in_handler = false;
	if (!req->deferred || req->state == REQ_DONE) {
		if (!req->resp.status)
			spn_http_error(&req->resp, SPN_EIO, "the handler gave no answer");
		req->state = REQ_DONE;
		return answer_done(req);
	}
	suspend(req);
	return MHD_YES;
}

void spn_http_defer(spn_http_req_t *req)
{
	req->deferred = true;
}

/* On the loop: MHD_run is not called from here (this may be inside it),
 * the loop runs the daemons before it waits again. */
static void resume(spn_http_req_t *req)
{
	MHD_resume_connection(req->conn);
	req->dmn->lp->kick = true;
}

void spn_http_done(spn_http_req_t *req)
{
	req->state = REQ_DONE;
	if (!req->resp.status)
		spn_http_error(&req->resp, SPN_EIO, "the handler gave no answer");
	if (!req->in_handler)
		resume(req);
}

spn_http_resp_t *spn_http_req_resp(spn_http_req_t *req)
{
	return &req->resp;
}

spn_http_fwd_t *spn_http_req_fwd(spn_http_req_t *req)
{
	return req->dmn->lp->fwd;
}

int spn_http_offload(spn_http_req_t *req, spn_http_work_fn work, spn_loop_fn done, void *ctx)
{
	spn_http_server_t *s = req->server;
	task_t *t = calloc(1, sizeof(*t));
	int rc = 0;

	if (!t)
		return SPN_ENOMEM;
	t->work = work;
	t->done = done;
	t->ctx = ctx;
	t->loop = req->dmn->lp->loop;
	pthread_mutex_lock(&s->qlock);
	if (s->stopping)
		rc = spn_err(SPN_EBUSY, "the node is stopping");
	else if (s->queued >= QUEUE_MAX)
		rc = spn_err(SPN_EBUSY, "%zu requests are waiting; try again", (size_t)QUEUE_MAX);
	else
		push_task(s, t);
	pthread_mutex_unlock(&s->qlock);
	if (rc)
		free(t);
	return rc;
}

static spn_http_guard_conn_t *guard_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* libmicrohttpd queues an answer only before a body is read or once all
 * of it is in; a body refused half-way is answered here, on the
 * connection itself, which stops sending after it (Connection: close).
 * What the client still sends is read and dropped so that it gets to read
 * the answer rather than a reset. */
static void answer_now(spn_http_req_t *req, unsigned status, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void answer_now(spn_http_req_t *req, unsigned status, const char *name, const char *fmt, ...)
{
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *tls =
		req->server->tls ? MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
	spn_http_resp_t resp = {0};
	char msg[256], head[256], *out;
	int n;
	va_list ap;

	req->answered = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_status(&resp, status, name, msg);
	count(req->server, req->route, status);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, MHD_get_reason_phrase_for(status), resp.len);
	spn_log_debug("%s %s -> %u (while its body came)", req->method, req->path, status);
	if (fd && n > 0 && (size_t)n < sizeof(head) && (out = malloc((size_t)n + resp.len))) {
		/* The connection has sent nothing yet on this request: the
		 * socket's buffer takes a few hundred bytes at once. */
		memcpy(out, head, (size_t)n);
		memcpy(out + n, resp.body, resp.len);
		if (tls && tls->tls_session) {
			gnutls_record_send(tls->tls_session, out, (size_t)n + resp.len);
			gnutls_bye(tls->tls_session, GNUTLS_SHUT_WR);
		} else {
			send(fd->connect_fd, out, (size_t)n + resp.len, MSG_NOSIGNAL);
		}
		shutdown(fd->connect_fd, SHUT_WR);
		free(out);
	}
	free(resp.body);
}

/* A body's bytes, kept up to the route's limit in memory the guard grants:
 * past the limit 413, past the memory 503, answered at once. */
static void store(spn_http_req_t *req, const char *data, size_t n)
{
	size_t need = req->len + n + 1, limit = req->max + 1, cap;

	if (req->len + n > req->max) {
		answer_now(req, 413, "too_big", "request body larger than %zu bytes", req->max);
		return;
	}
	if (need > req->cap) {
		char *bigger;
		if (req->declared && req->declared + 1 < limit)
			limit = req->declared + 1;
		cap = req->declared || need * 2 > limit ? limit : need * 2;
		if (cap < need)
			cap = need;
		if (cap > req->held) {
			if (spn_http_guard_hold(req->gc, cap - req->held)) {
				answer_now(req, 503, "busy", "%s", spn_err_detail(SPN_EBUSY));
				return;
			}
			req->held = cap;
		}
		if (!(bigger = realloc(req->body, cap))) {
			answer_now(req, 503, "busy", "out of memory for the request body");
			return;
		}
		req->body = bigger;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	req->body[req->len] = '\0';
}

typedef struct {
	unsigned lengths, encodings;
	bool chunked;
} framing_t;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	framing_t *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		f->chunked = value && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* A node passes requests on to the next: were the first and the next to
 * read one request's length differently (two lengths, or a length and a
 * chunked body), the rest would be read as another request by one of
 * them. Only one way of saying it is accepted. */
static const char *framing_error(struct MHD_Connection *conn)
{
	framing_t f = {0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.lengths > 1)
		return "Content-Length given more than once";
	if (f.lengths && f.encodings)
		return "both Content-Length and Transfer-Encoding given";
	if (f.encodings > 1 || (f.encodings && !f.chunked))
		return "the only Transfer-Encoding accepted is chunked, once";
	return NULL;
}

/* Case and spaces as HTTP allows them. */
static const char *skip_ows(const char *p)
{
	return p + strspn(p, " \t");
}

/* application/json, alone or with charset=utf-8: the one type every reader
 * here expects. */
static bool is_json(const char *type)
{
	const char *p;

	if (!type || strncasecmp((p = skip_ows(type)), "application/json", 16) != 0)
		return false;
	p = skip_ows(p + 16);
	if (*p == '\0')
		return true;
	if (*p != ';' || strncasecmp((p = skip_ows(p + 1)), "charset", 7) != 0)
		return false;
	if (*(p = skip_ows(p + 7)) != '=')
		return false;
	p = skip_ows(p + 1);
	if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else
		return false;
	return *skip_ows(p) == '\0';
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/* libmicrohttpd's own unescaping, except that a %00 stays visible: the
 * path is a C string to everything after, and "/v1/certs%00..." would be
 * read as "/v1/certs". It becomes DEL, refused with every other control
 * character. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	size_t n = MHD_http_unescape(s);

	(void)cls;
	(void)conn;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = 0x7f;
	return n;
}

/* The headers are in, the body not yet read: what can be refused from
 * them is, here. */
static enum MHD_Result on_headers(dmn_t *dm, struct MHD_Connection *conn, const char *url, const char *method,
				  void **ctx)
{
	spn_http_server_t *s = dm->lp->s;
	spn_http_guard_conn_t *gc = guard_of(conn);
	const spn_http_route_t *rt;
	spn_http_req_t *req;
	const char *cl, *why;
	unsigned long long length = 0;
	bool known, body;
	size_t max;

	spn_http_guard_headers(gc);
	if (has_control(url))
		return answer_error(s, NULL, conn, 400, "invalid", "the path holds a control character");
	if ((why = framing_error(conn)))
		return answer_error(s, NULL, conn, 400, "invalid", "%s", why);
	if (!(rt = find_route(s, method, url, &known)))
		return known ? answer_error(s, NULL, conn, 405, "method_not_allowed", "%s is not allowed on %.100s", method,
					    url)
			     : answer_error(s, NULL, conn, 404, "not_found", "no such endpoint: %.100s", url);
	max = rt->max_body ? rt->max_body : s->cfg.max_body ? s->cfg.max_body : DEFAULT_MAX_BODY;
	if ((cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH)))
		length = strtoull(cl, NULL, 10);
	body = length > 0 || MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (strcmp(method, "GET") == 0 && body)
		return answer_error(s, rt, conn, 413, "too_big", "a GET request carries no body");
	if (body && !is_json(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return answer_error(s, rt, conn, 415, "unsupported_media_type",
				    "a request body is JSON: Content-Type: application/json");
	/* A body far larger than the limit is refused at once, at the cost of
	 * a reset the client may see; one a little too large is answered as
	 * soon as it passes the limit, and the rest read and dropped so that
	 * the client gets to read the 413. */
	if (length > 8 * (unsigned long long)max)
		return answer_error(s, rt, conn, 413, "too_big", "request body larger than %zu bytes", max);
	if (!(req = calloc(1, sizeof(*req))))
		return MHD_NO;
	req->server = s;
	req->dmn = dm;
	req->conn = conn;
	req->gc = gc;
	req->route = rt;
	req->method = method;
	req->path = url;
	req->max = max;
	req->declared = (size_t)length;
	/* The memory of a body of known length is granted before it is read. */
	if (length > 0 && length <= max) {
		if (spn_http_guard_hold(gc, (size_t)length + 1)) {
			free(req);
			return answer_error(s, rt, conn, 503, "busy", "%s", spn_err_detail(SPN_EBUSY));
		}
		req->held = (size_t)length + 1;
	}
	*ctx = req;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
	dmn_t *dm = cls;
	spn_http_server_t *s = dm->lp->s;
	spn_http_req_t *req = *ctx;
	spn_http_resp_t resp = {0};

	(void)version;
	if (!req)
		return on_headers(dm, conn, url, method, ctx);
	if (*upload_size) {
		spn_http_guard_received(req->gc, *upload_size);
		if (!req->answered)
			store(req, upload, *upload_size);
		else if ((req->dropped += *upload_size) > 8 * req->max)
			/* A sender that goes on far past the limit is cut off. */
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	/* Answered already: nothing more to send, the connection ends. */
	if (req->answered)
		return MHD_NO;
	spn_http_guard_body_done(req->gc);
	if (req->state == REQ_DONE)
		return answer_done(req);
	if (req->state != REQ_READING)
		return MHD_YES;
	if (req->route->staged)
		return run_staged(req);
	if (req->route->async) {
		bool busy;
		pthread_mutex_lock(&s->qlock);
		busy = s->stopping || s->queued >= QUEUE_MAX;
		if (!busy) {
			/* Suspended before a worker can resume it. */
			req->state = REQ_QUEUED;
			req->task.req = req;
			req->task.loop = dm->lp->loop;
			suspend(req);
			push_task(s, &req->task);
		}
		pthread_mutex_unlock(&s->qlock);
		if (busy)
			return answer_error(s, req->route, conn, 503, "busy", "%zu requests are waiting; try again",
					    (size_t)QUEUE_MAX);
		return MHD_YES;
	}
	spn_err_clear();
	handle(s, req, &resp);
	if (!resp.status)
		spn_http_error(&resp, SPN_EIO, "the handler gave no answer");
	spn_log_debug("%s %s -> %u", method, url, resp.status);
	return queue(s, req->route, conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx, enum MHD_RequestTerminationCode toe)
{
	spn_http_req_t *req = *ctx;
	spn_http_guard_conn_t *gc = guard_of(conn);

	(void)cls;
	(void)toe;
	spn_http_guard_answered(gc);
	if (req) {
		spn_http_guard_release(gc, req->held);
		free(req->resp.body);
		free(req->body);
		free(req);
		*ctx = NULL;
	}
}

/* An async route's answer: its connection is resumed on its own loop. */
static void async_done(void *ctx)
{
	resume(ctx);
}

static void *async_worker(void *arg)
{
	spn_http_server_t *s = arg;
	bool stopping;

	pthread_mutex_lock(&s->qlock);
	for (;;) {
		task_t *t;
		while (!s->head && !s->stopping)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (!(t = s->head))
			break;
		s->head = t->next;
		if (!s->head)
			s->tail = NULL;
		s->queued--;
		stopping = s->stopping;
		pthread_mutex_unlock(&s->qlock);
		spn_err_clear();
		if (t->req) {
			spn_http_req_t *req = t->req;
			if (stopping)
				spn_http_error(&req->resp, SPN_EBUSY, "the node is stopping");
			else
				handle(s, req, &req->resp);
			if (!req->resp.status)
				spn_http_error(&req->resp, SPN_EIO, "the handler gave no answer");
			req->state = REQ_DONE;
			spn_loop_post(t->loop, async_done, req);
		} else {
			t->work(t->ctx, stopping);
			spn_loop_post(t->loop, t->done, t->ctx);
			free(t);
		}
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

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* The listening socket is shared (SO_REUSEPORT) by the loops and so that a
 * renewed certificate can take over without a gap; a plain bind first
 * makes sure no other process holds the port. */
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

/* MHD's own deadlines (idle connections) for all the loop's daemons, and
 * the guard's. */
static int64_t mhd_next(void *ctx)
{
	lp_t *lp = ctx;
	int64_t soonest = lp->kick ? 0 : -1;

	MHD_UNSIGNED_LONG_LONG t;

	if (lp->sweep_at) {
		int64_t in = lp->sweep_at - spn_clock_mono_ms();
		soonest = soonest == 0 ? 0 : in < 0 ? 0 : in;
	}
	if (lp->cur && MHD_get_timeout(lp->cur->d, &t) == MHD_YES && (soonest < 0 || (int64_t)t < soonest))
		soonest = (int64_t)t;
	/* A draining listener is looked at every second: is it done? */
	if (lp->draining && (soonest < 0 || soonest > 1000))
		soonest = 1000;
	return soonest;
}

static void dmn_stop(dmn_t *dm)
{
	/* MHD refuses to stop with a connection suspended: the resumed ones
	 * are let through first. */
	for (int i = 0; i < 16 && dm->suspended; i++)
		MHD_run(dm->d);
	spn_loop_unwatch(dm->lp->loop, dm->w);
	MHD_stop_daemon(dm->d);
	free(dm);
}

static void mhd_due(void *ctx)
{
	lp_t *lp = ctx;
	int64_t now = spn_clock_mono_ms();

	lp->kick = false;
	if (lp->sweep_at && now >= lp->sweep_at) {
		int64_t next = spn_http_guard_sweep(lp->conns);
		lp->sweep_at = next < 0 ? 0 : now + next;
	}
	if (lp->cur)
		MHD_run(lp->cur->d);
	for (dmn_t **p = &lp->draining; *p;) {
		dmn_t *dm = *p;
		const union MHD_DaemonInfo *info;
		MHD_run(dm->d);
		info = MHD_get_daemon_info(dm->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		/* Never under a handler still waiting: MHD cannot stop then. */
		if (dm->suspended == 0 && ((info && info->num_connections == 0) || now >= dm->until)) {
			*p = dm->next;
			dmn_stop(dm);
		} else {
			p = &dm->next;
		}
	}
}

/* Every connection is counted and timed by the guard from its accept to
 * its close; one it refuses is shut at once and closed by MHD. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	dmn_t *dm = cls;
	lp_t *lp = dm->lp;
	const union MHD_ConnectionInfo *fd, *addr, *tls;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		spn_http_guard_close(*socket_context);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	tls = lp->s->tls ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
	if (!fd)
		return;
	*socket_context = spn_http_guard_open(lp->conns, addr ? addr->client_addr : NULL, fd->connect_fd,
					      tls ? tls->tls_session : NULL);
	if (!lp->sweep_at)
		lp->sweep_at = spn_clock_mono_ms();
}

static void on_mhd_event(void *ctx, uint32_t events)
{
	dmn_t *dm = ctx;

	(void)events;
	MHD_run(dm->d);
}

/* The loop's epoll set watches the daemon's: from the loop's thread, or
 * before it runs. */
static int dmn_watch(dmn_t *dm)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(dm->d, MHD_DAEMON_INFO_EPOLL_FD);

	if (!info)
		return spn_err(SPN_EIO, "the HTTP server has no epoll set");
	return spn_loop_watch(dm->lp->loop, info->epoll_fd, EPOLLIN, on_mhd_event, dm, &dm->w);
}

static void dmn_discard(dmn_t *dm)
{
	MHD_stop_daemon(dm->d);
	free(dm);
}

/* A daemon on the shared port; watched by the loop once it adopts it. */
static dmn_t *start_mhd(lp_t *lp, struct sockaddr_storage *ss)
{
	spn_http_server_t *s = lp->s;
	const spn_http_config_t *cfg = &s->cfg;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem tls[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->cert_pem},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->key_pem},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)SPN_TLS_PRIORITIES},
		{cfg->trust_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, (void *)cfg->trust_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	dmn_t *dm = calloc(1, sizeof(*dm));

	if (!dm)
		return NULL;
	dm->lp = lp;
	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->cert_pem)
		flags |= MHD_USE_TLS;
	/* The logger first, so that MHD never prints on its own. */
	dm->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, dm,
				 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
				 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				 MHD_OPTION_NOTIFY_CONNECTION, on_connection, dm,
				 MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)((cfg->limits.idle_ms + 999) / 1000),
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(cfg->limits.max_connections + MHD_LIMIT_SLACK),
				 MHD_OPTION_ARRAY, cfg->cert_pem ? tls : &tls[4],
				 MHD_OPTION_END);
	if (!dm->d) {
		free(dm);
		return NULL;
	}
	return dm;
}

static void *loop_main(void *arg)
{
	lp_t *lp = arg;

	spn_loop_run(lp->loop);
	return NULL;
}

static void lp_clear(lp_t *lp)
{
	if (lp->cur)
		dmn_stop(lp->cur);
	while (lp->draining) {
		dmn_t *dm = lp->draining;
		lp->draining = dm->next;
		dmn_stop(dm);
	}
	spn_http_guard_conns_free(lp->conns);
	spn_http_fwd_free(lp->fwd);
	spn_loop_free(lp->loop);
	memset(lp, 0, sizeof(*lp));
}

static void server_free(spn_http_server_t *s)
{
	for (size_t i = 0; i < s->n_lps; i++)
		lp_clear(&s->lps[i]);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	spn_pki_peers_free(s->peers);
	spn_http_guard_free(s->guard);
	spn_http_count_free(s->count);
	if (s->root)
		gnutls_x509_crt_deinit(s->root);
	free(s);
}

/* Each loop: its daemon on the shared port, its forwarder, its thread. */
static int start_loops(spn_http_server_t *s, struct sockaddr_storage *ss)
{
	size_t n = s->cfg.threads ? s->cfg.threads : 2;
	int rc;

	if (n > LOOPS_MAX)
		n = LOOPS_MAX;
	for (s->n_lps = 0; s->n_lps < n; s->n_lps++) {
		lp_t *lp = &s->lps[s->n_lps];
		spn_loop_timer_t t = {mhd_next, mhd_due, lp};
		lp->s = s;
		if ((rc = spn_loop_new(&lp->loop)) || (rc = spn_http_fwd_new(lp->loop, &lp->fwd)) ||
		    (rc = spn_http_guard_conns_new(s->guard, &lp->conns)) || (rc = spn_loop_add_timer(lp->loop, &t))) {
			s->n_lps++;
			return rc;
		}
		if (!(lp->cur = start_mhd(lp, ss)) || dmn_watch(lp->cur)) {
			if (lp->cur)
				dmn_discard(lp->cur);
			lp->cur = NULL;
			s->n_lps++;
			return spn_err(SPN_EIO, "cannot listen on %s port %u (in use, or a bad certificate or key)",
				       s->cfg.address, (unsigned)s->cfg.port);
		}
		if (s->n_lps == 0) {
			/* Port 0: the others listen where the first was put. */
			const union MHD_DaemonInfo *info = MHD_get_daemon_info(lp->cur->d, MHD_DAEMON_INFO_BIND_PORT);
			s->port = info && info->port ? info->port : s->cfg.port;
			set_port(ss, s->port);
		}
	}
	for (size_t i = 0; i < s->n_lps; i++) {
		if (pthread_create(&s->lps[i].thread, NULL, loop_main, &s->lps[i]) != 0)
			return spn_err(SPN_ENOMEM, "cannot start the server's threads");
		s->lps[i].started = true;
	}
	return 0;
}

static void stop_loops(spn_http_server_t *s);

int spn_http_start(const spn_http_config_t *cfg, spn_http_server_t **out)
{
	spn_http_server_t *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	socklen_t sslen;
	int rc;

	if (!s)
		return SPN_ENOMEM;
	s->cfg = *cfg;
	spn_http_limits_fill(&s->cfg.limits);
	s->tls = cfg->cert_pem != NULL;
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	if ((rc = sock_addr(cfg->address, cfg->port, &ss, &sslen)) || (cfg->port && (rc = port_free(&ss, sslen)))) {
		server_free(s);
		return cfg->port ? spn_err(rc, "%s port %u: %s", cfg->address, (unsigned)cfg->port, spn_err_detail(rc))
				 : rc;
	}
	if (cfg->trust_pem && ((rc = spn_pki_cert_import(cfg->trust_pem, strlen(cfg->trust_pem), &s->root)) ||
			       (rc = spn_pki_peers_new(s->root, &s->peers)))) {
		server_free(s);
		return rc;
	}
	if ((rc = spn_http_count_new(cfg->n_routes, &s->count)) ||
	    (rc = spn_http_guard_new(&s->cfg.limits, proven, s, &s->guard)) ||
	    (rc = start_workers(s))) {
		server_free(s);
		return rc;
	}
	if ((rc = start_loops(s, &ss))) {
		stop_workers(s);
		stop_loops(s);
		server_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

typedef struct {
	lp_t *lp;
	dmn_t *fresh;
} adopt_t;

/* On the loop: the new listener serves, the old one stops accepting and
 * finishes its connections. */
static void adopt(void *ctx)
{
	adopt_t *a = ctx;
	lp_t *lp = a->lp;
	dmn_t *old = lp->cur;
	MHD_socket fd;

	if (dmn_watch(a->fresh)) {
		/* This loop keeps the old listener. */
		dmn_discard(a->fresh);
		free(a);
		return;
	}
	fd = MHD_quiesce_daemon(old->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	lp->cur = a->fresh;
	old->until = spn_clock_mono_ms() + 60000;
	old->next = lp->draining;
	lp->draining = old;
	free(a);
}

int spn_http_set_identity(spn_http_server_t *s, const char *cert_pem, const char *key_pem)
{
	struct sockaddr_storage ss;
	dmn_t *fresh[LOOPS_MAX];
	const char *old_cert = s->cfg.cert_pem, *old_key = s->cfg.key_pem;
	socklen_t sslen;
	int rc;

	if (!s->tls)
		return spn_err(SPN_ESTATE, "this server does not use TLS");
	if ((rc = sock_addr(s->cfg.address, s->port, &ss, &sslen)))
		return rc;
	s->cfg.cert_pem = cert_pem;
	s->cfg.key_pem = key_pem;
	for (size_t i = 0; i < s->n_lps; i++) {
		if ((fresh[i] = start_mhd(&s->lps[i], &ss)))
			continue;
		/* Not yet watched by any loop: stopped from here. */
		while (i-- > 0)
			dmn_discard(fresh[i]);
		s->cfg.cert_pem = old_cert;
		s->cfg.key_pem = old_key;
		return spn_err(SPN_EIO, "cannot listen again on port %u with the new certificate", (unsigned)s->port);
	}
	for (size_t i = 0; i < s->n_lps; i++) {
		adopt_t *a = malloc(sizeof(*a));
		if (a) {
			a->lp = &s->lps[i];
			a->fresh = fresh[i];
		}
		if (!a || spn_loop_post(s->lps[i].loop, adopt, a)) {
			/* This loop keeps the old listener. */
			free(a);
			dmn_discard(fresh[i]);
		}
	}
	return 0;
}

typedef struct {
	const spn_http_server_t *s;
	spn_http_answers_fn fn;
	void *user;
} answers_t;

static void each_answer(size_t route, unsigned status, uint64_t n, void *user)
{
	answers_t *a = user;

	a->fn(route < a->s->cfg.n_routes ? &a->s->cfg.routes[route] : NULL, status, n, a->user);
}

void spn_http_answers(const spn_http_server_t *s, spn_http_answers_fn fn, void *user)
{
	answers_t a = {s, fn, user};

	spn_http_count_each(s->count, each_answer, &a);
}

uint16_t spn_http_port(const spn_http_server_t *s)
{
	return s->port;
}

static void quiesce(void *ctx)
{
	lp_t *lp = ctx;
	MHD_socket fd = lp->cur ? MHD_quiesce_daemon(lp->cur->d) : MHD_INVALID_SOCKET;

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

/* On the loop, last: transfers still running end as busy and their
 * connections are answered; then the loop returns. */
static void wind_down(void *ctx)
{
	lp_t *lp = ctx;
	spn_http_fwd_t *f = lp->fwd;

	lp->fwd = NULL;
	spn_http_fwd_free(f);
	if (lp->cur)
		MHD_run(lp->cur->d);
	spn_loop_quit(lp->loop);
}

static void stop_loops(spn_http_server_t *s)
{
	for (size_t i = 0; i < s->n_lps; i++)
		if (s->lps[i].started)
			spn_loop_post(s->lps[i].loop, wind_down, &s->lps[i]);
	for (size_t i = 0; i < s->n_lps; i++)
		if (s->lps[i].started) {
			pthread_join(s->lps[i].thread, NULL);
			s->lps[i].started = false;
		}
}

void spn_http_stop(spn_http_server_t *s)
{
	if (!s)
		return;
	/* No new connections; what is queued and in flight is answered. */
	for (size_t i = 0; i < s->n_lps; i++)
		if (s->lps[i].started)
			spn_loop_post(s->lps[i].loop, quiesce, &s->lps[i]);
	stop_workers(s);
	stop_loops(s);
	server_free(s);
}
