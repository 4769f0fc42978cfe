/* pharmacy: prices a hospital's prescription, asks the bank for payment on
 * the patient's behalf (the patient's bank details travel with the call,
 * for the bank alone), and delivers to the address the patient wrote for
 * the pharmacy. The hospital is told dispensed or not and the order's
 * reference; the patient, privately, the receipt: what, how much, where. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plug.h"

static const char *const services[] = {"pharmacy", NULL};

static const spn_plugin_opt_t options[] = {
	{"bank", SPN_OPT_STRING, "bank", 0, 0, "the service payments are asked of"},
	{"prices", SPN_OPT_STRING, "amoxicillin=0.45,bisoprolol=0.30,paracetamol=0.10", 0, 0,
	 "price per unit of each drug: name=amount, comma-separated"},
	{"currency", SPN_OPT_STRING, "CHF", 0, 0, "the currency of the prices"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* The unit price of drug in cents, from the "prices" option. */
static bool price_of(spn_plugin_ctx_t *ctx, const char *drug, int64_t *cents)
{
	const char *p = spn_plugin_opt(ctx, "prices");
	size_t n = strlen(drug);

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, drug, n) == 0 && p[n] == '=') {
			char amount[32];
			size_t l = strcspn(p + n + 1, ", ");
			if (l >= sizeof(amount))
				return false;
			memcpy(amount, p + n + 1, l);
			amount[l] = '\0';
			return plug_cents(amount, cents);
		}
		p += strcspn(p, ",");
	}
	return false;
}

typedef struct {
	const char *drug, *deliver_to;
	double qty;
	int64_t total;
	char order[40];
} order_t;

/* The payment asked of the bank: payee, amount and the message's reference;
 * the bank needs no patient. Its answer: authorised, or not. */
static bool pay(spn_plugin_ctx_t *ctx, spn_request_t *req, const order_t *o)
{
	json_object *pay = json_object_new_object(), *bank, *st;
	char amount[32], ref[96];
	uint8_t *reply = NULL;
	size_t rlen;
	bool paid;
	int rc;

	snprintf(ref, sizeof(ref), "rx-%.80s", spn_request_message_id(req));
	json_object_object_add(pay, "payee", json_object_new_string(spn_plugin_node(ctx)));
	json_object_object_add(pay, "amount", json_object_new_string(plug_amount(o->total, amount)));
	json_object_object_add(pay, "currency", json_object_new_string(spn_plugin_opt(ctx, "currency")));
	json_object_object_add(pay, "reference", json_object_new_string(ref));
	{
		const char *t = json_object_to_json_string_length(pay, JSON_C_TO_STRING_PLAIN, &rlen);
		rc = spn_request_call(req, spn_plugin_opt(ctx, "bank"), t, rlen, &reply, &rlen);
	}
	json_object_put(pay);
	bank = rc == 0 ? json_tokener_parse((const char *)reply) : NULL;
	paid = bank && json_object_object_get_ex(bank, "status", &st) && json_object_is_type(st, json_type_string) &&
	       strcmp(json_object_get_string(st), "authorised") == 0;
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: payment %s", spn_request_message_id(req),
		       paid ? "authorised" : rc ? "not asked (the bank could not be reached)" : "refused");
	json_object_put(bank);
	spn_plugin_free(reply);
	return paid;
}

/* The patient's receipt, for the patient alone. */
static json_object *receipt(spn_plugin_ctx_t *ctx, const order_t *o, bool paid)
{
	json_object *r = json_object_new_object();
	char amount[32];

	json_object_object_add(r, "status", json_object_new_string(paid ? "delivering" : "not delivered"));
	json_object_object_add(r, "order", json_object_new_string(o->order));
	json_object_object_add(r, "drug", json_object_new_string(o->drug));
	json_object_object_add(r, "quantity", json_object_new_int((int)o->qty));
	json_object_object_add(r, "amount", json_object_new_string(plug_amount(o->total, amount)));
	json_object_object_add(r, "currency", json_object_new_string(spn_plugin_opt(ctx, "currency")));
	if (paid)
		json_object_object_add(r, "deliver_to", json_object_new_string(o->deliver_to));
	else
		json_object_object_add(r, "reason", json_object_new_string("the payment was not authorised (the bank's "
									   "receipt says why)"));
	return r;
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	size_t len, alen;
	const uint8_t *d = spn_request_data(req, &len), *a;
	json_object *in = NULL, *rx, *patient_in = NULL, *out;
	const char *patient, *strength;
	order_t o;
	int64_t unit;
	bool paid;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	if (!(in = plug_read(req, d, len, "prescription")))
		return -1;
	if (!spn_request_author_verified(req)) {
		rc = plug_fail(req, "prescriptions are taken from members of the group only");
		goto out;
	}
	if (!plug_str(req, in, "prescription", "patient", 64, &patient))
		goto out;
	if (!json_object_object_get_ex(in, "prescription", &rx) || !plug_str(req, rx, "prescription", "drug", 64, &o.drug) ||
	    !plug_str(req, rx, "prescription", "strength", 32, &strength) ||
	    !plug_num(req, rx, "prescription", "quantity", 1, 500, &o.qty))
		goto out;
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: a prescription from %s (%zu bytes)",
		       spn_request_message_id(req), spn_request_author(req), len);
	/* The patient's own section, carried here from the wristband. */
	if (spn_request_attached(req) != 1 || !(a = spn_request_attached_data(req, 0, &alen))) {
		rc = plug_fail(req, "no delivery details from the patient came with the prescription");
		goto out;
	}
	if (!(patient_in = plug_read(req, a, alen, "delivery")) ||
	    !plug_str(req, patient_in, "delivery", "deliver_to", 200, &o.deliver_to)) {
		/* What was wrong is the patient's to know; the hospital learns
		 * only that the delivery details did not do. */
		plug_refuse_attached(req, 0, "delivery: 'deliver_to' must be a string of 1 to 200 characters");
		rc = plug_fail(req, "the patient's delivery details were not usable");
		goto out;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: delivery details from %s%s (%zu bytes)",
		       spn_request_message_id(req), spn_request_attached_author(req, 0),
		       spn_request_attached_verified(req, 0) ? "" : " (unverified)", alen);
	if (!price_of(ctx, o.drug, &unit)) {
		rc = plug_fail(req, "prescription: the drug is not sold here");
		goto out;
	}
	if (!plug_ref("order", o.order)) {
		rc = plug_fail(req, "no order could be opened");
		goto out;
	}
	o.total = unit * (int64_t)o.qty;
	paid = pay(ctx, req, &o);
	plug_reply_attached(req, 0, receipt(ctx, &o, paid));
	out = json_object_new_object();
	json_object_object_add(out, "status", json_object_new_string(paid ? "dispensed" : "not dispensed"));
	json_object_object_add(out, "order", json_object_new_string(o.order));
	rc = plug_reply(req, out);
out:
	json_object_put(patient_in);
	json_object_put(in);
	return rc;
}

SPN_PLUGIN(pharmacy, services, options, NULL, handle, NULL);
