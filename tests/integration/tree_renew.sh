#!/bin/sh
# Automatic renewal on real daemons: with one-minute certificates a node asks
# for a fresh one once two thirds of its life are gone (here about 20 s
# after issue, validity plus the minute of backdating), through its
# administrator to the PSP, and takes it into use without a restart: written
# to its state directory, served to new connections, registered under the
# new serial. Revoking the new certificate revokes its predecessor too.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" renew 60s
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "n1 joins below adm1" join "$WORK/n1" "$WORK/adm1" spn 3 echo "$(plugins echo)"
first=$(openssl x509 -in "$WORK/n1/node.crt" -noout -serial | cut -d= -f2)
renewed() { [ "$(openssl x509 -in "$WORK/n1/node.crt" -noout -serial | cut -d= -f2)" != "$first" ]; }
check "n1 renews its certificate before it expires" wait_for 45 renewed
second=$(openssl x509 -in "$WORK/n1/node.crt" -noout -serial | cut -d= -f2)
check "the new one verifies against the root (openssl)" openssl verify -CAfile "$CA" "$WORK/n1/node.crt"
check "it keeps the same key" sh -c "[ \"\$(openssl x509 -in '$WORK/n1/node.crt' -noout -pubkey)\" = \"\$(openssl pkey -in '$WORK/n1/node.key' -pubout)\" ]"
check "and the same identity" sh -c "openssl x509 -in '$WORK/n1/node.crt' -noout -ext subjectAltName | grep -q 'spn://renew/n1?role=spn&trust=3&services=echo&parent=adm1'"
check "the ledger records the renewal" sh -c "sqlite3 '$P/ledger.db' \"SELECT token_id FROM certs WHERE serial=lower('$second')\" | grep -qi 'renew:$first'"
check "the relay went through adm1" grep -q 'certificate renewed' "$WORK/n1/spnd.log"
served() { echo | openssl s_client -connect "127.0.0.1:$(cat "$WORK/n1/spnd.port")" -CAfile "$CA" 2>/dev/null | openssl x509 -noout -serial | grep -qi "$second"; }
check "n1 serves the new certificate, same process" served
check "n1 did not restart" sh -c "[ \$(grep -c 'listening on' '$WORK/n1/spnd.log') = 1 ]"
check "the administrator renewed too" wait_for 10 grep -q 'certificate renewed' "$WORK/adm1/spnd.log"
is "requests still reach n1" 200 "" -X POST $(as "$P") --json '{"service":"echo"}' "$(node_url "$P")/v1/route"
check "n1 is registered" registry_has "$P" n1
# renew_with KEY NAME CERT: a renewal request signed by KEY for CERT.
renew_with() {
	rm -f "$WORK/x.csr" && "$SPNCTL" csr --key "$1" --id n1 --name "$2" -o "$WORK/x.csr" &&
	$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'certificate': open(sys.argv[2]).read()}))" \
		"$WORK/x.csr" "$3" >"$WORK/x.json" &&
	curl -sS --fail-with-body --cacert "$CA" $(as "$WORK/adm1") -X POST --json @"$WORK/x.json" "$(node_url "$P")/v1/renew"
}
refuse "a renewal with another key than the certified one" "not signed by its certified key" \
	renew_with "$WORK/adm1/node.key" 127.0.0.1 "$WORK/n1/node.crt"
refuse "a renewal that changes the names" "keeps the certificate's names" \
	renew_with "$WORK/n1/node.key" 10.0.0.1 "$WORK/n1/node.crt"
sqlite3 "$P/ledger.db" "SELECT pem FROM certs WHERE serial=lower('$first')" >"$WORK/old.crt"
n_before=$(sqlite3 "$P/ledger.db" "SELECT COUNT(*) FROM certs WHERE node_id='n1'")
renew_with "$WORK/n1/node.key" 127.0.0.1 "$WORK/old.crt" >"$WORK/again.json" 2>&1
check "a renewal whose answer was lost is answered again" grep -qi "\"serial\":\"$second\"" "$WORK/again.json"
check "and nothing new was issued" sh -c "[ \"\$(sqlite3 '$P/ledger.db' \"SELECT COUNT(*) FROM certs WHERE node_id='n1'\")\" = $n_before ]"
status_of() { sqlite3 "$P/ledger.db" "SELECT status FROM certs WHERE serial=lower('$1')"; }
check "holding the old certificate holds the new one" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' hold -c '$P/spnd.conf' '$first' && [ \"\$(sqlite3 '$P/ledger.db' \"SELECT status FROM certs WHERE serial=lower('$second')\")\" = 2 ]"
check "releasing it releases both" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' release -c '$P/spnd.conf' '$first' && [ \"\$(sqlite3 '$P/ledger.db' \"SELECT status FROM certs WHERE serial=lower('$second')\")\" = 0 ]"
is "adm1 revokes n1's new certificate" 200 "" -X POST $(as "$WORK/adm1") --json "{\"serial\":\"$second\"}" "$(node_url "$P")/v1/revoke"
check "its predecessor is revoked with it" sh -c "[ \"\$(sqlite3 '$P/ledger.db' \"SELECT status FROM certs WHERE serial=lower('$first')\")\" = 1 ]"

# The listening port is shared with the next certificate's listener, never
# with another daemon: a second spnd on n1's port is refused.
cp "$WORK/n1/spnd.conf" "$WORK/n1/twin.conf"
sed -i "s/^port = 0$/port = $(cat "$WORK/n1/spnd.port")/; s/^port_file = .*/port_file = twin.port/" "$WORK/n1/twin.conf"
refuse "a second daemon on the same port is refused" "Address already in use" "$SPND" -c "$WORK/n1/twin.conf"
