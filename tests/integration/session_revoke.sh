#!/bin/sh
# Revocation ends sessions: a client's (or a node's) certificate revoked at
# the PSP closes, on the provider, the sessions it opened before, long
# before their time is up; a section in one is refused as revoked. Another
# client's session with the same provider goes on.
#   psp ─┬─ adm1 ─┬─ hosp1 (hospital; sessions last an hour)
#        │        └─ ph1 (pharmacy; its certificate calls the hospital)
#        └─ gate (the entry node)
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "hosp1 joins" join "$WORK/hosp1" "$WORK/adm1" spn 3 hospital "$(echo_for hospital; printf '[session]\nttl = 1h')"
check "ph1 joins" join "$WORK/ph1" "$WORK/adm1" spn 3 pharmacy "$(echo_for pharmacy)"
check "gate joins" join "$WORK/gate" "$P" spn 3 ""
check "band1 gets a client certificate" client_cert "$WORK/band1" band-1 "$P"
check "band2 gets a client certificate" client_cert "$WORK/band2" band-2 "$P"
all_at_root() { for n in adm1 hosp1 ph1 gate; do registry_has "$P" $n || return 1; done; }
check "every node reaches the PSP's registry" wait_for 10 all_at_root
G=$(node_url "$WORK/gate")

# open WHO DIR: a session for the hospital with DIR's certificate; its id,
# provider, keys and author go to $WORK/WHO.session.
open() { "$SESSION_PROBE" "$G" "$CA" hospital "$2/node.crt" "$2/node.key" >"$WORK/$1.session"; }
# send WHO MID SEQ TEXT: a section in WHO's session, sealed as its client
# does, through the entry node; the answer in $WORK/body.
send() {
	read -r sid prov kp kc me <"$WORK/$1.session"
	sec=$("$JWE_TOOL" seal "$kp" "$sid" hospital "$prov" "$me" "$2" "$3" "$4")
	req -X POST --json "{\"id\":\"$2\",\"sections\":[\"$sec\"]}" "$G/v1/message" >/dev/null
}
# field F: F of the first reply ("section", "error").
field() { $PY -c "import json; print(json.load(open('$WORK/body'))['replies'][0].get('$1', ''))"; }
# answered WHO TEXT: the reply opens with WHO's key and echoes TEXT from
# WHO, verified by its certificate.
answered() {
	read -r sid prov kp kc me <"$WORK/$1.session"
	field section | "$JWE_TOOL" open "$kc" | grep -q "\"from\":\"$me\",\"verified\":true,.*\"echo\":\"$2\""
}
# refused_as ERROR: the first reply is that error, with no section.
refused_as() { [ -z "$(field section)" ] && [ "$(field error)" = "$1" ]; }
serial_of() { openssl x509 -in "$1/node.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
# lists DIR SERIAL: the CRL the node in DIR holds lists SERIAL.
lists() {
	curl -sS --cacert "$CA" "$(node_url "$1")/v1/crl" | openssl crl -noout -text | grep -qix " *serial number: $2"
}

check "band1 opens a session" open band1 "$WORK/band1"
check "band2 opens a session" open band2 "$WORK/band2"
check "ph1 opens one with its node certificate" open ph1 "$WORK/ph1"
check "all three are with hosp1" sh -c "grep -q ' hosp1 ' '$WORK/band1.session' && grep -q ' hosp1 ' '$WORK/band2.session' && grep -q ' hosp1 ' '$WORK/ph1.session'"
send band1 m-1 0 'pulse 128'
check "band1's section is answered" answered band1 'pulse 128'
send ph1 m-2 0 'refill'
check "ph1's section is answered" answered ph1 'refill'

s1=$(serial_of "$WORK/band1"); s3=$(serial_of "$WORK/ph1")
check "band1's certificate is revoked at the PSP" ctl revoke -c "$P/spnd.conf" --reason keyCompromise "$s1"
check "so is ph1's" ctl revoke -c "$P/spnd.conf" --reason keyCompromise "$s3"
both_listed() { lists "$WORK/hosp1" "$s1" && lists "$WORK/hosp1" "$s3"; }
check "the CRL reaches hosp1" wait_for 10 both_listed

# The session is an hour from its end: only the revocation can close it.
send band1 m-3 1 'pulse 130'
check "a new section in band1's open session is refused as revoked" refused_as revoked
diag "$(cat "$WORK/body")"
send band1 m-1 0 'pulse 128'
check "a retry of its answered message is refused too, not answered from the record" refused_as revoked
send ph1 m-4 1 'refill'
check "a section in the session ph1 opened as a node is refused as revoked" refused_as revoked
send band2 m-5 0 'pulse 80'
check "band2's session with the same provider goes on" answered band2 'pulse 80'
refuse "band1 cannot open another session" "revoked" open band1 "$WORK/band1"

# The provider's own certificate revoked: it takes nothing more, not even
# in the sessions it opened, when a section reaches it directly.
s2=$(serial_of "$WORK/hosp1")
check "hosp1's own certificate is revoked" ctl revoke -c "$P/spnd.conf" --reason keyCompromise "$s2"
check "the CRL reaches hosp1" wait_for 10 lists "$WORK/hosp1" "$s2"
G=$(node_url "$WORK/hosp1")
send band2 m-6 1 'pulse 90'
check "a revoked provider takes no section in a session it opened" refused_as revoked
diag "$(cat "$WORK/body")"
