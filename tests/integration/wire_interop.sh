#!/bin/sh
# What spn's daemons emit, read by parsers that share nothing with spn. The
# reference scenario (carried sections, calls between services, each with
# its own session offers) and a session held by the test runs on plain
# HTTP with every byte on loopback captured; every section and every
# session offer in the capture is then read with a strict JSON reader
# (wire_extract.py) and with the jose package and Node's crypto
# (tests/interop/wire.mjs): the sections of the test's session open under
# its keys, every other one parses to its tag, every offer's certificate and
# signature verify. Nodes hold Ed25519, P-256 and RSA keys, and every key
# file spnctl wrote loads in python3-cryptography.
#   psp ─┬─ admin-care ─┬─ healthcare-1, hospital-1, lab-1
#        ├─ admin-east ─── pharmacy-1
#        └─ bank-1
. "$top_srcdir/tests/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null 2>&1; then
	skip "capturing loopback needs root and tcpdump (tests/scripts/deps-debian.sh test installs it)"
	exit 0
fi
JS="$top_builddir/tests/interop-node"
check "the npm packages are installed" sh "$top_srcdir/tests/scripts/deps-npm.sh" "$JS"
P="$WORK/psp"; CA="$P/ca/root.crt"
IBAN=DE02120300000000202051

# wjoin DIR PARENT_DIR ROLE TRUST SERVICES KEYTYPE [EXTRA_CONF]: pjoin with
# the node's key of the type given.
wjoin() {
	tok=$(mint "$2" "$(basename "$1")" "$3" "$4" "$5") &&
	"$SPNCTL" enroll --url "$(purl "$2")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$1" \
		--key-type "$6" >/dev/null &&
	printf '\n%s\n%s\n' "$TREE_SETTINGS" "${7:-}" >>"$1/spnd.conf" && { [ "$3" = client ] || node_start "$1"; }
}
psp() {
	new_group "$P" care p256 &&
	printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\ntls = false\n\n%s\n' "$TREE_SETTINGS" \
		>>"$P/spnd.conf" && node_start "$P"
}
check "the PSP starts on plain HTTP, with P-256 keys" psp
check "admin-care joins (Ed25519)" wjoin "$WORK/admin-care" "$P" admin 8 "" ed25519
check "admin-east joins (RSA)" wjoin "$WORK/admin-east" "$P" admin 8 "" rsa2048
check "healthcare-1 joins (P-256)" wjoin "$WORK/healthcare-1" "$WORK/admin-care" spn 6 healthcare p256 "$(plugins healthcare)"
check "hospital-1 joins (RSA)" wjoin "$WORK/hospital-1" "$WORK/admin-care" spn 6 hospital rsa2048 "$(plugins hospital)"
check "lab-1 joins (Ed25519)" wjoin "$WORK/lab-1" "$WORK/admin-care" spn 3 lab ed25519 "$(echo_for lab)"
check "pharmacy-1 joins (Ed25519)" wjoin "$WORK/pharmacy-1" "$WORK/admin-east" spn 5 pharmacy ed25519 "$(plugins pharmacy)"
check "bank-1 joins (P-256)" wjoin "$WORK/bank-1" "$P" spn 7 bank p256 \
	"$(plugins bank "$(printf '[plugin.bank]\ndata = ../bank-1-data\nseed = %s:Ada Muster:100.00' "$IBAN")")"
check "the wristband enrolls (P-256)" wjoin "$WORK/band" "$P" client 1 "" p256
up() { for n in healthcare-1 hospital-1 lab-1 pharmacy-1 bank-1; do
	"$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q " $n " || return 1; done; }
check "the tree is up" wait_for 10 up

capture_start
scenario_send "$(purl "$WORK/admin-east")" "$IBAN"
# A session whose keys the test holds: its section and reply open in jose.
"$SESSION_PROBE" "$(purl "$P")" "$CA" lab >"$WORK/probe" 2>&1
read -r SID PROV KP KC ME <"$WORK/probe"
s=$("$JWE_TOOL" seal "$KP" "$SID" lab "$PROV" "$ME" m-lab-1 0 'sample 7: ferritin')
curl -sS -o "$WORK/lab.json" --json "{\"id\":\"m-lab-1\",\"sections\":[\"$s\"]}" "$(purl "$P")/v1/message"
capture_stop
check "the scenario ran: the bank authorised, the pharmacy delivers" \
	sh -c "grep -q '^bank from bank-1: {\"status\":\"authorised\"' '$WORK/c' && grep -q '\"status\":\"delivering\"' '$WORK/c'"
check "the lab answered the section written by hand" grep -q '"section":"eyJ' "$WORK/lab.json"

$PY "$top_srcdir/tests/integration/wire_extract.py" "$WORK/lo.pcap" "$WORK/found.json" $(cat "$WORK"/*/spnd.port) \
	>"$WORK/extract" 2>&1
rc=$?
diag "$(tr '\n' '|' <"$WORK/extract")"
check "every section and offer on the wire passes the strict JSON reader" test $rc = 0
read -r nsec _ noff _ <"$WORK/extract"
check "the capture holds the scenario's sections and offers (calls between services too)" \
	test "${nsec:-0}" -ge 12 -a "${noff:-0}" -ge 6
printf '{"%s": {"provider": "%s", "to_provider": "%s", "to_client": "%s"}}' "$SID" "$PROV" "$KP" "$KC" >"$WORK/keys.json"
node "$JS/wire.mjs" "$WORK/found.json" "$WORK/keys.json" "$CA" >"$WORK/jose" 2>&1
rc=$?
diag "$(tr '\n' '|' <"$WORK/jose")"
check "jose reads every section strictly, Node's crypto verifies every offer" test $rc = 0
check "the test's section and its reply open in jose under the session's keys" grep -q '^2 sections opened' "$WORK/jose"

# Every key file spnctl wrote for this group: the root's (encrypted), the
# nodes' and the wristband's.
find "$WORK" -name '*.key' | sort >"$WORK/keyfiles"
check "spnctl wrote a key file for each of the 9 members and the root" test "$(wc -l <"$WORK/keyfiles")" -ge 10
check "python3-cryptography loads every one" $PY - "$SPN_CA_PASSPHRASE_VALUE" $(cat "$WORK/keyfiles") <<'PYEOF'
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
for f in sys.argv[2:]:
    data = open(f, "rb").read()
    load_pem_private_key(data, sys.argv[1].encode() if b"ENCRYPTED" in data else None)
PYEOF
check "every P-256 one holds a 32-octet scalar" $PY "$top_srcdir/tests/integration/ec_scalar.py" \
	"$SPN_CA_PASSPHRASE_VALUE" $(cat "$WORK/keyfiles")
