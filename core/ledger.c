/* The ledger (ledger.h) over either backend (ledger_db.h): the checks and
 * records of the CA, each a statement both databases run alike. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ledger.h"
#include "ledger_db.h"

struct spn_ledger {
	const spn_ldb_driver_t *d;
	spn_ldb_t *db;
	char *where;     /* the file, or the URI without its password */
	unsigned depth;  /* open transactions; the inner ones are savepoints */
};

static const char seed[] = "INSERT INTO meta VALUES('schema', '" SPN_LDB_SCHEMA_VERSION "') ON CONFLICT(key) DO NOTHING";
static const char seed_crl[] = "INSERT INTO meta VALUES('crl_number', '0') ON CONFLICT(key) DO NOTHING";

bool spn_ledger_is_uri(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

static int exec(spn_ledger_t *l, const char *sql, const spn_ldb_arg_t *args, int n, int64_t *changes)
{
	return l->d->exec(l->db, sql, args, n, NULL, changes);
}

static int rows(spn_ledger_t *l, const char *sql, const spn_ldb_arg_t *args, int n, spn_ldb_rows_t **r)
{
	return l->d->exec(l->db, sql, args, n, r, NULL);
}

/* A database made by spnctl init, of the schema this code reads. */
static int check_schema(spn_ledger_t *l)
{
	char v[16];
	int rc = spn_ledger_meta_get(l, "schema", v, sizeof(v));

	if (rc == SPN_ENOTFOUND)
		return spn_err(SPN_ELEDGER, "%s is not a ledger: it records no schema", l->where);
	if (rc)
		return spn_err(SPN_ELEDGER, "%s is not a ledger: %s", l->where, spn_err_detail(rc));
	if (strcmp(v, SPN_LDB_SCHEMA_VERSION) != 0)
		return spn_err(SPN_ELEDGER, "ledger %s has schema %s; this spn reads schema " SPN_LDB_SCHEMA_VERSION,
			       l->where, v);
	return 0;
}

/* A URI's password stays out of every message. */
static char *shown(const char *where)
{
	const char *at = strchr(where, '@'), *colon, *start = strstr(where, "://");
	char *s;

	if (!spn_ledger_is_uri(where) || !at || !start || !(colon = memchr(start + 3, ':', (size_t)(at - start - 3))))
		return strdup(where);
	if (!(s = malloc(strlen(where) + 4)))
		return NULL;
	sprintf(s, "%.*s:***%s", (int)(colon - where), where, at);
	return s;
}

int spn_ledger_open(const char *where, spn_ledger_mode_t mode, spn_ledger_t **out)
{
	spn_ledger_t *l = calloc(1, sizeof(*l));
	int rc;

	if (!l || !(l->where = shown(where))) {
		free(l);
		return SPN_ENOMEM;
	}
	l->d = spn_ledger_is_uri(where) ? &spn_ldb_pg : &spn_ldb_sqlite;
	if ((rc = l->d->open(where, l->where, mode, &l->db))) {
		free(l->where);
		free(l);
		return rc;
	}
	if (mode == SPN_LEDGER_CREATE &&
	    ((rc = l->d->script(l->db, l->d->schema)) || (rc = exec(l, seed, NULL, 0, NULL)) ||
	     (rc = exec(l, seed_crl, NULL, 0, NULL))))
		rc = spn_err(rc, "ledger %s: cannot create its schema: %s", l->where, spn_err_detail(rc));
	if (rc == 0)
		rc = check_schema(l);
	if (rc) {
		spn_ledger_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void spn_ledger_close(spn_ledger_t *l)
{
	if (!l)
		return;
	l->d->close(l->db);
	free(l->where);
	free(l);
}

const char *spn_ledger_where(const spn_ledger_t *l)
{
	return l->where;
}

/* The database may end a transaction by itself (SQLite on some errors, a
 * PostgreSQL connection that dropped): then there is nothing left to nest
 * in or commit. */
static bool gone(spn_ledger_t *l)
{
	if (l->depth && !l->d->active(l->db)) {
		l->depth = 0;
		return true;
	}
	return false;
}

bool spn_ledger_active(spn_ledger_t *l)
{
	return l->d->active(l->db);
}

int spn_ledger_begin(spn_ledger_t *l)
{
	int rc;

	if (gone(l))
		return spn_err(SPN_ELEDGER, "ledger %s: the enclosing transaction was rolled back", l->where);
	if ((rc = l->d->begin(l->db, l->depth)) == 0)
		l->depth++;
	return rc;
}

int spn_ledger_commit(spn_ledger_t *l)
{
	int rc;

	if (gone(l))
		return spn_err(SPN_ELEDGER, "ledger %s: the transaction was rolled back", l->where);
	/* Only the outermost commit makes anything durable. */
	if ((rc = l->d->commit(l->db, l->depth)) == 0 && l->depth)
		l->depth--;
	return rc;
}

void spn_ledger_rollback(spn_ledger_t *l)
{
	if (gone(l))
		return;
	l->d->rollback(l->db, l->depth);
	if (l->depth)
		l->depth--;
	gone(l);
}

/* Runs a statement that changes rows; SPN_EEXIST said as what. */
static int change(spn_ledger_t *l, const char *sql, const spn_ldb_arg_t *args, int n, int64_t *changes,
		  const char *what)
{
	int rc = exec(l, sql, args, n, changes);

	if (rc == SPN_EEXIST)
		return spn_err(SPN_EEXIST, "ledger: %s: already recorded", what);
	return rc;
}

int spn_ledger_meta_get(spn_ledger_t *l, const char *key, char *buf, size_t cap)
{
	spn_ldb_arg_t a[] = {LDB_T(key)};
	spn_ldb_rows_t *r;
	int rc;

	if ((rc = rows(l, "SELECT value FROM meta WHERE key = $1", a, 1, &r)))
		return rc;
	if ((rc = l->d->next(r)) == 1) {
		snprintf(buf, cap, "%s", l->d->text(r, 0));
		rc = 0;
	} else if (rc == 0) {
		rc = spn_err(SPN_ENOTFOUND, "ledger: no '%s' recorded", key);
	}
	l->d->end(r);
	return rc;
}

int spn_ledger_meta_set(spn_ledger_t *l, const char *key, const char *value)
{
	spn_ldb_arg_t a[] = {LDB_T(key), LDB_T(value)};

	return change(l, "INSERT INTO meta VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", a, 2,
		      NULL, "meta");
}

/* Records a token; with keep_existing a token already recorded (minted
 * here) is left as it is. */
static int token_insert(spn_ledger_t *l, const spn_ledger_token_t *t, time_t now, bool keep_existing)
{
	spn_ldb_arg_t a[] = {LDB_T(t->id), LDB_T(t->node_id), LDB_T(t->minted_by), LDB_N(t->expires), LDB_N(now)};

	return change(l,
		      keep_existing ? "INSERT INTO tokens(id, node_id, minted_by, expires, minted_at) VALUES($1,$2,$3,$4,$5)"
				      " ON CONFLICT(id) DO NOTHING"
				    : "INSERT INTO tokens(id, node_id, minted_by, expires, minted_at) VALUES($1,$2,$3,$4,$5)",
		      a, 5, NULL, "token");
}

int spn_ledger_token_add(spn_ledger_t *l, const spn_ledger_token_t *t, time_t now)
{
	return token_insert(l, t, now, false);
}

int spn_ledger_token_use(spn_ledger_t *l, const spn_ledger_token_t *t, const char *serial, time_t now)
{
	spn_ldb_arg_t a[] = {LDB_N(now), LDB_T(serial), LDB_T(t->id)};
	int64_t changed = 0;
	int rc;

	if ((rc = token_insert(l, t, now, true)))
		return rc;
	/* One row changes or none: two issuers with one token cannot both
	 * see it unused, whichever database decides. */
	if ((rc = change(l, "UPDATE tokens SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at = 0", a, 3, &changed,
			 "token")))
		return rc;
	if (changed != 1)
		return spn_err(SPN_ETOKENUSED, "join token %s was already used", t->id);
	return 0;
}

int spn_ledger_cert_add(spn_ledger_t *l, const spn_ledger_cert_t *c)
{
	char svc[SPN_SERVICES_MAX * (SPN_SERVICE_MAX + 1) + 1];
	spn_ldb_arg_t a[] = {LDB_T(c->serial), LDB_T(c->id.node_id), LDB_T(c->id.group), LDB_T(spn_role_name(c->id.role)),
			     LDB_N(c->id.trust), LDB_T(spn_ident_services_str(&c->id, svc, sizeof(svc))),
			     LDB_T(c->parent), LDB_T(c->token_id), LDB_N(c->not_before), LDB_N(c->not_after),
			     LDB_N(c->issued_at), LDB_T(c->pem)};
	int64_t changed = 0;
	int rc;

	/* A taken serial changes nothing rather than failing: on PostgreSQL
	 * a failed statement would end the whole transaction. */
	if ((rc = change(l, "INSERT INTO certs(serial, node_id, grp, role, trust, services, parent, token_id,"
			    " not_before, not_after, issued_at, pem) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
			    " ON CONFLICT(serial) DO NOTHING",
			 a, 12, &changed, "certificate")))
		return rc;
	return changed == 1 ? 0 : spn_err(SPN_EEXIST, "ledger: certificate %s: already recorded", c->serial);
}

#define CERT_COLS                                                                                          \
	"serial, node_id, grp, role, trust, services, parent, token_id, not_before, not_after, issued_at,"  \
	" status, reason, revoked_at, pem"

static int row_to_cert(spn_ledger_t *l, spn_ldb_rows_t *r, spn_ledger_cert_t *c)
{
	const spn_ldb_driver_t *d = l->d;

	memset(c, 0, sizeof(*c));
	snprintf(c->serial, sizeof(c->serial), "%s", d->text(r, 0));
	snprintf(c->id.node_id, sizeof(c->id.node_id), "%s", d->text(r, 1));
	snprintf(c->id.group, sizeof(c->id.group), "%s", d->text(r, 2));
	if (spn_role_parse(d->text(r, 3), &c->id.role) != 0)
		return spn_err(SPN_ELEDGER, "ledger: certificate %s has an unknown role", c->serial);
	c->id.trust = (unsigned)d->num(r, 4);
	if (spn_ident_set_services(&c->id, d->text(r, 5)) != 0)
		return spn_err(SPN_ELEDGER, "ledger: certificate %s has bad services", c->serial);
	snprintf(c->parent, sizeof(c->parent), "%s", d->text(r, 6));
	snprintf(c->id.parent, sizeof(c->id.parent), "%s", d->text(r, 6));
	snprintf(c->token_id, sizeof(c->token_id), "%s", d->text(r, 7));
	c->not_before = (time_t)d->num(r, 8);
	c->not_after = (time_t)d->num(r, 9);
	c->issued_at = (time_t)d->num(r, 10);
	c->status = (spn_cert_status_t)d->num(r, 11);
	c->reason = (int)d->num(r, 12);
	c->revoked_at = (time_t)d->num(r, 13);
	c->pem = strdup(d->text(r, 14));
	return c->pem ? 0 : SPN_ENOMEM;
}

static int one_cert(spn_ledger_t *l, const char *sql, const spn_ldb_arg_t *a, int n, spn_ledger_cert_t *c,
		    const char *what)
{
	spn_ldb_rows_t *r;
	int rc;

	if ((rc = rows(l, sql, a, n, &r)))
		return rc;
	if ((rc = l->d->next(r)) == 1)
		rc = row_to_cert(l, r, c);
	else if (rc == 0)
		rc = spn_err(SPN_ENOTFOUND, "no certificate %s in the ledger", what);
	l->d->end(r);
	return rc;
}

int spn_ledger_cert_get(spn_ledger_t *l, const char *serial, spn_ledger_cert_t *c)
{
	spn_ldb_arg_t a[] = {LDB_T(serial)};

	return one_cert(l, "SELECT " CERT_COLS " FROM certs WHERE serial = $1", a, 1, c, serial);
}

/* Certificates in the order they were recorded: the backend's column for
 * it (SQLite's rowid, PostgreSQL's seq). */
#define ORDERED(sqlite, pg) (l->d == &spn_ldb_pg ? (pg) : (sqlite))

int spn_ledger_cert_current(spn_ledger_t *l, const char *node_id, time_t now, spn_ledger_cert_t *c)
{
	spn_ldb_arg_t a[] = {LDB_T(node_id), LDB_N(now)};

	return one_cert(l,
			ORDERED("SELECT " CERT_COLS " FROM certs WHERE node_id = $1 AND status = 0 AND not_after > $2"
				" ORDER BY issued_at DESC, rowid DESC LIMIT 1",
				"SELECT " CERT_COLS " FROM certs WHERE node_id = $1 AND status = 0 AND not_after > $2"
				" ORDER BY issued_at DESC, seq DESC LIMIT 1"),
			a, 2, c, node_id);
}

void spn_ledger_cert_clear(spn_ledger_t *l, spn_ledger_cert_t *c)
{
	(void)l;
	free(c->pem);
	c->pem = NULL;
}

static int count(spn_ledger_t *l, const char *sql, const char *arg, time_t now, unsigned *out)
{
	spn_ldb_arg_t a[] = {LDB_T(arg), LDB_N(now)};
	spn_ldb_rows_t *r;
	int rc;

	if ((rc = rows(l, sql, a, 2, &r)))
		return rc;
	if ((rc = l->d->next(r)) == 1) {
		*out = (unsigned)l->d->num(r, 0);
		rc = 0;
	} else if (rc == 0) {
		rc = spn_err(SPN_ELEDGER, "ledger %s: a count gave no row", l->where);
	}
	l->d->end(r);
	return rc;
}

int spn_ledger_node_in_use(spn_ledger_t *l, const char *node_id, time_t now, bool *in_use)
{
	unsigned n = 0;
	int rc = count(l, "SELECT COUNT(*) FROM certs WHERE node_id = $1 AND status != 1 AND not_after > $2", node_id,
		       now, &n);

	*in_use = n > 0;
	return rc;
}

int spn_ledger_children(spn_ledger_t *l, const char *parent, time_t now, unsigned *n)
{
	return count(l,
		     "SELECT COUNT(DISTINCT node_id) FROM certs WHERE parent = $1 AND status != 1 AND not_after > $2",
		     parent, now, n);
}

static int set_status(spn_ledger_t *l, const char *serial, const char *sql, int reason, time_t now,
		      const char *refusal)
{
	spn_ldb_arg_t a[] = {LDB_N(reason), LDB_N(now), LDB_T(serial)};
	spn_ledger_cert_t c;
	int64_t changed = 0;
	int rc;

	if ((rc = spn_ledger_cert_get(l, serial, &c)))
		return rc;
	spn_ledger_cert_clear(l, &c);
	if ((rc = change(l, sql, a, 3, &changed, "status")))
		return rc;
	if (changed != 1)
		return spn_err(SPN_ESTATE, "certificate %s %s", serial, refusal);
	return 0;
}

int spn_ledger_cert_revoke(spn_ledger_t *l, const char *serial, int reason, time_t now)
{
	return set_status(l, serial,
			  "UPDATE certs SET status = 1, reason = $1, revoked_at = $2 WHERE serial = $3 AND status != 1",
			  reason, now, "is already revoked");
}

int spn_ledger_cert_hold(spn_ledger_t *l, const char *serial, time_t now)
{
	return set_status(l, serial,
			  "UPDATE certs SET status = 2, reason = $1, revoked_at = $2 WHERE serial = $3 AND status = 0", 6,
			  now, "is not valid (only a valid certificate can be put on hold)");
}

int spn_ledger_cert_release(spn_ledger_t *l, const char *serial, time_t now)
{
	/* The hold time stays recorded in the events; the row is valid again. */
	return set_status(l, serial,
			  "UPDATE certs SET status = 0, reason = $1, revoked_at = 0 * $2 WHERE serial = $3 AND status = 2",
			  0, now, "is not on hold");
}

static int each(spn_ledger_t *l, const char *sql, const spn_ldb_arg_t *a, int n, spn_ledger_cert_fn fn, void *user)
{
	spn_ldb_rows_t *r;
	int rc;

	if ((rc = rows(l, sql, a, n, &r)))
		return rc;
	while ((rc = l->d->next(r)) == 1) {
		spn_ledger_cert_t c;
		if ((rc = row_to_cert(l, r, &c)) == 0)
			rc = fn(&c, user);
		spn_ledger_cert_clear(l, &c);
		if (rc)
			break;
	}
	l->d->end(r);
	return rc;
}

int spn_ledger_cert_each(spn_ledger_t *l, bool all, time_t now, spn_ledger_cert_fn fn, void *user)
{
	spn_ldb_arg_t a[] = {LDB_N(now), LDB_N(all)};

	return each(l,
		    ORDERED("SELECT " CERT_COLS " FROM certs WHERE $2 <> 0 OR not_after > $1 ORDER BY issued_at, rowid",
			    "SELECT " CERT_COLS " FROM certs WHERE $2 <> 0 OR not_after > $1 ORDER BY issued_at, seq"),
		    a, 2, fn, user);
}

int spn_ledger_cert_each_revoked(spn_ledger_t *l, time_t now, spn_ledger_cert_fn fn, void *user)
{
	spn_ldb_arg_t a[] = {LDB_N(now)};

	return each(l,
		    ORDERED("SELECT " CERT_COLS " FROM certs WHERE status != 0 AND not_after > $1 ORDER BY revoked_at, rowid",
			    "SELECT " CERT_COLS " FROM certs WHERE status != 0 AND not_after > $1 ORDER BY revoked_at, seq"),
		    a, 1, fn, user);
}

int spn_ledger_next_crl_number(spn_ledger_t *l, uint64_t published, uint64_t *out)
{
	char buf[32];
	uint64_t next;
	int rc;

	/* In the caller's transaction, which holds the writers' lock: two
	 * PSPs never draw one number, and the number never goes back. */
	if ((rc = spn_ledger_meta_get(l, "crl_number", buf, sizeof(buf))))
		return rc;
	next = strtoull(buf, NULL, 10);
	next = (published > next ? published : next) + 1;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)next);
	{
		spn_ldb_arg_t a[] = {LDB_T(buf)};
		if ((rc = change(l, "UPDATE meta SET value = $1 WHERE key = 'crl_number'", a, 1, NULL, "crl number")) == 0)
			*out = next;
	}
	return rc;
}

int spn_ledger_event(spn_ledger_t *l, time_t now, const char *kind, const char *serial, const char *node_id,
		     const char *detail)
{
	spn_ldb_arg_t a[] = {LDB_N(now), LDB_T(kind), LDB_T(serial), LDB_T(node_id), LDB_T(detail)};

	return change(l, "INSERT INTO events(at, kind, serial, node_id, detail) VALUES($1,$2,$3,$4,$5)", a, 5, NULL,
		      "event");
}

int spn_ledger_event_each(spn_ledger_t *l, spn_ledger_event_fn fn, void *user)
{
	spn_ldb_rows_t *r;
	int rc;

	if ((rc = rows(l, "SELECT seq, at, kind, serial, node_id, detail FROM events ORDER BY seq", NULL, 0, &r)))
		return rc;
	while ((rc = l->d->next(r)) == 1)
		if ((rc = fn(l->d->num(r, 0), (time_t)l->d->num(r, 1), l->d->text(r, 2), l->d->text(r, 3),
			     l->d->text(r, 4), l->d->text(r, 5), user)))
			break;
	l->d->end(r);
	return rc;
}

/* PostgreSQL's clock, in milliseconds: every PSP reads the same one. */
#define PG_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

int spn_ledger_lease(spn_ledger_t *l, const char *holder, unsigned long ms, bool *held, char *who, size_t cap)
{
	spn_ldb_arg_t a[] = {LDB_T(holder), LDB_N(ms)};
	spn_ldb_rows_t *r;
	int rc;

	*held = true;
	snprintf(who, cap, "%s", holder);
	/* One SQLite file has one PSP: nobody to share with. */
	if (l->d != &spn_ldb_pg)
		return 0;
	/* Taken when free or expired, by the database's clock; kept by its
	 * holder. */
	if ((rc = exec(l,
		       "INSERT INTO lease VALUES('psp', $1, " PG_NOW_MS " + $2) ON CONFLICT(name) DO UPDATE"
		       " SET holder = excluded.holder, until_ms = excluded.until_ms"
		       " WHERE lease.holder = excluded.holder OR lease.until_ms < " PG_NOW_MS,
		       a, 2, NULL)) ||
	    (rc = rows(l, "SELECT holder FROM lease WHERE name = 'psp'", NULL, 0, &r)))
		return rc;
	if ((rc = l->d->next(r)) == 1) {
		snprintf(who, cap, "%s", l->d->text(r, 0));
		*held = strcmp(who, holder) == 0;
		rc = 0;
	} else if (rc == 0) {
		rc = spn_err(SPN_ELEDGER, "ledger %s: the lease row is missing", l->where);
	}
	l->d->end(r);
	return rc;
}

int spn_ledger_revocations(spn_ledger_t *l, char *mark, size_t cap)
{
	spn_ldb_rows_t *r;
	int rc;

	if ((rc = rows(l, "SELECT COUNT(*), COALESCE(SUM(status), 0), COALESCE(MAX(revoked_at), 0) FROM certs"
			  " WHERE status != 0",
		       NULL, 0, &r)))
		return rc;
	if ((rc = l->d->next(r)) == 1) {
		snprintf(mark, cap, "%lld:%lld:%lld", (long long)l->d->num(r, 0), (long long)l->d->num(r, 1),
			 (long long)l->d->num(r, 2));
		rc = 0;
	}
	l->d->end(r);
	return rc;
}

bool spn_ledger_shared(const spn_ledger_t *l)
{
	return l->d == &spn_ldb_pg;
}

int spn_ledger_check(spn_ledger_t *l)
{
	return l->d->check(l->db);
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
