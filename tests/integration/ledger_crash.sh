#!/bin/sh
# The ledger survives kill -9 in the middle of a burst of issuances: it is
# consistent, every certificate handed out is recorded, no serial repeats,
# and the CA carries on afterwards.
. "$top_srcdir/tests/lib.sh"
G="$WORK/g"; C="$G/spnd.conf"; DB="$G/ledger.db"
BURST="$top_builddir/tests/integration/ledger_burst"
new_group "$G" demo

for round in 1 2 3; do
	# The file exists before the burst starts, so the wait below never
	# reads a file the background shell has not opened yet.
	: >"$WORK/handed.$round"
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$BURST" "$C" "r$round" 100000 >"$WORK/handed.$round" 2>"$WORK/err.$round" &
	pid=$!
	# Let it get going, then kill it without warning at a different point
	# of the burst each round. Under the sanitizers, with the rest of the
	# suite running beside it, getting going has once taken over a minute.
	i=0
	while [ "$(wc -l <"$WORK/handed.$round")" -lt $((10 * round)) ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
	[ $i -lt 100 ] || diag "round $round: waited $((i / 10)) s for $((10 * round)) issuances"
	kill -0 $pid 2>/dev/null || diag "round $round: the burst had already stopped"
	kill -9 $pid
	wait $pid 2>/dev/null
	n=$(wc -l <"$WORK/handed.$round")
	check "round $round: burst was killed after $n issuances" test "$n" -gt 0
	[ "$n" -gt 0 ] || awk '{print "#   " $0}' "$WORK/err.$round"
done

check "integrity_check is ok" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
missing=0
for s in $(cat "$WORK"/handed.*); do
	[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs WHERE serial='$s'")" = 1 ] || missing=$((missing + 1))
done
check "every handed-out certificate is in the ledger ($(cat "$WORK"/handed.* | wc -l) checked)" test "$missing" = 0
check "no serial appears twice" test "$(sqlite3 "$DB" 'SELECT COUNT(*) - COUNT(DISTINCT serial) FROM certs')" = 0
check "every issuance consumed its token" test \
	"$(sqlite3 "$DB" "SELECT COUNT(*) FROM certs c LEFT JOIN tokens t ON t.used_by = c.serial WHERE c.token_id != '' AND t.id IS NULL")" = 0
check "the CA issues again after the crashes" enroll "$C" after-crash spn 1 ""
