/* Subject attributes of a request: one table of the attributes, their OIDs
 * and bounds, so that parsing, the checks, signing and renewal agree. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ca_subject.h"
#include "error.h"

typedef enum { KIND_TEXT, KIND_COUNTRY, KIND_EMAIL } kind_t;

static const struct {
	const char *key;
	const char *oid; /* NULL: CN and O, which the signer sets */
	size_t off, cap; /* the field in spn_ca_subject_t */
	size_t max;	 /* characters */
	kind_t kind;
} attrs[] = {
#define F(f) offsetof(spn_ca_subject_t, f), sizeof(((spn_ca_subject_t *)0)->f)
    {"CN", NULL, F(cn), SPN_CA_SUBJECT_NAME_MAX, KIND_TEXT},
    {"O", NULL, F(o), SPN_CA_SUBJECT_NAME_MAX, KIND_TEXT},
    {"OU", GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, F(ou), SPN_CA_SUBJECT_NAME_MAX, KIND_TEXT},
    {"C", GNUTLS_OID_X520_COUNTRY_NAME, F(c), 2, KIND_COUNTRY},
    {"ST", GNUTLS_OID_X520_STATE_OR_PROVINCE_NAME, F(st), SPN_CA_SUBJECT_PLACE_MAX, KIND_TEXT},
    {"L", GNUTLS_OID_X520_LOCALITY_NAME, F(l), SPN_CA_SUBJECT_PLACE_MAX, KIND_TEXT},
    {"E", GNUTLS_OID_PKCS9_EMAIL, F(e), SPN_CA_SUBJECT_EMAIL_MAX, KIND_EMAIL},
    {"GN", GNUTLS_OID_X520_GIVEN_NAME, F(gn), SPN_CA_SUBJECT_NAME_MAX, KIND_TEXT},
    {"SN", GNUTLS_OID_X520_SURNAME, F(sn), SPN_CA_SUBJECT_NAME_MAX, KIND_TEXT},
#undef F
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

static char *field(const spn_ca_subject_t *s, size_t i)
{
	return (char *)s + attrs[i].off;
}

static int find(const char *key)
{
	for (size_t i = 0; i < NATTRS; i++)
		if (strcmp(attrs[i].key, key) == 0)
			return (int)i;
	return spn_err(SPN_EINVAL, "subject: unknown attribute '%.32s' (known: CN, O, OU, C, ST, L, E, GN, SN)", key);
}

/* Counts the characters of a strict UTF-8 string (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without C0 or C1 controls; -1 when it
 * is not one. A DN is read by people and parsers alike: a control character
 * in it can only mislead one of them. */
static long text_chars(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;
	long n = 0;

	while (*s) {
		unsigned c = *s, cp, len;
		if (c < 0x80) {
			cp = c;
			len = 1;
		} else if (c >= 0xc2 && c <= 0xdf) {
			cp = c & 0x1f;
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			cp = c & 0x0f;
			len = 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			cp = c & 0x07;
			len = 4;
		} else {
			return -1;
		}
		for (unsigned k = 1; k < len; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return -1;
		s += len;
		n++;
	}
	return n;
}

/* local@domain in printable ASCII: enough to refuse what is plainly not an
 * address without pretending to parse all of RFC 5322. */
static bool is_email(const char *v)
{
	const char *at = strchr(v, '@');
	const char *dom = at ? at + 1 : NULL;

	for (const char *p = v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return at && at != v && *dom && !strchr(dom, '@') && dom[0] != '.' && dom[strlen(dom) - 1] != '.' &&
	       !strstr(dom, "..");
}

int spn_ca_subject_set(spn_ca_subject_t *s, const char *key, const char *value)
{
	int i = find(key);
	long n;

	if (i < 0)
		return i;
	n = text_chars(value);
	if (n < 0)
		return spn_err(SPN_EINVAL, "subject %s: not valid UTF-8 text (control characters are refused)", key);
	if (n == 0 || (size_t)n > attrs[i].max)
		return spn_err(SPN_EINVAL, "subject %s: must have 1 to %zu characters, has %ld", key, attrs[i].max, n);
	if (attrs[i].kind == KIND_COUNTRY && (n != 2 || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 2))
		return spn_err(SPN_EINVAL, "subject C: '%s' is not a two-letter upper-case country code", value);
	if (attrs[i].kind == KIND_EMAIL && !is_email(value))
		return spn_err(SPN_EINVAL, "subject E: not an e-mail address (local@domain, printable ASCII)");
	snprintf(field(s, (size_t)i), attrs[i].cap, "%s", value);
	return 0;
}

int spn_ca_subject_parse(json_object *obj, spn_ca_subject_t *s)
{
	memset(s, 0, sizeof(*s));
	if (!json_object_is_type(obj, json_type_object))
		return spn_err(SPN_EINVAL, "subject: must be an object");
	json_object_object_foreach(obj, key, val)
	{
		int rc = find(key);
		if (rc >= 0 && !json_object_is_type(val, json_type_string))
			rc = spn_err(SPN_EINVAL, "subject %s: must be a string", key);
		/* json-c keeps an escaped NUL inside the string; C would see less. */
		else if (rc >= 0 && strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			rc = spn_err(SPN_EINVAL, "subject %s: contains a NUL character", key);
		else if (rc >= 0)
			rc = spn_ca_subject_set(s, key, json_object_get_string(val));
		if (rc < 0) {
			memset(s, 0, sizeof(*s));
			return rc;
		}
	}
	return 0;
}

int spn_ca_subject_check_ident(const spn_ca_subject_t *s, const char *node_id, const char *group)
{
	if (s->cn[0] && strcmp(s->cn, node_id) != 0)
		return spn_err(SPN_EPOLICY, "subject CN '%s' is not the node id '%s': the CA sets CN to the node id",
			       s->cn, node_id);
	if (s->o[0] && strcmp(s->o, group) != 0)
		return spn_err(SPN_EPOLICY, "subject O '%s' is not the group '%s': the CA sets O to the group", s->o,
			       group);
	return 0;
}

bool spn_ca_subject_is_empty(const spn_ca_subject_t *s)
{
	for (size_t i = 0; i < NATTRS; i++)
		if (attrs[i].oid && field(s, i)[0])
			return false;
	return true;
}

int spn_ca_subject_apply(const spn_ca_subject_t *s, gnutls_x509_crt_t crt)
{
	int rc = 0;

	for (size_t i = 0; rc >= 0 && i < NATTRS; i++) {
		const char *v = field(s, i);
		if (attrs[i].oid && v[0])
			rc = gnutls_x509_crt_set_dn_by_oid(crt, attrs[i].oid, 0, v, (unsigned)strlen(v));
	}
	return rc;
}

/* The AVA's value as it is in the certificate: get_dn_by_oid would give
 * it escaped as RFC 4514 writes it, and each renewal would escape it again. */
static int ava_value(const gnutls_x509_ava_st *ava, char *buf, size_t cap)
{
	/* UTF8String, PrintableString, IA5String: what GnuTLS writes. */
	if (ava->value_tag != 12 && ava->value_tag != 19 && ava->value_tag != 22)
		return spn_err(SPN_EBADCERT, "certificate subject: a string of ASN.1 type %lu", ava->value_tag);
	if (ava->value.size >= cap || memchr(ava->value.data, 0, ava->value.size))
		return spn_err(SPN_EBADCERT, "certificate subject: a value of %u bytes", ava->value.size);
	memcpy(buf, ava->value.data, ava->value.size);
	buf[ava->value.size] = '\0';
	return 0;
}

int spn_ca_subject_from_crt(gnutls_x509_crt_t crt, spn_ca_subject_t *s)
{
	char buf[4 * SPN_CA_SUBJECT_PLACE_MAX + 1];
	gnutls_x509_dn_t dn;
	gnutls_x509_ava_st ava;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = gnutls_x509_crt_get_subject(crt, &dn)) < 0)
		return spn_err(SPN_EBADCERT, "certificate subject: %s", gnutls_strerror(rc));
	for (int r = 0; gnutls_x509_dn_get_rdn_ava(dn, r, 0, &ava) == 0; r++) {
		for (int a = 0; gnutls_x509_dn_get_rdn_ava(dn, r, a, &ava) == 0; a++) {
			/* GnuTLS counts the OID's terminating NUL in its size. */
			size_t olen = ava.oid.size - (ava.oid.size && ava.oid.data[ava.oid.size - 1] == 0);
			for (size_t i = 0; i < NATTRS; i++) {
				if (!attrs[i].oid || olen != strlen(attrs[i].oid) || memcmp(ava.oid.data, attrs[i].oid, olen) != 0)
					continue;
				if ((rc = ava_value(&ava, buf, sizeof(buf))) || (rc = spn_ca_subject_set(s, attrs[i].key, buf)))
					return rc;
			}
		}
	}
	return 0;
}
