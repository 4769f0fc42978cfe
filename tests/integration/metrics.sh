#!/bin/sh
# A node's metrics after real traffic: members read them over HTTPS, anyone
# who reaches the local listener reads the same; the text passes promtool;
# the counters moved by what was sent, no more, no less.
. "$top_srcdir/tests/lib.sh"
command -v promtool >/dev/null || { echo "1..0 # SKIP promtool (Debian's prometheus) is not installed"; exit 77; }
P="$WORK/psp"; CA="$P/ca/root.crt"
METRIC="$top_srcdir/tests/integration/metric.py"
N=5

check "the PSP starts" psp_start "$P" care
check "e1 joins with the echo plugin and a local metrics listener" join "$WORK/e1" "$P" spn 3 echo \
	"$(plugins echo "$(printf '\n[plugin.echo]\nfaults = true\ntimeout = 2s')")
[metrics]
listen = 127.0.0.1:0
port_file = metrics.port"
wait_for 10 registry_has "$P" e1

# scrape DIR NAME: e1's metrics read by the node in DIR, into $WORK/NAME.
scrape() { test "$(req $(as "$1") -H 'Accept: text/plain' "$(node_url "$2")/metrics")" = 200 && cp "$WORK/body" "$WORK/$3"; }
# value FILE NAME LABELS...: a sample's value.
value() { $PY "$METRIC" "$WORK/$@"; }
# grew FROM TO BY NAME LABELS...: the sample grew by exactly BY.
grew() {
	from=$1 to=$2 by=$3; shift 3
	a=$(value "$from" "$@"); b=$(value "$to" "$@")
	echo "$* : $a -> $b"
	$PY -c "import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) == float(sys.argv[3]) else 1)" "$a" "$b" "$by"
}

check "the PSP, a member, reads e1's metrics over HTTPS" scrape "$P" "$WORK/e1" before
check "and the PSP's own" scrape "$P" "$P" psp_before
i=0
while [ $i -lt $N ]; do
	client "$P" echo="message $i" >"$WORK/c$i" 2>&1
	i=$((i + 1))
done
check "$N messages through the PSP reached the echo plugin" answer_is "$WORK/c$((N - 1))" echo echo "message $((N - 1))"
check "e1's metrics again" scrape "$P" "$WORK/e1" after
check "and the PSP's" scrape "$P" "$P" psp_after

check "the HTTPS text passes promtool" sh -c "promtool check metrics <'$WORK/after'"
check "sections for echo that went well grew by $N" grew before after $N spn_sections_total service=echo outcome=ok
check "the echo plugin was handed $N sections" grew before after $N spn_plugin_calls_total plugin=echo
check "none failed" grew before after 0 spn_plugin_failures_total plugin=echo
check "its latency histogram counted them" grew before after $N spn_plugin_call_duration_seconds_count plugin=echo
check "and so did its +Inf bucket" grew before after $N spn_plugin_call_duration_seconds_bucket plugin=echo le=+Inf
check "$N sessions were opened at e1" grew before after $N spn_sessions_opened_total
check "each session and section handled here ($((2 * N)))" grew before after $((2 * N)) spn_routed_total decision=here
check "and e1 sent nothing up or down" grew before after 0 spn_routed_total decision=up
check "the PSP sent each down ($((2 * N)))" grew psp_before psp_after $((2 * N)) spn_routed_total decision=down
check "e1 answered the $((2 * N)) requests routed to it on POST /v1/route with 200" \
	grew before after $((2 * N)) spn_http_requests_total method=POST endpoint=/v1/route status=200
check "e1's registry holds itself" test "$(value after spn_registry_nodes)" = 1
check "the PSP's holds both" test "$(value psp_after spn_registry_nodes)" = 2
check "the PSP issued one certificate (e1's)" test "$(value psp_after spn_ca_issued_total)" = 1
check "and timed it" test "$(value psp_after spn_ca_issue_duration_seconds_count)" = 1
check "e1 holds the PSP's CRL" test "$(value after spn_crl_number)" = "$(value psp_after spn_crl_number)"
check "e1 is registered with its parent" test "$(value after spn_parent_registered)" = 1
expiry=$(openssl x509 -in "$WORK/e1/node.crt" -noout -enddate | cut -d= -f2)
check "e1's certificate expiry is its certificate's" test "$(value after spn_certificate_expiry_timestamp_seconds)" = "$(date -d "$expiry" +%s)"

# Failures, by their error's name.
client "$P" echo=fail >/dev/null 2>&1
client "$P" echo=crash >/dev/null 2>&1
check "a refusing and a crashing section" scrape "$P" "$WORK/e1" failed
check "are counted by outcome: plugin_failed" grew after failed 2 spn_sections_total service=echo outcome=plugin_failed
check "as plugin failures" grew after failed 2 spn_plugin_failures_total plugin=echo
check "the crash as a restart" grew after failed 1 spn_plugin_restarts_total plugin=echo
check "ok did not move" grew after failed 0 spn_sections_total service=echo outcome=ok

# Who may read them.
is "without a certificate: refused" 403 denied "$(node_url "$WORK/e1")/metrics"
mport=$(cat "$WORK/e1/metrics.port")
check "the local listener serves plain HTTP on loopback" \
	sh -c "curl -sS -o '$WORK/local' -w '%{http_code} %{content_type}' http://127.0.0.1:$mport/metrics >'$WORK/ct' && grep -q '^200 text/plain; version=0.0.4' '$WORK/ct'"
check "its text passes promtool" sh -c "promtool check metrics <'$WORK/local'"
check "and holds the same sections" grew failed local 0 spn_sections_total service=echo outcome=ok
check "nothing else is served there" test "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$mport/v1/health)" = 404
got=$(req $(as "$P") "$(node_url "$WORK/e1")/v1/metrics")
check "the JSON figures stay at /v1/metrics" sh -c "test $got = 200 && grep -q '\"sessions\"' '$WORK/body'"
exit $_failed
