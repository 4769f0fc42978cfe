/* Logging to stderr or a file, serialised so that lines from several threads
 * never interleave. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
/* libspn-client starts quieter: a program's stderr is not a daemon's log. */
#ifndef SPN_LOG_DEFAULT
#define SPN_LOG_DEFAULT SPN_LOG_INFO
#endif
static spn_log_level_t threshold = SPN_LOG_DEFAULT;
static const char *const names[] = {"error", "warn", "info", "debug"};

int spn_log_open(const char *path, spn_log_level_t level)
{
	FILE *f = NULL;

	if (path && *path) {
		f = fopen(path, "ae");
		if (!f)
			return spn_err(SPN_EIO, "cannot open log file %s: %s", path, strerror(errno));
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&lock);
	if (out)
		fclose(out);
	out = f;
	threshold = level;
	pthread_mutex_unlock(&lock);
	return 0;
}

void spn_log_close(void)
{
	pthread_mutex_lock(&lock);
	if (out)
		fclose(out);
	out = NULL;
	pthread_mutex_unlock(&lock);
}

void spn_log_set_level(spn_log_level_t level)
{
	threshold = level;
}

bool spn_log_is_file(void)
{
	bool file;

	pthread_mutex_lock(&lock);
	file = out != NULL;
	pthread_mutex_unlock(&lock);
	return file;
}

int spn_log_level_parse(const char *s, spn_log_level_t *level)
{
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*level = (spn_log_level_t)i;
			return 0;
		}
	}
	return spn_err(SPN_EINVAL, "unknown log level '%s' (error, warn, info, debug)", s);
}

void spn_log(spn_log_level_t level, const char *fmt, ...)
{
	char stamp[32], line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Messages may quote what clients sent: no forged lines, no escapes. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	pthread_mutex_lock(&lock);
	FILE *f = out ? out : stderr;
	fprintf(f, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000, names[level], line);
	pthread_mutex_unlock(&lock);
}
