#!/bin/sh
# Renewal under load: with one-minute certificates n1 renews about every
# 20 s, and so does adm1 above it, while clients keep opening sessions with
# n1 and sending it messages, straight to it and through the tree
# (psp > adm1 > n1). Every answer that comes is right; every offer carries a
# whole certificate of n1's, the old one or the new one, that the client
# checks against the root and whose key signed the offer; new connections
# are served one or the other. A reader holding the old certificate while
# it is replaced is what is tested: the sanitizer build finds one that is
# freed under it.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
PROBE="$top_builddir/tests/integration/renew_probe"
check "the PSP starts" psp_start "$P" inflight 60s
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
check "n1 joins below adm1" join "$WORK/n1" "$WORK/adm1" spn 3 echo "$(plugins echo)"
check "n1 reaches the PSP's registry" wait_for 10 registry_has "$P" n1

# Serials as lowercase hex without leading zeros, one a line.
norm() { tr 'A-F' 'a-f' | sed 's/^0*//'; }
n1_serials() { sqlite3 "$P/ledger.db" "SELECT serial FROM certs WHERE node_id='n1'" | norm | sort -u; }
file_serial() { openssl x509 -in "$WORK/n1/node.crt" -noout -serial | cut -d= -f2 | norm; }
first=$(file_serial)

"$PROBE" "$(node_url "$WORK/n1")" "$CA" echo "$WORK/stop" 120 >"$WORK/direct" 2>"$WORK/direct.err" &
pids=$!
"$PROBE" "$(node_url "$P")" "$CA" echo "$WORK/stop" 120 >"$WORK/tree" 2>"$WORK/tree.err" &
pids="$pids $!"
port=$(cat "$WORK/n1/spnd.port")
(
	while [ ! -e "$WORK/stop" ]; do
		echo | openssl s_client -connect "127.0.0.1:$port" -CAfile "$CA" 2>/dev/null |
			openssl x509 -noout -serial 2>/dev/null | cut -d= -f2 | norm
		sleep 0.2
	done
) >"$WORK/served" &
pids="$pids $!"

# Twice: the second renewal replaces a certificate that was itself taken
# in under load.
in_use_is_newest() {
	[ "$(n1_serials | wc -l)" -ge 3 ] &&
		[ "$(file_serial)" = "$(sqlite3 "$P/ledger.db" "SELECT serial FROM certs WHERE node_id='n1' ORDER BY rowid DESC LIMIT 1" | norm)" ]
}
check "n1 renews twice while clients use it" wait_for 90 in_use_is_newest
# A few rounds more on the newest certificate, then the probes stop.
after=$(wc -l <"$WORK/direct")
more_rounds() { [ "$(wc -l <"$WORK/direct")" -ge $((after + 5)) ]; }
check "the clients go on after the renewals" wait_for 30 more_rounds
touch "$WORK/stop"
wait $pids

diag "straight to n1: $(cat "$WORK/direct.err"); through the tree: $(cat "$WORK/tree.err")"
diag "n1's certificates: $(n1_serials | tr '\n' ' ')(first $first)"
n1_serials >"$WORK/n1.serials"
# only_n1 FILE: every serial in FILE is one of n1's.
only_n1() { cut -d' ' -f1 "$1" | norm | sort -u | grep -vxF -f "$WORK/n1.serials" | awk 'END { exit NR > 0 }'; }
distinct() { cut -d' ' -f1 "$1" | sort -u | wc -l; }
for probe in direct tree; do
	check "$probe: every round answered right ($(grep -c ' bad ' "$WORK/$probe") not)" \
		test "$(grep -c ' bad ' "$WORK/$probe")" = 0
	check "$probe: rounds before, during and after ($(wc -l <"$WORK/$probe"))" test "$(wc -l <"$WORK/$probe")" -ge 20
	check "$probe: every offer carries a certificate of n1's" only_n1 "$WORK/$probe"
	check "$probe: offers came with at least two of them ($(distinct "$WORK/$probe"))" test "$(distinct "$WORK/$probe")" -ge 2
	grep ' bad ' "$WORK/$probe" | head -n 5 | while read -r l; do diag "$l"; done
done
check "new connections are served n1's certificates" only_n1 "$WORK/served"
check "more than one of them ($(distinct "$WORK/served"))" test "$(distinct "$WORK/served")" -ge 2
check "n1 did not restart" sh -c "[ \$(grep -c 'listening on' '$WORK/n1/spnd.log') = 1 ]"
# Closing frees every certificate n1 still holds: under the sanitizers a
# value left behind, or freed twice, fails its exit status.
pid=$(cat "$WORK/n1/pid")
kill -TERM "$pid"
(sleep 30 && kill -9 "$pid") 2>/dev/null &
watchdog=$!
wait "$pid"
status=$?
kill "$watchdog" 2>/dev/null
check "n1 closes cleanly (exit $status)" test "$status" = 0
