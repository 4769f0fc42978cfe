/* Carried sections as a provider and a calling node see them: a provider
 * takes only those addressed to it for the service it handles, up to its
 * limit, and passes every other one on untouched and in order; a call goes
 * where the client's own section for that service points; replies to
 * carried sections are gathered from an answer and put on one. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carry.h"

static const uint8_t key[32] = {9};

static json_object *section(const char *svc, const char *to, uint64_t seq)
{
	spn_jwe_header_t h;
	json_object *s;
	char *jwe = NULL;

	memset(&h, 0, sizeof(h));
	snprintf(h.kid, sizeof(h.kid), "s-%llu", (unsigned long long)seq);
	snprintf(h.svc, sizeof(h.svc), "%s", svc);
	snprintf(h.to, sizeof(h.to), "%s", to);
	snprintf(h.from, sizeof(h.from), "wristband");
	snprintf(h.mid, sizeof(h.mid), "m-1");
	h.seq = seq;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"x", 1, &jwe), 0);
	s = json_object_new_string(jwe);
	free(jwe);
	return s;
}

static json_object *carry_list(void)
{
	json_object *c = json_object_new_array();

	json_object_array_add(c, section("pharmacy", "pharmacy-1", 1));
	json_object_array_add(c, section("bank", "bank-1", 2));
	json_object_array_add(c, json_object_new_string("not a section"));
	json_object_array_add(c, section("pharmacy", "pharmacy-1", 3));
	json_object_array_add(c, section("pharmacy", "pharmacy-2", 4));
	json_object_array_add(c, json_object_new_int(7));
	return c;
}

static void select_takes_only_its_own(void **state)
{
	json_object *c = carry_list(), *rest = json_object_new_array();
	spn_carry_item_t mine[4];
	size_t k;

	(void)state;
	k = spn_carry_select(c, "pharmacy-1", "pharmacy", mine, 4, rest);
	assert_int_equal(k, 2);
	assert_int_equal(mine[0].h.seq, 1);
	assert_int_equal(mine[1].h.seq, 3);
	assert_ptr_equal(mine[0].section, json_object_array_get_idx(c, 0));
	/* The rest travels on as it came, in order: the bank's, the
	 * unreadable ones, the other pharmacy's. */
	assert_int_equal(json_object_array_length(rest), 4);
	assert_ptr_equal(json_object_array_get_idx(rest, 0), json_object_array_get_idx(c, 1));
	assert_ptr_equal(json_object_array_get_idx(rest, 1), json_object_array_get_idx(c, 2));
	assert_ptr_equal(json_object_array_get_idx(rest, 2), json_object_array_get_idx(c, 4));
	assert_ptr_equal(json_object_array_get_idx(rest, 3), json_object_array_get_idx(c, 5));
	json_object_put(rest);
	json_object_put(c);
}

static void select_stops_at_its_limit(void **state)
{
	json_object *c = carry_list(), *rest = json_object_new_array();
	spn_carry_item_t mine[1];

	(void)state;
	assert_int_equal(spn_carry_select(c, "pharmacy-1", "pharmacy", mine, 1, rest), 1);
	assert_int_equal(mine[0].h.seq, 1);
	/* The second one for it is not lost: it travels on. */
	assert_int_equal(json_object_array_length(rest), 5);
	assert_ptr_equal(json_object_array_get_idx(rest, 2), json_object_array_get_idx(c, 3));
	json_object_put(rest);
	json_object_put(c);
}

static void select_of_nothing(void **state)
{
	json_object *rest = json_object_new_array();
	spn_carry_item_t mine[1];

	(void)state;
	assert_int_equal(spn_carry_select(NULL, "pharmacy-1", "pharmacy", mine, 1, rest), 0);
	assert_int_equal(json_object_array_length(rest), 0);
	json_object_put(rest);
}

static void hint_names_the_clients_provider(void **state)
{
	json_object *c = carry_list();
	char node[64] = "";

	(void)state;
	assert_true(spn_carry_hint(c, "bank", node, sizeof(node)));
	assert_string_equal(node, "bank-1");
	assert_true(spn_carry_hint(c, "pharmacy", node, sizeof(node)));
	assert_string_equal(node, "pharmacy-1");
	node[0] = '\0';
	assert_false(spn_carry_hint(c, "hospital", node, sizeof(node)));
	assert_string_equal(node, "");
	json_object_put(c);
}

static void replies_gathered_and_attached(void **state)
{
	json_object *ans = json_object_new_object(), *replies = json_object_new_array(), *into = json_object_new_array();

	(void)state;
	spn_carry_attach(ans, replies);
	assert_false(json_object_object_get_ex(ans, "client_replies", NULL));
	json_object_array_add(replies, json_object_new_string("r1"));
	json_object_array_add(replies, json_object_new_string("r2"));
	spn_carry_attach(ans, replies);
	spn_carry_collect(ans, into);
	spn_carry_collect(ans, into);
	assert_int_equal(json_object_array_length(into), 4);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(into, 3)), "r2");
	/* Not an object, or a member that is not a list: nothing. */
	spn_carry_collect(replies, into);
	json_object_object_add(ans, "client_replies", json_object_new_string("r3"));
	spn_carry_collect(ans, into);
	assert_int_equal(json_object_array_length(into), 4);
	json_object_put(ans);
	json_object_put(replies);
	json_object_put(into);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(select_takes_only_its_own),
		cmocka_unit_test(select_stops_at_its_limit),
		cmocka_unit_test(select_of_nothing),
		cmocka_unit_test(hint_names_the_clients_provider),
		cmocka_unit_test(replies_gathered_and_attached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
