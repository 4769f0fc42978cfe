/* Helpers shared by the spnctl commands. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "pki_cert.h"
#include "schema.h"
#include "spnctl.h"

int spnctl_fail(const char *what, int rc)
{
	fprintf(stderr, "spnctl: %s: %s\n", what, spn_err_detail(rc));
	return 1;
}

int spnctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("spnctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int spnctl_conf(const char *path, spn_conf_t **out)
{
	int rc;

	if (!path)
		return spn_err(SPN_ECONFIG, "no configuration given (-c FILE)");
	if ((rc = spn_conf_load(path, out)))
		return rc;
	if ((rc = spn_schema_check(*out)) || (rc = spn_schema_open_log(*out))) {
		spn_conf_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Whose configuration it is, as its certificate says: "an administrator's". */
static const char *whose(const spn_conf_t *conf)
{
	gnutls_x509_crt_t crt;
	spn_ident_t id;
	char *path = NULL;
	int rc;

	if (spn_conf_path(conf, "node", "cert", NULL, &path))
		return "not the PSP's";
	rc = spn_pki_cert_load(path, &crt);
	free(path);
	if (rc)
		return "not the PSP's";
	rc = spn_pki_cert_ident(crt, &id);
	gnutls_x509_crt_deinit(crt);
	if (rc)
		return "not the PSP's";
	switch (id.role) {
	case SPN_ROLE_ADMIN: return "an administrator's";
	case SPN_ROLE_SPN: return "a service node's";
	case SPN_ROLE_CLIENT: return "a client's";
	default: return "the PSP's, without its [ca] section";
	}
}

int spnctl_psp_conf(const char *path, spn_conf_t **out)
{
	int rc = spnctl_conf(path, out);

	if (rc || spn_conf_has_section(*out, "ca"))
		return rc;
	rc = spn_err(SPN_ECONFIG, "runs on the PSP only (a configuration with [ca]); %s is %s's, %s",
		     spn_conf_file(*out), spn_conf_str(*out, "node", "id", "?"), whose(*out));
	spn_conf_free(*out);
	*out = NULL;
	return rc;
}

int spnctl_ledger(const spn_conf_t *conf, spn_ledger_t **out)
{
	char *path;
	int rc = spn_ca_ledger_location(conf, &path);

	if (rc)
		return rc;
	rc = spn_ledger_open(path, SPN_LEDGER_READ, out);
	free(path);
	return rc;
}

int spnctl_arg_text(const char *arg, size_t max, char **out, size_t *len)
{
	if (strcmp(arg, "-") == 0)
		return spn_file_read("/dev/stdin", max, out, len);
	if (arg[0] == '@')
		return spn_file_read(arg + 1, max, out, len);
	*len = strlen(arg);
	if (*len > max)
		return spn_err(SPN_ETOOBIG, "argument longer than %zu bytes", max);
	*out = strdup(arg);
	return *out ? 0 : SPN_ENOMEM;
}

int spnctl_output(const char *path, const void *data, size_t len, unsigned mode)
{
	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return spn_err(SPN_EIO, "cannot write to standard output");
		return 0;
	}
	return spn_file_create(path, data, len, (mode_t)mode);
}

int spnctl_output_free(const char *path)
{
	if (path && strcmp(path, "-") != 0 && access(path, F_OK) == 0)
		return spn_err(SPN_EEXIST, "%s already exists; refusing to overwrite it", path);
	return 0;
}
