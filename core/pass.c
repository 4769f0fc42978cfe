/* Passphrase acquisition: from a file, a service manager's credential, the
 * environment or the controlling terminal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "mem.h"
#include "pass.h"

#define PASS_MAX 1024

static int read_tty(int fd, const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	size_t n = 0;
	char c;
	int rc = 0;

	if (tcgetattr(fd, &old) != 0)
		return spn_err(SPN_EPASSPHRASE, "cannot use the terminal: %s", strerror(errno));
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		return spn_err(SPN_EPASSPHRASE, "cannot use the terminal: %s", strerror(errno));
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= cap) {
			rc = spn_err(SPN_EPASSPHRASE, "passphrase longer than %d bytes", PASS_MAX);
			break;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	c = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = rc ? rc : SPN_EIO;
	return rc;
}

int spn_pass_get(const char *env_name, const char *prompt, bool confirm, char **out)
{
	const char *v = env_name ? getenv(env_name) : NULL;
	char *a, *b;
	int fd, rc;

	if (v) {
		if (!*v)
			return spn_err(SPN_EPASSPHRASE, "%s is set but empty", env_name);
		a = strdup(v);
		if (!a)
			return SPN_ENOMEM;
		/* Child processes need not inherit it. */
		spn_wipe((char *)v, strlen(v));
		unsetenv(env_name);
		*out = a;
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return spn_err(SPN_EPASSPHRASE,
			       "no passphrase: set %s or run on a terminal to be prompted",
			       env_name ? env_name : "the passphrase variable");
	a = malloc(PASS_MAX);
	b = malloc(PASS_MAX);
	if (!a || !b) {
		rc = SPN_ENOMEM;
		goto out;
	}
	rc = read_tty(fd, prompt, a, PASS_MAX);
	if (!rc && !*a)
		rc = spn_err(SPN_EPASSPHRASE, "empty passphrase");
	if (!rc && confirm) {
		rc = read_tty(fd, "Again: ", b, PASS_MAX);
		if (!rc && strcmp(a, b) != 0)
			rc = spn_err(SPN_EPASSPHRASE, "the two passphrases differ");
	}
out:
	close(fd);
	spn_free_secret(b, PASS_MAX);
	if (rc) {
		spn_free_secret(a, PASS_MAX);
		return rc;
	}
	*out = a;
	return 0;
}

int spn_pass_src_conf(const spn_conf_t *conf, const char *section, const char *prefix, const char *default_env,
		      spn_pass_src_t *src)
{
	char key[64];

	memset(src, 0, sizeof(*src));
	snprintf(key, sizeof(key), "%s_env", prefix);
	src->env = spn_conf_str(conf, section, key, default_env);
	snprintf(src->cred, sizeof(src->cred), "%s-%s", section, prefix);
	for (char *p = src->cred; *p; p++)
		*p = *p == '_' ? '-' : *p;
	snprintf(key, sizeof(key), "%s_file", prefix);
	return spn_conf_get(conf, section, key) ? spn_conf_path(conf, section, key, NULL, &src->file) : 0;
}

void spn_pass_src_clear(spn_pass_src_t *src)
{
	free(src->file);
	src->file = NULL;
}

/* The first line of a passphrase file that others may not read. Its group
 * may: a service manager grants the service's user access with an ACL,
 * whose mask shows as group bits (systemd's credentials read 0440). */
static int read_file(const char *path, char **out)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	ssize_t r = 0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return spn_err(SPN_EPASSPHRASE, "passphrase file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && (st.st_mode & 007)) {
		close(fd);
		return spn_err(SPN_EPASSPHRASE, "%s: passphrase file is accessible to others (mode %03o); chmod 600 it",
			       path, (unsigned)(st.st_mode & 0777));
	}
	if (!(buf = malloc(PASS_MAX + 1))) {
		close(fd);
		return SPN_ENOMEM;
	}
	while (n < PASS_MAX + 1 && ((r = read(fd, buf + n, PASS_MAX + 1 - n)) > 0 || (r < 0 && errno == EINTR)))
		n += r > 0 ? (size_t)r : 0;
	close(fd);
	if (r < 0)
		rc = spn_err(SPN_EPASSPHRASE, "passphrase file %s: %s", path, strerror(errno));
	buf[n < PASS_MAX ? n : PASS_MAX] = '\0';
	n = strcspn(buf, "\r\n");
	if (rc == 0 && buf[n] == '\0' && n == PASS_MAX)
		rc = spn_err(SPN_EPASSPHRASE, "passphrase file %s: passphrase longer than %d bytes", path,
			     PASS_MAX - 1);
	else if (rc == 0 && n == 0)
		rc = spn_err(SPN_EPASSPHRASE, "passphrase file %s is empty", path);
	if (rc) {
		spn_free_secret(buf, PASS_MAX + 1);
		return rc;
	}
	/* Only the first line counts; what follows is wiped with the rest. */
	spn_wipe(buf + n, PASS_MAX + 1 - n);
	*out = buf;
	return 0;
}

int spn_pass_read(const spn_pass_src_t *src, const char *prompt, char **out)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char path[PATH_MAX];

	if (src->given)
		return (*out = strdup(src->given)) ? 0 : SPN_ENOMEM;
	if (src->file)
		return read_file(src->file, out);
	/* systemd names the directory only when the unit loads credentials;
	 * one that was not loaded falls through to the variable. */
	if (creds && *creds == '/' && src->cred[0] &&
	    snprintf(path, sizeof(path), "%s/%s", creds, src->cred) < (int)sizeof(path) && access(path, F_OK) == 0)
		return read_file(path, out);
	return spn_pass_get(src->env, prompt, false, out);
}
