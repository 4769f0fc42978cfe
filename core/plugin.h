/* spnd's side of a plugin (include/spn/plugin.h): the processes it runs
 * in, spn-plugin-host, each started with a clean environment and no
 * descriptor but its socket; its descriptor and options checked; sections
 * handed to it several at once, one per process, with its calls to other
 * services done for it; and when a process crashes or hangs, that one
 * killed and started again, and its section answered with what happened. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "conf.h"
#include "metrics.h"

typedef struct spn_plugin_proc spn_plugin_proc_t;

/* [plugin.<name>] timeout when it is not set, in milliseconds. */
#define SPN_PLUGIN_TIMEOUT_MS 10000
/* [plugin.<name>] concurrency: the processes a plugin may run in at once,
 * when it is not set, and at most. */
#define SPN_PLUGIN_CONCURRENCY 4
#define SPN_PLUGIN_CONCURRENCY_MAX 64
/* What each of a plugin's processes may use when its section does not say
 * (doc/operator-guide.md): address space in MiB ([plugin.<name>] memory),
 * CPU seconds over its life (cpu), open descriptors (files), bytes of log
 * a second (log_rate); and the user plugins run as when spnd is root
 * ([plugins] user). */
#define SPN_PLUGIN_MEMORY_MB 1024
#define SPN_PLUGIN_CPU_S 3600
#define SPN_PLUGIN_FILES 64
#define SPN_PLUGIN_LOG_RATE 16384
#define SPN_PLUGIN_USER "nobody"

/* Whether name is one of the keys spnd reads in every [plugin.<name>]: a
 * plugin may not declare an option of that name. */
bool spn_plugin_key_is_spnds(const char *name);

typedef struct {
	const char *name;     /* the name it is enabled under */
	const char *host;     /* the spn-plugin-host program */
	const char *path;     /* where its file is: directories separated by ':' */
	const char *node;     /* this node's id */
	const spn_conf_t *conf;
	bool check;           /* check its descriptor and options only: no init */
} spn_plugin_spec_t;

/* Starts the plugin: loads it, checks its descriptor and its section
 * [plugin.<name>] of conf against the options it declares, runs its init
 * (unless spec->check). Every failure names the plugin, its file and the
 * reason. */
int spn_plugin_proc_start(const spn_plugin_spec_t *spec, spn_plugin_proc_t **out);
void spn_plugin_proc_stop(spn_plugin_proc_t *p);

const char *spn_plugin_proc_name(const spn_plugin_proc_t *p);
/* Whether it has CA policy hooks (the PSP runs them). */
bool spn_plugin_proc_has_ca(const spn_plugin_proc_t *p);

/* Runs its hook for stage on r: nonzero with r->why set refuses; ADJUST
 * may narrow r->id's services and r->validity. A plugin that does not
 * answer refuses. */
int spn_plugin_proc_ca(spn_plugin_proc_t *p, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r);
/* How long it may take over a section ([plugin.<name>] timeout), in
 * milliseconds, not counting the services it calls. */
unsigned long spn_plugin_proc_timeout_ms(const spn_plugin_proc_t *p);
/* How many processes it may run in at once ([plugin.<name>] concurrency). */
unsigned spn_plugin_proc_concurrency(const spn_plugin_proc_t *p);
/* The services it provides, NULL-terminated; valid while p lives. */
const char *const *spn_plugin_proc_services(const spn_plugin_proc_t *p);

/* One section's plaintext and who wrote it. */
typedef struct {
	const char *author;
	bool verified;
	const uint8_t *data;
	size_t len;
} spn_plugin_part_t;

typedef struct {
	const char *service, *mid;
	spn_plugin_part_t main;
	const spn_plugin_part_t *attached;   /* the client's sections for this service carried along */
	size_t n_attached;
} spn_plugin_req_t;

/* Does a plugin's call to another service: 0 with the reply, or an error
 * code with *reply holding the reason (text). *reply is the callee's to
 * allocate and the caller's to free. */
typedef int (*spn_plugin_call_fn)(void *user, const char *service, const uint8_t *data, size_t len, uint8_t **reply,
				  size_t *reply_len);

#define SPN_PLUGIN_ATTACHED_MAX 16

/* One answer of the plugin's: to the caller, or to a carried section. */
typedef struct {
	uint8_t *data;
	size_t len;
	bool given;
} spn_plugin_out_t;

/* What the plugin answered: the caller's reply (on success) and, apart,
 * the reply to each carried section it chose to answer. */
typedef struct {
	spn_plugin_out_t reply;
	spn_plugin_out_t attached[SPN_PLUGIN_ATTACHED_MAX];
} spn_plugin_answer_t;

/* Wipes and frees what an answer holds. */
void spn_plugin_answer_clear(spn_plugin_answer_t *a);

/* Hands one section (with at most SPN_PLUGIN_ATTACHED_MAX carried ones) to
 * a free process of the plugin's, waiting for one at most the plugin's
 * [plugin.<name>] timeout, and waits for its answers (that timeout again,
 * not counting its calls); out is the caller's to clear. Holds nothing
 * other sections need while it waits or while the plugin's calls are
 * done. 0 with the reply given; SPN_EPLUGIN when no process was free in
 * time, or the plugin refused, failed, crashed or took too long, saying
 * which (replies to carried sections it gave before refusing are in out
 * all the same). */
int spn_plugin_proc_handle(spn_plugin_proc_t *p, const spn_plugin_req_t *rq, spn_plugin_call_fn call, void *user,
			   spn_plugin_answer_t *out);

/* What it did so far, for metrics and health: sections handed to it and
 * those that got no answer, processes that crashed, hung or exited (each
 * is replaced), how long sections took; its processes now, and whether
 * none runs because the last one tried would not start. latency is valid
 * while p lives. */
typedef struct {
	uint64_t calls, failures, ended;
	const spn_metrics_hist_t *latency;
	unsigned processes;
	bool failed;
} spn_plugin_stats_t;
void spn_plugin_proc_stats(spn_plugin_proc_t *p, spn_plugin_stats_t *out);
