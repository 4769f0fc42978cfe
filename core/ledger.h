/* The PSP's ledger: every certificate issued, revoked, held and released,
 * and every join token, in SQLite (WAL, synchronous=FULL; the embedded
 * default) or PostgreSQL (a postgresql:// URI: for two PSPs, and a ledger
 * that outlives its machine), so that it survives a crash at any point. A
 * certificate is handed out only after the transaction that records it has
 * committed; serials are a primary key and rows are never deleted, so a
 * serial is never reused. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ident.h"
#include "pki_cert.h"

typedef struct spn_ledger spn_ledger_t;

typedef enum {
	SPN_CERT_VALID = 0,
	SPN_CERT_REVOKED = 1,
	SPN_CERT_HOLD = 2,
} spn_cert_status_t;

typedef struct {
	char serial[SPN_SERIAL_HEX];
	spn_ident_t id;
	char parent[SPN_NAME_MAX + 1]; /* node that accepted it; "" for the PSP */
	char token_id[48];    /* the join token, or "renew:<serial>" */
	time_t not_before, not_after, issued_at, revoked_at;
	spn_cert_status_t status;
	int reason; /* RFC 5280 CRLReason when revoked or held */
	char *pem;  /* owned; freed by spn_ledger_cert_clear */
} spn_ledger_cert_t;

typedef struct {
	char id[33];
	char node_id[SPN_NAME_MAX + 1];
	char minted_by[SPN_NAME_MAX + 1];
	time_t expires;
} spn_ledger_token_t;

/* How a ledger is opened: READ for the commands that only look (SQLite
 * read-only: nothing is written, not even the schema), WRITE for the CA,
 * CREATE for spnctl init (a missing or empty file only). READ and WRITE
 * refuse, saying why, a missing, empty, unreadable (or for WRITE,
 * unwritable) file and anything that is not a ledger of this schema. */
typedef enum {
	SPN_LEDGER_READ,
	SPN_LEDGER_WRITE,
	SPN_LEDGER_CREATE,
} spn_ledger_mode_t;

/* A ledger moved or deleted while open takes what is recorded afterwards
 * with it. So every transaction, before it begins and before it commits,
 * checks that the file is still the one at path; once it is not, nothing
 * more is recorded (SPN_ELEDGER, saying so), and what was recorded is made
 * whole in the file it had open and copied to path.rescued-<time>. Write
 * inside transactions only: a statement on its own is not checked. */
int spn_ledger_open(const char *where, spn_ledger_mode_t mode, spn_ledger_t **out);
void spn_ledger_close(spn_ledger_t *l);
/* Whether where is a PostgreSQL URI (postgresql://, postgres://) rather
 * than a file. */
bool spn_ledger_is_uri(const char *where);
/* Where the ledger is, as messages may show it (no password). */
const char *spn_ledger_where(const spn_ledger_t *l);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (on PostgreSQL, BEGIN with a
 * transaction-scoped advisory lock that every PSP of the group takes):
 * issuance checks and the insert happen in one transaction, so two issuers
 * cannot both pass the same check.
 * Transactions nest: an inner one is a savepoint, released or rolled back
 * alone, and only the outermost COMMIT makes anything durable (several
 * issuances then share one fsync: node_issue.c). */
int spn_ledger_begin(spn_ledger_t *l);
int spn_ledger_commit(spn_ledger_t *l);
void spn_ledger_rollback(spn_ledger_t *l);
/* Whether a transaction is open: SQLite rolls one back by itself on some
 * errors, savepoints and all. */
bool spn_ledger_active(spn_ledger_t *l);

/* Group name and other settings recorded at init, copied into buf. */
int spn_ledger_meta_get(spn_ledger_t *l, const char *key, char *buf, size_t cap);
int spn_ledger_meta_set(spn_ledger_t *l, const char *key, const char *value);

/* Records a minted token (unused). */
int spn_ledger_token_add(spn_ledger_t *l, const spn_ledger_token_t *t, time_t now);
/* Marks a token used by serial: SPN_ETOKENUSED if it already was. Tokens
 * minted elsewhere (by an admin) are recorded here at first use. */
int spn_ledger_token_use(spn_ledger_t *l, const spn_ledger_token_t *t, const char *serial, time_t now);

/* Adds an issued certificate; SPN_EEXIST if the serial is taken. */
int spn_ledger_cert_add(spn_ledger_t *l, const spn_ledger_cert_t *c);
/* Looks up by serial; SPN_ENOTFOUND if unknown. Clear with spn_ledger_cert_clear. */
int spn_ledger_cert_get(spn_ledger_t *l, const char *serial, spn_ledger_cert_t *c);
/* The newest valid, unexpired certificate of node_id; SPN_ENOTFOUND if none. */
int spn_ledger_cert_current(spn_ledger_t *l, const char *node_id, time_t now, spn_ledger_cert_t *c);
void spn_ledger_cert_clear(spn_ledger_t *l, spn_ledger_cert_t *c);

/* Whether node_id holds a certificate that is unexpired and not revoked. */
int spn_ledger_node_in_use(spn_ledger_t *l, const char *node_id, time_t now, bool *in_use);
/* Distinct nodes with unexpired, unrevoked certificates accepted by parent. */
int spn_ledger_children(spn_ledger_t *l, const char *parent, time_t now, unsigned *count);

/* Changes status: revoke (final), hold, release (from hold only). */
int spn_ledger_cert_revoke(spn_ledger_t *l, const char *serial, int reason, time_t now);
int spn_ledger_cert_hold(spn_ledger_t *l, const char *serial, time_t now);
int spn_ledger_cert_release(spn_ledger_t *l, const char *serial, time_t now);

typedef int (*spn_ledger_cert_fn)(const spn_ledger_cert_t *c, void *user);
/* Calls fn for every certificate (all = true) or only the unexpired ones,
 * oldest first; stops at fn's first non-zero return and returns it. */
int spn_ledger_cert_each(spn_ledger_t *l, bool all, time_t now, spn_ledger_cert_fn fn, void *user);
/* Revoked and held certificates not yet expired, for the CRL. */
int spn_ledger_cert_each_revoked(spn_ledger_t *l, time_t now, spn_ledger_cert_fn fn, void *user);

/* The next CRL number, recorded: above both the last one recorded and
 * published, the number of the CRL already published (a ledger restored
 * from a backup must not number backwards). In the caller's transaction. */
int spn_ledger_next_crl_number(spn_ledger_t *l, uint64_t published, uint64_t *out);

/* Appends to the audit trail. */
int spn_ledger_event(spn_ledger_t *l, time_t now, const char *kind, const char *serial,
		     const char *node_id, const char *detail);
typedef int (*spn_ledger_event_fn)(int64_t seq, time_t at, const char *kind, const char *serial,
				   const char *node_id, const char *detail, void *user);
int spn_ledger_event_each(spn_ledger_t *l, spn_ledger_event_fn fn, void *user);

/* Whether the ledger may be shared by two PSPs (PostgreSQL). */
bool spn_ledger_shared(const spn_ledger_t *l);

/* The group's lease on being the active PSP, for ms from now by the
 * database's clock: taken when nobody holds it or it ran out, renewed by
 * its holder. *held says whether holder has it; who is the holder. A
 * ledger that cannot be shared (SQLite) is always held. */
int spn_ledger_lease(spn_ledger_t *l, const char *holder, unsigned long ms, bool *held, char *who, size_t cap);

/* A mark that changes whenever a certificate is revoked, held or released,
 * by any PSP or spnctl: the active PSP signs a new CRL when it does. */
int spn_ledger_revocations(spn_ledger_t *l, char *mark, size_t cap);

/* Runs the database's own check (SQLite's integrity check; PostgreSQL's
 * answer and the schema); 0 when it is sound. */
int spn_ledger_check(spn_ledger_t *l);

const char *spn_cert_status_name(spn_cert_status_t s);
/* RFC 5280 CRLReason names ("keyCompromise") and codes. */
int spn_crl_reason_parse(const char *s, int *out);
const char *spn_crl_reason_name(int reason);
