/* Requests to the next node made from an event loop: libcurl's multi
 * interface driven by the loop's own epoll, connections kept alive and
 * pooled per loop, the same checks as spn_http_client_call (root, pins,
 * the server's node id, signatures over plain HTTP). Nothing blocks. */
#pragma once

#include <stddef.h>

#include "http_client.h"
#include "loop.h"

typedef struct spn_http_fwd spn_http_fwd_t;

/* What came back: rc as spn_http_client_call returns it; on success the
 * HTTP status and the body (NUL-terminated), which done() now owns. */
typedef void (*spn_http_fwd_done_fn)(void *ctx, int rc, long status, char *body, size_t len);

int spn_http_fwd_new(spn_loop_t *l, spn_http_fwd_t **out);
/* Every transfer still running ends with SPN_EBUSY ("stopping"). */
void spn_http_fwd_free(spn_http_fwd_t *f);

/* From the loop's thread. One of pin (a public key) or node (the server's
 * node id), or neither, as in http_client.h. The body is copied. done()
 * is called later from the loop, never from inside this call; an error
 * returned here means it will not be. */
int spn_http_fwd_post(spn_http_fwd_t *f, spn_http_client_t *c, const char *url, const char *pin, const char *node,
		      const char *body, size_t len, spn_http_fwd_done_fn done, void *ctx);

/* Transfers running. */
size_t spn_http_fwd_running(const spn_http_fwd_t *f);
