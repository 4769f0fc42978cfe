#!/bin/sh
# make bench keeps working: every row runs, briefly, and prints its
# baseline. Figures from this run mean nothing and are not read; the checks
# are that each row measured something and that nothing failed.
. "$top_srcdir/tests/lib.sh"
"$top_builddir/tests/bench/bench_crypto" 0 >"$WORK/bench" 2>&1
st=$?
check "bench_crypto runs" test $st = 0
for r in "session (offer + accept)" "section seal + open, 1 KB" "section seal + open, 16 KB"; do
	check "it prints '$r' beside its baseline" grep -q "^$r .*x\$" "$WORK/bench"
done
check "and the memory a provider holds per session" grep -q "^provider memory per session .* bytes" "$WORK/bench"

# The whole of make bench, each load for one second: every row is printed
# with its baseline, the JSON holds them, and no request failed or had to be
# sent twice (a run with failures measures nothing).
for t in wrk nginx cfssl; do
	command -v $t >/dev/null 2>&1 || { skip "make bench needs $t (make bench, or tests/scripts/deps-debian.sh bench, installs it)"; exit 0; }
done
python3 "$top_srcdir/tests/bench/run.py" --seconds 1 --crypto-seconds 0 --members 40 --admins 2 \
	--members-large 60 --revoke 5 --connections 8 --json "$WORK/bench.json" >"$WORK/run" 2>&1
st=$?
check "make bench runs every row (run.py exits 0)" test $st = 0
[ $st = 0 ] || sed 's/^/#   /' "$WORK/run" | tail -20
for r in "messages through 3 hops, 1 KB (mutual TLS)" "messages through 3 hops, 1 KB (plain HTTP)" \
	"certificate issuance, ECDSA P-256 CA" "certificate issuance, Ed25519 CA (default)" \
	"spnd idle, the PSP (TLS)" "registry convergence, 40 members joining at once" \
	"registry convergence, 60 members joining at once" "session (offer + accept)" \
	"messages through 3 hops, 1 KB, mutual TLS: 15 at once, one more hanging the plugin" \
	"messages through 3 hops, 1 KB, mutual TLS: the service over HTTP (http plugin + nginx)"; do
	check "the table has '$r'" grep -qF "$r" "$WORK/run"
done
check "no row is invalid" sh -c "! grep -q INVALID '$WORK/run'"
check "the JSON has each load row with its baseline's figures" python3 -c "
import json, sys
rows = {r['row']: r for r in json.load(open('$WORK/bench.json'))['rows']}
for name in ('messages through 3 hops, 1 KB (mutual TLS)', 'certificate issuance, ECDSA P-256 CA',
             'messages through 3 hops, 1 KB, mutual TLS: 15 at once, one more hanging the plugin',
             'messages through 3 hops, 1 KB, mutual TLS: the service over HTTP (http plugin + nginx)'):
    r = rows[name]
    for side in (r['spn'], r['baseline']):
        assert side['requests'] > 0 and side['failed'] == 0 and side['p99_us'] >= side['p50_us'] > 0, side
        assert side['cpu_s_per_op'] > 0 and side['peak_rss_kb'] > 0, side
    assert r['ratio'] > 0
assert rows['registry convergence, 40 members joining at once']['spn']['failed'] == 0
big = rows['registry convergence, 60 members joining at once']['spn']
assert big['failed'] == 0 and big['members'] == 60, big
assert big['root_private_kb_after'] > 0 and big['ledger_bytes_per_cert'] > 0, big
assert big['delta_wire_bytes'] > big['heartbeat_wire_bytes'] > 0, big
assert big['crl_der_bytes_per_entry'] > 0 and big['registry_code']['entries'] == 63, big
"
check "every certificate issued was recorded in the ledger" python3 -c "
import json
r = [r for r in json.load(open('$WORK/bench.json'))['rows'] if r['row'].startswith('certificate issuance')][0]
assert r['spn']['recorded'] >= r['spn']['requests'] and r['baseline']['recorded'] >= r['baseline']['requests'], r
"
