#!/bin/sh
# Many signers at once: the published CRL never goes back to a lower
# number, and lists every revocation recorded before it was signed. Each
# round starts eight spnctl crl and a revocation together, then the file
# must carry the highest CRL number the ledger has issued and list every
# revoked certificate. An RSA root makes each signature take long enough
# for the signers to overtake each other.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; DB="$G/ledger.db"
new_group "$G" demo rsa3072
for i in $(seq 1 10); do enroll "$C" "n$i" spn 1 "" || not_ok "setup n$i"; done

published() { echo $((0x$(openssl crl -in "$G/crl.pem" -noout -crlnumber | sed 's/^crlNumber=0x//'))); }
issued() { sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'crl_number'"; }
# listed: every certificate the ledger holds revoked is on the published CRL.
listed() {
	openssl crl -in "$G/crl.pem" -noout -text | sed -n 's/^ *Serial Number: *//p' | tr A-F a-f | sort >"$WORK/on-crl"
	sqlite3 "$DB" "SELECT serial FROM certs WHERE status != 0" | sort >"$WORK/revoked"
	[ -s "$WORK/revoked" ] && comm -23 "$WORK/revoked" "$WORK/on-crl" | { ! grep -q .; }
}

for round in $(seq 1 10); do
	pids=""
	for i in 1 2 3 4 5 6 7 8; do ctl crl -c "$C" >/dev/null 2>&1 & pids="$pids $!"; done
	s=$(sqlite3 "$DB" "SELECT serial FROM certs WHERE node_id = 'n$round'")
	ctl revoke -c "$C" "$s" >/dev/null 2>&1 & pids="$pids $!"
	failed=0
	for p in $pids; do wait "$p" || failed=1; done
	check "round $round: every signer succeeded" test "$failed" = 0
	check "round $round: the published CRL has the highest number issued ($(issued))" test "$(published)" = "$(issued)"
	check "round $round: it lists every revocation" listed
done
check "the CRL verifies against the root" sh -c "openssl crl -in '$G/crl.pem' -CAfile '$G/ca/root.crt' -noout 2>&1 | grep -q 'verify OK'"

# A ledger whose number is behind the published CRL (restored from an
# older copy) numbers above the published one, never below it.
sqlite3 "$DB" "UPDATE meta SET value = '1' WHERE key = 'crl_number'"
before=$(published)
check "after the ledger's number was set back, a new CRL is signed" ctl crl -c "$C"
check "and numbered above the one published" test "$(published)" -gt "$before"
