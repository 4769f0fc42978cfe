#!/bin/sh
# An intermediary learns nothing. The group runs with node-to-node TLS off
# ([http] tls = false), every byte on loopback is captured with tcpdump
# while a client sends sections to two providers through four routing
# nodes, and the capture is searched: the routing data is there in the
# clear, the sections' plaintext and the replies' plaintext are nowhere,
# and no node's log holds them either.
#   psp ─┬─ adm1 ─ hosp1 (hospital)
#        └─ adm2 ─┬─ bank1 (bank)
#                 └─ gate
. "$top_srcdir/tests/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null 2>&1; then
	skip "capturing loopback needs root and tcpdump (tests/scripts/deps-debian.sh test installs it)"
	exit 0
fi
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts on plain HTTP" plain_psp "$P" care
check "adm1 joins" pjoin "$WORK/adm1" "$P" admin 8 ""
check "adm2 joins" pjoin "$WORK/adm2" "$P" admin 8 ""
check "hosp1 joins" pjoin "$WORK/hosp1" "$WORK/adm1" spn 3 hospital "$(echo_for hospital)"
check "bank1 joins" pjoin "$WORK/bank1" "$WORK/adm2" spn 3 bank "$(echo_for bank)"
check "gate joins" pjoin "$WORK/gate" "$WORK/adm2" spn 3 ""
up() { "$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q 'hosp1' &&
	"$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q 'bank1'; }
check "the tree is up" wait_for 10 up

capture_start
VITALS="vitals-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
IBAN="DE02$(od -An -N8 -tu8 /dev/urandom | tr -d ' \n')"
CLEAR="clear-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
"$SPN_CLIENT" --url "$(purl "$WORK/gate")" --root "$CA" hospital="$VITALS" bank="iban $IBAN" >"$WORK/c" 2>&1
# The control: a payload a member sends without a session, in the clear
# (the routing probe), is seen.
signed "$WORK/gate" POST "$(purl "$WORK/gate")/v1/route" "{\"service\":\"hospital\",\"payload\":\"$CLEAR\"}" >/dev/null
capture_stop
diag "$(tr '\n' '|' <"$WORK/c")"
check "the client read both replies, which echo its sections" sh -c "grep -q '^hospital from hosp1: .*\"echo\":\"$VITALS\"' '$WORK/c' && grep -q '^bank from bank1: .*\"echo\":\"iban $IBAN\"' '$WORK/c'"

$PY "$top_srcdir/tests/integration/pcap_grep.py" "$WORK/lo.pcap" '"kind":"section"' '"node":"hosp1"' \
	'"path":["gate","adm2","psp","adm1"' "$VITALS" "$IBAN" "$CLEAR" >"$WORK/found"
diag "$(tr '\n' '|' <"$WORK/found")"
count() { awk -v s="$1" '$0 ~ s { print $1 }' "$WORK/found" | head -n 1; }
check "the capture holds the node-to-node traffic in the clear (sections routed)" test "$(count kind)" -gt 0
check "including the route each section took through the PSP" test "$(count path)" -gt 0
check "a payload sent in the clear is found by the same search" test "$(count clear-)" -gt 0
check "the hospital's plaintext crosses no connection" test "$(count vitals-)" = 0
check "the bank details cross no connection" test "$(count "$IBAN")" = 0
check "no node logged either" sh -c "! grep -rqE '$VITALS|$IBAN' '$WORK'/*/spnd.log"
