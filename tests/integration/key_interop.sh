#!/bin/sh
# Every private key file spnctl writes, of every type it makes, read by
# three tools that share no code with it: OpenSSL, GnuTLS's certtool and
# python3-cryptography. Newer python3-cryptography also refuses a P-256
# scalar that is not exactly 32 octets (RFC 5915), which the others take:
# ec_scalar.py holds every P-256 key to that whatever version is here. Many
# keys per type, since a malformed encoding may show in only some of them
# (GnuTLS wrote a scalar whose top bit is set in 33).
. "$top_srcdir/tests/lib.sh"
export SPN_KEY_PASSPHRASE="key passphrase"
SCALAR="$top_srcdir/tests/integration/ec_scalar.py"

# keys TYPE COUNT ENCRYPTED_COUNT: spnctl keygen, plain then encrypted.
keys() {
	i=0
	while [ $i -lt "$2" ]; do
		"$SPNCTL" keygen -o "$WORK/keys/$1-$i.pem" -t "$1" 2>/dev/null || return 1
		i=$((i + 1))
	done
	i=0
	while [ $i -lt "$3" ]; do
		"$SPNCTL" keygen -e -o "$WORK/keys/$1-$i.enc.pem" -t "$1" 2>/dev/null || return 1
		i=$((i + 1))
	done
}

# tools PASS FILE...: openssl and certtool open each file (encrypted ones
# with PASS); fails naming those either refuses.
tools() {
	pass=$1; shift
	for f in "$@"; do
		if grep -q ENCRYPTED "$f"; then
			openssl pkey -in "$f" -passin "pass:$pass" -noout 2>/dev/null || echo "openssl refuses $f"
			certtool -k --infile "$f" --password "$pass" >/dev/null 2>&1 || echo "certtool refuses $f"
		else
			openssl pkey -in "$f" -noout 2>/dev/null || echo "openssl refuses $f"
			certtool -k --infile "$f" >/dev/null 2>&1 || echo "certtool refuses $f"
		fi
	done | grep . && return 1
	return 0
}

# python PASS FILE...: python3-cryptography loads each (encrypted ones with
# PASS); fails naming those it refuses.
python() {
	$PY - "$@" <<'PYEOF'
import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
bad = 0
for f in sys.argv[2:]:
    data = open(f, "rb").read()
    try:
        load_pem_private_key(data, sys.argv[1].encode() if b"ENCRYPTED" in data else None)
    except Exception as e:
        bad += 1
        print(f"python3-cryptography refuses {f}: {e}")
sys.exit(1 if bad else 0)
PYEOF
}

mkdir -p "$WORK/keys"
for spec in "ed25519 24 4" "p256 64 16" "rsa2048 3 1" "rsa3072 1 1" "rsa4096 1 0"; do
	set -- $spec
	check "spnctl keygen makes $2 $1 keys, and $3 encrypted" keys "$@"
	check "$1: openssl and certtool read every one" tools "$SPN_KEY_PASSPHRASE" "$WORK/keys/$1-"*
	check "$1: python3-cryptography reads every one" python "$SPN_KEY_PASSPHRASE" "$WORK/keys/$1-"*
done
check "p256: every scalar is 32 octets, in plain and encrypted files" $PY "$SCALAR" "$SPN_KEY_PASSPHRASE" "$WORK/keys/p256-"*

# The keys init writes (the root's, encrypted, and the PSP's), those an
# issued node holds, and one the CA generates into a PKCS#12 bundle.
for kt in ed25519 p256 rsa2048; do
	G="$WORK/$kt"
	check "$kt: init writes a group" new_group "$G" "grp-$kt" "$kt"
	check "$kt: openssl and certtool read the root's key and the PSP's" \
		tools "$SPN_CA_PASSPHRASE_VALUE" "$G/ca/root.key" "$G/node.key"
	check "$kt: python3-cryptography reads them" python "$SPN_CA_PASSPHRASE_VALUE" "$G/ca/root.key" "$G/node.key"
	check "$kt: P-256 scalars are 32 octets there" $PY "$SCALAR" "$SPN_CA_PASSPHRASE_VALUE" "$G/ca/root.key" "$G/node.key"
	tok=$(ctl token -c "$G/spnd.conf" --id "band-$kt" --role client --trust 1)
	printf '{"node_id":"band-%s"}' "$kt" >"$WORK/band.json"
	ctl issue-pseudo -c "$G/spnd.conf" --json "$WORK/band.json" --token "$tok" -o "$WORK/$kt.p12" >"$WORK/p12out" 2>/dev/null
	pass=$(sed -n 's/^PKCS#12 passphrase: //p' "$WORK/p12out")
	check "$kt: openssl reads the key the CA generated, in its bundle" \
		openssl pkcs12 -in "$WORK/$kt.p12" -passin "pass:$pass" -nodes -nocerts -out "$WORK/$kt.p12.key"
	check "$kt: so does python3-cryptography" $PY -c "
import sys
from cryptography.hazmat.primitives.serialization import pkcs12
k, c, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), sys.argv[2].encode())
assert k is not None and c is not None
" "$WORK/$kt.p12" "$pass"
	certtool --p12-info --inder --infile "$WORK/$kt.p12" --password "$pass" >"$WORK/$kt.p12.info" 2>&1
	check "$kt: and its P-256 scalar is 32 octets" $PY "$SCALAR" "$pass" "$WORK/$kt.p12.info"
done
# A P-256 key's scalar has its top bit set about every other time: among
# 64 keys, both kinds were made, each written at 32 octets.
check "p256: scalars with and without the top bit set, all 32 octets" $PY - "$WORK/keys" <<'PYEOF'
import glob, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
high = low = 0
for f in glob.glob(sys.argv[1] + "/p256-*[0-9].pem"):
    d = load_pem_private_key(open(f, "rb").read(), None).private_numbers().private_value
    if d >> 255:
        high += 1
    else:
        low += 1
print(high, low)
sys.exit(0 if high and low else 1)
PYEOF
