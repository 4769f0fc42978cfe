/* The plugin ABI's functions (include/spn/plugin.h), as the plugin host
 * provides them to the plugin it loaded. Calls to other services and log
 * lines go to spnd as frames. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frame.h"
#include "json.h"
#include "host.h"

/* The plugin resolves these in this executable. */
#pragma GCC visibility push(default)

const char *spn_plugin_opt(spn_plugin_ctx_t *ctx, const char *name)
{
	json_object *v;

	if (!ctx->options || !json_object_object_get_ex(ctx->options, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

unsigned long spn_plugin_opt_uint(spn_plugin_ctx_t *ctx, const char *name)
{
	const char *v = spn_plugin_opt(ctx, name);

	return v ? strtoul(v, NULL, 10) : 0;
}

bool spn_plugin_opt_bool(spn_plugin_ctx_t *ctx, const char *name)
{
	const char *v = spn_plugin_opt(ctx, name);

	return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
		     strcmp(v, "1") == 0);
}

void spn_plugin_set_state(spn_plugin_ctx_t *ctx, void *state)
{
	ctx->state = state;
}

void *spn_plugin_state(spn_plugin_ctx_t *ctx)
{
	return ctx->state;
}

const char *spn_plugin_node(spn_plugin_ctx_t *ctx)
{
	return ctx->node;
}

size_t spn_plugin_services(spn_plugin_ctx_t *ctx)
{
	return ctx->services ? json_object_array_length(ctx->services) : 0;
}

const char *spn_plugin_service(spn_plugin_ctx_t *ctx, size_t i)
{
	return i < spn_plugin_services(ctx) ? json_object_get_string(json_object_array_get_idx(ctx->services, i)) : NULL;
}

unsigned long spn_plugin_timeout_ms(spn_plugin_ctx_t *ctx)
{
	return ctx->timeout_ms;
}

void spn_plugin_log(spn_plugin_ctx_t *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spn_host_log(ctx, level, fmt, ap);
	va_end(ap);
}

static const uint8_t *part(spn_request_t *req, size_t i, size_t *len)
{
	const uint8_t *p = NULL;

	*len = 0;
	if (spn_frame_part(req->head, req->data, req->len, i, &p, len) != 0)
		return NULL;
	return p;
}

/* Parts are stored back to back without terminators; handing one out
 * NUL-terminated needs a copy, kept until the request ends. */
static const uint8_t *part_str(spn_request_t *req, size_t i, size_t *len)
{
	const uint8_t *p = part(req, i, len);
	uint8_t *c;

	if (!p || i >= SPN_HOST_PARTS)
		return NULL;
	if (req->copies[i])
		return req->copies[i];
	if (!(c = malloc(*len + 1)))
		return NULL;
	memcpy(c, p, *len);
	c[*len] = 0;
	req->copies[i] = c;
	req->copy_len[i] = *len;
	return c;
}

static json_object *attached_at(spn_request_t *req, size_t i)
{
	json_object *a;

	if (!json_object_object_get_ex(req->head, "attached", &a) || !json_object_is_type(a, json_type_array) ||
	    i >= json_object_array_length(a))
		return NULL;
	return json_object_array_get_idx(a, i);
}

const uint8_t *spn_request_data(spn_request_t *req, size_t *len)
{
	return part_str(req, 0, len);
}

const char *spn_request_service(spn_request_t *req)
{
	return spn_json_str_or(req->head, "service", "");
}

const char *spn_request_author(spn_request_t *req)
{
	return spn_json_str_or(req->head, "author", "");
}

bool spn_request_author_verified(spn_request_t *req)
{
	json_object *v;

	return json_object_object_get_ex(req->head, "verified", &v) && json_object_get_boolean(v);
}

const char *spn_request_message_id(spn_request_t *req)
{
	return spn_json_str_or(req->head, "mid", "");
}

size_t spn_request_attached(spn_request_t *req)
{
	json_object *a;

	return json_object_object_get_ex(req->head, "attached", &a) && json_object_is_type(a, json_type_array)
		       ? json_object_array_length(a)
		       : 0;
}

const uint8_t *spn_request_attached_data(spn_request_t *req, size_t i, size_t *len)
{
	*len = 0;
	return i < spn_request_attached(req) ? part_str(req, i + 1, len) : NULL;
}

const char *spn_request_attached_author(spn_request_t *req, size_t i)
{
	return spn_json_str_or(attached_at(req, i), "author", "");
}

bool spn_request_attached_verified(spn_request_t *req, size_t i)
{
	json_object *a = attached_at(req, i), *v;

	return a && json_object_object_get_ex(a, "verified", &v) && json_object_get_boolean(v);
}

static int give(spn_host_answer_t *a, const void *data, size_t len)
{
	if (a->given || !(a->data = malloc(len ? len : 1)))
		return -1;
	if (len)
		memcpy(a->data, data, len);
	a->len = len;
	a->given = true;
	return 0;
}

int spn_request_reply(spn_request_t *req, const void *data, size_t len)
{
	return give(&req->reply, data, len);
}

int spn_request_attached_reply(spn_request_t *req, size_t i, const void *data, size_t len)
{
	if (i >= spn_request_attached(req) || i >= SPN_HOST_PARTS - 1)
		return -1;
	return give(&req->attached[i], data, len);
}

void spn_request_fail(spn_request_t *req, const char *reason)
{
	free(req->why);
	req->why = strdup(reason ? reason : "");
}

int spn_request_call(spn_request_t *req, const char *service, const void *data, size_t len, uint8_t **reply,
		     size_t *reply_len)
{
	json_object *head = json_object_new_object(), *ans = NULL, *v;
	uint8_t *d = NULL;
	size_t dl = 0;
	int rc;

	*reply = NULL;
	*reply_len = 0;
	json_object_object_add(head, "op", json_object_new_string("call"));
	json_object_object_add(head, "service", json_object_new_string(service ? service : ""));
	rc = spn_frame_send(req->ctx->fd, head, data, len);
	json_object_put(head);
	if (rc || (rc = spn_frame_recv(req->ctx->fd, -1, &ans, &d, &dl)))
		goto lost;
	if (strcmp(spn_json_str_or(ans, "op", ""), "call_reply") != 0) {
		json_object_put(ans);
		free(d);
		goto lost;
	}
	rc = json_object_object_get_ex(ans, "ok", &v) && json_object_get_boolean(v) ? 0 : -1;
	json_object_put(ans);
	*reply = d;
	*reply_len = dl;
	return rc;
lost:
	/* spnd is gone: nothing more can be done. */
	exit(3);
}

void spn_plugin_free(void *p)
{
	free(p);
}

const char *spn_ca_request_node(spn_ca_request_t *r)
{
	return spn_json_str_or(r->head, "node", "");
}

const char *spn_ca_request_role(spn_ca_request_t *r)
{
	return spn_json_str_or(r->head, "role", "");
}

unsigned spn_ca_request_trust(spn_ca_request_t *r)
{
	json_object *v;

	return json_object_object_get_ex(r->head, "trust", &v) ? (unsigned)json_object_get_int(v) : 0;
}

size_t spn_ca_request_services(spn_ca_request_t *r)
{
	return json_object_array_length(r->services);
}

const char *spn_ca_request_service(spn_ca_request_t *r, size_t i)
{
	return i < json_object_array_length(r->services)
		       ? json_object_get_string(json_object_array_get_idx(r->services, i))
		       : NULL;
}

const char *spn_ca_request_accepted_by(spn_ca_request_t *r)
{
	return spn_json_str_or(r->head, "accepted_by", "");
}

unsigned long spn_ca_request_validity(spn_ca_request_t *r)
{
	return r->validity;
}

const char *spn_ca_request_serial(spn_ca_request_t *r)
{
	return spn_json_str_or(r->head, "serial", "");
}

void spn_ca_request_refuse(spn_ca_request_t *r, const char *reason)
{
	free(r->why);
	r->why = strdup(reason ? reason : "");
}

int spn_ca_request_drop_service(spn_ca_request_t *r, const char *service)
{
	for (size_t i = 0; service && i < json_object_array_length(r->services); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(r->services, i)), service) == 0) {
			json_object_array_del_idx(r->services, i, 1);
			return 0;
		}
	return -1;
}

void spn_ca_request_set_validity(spn_ca_request_t *r, unsigned long seconds)
{
	if (seconds && seconds < r->validity)
		r->validity = seconds;
}

#pragma GCC visibility pop
