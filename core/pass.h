/* Passphrases for encrypted private keys: from an environment variable, or
 * typed at the terminal, never from a command-line argument (visible to
 * every user in ps). */
#pragma once

#include <stdbool.h>

/* Reads the passphrase from the variable env_name if set (and removes it from
 * the environment), else prompts on the controlling terminal with echo off,
 * asking twice when confirm is true. Without either it fails with
 * SPN_EPASSPHRASE and a message naming the variable. The caller releases the
 * string with spn_free_secret_str. */
int spn_pass_get(const char *env_name, const char *prompt, bool confirm, char **out);
