#!/bin/sh
# Enrollment through administrators on real daemons: a key made on the
# joining node, the root pinned by fingerprint, the CSR and token sent to
# the administrator that minted the token, endorsed by it and by every
# administrator above it, checked again by the PSP. Every refusal says why;
# the daemons' HTTPS is checked with curl against the group's root.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" grp
check "adm1 joins below the PSP with spnctl enroll" join "$WORK/adm1" "$P" admin 8 ""
check "adm2 joins below adm1" join "$WORK/adm2" "$WORK/adm1" admin 8 "" "[admin]
max_children = 1"
check "m1 joins below adm2: two levels of administrators" join "$WORK/m1" "$WORK/adm2" spn 3 "pay,quote" "$(echo_for pay,quote)"
check "the ledger records adm2 as m1's parent" sh -c "[ \"\$(sqlite3 '$P/ledger.db' \"SELECT parent FROM certs WHERE node_id='m1'\")\" = adm2 ]"
check "m1's certificate names its parent (openssl)" sh -c "openssl x509 -in '$WORK/m1/node.crt' -noout -ext subjectAltName | grep -q 'spn://grp/m1?role=spn&trust=3&services=pay,quote&parent=adm2'"
check "it verifies against the root (openssl)" openssl verify -CAfile "$CA" "$WORK/m1/node.crt"
check "the key stayed on the node, mode 0600" sh -c "[ \"\$(stat -c %a '$WORK/m1/node.key')\" = 600 ]"
check "the PSP's audit trail shows the endorsements' route" grep -q 'enrollment of m1 .* endorsed and sent to the parent' "$WORK/adm1/spnd.log"
all_up() { registry_has "$P" m1; }
check "m1 registers and reaches the PSP's registry" wait_for 10 all_up

# Refusals, each with its reason, nothing issued.
count() { sqlite3 "$P/ledger.db" "SELECT COUNT(*) FROM certs"; }
before=$(count)
enroll_to() { # enroll_to DIR URL TOKEN
	"$SPNCTL" enroll --url "$2" --fingerprint "$(root_fpr "$CA")" --token "$3" -d "$1"
}
tok=$(mint "$WORK/adm1" x1 spn 3 a)
refuse "a root whose fingerprint is not the pinned one" "not the pinned" \
	"$SPNCTL" enroll --url "$(node_url "$WORK/adm1")" --fingerprint "$(printf '%064d' 0)" --token "$tok" -d "$WORK/x1"
check "no key was made for it" test ! -e "$WORK/x1/node.key"
refuse "spnctl gives a token to no one but its minter" "the server is adm2, not adm1" enroll_to "$WORK/x2" "$(node_url "$WORK/adm2")" "$tok"
if grep -q 'enrollment refused at adm2' "$WORK/adm2/spnd.log"; then not_ok "the request never reached adm2"; else ok "the request never reached adm2"; fi
"$SPNCTL" keygen -o "$WORK/x2.key" 2>/dev/null
"$SPNCTL" csr --key "$WORK/x2.key" --id x1 --name 127.0.0.1 -o "$WORK/x2.csr"
$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2]}))" "$WORK/x2.csr" "$tok" >"$WORK/x2.json"
is "a token minted by adm1 sent to adm2" 403 denied -X POST --json @"$WORK/x2.json" "$(node_url "$WORK/adm2")/v1/enroll"
check "adm2 says where it belongs" grep -q 'minted by adm1: send the request to adm1' "$WORK/body"
is "an administrator's token sent straight to the PSP" 403 denied -X POST --json @"$WORK/x2.json" "$(node_url "$P")/v1/enroll"
refuse "a token that is not one" "join token" enroll_to "$WORK/x4" "$(node_url "$WORK/adm1")" "spn1.garbage"
forged=$($PY "$top_srcdir/tests/integration/forge_token.py" "$tok" "$WORK/m1/node.key" by=adm1)
refuse "a token signed by another key" "signature" enroll_to "$WORK/x5" "$(node_url "$WORK/adm1")" "$forged"
low=$(mint "$WORK/adm1" x6 admin 3 "")
refuse "an administrator under the admin threshold (checked by adm1)" "under the admin threshold" enroll_to "$WORK/x6" "$(node_url "$WORK/adm1")" "$low"
over=$(mint "$WORK/adm2" x7 spn 3 "")
refuse "adm2's child limit (max_children = 1)" "max_children" enroll_to "$WORK/x7" "$(node_url "$WORK/adm2")" "$over"
short=$("$SPNCTL" token --key "$WORK/adm1/node.key" --cert "$WORK/adm1/node.crt" --id x8 --role spn --trust 1 --ttl 1s)
sleep 2
refuse "an expired token" "expired" enroll_to "$WORK/x8" "$(node_url "$WORK/adm1")" "$short"
check "a failed enrollment can be tried again in the same directory" enroll_to "$WORK/x8" "$(node_url "$WORK/adm1")" "$(mint "$WORK/adm1" x8 spn 1 "")"
before=$((before + 1))
check "none of them was issued a certificate" sh -c "[ \"\$(sqlite3 '$P/ledger.db' 'SELECT COUNT(*) FROM certs')\" = $before ]"
tok9=$(mint "$WORK/adm1" x9 spn 3 a)
check "a good token still works" enroll_to "$WORK/x9" "$(node_url "$WORK/adm1")" "$tok9"
refuse "and only once" "already (used|holds a valid certificate)" enroll_to "$WORK/x9b" "$(node_url "$WORK/adm1")" "$tok9"

# The endorsement chain as the PSP sees it.
$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2], 'endorsed_by': [{'node':'adm1','sig':'AAAA'}]}))" \
	"$WORK/m1/node.crt" "$(mint "$WORK/adm1" x10 spn 3 a)" >"$WORK/fake.json"
is "an endorsement that does not verify" 400 bad_signature -X POST $(as "$WORK/adm1") --json @"$WORK/fake.json" "$(node_url "$P")/v1/enroll"
is "a member that is not an administrator cannot relay" 403 denied -X POST $(as "$WORK/m1") --json @"$WORK/fake.json" "$(node_url "$P")/v1/enroll"
is "an endorsed request from an administrator that is not the last endorser" 403 denied -X POST $(as "$WORK/adm2") --json @"$WORK/fake.json" "$(node_url "$P")/v1/enroll"

# Tokens over REST: the administrator's own operator, not its members.
is "adm1's operator mints a token over REST" 201 "" -X POST $(as "$WORK/adm1") \
	--json '{"node":"x11","role":"spn","trust":2,"services":["a"]}' "$(node_url "$WORK/adm1")/v1/token"
check "and it enrolls" enroll_to "$WORK/x11" "$(node_url "$WORK/adm1")" "$($PY -c "import json; print(json.load(open('$WORK/body'))['token'])")"
is "a member cannot mint" 403 denied -X POST $(as "$WORK/m1") --json '{"node":"x12","role":"spn"}' "$(node_url "$WORK/adm2")/v1/token"
is "an administrator cannot mint another's tokens" 403 denied -X POST $(as "$WORK/adm2") --json '{"node":"x12","role":"spn"}' "$(node_url "$WORK/adm1")/v1/token"
is "an administrator cannot grant more trust than it has" 403 policy -X POST $(as "$WORK/adm1") --json '{"node":"x12","role":"admin","trust":9}' "$(node_url "$WORK/adm1")/v1/token"

# Registration: only with the administrator that accepted the node.
is "m1 cannot register below adm1" 403 denied -X POST $(as "$WORK/m1") \
	--json '{"url":"https://127.0.0.1:1","version":1,"full":true,"nodes":[]}' "$(node_url "$WORK/adm1")/v1/tree/sync"
is "an anonymous client cannot register" 403 denied -X POST \
	--json '{"url":"https://127.0.0.1:1","version":1,"full":true,"nodes":[]}' "$(node_url "$WORK/adm1")/v1/tree/sync"
is "nor read the registry" 403 denied "$(node_url "$WORK/adm1")/v1/tree"

# Interop: the administrators' HTTPS is the group's, checked by curl.
is "adm2's HTTPS verified with curl --cacert" 200 "" "$(node_url "$WORK/adm2")/v1/health"
check "it names adm2" grep -q '"node":"adm2"' "$WORK/body"
refuse "curl without the group's root refuses adm2" "certificate|SSL" curl -sS "$(node_url "$WORK/adm2")/v1/health"
new_group "$WORK/other" other
refuse "a client certificate from another group is refused" "alert|SSL|error|403" sh -c \
	"curl -sS --fail --cacert '$CA' --cert '$WORK/other/node.crt' --key '$WORK/other/node.key' '$(node_url "$WORK/adm1")/v1/tree'"
is "adm1 keeps serving" 200 "" "$(node_url "$WORK/adm1")/v1/health"

# A node talks to its parent only: pointed at another member, it refuses it.
node_stop "$WORK/m1"
sed -i "s|^parent = .*|parent = $(node_url "$WORK/adm1")|" "$WORK/m1/spnd.conf"
check "m1 starts pointed at adm1 instead of adm2" node_start "$WORK/m1"
check "it refuses to talk to adm1 as its parent" wait_for 5 grep -q 'the server is adm1, not adm2' "$WORK/m1/spnd.log"
