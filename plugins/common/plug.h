/* Helpers the reference plugins share: reading a section as a JSON object
 * with checked fields, amounts in cents, and replying with JSON. Linked
 * into each plugin (a convenience library), not part of the ABI. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "spn/plugin.h"

/* The section (or an attached one) as a JSON object; NULL after telling
 * the client why (spn_request_fail). */
json_object *plug_read(spn_request_t *req, const uint8_t *data, size_t len, const char *what);

/* Field readers: false after spn_request_fail naming the field. */
bool plug_str(spn_request_t *req, json_object *o, const char *what, const char *key, size_t max, const char **out);
bool plug_num(spn_request_t *req, json_object *o, const char *what, const char *key, double min, double max,
	      double *out);

/* "12.50" to 1250; false when it is not an amount. */
bool plug_cents(const char *s, int64_t *out);
/* 1250 to "12.50" (buf of 32). */
const char *plug_amount(int64_t cents, char *buf);

/* Replies to the caller with o's text and puts o; returns the handle's
 * result. */
int plug_reply(spn_request_t *req, json_object *o);

/* Replies to the i-th carried section (its client alone) with o's text and
 * puts o. */
int plug_reply_attached(spn_request_t *req, size_t i, json_object *o);

/* Tells the i-th carried section's client alone why its section was
 * refused: {"status": "refused", "reason": why}. */
int plug_refuse_attached(spn_request_t *req, size_t i, const char *why);

/* A fresh reference, prefix and 16 random hex digits (buf of 40): it says
 * nothing but itself (not how many came before). NULL when the system
 * has no randomness to give. */
const char *plug_ref(const char *prefix, char *buf);

/* Refuses with a reason and returns -1, for `return plug_fail(...)`. */
int plug_fail(spn_request_t *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
