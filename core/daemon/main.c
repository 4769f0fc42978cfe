/* spnd: the daemon that runs every node of a group, the PSP included. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <malloc.h>
#include <gnutls/gnutls.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "node.h"
#include "schema.h"

static int fail(const char *what, int rc)
{
	fprintf(stderr, "spnd: %s: %s\n", what, spn_err_detail(rc));
	/* Without a log file the log is stderr, which has it already. */
	if (spn_log_is_file())
		spn_log_error("%s: %s", what, spn_err_detail(rc));
	return 1;
}

static const char usage[] = "usage: spnd [--check-config] -c CONFIG   (spnd --help)\n";

static void help(void)
{
	printf("usage: spnd [--check-config] -c CONFIG\n"
	       "Runs the node of an spn group that CONFIG describes (the PSP, an administrator or a\n"
	       "service node) until SIGTERM or SIGINT; see spnd(8) and the operator guide.\n"
	       "  -c, --config FILE  the node's configuration (spnd.conf, as spnctl init or enroll wrote it)\n"
	       "      --check-config check CONFIG (and each enabled plugin's options) and exit: 0 when it holds\n"
	       "  -h, --help         print this help\n"
	       "  -V, --version      print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	spn_conf_t *conf = NULL;
	spn_node_t *node = NULL;
	sigset_t set;
	int c, sig = 0, rc, check = 0;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'k': check = 1; break;
		case 'h': help(); return 0;
		case 'V': printf("spnd %s\n", PACKAGE_VERSION); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!path || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	/* Its memory holds the node's key: no core dumps, and no other process
	 * of the same user (a plugin's, say) may attach to it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Worker threads allocate and free the same few kilobytes per request;
	 * glibc would otherwise give the tops of their arenas back to the
	 * kernel after each burst, and every give-back flushes the TLBs of the
	 * other cores (doc/benchmarks.md). */
#ifdef M_TRIM_THRESHOLD
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	/* Setting one fixes the other, which would otherwise follow the
	 * largest buffers freed: large answers stay in the arenas too. */
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
#endif
	/* Signals are taken by sigwait below; every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || gnutls_global_init() < 0)
		return fail("start", SPN_ECRYPTO);
	/* A check starts nothing and writes no log: what the file says, the
	 * plugins' options included, is all it reads. */
	if (check) {
		if ((rc = spn_conf_load(path, &conf)) == 0 && (rc = spn_schema_check(conf)) == 0)
			rc = spn_node_plugins_check(conf);
		spn_conf_free(conf);
		if (rc) {
			fprintf(stderr, "spnd: configuration: %s\n", spn_err_detail(rc));
			return 1;
		}
		printf("%s: ok\n", path);
		return 0;
	}
	if ((rc = spn_conf_load(path, &conf)) || (rc = spn_schema_check(conf)) || (rc = spn_schema_open_log(conf))) {
		rc = fail("configuration", rc);
		spn_conf_free(conf);
		return rc;
	}
	if ((rc = spn_node_open(conf, &node))) {
		spn_conf_free(conf);
		return fail("start", rc);
	}
	if ((rc = spn_node_start(node))) {
		spn_node_close(node);
		spn_conf_free(conf);
		return fail("start", rc);
	}
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig == SIGHUP);
	spn_log_info("stopping on signal %d", sig);
	spn_node_close(node);
	spn_conf_free(conf);
	spn_log_close();
	gnutls_global_deinit();
	curl_global_cleanup();
	return 0;
}
