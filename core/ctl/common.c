/* Helpers shared by the spnctl commands. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
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

int spnctl_ledger(const spn_conf_t *conf, spn_ledger_t **out)
{
	char *path;
	int rc = spn_conf_path(conf, "ca", "ledger", NULL, &path);

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
