#!/bin/sh
# spnd as the PSP, on loopback: the REST API answered over HTTPS and checked
# with curl against the group's root; enrollment; the ledger for
# administrators only (mutual TLS); every bad request answered with a status
# and a JSON reason while the daemon keeps serving; clean stop on SIGTERM;
# refusal to start when something is wrong.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; CA="$G/ca/root.crt"
new_group "$G" demo
check "spnd starts as the PSP" start_spnd "$C"
U="https://127.0.0.1:$PORT"

is "health over HTTPS verified with curl --cacert" 200 "" "$U/v1/health"
check "health names the node" grep -q '"node":"psp"' "$WORK/body"
is "root certificate" 200 "" "$U/v1/root"
check "it is the group's root" cmp -s "$WORK/body" "$CA"
is "CRL" 200 "" "$U/v1/crl"
check "it is a CRL signed by the root" sh -c "certtool --verify-crl --load-ca-certificate '$CA' --infile '$WORK/body' | grep -q Verified"
refuse "curl without the group's root refuses the server" "certificate|SSL" curl -sS "$U/v1/health"

# Enrollment over REST.
"$SPNCTL" keygen -o "$WORK/n.key" 2>/dev/null
"$SPNCTL" csr --key "$WORK/n.key" --id web-1 --name 127.0.0.1 -o "$WORK/n.csr"
tok=$(ctl token -c "$C" --id web-1 --role spn --trust 3 --services echo)
$PY -c "import json,sys; print(json.dumps({'csr': open(sys.argv[1]).read(), 'token': sys.argv[2]}))" "$WORK/n.csr" "$tok" >"$WORK/enroll.json"
is "enroll with CSR and token" 201 "" -X POST --json @"$WORK/enroll.json" "$U/v1/enroll"
$PY -c "import json; d=json.load(open('$WORK/body')); open('$WORK/n.crt','w').write(d['certificate'])"
check "the issued certificate verifies with openssl" openssl verify -CAfile "$CA" "$WORK/n.crt"
is "the same token again: 409" 409 "" -X POST --json @"$WORK/enroll.json" "$U/v1/enroll"
is "malformed JSON: 400" 400 invalid -X POST --json "{bad" "$U/v1/enroll"
is "unknown field: 400" 400 invalid -X POST --json '{"csr":"x","token":"y","extra":1}' "$U/v1/enroll"
is "a bad CSR: 400" 400 bad_csr -X POST --json "{\"csr\":\"hello\",\"token\":\"$tok\"}" "$U/v1/enroll"
head -c 200000 /dev/zero | tr '\0' 'a' >"$WORK/big"
is "an oversized body: 413" 413 too_big -X POST --json @"$WORK/big" "$U/v1/enroll"
is "an unknown endpoint: 404" 404 not_found "$U/v1/nothing"
is "a wrong method: 405" 405 method_not_allowed -X DELETE "$U/v1/health"
tok2=$(ctl token -c "$C" --id band-1 --role client --trust 1)
is "pseudo-CSR with a CA-generated key" 201 "" -X POST --json "{\"request\":{\"node_id\":\"band-1\"},\"token\":\"$tok2\"}" "$U/v1/enroll/pseudo"
$PY -c "import json,base64; d=json.load(open('$WORK/body')); open('$WORK/band.p12','wb').write(base64.b64decode(d['pkcs12'])); open('$WORK/band.pass','w').write(d['passphrase'])"
check "the bundle opens with openssl pkcs12" openssl pkcs12 -in "$WORK/band.p12" -passin "file:$WORK/band.pass" -nodes -out /dev/null

# The ledger over mutual TLS: administrators only.
is "certificates without a client certificate: 403" 403 denied "$U/v1/certs"
is "certificates with a member's (non-admin) certificate: 403" 403 denied --cert "$WORK/n.crt" --key "$WORK/n.key" "$U/v1/certs"
is "certificates with the PSP's certificate: 200" 200 "" --cert "$G/node.crt" --key "$G/node.key" "$U/v1/certs"
check "the list holds web-1" grep -q '"node":"web-1"' "$WORK/body"
serial=$($PY -c "import json; print([c['serial'] for c in json.load(open('$WORK/body')) if c['node']=='web-1'][0])")
new_group "$WORK/other" other
is "a client certificate from another group: 403" 403 denied --cert "$WORK/other/node.crt" --key "$WORK/other/node.key" "$U/v1/certs"
is "a member cannot revoke: 403" 403 denied --cert "$WORK/n.crt" --key "$WORK/n.key" -X POST --json "{\"serial\":\"$serial\"}" "$U/v1/revoke"
is "the PSP revokes web-1" 200 "" --cert "$G/node.crt" --key "$G/node.key" -X POST --json "{\"serial\":\"$serial\",\"reason\":\"keyCompromise\"}" "$U/v1/revoke"
is "the CRL now lists it" 200 "" "$U/v1/crl"
check "openssl verify -crl_check refuses web-1" sh -c "! openssl verify -crl_check -CAfile '$CA' -CRLfile '$WORK/body' '$WORK/n.crt' >/dev/null 2>&1"
is "a revoked node's certificate is refused" 403 denied --cert "$WORK/n.crt" --key "$WORK/n.key" "$U/v1/certs"
# An administrator whose certificate was revoked and who enrolled again: the
# old certificate must not keep its rights because the node id is valid.
enroll "$C" adm-1 admin 8 "" && mv "$WORK/adm-1.crt" "$WORK/adm-1-old.crt" && mv "$WORK/adm-1.key" "$WORK/adm-1-old.key"
old=$(openssl x509 -in "$WORK/adm-1-old.crt" -noout -serial | cut -d= -f2)
ctl revoke -c "$C" --reason keyCompromise "$old" 2>/dev/null; rm -f "$WORK/adm-1.csr"
enroll "$C" adm-1 admin 8 ""
is "the revoked certificate of a re-enrolled admin is refused" 403 denied --cert "$WORK/adm-1-old.crt" --key "$WORK/adm-1-old.key" "$U/v1/certs"
is "its new certificate is accepted" 200 "" --cert "$WORK/adm-1.crt" --key "$WORK/adm-1.key" "$U/v1/certs"
is "a GET with a body is refused" 413 too_big --json @"$WORK/enroll.json" -X GET "$U/v1/health"
is "still serving after all of that" 200 "" "$U/v1/health"

kill -TERM $SPND_PID
wait $SPND_PID; rc=$?
check "SIGTERM stops it cleanly (exit 0)" test "$rc" = 0
check "and it said so" grep -q "stopping on signal 15" "$G/spnd.log"

# Refusals to start, each with a clear reason.
refuse "no CA passphrase and no terminal" "set SPN_CA_PASSPHRASE or run on a terminal" setsid "$SPND" -c "$C" </dev/null
cp "$C" "$WORK/bad.conf"
sed -i 's/^threads.*//; s/^\[http\]/[http]\nthreads = zero/' "$WORK/bad.conf"
refuse "a bad configuration names file, line and key" "bad.conf:[0-9]+: \[http\] threads" "$SPND" -c "$WORK/bad.conf"
cp "$G/node.key" "$WORK/psp.key.bak"
cp "$WORK/n.key" "$G/node.key"
refuse "a key that does not match the certificate" "does not belong" env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$C"
cp "$WORK/psp.key.bak" "$G/node.key"
refuse "an expired certificate" "expired" env SPN_FAKE_TIME=$(( $(date +%s) + 400 * 86400 )) SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND_TEST" -c "$C"
check "the installed spnd and spnctl have no fake clock (only their test builds)" sh -c \
	"! grep -q SPN_FAKE_TIME '$SPND' '$SPNCTL' && grep -q SPN_FAKE_TIME '$SPND_TEST' && grep -q SPN_FAKE_TIME '$SPNCTL_TEST'"
