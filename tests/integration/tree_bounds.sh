#!/bin/sh
# A child that sends its parent more registry than its subtree can hold:
# refused before it is parsed when the body alone is too large, refused
# before it changes anything when it lists too many nodes; the parent
# keeps answering and its memory stays bounded.
#   psp ─ adm1 ([tree] max_subtree = 50) ─ c1
. "$top_srcdir/tests/lib.sh"
# In a sanitizer build, the memory freed and kept aside to catch its use
# after free would count as the daemon's: a small quarantine keeps the
# figure the daemon's own.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
export ASAN_OPTIONS
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
check "adm1 joins" join "$WORK/adm1" "$P" admin 8 "" "max_subtree = 50"
check "c1 joins below adm1" join "$WORK/c1" "$WORK/adm1" spn 3 ""
check "c1 reaches adm1's registry" wait_for 10 registry_has "$WORK/adm1" c1
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(cat "$WORK/adm1/pid")/status"; }
RSS0=$(rss_kb)

# sync N: c1's registry sync to adm1 with N made-up nodes below it, sent
# with c1's own certificate; prints the status and the error name.
sync() {
	$PY - "$(node_url "$WORK/adm1")" "$CA" "$WORK/c1/node.crt" "$WORK/c1/node.key" "$1" <<'PYEOF'
import http.client, json, ssl, sys, time
from urllib.parse import urlparse
url, ca, crt, key, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
ctx.load_cert_chain(crt, key)
nodes = [{"node": "x%d" % i, "parent": "c1", "role": "spn", "trust": 1, "services": ["s%d" % (i % 7)]}
         for i in range(n)]
body = json.dumps({"url": "https://127.0.0.1:9", "version": int(time.time() * 1000), "full": True, "nodes": nodes})
u = urlparse(url)
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
c.request("POST", "/v1/tree/sync", body, {"Content-Type": "application/json"})
r = c.getresponse()
print(r.status, json.loads(r.read() or b"{}").get("error", ""))
PYEOF
}
check "a sync of 100,000 nodes (7 MB) is refused unparsed: 413 too_big" test "$(sync 100000)" = "413 too_big"
check "a sync of 51 nodes, one past the bound, is refused: 413 too_big" test "$(sync 51)" = "413 too_big"
check "a sync within the bound is taken" test "$(sync 40 | cut -d' ' -f1)" = 200
check "adm1 still answers its members" wait_for 5 registry_has "$WORK/adm1" c1
RSS1=$(rss_kb)
diag "adm1 resident: ${RSS0} kB before, ${RSS1} kB after"
check "adm1's memory stays bounded (under 32 MB more)" test $((RSS1 - RSS0)) -lt 32768
