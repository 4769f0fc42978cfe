/* Test-only: keeps sessions and messages going through one node while it
 * renews its certificate. Each round, a fresh client (a new connection)
 * opens a session by hand, so that the offer's certificate can be read,
 * checks the offer as the client library does, then sends one message
 * through the library, whose answer must echo what was sent. One line a
 * round:
 *   <serial of the offer's certificate> ok
 *   <serial or -> bad <why>
 * A call that got no answer at all (its connection reached the old listener
 * as it stopped accepting: doc/rest-api.md, "Automatic renewal") is tried
 * again, up to three times; every answer that came must be right.
 *   renew_probe URL ROOT SERVICE STOP_FILE SECONDS */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "error.h"
#include "hpke.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "pki_cert.h"
#include "session.h"

#define TRIES 3

static unsigned long retries;

/* No answer came: the call may be made again. */
static bool unanswered(int rc)
{
	return rc == SPN_EUNAVAILABLE || rc == SPN_EIO || rc == SPN_ETIMEOUT;
}

/* A session asked for by hand; serial receives its offer's certificate's. */
static int offer(spn_client_t *c, const char *service, long round, char *serial, char *why, size_t cap)
{
	uint8_t sk[SPN_HPKE_KEY], pk[SPN_HPKE_KEY], k[SPN_SESSION_KEY];
	json_object *body, *list, *it, *ans = NULL, *items, *o;
	spn_session_offer_t of;
	gnutls_x509_crt_t crt;
	char sid[SPN_SESSION_ID_MAX + 1];
	long status = 0;
	int rc;

	memset(&of, 0, sizeof(of));
	snprintf(sid, sizeof(sid), "s-probe-%ld-%ld", (long)getpid(), round);
	if ((rc = spn_hpke_keypair(sk, pk)))
		return rc;
	body = json_object_new_object();
	spn_json_add_b64u(body, "client_key", pk, sizeof(pk));
	list = json_object_new_array();
	it = json_object_new_object();
	json_object_object_add(it, "session", json_object_new_string(sid));
	json_object_object_add(it, "service", json_object_new_string(service));
	json_object_array_add(list, it);
	json_object_object_add(body, "sessions", list);
	rc = spn_client_post(c, "/v1/session", body, &status, &ans);
	json_object_put(body);
	if (rc)
		return rc;
	if (status != 200 || !json_object_object_get_ex(ans, "sessions", &items) ||
	    !(o = json_object_array_get_idx(items, 0)) || !json_object_object_get_ex(o, "offer", &o)) {
		snprintf(why, cap, "session: %ld %s", status, json_object_to_json_string(ans));
		rc = -1;
	} else if ((rc = spn_session_offer_parse(o, &of)) ||
		   (rc = spn_session_accept(&of, sid, service, sk, pk, c->root, NULL, NULL, k)) ||
		   (rc = spn_pki_cert_import(of.cert_pem, strlen(of.cert_pem), &crt))) {
		snprintf(why, cap, "the offer: %s", spn_err_detail(rc));
		rc = -1;
	} else {
		rc = spn_pki_cert_serial(crt, serial) ? -1 : 0;
		gnutls_x509_crt_deinit(crt);
	}
	spn_wipe(sk, sizeof(sk));
	spn_wipe(k, sizeof(k));
	spn_session_offer_clear(&of);
	json_object_put(ans);
	return rc;
}

/* One message: its answer must echo it. */
static int message(spn_client_t *c, const char *service, long round, char *why, size_t cap)
{
	char text[64], want[96];
	spn_client_part_t part = {service, text, 0, false};
	spn_client_reply_t r;
	int rc;

	memset(&r, 0, sizeof(r));
	snprintf(text, sizeof(text), "round %ld", round);
	part.len = strlen(text);
	snprintf(want, sizeof(want), "\"echo\":\"%s\"", text);
	if ((rc = spn_client_send(c, &part, 1, &r)))
		return rc;
	if (r.error || !r.data || !strstr((const char *)r.data, want)) {
		snprintf(why, cap, "message: %s %s", r.error ? r.error_name : "answer",
			 r.error ? r.message : (char *)r.data);
		rc = -1;
	}
	spn_client_reply_clear(&r);
	return rc;
}

static int round_once(const spn_client_config_t *cfg, const char *service, long round, char *serial, char *why,
		      size_t cap)
{
	spn_client_t *c = NULL;
	int rc;

	/* A new client fetches the node's CRL: a call like the others. */
	if ((rc = spn_client_new(cfg, &c)))
		snprintf(why, cap, "client: %s", spn_client_last_error());
	else if ((rc = offer(c, service, round, serial, why, cap)) == 0)
		rc = message(c, service, round, why, cap);
	if (unanswered(rc))
		snprintf(why, cap, "no answer: %s", spn_err_detail(rc));
	spn_client_free(c);
	return rc;
}

int main(int argc, char **argv)
{
	spn_client_config_t cfg = {0};
	time_t until;
	long round = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: renew_probe URL ROOT SERVICE STOP_FILE SECONDS\n");
		return 2;
	}
	spn_log_set_level(SPN_LOG_ERROR);
	cfg.url = argv[1];
	cfg.root_file = argv[2];
	until = time(NULL) + atol(argv[5]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (access(argv[4], F_OK) != 0 && time(NULL) < until) {
		char serial[SPN_SERIAL_HEX] = "-", why[1024] = "";
		int rc = -1;
		round++;
		for (int t = 0; t < TRIES && (t == 0 || unanswered(rc)); t++) {
			if (t > 0) {
				retries++;
				usleep(50000);
			}
			rc = round_once(&cfg, argv[3], round, serial, why, sizeof(why));
		}
		if (rc == 0) {
			printf("%s ok\n", serial);
			continue;
		}
		printf("%s bad %s\n", serial, why);
		/* A node that went away is not hammered until the deadline. */
		usleep(100000);
	}
	fprintf(stderr, "renew_probe: %ld rounds, %lu tried again\n", round, retries);
	return 0;
}
