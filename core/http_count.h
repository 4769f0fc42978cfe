/* The answers an HTTP server gave, counted by route and status without a
 * lock: a fixed table (routes × statuses 100-599) of relaxed atomics, so
 * that the label sets read out of it are bounded. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct spn_http_count spn_http_count_t;

/* A table for n_routes routes and one more for requests that matched
 * none; the caller frees it with spn_http_count_free. */
int spn_http_count_new(size_t n_routes, spn_http_count_t **out);
void spn_http_count_free(spn_http_count_t *c);

/* route: its index in the server's table, or n_routes for none. */
void spn_http_count_add(spn_http_count_t *c, size_t route, unsigned status);

/* Calls fn for each route and status answered at least once. */
typedef void (*spn_http_count_fn)(size_t route, unsigned status, uint64_t n, void *user);
void spn_http_count_each(const spn_http_count_t *c, spn_http_count_fn fn, void *user);
