/* The strict JSON reader every untrusted document goes through: a member
 * name twice in one object is refused wherever it is and however it is
 * spelt, so is what json-c's strict mode lets through and JSON does not
 * have; integers outside 64 bits are refused, never clamped; a field over
 * its length is invalid input, not an oversized body. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "json.h"

static int parse(const char *text)
{
	json_object *o = NULL;
	int rc = spn_json_parse(text, strlen(text), &o);

	if (rc == 0)
		assert_non_null(o);
	json_object_put(o);
	return rc;
}

static void duplicates_refused(void **state)
{
	static const char *const twice[] = {
		"{\"a\":1,\"a\":2}",
		"{\"trust\":0,\"node\":\"n\",\"trust\":100}",
		"{\"a\":1,\"b\":{\"c\":1,\"c\":1}}",
		"[{\"a\":1},{\"b\":2,\"b\":3}]",
		"{\"x\":[[{\"y\":{\"z\":1,\"z\":{}}}]]}",
		/* The same name spelt otherwise is the same name. */
		"{\"a\":1,\"\\u0061\":2}",
		"{\"\\u00e9\":1,\"\xc3\xa9\":2}",
		/* Strings that look like structure hide nothing. */
		"{\"k\":\"\\\\\",\"a\":1,\"a\":2}",
		"{\"k\":\"\\\":{\\\"a\\\":1,\",\"a\":1,\"a\":2}",
		"{\"a\":{},\"a\":{}}",
		" {\"a\" : 1 , \"a\" : 1} ",
		NULL,
	};

	(void)state;
	for (const char *const *t = twice; *t; t++) {
		if (parse(*t) != SPN_EINVAL)
			fail_msg("accepted: %s", *t);
	}
}

static void names_with_nul_refused(void **state)
{
	(void)state;
	/* json-c cuts a name at its NUL: this would read as "alg". */
	assert_int_equal(parse("{\"alg\\u0000x\":\"dir\"}"), SPN_EINVAL);
	assert_int_equal(parse("{\"a\\u0000b\":1,\"a\\u0000c\":2}"), SPN_EINVAL);
	/* In a value it is the field reader's to refuse. */
	assert_int_equal(parse("{\"a\":\"x\\u0000\"}"), 0);
}

static void json_c_leniency_refused(void **state)
{
	static const char *const not_json[] = {
		"{'a':1}", "{\"a\":'b'}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}",
		"{\"a\":1.}", "[1.e5]", "{\"a\":\"tab\there\"}", "{\"a\":\"line\nbreak\"}", NULL,
	};

	(void)state;
	for (const char *const *t = not_json; *t; t++) {
		if (parse(*t) != SPN_EINVAL)
			fail_msg("accepted: %s", *t);
	}
}

static void json_accepted(void **state)
{
	static const char *const fine[] = {
		"{}", "[]", "[{},{}]", "\"s\"", "{\"a\":{\"a\":{\"a\":1}}}", "{\"a\":[{\"a\":1},{\"a\":2}]}",
		"{\"a\":1.5e3,\"b\":[true,false,null],\"c\":{},\"d\":-0.25E-2}",
		"{\"q\":\"it's \\\"quoted\\\": {not an object}, [nor an array]\",\"r\":\"\\\\\"}",
		"{\"a\":1,\"A\":2,\"a \":3}",
		"\t{ \"a\" :\r\n 1 }\n",
		/* A number that ends the text, as json-c writes one. */
		"1", "-0.5", "1 ",
		NULL,
	};

	(void)state;
	for (const char *const *t = fine; *t; t++) {
		if (parse(*t) != 0)
			fail_msg("refused: %s (%s)", *t, spn_err_detail(SPN_EINVAL));
	}
}

/* Documents drawn at random, with names from a small set, sometimes
 * spelt with an escape: refused exactly when some object has a name twice. */
static unsigned long rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rnd_state >> 33) % n);
}

static void put(char *buf, size_t *len, const char *s)
{
	size_t n = strlen(s);

	assert_true(*len + n < 8192);
	memcpy(buf + *len, s, n + 1);
	*len += n;
}

static void gen_value(char *buf, size_t *len, int depth, bool *dup);

static void gen_object(char *buf, size_t *len, int depth, bool *dup)
{
	static const char *const plain[] = {"\"a\"", "\"b\"", "\"c\""};
	static const char *const escaped[] = {"\"\\u0061\"", "\"\\u0062\"", "\"\\u0063\""};
	bool seen[3] = {false, false, false};
	unsigned n = rnd(4);

	put(buf, len, "{");
	for (unsigned i = 0; i < n; i++) {
		unsigned k = rnd(3);
		if (seen[k])
			*dup = true;
		seen[k] = true;
		put(buf, len, i ? "," : "");
		put(buf, len, rnd(4) ? plain[k] : escaped[k]);
		put(buf, len, rnd(2) ? ":" : " : ");
		gen_value(buf, len, depth + 1, dup);
	}
	put(buf, len, "}");
}

static void gen_value(char *buf, size_t *len, int depth, bool *dup)
{
	static const char *const leaves[] = {"1", "-2.5e3", "true", "null", "\"x:{\"", "\"\\\"}\"", "\"\""};
	unsigned kind = depth > 5 ? 2 : rnd(3);

	if (kind == 0) {
		gen_object(buf, len, depth, dup);
	} else if (kind == 1) {
		unsigned n = rnd(3);
		put(buf, len, "[");
		for (unsigned i = 0; i < n; i++) {
			put(buf, len, i ? "," : "");
			gen_value(buf, len, depth + 1, dup);
		}
		put(buf, len, "]");
	} else {
		put(buf, len, leaves[rnd(7)]);
	}
}

static void random_documents(void **state)
{
	char buf[8192];
	unsigned dups = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		size_t len = 0;
		bool dup = false;
		gen_object(buf, &len, 0, &dup);
		dups += dup;
		if (parse(buf) != (dup ? SPN_EINVAL : 0))
			fail_msg("%s: %s", dup ? "accepted" : "refused", buf);
	}
	/* Both kinds were drawn, many times. */
	assert_true(dups > 300 && dups < 2700);
}

static void integers_not_clamped(void **state)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{"{\"seq\":9223372036854775807}", 0},
		{"{\"seq\":9223372036854775808}", SPN_EINVAL},
		{"{\"seq\":18446744073709551615}", SPN_EINVAL},
		{"{\"seq\":18446744073709551616}", SPN_EINVAL},
		{"{\"seq\":99999999999999999999999}", SPN_EINVAL},
		{"{\"seq\":-1}", SPN_EINVAL},
		{"{\"seq\":1e3}", SPN_EINVAL},
		{"{\"seq\":\"3\"}", SPN_EINVAL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *o = NULL;
		int64_t v = 7;
		assert_int_equal(spn_json_parse(cases[i].text, strlen(cases[i].text), &o), 0);
		if (spn_json_int(o, "seq", true, 0, INT64_MAX, &v) != cases[i].rc)
			fail_msg("%s: not %s", cases[i].text, spn_errname(cases[i].rc));
		if (cases[i].rc == 0)
			assert_true(v == INT64_MAX);
		json_object_put(o);
	}
	/* Below -2^63 is not -2^63, whatever the range asked. */
	{
		json_object *o = NULL;
		int64_t v;
		const char *t = "{\"n\":-9223372036854775809}";
		assert_int_equal(spn_json_parse(t, strlen(t), &o), 0);
		assert_int_equal(spn_json_int(o, "n", true, INT64_MIN + 1, 0, &v), SPN_EINVAL);
		json_object_put(o);
	}
}

static void long_fields_are_invalid(void **state)
{
	const char *t = "{\"id\":\"0123456789\",\"list\":[\"a\",\"b\",\"c\"]}", *s, **l;
	json_object *o = NULL;
	size_t n;

	(void)state;
	assert_int_equal(spn_json_parse(t, strlen(t), &o), 0);
	assert_int_equal(spn_json_str(o, "id", true, 10, &s), 0);
	/* Too long or too many is the request's fault, not its size's. */
	assert_int_equal(spn_json_str(o, "id", true, 9, &s), SPN_EINVAL);
	assert_int_equal(spn_json_strs(o, "list", true, 2, 8, &l, &n), SPN_EINVAL);
	assert_int_equal(spn_json_strs(o, "list", true, 3, 0, &l, &n), SPN_EINVAL);
	assert_int_equal(spn_json_strs(o, "list", true, 3, 1, &l, &n), 0);
	assert_int_equal(n, 3);
	free(l);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duplicates_refused),
		cmocka_unit_test(names_with_nul_refused),
		cmocka_unit_test(json_c_leniency_refused),
		cmocka_unit_test(json_accepted),
		cmocka_unit_test(random_documents),
		cmocka_unit_test(integers_not_clamped),
		cmocka_unit_test(long_fields_are_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
