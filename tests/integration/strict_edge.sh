#!/bin/sh
# The HTTP and TLS edge of a node, on a real daemon with a P-256 key: one
# way to frame a request (two Content-Lengths, or one with a chunked body,
# are 400: a node that forwards must not read a request differently from
# the next); no control character in the path (%00 included); request
# bodies are JSON (415 otherwise); TLS 1.3, or 1.2 with AEAD suites only,
# and no SHA-1 signature, the client certificate's proof included.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "a P-256 PSP starts" sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' init -d '$P' -g edge -t p256 >/dev/null 2>&1 &&
	printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n' >>'$P/spnd.conf'"
check "it serves" node_start "$P"
PORT=$(cat "$P/spnd.port")
PROBE="$top_srcdir/tests/integration/edge_probe.py"

# raw NAME STATUS ERROR CMD...: the request CMD prints, sent as it is.
raw() {
	name=$1 want=$2 err=$3; shift 3
	got=$("$@" | $PY "$PROBE" send "$PORT" "$CA" "$WORK/body")
	set -- "$name" "$want" "$err"
	if [ "$got" = "$2" ] && { [ -z "$3" ] || grep -q "\"error\":\"$3\"" "$WORK/body"; }; then
		ok "$1 ($got)"; [ -z "$3" ] || diag "$(cat "$WORK/body")"
	else
		not_ok "$1: got $got"; awk '{print "#   " $0}' "$WORK/body"
	fi
}
# post HEADERS BODY: a routing request for a service no node provides
# (404 no_provider once read), HEADERS and BODY as given.
B='{"kind":"session","service":"nosuch"}'
C='25\r\n'"$B"'\r\n0\r\n\r\n'
post() { printf 'POST /v1/route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%b\r\n%b' "$1" "$2"; }
J='Content-Type: application/json\r\n'

# --- framing -----------------------------------------------------------------
raw "one Content-Length: its control" 404 no_provider post "${J}Content-Length: 37\r\n" "$B"
raw "two different Content-Lengths" 400 invalid post "${J}Content-Length: 37\r\nContent-Length: 2\r\n" "$B"
raw "the same Content-Length twice" 400 invalid post "${J}Content-Length: 37\r\nContent-Length: 37\r\n" "$B"
raw "Content-Length and a chunked body" 400 invalid post "${J}Content-Length: 45\r\nTransfer-Encoding: chunked\r\n" "$C"
raw "a chunked body alone: its control" 404 no_provider post "${J}Transfer-Encoding: chunked\r\n" "$C"
raw "a coding other than chunked" 400 invalid post "${J}Transfer-Encoding: gzip, chunked\r\n" "$C"

# --- the path ------------------------------------------------------------------
get() { printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1"; }
raw "GET /v1/health: its control" 200 "" get /v1/health
raw "/v1/health%00 is not /v1/health" 400 invalid get /v1/health%00
raw "a NUL inside the path" 400 invalid get /v1/health%00.json
raw "an escaped line feed" 400 invalid get /v1/health%0a
raw "an escaped tab" 400 invalid get /v1/heal%09th
raw "an escaped DEL" 400 invalid get /v1/health%7f

# --- the body's type -------------------------------------------------------------
raw "JSON with charset=utf-8 is read" 404 no_provider post "Content-Type: application/json; charset=utf-8\r\nContent-Length: 37\r\n" "$B"
raw "in other cases and quoted" 404 no_provider post "Content-Type: Application/JSON;charset=\"UTF-8\"\r\nContent-Length: 37\r\n" "$B"
raw "a body with no type" 415 unsupported_media_type post "Content-Length: 37\r\n" "$B"
raw "a form" 415 unsupported_media_type post "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 37\r\n" "$B"
raw "text" 415 unsupported_media_type post "Content-Type: text/plain\r\nContent-Length: 37\r\n" "$B"
raw "JSON in another charset" 415 unsupported_media_type post "Content-Type: application/json; charset=latin1\r\nContent-Length: 37\r\n" "$B"
raw "a type that only starts like JSON" 415 unsupported_media_type post "Content-Type: application/jsonx\r\nContent-Length: 37\r\n" "$B"
is "curl --json: read" 404 no_provider --json "$B" "$(node_url "$P")/v1/route"
is "curl --data (a form): refused" 415 unsupported_media_type --data "$B" "$(node_url "$P")/v1/route"

# --- TLS -------------------------------------------------------------------------
# tls_ok NAME ARGS...: openssl s_client completes a handshake with ARGS.
sc() { openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CA" "$@" </dev/null; }
check "TLS 1.3 is spoken" sc -tls1_3
check "TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256" sc -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
check "TLS 1.2 with ECDHE-ECDSA-CHACHA20-POLY1305" sc -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA384 AES256-SHA AES128-GCM-SHA256; do
	if sc -tls1_2 -cipher "$c" >"$WORK/out" 2>&1; then not_ok "TLS 1.2 with $c is refused"; else ok "TLS 1.2 with $c is refused"; fi
done
if sc -tls1_2 -sigalgs ECDSA+SHA1 >"$WORK/out" 2>&1; then not_ok "a client that takes only SHA-1 signatures is refused"
else ok "a client that takes only SHA-1 signatures is refused"; fi
check "TLS 1.2, ECDSA with SHA-256: its control" sc -tls1_2 -sigalgs ECDSA+SHA256
# The client certificate's proof: GET /v1/tree needs a member.
tree_with() {
	printf 'GET /v1/tree HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$CA" -tls1_2 -cert "$P/node.crt" -key "$P/node.key" \
			-sigalgs ECDSA+SHA256 -client_sigalgs "$1" 2>/dev/null | head -n 1 | cut -d' ' -f2
}
check "a member certificate proven with ECDSA+SHA256 is taken" test "$(tree_with ECDSA+SHA256)" = 200
got=$(tree_with ECDSA+SHA1)
check "one proven with ECDSA+SHA1 is not ($got)" test "$got" != 200
gc() { gnutls-cli --port "$PORT" --x509cafile "$CA" --no-ca-verification --priority "$1" 127.0.0.1 </dev/null; }
check "gnutls-cli with its own default: its control" gc NORMAL
for p in "NORMAL:-VERS-ALL:+VERS-TLS1.2:-AEAD:+SHA1:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC" \
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256" \
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-ECDSA-SHA1"; do
	if gc "$p" >"$WORK/out" 2>&1; then not_ok "gnutls-cli $p is refused"; else ok "gnutls-cli $p is refused"; fi
done
is "still serving" 200 "" "$(node_url "$P")/v1/health"
