/* The ledger on SQLite. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "ledger.h"
#include "log.h"

/* Statements kept compiled: an issuance runs a dozen, and compiling them
 * again each time cost as much as running them. */
#define KEPT 32

struct spn_ledger {
	sqlite3 *db;     /* NULL once the file was lost */
	char *path;
	bool lost;       /* the file was moved or deleted: nothing more is recorded */
	unsigned depth;  /* open transactions; the inner ones are savepoints */
	pthread_mutex_t lock;  /* of kept[] only */
	struct {
		const char *sql;
		sqlite3_stmt *st;
		bool busy;  /* a statement is used by one caller at a time */
	} kept[KEPT];
	size_t n_kept;
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
	" serial TEXT NOT NULL DEFAULT '', node_id TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '');"
	"INSERT OR IGNORE INTO meta VALUES('schema', '1');"
	"INSERT OR IGNORE INTO meta VALUES('crl_number', '0');";

/* What a caller is told once the file is lost; the log has the paths. */
static int lost_err(void)
{
	return spn_err(SPN_ELEDGERLOST, "the CA's ledger was moved or deleted while in use: it records and issues "
					"nothing more until it is started again with its ledger in place (its log "
					"says where what it recorded is)");
}

static int db_err(spn_ledger_t *l, const char *what)
{
	if (l->lost)
		return lost_err();
	return spn_err(SPN_ELEDGER, "ledger %s: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

static int exec(spn_ledger_t *l, const char *sql, const char *what)
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

/* A database made by spnctl init, of the schema this code reads. */
static int check_schema(spn_ledger_t *l)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(l->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) != SQLITE_OK)
		return spn_err(SPN_ELEDGER, "%s is not a ledger: %s", l->path, sqlite3_errmsg(l->db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "1") == 0)
		rc = 0;
	else if (rc == SQLITE_ROW)
		rc = spn_err(SPN_ELEDGER, "ledger %s has schema %s; this spn reads schema 1", l->path,
			     (const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_DONE)
		rc = spn_err(SPN_ELEDGER, "%s is not a ledger: it records no schema", l->path);
	else
		rc = spn_err(SPN_ELEDGER, "cannot read ledger %s: %s", l->path, sqlite3_errmsg(l->db));
	sqlite3_finalize(st);
	return rc;
}

int spn_ledger_open(const char *path, spn_ledger_mode_t mode, spn_ledger_t **out)
{
	spn_ledger_t *l;
	int flags = SQLITE_OPEN_FULLMUTEX, rc;

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
		spn_ledger_close(l);
		return rc;
	}
	sqlite3_busy_timeout(l->db, 10000);
	/* WAL + FULL: a committed issuance survives a crash or power loss. */
	if (mode != SPN_LEDGER_READ &&
	    (rc = exec(l, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		       "cannot configure")))
		goto fail;
	if (mode == SPN_LEDGER_CREATE && (rc = exec(l, schema, "cannot create schema")))
		goto fail;
	if ((rc = check_schema(l)))
		goto fail;
	*out = l;
	return 0;
fail:
	spn_ledger_close(l);
	return rc;
}

static void forget_statements(spn_ledger_t *l)
{
	for (size_t i = 0; i < l->n_kept; i++) {
		sqlite3_finalize(l->kept[i].st);
		free((char *)l->kept[i].sql);
	}
	l->n_kept = 0;
}

void spn_ledger_close(spn_ledger_t *l)
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
static int rescue(spn_ledger_t *l, char *copy, size_t cap)
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
static void lose(spn_ledger_t *l)
{
	char copy[4096 + 32];
	int rc;

	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	l->depth = 0;
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
static int in_place(spn_ledger_t *l)
{
	int moved = 0;

	if (!l->db)
		return db_err(l, "lost");
	if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || !moved)
		return 0;
	lose(l);
	return db_err(l, "lost");
}

/* SQLite rolls a whole transaction back by itself on some errors (a full
 * disk, an I/O error): then there is nothing left to nest in or commit. */
static bool gone(spn_ledger_t *l)
{
	if (l->depth && (!l->db || sqlite3_get_autocommit(l->db))) {
		l->depth = 0;
		return true;
	}
	return false;
}

bool spn_ledger_active(spn_ledger_t *l)
{
	return l->db && !sqlite3_get_autocommit(l->db);
}

int spn_ledger_begin(spn_ledger_t *l)
{
	int rc;

	if (gone(l))
		return l->lost ? lost_err()
			       : spn_err(SPN_ELEDGER, "ledger %s: the enclosing transaction was rolled back", l->path);
	if (!l->depth && (rc = in_place(l)))
		return rc;
	if ((rc = exec(l, l->depth ? "SAVEPOINT nested" : "BEGIN IMMEDIATE", "cannot begin transaction")) == 0)
		l->depth++;
	return rc;
}

int spn_ledger_commit(spn_ledger_t *l)
{
	int rc;

	if (gone(l))
		return l->lost ? lost_err()
			       : spn_err(SPN_ELEDGER, "ledger %s: the transaction was rolled back", l->path);
	if (l->depth <= 1 && (rc = in_place(l)))
		return rc;
	/* Only the outermost commit reaches the disk. */
	if ((rc = exec(l, l->depth > 1 ? "RELEASE nested" : "COMMIT", "cannot commit")) == 0 && l->depth)
		l->depth--;
	return rc;
}

void spn_ledger_rollback(spn_ledger_t *l)
{
	if (gone(l) || !l->db)
		return;
	if (l->depth > 1)
		sqlite3_exec(l->db, "ROLLBACK TO nested; RELEASE nested", NULL, NULL, NULL);
	else
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	if (l->depth)
		l->depth--;
	gone(l);
}

/* A compiled statement for sql, kept for next time when there is room;
 * give it back with release. */
static int prepare(spn_ledger_t *l, const char *sql, sqlite3_stmt **st)
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

static void release(spn_ledger_t *l, sqlite3_stmt *st)
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

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* Steps a statement that returns no rows and finalises it. */
static int run(spn_ledger_t *l, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	release(l, st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return spn_err(SPN_EEXIST, "ledger: %s: already recorded", what);
	return db_err(l, what);
}

int spn_ledger_meta_get(spn_ledger_t *l, const char *key, char *buf, size_t cap)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "SELECT value FROM meta WHERE key = ?", &st)))
		return rc;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? spn_err(SPN_ENOTFOUND, "ledger: no '%s' recorded", key) : db_err(l, "meta");
	}
	release(l, st);
	return rc;
}

int spn_ledger_meta_set(spn_ledger_t *l, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "INSERT OR REPLACE INTO meta VALUES(?, ?)", &st)))
		return rc;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return run(l, st, "meta");
}

/* Records a token; with keep_existing a token already recorded (minted
 * here) is left as it is. */
static int token_insert(spn_ledger_t *l, const spn_ledger_token_t *t, time_t now, bool keep_existing)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l,
			  keep_existing ? "INSERT INTO tokens(id, node_id, minted_by, expires, minted_at) VALUES(?,?,?,?,?)"
					  " ON CONFLICT(id) DO NOTHING"
					: "INSERT INTO tokens(id, node_id, minted_by, expires, minted_at) VALUES(?,?,?,?,?)",
			  &st)))
		return rc;
	bind_text(st, 1, t->id);
	bind_text(st, 2, t->node_id);
	bind_text(st, 3, t->minted_by);
	sqlite3_bind_int64(st, 4, t->expires);
	sqlite3_bind_int64(st, 5, now);
	return run(l, st, "token");
}

int spn_ledger_token_add(spn_ledger_t *l, const spn_ledger_token_t *t, time_t now)
{
	return token_insert(l, t, now, false);
}

int spn_ledger_token_use(spn_ledger_t *l, const spn_ledger_token_t *t, const char *serial, time_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = token_insert(l, t, now, true)))
		return rc;
	if ((rc = prepare(l, "UPDATE tokens SET used_at = ?, used_by = ? WHERE id = ? AND used_at = 0", &st)))
		return rc;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, serial);
	bind_text(st, 3, t->id);
	if ((rc = run(l, st, "token")))
		return rc;
	if (sqlite3_changes(l->db) != 1)
		return spn_err(SPN_ETOKENUSED, "join token %s was already used", t->id);
	return 0;
}

int spn_ledger_cert_add(spn_ledger_t *l, const spn_ledger_cert_t *c)
{
	char svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "INSERT INTO certs(serial, node_id, grp, role, trust, services, parent, token_id,"
			     " not_before, not_after, issued_at, pem) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
			  &st)))
		return rc;
	bind_text(st, 1, c->serial);
	bind_text(st, 2, c->id.node_id);
	bind_text(st, 3, c->id.group);
	bind_text(st, 4, spn_role_name(c->id.role));
	sqlite3_bind_int(st, 5, (int)c->id.trust);
	bind_text(st, 6, spn_ident_services_str(&c->id, svc, sizeof(svc)));
	bind_text(st, 7, c->parent);
	bind_text(st, 8, c->token_id);
	sqlite3_bind_int64(st, 9, c->not_before);
	sqlite3_bind_int64(st, 10, c->not_after);
	sqlite3_bind_int64(st, 11, c->issued_at);
	bind_text(st, 12, c->pem);
	return run(l, st, "certificate");
}

#define CERT_COLS                                                                                          \
	"serial, node_id, grp, role, trust, services, parent, token_id, not_before, not_after, issued_at,"  \
	" status, reason, revoked_at, pem"

static void copy(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static int row_to_cert(sqlite3_stmt *st, spn_ledger_cert_t *c)
{
	memset(c, 0, sizeof(*c));
	copy(c->serial, sizeof(c->serial), sqlite3_column_text(st, 0));
	copy(c->id.node_id, sizeof(c->id.node_id), sqlite3_column_text(st, 1));
	copy(c->id.group, sizeof(c->id.group), sqlite3_column_text(st, 2));
	if (spn_role_parse((const char *)sqlite3_column_text(st, 3), &c->id.role) != 0)
		return spn_err(SPN_ELEDGER, "ledger: certificate %s has an unknown role", c->serial);
	c->id.trust = (unsigned)sqlite3_column_int(st, 4);
	if (spn_ident_set_services(&c->id, (const char *)sqlite3_column_text(st, 5)) != 0)
		return spn_err(SPN_ELEDGER, "ledger: certificate %s has bad services", c->serial);
	copy(c->parent, sizeof(c->parent), sqlite3_column_text(st, 6));
	copy(c->id.parent, sizeof(c->id.parent), sqlite3_column_text(st, 6));
	copy(c->token_id, sizeof(c->token_id), sqlite3_column_text(st, 7));
	c->not_before = (time_t)sqlite3_column_int64(st, 8);
	c->not_after = (time_t)sqlite3_column_int64(st, 9);
	c->issued_at = (time_t)sqlite3_column_int64(st, 10);
	c->status = (spn_cert_status_t)sqlite3_column_int(st, 11);
	c->reason = sqlite3_column_int(st, 12);
	c->revoked_at = (time_t)sqlite3_column_int64(st, 13);
	c->pem = strdup((const char *)sqlite3_column_text(st, 14));
	return c->pem ? 0 : SPN_ENOMEM;
}

static int one_cert(spn_ledger_t *l, sqlite3_stmt *st, spn_ledger_cert_t *c, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = row_to_cert(st, c);
	else if (rc == SQLITE_DONE)
		rc = spn_err(SPN_ENOTFOUND, "no certificate %s in the ledger", what);
	else
		rc = db_err(l, "certificate lookup");
	release(l, st);
	return rc;
}

int spn_ledger_cert_get(spn_ledger_t *l, const char *serial, spn_ledger_cert_t *c)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "SELECT " CERT_COLS " FROM certs WHERE serial = ?", &st)))
		return rc;
	bind_text(st, 1, serial);
	return one_cert(l, st, c, serial);
}

int spn_ledger_cert_current(spn_ledger_t *l, const char *node_id, time_t now, spn_ledger_cert_t *c)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "SELECT " CERT_COLS " FROM certs WHERE node_id = ? AND status = 0 AND not_after > ?"
			     " ORDER BY issued_at DESC, rowid DESC LIMIT 1",
			  &st)))
		return rc;
	bind_text(st, 1, node_id);
	sqlite3_bind_int64(st, 2, now);
	return one_cert(l, st, c, node_id);
}

void spn_ledger_cert_clear(spn_ledger_t *l, spn_ledger_cert_t *c)
{
	(void)l;
	free(c->pem);
	c->pem = NULL;
}

static int count(spn_ledger_t *l, const char *sql, const char *arg, time_t now, unsigned *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, sql, &st)))
		return rc;
	bind_text(st, 1, arg);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = (unsigned)sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = db_err(l, "count");
	}
	release(l, st);
	return rc;
}

int spn_ledger_node_in_use(spn_ledger_t *l, const char *node_id, time_t now, bool *in_use)
{
	unsigned n = 0;
	int rc = count(l, "SELECT COUNT(*) FROM certs WHERE node_id = ? AND status != 1 AND not_after > ?", node_id,
		       now, &n);

	*in_use = n > 0;
	return rc;
}

int spn_ledger_children(spn_ledger_t *l, const char *parent, time_t now, unsigned *n)
{
	return count(l,
		     "SELECT COUNT(DISTINCT node_id) FROM certs WHERE parent = ? AND status != 1 AND not_after > ?",
		     parent, now, n);
}

static int set_status(spn_ledger_t *l, const char *serial, const char *sql, int reason, time_t now,
		      const char *refusal)
{
	sqlite3_stmt *st;
	spn_ledger_cert_t c;
	int rc;

	if ((rc = spn_ledger_cert_get(l, serial, &c)))
		return rc;
	spn_ledger_cert_clear(l, &c);
	if ((rc = prepare(l, sql, &st)))
		return rc;
	sqlite3_bind_int(st, 1, reason);
	sqlite3_bind_int64(st, 2, now);
	bind_text(st, 3, serial);
	if ((rc = run(l, st, "status")))
		return rc;
	if (sqlite3_changes(l->db) != 1)
		return spn_err(SPN_ESTATE, "certificate %s %s", serial, refusal);
	return 0;
}

int spn_ledger_cert_revoke(spn_ledger_t *l, const char *serial, int reason, time_t now)
{
	return set_status(l, serial, "UPDATE certs SET status = 1, reason = ?1, revoked_at = ?2 WHERE serial = ?3 AND status != 1",
			  reason, now, "is already revoked");
}

int spn_ledger_cert_hold(spn_ledger_t *l, const char *serial, time_t now)
{
	return set_status(l, serial, "UPDATE certs SET status = 2, reason = ?1, revoked_at = ?2 WHERE serial = ?3 AND status = 0",
			  6, now, "is not valid (only a valid certificate can be put on hold)");
}

int spn_ledger_cert_release(spn_ledger_t *l, const char *serial, time_t now)
{
	/* The hold time stays recorded in the events; the row is valid again. */
	return set_status(l, serial, "UPDATE certs SET status = 0, reason = ?1, revoked_at = 0 * ?2 WHERE serial = ?3 AND status = 2",
			  0, now, "is not on hold");
}

static int each(spn_ledger_t *l, const char *sql, time_t now, bool all, spn_ledger_cert_fn fn, void *user)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, sql, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, now);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int(st, 2, all);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		spn_ledger_cert_t c;
		if ((rc = row_to_cert(st, &c)) == 0)
			rc = fn(&c, user);
		spn_ledger_cert_clear(l, &c);
		if (rc) {
			release(l, st);
			return rc;
		}
	}
	release(l, st);
	return rc == SQLITE_DONE ? 0 : db_err(l, "listing");
}

int spn_ledger_cert_each(spn_ledger_t *l, bool all, time_t now, spn_ledger_cert_fn fn, void *user)
{
	return each(l, "SELECT " CERT_COLS " FROM certs WHERE ?2 OR not_after > ?1 ORDER BY issued_at, rowid", now,
		    all, fn, user);
}

int spn_ledger_cert_each_revoked(spn_ledger_t *l, time_t now, spn_ledger_cert_fn fn, void *user)
{
	return each(l, "SELECT " CERT_COLS " FROM certs WHERE status != 0 AND not_after > ? ORDER BY revoked_at, rowid",
		    now, false, fn, user);
}

int spn_ledger_next_crl_number(spn_ledger_t *l, uint64_t published, uint64_t *out)
{
	char buf[32];
	sqlite3_stmt *st;
	uint64_t next;
	int rc;

	if ((rc = spn_ledger_meta_get(l, "crl_number", buf, sizeof(buf))))
		return rc;
	next = strtoull(buf, NULL, 10);
	next = (published > next ? published : next) + 1;
	if ((rc = prepare(l, "UPDATE meta SET value = ? WHERE key = 'crl_number'", &st)))
		return rc;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
	bind_text(st, 1, buf);
	if ((rc = run(l, st, "crl number")) == 0)
		*out = next;
	return rc;
}

int spn_ledger_event(spn_ledger_t *l, time_t now, const char *kind, const char *serial, const char *node_id,
		     const char *detail)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "INSERT INTO events(at, kind, serial, node_id, detail) VALUES(?,?,?,?,?)", &st)))
		return rc;
	sqlite3_bind_int64(st, 1, now);
	bind_text(st, 2, kind);
	bind_text(st, 3, serial);
	bind_text(st, 4, node_id);
	bind_text(st, 5, detail);
	return run(l, st, "event");
}

int spn_ledger_event_each(spn_ledger_t *l, spn_ledger_event_fn fn, void *user)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(l, "SELECT seq, at, kind, serial, node_id, detail FROM events ORDER BY seq", &st)))
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = fn(sqlite3_column_int64(st, 0), (time_t)sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
			(const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5), user);
		if (rc) {
			release(l, st);
			return rc;
		}
	}
	release(l, st);
	return rc == SQLITE_DONE ? 0 : db_err(l, "events");
}

int spn_ledger_check(spn_ledger_t *l)
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

const char *spn_cert_status_name(spn_cert_status_t s)
{
	switch (s) {
	case SPN_CERT_VALID: return "valid";
	case SPN_CERT_REVOKED: return "revoked";
	case SPN_CERT_HOLD: return "hold";
	}
	return "unknown";
}

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

int spn_crl_reason_parse(const char *s, int *out)
{
	for (int i = 0; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++) {
		if (reasons[i] && s && strcmp(s, reasons[i]) == 0 && i != 6 && i != 8) {
			*out = i;
			return 0;
		}
	}
	return spn_err(SPN_EINVAL,
		       "unknown revocation reason '%s' (unspecified, keyCompromise, cACompromise, affiliationChanged, "
		       "superseded, cessationOfOperation, privilegeWithdrawn, aACompromise; use hold for certificateHold)",
		       s ? s : "");
}

const char *spn_crl_reason_name(int reason)
{
	return reason >= 0 && reason < (int)(sizeof(reasons) / sizeof(reasons[0])) && reasons[reason]
		       ? reasons[reason]
		       : "unknown";
}
