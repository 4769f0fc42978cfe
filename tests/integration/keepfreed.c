/* Preloaded into the daemons of the privacy matrix test (plain builds):
 * free gives nothing back, so that what a process ever held stays in its
 * memory to be found, instead of being written over by what came after.
 * The sanitizer builds need no such thing: their quarantine keeps freed
 * memory as it was. Explicit wipes still wipe. */
#include <stddef.h>

__attribute__((visibility("default"))) void free(void *p);

void free(void *p)
{
	(void)p;
}
