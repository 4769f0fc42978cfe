/* One transfer of the node-to-node client, set up the same way whether it
 * runs blocking (spn_http_client_call) or on an event loop (http_fwd.c):
 * the same trust anchor, pins, server identity check, signatures and
 * bounds. */
#pragma once

#include <curl/curl.h>

#include "http_client.h"
#include "pki_peers.h"

typedef struct {
	char *buf;
	size_t len, cap, max;
	bool too_big;
	/* the node the server must be */
	CURL *h;
	const spn_http_client_config_t *cfg;
	spn_pki_peers_t *peers;
	const char *expect;   /* NULL: any member */
	bool must_check, checked;
	int id_rc;
} spn_http_sink_t;

typedef struct {
	spn_http_sink_t sink;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
} spn_http_xfer_t;

/* Sets h up for one request (x zeroed by the caller; its address is h's
 * CURLOPT_PRIVATE). copy_body: curl keeps its own copy of the body. */
int spn_http_xfer_setup(spn_http_client_t *c, CURL *h, spn_http_xfer_t *x, const char *url, const char *pin,
			const char *expect, const char *body, size_t len, bool copy_body);

/* What the transfer came to, as spn_http_client_call says; *keep is false
 * when h and its connection must not be used again. */
int spn_http_xfer_result(spn_http_xfer_t *x, CURL *h, const char *url, CURLcode cc, long *status, char **resp,
			 size_t *resp_len, bool *keep);

/* Changes with spn_http_client_reconnect: connections made before are not
 * to be used again. */
unsigned spn_http_client_gen(spn_http_client_t *c);
