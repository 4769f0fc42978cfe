#!/bin/sh
# Certificates, CRLs and PKCS#12 bundles made by spn, checked by tools that
# share no code with it: OpenSSL, GnuTLS's certtool and python3-cryptography.
. "$top_srcdir/tests/lib.sh"

for kt in ed25519 p256 rsa2048; do
	G="$WORK/$kt"; C="$G/spnd.conf"
	new_group "$G" "grp-$kt" "$kt" || { not_ok "init $kt"; continue; }
	enroll "$C" "node-$kt" spn 5 "healthcare,bank" "$kt" || { not_ok "enroll $kt"; continue; }
	crt="$WORK/node-$kt.crt"
	check "$kt: openssl verify" openssl verify -CAfile "$G/ca/root.crt" "$crt"
	check "$kt: openssl verify -crl_check" openssl verify -crl_check -CAfile "$G/ca/root.crt" -CRLfile "$G/crl.pem" "$crt"
	check "$kt: certtool --verify" sh -c "certtool --verify --load-ca-certificate '$G/ca/root.crt' --infile '$crt' | grep -q 'Verified'"
	cat "$crt" "$G/ca/root.crt" >"$WORK/chain.pem"
	check "$kt: certtool --verify-chain" sh -c "certtool --verify-chain --infile '$WORK/chain.pem' | grep -q 'Verified'"
	check "$kt: certtool --verify-crl" sh -c "certtool --verify-crl --load-ca-certificate '$G/ca/root.crt' --infile '$G/crl.pem' | grep -q 'Verified'"
	check "$kt: openssl shows the identity URI" sh -c "openssl x509 -in '$crt' -noout -text | grep -q 'URI:spn://grp-$kt/node-$kt?role=spn&trust=5&services=healthcare,bank'"
	check "$kt: certtool shows the identity URI" sh -c "certtool -i --infile '$crt' | grep -q 'URI: spn://grp-$kt/node-$kt'"
	check "$kt: python3-cryptography reads the bound attributes" \
		$PY "$top_srcdir/tests/integration/read_ident.py" "$crt" "grp-$kt" "node-$kt" spn 5 healthcare,bank
	serial=$(openssl x509 -in "$crt" -noout -serial | cut -d= -f2)
	ctl revoke -c "$C" --reason keyCompromise "$(echo "$serial" | tr 'A-F' 'a-f')" 2>/dev/null
	refuse "$kt: openssl verify -crl_check refuses it once revoked" "revoked" \
		openssl verify -crl_check -CAfile "$G/ca/root.crt" -CRLfile "$G/crl.pem" "$crt"
	check "$kt: python3-cryptography finds it on the CRL" $PY -c "
import sys
from cryptography import x509
crl = x509.load_pem_x509_crl(open('$G/crl.pem','rb').read())
root = x509.load_pem_x509_certificate(open('$G/ca/root.crt','rb').read())
from cryptography.hazmat.primitives.asymmetric import ed25519
# Debian 12's python3-cryptography checks CRL signatures for RSA and EC only
# (certtool --verify-crl above checks the Ed25519 one).
if not isinstance(root.public_key(), ed25519.Ed25519PublicKey):
    assert crl.is_signature_valid(root.public_key())
assert crl.get_revoked_certificate_by_serial_number(int('$serial', 16)) is not None
"
done

# Constrained devices: a pseudo-CSR with and without a public key.
G="$WORK/ed25519"; C="$G/spnd.conf"
tok=$(ctl token -c "$C" --id band-1 --role client --trust 1)
printf '{"node_id":"band-1"}' >"$WORK/band.json"
ctl issue-pseudo -c "$C" --json "$WORK/band.json" --token "$tok" -o "$WORK/band.p12" >"$WORK/p12out" 2>/dev/null
pass=$(sed -n 's/^PKCS#12 passphrase: //p' "$WORK/p12out")
check "CA-generated key comes as a 0600 PKCS#12 file" test "$(stat -c %a "$WORK/band.p12")" = 600
check "openssl pkcs12 opens the bundle with its passphrase" \
	openssl pkcs12 -in "$WORK/band.p12" -passin "pass:$pass" -nodes -out "$WORK/band.pem"
check "the bundle holds the key, the certificate and the root" sh -c \
	"grep -q 'PRIVATE KEY' '$WORK/band.pem' && test \$(grep -c 'BEGIN CERTIFICATE' '$WORK/band.pem') = 2"
refuse "openssl pkcs12 refuses a wrong passphrase" "invalid password|mac verify|error" \
	openssl pkcs12 -in "$WORK/band.p12" -passin pass:wrong -nodes -out /dev/null
check "python3-cryptography opens the bundle" $PY -c "
from cryptography.hazmat.primitives.serialization import pkcs12
k, c, extra = pkcs12.load_key_and_certificates(open('$WORK/band.p12','rb').read(), b'$pass')
assert k is not None and c is not None and len(extra) == 1
"
openssl genpkey -algorithm ed25519 -out "$WORK/dev.key" 2>/dev/null
openssl pkey -in "$WORK/dev.key" -pubout -out "$WORK/dev.pub"
$PY -c "import json; print(json.dumps({'node_id':'band-2','dns':['band2.example'],'public_key':open('$WORK/dev.pub').read()}))" >"$WORK/band2.json"
tok=$(ctl token -c "$C" --id band-2 --role client --trust 1)
check "pseudo-CSR with the device's own public key" ctl issue-pseudo -c "$C" --json "$WORK/band2.json" --token "$tok" -o "$WORK/band2.crt"
check "its certificate holds the device's key" sh -c \
	"test \"\$(openssl x509 -in '$WORK/band2.crt' -noout -pubkey)\" = \"\$(cat '$WORK/dev.pub')\""
check "and verifies with openssl" openssl verify -CAfile "$G/ca/root.crt" "$WORK/band2.crt"

# A CSR made by OpenSSL is accepted like one made by spnctl.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/o.key" \
	-subj "/CN=ossl-node" -addext "subjectAltName=DNS:ossl.example" -out "$WORK/o.csr" 2>/dev/null
tok=$(ctl token -c "$C" --id ossl-node --role spn --trust 3 --services echo)
check "CSR from openssl req is issued" ctl issue -c "$C" --csr "$WORK/o.csr" --token "$tok" -o "$WORK/o.crt"
check "with its DNS name" sh -c "openssl x509 -in '$WORK/o.crt' -noout -ext subjectAltName | grep -q 'DNS:ossl.example'"
