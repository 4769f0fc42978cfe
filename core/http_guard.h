/* Connection hygiene for the HTTP server: how many connections a source
 * address and the whole server may hold, how much request-body memory
 * they may pin, and how long a connection may take over its handshake,
 * its request headers and its body before it is dropped. The counts are
 * shared by the server's loops; each loop keeps its own connections'
 * deadlines and checks them from its thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct {
	unsigned max_connections;       /* the whole server */
	unsigned max_per_address;
	size_t body_memory;             /* request bodies held, the whole server */
	size_t body_memory_per_address;
	unsigned handshake_ms;          /* from accept to the end of the TLS handshake */
	unsigned header_ms;             /* from accept to a request's last header line */
	unsigned idle_ms;               /* kept alive: from an answer to the next request's headers */
	size_t min_body_rate;           /* bytes per second, judged once header_ms have passed */
} spn_http_limits_t;

/* The defaults for the fields left 0 (doc/operator-guide.md, [http]). */
void spn_http_limits_fill(spn_http_limits_t *lim);

typedef struct spn_http_guard spn_http_guard_t;
typedef struct spn_http_guard_conns spn_http_guard_conns_t;
typedef struct spn_http_guard_conn spn_http_guard_conn_t;

/* Whether the peer of a TLS session (a gnutls_session_t) proved a
 * certificate of the group: the server's own check, with what it has
 * verified before. */
typedef bool (*spn_http_guard_proven_fn)(void *tls, void *user);

/* The server-wide counts; caller frees with spn_http_guard_free once every
 * loop's list is freed. A connection whose peer is proven leaves its
 * address's share. */
int spn_http_guard_new(const spn_http_limits_t *lim, spn_http_guard_proven_fn proven, void *user,
		       spn_http_guard_t **out);
void spn_http_guard_free(spn_http_guard_t *g);

/* One loop's connections; caller frees with spn_http_guard_conns_free,
 * on that loop or once it has stopped, after their connections closed. */
int spn_http_guard_conns_new(spn_http_guard_t *g, spn_http_guard_conns_t **out);
void spn_http_guard_conns_free(spn_http_guard_conns_t *l);

/* A connection just accepted on the list's loop, on socket fd; tls is its
 * gnutls_session_t, or NULL for plain HTTP. At the server's ceiling the
 * oldest connection of this loop that has sent no request yet makes room;
 * over its address's share, or with nothing to make room, the new one is
 * shut at once and NULL returned. Owned by the list until
 * spn_http_guard_close. */
spn_http_guard_conn_t *spn_http_guard_open(spn_http_guard_conns_t *l, const struct sockaddr *sa, int fd, void *tls);
void spn_http_guard_close(spn_http_guard_conn_t *c);

/* Where the connection is: its request's headers are in (its body, if
 * any, is read from now on at the minimum rate); its body is in (the
 * handler has it, no deadline); its answer went out (the next request is
 * awaited). */
void spn_http_guard_headers(spn_http_guard_conn_t *c);
void spn_http_guard_body_done(spn_http_guard_conn_t *c);
void spn_http_guard_answered(spn_http_guard_conn_t *c);
/* n more body bytes arrived (they count towards the minimum rate). */
void spn_http_guard_received(spn_http_guard_conn_t *c, size_t n);

/* Body memory held for the connection's request, against its address's
 * share and the server's: SPN_EBUSY when either would be exceeded. What
 * is held is released by spn_http_guard_release or when it closes. */
int spn_http_guard_hold(spn_http_guard_conn_t *c, size_t n);
void spn_http_guard_release(spn_http_guard_conn_t *c, size_t n);

/* From the list's loop: shuts the connections past a deadline (the
 * server sees them end as if the client left). Returns the milliseconds
 * until the next look is due, or -1 while the list is empty. */
int64_t spn_http_guard_sweep(spn_http_guard_conns_t *l);
