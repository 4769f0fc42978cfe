#!/bin/sh
# Bad input to the CA: each refusal must say why, and nothing may be written
# (no new ledger row, no output file).
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; DB="$G/ledger.db"
new_group "$G" demo
enroll "$C" admin-1 admin 8 "" || not_ok "setup admin-1"
enroll "$C" plain-1 spn 5 echo || not_ok "setup plain-1"
base=$(ledger_count "$DB")

# unchanged NAME: the ledger holds as many certificates as before and no
# output file was left behind.
unchanged() {
	if [ "$(ledger_count "$DB")" = "$base" ] && [ ! -e "$WORK/out.crt" ]; then ok "$1: nothing written"
	else not_ok "$1: something was written"; fi
}
token() { ctl token -c "$C" "$@"; }
csr_for() { "$SPNCTL" keygen -o "$WORK/$1.key" 2>/dev/null; "$SPNCTL" csr --key "$WORK/$1.key" --id "$1" -o "$WORK/$1.csr"; }

csr_for n1
tok=$(token --id n1 --role spn --trust 5 --services echo)

# A CSR whose signature does not match its contents.
$PY - "$WORK/n1.csr" "$WORK/badsig.csr" <<'PY'
import base64, sys
pem = open(sys.argv[1]).read().splitlines()
der = bytearray(base64.b64decode("".join(pem[1:-1])))
der[-1] ^= 0x01
b64 = base64.b64encode(bytes(der)).decode()
open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE REQUEST-----\n" + "\n".join(b64[i:i+64] for i in range(0, len(b64), 64)) + "\n-----END CERTIFICATE REQUEST-----\n")
PY
refuse "CSR with a bad signature" "signature does not verify" ctl issue -c "$C" --csr "$WORK/badsig.csr" --token "$tok" -o "$WORK/out.crt"
unchanged "bad signature"
head -n 3 "$WORK/n1.csr" >"$WORK/trunc.csr"
refuse "truncated PEM" "truncated" ctl issue -c "$C" --csr "$WORK/trunc.csr" --token "$tok" -o "$WORK/out.crt"
unchanged "truncated PEM"
{ cat "$WORK/n1.csr"; head -c 20000 /dev/zero | tr '\0' 'A'; } >"$WORK/big.csr"
refuse "oversized PEM" "larger than" ctl issue -c "$C" --csr "$WORK/big.csr" --token "$tok" -o "$WORK/out.crt"
unchanged "oversized PEM"
printf 'hello\n' >"$WORK/junk.csr"
refuse "not a PEM at all" "not a PEM" ctl issue -c "$C" --csr "$WORK/junk.csr" --token "$tok" -o "$WORK/out.crt"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$WORK/p384.key" -subj /CN=n1 -out "$WORK/p384.csr" 2>/dev/null
refuse "unsupported key (P-384)" "only the P-256 curve|not supported" ctl issue -c "$C" --csr "$WORK/p384.csr" --token "$tok" -o "$WORK/out.crt"
unchanged "unsupported key"
openssl req -new -newkey rsa:1024 -nodes -keyout "$WORK/r1024.key" -subj /CN=n1 -out "$WORK/r1024.csr" 2>/dev/null
refuse "unsupported key (RSA 1024)" "not supported" ctl issue -c "$C" --csr "$WORK/r1024.csr" --token "$tok" -o "$WORK/out.crt"
unchanged "RSA 1024"

# Tokens.
check "a good token is accepted once" ctl issue -c "$C" --csr "$WORK/n1.csr" --token "$tok" -o "$WORK/n1.crt"
base=$(ledger_count "$DB")
csr_for n1x
refuse "a token used twice" "already|token" ctl issue -c "$C" --csr "$WORK/n1.csr" --token "$tok" -o "$WORK/out.crt"
unchanged "token reuse"
csr_for n2
tok2=$(token --id n2 --role spn --trust 5)
refuse "a token for another node id" "join token is for node 'n2'" ctl issue -c "$C" --csr "$WORK/n1x.csr" --token "$tok2" -o "$WORK/out.crt"
unchanged "other node id"
old=$(( $(date +%s) - 7200 ))
tokx=$(SPN_FAKE_TIME=$old ctl_test token -c "$C" --id n2 --role spn --trust 5 2>/dev/null)
refuse "an expired token" "expired" ctl issue -c "$C" --csr "$WORK/n2.csr" --token "$tokx" -o "$WORK/out.crt"
unchanged "expired token"
tokf=$(SPN_FAKE_TIME=$(( $(date +%s) + 3600 )) ctl_test token -c "$C" --id n2 --role spn --trust 5 2>/dev/null)
refuse "a token issued in the future says so, not that it lives too long" "issued [0-9]+s from now.*check the clock of psp" \
	ctl issue -c "$C" --csr "$WORK/n2.csr" --token "$tokf" -o "$WORK/out.crt"
unchanged "token from the future"
tokf=$(SPN_FAKE_TIME=$(( $(date +%s) + 120 )) ctl_test token -c "$C" --id n2 --role spn --trust 5 2>/dev/null)
check "a token issued within the clock skew tolerated is accepted" ctl issue -c "$C" --csr "$WORK/n2.csr" --token "$tokf" -o "$WORK/n2.crt"
base=$(ledger_count "$DB")
tampered=$(printf %s "$tok2" | $PY -c "
import sys, base64, json
h, c, s = sys.stdin.read().split('.')
claims = json.loads(base64.urlsafe_b64decode(c + '=' * (-len(c) % 4)))
claims['trust'] = 9
c2 = base64.urlsafe_b64encode(json.dumps(claims, separators=(',', ':')).encode()).decode().rstrip('=')
print('.'.join([h, c2, s]))")
refuse "a token with altered claims" "signature does not verify" ctl issue -c "$C" --csr "$WORK/n2.csr" --token "$tampered" -o "$WORK/out.crt"
unchanged "altered token"
refuse "garbage instead of a token" "not a join token" ctl issue -c "$C" --csr "$WORK/n2.csr" --token "hello" -o "$WORK/out.crt"
refuse "an spn cannot mint tokens" "cannot accept members" \
	"$SPNCTL" token --key "$WORK/plain-1.key" --cert "$WORK/plain-1.crt" --id n2 --role spn --trust 1

# The group's policy.
refuse "the PSP's own id cannot be enrolled" "is the PSP's" token --id psp --role spn --trust 1
pspt=$("$SPNCTL" token --key "$WORK/admin-1.key" --cert "$WORK/admin-1.crt" --id psp --role spn --trust 1)
csr_for psp
refuse "nor through an admin's token" "is the PSP's" ctl issue -c "$C" --csr "$WORK/psp.csr" --token "$pspt" -o "$WORK/out.crt"
unchanged "PSP id"
refuse "PSP refuses to mint an admin token under the threshold" "under the admin threshold" \
	token --id adm-low --role admin --trust 3
csr_for adm-low
lowtok=$("$SPNCTL" token --key "$WORK/admin-1.key" --cert "$WORK/admin-1.crt" --id adm-low --role admin --trust 3)
refuse "trust level under the admin threshold" "under the admin threshold" ctl issue -c "$C" --csr "$WORK/adm-low.csr" --token "$lowtok" -o "$WORK/out.crt"
unchanged "under threshold"
csr_for adm-high
refuse "an admin's own tool will not grant more trust than it has" "cannot grant trust 9" \
	"$SPNCTL" token --key "$WORK/admin-1.key" --cert "$WORK/admin-1.crt" --id adm-high --role admin --trust 9
# The same claim signed by the admin's key by hand: the PSP checks it too.
hightok=$("$SPNCTL" token --key "$WORK/admin-1.key" --cert "$WORK/admin-1.crt" --id adm-high --role admin --trust 8)
hightok=$($PY "$top_srcdir/tests/integration/forge_token.py" "$hightok" "$WORK/admin-1.key" trust=9)
refuse "an admin cannot grant more trust than it has" "cannot grant trust 9" ctl issue -c "$C" --csr "$WORK/adm-high.csr" --token "$hightok" -o "$WORK/out.crt"
unchanged "trust above minter"
refuse "a node id already in use" "already holds a valid certificate" sh -c \
	"tok=\$(SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' token -c '$C' --id n1 --role spn --trust 1) && SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' issue -c '$C' --csr '$WORK/n1.csr' --token \"\$tok\" -o '$WORK/out.crt'"
unchanged "node id in use"

sed -i 's/^max_children = .*/max_children = 2/' "$C"
for i in 1 2 3; do
	csr_for "kid-$i"
	t=$("$SPNCTL" token --key "$WORK/admin-1.key" --cert "$WORK/admin-1.crt" --id "kid-$i" --role spn --trust 2)
	if [ $i -lt 3 ]; then
		check "admin-1 accepts kid-$i" ctl issue -c "$C" --csr "$WORK/kid-$i.csr" --token "$t" -o "$WORK/kid-$i.crt"
	else
		base=$(ledger_count "$DB")
		refuse "an admin over its child limit" "max_children = 2" ctl issue -c "$C" --csr "$WORK/kid-3.csr" --token "$t" -o "$WORK/out.crt"
		unchanged "child limit"
	fi
done

# Pseudo-CSRs: each name is of the type its member says.
"$SPNCTL" keygen -o "$WORK/ps.key" 2>/dev/null
pseudo() { # pseudo ID DNS_JSON IP_JSON: a pseudo-CSR in $WORK/ps.json
	$PY -c "import json,sys; print(json.dumps({'node_id': sys.argv[1], 'dns': json.loads(sys.argv[2]), 'ip': json.loads(sys.argv[3]), 'public_key': open(sys.argv[4]).read()}))" \
		"$1" "$2" "$3" "$WORK/ps.pub" >"$WORK/ps.json"
}
openssl pkey -in "$WORK/ps.key" -pubout -out "$WORK/ps.pub"
tokp=$(token --id ps-1 --role client --trust 1)
pseudo ps-1 '[]' '["not-an-ip"]'
refuse "a pseudo-CSR ip that is not an IP address" "ip\[0\]: 'not-an-ip' is not an IP address" \
	ctl issue-pseudo -c "$C" --json "$WORK/ps.json" --token "$tokp" -o "$WORK/out.crt"
unchanged "ip not an IP address"
pseudo ps-1 '["10.0.0.7"]' '[]'
refuse "a pseudo-CSR dns entry that is an IP address" "dns\[0\]: '10.0.0.7' is an IP address, not a DNS name" \
	ctl issue-pseudo -c "$C" --json "$WORK/ps.json" --token "$tokp" -o "$WORK/out.crt"
unchanged "dns entry an IP address"
openssl req -new -key "$WORK/ps.key" -subj /CN=ps-1 -addext "subjectAltName=DNS:10.0.0.7" -out "$WORK/ipdns.csr" 2>/dev/null
refuse "a CSR whose DNS name is an IP address" "CSR DNS name 0: '10.0.0.7' is an IP address" \
	ctl issue -c "$C" --csr "$WORK/ipdns.csr" --token "$tokp" -o "$WORK/out.crt"
unchanged "CSR DNS name an IP address"
pseudo ps-1 '["ps-1.example"]' '["192.0.2.7", "2001:db8::7"]'
check "a pseudo-CSR with a DNS name and IP addresses is issued" ctl issue-pseudo -c "$C" --json "$WORK/ps.json" --token "$tokp" -o "$WORK/ps.crt"
check "with each name of its type" sh -c "openssl x509 -in '$WORK/ps.crt' -noout -ext subjectAltName | grep -q 'DNS:ps-1.example, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:7'"
base=$(ledger_count "$DB")

# Profiles: a key usage the key's type may not carry is refused.
csr_typed() { "$SPNCTL" keygen -o "$WORK/$1.key" -t "$2" 2>/dev/null; "$SPNCTL" csr --key "$WORK/$1.key" --id "$1" -o "$WORK/$1.csr"; }
cp "$C" "$WORK/conf.bak"
sed -i '/^\[profile.spn\]/,/^\[/ s/^key_usage = .*/key_usage = digital_signature, key_encipherment/' "$C"
csr_typed ku-ed ed25519
t=$(token --id ku-ed --role spn --trust 1)
refuse "key_encipherment on an Ed25519 key is refused, naming profile and key type" \
	"\[profile.spn\] key_usage key_encipherment cannot be used with ed25519 keys" \
	ctl issue -c "$C" --csr "$WORK/ku-ed.csr" --token "$t" -o "$WORK/out.crt"
unchanged "key_encipherment on Ed25519"
csr_typed ku-ec p256
t=$(token --id ku-ec --role spn --trust 1)
refuse "key_encipherment on an ECDSA key is refused" "\[profile.spn\] key_usage key_encipherment cannot be used with p256 keys" \
	ctl issue -c "$C" --csr "$WORK/ku-ec.csr" --token "$t" -o "$WORK/out.crt"
unchanged "key_encipherment on ECDSA"
csr_typed ku-rsa rsa2048
t=$(token --id ku-rsa --role spn --trust 1)
check "key_encipherment on an RSA key is issued" ctl issue -c "$C" --csr "$WORK/ku-rsa.csr" --token "$t" -o "$WORK/ku-rsa.crt"
check "with that key usage" sh -c "openssl x509 -in '$WORK/ku-rsa.crt' -noout -ext keyUsage | grep -q 'Key Encipherment'"
sed -i '/^\[profile.spn\]/,/^\[/ s/^key_usage = .*/key_usage = digital_signature, key_agreement/' "$C"
t=$(token --id ku-ec --role spn --trust 1)
check "key_agreement on an ECDSA key is issued" ctl issue -c "$C" --csr "$WORK/ku-ec.csr" --token "$t" -o "$WORK/ku-ec.crt"
base=$(ledger_count "$DB")
refuse "on an Ed25519 key it is refused" "key_usage key_agreement cannot be used with ed25519 keys" \
	ctl issue -c "$C" --csr "$WORK/ku-ed.csr" --token "$(token --id ku-ed --role spn --trust 1)" -o "$WORK/out.crt"
unchanged "key_agreement on Ed25519"
cp "$WORK/conf.bak" "$C"

# The configuration: errors name the file, line, section and key.
sed -i 's/^max_children = .*/max_children = many/' "$C"
line=$(grep -n '^max_children' "$C" | cut -d: -f1)
refuse "a bad config value names file:line: [section] key" "spnd.conf:$line: \[ca\] max_children: expected an integer" \
	"$SPNCTL" list -c "$C"
sed -i 's/^max_children = .*/max_chilren = 2/' "$C"
refuse "an unknown key is named" "\[ca\] max_chilren: unknown key" "$SPNCTL" list -c "$C"
