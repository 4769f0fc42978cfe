/* An event loop for one thread (epoll): file descriptors to watch, timers
 * that sources ask for, and work posted from other threads. The HTTP
 * server runs one per thread and each carries its connections and their
 * transfers to the next node from start to end, with no hand-off. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct spn_loop spn_loop_t;
typedef struct spn_loop_watch spn_loop_watch_t;

typedef void (*spn_loop_fn)(void *ctx);
/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as epoll reports them. */
typedef void (*spn_loop_io_fn)(void *ctx, uint32_t events);

/* A source that keeps its own deadlines (libmicrohttpd, libcurl): before
 * each wait the loop asks when it is next due (milliseconds from now, -1
 * for never); once that time has come, due() is called. */
typedef struct {
	int64_t (*next)(void *ctx);
	void (*due)(void *ctx);
	void *ctx;
} spn_loop_timer_t;

int spn_loop_new(spn_loop_t **out);
/* Runs until spn_loop_quit, calling everything from this thread. */
void spn_loop_run(spn_loop_t *l);
/* From any thread: run returns once the work posted before is done. */
void spn_loop_quit(spn_loop_t *l);
void spn_loop_free(spn_loop_t *l);

/* The loop the calling thread runs, or NULL. */
spn_loop_t *spn_loop_current(void);

/* From the loop's thread. */
int spn_loop_watch(spn_loop_t *l, int fd, uint32_t events, spn_loop_io_fn fn, void *ctx, spn_loop_watch_t **out);
int spn_loop_rewatch(spn_loop_t *l, spn_loop_watch_t *w, uint32_t events);
void spn_loop_unwatch(spn_loop_t *l, spn_loop_watch_t *w);
int spn_loop_add_timer(spn_loop_t *l, const spn_loop_timer_t *t);
void spn_loop_remove_timer(spn_loop_t *l, void *ctx);

/* From any thread: fn(ctx) runs on the loop's thread, in order. */
int spn_loop_post(spn_loop_t *l, spn_loop_fn fn, void *ctx);
