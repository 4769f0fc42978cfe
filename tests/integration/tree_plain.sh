#!/bin/sh
# The development switch, [http] tls = false: a group on plain HTTP still
# knows who calls. Nodes sign their requests with their certificate keys
# (doc/rest-api.md), so registration, the registry and routing work, and an
# unsigned, forged or revoked caller is refused as over TLS.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts on plain HTTP" plain_psp "$P" plain
check "it says loudly that TLS is off" grep -q 'TLS IS OFF' "$P/spnd.log"
check "adm1 enrolls and starts over plain HTTP" pjoin "$WORK/adm1" "$P" admin 8 ""
check "a1 enrolls below adm1" pjoin "$WORK/a1" "$WORK/adm1" spn 3 a "$(echo_for a)"
check "b1 enrolls below the PSP" pjoin "$WORK/b1" "$P" spn 3 b "$(echo_for b)"
up() { "$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q '^    a1 (spn): a$'; }
check "the registry reaches the PSP (spnctl tree signs its request)" wait_for 10 up
st=$(signed "$WORK/b1" POST "$(purl "$WORK/b1")/v1/route" '{"service":"a"}')
check "a member's signed probe routes through the LCA" sh -c "[ $st = 200 ] && grep -q '\"path\":\\[\"b1\",\"psp\",\"adm1\",\"a1\"\\]' '$WORK/body'"
st=$(curl -sS -o "$WORK/body" -w '%{http_code}' -X POST --json '{"service":"a"}' "$(purl "$WORK/b1")/v1/route")
check "an unsigned probe is refused, as an anonymous one over TLS" sh -c "[ $st = 403 ] && grep -q '\"error\":\"denied\"' '$WORK/body'"
st=$(curl -sS -o "$WORK/body" -w '%{http_code}' "$(purl "$P")/v1/tree")
check "an unsigned caller cannot read the registry" sh -c "[ $st = 403 ] && grep -q 'signed request' '$WORK/body'"
st=$(curl -sS -o "$WORK/body" -w '%{http_code}' -X POST -H "Spn-Cert: $(openssl x509 -in "$WORK/a1/node.crt" -outform DER | base64 -w0)" \
	-H "Spn-Time: $(date +%s)" -H "Spn-Signature: AAAA" --json '{"url":"http://x:1","version":1,"full":true,"nodes":[]}' \
	"$(purl "$WORK/adm1")/v1/tree/sync")
check "a member's certificate without its key's signature is refused" sh -c "[ $st = 403 ] && grep -q 'refused' '$WORK/body'"
serial=$(openssl x509 -in "$WORK/a1/node.crt" -noout -serial | cut -d= -f2)
check "the PSP revokes a1" ctl revoke -c "$P/spnd.conf" "$serial"
gone() { ! "$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q 'a1'; }
check "a1, revoked, is dropped and refused" wait_for 5 gone
check "adm1 refused its signed heartbeat" wait_for 3 grep -q 'refused POST /v1/tree/sync: the certificate .* of a1 is revoked' "$WORK/adm1/spnd.log"
