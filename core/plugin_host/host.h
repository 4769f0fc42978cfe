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
	json_object *services;    /* what it provides on this node */
	unsigned long timeout_ms; /* spnd's bound on one section */
	void *state;
};

#define SPN_HOST_PARTS 64  /* the section and the carried ones */

/* One answer the plugin gave: to the caller, or to a carried section. */
typedef struct {
	uint8_t *data;
	size_t len;
	bool given;
} spn_host_answer_t;

struct spn_request {
	spn_plugin_ctx_t *ctx;
	json_object *head;        /* the "handle" frame */
	const uint8_t *data;      /* all parts */
	size_t len;
	spn_host_answer_t reply;  /* to the caller */
	spn_host_answer_t attached[SPN_HOST_PARTS - 1];
	char *why;
	uint8_t *copies[SPN_HOST_PARTS]; /* parts handed out NUL-terminated */
	size_t copy_len[SPN_HOST_PARTS];
};

struct spn_ca_request {
	json_object *head;        /* the "ca" frame */
	json_object *services;    /* what will be issued, narrowed by ca_adjust */
	unsigned long validity;
	char *why;
};

/* The log line goes to spnd (host_api.c). */
void spn_host_log(spn_plugin_ctx_t *ctx, int level, const char *fmt, va_list ap);

/* Shuts this process in as spnd's "confine" object asks (confine.c), before
 * the plugin is loaded: -1 with why set when any part cannot be applied. */
int spn_host_confine(json_object *confine, char *why, size_t cap);
