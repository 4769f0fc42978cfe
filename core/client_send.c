/* The client library's messages: one section per part, sealed for the
 * provider of its service; replies opened and checked to answer exactly
 * what was sent. A part that fails is tried again only where the service
 * cannot end up acting twice, as far as the client can tell:
 *   - the next node "did not answer" (timeout) or was busy: the same
 *     section again, in the same session, which the provider answers from
 *     its record if it did act;
 *   - the provider refused the session (unknown, expired, used up): a new
 *     session with the same provider, which remembers the message ids it
 *     acted on whatever the session;
 *   - the provider could not be reached or is gone from the tree: a new
 *     session with whichever provider the tree picks.
 * Errors come from nodes that do not sign them; a node on the path that
 * lies can make a part go to a second provider of the same service (doc/
 * protocol.md §6.4). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "error.h"
#include "json.h"
#include "mem.h"

#define PARTS_MAX SPN_CLIENT_PARTS_MAX
#define ROUNDS 3

typedef enum { DONE, RESEND, REOPEN_SAME, REOPEN_ANY } next_t;

typedef struct {
	bool pending;
	next_t next;
	bool resent, reopened;
	char *sent;          /* the section as last sent */
	uint64_t seq;
} part_state_t;

static void fail(spn_client_reply_t *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(spn_client_reply_t *r, int code, const char *fmt, ...)
{
	char out[sizeof(r->message)];
	va_list ap;

	/* The arguments may quote the message this replaces. */
	va_start(ap, fmt);
	vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	memcpy(r->message, out, sizeof(out));
	r->error = code;
	snprintf(r->error_name, sizeof(r->error_name), "%s", spn_errname(code));
}

/* Opens a reply section: it must answer this very message. */
static int open_reply(spn_client_t *c, const spn_client_session_t *s, const char *mid, uint64_t seq,
		      const char *jwe, spn_client_reply_t *r)
{
	spn_jwe_header_t h;
	uint8_t *pt = NULL;
	size_t len = 0;
	int rc;

	if ((rc = spn_jwe_open(s->to_client, jwe, strlen(jwe), &h, &pt, &len)))
		return rc;
	/* A message sent again with its id is answered from the provider's
	 * record: the reply then names the sequence number the message had
	 * the first time. The session and the message id bind it. */
	if (strcmp(h.kid, s->id) != 0 || strcmp(h.mid, mid) != 0 || h.seq > seq || strcmp(h.from, s->provider) != 0 ||
	    strcmp(h.to, c->name) != 0 || strcmp(h.svc, s->service) != 0) {
		spn_free_secret(pt, len);
		return spn_err(SPN_EDENIED, "the reply from %s does not answer message %s/%llu", s->provider, mid,
			       (unsigned long long)seq);
	}
	r->data = pt;
	r->len = len;
	return 0;
}

/* Seals part i for its session, unless the same section goes again. */
static int seal_part(spn_client_t *c, const spn_client_part_t *p, const char *mid, spn_client_session_t *s,
		     part_state_t *st)
{
	spn_jwe_header_t h;

	if (st->next == RESEND && st->sent)
		return 0;
	free(st->sent);
	st->sent = NULL;
	memset(&h, 0, sizeof(h));
	snprintf(h.kid, sizeof(h.kid), "%s", s->id);
	snprintf(h.svc, sizeof(h.svc), "%s", s->service);
	snprintf(h.to, sizeof(h.to), "%s", s->provider);
	snprintf(h.from, sizeof(h.from), "%s", c->name);
	snprintf(h.mid, sizeof(h.mid), "%s", mid);
	h.seq = s->seq++;
	st->seq = h.seq;
	return spn_jwe_seal(s->to_provider, &h, p->data, p->len, &st->sent);
}

/* What to do after an error, and whether it may be done at all. */
static next_t after(const spn_client_t *c, int code, const part_state_t *st)
{
	switch (code) {
	case SPN_ETIMEOUT:
	case SPN_EBUSY:
		return st->resent ? DONE : RESEND;
	case SPN_ESESSION:
	case SPN_EEXPIRED:
	case SPN_ELIMIT:
		return c->no_reopen || st->reopened ? DONE : REOPEN_SAME;
	case SPN_EUNAVAILABLE:
	case SPN_ENOPROVIDER:
		return c->no_reopen || st->reopened ? DONE : REOPEN_ANY;
	default:
		return DONE;
	}
}

/* A carried part's reply, or what came back for someone else's. A reply
 * that opens wins over an error about the same part (errors are not
 * signed: anyone on the way could have written one); an error is taken
 * only when no reply for the part came at all. */
static void take_carried(spn_client_t *c, const spn_client_part_t *parts, size_t n, const char *mid,
			 spn_client_reply_t *replies, part_state_t *st, json_object *items, json_object *back)
{
	size_t count = items ? json_object_array_length(items) : 0;
	bool *used = calloc(count ? count : 1, sizeof(bool));

	if (!used)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < count; j++) {
			json_object *it = json_object_array_get_idx(items, j);
			const char *svc = spn_json_str_or(it, "service", ""), *sec = spn_json_str_or(it, "section", NULL);
			if (used[j] || (pass == 0) != (sec != NULL))
				continue;
			for (size_t i = 0; i < n; i++) {
				spn_client_session_t *s = spn_client_session(c, parts[i].service);
				spn_jwe_header_t h;
				spn_client_reply_t r;
				int code;
				if (!parts[i].carry || !st[i].pending || strcmp(parts[i].service, svc) != 0 || !s || !s->open)
					continue;
				if (sec) {
					if (spn_jwe_peek(sec, strlen(sec), &h) != 0 || strcmp(h.kid, s->id) != 0)
						continue;
					memset(&r, 0, sizeof(r));
					if (open_reply(c, s, mid, st[i].seq, sec, &r) != 0)
						continue;
					replies[i].data = r.data;
					replies[i].len = r.len;
				} else {
					code = spn_client_code_of(spn_json_str_or(it, "error", "unavailable"));
					fail(&replies[i], code, "%s", spn_json_str_or(it, "message", "no reply"));
				}
				used[j] = true;
				st[i].pending = false;
				break;
			}
		}
	}
	for (size_t j = 0; back && j < count; j++)
		if (!used[j])
			json_object_array_add(back, json_object_get(json_object_array_get_idx(items, j)));
	free(used);
}

/* One round: a message with a section for every part still pending, the
 * carried ones and those of others travelling with it. */
static int round_trip(spn_client_t *c, const spn_client_part_t *parts, size_t n, const char *mid,
		      spn_client_reply_t *replies, part_state_t *st, json_object *extra, json_object *back)
{
	spn_client_session_t *sess[PARTS_MAX];
	size_t idx[PARTS_MAX], k = 0;
	json_object *body = json_object_new_object(), *list = json_object_new_array(), *carry = json_object_new_array();
	json_object *ans = NULL, *items, *carried = NULL;
	long status;
	int rc = 0;

	json_object_object_add(body, "id", json_object_new_string(mid));
	json_object_object_add(body, "sections", list);
	for (size_t i = 0; extra && i < json_object_array_length(extra); i++)
		json_object_array_add(carry, json_object_get(json_object_array_get_idx(extra, i)));
	for (size_t i = 0; i < n && rc == 0; i++) {
		spn_client_session_t *s = spn_client_session(c, parts[i].service);
		if (!st[i].pending)
			continue;
		if (!s || !s->open) {
			st[i].pending = false;
			if (!replies[i].error)
				fail(&replies[i], s && s->error ? s->error : SPN_ESESSION, "%s",
				     s && s->why[0] ? s->why : "no session");
			continue;
		}
		if ((rc = seal_part(c, &parts[i], mid, s, &st[i])))
			break;
		snprintf(replies[i].provider, sizeof(replies[i].provider), "%s", s->provider);
		if (parts[i].carry) {
			json_object_array_add(carry, json_object_new_string(st[i].sent));
			continue;
		}
		json_object_array_add(list, json_object_new_string(st[i].sent));
		sess[k] = s;
		idx[k++] = i;
	}
	if (json_object_array_length(carry))
		json_object_object_add(body, "carry", json_object_get(carry));
	if (c->chain)
		json_object_object_add(body, "chain", json_object_get(c->chain));
	if (rc || !k || (rc = spn_client_post(c, "/v1/message", body, &status, &ans)))
		goto out;
	json_object_object_get_ex(ans, "carried", &carried);
	take_carried(c, parts, n, mid, replies, st, carried, back);
	if (!json_object_object_get_ex(ans, "replies", &items) || !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) != k) {
		rc = spn_err(SPN_EUNAVAILABLE, "%s/v1/message: an answer that does not match the message", c->url);
		goto out;
	}
	for (size_t j = 0; j < k; j++) {
		json_object *it = json_object_array_get_idx(items, j);
		part_state_t *p = &st[idx[j]];
		spn_client_reply_t *r = &replies[idx[j]];
		const char *sec = spn_json_str_or(it, "section", NULL), *e, *m;
		int code;
		if (sec) {
			r->error = 0;
			r->error_name[0] = r->message[0] = '\0';
			if ((code = open_reply(c, sess[j], mid, p->seq, sec, r)))
				fail(r, code, "%s", spn_err_detail(code));
			p->pending = false;
			continue;
		}
		e = spn_json_str_or(it, "error", "unavailable");
		m = spn_json_str_or(it, "message", "no reply");
		code = spn_client_code_of(e);
		if (r->error)
			fail(r, code, "%.200s; then %s: %.200s", r->message, e, m);
		else if (code == SPN_EUNAVAILABLE || code == SPN_ENOPROVIDER)
			fail(r, code, "provider %s of %s is gone (%s: %s)", sess[j]->provider, sess[j]->service, e, m);
		else
			fail(r, code, "%s", m);
		p->next = after(c, code, p);
		p->pending = p->next != DONE;
		if (p->next == RESEND)
			p->resent = true;
		if (p->next == REOPEN_SAME || p->next == REOPEN_ANY) {
			char prov[sizeof(sess[j]->provider)];
			memcpy(prov, sess[j]->provider, sizeof(prov));
			spn_client_session_drop(sess[j]);
			/* The same provider remembers what it acted on. */
			if (p->next == REOPEN_SAME)
				memcpy(sess[j]->prefer, prov, sizeof(prov));
			p->reopened = true;
		}
	}
out:
	json_object_put(carry);
	json_object_put(body);
	json_object_put(ans);
	return rc;
}

/* Opens the sessions the pending parts need again; a part whose session
 * cannot be opened fails with both reasons. */
static void reopen(spn_client_t *c, const spn_client_part_t *parts, size_t n, spn_client_reply_t *replies,
		   part_state_t *st)
{
	const char *services[PARTS_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (st[i].pending && (st[i].next == REOPEN_SAME || st[i].next == REOPEN_ANY))
			services[k++] = parts[i].service;
	if (!k)
		return;
	spn_client_open(c, services, k);
	/* A preferred provider that has gone meanwhile: any other. */
	k = 0;
	for (size_t i = 0; i < n; i++) {
		spn_client_session_t *s = spn_client_session(c, parts[i].service);
		if (st[i].pending && s && !s->open && s->prefer[0] && s->error == SPN_ENOPROVIDER) {
			s->prefer[0] = '\0';
			services[k++] = parts[i].service;
		}
	}
	if (k)
		spn_client_open(c, services, k);
	for (size_t i = 0; i < n; i++) {
		spn_client_session_t *s = spn_client_session(c, parts[i].service);
		if (!st[i].pending || st[i].next == RESEND || (s && s->open))
			continue;
		fail(&replies[i], s && s->error ? s->error : SPN_ESESSION, "%.240s; no other session: %.240s",
		     replies[i].message, s && s->why[0] ? s->why : "none could be opened");
		st[i].pending = false;
	}
}

int spn_client_send(spn_client_t *c, const spn_client_part_t *parts, size_t n, spn_client_reply_t *replies)
{
	return spn_client_send_ex(c, NULL, parts, n, replies, NULL, NULL);
}

int spn_client_send_id(spn_client_t *c, const char *id, const spn_client_part_t *parts, size_t n,
		       spn_client_reply_t *replies)
{
	return spn_client_send_ex(c, id, parts, n, replies, NULL, NULL);
}

int spn_client_send_ex(spn_client_t *c, const char *given_mid, const spn_client_part_t *parts, size_t n,
		       spn_client_reply_t *replies, json_object *extra, json_object **carried_back)
{
	const char *services[PARTS_MAX];
	part_state_t st[PARTS_MAX];
	char mid[SPN_JWE_ID_MAX + 1];
	json_object *back = NULL;
	bool delivered = false;
	int rc = 0;

	spn_err_clear();
	if (carried_back)
		*carried_back = NULL;
	if (n == 0 || n > PARTS_MAX)
		return spn_err(SPN_EINVAL, "a message has 1 to %d parts", PARTS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!parts[i].service || !spn_service_name_is_valid(parts[i].service))
			return spn_err(SPN_EINVAL, "part %zu: '%s' is not a service name", i,
				       parts[i].service ? parts[i].service : "");
		/* One session per service: two parts for one would share it. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(parts[i].service, parts[j].service) == 0)
				return spn_err(SPN_EINVAL, "two parts for service %s: a message has one per service",
					       parts[i].service);
	}
	memset(st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		memset(&replies[i], 0, sizeof(replies[i]));
		snprintf(replies[i].service, sizeof(replies[i].service), "%s", parts[i].service);
		services[i] = parts[i].service;
		st[i].pending = true;
		delivered |= !parts[i].carry;
	}
	if (!delivered)
		return spn_err(SPN_EINVAL, "a message delivers at least one part; carried ones travel with it");
	if (given_mid && !spn_id_is_valid(given_mid))
		return spn_err(SPN_EINVAL, "'%s' is not a message id", given_mid);
	if (given_mid)
		snprintf(mid, sizeof(mid), "%s", given_mid);
	else
		spn_client_new_mid(mid, sizeof(mid));
	if (carried_back)
		back = json_object_new_array();
	/* Sessions that cannot be opened fail their own parts only. */
	if ((rc = spn_client_open(c, services, n)) == SPN_ELIMIT)
		goto done;
	rc = 0;
	for (int round = 0; round < ROUNDS && rc == 0; round++) {
		bool any = false;
		if ((rc = round_trip(c, parts, n, mid, replies, st, extra, back)))
			break;
		reopen(c, parts, n, replies, st);
		for (size_t i = 0; i < n; i++)
			any |= st[i].pending && !parts[i].carry;
		if (!any)
			break;
	}
	/* A carried part no service called never reached its provider. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (parts[i].carry && st[i].pending && !replies[i].error)
			fail(&replies[i], SPN_ENOTFOUND,
			     "no reply came back: no service on the way called %s, or its reply was lost (send the "
			     "message again with the same id to find out; it is not acted on twice)",
			     parts[i].service);
done:
	for (size_t i = 0; i < n; i++)
		free(st[i].sent);
	if (carried_back && back && json_object_array_length(back))
		*carried_back = back;
	else
		json_object_put(back);
	return rc;
}

void spn_client_reply_clear(spn_client_reply_t *r)
{
	if (r->data)
		spn_free_secret(r->data, r->len);
	r->data = NULL;
	r->len = 0;
}
