/* The client library's messages: one section per part, sealed for the
 * provider of its service; replies opened and checked to answer exactly
 * what was sent. A part whose session is gone is sent once more over a
 * new session, to another provider if the first one left. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "error.h"
#include "json.h"
#include "mem.h"

#define PARTS_MAX 16

/* Errors after which another session, perhaps with another provider, may
 * succeed where this one cannot. */
static bool gone(int code)
{
	return code == SPN_ESESSION || code == SPN_EEXPIRED || code == SPN_ELIMIT || code == SPN_ENOPROVIDER ||
	       code == SPN_EUNAVAILABLE || code == SPN_ETIMEOUT || code == SPN_EREVOKED;
}

static void fail(spn_client_reply_t *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(spn_client_reply_t *r, int code, const char *fmt, ...)
{
	va_list ap;

	r->error = code;
	snprintf(r->error_name, sizeof(r->error_name), "%s", spn_errname(code));
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* Opens a reply section: it must answer this very section. */
static int open_reply(spn_client_t *c, const spn_client_session_t *s, const char *mid, uint64_t seq,
		      const char *jwe, spn_client_reply_t *r)
{
	spn_jwe_header_t h;
	uint8_t *pt = NULL;
	size_t len = 0;
	int rc;

	if ((rc = spn_jwe_open(s->to_client, jwe, strlen(jwe), &h, &pt, &len)))
		return rc;
	if (strcmp(h.kid, s->id) != 0 || strcmp(h.mid, mid) != 0 || h.seq != seq || strcmp(h.from, s->provider) != 0 ||
	    strcmp(h.to, c->name) != 0 || strcmp(h.svc, s->service) != 0) {
		spn_free_secret(pt, len);
		return spn_err(SPN_EDENIED, "the reply from %s does not answer message %s/%llu", s->provider, mid,
			       (unsigned long long)seq);
	}
	r->data = pt;
	r->len = len;
	return 0;
}

/* One round: a message with a section for every part still pending. */
static int round_trip(spn_client_t *c, const spn_client_part_t *parts, size_t n, const char *mid,
		      spn_client_reply_t *replies, bool *pending, bool *retry)
{
	spn_client_session_t *sess[PARTS_MAX];
	uint64_t seqs[PARTS_MAX];
	size_t idx[PARTS_MAX], k = 0;
	json_object *body = json_object_new_object(), *list = json_object_new_array(), *ans = NULL, *items;
	long status;
	int rc = 0;

	json_object_object_add(body, "id", json_object_new_string(mid));
	json_object_object_add(body, "sections", list);
	for (size_t i = 0; i < n && rc == 0; i++) {
		spn_client_session_t *s = spn_client_session(c, parts[i].service);
		spn_jwe_header_t h;
		char *jwe = NULL;
		if (!pending[i])
			continue;
		if (!s || !s->open) {
			pending[i] = false;
			fail(&replies[i], s && s->error ? s->error : SPN_ESESSION, "%s",
			     s && s->why[0] ? s->why : "no session");
			continue;
		}
		memset(&h, 0, sizeof(h));
		snprintf(h.kid, sizeof(h.kid), "%s", s->id);
		snprintf(h.svc, sizeof(h.svc), "%s", s->service);
		snprintf(h.to, sizeof(h.to), "%s", s->provider);
		snprintf(h.from, sizeof(h.from), "%s", c->name);
		snprintf(h.mid, sizeof(h.mid), "%s", mid);
		h.seq = s->seq++;
		snprintf(replies[i].provider, sizeof(replies[i].provider), "%s", s->provider);
		if ((rc = spn_jwe_seal(s->to_provider, &h, parts[i].data, parts[i].len, &jwe)))
			break;
		json_object_array_add(list, json_object_new_string(jwe));
		free(jwe);
		sess[k] = s;
		seqs[k] = h.seq;
		idx[k++] = i;
	}
	if (rc || !k || (rc = spn_client_post(c, "/v1/message", body, &status, &ans)))
		goto out;
	if (!json_object_object_get_ex(ans, "replies", &items) || !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) != k) {
		rc = spn_err(SPN_EUNAVAILABLE, "%s/v1/message: an answer that does not match the message", c->url);
		goto out;
	}
	for (size_t j = 0; j < k; j++) {
		json_object *it = json_object_array_get_idx(items, j), *v;
		spn_client_reply_t *r = &replies[idx[j]];
		const char *e = "unavailable", *m = "no reply";
		int code;
		if (json_object_object_get_ex(it, "section", &v) && json_object_is_type(v, json_type_string)) {
			r->error = 0;
			r->error_name[0] = r->message[0] = '\0';
			if ((code = open_reply(c, sess[j], mid, seqs[j], json_object_get_string(v), r)))
				fail(r, code, "%s", spn_err_detail(code));
			pending[idx[j]] = false;
			continue;
		}
		if (json_object_object_get_ex(it, "error", &v))
			e = json_object_get_string(v);
		if (json_object_object_get_ex(it, "message", &v))
			m = json_object_get_string(v);
		code = spn_client_code_of(e);
		if (gone(code) && !c->no_reopen && !retry[idx[j]]) {
			/* The caller never sees this: the part goes again. */
			fail(r, code, "provider %s of %s is gone (%s: %s)", sess[j]->provider, sess[j]->service, e, m);
			spn_client_session_drop(sess[j]);
			retry[idx[j]] = true;
			continue;
		}
		if (retry[idx[j]] && r->error) {
			char before[sizeof(r->message)];
			memcpy(before, r->message, sizeof(before));
			fail(r, code, "%.200s; then %s: %.200s", before, e, m);
		}
		else
			fail(r, code, "%s: %s", e, m);
		pending[idx[j]] = false;
	}
out:
	json_object_put(body);
	json_object_put(ans);
	return rc;
}

int spn_client_send(spn_client_t *c, const spn_client_part_t *parts, size_t n, spn_client_reply_t *replies)
{
	const char *services[PARTS_MAX];
	bool pending[PARTS_MAX], retry[PARTS_MAX];
	char mid[SPN_JWE_ID_MAX + 1];
	int rc;

	spn_err_clear();
	if (n == 0 || n > PARTS_MAX)
		return spn_err(SPN_EINVAL, "a message has 1 to %d parts", PARTS_MAX);
	for (size_t i = 0; i < n; i++) {
		memset(&replies[i], 0, sizeof(replies[i]));
		snprintf(replies[i].service, sizeof(replies[i].service), "%s", parts[i].service ? parts[i].service : "");
		services[i] = replies[i].service;
		pending[i] = true;
		retry[i] = false;
	}
	spn_client_new_mid(mid, sizeof(mid));
	/* Sessions that cannot be opened fail their own parts only. */
	if ((rc = spn_client_open(c, services, n)) == SPN_EINVAL || rc == SPN_ELIMIT)
		return rc;
	for (int round = 0; round < 2; round++) {
		size_t again = 0;
		if ((rc = round_trip(c, parts, n, mid, replies, pending, retry)))
			return rc;
		for (size_t i = 0; i < n; i++)
			if (pending[i])
				services[again++] = replies[i].service;
		if (!again)
			break;
		spn_client_open(c, services, again);
		for (size_t i = 0; i < n; i++) {
			spn_client_session_t *s = spn_client_session(c, replies[i].service);
			if (pending[i] && s && !s->open) {
				char before[sizeof(replies[i].message)];
				memcpy(before, replies[i].message, sizeof(before));
				fail(&replies[i], s->error, "%.240s; no other session: %.240s", before, s->why);
				pending[i] = false;
			}
		}
	}
	return 0;
}

void spn_client_reply_clear(spn_client_reply_t *r)
{
	if (r->data)
		spn_free_secret(r->data, r->len);
	r->data = NULL;
	r->len = 0;
}
