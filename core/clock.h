/* The one clock libspn reads. Tests pin it (as GnuTLS's test suite does with
 * its time function) so that certificates in fixtures never expire; GnuTLS's
 * own certificate checks follow the same clock. */
#pragma once

#include <stdint.h>
#include <time.h>

/* Seconds since the epoch, or the pinned time. */
time_t spn_clock_now(void);

/* Milliseconds of a monotonic clock, for deadlines and durations. */
int64_t spn_clock_mono_ms(void);

/* Pins the clock to t, or unpins it with t == 0. */
void spn_clock_pin(time_t t);
