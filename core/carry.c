/* Carried sections: chosen by their protected headers alone, which every
 * node on the way may read; their contents stay sealed for the providers
 * they name. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "carry.h"

#define REPLIES "client_replies"

/* A carried section's header, when it is a string that carries one. */
static bool peek(json_object *s, spn_jwe_header_t *h)
{
	return json_object_is_type(s, json_type_string) &&
	       spn_jwe_peek(json_object_get_string(s), (size_t)json_object_get_string_len(s), h) == 0;
}

size_t spn_carry_select(json_object *carry, const char *node, const char *service, spn_carry_item_t *mine,
			size_t max, json_object *rest)
{
	size_t k = 0;

	for (size_t i = 0; carry && i < json_object_array_length(carry); i++) {
		json_object *s = json_object_array_get_idx(carry, i);
		if (k < max && peek(s, &mine[k].h) && strcmp(mine[k].h.to, node) == 0 &&
		    strcmp(mine[k].h.svc, service) == 0) {
			mine[k++].section = s;
			continue;
		}
		json_object_array_add(rest, json_object_get(s));
	}
	return k;
}

bool spn_carry_hint(json_object *carry, const char *service, char *node, size_t cap)
{
	spn_jwe_header_t h;

	for (size_t i = 0; carry && i < json_object_array_length(carry); i++)
		if (peek(json_object_array_get_idx(carry, i), &h) && strcmp(h.svc, service) == 0) {
			snprintf(node, cap, "%s", h.to);
			return true;
		}
	return false;
}

void spn_carry_collect(json_object *answer, json_object *into)
{
	json_object *v;

	if (!into || !json_object_is_type(answer, json_type_object) || !json_object_object_get_ex(answer, REPLIES, &v) ||
	    !json_object_is_type(v, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		json_object_array_add(into, json_object_get(json_object_array_get_idx(v, i)));
}

void spn_carry_attach(json_object *answer, json_object *replies)
{
	if (replies && json_object_array_length(replies))
		json_object_object_add(answer, REPLIES, json_object_get(replies));
}
