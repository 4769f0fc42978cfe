/* Counters and histograms, and the Prometheus text exposition format
 * (doc/operator-guide.md, "Watching a group"). */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

static const double bounds[SPN_METRICS_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
						   0.25,  0.5,    1,     2.5,  5,     10};

void spn_metrics_observe(spn_metrics_hist_t *h, double seconds)
{
	size_t i = 0;

	while (i < SPN_METRICS_BUCKETS && seconds > bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)(seconds > 0 ? seconds * 1e6 : 0), memory_order_relaxed);
}

void spn_metrics_observe_since(spn_metrics_hist_t *h, const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	spn_metrics_observe(h, (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9);
}

static void put(spn_metrics_out_t *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *t;
		while (cap < o->len + n + 1)
			cap *= 2;
		if (!(t = realloc(o->text, cap))) {
			o->failed = 1;
			return;
		}
		o->text = t;
		o->cap = cap;
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

static void puts_(spn_metrics_out_t *o, const char *s)
{
	put(o, s, strlen(s));
}

/* HELP text escapes backslash and newline; label values the double quote
 * too. */
static void escaped(spn_metrics_out_t *o, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(o, "\\\\");
		else if (*s == '\n')
			puts_(o, "\\n");
		else if (quote && *s == '"')
			puts_(o, "\\\"");
		else
			put(o, s, 1);
	}
}

void spn_metrics_family(spn_metrics_out_t *o, const char *name, const char *type, const char *help)
{
	puts_(o, "# HELP ");
	puts_(o, name);
	puts_(o, " ");
	escaped(o, help, 0);
	puts_(o, "\n# TYPE ");
	puts_(o, name);
	puts_(o, " ");
	puts_(o, type);
	puts_(o, "\n");
}

static void number(spn_metrics_out_t *o, double v)
{
	char buf[32];

	if (isinf(v))
		snprintf(buf, sizeof(buf), v > 0 ? "+Inf" : "-Inf");
	else if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v)
		snprintf(buf, sizeof(buf), "%.0f", v);
	else
		snprintf(buf, sizeof(buf), "%.9g", v);
	puts_(o, buf);
}

void spn_metrics_sample_v(spn_metrics_out_t *o, const char *name, const char *suffix, const char *extra,
			  double value, va_list ap)
{
	const char *k;
	int first = 1;

	puts_(o, name);
	puts_(o, suffix);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		puts_(o, first ? "{" : ",");
		puts_(o, k);
		puts_(o, "=\"");
		escaped(o, v ? v : "", 1);
		puts_(o, "\"");
		first = 0;
	}
	/* le comes last, after the family's own labels. */
	if (extra) {
		puts_(o, first ? "{le=\"" : ",le=\"");
		puts_(o, extra);
		puts_(o, "\"");
		first = 0;
	}
	if (!first)
		puts_(o, "}");
	puts_(o, " ");
	number(o, value);
	puts_(o, "\n");
}

void spn_metrics_sample(spn_metrics_out_t *o, const char *name, double value, ...)
{
	va_list ap;

	va_start(ap, value);
	spn_metrics_sample_v(o, name, "", NULL, value, ap);
	va_end(ap);
}

void spn_metrics_hist(spn_metrics_out_t *o, const char *name, const spn_metrics_hist_t *h, ...)
{
	uint64_t cum = 0;
	char le[32];
	va_list ap;

	for (size_t i = 0; i <= SPN_METRICS_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		if (i < SPN_METRICS_BUCKETS)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		va_start(ap, h);
		spn_metrics_sample_v(o, name, "_bucket", le, (double)cum, ap);
		va_end(ap);
	}
	va_start(ap, h);
	spn_metrics_sample_v(o, name, "_sum", NULL, (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6,
			     ap);
	va_end(ap);
	va_start(ap, h);
	spn_metrics_sample_v(o, name, "_count", NULL, (double)cum, ap);
	va_end(ap);
}
