#!/bin/sh
# POST /v1/revoke answers each request on its own: after a revocation that
# was carried out, a refused one (unknown serial, malformed serial, an
# administrator revoking what it did not accept, a second revocation) gets
# its own error, and the ledger records nothing for it.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; CA="$G/ca/root.crt"; DB="$G/ledger.db"
new_group "$G" demo
enroll "$C" web-1 spn 3 echo || not_ok "setup web-1"
enroll "$C" other-1 spn 3 echo || not_ok "setup other-1"
enroll "$C" adm-1 admin 8 "" || not_ok "setup adm-1"
"$SPNCTL" keygen -o "$WORK/kid-1.key" 2>/dev/null
"$SPNCTL" csr --key "$WORK/kid-1.key" --id kid-1 -o "$WORK/kid-1.csr"
t=$("$SPNCTL" token --key "$WORK/adm-1.key" --cert "$WORK/adm-1.crt" --id kid-1 --role spn --trust 2)
ctl issue -c "$C" --csr "$WORK/kid-1.csr" --token "$t" -o "$WORK/kid-1.crt" 2>/dev/null || not_ok "setup kid-1"
check "spnd starts as the PSP" start_spnd "$C"
U="https://127.0.0.1:$PORT/v1/revoke"

serial_of() { sqlite3 "$DB" "SELECT serial FROM certs WHERE node_id = '$1'"; }
events() { sqlite3 "$DB" "SELECT COUNT(*) FROM events WHERE kind IN ('revoke', 'requested')"; }
status_of() { sqlite3 "$DB" "SELECT status FROM certs WHERE node_id = '$1'"; }
psp() { echo "--cert $G/node.crt --key $G/node.key"; }
adm() { echo "--cert $WORK/adm-1.crt --key $WORK/adm-1.key"; }

is "the PSP revokes web-1" 200 "" $(psp) -X POST --json "{\"serial\":\"$(serial_of web-1)\",\"reason\":\"keyCompromise\"}" "$U"
check "the answer says revoked" grep -q '"status":"revoked"' "$WORK/body"
check "the ledger records the revocation and who asked" \
	test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM events WHERE kind = 'requested' AND serial = '$(serial_of web-1)' AND detail = 'by psp'")" = 1
base=$(events)

# nothing_recorded NAME: no revoke or requested event was added.
nothing_recorded() { if [ "$(events)" = "$base" ]; then ok "$1: nothing recorded"; else not_ok "$1: an event was recorded"; fi; }

is "an unknown serial: 404" 404 not_found $(psp) -X POST --json '{"serial":"4021b81664b856f312885901d37f889a"}' "$U"
nothing_recorded "unknown serial"
is "a malformed serial: 400" 400 invalid $(psp) -X POST --json '{"serial":"not-a-serial"}' "$U"
nothing_recorded "malformed serial"
is "an empty serial: 400" 400 invalid $(psp) -X POST --json '{"serial":""}' "$U"
nothing_recorded "empty serial"
is "an administrator revoking what it did not accept: 403" 403 denied $(adm) -X POST --json "{\"serial\":\"$(serial_of other-1)\"}" "$U"
nothing_recorded "another's member"
check "other-1 is still valid" test "$(status_of other-1)" = 0
is "a second revocation of web-1: 409" 409 state $(psp) -X POST --json "{\"serial\":\"$(serial_of web-1)\"}" "$U"
nothing_recorded "second revocation"
is "an unknown reason: 400" 400 invalid $(psp) -X POST --json "{\"serial\":\"$(serial_of other-1)\",\"reason\":\"because\"}" "$U"
nothing_recorded "unknown reason"

# The administrator's own member, its serial in upper case: carried out.
upper=$(serial_of kid-1 | tr a-f A-F)
is "adm-1 revokes kid-1 (serial in upper case)" 200 "" $(adm) -X POST --json "{\"serial\":\"$upper\"}" "$U"
check "kid-1 is revoked" test "$(status_of kid-1)" = 1
check "and the ledger says adm-1 asked" \
	test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM events WHERE kind = 'requested' AND serial = '$(serial_of kid-1)' AND detail = 'by adm-1'")" = 1
base=$(events)
is "then an unknown serial again: 404" 404 not_found $(adm) -X POST --json '{"serial":"00ff"}' "$U"
nothing_recorded "unknown serial after the administrator's revocation"
check "only the two revocations asked for are recorded" \
	test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM events WHERE kind = 'requested'")" = 2

# spnctl takes serials the same way.
refuse "spnctl revoke refuses a malformed serial" "not a certificate serial" ctl revoke -c "$C" not-a-serial
refuse "spnctl show refuses it too" "not a certificate serial" "$SPNCTL" show -c "$C" zz
