/* healthcare: reads a patient's vitals from a wristband, decides whether
 * there is an issue, and when there is, refers the patient to a hospital
 * with the findings and only the vitals that support them. The wristband
 * is told what was found and what the hospital made of it. */
#include <stdio.h>
#include <string.h>

#include "plug.h"

static const char *const services[] = {"healthcare", NULL};

static const spn_plugin_opt_t options[] = {
	{"hospital", SPN_OPT_STRING, "hospital", 0, 0, "the service patients are referred to"},
	{"pulse_high", SPN_OPT_UINT, "120", 60, 250, "beats per minute above which the pulse is an issue"},
	{"spo2_low", SPN_OPT_UINT, "92", 50, 100, "oxygen saturation (%) below which it is an issue"},
	{"temp_high_tenths", SPN_OPT_UINT, "385", 360, 450, "temperature (tenths of a degree C) above which it is fever"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* Adds a finding, and the vital behind it for the hospital. */
static void finding(json_object *findings, json_object *vitals, const char *name, const char *vital, double v)
{
	json_object_array_add(findings, json_object_new_string(name));
	json_object_object_add(vitals, vital, json_object_new_double(v));
}

/* What the wristband learns of the hospital's answer: the case, the
 * diagnosis and the prescription, picked field by field. */
static void take_hospital(json_object *out, const uint8_t *reply)
{
	json_object *h = json_tokener_parse((const char *)reply), *v;
	static const char *const keep[] = {"case", "diagnosis", "prescription", "dispensed", NULL};

	for (size_t i = 0; h && keep[i]; i++)
		if (json_object_object_get_ex(h, keep[i], &v))
			json_object_object_add(out, keep[i], json_object_get(v));
	json_object_put(h);
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	size_t len, rlen;
	const uint8_t *d = spn_request_data(req, &len);
	json_object *in = plug_read(req, d, len, "vitals"), *out, *findings, *vitals, *ref;
	const char *patient;
	double pulse, spo2, temp;
	uint8_t *reply = NULL;
	size_t n;
	int rc;

	if (!in)
		return -1;
	if (!plug_str(req, in, "vitals", "patient", 64, &patient) ||
	    !plug_num(req, in, "vitals", "pulse", 20, 250, &pulse) || !plug_num(req, in, "vitals", "spo2", 50, 100, &spo2) ||
	    !plug_num(req, in, "vitals", "temp", 30, 45, &temp)) {
		json_object_put(in);
		return -1;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: vitals from %s%s (%zu bytes)", spn_request_message_id(req),
		       spn_request_author(req), spn_request_author_verified(req) ? "" : " (unverified)", len);
	findings = json_object_new_array();
	vitals = json_object_new_object();
	if (pulse > (double)spn_plugin_opt_uint(ctx, "pulse_high"))
		finding(findings, vitals, "tachycardia", "pulse", pulse);
	if (spo2 < (double)spn_plugin_opt_uint(ctx, "spo2_low"))
		finding(findings, vitals, "hypoxemia", "spo2", spo2);
	if (temp * 10 > (double)spn_plugin_opt_uint(ctx, "temp_high_tenths"))
		finding(findings, vitals, "fever", "temp", temp);
	out = json_object_new_object();
	json_object_object_add(out, "patient", json_object_new_string(patient));
	json_object_object_add(out, "findings", json_object_get(findings));
	if ((n = json_object_array_length(findings)) == 0) {
		json_object_object_add(out, "status", json_object_new_string("ok"));
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: no issue", spn_request_message_id(req));
		json_object_put(findings);
		json_object_put(vitals);
		json_object_put(in);
		return plug_reply(req, out);
	}
	/* The hospital gets the patient, the findings and the vitals behind
	 * them, nothing else the wristband sent. */
	ref = json_object_new_object();
	json_object_object_add(ref, "patient", json_object_new_string(patient));
	json_object_object_add(ref, "findings", findings);
	json_object_object_add(ref, "vitals", vitals);
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: %zu finding(s); referring to %s", spn_request_message_id(req),
		       n, spn_plugin_opt(ctx, "hospital"));
	{
		const char *t = json_object_to_json_string_length(ref, JSON_C_TO_STRING_PLAIN, &rlen);
		rc = spn_request_call(req, spn_plugin_opt(ctx, "hospital"), t, rlen, &reply, &rlen);
	}
	json_object_put(ref);
	json_object_put(in);
	if (rc) {
		json_object_put(out);
		/* Not the hospital's reason: it would cross the routers in the
		 * clear, and it is about the patient. */
		rc = plug_fail(req, "the referral to the hospital did not go through");
		spn_plugin_free(reply);
		return rc;
	}
	json_object_object_add(out, "status", json_object_new_string("referred"));
	take_hospital(out, reply);
	spn_plugin_free(reply);
	return plug_reply(req, out);
}

SPN_PLUGIN(healthcare, services, options, NULL, handle, NULL);
