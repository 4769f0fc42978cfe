/* bank: authorises a payment a member of the group asks for on a patient's
 * behalf, against the bank details the patient wrote for the bank alone
 * (they travel through the other services unread): the IBAN must check
 * out, the holder match the account, the amount stay within what the
 * patient allowed and the balance. Its accounts and every decision are in
 * its own SQLite file; one message id is paid at most once. */
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plug.h"

static const char *const services[] = {"bank", NULL};

static const spn_plugin_opt_t options[] = {
	{"accounts", SPN_OPT_PATH, "bank.db", 0, 0, "the SQLite file of accounts and payments"},
	{"seed", SPN_OPT_STRING, "", 0, 0, "accounts to create when missing: IBAN:holder:balance, comma-separated"},
	{"verified_payers", SPN_OPT_BOOL, "true", 0, 0, "take bank details only from clients with a certificate"},
	{NULL, 0, NULL, 0, 0, NULL},
};

typedef struct {
	sqlite3 *db;
} bank_t;

/* ISO 13616: the check digits make the rearranged number 1 modulo 97. */
static bool iban_is_valid(const char *iban)
{
	size_t n = strlen(iban);
	unsigned rem = 0;

	if (n < 15 || n > 34 || !isupper((unsigned char)iban[0]) || !isupper((unsigned char)iban[1]) ||
	    !isdigit((unsigned char)iban[2]) || !isdigit((unsigned char)iban[3]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = iban[(i + 4) % n];
		if (isdigit((unsigned char)c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else if (isupper((unsigned char)c))
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return false;
	}
	return rem == 1;
}

static int exec(bank_t *b, const char *sql)
{
	return sqlite3_exec(b->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int seed(spn_plugin_ctx_t *ctx, bank_t *b)
{
	char *copy = strdup(spn_plugin_opt(ctx, "seed")), *save = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (!copy || sqlite3_prepare_v2(b->db, "INSERT OR IGNORE INTO accounts(iban, holder, balance) VALUES (?, ?, ?)",
					-1, &st, NULL) != SQLITE_OK) {
		free(copy);
		return -1;
	}
	for (char *e = strtok_r(copy, ",", &save); e && rc == 0; e = strtok_r(NULL, ",", &save)) {
		char *iban = e + strspn(e, " "), *holder = strchr(iban, ':'), *bal = holder ? strchr(holder + 1, ':') : NULL;
		int64_t cents;
		if (!holder || !bal || (*holder = *bal = '\0') || !iban_is_valid(iban) || !plug_cents(bal + 1, &cents)) {
			spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "seed: '%s' is not IBAN:holder:balance with a valid IBAN", e);
			rc = -1;
			break;
		}
		sqlite3_bind_text(st, 1, iban, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, holder + 1, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, cents);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	free(copy);
	return rc;
}

static int init(spn_plugin_ctx_t *ctx)
{
	bank_t *b = calloc(1, sizeof(*b));
	const char *path = spn_plugin_opt(ctx, "accounts");

	if (!b)
		return -1;
	if (sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(b->db, 5000) != SQLITE_OK ||
	    exec(b, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		    "CREATE TABLE IF NOT EXISTS accounts(iban TEXT PRIMARY KEY, holder TEXT NOT NULL,"
		    " balance INTEGER NOT NULL CHECK (balance >= 0));"
		    "CREATE TABLE IF NOT EXISTS payments(mid TEXT NOT NULL, iban TEXT, payee TEXT NOT NULL, amount INTEGER,"
		    " status TEXT NOT NULL, reason TEXT, ref INTEGER NOT NULL, at INTEGER NOT NULL,"
		    " PRIMARY KEY (mid, payee));") ||
	    seed(ctx, b)) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_ERROR, "cannot open the accounts in %s: %s", path,
			       b->db ? sqlite3_errmsg(b->db) : "out of memory");
		sqlite3_close(b->db);
		free(b);
		return -1;
	}
	spn_plugin_set_state(ctx, b);
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "accounts in %s", path);
	return 0;
}

static void fini(spn_plugin_ctx_t *ctx)
{
	bank_t *b = spn_plugin_state(ctx);

	if (b) {
		sqlite3_close(b->db);
		free(b);
	}
}

static json_object *decision(const char *status, const char *reason, int64_t cents, const char *payee, int64_t ref,
			     bool again)
{
	json_object *o = json_object_new_object();
	char amount[32];

	json_object_object_add(o, "status", json_object_new_string(status));
	if (reason && *reason)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "amount", json_object_new_string(plug_amount(cents, amount)));
	json_object_object_add(o, "payee", json_object_new_string(payee));
	json_object_object_add(o, "ref", json_object_new_int64(ref));
	if (again)
		json_object_object_add(o, "already_decided", json_object_new_boolean(true));
	return o;
}

/* A message id decided before for this payee: the same decision, nothing
 * paid again. Another payee asking with the same id learns nothing of it. */
static json_object *decided(bank_t *b, const char *mid, const char *payee)
{
	sqlite3_stmt *st = NULL;
	json_object *o = NULL;

	if (sqlite3_prepare_v2(b->db, "SELECT status, reason, amount, payee, ref FROM payments WHERE mid = ? AND payee = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, mid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, payee, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = decision((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
			     sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3),
			     sqlite3_column_int64(st, 4), true);
	sqlite3_finalize(st);
	return o;
}

/* Decides and records in one transaction: a crash leaves either nothing or
 * the whole decision. */
static json_object *decide(spn_plugin_ctx_t *ctx, bank_t *b, const char *mid, const char *iban, const char *holder,
			   int64_t max, const char *payee, int64_t cents)
{
	sqlite3_stmt *st = NULL;
	const char *status = "authorised";
	char reason[200] = "", have[32], want[32];
	int64_t balance = -1, ref;

	if (exec(b, "BEGIN IMMEDIATE"))
		return NULL;
	if (sqlite3_prepare_v2(b->db, "SELECT holder, balance FROM accounts WHERE iban = ?", -1, &st, NULL) != SQLITE_OK) {
		exec(b, "ROLLBACK");
		return NULL;
	}
	sqlite3_bind_text(st, 1, iban, -1, SQLITE_TRANSIENT);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (strcasecmp((const char *)sqlite3_column_text(st, 0), holder) != 0)
			snprintf(reason, sizeof(reason), "the holder's name does not match the account");
		balance = sqlite3_column_int64(st, 1);
		break;
	case SQLITE_DONE:
		snprintf(reason, sizeof(reason), "no such account");
		break;
	default:
		/* Not knowing is not a refusal to record: nothing is. */
		sqlite3_finalize(st);
		exec(b, "ROLLBACK");
		return NULL;
	}
	sqlite3_finalize(st);
	if (!reason[0] && cents > max)
		snprintf(reason, sizeof(reason), "%s is more than the %s the patient allowed", plug_amount(cents, want),
			 plug_amount(max, have));
	if (!reason[0] && balance < cents)
		snprintf(reason, sizeof(reason), "insufficient funds (asked %s)", plug_amount(cents, want));
	if (reason[0])
		status = "refused";
	else if (sqlite3_prepare_v2(b->db, "UPDATE accounts SET balance = balance - ? WHERE iban = ?", -1, &st, NULL) !=
		 SQLITE_OK ||
		 sqlite3_bind_int64(st, 1, cents) || sqlite3_bind_text(st, 2, iban, -1, SQLITE_TRANSIENT) ||
		 sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		exec(b, "ROLLBACK");
		return NULL;
	} else {
		sqlite3_finalize(st);
	}
	ref = 0;
	if (sqlite3_prepare_v2(b->db,
			       "INSERT INTO payments(mid, iban, payee, amount, status, reason, ref, at)"
			       " VALUES (?, ?, ?, ?, ?, ?, (SELECT COUNT(*) + 1 FROM payments), strftime('%s','now'))"
			       " RETURNING ref",
			       -1, &st, NULL) != SQLITE_OK) {
		exec(b, "ROLLBACK");
		return NULL;
	}
	sqlite3_bind_text(st, 1, mid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, iban, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, payee, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, cents);
	sqlite3_bind_text(st, 5, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		ref = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!ref || exec(b, "COMMIT")) {
		exec(b, "ROLLBACK");
		return NULL;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "payment %lld for message %s: %s %s from %s to %s%s%s", (long long)ref,
		       mid, status, plug_amount(cents, want), iban, payee, reason[0] ? ": " : "", reason);
	return decision(status, reason, cents, payee, ref, false);
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	bank_t *b = spn_plugin_state(ctx);
	size_t len, alen;
	const uint8_t *d = spn_request_data(req, &len), *a;
	json_object *in = NULL, *details = NULL, *out = NULL;
	const char *patient, *payee, *amount, *iban, *holder, *max_s, *bound = NULL;
	int64_t cents, max;
	int rc = -1;

	if (!(in = plug_read(req, d, len, "payment request")))
		return -1;
	if (!spn_request_author_verified(req)) {
		rc = plug_fail(req, "payments are asked by members of the group only");
		goto out;
	}
	if (!plug_str(req, in, "payment request", "patient", 64, &patient) ||
	    !plug_str(req, in, "payment request", "payee", 64, &payee) ||
	    !plug_str(req, in, "payment request", "amount", 16, &amount))
		goto out;
	if (strcmp(payee, spn_request_author(req)) != 0) {
		rc = plug_fail(req, "%s asks for a payment to %s: only to itself", spn_request_author(req), payee);
		goto out;
	}
	if (!plug_cents(amount, &cents) || cents <= 0) {
		rc = plug_fail(req, "'%s' is not an amount", amount);
		goto out;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "read a payment request from %s: %s for %s", payee, amount, patient);
	if ((out = decided(b, spn_request_message_id(req), payee))) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s was decided before: not paid again",
			       spn_request_message_id(req));
		rc = plug_reply(req, out);
		goto out;
	}
	/* The patient's own details, written for the bank alone. */
	if (spn_request_attached(req) != 1 || !(a = spn_request_attached_data(req, 0, &alen))) {
		rc = plug_fail(req, "no bank details from the patient came with the request");
		goto out;
	}
	if (!(details = plug_read(req, a, alen, "bank details")) ||
	    !plug_str(req, details, "bank details", "iban", 34, &iban) ||
	    !plug_str(req, details, "bank details", "holder", 100, &holder) ||
	    !plug_str(req, details, "bank details", "max_amount", 16, &max_s))
		goto out;
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "read the bank details %s%s wrote for the bank: %s, %s, up to %s",
		       spn_request_attached_author(req, 0),
		       spn_request_attached_verified(req, 0) ? "" : " (unverified)", iban, holder, max_s);
	/* Details that anyone on the way could hand in as they are: they
	 * count only from a client the group vouches for, and, when they name
	 * a payee, for that payee alone. */
	if (spn_plugin_opt_bool(ctx, "verified_payers") && !spn_request_attached_verified(req, 0)) {
		rc = plug_fail(req, "bank details from a client without a certificate of the group are not taken");
		goto out;
	}
	if (json_object_object_get_ex(details, "payee", NULL) &&
	    (!plug_str(req, details, "bank details", "payee", 64, &bound) || strcmp(bound, payee) != 0)) {
		if (bound)
			rc = plug_fail(req, "the patient's bank details are for a payment to %s, not to %s", bound, payee);
		goto out;
	}
	if (!iban_is_valid(iban)) {
		rc = plug_fail(req, "the patient's IBAN does not check out");
		goto out;
	}
	if (!plug_cents(max_s, &max)) {
		rc = plug_fail(req, "the patient's max_amount is not an amount");
		goto out;
	}
	if (!(out = decide(ctx, b, spn_request_message_id(req), iban, holder, max, payee, cents))) {
		rc = plug_fail(req, "the accounts could not be updated: %s", sqlite3_errmsg(b->db));
		goto out;
	}
	rc = plug_reply(req, out);
out:
	json_object_put(details);
	json_object_put(in);
	return rc;
}

SPN_PLUGIN(bank, services, options, init, handle, fini);
