/* The node's small REST bodies, read into typed values (node_body.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "ledger.h"
#include "node_body.h"
#include "token.h"

#define CSR_MAX (64 * 1024)

int spn_endorsements_parse(json_object *list, spn_endorsement_t *out, size_t *n)
{
	static const char *const fields[] = {"node", "sig", NULL};
	size_t count;
	int rc;

	*n = 0;
	if (!json_object_is_type(list, json_type_array) || (count = json_object_array_length(list)) == 0 ||
	    count > SPN_ENDORSEMENTS_MAX)
		return spn_err(SPN_EINVAL, "endorsed_by: a list of 1 to %d endorsements", SPN_ENDORSEMENTS_MAX);
	for (size_t i = 0; i < count; i++) {
		json_object *e = json_object_array_get_idx(list, i);
		if (!json_object_is_type(e, json_type_object))
			return spn_err(SPN_EINVAL, "endorsement %zu is not an object", i);
		if ((rc = spn_json_only(e, "endorsement", fields)) ||
		    (rc = spn_json_str(e, "node", true, SPN_NAME_MAX, &out[i].node)) ||
		    (rc = spn_json_str(e, "sig", true, 2048, &out[i].sig)))
			return rc;
	}
	*n = count;
	return 0;
}

int spn_enroll_body_parse(const char *body, size_t len, bool pseudo, spn_enroll_body_t *out)
{
	static const char *const csr_fields[] = {"csr", "token", "endorsed_by", NULL};
	static const char *const pseudo_fields[] = {"request", "token", "passphrase", NULL};
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_json_parse(body, len, &out->root)) ||
	    (rc = spn_json_only(out->root, "enrollment", pseudo ? pseudo_fields : csr_fields)) ||
	    (rc = spn_json_str(out->root, "token", true, SPN_TOKEN_MAX, &out->token)) ||
	    (!pseudo && (rc = spn_json_str(out->root, "csr", true, CSR_MAX, &out->csr))) ||
	    (pseudo && (rc = spn_json_str(out->root, "passphrase", false, 1024, &out->passphrase))))
		goto fail;
	if (pseudo && (!json_object_object_get_ex(out->root, "request", &out->request) ||
		       !json_object_is_type(out->request, json_type_object))) {
		rc = spn_err(SPN_EINVAL, "field 'request' must be the pseudo-CSR object");
		goto fail;
	}
	if (json_object_object_get_ex(out->root, "endorsed_by", &out->endorsed_by) &&
	    (rc = spn_endorsements_parse(out->endorsed_by, out->endorsement, &out->n_endorsements)))
		goto fail;
	return 0;
fail:
	spn_enroll_body_clear(out);
	return rc;
}

void spn_enroll_body_clear(spn_enroll_body_t *b)
{
	json_object_put(b->root);
	memset(b, 0, sizeof(*b));
}

int spn_token_body_parse(const char *body, size_t len, spn_token_body_t *out)
{
	static const char *const fields[] = {"node", "role", "trust", "services", "ttl", "template", NULL};
	json_object *msg = NULL;
	const char *id, *role, *tpl = NULL, **svc = NULL;
	int64_t trust = 0, ttl = 900;
	size_t ns = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_json_parse(body, len, &msg)) || (rc = spn_json_only(msg, "token request", fields)) ||
	    (rc = spn_json_str(msg, "node", true, SPN_NAME_MAX, &id)) ||
	    (rc = spn_json_str(msg, "role", true, 16, &role)) ||
	    (rc = spn_json_int(msg, "trust", false, 0, SPN_TRUST_MAX, &trust)) ||
	    (rc = spn_json_int(msg, "ttl", false, 1, 7 * 86400, &ttl)) ||
	    (rc = spn_json_str(msg, "template", false, SPN_NAME_MAX, &tpl)) ||
	    (rc = spn_json_strs(msg, "services", false, SPN_SERVICES_MAX, SPN_SERVICE_MAX, &svc, &ns)) ||
	    (rc = spn_role_parse(role, &out->node.role)))
		goto out;
	snprintf(out->node.node_id, sizeof(out->node.node_id), "%s", id);
	out->node.trust = (unsigned)trust;
	out->ttl = (unsigned long)ttl;
	if (tpl && !spn_name_is_valid(tpl))
		rc = spn_err(SPN_EINVAL, "template: '%s' is not a valid template name", tpl);
	else
		snprintf(out->tpl, sizeof(out->tpl), "%s", tpl ? tpl : "");
	for (size_t i = 0; rc == 0 && i < ns; i++)
		rc = spn_ident_add_service(&out->node, svc[i]);
out:
	free(svc);
	json_object_put(msg);
	return rc;
}

int spn_renew_body_parse(const char *body, size_t len, json_object **root, spn_renew_body_t *out)
{
	static const char *const fields[] = {"csr", "certificate", NULL};
	int rc;

	memset(out, 0, sizeof(*out));
	*root = NULL;
	if ((rc = spn_json_parse(body, len, root)) == 0 && (rc = spn_json_only(*root, "renewal", fields)) == 0 &&
	    (rc = spn_json_str(*root, "csr", true, CSR_MAX, &out->csr)) == 0)
		rc = spn_json_str(*root, "certificate", true, SPN_CERT_MAX, &out->certificate);
	return rc;
}

int spn_revoke_body_parse(const char *body, size_t len, spn_revoke_body_t *out)
{
	static const char *const fields[] = {"serial", "reason", NULL};
	json_object *o = NULL;
	const char *given, *reason = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = spn_json_parse(body, len, &o)) == 0 && (rc = spn_json_only(o, "revocation", fields)) == 0 &&
	    (rc = spn_json_str(o, "serial", true, 256, &given)) == 0 && (rc = spn_serial_parse(given, out->serial)) == 0 &&
	    (rc = spn_json_str(o, "reason", false, 32, &reason)) == 0)
		rc = spn_crl_reason_parse(reason ? reason : "unspecified", &out->reason);
	json_object_put(o);
	return rc;
}

static bool origin_is_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".:/_-", *s))
			return false;
	return true;
}

int spn_route_fields_parse(json_object *msg, spn_route_fields_t *out)
{
	static const char *const fields[] = {"id", "kind", "service", "node", "payload", "path", "hops", "origin", NULL};
	int rc;

	memset(out, 0, sizeof(*out));
	out->hops = -1;
	if (!json_object_is_type(msg, json_type_object))
		return spn_err(SPN_EINVAL, "a request is a JSON object");
	if ((rc = spn_json_only(msg, "request", fields)) || (rc = spn_json_str(msg, "kind", false, 16, &out->kind)) ||
	    (rc = spn_json_str(msg, "service", false, SPN_SERVICE_MAX, &out->service)) ||
	    (rc = spn_json_str(msg, "node", false, SPN_NAME_MAX, &out->node)) ||
	    (rc = spn_json_str(msg, "id", false, SPN_ID_MAX, &out->id)))
		return rc;
	if (!out->service && !out->node)
		return spn_err(SPN_EINVAL, "a request names a 'service' or a 'node'");
	if (out->kind && strcmp(out->kind, "echo") != 0 && strcmp(out->kind, "session") != 0 &&
	    strcmp(out->kind, "section") != 0)
		return spn_err(SPN_EINVAL, "'kind' is echo, session or section");
	if ((out->service && !spn_service_name_is_valid(out->service)) || (out->node && !spn_name_is_valid(out->node)))
		return spn_err(SPN_EINVAL, "bad service or node name");
	if (out->id && !spn_id_is_valid(out->id))
		return spn_err(SPN_EINVAL, "request id: 1-%d of [A-Za-z0-9._-]", SPN_ID_MAX);
	if (json_object_object_get_ex(msg, "path", &out->path)) {
		if (!json_object_is_type(out->path, json_type_array))
			return spn_err(SPN_EINVAL, "'path' is a list of node ids");
		for (size_t i = 0; i < json_object_array_length(out->path); i++)
			if (!json_object_is_type(json_object_array_get_idx(out->path, i), json_type_string))
				return spn_err(SPN_EINVAL, "path entries are node ids");
	}
	if (json_object_object_get_ex(msg, "hops", NULL) &&
	    (rc = spn_json_int(msg, "hops", true, 0, SPN_ROUTE_PATH_MAX, &out->hops)))
		return rc;
	if ((rc = spn_json_str(msg, "origin", false, SPN_ROUTE_ORIGIN_MAX, &out->origin)))
		return rc;
	if (out->origin && !origin_is_valid(out->origin))
		return spn_err(SPN_EINVAL, "'origin' is 1-%d of [A-Za-z0-9.:/_-]", SPN_ROUTE_ORIGIN_MAX);
	return 0;
}
