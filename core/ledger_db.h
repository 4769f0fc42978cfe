/* What the ledger (ledger.c) needs of a database, and its two backends:
 * SQLite, embedded (ledger_sqlite.c), and PostgreSQL, for a PSP that must
 * outlive its machine (ledger_pg.c). Statements are written once, in SQL
 * both understand, with numbered parameters ($1, $2, ...) that are text or
 * 64-bit integers. The guarantees are the database's: a unique key, one
 * writer at a time (BEGIN IMMEDIATE; a transaction-scoped advisory lock),
 * nothing acknowledged before it is durable. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

typedef struct spn_ldb spn_ldb_t;
typedef struct spn_ldb_rows spn_ldb_rows_t;

typedef struct {
	const char *text;
	int64_t num;
	bool is_num;
} spn_ldb_arg_t;

#define LDB_T(s) ((spn_ldb_arg_t){.text = (s)})
#define LDB_N(n) ((spn_ldb_arg_t){.num = (int64_t)(n), .is_num = true})

typedef struct {
	const char *name;
	/* where: a file (SQLite) or a postgresql:// URI; shown: where as
	 * messages may show it (no password). */
	int (*open)(const char *where, const char *shown, spn_ledger_mode_t mode, spn_ldb_t **out);
	void (*close)(spn_ldb_t *db);
	/* Runs sql with args. With rows, its result rows, to be read with next
	 * and given back with end; *changes (when asked): rows it changed.
	 * SPN_EEXIST on a unique or check constraint, SPN_ELEDGER (why
	 * said) otherwise. */
	int (*exec)(spn_ldb_t *db, const char *sql, const spn_ldb_arg_t *args, int n, spn_ldb_rows_t **rows,
		    int64_t *changes);
	/* Runs several statements without parameters (a schema). */
	int (*script)(spn_ldb_t *db, const char *sql);
	/* 1: a row; 0: no more; else an error. */
	int (*next)(spn_ldb_rows_t *r);
	const char *(*text)(spn_ldb_rows_t *r, int col);
	int64_t (*num)(spn_ldb_rows_t *r, int col);
	void (*end)(spn_ldb_rows_t *r);
	/* begin: depth is how many transactions are open already; commit
	 * and rollback: how many, this one included. The inner ones are
	 * savepoints, and only the outermost commit is durable. */
	int (*begin)(spn_ldb_t *db, unsigned depth);
	int (*commit)(spn_ldb_t *db, unsigned depth);
	void (*rollback)(spn_ldb_t *db, unsigned depth);
	/* Whether a transaction is open: the database may have ended one by
	 * itself (SQLite on a full disk; PostgreSQL when the connection
	 * dropped). */
	bool (*active)(spn_ldb_t *db);
	/* The database's own check that it is sound. */
	int (*check)(spn_ldb_t *db);
	/* The schema, for a new ledger. */
	const char *schema;
} spn_ldb_driver_t;

extern const spn_ldb_driver_t spn_ldb_sqlite;
extern const spn_ldb_driver_t spn_ldb_pg;

/* The columns and tables both schemas have; each backend adds its types. */
#define SPN_LDB_SCHEMA_VERSION "1"
