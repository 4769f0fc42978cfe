#!/bin/sh
# Sessions and messages end to end on real daemons, through the tree:
#   psp ─┬─ adm1 ─┬─ hosp1 (hospital)
#        │        └─ ph1 (pharmacy; sessions last 2 s, carry 3 messages)
#        └─ adm2 ─┬─ bank1, bank2 (bank; a client certificate is required)
#                 └─ gate (the entry node: provides nothing)
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "adm2 joins" join "$WORK/adm2" "$P" admin 8 ""
check "hosp1 joins" join "$WORK/hosp1" "$WORK/adm1" spn 3 hospital "$(echo_for hospital)"
check "ph1 joins" join "$WORK/ph1" "$WORK/adm1" spn 3 pharmacy "$(echo_for pharmacy; printf '[session]\nttl = 2s\nbudget = 3')"
NEED_CERT="$(echo_for bank; printf '[session]\nclient_certificate = bank')"
check "bank1 joins" join "$WORK/bank1" "$WORK/adm2" spn 3 bank "$NEED_CERT"
check "bank2 joins" join "$WORK/bank2" "$WORK/adm2" spn 3 bank "$NEED_CERT"
check "gate joins" join "$WORK/gate" "$WORK/adm2" spn 3 ""
check "a wristband gets a client certificate" client_cert "$WORK/band" wristband-7 "$P"
all_at_root() { for n in adm1 adm2 hosp1 ph1 bank1 bank2 gate; do registry_has "$P" $n || return 1; done; }
check "every node reaches the PSP's registry" wait_for 10 all_at_root
BAND="--cert $WORK/band/node.crt --key $WORK/band/node.key"

# One message, sections for two services, through an entry node that
# provides neither.
client "$WORK/gate" hospital='pulse 128, spo2 91' pharmacy='20 x amoxicillin 500 mg' >"$WORK/c1" 2>&1
check "one message reaches the hospital and the pharmacy" sh -c "grep -q '^hospital from hosp1: .*\"echo\":\"pulse 128, spo2 91\"' '$WORK/c1' && grep -q '^pharmacy from ph1: .*\"echo\":\"20 x amoxicillin 500 mg\"' '$WORK/c1'"
check "an anonymous client is not verified" grep -q '"from":"client","verified":false' "$WORK/c1"
check "the entry node fanned the sessions out" grep -q 'session call at gate: 2 service(s)' "$WORK/gate/spnd.log"
check "the providers opened them" sh -c "grep -q 'session s-[0-9a-f]* for service hospital opened for an anonymous client' '$WORK/hosp1/spnd.log'"
check "the sections took the path through the LCA" sh -c "grep -q 'route m-[0-9a-f]* section service hospital path=gate>adm2>psp>adm1>hosp1: handled here' '$WORK/hosp1/spnd.log'"
diag "$(tr '\n' '|' <"$WORK/c1")"

refuse "two parts for one service are refused before anything is sent" "two parts for service hospital" \
	client "$WORK/gate" hospital=a hospital=b

# A service that requires a client certificate.
client "$WORK/gate" bank='pay 12.50' >"$WORK/c2" 2>&1
check "the bank refuses an anonymous client, saying why" grep -q '^bank from -: error denied: .*service bank takes only clients with a certificate of the group' "$WORK/c2"
client "$WORK/gate" $BAND bank='pay 12.50' hospital='pulse 80' >"$WORK/c3" 2>&1
check "and serves one with a certificate of the group" grep -q '^bank from bank[12]: .*"from":"wristband-7","verified":true' "$WORK/c3"
check "whose sections name it as their author everywhere" grep -q '^hospital from hosp1: .*"from":"wristband-7","verified":true' "$WORK/c3"

# Budgets and expiry are invisible to the caller: the session is opened
# again. Without reopening they are refused with their reason.
client "$WORK/gate" --repeat 5 pharmacy='refill' >"$WORK/c4" 2>&1
check "five messages over a session that carries three" test "$(grep -c '^pharmacy from ph1: ' "$WORK/c4")" = 5
check "the provider said the budget was spent" grep -q 'has carried its 3 messages' "$WORK/ph1/spnd.log"
refuse "without reopening, the fourth message is refused" "error limit: .*has carried its 3 messages" \
	client "$WORK/gate" --no-reopen --repeat 4 pharmacy='refill'
client "$WORK/gate" --repeat 2 --wait 2500 pharmacy='later' >"$WORK/c5" 2>&1
check "a session that expired is opened again" test "$(grep -c '^pharmacy from ph1: ' "$WORK/c5")" = 2
refuse "without reopening, an expired session is refused" "error expired: .*has expired" \
	client "$WORK/gate" --no-reopen --repeat 2 --wait 2500 pharmacy='later'

# A provider that leaves: the session moves to the other one unnoticed.
mkfifo "$WORK/fifo"
client "$WORK/gate" $BAND --repeat 2 --wait 4000 bank='pay 1.00' >"$WORK/fifo" 2>&1 &
cpid=$!
exec 3<"$WORK/fifo"
read -r first <&3
used=$(echo "$first" | sed -n 's/^bank from \(bank[12]\): .*/\1/p')
other=$([ "$used" = bank1 ] && echo bank2 || echo bank1)
node_stop "$WORK/$used" KILL
read -r second <&3
wait $cpid
exec 3<&-
check "the first message went to $used" test -n "$used"
check "after $used is killed the second goes to $other" sh -c "echo '$second' | grep -q '^bank from $other: '"
# The last provider gone: the error names it.
client "$WORK/gate" $BAND --repeat 2 --wait 4000 bank='pay 2.00' >"$WORK/fifo" 2>&1 &
cpid=$!
exec 3<"$WORK/fifo"
read -r first <&3
node_stop "$WORK/$other" KILL
read -r second <&3
wait $cpid
exec 3<&-
diag "$second"
check "with no provider left the error names the one that was lost" sh -c "echo '$second' | grep -Eq '^bank from $other: error no_provider: provider $other of bank is gone .*no provider for service bank'"
