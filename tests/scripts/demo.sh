#!/bin/sh
# The demo a person can read: sets everything up on a Debian 12 machine,
# builds spn, then runs a small real group on loopback the way operators
# would: the PSP's daemon; two levels of administrators and one node per
# business service of the reference scenario (healthcare, hospital,
# pharmacy, bank), each enrolled over REST with a key made on the node and
# the root pinned by fingerprint; the tree as the PSP sees it; requests
# routed through the lowest common ancestor; a revocation that reaches
# every node; a wristband with a CA-generated key as PKCS#12; and the
# reference scenario: the wristband sends one message, healthcare refers to
# the hospital, which prescribes, the pharmacy asks the bank to pay, each
# business service a plugin that reads its own section only.
# With --hospital-web, hospital-1's service is a web application instead
# (tests/integration/http_hospital.py, Flask) behind the plugin http, and
# the privacy matrix counts its process as part of hospital-1.
set -eu
web=
case "${1:-}" in
"") ;;
--hospital-web) web=yes ;;
*) echo "usage: demo.sh [--hospital-web]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
sh tests/scripts/deps-debian.sh ${web:+web}
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
if [ -f config.status ]; then
	build="$top"    # a tree configured in place: use its build
	make -j2 >/dev/null
else
	build="$top/build-demo"
	mkdir -p "$build"
	[ -f "$build/Makefile" ] || (cd "$build" && "$top/configure" -q >config.out 2>&1) || { cat "$build/config.out"; exit 1; }
	(cd "$build" && make -j2 >/dev/null)
fi
S="$build/core/spnctl"
D="$build/core/spnd"
K="$build/core/spn-client"
M="$top/tests/integration/privacy_matrix.py"
# For the privacy matrix at the end, the daemons keep the memory they free,
# so that what a process ever held is still there to be found.
(cd "$build" && make tests/integration/keepfreed.la >/dev/null)
KEEP="$build/tests/integration/.libs/keepfreed.so"
demo=$(mktemp -d /tmp/spn-demo.XXXXXX)
# Plugins run as an unprivileged user when the demo runs as root: they
# must be able to pass through to their data directories.
chmod 711 "$demo"
python3 "$M" markers "$demo/markers.json"
mk() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])" "$demo/markers.json" "$@"; }
export SPN_CA_PASSPHRASE="demo passphrase, not for production"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# must CMD...: runs CMD and prints its standard output; when CMD fails the
# demo stops, printing the command and all it said. sh tells a pipeline's
# failure by its last command only, so nothing that must succeed is piped:
# its output goes through a file.
must() {
	if ! "$@" >"$demo/.out" 2>"$demo/.err"; then
		printf 'demo: failed: %s\n' "$*" >&2
		cat "$demo/.out" "$demo/.err" >&2
		exit 1
	fi
	cat "$demo/.out"
}
# refused CMD...: CMD must fail (a refusal the demo shows); it prints what
# CMD said. When CMD succeeds, the demo stops.
refused() {
	if "$@" >"$demo/.out" 2>&1; then
		printf 'demo: not refused: %s\n' "$*" >&2
		cat "$demo/.out" >&2
		exit 1
	fi
	cat "$demo/.out"
}
indent() { sed 's/^/   /' "$@"; }
run() { printf '$ %s\n' "$*"; must "$@"; }
trap 'for p in "$demo"/*/pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; sleep 0.5' EXIT

# start DIR: runs spnd for the node in DIR and waits for its port.
start() {
	rm -f "$1/spnd.port"
	LD_PRELOAD="$KEEP" "$D" -c "$1/spnd.conf" >>"$1/spnd.log" 2>&1 &
	echo $! >"$1/pid"
	i=0
	while [ ! -s "$1/spnd.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1/spnd.port" ] || { echo "demo: spnd did not start for $1" >&2; cat "$1/spnd.log" >&2; exit 1; }
}
url() { echo "https://127.0.0.1:$(cat "$1/spnd.port")"; }

# web_hospital DIR: the hospital's web application on a loopback port,
# keeping what it frees as the daemons do (with Python's own allocator set
# aside), and the plugin http in front of it in DIR's configuration. Its
# log is in DIR, among the node's.
web_hospital() {
	mkdir -p "$demo/hospital-web"
	# It needs no secret of the demo's: the CA's passphrase stays out of it.
	env -u SPN_CA_PASSPHRASE PYTHONMALLOC=malloc LD_PRELOAD="$KEEP" /usr/bin/python3 "$top/tests/integration/http_hospital.py" \
		--prescriber "$(basename "$1")" --port-file "$demo/hospital-web/port" >>"$1/http_hospital.log" 2>&1 &
	echo $! >"$demo/hospital-web/pid"
	i=0
	while [ ! -s "$demo/hospital-web/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$demo/hospital-web/port" ] || { echo "demo: the hospital's web application did not start" >&2; cat "$1/http_hospital.log" >&2; exit 1; }
	app=$(cat "$demo/hospital-web/port")
	echo "   its service: tests/integration/http_hospital.py (Flask) on 127.0.0.1:$app, behind the plugin http"
	printf '\n[plugins]\nenable = http\npath = %s/plugins/http\nhost = %s/core/spn-plugin-host\n' "$build" "$build" >>"$1/spnd.conf"
	printf '\n[plugin.http]\nservices = hospital\nupstream.hospital = http://127.0.0.1:%s/referrals\nconnect = %s\ntimeout = 10s\n' \
		"$app" "$app" >>"$1/spnd.conf"
}

step "The PSP creates the group 'care' (root CA, its own certificate, the ledger) and starts"
run "$S" init -d "$demo/psp" -g care -n 127.0.0.1
C="$demo/psp/spnd.conf"
printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n' >>"$C"
start "$demo/psp"
must openssl x509 -in "$demo/psp/ca/root.crt" -outform DER >"$demo/root.der"
fpr=$(sha256sum "$demo/root.der" | cut -d' ' -f1)
echo "   spnd (PSP) on $(url "$demo/psp"); joining nodes pin the root $fpr"

# join NAME ROLE TRUST SERVICES PARENT: the parent mints a join token (the
# PSP from its ledger, an administrator offline with its own key); the new
# node runs spnctl enroll against its parent, which checks, endorses and
# forwards to the PSP; then the node starts and registers with its parent.
join() {
	name=$1 role=$2 trust=$3 services=$4 parent=$5
	if [ "$parent" = psp ]; then
		tok=$(must "$S" token -c "$C" --id "$name" --role "$role" --trust "$trust" --services "$services" --ttl 10m)
	else
		tok=$(must "$S" token --key "$demo/$parent/node.key" --cert "$demo/$parent/node.crt" \
			--id "$name" --role "$role" --trust "$trust" --services "$services" --ttl 10m)
	fi
	printf '$ spnctl enroll --url %s --fingerprint %.16s... --token <from %s> -d %s\n' \
		"$(url "$demo/$parent")" "$fpr" "$parent" "$name"
	must "$S" enroll --url "$(url "$demo/$parent")" --fingerprint "$fpr" --token "$tok" -d "$demo/$name" >"$demo/enrolled"
	sed -n '1s/^/   /p' "$demo/enrolled"
	# The business service of the node is a plugin, in a process of its own.
	if [ -n "$web" ] && [ "$services" = hospital ]; then
		web_hospital "$demo/$name"
	elif [ -n "$services" ] && [ "$role" = spn ]; then
		printf '\n[plugins]\nenable = %s\npath = %s/plugins/%s\nhost = %s/core/spn-plugin-host\n' \
			"$services" "$build" "$services" "$build" >>"$demo/$name/spnd.conf"
		# The bank keeps its accounts in its own data directory, the one
		# place its confined process may write.
		[ "$services" != bank ] || printf '\n[plugin.bank]\ndata = ../%s-data\naccounts = bank.db\nseed = %s\n' "$name" \
			"$(mk seed bank), GB29NWBK60161331926819:Bob Broke:2.00" >>"$demo/$name/spnd.conf"
		[ "$services" != pharmacy ] || printf '\n[plugin.pharmacy]\nprices = %s\n' "$(mk seed prices)" >>"$demo/$name/spnd.conf"
	fi
	start "$demo/$name"
}

step "Administrators and members join over REST (keys never leave their nodes)"
join admin-east admin 9 "" psp
join admin-care admin 8 "" admin-east
join healthcare-1 spn 6 healthcare admin-care
join hospital-1 spn 6 hospital admin-care
join pharmacy-1 spn 5 pharmacy admin-east
join bank-1 spn 7 bank psp
sleep 1

step "The tree, as the PSP's registry holds it (each node registered with its parent)"
run "$S" tree -c "$C"

step "Routing probes from healthcare-1's operator travel through the lowest common ancestor"
echo "   (the probe answers in plaintext: members only, with their own certificate; [route] probe = false turns it off)"
AS_HC="--cert $demo/healthcare-1/node.crt --key $demo/healthcare-1/node.key"
for svc in hospital pharmacy bank; do
	must curl -sS --fail-with-body --cacert "$demo/psp/ca/root.crt" $AS_HC -X POST --json "{\"service\":\"$svc\"}" \
		"$(url "$demo/healthcare-1")/v1/route" >"$demo/route.json"
	python3 -c "import json,sys; a=json.load(sys.stdin); print('   %-9s handled by %-13s path %s' % (sys.argv[1], a['handled_by'], ' > '.join(a['path'])))" "$svc" <"$demo/route.json"
done
must curl -sS --cacert "$demo/psp/ca/root.crt" $AS_HC -X POST --json '{"service":"dentist"}' "$(url "$demo/healthcare-1")/v1/route" >"$demo/answer"
indent "$demo/answer"; echo
echo "   the same probe from anyone else:"
must curl -sS --cacert "$demo/psp/ca/root.crt" -X POST --json '{"service":"bank"}' "$(url "$demo/healthcare-1")/v1/route" >"$demo/answer"
indent "$demo/answer"; echo

step "The wristband enrolls as a client (its key made on the wristband)"
tok=$(must "$S" token -c "$C" --id wristband-7 --role client --trust 1 --ttl 10m)
must "$S" enroll --url "$(url "$demo/psp")" --fingerprint "$fpr" --token "$tok" -d "$demo/wristband-7" >"$demo/enrolled"
sed -n '1s/^/   /p' "$demo/enrolled"

step "The wristband sends ONE message through admin-east: vitals for healthcare, and, carried along, a delivery address for the pharmacy and bank details for the bank"
echo "   (a session with each provider: a fresh key sealed with HPKE to the wristband and signed by the provider;"
echo "    each section is a JWE only its provider can open; the carried ones travel, unread, with the calls"
echo "    healthcare makes to the hospital, the hospital to the pharmacy, the pharmacy to the bank)"
BAND="--cert $demo/wristband-7/node.crt --key $demo/wristband-7/node.key"
# Every value is a marker of its own, for the privacy matrix below.
VITALS=$(mk sections healthcare)
ADDR=$(mk sections pharmacy)
IBAN=$(mk sections bank)
printf '$ spn-client --url %s --cert wristband-7.crt ... --message-id m-demo-1 \\\n      healthcare=%s \\\n      +pharmacy=%s \\\n      +bank=%s\n' \
	"$(url "$demo/admin-east")" "$VITALS" "$ADDR" "$IBAN"
must "$K" --url "$(url "$demo/admin-east")" --root "$demo/psp/ca/root.crt" $BAND --message-id m-demo-1 \
	healthcare="$VITALS" +pharmacy="$ADDR" +bank="$IBAN" >"$demo/receipts.txt"
echo "   What the wristband decrypted (each reply readable by it alone; the pharmacy's and the bank's are their replies"
echo "   to the sections carried for them, which neither the hospital nor the pharmacy could read):"
python3 -c "
import json, sys
for line in open(sys.argv[1]):
    svc, rest = line.split(' from ', 1)
    node, body = rest.split(': ', 1)
    print('   --', svc, 'from', node)
    try:
        print('\\n'.join('      ' + l for l in json.dumps(json.loads(body), indent=2).split('\\n')))
    except ValueError:
        print('      ' + body.strip())
" "$demo/receipts.txt"

step "What each node logged of m-demo-1: ids, authors and sizes, never a value from a section"
for n in healthcare-1 hospital-1 pharmacy-1 bank-1; do
	must grep -E 'plugin [a-z]+: message m-demo-1' "$demo/$n/spnd.log" >"$demo/lines"
	sed "s/^[^ ]* [a-z]* *plugin /   $n: /" "$demo/lines"
	if [ -n "$web" ] && [ "$n" = hospital-1 ]; then
		must grep 'hospital: message m-demo-1' "$demo/$n/http_hospital.log" >"$demo/lines"
		sed "s/^.* hospital: /   $n, its web application: /" "$demo/lines"
	fi
done
for n in admin-east admin-care psp; do
	echo "   $n, on the way, routed sections of m-demo-1 by their headers:"
	must grep -E 'route m-demo-1 ' "$demo/$n/spnd.log" >"$demo/lines"
	sed "s/^[^ ]* [a-z]* *route m-demo-1 /      /" "$demo/lines"
done

step "A message sent twice (a retry after a lost answer): the second time every provider answers from its record"
must "$K" --url "$(url "$demo/admin-east")" --root "$demo/psp/ca/root.crt" $BAND --message-id m-demo-2 --repeat 2 \
	healthcare="$VITALS" +pharmacy="$ADDR" +bank="$IBAN" >"$demo/twice.txt"
grep '^bank' "$demo/twice.txt" | indent
paid=$(must sqlite3 "$demo/bank-1-data/bank.db" "SELECT COUNT(*) FROM payments WHERE mid='m-demo-2'")
iban=$(mk seed bank | cut -d: -f1)
balance=$(must sqlite3 "$demo/bank-1-data/bank.db" "SELECT printf('%.2f', balance / 100.0) FROM accounts WHERE iban='$iban'")
echo "   payments recorded for m-demo-2: $paid; Ada's balance: $balance"

step "A patient whose balance does not cover it: the refusal reaches the wristband with its reason"
# The services answer, the bank with its refusal, the pharmacy with why it
# did not deliver.
must "$K" --url "$(url "$demo/admin-east")" --root "$demo/psp/ca/root.crt" $BAND \
	healthcare="$VITALS" +pharmacy="$ADDR" \
	+bank='{"iban":"GB29NWBK60161331926819","holder":"Bob Broke","max_amount":"99999999.00"}' >"$demo/refused.txt"
grep -E '^(bank|pharmacy)' "$demo/refused.txt" | python3 -c "
import json, sys
for line in sys.stdin:
    svc, rest = line.split(' from ', 1)
    node, body = rest.split(': ', 1)
    b = json.loads(body)
    print('   %-8s %s: %s' % (svc, b.get('status'), b.get('reason', '')))
"

step "Who could read what, measured: every marker searched in the memory of every process of every node"
echo "   (spnd and each plugin process, /proc/PID/mem; 'reads' where the matrix says the node may read it,"
echo "    '-' where it may not and does not hold it; a LEAK or a MISSING cell, or a marker in a log, stops the demo)"
[ -z "$web" ] || echo "   (hospital-1 is its spnd, its plugin processes and its web application, logs included)"
nodes=""
for n in psp admin-east admin-care healthcare-1 hospital-1 pharmacy-1 bank-1; do nodes="$nodes --node $n=$(cat "$demo/$n/pid")"; done
# hospital-1's web application is part of the node: it reads its sections.
[ -z "$web" ] || nodes=$(echo "$nodes" | sed "s/hospital-1=[0-9]*/&,$(cat "$demo/hospital-web/pid")/")
# shellcheck disable=SC2086
if ! python3 "$M" check "$demo/markers.json" $nodes --receipts "$demo/receipts.txt" --logdir "$demo" >"$demo/matrix.txt" 2>&1; then
	sed 's/^/   /' "$demo/matrix.txt"; echo "demo: the privacy matrix is not as intended" >&2; exit 1
fi
sed 's/^/   /' "$demo/matrix.txt"

step "What the certificates bind, read by OpenSSL and GnuTLS's certtool"
for n in admin-care bank-1; do
	echo "-- $n"
	must openssl x509 -in "$demo/$n/node.crt" -noout -subject -enddate -ext subjectAltName >"$demo/answer"
	indent "$demo/answer"
	must certtool -i --infile "$demo/$n/node.crt" >"$demo/answer"
	grep -E 'URI:' "$demo/answer" | sed 's/^[[:space:]]*/   certtool: /'
	must openssl verify -CAfile "$demo/psp/ca/root.crt" "$demo/$n/node.crt" >"$demo/answer"
	indent "$demo/answer"
done

step "A wristband cannot build ASN.1: a JSON pseudo-CSR, key generated by the CA"
# A wristband of its own: wristband-7 above already holds a valid certificate,
# and a node id has one at a time.
tok=$(must "$S" token -c "$C" --id wristband-8 --role client --trust 1 --ttl 10m)
printf '{"node_id": "wristband-8"}\n' >"$demo/wristband.json"
must "$S" issue-pseudo -c "$C" --json "$demo/wristband.json" --token "$tok" -o "$demo/wristband.p12" >"$demo/p12.txt"
indent "$demo/p12.txt"
echo "   bundle: $demo/wristband.p12 (mode $(stat -c %a "$demo/wristband.p12"))"

step "Refusals: a token sent to the wrong administrator; an admin over-granting trust"
tok=$(must "$S" token --key "$demo/admin-care/node.key" --cert "$demo/admin-care/node.crt" --id lab-1 --role spn --trust 3 --ttl 10m)
refused "$S" enroll --url "$(url "$demo/admin-east")" --fingerprint "$fpr" --token "$tok" -d "$demo/lab-1" >"$demo/answer"
indent "$demo/answer"
refused "$S" token --key "$demo/admin-care/node.key" --cert "$demo/admin-care/node.crt" --id greedy --role spn \
	--trust 9 >"$demo/answer"
indent "$demo/answer"

step "The pharmacy's key is lost: admin-east, which accepted it, revokes it at the PSP"
must openssl x509 -in "$demo/pharmacy-1/node.crt" -noout -serial >"$demo/serial"
serial=$(cut -d= -f2 "$demo/serial")
must curl -sS --fail-with-body --cacert "$demo/psp/ca/root.crt" --cert "$demo/admin-east/node.crt" \
	--key "$demo/admin-east/node.key" -X POST --json "{\"serial\":\"$serial\",\"reason\":\"keyCompromise\"}" \
	"$(url "$demo/psp")/v1/revoke" >"$demo/answer"
indent "$demo/answer"; echo
sleep 1
echo "   the CRL reached admin-care, which now refuses the pharmacy's certificate:"
must curl -sS --cacert "$demo/psp/ca/root.crt" --cert "$demo/pharmacy-1/node.crt" --key "$demo/pharmacy-1/node.key" \
	"$(url "$demo/admin-care")/v1/tree" >"$demo/answer"
indent "$demo/answer"; echo
must curl -sS --cacert "$demo/psp/ca/root.crt" $AS_HC -X POST --json '{"service":"pharmacy"}' \
	"$(url "$demo/healthcare-1")/v1/route" >"$demo/answer"
indent "$demo/answer"; echo
run "$S" tree -c "$C"

step "The audit trail"
run "$S" log -c "$C"
echo
echo "Everything is in $demo; the daemons stop now (each tells its parent it leaves)."
