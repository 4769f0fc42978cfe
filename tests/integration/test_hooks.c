/* Test-only: what the test builds of spnd and spnctl (spnd_test,
 * spnctl_test) add to the installed programs, which have none of it.
 *   SPN_FAKE_TIME=S  pins the clock (certificate validity, tokens, CRLs,
 *                    the ledger's times) to S seconds since the epoch;
 *   a routing probe whose payload is {"delay_ms": N}, 1 <= N <= 5000,
 *                    waits that long before it is answered. */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "node.h"

#define MAX_DELAY_MS 5000

static void delay(struct json_object *payload)
{
	json_object *d;
	int64_t ms;

	if (!payload || !json_object_is_type(payload, json_type_object) ||
	    !json_object_object_get_ex(payload, "delay_ms", &d) || !json_object_is_type(d, json_type_int))
		return;
	ms = json_object_get_int64(d);
	if (ms > 0 && ms <= MAX_DELAY_MS) {
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

__attribute__((constructor)) static void test_hooks(void)
{
	const char *s = getenv("SPN_FAKE_TIME");
	char *end;
	long long v;

	spn_node_probe_hook = delay;
	if (!s || !*s)
		return;
	v = strtoll(s, &end, 10);
	if (*end || v <= 0) {
		fprintf(stderr, "SPN_FAKE_TIME must be seconds since the epoch, got '%s'\n", s);
		exit(2);
	}
	spn_clock_pin((time_t)v);
}
