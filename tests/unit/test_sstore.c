/* The provider's session store: the replay window, answers kept for
 * retries, the message budget, expiry, the bound on sessions and on the
 * bytes of answers kept, and sessions closed when their client's
 * certificate is revoked. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "sstore.h"

static spn_sstore_t *shared(const spn_sstore_limits_t *l)
{
	spn_sstore_t *s = NULL;

	assert_int_equal(spn_sstore_new(l, &s), 0);
	return s;
}

/* No shares: every owner may use the whole table. */
static spn_sstore_t *store(unsigned long max, unsigned long ttl, unsigned long budget, size_t answers)
{
	spn_sstore_limits_t l = {max, ttl, budget, answers, max, max, max, 1000};

	return shared(&l);
}

/* serial: of the client's certificate ("" for an anonymous client, then
 * counted to origin). */
static void add_from(spn_sstore_t *s, const char *id, const char *serial, const char *origin, time_t now, int want)
{
	spn_sstore_keys_t k;

	memset(&k, 0, sizeof(k));
	strcpy(k.service, "bank");
	strcpy(k.serial, serial);
	memset(k.to_provider, 0x11, sizeof(k.to_provider));
	assert_int_equal(spn_sstore_add(s, id, &k, origin, now), want);
}

static void add_for(spn_sstore_t *s, const char *id, const char *service, const char *serial, time_t now, int want)
{
	spn_sstore_keys_t k;

	memset(&k, 0, sizeof(k));
	strcpy(k.service, service);
	strcpy(k.serial, serial);
	if (serial[0])
		strcpy(k.client, "ann");
	memset(k.to_provider, 0x11, sizeof(k.to_provider));
	assert_int_equal(spn_sstore_add(s, id, &k, "e1/127.0.0.1", now), want);
}

static void add(spn_sstore_t *s, const char *id, time_t now, int want)
{
	add_for(s, id, "bank", "", now, want);
}

static int begin(spn_sstore_t *s, const char *id, const char *mid, uint64_t seq, unsigned *status)
{
	char *body = NULL;
	size_t len;
	int rc = spn_sstore_begin(s, id, "ann", mid, seq, status, &body, &len);

	free(body);
	return rc;
}

static void window(void **state)
{
	spn_sstore_t *s = store(10, 60, 1000, 1 << 20);
	unsigned st;
	char mid[16];

	(void)state;
	add(s, "s-1", 100, 0);
	assert_int_equal(begin(s, "s-1", "m-5", 5, &st), 0);
	assert_int_equal(begin(s, "s-1", "m-a", 5, &st), SPN_EREPLAY);   /* the same number, another id */
	assert_int_equal(begin(s, "s-1", "m-3", 3, &st), 0);             /* late but new */
	assert_int_equal(begin(s, "s-1", "m-b", 3, &st), SPN_EREPLAY);
	assert_int_equal(begin(s, "s-1", "m-70", 70, &st), 0);           /* moves the window */
	assert_int_equal(begin(s, "s-1", "m-7", 7, &st), 0);            /* 70 - 7 < 64: still inside */
	assert_int_equal(begin(s, "s-1", "m-c", 7, &st), SPN_EREPLAY);
	assert_int_equal(begin(s, "s-1", "m-6", 6, &st), SPN_EREPLAY);   /* 70 - 6 >= 64: too old to tell */
	for (int i = 71; i < 200; i++) {
		snprintf(mid, sizeof(mid), "m-%d", i);
		assert_int_equal(begin(s, "s-1", mid, (uint64_t)i, &st), 0);
		assert_int_equal(st, 0);
	}
	assert_int_equal(begin(s, "s-1", "m-x", UINT64_MAX, &st), 0);   /* a jump to the very end */
	assert_int_equal(begin(s, "s-1", "m-y", 199, &st), SPN_EREPLAY);
	spn_sstore_free(s);
}

static void answers(void **state)
{
	spn_sstore_t *s = store(10, 60, 1000, 1 << 20);
	unsigned st;
	char *body = NULL, mid[16];
	size_t len;

	(void)state;
	add(s, "s-1", 100, 0);
	assert_int_equal(spn_sstore_begin(s, "s-1", "ann", "m-1", 0, &st, &body, &len), 0);
	assert_int_equal(st, 0);
	/* Asked again while it is handled: not twice at once. */
	assert_int_equal(spn_sstore_begin(s, "s-1", "ann", "m-1", 0, &st, &body, &len), SPN_EBUSY);
	spn_sstore_finish(s, "s-1", "m-1", 200, "{\"section\":\"x\"}", 15);
	assert_int_equal(spn_sstore_begin(s, "s-1", "ann", "m-1", 0, &st, &body, &len), 0);
	assert_int_equal(st, 200);
	assert_string_equal(body, "{\"section\":\"x\"}");
	free(body);
	/* The answer is kept for the last SPN_SSTORE_RING messages only. */
	for (int i = 2; i < 2 + SPN_SSTORE_RING; i++) {
		snprintf(mid, sizeof(mid), "m-%d", i);
		assert_int_equal(begin(s, "s-1", mid, (uint64_t)i, &st), 0);
		spn_sstore_finish(s, "s-1", mid, 200, "a", 1);
	}
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), SPN_EREPLAY);
	/* Nor under a new sequence number: the message was acted on. */
	assert_int_equal(begin(s, "s-1", "m-1", 100, &st), SPN_EREPLAY);
	assert_non_null(strstr(spn_err_detail(SPN_EREPLAY), "no longer kept"));
	spn_sstore_free(s);
}

static void answer_bytes_bounded(void **state)
{
	spn_sstore_t *s = store(10, 60, 1000, 10);
	unsigned st;

	(void)state;
	add(s, "s-1", 100, 0);
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), 0);
	spn_sstore_finish(s, "s-1", "m-1", 200, "0123456789abcdef", 16);  /* over the bound: not kept */
	/* Still never acted on twice: refused, saying the answer is gone. */
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), SPN_EREPLAY);
	assert_non_null(strstr(spn_err_detail(SPN_EREPLAY), "no longer kept"));
	spn_sstore_free(s);
}

/* A message acted on in one session is not acted on in another session for
 * the same service; the same id for another service is another message. */
static void across_sessions(void **state)
{
	spn_sstore_t *s = store(10, 60, 1000, 1 << 20);
	unsigned st;
	char *body = NULL;
	size_t len;

	(void)state;
	add(s, "s-1", 100, 0);
	add(s, "s-2", 100, 0);
	add_for(s, "s-3", "hospital", "", 100, 0);
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), 0);
	spn_sstore_finish(s, "s-1", "m-1", 200, "a", 1);
	assert_int_equal(begin(s, "s-2", "m-1", 0, &st), SPN_EREPLAY);
	assert_non_null(strstr(spn_err_detail(SPN_EREPLAY), "handled in another session (s-1)"));
	assert_int_equal(begin(s, "s-2", "m-2", 0, &st), 0);
	assert_int_equal(begin(s, "s-3", "m-1", 0, &st), 0);
	/* Another author's section of the same message (a client's section
	 * carried along with a node's call) is another matter. */
	assert_int_equal(spn_sstore_begin(s, "s-2", "bob", "m-1", 1, &st, &body, &len), 0);
	free(body);
	/* And in its own session it is still answered from the record. */
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), 0);
	assert_int_equal(st, 200);
	spn_sstore_free(s);
}

static void budget(void **state)
{
	spn_sstore_t *s = store(10, 60, 3, 1 << 20);
	unsigned st;

	(void)state;
	add(s, "s-1", 100, 0);
	for (int i = 0; i < 3; i++) {
		char mid[8];
		snprintf(mid, sizeof(mid), "m-%d", i);
		assert_int_equal(begin(s, "s-1", mid, (uint64_t)i, &st), 0);
		spn_sstore_finish(s, "s-1", mid, 200, "a", 1);
	}
	assert_int_equal(begin(s, "s-1", "m-3", 3, &st), SPN_ELIMIT);
	/* A retry of an answered message costs nothing. */
	assert_int_equal(begin(s, "s-1", "m-2", 2, &st), 0);
	assert_int_equal(st, 200);
	spn_sstore_free(s);
}

static void expiry_and_bound(void **state)
{
	spn_sstore_t *s = store(2, 60, 10, 1 << 20);
	spn_sstore_keys_t k;

	(void)state;
	add_for(s, "s-1", "bank", "0a", 100, 0);
	add_for(s, "s-1", "bank", "0a", 100, SPN_EEXIST); /* an id cannot be taken over */
	add_for(s, "s-2", "bank", "0b", 110, 0);
	add(s, "s-3", 120, SPN_EBUSY);       /* full of certificate holders' */
	assert_int_equal(spn_sstore_keys(s, "s-1", 159, &k), 0);
	assert_int_equal(k.to_provider[0], 0x11);
	assert_string_equal(k.service, "bank");
	spn_sstore_keys_clear(&k);
	assert_int_equal(k.to_provider[0], 0);
	assert_int_equal(spn_sstore_keys(s, "s-1", 160, &k), SPN_EEXPIRED);
	assert_int_equal(spn_sstore_keys(s, "s-1", 160, &k), SPN_ESESSION);  /* and forgotten */
	assert_int_equal(spn_sstore_keys(s, "s-9", 160, &k), SPN_ESESSION);
	add(s, "s-3", 165, 0);               /* room again */
	add(s, "s-4", 171, 0);               /* s-2 expired at 170 and was dropped */
	assert_int_equal(spn_sstore_count(s), 2);
	add(s, "bad id!", 171, SPN_EINVAL);
	spn_sstore_free(s);
}

/* The CRL of the tests: user is a NULL-terminated list of serials. */
static bool listed(const char *serial, void *user)
{
	for (const char *const *v = user; *v; v++)
		if (strcmp(*v, serial) == 0)
			return true;
	return false;
}

/* A revoked certificate's sessions are closed at once, whatever their
 * expiry; their keys and answers are gone, their ids still say why. */
static void closed_when_revoked(void **state)
{
	const char *crl[] = {"0a", NULL}, *none[] = {NULL};
	spn_sstore_t *s = store(3, 60, 1000, 1 << 20);
	spn_sstore_keys_t k;
	unsigned st;

	(void)state;
	add_for(s, "s-1", "bank", "0a", 100, 0);
	add_for(s, "s-2", "bank", "0b", 100, 0);
	add(s, "s-3", 100, 0); /* anonymous */
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), 0);
	spn_sstore_finish(s, "s-1", "m-1", 200, "a", 1);
	assert_int_equal(spn_sstore_close_revoked(s, listed, none), 0);
	assert_int_equal(spn_sstore_close_revoked(s, listed, crl), 1);
	assert_int_equal(spn_sstore_count(s), 2);
	memset(&k, 0x55, sizeof(k));
	assert_int_equal(spn_sstore_keys(s, "s-1", 101, &k), SPN_EREVOKED);
	assert_int_equal(k.to_provider[0], 0x55); /* nothing handed out */
	assert_non_null(strstr(spn_err_detail(SPN_EREVOKED), "0a of ann"));
	/* Neither a new message nor a retry of an answered one. */
	assert_int_equal(begin(s, "s-1", "m-2", 1, &st), SPN_EREVOKED);
	assert_int_equal(begin(s, "s-1", "m-1", 0, &st), SPN_EREVOKED);
	/* The others go on. */
	assert_int_equal(spn_sstore_keys(s, "s-2", 101, &k), 0);
	assert_string_equal(k.serial, "0b");
	assert_int_equal(spn_sstore_keys(s, "s-3", 101, &k), 0);
	assert_int_equal(begin(s, "s-2", "m-3", 0, &st), 0);
	spn_sstore_keys_clear(&k);
	/* Closed once: a later CRL that lists it again counts it no more. */
	assert_int_equal(spn_sstore_close_revoked(s, listed, crl), 0);
	/* The tombstone keeps the id and leaves room for a new session. */
	add_for(s, "s-1", "bank", "0c", 102, SPN_EEXIST);
	add(s, "s-4", 102, 0);
	/* Until the session would have expired; then it is forgotten. */
	assert_int_equal(spn_sstore_keys(s, "s-1", 159, &k), SPN_EREVOKED);
	assert_int_equal(spn_sstore_keys(s, "s-1", 160, &k), SPN_EEXPIRED);
	assert_int_equal(spn_sstore_keys(s, "s-1", 160, &k), SPN_ESESSION);
	spn_sstore_free(s);
}

/* Tombstones are bounded like sessions: past the bound a closed session
 * is forgotten (refused as unknown), and expired ones make room. */
static void tombstones_bounded(void **state)
{
	const char *crl[] = {"0a", NULL};
	spn_sstore_t *s = store(2, 60, 1000, 1 << 20);
	spn_sstore_keys_t k;

	(void)state;
	add_for(s, "s-1", "bank", "0a", 100, 0);
	add_for(s, "s-2", "bank", "0a", 100, 0);
	assert_int_equal(spn_sstore_close_revoked(s, listed, crl), 2);
	add_for(s, "s-3", "bank", "0a", 110, 0);
	add_for(s, "s-4", "bank", "0a", 110, 0);
	assert_int_equal(spn_sstore_close_revoked(s, listed, crl), 2);
	assert_int_equal(spn_sstore_count(s), 0);
	assert_int_equal(spn_sstore_keys(s, "s-1", 111, &k), SPN_EREVOKED);
	assert_int_equal(spn_sstore_keys(s, "s-2", 111, &k), SPN_EREVOKED);
	assert_int_equal(spn_sstore_keys(s, "s-3", 111, &k), SPN_ESESSION);
	assert_int_equal(spn_sstore_keys(s, "s-4", 111, &k), SPN_ESESSION);
	/* s-1 and s-2 expire at 160: their room is for new tombstones. */
	add_for(s, "s-5", "bank", "0a", 161, 0);
	assert_int_equal(spn_sstore_close_revoked(s, listed, crl), 1);
	assert_int_equal(spn_sstore_keys(s, "s-5", 162, &k), SPN_EREVOKED);
	spn_sstore_free(s);
}

static bool held(spn_sstore_t *s, const char *id)
{
	spn_sstore_keys_t k;
	int rc = spn_sstore_keys(s, id, 101, &k);

	spn_sstore_keys_clear(&k);
	return rc == 0;
}

/* One anonymous origin opening sessions without end only ever displaces
 * its own least recently used; anonymous clients together hold their
 * share, the heaviest giving way; a certificate holder always finds room
 * while anonymous sessions are held. */
static void fair_shares(void **state)
{
	spn_sstore_limits_t l = {10, 60, 1000, 1 << 20, 3, 4, 6, 1000};
	spn_sstore_t *s = shared(&l);
	spn_sstore_stats_t st;
	char id[16];
	unsigned status;

	(void)state;
	add_from(s, "a-0", "", "e1/10.0.0.1", 100, 0);
	add_from(s, "a-1", "", "e1/10.0.0.1", 100, 0);
	add_from(s, "a-2", "", "e1/10.0.0.1", 100, 0);
	assert_int_equal(begin(s, "a-0", "m-0", 0, &status), 0); /* a-0 used: a-1 is now the least recent */
	spn_sstore_finish(s, "a-0", "m-0", 200, "a", 1);
	for (int i = 3; i < 50; i++) {
		snprintf(id, sizeof(id), "a-%d", i);
		add_from(s, id, "", "e1/10.0.0.1", 100, 0);
	}
	assert_false(held(s, "a-1"));
	assert_true(held(s, "a-49"));
	spn_sstore_stats(s, &st);
	assert_int_equal(st.sessions, 3);
	/* Other origins fill the anonymous share (6); the heaviest gives way. */
	add_from(s, "b-0", "", "e1/10.0.0.2", 100, 0);
	add_from(s, "b-1", "", "e1/10.0.0.2", 100, 0);
	add_from(s, "c-0", "", "e2/10.0.0.1", 100, 0);
	add_from(s, "c-1", "", "e2/10.0.0.1", 100, 0);
	spn_sstore_stats(s, &st);
	assert_int_equal(st.anonymous, 6);
	assert_true(held(s, "b-0"));
	assert_true(held(s, "c-0"));
	/* Certificate holders: up to their share each, then their own give
	 * way; the table full, anonymous sessions make room. */
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "x-%d", i);
		add_from(s, id, "0a", "", 100, 0);
	}
	add_from(s, "x-4", "0a", "", 100, 0);
	assert_false(held(s, "x-0"));
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "y-%d", i);
		add_from(s, id, "0b", "", 100, 0);
	}
	spn_sstore_stats(s, &st);
	assert_int_equal(st.sessions, 10);
	assert_int_equal(st.anonymous, 2);
	assert_true(st.evicted > 40);
	/* A session with a message in flight is not idle: never dropped. */
	add_from(s, "z-0", "0c", "", 100, 0);
	add_from(s, "z-1", "0c", "", 100, 0);
	spn_sstore_stats(s, &st);
	assert_int_equal(st.anonymous, 0);
	assert_int_equal(begin(s, "x-1", "m-1", 1, &status), 0);
	assert_int_equal(begin(s, "x-2", "m-2", 1, &status), 0);
	assert_int_equal(begin(s, "x-3", "m-3", 1, &status), 0);
	assert_int_equal(begin(s, "x-4", "m-4", 1, &status), 0);
	add_from(s, "x-5", "0a", "", 100, SPN_EBUSY);
	/* Full of certificate holders' sessions: anonymous clients wait. */
	add_from(s, "a-99", "", "e1/10.0.0.9", 100, SPN_EBUSY);
	spn_sstore_free(s);
}

/* Messages in flight are counted per owner. */
static void inflight_share(void **state)
{
	spn_sstore_limits_t l = {10, 60, 1000, 1 << 20, 5, 5, 10, 2};
	spn_sstore_t *s = shared(&l);
	unsigned status;

	(void)state;
	add_from(s, "a-0", "", "e1/10.0.0.1", 100, 0);
	add_from(s, "a-1", "", "e1/10.0.0.1", 100, 0);
	add_from(s, "b-0", "", "e1/10.0.0.2", 100, 0);
	assert_int_equal(begin(s, "a-0", "m-0", 0, &status), 0);
	assert_int_equal(begin(s, "a-1", "m-1", 0, &status), 0);
	assert_int_equal(begin(s, "a-1", "m-2", 1, &status), SPN_EBUSY);
	assert_int_equal(begin(s, "b-0", "m-3", 0, &status), 0); /* another owner's share */
	spn_sstore_finish(s, "a-0", "m-0", 200, "a", 1);
	assert_int_equal(begin(s, "a-1", "m-2", 1, &status), 0);  /* the refused one was not counted as seen */
	spn_sstore_free(s);
}

/* The answer budget: the owner holding the most gives way, oldest first;
 * an owner holding less never loses an answer to a heavier one. */
static void answers_fair(void **state)
{
	spn_sstore_limits_t l = {100, 60, 1000, 100, 100, 100, 100, 1000};
	spn_sstore_t *s = shared(&l);
	spn_sstore_stats_t st;
	char mid[16], id[16];
	unsigned status;

	(void)state;
	add_from(s, "x-0", "0a", "", 100, 0);
	assert_int_equal(begin(s, "x-0", "k-0", 0, &status), 0);
	spn_sstore_finish(s, "x-0", "k-0", 200, "0123456789", 10);
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "a-%d", i / 8);
		snprintf(mid, sizeof(mid), "m-%d", i);
		if (i % 8 == 0)
			add_from(s, id, "", "e1/10.0.0.1", 100, 0);
		assert_int_equal(begin(s, id, mid, (uint64_t)i, &status), 0);
		spn_sstore_finish(s, id, mid, 200, "0123456789", 10);
	}
	spn_sstore_stats(s, &st);
	assert_true(st.answer_bytes <= 100);
	assert_true(st.answers_evicted >= 30);
	/* The light owner's answer is still there for its retry. */
	assert_int_equal(begin(s, "x-0", "k-0", 0, &status), 0);
	assert_int_equal(status, 200);
	/* The heavy one's oldest are gone, its newest kept. */
	assert_int_equal(begin(s, "a-0", "m-0", 0, &status), SPN_EREPLAY);
	assert_int_equal(begin(s, "a-4", "m-39", 39, &status), 0);
	assert_int_equal(status, 200);
	/* The light owner storing more takes from the heavy one, until it
	 * would itself be the heavier. */
	for (int i = 1; i < 9; i++) {
		snprintf(mid, sizeof(mid), "k-%d", i);
		assert_int_equal(begin(s, "x-0", mid, (uint64_t)i, &status), 0);
		spn_sstore_finish(s, "x-0", mid, 200, "0123456789", 10);
	}
	spn_sstore_stats(s, &st);
	assert_true(st.answer_bytes <= 100);
	assert_int_equal(begin(s, "x-0", "k-8", 8, &status), 0);
	assert_int_equal(status, 200);
	assert_int_equal(begin(s, "a-4", "m-39", 39, &status), 0);
	assert_int_equal(status, 200);
	spn_sstore_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(window),
		cmocka_unit_test(answers),
		cmocka_unit_test(answer_bytes_bounded),
		cmocka_unit_test(across_sessions),
		cmocka_unit_test(budget),
		cmocka_unit_test(expiry_and_bound),
		cmocka_unit_test(closed_when_revoked),
		cmocka_unit_test(tombstones_bounded),
		cmocka_unit_test(fair_shares),
		cmocka_unit_test(inflight_share),
		cmocka_unit_test(answers_fair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
