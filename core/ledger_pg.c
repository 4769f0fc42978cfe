/* The ledger on PostgreSQL (ledger_db.h), through libpq, for a PSP that
 * must outlive its machine and for two PSPs sharing one ledger. Writers
 * take one transaction-scoped advisory lock, as SQLite's BEGIN IMMEDIATE
 * admits one writer: every check and insert of an issuance holds across
 * PSPs because the database serialises them. A connection that dropped
 * (a restarted server, a standby promoted: libpq's multi-host URIs with
 * target_session_attrs=read-write find the new primary) is opened again
 * before the next transaction; a transaction it cut short fails, and what
 * it would have issued was never answered. */
#include "config.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ledger_db.h"

/* "spn" and the ledger's lock: every PSP and spnctl of a group take it. */
#define WRITERS_LOCK 0x73706e4cLL
#define OID_INT8 20
#define OID_TEXT 25

struct spn_ldb {
	PGconn *c;
	char *shown;  /* the URI as messages show it */
	bool read_only;
};

struct spn_ldb_rows {
	spn_ldb_t *db;
	PGresult *res;
	int row, n;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS certs("
	" seq BIGSERIAL UNIQUE NOT NULL,"
	" serial TEXT PRIMARY KEY, node_id TEXT NOT NULL, grp TEXT NOT NULL,"
	" role TEXT NOT NULL, trust BIGINT NOT NULL, services TEXT NOT NULL,"
	" parent TEXT NOT NULL, token_id TEXT NOT NULL,"
	" not_before BIGINT NOT NULL, not_after BIGINT NOT NULL, issued_at BIGINT NOT NULL,"
	" status BIGINT NOT NULL DEFAULT 0 CHECK(status IN (0,1,2)),"
	" reason BIGINT NOT NULL DEFAULT 0, revoked_at BIGINT NOT NULL DEFAULT 0,"
	" pem TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS certs_node ON certs(node_id);"
	"CREATE INDEX IF NOT EXISTS certs_parent ON certs(parent);"
	"CREATE INDEX IF NOT EXISTS certs_revoked ON certs(status) WHERE status != 0;"
	"CREATE TABLE IF NOT EXISTS lease(name TEXT PRIMARY KEY, holder TEXT NOT NULL, until_ms BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens("
	" id TEXT PRIMARY KEY, node_id TEXT NOT NULL, minted_by TEXT NOT NULL,"
	" expires BIGINT NOT NULL, minted_at BIGINT NOT NULL,"
	" used_at BIGINT NOT NULL DEFAULT 0, used_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS events("
	" seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, kind TEXT NOT NULL,"
	" serial TEXT NOT NULL DEFAULT '', node_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');";

/* libpq's message, first line only (the rest repeats the statement). */
static int db_err(spn_ldb_t *db, const char *what, const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");

	return spn_err(SPN_ELEDGER, "ledger %s: %s: %.*s", db->shown, what, (int)n, msg ? msg : "");
}

/* Notices (a table that already exists) are not the log's business. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* What every connection runs first: writes bounded in time as SQLite's
 * busy timeout bounds them, a read-only session for the commands that
 * only look. */
static int session(spn_ldb_t *db)
{
	PGresult *r;
	bool ok;

	PQsetNoticeProcessor(db->c, quiet, NULL);
	r = PQexec(db->c, db->read_only ? "SET statement_timeout = '10s'; SET default_transaction_read_only = on"
					: "SET statement_timeout = '10s'; SET synchronous_commit = on");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : db_err(db, "cannot set up the session", PQerrorMessage(db->c));
}

/* The connection, opened again when it dropped; between transactions
 * only. */
static int ensure(spn_ldb_t *db)
{
	if (PQstatus(db->c) == CONNECTION_OK)
		return 0;
	PQreset(db->c);
	if (PQstatus(db->c) != CONNECTION_OK)
		return db_err(db, "cannot reach its database", PQerrorMessage(db->c));
	return session(db);
}

static bool in_transaction(spn_ldb_t *db)
{
	PGTransactionStatusType t = PQtransactionStatus(db->c);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static void pg_close(spn_ldb_t *db)
{
	if (!db)
		return;
	PQfinish(db->c);
	free(db->shown);
	free(db);
}

/* A new ledger goes into a database that holds none. */
static int empty(spn_ldb_t *db)
{
	PGresult *r = PQexec(db->c, "SELECT to_regclass('meta') IS NOT NULL");
	int rc;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = db_err(db, "cannot look into its database", PQresultErrorMessage(r));
	else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		rc = spn_err(SPN_EEXIST, "ledger %s: its database already holds a ledger; not making another there",
			     db->shown);
	else
		rc = 0;
	PQclear(r);
	return rc;
}

static int pg_open(const char *uri, const char *shown, spn_ledger_mode_t mode, spn_ldb_t **out)
{
	spn_ldb_t *db = calloc(1, sizeof(*db));
	int rc;

	if (!db)
		return SPN_ENOMEM;
	db->read_only = mode == SPN_LEDGER_READ;
	if (!(db->shown = strdup(shown)) || !(db->c = PQconnectdb(uri))) {
		pg_close(db);
		return SPN_ENOMEM;
	}
	if (PQstatus(db->c) != CONNECTION_OK)
		rc = db_err(db, "cannot reach its database", PQerrorMessage(db->c));
	else if ((rc = session(db)) == 0 && mode == SPN_LEDGER_CREATE)
		rc = empty(db);
	if (rc) {
		pg_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

static PGresult *run(spn_ldb_t *db, const char *sql, const spn_ldb_arg_t *args, int n)
{
	char nums[16][24];
	const char *values[16];
	Oid types[16];

	if (n > 16)
		return NULL;
	for (int i = 0; i < n; i++) {
		types[i] = args[i].is_num ? OID_INT8 : OID_TEXT;
		if (args[i].is_num) {
			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)args[i].num);
			values[i] = nums[i];
		} else {
			values[i] = args[i].text ? args[i].text : "";
		}
	}
	return PQexecParams(db->c, sql, n, types, values, NULL, NULL, 0);
}

static int pg_exec(spn_ldb_t *db, const char *sql, const spn_ldb_arg_t *args, int n, spn_ldb_rows_t **rows,
		   int64_t *changes)
{
	bool alone = !in_transaction(db);
	PGresult *r;
	ExecStatusType st;
	const char *state;
	int rc;

	if (alone && (rc = ensure(db)))
		return rc;
	r = run(db, sql, args, n);
	/* Outside a transaction a statement may go again on a new
	 * connection: nothing of it was done on the one that dropped. */
	if (alone && PQstatus(db->c) != CONNECTION_OK) {
		PQclear(r);
		if ((rc = ensure(db)))
			return rc;
		r = run(db, sql, args, n);
	}
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (changes)
			*changes = strtoll(PQcmdTuples(r), NULL, 10);
		if (!rows) {
			PQclear(r);
			return 0;
		}
		if (!(*rows = calloc(1, sizeof(**rows)))) {
			PQclear(r);
			return SPN_ENOMEM;
		}
		(*rows)->db = db;
		(*rows)->res = r;
		(*rows)->n = PQntuples(r);
		(*rows)->row = -1;
		return 0;
	}
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	/* Class 23: an integrity constraint (a unique key, a check). */
	rc = state && strncmp(state, "23", 2) == 0 ? SPN_EEXIST
						    : db_err(db, "statement", r ? PQresultErrorMessage(r) : PQerrorMessage(db->c));
	PQclear(r);
	return rc;
}

static int pg_script(spn_ldb_t *db, const char *sql)
{
	PGresult *r = PQexec(db->c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : db_err(db, "cannot create the schema", PQresultErrorMessage(r));

	PQclear(r);
	return rc;
}

static int pg_next(spn_ldb_rows_t *r)
{
	return ++r->row < r->n ? 1 : 0;
}

static const char *pg_text(spn_ldb_rows_t *r, int col)
{
	return PQgetvalue(r->res, r->row, col);
}

static int64_t pg_num(spn_ldb_rows_t *r, int col)
{
	return strtoll(PQgetvalue(r->res, r->row, col), NULL, 10);
}

static void pg_end(spn_ldb_rows_t *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}

/* One command; ok when its tag is want (a COMMIT of a failed transaction
 * answers ROLLBACK, and succeeds as a command). */
static int command(spn_ldb_t *db, const char *sql, const char *want, const char *what)
{
	PGresult *r = PQexec(db->c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK && (!want || strcmp(PQcmdStatus(r), want) == 0)
			 ? 0
			 : db_err(db, what, PQresultStatus(r) == PGRES_COMMAND_OK ? "the transaction was rolled back"
										  : PQresultErrorMessage(r));

	PQclear(r);
	return rc;
}

static int pg_begin(spn_ldb_t *db, unsigned depth)
{
	char sql[96];
	int rc;

	if (depth)
		return command(db, "SAVEPOINT nested", NULL, "cannot begin a nested transaction");
	if ((rc = ensure(db)))
		return rc;
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)", WRITERS_LOCK);
	if (db->read_only)
		snprintf(sql, sizeof(sql), "BEGIN");
	{
		PGresult *r = PQexec(db->c, sql);
		ExecStatusType st = PQresultStatus(r);
		PQclear(r);
		/* The connection dropped since the last transaction: once more
		 * on a new one. */
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && PQstatus(db->c) != CONNECTION_OK) {
			if ((rc = ensure(db)))
				return rc;
			r = PQexec(db->c, sql);
			st = PQresultStatus(r);
			PQclear(r);
		}
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			if (in_transaction(db))
				PQclear(PQexec(db->c, "ROLLBACK"));
			return db_err(db, "cannot begin transaction", PQerrorMessage(db->c));
		}
	}
	return 0;
}

static int pg_commit(spn_ldb_t *db, unsigned depth)
{
	if (depth > 1)
		return command(db, "RELEASE SAVEPOINT nested", NULL, "cannot commit");
	return command(db, "COMMIT", "COMMIT", "cannot commit");
}

static void pg_rollback(spn_ldb_t *db, unsigned depth)
{
	PQclear(PQexec(db->c, depth > 1 ? "ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested" : "ROLLBACK"));
}

static bool pg_active(spn_ldb_t *db)
{
	return PQstatus(db->c) == CONNECTION_OK && in_transaction(db);
}

static int pg_check(spn_ldb_t *db)
{
	PGresult *r;
	int rc = ensure(db);

	if (rc)
		return rc;
	r = PQexec(db->c, "SELECT 1");
	rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : db_err(db, "does not answer", PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

const spn_ldb_driver_t spn_ldb_pg = {
	.name = "PostgreSQL",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.script = pg_script,
	.next = pg_next,
	.text = pg_text,
	.num = pg_num,
	.end = pg_end,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.active = pg_active,
	.check = pg_check,
	.schema = schema,
};
