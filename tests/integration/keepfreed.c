/* Preloaded into the daemons of the privacy matrix test (plain builds):
 * nothing is given back, so that whatever a process ever held in plaintext
 * stays in its memory to be found, instead of being written over by what
 * came after. free keeps the block, realloc copies instead of freeing the
 * old block, and the plugin host's wipe before free does nothing. spnd's
 * own wipe (gnutls_memset) stays: spnd also uses it to clear state it
 * reuses. The sanitizer builds keep freed memory in their quarantine
 * instead and take only the wipe from here (built with KEEP_WIPES_ONLY,
 * preloaded after their runtime). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT void explicit_bzero(void *p, size_t n);

void explicit_bzero(void *p, size_t n)
{
	(void)p;
	(void)n;
}

#ifndef KEEP_WIPES_ONLY
EXPORT void free(void *p);
EXPORT void *realloc(void *p, size_t n);

void free(void *p)
{
	(void)p;
}

void *realloc(void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	size_t have = p ? malloc_usable_size(p) : 0;

	if (q && p)
		memcpy(q, p, have < n ? have : n);
	return q;
}
#endif
