/* An indexed max-heap: the item with the largest weight at the top, and any
 * item moved in O(log n) when its weight changes. Items keep their own
 * position (a size_t, 0 while outside the heap) so that no search is
 * needed to move or remove one. Not locked: the owner's lock covers it. */
#pragma once

#include <stddef.h>

typedef struct {
	void **v;
	size_t n, cap;
	size_t (*weight)(const void *item);
	size_t *(*pos)(void *item); /* 1-based slot, 0: not in the heap */
} spn_heap_t;

/* Puts item in (or moves it after its weight changed). SPN_ENOMEM. */
int spn_heap_set(spn_heap_t *h, void *item);
void spn_heap_remove(spn_heap_t *h, void *item);
/* The heaviest item, or NULL. */
void *spn_heap_top(const spn_heap_t *h);
void spn_heap_free(spn_heap_t *h);
