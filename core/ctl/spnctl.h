/* What the spnctl commands share: the command table, option helpers and the
 * one way they report failure. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "ca.h"
#include "conf.h"

typedef int (*spnctl_fn)(int argc, char **argv);

int spnctl_init(int argc, char **argv);
int spnctl_keygen(int argc, char **argv);
int spnctl_csr(int argc, char **argv);
int spnctl_enroll(int argc, char **argv);
int spnctl_tree(int argc, char **argv);
int spnctl_token(int argc, char **argv);
int spnctl_issue(int argc, char **argv);
int spnctl_issue_pseudo(int argc, char **argv);
int spnctl_list(int argc, char **argv);
int spnctl_show(int argc, char **argv);
int spnctl_revoke(int argc, char **argv);
int spnctl_hold(int argc, char **argv);
int spnctl_release(int argc, char **argv);
int spnctl_crl(int argc, char **argv);
int spnctl_log(int argc, char **argv);

/* Prints "spnctl: <what>: <detail of rc>" and returns exit status 1. */
int spnctl_fail(const char *what, int rc);
/* Prints a usage error and returns exit status 2. */
int spnctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads and checks the configuration, opens the log. */
int spnctl_conf(const char *path, spn_conf_t **out);
/* The same for the commands that run on the PSP only: another node's
 * configuration is refused as such, with whose it is. */
int spnctl_psp_conf(const char *path, spn_conf_t **out);
/* Opens only the ledger of the CA in conf (no key, no passphrase). */
int spnctl_ledger(const spn_conf_t *conf, spn_ledger_t **out);
/* An argument given as text, or "@file" to read it from a file, or "-" for
 * standard input; caller frees. */
int spnctl_arg_text(const char *arg, size_t max, char **out, size_t *len);
/* Refuses before any work is done when the output file already exists, so
 * that an issued certificate is never left without a place to go. */
int spnctl_output_free(const char *path);
/* Writes to path with mode (refusing to replace it), or to stdout for NULL/"-". */
int spnctl_output(const char *path, const void *data, size_t len, unsigned mode);

/* The user a node's service runs as (spnctl enroll --user). */
typedef struct {
	uid_t uid;
	gid_t gid;
} spnctl_owner_t;
int spnctl_owner(const char *name, spnctl_owner_t *out);
/* Gives dir and everything below it to o, and makes dir 0700. */
int spnctl_give(const char *dir, const spnctl_owner_t *o);
