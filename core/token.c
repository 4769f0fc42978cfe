/* Join tokens: JSON claims, base64url, signed by the minter. */
#include "config.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "clock.h"
#include "error.h"
#include "json.h"
#include "pki_key.h"
#include "token.h"

static const char prefix[] = "spn1.";

int spn_token_new_id(spn_token_t *t)
{
	unsigned char raw[16];

	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0)
		return spn_err(SPN_ECRYPTO, "no randomness");
	spn_hex(raw, sizeof(raw), t->id);
	return 0;
}

int spn_token_issue(gnutls_x509_privkey_t key, const spn_ident_t *minter, const spn_ident_t *node, unsigned long ttl,
		    const char *tpl, char **out)
{
	spn_token_t t;
	time_t now = spn_clock_now();
	int rc;

	if (!spn_role_is_admin(minter->role))
		return spn_err(SPN_EDENIED, "%s is a %s and cannot accept members", minter->node_id,
			       spn_role_name(minter->role));
	if (!spn_name_is_valid(node->node_id))
		return spn_err(SPN_EINVAL, "invalid node id '%.80s'", node->node_id);
	if (node->role == SPN_ROLE_PSP)
		return spn_err(SPN_EPOLICY, "there is one PSP; a token can only be for an admin, spn or client");
	if (minter->role == SPN_ROLE_ADMIN && node->trust > minter->trust)
		return spn_err(SPN_EPOLICY, "admin %s (trust %u) cannot grant trust %u", minter->node_id, minter->trust,
			       node->trust);
	if (ttl == 0)
		return spn_err(SPN_EINVAL, "token lifetime must be at least 1s");
	if (tpl && *tpl && !spn_name_is_valid(tpl))
		return spn_err(SPN_EINVAL, "invalid template name '%.80s'", tpl);
	memset(&t, 0, sizeof(t));
	snprintf(t.tpl, sizeof(t.tpl), "%s", tpl ? tpl : "");
	if ((rc = spn_token_new_id(&t)))
		return rc;
	t.node = *node;
	t.node.parent[0] = '\0';
	strcpy(t.node.group, minter->group);
	strcpy(t.minted_by, minter->node_id);
	t.issued_at = now;
	t.expires = now + (time_t)ttl;
	return spn_token_mint(&t, key, out);
}

int spn_token_mint(const spn_token_t *t, gnutls_x509_privkey_t key, char **out)
{
	json_object *o = json_object_new_object(), *svc = json_object_new_array();
	char *claims = NULL, *input = NULL, *sig64 = NULL;
	gnutls_datum_t sig = {NULL, 0};
	const char *text;
	size_t len;
	int rc = SPN_ENOMEM;

	if (!o || !svc)
		goto out;
	for (size_t i = 0; i < t->node.n_services; i++)
		json_object_array_add(svc, json_object_new_string(t->node.services[i]));
	json_object_object_add(o, "v", json_object_new_int(1));
	json_object_object_add(o, "tid", json_object_new_string(t->id));
	json_object_object_add(o, "grp", json_object_new_string(t->node.group));
	json_object_object_add(o, "node", json_object_new_string(t->node.node_id));
	json_object_object_add(o, "role", json_object_new_string(spn_role_name(t->node.role)));
	json_object_object_add(o, "trust", json_object_new_int((int)t->node.trust));
	json_object_object_add(o, "svc", svc);
	svc = NULL;
	json_object_object_add(o, "by", json_object_new_string(t->minted_by));
	json_object_object_add(o, "iat", json_object_new_int64(t->issued_at));
	json_object_object_add(o, "exp", json_object_new_int64(t->expires));
	/* Only when set: a token without it reads as before everywhere. */
	if (t->tpl[0])
		json_object_object_add(o, "tpl", json_object_new_string(t->tpl));
	text = spn_json_text(o, &len);
	if ((rc = spn_b64url_encode((const uint8_t *)text, len, &claims)))
		goto out;
	if (asprintf(&input, "%s%s", prefix, claims) < 0) {
		input = NULL;
		rc = SPN_ENOMEM;
		goto out;
	}
	if ((rc = spn_pki_sign(key, input, strlen(input), &sig)) ||
	    (rc = spn_b64url_encode(sig.data, sig.size, &sig64)))
		goto out;
	if (asprintf(out, "%s.%s", input, sig64) < 0)
		rc = SPN_ENOMEM;
out:
	json_object_put(o);
	json_object_put(svc);
	gnutls_free(sig.data);
	free(claims);
	free(input);
	free(sig64);
	return rc;
}

static int claims_parse(json_object *o, spn_token_t *t)
{
	static const char *const allowed[] = {"v",  "tid", "grp", "node", "role", "trust",
					      "svc", "by", "iat", "exp",  "tpl",  NULL};
	const char *tid, *grp, *node, *role, *by, *tpl = NULL, **svc = NULL;
	int64_t v = 0, trust = 0, iat = 0, exp = 0;
	size_t nsvc = 0;
	int rc;

	if ((rc = spn_json_only(o, "token claims", allowed)) || (rc = spn_json_int(o, "v", true, 1, 1, &v)) ||
	    (rc = spn_json_str(o, "tid", true, 32, &tid)) || (rc = spn_json_str(o, "grp", true, SPN_NAME_MAX, &grp)) ||
	    (rc = spn_json_str(o, "node", true, SPN_NAME_MAX, &node)) ||
	    (rc = spn_json_str(o, "role", true, 16, &role)) ||
	    (rc = spn_json_int(o, "trust", true, 0, SPN_TRUST_MAX, &trust)) ||
	    (rc = spn_json_str(o, "by", true, SPN_NAME_MAX, &by)) ||
	    (rc = spn_json_int(o, "iat", true, 0, INT64_MAX / 2, &iat)) ||
	    (rc = spn_json_int(o, "exp", true, 0, INT64_MAX / 2, &exp)) ||
	    (rc = spn_json_str(o, "tpl", false, SPN_NAME_MAX, &tpl)) ||
	    (rc = spn_json_strs(o, "svc", true, SPN_SERVICES_MAX, SPN_SERVICE_MAX, &svc, &nsvc)))
		return spn_err(SPN_ETOKEN, "join token: %s", spn_err_detail(rc));
	rc = SPN_ETOKEN;
	if (strlen(tid) != 32 || strspn(tid, "0123456789abcdef") != 32)
		rc = spn_err(SPN_ETOKEN, "join token: bad token id");
	else if (!spn_name_is_valid(grp) || !spn_name_is_valid(node) || !spn_name_is_valid(by) ||
		 (tpl && !spn_name_is_valid(tpl)))
		rc = spn_err(SPN_ETOKEN, "join token: bad group, node, minter or template name");
	else if (spn_role_parse(role, &t->node.role) != 0 || t->node.role == SPN_ROLE_PSP)
		rc = spn_err(SPN_ETOKEN, "join token: role must be admin, spn or client");
	else
		rc = 0;
	for (size_t i = 0; rc == 0 && i < nsvc; i++)
		if (spn_ident_add_service(&t->node, svc[i]) != 0)
			rc = spn_err(SPN_ETOKEN, "join token: %s", spn_err_detail(SPN_EINVAL));
	free(svc);
	if (rc)
		return rc;
	strcpy(t->id, tid);
	strcpy(t->node.group, grp);
	strcpy(t->node.node_id, node);
	strcpy(t->minted_by, by);
	snprintf(t->tpl, sizeof(t->tpl), "%s", tpl ? tpl : "");
	t->node.trust = (unsigned)trust;
	t->issued_at = (time_t)iat;
	t->expires = (time_t)exp;
	return 0;
}

int spn_token_decode(const char *text, size_t len, spn_token_t *t)
{
	const char *dot1, *dot2, *end = text + len;
	uint8_t *claims = NULL, *sig = NULL;
	size_t clen, slen;
	json_object *o = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	if (len > SPN_TOKEN_MAX)
		return spn_err(SPN_ETOKEN, "join token longer than %d bytes", SPN_TOKEN_MAX);
	if (len < sizeof(prefix) || memcmp(text, prefix, sizeof(prefix) - 1) != 0)
		return spn_err(SPN_ETOKEN, "not a join token (expected 'spn1.')");
	dot1 = text + sizeof(prefix) - 2;
	dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
	if (!dot2 || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)))
		return spn_err(SPN_ETOKEN, "join token must have three dot-separated parts");
	if (spn_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &claims, &clen) != 0 ||
	    spn_b64url_decode(dot2 + 1, (size_t)(end - dot2 - 1), &sig, &slen) != 0) {
		rc = spn_err(SPN_ETOKEN, "join token is not valid base64url");
		goto out;
	}
	if (slen > sizeof(t->sig)) {
		rc = spn_err(SPN_ETOKEN, "join token signature too long");
		goto out;
	}
	if ((rc = spn_json_parse((const char *)claims, clen, &o)) != 0) {
		rc = spn_err(SPN_ETOKEN, "join token claims: %s", spn_err_detail(rc));
		goto out;
	}
	if ((rc = claims_parse(o, t)) != 0)
		goto out;
	memcpy(t->sig, sig, slen);
	t->sig_len = slen;
	t->signed_len = (size_t)(dot2 - text);
out:
	json_object_put(o);
	free(claims);
	free(sig);
	return rc;
}

int spn_token_verify(const char *text, const spn_token_t *t, gnutls_x509_crt_t minter)
{
	if (spn_pki_verify(minter, text, t->signed_len, t->sig, t->sig_len) != 0)
		return spn_err(SPN_ETOKEN, "join token signature does not verify against %s's certificate", t->minted_by);
	return 0;
}

int spn_token_check_time(const spn_token_t *t, time_t now, unsigned long max_ttl)
{
	if (t->expires <= now)
		return spn_err(SPN_ETOKENEXPIRED, "join token for %s expired %lds ago", t->node.node_id,
			       (long)(now - t->expires));
	if (t->issued_at > now + SPN_TOKEN_SKEW)
		return spn_err(SPN_ETOKEN, "join token for %s says it was issued %lds from now, more than the %ds of "
					   "clock skew tolerated: check the clock of %s",
			       t->node.node_id, (long)(t->issued_at - now), SPN_TOKEN_SKEW, t->minted_by);
	if (t->expires <= t->issued_at)
		return spn_err(SPN_ETOKEN, "join token for %s expires before it was issued", t->node.node_id);
	if (max_ttl && t->expires - t->issued_at > (time_t)max_ttl)
		return spn_err(SPN_ETOKEN, "join token lifetime exceeds the group's token_ttl of %lus", max_ttl);
	return 0;
}
