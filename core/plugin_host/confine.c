/* The cage a plugin host shuts itself in before it loads the plugin's code,
 * as spnd's hello asks (core/plugin_confine.c builds the request): another
 * user when spnd runs as root, no new privileges, resource limits, a
 * Landlock domain that sees only the paths it is given and can signal
 * nothing outside it, and a seccomp filter for what Landlock does not
 * cover. Everything is set before the first line of the plugin runs, its
 * constructors included, and none of it can be undone by the plugin. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host.h"
#include "json.h"

/* The Debian header stops at Landlock ABI 2; the kernel's ABI is stable,
 * so the later fields and rights are spelled out here. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};
#define FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)
#define RULE_NET_PORT 2 /* ABI 4 */
struct net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE                                                                                                       \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |              \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM |                     \
	 LANDLOCK_ACCESS_FS_REFER | FS_TRUNCATE)

/* Sanitizer builds (tests only): the runtime reserves terabytes of shadow
 * memory, stops the world with ptrace and a clone of its own to look for
 * leaks, and runs a symbolizer for its reports. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define MAX_PATHS 32

typedef struct {
	int fd[MAX_PATHS];
	uint64_t access[MAX_PATHS];
	size_t n;
} grants_t;

static int fail(char *why, size_t cap, const char *what, int err)
{
	snprintf(why, cap, "%s: %s", what, strerror(err));
	return -1;
}

/* Opened before the user changes: the new user need not be able to walk
 * the directories above a path it is given. Missing system paths (no
 * /lib64 here) are skipped; a missing path spnd gave is an error. */
static int open_grants(json_object *list, uint64_t access, bool optional, grants_t *g, char *why, size_t cap)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		const char *path = json_object_get_string(json_object_array_get_idx(list, i));
		int fd = open(path, O_PATH | O_CLOEXEC);
		struct stat st;
		if (fd < 0 && optional && (errno == ENOENT || errno == ENOTDIR))
			continue;
		if (fd < 0)
			return fail(why, cap, path, errno);
		if (g->n == MAX_PATHS) {
			close(fd);
			snprintf(why, cap, "more than %d paths to grant", MAX_PATHS);
			return -1;
		}
		/* A file takes only file rights. */
		g->access[g->n] = access;
		if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
			g->access[g->n] &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
					   LANDLOCK_ACCESS_FS_READ_FILE | FS_TRUNCATE;
		g->fd[g->n++] = fd;
	}
	return 0;
}

static void close_grants(grants_t *g)
{
	for (size_t i = 0; i < g->n; i++)
		close(g->fd[i]);
	g->n = 0;
}

static int become(json_object *c, char *why, size_t cap)
{
	json_object *u, *gr;
	uid_t uid;
	gid_t gid;

	if (!json_object_object_get_ex(c, "uid", &u) || !json_object_object_get_ex(c, "gid", &gr))
		return 0;
	uid = (uid_t)json_object_get_int64(u);
	gid = (gid_t)json_object_get_int64(gr);
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
		return fail(why, cap, "cannot become the plugin user", errno);
	/* Proof it took: root cannot be got back. */
	if (uid != 0 && setuid(0) == 0) {
		snprintf(why, cap, "still able to become root after the user change");
		return -1;
	}
	return 0;
}

static int limit(int resource, json_object *c, const char *key, rlim_t scale, char *why, size_t cap)
{
	json_object *v;
	struct rlimit r;

	if (!json_object_object_get_ex(c, key, &v) || json_object_get_int64(v) <= 0)
		return 0;
	r.rlim_cur = r.rlim_max = (rlim_t)json_object_get_int64(v) * scale;
	/* RLIMIT_CPU: the soft limit sends SIGXCPU, the hard one SIGKILL a
	 * second later, whatever the plugin does with the first. */
	if (resource == RLIMIT_CPU)
		r.rlim_max = r.rlim_cur + 1;
	if (setrlimit(resource, &r) != 0)
		return fail(why, cap, key, errno);
	return 0;
}

static int limits(json_object *c, char *why, size_t cap)
{
	struct rlimit none = {0, 0};

	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return fail(why, cap, "core", errno);
	if ((!SANITIZED && limit(RLIMIT_AS, c, "memory", 1024 * 1024, why, cap)) ||
	    limit(RLIMIT_CPU, c, "cpu", 1, why, cap) || limit(RLIMIT_NOFILE, c, "files", 1, why, cap))
		return -1;
	return 0;
}

static int landlock_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
}

/* TCP connections to the ports spnd lists, and a bind to an ephemeral
 * port (rule port 0), for a plugin that talks to local services. */
static int net_rules(int rfd, json_object *ports, char *why, size_t cap)
{
	struct net_port_attr np = {NET_BIND_TCP, 0};

	if (syscall(SYS_landlock_add_rule, rfd, RULE_NET_PORT, &np, 0) != 0)
		return fail(why, cap, "landlock_add_rule (bind)", errno);
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		np.allowed_access = NET_CONNECT_TCP;
		np.port = (uint64_t)json_object_get_int(json_object_array_get_idx(ports, i));
		if (syscall(SYS_landlock_add_rule, rfd, RULE_NET_PORT, &np, 0) != 0)
			return fail(why, cap, "landlock_add_rule (connect)", errno);
	}
	return 0;
}

static int landlock(const grants_t *g, bool network, json_object *ports, char *why, size_t cap)
{
	int abi = landlock_abi(), rfd;
	struct ruleset_attr attr = {0};
	size_t size = sizeof(attr);

	if (abi < 0) {
		snprintf(why, cap,
			 "Landlock is not available (%s): the kernel lacks it or it is not among the enabled LSMs "
			 "(lsm= on the kernel command line)",
			 strerror(errno));
		return -1;
	}
	attr.handled_access_fs = ((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1) | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) |
				 (abi >= 3 ? FS_TRUNCATE : 0) | (abi >= 5 ? FS_IOCTL_DEV : 0);
	if (abi >= 4 && !network)
		attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
	if (abi >= 6)
		attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
	/* Older kernels reject fields they do not know, even when zero. */
	if (abi < 4)
		size = offsetof(struct ruleset_attr, handled_access_net);
	else if (abi < 6)
		size = offsetof(struct ruleset_attr, scoped);
	if ((rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0)) < 0)
		return fail(why, cap, "landlock_create_ruleset", errno);
	if (attr.handled_access_net && ports && net_rules(rfd, ports, why, cap)) {
		close(rfd);
		return -1;
	}
	for (size_t i = 0; i < g->n; i++) {
		struct landlock_path_beneath_attr pb = {g->access[i] & attr.handled_access_fs, g->fd[i]};
		if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
			close(rfd);
			return fail(why, cap, "landlock_add_rule", errno);
		}
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) != 0) {
		close(rfd);
		return fail(why, cap, "landlock_restrict_self", errno);
	}
	close(rfd);
	return 0;
}

/* Signals go to this process only: its pid is known now and cannot change
 * without a fork, which the filter refuses too. */
static int self_only(scmp_filter_ctx f, int nr, pid_t me)
{
	return seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 1, SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)me));
}

/* socketpair stays: it reaches no one. Without ports to connect to, no
 * socket; with them, only TCP streams (Landlock holds their ports) and
 * unix ones, for a plugin that talks to local services: no UDP, MPTCP,
 * raw or packet socket, which Landlock would not hold. */
static int socket_rules(scmp_filter_ctx f, bool ports)
{
	int rc;

	if (!ports)
		return seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
	rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_INET6));
	for (int fam = 0; rc == 0 && fam < AF_INET6; fam++)
		if (fam != AF_UNIX && fam != AF_INET)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam));
	/* The type's low bits; the flags (SOCK_CLOEXEC, SOCK_NONBLOCK) above. */
	for (int type = 0; rc == 0 && type < 16; type++)
		if (type != SOCK_STREAM)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
					      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)type));
	/* The protocol: the default (0) or TCP. A stream socket of another
	 * protocol (MPTCP, SCTP) is not TCP to Landlock, whose ports would
	 * not hold it. */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
				      SCMP_A2(SCMP_CMP_GT, (scmp_datum_t)IPPROTO_TCP));
	for (int proto = 1; rc == 0 && proto < IPPROTO_TCP; proto++)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
				      SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)proto));
	return rc;
}

static int seccomp(bool network, json_object *ports, char *why, size_t cap)
{
	static const int denied[] = {
	    SCMP_SYS(process_vm_readv),
	    SCMP_SYS(process_vm_writev),
	    SCMP_SYS(pidfd_send_signal),
	    SCMP_SYS(pidfd_getfd),
	    SCMP_SYS(pidfd_open),
	    SCMP_SYS(kcmp),
	    SCMP_SYS(mount),
	    SCMP_SYS(umount2),
	    SCMP_SYS(pivot_root),
	    SCMP_SYS(chroot),
	    SCMP_SYS(unshare),
	    SCMP_SYS(setns),
	    SCMP_SYS(bpf),
	    SCMP_SYS(keyctl),
	    SCMP_SYS(add_key),
	    SCMP_SYS(request_key),
	    SCMP_SYS(perf_event_open),
	    SCMP_SYS(userfaultfd),
	    SCMP_SYS(init_module),
	    SCMP_SYS(finit_module),
	    SCMP_SYS(delete_module),
	    SCMP_SYS(kexec_load),
	    SCMP_SYS(kexec_file_load),
	    SCMP_SYS(reboot),
	    SCMP_SYS(swapon),
	    SCMP_SYS(swapoff),
	    SCMP_SYS(open_by_handle_at),
	    SCMP_SYS(name_to_handle_at),
	    SCMP_SYS(iopl),
	    SCMP_SYS(ioperm),
	    SCMP_SYS(settimeofday),
	    SCMP_SYS(clock_settime),
	    SCMP_SYS(clock_adjtime),
	    SCMP_SYS(adjtimex),
	    SCMP_SYS(sethostname),
	    SCMP_SYS(setdomainname),
	    SCMP_SYS(acct),
	    SCMP_SYS(quotactl),
	    SCMP_SYS(syslog),
	    SCMP_SYS(fanotify_init),
	    SCMP_SYS(move_pages),
	    SCMP_SYS(migrate_pages),
	    SCMP_SYS(process_madvise),
	    SCMP_SYS(io_uring_setup),
	    SCMP_SYS(io_uring_enter),
	    SCMP_SYS(io_uring_register),
	    SCMP_SYS(fork),
	    SCMP_SYS(vfork),
	    SCMP_SYS(lookup_dcookie),
	    SCMP_SYS(mknod),
	    SCMP_SYS(mknodat),
	};
	/* tkill takes a thread id: this process's first thread has its pid. */
	static const int signals[] = {SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill), SCMP_SYS(rt_sigqueueinfo),
				      SCMP_SYS(rt_tgsigqueueinfo)};
	pid_t me = getpid();
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int rc = f ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < sizeof(denied) / sizeof(denied[0]); i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
	for (size_t i = 0; rc == 0 && i < sizeof(signals) / sizeof(signals[0]); i++)
		rc = self_only(f, signals[i], me);
	/* Limits of other processes are not its business; its own it can
	 * only lower (glibc asks with pid 0). */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prlimit64), 1, SCMP_A0(SCMP_CMP_NE, 0));
	/* clone3 passes its flags in memory the filter cannot read: ENOSYS
	 * sends glibc back to clone, whose flags it can. */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0 && !SANITIZED)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (rc == 0 && !SANITIZED)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0);
	if (rc == 0 && !SANITIZED)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
	if (rc == 0 && !SANITIZED)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0);
	if (rc == 0 && !network)
		rc = socket_rules(f, ports != NULL);
	if (rc == 0)
		rc = seccomp_load(f);
	if (f)
		seccomp_release(f);
	if (rc) {
		snprintf(why, cap, "seccomp filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

int spn_host_confine(json_object *c, char *why, size_t cap)
{
	json_object *read, *write, *v, *ports = NULL;
	const char *cwd = spn_json_str_or(c, "cwd", "/");
	bool on = json_object_object_get_ex(c, "landlock", &v) && json_object_get_boolean(v);
	bool network = json_object_object_get_ex(c, "network", &v) && json_object_get_boolean(v);
	grants_t g = {.n = 0};
	int rc = -1;

	json_object_object_get_ex(c, "read", &read);
	json_object_object_get_ex(c, "write", &write);
	if (!json_object_object_get_ex(c, "connect", &ports) || !json_object_is_type(ports, json_type_array))
		ports = NULL;
	if (open_grants(read, FS_READ | (SANITIZED ? LANDLOCK_ACCESS_FS_EXECUTE : 0), true, &g, why, cap) ||
	    open_grants(write, FS_READ | FS_WRITE, false, &g, why, cap))
		goto out;
	if (chdir(cwd) != 0) {
		fail(why, cap, cwd, errno);
		goto out;
	}
	/* What the plugin's libraries take for scratch space: its own. */
	if (strcmp(cwd, "/") != 0)
		setenv("TMPDIR", cwd, 1);
	if (become(c, why, cap) || limits(c, why, cap))
		goto out;
	/* Libraries turn relative paths into absolute ones (SQLite does):
	 * the way from / must be open to the user it now is. */
	if (strcmp(cwd, "/") != 0 && access(cwd, R_OK | W_OK | X_OK) != 0) {
		snprintf(why, cap,
			 "its data directory %s is out of reach of uid %d (%s): it and every directory above "
			 "it must let that user through",
			 cwd, (int)getuid(), strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fail(why, cap, "no_new_privs", errno);
		goto out;
	}
	if (on && (landlock(&g, network, ports, why, cap) || seccomp(network, ports, why, cap)))
		goto out;
	rc = 0;
out:
	close_grants(&g);
	return rc;
}
