/* The call endpoint of one plugin process: a loopback HTTP listener on an
 * ephemeral port through which the upstream handling a section calls the
 * group's other services, opened by that section's token alone and only
 * until the upstream answers (doc/rest-services.md §4). */
#pragma once

#include <stddef.h>

#include "spn/plugin.h"

#define HTTP_TOKEN_HEX 64

typedef struct http_callpoint http_callpoint_t;

/* Listens on 127.0.0.1 (a port the kernel picks), answering in a thread of
 * its own; calls bodies up to max_call bytes. NULL after logging why. */
http_callpoint_t *http_callpoint_start(spn_plugin_ctx_t *ctx, size_t max_call);

/* "http://127.0.0.1:<port>/call/": what the upstream is told. */
const char *http_callpoint_url(const http_callpoint_t *cp);

/* Opens the endpoint to req for the holder of token (HTTP_TOKEN_HEX hex
 * digits, made here, written to token with its NUL); 0, or -1 when the
 * system gave no randomness. */
int http_callpoint_open(http_callpoint_t *cp, spn_request_t *req, char token[HTTP_TOKEN_HEX + 1]);

/* Closes it again: returns once no call of req is in flight, and none can
 * start. */
void http_callpoint_close(http_callpoint_t *cp);

void http_callpoint_stop(http_callpoint_t *cp);
