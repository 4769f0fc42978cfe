/* Sessions and sections at a provider (doc/protocol.md §4-§6): an offer for
 * each client that asks, kept in the session store; each section addressed
 * to this node opened, admitted by the replay window, acted on once and
 * answered with a section only the client can read. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carry.h"
#include "clock.h"
#include "envelope.h"
#include "error.h"
#include "json.h"
#include "jwe.h"
#include "log.h"
#include "mem.h"
#include "node_internal.h"
#include "plugin.h"
#include "revoked.h"
#include "session.h"
#include "sstore.h"

#define SECTION_TEXT_MAX (32 * 1024 * 1024)
#define SPN_ATTACHED_MAX SPN_PLUGIN_ATTACHED_MAX

/* Session lifetimes run on the monotonic clock: a step of the wall clock
 * neither ends every session nor makes them last. */
static time_t now_s(void)
{
	return (time_t)(spn_clock_mono_ms() / 1000);
}

int spn_node_sessions_init(spn_node_t *n)
{
	const spn_conf_t *c = n->conf;
	unsigned long max, ttl, budget, answers, per_client, per_cert, anon, inflight;
	const char *need = spn_conf_str(c, "session", "client_certificate", "");
	spn_sstore_limits_t lim;
	int rc;

	if ((rc = spn_conf_uint(c, "session", "max", 100000, 1, 10000000, &max)) ||
	    (rc = spn_conf_duration(c, "session", "ttl", 3600, &ttl)) ||
	    (rc = spn_conf_uint(c, "session", "budget", 10000, 1, 100000000, &budget)) ||
	    (rc = spn_conf_uint(c, "session", "answer_bytes", 64UL << 20, 0, 1UL << 32, &answers)) ||
	    /* Shares: an anonymous origin a hundredth of the table (at most
	     * 1,000), a certificate a tenth, anonymous clients together half,
	     * so that a certificate holder always finds room. */
	    (rc = spn_conf_uint(c, "session", "per_client", max / 100 < 1 ? 1 : max / 100 > 1000 ? 1000 : max / 100,
				1, 10000000, &per_client)) ||
	    (rc = spn_conf_uint(c, "session", "per_certificate", max / 10 ? max / 10 : 1, 1, 10000000, &per_cert)) ||
	    (rc = spn_conf_uint(c, "session", "anonymous", max / 2, 0, 10000000, &anon)) ||
	    (rc = spn_conf_uint(c, "session", "inflight", 256, 1, 1000000, &inflight)))
		return rc;
	if (anon > max)
		anon = max;
	memset(&n->cert_required, 0, sizeof(n->cert_required));
	if (need[0] && (rc = spn_ident_set_services(&n->cert_required, need)))
		return spn_err(rc, "%s: [session] client_certificate: %s", spn_conf_file(c), spn_err_detail(rc));
	lim.max = max;
	lim.ttl_s = ttl;
	lim.budget = budget;
	lim.answer_bytes = answers;
	lim.per_client = per_client;
	lim.per_certificate = per_cert;
	lim.anonymous = anon;
	lim.inflight = inflight;
	return spn_sstore_new(&lim, &n->sessions);
}

/* A provider whose own certificate is revoked provides nothing: not new
 * sessions, not sections in the sessions it opened before. */
static int self_revoked(spn_node_t *n)
{
	const spn_node_me_t *me = spn_node_me(n);
	int rc = 0;

	if (spn_node_is_revoked(me->serial, n->revoked))
		rc = spn_err(SPN_EREVOKED, "%s's certificate %s is revoked: it provides nothing", n->id.node_id,
			     me->serial);
	spn_node_me_put(me);
	return rc;
}

void spn_node_session_here(spn_node_t *n, json_object *payload, json_object *path, const char *origin,
			   spn_http_resp_t *resp)
{
	spn_session_request_t rq;
	spn_session_offer_t of;
	spn_sstore_keys_t k;
	spn_ident_t who;
	const spn_node_me_t *me;
	uint8_t key[SPN_SESSION_KEY];
	json_object *o;
	int rc;

	memset(&of, 0, sizeof(of));
	memset(&k, 0, sizeof(k));
	if (!payload || (rc = self_revoked(n))) {
		spn_http_error(resp, payload ? rc : SPN_EINVAL,
			       payload ? spn_err_detail(rc) : "a session request carries a 'payload'");
		return;
	}
	if ((rc = spn_session_request_parse(payload, &rq)))
		goto out;
	/* A client that signs is checked even where no service asks for it:
	 * its sections then carry an author the provider can vouch for. */
	if (rq.cert_pem || spn_ident_provides(&n->cert_required, rq.service)) {
		if ((rc = spn_session_request_check(&rq, n->root, spn_node_is_revoked, n->revoked, &who, k.serial)))
			goto out;
		snprintf(k.client, sizeof(k.client), "%s", who.node_id);
	}
	snprintf(k.service, sizeof(k.service), "%s", rq.service);
	/* One certificate for the whole offer, even when a renewal comes
	 * in between. */
	me = spn_node_me(n);
	rc = spn_session_offer(rq.session_id, rq.service, &me->id, n->key, me->pem, rq.client_pk, &of, key);
	spn_node_me_put(me);
	if (rc)
		goto out;
	spn_session_keys(key, rq.session_id, k.to_provider, k.to_client);
	spn_wipe(key, sizeof(key));
	if ((rc = spn_sstore_add(n->sessions, rq.session_id, &k, origin, now_s())))
		goto out;
	/* A CRL taken since the check may have swept the store before this
	 * session was in it. */
	if (k.serial[0] && spn_node_is_revoked(k.serial, n->revoked)) {
		spn_sstore_close_revoked(n->sessions, spn_node_is_revoked, n->revoked);
		rc = spn_err(SPN_EREVOKED, "session %s: the client's certificate %s (%s) is revoked", rq.session_id,
			     k.serial, k.client);
		goto out;
	}
	spn_log_info("session %s for service %s opened for %s", rq.session_id, rq.service,
		     k.client[0] ? k.client : "an anonymous client");
	o = json_object_new_object();
	json_object_object_add(o, "handled_by", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "offer", spn_session_offer_json(&of));
	json_object_object_add(o, "path", json_object_get(path));
	spn_http_json(resp, 200, o);
out:
	if (rc) {
		spn_log_info("session %s refused at %s: %s", rq.session_id[0] ? rq.session_id : "-", n->id.node_id,
			     spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
	}
	spn_sstore_keys_clear(&k);
	spn_session_offer_clear(&of);
	spn_session_request_clear(&rq);
}

/* A section of the client's that travelled with the call and is for this
 * node: opened and admitted like any, answered apart from the caller. */
typedef struct {
	spn_jwe_header_t h;
	spn_sstore_keys_t k;
	uint8_t *pt;
	size_t len;
} attached_t;

/* The service acts: the plugin that provides it. Start-up refuses a
 * certificate's service without one; should one still come (a certificate
 * renewed with other services), the section is refused, never answered
 * by spnd itself. */
static int act(spn_node_t *n, const spn_jwe_header_t *h, bool verified, const uint8_t *pt, size_t len,
	       attached_t *att, size_t n_att, spn_node_call_ctx_t *call, spn_plugin_answer_t *out)
{
	spn_plugin_proc_t *p = spn_node_plugin_for(n, h->svc);
	spn_plugin_part_t parts[SPN_ATTACHED_MAX];
	spn_plugin_req_t rq;

	memset(out, 0, sizeof(*out));
	int rc;

	if (!p)
		return spn_err(SPN_ENOPROVIDER, "no plugin on %s provides service %s; the section was not acted on",
			       n->id.node_id, h->svc);
	if ((rc = spn_node_call_admit(call)))
		return rc;
	memset(&rq, 0, sizeof(rq));
	rq.service = h->svc;
	rq.mid = h->mid;
	rq.main.author = h->from;
	rq.main.verified = verified;
	rq.main.data = pt;
	rq.main.len = len;
	for (size_t i = 0; i < n_att; i++) {
		parts[i].author = att[i].h.from;
		parts[i].verified = att[i].k.client[0] != 0;
		parts[i].data = att[i].pt;
		parts[i].len = att[i].len;
	}
	rq.attached = parts;
	rq.n_attached = n_att;
	return spn_plugin_proc_handle(p, &rq, spn_node_call, call, out);
}

/* Opens and checks a section for this node: its session, its recipient,
 * its author, its tag. read: h already holds its header (read once). */
static int open_section(spn_node_t *n, const char *jwe, size_t jlen, bool read, spn_jwe_header_t *h,
			spn_sstore_keys_t *k, uint8_t **pt, size_t *len)
{
	int rc;

	if (!read && (rc = spn_jwe_peek(jwe, jlen, h)))
		return rc;
	if (strcmp(h->to, n->id.node_id) != 0)
		return spn_err(SPN_EDENIED, "a section for %s reached %s", h->to, n->id.node_id);
	if ((rc = self_revoked(n)))
		return rc;
	/* The reply goes to the author: it must be a name a header can carry. */
	if (!spn_name_is_valid(h->from))
		return spn_err(SPN_EINVAL, "a section's author '%s' is not a name (1-%d of [a-z0-9.-])", h->from,
			       SPN_NAME_MAX);
	if ((rc = spn_sstore_keys(n->sessions, h->kid, now_s(), k)))
		return rc;
	if (strcmp(h->svc, k->service) != 0)
		return spn_err(SPN_EDENIED, "session %s is for service %s, not %s", h->kid, k->service, h->svc);
	if ((rc = spn_jwe_open_read(k->to_provider, jwe, jlen, h, pt, len)))
		return rc;
	if (k->client[0] && strcmp(h->from, k->client) != 0)
		return spn_err(SPN_EDENIED, "session %s belongs to %s; the section says it is from %s", h->kid, k->client,
			       h->from);
	return 0;
}

static json_object *reply_item(spn_node_t *n, const char *svc, const char *section, int rc, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "service", json_object_new_string(svc));
	json_object_object_add(o, "node", json_object_new_string(n->id.node_id));
	if (section) {
		json_object_object_add(o, "section", json_object_new_string(section));
	} else {
		json_object_object_add(o, "error", json_object_new_string(spn_errname(rc)));
		json_object_object_add(o, "message", json_object_new_string(why));
	}
	return o;
}

/* A carried section that is the main section's message again (the same
 * session, or the same author), or an attached one's: an entry node
 * refuses such a message, but one may come from elsewhere. Admitting it
 * would find its message id taken and wait for ever. */
static bool clashes_with(const spn_jwe_header_t *h, const spn_jwe_header_t *handled, const attached_t *att, size_t k)
{
	if (spn_envelope_sections_clash(h, handled))
		return true;
	for (size_t i = 0; i < k; i++)
		if (spn_envelope_sections_clash(h, &att[i].h))
			return true;
	return false;
}

/* Sorts the carried sections: those for this node and the main section's
 * service are opened and admitted (att), the rest travel on (rest). A
 * carried section that fails here is answered at once in replies, which
 * are recorded with the main section's answer. */
static size_t take_carried(spn_node_t *n, json_object *carry, const spn_jwe_header_t *handled, attached_t *att,
			   json_object *rest, json_object *replies)
{
	spn_carry_item_t mine[SPN_ENVELOPE_MAX];
	const char *svc = handled->svc, *mid = handled->mid;
	size_t k = 0, m = spn_carry_select(carry, n->id.node_id, svc, mine, SPN_ENVELOPE_MAX, rest);

	for (size_t i = 0; i < m; i++) {
		const spn_jwe_header_t *h = &mine[i].h;
		const char *jwe = json_object_get_string(mine[i].section);
		json_object *item;
		unsigned status;
		char *body = NULL;
		size_t blen;
		int rc;
		if (k == SPN_ATTACHED_MAX) {
			json_object_array_add(rest, json_object_get(mine[i].section));
			continue;
		}
		memset(&att[k], 0, sizeof(att[k]));
		/* Only the client's sections of this very message travel with it. */
		if (strcmp(h->mid, mid) != 0) {
			json_object_array_add(replies, reply_item(n, h->svc, NULL, SPN_EINVAL,
								  "a carried section of another message"));
			continue;
		}
		if (clashes_with(h, handled, att, k)) {
			json_object_array_add(replies, reply_item(n, h->svc, NULL, SPN_EINVAL,
								  "a carried section that is, to this node, a section "
								  "of the same message again (one session, or one "
								  "service and author): send it once, in sections"));
			continue;
		}
		att[k].h = *h;
		if ((rc = open_section(n, jwe, (size_t)json_object_get_string_len(mine[i].section), true, &att[k].h,
				       &att[k].k, &att[k].pt, &att[k].len)) == 0 &&
		    (rc = spn_sstore_begin(n->sessions, att[k].h.kid, att[k].h.from, att[k].h.mid, att[k].h.seq, &status, &body,
					   &blen)) == 0 &&
		    status == 0) {
			spn_log_info("section %s/%s seq %llu from %s: carried to %s, %zu bytes", att[k].h.kid, att[k].h.mid,
				     (unsigned long long)att[k].h.seq, att[k].h.from, svc, att[k].len);
			k++;
			continue;
		}
		/* Answered before (its recorded reply), or refused. */
		if (rc == 0 && body && spn_json_parse(body, blen, &item) == 0)
			json_object_array_add(replies, item);
		else if (rc)
			json_object_array_add(replies, reply_item(n, h->svc, NULL, rc, spn_err_detail(rc)));
		free(body);
		if (att[k].pt)
			spn_free_secret(att[k].pt, att[k].len);
		spn_sstore_keys_clear(&att[k].k);
	}
	return k;
}

/* Each carried section's own answer, sealed for its client and recorded
 * for retries: the plugin's reply to it, else that it was handled, or that
 * the request it came with failed. Never the caller's reply. */
static void answer_attached(spn_node_t *n, attached_t *att, size_t k, const spn_plugin_answer_t *ans, int rc,
			    json_object *replies)
{
	static const char handled[] = "{\"handled\":true}";

	for (size_t i = 0; i < k; i++) {
		const spn_plugin_out_t *a = &ans->attached[i];
		spn_jwe_header_t rh = att[i].h;
		char *sealed = NULL;
		json_object *item;
		const char *text;
		size_t tl;
		int r = a->given || rc == 0 ? 0 : rc;
		snprintf(rh.to, sizeof(rh.to), "%s", att[i].h.from);
		snprintf(rh.from, sizeof(rh.from), "%s", n->id.node_id);
		if (r == 0)
			r = a->given ? spn_jwe_seal(att[i].k.to_client, &rh, a->data, a->len, &sealed)
				     : spn_jwe_seal(att[i].k.to_client, &rh, (const uint8_t *)handled, sizeof(handled) - 1,
						    &sealed);
		item = reply_item(n, att[i].h.svc, sealed, r,
				  r == rc ? "the request this section came with was not completed" : spn_err_detail(r));
		text = spn_json_text(item, &tl);
		spn_sstore_finish(n->sessions, att[i].h.kid, att[i].h.mid, r ? spn_http_status_of(r) : 200, text, tl);
		json_object_array_add(replies, item);
		free(sealed);
	}
}

/* An answer from the record, with the way this retry came. */
static void answer_again(unsigned status, char *body, size_t len, json_object *path, spn_http_resp_t *resp)
{
	json_object *o;

	if (status == 200 && spn_json_parse(body, len, &o) == 0) {
		json_object_object_add(o, "path", json_object_get(path));
		spn_http_json(resp, 200, o);
		free(body);
		return;
	}
	resp->status = status;
	resp->body = body;
	resp->len = len;
	resp->content_type = "application/json";
}

void spn_node_section_here(spn_node_t *n, json_object *payload, json_object *path, spn_http_resp_t *resp)
{
	static const char *const fields[] = {"section", "carry", "chain", NULL};
	const char *jwe;
	spn_jwe_header_t h, rh;
	spn_sstore_keys_t k;
	attached_t att[SPN_ATTACHED_MAX];
	spn_node_call_ctx_t call;
	spn_plugin_answer_t ans;
	uint8_t *pt = NULL;
	size_t len = 0, rlen, n_att = 0;
	unsigned status;
	char *body = NULL, *sealed = NULL;
	const char *text;
	json_object *o, *carry = NULL, *chain = NULL, *rest = json_object_new_array(), *replies = json_object_new_array();
	int rc;

	memset(&h, 0, sizeof(h));
	memset(&k, 0, sizeof(k));
	memset(&ans, 0, sizeof(ans));
	if (!payload) {
		spn_node_metrics_section(n, NULL, SPN_EINVAL);
		spn_http_error(resp, SPN_EINVAL, "a section request carries a 'payload'");
		goto done;
	}
	json_object_object_get_ex(payload, "carry", &carry);
	json_object_object_get_ex(payload, "chain", &chain);
	if ((rc = spn_json_only(payload, "section request", fields)) ||
	    (rc = spn_json_str(payload, "section", true, SECTION_TEXT_MAX, &jwe)) ||
	    (rc = open_section(n, jwe, strlen(jwe), false, &h, &k, &pt, &len)) ||
	    (rc = spn_sstore_begin(n->sessions, h.kid, h.from, h.mid, h.seq, &status, &body, &rlen)))
		goto out;
	if (status) {
		spn_log_info("section %s/%s from %s: answered again from the record, not acted on", h.kid, h.mid,
			     h.from);
		answer_again(status, body, rlen, path, resp);
		body = NULL;
		goto out;
	}
	spn_log_info("section %s/%s seq %llu from %s: %zu bytes for %s%s", h.kid, h.mid, (unsigned long long)h.seq,
		     h.from, len, h.svc, carry ? ", with sections carried for others" : "");
	if (carry && json_object_is_type(carry, json_type_array))
		n_att = take_carried(n, carry, &h, att, rest, replies);
	rh = h;
	snprintf(rh.to, sizeof(rh.to), "%s", h.from);
	snprintf(rh.from, sizeof(rh.from), "%s", n->id.node_id);
	call = (spn_node_call_ctx_t){n, h.mid, h.svc, rest, replies, chain};
	/* Whatever the outcome, it is recorded: a retry is told the same and
	 * the service does not act twice. */
	rc = act(n, &h, k.client[0] != 0, pt, len, att, n_att, &call, &ans);
	answer_attached(n, att, n_att, &ans, rc, replies);
	if (rc || (rc = spn_jwe_seal(k.to_client, &rh, ans.reply.data, ans.reply.len, &sealed))) {
		spn_http_resp_t e = {0};
		spn_http_error(&e, rc, spn_err_detail(rc));
		/* The client's carried sections were answered all the same:
		 * those answers travel with the error. */
		if (json_object_array_length(replies) && e.body && spn_json_parse(e.body, e.len, &o) == 0) {
			spn_carry_attach(o, replies);
			free(e.body);
			e.body = NULL;
			spn_http_json(&e, spn_http_status_of(rc), o);
		}
		spn_sstore_finish(n->sessions, h.kid, h.mid, e.status, e.body, e.len);
		resp->status = e.status;
		resp->body = e.body;
		resp->len = e.len;
		resp->content_type = "application/json";
		spn_log_info("section %s/%s failed at %s: %s", h.kid, h.mid, n->id.node_id, spn_err_detail(rc));
		spn_node_metrics_section(n, h.svc, rc);
		rc = 0;
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "handled_by", json_object_new_string(n->id.node_id));
	json_object_object_add(o, "section", json_object_new_string(sealed));
	spn_carry_attach(o, replies);
	text = spn_json_text(o, &rlen);
	spn_sstore_finish(n->sessions, h.kid, h.mid, 200, text, rlen);
	json_object_object_add(o, "path", json_object_get(path));
	spn_http_json(resp, 200, o);
	spn_node_metrics_section(n, h.svc, 0);
out:
	if (rc) {
		spn_node_metrics_section(n, h.svc[0] ? h.svc : NULL, rc);
		spn_log_info("section %s/%s refused at %s: %s", h.kid[0] ? h.kid : "-", h.mid[0] ? h.mid : "-",
			     n->id.node_id, spn_err_detail(rc));
		spn_http_error(resp, rc, spn_err_detail(rc));
	}
	for (size_t i = 0; i < n_att; i++) {
		spn_free_secret(att[i].pt, att[i].len);
		spn_sstore_keys_clear(&att[i].k);
	}
	spn_plugin_answer_clear(&ans);
	if (pt)
		spn_free_secret(pt, len);
	free(sealed);
	free(body);
	spn_sstore_keys_clear(&k);
done:
	json_object_put(rest);
	json_object_put(replies);
}
