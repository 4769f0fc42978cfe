/* Identity attributes: name rules, roles, services, and the strict text form
 * carried in the certificate extension. */
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
		return spn_err(SPN_ETOOBIG, "more than %d services", SPN_SERVICES_MAX);
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

bool spn_ident_provides(const spn_ident_t *id, const char *service)
{
	for (size_t i = 0; i < id->n_services; i++)
		if (strcmp(id->services[i], service) == 0)
			return true;
	return false;
}

const char *spn_ident_services_str(const spn_ident_t *id, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < id->n_services && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? "," : "", id->services[i]);
	return buf;
}

int spn_ident_attr_encode(const spn_ident_t *id, char **out)
{
	char svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];

	if ((unsigned)id->role > SPN_ROLE_CLIENT || id->trust > SPN_TRUST_MAX)
		return spn_err(SPN_EINVAL, "identity out of range");
	if (asprintf(out, "role=%s; trust=%u; services=%s", spn_role_name(id->role), id->trust,
		     spn_ident_services_str(id, svc, sizeof(svc))) < 0)
		return SPN_ENOMEM;
	return 0;
}

/* Reads "key=" at *p and returns the value up to "; " or the end. */
static int field(const char **p, const char *end, const char *key, char *val, size_t cap, bool last)
{
	size_t klen = strlen(key), n;
	const char *stop;

	if ((size_t)(end - *p) < klen + 1 || memcmp(*p, key, klen) != 0 || (*p)[klen] != '=')
		return spn_err(SPN_EBADCERT, "spn attributes: expected '%s='", key);
	*p += klen + 1;
	if (last) {
		stop = end;
	} else {
		stop = memchr(*p, ';', (size_t)(end - *p));
		if (!stop || stop + 1 >= end || stop[1] != ' ')
			return spn_err(SPN_EBADCERT, "spn attributes: expected '; ' after %s", key);
	}
	n = (size_t)(stop - *p);
	if (n >= cap)
		return spn_err(SPN_EBADCERT, "spn attributes: %s too long", key);
	memcpy(val, *p, n);
	val[n] = '\0';
	if (memchr(val, '\0', n))
		return spn_err(SPN_EBADCERT, "spn attributes: NUL in %s", key);
	*p = last ? end : stop + 2;
	return 0;
}

int spn_ident_attr_decode(const char *text, size_t len, spn_ident_t *id)
{
	const char *p = text, *end = text + len;
	char role[16], trust[8], svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];
	char *stop;
	unsigned long t;
	int rc;

	if ((rc = field(&p, end, "role", role, sizeof(role), false)) ||
	    (rc = field(&p, end, "trust", trust, sizeof(trust), false)) ||
	    (rc = field(&p, end, "services", svc, sizeof(svc), true)))
		return rc;
	if (spn_role_parse(role, &id->role) != 0)
		return spn_err(SPN_EBADCERT, "spn attributes: unknown role '%s'", role);
	t = strtoul(trust, &stop, 10);
	if (!trust[0] || *stop || t > SPN_TRUST_MAX || (trust[0] == '0' && trust[1]))
		return spn_err(SPN_EBADCERT, "spn attributes: bad trust level '%s'", trust);
	id->trust = (unsigned)t;
	if (spn_ident_set_services(id, svc) != 0)
		return spn_err(SPN_EBADCERT, "spn attributes: bad services '%s'", svc);
	return 0;
}
