/* The answers an HTTP server gave, by route and status. */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "error.h"
#include "http_count.h"

#define STATUS_MIN 100
#define STATUS_SLOTS 500

struct spn_http_count {
	size_t n_routes;
	atomic_uint_fast64_t n[]; /* (n_routes + 1) × STATUS_SLOTS */
};

int spn_http_count_new(size_t n_routes, spn_http_count_t **out)
{
	spn_http_count_t *c = calloc(1, sizeof(*c) + (n_routes + 1) * STATUS_SLOTS * sizeof(c->n[0]));

	if (!c)
		return SPN_ENOMEM;
	c->n_routes = n_routes;
	*out = c;
	return 0;
}

void spn_http_count_free(spn_http_count_t *c)
{
	free(c);
}

void spn_http_count_add(spn_http_count_t *c, size_t route, unsigned status)
{
	/* libmicrohttpd refuses a status outside 100-999; spn sends none
	 * above 599. */
	if (!c || status < STATUS_MIN || status >= STATUS_MIN + STATUS_SLOTS)
		return;
	if (route > c->n_routes)
		route = c->n_routes;
	atomic_fetch_add_explicit(&c->n[route * STATUS_SLOTS + (status - STATUS_MIN)], 1, memory_order_relaxed);
}

void spn_http_count_each(const spn_http_count_t *c, spn_http_count_fn fn, void *user)
{
	for (size_t r = 0; r <= c->n_routes; r++)
		for (unsigned s = 0; s < STATUS_SLOTS; s++) {
			uint64_t n = atomic_load_explicit(&c->n[r * STATUS_SLOTS + s], memory_order_relaxed);
			if (n)
				fn(r, s + STATUS_MIN, n, user);
		}
}
