#!/bin/sh
# spnctl as an operator uses it: a new group, tokens from the PSP and from an
# administrator, issuance through two levels of administrators, the ledger's
# listing and audit trail, and revocation, hold and release.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"

check "init creates a group" new_group "$G" demo
check "root key is 0600" test "$(stat -c %a "$G/ca/root.key")" = 600
check "node key is 0600" test "$(stat -c %a "$G/node.key")" = 600
check "root key is encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$G/ca/root.key"
refuse "init refuses an existing group" "already exists" ctl init -d "$G" -g demo
check "PSP certificate recorded" test "$(ledger_count "$G/ledger.db")" = 1

check "admin-1 enrolled by the PSP" enroll "$C" admin-1 admin 9 ""
# admin-1 accepts admin-2 offline with its own key; the PSP checks it.
tok=$("$SPNCTL" token --key "$WORK/admin-1.key" --cert "$WORK/admin-1.crt" --id admin-2 --role admin --trust 8)
"$SPNCTL" keygen -o "$WORK/admin-2.key" 2>/dev/null
"$SPNCTL" csr --key "$WORK/admin-2.key" --id admin-2 -o "$WORK/admin-2.csr"
check "admin-2 accepted by admin-1" ctl issue -c "$C" --csr "$WORK/admin-2.csr" --token "$tok" -o "$WORK/admin-2.crt"
tok=$("$SPNCTL" token --key "$WORK/admin-2.key" --cert "$WORK/admin-2.crt" --id bank-1 --role spn --trust 5 --services bank)
"$SPNCTL" keygen -o "$WORK/bank-1.key" -t p256 2>/dev/null
"$SPNCTL" csr --key "$WORK/bank-1.key" --id bank-1 --name bank.example --name 127.0.0.1 -o "$WORK/bank-1.csr"
check "bank-1 accepted by admin-2 (two levels down)" ctl issue -c "$C" --csr "$WORK/bank-1.csr" --token "$tok" -o "$WORK/bank-1.crt"
check "ledger records who accepted bank-1" test "$(sqlite3 "$G/ledger.db" "SELECT parent FROM certs WHERE node_id='bank-1'")" = admin-2
check "bank-1's services are bound" test "$(sqlite3 "$G/ledger.db" "SELECT services FROM certs WHERE node_id='bank-1'")" = bank

ctl list -c "$C" >"$WORK/list" 2>&1
check "list shows four certificates" test "$(grep -c valid "$WORK/list")" = 4
serial=$(sqlite3 "$G/ledger.db" "SELECT serial FROM certs WHERE node_id='bank-1'")
check "show prints the certificate" sh -c "ctl() { :; }; '$SPNCTL' show -c '$C' $serial | grep -q 'BEGIN CERTIFICATE'"
check "list works without the CA passphrase" sh -c "'$SPNCTL' list -c '$C' </dev/null >/dev/null"
check "serials are 128-bit" test "$(printf %s "$serial" | wc -c)" = 32

check "hold bank-1 (serial given in upper case, as OpenSSL prints it)" ctl hold -c "$C" "$(echo "$serial" | tr a-f A-F)"
check "held certificate is on the CRL" sh -c "openssl crl -in '$G/crl.pem' -noout -text | grep -qi '$serial'"
refuse "hold twice is refused" "not valid" ctl hold -c "$C" "$serial"
check "release bank-1" ctl release -c "$C" "$serial"
check "released certificate left the CRL" sh -c "! openssl crl -in '$G/crl.pem' -noout -text | grep -qi '$serial'"
refuse "release of a valid certificate is refused" "not on hold" ctl release -c "$C" "$serial"
check "revoke bank-1 for key compromise" ctl revoke -c "$C" --reason keyCompromise "$serial"
check "ledger keeps the reason" test "$(sqlite3 "$G/ledger.db" "SELECT reason FROM certs WHERE serial='$serial'")" = 1
refuse "revoke twice is refused" "already revoked" ctl revoke -c "$C" "$serial"
refuse "unknown reason is refused" "unknown revocation reason" ctl revoke -c "$C" --reason because "$serial"
refuse "unknown serial is refused" "no certificate" ctl revoke -c "$C" 00ff
ctl log -c "$C" >"$WORK/log"
check "audit trail has issue, hold, release, revoke" sh -c "grep -q ' issue ' '$WORK/log' && grep -q ' hold ' '$WORK/log' && grep -q ' release ' '$WORK/log' && grep -q ' revoke ' '$WORK/log'"
n1=$(openssl crl -in "$G/crl.pem" -noout -crlnumber | cut -d= -f2)
ctl crl -c "$C" >/dev/null
n2=$(openssl crl -in "$G/crl.pem" -noout -crlnumber | cut -d= -f2)
check "CRL number increases" test "$((0x$n2))" -gt "$((0x$n1))"
check "a revoked node id can enroll again" enroll "$C" bank-1b spn 5 bank

# Passphrase handling for the CA key.
refuse "no passphrase and no terminal: clear error" "set SPN_CA_PASSPHRASE or run on a terminal" \
	setsid "$SPNCTL" crl -c "$C" </dev/null
refuse "wrong passphrase: clear error" "wrong passphrase" env SPN_CA_PASSPHRASE=wrong "$SPNCTL" crl -c "$C"
