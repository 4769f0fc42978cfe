/* The event loop: epoll for file descriptors, an eventfd for work posted
 * from other threads, and the sources' own deadlines as the wait's
 * timeout. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "loop.h"

#define TIMERS_MAX 8
#define EVENTS_MAX 64

struct spn_loop_watch {
	int fd;
	spn_loop_io_fn fn;
	void *ctx;
	bool gone;                  /* unwatched while its events were being handled */
	spn_loop_watch_t *next_gone;
};

typedef struct posted {
	spn_loop_fn fn;
	void *ctx;
	struct posted *next;
} posted_t;

struct spn_loop {
	int ep, wake;
	spn_loop_timer_t timers[TIMERS_MAX];
	size_t n_timers;
	pthread_mutex_t lock;       /* posted work and quit */
	posted_t *head, *tail;
	bool quit;
	spn_loop_watch_t wake_watch;
	spn_loop_watch_t *gone;     /* freed after the round of events */
};

static _Thread_local spn_loop_t *current;

spn_loop_t *spn_loop_current(void)
{
	return current;
}

int spn_loop_new(spn_loop_t **out)
{
	spn_loop_t *l = calloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!l)
		return SPN_ENOMEM;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&l->lock, NULL);
	l->wake_watch.fd = l->wake;
	ev.data.ptr = &l->wake_watch;
	if (l->ep < 0 || l->wake < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0) {
		int e = errno;
		spn_loop_free(l);
		return spn_err(SPN_EIO, "event loop: %s", strerror(e));
	}
	*out = l;
	return 0;
}

void spn_loop_free(spn_loop_t *l)
{
	if (!l)
		return;
	while (l->head) {
		posted_t *p = l->head;
		l->head = p->next;
		free(p);
	}
	while (l->gone) {
		spn_loop_watch_t *w = l->gone;
		l->gone = w->next_gone;
		free(w);
	}
	if (l->ep >= 0)
		close(l->ep);
	if (l->wake >= 0)
		close(l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int spn_loop_watch(spn_loop_t *l, int fd, uint32_t events, spn_loop_io_fn fn, void *ctx, spn_loop_watch_t **out)
{
	spn_loop_watch_t *w = calloc(1, sizeof(*w));
	struct epoll_event ev = {.events = events};

	if (!w)
		return SPN_ENOMEM;
	w->fd = fd;
	w->fn = fn;
	w->ctx = ctx;
	ev.data.ptr = w;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int e = errno;
		free(w);
		return spn_err(SPN_EIO, "event loop: watching %d: %s", fd, strerror(e));
	}
	*out = w;
	return 0;
}

int spn_loop_rewatch(spn_loop_t *l, spn_loop_watch_t *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, w->fd, &ev) != 0)
		return spn_err(SPN_EIO, "event loop: watching %d: %s", w->fd, strerror(errno));
	return 0;
}

void spn_loop_unwatch(spn_loop_t *l, spn_loop_watch_t *w)
{
	if (!w)
		return;
	/* The descriptor may already be closed: then epoll has let it go. */
	epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
	/* Events already read for it in this round must find it gone, not
	 * freed. */
	w->gone = true;
	w->next_gone = l->gone;
	l->gone = w;
}

int spn_loop_add_timer(spn_loop_t *l, const spn_loop_timer_t *t)
{
	if (l->n_timers == TIMERS_MAX)
		return spn_err(SPN_ELIMIT, "event loop: more than %d timed sources", TIMERS_MAX);
	l->timers[l->n_timers++] = *t;
	return 0;
}

void spn_loop_remove_timer(spn_loop_t *l, void *ctx)
{
	for (size_t i = 0; i < l->n_timers; i++)
		if (l->timers[i].ctx == ctx) {
			l->timers[i] = l->timers[--l->n_timers];
			return;
		}
}

int spn_loop_post(spn_loop_t *l, spn_loop_fn fn, void *ctx)
{
	posted_t *p = malloc(sizeof(*p));
	uint64_t one = 1;
	bool first;

	if (!p)
		return SPN_ENOMEM;
	p->fn = fn;
	p->ctx = ctx;
	p->next = NULL;
	pthread_mutex_lock(&l->lock);
	first = !l->head;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_mutex_unlock(&l->lock);
	/* One wake-up per batch: the loop takes the whole list. */
	if (first && write(l->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return spn_err(SPN_EIO, "event loop: wake: %s", strerror(errno));
	return 0;
}

void spn_loop_quit(spn_loop_t *l)
{
	uint64_t one = 1;

	pthread_mutex_lock(&l->lock);
	l->quit = true;
	pthread_mutex_unlock(&l->lock);
	if (write(l->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

/* The posted work, in order; returns whether to stop. */
static bool run_posted(spn_loop_t *l)
{
	posted_t *p;
	uint64_t n;
	bool quit;

	if (read(l->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return false;
	pthread_mutex_lock(&l->lock);
	p = l->head;
	l->head = l->tail = NULL;
	quit = l->quit;
	pthread_mutex_unlock(&l->lock);
	while (p) {
		posted_t *next = p->next;
		p->fn(p->ctx);
		free(p);
		p = next;
	}
	return quit;
}

static int wait_ms(spn_loop_t *l, int64_t *due)
{
	int64_t soonest = -1;

	for (size_t i = 0; i < l->n_timers; i++) {
		due[i] = l->timers[i].next(l->timers[i].ctx);
		if (due[i] >= 0 && (soonest < 0 || due[i] < soonest))
			soonest = due[i];
	}
	return soonest < 0 ? -1 : soonest > 60000 ? 60000 : (int)soonest;
}

void spn_loop_run(spn_loop_t *l)
{
	struct epoll_event ev[EVENTS_MAX];
	int64_t due[TIMERS_MAX];

	current = l;
	for (;;) {
		int64_t before = spn_clock_mono_ms();
		int timeout = wait_ms(l, due), n = epoll_wait(l->ep, ev, EVENTS_MAX, timeout);
		int64_t waited = spn_clock_mono_ms() - before;
		bool quit = false;

		for (int i = 0; i < n; i++) {
			spn_loop_watch_t *w = ev[i].data.ptr;
			if (w == &l->wake_watch)
				quit = run_posted(l) || quit;
			else if (!w->gone)
				w->fn(w->ctx, ev[i].events);
		}
		for (size_t i = 0; i < l->n_timers; i++)
			if (due[i] >= 0 && due[i] <= waited)
				l->timers[i].due(l->timers[i].ctx);
		while (l->gone) {
			spn_loop_watch_t *w = l->gone;
			l->gone = w->next_gone;
			free(w);
		}
		if (quit)
			break;
	}
	current = NULL;
}
