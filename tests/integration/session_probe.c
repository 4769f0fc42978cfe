/* Test-only: opens one session the way the client library does and prints
 * what an attack test needs to forge, replay and tamper with sections by
 * hand: the session id, the provider, both direction keys (hex) and the
 * name the client writes as author. Keys leave the library only here.
 *   session_probe URL ROOT SERVICE [CERT KEY] */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "client_internal.h"
#include "error.h"
#include "log.h"

int main(int argc, char **argv)
{
	spn_client_config_t cfg = {0};
	spn_client_t *c = NULL;
	spn_client_session_t *s;
	const char *svc;
	char tp[65], tc[65];

	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: session_probe URL ROOT SERVICE [CERT KEY]\n");
		return 2;
	}
	spn_log_set_level(SPN_LOG_WARN);
	cfg.url = argv[1];
	cfg.root_file = argv[2];
	svc = argv[3];
	if (argc == 6) {
		cfg.cert_file = argv[4];
		cfg.key_file = argv[5];
	}
	if (spn_client_new(&cfg, &c) || spn_client_open(c, &svc, 1)) {
		fprintf(stderr, "session_probe: %s\n", spn_client_last_error());
		spn_client_free(c);
		return 1;
	}
	s = spn_client_session(c, svc);
	spn_hex(s->to_provider, 32, tp);
	spn_hex(s->to_client, 32, tc);
	printf("%s %s %s %s %s\n", s->id, s->provider, tp, tc, c->name);
	spn_client_free(c);
	return 0;
}
