/* The chain of calls a section carries: read strictly (exactly service and
 * node, names of their kind, 1 to 8 links), a service already on it
 * refused as a loop on the node it runs on only, a full chain refused,
 * and a call's chain one link longer. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "error.h"
#include "json.h"

/* Reads text as a chain into c. */
static int read_text(const char *text, spn_chain_t *c)
{
	json_object *o = NULL;
	int rc = spn_json_parse(text, strlen(text), &o);

	if (rc == 0)
		rc = spn_chain_read(o, c);
	json_object_put(o);
	return rc;
}

static void read_strict(void **state)
{
	spn_chain_t c;

	(void)state;
	assert_int_equal(spn_chain_read(NULL, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(
	    read_text("[{\"service\":\"ping\",\"node\":\"n1\"},{\"node\":\"n2\",\"service\":\"pong\"}]", &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.link[1].service, "pong");
	assert_string_equal(c.link[1].node, "n2");
	assert_int_equal(read_text("[]", &c), SPN_EINVAL);
	assert_int_equal(read_text("{}", &c), SPN_EINVAL);
	assert_int_equal(read_text("[\"ping@n1\"]", &c), SPN_EINVAL);
	assert_int_equal(read_text("[{\"service\":\"ping\"}]", &c), SPN_EINVAL);
	assert_int_equal(read_text("[{\"service\":\"ping\",\"node\":\"n1\",\"extra\":1}]", &c), SPN_EINVAL);
	assert_int_equal(read_text("[{\"service\":\"Ping\",\"node\":\"n1\"}]", &c), SPN_EINVAL);
	assert_int_equal(read_text("[{\"service\":\"ping\",\"node\":\"N_1\"}]", &c), SPN_EINVAL);
	assert_int_equal(read_text("[{\"service\":\"ping\",\"node\":1}]", &c), SPN_EINVAL);
}

static void circles_refused(void **state)
{
	spn_chain_t c;

	(void)state;
	assert_int_equal(
	    read_text("[{\"service\":\"ping\",\"node\":\"n1\"},{\"service\":\"pong\",\"node\":\"n2\"}]", &c), 0);
	assert_int_equal(spn_chain_admit(&c, "n1", "ping"), SPN_ELOOP);
	assert_int_equal(spn_chain_admit(&c, "n2", "pong"), SPN_ELOOP);
	/* The same service on another node is another provider, not a circle. */
	assert_int_equal(spn_chain_admit(&c, "n3", "ping"), 0);
	assert_int_equal(spn_chain_admit(&c, "n1", "pong"), 0);
}

static void depth_bounded(void **state)
{
	spn_chain_t c;
	json_object *longer;
	char node[16];

	(void)state;
	assert_int_equal(spn_chain_read(NULL, &c), 0);
	for (int i = 0; i < SPN_CHAIN_MAX; i++) {
		snprintf(node, sizeof(node), "n%d", i);
		assert_int_equal(spn_chain_admit(&c, node, "svc"), 0);
		longer = spn_chain_json_with(&c, node, "svc");
		assert_int_equal(json_object_array_length(longer), (size_t)i + 1);
		assert_int_equal(spn_chain_read(longer, &c), 0);
		json_object_put(longer);
	}
	assert_int_equal(spn_chain_admit(&c, "other", "svc"), SPN_ELOOP);
	assert_int_equal(read_text("[{\"service\":\"a\",\"node\":\"n\"},{\"service\":\"a\",\"node\":\"n\"},"
				   "{\"service\":\"a\",\"node\":\"n\"},{\"service\":\"a\",\"node\":\"n\"},"
				   "{\"service\":\"a\",\"node\":\"n\"},{\"service\":\"a\",\"node\":\"n\"},"
				   "{\"service\":\"a\",\"node\":\"n\"},{\"service\":\"a\",\"node\":\"n\"},"
				   "{\"service\":\"a\",\"node\":\"n\"}]",
				   &c),
			 SPN_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(read_strict),
	    cmocka_unit_test(circles_refused),
	    cmocka_unit_test(depth_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
