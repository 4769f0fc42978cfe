#!/bin/sh
# The seed report's composition on real daemons: A1 provides A; B1, B2
# provide B; C1, C2 provide C; D1 provides D; administrators above them.
#   psp ─┬─ adm1 ─┬─ a1 (a)
#        │        └─ adm3 ─┬─ b1 (b)
#        │                 └─ b2 (b)
#        └─ adm2 ─┬─ c1 (c), c2 (c)
#                 └─ d1 (d)
# The three problems the report names: bouncing and loops, provider
# selection, and the data path (the path through the lowest common ancestor).
. "$top_srcdir/tests/lib.sh"
# The test build: a probe that asks for it waits (a slow provider).
SPND=$SPND_TEST
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" seed
check "adm1 joins below the PSP" join "$WORK/adm1" "$P" admin 8 ""
check "adm2 joins below the PSP" join "$WORK/adm2" "$P" admin 8 ""
check "adm3 joins below adm1" join "$WORK/adm3" "$WORK/adm1" admin 8 ""
check "a1 joins below adm1" join "$WORK/a1" "$WORK/adm1" spn 3 a "$(echo_for a)"
check "b1 joins below adm3" join "$WORK/b1" "$WORK/adm3" spn 3 b "$(echo_for b)"
check "b2 joins below adm3" join "$WORK/b2" "$WORK/adm3" spn 3 b "$(echo_for b)"
check "c1 joins below adm2" join "$WORK/c1" "$WORK/adm2" spn 3 c "$(echo_for c)"
check "c2 joins below adm2" join "$WORK/c2" "$WORK/adm2" spn 3 c "$(echo_for c)"
check "d1 joins below adm2" join "$WORK/d1" "$WORK/adm2" spn 3 d "$(echo_for d)"

all_at_root() { for n in adm1 adm2 adm3 a1 b1 b2 c1 c2 d1; do registry_has "$P" $n || return 1; done; }
check "every node reaches the PSP's registry" wait_for 10 all_at_root
check "adm1 knows its subtree" sh -c ". '$top_srcdir/tests/lib.sh'; registry_has '$WORK/adm1' b2 && registry_has '$WORK/adm1' a1"
if registry_has "$WORK/adm1" c1; then not_ok "adm1 knows nothing outside its subtree"; else ok "adm1 knows nothing outside its subtree"; fi
"$SPNCTL" tree -c "$P/spnd.conf" >"$WORK/tree.txt" 2>&1
check "spnctl tree prints the group" grep -q '^      b2 (spn): b$' "$WORK/tree.txt"
diag "$(tr '\n' '|' <"$WORK/tree.txt")"
"$SPNCTL" tree -c "$P/spnd.conf" --format dot >"$WORK/tree.dot" 2>&1
check "the tree as Graphviz DOT" grep -q '"adm3" -> "b1";' "$WORK/tree.dot"
"$SPNCTL" tree -c "$WORK/adm1/spnd.conf" --format json >"$WORK/tree.json" 2>&1
check "the tree as JSON from an administrator" $PY -c "import json; t=json.load(open('$WORK/tree.json')); assert t['node']=='adm1' and len(t['nodes'])==5"

# The data path: through the lowest common ancestor, and no further up.
# Routing probes are for members: each is sent with the entry node's own
# certificate.
answered_by_path() { # answered_by_path NAME STATUS WANT: the last answer's path
	got=$(path_of 2>/dev/null)
	if [ "$2" = 200 ] && [ "$got" = "$3" ]; then ok "$1: $got"; else not_ok "$1: $2 $got (want $3)"; sed 's/^/#   /' "$WORK/body"; fi
}
path_is() { answered_by_path "$1" "$(route "$2" "$3")" "$4"; } # path_is NAME FROM JSON WANT
# session SERVICE ID: the fields of a client's session request (any 32
# bytes make a key to seal the offer to).
session() {
	printf '"kind":"session","payload":{"session":"%s","service":"%s","client_key":"%s"}' "$2" "$1" \
		CQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
}
path_is "c1 → A goes through the PSP, the LCA" "$WORK/c1" '{"service":"a"}' "c1>adm2>psp>adm1>a1"
path_is "a1 → D goes through the PSP" "$WORK/a1" '{"service":"d"}' "a1>adm1>psp>adm2>d1"
path_is "b1 → A turns at adm1 and never reaches the PSP" "$WORK/b1" '{"service":"a"}' "b1>adm3>adm1>a1"
path_is "c2 → D turns at adm2" "$WORK/c2" '{"service":"d"}' "c2>adm2>d1"
path_is "a1 → A is handled where it arrives" "$WORK/a1" '{"service":"a"}' "a1"
path_is "d1 → node b2 by id" "$WORK/d1" '{"node":"b2"}' "d1>adm2>psp>adm1>adm3>b2"
answered_by_path "a client's path is kept (a session request)" \
	"$(req -X POST --json "{\"service\":\"a\",\"path\":[\"wristband\"],$(session a s-1)}" "$(node_url "$WORK/adm3")/v1/route")" \
	"wristband>adm3>adm1>a1"
is "a client's path can only shorten the way" 508 loop -X POST --json "{\"service\":\"a\",\"path\":[\"adm1\"],$(session a s-2)}" \
	"$(node_url "$WORK/adm3")/v1/route"
is "and so can its hop count" 508 loop -X POST --json "{\"service\":\"a\",\"hops\":1,$(session a s-3)}" "$(node_url "$WORK/adm3")/v1/route"
check "the path is in the logs of every node on it" sh -c "grep -q 'service a path=c1>adm2>psp: to adm1 toward a1' '$P/spnd.log' && grep -q 'path=c1>adm2>psp>adm1>a1: handled here' '$WORK/a1/spnd.log'"

# Bouncing and loops: a request for A and one for D from every entry node;
# no path visits a node twice.
noloop() {
	for from in psp adm1 adm2 adm3 a1 b1 b2 c1 c2 d1; do
		d="$WORK/$from"; [ $from = psp ] && d=$P
		for s in a d; do
			[ "$(route "$d" "{\"service\":\"$s\"}")" = 200 ] || return 1
			path_of | tr '>' '\n' | sort | uniq -d | grep -q . && return 1
		done
	done
	return 0
}
check "requests for A and D from every node never revisit a node" noloop
is "a forwarded request that came back is refused" 508 loop -X POST $(as "$WORK/adm1") \
	--json '{"service":"b","path":["adm3","adm1"],"hops":8}' "$(node_url "$WORK/adm3")/v1/route"
is "the hop limit ends a path" 508 loop -X POST $(as "$WORK/a1") \
	--json '{"service":"d","path":["a1"],"hops":2}' "$(node_url "$WORK/adm1")/v1/route"
is "a request that came down never goes up: no C below adm3" 404 no_provider -X POST $(as "$WORK/adm1") \
	--json '{"id":"down-1","service":"c","path":["adm1"],"hops":8}' "$(node_url "$WORK/adm3")/v1/route"
if grep 'route down-1' "$WORK/adm3/spnd.log" | grep -q 'to the parent'; then not_ok "adm3 did not send it up"; else ok "adm3 did not send it up"; fi
is "a member must be the last node of the path it forwards" 403 denied -X POST $(as "$WORK/a1") \
	--json '{"service":"b","path":["b1"],"hops":8}' "$(node_url "$WORK/adm1")/v1/route"
is "no provider: the root says so" 404 no_provider -X POST $(as "$WORK/c1") --json '{"service":"zz"}' "$(node_url "$WORK/c1")/v1/route"
check "it names the service" grep -q 'no provider for service zz in group seed' "$WORK/body"
is "no such node" 404 no_provider -X POST $(as "$WORK/b1") --json '{"node":"nobody"}' "$(node_url "$WORK/b1")/v1/route"
is "malformed request" 400 invalid -X POST --json '{"service":' "$(node_url "$WORK/a1")/v1/route"
is "neither service nor node" 400 invalid -X POST --json '{"payload":1}' "$(node_url "$WORK/a1")/v1/route"
is "a bad service name" 400 invalid -X POST --json '{"service":"A B"}' "$(node_url "$WORK/a1")/v1/route"
is "the node keeps serving" 200 "" "$(node_url "$WORK/a1")/v1/health"

# Provider selection: round robin (the default) uses B1 and B2 in turn.
: >"$WORK/handlers"
for i in 1 2 3 4 5 6; do route "$WORK/a1" '{"service":"b"}' >/dev/null; handler_of >>"$WORK/handlers"; done
check "round robin uses b1 and b2 in turn" sh -c "[ \"\$(tr '\n' ' ' <'$WORK/handlers')\" = 'b1 b2 b1 b2 b1 b2 ' ] || [ \"\$(tr '\n' ' ' <'$WORK/handlers')\" = 'b2 b1 b2 b1 b2 b1 ' ]"
diag "handlers: $(tr '\n' ' ' <"$WORK/handlers")"

# Fewest requests in flight: adm1 chooses (it is the LCA of a1 and b1/b2);
# it restarts with that policy, and its children register with it again.
port=$(cat "$WORK/adm1/spnd.port")
node_stop "$WORK/adm1"
sed -i -e 's/^\[tree\]$/[tree]\npolicy = least_inflight/' -e "s/^port = 0$/port = $port/" "$WORK/adm1/spnd.conf"
check "adm1 restarts with policy least_inflight" node_start "$WORK/adm1"
back() { for n in adm1 adm3 a1 b1 b2; do registry_has "$P" $n || return 1; done; registry_has "$WORK/adm1" b2; }
check "its subtree registers again" wait_for 10 back
curl -sS --cacert "$CA" -o "$WORK/slow" -X POST $(as "$WORK/a1") \
	--json '{"id":"slow-1","node":"b1","service":"b","payload":{"delay_ms":5000}}' "$(node_url "$WORK/a1")/v1/route" &
slow=$!
# Only once adm1 has passed the slow request on is b1 busy.
wait_for 10 grep -q 'route slow-1 .*toward b1' "$WORK/adm1/spnd.log"
: >"$WORK/handlers"
for i in 1 2 3 4; do route "$WORK/a1" '{"service":"b"}' >/dev/null; handler_of >>"$WORK/handlers"; done
# What counts is what was chosen while b1 was still busy.
kill -0 $slow 2>/dev/null && busy=yes || busy=no
check "while b1 is busy, the least loaded (b2) is chosen" sh -c "[ $busy = yes ] && [ \"\$(tr '\n' ' ' <'$WORK/handlers')\" = 'b2 b2 b2 b2 ' ]"
diag "handlers: $(tr '\n' ' ' <"$WORK/handlers")"
wait $slow
check "the slow request completes at b1" grep -q '"handled_by":"b1"' "$WORK/slow"
: >"$WORK/handlers"
for i in 1 2 3 4; do route "$WORK/a1" '{"service":"b"}' >/dev/null; handler_of >>"$WORK/handlers"; done
check "when both are idle, both are used" sh -c "grep -q b1 '$WORK/handlers' && grep -q b2 '$WORK/handlers'"
check "adm1's log records its choices" grep -q 'toward b2' "$WORK/adm1/spnd.log"

# The routing probe answers in plaintext: members only, and none at all
# where [route] probe is off. Sessions and sections are anyone's.
is "an anonymous routing probe is refused" 403 denied -X POST --json '{"service":"a"}' "$(node_url "$WORK/c1")/v1/route"
is "so is one that names its kind" 403 denied -X POST --json '{"kind":"echo","node":"a1"}' "$(node_url "$WORK/a1")/v1/route"
check "a client gets a certificate of the group" client_cert "$WORK/band" band-1 "$P"
is "a client's certificate is not a member's" 403 denied -X POST $(as "$WORK/band") --json '{"service":"a"}' "$(node_url "$WORK/c1")/v1/route"
is "a client's session request is still routed" 200 "" -X POST --json "{\"service\":\"a\",$(session a s-4)}" "$(node_url "$WORK/c1")/v1/route"
check "and answered by the provider" test "$(handler_of)" = a1
port=$(cat "$WORK/d1/spnd.port")
node_stop "$WORK/d1"
sed -i "s/^port = 0$/port = $port/" "$WORK/d1/spnd.conf"
printf '\n[route]\nprobe = false\n' >>"$WORK/d1/spnd.conf"
check "d1 restarts with the probe switched off" node_start "$WORK/d1"
check "and registers again" wait_for 10 registry_has "$WORK/adm2" d1
is "d1 refuses even its own operator's probe" 403 denied -X POST $(as "$WORK/d1") --json '{"service":"d"}' "$(node_url "$WORK/d1")/v1/route"
st=$(route "$WORK/c2" '{"service":"d"}')
check "a member's probe forwarded to d1 is refused there" sh -c "[ $st = 403 ] && grep -q '\"error\":\"denied\"' '$WORK/body'"
is "a session request for d still reaches d1" 200 "" -X POST \
	--json "{\"service\":\"d\",$(session d s-5)}" "$(node_url "$WORK/c2")/v1/route"
check "which answered it" test "$(handler_of)" = d1
