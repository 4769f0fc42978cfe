/* Identity URI: round trip, and refusal of every non-canonical form. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "ident.h"

static void round_trip(void **state)
{
	spn_ident_t id = {.node_id = "bank-1", .group = "demo", .role = SPN_ROLE_SPN, .trust = 5}, back;
	char *uri;

	(void)state;
	assert_int_equal(spn_ident_set_services(&id, "bank,payments"), 0);
	assert_int_equal(spn_ident_uri_encode(&id, &uri), 0);
	assert_string_equal(uri, "spn://demo/bank-1?role=spn&trust=5&services=bank,payments");
	memset(&back, 0, sizeof(back));
	assert_int_equal(spn_ident_uri_decode(uri, strlen(uri), &back), 0);
	assert_string_equal(back.node_id, "bank-1");
	assert_string_equal(back.group, "demo");
	assert_int_equal(back.role, SPN_ROLE_SPN);
	assert_int_equal(back.trust, 5);
	assert_true(spn_ident_provides(&back, "payments"));
	assert_false(spn_ident_provides(&back, "pay"));
	free(uri);
}

static void refuses(void **state)
{
	static const char *const bad[] = {
		"spn://demo/bank-1?role=spn&trust=5",
		"spn://demo/bank-1?trust=5&role=spn&services=bank",
		"spn://demo/bank-1?role=root&trust=5&services=bank",
		"spn://demo/bank-1?role=spn&trust=101&services=bank",
		"spn://demo/bank-1?role=spn&trust=05&services=bank",
		"spn://demo/bank-1?role=spn&trust=-1&services=bank",
		"spn://demo/bank-1?role=spn&trust=5&services=bank,",
		"spn://demo/bank-1?role=spn&trust=5&services=bank,bank",
		"spn://demo/bank-1?role=spn&trust=5&services=Bank",
		"spn://Demo/bank-1?role=spn&trust=5&services=bank",
		"spn://demo/?role=spn&trust=5&services=bank",
		"http://demo/bank-1?role=spn&trust=5&services=bank",
		"spn://demo/bank 1?role=spn&trust=5&services=bank",
	};
	spn_ident_t id;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&id, 0, sizeof(id));
		if (spn_ident_uri_decode(bad[i], strlen(bad[i]), &id) == 0)
			fail_msg("accepted %s", bad[i]);
	}
}

static void names(void **state)
{
	(void)state;
	assert_true(spn_name_is_valid("a"));
	assert_true(spn_name_is_valid("node-1.example"));
	assert_false(spn_name_is_valid(""));
	assert_false(spn_name_is_valid("-a"));
	assert_false(spn_name_is_valid("A"));
	assert_false(spn_name_is_valid("a/b"));
	assert_true(spn_service_name_is_valid("bank_payments"));
	assert_false(spn_service_name_is_valid("1bank"));
}

static void parent(void **state)
{
	static const char *const bad[] = {
		"spn://demo/bank-1?role=spn&trust=5&services=bank&parent=BAD!",
		"spn://demo/bank-1?role=spn&trust=5&services=bank&parentx=a",
		"spn://demo/bank-1?role=spn&trust=5&services=bank&parent=",
		"spn://demo/bank-1?role=spn&trust=5&services=bank&parent=-a",
		"spn://demo/bank-1?role=spn&trust=5&services=bank&parent=a&parent=b",
		"spn://demo/bank-1?role=spn&trust=5&services=bank&",
	};
	spn_ident_t id = {.node_id = "bank-1", .group = "demo", .role = SPN_ROLE_SPN, .trust = 5, .parent = "admin-1"};
	spn_ident_t back;
	char *uri;

	(void)state;
	assert_int_equal(spn_ident_set_services(&id, "bank"), 0);
	assert_int_equal(spn_ident_uri_encode(&id, &uri), 0);
	assert_string_equal(uri, "spn://demo/bank-1?role=spn&trust=5&services=bank&parent=admin-1");
	memset(&back, 0, sizeof(back));
	assert_int_equal(spn_ident_uri_decode(uri, strlen(uri), &back), 0);
	assert_string_equal(back.parent, "admin-1");
	assert_string_equal(back.node_id, "bank-1");
	assert_true(spn_ident_provides(&back, "bank"));
	free(uri);

	/* The parent must not be mistaken for a service, even with none. */
	id.n_services = 0;
	assert_int_equal(spn_ident_uri_encode(&id, &uri), 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(spn_ident_uri_decode(uri, strlen(uri), &back), 0);
	assert_string_equal(back.parent, "admin-1");
	assert_int_equal(back.n_services, 0);
	free(uri);

	/* The PSP has no parent, and certificates from before the tree have
	 * none either: the URI keeps its old form, and the decoder does not
	 * keep a parent from whatever the struct held. */
	id.parent[0] = '\0';
	assert_int_equal(spn_ident_uri_encode(&id, &uri), 0);
	assert_null(strstr(uri, "&parent="));
	strcpy(back.parent, "stale");
	assert_int_equal(spn_ident_uri_decode(uri, strlen(uri), &back), 0);
	assert_string_equal(back.parent, "");
	free(uri);

	strcpy(id.parent, "BAD!");
	assert_int_equal(spn_ident_uri_encode(&id, &uri), SPN_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&back, 0, sizeof(back));
		if (spn_ident_uri_decode(bad[i], strlen(bad[i]), &back) == 0)
			fail_msg("accepted %s", bad[i]);
	}
}

/* Renewal keeps a node's identity whole; the registry compares what a
 * certificate grants, names aside. */
static void equal(void **state)
{
	spn_ident_t a = {.node_id = "bank-1", .group = "demo", .role = SPN_ROLE_SPN, .trust = 5, .parent = "adm"}, b;

	(void)state;
	assert_int_equal(spn_ident_set_services(&a, "bank,payments"), 0);
	b = a;
	assert_true(spn_ident_is_equal(&a, &b));
	strcpy(b.group, "other");
	assert_false(spn_ident_is_equal(&a, &b));
	assert_true(spn_ident_is_same_grant(&a, &b));
	b = a;
	strcpy(b.node_id, "bank-2");
	assert_false(spn_ident_is_equal(&a, &b));
	b = a;
	b.trust = 6;
	assert_false(spn_ident_is_same_grant(&a, &b));
	b = a;
	strcpy(b.parent, "adm2");
	assert_false(spn_ident_is_same_grant(&a, &b));
	b = a;
	b.role = SPN_ROLE_ADMIN;
	assert_false(spn_ident_is_same_grant(&a, &b));
	b = a;
	b.n_services = 1;
	assert_false(spn_ident_is_same_grant(&a, &b));
	b = a;
	strcpy(b.services[1], "payment");
	assert_false(spn_ident_is_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refuses),
		cmocka_unit_test(names),
		cmocka_unit_test(parent),
		cmocka_unit_test(equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
