/* What a plugin's processes may reach ([plugins] user, [plugin.<name>]
 * confine, data, memory, cpu, files, network, connect), turned into the "confine"
 * object of the hello that the plugin host applies to itself before it
 * loads the plugin (core/plugin_host/confine.c). spnd decides what is
 * granted, so that it can refuse a grant that would reach its own keys,
 * configuration or ledger before any plugin code runs. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "log.h"
#include "plugin_internal.h"

/* What the host and the libraries it loads read: the system's programs and
 * libraries, the loader's cache, time zones, randomness, and the host's own
 * entries of /proc (resolved by the host: its own pid) and the CPU count.
 * Paths missing on this system are skipped by the host. */
static const char *const system_read[] = {"/usr",
					  "/lib",
					  "/lib64",
					  "/lib32",
					  "/libx32",
					  "/etc/ld.so.cache",
					  "/etc/localtime",
					  "/dev/urandom",
					  "/dev/random",
					  "/proc/self",
					  "/sys/devices/system/cpu"};

/* Where the node keeps what a plugin must never read. */
typedef struct {
	char *path[4];
	size_t n;
} protected_t;

static void protected_add(protected_t *pr, const spn_conf_t *conf, const char *section, const char *key)
{
	char *p = NULL, *dir, real[PATH_MAX];

	if (pr->n == 4)
		return;
	if (!key) {
		p = strdup(spn_conf_dir(conf));
	} else if (spn_conf_get(conf, section, key) && spn_conf_path(conf, section, key, NULL, &p) == 0) {
		/* The file's directory: its neighbours (a passphrase, the
		 * ledger's journal) are as private. */
		if ((dir = strrchr(p, '/')) && dir != p)
			*dir = '\0';
	}
	if (p && realpath(p, real))
		pr->path[pr->n++] = strdup(real);
	free(p);
}

static void protected_free(protected_t *pr)
{
	for (size_t i = 0; i < pr->n; i++)
		free(pr->path[i]);
}

/* 0, or SPN_ECONFIG when granting path would open one of the node's. */
static int check_grant(const spn_plugin_proc_t *p, const protected_t *pr, const char *path, const char *what)
{
	char real[PATH_MAX];
	size_t l;

	if (!realpath(path, real))
		return 0;
	l = strlen(real);
	for (size_t i = 0; i < pr->n; i++)
		if (strcmp(real, "/") == 0 ||
		    (strncmp(pr->path[i], real, l) == 0 && (pr->path[i][l] == '\0' || pr->path[i][l] == '/')))
			return spn_err(SPN_ECONFIG,
				       "plugin %s: %s %s holds %s, where this node keeps its keys, configuration or "
				       "ledger; a plugin may not reach it",
				       p->name, what, real, pr->path[i]);
	return 0;
}

/* uid and gid of [plugins] user when spnd runs as root: a plugin never
 * runs as root, nor as the user owning the node's files. */
static int plugin_user(const spn_plugin_proc_t *p, const spn_conf_t *conf, json_object *c)
{
	const char *user = spn_conf_str(conf, "plugins", "user", SPN_PLUGIN_USER);
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (geteuid() != 0)
		return 0;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return spn_err(SPN_ECONFIG, "%s: [plugins] user: no user '%s' to run plugin %s as", spn_conf_file(conf),
			       user, p->name);
	if (pw.pw_uid == 0)
		return spn_err(SPN_ECONFIG, "%s: [plugins] user: '%s' is root; plugins run as an unprivileged user",
			       spn_conf_file(conf), user);
	json_object_object_add(c, "uid", json_object_new_int64(pw.pw_uid));
	json_object_object_add(c, "gid", json_object_new_int64(pw.pw_gid));
	return 0;
}

/* [plugin.<name>] data: created when missing, private to the plugin. */
static int data_dir(spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, json_object *c)
{
	char *dir = NULL, real[PATH_MAX];
	json_object *uid, *gid;
	int rc;

	if (!spn_conf_get(conf, section, "data"))
		return 0;
	if ((rc = spn_conf_path(conf, section, "data", NULL, &dir)))
		return rc;
	/* A check must not make it: made by root, it would belong to the
	 * wrong user when spnd starts under its own. Its path still places
	 * the plugin's files. */
	if (p->check && access(dir, F_OK) != 0) {
		p->data = dir;
		return 0;
	}
	if (mkdir(dir, 0700) == 0 && json_object_object_get_ex(c, "uid", &uid) &&
	    json_object_object_get_ex(c, "gid", &gid) &&
	    chown(dir, (uid_t)json_object_get_int64(uid), (gid_t)json_object_get_int64(gid)) != 0)
		rc = spn_err(SPN_EIO, "plugin %s: data directory %s: %s", p->name, dir, strerror(errno));
	else if (!realpath(dir, real))
		rc = spn_err(SPN_ECONFIG, "%s: [%s] data: %s: %s", spn_conf_file(conf), section, dir, strerror(errno));
	free(dir);
	if (rc)
		return rc;
	if (!(p->data = strdup(real)))
		return SPN_ENOMEM;
	return 0;
}

/* [plugin.<name>] connect: the TCP ports it may connect to (its
 * upstreams'), as numbers; with them it may open sockets and bind an
 * ephemeral port, nothing more. */
static int connect_ports(const spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, json_object *c)
{
	const char *v = spn_conf_get(conf, section, "connect");
	char *copy, *save = NULL, *end;
	json_object *ports;
	int rc = 0;

	if (!v)
		return 0;
	if (!(copy = strdup(v)))
		return SPN_ENOMEM;
	ports = json_object_new_array();
	for (char *t = strtok_r(copy, ", ", &save); t && rc == 0; t = strtok_r(NULL, ", ", &save)) {
		unsigned long port = strtoul(t, &end, 10);
		if (*end || port == 0 || port > 65535 || t[0] == '0')
			rc = spn_err(SPN_ECONFIG, "%s: [%s] connect: '%s' is not a TCP port (1 to 65535)",
				     spn_conf_file(conf), section, t);
		else
			json_object_array_add(ports, json_object_new_int((int)port));
	}
	free(copy);
	if (rc) {
		json_object_put(ports);
		return rc;
	}
	json_object_object_add(c, "connect", ports);
	/* Ports are Landlock's to hold (ABI 4, Linux 6.7); before, the
	 * plugin may connect anywhere, and the operator must know. */
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) < 4)
		spn_log_warn("plugin %s: [%s] connect: this kernel's Landlock cannot restrict TCP ports; the plugin "
			     "may connect to any port",
			     p->name, section);
	return 0;
}

static json_object *strings(const char *const *s, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(s[i]));
	return a;
}

/* Every directory of the search path, read-only: libltdl looks for the
 * plugin's .la and .so there. */
static int plugin_dirs(spn_plugin_proc_t *p, const protected_t *pr, json_object *read)
{
	char *copy = strdup(p->path), *save = NULL;
	int rc = copy ? 0 : SPN_ENOMEM;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && rc == 0; d = strtok_r(NULL, ":", &save))
		if ((rc = check_grant(p, pr, d, "[plugins] path")) == 0)
			json_object_array_add(read, json_object_new_string(d));
	free(copy);
	return rc;
}

int spn_plugin_confine_load(spn_plugin_proc_t *p, const spn_conf_t *conf)
{
	static const char *const dev_null[] = {"/dev/null"};
	json_object *c = json_object_new_object(), *read, *write;
	protected_t pr = {.n = 0};
	char section[80];
	unsigned long memory, cpu, files;
	bool on, network, have_data;
	int rc;

	snprintf(section, sizeof(section), "plugin.%s", p->name);
	if ((rc = spn_conf_bool(conf, section, "confine", true, &on)) ||
	    (rc = spn_conf_bool(conf, section, "network", false, &network)) ||
	    (rc = spn_conf_uint(conf, section, "memory", SPN_PLUGIN_MEMORY_MB, 16, 1UL << 20, &memory)) ||
	    (rc = spn_conf_duration(conf, section, "cpu", SPN_PLUGIN_CPU_S, &cpu)) ||
	    (rc = spn_conf_uint(conf, section, "files", SPN_PLUGIN_FILES, 16, 65536, &files)) ||
	    (rc = spn_conf_uint(conf, section, "log_rate", SPN_PLUGIN_LOG_RATE, 256, 1UL << 24, &p->log_rate)) ||
	    (rc = plugin_user(p, conf, c)) || (rc = data_dir(p, conf, section, c)) ||
	    (rc = connect_ports(p, conf, section, c)))
		goto out;
	protected_add(&pr, conf, NULL, NULL);
	protected_add(&pr, conf, "node", "key");
	protected_add(&pr, conf, "ca", "key");
	protected_add(&pr, conf, "ca", "ledger");
	read = strings(system_read, sizeof(system_read) / sizeof(system_read[0]));
	write = strings(dev_null, 1);
	json_object_object_add(c, "read", read);
	json_object_object_add(c, "write", write);
	for (size_t i = 0; rc == 0 && i < sizeof(system_read) / sizeof(system_read[0]); i++)
		if (strncmp(system_read[i], "/proc", 5) != 0)
			rc = check_grant(p, &pr, system_read[i], "the system path");
	/* The host's own program: what a sanitizer's report reads symbols
	 * from. */
	if (rc == 0 && (rc = check_grant(p, &pr, p->host, "[plugins] host")) == 0)
		json_object_array_add(read, json_object_new_string(p->host));
	if (rc == 0)
		rc = plugin_dirs(p, &pr, read);
	/* One a check did not make is not there to grant. */
	have_data = p->data && access(p->data, F_OK) == 0;
	if (rc == 0 && have_data && (rc = check_grant(p, &pr, p->data, "its data directory")) == 0)
		json_object_array_add(write, json_object_new_string(p->data));
	json_object_object_add(c, "cwd", json_object_new_string(have_data ? p->data : "/"));
	json_object_object_add(c, "landlock", json_object_new_boolean(on));
	json_object_object_add(c, "network", json_object_new_boolean(network));
	json_object_object_add(c, "memory", json_object_new_int64((int64_t)memory));
	json_object_object_add(c, "cpu", json_object_new_int64((int64_t)cpu));
	json_object_object_add(c, "files", json_object_new_int64((int64_t)files));
	p->confined = on;
	if (rc == 0 && !on)
		spn_log_warn("plugin %s: runs unconfined ([%s] confine = off): it can read what this node's user "
			     "can, this node's keys included, and signal its processes",
			     p->name, section);
out:
	protected_free(&pr);
	if (rc)
		json_object_put(c);
	else
		p->confine = c;
	return rc;
}

int spn_plugin_confine_path(const spn_plugin_proc_t *p, const spn_conf_t *conf, const char *section, const char *key,
			    char **path)
{
	char *joined;
	size_t l;

	if (p->data && (*path)[0] != '/') {
		if (!(joined = spn_file_join(p->data, *path)))
			return SPN_ENOMEM;
		free(*path);
		*path = joined;
	}
	if (!p->confined)
		return 0;
	l = p->data ? strlen(p->data) : 0;
	if (!p->data || strncmp(*path, p->data, l) != 0 || (*path)[l] != '/' || strstr(*path + l, "/../") ||
	    (strlen(*path) >= 3 && strcmp(*path + strlen(*path) - 3, "/..") == 0))
		return spn_err(SPN_ECONFIG,
			       "%s: [%s] %s: %s is outside the plugin's data directory ([%s] data%s%s), the only "
			       "place a confined plugin can reach",
			       spn_conf_file(conf), section, key, *path, section, p->data ? " = " : ", not set",
			       p->data ? p->data : "");
	return 0;
}
