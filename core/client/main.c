/* spn-client: sends one message, with a section for each SERVICE=DATA, to
 * the providers of those services through any node of the group, and
 * prints what each provider answered (doc/spn-client.1). */
#include <errno.h>
#include <getopt.h>
#include <spn/client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PARTS SPN_CLIENT_PARTS_MAX
#define DATA_MAX (16 * 1024 * 1024)

static void usage(FILE *f)
{
	fprintf(f, "usage: spn-client -u URL -r ROOT [options] [+]SERVICE=DATA|[+]SERVICE=@FILE...\n"
		   "  (+SERVICE: the section is carried along, for when a service on the way calls SERVICE)\n"
		   "  -u, --url URL        any node of the group (https://host:port)\n"
		   "  -r, --root FILE      the group's root certificate\n"
		   "  -c, --cert FILE      this client's certificate of the group (with --key)\n"
		   "  -k, --key FILE       its key\n"
		   "      --crl FILE       use this CRL instead of the entry node's\n"
		   "  -n, --name NAME      author of the sections without a certificate (client)\n"
		   "      --repeat N       send the message N times over the same sessions\n"
		   "      --message-id ID  the message's id (default: a new random one per message); the same id\n"
		   "                       again is answered from the providers' records, never acted on twice\n"
		   "      --wait MS        pause between repeats\n"
		   "      --no-reopen      report a gone session instead of opening another\n"
		   "      --timeout MS     per call (30000)\n"
		   "  -v, --verbose        log what the library does to stderr\n"
		   "  -h, --help           print this help\n"
		   "  -V, --version        print the version\n");
}

/* Reads a part's data whole; 0, or -1 having said why. */
static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	const char *why = NULL;
	size_t cap = 0, n;

	*buf = NULL;
	*len = 0;
	if (!f) {
		fprintf(stderr, "spn-client: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!why) {
		if (*len == cap) {
			size_t bigger = cap ? cap * 2 : 65536;
			char *b = cap > DATA_MAX ? NULL : realloc(*buf, bigger + 1);
			if (!b) {
				why = cap > DATA_MAX ? "larger than 16 MiB" : "out of memory";
				break;
			}
			*buf = b;
			cap = bigger;
		}
		if ((n = fread(*buf + *len, 1, cap - *len, f)) == 0)
			break;
		*len += n;
	}
	if (!why && ferror(f))
		why = strerror(errno);
	if (!why && *len > DATA_MAX)
		why = "larger than 16 MiB";
	fclose(f);
	if (why) {
		fprintf(stderr, "spn-client: %s: %s\n", path, why);
		return -1;
	}
	(*buf)[*len] = '\0';
	return 0;
}

static int parse_parts(int argc, char **argv, spn_client_part_t *parts, char **bufs, size_t *n)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		size_t len;
		if (*n >= PARTS || !eq || eq == argv[i]) {
			fprintf(stderr, "spn-client: '%s': expected SERVICE=DATA or SERVICE=@FILE (at most %d)\n",
				argv[i], PARTS);
			return -1;
		}
		*eq = '\0';
		/* +service=...: carried along, for a service called on the way. */
		parts[*n].carry = argv[i][0] == '+';
		parts[*n].service = argv[i] + parts[*n].carry;
		if (eq[1] == '@') {
			if (read_file(eq + 2, &bufs[*n], &len) != 0)
				return -1;
			parts[*n].data = bufs[*n];
			parts[*n].len = len;
		} else {
			parts[*n].data = eq + 1;
			parts[*n].len = strlen(eq + 1);
		}
		(*n)++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"root", required_argument, NULL, 'r'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"crl", required_argument, NULL, 'C'},
	    {"name", required_argument, NULL, 'n'},
	    {"repeat", required_argument, NULL, 'R'},
	    {"wait", required_argument, NULL, 'w'},
	    {"no-reopen", no_argument, NULL, 'N'},
	    {"timeout", required_argument, NULL, 't'},
	    {"message-id", required_argument, NULL, 'M'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	spn_client_config_t cfg = {0};
	spn_client_part_t parts[PARTS];
	spn_client_reply_t replies[PARTS];
	char *bufs[PARTS] = {0};
	spn_client_t *c = NULL;
	long repeat = 1, wait_ms = 0;
	const char *mid = NULL;
	size_t n = 0;
	int opt, status = 0, rc;

	while ((opt = getopt_long(argc, argv, "u:r:c:k:n:vhV", longs, NULL)) != -1) {
		switch (opt) {
		case 'u': cfg.url = optarg; break;
		case 'r': cfg.root_file = optarg; break;
		case 'c': cfg.cert_file = optarg; break;
		case 'k': cfg.key_file = optarg; break;
		case 'C': cfg.crl_file = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'R': repeat = strtol(optarg, NULL, 10); break;
		case 'w': wait_ms = strtol(optarg, NULL, 10); break;
		case 'N': cfg.no_reopen = true; break;
		case 't': cfg.timeout_ms = strtol(optarg, NULL, 10); break;
		case 'M': mid = optarg; break;
		case 'v': spn_client_verbose(true); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("spn-client %s\n", spn_client_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cfg.url || !cfg.root_file || optind >= argc || repeat < 1 || wait_ms < 0) {
		usage(stderr);
		return 2;
	}
	if (parse_parts(argc - optind, argv + optind, parts, bufs, &n) != 0) {
		status = 2;
		goto out;
	}
	if ((rc = spn_client_new(&cfg, &c))) {
		fprintf(stderr, "spn-client: %s\n", spn_client_last_error());
		status = 2;
		goto out;
	}
	for (long r = 0; r < repeat; r++) {
		if (r && wait_ms) {
			struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
		if ((rc = spn_client_send_id(c, mid, parts, n, replies))) {
			fprintf(stderr, "spn-client: %s\n", spn_client_last_error());
			status = 1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (replies[i].error) {
				printf("%s from %s: error %s: %s\n", replies[i].service,
				       replies[i].provider[0] ? replies[i].provider : "-", replies[i].error_name,
				       replies[i].message);
				status = 1;
			} else {
				printf("%s from %s: %s\n", replies[i].service, replies[i].provider,
				       (const char *)replies[i].data);
			}
			spn_client_reply_clear(&replies[i]);
		}
		fflush(stdout);
	}
out:
	spn_client_free(c);
	for (size_t i = 0; i < PARTS; i++)
		free(bufs[i]);
	return status;
}
