/* Plugin processes: spawn, hello, option check, init, handle, restart. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "frame.h"
#include "ident.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "plugin.h"
#include "spn/plugin.h"

#define HELLO_MS 10000
#define SERVICES_MAX 32
#define CA_HOOK_MS 5000  /* the PSP waits no longer for a policy hook */
#define NESTED_MAX 8

/* The plugins this thread is handling a section for, outermost first: a
 * plugin that calls a service whose plugin is already among them would
 * wait for itself. */
static __thread const spn_plugin_proc_t *held[NESTED_MAX];
static __thread int n_held;

struct spn_plugin_proc {
	char name[64];
	char *host, *path, *node;
	json_object *options;        /* the values sent with init */
	char *services[SERVICES_MAX + 1];
	unsigned long timeout_ms;
	bool ca_hooks;
	pthread_mutex_t lock;
	pid_t pid;
	int fd;
};

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

static int spawn(spn_plugin_proc_t *p)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, deflt;
	char *argv[] = {p->host, NULL};
	env_t env;
	int sv[2], child, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return spn_err(SPN_EIO, "plugin %s: socketpair: %s", p->name, strerror(errno));
	/* The child's end must not already be 3, where dup2 would keep its
	 * close-on-exec flag. */
	child = sv[1];
	if (child == 3) {
		child = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
		close(sv[1]);
	}
	/* Nothing to read, nothing to print on: standard input and output
	 * are /dev/null; standard error stays spnd's (a crash's last words).
	 * Signals as a new program expects them, not spnd's blocked set. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
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
	rc = posix_spawn(&p->pid, p->host, &fa, &attr, argv, clean_env(&env));
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(child);
	if (rc != 0) {
		close(sv[0]);
		return spn_err(SPN_ECONFIG, "plugin %s: cannot start %s: %s", p->name, p->host, strerror(rc));
	}
	p->fd = sv[0];
	return 0;
}

/* The process is done for: reaped, and killed first when it is still
 * there after a moment (a crashing process closes its socket just before
 * it is gone). *how says how it ended. */
static void end(spn_plugin_proc_t *p, bool now, char *how, size_t cap)
{
	int st = 0;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->pid <= 0)
		return;
	for (int i = 0; !now && i < 50; i++) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			if (how && WIFSIGNALED(st))
				snprintf(how, cap, "crashed (signal %d)", WTERMSIG(st));
			else if (how && WIFEXITED(st))
				snprintf(how, cap, "exited (status %d)", WEXITSTATUS(st));
			p->pid = -1;
			return;
		}
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
	p->pid = -1;
}

/* A log line of the plugin's, into the node's log under its name. */
static void pass_log(spn_plugin_proc_t *p, json_object *head)
{
	json_object *lv;
	int level = json_object_object_get_ex(head, "level", &lv) ? json_object_get_int(lv) : 2;

	spn_log(level < 0 || level > 3 ? SPN_LOG_INFO : (spn_log_level_t)level, "plugin %s: %s", p->name,
		spn_json_str_or(head, "text", ""));
}

/* Waits for the answer to op, passing log lines on. */
static int expect(spn_plugin_proc_t *p, const char *want, int timeout_ms, json_object **head)
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
		if ((rc = spn_frame_recv(p->fd, (int)left, head, &d, &l)))
			return rc;
		free(d);
		op = spn_json_str_or(*head, "op", "");
		if (strcmp(op, "log") == 0) {
			pass_log(p, *head);
			json_object_put(*head);
			continue;
		}
		if (strcmp(op, want) == 0)
			return 0;
		rc = spn_err(SPN_EPLUGIN, "plugin %s: %s", p->name, spn_json_str_or(*head, "message", "an unexpected answer"));
		json_object_put(*head);
		*head = NULL;
		return rc;
	}
}

static int send_op(spn_plugin_proc_t *p, json_object *h)
{
	int rc = spn_frame_send(p->fd, h, NULL, 0);

	json_object_put(h);
	return rc;
}

/* Loads the plugin in a new process and describes it into p. */
static int hello(spn_plugin_proc_t *p, json_object **desc)
{
	json_object *h = json_object_new_object();
	char how[64] = "";
	int rc;

	json_object_object_add(h, "op", json_object_new_string("hello"));
	json_object_object_add(h, "name", json_object_new_string(p->name));
	json_object_object_add(h, "path", json_object_new_string(p->path));
	if ((rc = spawn(p))) {
		json_object_put(h);
		return rc;
	}
	if ((rc = send_op(p, h)) || (rc = expect(p, "hello", HELLO_MS, desc))) {
		end(p, true, how, sizeof(how));
		return rc == SPN_EPLUGIN ? rc : spn_err(SPN_EPLUGIN, "plugin %s: its process did not answer", p->name);
	}
	return 0;
}

static int init(spn_plugin_proc_t *p)
{
	json_object *h = json_object_new_object(), *ans = NULL;
	int rc;

	json_object_object_add(h, "op", json_object_new_string("init"));
	json_object_object_add(h, "node", json_object_new_string(p->node));
	json_object_object_add(h, "options", json_object_get(p->options));
	if ((rc = send_op(p, h)) || (rc = expect(p, "ready", HELLO_MS, &ans))) {
		end(p, true, NULL, 0);
		return rc == SPN_EPLUGIN ? rc : spn_err(SPN_EPLUGIN, "plugin %s: init did not answer", p->name);
	}
	json_object_put(ans);
	return 0;
}

/* The plugin's options, checked against what it declares (with the file,
 * line and key of anything wrong), defaults filled in, paths absolute. */
static int options(spn_plugin_proc_t *p, const spn_conf_t *conf, json_object *desc)
{
	static const char *const others[] = {"", NULL};
	char section[80];
	json_object *list;
	spn_conf_key_t *schema;
	size_t n;
	int rc;

	snprintf(section, sizeof(section), "plugin.%s", p->name);
	if (!json_object_object_get_ex(desc, "options", &list) || !json_object_is_type(list, json_type_array))
		return spn_err(SPN_EPLUGIN, "plugin %s: no option list", p->name);
	n = json_object_array_length(list);
	if (!(schema = calloc(n + 2, sizeof(*schema))))
		return SPN_ENOMEM;
	/* spnd's own keys, for every plugin. */
	schema[n] = (spn_conf_key_t){section, "timeout", SPN_CONF_DURATION, 1, 3600, NULL};
	schema[n + 1] = (spn_conf_key_t){section, "services", SPN_CONF_LIST, 1, 0, NULL};
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i), *v;
		const char *type = spn_json_str_or(o, "type", "string");
		schema[i].section = section;
		schema[i].key = spn_json_str_or(o, "name", "");
		schema[i].type = strcmp(type, "uint") == 0 ? SPN_CONF_UINT : strcmp(type, "bool") == 0 ? SPN_CONF_BOOL
												: SPN_CONF_STR;
		if (json_object_object_get_ex(o, "min", &v))
			schema[i].min = (unsigned long)json_object_get_int64(v);
		if (json_object_object_get_ex(o, "max", &v))
			schema[i].max = (unsigned long)json_object_get_int64(v);
		if (schema[i].type == SPN_CONF_STR)
			schema[i].min = schema[i].max = 0;
	}
	rc = spn_conf_check(conf, schema, n + 2, others);
	p->options = json_object_new_object();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		const char *key = spn_json_str_or(o, "name", ""), *def = spn_json_str_or(o, "default", NULL);
		const char *v = spn_conf_str(conf, section, key, def);
		char *abs = NULL;
		if (!v) {
			rc = spn_err(SPN_ECONFIG, "%s: [%s] %s: required by plugin %s", spn_conf_file(conf), section, key,
				     p->name);
			break;
		}
		if (strcmp(spn_json_str_or(o, "type", ""), "path") == 0 && v[0] != '/') {
			if ((rc = spn_conf_path(conf, section, key, def, &abs)))
				break;
			v = abs;
		}
		json_object_object_add(p->options, key, json_object_new_string(v));
		free(abs);
	}
	if (rc == 0)
		rc = spn_conf_duration(conf, section, "timeout", SPN_PLUGIN_TIMEOUT_MS / 1000, &p->timeout_ms);
	p->timeout_ms *= 1000;
	free(schema);
	return rc;
}

/* Whether the descriptor's list declares name, or takes any service the
 * configuration names. */
static bool declares(json_object *list, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (strcmp(s, name) == 0 || strcmp(s, SPN_PLUGIN_CONFIGURED_SERVICES) == 0)
			return true;
	}
	return false;
}

static int add_service(spn_plugin_proc_t *p, size_t *k, const char *name)
{
	for (size_t i = 0; i < *k; i++)
		if (strcmp(p->services[i], name) == 0)
			return 0;
	if (*k == SERVICES_MAX)
		return spn_err(SPN_EPLUGIN, "plugin %s: more than %d services", p->name, SERVICES_MAX);
	if (!(p->services[*k] = strdup(name)))
		return SPN_ENOMEM;
	(*k)++;
	return 0;
}

/* [plugin.<name>] services: a subset of what the descriptor declares, or
 * any service when it declares SPN_PLUGIN_CONFIGURED_SERVICES. */
static int chosen_services(spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, const char *value,
			   json_object *list)
{
	char *copy = strdup(value), *save = NULL;
	size_t k = 0;
	int rc = copy ? 0 : SPN_ENOMEM;

	for (char *s = copy ? strtok_r(copy, ", ", &save) : NULL; s && rc == 0; s = strtok_r(NULL, ", ", &save)) {
		if (!spn_service_name_is_valid(s))
			rc = spn_err(SPN_ECONFIG, "%s: [%s] services: '%s' is not a service name", spn_conf_file(conf),
				     section, s);
		else if (!declares(list, s))
			rc = spn_err(SPN_ECONFIG,
				     "%s: [%s] services: plugin %s does not provide %s (this key only narrows what a "
				     "plugin provides)",
				     spn_conf_file(conf), section, p->name, s);
		else
			rc = add_service(p, &k, s);
	}
	free(copy);
	return rc;
}

/* The services it provides: as its descriptor declares them, or as its
 * section narrows them. */
static int services(spn_plugin_proc_t *p, const spn_conf_t *conf, json_object *desc)
{
	const char *chosen;
	json_object *list, *v;
	char section[80];
	size_t n, k = 0;
	int rc = 0;

	p->ca_hooks = json_object_object_get_ex(desc, "ca_hooks", &v) && json_object_get_boolean(v);
	if (!json_object_object_get_ex(desc, "services", &list) || !json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) > SERVICES_MAX || (n == 0 && !p->ca_hooks))
		return spn_err(SPN_EPLUGIN, "plugin %s: 1 to %d services, or CA policy hooks", p->name, SERVICES_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (!json_object_is_type(json_object_array_get_idx(list, i), json_type_string) ||
		    (!spn_service_name_is_valid(s) && strcmp(s, SPN_PLUGIN_CONFIGURED_SERVICES) != 0))
			return spn_err(SPN_EPLUGIN, "plugin %s: its services must be service names", p->name);
	}
	snprintf(section, sizeof(section), "plugin.%s", p->name);
	if ((chosen = spn_conf_get(conf, section, "services")))
		return chosen_services(p, conf, section, chosen, list);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(list, i));
		if (strcmp(s, SPN_PLUGIN_CONFIGURED_SERVICES) != 0)
			rc = add_service(p, &k, s);
	}
	if (rc == 0 && n && !k)
		rc = spn_err(SPN_ECONFIG,
			     "%s: [%s] services: required: plugin %s provides the services its configuration names",
			     spn_conf_file(conf), section, p->name);
	return rc;
}

int spn_plugin_proc_start(const spn_plugin_spec_t *spec, spn_plugin_proc_t **out)
{
	spn_plugin_proc_t *p = calloc(1, sizeof(*p));
	json_object *desc = NULL;
	int rc;

	*out = NULL;
	if (!p)
		return SPN_ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->fd = -1;
	p->pid = -1;
	snprintf(p->name, sizeof(p->name), "%s", spec->name);
	if (!(p->host = strdup(spec->host)) || !(p->path = strdup(spec->path)) || !(p->node = strdup(spec->node))) {
		spn_plugin_proc_stop(p);
		return SPN_ENOMEM;
	}
	if ((rc = hello(p, &desc)) == 0 && (rc = options(p, spec->conf, desc)) == 0 &&
	    (rc = services(p, spec->conf, desc)) == 0)
		rc = init(p);
	json_object_put(desc);
	if (rc) {
		spn_plugin_proc_stop(p);
		return rc;
	}
	spn_log_info("plugin %s: started (process %d)%s%s%s%s", p->name, (int)p->pid, p->services[0] ? ", provides " : "",
		     p->services[0] ? p->services[0] : "", p->services[0] && p->services[1] ? ", ..." : "",
		     p->ca_hooks ? ", with CA policy hooks" : "");
	*out = p;
	return 0;
}

void spn_plugin_proc_stop(spn_plugin_proc_t *p)
{
	int st;

	if (!p)
		return;
	/* Closing the socket is the plugin's cue to run fini and exit. */
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
		for (int i = 0; i < 50 && p->pid > 0 && waitpid(p->pid, &st, WNOHANG) == 0; i++)
			usleep(20000);
		if (p->pid > 0 && waitpid(p->pid, &st, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
		}
	}
	for (size_t i = 0; p->services[i]; i++)
		free(p->services[i]);
	json_object_put(p->options);
	free(p->host);
	free(p->path);
	free(p->node);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

const char *spn_plugin_proc_name(const spn_plugin_proc_t *p)
{
	return p->name;
}

static int restart(spn_plugin_proc_t *p);

bool spn_plugin_proc_has_ca(const spn_plugin_proc_t *p)
{
	return p->ca_hooks;
}

int spn_plugin_proc_ca(spn_plugin_proc_t *p, spn_ca_hook_stage_t stage, spn_ca_hook_req_t *r)
{
	static const char *const stages[] = {"authorize", "adjust", "issued"};
	static const char *const roles[] = {"psp", "admin", "spn", "client"};
	json_object *h = json_object_new_object(), *svc = json_object_new_array(), *ans = NULL, *v;
	int rc;

	for (size_t i = 0; i < r->id.n_services; i++)
		json_object_array_add(svc, json_object_new_string(r->id.services[i]));
	json_object_object_add(h, "op", json_object_new_string("ca"));
	json_object_object_add(h, "stage", json_object_new_string(stages[stage]));
	json_object_object_add(h, "node", json_object_new_string(r->id.node_id));
	json_object_object_add(h, "role", json_object_new_string(roles[r->id.role & 3]));
	json_object_object_add(h, "trust", json_object_new_int((int)r->id.trust));
	json_object_object_add(h, "services", svc);
	json_object_object_add(h, "accepted_by", json_object_new_string(r->accepted_by ? r->accepted_by : ""));
	json_object_object_add(h, "validity", json_object_new_int64((int64_t)r->validity));
	json_object_object_add(h, "serial", json_object_new_string(r->serial ? r->serial : ""));
	pthread_mutex_lock(&p->lock);
	if (p->fd < 0 && restart(p) != 0) {
		pthread_mutex_unlock(&p->lock);
		json_object_put(h);
		snprintf(r->why, sizeof(r->why), "policy plugin %s is not running", p->name);
		return -1;
	}
	if ((rc = send_op(p, h)) == 0)
		rc = expect(p, "ca_verdict", p->timeout_ms < CA_HOOK_MS ? (int)p->timeout_ms : CA_HOOK_MS, &ans);
	if (rc) {
		end(p, true, NULL, 0);
		restart(p);
		pthread_mutex_unlock(&p->lock);
		snprintf(r->why, sizeof(r->why), "policy plugin %s did not answer", p->name);
		return -1;
	}
	pthread_mutex_unlock(&p->lock);
	if (!json_object_object_get_ex(ans, "allow", &v) || !json_object_get_boolean(v)) {
		snprintf(r->why, sizeof(r->why), "%s (plugin %s)", spn_json_str_or(ans, "reason", "no reason given"), p->name);
		json_object_put(ans);
		return -1;
	}
	if (stage == SPN_CA_HOOK_ADJUST) {
		spn_ident_t narrowed = r->id;
		narrowed.n_services = 0;
		if (json_object_object_get_ex(ans, "services", &v) && json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				spn_ident_add_service(&narrowed, json_object_get_string(json_object_array_get_idx(v, i)));
		r->id = narrowed;
		if (json_object_object_get_ex(ans, "validity", &v) && json_object_get_int64(v) > 0 &&
		    (unsigned long)json_object_get_int64(v) < r->validity)
			r->validity = (unsigned long)json_object_get_int64(v);
	}
	json_object_put(ans);
	return 0;
}

unsigned long spn_plugin_proc_timeout_ms(const spn_plugin_proc_t *p)
{
	return p->timeout_ms;
}

const char *const *spn_plugin_proc_services(const spn_plugin_proc_t *p)
{
	return (const char *const *)p->services;
}

/* Started again after a crash or a hang. */
static int restart(spn_plugin_proc_t *p)
{
	json_object *desc = NULL;
	int rc;

	if ((rc = hello(p, &desc)) == 0)
		rc = init(p);
	json_object_put(desc);
	if (rc)
		spn_log_error("plugin %s: could not be started again: %s", p->name, spn_err_detail(rc));
	else
		spn_log_warn("plugin %s: started again (process %d)", p->name, (int)p->pid);
	return rc;
}

static json_object *part_head(const spn_plugin_part_t *part)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "author", json_object_new_string(part->author ? part->author : ""));
	json_object_object_add(o, "verified", json_object_new_boolean(part->verified));
	return o;
}

static int send_request(spn_plugin_proc_t *p, const spn_plugin_req_t *rq)
{
	json_object *h = part_head(&rq->main), *parts = json_object_new_array(), *att = json_object_new_array();
	size_t total = rq->main.len;
	uint8_t *data, *w;
	int rc;

	for (size_t i = 0; i < rq->n_attached; i++)
		total += rq->attached[i].len;
	if (!(data = malloc(total ? total : 1))) {
		json_object_put(h);
		json_object_put(parts);
		json_object_put(att);
		return SPN_ENOMEM;
	}
	w = data;
	memcpy(w, rq->main.data, rq->main.len);
	w += rq->main.len;
	json_object_array_add(parts, json_object_new_int64((int64_t)rq->main.len));
	for (size_t i = 0; i < rq->n_attached; i++) {
		memcpy(w, rq->attached[i].data, rq->attached[i].len);
		w += rq->attached[i].len;
		json_object_array_add(parts, json_object_new_int64((int64_t)rq->attached[i].len));
		json_object_array_add(att, part_head(&rq->attached[i]));
	}
	json_object_object_add(h, "op", json_object_new_string("handle"));
	json_object_object_add(h, "service", json_object_new_string(rq->service));
	json_object_object_add(h, "mid", json_object_new_string(rq->mid));
	json_object_object_add(h, "parts", parts);
	json_object_object_add(h, "attached", att);
	rc = spn_frame_send(p->fd, h, data, total);
	json_object_put(h);
	spn_free_secret(data, total ? total : 1);
	return rc;
}

/* A call the plugin makes while handling: done, and answered. */
static int do_call(spn_plugin_proc_t *p, json_object *head, const uint8_t *data, size_t len, spn_plugin_call_fn call,
		   void *user)
{
	json_object *h = json_object_new_object();
	uint8_t *ans = NULL;
	size_t alen = 0;
	int rc = call ? call(user, spn_json_str_or(head, "service", ""), data, len, &ans, &alen) : SPN_EUNSUPPORTED;

	if (!call) {
		ans = (uint8_t *)strdup("calls to other services are not available here");
		alen = ans ? strlen((char *)ans) : 0;
	}
	json_object_object_add(h, "op", json_object_new_string("call_reply"));
	json_object_object_add(h, "ok", json_object_new_boolean(rc == 0));
	rc = spn_frame_send(p->fd, h, ans, alen);
	json_object_put(h);
	if (ans)
		spn_free_secret(ans, alen);
	return rc;
}

void spn_plugin_answer_clear(spn_plugin_answer_t *a)
{
	if (a->reply.data)
		spn_free_secret(a->reply.data, a->reply.len);
	for (size_t i = 0; i < SPN_PLUGIN_ATTACHED_MAX; i++)
		if (a->attached[i].data)
			spn_free_secret(a->attached[i].data, a->attached[i].len);
	memset(a, 0, sizeof(*a));
}

static int copy_out(spn_plugin_out_t *o, const uint8_t *d, size_t l)
{
	if (!(o->data = malloc(l + 1)))
		return SPN_ENOMEM;
	memcpy(o->data, d, l);
	o->data[l] = 0;
	o->len = l;
	o->given = true;
	return 0;
}

/* The answers in a reply or fail frame: part 0 is the caller's reply, then
 * one part per carried section, "given" saying which were answered. */
static int take_answers(spn_plugin_proc_t *p, json_object *head, const uint8_t *d, size_t l, size_t n_attached,
			bool ok, spn_plugin_answer_t *out)
{
	json_object *given, *g;
	const uint8_t *part;
	size_t plen;

	if (spn_frame_part(head, d, l, 0, &part, &plen) != 0 ||
	    (n_attached && (!json_object_object_get_ex(head, "given", &given) ||
			    !json_object_is_type(given, json_type_array) ||
			    json_object_array_length(given) != n_attached)))
		return spn_err(SPN_EIO, "plugin %s: its answers do not add up", p->name);
	if (ok && copy_out(&out->reply, part, plen))
		return SPN_ENOMEM;
	for (size_t i = 0; i < n_attached; i++) {
		g = json_object_array_get_idx(given, i);
		if (spn_frame_part(head, d, l, i + 1, &part, &plen) != 0)
			return spn_err(SPN_EIO, "plugin %s: its answers do not add up", p->name);
		if (json_object_get_boolean(g) && copy_out(&out->attached[i], part, plen))
			return SPN_ENOMEM;
	}
	return 0;
}

static int converse(spn_plugin_proc_t *p, const spn_plugin_req_t *rq, spn_plugin_call_fn call, void *user,
		    spn_plugin_answer_t *out)
{
	int64_t deadline = spn_clock_mono_ms() + (int64_t)p->timeout_ms;
	/* The services it calls do not count against its time, within reason:
	 * a plugin that keeps calling is stopped all the same. */
	int64_t hard = spn_clock_mono_ms() + 10 * (int64_t)p->timeout_ms;
	json_object *head;
	uint8_t *d;
	size_t l;
	int rc;

	if ((rc = send_request(p, rq)))
		return rc == SPN_ETOOBIG ? spn_err(SPN_EPLUGIN, "plugin %s: the section is too large to hand over", p->name)
					 : rc;
	for (;;) {
		int64_t left = deadline - spn_clock_mono_ms(), t0;
		const char *op;
		if (left <= 0)
			return SPN_ETIMEOUT;
		if ((rc = spn_frame_recv(p->fd, (int)left, &head, &d, &l)))
			return rc;
		op = spn_json_str_or(head, "op", "");
		if (strcmp(op, "reply") == 0 || strcmp(op, "fail") == 0) {
			bool ok = strcmp(op, "reply") == 0;
			rc = take_answers(p, head, d, l, rq->n_attached, ok, out);
			if (rc == 0 && !ok)
				rc = spn_err(SPN_EPLUGIN, "plugin %s: %s", p->name, spn_json_str_or(head, "message", "failed"));
		} else if (strcmp(op, "log") == 0) {
			pass_log(p, head);
		} else if (strcmp(op, "call") == 0) {
			/* The time the other service takes is not the plugin's. */
			t0 = spn_clock_mono_ms();
			rc = do_call(p, head, d, l, call, user);
			deadline += spn_clock_mono_ms() - t0;
			if (deadline > hard)
				deadline = hard;
		} else {
			rc = spn_err(SPN_EIO, "plugin %s: an unexpected answer", p->name);
		}
		if (d)
			spn_free_secret(d, l + 1);
		json_object_put(head);
		if (rc || out->reply.given)
			return rc;
	}
}

int spn_plugin_proc_handle(spn_plugin_proc_t *p, const spn_plugin_req_t *rq, spn_plugin_call_fn call, void *user,
			   spn_plugin_answer_t *out)
{
	char how[64] = "stopped answering";
	int rc;

	memset(out, 0, sizeof(*out));
	if (rq->n_attached > SPN_PLUGIN_ATTACHED_MAX)
		return spn_err(SPN_ETOOBIG, "more than %d carried sections for one plugin", SPN_PLUGIN_ATTACHED_MAX);
	for (int i = 0; i < n_held; i++)
		if (held[i] == p)
			return spn_err(SPN_ELOOP, "plugin %s is already handling a section of this message on this node: "
						  "the services call each other in a circle",
				       p->name);
	if (n_held == NESTED_MAX)
		return spn_err(SPN_ELOOP, "calls between plugins nested deeper than %d on this node", NESTED_MAX);
	held[n_held++] = p;
	pthread_mutex_lock(&p->lock);
	if (p->fd < 0 && (rc = restart(p))) {
		rc = spn_err(SPN_EPLUGIN, "plugin %s is not running: %s", p->name, spn_err_detail(rc));
		goto out;
	}
	rc = converse(p, rq, call, user, out);
	if (rc == SPN_ETIMEOUT) {
		end(p, true, NULL, 0);
		rc = spn_err(SPN_EPLUGIN, "plugin %s did not answer within %lu ms and was stopped; the message was not "
					  "completed",
			     p->name, p->timeout_ms);
		spn_log_error("%s", spn_err_detail(rc));
		restart(p);
	} else if (rc && rc != SPN_EPLUGIN) {
		end(p, false, how, sizeof(how));
		rc = spn_err(SPN_EPLUGIN, "plugin %s %s; the message was not completed", p->name, how);
		spn_log_error("%s", spn_err_detail(rc));
		restart(p);
	}
out:
	pthread_mutex_unlock(&p->lock);
	n_held--;
	return rc;
}
