#!/bin/sh
# Members come and go while requests flow: a node joins and another leaves
# with no request lost; a node killed with SIGKILL leaves every registry
# within the heartbeat deadline; a revoked node is refused by its neighbours
# within a second, whether the PSP revoked it over REST or with spnctl; a
# restarted PSP gets the whole tree back.
#   psp ─┬─ adm1 ─┬─ c1, c2, (c3 joins later)  (service c)
#        └─ e1 (the entry node, service e)
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" churn
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "c1 joins" join "$WORK/c1" "$WORK/adm1" spn 3 c "$(echo_for c)"
check "c2 joins" join "$WORK/c2" "$WORK/adm1" spn 3 c "$(echo_for c)"
check "e1 joins" join "$WORK/e1" "$P" spn 3 e "$(echo_for e)"
up() { for n in adm1 c1 c2 e1; do registry_has "$P" $n || return 1; done; }
check "all registered at the PSP" wait_for 10 up

# Requests for C from e1, one after another, while c3 joins and c2 leaves.
flow() {
	i=0
	while [ $i -lt 80 ]; do
		curl -sS --cacert "$CA" -o "$WORK/flow.body" -w '%{http_code} ' -X POST $(as "$WORK/e1") --json '{"service":"c"}' \
			"$(node_url "$WORK/e1")/v1/route" >>"$WORK/flow.status" 2>/dev/null
		$PY -c "import json; print(json.load(open('$WORK/flow.body')).get('handled_by','-'))" >>"$WORK/flow.by" 2>/dev/null
		sleep 0.05
		i=$((i + 1))
	done
}
: >"$WORK/flow.status"; : >"$WORK/flow.by"
flow &
flowing=$!
sleep 1
check "c3 joins while requests flow" join "$WORK/c3" "$WORK/adm1" spn 3 c "$(echo_for c)"
sleep 1
node_stop "$WORK/c2"
check "c2 leaves cleanly (SIGTERM)" grep -q 'left the parent' "$WORK/c2/spnd.log"
check "adm1 dropped it at once" grep -q 'child c2 dropped: it left' "$WORK/adm1/spnd.log"
wait $flowing
check "every request was answered 200" sh -c "[ \"\$(tr ' ' '\n' <'$WORK/flow.status' | grep -c '^200$')\" = 80 ]"
diag "statuses: $(tr ' ' '\n' <"$WORK/flow.status" | sort | uniq -c | tr '\n' ' ')"
check "c3 took requests once it had joined" grep -q '^c3$' "$WORK/flow.by"
check "c2 took requests before it left" grep -q '^c2$' "$WORK/flow.by"
gone() { ! registry_has "$1" "$2"; }
check "c2 is gone from the PSP's registry" wait_for 2 gone "$P" c2

# SIGKILL: no goodbye; the parent notices the silence.
node_stop "$WORK/c1" KILL
start=$(date +%s%N)
# Until adm1 notices, every registry still lists c1; of two requests for C
# the PSP (which chooses, in turn) sends one toward c1. That one reaches no
# provider, and the PSP chooses again: both are answered, by c3.
: >"$WORK/early"
for i in 1 2; do
	st=$(route "$WORK/e1" '{"service":"c"}')
	echo "$st $(handler_of 2>/dev/null)" >>"$WORK/early"
	[ "$st" = 200 ] || diag "$(cat "$WORK/body")"
done
check "requests sent right after the SIGKILL are answered by c3" sh -c "[ \"\$(tr '\n' ' ' <'$WORK/early')\" = '200 c3 200 c3 ' ]"
diag "$(tr '\n' ' ' <"$WORK/early")"
check "the PSP chose again for the one sent toward c1" grep -q 'c1 cannot be had below adm1; choosing again' "$P/spnd.log"
check "c1 (killed) disappears from adm1's registry" wait_for 5 gone "$WORK/adm1" c1
check "and from the PSP's" wait_for 2 gone "$P" c1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
diag "gone from every registry ${ms} ms after SIGKILL (deadline 1000 ms, heartbeat 200 ms)"
check "adm1 says why" grep -q 'child c1 dropped: missed its heartbeats' "$WORK/adm1/spnd.log"
route "$WORK/e1" '{"service":"c"}' >/dev/null
check "requests for C now go to c3" sh -c "[ \"\$($PY -c \"import json; print(json.load(open('$WORK/body'))['handled_by'])\")\" = c3 ]"

# Revocation over REST by the administrator that accepted c3: every node
# refuses it within a second.
serial=$(openssl x509 -in "$WORK/c3/node.crt" -noout -serial | cut -d= -f2)
is "adm1 revokes c3 at the PSP" 200 "" -X POST $(as "$WORK/adm1") --json "{\"serial\":\"$serial\",\"reason\":\"keyCompromise\"}" "$(node_url "$P")/v1/revoke"
refused_by() { # refused_by DIR: DIR answers c3's certificate with 403 revoked
	[ "$(req $(as "$WORK/c3") "$(node_url "$1")/v1/tree")" = 403 ] && grep -q '"error":"revoked"' "$WORK/body"
}
check "adm1 refuses c3 within a second" wait_for 1 refused_by "$WORK/adm1"
check "the ledger records who asked for it" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' log -c '$P/spnd.conf' | grep -i 'requested' | grep -qi \"$serial.*by adm1\""
check "e1 refuses c3 within a second" wait_for 1 refused_by "$WORK/e1"
check "the PSP refuses c3" refused_by "$P"
check "c3 is dropped from adm1's registry" wait_for 2 gone "$WORK/adm1" c3
check "adm1 serves the new CRL, which lists c3" sh -c "curl -sS --cacert '$CA' '$(node_url "$WORK/adm1")/v1/crl' | openssl crl -noout -text | grep -qi '$serial'"
is "no provider for C is left" 404 no_provider -X POST $(as "$WORK/e1") --json '{"service":"c"}' "$(node_url "$WORK/e1")/v1/route"

# Revocation with spnctl on the PSP's machine, while spnd runs.
e1serial=$(openssl x509 -in "$WORK/e1/node.crt" -noout -serial | cut -d= -f2)
check "spnctl revokes e1" ctl revoke -c "$P/spnd.conf" "$e1serial" --reason superseded
refused_e1() { [ "$(req $(as "$WORK/e1") "$(node_url "$WORK/adm1")/v1/tree")" = 403 ]; }
check "adm1 refuses e1 within a second" wait_for 1 refused_e1
check "the PSP dropped e1 from its registry" wait_for 2 gone "$P" e1

# A restarted PSP learns the whole tree again from its children.
check "c4 joins" join "$WORK/c4" "$WORK/adm1" spn 3 c "$(echo_for c)"
port=$(cat "$P/spnd.port")
node_stop "$P"
sed -i "s/^port = 0$/port = $port/" "$P/spnd.conf"
check "the PSP restarts on its port" node_start "$P"
back() { registry_has "$P" adm1 && registry_has "$P" c4; }
check "the tree is back in its registry" wait_for 10 back
check "adm1 sent its whole registry again" grep -q 'registry: child adm1 registered' "$P/spnd.log"

# A revoked administrator: its parent refuses it, and the CRL that says so
# still reaches the nodes below it, which refuse it too.
a1serial=$(openssl x509 -in "$WORK/adm1/node.crt" -noout -serial | cut -d= -f2)
is "the PSP revokes adm1" 200 "" -X POST $(as "$P") --json "{\"serial\":\"$a1serial\"}" "$(node_url "$P")/v1/revoke"
refused_adm1() { [ "$(req $(as "$WORK/adm1") "$(node_url "$WORK/c4")/v1/tree")" = 403 ] && grep -q '"error":"revoked"' "$WORK/body"; }
check "c4, below adm1, refuses adm1" wait_for 3 refused_adm1
check "adm1 was told by its parent" grep -q 'refused this node' "$WORK/adm1/spnd.log"
check "and c4 no longer talks to its revoked parent" wait_for 3 grep -q "the certificate $(echo "$a1serial" | tr 'A-F' 'a-f') of adm1 is revoked" "$WORK/c4/spnd.log"
