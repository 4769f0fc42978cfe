/* Secret wiping and constant-time comparison, on GnuTLS and Nettle. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <nettle/memops.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void spn_wipe(void *p, size_t len)
{
	if (p && len)
		gnutls_memset(p, 0, len);
}

void spn_free_secret(void *p, size_t len)
{
	spn_wipe(p, len);
	free(p);
}

void spn_free_secret_str(char *s)
{
	if (s)
		spn_free_secret(s, strlen(s));
}

bool spn_mem_is_equal(const void *a, const void *b, size_t len)
{
	return memeql_sec(a, b, len) != 0;
}
