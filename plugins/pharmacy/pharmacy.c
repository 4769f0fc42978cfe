/* pharmacy: prices a hospital's prescription, asks the bank for payment on
 * the patient's behalf (the patient's bank details travel with the call,
 * for the bank alone), and confirms delivery to the address the patient
 * wrote for the pharmacy. */
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

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	size_t len, alen, rlen;
	const uint8_t *d = spn_request_data(req, &len), *a;
	json_object *in = NULL, *rx, *patient_in = NULL, *pay, *out, *bank = NULL, *st;
	const char *patient, *drug, *strength, *deliver_to;
	double qty;
	int64_t unit, total;
	char amount[32], ref[96];
	uint8_t *reply = NULL;
	int rc = -1;

	if (!(in = plug_read(req, d, len, "prescription")))
		return -1;
	if (!spn_request_author_verified(req)) {
		rc = plug_fail(req, "prescriptions are taken from members of the group only");
		goto out;
	}
	if (!plug_str(req, in, "prescription", "patient", 64, &patient))
		goto out;
	if (!json_object_object_get_ex(in, "prescription", &rx) || !plug_str(req, rx, "prescription", "drug", 64, &drug) ||
	    !plug_str(req, rx, "prescription", "strength", 32, &strength) ||
	    !plug_num(req, rx, "prescription", "quantity", 1, 500, &qty))
		goto out;
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "read a prescription for %s from %s: %.0f x %s %s", patient,
		       spn_request_author(req), qty, drug, strength);
	/* The patient's own section, carried here from the wristband. */
	if (spn_request_attached(req) != 1 || !(a = spn_request_attached_data(req, 0, &alen)) ||
	    !(patient_in = plug_read(req, a, alen, "delivery")) ||
	    !plug_str(req, patient_in, "delivery", "deliver_to", 200, &deliver_to)) {
		if (!patient_in)
			rc = plug_fail(req, "no delivery details from the patient came with the prescription");
		goto out;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "read the delivery address %s wrote for the pharmacy: %s",
		       spn_request_attached_author(req, 0), deliver_to);
	if (!price_of(ctx, drug, &unit)) {
		rc = plug_fail(req, "%s is not sold here", drug);
		goto out;
	}
	total = unit * (int64_t)qty;
	snprintf(ref, sizeof(ref), "rx-%.80s", spn_request_message_id(req));
	pay = json_object_new_object();
	json_object_object_add(pay, "patient", json_object_new_string(patient));
	json_object_object_add(pay, "payee", json_object_new_string(spn_plugin_node(ctx)));
	json_object_object_add(pay, "amount", json_object_new_string(plug_amount(total, amount)));
	json_object_object_add(pay, "currency", json_object_new_string(spn_plugin_opt(ctx, "currency")));
	json_object_object_add(pay, "reference", json_object_new_string(ref));
	{
		const char *t = json_object_to_json_string_length(pay, JSON_C_TO_STRING_PLAIN, &rlen);
		rc = spn_request_call(req, spn_plugin_opt(ctx, "bank"), t, rlen, &reply, &rlen);
	}
	json_object_put(pay);
	out = json_object_new_object();
	json_object_object_add(out, "patient", json_object_new_string(patient));
	json_object_object_add(out, "drug", json_object_new_string(drug));
	json_object_object_add(out, "quantity", json_object_new_int((int)qty));
	json_object_object_add(out, "amount", json_object_new_string(amount));
	json_object_object_add(out, "currency", json_object_new_string(spn_plugin_opt(ctx, "currency")));
	if (rc == 0)
		bank = json_tokener_parse((const char *)reply);
	if (rc == 0 && bank && json_object_object_get_ex(bank, "status", &st) && json_object_is_type(st, json_type_string) &&
	    strcmp(json_object_get_string(st), "authorised") == 0) {
		json_object_object_add(out, "status", json_object_new_string("delivering"));
		json_object_object_add(out, "deliver_to", json_object_new_string(deliver_to));
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "%s: paid %s %s; delivering", patient, amount,
			       spn_plugin_opt(ctx, "currency"));
	} else {
		json_object *why = NULL;
		char reason[300];
		if (bank && (!json_object_object_get_ex(bank, "reason", &why) || !json_object_is_type(why, json_type_string)))
			why = NULL;
		snprintf(reason, sizeof(reason), "payment %s: %s", rc ? "failed" : "refused",
			 why ? json_object_get_string(why) : reply ? (const char *)reply : "no answer");
		json_object_object_add(out, "status", json_object_new_string("not delivered"));
		json_object_object_add(out, "reason", json_object_new_string(reason));
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "%s: not delivered (%s)", patient, reason);
	}
	if (bank)
		json_object_object_add(out, "payment", bank);
	spn_plugin_free(reply);
	rc = plug_reply(req, out);
out:
	json_object_put(patient_in);
	json_object_put(in);
	return rc;
}

SPN_PLUGIN(pharmacy, services, options, NULL, handle, NULL);
