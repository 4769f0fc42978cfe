/* What an entry node reads of a client's call and message before it
 * routes anything: duplicate members and over-long ids refused as invalid,
 * and a message that would be one message twice to a provider refused
 * whole (a carried section for the provider and service it also calls
 * directly, in the same session or from the same author); a call's chain
 * read as strictly as the rest. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "error.h"

static const uint8_t key[32] = {7};

/* A section of message m-1 in session kid at node to for svc, by from. */
static char *section(const char *kid, const char *svc, const char *to, const char *from, uint64_t seq)
{
	spn_jwe_header_t h;
	char *jwe = NULL;

	memset(&h, 0, sizeof(h));
	snprintf(h.kid, sizeof(h.kid), "%s", kid);
	snprintf(h.svc, sizeof(h.svc), "%s", svc);
	snprintf(h.to, sizeof(h.to), "%s", to);
	snprintf(h.from, sizeof(h.from), "%s", from);
	snprintf(h.mid, sizeof(h.mid), "m-1");
	h.seq = seq;
	assert_int_equal(spn_jwe_seal(key, &h, (const uint8_t *)"x", 1, &jwe), 0);
	return jwe;
}

/* {"id":"m-1","sections":[a],"carry":[b]} (carry left out when b is NULL). */
static int message(const char *a, const char *a2, const char *b, const char *b2)
{
	char body[4096];
	spn_envelope_t e;
	int rc;

	snprintf(body, sizeof(body), "{\"id\":\"m-1\",\"sections\":[\"%s\"%s%s%s]%s%s%s%s%s}", a, a2 ? ",\"" : "",
		 a2 ? a2 : "", a2 ? "\"" : "", b ? ",\"carry\":[\"" : "", b ? b : "", b2 ? "\",\"" : "",
		 b2 ? b2 : "", b ? "\"]" : "");
	rc = spn_envelope_parse(body, strlen(body), &e);
	if (rc == 0)
		spn_envelope_clear(&e);
	return rc;
}

static int session_call(const char *body)
{
	spn_session_call_t c;
	int rc = spn_session_call_parse(body, strlen(body), &c);

	if (rc == 0)
		spn_session_call_clear(&c);
	return rc;
}

#define KEY "\"client_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""

/* A session call whose item has members of n letters each (none for a
 * NULL name). Valid until the next call. */
static const char *call_with(const char *k1, size_t n1, const char *k2, size_t n2, const char *k3, size_t n3)
{
	static char body[1024];
	const char *k[3] = {k1, k2, k3};
	size_t n[3] = {n1, n2, n3}, len;

	len = (size_t)snprintf(body, sizeof(body), "{" KEY ",\"sessions\":[{");
	for (int i = 0; i < 3 && k[i]; i++) {
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s\"%s\":\"", i ? "," : "", k[i]);
		memset(body + len, 'b', n[i]);
		len += n[i];
		body[len++] = '"';
	}
	snprintf(body + len, sizeof(body) - len, "}]}");
	return body;
}

static void session_call_strict(void **state)
{
	(void)state;
	assert_int_equal(session_call("{" KEY ",\"sessions\":[{\"session\":\"s-1\",\"service\":\"bank\"}]}"), 0);
	assert_int_equal(session_call("{" KEY ",\"sessions\":[{\"session\":\"s-1\",\"service\":\"bank\"}]," KEY "}"),
			 SPN_EINVAL);
	assert_int_equal(
		session_call("{" KEY ",\"sessions\":[{\"session\":\"s-1\",\"service\":\"bank\",\"service\":\"bank\"}]}"),
		SPN_EINVAL);
	/* Ids over their length: invalid (400), not too_big (413). */
	assert_int_equal(session_call(call_with("session", 65, "service", 4, NULL, 0)), SPN_EINVAL);
	assert_int_equal(session_call(call_with("session", 64, "service", 33, NULL, 0)), SPN_EINVAL);
	assert_int_equal(session_call(call_with("session", 64, "service", 32, "node", 64)), SPN_EINVAL);
	assert_int_equal(session_call(call_with("session", 64, "service", 32, "node", 63)), 0);
	/* A signature with no certificate to check it by. */
	assert_int_equal(session_call(call_with("session", 4, "service", 4, "sig", 4)), SPN_EINVAL);
}

static void message_strict(void **state)
{
	char *a = section("s-1", "bank", "bank-1", "band", 0), body[2048];
	spn_envelope_t e;

	(void)state;
	assert_int_equal(message(a, NULL, NULL, NULL), 0);
	snprintf(body, sizeof(body), "{\"id\":\"m-1\",\"sections\":[\"%s\"],\"id\":\"m-1\"}", a);
	assert_int_equal(spn_envelope_parse(body, strlen(body), &e), SPN_EINVAL);
	snprintf(body, sizeof(body), "{\"id\":\"%065d\",\"sections\":[\"%s\"]}", 1, a);
	assert_int_equal(spn_envelope_parse(body, strlen(body), &e), SPN_EINVAL);
	/* A node's call carries its chain of calls, read as strictly. */
	snprintf(body, sizeof(body),
		 "{\"id\":\"m-1\",\"sections\":[\"%s\"],\"chain\":[{\"service\":\"pharmacy\",\"node\":\"ph-1\"}]}", a);
	assert_int_equal(spn_envelope_parse(body, strlen(body), &e), 0);
	assert_non_null(e.chain);
	spn_envelope_clear(&e);
	snprintf(body, sizeof(body), "{\"id\":\"m-1\",\"sections\":[\"%s\"],\"chain\":[{\"service\":\"pharmacy\"}]}", a);
	assert_int_equal(spn_envelope_parse(body, strlen(body), &e), SPN_EINVAL);
	free(a);
}

static void one_message_twice_refused(void **state)
{
	char *direct = section("s-1", "bank", "bank-1", "band", 0);
	char *same_session = section("s-1", "bank", "bank-1", "band", 1);
	char *same_author = section("s-2", "bank", "bank-1", "band", 0);
	char *other_author = section("s-2", "bank", "bank-1", "pharmacy-1", 0);
	char *other_node = section("s-3", "bank", "bank-2", "band", 0);
	char *other_service = section("s-4", "pharmacy", "bank-1", "band", 0);

	(void)state;
	/* Carried for the provider and service the message calls directly. */
	assert_int_equal(message(direct, NULL, same_session, NULL), SPN_EINVAL);
	assert_int_equal(message(direct, NULL, same_author, NULL), SPN_EINVAL);
	/* Twice in sections, or twice in carry. */
	assert_int_equal(message(direct, same_session, NULL, NULL), SPN_EINVAL);
	assert_int_equal(message(other_node, NULL, direct, same_author), SPN_EINVAL);
	/* Another author in another session (a node's call carrying the
	 * client's section), another node, another service: all fine. */
	assert_int_equal(message(other_author, NULL, direct, NULL), 0);
	assert_int_equal(message(direct, NULL, other_node, NULL), 0);
	assert_int_equal(message(direct, other_node, other_service, NULL), 0);
	free(direct);
	free(same_session);
	free(same_author);
	free(other_author);
	free(other_node);
	free(other_service);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(session_call_strict),
		cmocka_unit_test(message_strict),
		cmocka_unit_test(one_message_twice_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
