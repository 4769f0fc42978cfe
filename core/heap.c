/* An indexed binary max-heap (heap.h). */
#include "config.h"

#include <stdlib.h>

#include "error.h"
#include "heap.h"

static void put(spn_heap_t *h, size_t i, void *item)
{
	h->v[i] = item;
	*h->pos(item) = i + 1;
}

static size_t up(spn_heap_t *h, size_t i)
{
	void *item = h->v[i];

	while (i > 0 && h->weight(h->v[(i - 1) / 2]) < h->weight(item)) {
		put(h, i, h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	put(h, i, item);
	return i;
}

static void down(spn_heap_t *h, size_t i)
{
	void *item = h->v[i];
	size_t w = h->weight(item);

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->weight(h->v[c + 1]) > h->weight(h->v[c]))
			c++;
		if (h->weight(h->v[c]) <= w)
			break;
		put(h, i, h->v[c]);
		i = c;
	}
	put(h, i, item);
}

int spn_heap_set(spn_heap_t *h, void *item)
{
	size_t p = *h->pos(item);

	if (!p) {
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 16;
			void **v = realloc(h->v, cap * sizeof(*v));
			if (!v)
				return SPN_ENOMEM;
			h->v = v;
			h->cap = cap;
		}
		h->v[h->n++] = item;
		up(h, h->n - 1);
		return 0;
	}
	if (up(h, p - 1) == p - 1)
		down(h, p - 1);
	return 0;
}

void spn_heap_remove(spn_heap_t *h, void *item)
{
	size_t p = *h->pos(item);

	if (!p)
		return;
	*h->pos(item) = 0;
	if (--h->n == p - 1)
		return;
	put(h, p - 1, h->v[h->n]);
	if (up(h, p - 1) == p - 1)
		down(h, p - 1);
}

void *spn_heap_top(const spn_heap_t *h)
{
	return h->n ? h->v[0] : NULL;
}

void spn_heap_free(spn_heap_t *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
