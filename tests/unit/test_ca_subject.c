/* Subject attributes of a pseudo-CSR: each attribute's bounds at the exact
 * limit and one past it, the country and e-mail forms, UTF-8 and control
 * characters, unknown keys, CN and O against the identity, and the
 * attributes landing in a signed certificate's DN. */
#include "config.h"

#include <gnutls/gnutls.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ca.h"
#include "ca_subject.h"
#include "error.h"
#include "json.h"

/* A pseudo-CSR for n1 whose subject object is subj (JSON text). */
static int parse(const char *subj, spn_ca_pseudo_t *rq)
{
	char buf[8192];
	int n = snprintf(buf, sizeof(buf), "{\"node_id\":\"n1\",\"subject\":%s}", subj);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return spn_ca_pseudo_parse(buf, (size_t)n, rq);
}

/* key set to n repetitions of unit (a character of any width). */
static int set_repeated(const char *key, const char *unit, size_t n)
{
	spn_ca_subject_t s;
	char v[2048] = "";

	for (size_t i = 0; i < n; i++)
		strcat(v, unit);
	memset(&s, 0, sizeof(s));
	return spn_ca_subject_set(&s, key, v);
}

/* Each of bad, as key, refused. */
static void all_refused(const char *key, const char *const *bad, size_t n)
{
	spn_ca_subject_t s;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(spn_ca_subject_set(&s, key, bad[i]), SPN_EINVAL);
}
#define ALL_REFUSED(key, bad) all_refused(key, bad, sizeof(bad) / sizeof(bad[0]))

static void bounds_exact(void **state)
{
	static const struct {
		const char *key;
		size_t max;
	} b[] = {{"CN", 64}, {"O", 64}, {"OU", 64}, {"GN", 64}, {"SN", 64}, {"ST", 128}, {"L", 128}};

	(void)state;
	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		assert_int_equal(set_repeated(b[i].key, "a", 1), 0);
		assert_int_equal(set_repeated(b[i].key, "a", b[i].max), 0);
		assert_int_equal(set_repeated(b[i].key, "a", b[i].max + 1), SPN_EINVAL);
		assert_int_equal(set_repeated(b[i].key, "a", 0), SPN_EINVAL);
		/* Characters, not bytes: the limit holds for four-byte ones too. */
		assert_int_equal(set_repeated(b[i].key, "\xf0\x9f\x8f\xa5", b[i].max), 0);
		assert_int_equal(set_repeated(b[i].key, "\xc3\xa9", b[i].max + 1), SPN_EINVAL);
	}
}

static void email_rules(void **state)
{
	static const char *const bad[] = {
	    "no-at.example",	   "a@b@c.example",	  "@clinic.example",	      "ops@",
	    "o ps@clinic.example", "ops@clinic..example", "op\xc3\xa9@clinic.example"};
	spn_ca_subject_t s;
	char v[300];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(spn_ca_subject_set(&s, "E", "ops@clinic.example"), 0);
	assert_string_equal(s.e, "ops@clinic.example");
	/* 255 exactly, then 256 */
	memset(v, 'a', 255);
	memcpy(v + 245, "@x.example", 10);
	v[255] = '\0';
	assert_int_equal(spn_ca_subject_set(&s, "E", v), 0);
	memset(v, 'a', 256);
	memcpy(v + 246, "@x.example", 10);
	v[256] = '\0';
	assert_int_equal(spn_ca_subject_set(&s, "E", v), SPN_EINVAL);
	ALL_REFUSED("E", bad);
}

static void country_rules(void **state)
{
	/* "My City": the appliance's sample puts a city here; X.520 does not. */
	static const char *const bad[] = {"de", "D", "DEU", "D1", "\xc3\x84X", "My City"};
	spn_ca_subject_t s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(spn_ca_subject_set(&s, "C", "DE"), 0);
	assert_string_equal(s.c, "DE");
	ALL_REFUSED("C", bad);
}

static void text_rules(void **state)
{
	static const char *const bad[] = {
	    "a\x01",	    "tab\there",	"line\nbreak", "del\x7f",  "c1\xc2\x85", /* C0, DEL, C1 controls */
	    "\xc3",	    "\xc3\x28",		"\xe2\x82",    "\xc0\xaf", /* truncated, bad continuation, overlong */
	    "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",			   /* surrogate, above U+10FFFF, never valid */
	};
	spn_ca_subject_t s;

	(void)state;
	ALL_REFUSED("OU", bad);
	memset(&s, 0, sizeof(s));
	assert_int_equal(spn_ca_subject_set(&s, "L", "M\xc3\xbcnchen"), 0);
	assert_string_equal(s.l, "M\xc3\xbcnchen");
}

static void json_subject(void **state)
{
	spn_ca_pseudo_t rq;

	(void)state;
	assert_int_equal(parse("{\"OU\":\"Ward 3\",\"C\":\"DE\",\"ST\":\"Bayern\",\"L\":\"M\\u00fcnchen\","
			       "\"E\":\"ops@clinic.example\",\"GN\":\"Arnie\",\"SN\":\"S.\",\"CN\":\"n1\"}",
			       &rq),
			 0);
	assert_string_equal(rq.subject.ou, "Ward 3");
	assert_string_equal(rq.subject.l, "M\xc3\xbcnchen");
	assert_string_equal(rq.subject.sn, "S.");
	assert_false(spn_ca_subject_is_empty(&rq.subject));
	spn_ca_pseudo_clear(&rq);
	/* absent or null: no attributes */
	assert_int_equal(parse("null", &rq), 0);
	assert_true(spn_ca_subject_is_empty(&rq.subject));
	spn_ca_pseudo_clear(&rq);

	assert_int_equal(parse("{\"DNS\":\"x.example\"}", &rq), SPN_EBADCSR);
	assert_non_null(strstr(spn_err_detail(SPN_EBADCSR), "unknown attribute 'DNS'"));
	assert_int_equal(parse("{\"ou\":\"lower-case key\"}", &rq), SPN_EBADCSR);
	assert_int_equal(parse("{\"OU\":7}", &rq), SPN_EBADCSR);
	assert_non_null(strstr(spn_err_detail(SPN_EBADCSR), "OU: must be a string"));
	assert_int_equal(parse("{\"OU\":\"a\\u0000b\"}", &rq), SPN_EBADCSR);
	assert_int_equal(parse("{\"OU\":\"a\\u0007b\"}", &rq), SPN_EBADCSR);
	assert_int_equal(parse("{\"OU\":\"\"}", &rq), SPN_EBADCSR);
	assert_int_equal(parse("[\"OU\"]", &rq), SPN_EBADCSR);
	assert_int_equal(parse("\"OU=x\"", &rq), SPN_EBADCSR);
	/* invalid UTF-8 is the JSON's fault before the attribute's */
	assert_int_equal(parse("{\"OU\":\"\xc3\x28\"}", &rq), SPN_EBADCSR);
}

static void cn_o_against_identity(void **state)
{
	spn_ca_subject_t s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(spn_ca_subject_check_ident(&s, "n1", "demo"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "CN", "n1"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "O", "demo"), 0);
	assert_int_equal(spn_ca_subject_check_ident(&s, "n1", "demo"), 0);
	assert_int_equal(spn_ca_subject_check_ident(&s, "n2", "demo"), SPN_EPOLICY);
	assert_int_equal(spn_ca_subject_check_ident(&s, "n1", "other"), SPN_EPOLICY);
	assert_int_equal(spn_ca_subject_set(&s, "CN", "N1"), 0);
	assert_int_equal(spn_ca_subject_check_ident(&s, "n1", "demo"), SPN_EPOLICY);
	/* CN and O alone add nothing to the DN */
	assert_true(spn_ca_subject_is_empty(&s));
}

/* The attributes go into a DN and come back out the same, as a renewal
 * reads them. */
static void dn_round_trip(void **state)
{
	spn_ca_subject_t s, back;
	gnutls_x509_crt_t crt;
	char dn[1024];
	size_t len = sizeof(dn);

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(spn_ca_subject_set(&s, "OU", "Ward 3"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "C", "DE"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "ST", "Bayern"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "L", "M\xc3\xbcnchen"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "E", "ops@clinic.example"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "GN", "Arnie"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "SN", "S."), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_true(spn_ca_subject_apply(&s, crt) >= 0);
	assert_int_equal(gnutls_x509_crt_get_dn(crt, dn, &len), 0);
	assert_non_null(strstr(dn, "OU=Ward 3"));
	assert_non_null(strstr(dn, "C=DE"));
	assert_int_equal(spn_ca_subject_from_crt(crt, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	gnutls_x509_crt_deinit(crt);
}

/* Characters RFC 4514 escapes come back as they went in, renewal after
 * renewal: never escaped twice. */
static void dn_specials_round_trip(void **state)
{
	spn_ca_subject_t s, back;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(spn_ca_subject_set(&s, "OU", "a,b+c;\"d\\e<f>=g"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "L", "#lead"), 0);
	assert_int_equal(spn_ca_subject_set(&s, "ST", " space "), 0);
	for (int round = 0; round < 3; round++) {
		gnutls_x509_crt_t crt;
		assert_int_equal(gnutls_x509_crt_init(&crt), 0);
		assert_true(spn_ca_subject_apply(&s, crt) >= 0);
		assert_int_equal(spn_ca_subject_from_crt(crt, &back), 0);
		gnutls_x509_crt_deinit(crt);
		assert_memory_equal(&s, &back, sizeof(s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bounds_exact),  cmocka_unit_test(email_rules),  cmocka_unit_test(country_rules),
	    cmocka_unit_test(text_rules),    cmocka_unit_test(json_subject), cmocka_unit_test(cn_o_against_identity),
	    cmocka_unit_test(dn_round_trip), cmocka_unit_test(dn_specials_round_trip),
	};

	gnutls_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
