/* The ledger on SQLite (ledger_db.h): one file, WAL and synchronous=FULL,
 * BEGIN IMMEDIATE for one writer at a time. A ledger file moved or deleted
 * while open is noticed before each transaction begins and commits:
 * nothing more is recorded, and what was is copied next to its path. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "ledger_db.h"
#include "log.h"

/* Statements kept compiled: an issuance runs a dozen, and compiling them
 * again each time cost as much as running them. */
#define KEPT 32

struct spn_ldb {
	sqlite3 *db;     /* NULL once the file was lost */
	char *path;
	bool lost;       /* the file was moved or deleted: nothing more is recorded */
	pthread_mutex_t lock;  /* of kept[] only */
	struct {
		const char *sql;
		sqlite3_stmt *st;
		bool busy;  /* a statement is used by one caller at a time */
	} kept[KEPT];
	size_t n_kept;
};

struct spn_ldb_rows {
	spn_ldb_t *l;
	sqlite3_stmt *st;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS certs("
	" serial TEXT PRIMARY KEY, node_id TEXT NOT NULL, grp TEXT NOT NULL,"
	" role TEXT NOT NULL, trust INTEGER NOT NULL, services TEXT NOT NULL,"
	" parent TEXT NOT NULL, token_id TEXT NOT NULL,"
	" not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, issued_at INTEGER NOT NULL,"
	" status INTEGER NOT NULL DEFAULT 0 CHECK(status IN (0,1,2)),"
	" reason INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER NOT NULL DEFAULT 0,"
	" pem TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS certs_node ON certs(node_id);"
	"CREATE INDEX IF NOT EXISTS certs_parent ON certs(parent);"
	"CREATE TABLE IF NOT EXISTS tokens("
	" id TEXT PRIMARY KEY, node_id TEXT NOT NULL, minted_by TEXT NOT NULL,"
	" expires INTEGER NOT NULL, minted_at INTEGER NOT NULL,"
	" used_at INTEGER NOT NULL DEFAULT 0, used_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS events("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL,"
	" serial TEXT NOT NULL DEFAULT '', node_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');";

/* What a caller is told once the file is lost; the log has the paths. */
static int lost_err(void)
{
	return spn_err(SPN_ELEDGERLOST, "the CA's ledger was moved or deleted while in use: it records and issues "
					"nothing more until it is started again with its ledger in place (its log "
					"says where what it recorded is)");
}

static int db_err(spn_ldb_t *l, const char *what)
{
	if (l->lost)
		return lost_err();
	return spn_err(SPN_ELEDGER, "ledger %s: %s: %s", l->path, what, l->db ? sqlite3_errmsg(l->db) : "closed");
}

static int exec_plain(spn_ldb_t *l, const char *sql, const char *what)
{
	if (!l->db)
		return db_err(l, what);
	return sqlite3_exec(l->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : db_err(l, what);
}

/* What is at path, named before SQLite touches it: SQLite would make a
 * missing or empty file into a database, and says only "unable to open"
 * for a file it may not read. */
static int check_file(const char *path, spn_ledger_mode_t mode)
{
	char *dir;
	struct stat st;
	int rc = 0;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT && mode == SPN_LEDGER_CREATE)
			return 0;
		if (errno == ENOENT)
			return spn_err(SPN_ENOTFOUND,
				       "%s: no ledger here: no such file (is this the PSP's configuration?)", path);
		return spn_err(SPN_ELEDGER, "ledger %s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return spn_err(SPN_ELEDGER, "ledger %s is not a regular file", path);
	if (mode == SPN_LEDGER_CREATE)
		return st.st_size == 0 ? 0 : spn_err(SPN_EEXIST, "%s already exists; not making a ledger there", path);
	if (st.st_size == 0)
		return spn_err(SPN_ELEDGER, "ledger %s is an empty file, not a ledger (spnctl init makes one)", path);
	if (access(path, R_OK) != 0)
		return spn_err(SPN_ELEDGER, "cannot read ledger %s: %s", path, strerror(errno));
	if (mode != SPN_LEDGER_WRITE)
		return 0;
	if (access(path, W_OK) != 0)
		return spn_err(SPN_ELEDGER, "ledger %s is not writable (%s): the CA cannot record anything in it", path,
			       strerror(errno));
	/* SQLite keeps its -wal and -shm files next to the ledger. */
	if (!(dir = strdup(path)))
		return SPN_ENOMEM;
	if (access(dirname(dir), W_OK) != 0)
		rc = spn_err(SPN_ELEDGER, "the directory of ledger %s is not writable (%s): SQLite keeps its -wal and "
					  "-shm files there", path, strerror(errno));
	free(dir);
	return rc;
}

static void sqlite_close(spn_ldb_t *l);

static int sqlite_open(const char *path, const char *shown, spn_ledger_mode_t mode, spn_ldb_t **out)
{
	spn_ldb_t *l;
	int flags = SQLITE_OPEN_FULLMUTEX, rc;

	(void)shown;
	if ((rc = check_file(path, mode)))
		return rc;
	if (!(l = calloc(1, sizeof(*l))) || !(l->path = strdup(path))) {
		free(l);
		return SPN_ENOMEM;
	}
	pthread_mutex_init(&l->lock, NULL);
	flags |= mode == SPN_LEDGER_READ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	flags |= mode == SPN_LEDGER_CREATE ? SQLITE_OPEN_CREATE : 0;
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
		rc = db_err(l, "cannot open");
		sqlite_close(l);
		return rc;
	}
	sqlite3_busy_timeout(l->db, 10000);
	/* WAL + FULL: a committed issuance survives a crash or power loss. */
	if (mode != SPN_LEDGER_READ &&
	    (rc = exec_plain(l, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
			     "cannot configure"))) {
		sqlite_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

static void forget_statements(spn_ldb_t *l)
{
	for (size_t i = 0; i < l->n_kept; i++) {
		sqlite3_finalize(l->kept[i].st);
		free((char *)l->kept[i].sql);
	}
	l->n_kept = 0;
}

static void sqlite_close(spn_ldb_t *l)
{
	if (!l)
		return;
	forget_statements(l);
	pthread_mutex_destroy(&l->lock);
	sqlite3_close(l->db);
	free(l->path);
	free(l);
}

/* Copies what the connection holds into a new file next to the ledger's
 * path: a deleted ledger lives on only in the connection. */
static int rescue(spn_ldb_t *l, char *copy, size_t cap)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int fd, rc;

	snprintf(copy, cap, "%s.rescued-%lld", l->path, (long long)time(NULL));
	if ((fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return spn_err(SPN_EIO, "%s: %s", copy, strerror(errno));
	close(fd);
	if (sqlite3_open_v2(copy, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    !(b = sqlite3_backup_init(dst, "main", l->db, "main"))) {
		rc = spn_err(SPN_EIO, "%s: %s", copy, sqlite3_errmsg(dst));
	} else {
		sqlite3_backup_step(b, -1);
		rc = sqlite3_backup_finish(b) == SQLITE_OK ? 0 : spn_err(SPN_EIO, "%s: %s", copy, sqlite3_errmsg(dst));
	}
	sqlite3_close(dst);
	return rc;
}

/* The ledger file is no longer at its path: whatever is recorded from now
 * on would go with it, and be lost at close if it was deleted. Nothing more
 * is recorded; what is recorded is made whole in the file as it is now
 * (the -wal stays under the old name) and copied next to the path, and
 * the connection, which holds the -wal and -shm of the old name, closed. */
static void lose(spn_ldb_t *l)
{
	char copy[4096 + 32];
	int rc;

	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_wal_checkpoint_v2(l->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	rc = rescue(l, copy, sizeof(copy));
	spn_log_error("ledger %s was moved or deleted while in use: the CA records and issues nothing more until it is "
		      "started again with its ledger in place; what it recorded is in the file it had open%s%s%s",
		      l->path, rc ? " (no copy could be saved: " : " and in the copy ", rc ? spn_err_detail(rc) : copy,
		      rc ? ")" : "");
	forget_statements(l);
	sqlite3_close(l->db);
	l->db = NULL;
	l->lost = true;
}

/* Before a transaction begins and before it commits: the file this
 * connection writes is still the one at the ledger's path. */
static int in_place(spn_ldb_t *l)
{
	int moved = 0;

	if (!l->db)
		return db_err(l, "lost");
	if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || !moved)
		return 0;
	lose(l);
	return db_err(l, "lost");
}

static bool sqlite_active(spn_ldb_t *l)
{
	return l->db && !sqlite3_get_autocommit(l->db);
}

static int sqlite_begin(spn_ldb_t *l, unsigned depth)
{
	int rc;

	if (!depth && (rc = in_place(l)))
		return rc;
	return exec_plain(l, depth ? "SAVEPOINT nested" : "BEGIN IMMEDIATE", "cannot begin transaction");
}

static int sqlite_commit(spn_ldb_t *l, unsigned depth)
{
	int rc;

	if (depth <= 1 && (rc = in_place(l)))
		return rc;
	return exec_plain(l, depth > 1 ? "RELEASE nested" : "COMMIT", "cannot commit");
}

static void sqlite_rollback(spn_ldb_t *l, unsigned depth)
{
	if (!l->db)
		return;
	sqlite3_exec(l->db, depth > 1 ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK", NULL, NULL, NULL);
}

/* A compiled statement for sql, kept for next time when there is room;
 * give it back with release. */
static int prepare(spn_ldb_t *l, const char *sql, sqlite3_stmt **st)
{
	size_t i;

	if (!l->db)
		return db_err(l, "lost");
	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->n_kept; i++)
		if (!l->kept[i].busy && strcmp(l->kept[i].sql, sql) == 0) {
			l->kept[i].busy = true;
			*st = l->kept[i].st;
			pthread_mutex_unlock(&l->lock);
			return 0;
		}
	if (sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&l->lock);
		return db_err(l, "cannot prepare");
	}
	for (i = 0; i < l->n_kept && strcmp(l->kept[i].sql, sql) != 0; i++)
		;
	if (i == l->n_kept && i < KEPT && (l->kept[i].sql = strdup(sql))) {
		l->kept[i].st = *st;
		l->kept[i].busy = true;
		l->n_kept++;
	}
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static void release(spn_ldb_t *l, sqlite3_stmt *st)
{
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n_kept; i++)
		if (l->kept[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			l->kept[i].busy = false;
			pthread_mutex_unlock(&l->lock);
			return;
		}
	pthread_mutex_unlock(&l->lock);
	sqlite3_finalize(st);
}

/* Parameters are bound by name: "$2" may come before "$1" in a statement,
 * and SQLite numbers names in the order they first appear. */
static void bind(sqlite3_stmt *st, const spn_ldb_arg_t *args, int n)
{
	char name[16];

	for (int i = 0; i < n; i++) {
		int at;
		snprintf(name, sizeof(name), "$%d", i + 1);
		if (!(at = sqlite3_bind_parameter_index(st, name)))
			continue;
		if (args[i].is_num)
			sqlite3_bind_int64(st, at, args[i].num);
		else
			sqlite3_bind_text(st, at, args[i].text ? args[i].text : "", -1, SQLITE_TRANSIENT);
	}
}

static int sqlite_exec(spn_ldb_t *l, const char *sql, const spn_ldb_arg_t *args, int n, spn_ldb_rows_t **rows,
		       int64_t *changes)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, sql, &st)))
		return rc;
	bind(st, args, n);
	if (rows) {
		if (!(*rows = calloc(1, sizeof(**rows)))) {
			release(l, st);
			return SPN_ENOMEM;
		}
		(*rows)->l = l;
		(*rows)->st = st;
		return 0;
	}
	rc = sqlite3_step(st);
	release(l, st);
	if (changes)
		*changes = sqlite3_changes(l->db);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return SPN_EEXIST;
	return db_err(l, "statement");
}

static int sqlite_script(spn_ldb_t *l, const char *sql)
{
	return exec_plain(l, sql, "cannot create the schema");
}

static int sqlite_next(spn_ldb_rows_t *r)
{
	int rc = sqlite3_step(r->st);

	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_err(r->l, "reading");
}

static const char *sqlite_text(spn_ldb_rows_t *r, int col)
{
	const unsigned char *t = sqlite3_column_text(r->st, col);

	return t ? (const char *)t : "";
}

static int64_t sqlite_num(spn_ldb_rows_t *r, int col)
{
	return sqlite3_column_int64(r->st, col);
}

static void sqlite_end(spn_ldb_rows_t *r)
{
	if (!r)
		return;
	release(r->l, r->st);
	free(r);
}

static int sqlite_check(spn_ldb_t *l)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "PRAGMA integrity_check", &st)))
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0)
		rc = 0;
	else
		rc = spn_err(SPN_ELEDGER, "ledger %s fails its integrity check", l->path);
	release(l, st);
	return rc;
}

const spn_ldb_driver_t spn_ldb_sqlite = {
	.name = "SQLite",
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.script = sqlite_script,
	.next = sqlite_next,
	.text = sqlite_text,
	.num = sqlite_num,
	.end = sqlite_end,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.active = sqlite_active,
	.check = sqlite_check,
	.schema = schema,
};
