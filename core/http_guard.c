/* Connection hygiene: per-address and server-wide counts of connections and
 * body memory (shared by the loops, under a lock), and each loop's list of
 * connections with their deadlines (that loop's alone, no lock). */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "error.h"
#include "http_guard.h"

/* Deadlines are whole seconds or rates over seconds: a quarter of a second
 * late is close enough, and a list of a thousand is cheap to walk. */
#define TICK_MS 250

typedef struct {
	sa_family_t family;
	unsigned char bytes[16];
	unsigned refs;          /* connections pointing here, shut or not */
	unsigned conns;         /* connections counted against the address */
	size_t held;
} addr_t;

struct spn_http_guard {
	spn_http_limits_t lim;
	pthread_mutex_t lock;
	void *addrs;            /* tsearch tree of addr_t */
	unsigned conns;
	size_t held;
	spn_http_guard_proven_fn proven;
	void *user;
};

struct spn_http_guard_conns {
	spn_http_guard_t *g;
	spn_http_guard_conn_t *head;
};

struct spn_http_guard_conn {
	spn_http_guard_conns_t *l;
	addr_t *addr;
	int fd;
	void *tls;
	enum { WAIT_FIRST, WAIT_NEXT, BODY, HANDLING } phase;
	bool handshaken, shut;
	bool counted;       /* against its address's share: until it proves a group certificate */
	bool vouched;       /* that proof was looked for */
	int64_t opened, since;
	size_t got, held;
	spn_http_guard_conn_t *prev, *next;
};

void spn_http_limits_fill(spn_http_limits_t *lim)
{
	if (!lim->max_connections)
		lim->max_connections = 1024;
	if (!lim->max_per_address)
		lim->max_per_address = 256;
	if (!lim->body_memory)
		lim->body_memory = 128 * 1024 * 1024;
	if (!lim->body_memory_per_address)
		lim->body_memory_per_address = 32 * 1024 * 1024;
	if (!lim->handshake_ms)
		lim->handshake_ms = 5000;
	if (!lim->header_ms)
		lim->header_ms = 10000;
	if (!lim->idle_ms)
		lim->idle_ms = 30000;
	if (!lim->min_body_rate)
		lim->min_body_rate = 4096;
}

int spn_http_guard_new(const spn_http_limits_t *lim, spn_http_guard_proven_fn proven, void *user,
		       spn_http_guard_t **out)
{
	spn_http_guard_t *g = calloc(1, sizeof(*g));

	if (!g)
		return SPN_ENOMEM;
	g->lim = *lim;
	g->proven = proven;
	g->user = user;
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return 0;
}

void spn_http_guard_free(spn_http_guard_t *g)
{
	if (!g)
		return;
	tdestroy(g->addrs, free);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int spn_http_guard_conns_new(spn_http_guard_t *g, spn_http_guard_conns_t **out)
{
	spn_http_guard_conns_t *l = calloc(1, sizeof(*l));

	if (!l)
		return SPN_ENOMEM;
	l->g = g;
	*out = l;
	return 0;
}

void spn_http_guard_conns_free(spn_http_guard_conns_t *l)
{
	if (!l)
		return;
	while (l->head)
		spn_http_guard_close(l->head);
	free(l);
}

static int addr_cmp(const void *a, const void *b)
{
	const addr_t *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

/* An IPv4 client of an IPv6 listener counts as the IPv4 address it is. */
static void addr_key(const struct sockaddr *sa, addr_t *k)
{
	memset(k, 0, sizeof(*k));
	if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			k->family = AF_INET;
			memcpy(k->bytes, &a6->s6_addr[12], 4);
		} else {
			k->family = AF_INET6;
			memcpy(k->bytes, a6, 16);
		}
	} else if (sa && sa->sa_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* Under the lock. */
static addr_t *addr_ref(spn_http_guard_t *g, const addr_t *key)
{
	addr_t *fresh = malloc(sizeof(*fresh)), **found;

	if (!fresh)
		return NULL;
	*fresh = *key;
	if (!(found = tsearch(fresh, &g->addrs, addr_cmp))) {
		free(fresh);
		return NULL;
	}
	if (*found != fresh)
		free(fresh);
	(*found)->refs++;
	return *found;
}

/* Under the lock. */
static void addr_unref(spn_http_guard_t *g, addr_t *a)
{
	if (--a->refs > 0)
		return;
	tdelete(a, &g->addrs, addr_cmp);
	free(a);
}

/* The client is cut off: it reads the end of the stream, the server the
 * same, and closes the connection on its own next turn. Its place counts
 * as free from now on. */
static void shut(spn_http_guard_conn_t *c)
{
	spn_http_guard_t *g = c->l->g;

	shutdown(c->fd, SHUT_RDWR);
	c->shut = true;
	pthread_mutex_lock(&g->lock);
	if (c->counted)
		c->addr->conns--;
	c->counted = false;
	g->conns--;
	pthread_mutex_unlock(&g->lock);
}

/* A peer that proved a certificate of the group (a node passing requests
 * on, a client with a certificate) is known by it, not by its address:
 * its connections leave the address's share, which is for those that are
 * anonymous or have not finished their handshake. A child forwarding a
 * burst of fanned-out sessions holds many connections to its parent, all
 * from one address. */
static void vouch(spn_http_guard_conn_t *c)
{
	spn_http_guard_t *g = c->l->g;

	if (c->vouched || !c->tls || c->shut)
		return;
	c->vouched = true;
	if (!g->proven || !g->proven(c->tls, g->user))
		return;
	pthread_mutex_lock(&g->lock);
	if (c->counted)
		c->addr->conns--;
	c->counted = false;
	pthread_mutex_unlock(&g->lock);
}

static bool is_waiting(const spn_http_guard_conn_t *c)
{
	return !c->shut && (c->phase == WAIT_FIRST || c->phase == WAIT_NEXT);
}

/* At the ceiling, a connection that has not sent its request yet (a
 * handshake half done, headers trickling in, a kept-alive one idle) gives
 * way: the oldest first, so that a crowd of them cannot lock clients out. */
static bool make_room(spn_http_guard_conns_t *l)
{
	spn_http_guard_conn_t *oldest = NULL;

	for (spn_http_guard_conn_t *c = l->head; c; c = c->next)
		if (is_waiting(c) && (!oldest || c->since < oldest->since))
			oldest = c;
	if (oldest)
		shut(oldest);
	return oldest != NULL;
}

spn_http_guard_conn_t *spn_http_guard_open(spn_http_guard_conns_t *l, const struct sockaddr *sa, int fd, void *tls)
{
	spn_http_guard_t *g = l->g;
	spn_http_guard_conn_t *c = calloc(1, sizeof(*c));
	addr_t key;
	bool full;

	addr_key(sa, &key);
	pthread_mutex_lock(&g->lock);
	full = g->conns >= g->lim.max_connections;
	pthread_mutex_unlock(&g->lock);
	if (full)
		make_room(l);
	pthread_mutex_lock(&g->lock);
	if (c && !(c->addr = addr_ref(g, &key))) {
		free(c);
		c = NULL;
	}
	if (c && (c->addr->conns >= g->lim.max_per_address || g->conns >= g->lim.max_connections)) {
		addr_unref(g, c->addr);
		free(c);
		c = NULL;
	}
	if (c) {
		c->addr->conns++;
		c->counted = true;
		g->conns++;
	}
	pthread_mutex_unlock(&g->lock);
	if (!c) {
		shutdown(fd, SHUT_RDWR);
		return NULL;
	}
	c->l = l;
	c->fd = fd;
	c->tls = tls;
	c->phase = WAIT_FIRST;
	c->opened = c->since = spn_clock_mono_ms();
	c->next = l->head;
	if (l->head)
		l->head->prev = c;
	l->head = c;
	return c;
}

void spn_http_guard_close(spn_http_guard_conn_t *c)
{
	spn_http_guard_t *g;

	if (!c)
		return;
	g = c->l->g;
	pthread_mutex_lock(&g->lock);
	if (!c->shut) {
		if (c->counted)
			c->addr->conns--;
		g->conns--;
	}
	c->addr->held -= c->held;
	g->held -= c->held;
	addr_unref(g, c->addr);
	pthread_mutex_unlock(&g->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void phase(spn_http_guard_conn_t *c, int p)
{
	if (!c)
		return;
	c->phase = p;
	c->since = spn_clock_mono_ms();
	c->got = 0;
}

void spn_http_guard_headers(spn_http_guard_conn_t *c)
{
	if (c) {
		c->handshaken = true;
		vouch(c);
	}
	phase(c, BODY);
}

void spn_http_guard_body_done(spn_http_guard_conn_t *c)
{
	phase(c, HANDLING);
}

void spn_http_guard_answered(spn_http_guard_conn_t *c)
{
	phase(c, WAIT_NEXT);
}

void spn_http_guard_received(spn_http_guard_conn_t *c, size_t n)
{
	if (c)
		c->got += n;
}

int spn_http_guard_hold(spn_http_guard_conn_t *c, size_t n)
{
	spn_http_guard_t *g;
	int rc = 0;

	if (!c)
		return 0;
	g = c->l->g;
	pthread_mutex_lock(&g->lock);
	if (g->held + n > g->lim.body_memory)
		rc = spn_err(SPN_EBUSY, "the node holds as many request bodies as it may; try again");
	else if (c->addr->held + n > g->lim.body_memory_per_address)
		rc = spn_err(SPN_EBUSY, "this address has as many request bodies in flight as it may; try again");
	if (rc == 0) {
		g->held += n;
		c->addr->held += n;
		c->held += n;
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

void spn_http_guard_release(spn_http_guard_conn_t *c, size_t n)
{
	spn_http_guard_t *g;

	if (!c)
		return;
	g = c->l->g;
	if (n > c->held)
		n = c->held;
	pthread_mutex_lock(&g->lock);
	g->held -= n;
	c->addr->held -= n;
	pthread_mutex_unlock(&g->lock);
	c->held -= n;
}

/* GnuTLS describes a session only once its first handshake is complete;
 * asked until it is, a few times a second. */
static bool handshake_done(spn_http_guard_conn_t *c)
{
	char *desc;

	if (!c->handshaken && (desc = gnutls_session_get_desc(c->tls))) {
		c->handshaken = true;
		gnutls_free(desc);
		vouch(c);
	}
	return c->handshaken;
}

static bool is_late(spn_http_guard_conn_t *c, const spn_http_limits_t *lim, int64_t now)
{
	int64_t in_phase = now - c->since;

	if (c->tls && !handshake_done(c) && now - c->opened >= lim->handshake_ms)
		return true;
	switch (c->phase) {
	case WAIT_FIRST:
		return in_phase >= lim->header_ms;
	case WAIT_NEXT:
		return in_phase >= (int64_t)lim->idle_ms + lim->header_ms;
	case BODY:
		return in_phase >= lim->header_ms && (uint64_t)c->got * 1000 < (uint64_t)lim->min_body_rate * in_phase;
	default:
		return false;
	}
}

int64_t spn_http_guard_sweep(spn_http_guard_conns_t *l)
{
	int64_t now = spn_clock_mono_ms();

	for (spn_http_guard_conn_t *c = l->head; c; c = c->next)
		if (!c->shut && is_late(c, &l->g->lim, now))
			shut(c);
	return l->head ? TICK_MS : -1;
}
