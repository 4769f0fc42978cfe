#!/bin/sh
# GET /v1/health as a load balancer reads it: public, nothing secret in it,
# 200 "ok" while the node does its work, 503 "degraded" with the reason when
# its parent is gone past the deadline or its plugin cannot start a process.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"

# field NAME: a member of the last answer ($WORK/body), as JSON.
field() { $PY -c "import json,sys; o=json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): o=o[int(k)] if isinstance(o,list) else o[k]
print(json.dumps(o))" "$WORK/body" "$1"; }
# health DIR STATUS: the node answers health with STATUS.
health() { test "$(req "$(node_url "$1")/v1/health")" = "$2"; }

# A copy of the plugin host that can be taken away while the node runs.
cp "$top_builddir/core/spn-plugin-host" "$WORK/host"
check "the PSP starts" psp_start "$P" care
check "e1 joins with the echo plugin" join "$WORK/e1" "$P" spn 3 echo \
	"$(printf '[plugins]\nenable = echo\npath = %s/plugins/echo\nhost = %s\n\n[plugin.echo]\nfaults = true\ntimeout = 2s' \
		"$top_builddir" "$WORK/host")"
wait_for 10 registry_has "$P" e1

check "the PSP is healthy, for anyone (no certificate)" wait_for 5 health "$P" 200
check "status ok" test "$(field status)" = '"ok"'
check "it keeps node, group and role" test "$(field node) $(field group) $(field role)" = '"psp" "care" "psp"'
check "the PSP has no parent to report" sh -c "! grep -q '\"parent\"' '$WORK/body'"
check "e1 is healthy once registered" wait_for 10 health "$WORK/e1" 200
check "status ok, nothing degraded" test "$(field status) $(field degraded)" = '"ok" []'
check "registered with its parent" test "$(field parent.registered)" = true
check "which it heard from recently" $PY -c "import time,sys; sys.exit(0 if abs(time.time() - $(field parent.last_heard)) < 10 else 1)"
expiry=$(openssl x509 -in "$WORK/e1/node.crt" -noout -enddate | cut -d= -f2)
check "its certificate's expiry" test "$(field certificate.not_after)" = "$(date -d "$expiry" +%s)"
check "the CRL it holds" test "$(field crl.number)" -ge 1
check "and how old it is" test "$(field crl.age)" -ge 0
check "its plugin runs" test "$(field plugins.0.name) $(field plugins.0.state)" = '"echo" "running"'
check "in one process" test "$(field plugins.0.processes)" = 1
serial=$(openssl x509 -in "$WORK/e1/node.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
check "no serial in it" sh -c "! grep -qi '$serial' '$WORK/body'"

# A plugin that cannot start a process again.
rm "$WORK/host"
client "$P" echo=crash >/dev/null 2>&1
check "a plugin that crashed and cannot start again: 503" wait_for 10 health "$WORK/e1" 503
check "degraded, naming the plugins" test "$(field status) $(field degraded)" = '"degraded" ["plugins"]'
check "its state failed, no process" test "$(field plugins.0.state) $(field plugins.0.processes)" = '"failed" 0'

# The parent gone.
node_stop "$P"
check "the parent stopped: e1 degraded past the deadline" \
	wait_for 10 sh -c "test \"\$(curl -s --cacert '$CA' -o '$WORK/body' -w '%{http_code}' '$(node_url "$WORK/e1")/v1/health')\" = 503 && grep -q '\"parent\"' '$WORK/body' && grep -q '\"registered\":false' '$WORK/body'"
check "both reasons are given" test "$(field degraded)" = '["parent", "plugins"]'
exit $_failed
