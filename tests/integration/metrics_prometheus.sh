#!/bin/sh
# A real Prometheus scrapes a group of three through their local metrics
# listeners: every target comes up, and its API answers for spn's metrics.
. "$top_srcdir/tests/lib.sh"
command -v prometheus >/dev/null || { echo "1..0 # SKIP prometheus (Debian's) is not installed"; exit 77; }
P="$WORK/psp"; CA="$P/ca/root.crt"
LISTEN='[metrics]
listen = 127.0.0.1:0
port_file = metrics.port'


check "a new group" new_group "$P" care
printf '\n%s\n' "$LISTEN" >>"$P/spnd.conf"
printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n\n%s\n' "$TREE_SETTINGS" >>"$P/spnd.conf"
check "the PSP runs" node_start "$P"
check "a1 joins" join "$WORK/a1" "$P" admin 8 "" "$LISTEN"
check "e1 joins under a1 with the echo plugin" join "$WORK/e1" "$WORK/a1" spn 3 echo "$(plugins echo)
$LISTEN"
check "e1 is in the PSP's registry" wait_for 10 registry_has "$P" e1
client "$P" echo=hello >"$WORK/c" 2>&1
check "a message went through the tree" answer_is "$WORK/c" echo echo hello

targets=""
for d in "$P" "$WORK/a1" "$WORK/e1"; do
	targets="$targets'127.0.0.1:$(cat "$d/metrics.port")', "
done
# Prometheus's own port: a free one, asked of the kernel.
pport=$($PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
cat >"$WORK/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: spn
    static_configs:
      - targets: [$targets]
EOC
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$WORK/prometheus.log" 2>&1 &
PROM=$!

# query Q: the result of an instant query, as sorted "instance label=value"
# lines (label: LABEL's value, or nothing).
query() {
	curl -sS -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | $PY -c "
import json, sys
o = json.load(sys.stdin)
assert o['status'] == 'success'
for r in o['data']['result']:
    print('%s %s=%s' % (r['metric'].get('instance', ''), r['metric'].get(sys.argv[1], ''), r['value'][1]))" "${2:-}" | sort
}
want_up=$(for d in "$P" "$WORK/a1" "$WORK/e1"; do echo "127.0.0.1:$(cat "$d/metrics.port") =1"; done | sort)
# up_all: the three targets are scraped and up.
up_all() { test "$(query up)" = "$want_up"; }
# nodes_named: spn_node_info names the three nodes.
nodes_named() { test "$(query spn_node_info node | cut -d' ' -f2 | sort | tr '\n' ' ')" = "a1=1 e1=1 psp=1 "; }
# e1_section: e1's one section for echo that went well.
e1_section() {
	test "$(query 'spn_sections_total{service="echo",outcome="ok"}')" = "127.0.0.1:$(cat "$WORK/e1/metrics.port") =1"
}

check "Prometheus scrapes all three targets, each up" wait_for 60 up_all
query up >"$WORK/up" 2>&1; diag "$(tr '\n' ' ' <"$WORK/up")"
check "spn_node_info names the three nodes" wait_for 10 nodes_named
check "e1's section for echo is there, once" wait_for 10 e1_section
kill "$PROM"; wait "$PROM" 2>/dev/null
exit $_failed
