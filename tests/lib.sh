# TAP helpers and fixtures shared by the shell tests. Sourced, not run.
# Each test prints "ok N - name" or "not ok N - name" and a plan at exit.
set -u

: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"
SPNCTL="$top_builddir/core/spnctl"
PY=/usr/bin/python3
_n=0
_failed=0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/spn-test.XXXXXX")
_cleanup() {
	# Kill whatever a test started in the background.
	jobs -p | xargs -r kill -9 2>/dev/null
	rm -rf "$WORK"
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

# new_group DIR GROUP [KEYTYPE]: a fresh PSP in DIR.
new_group() {
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPNCTL" init -d "$1" -g "$2" -t "${3:-ed25519}" >/dev/null 2>&1
}

# ctl ARGS...: spnctl with the CA passphrase available.
ctl() { SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPNCTL" "$@"; }

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

# start_spnd CONF: starts spnd on a free loopback port (written to the port
# file), waits for it, sets SPND_PID and PORT. The EXIT trap kills it.
start_spnd() {
	dir=$(dirname "$1")
	grep -q '^\[http\]' "$1" || printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n' >>"$1"
	rm -f "$dir/spnd.port"
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$1" >>"$dir/spnd.log" 2>&1 &
	SPND_PID=$!
	i=0
	while [ ! -s "$dir/spnd.port" ] && [ $i -lt 100 ]; do
		kill -0 $SPND_PID 2>/dev/null || { cat "$dir/spnd.log"; return 1; }
		sleep 0.1; i=$((i + 1))
	done
	PORT=$(cat "$dir/spnd.port")
	[ -n "$PORT" ]
}

# http STATUS_WANTED METHOD URL [curl args]: passes when the status matches;
# the body is left in $WORK/body.
http_status() {
	curl -sS -o "$WORK/body" -w '%{http_code}' -X "$2" "$3" "$@" 2>/dev/null
}
