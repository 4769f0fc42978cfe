/* The processes a plugin runs in: up to [plugin.<name>] concurrency of
 * them, each spn-plugin-host with a clean environment and no descriptor
 * but its socket, each busy with one section at a time. More are started
 * only when every running one is busy, so that an idle plugin costs one
 * process; a process that crashes or hangs is replaced alone while the
 * others go on serving. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "frame.h"
#include "json.h"
#include "log.h"
#include "plugin_internal.h"

#define HELLO_MS 10000

/* The environment a plugin gets: nothing of spnd's (its passphrases), only
 * what a program needs to run (an allocator the operator preloads
 * included), and the sanitizers' settings for tests. */
#define ENV_MAX 10
typedef struct {
	char buf[ENV_MAX][1024];
	char *env[ENV_MAX + 1];
} env_t;

static char **clean_env(env_t *e)
{
	static const char *const keep[] = {"PATH", "LANG", "LC_ALL", "TZ", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS",
					   "LSAN_OPTIONS", "TSAN_OPTIONS", NULL};
	size_t n = 0;

	for (size_t i = 0; keep[i] && n < ENV_MAX; i++) {
		const char *v = getenv(keep[i]);
		if (v) {
			snprintf(e->buf[n], sizeof(e->buf[n]), "%s=%s", keep[i], v);
			e->env[n] = e->buf[n];
			n++;
		}
	}
	e->env[n] = NULL;
	return e->env;
}

static int spawn(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	char *argv[] = {p->host, NULL};
	env_t env;
	int sv[2], err[2], child, rc;

	if (pipe2(err, O_CLOEXEC) != 0)
		return spn_err(SPN_EIO, "plugin %s: pipe: %s", p->name, strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		close(err[0]);
		close(err[1]);
		return spn_err(SPN_EIO, "plugin %s: socketpair: %s", p->name, strerror(errno));
	}
	/* The child's end must not already be 3, where dup2 would keep its
	 * close-on-exec flag. */
	child = sv[1];
	if (child == 3) {
		child = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
		close(sv[1]);
	}
	/* Nothing to read, nothing to print on: standard input and output
	 * are /dev/null; standard error is a pipe spnd reads into its log,
	 * marked and within limits (a crash's last words). Signals as a new
	 * program expects them, not spnd's blocked set. No other descriptor:
	 * not the sockets of the plugin's other processes. Standard error
	 * first: its pipe may be on 3. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_adddup2(&fa, child, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&w->pid, p->host, &fa, &attr, argv, clean_env(&env));
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(child);
	close(err[1]);
	if (rc != 0) {
		close(sv[0]);
		close(err[0]);
		w->pid = -1;
		return spn_err(SPN_ECONFIG, "plugin %s: cannot start %s: %s", p->name, p->host, strerror(rc));
	}
	w->fd = sv[0];
	atomic_fetch_add(&p->alive, 1);
	/* Without a reader its writes would block once the pipe is full. */
	if (spn_plugin_log_follow(p, w, err[0]) != 0) {
		spn_plugin_pool_end(p, w, true, NULL, 0);
		return spn_err(SPN_ENOMEM, "plugin %s: no thread to read its standard error", p->name);
	}
	return 0;
}

void spn_plugin_pool_end(spn_plugin_proc_t *p, spn_plugin_worker_t *w, bool now, char *how, size_t cap)
{
	int st = 0;

	if (w->fd >= 0) {
		close(w->fd);
		atomic_fetch_sub(&p->alive, 1);
	}
	w->fd = -1;
	if (w->pid <= 0)
		return;
	for (int i = 0; !now && i < 50; i++) {
		if (waitpid(w->pid, &st, WNOHANG) == w->pid) {
			if (how && WIFSIGNALED(st))
				snprintf(how, cap, "crashed (signal %d)", WTERMSIG(st));
			else if (how && WIFEXITED(st))
				snprintf(how, cap, "exited (status %d)", WEXITSTATUS(st));
			w->pid = -1;
			spn_plugin_log_unfollow(w);
			return;
		}
		usleep(10000);
	}
	kill(w->pid, SIGKILL);
	waitpid(w->pid, &st, 0);
	w->pid = -1;
	spn_plugin_log_unfollow(w);
}

void spn_plugin_pool_log(spn_plugin_proc_t *p, json_object *head)
{
	json_object *lv;
	int level = json_object_object_get_ex(head, "level", &lv) ? json_object_get_int(lv) : 2;
	const char *text = spn_json_str_or(head, "text", "");

	spn_plugin_log_line(p, level < 0 || level > 3 ? SPN_LOG_INFO : (spn_log_level_t)level, "", text, strlen(text));
}

int spn_plugin_pool_expect(spn_plugin_proc_t *p, spn_plugin_worker_t *w, const char *want, int timeout_ms,
			   json_object **head)
{
	int64_t deadline = spn_clock_mono_ms() + timeout_ms;
	uint8_t *d;
	size_t l;
	int rc;

	for (;;) {
		int64_t left = deadline - spn_clock_mono_ms();
		const char *op;
		if (left <= 0)
			return SPN_ETIMEOUT;
		if ((rc = spn_frame_recv(w->fd, (int)left, head, &d, &l)))
			return rc;
		free(d);
		op = spn_json_str_or(*head, "op", "");
		if (strcmp(op, "log") == 0) {
			spn_plugin_pool_log(p, *head);
			json_object_put(*head);
			continue;
		}
		if (strcmp(op, want) == 0)
			return 0;
		rc = spn_err(SPN_EPLUGIN, "plugin %s: %s", p->name,
			     spn_json_str_or(*head, "message", "an unexpected answer"));
		json_object_put(*head);
		*head = NULL;
		return rc;
	}
}

int spn_plugin_pool_send(spn_plugin_worker_t *w, json_object *h)
{
	int rc = spn_frame_send(w->fd, h, NULL, 0);

	json_object_put(h);
	return rc;
}

int spn_plugin_pool_hello(spn_plugin_proc_t *p, spn_plugin_worker_t *w, json_object **desc)
{
	json_object *h = json_object_new_object();
	int rc;

	json_object_object_add(h, "op", json_object_new_string("hello"));
	json_object_object_add(h, "name", json_object_new_string(p->name));
	json_object_object_add(h, "path", json_object_new_string(p->path));
	if (p->confine)
		json_object_object_add(h, "confine", json_object_get(p->confine));
	if ((rc = spawn(p, w))) {
		json_object_put(h);
		return rc;
	}
	if ((rc = spn_plugin_pool_send(w, h)) || (rc = spn_plugin_pool_expect(p, w, "hello", HELLO_MS, desc))) {
		spn_plugin_pool_end(p, w, true, NULL, 0);
		return rc == SPN_EPLUGIN ? rc : spn_err(SPN_EPLUGIN, "plugin %s: its process did not answer", p->name);
	}
	return 0;
}

int spn_plugin_pool_init(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	json_object *h = json_object_new_object(), *ans = NULL, *services = json_object_new_array();
	int rc;

	for (size_t i = 0; i < SPN_PLUGIN_SERVICES_MAX && p->services[i]; i++)
		json_object_array_add(services, json_object_new_string(p->services[i]));
	json_object_object_add(h, "op", json_object_new_string("init"));
	json_object_object_add(h, "node", json_object_new_string(p->node));
	json_object_object_add(h, "options", json_object_get(p->options));
	json_object_object_add(h, "services", services);
	json_object_object_add(h, "timeout_ms", json_object_new_int64((int64_t)p->timeout_ms));
	if ((rc = spn_plugin_pool_send(w, h)) || (rc = spn_plugin_pool_expect(p, w, "ready", HELLO_MS, &ans))) {
		spn_plugin_pool_end(p, w, true, NULL, 0);
		return rc == SPN_EPLUGIN ? rc : spn_err(SPN_EPLUGIN, "plugin %s: init did not answer", p->name);
	}
	json_object_put(ans);
	return 0;
}

/* A process in w's place, loaded and initialised. */
static int start(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	json_object *desc = NULL;
	int rc;

	if ((rc = spn_plugin_pool_hello(p, w, &desc)) == 0)
		rc = spn_plugin_pool_init(p, w);
	json_object_put(desc);
	atomic_store(&p->start_failed, rc != 0);
	return rc;
}

int spn_plugin_pool_restart(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	int rc = start(p, w);

	if (rc)
		spn_log_error("plugin %s: could not be started again: %s", p->name, spn_err_detail(rc));
	else
		spn_log_warn("plugin %s: started again (process %d)", p->name, (int)w->pid);
	return rc;
}

int spn_plugin_pool_new(spn_plugin_proc_t *p)
{
	pthread_condattr_t ca;

	for (size_t i = 0; i < SPN_PLUGIN_CONCURRENCY_MAX; i++) {
		p->w[i].fd = -1;
		p->w[i].pid = -1;
		p->w[i].err_fd = -1;
	}
	/* Waits are bounded on the clock that steps of the wall clock leave
	 * alone. */
	if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&p->freed, &ca)) {
		pthread_condattr_destroy(&ca);
		return SPN_ENOMEM;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->log_lock, NULL);
	return 0;
}

void spn_plugin_pool_free(spn_plugin_proc_t *p)
{
	int64_t until = spn_clock_mono_ms() + 1000;
	int st;

	/* Closing the socket is each process's cue to run fini and exit: all
	 * are told first, then given a second between them to do so. */
	for (size_t i = 0; i < SPN_PLUGIN_CONCURRENCY_MAX; i++)
		if (p->w[i].fd >= 0) {
			close(p->w[i].fd);
			atomic_fetch_sub(&p->alive, 1);
			p->w[i].fd = -1;
		}
	for (size_t i = 0; i < SPN_PLUGIN_CONCURRENCY_MAX; i++) {
		pid_t pid = p->w[i].pid, got;
		if (pid <= 0)
			continue;
		while ((got = waitpid(pid, &st, WNOHANG)) == 0 && spn_clock_mono_ms() < until)
			usleep(20000);
		if (got == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		p->w[i].pid = -1;
		spn_plugin_log_unfollow(&p->w[i]);
	}
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->log_lock);
}

static struct timespec mono_at(int64_t ms)
{
	struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	return t;
}

/* An idle process that ended by itself (its CPU budget spent, a crash in
 * a thread of its own) leaves room for a new one, rather than failing the
 * next section handed to it. */
static void reap_idle(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	int st;

	if (waitpid(w->pid, &st, WNOHANG) != w->pid)
		return;
	spn_metrics_inc(&p->ended);
	spn_log_warn("plugin %s: process %d ended while idle (%s %d)", p->name, (int)w->pid,
		     WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	close(w->fd);
	atomic_fetch_sub(&p->alive, 1);
	w->fd = -1;
	w->pid = -1;
	spn_plugin_log_unfollow(w);
}

int spn_plugin_pool_take(spn_plugin_proc_t *p, int64_t wait_ms, spn_plugin_worker_t **out)
{
	int64_t deadline = spn_clock_mono_ms() + wait_ms;
	struct timespec until = mono_at(deadline);
	int failed = 0; /* why a process would not start: then wait for the others */

	pthread_mutex_lock(&p->lock);
	for (;;) {
		spn_plugin_worker_t *idle = NULL, *room = NULL;
		unsigned running = 0;
		for (unsigned i = 0; i < p->concurrency; i++) {
			spn_plugin_worker_t *w = &p->w[i];
			if (!w->busy && w->fd >= 0 && !idle)
				reap_idle(p, w);
			running += w->busy || w->fd >= 0;
			if (!w->busy && w->fd >= 0 && !idle)
				idle = w;
			if (!w->busy && w->fd < 0 && !room)
				room = w;
		}
		if (idle) {
			idle->busy = true;
			pthread_mutex_unlock(&p->lock);
			*out = idle;
			return 0;
		}
		if (room && !failed) {
			/* Started outside the lock: the others serve meanwhile. */
			room->busy = true;
			pthread_mutex_unlock(&p->lock);
			if ((failed = start(p, room)) == 0) {
				if (running)
					spn_log_info("plugin %s: another process started (process %d; %u at most)",
						     p->name, (int)room->pid, p->concurrency);
				*out = room;
				return 0;
			}
			spn_log_error("plugin %s: a process could not be started: %s", p->name, spn_err_detail(failed));
			pthread_mutex_lock(&p->lock);
			room->busy = false;
			pthread_cond_broadcast(&p->freed);
			continue;
		}
		if (failed && !running) {
			pthread_mutex_unlock(&p->lock);
			return spn_err(SPN_EPLUGIN, "plugin %s is not running: %s", p->name, spn_err_detail(failed));
		}
		if (pthread_cond_timedwait(&p->freed, &p->lock, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&p->lock);
			return spn_err(SPN_EPLUGIN,
				       "plugin %s: its %u process%s stayed busy for %lld ms; the section was "
				       "not handed to it and the message was not completed",
				       p->name, p->concurrency, p->concurrency == 1 ? "" : "es", (long long)wait_ms);
		}
	}
}

void spn_plugin_pool_give_ended(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	bool mine;

	/* A section already waiting takes the place and starts a process in
	 * it itself (spn_plugin_pool_take): it does not wait for the restart
	 * too, which could outlast what it may wait. */
	spn_plugin_pool_give(p, w);
	pthread_mutex_lock(&p->lock);
	mine = !w->busy && w->fd < 0;
	if (mine)
		w->busy = true;
	pthread_mutex_unlock(&p->lock);
	if (!mine)
		return;
	spn_plugin_pool_restart(p, w);
	spn_plugin_pool_give(p, w);
}

void spn_plugin_pool_give(spn_plugin_proc_t *p, spn_plugin_worker_t *w)
{
	pthread_mutex_lock(&p->lock);
	w->busy = false;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}
