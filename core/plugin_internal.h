/* What spnd's side of a plugin shares between its parts: plugin.c (what
 * the plugin is: descriptor, options, services, CA hooks), plugin_pool.c
 * (the processes it runs in) and plugin_handle.c (a section handed to one
 * of them). */
#pragma once

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "metrics.h"
#include "plugin.h"

#define SPN_PLUGIN_SERVICES_MAX 32

/* One of the plugin's processes, or the room for one (fd -1). */
typedef struct {
	pid_t pid;
	int fd;
	bool busy; /* handed to one section or hook, or being started */
	/* Its standard error, read into the log by a thread (plugin_log.c). */
	int err_fd;
	int err_stop;
	pthread_t err_thread;
	spn_plugin_proc_t *owner;
} spn_plugin_worker_t;

struct spn_plugin_proc {
	char name[64];
	char *host, *path, *node;
	json_object *options; /* the values sent with init */
	char *services[SPN_PLUGIN_SERVICES_MAX + 1];
	unsigned long timeout_ms;
	unsigned concurrency; /* processes at most: w[0 .. concurrency - 1] */
	bool ca_hooks;
	json_object *confine; /* sent with hello (plugin_confine.c) */
	char *data;           /* [plugin.<name>] data, absolute, or NULL */
	bool confined;
	bool check; /* spnd --check-config: nothing is run, nothing made */
	/* What it may write into the node's log in a second, and what it
	 * wrote or had dropped in the current one (plugin_log.c). */
	unsigned long log_rate, log_used, log_dropped;
	int64_t log_window;
	pthread_mutex_t log_lock;
	pthread_mutex_t lock; /* the workers' busy flags */
	pthread_cond_t freed; /* a worker was given back */
	spn_plugin_worker_t w[SPN_PLUGIN_CONCURRENCY_MAX];
	/* What it did, for metrics and health: sections handed to it, those
	 * that got no answer, processes that ended under it. */
	spn_metrics_counter_t calls, failures, ended;
	spn_metrics_hist_t latency;
	atomic_bool start_failed; /* the last process it tried to start would not */
	/* Processes running: kept apart from the places' fds, which the
	 * thread holding a place writes without the lock, for readers of
	 * figures (health, metrics) that hold no place. */
	atomic_uint alive;
};

/* Sets up p's pool (empty) and tears it down (every process stopped). */
int spn_plugin_pool_new(spn_plugin_proc_t *p);
void spn_plugin_pool_free(spn_plugin_proc_t *p);

/* Starts a process in w's place and loads the plugin; *desc is what it
 * says of itself (the caller puts it). */
int spn_plugin_pool_hello(spn_plugin_proc_t *p, spn_plugin_worker_t *w, json_object **desc);
/* Runs the plugin's init in w with p's options. */
int spn_plugin_pool_init(spn_plugin_proc_t *p, spn_plugin_worker_t *w);

/* A process for one section or hook, marked busy: an idle one, else one
 * started where there is room, else the first given back within wait_ms.
 * SPN_EPLUGIN, saying why, when none came. */
int spn_plugin_pool_take(spn_plugin_proc_t *p, int64_t wait_ms, spn_plugin_worker_t **out);
void spn_plugin_pool_give(spn_plugin_proc_t *p, spn_plugin_worker_t *w);

/* w's process is done for: reaped, killed first unless it goes by itself
 * at once (a crash closes the socket just before the process is gone);
 * *how says how it ended. Then started again in its place. */
void spn_plugin_pool_end(spn_plugin_proc_t *p, spn_plugin_worker_t *w, bool now, char *how, size_t cap);
int spn_plugin_pool_restart(spn_plugin_proc_t *p, spn_plugin_worker_t *w);
/* Gives back a place whose process spn_plugin_pool_end ended: to a section
 * waiting for one, else started again here. */
void spn_plugin_pool_give_ended(spn_plugin_proc_t *p, spn_plugin_worker_t *w);

/* A request to w, and the wait for its answer want (log lines passed on
 * meanwhile). send takes h. */
int spn_plugin_pool_send(spn_plugin_worker_t *w, json_object *h);
int spn_plugin_pool_expect(spn_plugin_proc_t *p, spn_plugin_worker_t *w, const char *want, int timeout_ms,
			   json_object **head);
/* A log line of the plugin's, into the node's log under its name. */
void spn_plugin_pool_log(spn_plugin_proc_t *p, json_object *head);

/* Reads [plugins] user and [plugin.<name>]'s confine, data, memory, cpu,
 * files, network and log_rate into p (confine, data, confined, log_rate),
 * refusing any grant that would reach the node's own files. */
int spn_plugin_confine_load(spn_plugin_proc_t *p, const spn_conf_t *conf);
/* A path option of the plugin's: a relative one is made relative to its
 * data directory (when it has one); a confined plugin's must lie in it.
 * *path is replaced (the caller frees it). */
int spn_plugin_confine_path(const spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, const char *key,
			    char **path);

/* A line of the plugin's into the node's log: marked with its name and
 * how (" (stderr)", or "" for its log calls), escaped, cut in pieces of at
 * most 400 bytes, within log_rate. */
void spn_plugin_log_line(spn_plugin_proc_t *p, spn_log_level_t level, const char *how, const char *text, size_t len);
/* Reads fd, the standard error of w's process, into the log until the
 * process is gone; unfollow (after the process is reaped) waits for that
 * and closes fd. */
int spn_plugin_log_follow(spn_plugin_proc_t *p, spn_plugin_worker_t *w, int fd);
void spn_plugin_log_unfollow(spn_plugin_worker_t *w);

/* The answers in a reply (ok) or fail frame of plugin name: part 0 is the
 * caller's reply, then one part per carried section, "given" saying which
 * were answered. What is taken is copied into out. */
int spn_plugin_answers_take(const char *name, json_object *head, const uint8_t *d, size_t l, size_t n_attached, bool ok,
			    spn_plugin_answer_t *out);

/* A CA hook's verdict ans as r's request takes it: 0 to go on (at the
 * adjust stage with r's services and validity narrowed as it says), -1
 * with r->why when it refuses. */
int spn_plugin_verdict_read(const char *name, json_object *ans, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r);
