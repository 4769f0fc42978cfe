#!/bin/sh
# Input read one way only, on real daemons: every reader of JSON refuses a
# member twice (json-c would keep the last one); a section's sequence number
# past 2^63 is refused, not clamped; a small-order client key is the
# client's error; ids over their length are invalid (400), not an oversized
# body (413); another algorithm is named as such before its members are
# judged; a carried section that is the same message again to the provider
# it is sent to is refused once, clearly, and the same on every retry.
#   psp ─┬─ adm1 ─ bank1 (bank)
#        └─ gate
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "bank1 joins" join "$WORK/bank1" "$WORK/adm1" spn 3 bank "$(echo_for bank)"
check "gate joins" join "$WORK/gate" "$P" spn 3 ""
all_at_root() { for n in adm1 bank1 gate; do registry_has "$P" $n || return 1; done; }
check "every node reaches the PSP's registry" wait_for 10 all_at_root
G=$(node_url "$WORK/gate")
SEAL="$top_srcdir/tests/integration/seal_raw.py"
LONG65=$(printf 'a%.0s' $(seq 65))

"$SESSION_PROBE" "$G" "$CA" bank >"$WORK/probe" 2>&1
check "a session with the bank is opened" test -s "$WORK/probe"
read -r SID PROV KP KC ME <"$WORK/probe"

# hdr MID SEQ [MORE]: the header the client writes, MORE appended inside.
hdr() { printf '{"alg":"dir","enc":"A256GCM","kid":"%s","svc":"bank","to":"%s","from":"%s","mid":"%s","seq":%s%s}' \
	"$SID" "$PROV" "$ME" "$1" "$2" "${3:-}"; }
raw() { $PY "$SEAL" "$KP" "$1" "${2:-x}"; }
# alg_as START MID SEQ: the header with its first member ("alg":"dir")
# replaced by START, an object's opening and members.
alg_as() { printf '%s,%s' "$1" "$(hdr "$2" "$3" | cut -c14-)"; }
# item KEY [N]: member KEY of reply N (0) of the last answer, "" if none.
item() { $PY -c "import json; print(json.load(open('$WORK/body'))['replies'][${2:-0}].get('$1', ''))"; }
carried() { $PY -c "import json; print(json.load(open('$WORK/body')).get('${2:-carried}', [{}])[0].get('$1', ''))"; }
top() { $PY -c "import json; print(json.load(open('$WORK/body')).get('$1', ''))"; }
# sends NAME MID SECTION WANT: one section through gate; its reply's error is WANT.
sends() {
	st=$(req -X POST --json "{\"id\":\"$2\",\"sections\":[\"$3\"]}" "$G/v1/message")
	got=$(item error)
	if [ "$st" = 200 ] && [ "$got" = "$4" ]; then ok "$1 ($4)"; diag "$(item message)"; else
		not_ok "$1: $st '$got'"; awk '{print "#   " $0}' "$WORK/body"; fi
}

raw "$(hdr m-0 0)" >"$WORK/s0"
req -X POST --json "{\"id\":\"m-0\",\"sections\":[\"$(cat "$WORK/s0")\"]}" "$G/v1/message" >/dev/null
check "a section written by hand is answered" test -n "$(item section)"

# --- a member twice ---------------------------------------------------------
sends "a header with alg twice (none, then dir) is refused" m-1 "$(raw "$(alg_as '{"alg":"none"' m-1 1 | sed 's/}$/,"alg":"dir"}/')")" invalid
sends "a header with to twice is refused" m-2 "$(raw "$(hdr m-2 2 ",\"to\":\"$PROV\"")")" invalid
K=$($PY -c "import base64; print(base64.urlsafe_b64encode(bytes(range(1, 33))).rstrip(b'=').decode())")
is "the session call: its control" 200 "" -X POST --json "{\"client_key\":\"$K\",\"sessions\":[{\"session\":\"s-c\",\"service\":\"nosuch\"}]}" "$G/v1/session"
is "the session call with client_key twice" 400 invalid -X POST \
	--json "{\"client_key\":\"$K\",\"sessions\":[{\"session\":\"s-c\",\"service\":\"nosuch\"}],\"client_key\":\"$K\"}" "$G/v1/session"
is "the message: its control" 200 "" -X POST --json '{"id":"m-c","sections":["a.b.c.d.e"]}' "$G/v1/message"
is "the message with id twice" 400 invalid -X POST --json '{"id":"m-c","sections":["a.b.c.d.e"],"id":"m-d"}' "$G/v1/message"
is "the routing request: its control" 404 no_provider -X POST --json '{"kind":"session","service":"nosuch"}' "$G/v1/route"
is "the routing request with service twice" 400 invalid -X POST --json '{"kind":"session","service":"nosuch","service":"nosuch"}' "$G/v1/route"
PU=$(node_url "$P")
is "enrollment: its control" 400 bad_token -X POST --json '{"csr":"hello","token":"spn1.x.y"}' "$PU/v1/enroll"
is "enrollment with token twice" 400 invalid -X POST --json '{"csr":"hello","token":"spn1.x.y","token":"spn1.x.y"}' "$PU/v1/enroll"
is "a pseudo-CSR: its control" 400 bad_token -X POST --json '{"request":{"node_id":"band-9"},"token":"spn1.x.y"}' "$PU/v1/enroll/pseudo"
is "a pseudo-CSR with node_id twice" 400 invalid -X POST \
	--json '{"request":{"node_id":"band-9","node_id":"band-8"},"token":"spn1.x.y"}' "$PU/v1/enroll/pseudo"
AU=$(node_url "$WORK/adm1")
is "a token request: its control" 201 "" $(as "$WORK/adm1") -X POST --json '{"node":"n-9","role":"spn","trust":1}' "$AU/v1/token"
is "a token request with trust twice" 400 invalid $(as "$WORK/adm1") -X POST \
	--json '{"node":"n-9","role":"spn","trust":1,"trust":1}' "$AU/v1/token"
is "a revocation: its control" 404 not_found $(as "$P") -X POST --json '{"serial":"0123"}' "$PU/v1/revoke"
is "a revocation with serial twice" 400 invalid $(as "$P") -X POST --json '{"serial":"0123","serial":"0123"}' "$PU/v1/revoke"
is "a renewal: its control" 400 bad_certificate $(as "$WORK/bank1") -X POST --json '{"csr":"x","certificate":"x"}' "$PU/v1/renew"
is "a renewal with csr twice" 400 invalid $(as "$WORK/bank1") -X POST --json '{"csr":"x","csr":"x","certificate":"x"}' "$PU/v1/renew"

# A join token whose claims say trust twice, signed by the PSP's own key: the
# PSP would have issued it at the last one (100).
"$SPNCTL" keygen -o "$WORK/d.key" 2>/dev/null
"$SPNCTL" csr --key "$WORK/d.key" --id dup-1 --name 127.0.0.1 -o "$WORK/d.csr"
tok=$(ctl token -c "$P/spnd.conf" --id dup-1 --role spn --trust 0)
twice=$($PY "$top_srcdir/tests/integration/forge_token.py" "$tok" "$P/node.key" +trust=100)
$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2]}))" "$WORK/d.csr" "$twice" >"$WORK/enroll.json"
is "a PSP-signed token with trust twice is refused" 400 bad_token -X POST --json @"$WORK/enroll.json" "$PU/v1/enroll"
$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2]}))" "$WORK/d.csr" "$tok" >"$WORK/enroll.json"
is "the same token without it is issued" 201 "" -X POST --json @"$WORK/enroll.json" "$PU/v1/enroll"
check "at trust 0" sh -c "$PY -c \"import json; print(json.load(open('$WORK/body'))['certificate'])\" | openssl x509 -noout -ext subjectAltName | grep -q 'trust=0&'"

# --- sequence numbers past 2^63 ------------------------------------------
sends "seq 2^63 is refused, not read as 2^63-1" m-3 "$(raw "$(hdr m-3 9223372036854775808)")" invalid
sends "seq 2^64 is refused" m-4 "$(raw "$(hdr m-4 18446744073709551616)")" invalid

# --- another algorithm, with its own members ----------------------------------
pbes2() { alg_as '{"alg":"PBES2-HS512+A256KW","p2c":1000000,"p2s":"AAAAAAAAAAA"' "$1" "$2"; }
sends "PBES2 with p2c is unsupported, not an unknown field" m-5 "$(raw "$(pbes2 m-5 5)")" unsupported
sends "ECDH-ES with epk is unsupported" m-6 \
	"$(raw "$(alg_as '{"epk":{"kty":"OKP","crv":"X25519","x":"AA"},"alg":"ECDH-ES"' m-6 6)")" unsupported
sends "an unknown member with dir/A256GCM is still invalid" m-7 "$(raw "$(hdr m-7 7 ',"zip":"DEF"')")" invalid

# --- ids over their length ---------------------------------------------------
is "a session id of 65 characters: 400" 400 invalid -X POST \
	--json "{\"client_key\":\"$K\",\"sessions\":[{\"session\":\"$LONG65\",\"service\":\"bank\"}]}" "$G/v1/session"
is "a service name of 33 characters: 400" 400 invalid -X POST \
	--json "{\"client_key\":\"$K\",\"sessions\":[{\"session\":\"s-1\",\"service\":\"$(echo "$LONG65" | cut -c1-33)\"}]}" "$G/v1/session"
is "a message id of 65 characters: 400" 400 invalid -X POST --json "{\"id\":\"$LONG65\",\"sections\":[\"a.b.c.d.e\"]}" "$G/v1/message"
sends "an author (from) of 64 characters" m-8 "$(raw "$(hdr m-8 8 | sed "s/\"from\":\"$ME\"/\"from\":\"$(echo "$LONG65" | cut -c1-64)\"/")")" invalid
is "the routing request with a service of 33 characters: 400" 400 invalid -X POST \
	--json "{\"kind\":\"session\",\"service\":\"$(echo "$LONG65" | cut -c1-33)\"}" "$G/v1/route"

# --- a small-order client key -------------------------------------------------
for pt in 0000000000000000000000000000000000000000000000000000000000000000 \
	ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f; do
	sk=$($PY -c "import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).rstrip(b'=').decode())" "$pt")
	st=$(req -X POST --json "{\"client_key\":\"$sk\",\"sessions\":[{\"session\":\"s-so-${pt%"${pt#??}"}\",\"service\":\"bank\"}]}" "$G/v1/session")
	got=$($PY -c "import json; print(json.load(open('$WORK/body'))['sessions'][0].get('error', ''))")
	check "a small-order client_key ($(echo "$pt" | cut -c1-8)…) is the client's error: invalid" test "$st/$got" = "200/invalid"
done

# --- a carried section for the provider the message calls directly ---------
direct=$(raw "$(hdr m-9 9)")
again=$(raw "$(hdr m-9 10)")
for try in first again; do
	is "a carried section for the provider and session called directly: 400 ($try)" 400 invalid -X POST \
		--json "{\"id\":\"m-9\",\"sections\":[\"$direct\"],\"carry\":[\"$again\"]}" "$G/v1/message"
done
# Past the entry node (a request routed by hand): the provider answers the
# carried section invalid, records that, and a retry gets the same.
s10=$(raw "$(hdr m-10 11)"); c10=$(raw "$(hdr m-10 12)")
body="{\"kind\":\"section\",\"service\":\"bank\",\"node\":\"$PROV\",\"payload\":{\"section\":\"$s10\",\"carry\":[\"$c10\"]}}"
for try in first again; do
	st=$(req -X POST --json "$body" "$G/v1/route")
	check "routed by hand, the carried one is answered invalid by the provider ($try)" \
		test "$st/$(carried error client_replies)" = "200/invalid"
	top section >"$WORK/m10.$try"
done
check "the section it came with is answered, the second time from the record" \
	sh -c "test -s '$WORK/m10.first' && cmp -s '$WORK/m10.first' '$WORK/m10.again'"

# --- the registry: its reader too --------------------------------------------
sync() { printf '{"url":"%s","version":%s,"full":true,"nodes":[]%s}' "$G" "$1" "${2:-}"; }
is "a registry sync with version twice" 400 invalid $(as "$WORK/gate") -X POST --json "$(sync 900 ',"version":901')" "$PU/v1/tree/sync"
is "the same without it is taken" 200 "" $(as "$WORK/gate") -X POST --json "$(sync 900)" "$PU/v1/tree/sync"
is "still serving" 200 "" "$G/v1/health"
