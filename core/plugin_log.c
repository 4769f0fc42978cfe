/* What a plugin writes into the node's log, whichever way it comes (its
 * log calls, or the standard error of its processes, read here through a
 * pipe by a thread per process): every line marked as the plugin's, its
 * control characters escaped so that it cannot pass for a line of spnd's,
 * and no more than [plugin.<name>] log_rate bytes a second, the rest
 * dropped and counted in one line. A plugin that floods is not slowed
 * down by it: its pipe is read at once, and only the log is spared. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "plugin_internal.h"

/* What a line costs besides its text: the stamp, the level, the mark. A
 * second's log stays within log_rate bytes however short the lines. */
#define LINE_COST 128
/* Raw bytes per log line: escaped, at most four times as many. */
#define CHUNK 400

/* Says how much was dropped in the second that ended, once. */
static void flush_dropped(spn_plugin_proc_t *p, int64_t now)
{
	unsigned long dropped = 0;

	if (now - p->log_window < 1000)
		return;
	dropped = p->log_dropped;
	p->log_window = now;
	p->log_used = 0;
	p->log_dropped = 0;
	if (dropped)
		spn_log_warn("plugin %s: %lu bytes of its log dropped (more than %lu bytes in a second)", p->name,
			     dropped, p->log_rate);
}

static void one_line(spn_plugin_proc_t *p, spn_log_level_t level, const char *how, const char *text, size_t len)
{
	char esc[CHUNK * 4 + 1];
	size_t n = 0;
	bool pass;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			n += (size_t)snprintf(esc + n, sizeof(esc) - n, ch == '\\' ? "\\\\" : "\\x%02x", ch);
		else
			esc[n++] = (char)ch;
	}
	esc[n] = '\0';
	pthread_mutex_lock(&p->log_lock);
	flush_dropped(p, spn_clock_mono_ms());
	pass = p->log_used + n + LINE_COST <= p->log_rate;
	if (pass)
		p->log_used += n + LINE_COST;
	else
		p->log_dropped += len;
	/* Under the lock: the drop count of a second is said before the
	 * lines of the next. */
	if (pass)
		spn_log(level, "plugin %s%s: %s", p->name, how, esc);
	pthread_mutex_unlock(&p->log_lock);
}

void spn_plugin_log_line(spn_plugin_proc_t *p, spn_log_level_t level, const char *how, const char *text, size_t len)
{
	size_t off = 0;

	do {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		one_line(p, level, how, text + off, n);
		off += n;
	} while (off < len);
}

/* Splits what came at newlines; a line longer than CHUNK goes in pieces. */
static void lines(spn_plugin_proc_t *p, char *buf, size_t *have, bool end)
{
	size_t start = 0;

	for (size_t i = 0; i < *have; i++)
		if (buf[i] == '\n' || i - start == CHUNK) {
			spn_plugin_log_line(p, SPN_LOG_WARN, " (stderr)", buf + start, i - start);
			start = buf[i] == '\n' ? i + 1 : i;
		}
	if (end && start < *have) {
		spn_plugin_log_line(p, SPN_LOG_WARN, " (stderr)", buf + start, *have - start);
		start = *have;
	}
	memmove(buf, buf + start, *have - start);
	*have -= start;
}

static void *reader(void *arg)
{
	spn_plugin_worker_t *w = arg;
	spn_plugin_proc_t *p = w->owner;
	char buf[CHUNK * 4];
	size_t have = 0;
	int after_stop = 0;

	for (;;) {
		struct pollfd pfd = {w->err_fd, POLLIN, 0};
		bool stop = __atomic_load_n(&w->err_stop, __ATOMIC_ACQUIRE);
		int r = poll(&pfd, 1, stop ? 0 : 100);
		ssize_t got;
		/* Asked to stop: what its process wrote before it went is
		 * read, not what an unconfined child it left keeps writing. */
		if (stop && (r == 0 || after_stop++ > 16))
			break;
		if (r == 0) {
			pthread_mutex_lock(&p->log_lock);
			flush_dropped(p, spn_clock_mono_ms());
			pthread_mutex_unlock(&p->log_lock);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		got = r < 0 ? -1 : read(w->err_fd, buf + have, sizeof(buf) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
		lines(p, buf, &have, false);
	}
	lines(p, buf, &have, true);
	return NULL;
}

int spn_plugin_log_follow(spn_plugin_proc_t *p, spn_plugin_worker_t *w, int fd)
{
	pthread_attr_t attr;
	int rc;

	w->owner = p;
	w->err_fd = fd;
	w->err_stop = 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&w->err_thread, &attr, reader, w);
	pthread_attr_destroy(&attr);
	if (rc) {
		close(fd);
		w->err_fd = -1;
		return -1;
	}
	return 0;
}

void spn_plugin_log_unfollow(spn_plugin_worker_t *w)
{
	if (w->err_fd < 0)
		return;
	__atomic_store_n(&w->err_stop, 1, __ATOMIC_RELEASE);
	pthread_join(w->err_thread, NULL);
	close(w->err_fd);
	w->err_fd = -1;
}
