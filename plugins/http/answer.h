/* The upstream's answer turned into the section's replies and refusal
 * (doc/rest-services.md §3). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "spn/plugin.h"
#include "upstream.h"

#define HTTP_PARTS_TYPE "application/vnd.spn.parts+json"
#define HTTP_REASON_MAX 200
#define HTTP_JSON_DEPTH 64

/* json-c takes NaN and Infinity even when strict; JSON has neither:
 * false when o holds one. */
bool http_json_finite(json_object *o);

/* Replies to the caller and to carried sections as the answer says, or
 * refuses with a reason in the plugin's words; returns what handle
 * returns. */
int http_answer_deliver(spn_request_t *req, const http_answer_t *a);
