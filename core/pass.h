/* Passphrases for encrypted private keys: from an environment variable, or
 * typed at the terminal, never from a command-line argument (visible to
 * every user in ps). */
#pragma once

#include <stdbool.h>

#include "conf.h"

/* Reads the passphrase from the variable env_name if set (and removes it from
 * the environment), else prompts on the controlling terminal with echo off,
 * asking twice when confirm is true. Without either it fails with
 * SPN_EPASSPHRASE and a message naming the variable. The caller releases the
 * string with spn_free_secret_str. */
int spn_pass_get(const char *env_name, const char *prompt, bool confirm, char **out);

/* Where the passphrase of a key comes from: a file (its first line), else
 * the service manager's credential of that name, else the variable env,
 * else the terminal. A daemon under a service manager gets it from a file
 * the manager provides (systemd's LoadCredential=) or from its
 * environment, and needs no terminal. */
typedef struct {
	char *file;    /* owned; NULL: none */
	char cred[64]; /* looked up in $CREDENTIALS_DIRECTORY; "": none */
	const char *env;
	const char *given; /* a passphrase already read (borrowed); taken first */
} spn_pass_src_t;

/* The source a configuration names in section: the keys <prefix>_file (a
 * path, relative to the configuration) and <prefix>_env (default
 * default_env), and the credential "<section>-<prefix>" with '_' written
 * '-' ("ca-passphrase", "node-key-passphrase"). Release with
 * spn_pass_src_clear. */
int spn_pass_src_conf(const spn_conf_t *conf, const char *section, const char *prefix, const char *default_env,
		      spn_pass_src_t *src);
void spn_pass_src_clear(spn_pass_src_t *src);

/* Reads the passphrase from src: from the file when one is named, else
 * from the credential when the service manager passed it (each refusing a
 * file that others may read, an empty one and one longer than the limit),
 * else as spn_pass_get. Release with spn_free_secret_str. */
int spn_pass_read(const spn_pass_src_t *src, const char *prompt, char **out);
