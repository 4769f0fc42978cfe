#!/bin/sh
# The privacy matrix of the reference scenario, measured (doc/plugins.md):
# a marker in every field the wristband writes and in what each service
# writes for the next; the whole composition on real daemons over plain
# HTTP; then the memory of every process of every node and the capture of
# the loopback wire searched for each marker. Each must be held by exactly
# the nodes the matrix says may read it, and by no wire. A pharmacy that
# nests the bank's answer in its own (tests/plugins/leaky.c) must be caught.
. "$top_srcdir/tests/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null 2>&1; then
	skip "reading other processes' memory and capturing loopback need root and tcpdump"
	exit 0
fi
keep_memory
markers
matrix_group "$(plugins hospital)"
nodes() { for n in psp admin-east admin-care healthcare-1 hospital-1 pharmacy-1 bank-1; do
	printf -- '--node %s=%s ' "$n" "$(cat "$WORK/$n/pid")"; done; }
capture_start
band "$WORK/paid" "$(mk sections bank)"
band_poor "$WORK/refused"
capture_stop
diag "$(cat "$WORK/paid" "$WORK/refused")"
check "the composition ran: the bank authorised, the pharmacy delivers" \
	sh -c "grep -q '^bank from bank-1: {\"status\":\"authorised\"' '$WORK/paid' && grep -q '\"status\":\"delivering\"' '$WORK/paid'"
check "and a payment the balance does not cover was refused, the wristband told why" \
	answer_is "$WORK/refused" bank reason "$(mk markers 'bank>wristband.refusal_reason')"

$PY "$MATRIX" check "$WORK/markers.json" $(nodes) --pcap "$WORK/lo.pcap" --receipts "$WORK/paid" --logdir "$WORK" \
	>"$WORK/matrix" 2>&1
st=$?
sed 's/^/# /' "$WORK/matrix"
check "every marker is held by exactly the nodes that may read it, by no wire, in no log" test $st = 0

# The control: a pharmacy that nests the bank's answer (its reference) and
# the address in its reply to the hospital. The matrix must catch it.
node_stop "$WORK/pharmacy-1"
sed -i '/^\[plugins\]/,$d' "$WORK/pharmacy-1/spnd.conf"
printf '[plugins]\nenable = leaky\npath = %s/tests/plugins\nhost = %s/core/spn-plugin-host\n' \
	"$top_builddir" "$top_builddir" >>"$WORK/pharmacy-1/spnd.conf"
check "pharmacy-1 comes back with a leaking pharmacy" node_start "$WORK/pharmacy-1"
check "and is in the tree again" wait_for 10 matrix_up
markers
sed -i "s/^seed = .*/seed = $(mk seed bank)/" "$WORK/bank-1/spnd.conf"
node_stop "$WORK/bank-1"
check "bank-1 comes back with the new patient's account" node_start "$WORK/bank-1"
check "and is in the tree again" wait_for 10 matrix_up
band "$WORK/leaky" "$(mk sections bank)"
band_poor "$WORK/refused2"
diag "$(cat "$WORK/leaky")"
$PY "$MATRIX" check "$WORK/markers.json" $(nodes) --receipts "$WORK/leaky" --quiet >"$WORK/matrix2" 2>&1
st=$?
sed 's/^/# /' "$WORK/matrix2"
check "the matrix fails on the leaking pharmacy" test $st = 1
check "naming the bank's reference held by the hospital" grep -q '^not as intended: bank>pharmacy.ref leaked to: hospital-1' "$WORK/matrix2"
check "and the address held by the hospital" grep -q '^not as intended: delivery.deliver_to leaked to: hospital-1' "$WORK/matrix2"
