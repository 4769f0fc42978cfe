/* The indexed max-heap: random insertions, weight changes and removals
 * checked against a plain scan after every step. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "heap.h"

typedef struct {
	size_t w, pos;
	int in;
} item_t;

static size_t weight(const void *p)
{
	return ((const item_t *)p)->w;
}

static size_t *pos(void *p)
{
	return &((item_t *)p)->pos;
}

static void check(const spn_heap_t *h, item_t *it, size_t n)
{
	size_t best = 0, count = 0;

	for (size_t i = 0; i < n; i++)
		if (it[i].in) {
			count++;
			if (it[i].w > best)
				best = it[i].w;
			assert_ptr_equal(h->v[it[i].pos - 1], &it[i]);
		} else {
			assert_int_equal(it[i].pos, 0);
		}
	assert_int_equal(h->n, count);
	if (count)
		assert_int_equal(((item_t *)spn_heap_top(h))->w, best);
	else
		assert_null(spn_heap_top(h));
}

static void against_a_scan(void **state)
{
	enum { N = 64 };
	item_t it[N] = {{0}};
	spn_heap_t h = {.weight = weight, .pos = pos};
	unsigned seed = 7;

	(void)state;
	for (int step = 0; step < 20000; step++) {
		item_t *x = &it[rand_r(&seed) % N];
		switch (rand_r(&seed) % 3) {
		case 0:
		case 1:
			x->w = (size_t)(rand_r(&seed) % 50);
			assert_int_equal(spn_heap_set(&h, x), 0);
			x->in = 1;
			break;
		default:
			spn_heap_remove(&h, x);
			x->in = 0;
		}
		check(&h, it, N);
	}
	spn_heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(against_a_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
