/* Handling of secrets in memory: wiping and constant-time comparison. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Overwrites len bytes at p in a way the compiler cannot drop. */
void spn_wipe(void *p, size_t len);

/* Wipes then frees a buffer of len bytes; p may be NULL. */
void spn_free_secret(void *p, size_t len);

/* Wipes then frees a NUL-terminated secret string; s may be NULL. */
void spn_free_secret_str(char *s);

/* Compares two buffers in time that depends only on len. */
bool spn_mem_is_equal(const void *a, const void *b, size_t len);
