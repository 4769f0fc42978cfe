#!/bin/sh
# A malicious node on the path: adm1 runs spnd_evil, which changes every
# session offer it relays back toward a client. The client refuses the
# session either way, and accepts it once adm1 is honest again.
#   psp ─┬─ adm1 ─ hosp1 (hospital)
#        └─ gate
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
EVIL="$top_builddir/tests/integration/spnd_evil"
HONEST=$SPND
check "the PSP starts" psp_start "$P" care
SPND=$EVIL; export SPN_EVIL=substitute
check "adm1 joins, running the malicious relay" join "$WORK/adm1" "$P" admin 8 ""
SPND=$HONEST; unset SPN_EVIL
check "hosp1 joins below adm1" join "$WORK/hosp1" "$WORK/adm1" spn 3 hospital "$(echo_for hospital)"
check "gate joins below the PSP" join "$WORK/gate" "$P" spn 3 ""
back() { registry_has "$P" hosp1 && registry_has "$P" gate; }
check "the tree is up" wait_for 10 back

refuse "a key substituted on the path: the client refuses the session" \
	"error bad_signature: .*provider hosp1: the session transcript's signature does not verify" \
	client "$WORK/gate" hospital='pulse 128'
check "the substitution did happen, at adm1" grep -q 'evil: the offer of session s-[0-9a-f]* now carries a key of adm1' "$WORK/adm1/spnd.log"
check "hosp1 never saw a section: there was none to see" sh -c "! grep -q 'section s-' '$WORK/hosp1/spnd.log'"

restart_adm1() { # restart_adm1 BINARY MODE: on the same port, which hosp1 knows
	sed -i "s/^port = 0\$/port = $(cat "$WORK/adm1/spnd.port")/" "$WORK/adm1/spnd.conf"
	node_stop "$WORK/adm1"
	SPND=$1; SPN_EVIL=$2; export SPN_EVIL
	node_start "$WORK/adm1"; rc=$?
	SPND=$HONEST; unset SPN_EVIL
	[ $rc = 0 ] && wait_for 10 registry_has "$P" hosp1 || { tail -n 5 "$WORK/adm1/spnd.log" "$WORK/hosp1/spnd.log"; return 1; }
}
check "adm1 comes back re-signing offers as itself" restart_adm1 "$EVIL" resign
refuse "an offer signed by a node that does not provide the service is refused" \
	"error denied: .*provider adm1: its certificate does not authorise service hospital" \
	client "$WORK/gate" hospital='pulse 128'
check "the re-signing did happen" grep -q 'now carries a key of adm1' "$WORK/adm1/spnd.log"

# A relay that throws a reply away and says the session is unknown: the
# client opens a new session with the same provider and sends the message
# again; the provider, which acted on it already, refuses to act twice.
check "adm1 comes back lying about sessions" restart_adm1 "$EVIL" lie
client "$WORK/gate" hospital='insulin 4 units' >"$WORK/lie" 2>&1
diag "$(cat "$WORK/lie")"
check "the lie did happen" grep -q 'evil: the reply to m-[0-9a-f]* from hosp1 thrown away' "$WORK/adm1/spnd.log"
mid=$(sed -n 's/.*evil: the reply to \(m-[0-9a-f]*\) from.*/\1/p' "$WORK/adm1/spnd.log" | tail -n 1)
check "the client tried again over a new session with the same provider" \
	test "$(grep -c "session s-[0-9a-f]* for service hospital opened" "$WORK/hosp1/spnd.log")" -ge 2
check "which refused to act twice on the message" grep -q "error replay: .*message $mid was handled in another session" "$WORK/lie"
check "hosp1 acted on it once" test "$(grep -c "section s-[0-9a-f]*/$mid seq 0 from client: " "$WORK/hosp1/spnd.log")" = 1

check "adm1 comes back honest" restart_adm1 "$HONEST" ""
client "$WORK/gate" hospital='pulse 128' >"$WORK/c" 2>&1
check "and the same call succeeds" grep -q '^hospital from hosp1: ' "$WORK/c"
