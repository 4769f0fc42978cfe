# TAP helpers and fixtures shared by the shell tests. Sourced, not run.
# Each test prints "ok N - name" or "not ok N - name" and a plan at exit.
set -u
# Once: a test may source another test's body, which sources this again.
[ -z "${_spn_lib:-}" ] || return 0
_spn_lib=1

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"
SPNCTL="$top_builddir/core/spnctl"
PY=/usr/bin/python3
_n=0
_failed=0

# SPN_KEEP_WORK=1 keeps the working directory (daemons' logs) after the test.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spn-test.XXXXXX")
# Plugins of a spnd run as root run as nobody, which must pass through
# here to reach their data directories (it lists nothing).
chmod 711 "$WORK"
_cleanup() {
	# Kill whatever a test started in the background, daemons included.
	jobs -p | xargs -r kill -9 2>/dev/null
	for p in "$WORK"/*/pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done
	[ -n "${SPN_KEEP_WORK:-}" ] || rm -rf "$WORK"
	echo "1..$_n"
}
trap _cleanup EXIT

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=1; echo "not ok $_n - $*"; }
skip() { _n=$((_n + 1)); echo "ok $_n - # SKIP $*"; }
diag() { echo "# $*"; }

# check NAME CMD...: passes when CMD succeeds; its output goes to the log.
check() {
	name=$1; shift
	if "$@" >"$WORK/out" 2>&1; then ok "$name"; else not_ok "$name"; awk '{print "#   " $0}' "$WORK/out"; fi
}

# refuse NAME PATTERN CMD...: passes when CMD fails and its error output
# matches PATTERN (grep -E): a refusal must say why.
refuse() {
	name=$1; pattern=$2; shift 2
	if "$@" >"$WORK/out" 2>&1; then
		not_ok "$name (succeeded)"; awk '{print "#   " $0}' "$WORK/out"
	elif grep -Eq "$pattern" "$WORK/out"; then
		ok "$name"; diag "$(head -n 1 "$WORK/out")"
	else
		not_ok "$name (wrong message)"; awk '{print "#   " $0}' "$WORK/out"
	fi
}

export SPN_CA_PASSPHRASE_VALUE="correct horse battery staple"

# The host a node runs on, by the node's directory: here every node runs on
# this one, at 127.0.0.1. tests/integration/hosts.sh gives each node a
# network namespace and an address of its own instead.
# on_host DIR: the words to put before a program for it to run on that host.
on_host() { :; }
# addr_of DIR: the address the node listens on, and its certificate names.
addr_of() { echo 127.0.0.1; }

# new_group DIR GROUP [KEYTYPE]: a fresh PSP in DIR.
new_group() {
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPNCTL" init -d "$1" -g "$2" -t "${3:-ed25519}" \
		--name "$(addr_of "$1")" >/dev/null 2>&1
}

# ctl ARGS...: spnctl with the CA passphrase available.
ctl() { SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPNCTL" "$@"; }
ctl_test() { SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPNCTL_TEST" "$@"; }

# enroll CONF ID ROLE TRUST SERVICES [KEYTYPE]: key + CSR on the "node",
# token and issuance on the PSP; leaves $WORK/ID.key and $WORK/ID.crt.
enroll() {
	"$SPNCTL" keygen -o "$WORK/$2.key" -t "${6:-ed25519}" 2>/dev/null &&
	"$SPNCTL" csr --key "$WORK/$2.key" --id "$2" --name 127.0.0.1 -o "$WORK/$2.csr" &&
	tok=$(ctl token -c "$1" --id "$2" --role "$3" --trust "$4" --services "$5") &&
	ctl issue -c "$1" --csr "$WORK/$2.csr" --token "$tok" -o "$WORK/$2.crt" 2>/dev/null
}

ledger_count() { sqlite3 "$1" "SELECT COUNT(*) FROM certs"; }

SPND="$top_builddir/core/spnd"
# The test builds: SPN_FAKE_TIME pins their clock, and spnd_test's routing
# probe waits when its payload asks (tests/integration/test_hooks.c).
SPND_TEST="$top_builddir/tests/integration/spnd_test"
SPNCTL_TEST="$top_builddir/tests/integration/spnctl_test"

# start_spnd CONF: starts spnd on a free loopback port (written to the port
# file), waits for it, sets SPND_PID and PORT. The EXIT trap kills it.
start_spnd() {
	dir=$(dirname "$1")
	grep -q '^\[http\]' "$1" || printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n' >>"$1"
	rm -f "$dir/spnd.port"
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$1" >>"$dir/spnd.log" 2>&1 &
	SPND_PID=$!
	# For the EXIT trap: jobs -p in a pipeline sees no jobs under dash.
	echo $SPND_PID >"$dir/pid"
	i=0
	while [ ! -s "$dir/spnd.port" ] && [ $i -lt 100 ]; do
		kill -0 $SPND_PID 2>/dev/null || { cat "$dir/spnd.log"; return 1; }
		sleep 0.1; i=$((i + 1))
	done
	PORT=$(cat "$dir/spnd.port")
	[ -n "$PORT" ]
}

# req CURL_ARGS...: curl trusting the group's root in $CA; prints the status,
# leaves the body in $WORK/body.
req() { curl -sS --cacert "$CA" -o "$WORK/body" -w '%{http_code}' "$@" 2>"$WORK/curlerr"; }

# is NAME STATUS JSON_ERROR CURL_ARGS...: the status and the JSON "error" name.
is() {
	name=$1 want=$2 err=$3; shift 3
	got=$(req "$@")
	if [ "$got" = "$want" ] && { [ -z "$err" ] || grep -q "\"error\":\"$err\"" "$WORK/body"; }; then
		ok "$name ($got)"; [ -z "$err" ] || diag "$(cat "$WORK/body")"
	else
		not_ok "$name: got $got"; awk '{print "#   " $0}' "$WORK/body" "$WORK/curlerr"
	fi
}


# --- the tree: real nodes enrolled over REST -------------------------------

# root_fpr ROOT_PEM: the SHA-256 fingerprint a joining node pins.
root_fpr() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# Fast heartbeats so that the tests do not wait long.
TREE_SETTINGS='[tree]
heartbeat_ms = 200
deadline_ms = 1000'

# node_start DIR: starts the node whose state is DIR (spnd.conf inside);
# waits for its port; leaves DIR/pid.
# With SPND_PRELOAD set, spnd and its plugin processes run with it as
# LD_PRELOAD.
node_start() {
	rm -f "$1/spnd.port"
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" LD_PRELOAD="${SPND_PRELOAD:-}" \
		$(on_host "$1") "$SPND" -c "$1/spnd.conf" >>"$1/spnd.log" 2>&1 &
	echo $! >"$1/pid"
	i=0
	while [ ! -s "$1/spnd.port" ] && [ $i -lt 100 ]; do
		kill -0 "$(cat "$1/pid")" 2>/dev/null || { sed 's/^/#   /' "$1/spnd.log"; return 1; }
		sleep 0.1; i=$((i + 1))
	done
	[ -s "$1/spnd.port" ]
}

# node_stop DIR [SIGNAL]: stops it and waits until it is gone.
node_stop() {
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	rm -f "$1/pid"
}

node_url() { echo "https://$(addr_of "$1"):$(cat "$1/spnd.port")"; }

# psp_start DIR GROUP [VALIDITY [EXTRA_CONF]]: a new group whose PSP runs
# with the tree settings; with VALIDITY (60s) the certificates it issues
# last that long.
psp_start() {
	new_group "$1" "$2" || return 1
	psp_serve "$1" "${3:-}" "${4:-}"
}

# psp_serve DIR [VALIDITY [EXTRA_CONF]]: starts the PSP of the group made
# in DIR as psp_start does.
psp_serve() {
	[ -z "${2:-}" ] || sed -i "s/^validity = .*/validity = $2/" "$1/spnd.conf"
	printf '\n[http]\nlisten = %s\nport = 0\nport_file = spnd.port\n\n%s\n%s\n' "$(addr_of "$1")" "$TREE_SETTINGS" "${3:-}" \
		>>"$1/spnd.conf"
	node_start "$1"
}

# mint PARENT_DIR ID ROLE TRUST SERVICES: a join token from the parent
# (the PSP with its CA; an administrator offline with its own key).
mint() {
	if [ -d "$1/ca" ]; then
		ctl token -c "$1/spnd.conf" --id "$2" --role "$3" --trust "$4" --services "$5"
	else
		"$SPNCTL" token --key "$1/node.key" --cert "$1/node.crt" --id "$2" --role "$3" --trust "$4" --services "$5"
	fi
}

# join DIR PARENT_DIR ROLE TRUST SERVICES [EXTRA_CONF]: mints, enrolls
# through the parent over REST, starts the new node. DIR's basename is its id.
join() {
	root=$(if [ -d "$2/ca" ]; then echo "$2/ca/root.crt"; else echo "$2/root.pem"; fi)
	tok=$(mint "$2" "$(basename "$1")" "$3" "$4" "$5") &&
	$(on_host "$1") "$SPNCTL" enroll --url "$(node_url "$2")" --fingerprint "$(root_fpr "$root")" --token "$tok" \
		-d "$1" --listen "$(addr_of "$1")" >/dev/null &&
	printf '\n%s\n%s\n' "$TREE_SETTINGS" "${6:-}" >>"$1/spnd.conf" &&
	node_start "$1"
}

# tree_of DIR: the registry of a running node as JSON (with its own key).
tree_of() {
	root=$(if [ -d "$1/ca" ]; then echo "$1/ca/root.crt"; else echo "$1/root.pem"; fi)
	$(on_host "$1") curl -sS --cacert "$root" --cert "$1/node.crt" --key "$1/node.key" "$(node_url "$1")/v1/tree"
}

# registry_has DIR NODE: whether NODE is in DIR's registry.
registry_has() { tree_of "$1" | $PY -c "import json,sys; sys.exit(0 if sys.argv[1] in [n['node'] for n in json.load(sys.stdin)['nodes']] else 1)" "$2"; }

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	limit=$1; shift
	i=0
	while [ $i -lt $((limit * 10)) ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}

# route DIR JSON [CURL_ARGS...]: a routing probe sent to the node in DIR by
# its operator, with the node's own member certificate (the probe is for
# members); prints the status, the answer is in $WORK/body.
route() {
	dir=$1 json=$2; shift 2
	req -X POST $(as "$dir") --json "$json" "$@" "$(node_url "$dir")/v1/route"
}

# path_is WANT: the path in the last answer, joined with ">".
path_of() { $PY -c "import json; print('>'.join(json.load(open('$WORK/body'))['path']))"; }
handler_of() { $PY -c "import json; print(json.load(open('$WORK/body'))['handled_by'])"; }

# as DIR: curl arguments that present DIR's node certificate.
as() { echo "--cert $1/node.crt --key $1/node.key"; }

# --- sessions and messages --------------------------------------------------

SPN_CLIENT="$top_builddir/core/spn-client"
# Test-only programs for sections written by hand: session_probe opens a
# session and prints its keys, jwe_tool seals and opens sections.
SESSION_PROBE="$top_builddir/tests/integration/session_probe"
JWE_TOOL="$top_builddir/tests/interop/jwe_tool"

# client DIR ARGS...: spn-client through the node in DIR, trusting $CA; run
# on the host of the directory CLIENT_AT when it is set.
client() { dir=$1; shift; $(on_host "${CLIENT_AT:-}") "$SPN_CLIENT" --url "$(node_url "$dir")" --root "$CA" "$@"; }

# client_cert DIR ID PARENT_DIR: a client certificate of the group in DIR.
client_cert() {
	root=$(if [ -d "$3/ca" ]; then echo "$3/ca/root.crt"; else echo "$3/root.pem"; fi)
	tok=$(mint "$3" "$2" client 1 "") &&
	$(on_host "$1") "$SPNCTL" enroll --url "$(node_url "$3")" --fingerprint "$(root_fpr "$root")" --token "$tok" \
		-d "$1" >/dev/null
}

# --- plain HTTP (the development switch) and plugins ----------------------

# plain_psp DIR GROUP: a new group whose PSP runs without TLS.
plain_psp() {
	new_group "$1" "$2" || return 1
	printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\ntls = false\n\n%s\n' "$TREE_SETTINGS" >>"$1/spnd.conf"
	node_start "$1"
}
purl() { echo "http://127.0.0.1:$(cat "$1/spnd.port")"; }

# pjoin DIR PARENT_DIR ROLE TRUST SERVICES [EXTRA_CONF]: join over plain
# HTTP; a client enrolls and is not started.
pjoin() {
	tok=$(mint "$2" "$(basename "$1")" "$3" "$4" "$5") &&
	"$SPNCTL" enroll --url "$(purl "$2")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$1" >/dev/null &&
	printf '\n%s\n%s\n' "$TREE_SETTINGS" "${6:-}" >>"$1/spnd.conf" && { [ "$3" = client ] || node_start "$1"; }
}

# plugins NAME [EXTRA]: a [plugins] section running the in-tree plugin NAME.
plugins() {
	printf '[plugins]\nenable = %s\npath = %s/plugins/%s\nhost = %s/core/spn-plugin-host\n%s\n' \
		"$1" "$top_builddir" "$1" "$top_builddir" "${2:-}"
}

# answer FILE SERVICE [KEY]: from spn-client's output in FILE, the reply of
# SERVICE as JSON, or its member KEY (strings bare; "error NAME: why" lines
# print as {"error": NAME}). Fails when there is none.
answer() {
	$PY - "$@" <<'PYEOF'
import json, sys
path, svc = sys.argv[1], sys.argv[2]
for line in open(path):
    head, sep, body = line.rstrip("\n").partition(": ")
    if not sep or not head.startswith(svc + " from "):
        continue
    if body.startswith("error "):
        name, _, why = body[6:].partition(": ")
        o = {"error": name, "message": why}
    else:
        o = json.loads(body)
    if len(sys.argv) > 3:
        if sys.argv[3] not in o:
            sys.exit(1)
        o = o[sys.argv[3]]
    print(o if isinstance(o, str) else json.dumps(o, separators=(",", ":")))
    sys.exit(0)
sys.exit(1)
PYEOF
}

# answer_is FILE SERVICE KEY WANT: that member of the reply is WANT.
answer_is() { test "$(answer "$1" "$2" "$3")" = "$4"; }
# echo_for SERVICES: the echo plugin answering SERVICES (comma-separated):
# a node answers no service without a plugin.
echo_for() { plugins echo "$(printf '\n[plugin.echo]\nservices = %s' "$1")"; }

# signed AS METHOD URL [BODY]: curl over plain HTTP with a request signed by
# the node in AS, whose key is Ed25519 (doc/rest-api.md, "Plain HTTP between
# nodes"); prints the status, the answer is in $WORK/body.
signed() {
	as=$1 method=$2 url=$3 body=${4:-} t=$(date +%s)
	printf 'spn-request-v1\n%s\n%s\n%s\n%s\n' "$method" "$(echo "$url" | sed 's|^[a-z]*://[^/]*||; s|?.*||')" "$t" \
		"$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)" >"$WORK/sig.in"
	sig=$(openssl pkeyutl -sign -rawin -inkey "$as/node.key" -in "$WORK/sig.in" | base64 -w0 | tr '+/' '-_' | tr -d '=')
	set -- -X "$method" -H "Spn-Cert: $(openssl x509 -in "$as/node.crt" -outform DER | base64 -w0)" \
		-H "Spn-Time: $t" -H "Spn-Signature: $sig"
	[ -z "$body" ] || set -- "$@" --json "$body"
	curl -sS -o "$WORK/body" -w '%{http_code}' "$@" "$url" 2>"$WORK/curlerr"
}

# --- captures of loopback (root and tcpdump) --------------------------------

# capture_start: every TCP byte on loopback from now on, into $WORK/lo.pcap.
capture_start() {
	tcpdump -i lo --immediate-mode -Z root -U -s 0 -w "$WORK/lo.pcap" tcp 2>"$WORK/tcpdump.err" &
	TCPDUMP=$!
	wait_for 5 grep -q listening "$WORK/tcpdump.err"
}
# capture_stop: lets the last bytes in, then closes the capture.
capture_stop() { sleep 0.5; kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null; }

# scenario_send URL IBAN: the wristband enrolled in $WORK/band sends the
# reference scenario's message through URL, over plain HTTP: vitals for
# healthcare, its delivery address and bank details (IBAN) carried. Its
# output is in $WORK/c.
scenario_send() {
	"$SPN_CLIENT" --url "$1" --root "$CA" --cert "$WORK/band/node.crt" --key "$WORK/band/node.key" \
		healthcare='{"patient":"p-1042","pulse":128,"spo2":90,"temp":39.2}' \
		+pharmacy='{"deliver_to":"Rue de la Gare 4, 1003 Lausanne"}' \
		+bank="{\"iban\":\"$2\",\"holder\":\"Ada Muster\",\"max_amount\":\"20.00\"}" >"$WORK/c" 2>&1
}

# --- the privacy matrix of the reference scenario (privacy_matrix.py) --------

MATRIX="$top_srcdir/tests/integration/privacy_matrix.py"
# An account whose balance covers no payment.
POOR=GB29NWBK60161331926819

# keep_memory: SPND_PRELOAD set so that what a process ever held is still
# in its memory when it is read: nothing is freed or wiped. The
# sanitizers' quarantine keeps freed memory in their build; there only the
# wipes are preloaded, after their runtime.
keep_memory() {
	if [ "${sanitizers:-no}" = yes ]; then
		SPND_PRELOAD="$(ldd "$SPND" | awk '/libasan/ { print $3 }') $top_builddir/tests/integration/.libs/keepwipes.so"
	else
		SPND_PRELOAD="$top_builddir/tests/integration/.libs/keepfreed.so"
	fi
}

# markers: fresh markers, the sections that carry them and the seeds, in
# $WORK/markers.json; mk PART KEY reads one.
markers() { $PY "$MATRIX" markers "$WORK/markers.json"; }
mk() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])" "$WORK/markers.json" "$@"; }

# matrix_group HOSPITAL_CONF: the scenario's group on plain HTTP, each step
# a check: the PSP ($P, root $CA), admin-care and admin-east, one node per
# service (hospital-1 with HOSPITAL_CONF, the pharmacy's prices and the
# bank's account from the markers, the account $POOR beside it) and the
# wristband enrolled in $WORK/band; then waits for the tree.
matrix_group() {
	P="$WORK/psp"; CA="$P/ca/root.crt"
	check "the PSP starts on plain HTTP" plain_psp "$P" care
	check "admin-care joins" pjoin "$WORK/admin-care" "$P" admin 8 ""
	check "admin-east joins" pjoin "$WORK/admin-east" "$P" admin 8 ""
	check "healthcare-1 joins" pjoin "$WORK/healthcare-1" "$WORK/admin-care" spn 6 healthcare "$(plugins healthcare)"
	check "hospital-1 joins" pjoin "$WORK/hospital-1" "$WORK/admin-care" spn 6 hospital "$1"
	check "pharmacy-1 joins, with its prices" pjoin "$WORK/pharmacy-1" "$WORK/admin-east" spn 5 pharmacy "$(plugins pharmacy \
		"$(printf '[plugin.pharmacy]\nprices = %s' "$(mk seed prices)")")"
	check "bank-1 joins, with the patient's account" pjoin "$WORK/bank-1" "$P" spn 7 bank "$(plugins bank \
		"$(printf '[plugin.bank]\ndata = ../bank-1-data\nseed = %s, %s:Bob Broke:2.00' "$(mk seed bank)" "$POOR")")"
	check "the wristband enrolls" pjoin "$WORK/band" "$P" client 1 ""
	check "the tree is up" wait_for 10 matrix_up
}
matrix_up() { for n in healthcare-1 hospital-1 pharmacy-1 bank-1; do
	"$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q " $n " || return 1; done; }

# band FILE BANK_SECTION: one message from the wristband through
# admin-east, the markers' sections and BANK_SECTION; its answers in FILE.
band() {
	"$SPN_CLIENT" --url "$(purl "$WORK/admin-east")" --root "$CA" --cert "$WORK/band/node.crt" --key "$WORK/band/node.key" \
		healthcare="$(mk sections healthcare)" +pharmacy="$(mk sections pharmacy)" +bank="$2" >"$1" 2>&1
}
# band_poor FILE: a message whose payment the balance does not cover.
band_poor() { band "$1" "{\"iban\":\"$POOR\",\"holder\":\"Bob Broke\",\"max_amount\":\"99999999.00\"}"; }
