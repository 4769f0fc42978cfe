#!/bin/sh
# The ledger on PostgreSQL, shared by two PSPs, on a cluster of the test's
# own with a synchronous streaming standby (tests/integration/pg.sh). The
# guarantees the SQLite ledger gives hold with two issuers at once,
# enforced by the database: max_children with an administrator's tokens
# spent at both PSPs; no serial twice and no token used twice in a burst of
# enrollments at both, one PSP killed with SIGKILL in the middle; and the
# primary killed and the standby promoted in the middle of another burst:
# the PSPs find the new primary by themselves and nothing they answered is
# lost.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/pg.sh"
pg_need || exit 0
P1="$WORK/psp"; P2="$WORK/psp2"; CA="$P1/ca/root.crt"
PREP="$top_builddir/tests/bench/bench_prep"
BURST="$PY $top_srcdir/tests/integration/enroll_burst.py"

check "a PostgreSQL primary starts" pg_init pri 5433
check "with a database for the ledger" pg_createdb pri 5433
check "standby1 streams from it" pg_standby pri 5433 standby1 5434
check "and the primary's commits wait for it" pg_sync pri 5433 standby1
sync() { test "$(pg_sql pri 5433 "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync; }
check "and is the synchronous standby" wait_for 20 sync
URI=$(pg_uri pri 5433 standby1 5434)
check "spnctl init makes the group's ledger in it" ctl init -d "$P1" -g care --ledger "$URI"
check "whose schema is there" test "$(pg_sql pri 5433 "SELECT value FROM meta WHERE key = 'schema'")" = 1
check "and no ledger.db beside the configuration" test ! -e "$P1/ledger.db"
refuse "a second init into the same database is refused" "already holds a ledger" \
	ctl init -d "$WORK/again" -g care --ledger "$URI"

# The second PSP: the same group, root key and node, another process and
# port, the same ledger.
cp -a "$P1" "$P2"
for p in "$P1" "$P2"; do
	sed -i 's/^max_children = .*/max_children = 5/' "$p/spnd.conf"
	printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n' >>"$p/spnd.conf"
done
check "the first PSP starts on it" node_start "$P1"
check "the second too" node_start "$P2"

# --- max_children, two issuers -------------------------------------------
check "admin adm1 is enrolled" enroll "$P1/spnd.conf" adm1 admin 8 ""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	"$SPNCTL" keygen -o "$WORK/kid$i.key" 2>/dev/null
	"$SPNCTL" csr --key "$WORK/kid$i.key" --id "kid$i" --name 127.0.0.1 -o "$WORK/kid$i.csr"
	"$SPNCTL" token --key "$WORK/adm1.key" --cert "$WORK/adm1.crt" --id "kid$i" --role spn --trust 3 --services "" \
		>"$WORK/kid$i.tok"
done
pids=
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	conf="$P1/spnd.conf"; [ $((i % 2)) = 0 ] && conf="$P2/spnd.conf"
	ctl issue -c "$conf" --csr "$WORK/kid$i.csr" --token "$(cat "$WORK/kid$i.tok")" -o "$WORK/kid$i.crt" \
		>"$WORK/kid$i.out" 2>&1 &
	pids="$pids $!"
done
wait $pids
issued=$(ls "$WORK"/kid*.crt 2>/dev/null | wc -l)
check "twelve of adm1's tokens spent at once through both PSPs' configurations: five issued ($issued)" test "$issued" = 5
check "the rest refused for max_children" test "$(grep -l 'max_children = 5' "$WORK"/kid*.out | wc -l)" = 7
check "the ledger holds five children of adm1" \
	test "$(pg_sql pri 5433 "SELECT COUNT(DISTINCT node_id) FROM certs WHERE parent = 'adm1'")" = 5

# --- a burst at both PSPs, one killed -------------------------------------
recorded() { # NODE PORT FILE...: every serial answered 201 in FILEs is recorded, once each
	node=$1 port=$2; shift 2
	want=$(cat "$@" | grep -c '^201 ')
	list=$(cat "$@" | awk '$1 == 201 { printf "%s'\''%s'\''", (n++ ? "," : ""), $2 }')
	got=$(pg_sql "$node" "$port" "SELECT COUNT(*) FROM certs WHERE serial IN (${list:-''})")
	diag "$got of $want answered certificates recorded"
	test "$got" = "$want"
}
answered() { cat "$@" 2>/dev/null | grep -c '^201 '; }
# burst NAME: NAME.0-1 to psp and NAME.2-3 to psp2 at once, in the
# background (B1, B2), their answers in NAME1 and NAME2.
burst() {
	: >"$WORK/${1}1"; : >"$WORK/${1}2"
	$BURST "$(node_url "$P1")" "$CA" "$WORK/${1}1" "$WORK/$1.0" "$WORK/$1.1" &
	B1=$!
	$BURST "$(node_url "$P2")" "$CA" "$WORK/${1}2" "$WORK/$1.2" "$WORK/$1.3" &
	B2=$!
}
check "800 enrollments are prepared" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$PREP' enroll '$P1/spnd.conf' 800 '$WORK/a' 4"
burst a
check "both PSPs answer enrollments" wait_for 60 sh -c "[ \$(grep -c '^201 ' '$WORK/a1') -ge 50 ] && [ \$(grep -c '^201 ' '$WORK/a2') -ge 50 ]"
kill -9 "$(cat "$P1/pid")"
n2=$(answered "$WORK/a2")
wait $B1 $B2
diag "psp answered $(answered "$WORK/a1"), psp2 $(answered "$WORK/a2") ($n2 when psp was killed)"
check "psp2 went on issuing after psp was killed" test "$(answered "$WORK/a2")" -gt "$n2"
check "every certificate either answered is in the ledger" recorded pri 5433 "$WORK/a1" "$WORK/a2"
check "no serial twice" test "$(pg_sql pri 5433 'SELECT COUNT(*) - COUNT(DISTINCT serial) FROM certs')" = 0
check "no token used twice" \
	test "$(pg_sql pri 5433 "SELECT COUNT(*) FROM (SELECT token_id FROM certs WHERE token_id NOT LIKE 'renew:%' GROUP BY token_id HAVING COUNT(*) > 1) d")" = 0
check "every certificate's token is marked used by it" \
	test "$(pg_sql pri 5433 "SELECT COUNT(*) FROM certs c LEFT JOIN tokens t ON t.used_by = c.serial WHERE c.token_id != '' AND c.token_id NOT LIKE 'renew:%' AND t.id IS NULL")" = 0

# --- the primary dies, the standby is promoted ----------------------------
check "psp starts again" node_start "$P1"
check "800 more enrollments are prepared" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$PREP' enroll '$P1/spnd.conf' 800 '$WORK/c' 4"
burst c
check "both answer again" wait_for 60 sh -c "[ \$(grep -c '^201 ' '$WORK/c1') -ge 30 ] && [ \$(grep -c '^201 ' '$WORK/c2') -ge 30 ]"
pg_kill pri
before=$(answered "$WORK/c1" "$WORK/c2")
check "standby1 is promoted" pg_promote standby1
wait $B1 $B2
diag "answered $(answered "$WORK/c1" "$WORK/c2") in all, $before before the primary died"
check "the PSPs issued on the promoted standby, by themselves" test "$(answered "$WORK/c1" "$WORK/c2")" -gt "$before"
check "every certificate answered is in the promoted standby's ledger" recorded standby1 5434 "$WORK/c1" "$WORK/c2" "$WORK/a1" "$WORK/a2"
check "no serial twice there" test "$(pg_sql standby1 5434 'SELECT COUNT(*) - COUNT(DISTINCT serial) FROM certs')" = 0
check "the refusals during the switch said why" sh -c "! cut -f1 '$WORK/c1' '$WORK/c2' | grep -Ev '^(201|503|500|000) '"
