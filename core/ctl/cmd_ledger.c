/* spnctl list, show and log: read the ledger without unlocking the CA key. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "error.h"
#include "spnctl.h"

static const char *when(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (!t)
		return "-";
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int print_row(const spn_ledger_cert_t *c, void *user)
{
	char svc[1100], a[32];

	(void)user;
	printf("%-32s  %-16s  %-6s  %5u  %-8s  %-20s  %-16s  %s\n", c->serial, c->id.node_id, spn_role_name(c->id.role),
	       c->id.trust, spn_cert_status_name(c->status), when(c->not_after, a, sizeof(a)),
	       c->parent[0] ? c->parent : "-", spn_ident_services_str(&c->id, svc, sizeof(svc)));
	return 0;
}

/* Parses "-c CONF [--all] [ARG]" shared by the ledger commands. */
static int ledger_args(int argc, char **argv, const char *usage, const char **conf, bool *all, const char **arg)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:ah", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *conf = optarg; break;
		case 'a': if (all) { *all = true; break; } return spnctl_usage("--all is not an option here");
		case 'h': printf("usage: %s\n", usage); return -1;
		default: return 2;
		}
	}
	if (arg) {
		if (optind != argc - 1)
			return spnctl_usage("usage: %s", usage);
		*arg = argv[optind];
	} else if (optind != argc) {
		return spnctl_usage("usage: %s", usage);
	}
	return 0;
}

static int open_ledger(const char *path, spn_conf_t **conf, spn_ledger_t **ledger)
{
	int rc = spnctl_psp_conf(path, conf);

	if (rc == 0 && (rc = spnctl_ledger(*conf, ledger)) != 0) {
		spn_conf_free(*conf);
		*conf = NULL;
	}
	return rc;
}

int spnctl_list(int argc, char **argv)
{
	const char *path = NULL;
	bool all = false;
	spn_conf_t *conf;
	spn_ledger_t *ledger;
	int rc = ledger_args(argc, argv, "spnctl list -c CONF [--all]  (--all includes expired certificates)", &path,
			     &all, NULL);

	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = open_ledger(path, &conf, &ledger)))
		return spnctl_fail("list", rc);
	printf("%-32s  %-16s  %-6s  %5s  %-8s  %-20s  %-16s  %s\n", "SERIAL", "NODE", "ROLE", "TRUST", "STATUS",
	       "NOT AFTER", "ACCEPTED BY", "SERVICES");
	rc = spn_ledger_cert_each(ledger, all, spn_clock_now(), print_row, NULL);
	spn_ledger_close(ledger);
	spn_conf_free(conf);
	return rc ? spnctl_fail("list", rc) : 0;
}

int spnctl_show(int argc, char **argv)
{
	const char *path = NULL, *serial = NULL;
	spn_conf_t *conf;
	spn_ledger_t *ledger;
	spn_ledger_cert_t c;
	char svc[1100], a[32], b[32], d[32], lower[SPN_SERIAL_HEX];
	int rc = ledger_args(argc, argv, "spnctl show -c CONF SERIAL", &path, NULL, &serial);

	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = spn_serial_parse(serial, lower)))
		return spnctl_fail("show", rc);
	if ((rc = open_ledger(path, &conf, &ledger)))
		return spnctl_fail("show", rc);
	rc = spn_ledger_cert_get(ledger, lower, &c);
	if (rc == 0) {
		printf("serial:      %s\nnode:        %s\ngroup:       %s\nrole:        %s\ntrust:       %u\n"
		       "services:    %s\naccepted by: %s\ntoken:       %s\nstatus:      %s\n",
		       c.serial, c.id.node_id, c.id.group, spn_role_name(c.id.role), c.id.trust,
		       spn_ident_services_str(&c.id, svc, sizeof(svc)), c.parent[0] ? c.parent : "-",
		       c.token_id[0] ? c.token_id : "-", spn_cert_status_name(c.status));
		if (c.status != SPN_CERT_VALID)
			printf("reason:      %s\nsince:       %s\n", spn_crl_reason_name(c.reason),
			       when(c.revoked_at, d, sizeof(d)));
		printf("issued:      %s\nnot before:  %s\nnot after:   %s\n%s", when(c.issued_at, d, sizeof(d)),
		       when(c.not_before, a, sizeof(a)), when(c.not_after, b, sizeof(b)), c.pem);
		spn_ledger_cert_clear(ledger, &c);
	}
	spn_ledger_close(ledger);
	spn_conf_free(conf);
	return rc ? spnctl_fail("show", rc) : 0;
}

static int print_event(int64_t seq, time_t at, const char *kind, const char *serial, const char *node,
		       const char *detail, void *user)
{
	char a[32];

	(void)user;
	printf("%6lld  %s  %-8s %-16s %-32s %s\n", (long long)seq, when(at, a, sizeof(a)), kind, node[0] ? node : "-",
	       serial[0] ? serial : "-", detail);
	return 0;
}

int spnctl_log(int argc, char **argv)
{
	const char *path = NULL;
	spn_conf_t *conf;
	spn_ledger_t *ledger;
	int rc = ledger_args(argc, argv, "spnctl log -c CONF", &path, NULL, NULL);

	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = open_ledger(path, &conf, &ledger)))
		return spnctl_fail("log", rc);
	rc = spn_ledger_event_each(ledger, print_event, NULL);
	spn_ledger_close(ledger);
	spn_conf_free(conf);
	return rc ? spnctl_fail("log", rc) : 0;
}
