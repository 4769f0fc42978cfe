#!/bin/sh
# Fair shares at a provider, under attack on real daemons: anonymous
# clients open sessions as fast as they can through two entry nodes, another keeps the answer budget
# full with large answers; meanwhile a client with a certificate opens
# sessions and retries its messages. It is never told busy, its retries are
# answered from the provider's record, the anonymous sessions stay within
# their share and the provider's memory stays bounded.
#   psp ─ adm1 ─┬─ p1 (echo; 400 sessions, 200 anonymous, 150 per origin,
#               │       64 KB of answers)
#               └─ gate
. "$top_srcdir/tests/lib.sh"
# In a sanitizer build, the memory freed and kept aside to catch its use
# after free would count as the daemon's: a small quarantine keeps the
# figure the daemon's own.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
export ASAN_OPTIONS
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 ""
SMALL="$(echo_for echo; printf '[session]\nmax = 400\nanonymous = 200\nper_client = 150\nanswer_bytes = 65536')"
check "p1 joins" join "$WORK/p1" "$WORK/adm1" spn 3 echo "$SMALL"
check "gate joins" join "$WORK/gate" "$WORK/adm1" spn 3 ""
check "a wristband gets a client certificate" client_cert "$WORK/band" wristband-7 "$P"
all_at_root() { for n in adm1 p1 gate; do registry_has "$P" $n || return 1; done; }
check "every node reaches the PSP's registry" wait_for 10 all_at_root
BAND="--cert $WORK/band/node.crt --key $WORK/band/node.key"

# metric NAME: the provider's session figure NAME, asked by a member.
metric() {
	curl -sS --cacert "$CA" $(as "$WORK/adm1") "$(node_url "$WORK/p1")/v1/metrics" |
		$PY -c "import json,sys; print(json.load(sys.stdin)['sessions']['$1'])"
}
above() { [ "$(metric "$1")" -gt "$2" ]; }
at_most() { [ "$(metric "$1")" -le "$2" ]; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(cat "$WORK/p1/pid")/status"; }

check "the figures are for members only" sh -c \
	"curl -sS --cacert '$CA' '$(node_url "$WORK/p1")/v1/metrics' | grep -q '\"error\":\"denied\"'"
client "$WORK/gate" echo=warm >/dev/null 2>&1
RSS0=$(rss_kb)

STOP="$WORK/stop"
flood() { # flood ENTRY_DIR: 2 connections, until $STOP
	$PY "$top_srcdir/tests/integration/session_flood.py" "$(node_url "$1")" "$CA" echo 120 2 "$STOP" \
		>"$WORK/flood-$(basename "$1").json" 2>&1
}
flood "$WORK/gate" &
FLOOD1=$!
flood "$P" &
FLOOD2=$!
head -c 6000 /dev/zero | tr '\0' 'a' >"$WORK/big"
(while [ ! -e "$STOP" ]; do client "$WORK/adm1" --repeat 20 echo=@"$WORK/big" >/dev/null 2>&1; done) &
HOLDER=$!
check "the floods fill the anonymous share and displace their own" wait_for 60 above evicted 300
check "anonymous clients hold their share of the table" wait_for 30 above anonymous 190
check "the large answers fill the answer budget" wait_for 60 above answer_bytes 40000

busy=0 kept=0
for i in 1 2 3 4 5 6 7 8; do
	client "$WORK/gate" $BAND --message-id "legit-$i" --repeat 2 echo="note $i" >"$WORK/legit" 2>&1
	grep -q 'busy' "$WORK/legit" && busy=$((busy + 1))
	[ "$(grep -c "^echo from p1: .*\"echo\":\"note $i\"" "$WORK/legit")" = 2 ] &&
		[ "$(sort -u "$WORK/legit" | wc -l)" = 1 ] && kept=$((kept + 1))
done
check "the certificate holder was never told busy" test "$busy" = 0
check "each of its messages and its retry got the same answer" test "$kept" = 8
[ "$kept" = 8 ] || sed 's/^/#   /' "$WORK/legit"
check "anonymous sessions stay within their share" at_most anonymous 200
check "all sessions stay within the table" at_most open 400
check "answers stay within their budget" at_most answer_bytes 65536
RSS1=$(rss_kb)
diag "p1 resident: ${RSS0} kB before, ${RSS1} kB under attack"
check "the provider's memory stays bounded (under 64 MB more)" test $((RSS1 - RSS0)) -lt 65536

touch "$STOP"
wait "$FLOOD1" "$FLOOD2" "$HOLDER"
diag "floods: $(cat "$WORK/flood-gate.json") $(cat "$WORK/flood-psp.json")"
check "the floods opened sessions (their own idle ones giving way)" $PY -c "
import json, sys
t = [json.load(open('$WORK/flood-%s.json' % n)) for n in ('gate', 'psp')]
sys.exit(0 if all(x['opened'] > 150 for x in t) else 1)"
client "$WORK/gate" echo=after >"$WORK/after" 2>&1
check "p1 still serves" grep -q '"echo":"after"' "$WORK/after"
