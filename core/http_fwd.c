/* The forwarder: one libcurl multi handle per event loop, its sockets in
 * the loop's epoll set and its timer among the loop's deadlines. A multi
 * handle keeps the connections of the transfers it ran, so requests to
 * the same next hop reuse one kept-alive TLS connection. When the node's
 * certificate changes, a fresh multi handle takes new transfers and the
 * old one is freed once its last transfer is done. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "clock.h"
#include "error.h"
#include "http_client_internal.h"
#include "http_fwd.h"
#include "log.h"

#define IDLE_MAX 64
#define CONNS_MAX 512L

typedef struct multi multi_t;

typedef struct xfer {
	spn_http_xfer_t x;
	CURL *h;
	multi_t *m;
	struct xfer *prev, *next;
	char *url;
	spn_http_fwd_done_fn done;
	void *ctx;
} xfer_t;

struct multi {
	spn_http_fwd_t *f;
	CURLM *cm;
	spn_http_client_t *client;
	unsigned gen;
	size_t running;
	struct xfer *xfers;
	int64_t due_at;   /* the multi handle's timer, monotonic ms; -1 none */
	multi_t *next;    /* retired ones, finishing */
};

struct spn_http_fwd {
	spn_loop_t *loop;
	multi_t *cur, *retired;
	CURL *idle[IDLE_MAX];
	size_t n_idle, running;
};

typedef struct {
	spn_loop_watch_t *w;
	multi_t *m;
	curl_socket_t fd;
} sock_t;

static void finish(xfer_t *t, CURLcode cc);

static void drain(multi_t *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->cm, &left))) {
		xfer_t *t = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		if (t)
			finish(t, msg->data.result);
	}
}

static void on_sock_event(void *ctx, uint32_t events)
{
	sock_t *s = ctx;
	multi_t *m = s->m;
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(m->cm, s->fd, flags, &running);
	drain(m);
}

static int on_socket(CURL *h, curl_socket_t fd, int what, void *user, void *sockp)
{
	multi_t *m = user;
	sock_t *s = sockp;
	uint32_t ev = (what == CURL_POLL_IN ? EPOLLIN : what == CURL_POLL_OUT ? EPOLLOUT : EPOLLIN | EPOLLOUT);

	(void)h;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			spn_loop_unwatch(m->f->loop, s->w);
			curl_multi_assign(m->cm, fd, NULL);
			free(s);
		}
		return 0;
	}
	if (s)
		return spn_loop_rewatch(m->f->loop, s->w, ev) ? -1 : 0;
	if (!(s = calloc(1, sizeof(*s))))
		return -1;
	s->m = m;
	s->fd = fd;
	if (spn_loop_watch(m->f->loop, fd, ev, on_sock_event, s, &s->w)) {
		free(s);
		return -1;
	}
	curl_multi_assign(m->cm, fd, s);
	return 0;
}

static int on_timer(CURLM *cm, long ms, void *user)
{
	multi_t *m = user;

	(void)cm;
	m->due_at = ms < 0 ? -1 : spn_clock_mono_ms() + ms;
	return 0;
}

static int64_t timer_next(void *ctx)
{
	multi_t *m = ctx;
	int64_t now;

	if (m->due_at < 0)
		return -1;
	now = spn_clock_mono_ms();
	return m->due_at > now ? m->due_at - now : 0;
}

static void timer_due(void *ctx)
{
	multi_t *m = ctx;
	int running;

	if (m->due_at < 0 || m->due_at > spn_clock_mono_ms())
		return;
	m->due_at = -1;
	curl_multi_socket_action(m->cm, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(m);
}

static multi_t *multi_new(spn_http_fwd_t *f, spn_http_client_t *c)
{
	multi_t *m = calloc(1, sizeof(*m));
	spn_loop_timer_t t = {timer_next, timer_due, NULL};

	if (!m || !(m->cm = curl_multi_init())) {
		free(m);
		return NULL;
	}
	m->f = f;
	m->client = c;
	m->gen = spn_http_client_gen(c);
	m->due_at = -1;
	t.ctx = m;
	curl_multi_setopt(m->cm, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m->cm, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->cm, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(m->cm, CURLMOPT_TIMERDATA, m);
	/* Kept connections are the point: by default libcurl keeps four per
	 * transfer running at the moment one ends, and closes the rest,
	 * so a burst of requests would be followed by handshakes. */
	curl_multi_setopt(m->cm, CURLMOPT_MAXCONNECTS, (long)CONNS_MAX);
	if (spn_loop_add_timer(f->loop, &t)) {
		curl_multi_cleanup(m->cm);
		free(m);
		return NULL;
	}
	return m;
}

static void multi_free(multi_t *m)
{
	spn_loop_remove_timer(m->f->loop, m);
	curl_multi_cleanup(m->cm);
	free(m);
}

/* A retired multi handle whose last transfer is done goes, and with it the
 * connections made with the old certificate. */
static void reap(spn_http_fwd_t *f)
{
	for (multi_t **p = &f->retired; *p;) {
		multi_t *m = *p;
		if (m->running) {
			p = &m->next;
			continue;
		}
		*p = m->next;
		multi_free(m);
	}
}

int spn_http_fwd_new(spn_loop_t *l, spn_http_fwd_t **out)
{
	spn_http_fwd_t *f = calloc(1, sizeof(*f));

	if (!f)
		return SPN_ENOMEM;
	f->loop = l;
	*out = f;
	return 0;
}

static void abort_all(multi_t *m)
{
	/* finish() takes each transfer out of m. */
	while (m->xfers)
		finish(m->xfers, CURLE_ABORTED_BY_CALLBACK);
}

void spn_http_fwd_free(spn_http_fwd_t *f)
{
	if (!f)
		return;
	if (f->cur) {
		abort_all(f->cur);
		multi_free(f->cur);
	}
	while (f->retired) {
		multi_t *m = f->retired;
		f->retired = m->next;
		abort_all(m);
		multi_free(m);
	}
	for (size_t i = 0; i < f->n_idle; i++)
		curl_easy_cleanup(f->idle[i]);
	free(f);
}

size_t spn_http_fwd_running(const spn_http_fwd_t *f)
{
	return f->running;
}

static void finish(xfer_t *t, CURLcode cc)
{
	multi_t *m = t->m;
	spn_http_fwd_t *f = m->f;
	char *body = NULL;
	size_t len = 0;
	long status = 0;
	bool keep;
	int rc;

	curl_multi_remove_handle(m->cm, t->h);
	if (t->prev)
		t->prev->next = t->next;
	else
		m->xfers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	m->running--;
	f->running--;
	if (cc == CURLE_ABORTED_BY_CALLBACK && !t->x.sink.id_rc) {
		curl_slist_free_all(t->x.headers);
		free(t->x.sink.buf);
		rc = spn_err(SPN_EBUSY, "%s: the node is stopping", t->url);
		keep = false;
	} else {
		rc = spn_http_xfer_result(&t->x, t->h, t->url, cc, &status, &body, &len, &keep);
	}
	if (keep && f->n_idle < IDLE_MAX)
		f->idle[f->n_idle++] = t->h;
	else
		curl_easy_cleanup(t->h);
	t->done(t->ctx, rc, status, body, len);
	free(t->url);
	free(t);
	reap(f);
}

int spn_http_fwd_post(spn_http_fwd_t *f, spn_http_client_t *c, const char *url, const char *pin, const char *node,
		      const char *body, size_t len, spn_http_fwd_done_fn done, void *ctx)
{
	xfer_t *t = calloc(1, sizeof(*t));
	int rc = 0;

	if (!t || !(t->url = strdup(url))) {
		free(t);
		return SPN_ENOMEM;
	}
	/* The node's certificate changed: new connections from now on. */
	if (f->cur && (f->cur->client != c || f->cur->gen != spn_http_client_gen(c))) {
		f->cur->next = f->retired;
		f->retired = f->cur;
		f->cur = NULL;
		reap(f);
	}
	if (!f->cur && !(f->cur = multi_new(f, c))) {
		free(t->url);
		free(t);
		return SPN_ENOMEM;
	}
	t->h = f->n_idle ? f->idle[--f->n_idle] : curl_easy_init();
	t->m = f->cur;
	t->done = done;
	t->ctx = ctx;
	if (!t->h || (rc = spn_http_xfer_setup(c, t->h, &t->x, url, pin, node, body, len, true)) ||
	    curl_multi_add_handle(f->cur->cm, t->h) != CURLM_OK) {
		rc = rc ? rc : SPN_ENOMEM;
		curl_slist_free_all(t->x.headers);
		if (t->h)
			curl_easy_cleanup(t->h);
		free(t->url);
		free(t);
		return rc;
	}
	t->next = f->cur->xfers;
	if (t->next)
		t->next->prev = t;
	f->cur->xfers = t;
	f->cur->running++;
	f->running++;
	return 0;
}
