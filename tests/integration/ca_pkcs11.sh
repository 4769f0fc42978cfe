#!/bin/sh
# The root key in a PKCS#11 token (SoftHSM2): made inside it by spnctl init,
# never stored or read outside it; issuance over REST, pseudo-CSRs with
# PKCS#12 bundles, revocation and CRLs signed in the token and checked by
# OpenSSL and certtool; the PIN from where passphrases come, refused when
# wrong without a second try, and never taken from the URI.
. "$top_srcdir/tests/lib.sh"
MOD=/usr/lib/softhsm/libsofthsm2.so
if [ ! -e "$MOD" ] || ! command -v softhsm2-util >/dev/null; then
	skip "softhsm2 is not installed (tests/scripts/deps-debian.sh test installs it)"
	exit 0
fi

# A token of this test's own; its user PIN is the CA passphrase the
# helpers hand to spnctl and spnd.
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
mkdir -p "$WORK/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label spn-ca --pin "$SPN_CA_PASSPHRASE_VALUE" --so-pin 5678 >/dev/null
URI="pkcs11:token=spn-ca;object=group-root"
G="$WORK/psp"; C="$G/spnd.conf"
p11() { GNUTLS_PIN="$SPN_CA_PASSPHRASE_VALUE" p11tool --provider "$MOD" --login "$@" 2>/dev/null; }

check "init makes the root key in the token" ctl init -d "$G" -g hsm -t p256 --key "$URI" --pkcs11-module "$MOD" \
	--name 127.0.0.1
check "no key file in the CA directory" test -z "$(ls "$G/ca" | grep -v '^root\.crt$')"
check "the configuration names the token's key, by label and id" grep -q "^key = $URI;id=%" "$C"
p11 --list-all-privkeys "pkcs11:token=spn-ca" >"$WORK/privkeys"
check "one private key in the token, labelled as asked" test "$(grep -c 'Label: group-root' "$WORK/privkeys")" = 1
check "it is sensitive and never extractable" sh -c \
	"grep -q 'CKA_SENSITIVE' '$WORK/privkeys' && grep -q 'CKA_NEVER_EXTRACTABLE' '$WORK/privkeys' && ! grep -q 'CKA_EXTRACTABLE' '$WORK/privkeys'"
check "the root certificate carries the token's public key" sh -c \
	"GNUTLS_PIN='$SPN_CA_PASSPHRASE_VALUE' p11tool --provider '$MOD' --login --export-pubkey '$URI;type=private' 2>/dev/null |
	 openssl pkey -pubin -outform DER | sha256sum >'$WORK/a' &&
	 openssl x509 -in '$G/ca/root.crt' -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum >'$WORK/b' && cmp '$WORK/a' '$WORK/b'"
check "openssl verifies the PSP's certificate" openssl verify -CAfile "$G/ca/root.crt" "$G/node.crt"
check "certtool verifies the first CRL" sh -c \
	"certtool --verify-crl --load-ca-certificate '$G/ca/root.crt' --infile '$G/crl.pem' | grep -q Verified"

refuse "a second group under the same label is refused" "already holds a private key labelled 'group-root'" \
	ctl init -d "$WORK/again" -g hsm -t p256 --key "$URI" --pkcs11-module "$MOD"
check "and leaves no configuration behind" test ! -e "$WORK/again/spnd.conf"
refuse "an init that fails after making its key (no ledger at that address)" "ledger|connect|PostgreSQL|postgres" \
	ctl init -d "$WORK/late" -g hsm -t p256 --key "$URI-late" --pkcs11-module "$MOD" --ledger postgresql://127.0.0.1:1/none
check "takes its key out of the token again" sh -c "! p11 --list-all 'pkcs11:token=spn-ca' | grep -q 'group-root-late'"
check "so that the same init can be run again" ctl init -d "$WORK/late-2" -g hsm -t p256 --key "$URI-late" \
	--pkcs11-module "$MOD"
refuse "a URI without an object label is refused" "object=" \
	ctl init -d "$WORK/nolabel" -g hsm -t p256 --key "pkcs11:token=spn-ca" --pkcs11-module "$MOD"
refuse "a URI carrying its PIN is refused" "carries a PIN" \
	ctl init -d "$WORK/pinuri" -g hsm -t p256 --key "$URI-2;pin-value=1234" --pkcs11-module "$MOD"
refuse "a wrong PIN at init is refused" "refused the PIN" \
	env SPN_CA_PASSPHRASE=0000 "$SPNCTL" init -d "$WORK/wrongpin" -g hsm -t p256 --key "$URI-3" --pkcs11-module "$MOD"
check "and made no key" sh -c "! p11 --list-all-privkeys 'pkcs11:token=spn-ca' | grep -q 'group-root-3'"

sed "s|^key = .*|key = $URI?pin-value=s3cret-pin|" "$C" >"$G/pinned.conf"
refuse "a configured URI carrying its PIN is refused" "carries a PIN" ctl crl -c "$G/pinned.conf"
check "and the PIN is not in the message" sh -c "! grep -q 's3cret-pin' '$WORK/out'"

# The PSP signs over REST with the key in the token.
printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n\n%s\n' "$TREE_SETTINGS" >>"$C"
check "spnd starts with the key in the token" node_start "$G"
CA="$G/ca/root.crt"
M="$WORK/member-1"
check "a member enrolls over REST" join "$M" "$G" spn 5 echo "$(echo_for echo)"
check "openssl verifies the member's certificate" openssl verify -CAfile "$CA" -CRLfile "$G/crl.pem" -crl_check "$M/node.crt"
check "certtool verifies it" sh -c "certtool --verify --load-ca-certificate '$CA' --infile '$M/node.crt' | grep -q Verified"
# Enrollments at once: the token's key is one object shared by spnd's threads.
for i in 1 2 3 4 5 6 7 8; do
	(
		d="$WORK/burst-$i"
		tok=$(mint "$G" "burst-$i" client 1 "") &&
			"$SPNCTL" enroll --url "$(node_url "$G")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$d" \
				>/dev/null 2>&1 && openssl verify -CAfile "$CA" "$d/node.crt" >/dev/null && touch "$d.ok"
	) &
	burst="${burst:-} $!"
done
# shellcheck disable=SC2086 # the list of pids
wait $burst
check "eight enrollments at once are all issued and verify" test "$(ls "$WORK"/burst-*.ok 2>/dev/null | wc -l)" = 8

# A constrained device: the CA makes its key and hands it over as PKCS#12.
tok=$(mint "$G" band-1 client 1 "")
printf '{"node_id":"band-1"}' >"$WORK/band.json"
ctl issue-pseudo -c "$C" --json "$WORK/band.json" --token "$tok" -o "$WORK/band.p12" >"$WORK/p12out" 2>/dev/null
pass=$(sed -n 's/^PKCS#12 passphrase: //p' "$WORK/p12out")
check "openssl opens the PKCS#12 bundle" openssl pkcs12 -in "$WORK/band.p12" -passin "pass:$pass" -nodes -out "$WORK/band.pem"
check "its certificate verifies against the token's root" sh -c \
	"openssl x509 -in '$WORK/band.pem' -out '$WORK/band.crt' && openssl verify -CAfile '$CA' '$WORK/band.crt'"

serial=$(openssl x509 -in "$M/node.crt" -noout -serial | cut -d= -f2 | tr A-F a-f)
check "revocation signs a CRL in the token" ctl revoke -c "$C" --reason keyCompromise "$serial"
check "certtool verifies the new CRL" sh -c \
	"certtool --verify-crl --load-ca-certificate '$CA' --infile '$G/crl.pem' | grep -q Verified"
refuse "openssl finds the member revoked" "revoked" openssl verify -crl_check -CAfile "$CA" -CRLfile "$G/crl.pem" "$M/node.crt"
check "the running PSP signs a CRL with the revocation too" wait_for 10 sh -c \
	"curl -sf --cacert '$CA' '$(node_url "$G")/v1/crl' | openssl crl -noout -text | grep -qi '$serial'"

# The PIN: wrong is refused once, the token is not locked by it, and
# a service manager's file gives it like a passphrase.
refuse "a wrong PIN is refused" "refused the PIN" env SPN_CA_PASSPHRASE=0000 "$SPNCTL" crl -c "$C"
check "the right PIN still works afterwards" ctl crl -c "$C"
node_stop "$G"
refuse "spnd with a wrong PIN does not start" "refused the PIN" env SPN_CA_PASSPHRASE=0000 "$SPND" -c "$C"
printf '%s\n' "$SPN_CA_PASSPHRASE_VALUE" >"$WORK/pin.txt"
chmod 600 "$WORK/pin.txt"
sed -i "s|^passphrase_env = .*|passphrase_file = $WORK/pin.txt|" "$C"
rm -f "$G/spnd.port"
env -u SPN_CA_PASSPHRASE "$SPND" -c "$C" >>"$G/spnd.log" 2>&1 &
echo $! >"$G/pid"
check "spnd started with the PIN from a file, no variable set" wait_for 10 test -s "$G/spnd.port"
check "and issues" join "$WORK/member-2" "$G" spn 5 echo "$(echo_for echo)"
