/* Counters and histograms cheap enough for the message path (relaxed
 * atomics, no lock), and the Prometheus text exposition format (0.0.4)
 * they are read out in. Each module keeps its own; node_metrics.c writes
 * them all out. */
#pragma once

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	atomic_uint_fast64_t v;
} spn_metrics_counter_t;

static inline void spn_metrics_inc(spn_metrics_counter_t *c)
{
	atomic_fetch_add_explicit(&c->v, 1, memory_order_relaxed);
}

static inline uint64_t spn_metrics_get(const spn_metrics_counter_t *c)
{
	return atomic_load_explicit(&c->v, memory_order_relaxed);
}

/* Latencies, in seconds: the buckets' upper bounds are fixed (1 ms to
 * 10 s) so that every histogram of the project reads alike. */
#define SPN_METRICS_BUCKETS 13
typedef struct {
	atomic_uint_fast64_t bucket[SPN_METRICS_BUCKETS + 1]; /* the last: above every bound */
	atomic_uint_fast64_t sum_us;
} spn_metrics_hist_t;

void spn_metrics_observe(spn_metrics_hist_t *h, double seconds);
/* The seconds since t0 (CLOCK_MONOTONIC), observed in h. */
struct timespec;
void spn_metrics_observe_since(spn_metrics_hist_t *h, const struct timespec *t0);

/* The text being written: grows as needed; a failed allocation leaves
 * failed set and the text as far as it got. */
typedef struct {
	char *text;
	size_t len, cap;
	int failed;
} spn_metrics_out_t;

/* The HELP and TYPE lines of a family: type "counter", "gauge" or
 * "histogram". */
void spn_metrics_family(spn_metrics_out_t *o, const char *name, const char *type, const char *help);
/* One sample: labels are name, value pairs ending with NULL; values are
 * escaped. */
void spn_metrics_sample(spn_metrics_out_t *o, const char *name, double value, ...);
void spn_metrics_sample_v(spn_metrics_out_t *o, const char *name, const char *suffix, const char *extra,
			  double value, va_list ap);
/* A histogram's _bucket, _sum and _count samples, labelled likewise. */
void spn_metrics_hist(spn_metrics_out_t *o, const char *name, const spn_metrics_hist_t *h, ...);
