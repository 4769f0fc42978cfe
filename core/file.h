/* Reading files with a size limit and writing them atomically with an exact
 * mode, so that a private key is never visible with looser permissions and a
 * crash never leaves half a file. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads at most max bytes of path into a NUL-terminated buffer the caller
 * frees; a longer file is SPN_ETOOBIG. */
int spn_file_read(const char *path, size_t max, char **out, size_t *len);

/* Writes data to path through a temporary file in the same directory,
 * created with mode, synced, then renamed over path. */
int spn_file_write(const char *path, const void *data, size_t len, mode_t mode);

/* Like spn_file_write but refuses to replace an existing file. */
int spn_file_create(const char *path, const void *data, size_t len, mode_t mode);

/* Creates a directory (and missing parents) with mode. */
int spn_file_mkdir(const char *path, mode_t mode);

/* Takes an exclusive lock on the lock file path (created, mode 0644),
 * waiting for whoever holds it, process or thread; *fd holds the lock until
 * spn_file_unlock. */
int spn_file_lock(const char *path, int *fd);
void spn_file_unlock(int fd);

/* Joins dir and name unless name is absolute; caller frees. */
char *spn_file_join(const char *dir, const char *name);
