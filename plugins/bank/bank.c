/* bank: authorises a payment a member of the group asks for on a patient's
 * behalf, against the bank details the patient wrote for the bank alone
 * (they travel through the other services unread): the IBAN must check
 * out, the holder match the account, the amount stay within what the
 * patient allowed and the balance. Its accounts and every decision are in
 * its own SQLite file; one message id is paid at most once. The payee is
 * told authorised or refused and a reference; why, and the amount, go to
 * the patient alone. */
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

#define PAYEE_MAX 64
#define IBAN_MAX 34

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

/* Files made before decisions named the client they were for. */
static int payer_column(bank_t *b)
{
	sqlite3_stmt *st = NULL;
	bool has = false;

	if (sqlite3_prepare_v2(b->db, "SELECT 1 FROM pragma_table_info('payments') WHERE name = 'payer'", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has ? 0 : exec(b, "ALTER TABLE payments ADD COLUMN payer TEXT");
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
		    " status TEXT NOT NULL, reason TEXT, ref TEXT NOT NULL, at INTEGER NOT NULL, payer TEXT,"
		    " PRIMARY KEY (mid, payee));") ||
	    payer_column(b) ||
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

/* One decision: the payee learns status and ref, the patient all of it. */
typedef struct {
	char status[16], reason[200], payee[PAYEE_MAX + 1], ref[40], payer[PAYEE_MAX + 1];
	int64_t cents;
	bool again;
} decision_t;

static json_object *for_payee(const decision_t *d)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(d->status));
	json_object_object_add(o, "ref", json_object_new_string(d->ref));
	if (d->again)
		json_object_object_add(o, "already_decided", json_object_new_boolean(true));
	return o;
}

static json_object *for_patient(const decision_t *d)
{
	json_object *o = json_object_new_object();
	char amount[32];

	json_object_object_add(o, "status", json_object_new_string(d->status));
	if (d->reason[0])
		json_object_object_add(o, "reason", json_object_new_string(d->reason));
	json_object_object_add(o, "amount", json_object_new_string(plug_amount(d->cents, amount)));
	json_object_object_add(o, "payee", json_object_new_string(d->payee));
	json_object_object_add(o, "ref", json_object_new_string(d->ref));
	if (d->again)
		json_object_object_add(o, "already_decided", json_object_new_boolean(true));
	return o;
}

static void text_of(sqlite3_stmt *st, int col, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

/* A message id decided before for this payee: the same decision, nothing
 * paid again. Another payee asking with the same id learns nothing of it. */
static bool decided(bank_t *b, const char *mid, const char *payee, decision_t *d)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(b->db,
			       "SELECT status, reason, amount, payee, ref, payer FROM payments WHERE mid = ? AND payee = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, mid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, payee, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		text_of(st, 0, d->status, sizeof(d->status));
		text_of(st, 1, d->reason, sizeof(d->reason));
		d->cents = sqlite3_column_int64(st, 2);
		text_of(st, 3, d->payee, sizeof(d->payee));
		text_of(st, 4, d->ref, sizeof(d->ref));
		text_of(st, 5, d->payer, sizeof(d->payer));
		d->again = found = true;
	}
	sqlite3_finalize(st);
	return found;
}

/* Why the payment cannot be made, or "" (the account's row in st). */
static void judge(sqlite3_stmt *st, int step, const char *holder, int64_t max, decision_t *d, int64_t *balance)
{
	char have[32], want[32];

	if (step == SQLITE_DONE) {
		snprintf(d->reason, sizeof(d->reason), "no such account");
		return;
	}
	*balance = sqlite3_column_int64(st, 1);
	if (strcasecmp((const char *)sqlite3_column_text(st, 0), holder) != 0)
		snprintf(d->reason, sizeof(d->reason), "the holder's name does not match the account");
	else if (d->cents > max)
		snprintf(d->reason, sizeof(d->reason), "%s is more than the %s you allowed", plug_amount(d->cents, want),
			 plug_amount(max, have));
	else if (*balance < d->cents)
		snprintf(d->reason, sizeof(d->reason), "insufficient funds (asked %s)", plug_amount(d->cents, want));
}

static int record(bank_t *b, const char *mid, const char *iban, const decision_t *d)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(b->db,
			       "INSERT INTO payments(mid, iban, payee, amount, status, reason, ref, payer, at)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now'))",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, mid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, iban, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, d->payee, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, d->cents);
	sqlite3_bind_text(st, 5, d->status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, d->reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, d->ref, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, d->payer, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* Decides and records in one transaction: a crash leaves either nothing or
 * the whole decision. */
static int decide(spn_plugin_ctx_t *ctx, bank_t *b, const char *mid, const char *iban, const char *holder,
		  int64_t max, decision_t *d)
{
	sqlite3_stmt *st = NULL;
	int64_t balance = -1;
	int step;

	if (!plug_ref("pay", d->ref) || exec(b, "BEGIN IMMEDIATE"))
		return -1;
	if (sqlite3_prepare_v2(b->db, "SELECT holder, balance FROM accounts WHERE iban = ?", -1, &st, NULL) != SQLITE_OK) {
		exec(b, "ROLLBACK");
		return -1;
	}
	sqlite3_bind_text(st, 1, iban, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	/* Not knowing is not a refusal to record: nothing is. */
	if (step == SQLITE_ROW || step == SQLITE_DONE)
		judge(st, step, holder, max, d, &balance);
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		exec(b, "ROLLBACK");
		return -1;
	}
	snprintf(d->status, sizeof(d->status), "%s", d->reason[0] ? "refused" : "authorised");
	if (!d->reason[0] &&
	    (sqlite3_prepare_v2(b->db, "UPDATE accounts SET balance = balance - ? WHERE iban = ?", -1, &st, NULL) !=
		     SQLITE_OK ||
	     sqlite3_bind_int64(st, 1, d->cents) || sqlite3_bind_text(st, 2, iban, -1, SQLITE_TRANSIENT) ||
	     sqlite3_step(st) != SQLITE_DONE)) {
		sqlite3_finalize(st);
		exec(b, "ROLLBACK");
		return -1;
	}
	sqlite3_finalize(st);
	if (record(b, mid, iban, d) || exec(b, "COMMIT")) {
		exec(b, "ROLLBACK");
		return -1;
	}
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: payment to %s: %s", mid, d->payee, d->status);
	return 0;
}

/* The patient's details were not usable: the patient is told why, alone;
 * the payee only that they were not accepted. */
static int refuse_details(spn_request_t *req, const char *why)
{
	plug_refuse_attached(req, 0, why);
	return plug_fail(req, "the patient's bank details were not accepted (the patient is told why)");
}

/* An IBAN as people write it ("DE02 1203 ...", any case) in its electronic
 * form: without spaces, upper case. False when it does not fit. */
static bool iban_normal(const char *in, char out[IBAN_MAX + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in == ' ')
			continue;
		if (n == IBAN_MAX)
			return false;
		out[n++] = (char)toupper((unsigned char)*in);
	}
	out[n] = '\0';
	return true;
}

/* The patient's own details, written for the bank alone, checked; *iban
 * in its electronic form, in norm. */
static int read_details(spn_plugin_ctx_t *ctx, spn_request_t *req, const char *payee, json_object **details,
			char norm[IBAN_MAX + 1], const char **iban, const char **holder, int64_t *max)
{
	size_t alen;
	const uint8_t *a;
	const char *max_s, *bound = NULL;
	json_object *v;

	if (spn_request_attached(req) != 1 || !(a = spn_request_attached_data(req, 0, &alen)))
		return plug_fail(req, "no bank details from the patient came with the request");
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: bank details from %s%s (%zu bytes)",
		       spn_request_message_id(req), spn_request_attached_author(req, 0),
		       spn_request_attached_verified(req, 0) ? "" : " (unverified)", alen);
	/* Details that anyone on the way could hand in as they are: they
	 * count only from a client the group vouches for, and, when they name
	 * a payee, for that payee alone. */
	if (spn_plugin_opt_bool(ctx, "verified_payers") && !spn_request_attached_verified(req, 0))
		return refuse_details(req, "bank details from a client without a certificate of the group are not taken");
	if (!(*details = plug_read(req, a, alen, "bank details")))
		return refuse_details(req, "bank details: expected a JSON object");
	if (!plug_str(req, *details, "bank details", "iban", 2 * IBAN_MAX, iban) ||
	    !plug_str(req, *details, "bank details", "holder", 100, holder) ||
	    !plug_str(req, *details, "bank details", "max_amount", 16, &max_s))
		return refuse_details(req, "bank details: 'iban', 'holder' and 'max_amount' are strings");
	if (json_object_object_get_ex(*details, "payee", &v) &&
	    (!json_object_is_type(v, json_type_string) || strcmp((bound = json_object_get_string(v)), payee) != 0))
		return refuse_details(req, "your bank details are for a payment to another payee");
	if (!iban_normal(*iban, norm) || !iban_is_valid(norm))
		return refuse_details(req, "your IBAN does not check out");
	*iban = norm;
	if (!plug_cents(max_s, max))
		return refuse_details(req, "bank details: 'max_amount' is not an amount");
	return 0;
}

/* Whether the client whose details came along is the one a decision made
 * before was made for. */
static bool same_payer(spn_request_t *req, const decision_t *d)
{
	return spn_request_attached(req) == 1 && spn_request_attached_verified(req, 0) &&
	       strcmp(spn_request_attached_author(req, 0), d->payer) == 0;
}

/* Answers both: the payee its part, the patient (when its details came
 * along) all of it. A decision made before counts only for the client it
 * was made for: the same message id from another client (message ids
 * travel in the clear) is refused to the payee and to that client. */
static int answer(spn_request_t *req, const decision_t *d)
{
	json_object *no;

	if (d->again && !same_payer(req, d)) {
		no = json_object_new_object();
		json_object_object_add(no, "status", json_object_new_string("refused"));
		if (spn_request_attached(req) == 1)
			plug_refuse_attached(req, 0, "this message id was decided before, for another client");
		return plug_reply(req, no);
	}
	if (spn_request_attached(req) == 1)
		plug_reply_attached(req, 0, for_patient(d));
	return plug_reply(req, for_payee(d));
}

static int handle(spn_plugin_ctx_t *ctx, spn_request_t *req)
{
	bank_t *b = spn_plugin_state(ctx);
	size_t len;
	const uint8_t *d = spn_request_data(req, &len);
	json_object *in = NULL, *details = NULL;
	const char *payee, *amount, *iban, *holder;
	char norm[IBAN_MAX + 1];
	decision_t dec;
	int64_t max;
	int rc = -1;

	memset(&dec, 0, sizeof(dec));
	if (!(in = plug_read(req, d, len, "payment request")))
		return -1;
	if (!spn_request_author_verified(req)) {
		rc = plug_fail(req, "payments are asked by members of the group only");
		goto out;
	}
	if (!plug_str(req, in, "payment request", "payee", PAYEE_MAX, &payee) ||
	    !plug_str(req, in, "payment request", "amount", 16, &amount))
		goto out;
	if (strcmp(payee, spn_request_author(req)) != 0) {
		rc = plug_fail(req, "payment request: 'payee' must be the node that asks");
		goto out;
	}
	if (!plug_cents(amount, &dec.cents) || dec.cents <= 0) {
		rc = plug_fail(req, "payment request: 'amount' is not an amount");
		goto out;
	}
	snprintf(dec.payee, sizeof(dec.payee), "%s", payee);
	spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s: a payment request from %s (%zu bytes)",
		       spn_request_message_id(req), payee, len);
	if (decided(b, spn_request_message_id(req), payee, &dec)) {
		spn_plugin_log(ctx, SPN_PLUGIN_LOG_INFO, "message %s was decided before: not paid again",
			       spn_request_message_id(req));
		rc = answer(req, &dec);
		goto out;
	}
	if ((rc = read_details(ctx, req, payee, &details, norm, &iban, &holder, &max)))
		goto out;
	snprintf(dec.payer, sizeof(dec.payer), "%s", spn_request_attached_author(req, 0));
	if (decide(ctx, b, spn_request_message_id(req), iban, holder, max, &dec)) {
		rc = plug_fail(req, "the accounts could not be updated: %s", sqlite3_errmsg(b->db));
		goto out;
	}
	rc = answer(req, &dec);
out:
	json_object_put(details);
	json_object_put(in);
	return rc;
}

SPN_PLUGIN(bank, services, options, init, handle, fini);
