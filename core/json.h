/* JSON helpers on json-c: strict parsing with limits, and field reads whose
 * errors name the field. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPN_JSON_DEPTH 16

/* Parses exactly len bytes as one strict JSON value (RFC 8259), no
 * trailing data, no object with a member name twice: every reader of
 * untrusted JSON goes through here. Any failure is SPN_EINVAL but for
 * memory. The caller releases *out with json_object_put. */
int spn_json_parse(const char *buf, size_t len, json_object **out);

/* Refuses any member of obj not listed in allowed (NULL-terminated). */
int spn_json_only(json_object *obj, const char *what, const char *const *allowed);

/* String member; *out is NULL when absent and not required. Valid while obj
 * lives. max_len bounds its length. */
int spn_json_str(json_object *obj, const char *key, bool required, size_t max_len, const char **out);

/* A string member of obj (which may be NULL), or def when it is absent or
 * not a string: for reading answers whose shape is not trusted. */
const char *spn_json_str_or(json_object *obj, const char *key, const char *def);

/* Integer member within [min, max], min above INT64_MIN; a value outside
 * 64 bits is refused, never clamped. *out untouched when absent and
 * optional. Any failure is SPN_EINVAL, as for every field read below. */
int spn_json_int(json_object *obj, const char *key, bool required, int64_t min, int64_t max,
		 int64_t *out);

/* Array of strings; the pointers stay valid while obj lives, the array is
 * the caller's to free. */
int spn_json_strs(json_object *obj, const char *key, bool required, size_t max_items,
		  size_t max_len, const char ***out, size_t *n);

/* Base64url member decoded into dst: exactly want bytes (want > 0) or at
 * most max (want 0, *got set). Absent and optional: *got is 0. */
int spn_json_b64u(json_object *obj, const char *key, bool required, uint8_t *dst, size_t want, size_t max,
		  size_t *got);

/* Sets key to the base64url of b (no padding). */
void spn_json_add_b64u(json_object *obj, const char *key, const uint8_t *b, size_t n);

/* Serialises without whitespace; valid while obj lives. */
const char *spn_json_text(json_object *obj, size_t *len);
