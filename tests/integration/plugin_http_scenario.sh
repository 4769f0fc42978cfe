#!/bin/sh
# The reference scenario with its hospital a web application: hospital-1
# runs the plugin http in front of tests/integration/http_hospital.py
# (Flask), which diagnoses, calls the pharmacy through its node and
# answers healthcare (doc/rest-services.md). The privacy matrix of
# privacy_matrix.sh must hold with the application's process counted as
# part of hospital-1, and the application alone must hold exactly what
# hospital-1 may read. An application that nests the pharmacy's answer in
# its own must be caught.
. "$top_srcdir/tests/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null 2>&1; then
	skip "reading other processes' memory and capturing loopback need root and tcpdump"
	exit 0
fi
if ! $PY -c 'import flask' >/dev/null 2>&1; then
	skip "the hospital's web application needs python3-flask"
	exit 0
fi
# What a process ever held must still be in its memory when it is read,
# as in privacy_matrix.sh. The application too: Python's own allocator is
# set aside so that every object it frees goes through the preloaded free
# (or the sanitizers' quarantine, whose leak report on Python is not ours).
keep_memory
markers
H="$WORK/hospital-1"; A="$WORK/app"

# app_start [ARGS...]: the web application, on the port in $A/port or a
# new one; its log is in hospital-1's directory, where the matrix reads
# the node's logs. Its pid in $A/pid has it killed at exit whatever
# happened.
app_start() {
	port=$(cat "$A/port" 2>/dev/null || echo 0)
	rm -f "$A/port"
	PYTHONMALLOC=malloc LD_PRELOAD="$SPND_PRELOAD" ASAN_OPTIONS=detect_leaks=0 \
		$PY "$top_srcdir/tests/integration/http_hospital.py" --prescriber hospital-1 --port "$port" \
		--port-file "$A/port" "$@" >>"$H/http_hospital.log" 2>&1 &
	echo $! >"$A/pid"
	wait_for 10 test -s "$A/port"
}
mkdir -p "$A" && mkdir -m 700 "$H"
check "the hospital's web application listens" app_start
# hospital-1: the plugin http in front of it.
matrix_group "$(printf '%s\n[plugin.http]\nservices = hospital\nupstream.hospital = http://127.0.0.1:%s/referrals\ntimeout.hospital = 5\nconnect = %s\ntimeout = 10s\n' \
	"$(plugins http)" "$(cat "$A/port")" "$(cat "$A/port")")"

NODES="psp admin-east admin-care healthcare-1 hospital-1 pharmacy-1 bank-1"
# nodes: the matrix's --node arguments, hospital-1 with its application.
nodes() { for n in $NODES; do
	printf -- '--node %s=%s' "$n" "$(cat "$WORK/$n/pid")"
	[ "$n" != hospital-1 ] || printf ',%s' "$(cat "$A/pid")"
	printf ' '; done; }
# The wire is what passes between nodes, each connection to or from one of
# their ports: hospital-1's plugin and its application talk in the clear on
# loopback, on this machine, as spnd and its plugin processes do through
# their pipes.
wire_ports() { for n in $NODES; do printf '%s,' "$(cat "$WORK/$n/spnd.port")"; done | sed 's/,$//'; }
capture_start
band "$WORK/paid" "$(mk sections bank)"
band_poor "$WORK/refused"
capture_stop
diag "$(cat "$WORK/paid" "$WORK/refused")"
check "the web hospital diagnosed from the referral" answer_is "$WORK/paid" healthcare diagnosis "suspected pneumonia"
check "prescribed" answer_is "$WORK/paid" healthcare prescription '{"drug":"amoxicillin","strength":"500 mg","quantity":20}'
check "and the pharmacy it called through its node dispensed" answer_is "$WORK/paid" healthcare dispensed true
check "the bank authorised, the pharmacy delivers" \
	sh -c "grep -q '^bank from bank-1: {\"status\":\"authorised\"' '$WORK/paid' && grep -q '\"status\":\"delivering\"' '$WORK/paid'"
check "a payment the balance does not cover: refused, the wristband told why" \
	answer_is "$WORK/refused" bank reason "$(mk markers 'bank>wristband.refusal_reason')"
check "and the hospital told it was not dispensed" answer_is "$WORK/refused" healthcare dispensed false

# shellcheck disable=SC2046
$PY "$MATRIX" check "$WORK/markers.json" $(nodes) --pcap "$WORK/lo.pcap" --wire-ports "$(wire_ports)" \
	--receipts "$WORK/paid" --logdir "$WORK" >"$WORK/matrix" 2>&1
st=$?
sed 's/^/# /' "$WORK/matrix"
check "every marker is held by exactly the nodes that may read it (hospital-1 with its application), by no wire, in no log" \
	test $st = 0
# spnd alone would fill hospital-1's cells: the application is held to
# them on its own. It read the referral and the pharmacy's answer and
# opened the case; it holds nothing else.
$PY "$MATRIX" check "$WORK/markers.json" --node "hospital-1=$(cat "$A/pid")" --receipts "$WORK/paid" --quiet \
	>"$WORK/matrix-app" 2>&1
st=$?
sed 's/^/# /' "$WORK/matrix-app"
check "the application alone holds exactly what hospital-1 may read" test $st = 0

# Its refusals reach the caller in its words, which name fields, never
# values: a referral from no member, one with no finding it treats.
walk_in() { # walk_in FILE SECTION [CLIENT_ARGS...]: SECTION for the hospital alone
	f=$1 sec=$2; shift 2
	"$SPN_CLIENT" --url "$(purl "$WORK/admin-east")" --root "$CA" "$@" hospital="$sec" >"$f" 2>&1
}
walk_in "$WORK/anon" '{"patient":"p-0","findings":["fever"]}' --name walk-in
walk_in "$WORK/cough" '{"patient":"p-0","findings":["cough"]}' --cert "$WORK/band/node.crt" --key "$WORK/band/node.key"
diag "$(cat "$WORK/anon" "$WORK/cough")"
check "a referral from no member is refused, saying so" \
	answer_is "$WORK/anon" hospital message "plugin http: referrals are taken from members of the group only"
check "a finding the hospital does not treat is refused, saying so" \
	answer_is "$WORK/cough" hospital message "plugin http: referral: no finding this hospital treats"

# The control: the application nests the pharmacy's answer (its order) in
# its answer to healthcare. The matrix must catch it.
kill "$(cat "$A/pid")" && wait "$(cat "$A/pid")" 2>/dev/null
check "the application comes back, leaking, on its port" app_start --leak
band "$WORK/leaky" "$(mk sections bank)"
diag "$(cat "$WORK/leaky")"
check "the composition ran" answer_is "$WORK/leaky" healthcare dispensed true
# shellcheck disable=SC2046
$PY "$MATRIX" check "$WORK/markers.json" $(nodes) --receipts "$WORK/leaky" --quiet >"$WORK/matrix2" 2>&1
st=$?
sed 's/^/# /' "$WORK/matrix2"
check "the matrix fails on the leaking application" test $st = 1
check "naming the pharmacy's order held by healthcare" \
	grep -q '^not as intended: pharmacy>hospital.order leaked to: healthcare-1' "$WORK/matrix2"
