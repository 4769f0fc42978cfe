#!/bin/sh
# Attacks on sections, sent by hand through a real entry node: every header
# field and every part of the ciphertext changed on the way, replays, old
# sequence numbers, unknown sessions, the wrong key; the provider acts on
# none of them. And the client refuses a revoked provider.
#   psp ─┬─ adm1 ─┬─ hosp1, hosp2 (hospital)
#        └─ gate
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "hosp1 joins" join "$WORK/hosp1" "$WORK/adm1" spn 3 hospital "$(echo_for hospital)"
check "hosp2 joins" join "$WORK/hosp2" "$WORK/adm1" spn 3 hospital "$(echo_for hospital)"
check "gate joins" join "$WORK/gate" "$P" spn 3 ""
all_at_root() { for n in adm1 hosp1 hosp2 gate; do registry_has "$P" $n || return 1; done; }
check "every node reaches the PSP's registry" wait_for 10 all_at_root
G=$(node_url "$WORK/gate")

"$SESSION_PROBE" "$G" "$CA" hospital >"$WORK/probe" 2>&1
check "a session is opened" test -s "$WORK/probe"
read -r SID PROV KP KC ME <"$WORK/probe"
diag "session $SID with $PROV"

# seal MID SEQ TEXT: a section for the session, as the client writes it.
seal() { "$JWE_TOOL" seal "$KP" "$SID" hospital "$PROV" "$ME" "$1" "$2" "$3"; }
# send MID SECTION: the message through the entry node; the answer in $WORK/body.
send() { req -X POST --json "{\"id\":\"$1\",\"sections\":[\"$2\"]}" "$G/v1/message" >/dev/null; }
# field F: F of the first reply ("section", "error", "message").
field() { $PY -c "import json; print(json.load(open('$WORK/body'))['replies'][0].get('$1', ''))"; }
# opened: the first reply opened with the key toward the client.
opened() { field section | "$JWE_TOOL" open "$KC" 2>&1 | head -n 1; }
handled() { opened | $PY -c "import json,sys; print(json.load(sys.stdin)['handled'])"; }

s1=$(seal m-1 0 'pulse 128')
send m-1 "$s1"
r1=$(field section)
n1=$(handled)
check "a section sealed by hand is answered" test -n "$r1"
check "its reply opens with the key toward the client" sh -c "echo '$r1' | '$JWE_TOOL' open '$KC' | grep -q '\"echo\":\"pulse 128\"'"
refuse "and not with the key toward the provider" "altered|another key" sh -c "echo '$r1' | '$JWE_TOOL' open '$KP'"

# A router changes one header field, keeping the rest.
forge_header() { # forge_header JWE FIELD VALUE
	$PY -c "
import base64,json,sys
h,rest=sys.argv[1].split('.',1)
d=json.loads(base64.urlsafe_b64decode(h+'='*(-len(h)%4)))
d[sys.argv[2]]=int(sys.argv[3]) if sys.argv[2]=='seq' else sys.argv[3]
print(base64.urlsafe_b64encode(json.dumps(d,separators=(',',':')).encode()).rstrip(b'=').decode()+'.'+rest)" "$@"
}
# One character of part P (2: IV, 3: ciphertext, 4: tag) changed.
forge_part() {
	$PY -c "
import sys
p=sys.argv[1].split('.')
i=int(sys.argv[2]); c=p[i][2]
p[i]=p[i][:2]+('B' if c!='B' else 'C')+p[i][3:]
print('.'.join(p))" "$@"
}
s2=$(seal m-2 1 'pulse 90')
other=$([ "$PROV" = hosp1 ] && echo hosp2 || echo hosp1)
attack() { # attack NAME MID SECTION PATTERN
	send "$2" "$3"
	if [ -z "$(field section)" ] && echo "$(field error): $(field message)" | grep -Eq "$4"; then
		ok "$1"; diag "$(field error): $(field message)"
	else
		not_ok "$1"; sed 's/^/#   /' "$WORK/body"
	fi
}
attack "a changed session id (kid) is refused" m-2 "$(forge_header "$s2" kid s-forged)" "unknown_session"
attack "a changed service (svc) is refused" m-2 "$(forge_header "$s2" svc pharmacy)" "no_provider|denied|bad_signature"
attack "a changed recipient (to) is refused" m-2 "$(forge_header "$s2" to "$other")" "unknown_session"
attack "a changed author (from) is refused" m-2 "$(forge_header "$s2" from mallory)" "bad_signature"
attack "a changed message id (mid) is refused" m-9 "$(forge_header "$s2" mid m-9)" "bad_signature"
attack "a changed sequence number (seq) is refused" m-2 "$(forge_header "$s2" seq 7)" "bad_signature"
attack "a changed IV is refused" m-2 "$(forge_part "$s2" 2)" "bad_signature"
attack "a changed ciphertext byte is refused" m-2 "$(forge_part "$s2" 3)" "bad_signature"
attack "a changed tag is refused" m-2 "$(forge_part "$s2" 4)" "bad_signature"
wrong=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
attack "a section under another key is refused" m-2 "$("$JWE_TOOL" seal "$wrong" "$SID" hospital "$PROV" "$ME" m-2 1 x)" "bad_signature"
attack "a section for a session nobody opened is refused" m-2 "$(forge_header "$s2" kid s-0000)" "unknown_session"
send m-2 "$s2"
check "the provider acted on none of them: the next message is its next one" test "$(handled)" = $((n1 + 1))

# Replays.
send m-1 "$s1"
check "a message sent again gets the recorded reply, word for word" test "$(field section)" = "$r1"
check "and the provider says it did not act on it again" grep -q "section $SID/m-1 from $ME: answered again from the record" "$WORK/$PROV/spnd.log"
# The same message in a second session with the same provider: not acted
# on again (round robin between hosp1 and hosp2 gives it back by the third).
for i in 1 2 3; do
	"$SESSION_PROBE" "$G" "$CA" hospital >"$WORK/probe2" 2>&1
	read -r SID2 PROV2 KP2 KC2 ME2 <"$WORK/probe2"
	[ "$PROV2" = "$PROV" ] && break
done
attack "a message acted on in one session is refused in another" m-1 \
	"$("$JWE_TOOL" seal "$KP2" "$SID2" hospital "$PROV" "$ME" m-1 0 'pulse 128')" "replay: .*message m-1 was handled in another session"
attack "a new message id with a used sequence number is refused" m-3 "$(seal m-3 0 'pulse 128')" "replay: .*sequence number 0 was used before"
i=2
while [ $i -lt 72 ]; do send "m-$((i + 10))" "$(seal "m-$((i + 10))" $i "beat $i")"; i=$((i + 1)); done
check "seventy more messages are answered" test -n "$(field section)"
attack "then the first one, long forgotten, is refused as a replay" m-1 "$s1" "replay: .*(too old|no longer kept)"
attack "an envelope whose id is not the section's is refused" m-other "$(seal m-5 200 x)" "invalid: .*message id"
is "a message that is not JSON gets 400 and a reason" 400 invalid -X POST --json '{"id":' "$G/v1/message"
is "one without sections too" 400 invalid -X POST --json '{"id":"m-1","sections":[]}' "$G/v1/message"
is "the entry node is still serving" 200 "" "$G/v1/health"

# The client refuses a provider the CRL it holds lists as revoked: the CRL
# is signed with the group's root like the PSP's own.
cp -r "$P" "$WORK/ca-copy" && rm -f "$WORK/ca-copy/pid"
serial=$(openssl x509 -in "$WORK/hosp1/node.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
ctl revoke -c "$WORK/ca-copy/spnd.conf" "$serial" >/dev/null 2>&1
serial2=$(openssl x509 -in "$WORK/hosp2/node.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
ctl revoke -c "$WORK/ca-copy/spnd.conf" "$serial2" >/dev/null 2>&1
refuse "a client holding a CRL that lists the providers refuses their offers" "error revoked: .*provider hosp[12]: its certificate [0-9a-f]+ is revoked" \
	client "$WORK/gate" --crl "$WORK/ca-copy/crl.pem" hospital=x
refuse "a CRL not signed by the group's root is refused" "CRL" \
	client "$WORK/gate" --crl "$WORK/hosp1/node.crt" hospital=x
