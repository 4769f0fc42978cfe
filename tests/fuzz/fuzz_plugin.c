/* Fuzz target for what spnd reads from a plugin's process above the frame
 * layer: the answers of a reply or fail frame (the caller's reply and the
 * carried sections it answered) and a CA hook's verdict. A plugin may be
 * buggy or hostile; neither may make spnd read past what it sent or take
 * more than was asked. The input: one byte for the number of carried
 * sections, the frame's JSON header, a newline, then its bytes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "plugin_internal.h"

const char fuzz_target[] = "plugin";

static void verdicts(json_object *head)
{
	for (int stage = SPN_CA_HOOK_AUTHORIZE; stage <= SPN_CA_HOOK_ISSUED; stage++) {
		spn_ca_hook_req_t r;
		memset(&r, 0, sizeof(r));
		snprintf(r.id.node_id, sizeof(r.id.node_id), "bank-1");
		r.id.role = SPN_ROLE_SPN;
		spn_ident_add_service(&r.id, "bank");
		spn_ident_add_service(&r.id, "payments");
		r.validity = 86400;
		if (spn_plugin_verdict_read("fuzz", head, (spn_ca_hook_stage_t)stage, &r) != 0)
			continue;
		/* A hook narrows, never widens. */
		if (r.validity > 86400 || r.id.n_services > 2)
			abort();
		for (size_t i = 0; i < r.id.n_services; i++)
			if (strcmp(r.id.services[i], "bank") != 0 && strcmp(r.id.services[i], "payments") != 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl;
	json_object *head = NULL;
	spn_plugin_answer_t a;
	size_t n_attached, hlen, dlen;

	if (size < 1)
		return 0;
	n_attached = data[0] % (SPN_PLUGIN_ATTACHED_MAX + 1);
	nl = memchr(data + 1, '\n', size - 1);
	hlen = nl ? (size_t)(nl - data - 1) : size - 1;
	dlen = nl ? size - 2 - hlen : 0;
	if (spn_json_parse((const char *)data + 1, hlen, &head) != 0)
		return 0;
	for (int ok = 0; ok <= 1; ok++) {
		memset(&a, 0, sizeof(a));
		if (spn_plugin_answers_take("fuzz", head, nl ? nl + 1 : NULL, dlen, n_attached, ok, &a) == 0) {
			size_t sum = a.reply.len;
			if (a.reply.given != ok)
				abort();
			for (size_t i = 0; i < SPN_PLUGIN_ATTACHED_MAX; i++) {
				if (a.attached[i].given && i >= n_attached)
					abort();
				sum += a.attached[i].len;
			}
			/* Every answer is a part of the bytes sent, each once. */
			if (sum > dlen)
				abort();
		}
		spn_plugin_answer_clear(&a);
	}
	verdicts(head);
	json_object_put(head);
	return 0;
}
