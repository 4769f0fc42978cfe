#!/bin/sh
# A ledger moved or deleted while spnd runs: spnd notices before the next
# commit, refuses to issue or revoke with 503 ledger_lost, and loses nothing it
# answered: every certificate it handed out is in the moved file, and in a
# copy it saves next to the path (the only place left when the file was
# deleted).
. "$top_srcdir/tests/lib.sh"

# prepare DIR ID: a key, a CSR and a token (minted at the PSP in DIR) for
# ID, as the JSON of an enrollment in $WORK/ID.json.
prepare() {
	"$SPNCTL" keygen -o "$WORK/$2.key" 2>/dev/null &&
	"$SPNCTL" csr --key "$WORK/$2.key" --id "$2" -o "$WORK/$2.csr" &&
	tok=$(ctl token -c "$1/spnd.conf" --id "$2" --role spn --trust 2) &&
	$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2]}))" \
		"$WORK/$2.csr" "$tok" >"$WORK/$2.json"
}
# enroll_rest DIR ID: sends it to the PSP in DIR; prints the status, leaves
# the answer in $WORK/body.
enroll_rest() { req -X POST --json @"$WORK/$2.json" "$(node_url "$1")/v1/enroll"; }
serial() { $PY -c "import json; print(json.load(open('$WORK/body'))['serial'])"; }

# holds FILE SERIALS...: every serial is a certificate in the ledger FILE.
holds() {
	f=$1; shift
	for s in "$@"; do
		[ "$(sqlite3 "file:$f?mode=ro" "SELECT COUNT(*) FROM certs WHERE serial = '$s'")" = 1 ] || return 1
	done
}

# --- moved -------------------------------------------------------------------
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" moved
answered=""
for i in 1 2 3 4 5; do prepare "$P" "n$i"; done
for i in 1 2 3 4; do
	got=$(enroll_rest "$P" "n$i")
	[ "$got" = 201 ] && answered="$answered $(serial)"
done
check "four enrollments answered 201" test "$(echo $answered | wc -w)" = 4
mv "$P/ledger.db" "$P/ledger-elsewhere.db"
got=$(enroll_rest "$P" n5)
if [ "$got" = 503 ] && grep -q '"error":"ledger_lost"' "$WORK/body"; then ok "the next enrollment is refused: 503 ledger_lost"; diag "$(cat "$WORK/body")"
else not_ok "the next enrollment is refused: got $got"; awk '{print "#   " $0}' "$WORK/body"; fi
check "every certificate answered is in the moved file" holds "$P/ledger-elsewhere.db" $answered
check "and in the copy saved next to the path" holds "$(ls "$P"/ledger.db.rescued-* | head -n 1)" $answered
check "the refused one is in neither" test "$(sqlite3 "$P/ledger-elsewhere.db" "SELECT COUNT(*) FROM certs WHERE node_id = 'n5'")" = 0
check "the copy is readable by its owner only" test "$(stat -c %a "$(ls "$P"/ledger.db.rescued-* | head -n 1)")" = 600
s1=$(echo $answered | cut -d' ' -f1)
is "a revocation is refused too" 503 ledger_lost $(as "$P") -X POST --json "{\"serial\":\"$s1\"}" "$(node_url "$P")/v1/revoke"
check "and n1 is still valid in the moved file" test "$(sqlite3 "$P/ledger-elsewhere.db" "SELECT status FROM certs WHERE serial = '$s1'")" = 0
is "a token is refused too" 503 ledger_lost $(as "$P") -X POST --json '{"node":"n6","role":"spn","trust":1}' "$(node_url "$P")/v1/token"
is "spnd keeps serving" 200 "" "$(node_url "$P")/v1/health"
check "no new ledger was made at the path" test ! -e "$P/ledger.db"
node_stop "$P"
check "after the stop the moved file is whole" sh -c "sqlite3 '$P/ledger-elsewhere.db' 'PRAGMA integrity_check' | grep -qx ok"
check "and still holds every certificate answered" holds "$P/ledger-elsewhere.db" $answered
refuse "spnd does not start without its ledger" "no ledger here" env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$P/spnd.conf"

# --- deleted -----------------------------------------------------------------
D="$WORK/del"; CA="$D/ca/root.crt"
check "another PSP starts" psp_start "$D" deleted
answered=""
for i in 1 2 3 4; do prepare "$D" "d$i"; done
for i in 1 2 3; do
	got=$(enroll_rest "$D" "d$i")
	[ "$got" = 201 ] && answered="$answered $(serial)"
done
check "three enrollments answered 201" test "$(echo $answered | wc -w)" = 3
rm -f "$D/ledger.db"
got=$(enroll_rest "$D" d4)
if [ "$got" = 503 ] && grep -q '"error":"ledger_lost"' "$WORK/body"; then ok "after the ledger is deleted the next enrollment is refused"
else not_ok "after the ledger is deleted: got $got"; awk '{print "#   " $0}' "$WORK/body"; fi
check "every certificate answered is in the saved copy" holds "$(ls "$D"/ledger.db.rescued-* | head -n 1)" $answered
