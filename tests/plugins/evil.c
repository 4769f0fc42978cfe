/* evil: a plugin that tries, on request, what a confined plugin must not
 * manage, and answers what each attempt returned ("ok" or the errno's
 * name), for tests/integration/plugin_confine.sh to check from inside and
 * from outside. The section is JSON: "do" is "attack" (every attempt that
 * returns), "read" (the reads only), "spin" (CPU until stopped) or "flood"
 * (standard error as fast as it goes, forged log lines included); "files"
 * lists what to read, "outside" where to write, "pid" spnd's pid. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spn/plugin.h"

static const char *const services[] = {"evil", NULL};

static const char *result(int rc)
{
	return rc == 0 ? "ok" : strerrorname_np(errno) ? strerrorname_np(errno) : "failed";
}

static void put(json_object *out, const char *what, int rc)
{
	json_object_object_add(out, what, json_object_new_string(result(rc)));
}

static int read_file(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n < 0 ? -1 : 0;
}

static int write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, "evil\n", 5) != 5) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* spnd as /proc tells it: the parent in /proc/self/stat, then its
 * own /proc entry read as proof it can be seen. */
static int proc_parent(pid_t *pid)
{
	char buf[512], path[64], *p;
	int fd = open("/proc/self/stat", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || !(p = strrchr(buf, ')')))
		return -1;
	buf[n] = '\0';
	if (sscanf(p, ") %*c %d", pid) != 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)*pid);
	return read_file(path);
}

static int stop_and_resume(pid_t pid)
{
	if (kill(pid, SIGSTOP) != 0)
		return -1;
	/* It got through: the test sees the failure in the answer; the node
	 * is resumed so that the answer reaches it. */
	kill(pid, SIGCONT);
	return 0;
}

static int trace(pid_t pid)
{
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) != 0)
		return -1;
	waitpid(pid, NULL, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return 0;
}

static int peek(pid_t pid)
{
	char buf[16];
	struct iovec local = {buf, sizeof(buf)}, remote = {(void *)0x400000, sizeof(buf)};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 && errno != EFAULT ? -1 : 0;
}

/* Twice its address space limit, touched; the limit reported too (-1 for
 * none). */
static int hog(json_object *out)
{
	struct rlimit r;
	size_t want;
	char *p;

	getrlimit(RLIMIT_AS, &r);
	json_object_object_add(out, "memory_limit",
			       json_object_new_int64(r.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)r.rlim_cur));
	/* No limit (a sanitizer build): nothing to overrun. */
	if (r.rlim_cur == RLIM_INFINITY) {
		errno = ENOSYS;
		return -1;
	}
	want = (size_t)r.rlim_cur * 2;
	if (!(p = malloc(want)))
		return -1;
	for (size_t i = 0; i < want; i += 4096)
		p[i] = 1;
	free(p);
	return 0;
}

static int spawn_child(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -1;
	waitpid(pid, NULL, 0);
	return 0;
}

static int net(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* A TCP connection to 127.0.0.1:port: 0 when it is made. */
static int tcp_to(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc;
}

static int sock_of(int family, int type, int proto)
{
	int fd = socket(family, type, proto);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* With [plugin.evil] connect: what it may and may not open and reach. */
static void sockets(json_object *in, json_object *out)
{
	json_object *v;
	int allowed = json_object_object_get_ex(in, "allowed", &v) ? json_object_get_int(v) : 0;
	int other = json_object_object_get_ex(in, "other", &v) ? json_object_get_int(v) : 0;

	put(out, "tcp_allowed", tcp_to(allowed));
	put(out, "tcp_other", tcp_to(other));
	put(out, "udp", sock_of(AF_INET, SOCK_DGRAM, 0));
	put(out, "mptcp", sock_of(AF_INET, SOCK_STREAM, 262 /* IPPROTO_MPTCP */));
	put(out, "sctp", sock_of(AF_INET, SOCK_STREAM, IPPROTO_SCTP));
	put(out, "raw", sock_of(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	put(out, "packet", sock_of(AF_PACKET, SOCK_RAW, 0));
	put(out, "netlink", sock_of(AF_NETLINK, SOCK_RAW, 0));
	put(out, "unix_dgram", sock_of(AF_UNIX, SOCK_DGRAM, 0));
}

/* What /proc/self/status says of NoNewPrivs and Seccomp. */
static void status(json_object *out)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		int v;
		if (sscanf(line, "NoNewPrivs: %d", &v) == 1)
			json_object_object_add(out, "no_new_privs", json_object_new_int(v));
		if (sscanf(line, "Seccomp: %d", &v) == 1)
			json_object_object_add(out, "seccomp", json_object_new_int(v));
	}
	if (f)
		fclose(f);
	json_object_object_add(out, "uid", json_object_new_int((int)getuid()));
}

static void reads(json_object *in, json_object *out)
{
	json_object *files, *f = json_object_new_object();

	if (json_object_object_get_ex(in, "files", &files))
		for (size_t i = 0; i < json_object_array_length(files); i++) {
			const char *path = json_object_get_string(json_object_array_get_idx(files, i));
			json_object_object_add(f, path, json_object_new_string(result(read_file(path))));
		}
	json_object_object_add(out, "read", f);
}

static void attack(json_object *in, json_object *out)
{
	json_object *v;
	pid_t spnd = json_object_object_get_ex(in, "pid", &v) ? (pid_t)json_object_get_int(v) : getppid(), found = 0;
	const char *outside = json_object_object_get_ex(in, "outside", &v) ? json_object_get_string(v) : "/tmp/evil";

	reads(in, out);
	put(out, "write_outside", write_file(outside));
	put(out, "write_data", write_file("evil-data-probe"));
	put(out, "stop_parent", stop_and_resume(getppid()));
	put(out, "proc_parent", proc_parent(&found));
	put(out, "stop_found", found > 0 ? stop_and_resume(found) : (errno = ESRCH, -1));
	put(out, "stop_pid", stop_and_resume(spnd));
	put(out, "kill_group", kill(0, SIGCONT));
	put(out, "ptrace", trace(spnd));
	put(out, "peek", peek(spnd));
	put(out, "memory", hog(out));
	put(out, "fork", spawn_child());
	put(out, "socket", net());
	status(out);
}

/* Lines that pass for spnd's, a terminal escape, and bulk, as fast as the
 * pipe takes them, for two seconds. */
static void flood(spn_plugin_ctx_t *ctx, json_object *out)
{
	static const char forged[] = "2030-01-01T00:00:00.000Z error FORGED-BY-EVIL node stopping\n"
				     "\x1b[2J\rFORGED-BY-EVIL info session opened\n";
	char bulk[4096];
	struct timespec t0, t;
	long long sent = 0;

	memset(bulk, 'x', sizeof(bulk));
	bulk[sizeof(bulk) - 1] = '\n';
	spn_plugin_log(ctx, 2, "logged\nFORGED-BY-EVIL error through the log call");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ssize_t n = write(2, forged, sizeof(forged) - 1);
		ssize_t m = write(2, bulk, sizeof(bulk));
		sent += (n > 0 ? n : 0) + (m > 0 ? m : 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 2);
	json_object_object_add(out, "flooded", json_object_new_int64(sent));
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	size_t len;
	const char *text = (const char *)spn_request_data(req, &len);
	json_object *in = json_tokener_parse(text), *out = json_object_new_object(), *v;
	const char *what = in && json_object_object_get_ex(in, "do", &v) ? json_object_get_string(v) : "";
	int rc;

	if (strcmp(what, "sockets") == 0)
		sockets(in, out);
	else if (strcmp(what, "attack") == 0)
		attack(in, out);
	else if (strcmp(what, "read") == 0)
		reads(in, out);
	else if (strcmp(what, "flood") == 0)
		flood(ctx, out);
	else if (strcmp(what, "spin") == 0)
		for (volatile unsigned long i = 0;; i++)
			;
	text = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &len);
	rc = spn_request_reply(req, text, len);
	json_object_put(out);
	json_object_put(in);
	return rc;
}

SPN_PLUGIN(evil, services, NULL, NULL, handle, NULL);
