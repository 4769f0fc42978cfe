#!/bin/sh
# The live view as a browser draws it: headless Chromium loads GET /view
# from the PSP's local listener, and the script fills the page with every
# node of the registry; a member that stops leaves the page once the
# registry drops it; a revocation appears with its reason. Over HTTPS the
# page and its data are for members only.
#   psp ─┬─ a1 ── m1     (admin a1, members m1 and m2)
#        └─ m2
. "$top_srcdir/tests/lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
	{ echo "1..0 # SKIP chromium is not installed"; exit 77; }
P="$WORK/psp"; CA="$P/ca/root.crt"
FIND="$top_srcdir/tests/integration/dom_find.py"

check "the PSP starts with a local listener" psp_start "$P" view "" "[metrics]
listen = 127.0.0.1:0
port_file = metrics.port"
check "a1 joins below the PSP" join "$WORK/a1" "$P" admin 8 ""
check "m1 joins below a1" join "$WORK/m1" "$WORK/a1" spn 3 m "$(echo_for m)"
check "m2 joins below the PSP" join "$WORK/m2" "$P" spn 3 m "$(echo_for m)"
up() { for n in a1 m1 m2; do registry_has "$P" $n || return 1; done; }
check "all registered at the PSP" wait_for 10 up
LOCAL="http://127.0.0.1:$(cat "$P/metrics.port")"

# render NAME: the page as Chromium drew it after its script ran, in
# $WORK/NAME.html.
render() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chromium" \
		--virtual-time-budget=4000 --dump-dom "$LOCAL/view" >"$WORK/$1.html" 2>"$WORK/chromium.log"
}
# drawn NAME: the node ids of the page's tree, sorted, on one line.
drawn() { $PY "$FIND" "$WORK/$1.html" li data-node | sort | tr '\n' ' '; }
shows() { render page && test "$(drawn page)" = "$1"; }

check "the page as served holds no node: the script draws them" \
	sh -c "curl -sS '$LOCAL/view' >'$WORK/static.html' && grep -q 'src=\"/view.js\"' '$WORK/static.html' &&
		test -z \"\$($PY '$FIND' '$WORK/static.html' li data-node)\""
check "Chromium draws every node of the registry" wait_for 30 shows "a1 m1 m2 psp "
check "m1 under a1, under the PSP" sh -c "grep -Eq 'data-node=\"a1\".*data-node=\"m1\"' '$WORK/page.html'"
check "the script said when it last heard from the node" sh -c "$PY '$FIND' '$WORK/page.html' p id | grep -qx status &&
	! grep -q 'class=\"stale\"' '$WORK/page.html'"

node_stop "$WORK/m2" KILL
check "the PSP's registry drops m2 (killed)" wait_for 10 sh -c "! registry_has '$P' m2"
check "and so does the page" wait_for 30 shows "a1 m1 psp "

serial=$(openssl x509 -in "$WORK/m2/node.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
check "the PSP revokes m2" ctl revoke -c "$P/spnd.conf" "$serial" --reason keyCompromise
listed() { render rev && $PY "$FIND" "$WORK/rev.html" tr data-serial | grep -qx "$serial"; }
check "the page lists the revocation" wait_for 30 listed
check "with its node and reason, from the PSP's ledger" \
	sh -c "grep -q '>m2</td><td[^>]*>keyCompromise</td>' '$WORK/rev.html'"

# The same over HTTPS, for members.
field() { $PY -c "import json,sys; o=json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): o=o[int(k)] if isinstance(o,list) else o[k]
print(json.dumps(o))" "$WORK/body" "$1"; }
is "without a certificate: /view refused" 403 denied "$(node_url "$P")/view"
is "and /v1/view" 403 denied "$(node_url "$P")/v1/view"
got=$(curl -sS --cacert "$CA" $(as "$WORK/m1") -D "$WORK/headers" -o "$WORK/body" "$(node_url "$P")/view" -w '%{http_code} %{content_type}')
check "a member reads the page" test "$got" = "200 text/html; charset=utf-8"
check "which may run only what the node serves" grep -qi "^content-security-policy: default-src 'self'" "$WORK/headers"
check "taken as the type it says" grep -qi '^x-content-type-options: nosniff' "$WORK/headers"
got=$(curl -sS --cacert "$CA" $(as "$WORK/m1") -o "$WORK/body" "$(node_url "$P")/view.js" -w '%{http_code} %{content_type}')
check "its script, a file of its own" test "$got" = "200 text/javascript; charset=utf-8"
check "a member reads the data" test "$(req $(as "$WORK/m1") "$(node_url "$P")/v1/view")" = 200
check "the PSP's registry" test "$(field nodes | $PY -c "import json,sys; print(sorted(n['node'] for n in json.load(sys.stdin)))")" = "['a1', 'm1', 'psp']"
check "the PSP's certificate expiry" test "$(field health.certificate.not_after)" = \
	"$(date -d "$(openssl x509 -in "$P/node.crt" -noout -enddate | cut -d= -f2)" +%s)"
check "a1 heard from lately" $PY -c "import json; o=json.load(open('$WORK/body'))
a1=[n for n in o['nodes'] if n['node']=='a1'][0]; assert 0 <= a1['last_heard_ms_ago'] <= o['deadline_ms']"
check "the revocation, without what only the ledger knows" \
	test "$(field revocations.recent.0.serial) $(field revocations.recent.0 | grep -c reason)" = "\"$serial\" 0"
got=$(req $(as "$WORK/a1") "$(node_url "$P")/v1/view")
check "an administrator reads the node and the reason too" \
	test "$got $(field revocations.recent.0.node) $(field revocations.recent.0.reason)" = '200 "m2" "keyCompromise"'
exit $_failed
