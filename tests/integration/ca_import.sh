#!/bin/sh
# Adopting an existing CA (spnctl init --import-root, --import-key): CAs made
# by OpenSSL and certtool (P-256, Ed25519, RSA; a self-signed root, an
# intermediate under an outside root, a key in a SoftHSM token). The group
# issues under the adopted CA, OpenSSL and certtool verify what it issued
# against the outside root, and nodes talk TLS with the chain. Each
# unsuitable CA or key is refused with its reason and leaves nothing that
# would stop the next attempt.
. "$top_srcdir/tests/lib.sh"
O="$WORK/outside"
mkdir -p "$O"
# No extensions from the system's openssl.cnf: each certificate has the
# ones its test gives it.
printf '[req]\ndistinguished_name = dn\n[dn]\n' >"$O/openssl.cnf"

# keygen NAME ALG: an outside key, mode 0600 as spn wants a key file.
keygen() {
	case $2 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$O/$1.key" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$O/$1.key" ;;
	ed25519) openssl genpkey -algorithm ed25519 -out "$O/$1.key" ;;
	rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$O/$1.key" ;;
	esac 2>/dev/null && chmod 600 "$O/$1.key"
}

# selfsigned NAME ALG [EXT...]: a self-signed certificate by OpenSSL; by
# default a CA that may sign certificates and CRLs.
selfsigned() {
	n=$1 alg=$2; shift 2
	[ $# -gt 0 ] || set -- "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign"
	keygen "$n" "$alg" || return 1
	set -- $(for e in "$@" subjectKeyIdentifier=hash; do printf -- '-addext %s ' "$e"; done)
	openssl req -config "$O/openssl.cnf" -x509 -new -key "$O/$n.key" -subj "/O=Outside Org/CN=$n" -days 3650 -out "$O/$n.pem" "$@" 2>/dev/null
}

# signed NAME ALG ISSUER EXT...: a certificate NAME issued by ISSUER.
signed() {
	n=$1 alg=$2 iss=$3; shift 3
	keygen "$n" "$alg" || return 1
	printf '%s\n' "$@" subjectKeyIdentifier=hash authorityKeyIdentifier=keyid >"$O/$n.ext"
	openssl req -config "$O/openssl.cnf" -new -key "$O/$n.key" -subj "/O=Outside Org/CN=$n" -out "$O/$n.csr" 2>/dev/null &&
	openssl x509 -req -in "$O/$n.csr" -CA "$O/$iss.pem" -CAkey "$O/$iss.key" -CAcreateserial -days 1825 \
		-extfile "$O/$n.ext" -out "$O/$n.pem" 2>/dev/null
}

# adopt DIR CERT KEY [ARGS...]: spnctl init adopting CERT and KEY.
adopt() {
	d=$1 c=$2 k=$3; shift 3
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPNCTL" init -d "$d" -g grp --name 127.0.0.1 \
		--import-root "$c" --import-key "$k" "$@"
}

# verified NAME LEAF ROOT [UNTRUSTED]: OpenSSL and certtool both verify
# LEAF up to ROOT (through UNTRUSTED, when given).
verified() {
	if [ -n "${4:-}" ]; then
		check "$1: openssl verify" openssl verify -CAfile "$3" -untrusted "$4" "$2"
	else
		check "$1: openssl verify" openssl verify -CAfile "$3" "$2"
	fi
	check "$1: certtool --verify" sh -c "certtool --verify --load-ca-certificate '$3' --infile '$2' | grep -q 'Verified'"
}

# keyid CERT EXT: the key identifier in CERT's extension EXT.
keyid() { openssl x509 -in "$1" -noout -ext "$2" | sed -n '2{s/keyid://;s/ //g;p}'; }

# first_cert PEM: the first certificate of a PEM file.
first_cert() { openssl x509 -in "$1"; }
ncerts() { grep -c 'BEGIN CERTIFICATE' "$1"; }

# --- a self-signed outside root of each key type -----------------------------
for kt in p256 ed25519 rsa2048; do
	G="$WORK/g-$kt"
	selfsigned "root-$kt" "$kt" || { not_ok "$kt: openssl makes the outside CA"; continue; }
	check "$kt: spnctl init adopts it" adopt "$G" "$O/root-$kt.pem" "$O/root-$kt.key"
	check "$kt: ca/root.crt is the outside CA itself" cmp -s "$G/ca/root.crt" "$O/root-$kt.pem"
	check "$kt: the key is copied encrypted, mode 0600" sh -c \
		"grep -q 'ENCRYPTED PRIVATE KEY' '$G/ca/root.key' && [ \"\$(stat -c %a '$G/ca/root.key')\" = 600 ]"
	check "$kt: no chain file for a self-signed CA" sh -c "[ ! -e '$G/ca/chain.pem' ] && ! grep -q '^chain' '$G/spnd.conf'"
	verified "$kt: the PSP's own certificate" "$G/node.crt" "$O/root-$kt.pem"
	enroll "$G/spnd.conf" "m-$kt" spn 5 pay "$kt" || { not_ok "$kt: a member is issued a certificate"; continue; }
	verified "$kt: the member's certificate" "$WORK/m-$kt.crt" "$O/root-$kt.pem"
	aki=$(keyid "$WORK/m-$kt.crt" authorityKeyIdentifier) ski=$(keyid "$O/root-$kt.pem" subjectKeyIdentifier)
	check "$kt: it names the CA's key (authorityKeyIdentifier $aki)" test -n "$aki" -a "$aki" = "$ski"
	check "$kt: the CRL verifies against the outside CA" \
		openssl verify -crl_check -CAfile "$O/root-$kt.pem" -CRLfile "$G/crl.pem" "$WORK/m-$kt.crt"
done

openssl x509 -in "$O/root-ed25519.pem" -outform DER -out "$O/root-ed25519.der"
check "a CA certificate in DER is adopted too" adopt "$WORK/g-der" "$O/root-ed25519.der" "$O/root-ed25519.key"
check "and kept as PEM" cmp -s "$WORK/g-der/ca/root.crt" "$O/root-ed25519.pem"

# The P-256 group runs: the PSP starts under the adopted CA, a member joins
# over REST pinning it, and a message routes between them over TLS.
P="$WORK/g-p256"; CA="$P/ca/root.crt"
check "p256: the PSP starts under the adopted CA" psp_serve "$P"
check "p256: a member joins over REST" join "$WORK/j-p256" "$P" spn 3 pay "$(echo_for pay)"
verified "p256: the joined member's certificate" "$WORK/j-p256/node.crt" "$O/root-p256.pem"
answered() { [ "$(route "$P" '{"service":"pay"}')" = 200 ] && [ "$(path_of)" = "psp>j-p256" ]; }
check "p256: the PSP routes a message to the member over TLS" wait_for 10 answered
node_stop "$WORK/j-p256"
node_stop "$P"

# --- refusals: each names what is wrong; nothing stays behind ---------------
R="$WORK/retry"
# refused NAME PATTERN CERT KEY [ARGS...]
refused() {
	name=$1 pattern=$2; shift 2
	refuse "$name" "$pattern" adopt "$R" "$@"
	check "$name: nothing written" sh -c "[ ! -e '$R/spnd.conf' ] && [ ! -e '$R/ca' ]"
}
selfsigned leaf p256 "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature"
refused "a certificate that is not a CA's" "leaf.pem.*CA:FALSE: not a CA certificate" "$O/leaf.pem" "$O/leaf.key"
selfsigned nobc p256 "keyUsage=critical,keyCertSign,cRLSign"
refused "a certificate without basicConstraints" "nobc.pem.*no basicConstraints" "$O/nobc.pem" "$O/nobc.key"
refused "the key of another certificate" "does not belong to the CA certificate in .*root-ed25519.pem" \
	"$O/root-ed25519.pem" "$O/leaf.key"
selfsigned nosign p256 "basicConstraints=critical,CA:TRUE" "keyUsage=critical,digitalSignature,cRLSign"
refused "a CA whose keyUsage lacks keyCertSign" "nosign.pem.*lacks keyCertSign" "$O/nosign.pem" "$O/nosign.key"
selfsigned nocrl p256 "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign"
refused "a CA whose keyUsage lacks cRLSign" "nocrl.pem.*lacks cRLSign" "$O/nocrl.pem" "$O/nocrl.key"
selfsigned p384 p384
refused "a P-384 CA" "p384.pem.*(unsupported|P-256)" "$O/p384.pem" "$O/p384.key"
selfsigned rsa1024 rsa1024
refused "an RSA-1024 CA" "rsa1024.pem.*unsupported key" "$O/rsa1024.pem" "$O/rsa1024.key"
# Expired and not yet valid: real dates, written by certtool.
keygen old p256
printf 'cn = "old"\nca\ncert_signing_key\ncrl_signing_key\nactivation_date = "2015-01-01 00:00:00"\nexpiration_date = "2016-01-01 00:00:00"\n' >"$O/old.tmpl"
certtool --generate-self-signed --load-privkey "$O/old.key" --template "$O/old.tmpl" --outfile "$O/old.pem" 2>/dev/null
refused "an expired CA" "old.pem.*expired on 2016-01-01" "$O/old.pem" "$O/old.key"
keygen future p256
printf 'cn = "future"\nca\ncert_signing_key\ncrl_signing_key\nactivation_date = "2090-01-01 00:00:00"\nexpiration_date = "2091-01-01 00:00:00"\n' >"$O/future.tmpl"
certtool --generate-self-signed --load-privkey "$O/future.key" --template "$O/future.tmpl" --outfile "$O/future.pem" 2>/dev/null
refused "a CA not valid yet" "future.pem.*not valid before 2090-01-01" "$O/future.pem" "$O/future.key"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$O/root-p256.key" -passout pass:the-right-one -out "$O/enc.key"
chmod 600 "$O/enc.key"
SPN_CA_PASSPHRASE_SAVED=$SPN_CA_PASSPHRASE_VALUE
SPN_CA_PASSPHRASE_VALUE=not-the-right-one
refused "an encrypted key with the wrong passphrase" "enc.key: wrong passphrase" "$O/root-p256.pem" "$O/enc.key"
SPN_CA_PASSPHRASE_VALUE=the-right-one
check "the encrypted key with its passphrase, in the same directory" adopt "$R" "$O/root-p256.pem" "$O/enc.key"
SPN_CA_PASSPHRASE_VALUE=$SPN_CA_PASSPHRASE_SAVED
check "the copy opens with that passphrase" sh -c \
	"openssl pkey -in '$R/ca/root.key' -passin pass:the-right-one -noout"
refuse "a directory that holds a group already" "already exists" adopt "$R" "$O/root-p256.pem" "$O/root-p256.key"
refuse "--import-root without --import-key" "go together" "$SPNCTL" init -d "$WORK/x" -g grp --import-root "$O/root-p256.pem"

# --- an intermediate under an outside root ----------------------------------
selfsigned top p256 "basicConstraints=critical,CA:TRUE,pathlen:1" "keyUsage=critical,keyCertSign,cRLSign"
signed inter p256 top "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
cat "$O/inter.pem" "$O/top.pem" >"$O/inter-chain.pem"
I="$WORK/g-inter"; CA="$I/ca/root.crt"
check "the intermediate with its chain is adopted" adopt "$I" "$O/inter-chain.pem" "$O/inter.key"
check "ca/root.crt is the intermediate, ca/chain.pem the root above it" sh -c \
	"cmp -s '$I/ca/root.crt' '$O/inter.pem' && cmp -s '$I/ca/chain.pem' '$O/top.pem' && grep -q '^chain = ca/chain.pem' '$I/spnd.conf'"
enroll "$I/spnd.conf" m-inter spn 5 pay p256
# subjects PEM: the common names of the certificates in PEM, in order.
subjects() {
	openssl crl2pkcs7 -nocrl -certfile "$1" | openssl pkcs7 -print_certs -noout |
		sed -n 's/^subject=.*CN = \([^,]*\).*/\1/p' | tr '\n' ' '
}
check "the issued PEM holds the leaf, then the intermediate and the root" test "$(subjects "$WORK/m-inter.crt")" = "m-inter inter top "
first_cert "$WORK/m-inter.crt" >"$WORK/m-inter.leaf"
check "openssl verifies leaf to the outside root through the chain it carries" \
	openssl verify -CAfile "$O/top.pem" -untrusted "$WORK/m-inter.crt" "$WORK/m-inter.leaf"
refuse "without the chain the leaf does not verify to the outside root" "unable to get local issuer" \
	openssl verify -CAfile "$O/top.pem" "$WORK/m-inter.leaf"
check "certtool verifies the carried chain to the outside root" sh -c \
	"certtool --verify --load-ca-certificate '$O/top.pem' --infile '$WORK/m-inter.crt' | grep -q 'Verified'"
first_cert "$I/node.crt" >"$WORK/psp-inter.leaf"
check "the PSP's certificate carries the chain too" openssl verify -CAfile "$O/top.pem" -untrusted "$I/node.crt" \
	"$WORK/psp-inter.leaf"
tok=$(ctl token -c "$I/spnd.conf" --id band-inter --role client --trust 1)
printf '{"node_id":"band-inter"}' >"$WORK/band.json"
SPN_P12_PASSPHRASE=bundle-pass ctl issue-pseudo -c "$I/spnd.conf" --json "$WORK/band.json" --token "$tok" \
	-o "$WORK/band.p12" >/dev/null 2>&1
check "a CA-made PKCS#12 bundle holds the key, the certificate and the chain" sh -c \
	"openssl pkcs12 -in '$WORK/band.p12' -passin pass:bundle-pass -nodes -out '$WORK/band.pem' && \
	 [ \$(grep -c 'BEGIN CERTIFICATE' '$WORK/band.pem') = 3 ] && grep -q 'PRIVATE KEY' '$WORK/band.pem'"
# One-minute certificates: the member renews within the test.
check "the PSP starts under the intermediate" psp_serve "$I" 60s
check "a member joins over REST, pinning the intermediate" join "$WORK/j-inter" "$I" spn 3 pay "$(echo_for pay)"
check "its node.crt carries the chain" sh -c "[ \$(grep -c 'BEGIN CERTIFICATE' '$WORK/j-inter/node.crt') = 3 ]"
answered() { [ "$(route "$I" '{"service":"pay"}')" = 200 ] && [ "$(path_of)" = "psp>j-inter" ]; }
check "the PSP routes a message to the member over TLS" wait_for 10 answered
back() { [ "$(route "$WORK/j-inter" '{"node":"psp"}')" = 200 ] && [ "$(path_of)" = "j-inter>psp" ]; }
check "and the member to the PSP" wait_for 10 back
check "the member presents the chain in TLS" sh -c \
	"openssl s_client -connect 127.0.0.1:\$(cat '$WORK/j-inter/spnd.port') -showcerts </dev/null 2>/dev/null | \
	 grep -c 'BEGIN CERTIFICATE' | grep -qx 3"
first=$(openssl x509 -in "$WORK/j-inter/node.crt" -noout -serial)
renewed() { [ "$(openssl x509 -in "$WORK/j-inter/node.crt" -noout -serial)" != "$first" ]; }
check "the member renews its certificate" wait_for 45 renewed
first_cert "$WORK/j-inter/node.crt" >"$WORK/j-inter.leaf"
check "the renewed certificate carries the chain to the outside root" sh -c \
	"[ \$(grep -c 'BEGIN CERTIFICATE' '$WORK/j-inter/node.crt') = 3 ] && \
	 openssl verify -CAfile '$O/top.pem' -untrusted '$WORK/j-inter/node.crt' '$WORK/j-inter.leaf'"
check "messages still route to the member" wait_for 10 answered
# A member that trusts only the outside root: it finds the group's CA in
# the chain its certificate carries and proves that chain to the root.
K="$WORK/k-inter"
check "a second member joins" join "$K" "$I" spn 3 pay "$(echo_for pay)"
node_stop "$K"
cp "$O/top.pem" "$K/anchor.pem"
sed -i 's|^root = .*|root = anchor.pem|' "$K/spnd.conf"
check "with [node] root = the outside root it starts" node_start "$K"
kanswered() { [ "$(route "$K" '{"node":"j-inter"}')" = 200 ] && [ "$(path_of)" = "k-inter>psp>j-inter" ]; }
check "and routes to another member through the PSP" wait_for 10 kanswered
check "it serves the group's CA as its root, not the anchor" sh -c \
	"curl -sS --cacert '$O/top.pem' '$(node_url "$K")/v1/root' | cmp -s - '$O/inter.pem'"
# A server the outside root vouches for that is no member: a sibling
# intermediate's certificate for the same address.
signed sibling p256 top "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
signed impostor p256 sibling "basicConstraints=CA:FALSE" "subjectAltName=IP:127.0.0.1" "extendedKeyUsage=serverAuth"
iport=$($PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
openssl s_server -quiet -accept "$iport" -cert "$O/impostor.pem" -cert_chain "$O/sibling.pem" -key "$O/impostor.key" \
	-www >/dev/null 2>&1 &
IMPOSTOR=$!
check "the impostor's certificate chains to the outside root" sh -c \
	"openssl verify -CAfile '$O/top.pem' -untrusted '$O/sibling.pem' '$O/impostor.pem'"
wait_for 10 sh -c "curl -sk https://127.0.0.1:$iport/ >/dev/null"
refuse "spnctl tree under the outside root refuses a server that is no member" "not a valid one of the group" \
	"$SPNCTL" tree -c "$K/spnd.conf" --url "https://127.0.0.1:$iport"
check "and still reads the real node" "$SPNCTL" tree -c "$K/spnd.conf"
kill "$IMPOSTOR" 2>/dev/null
node_stop "$K"
selfsigned elsewhere p256
cp "$O/elsewhere.pem" "$K/anchor.pem"
refuse "an anchor the carried chain does not lead to stops the node" "does not lead to \[node\] root" \
	"$SPND" -c "$K/spnd.conf"
cp "$O/top.pem" "$K/anchor.pem"
first_cert "$K/node.crt" >"$K/leaf.crt"
sed -i 's|^cert = .*|cert = leaf.crt|' "$K/spnd.conf"
refuse "a certificate without its chain under the outside root stops the node" "carries no CA that did" \
	"$SPND" -c "$K/spnd.conf"
node_stop "$WORK/j-inter"
node_stop "$I"

# Chains that do not hold together.
R="$WORK/retry-chain"
selfsigned stranger p256
cat "$O/inter.pem" "$O/stranger.pem" >"$O/bad-chain.pem"
refused "a chain whose next certificate is not the issuer" "bad-chain.pem.*is not issued by" "$O/bad-chain.pem" "$O/inter.key"
selfsigned tight p256 "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
signed under-tight p256 tight "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign"
cat "$O/under-tight.pem" "$O/tight.pem" >"$O/tight-chain.pem"
refused "a CA above the group's whose pathlen forbids it" "tight-chain.pem.*pathlen" "$O/tight-chain.pem" \
	"$O/under-tight.key"

# --- a CA key in a PKCS#11 token (SoftHSM) ---------------------------------
MOD=/usr/lib/softhsm/libsofthsm2.so
if [ ! -e "$MOD" ] || ! command -v softhsm2-util >/dev/null || ! command -v p11tool >/dev/null; then
	skip "a CA key in a token: softhsm2 is not installed"
	exit 0
fi
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
mkdir -p "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$WORK/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label spnimport --pin 1234 --so-pin 5678 >/dev/null
GNUTLS_PIN=1234 p11tool --provider "$MOD" --login --generate-privkey ecdsa --curve secp256r1 --label cakey \
	"pkcs11:token=spnimport" >/dev/null 2>&1
printf 'cn = "token CA"\norganization = "Outside Org"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 3650\n' \
	>"$O/hsm.tmpl"
GNUTLS_PIN=1234 certtool --provider "$MOD" --generate-self-signed --load-privkey "pkcs11:token=spnimport;object=cakey" \
	--template "$O/hsm.tmpl" --outfile "$O/hsm.pem" >/dev/null 2>&1
H="$WORK/g-hsm"
R="$WORK/retry-hsm"
SPN_CA_PASSPHRASE_VALUE=4321
refused "a token's key with the wrong PIN" "PIN" "$O/hsm.pem" "pkcs11:token=spnimport;object=cakey" \
	--pkcs11-module "$MOD"
SPN_CA_PASSPHRASE_VALUE=1234
check "a CA whose key is in a token is adopted" adopt "$H" "$O/hsm.pem" "pkcs11:token=spnimport;object=cakey" \
	--pkcs11-module "$MOD"
check "spnd.conf points at the token; no key file" sh -c \
	"grep -q '^key = pkcs11:token=spnimport;object=cakey' '$H/spnd.conf' && [ ! -e '$H/ca/root.key' ]"
enroll "$H/spnd.conf" m-hsm spn 5 pay p256 || not_ok "a member is issued a certificate by the token's key"
verified "the member's certificate from the token's key" "$WORK/m-hsm.crt" "$O/hsm.pem"
