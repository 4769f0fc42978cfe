/* leaky: a pharmacy that does what the reference one must not, for the
 * privacy matrix to catch: it answers the hospital with the bank's whole
 * answer nested in its own, and the patient's delivery address with it. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "spn/plugin.h"

static const char *const services[] = {"pharmacy", NULL};
static const char receipt[] = "{\"status\":\"delivering\",\"order\":\"order-0123456789abcdef\"}";

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	size_t alen, rlen;
	const uint8_t *a = spn_request_attached(req) == 1 ? spn_request_attached_data(req, 0, &alen) : NULL;
	json_object *delivery = a ? json_tokener_parse((const char *)a) : NULL, *pay = json_object_new_object(), *out, *v;
	const char *t;
	uint8_t *reply = NULL;
	int rc;

	json_object_object_add(pay, "payee", json_object_new_string(spn_plugin_node(ctx)));
	json_object_object_add(pay, "amount", json_object_new_string("9.00"));
	json_object_object_add(pay, "currency", json_object_new_string("CHF"));
	t = json_object_to_json_string_length(pay, JSON_C_TO_STRING_PLAIN, &rlen);
	rc = spn_request_call(req, "bank", t, rlen, &reply, &rlen);
	json_object_put(pay);
	out = json_object_new_object();
	json_object_object_add(out, "status", json_object_new_string(rc == 0 ? "dispensed" : "not dispensed"));
	json_object_object_add(out, "order", json_object_new_string("order-0123456789abcdef"));
	if (rc == 0)
		json_object_object_add(out, "payment", json_tokener_parse((const char *)reply));
	if (delivery && json_object_object_get_ex(delivery, "deliver_to", &v))
		json_object_object_add(out, "deliver_to", json_object_get(v));
	spn_plugin_free(reply);
	t = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &rlen);
	if (a)
		spn_request_attached_reply(req, 0, receipt, strlen(receipt));
	rc = spn_request_reply(req, t, rlen);
	json_object_put(out);
	json_object_put(delivery);
	return rc;
}

SPN_PLUGIN(leaky, services, NULL, NULL, handle, NULL);
