/* Size-limited reads and atomic, mode-exact writes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"

int spn_file_read(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return spn_err(errno == ENOENT ? SPN_ENOTFOUND : SPN_EIO, "%s: %s", path, strerror(errno));
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return SPN_ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			char *bigger = realloc(buf, cap * 2 + 1);
			if (!bigger) {
				free(buf);
				close(fd);
				return SPN_ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return spn_err(SPN_EIO, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return spn_err(SPN_ETOOBIG, "%s: larger than the limit of %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return SPN_ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) != 0)
			rc = SPN_EIO;
		close(fd);
	}
	free(copy);
	return rc;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode, int replace)
{
	size_t plen = strlen(path) + 16;
	char *tmp = malloc(plen);
	int fd, e;

	if (!tmp)
		return SPN_ENOMEM;
	snprintf(tmp, plen, "%s.tmp%ld", path, (long)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		e = errno;
		free(tmp);
		return spn_err(SPN_EIO, "cannot create %s: %s", path, strerror(e));
	}
	/* The umask may have narrowed the mode; never widen it past mode. */
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return spn_err(SPN_EIO, "cannot write %s: %s", path, strerror(e));
	}
	close(fd);
	if (replace) {
		if (rename(tmp, path) != 0)
			goto fail;
	} else {
		/* link() fails if path exists: no window where it is replaced. */
		if (link(tmp, path) != 0)
			goto fail;
		unlink(tmp);
	}
	free(tmp);
	return sync_dir(path);
fail:
	e = errno;
	unlink(tmp);
	free(tmp);
	return spn_err(e == EEXIST ? SPN_EEXIST : SPN_EIO, "cannot create %s: %s", path, strerror(e));
}

int spn_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file(path, data, len, mode, 1);
}

int spn_file_create(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_file(path, data, len, mode, 0);
}

int spn_file_mkdir(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	int rc = 0;

	if (!copy)
		return SPN_ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST)
			rc = spn_err(SPN_EIO, "cannot create directory %s: %s", copy, strerror(errno));
		*p = '/';
		if (rc)
			break;
	}
	if (!rc && mkdir(copy, mode) != 0 && errno != EEXIST)
		rc = spn_err(SPN_EIO, "cannot create directory %s: %s", copy, strerror(errno));
	free(copy);
	return rc;
}

char *spn_file_join(const char *dir, const char *name)
{
	char *s;

	if (name[0] == '/' || !dir || !*dir)
		return strdup(name);
	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

int spn_file_lock(const char *path, int *fd)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (f < 0)
		return spn_err(SPN_EIO, "cannot open lock file %s: %s", path, strerror(errno));
	while (flock(f, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int rc = spn_err(SPN_EIO, "cannot lock %s: %s", path, strerror(errno));
			close(f);
			return rc;
		}
	}
	*fd = f;
	return 0;
}

void spn_file_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
