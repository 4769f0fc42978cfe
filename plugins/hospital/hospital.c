/* hospital: diagnoses from the findings and vitals a healthcare company
 * refers, opens a case, writes a prescription, and asks a pharmacy to
 * dispense it. The healthcare company is told the case, the diagnosis,
 * the prescription and whether it was dispensed: not how the pharmacy is
 * paid or where it delivers. */
#include <stdio.h>
#include <string.h>

#include "plug.h"

static const char *const services[] = {"hospital", NULL};

static const spn_plugin_opt_t options[] = {
	{"pharmacy", SPN_OPT_STRING, "pharmacy", 0, 0, "the service prescriptions go to"},
	{NULL, 0, NULL, 0, 0, NULL},
};

typedef struct {
	const char *diagnosis, *drug, *strength;
	int quantity;
} rx_t;

/* The rules, most specific first: what the findings add up to. */
static const rx_t *diagnose(bool tachy, bool hypox, bool fever)
{
	static const rx_t pneumonia = {"suspected pneumonia", "amoxicillin", "500 mg", 20};
	static const rx_t infection = {"infection with tachycardia", "amoxicillin", "500 mg", 20};
	static const rx_t fev = {"fever", "paracetamol", "500 mg", 16};
	static const rx_t arrhythmia = {"tachycardia", "bisoprolol", "2.5 mg", 30};

	if (hypox && fever)
		return &pneumonia;
	if (tachy && fever)
		return &infection;
	if (fever)
		return &fev;
	if (tachy)
		return &arrhythmia;
	return NULL;
}

/* Whether the pharmacy says it dispensed: the one thing of its answer the
 * hospital passes on. */
static bool dispensed(int rc, const uint8_t *reply)
{
	json_object *a = rc == 0 ? json_tokener_parse((const char *)reply) : NULL, *st;
	bool yes = a && json_object_object_get_ex(a, "status", &st) && json_object_is_type(st, json_type_string) &&
		   strcmp(json_object_get_string(st), "dispensed") == 0;

	json_object_put(a);
	return yes;
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	size_t len, rlen;
	const uint8_t *d = spn_request_data(req, &len);
	json_object *in = plug_read(req, d, len, "referral"), *findings, *out, *rx, *order;
	const char *patient;
	bool tachy = false, hypox = false, fever = false, done;
	const rx_t *r;
	char case_id[40];
	uint8_t *reply = NULL;
	int rc;

	if (!in)
		return -1;
	if (!spn_request_author_verified(req)) {
		json_object_put(in);
		return plug_fail(req, "referrals are taken from members of the group only");
	}
	if (!plug_str(req, in, "referral", "patient", 64, &patient) ||
	    !json_object_object_get_ex(in, "findings", &findings) || !json_object_is_type(findings, json_type_array)) {
		json_object_put(in);
		return plug_fail(req, "referral: 'patient' and a list of 'findings' are required");
	}
	for (size_t i = 0; i < json_object_array_length(findings); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(findings, i));
		tachy |= f && strcmp(f, "tachycardia") == 0;
		hypox |= f && strcmp(f, "hypoxemia") == 0;
		fever |= f && strcmp(f, "fever") == 0;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: a referral from %s with %zu finding(s)",
		       spn_request_message_id(req), spn_request_author(req), json_object_array_length(findings));
	if (!(r = diagnose(tachy, hypox, fever))) {
		json_object_put(in);
		return plug_fail(req, "referral: no finding this hospital treats");
	}
	if (!plug_ref("case", case_id)) {
		json_object_put(in);
		return plug_fail(req, "no case could be opened");
	}
	rx = json_object_new_object();
	json_object_object_add(rx, "drug", json_object_new_string(r->drug));
	json_object_object_add(rx, "strength", json_object_new_string(r->strength));
	json_object_object_add(rx, "quantity", json_object_new_int(r->quantity));
	order = json_object_new_object();
	json_object_object_add(order, "patient", json_object_new_string(patient));
	json_object_object_add(order, "prescription", json_object_get(rx));
	json_object_object_add(order, "prescriber", json_object_new_string(spn_plugin_node(ctx)));
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: a case opened; a prescription goes to %s",
		       spn_request_message_id(req), spn_plugin_opt(ctx, "pharmacy"));
	{
		const char *t = json_object_to_json_string_length(order, JSON_C_TO_STRING_PLAIN, &rlen);
		rc = spn_request_call(req, spn_plugin_opt(ctx, "pharmacy"), t, rlen, &reply, &rlen);
	}
	json_object_put(order);
	done = dispensed(rc, reply);
	spn_plugin_log(ctx, done ? SPN_PLUGIN_LOG_INFO : SPN_PLUGIN_LOG_WARN, "message %s: %s", spn_request_message_id(req),
		       done ? "dispensed" : rc ? "the pharmacy could not be asked" : "not dispensed");
	spn_plugin_free(reply);
	out = json_object_new_object();
	json_object_object_add(out, "case", json_object_new_string(case_id));
	json_object_object_add(out, "diagnosis", json_object_new_string(r->diagnosis));
	json_object_object_add(out, "prescription", rx);
	json_object_object_add(out, "dispensed", json_object_new_boolean(done));
	json_object_put(in);
	return plug_reply(req, out);
}

SPN_PLUGIN(hospital, services, options, NULL, handle, NULL);
