/* Identity: name rules, roles, services, and the strict identity URI. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ident.h"

static const char *const roles[] = {"psp", "admin", "spn", "client"};

bool spn_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > SPN_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

bool spn_service_name_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > SPN_SERVICE_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

int spn_role_parse(const char *s, spn_role_t *out)
{
	for (unsigned i = 0; i < 4; i++) {
		if (s && strcmp(s, roles[i]) == 0) {
			*out = (spn_role_t)i;
			return 0;
		}
	}
	return spn_err(SPN_EINVAL, "unknown role '%s' (psp, admin, spn, client)", s ? s : "");
}

const char *spn_role_name(spn_role_t role)
{
	return (unsigned)role < 4 ? roles[role] : "unknown";
}

bool spn_role_is_admin(spn_role_t role)
{
	return role == SPN_ROLE_PSP || role == SPN_ROLE_ADMIN;
}

int spn_ident_add_service(spn_ident_t *id, const char *service)
{
	if (!spn_service_name_is_valid(service))
		return spn_err(SPN_EINVAL, "invalid service name '%.40s' (1-32 of a-z 0-9 _ -, starting with a letter)",
			       service);
	if (spn_ident_provides(id, service))
		return spn_err(SPN_EINVAL, "service '%s' listed twice", service);
	if (id->n_services == SPN_SERVICES_MAX)
		return spn_err(SPN_EINVAL, "more than %d services", SPN_SERVICES_MAX);
	strcpy(id->services[id->n_services++], service);
	return 0;
}

int spn_ident_set_services(spn_ident_t *id, const char *list)
{
	const char *p = list;

	id->n_services = 0;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[SPN_SERVICE_MAX + 2];
		int rc;

		if (n == 0 || n > SPN_SERVICE_MAX)
			return spn_err(SPN_EINVAL, "invalid service list '%.80s'", list);
		memcpy(name, p, n);
		name[n] = '\0';
		if ((rc = spn_ident_add_service(id, name)) != 0)
			return rc;
		p = comma ? comma + 1 : NULL;
		if (p && !*p)
			return spn_err(SPN_EINVAL, "invalid service list '%.80s'", list);
	}
	return 0;
}

bool spn_id_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= SPN_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool spn_ident_provides(const spn_ident_t *id, const char *service)
{
	for (size_t i = 0; i < id->n_services; i++)
		if (strcmp(id->services[i], service) == 0)
			return true;
	return false;
}

bool spn_ident_is_same_grant(const spn_ident_t *a, const spn_ident_t *b)
{
	if (a->role != b->role || a->trust != b->trust || a->n_services != b->n_services ||
	    strcmp(a->parent, b->parent) != 0)
		return false;
	for (size_t i = 0; i < a->n_services; i++)
		if (strcmp(a->services[i], b->services[i]) != 0)
			return false;
	return true;
}

bool spn_ident_is_equal(const spn_ident_t *a, const spn_ident_t *b)
{
	return strcmp(a->node_id, b->node_id) == 0 && strcmp(a->group, b->group) == 0 && spn_ident_is_same_grant(a, b);
}

const char *spn_ident_services_str(const spn_ident_t *id, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < id->n_services && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", id->services[i]);
	return buf;
}

int spn_ident_uri_encode(const spn_ident_t *id, char **out)
{
	char svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];

	if ((unsigned)id->role > SPN_ROLE_CLIENT || id->trust > SPN_TRUST_MAX || !spn_name_is_valid(id->group) ||
	    !spn_name_is_valid(id->node_id))
		return spn_err(SPN_EINVAL, "identity out of range");
	if (id->parent[0] && !spn_name_is_valid(id->parent))
		return spn_err(SPN_EINVAL, "identity out of range");
	if (asprintf(out, SPN_URI_SCHEME "%s/%s?role=%s&trust=%u&services=%s%s%s", id->group, id->node_id,
		     spn_role_name(id->role), id->trust, spn_ident_services_str(id, svc, sizeof(svc)),
		     id->parent[0] ? "&parent=" : "", id->parent) < 0)
		return SPN_ENOMEM;
	return 0;
}

/* Copies the text from *p up to the first byte of stop (or the end) into
 * val, and moves *p past that byte. */
static int take(const char **p, const char *end, const char *stop, char *val, size_t cap, const char *what)
{
	const char *q = *p;
	size_t n;

	while (q < end && !strchr(stop, *q))
		q++;
	n = (size_t)(q - *p);
	if (n >= cap || (*stop && q == end))
		return spn_err(SPN_EBADCERT, "spn identity URI: bad %s", what);
	memcpy(val, *p, n);
	val[n] = '\0';
	*p = q < end ? q + 1 : q;
	return 0;
}

static int expect(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return spn_err(SPN_EBADCERT, "spn identity URI: expected '%s'", lit);
	*p += n;
	return 0;
}

int spn_ident_uri_decode(const char *text, size_t len, spn_ident_t *id)
{
	const char *p = text, *end = text + len;
	char role[16], trust[8], svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];
	char *stop;
	unsigned long t;
	int rc;

	if (memchr(text, '\0', len))
		return spn_err(SPN_EBADCERT, "spn identity URI: NUL byte");
	if ((rc = expect(&p, end, SPN_URI_SCHEME)) ||
	    (rc = take(&p, end, "/", id->group, sizeof(id->group), "group")) ||
	    (rc = take(&p, end, "?", id->node_id, sizeof(id->node_id), "node id")) ||
	    (rc = expect(&p, end, "role=")) || (rc = take(&p, end, "&", role, sizeof(role), "role")) ||
	    (rc = expect(&p, end, "trust=")) || (rc = take(&p, end, "&", trust, sizeof(trust), "trust")) ||
	    (rc = expect(&p, end, "services=")))
		return rc;
	/* services runs to the end or to the optional &parent= */
	{
		const char *amp = memchr(p, '&', (size_t)(end - p));
		if ((rc = take(&p, amp ? amp : end, "", svc, sizeof(svc), "services")))
			return rc;
		id->parent[0] = '\0';
		if (amp) {
			p = amp + 1;
			if ((rc = expect(&p, end, "parent=")) ||
			    (rc = take(&p, end, "", id->parent, sizeof(id->parent), "parent")))
				return rc;
			if (!spn_name_is_valid(id->parent))
				return spn_err(SPN_EBADCERT, "spn identity URI: bad parent");
		}
	}
	if (!spn_name_is_valid(id->group) || !spn_name_is_valid(id->node_id))
		return spn_err(SPN_EBADCERT, "spn identity URI: bad group or node id");
	if (spn_role_parse(role, &id->role) != 0)
		return spn_err(SPN_EBADCERT, "spn identity URI: unknown role '%s'", role);
	/* Digits only: strtoul alone would also take spaces and signs. */
	if (!trust[0] || strspn(trust, "0123456789") != strlen(trust))
		return spn_err(SPN_EBADCERT, "spn identity URI: bad trust level '%s'", trust);
	t = strtoul(trust, &stop, 10);
	if (*stop || t > SPN_TRUST_MAX || (trust[0] == '0' && trust[1]))
		return spn_err(SPN_EBADCERT, "spn identity URI: bad trust level '%s'", trust);
	id->trust = (unsigned)t;
	if (spn_ident_set_services(id, svc) != 0)
		return spn_err(SPN_EBADCERT, "spn identity URI: bad services '%s'", svc);
	return 0;
}
