/* What the plugin host's parts share: the loaded plugin, its context, the
 * request being handled and the socket to spnd. */
#pragma once

#include <json-c/json.h>

#include "spn/plugin.h"

struct spn_plugin_ctx {
	const spn_plugin_t *desc;
	int fd;                   /* to spnd */
	char name[64];
	char node[64];
	json_object *options;     /* name -> value, checked by spnd */
	void *state;
};

struct spn_request {
	spn_plugin_ctx_t *ctx;
	json_object *head;        /* the "handle" frame */
	const uint8_t *data;      /* all parts */
	size_t len;
	uint8_t *reply;
	size_t reply_len;
	bool replied;
	char *why;
	uint8_t *copies[64];      /* parts handed out NUL-terminated */
};

struct spn_ca_request {
	json_object *head;        /* the "ca" frame */
	json_object *services;    /* what will be issued, narrowed by ca_adjust */
	unsigned long validity;
	char *why;
};

/* The log line goes to spnd (host_api.c). */
void spn_host_log(spn_plugin_ctx_t *ctx, int level, const char *fmt, va_list ap);
