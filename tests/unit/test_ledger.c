/* The ledger: one use per token, one row per serial, status transitions. */
#include "config.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "error.h"
#include "ledger.h"

static char path[64];

static int setup(void **state)
{
	spn_ledger_t *l;
	int fd;

	snprintf(path, sizeof(path), "/tmp/spn-ledger-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	if (spn_ledger_open(path, SPN_LEDGER_CREATE, &l))
		return -1;
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	char wal[80];

	spn_ledger_close(*state);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	return 0;
}

static spn_ledger_cert_t cert(const char *serial, const char *node)
{
	spn_ledger_cert_t c;

	memset(&c, 0, sizeof(c));
	strcpy(c.serial, serial);
	strcpy(c.id.node_id, node);
	strcpy(c.id.group, "demo");
	c.id.role = SPN_ROLE_SPN;
	strcpy(c.parent, "admin-1");
	c.not_before = 100;
	c.not_after = 10000;
	c.issued_at = 100;
	c.pem = "-----BEGIN CERTIFICATE-----\n";
	return c;
}

static void token_used_once(void **state)
{
	spn_ledger_t *l = *state;
	spn_ledger_token_t t = {.id = "00112233445566778899aabbccddeeff", .node_id = "n1", .minted_by = "admin-1", .expires = 999};

	assert_int_equal(spn_ledger_token_use(l, &t, "aa", 100), 0);
	assert_int_equal(spn_ledger_token_use(l, &t, "bb", 101), SPN_ETOKENUSED);
	/* A token the PSP minted itself is recorded first, then used once. */
	strcpy(t.id, "ffeeddccbbaa99887766554433221100");
	assert_int_equal(spn_ledger_token_add(l, &t, 100), 0);
	assert_int_equal(spn_ledger_token_use(l, &t, "cc", 100), 0);
	assert_int_equal(spn_ledger_token_use(l, &t, "dd", 100), SPN_ETOKENUSED);
}

static void serial_unique(void **state)
{
	spn_ledger_t *l = *state;
	spn_ledger_cert_t a = cert("4000000000000000000000000000000a", "n1");
	spn_ledger_cert_t b = cert("4000000000000000000000000000000a", "n2");

	assert_int_equal(spn_ledger_cert_add(l, &a), 0);
	assert_int_equal(spn_ledger_cert_add(l, &b), SPN_EEXIST);
}

/* What another process reading the file sees: what is committed. */
static bool seen_by_another(const char *serial)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM certs WHERE serial = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n == 1;
}

/* Inner transactions are savepoints: a rolled-back one leaves nothing, a
 * committed one is durable (and visible to another connection) only once
 * the outermost commits, and goes if the outermost rolls back. */
static void nested_transactions(void **state)
{
	spn_ledger_t *l = *state;
	spn_ledger_cert_t a = cert("5000000000000000000000000000000a", "n1");
	spn_ledger_cert_t b = cert("5000000000000000000000000000000b", "n2");
	spn_ledger_cert_t c = cert("5000000000000000000000000000000c", "n3");

	assert_int_equal(spn_ledger_begin(l), 0);
	assert_int_equal(spn_ledger_begin(l), 0);
	assert_int_equal(spn_ledger_cert_add(l, &a), 0);
	assert_int_equal(spn_ledger_commit(l), 0);
	assert_int_equal(spn_ledger_begin(l), 0);
	assert_int_equal(spn_ledger_cert_add(l, &b), 0);
	spn_ledger_rollback(l);
	assert_false(seen_by_another(a.serial));
	assert_int_equal(spn_ledger_commit(l), 0);
	assert_true(seen_by_another(a.serial));
	assert_false(seen_by_another(b.serial));

	assert_int_equal(spn_ledger_begin(l), 0);
	assert_int_equal(spn_ledger_begin(l), 0);
	assert_int_equal(spn_ledger_cert_add(l, &c), 0);
	assert_int_equal(spn_ledger_commit(l), 0);
	spn_ledger_rollback(l);
	assert_false(seen_by_another(c.serial));
	/* Back at no transaction: a plain one works as before. */
	assert_int_equal(spn_ledger_begin(l), 0);
	assert_int_equal(spn_ledger_cert_add(l, &c), 0);
	assert_int_equal(spn_ledger_commit(l), 0);
	assert_true(seen_by_another(c.serial));
}

static void statuses_and_children(void **state)
{
	spn_ledger_t *l = *state;
	spn_ledger_cert_t a = cert("4000000000000000000000000000000b", "k1"), got;
	spn_ledger_cert_t b = cert("4000000000000000000000000000000c", "k2");
	unsigned n;
	bool used;

	assert_int_equal(spn_ledger_cert_add(l, &a), 0);
	assert_int_equal(spn_ledger_cert_add(l, &b), 0);
	assert_int_equal(spn_ledger_children(l, "admin-1", 200, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(spn_ledger_cert_release(l, a.serial, 200), SPN_ESTATE);
	assert_int_equal(spn_ledger_cert_hold(l, a.serial, 200), 0);
	assert_int_equal(spn_ledger_cert_hold(l, a.serial, 200), SPN_ESTATE);
	assert_int_equal(spn_ledger_cert_release(l, a.serial, 300), 0);
	assert_int_equal(spn_ledger_cert_revoke(l, a.serial, 1, 400), 0);
	assert_int_equal(spn_ledger_cert_revoke(l, a.serial, 1, 400), SPN_ESTATE);
	assert_int_equal(spn_ledger_cert_release(l, a.serial, 400), SPN_ESTATE);
	assert_int_equal(spn_ledger_cert_get(l, a.serial, &got), 0);
	assert_int_equal(got.status, SPN_CERT_REVOKED);
	assert_int_equal(got.reason, 1);
	spn_ledger_cert_clear(l, &got);
	assert_int_equal(spn_ledger_children(l, "admin-1", 500, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(spn_ledger_node_in_use(l, "k1", 500, &used), 0);
	assert_false(used);
	assert_int_equal(spn_ledger_node_in_use(l, "k2", 500, &used), 0);
	assert_true(used);
	assert_int_equal(spn_ledger_node_in_use(l, "k2", 20000, &used), 0);
	assert_false(used);
	assert_int_equal(spn_ledger_cert_get(l, "00", &got), SPN_ENOTFOUND);
	assert_int_equal(spn_ledger_check(l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(token_used_once, setup, teardown),
		cmocka_unit_test_setup_teardown(serial_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(statuses_and_children, setup, teardown),
		cmocka_unit_test_setup_teardown(nested_transactions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
