/* One service's upstream, the local HTTP service its sections are handed
 * to, and one exchange with it: the section as a POST with the headers of
 * doc/rest-services.md §2, the answer taken whole, bounded in size and
 * time, or what went wrong said in words that carry none of its own. */
#pragma once

#include <curl/curl.h>
#include <stddef.h>

#include "spn/plugin.h"

typedef struct {
	const char *service;
	const char *url;
	const char *socket;       /* NULL: TCP */
	unsigned long timeout_ms;
	size_t max_answer;
	unsigned long limit;      /* requests at once; 0: no bound of its own */
} http_upstream_t;

typedef struct {
	long status;      /* 0: no answer (why says what happened) */
	char type[96];    /* its media type, lowercase, without parameters */
	uint8_t *body;    /* NUL-terminated */
	size_t len;
	char why[160];
} http_answer_t;

/* Asks the upstream about req, telling it the call endpoint and token.
 * curl is the process's handle (its connections are kept for the next
 * section). Returns 0 with a filled in, or -1 with the reason in a->why
 * for the caller (the author's name or a carried section cannot be put
 * in a header). */
int http_upstream_ask(CURL *curl, const http_upstream_t *up, spn_request_t *req, const char *call_url,
		      const char *token, http_answer_t *a);

/* Wipes and frees the answer's body. */
void http_answer_clear(http_answer_t *a);
