/* Passphrase acquisition from the environment or the controlling terminal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
