/* A pinnable clock shared with GnuTLS's certificate verification. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdatomic.h>
#include <time.h>

#include "clock.h"

static _Atomic time_t pinned;

time_t spn_clock_now(void)
{
	time_t t = atomic_load(&pinned);

	return t ? t : time(NULL);
}

static time_t gnutls_clock(time_t *t)
{
	time_t now = spn_clock_now();

	if (t)
		*t = now;
	return now;
}

void spn_clock_pin(time_t t)
{
	atomic_store(&pinned, t);
	gnutls_global_set_time_function(t ? gnutls_clock : NULL);
}

int64_t spn_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
