/* Reading the session call and the message envelope: strict JSON, known
 * members only, ids and names checked, at most SPN_ENVELOPE_MAX items. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "envelope.h"
#include "error.h"
#include "hpke.h"
#include "ident.h"
#include "json.h"
#include "pki_cert.h"

/* The list under key: 1 to SPN_ENVELOPE_MAX items. */
static int list_of(json_object *o, const char *key, const char *items, json_object **list, size_t *n)
{
	if (!json_object_object_get_ex(o, key, list) || !json_object_is_type(*list, json_type_array) ||
	    (*n = json_object_array_length(*list)) == 0 || *n > SPN_ENVELOPE_MAX) {
		*n = 0;
		return spn_err(SPN_EINVAL, "'%s': a list of 1 to %d %s", key, SPN_ENVELOPE_MAX, items);
	}
	return 0;
}

int spn_session_call_parse(const char *body, size_t len, spn_session_call_t *c)
{
	static const char *const fields[] = {"client_key", "certificate", "sessions", NULL};
	static const char *const item_fields[] = {"session", "service", "node", "sig", NULL};
	json_object *list;
	uint8_t pk[SPN_HPKE_KEY];
	const char *cert;
	size_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = spn_json_parse(body, len, &c->root)) || (rc = spn_json_only(c->root, "session call", fields)) ||
	    (rc = spn_json_str(c->root, "client_key", true, 64, &c->client_key)) ||
	    (rc = spn_json_b64u(c->root, "client_key", true, pk, sizeof(pk), sizeof(pk), NULL)) ||
	    (rc = spn_json_str(c->root, "certificate", false, SPN_CERT_MAX, &cert)) ||
	    (rc = list_of(c->root, "sessions", "{\"session\", \"service\"}", &list, &n)))
		goto fail;
	if (cert)
		json_object_object_get_ex(c->root, "certificate", &c->certificate);
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(list, i);
		if ((rc = spn_json_only(it, "session", item_fields)) ||
		    (rc = spn_json_str(it, "session", true, SPN_ID_MAX, &c->item[i].session)) ||
		    (rc = spn_json_str(it, "service", true, SPN_SERVICE_MAX, &c->item[i].service)) ||
		    (rc = spn_json_str(it, "node", false, SPN_NAME_MAX, &c->item[i].node)))
			goto fail;
		if (!spn_id_is_valid(c->item[i].session) || !spn_service_name_is_valid(c->item[i].service) ||
		    (c->item[i].node && !spn_name_is_valid(c->item[i].node))) {
			rc = spn_err(SPN_EINVAL, "sessions[%zu]: bad session id, service or node name", i);
			goto fail;
		}
		if (json_object_object_get_ex(it, "sig", &c->item[i].sig) && !cert) {
			rc = spn_err(SPN_EINVAL, "sessions[%zu]: 'sig' without 'certificate'", i);
			goto fail;
		}
	}
	c->n = n;
	return 0;
fail:
	spn_session_call_clear(c);
	return rc;
}

void spn_session_call_clear(spn_session_call_t *c)
{
	json_object_put(c->root);
	memset(c, 0, sizeof(*c));
}

bool spn_envelope_sections_clash(const spn_jwe_header_t *a, const spn_jwe_header_t *b)
{
	/* A provider records a message id once per session, and once per
	 * service and author across its sessions. */
	return strcmp(a->to, b->to) == 0 && strcmp(a->mid, b->mid) == 0 &&
	       (strcmp(a->kid, b->kid) == 0 || (strcmp(a->svc, b->svc) == 0 && strcmp(a->from, b->from) == 0));
}

/* The routable sections of the message, then its carried ones: the first
 * pair a provider would take for one message twice. Refused whole, once
 * and the same for every retry, rather than left to wait at the provider. */
static int clashes(const spn_envelope_t *e, const spn_jwe_header_t *carried, size_t nc)
{
	const spn_jwe_header_t *all[2 * SPN_ENVELOPE_MAX];
	char name[2 * SPN_ENVELOPE_MAX][16];
	size_t k = 0;

	for (size_t i = 0; i < e->n + nc; i++) {
		if (i < e->n && e->rc[i])
			continue;
		all[k] = i < e->n ? &e->h[i] : &carried[i - e->n];
		snprintf(name[k], sizeof(name[k]), "%s[%zu]", i < e->n ? "sections" : "carry", i < e->n ? i : i - e->n);
		for (size_t j = 0; j < k; j++)
			if (spn_envelope_sections_clash(all[j], all[k]))
				return spn_err(SPN_EINVAL,
					       "%s and %s are one message twice to %s (one session, or one service "
					       "and author): a message has one section per provider, service and author",
					       name[j], name[k], all[k]->to);
		k++;
	}
	return 0;
}

int spn_envelope_parse(const char *body, size_t len, spn_envelope_t *e)
{
	static const char *const fields[] = {"id", "sections", "carry", "chain", NULL};
	spn_jwe_header_t carried[SPN_ENVELOPE_MAX];
	json_object *list, *carry, *chain;
	spn_chain_t links;
	size_t n, nc = 0;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = spn_json_parse(body, len, &e->root)) || (rc = spn_json_only(e->root, "message", fields)) ||
	    (rc = spn_json_str(e->root, "id", true, SPN_JWE_ID_MAX, &e->id)))
		goto fail;
	if (!spn_id_is_valid(e->id)) {
		rc = spn_err(SPN_EINVAL, "'id': 1-%d of [A-Za-z0-9._-]", SPN_JWE_ID_MAX);
		goto fail;
	}
	if ((rc = list_of(e->root, "sections", "sections", &list, &n)))
		goto fail;
	/* Carried sections are checked as far as routing goes: they are for
	 * this message, and readable headers. */
	if (json_object_object_get_ex(e->root, "carry", &carry)) {
		if ((rc = list_of(e->root, "carry", "sections", &carry, &nc)))
			goto fail;
		for (size_t i = 0; i < nc; i++) {
			json_object *s = json_object_array_get_idx(carry, i);
			spn_jwe_header_t *h = &carried[i];
			if (!json_object_is_type(s, json_type_string) ||
			    spn_jwe_peek(json_object_get_string(s), (size_t)json_object_get_string_len(s), h) != 0 ||
			    strcmp(h->mid, e->id) != 0) {
				rc = spn_err(SPN_EINVAL, "carry[%zu]: not a section of message %s", i, e->id);
				goto fail;
			}
		}
		e->carry = carry;
	}
	/* A node's call says which calls it is part of: passed on as read. */
	if (json_object_object_get_ex(e->root, "chain", &chain)) {
		if ((rc = spn_chain_read(chain, &links)))
			goto fail;
		e->chain = chain;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(list, i);
		int r = 0;
		e->section[i] = s;
		if (!json_object_is_type(s, json_type_string))
			r = spn_err(SPN_EINVAL, "a section is a string: a JWE in compact form");
		else if ((r = spn_jwe_peek(json_object_get_string(s), (size_t)json_object_get_string_len(s), &e->h[i])))
			;
		else if (strcmp(e->h[i].mid, e->id) != 0)
			r = spn_err(SPN_EINVAL, "the section's message id is not the message's");
		e->rc[i] = r;
		if (r) {
			snprintf(e->why[i], sizeof(e->why[i]), "%s", spn_err_detail(r));
			memset(&e->h[i], 0, sizeof(e->h[i]));
		}
	}
	e->n = n;
	if ((rc = clashes(e, carried, nc)))
		goto fail;
	return 0;
fail:
	spn_envelope_clear(e);
	return rc;
}

void spn_envelope_clear(spn_envelope_t *e)
{
	json_object_put(e->root);
	memset(e, 0, sizeof(*e));
}
