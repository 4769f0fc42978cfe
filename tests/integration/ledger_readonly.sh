#!/bin/sh
# The commands that only read the ledger (list, show, log) open it
# read-only: they write nothing, not even into an empty file, they work on
# a ledger they may not write, and when they cannot read one they say why.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; DB="$G/ledger.db"
new_group "$G" demo
enroll "$C" web-1 spn 3 echo || not_ok "setup web-1"
serial=$(sqlite3 "$DB" "SELECT serial FROM certs WHERE node_id = 'web-1'")

# with_ledger FILE: a copy of the configuration whose ledger is FILE.
with_ledger() { sed "s|^ledger = .*|ledger = $1|" "$C" >"$G/other.conf"; }

: >"$G/empty.db"
with_ledger empty.db
refuse "list on an empty file says it is not a ledger" "empty file, not a ledger" "$SPNCTL" list -c "$G/other.conf"
check "and leaves it empty" test ! -s "$G/empty.db"
refuse "log too" "empty file, not a ledger" "$SPNCTL" log -c "$G/other.conf"
refuse "and the CA will not open it either" "empty file, not a ledger" ctl crl -c "$G/other.conf"
check "which leaves it empty too" test ! -s "$G/empty.db"

echo "not a database at all, just text that goes on for a while to fill a page" >"$G/junk.db"
with_ledger junk.db
refuse "a file that is not a database" "is not a ledger" "$SPNCTL" list -c "$G/other.conf"
sqlite3 "$G/other.db" "CREATE TABLE t(x)"
with_ledger other.db
refuse "a database that is not a ledger" "is not a ledger" "$SPNCTL" show -c "$G/other.conf" "$serial"
check "which gains no tables" test "$(sqlite3 "$G/other.db" "SELECT COUNT(*) FROM sqlite_master")" = 1
with_ledger missing.db
refuse "a missing ledger" "no ledger here: no such file" "$SPNCTL" list -c "$G/other.conf"
check "is not created" test ! -e "$G/missing.db"

# A ledger this user may not write: chmod for a user, the immutable
# attribute for root (whom mode bits do not stop).
readonly_ledger() {
	if [ "$(id -u)" = 0 ]; then chattr +i "$DB" 2>/dev/null; else chmod 0444 "$DB"; fi
}
writable_again() { if [ "$(id -u)" = 0 ]; then chattr -i "$DB" 2>/dev/null; else chmod 0644 "$DB"; fi; }
sum=$(sha256sum <"$DB")
if readonly_ledger && ! sh -c ": >>'$DB'" 2>/dev/null; then
	check "list reads a ledger it may not write" sh -c "'$SPNCTL' list -c '$C' | grep -q web-1"
	check "show too" sh -c "'$SPNCTL' show -c '$C' '$serial' | grep -q '^status: *valid'"
	check "log too" sh -c "'$SPNCTL' log -c '$C' | grep -q ' issue '"
	refuse "a command that writes says the ledger is not writable" "is not writable" ctl revoke -c "$C" "$serial"
	writable_again
	check "the ledger is unchanged" test "$(sha256sum <"$DB")" = "$sum"
else
	writable_again
	skip "no way to make the ledger read-only here"
fi

if [ "$(id -u)" != 0 ]; then
	chmod 0 "$DB"
	refuse "an unreadable ledger is named as such" "cannot read ledger" "$SPNCTL" list -c "$C"
	chmod 0644 "$DB"
fi
check "the ledger still reads" sh -c "'$SPNCTL' list -c '$C' | grep -q web-1"
