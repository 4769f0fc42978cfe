#!/bin/sh
# plugins/http on real daemons, with a real HTTP service behind it
# (tests/integration/http_upstream.py): what the service is told, carried
# sections and their private answers, calls through the node with the
# request's token and with anyone else's, and every way a service can
# answer badly (slow, huge, malformed, wrong status, refused connection,
# cut off, closed), each a clear error for the client while the node goes
# on serving. Also: a port not in [plugin.http] connect is out of reach,
# a unix socket upstream, the per-service limit, and configurations the
# plugin refuses.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"; H="$WORK/h1"
UP="$top_srcdir/tests/integration/http_upstream.py"

# upstream NAME [ARGS...]: an upstream in the background; its port file is
# $WORK/NAME.port, its hits $WORK/NAME.hits.
upstream() {
	n=$1; shift
	$PY "$UP" --port-file "$WORK/$n.port" --hits "$WORK/$n.hits" "$@" >"$WORK/$n.log" 2>&1 &
	wait_for 10 test -s "$WORK/$n.port"
}
port() { cat "$WORK/$1.port"; }
# sent FILE SERVICE KEY VALUE: SERVICE's answer in FILE has KEY = VALUE.
sent() { answer_is "$1" "$2" "$3" "$4"; }
# failed FILE SERVICE WHY: SERVICE's answer is plugin_failed saying WHY.
failed() { answer_is "$1" "$2" error plugin_failed && answer "$1" "$2" message | grep -Eq "$3"; }
known() { registry_has "$P" h1 && registry_has "$P" h2 && registry_has "$P" e1; }
# called FILE KEY: from svc's answer in FILE (what the call said), the
# callee's reply's member KEY, or with KEY "status" the call's status.
called() {
	$PY -c "import json,sys
a=json.loads(sys.argv[1])
if sys.argv[2] == 'status': print(a['status']); sys.exit(0)
v=json.loads(a['body'])[sys.argv[2]]
print(v if isinstance(v, str) else json.dumps(v, separators=(',', ':')))" "$(answer "$1" svc)" "$2"
}
called_is() { test "$(called "$1" "$2")" = "$3"; }
mid_ok() { case "$(answer "$WORK/show" svc mid)" in m-*) return 0 ;; esac; return 1; }
alive() { kill -0 "$(cat "$H/pid")"; }

check "an upstream listens" upstream up
check "a second one, whose port the plugin is not given" upstream blocked
check "and one on a unix socket" upstream sock --socket "$WORK/up.sock"
# A port nothing listens on: taken and let go.
GONE=$($PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")

HTTP_CONF=$(printf '%s\n[plugin.http]\nservices = svc, gone, blocked, sock\nupstream.svc = http://127.0.0.1:%s/svc\nupstream.gone = http://127.0.0.1:%s/\nupstream.blocked = http://127.0.0.1:%s/\nupstream.sock = http://localhost/sock\nsocket.sock = %s\ntimeout.svc = 2\nmax_answer.svc = 4096\nconnect = %s, %s\ntimeout = 6s\n' \
	"$(plugins http)" "$(port up)" "$GONE" "$(port blocked)" "$WORK/up.sock" "$(port up)" "$GONE")
# h2 provides svc2, which svc's service calls across the group.
HTTP2_CONF=$(printf '%s\n[plugin.http]\nservices = svc2\nupstream.svc2 = http://127.0.0.1:%s/svc2\nconcurrency.svc2 = 1\ndata = ../h2-data\nconnect = %s\n' \
	"$(plugins http)" "$(port up)" "$(port up)")
# The plugin runs as another user when spnd is root: the socket must let
# it connect, as an operator's would.
chmod 666 "$WORK/up.sock"
check "the PSP starts" psp_start "$P" care
check "h1 joins with the http plugin in front of four services" join "$H" "$P" spn 5 "svc,gone,blocked,sock" "$HTTP_CONF"
check "h2 joins with it in front of svc2" join "$WORK/h2" "$P" spn 5 svc2 "$HTTP2_CONF"
check "e1 joins with echo" join "$WORK/e1" "$P" spn 5 echo "$(plugins echo)"
check "the PSP knows all three" wait_for 10 known

# --- what the service is told -----------------------------------------------
client "$H" --name wristband svc='{"do":"show","pulse":128}' >"$WORK/show" 2>&1
diag "$(cat "$WORK/show")"
check "the section reaches the service as its body, unchanged" sent "$WORK/show" svc body '{"do":"show","pulse":128}'
check "at the upstream's path" sent "$WORK/show" svc path /svc
check "with the service's name" sent "$WORK/show" svc service svc
check "with the author a client gave itself" sent "$WORK/show" svc author wristband
check "and said so" sent "$WORK/show" svc verified false
check "with the message id" mid_ok
check "with a call endpoint on loopback and a 64-digit token" sh -c \
	"grep -q '\"call\": \"http://127.0.0.1:[0-9]*/call/\"' '$WORK/show' && grep -q '\"token_len\": 64' '$WORK/show'"

# --- carried sections and calls ----------------------------------------------
# svc's service calls svc2 through the node; the wristband carried a
# section for svc2, which svc2's service is given with its author.
client "$H" --name wristband svc='{"do":"call","to":"svc2","section":{"do":"show"}}' +svc2='{"card":"4111"}' \
	>"$WORK/carried" 2>&1
diag "$(cat "$WORK/carried")"
check "a call through the endpoint reaches svc2 on h2, answered 200" called_is "$WORK/carried" status 200
check "svc2's service is given the section carried for it, with its author" \
	called_is "$WORK/carried" attached '[{"text":"{\"card\":\"4111\"}","author":"wristband","verified":"false"}]'
check "and the section svc's service wrote, by h1" called_is "$WORK/carried" author h1
check "vouched for" called_is "$WORK/carried" verified true
client "$H" --name wristband \
	svc='{"do":"call","to":"svc2","section":{"do":"parts","reply":{"paid":true},"attached":[{"private":"receipt-77"}]}}' \
	+svc2='{"card":"4111"}' >"$WORK/private" 2>&1
diag "$(cat "$WORK/private")"
check "a parts answer: the carried section's client gets its private answer" \
	grep -q '^svc2 from h2: {"private":"receipt-77"}' "$WORK/private"
check "and the caller only the reply" sh -c "grep '^svc from' '$WORK/private' | grep -q 'paid' && ! grep '^svc from' '$WORK/private' | grep -q receipt-77"
client "$H" svc='{"do":"call","to":"echo","section":"across the group"}' >"$WORK/echo" 2>&1
check "a call to echo is answered by it" sh -c "grep '^svc from h1' '$WORK/echo' | grep -q '\"status\": 200.*across the group'"
client "$H" svc='{"do":"call","to":"nosuch","section":{}}' >"$WORK/nosuch" 2>&1
check "a call that fails comes back 502" called_is "$WORK/nosuch" status 502
check "saying call_failed" called_is "$WORK/nosuch" error call_failed

# --- tokens ---------------------------------------------------------------
client "$H" svc='{"do":"stash"}' >/dev/null 2>&1
client "$H" svc='{"do":"replay","to":"echo"}' >"$WORK/replay" 2>&1
diag "$(cat "$WORK/replay")"
check "a token whose request was answered opens nothing (403)" called_is "$WORK/replay" status 403
client "$H" svc='{"do":"replay","to":"echo","here":true}' >"$WORK/here" 2>&1
check "another request's token at this request's endpoint: 403" called_is "$WORK/here" status 403
client "$H" svc='{"do":"call","to":"echo","token":"","section":"x"}' >"$WORK/notoken" 2>&1
check "no token: 403" called_is "$WORK/notoken" status 403
client "$H" svc='{"do":"call","to":"echo","token":"0000000000000000000000000000000000000000000000000000000000000000","section":"x"}' \
	>"$WORK/madeup" 2>&1
check "a made-up token of the right length: 403" called_is "$WORK/madeup" status 403
client "$H" svc='{"do":"call","to":"echo","token":"00000000000000000000000000000000000000000000000000000000000000000","section":"x"}' \
	>"$WORK/longtoken" 2>&1
check "a token too long: 403" called_is "$WORK/longtoken" status 403

# --- bad answers: a clear error each, and the node serving on ---------------
bad() { # bad NAME SECTION WHY
	client "$H" svc="$2" >"$WORK/bad.$1" 2>&1
	diag "$(cat "$WORK/bad.$1")"
	check "$1: the client is told '$3'" failed "$WORK/bad.$1" svc "$3"
	client "$H" svc='{"do":"show"}' >"$WORK/next" 2>&1
	check "$1: and the node serves the next section" sh -c "kill -0 $(cat "$H/pid") && grep -q '^svc from h1: {' '$WORK/next'"
}
bad slow '{"do":"slow","seconds":4}' 'the service did not answer within 2000 ms'
bad huge '{"do":"huge","bytes":10000}' 'the service.s answer is larger than 4096 bytes'
bad "an error page" '{"do":"status","code":500,"body":"Traceback: SECRET-TRACE","type":"text/plain"}' \
	'the service failed \(status 500\)$'
check "whose text never reaches the client" sh -c "! grep -q SECRET-TRACE '$WORK/bad.an error page'"
bad redirect '{"do":"status","code":302,"body":""}' 'the service gave no answer to take \(status 302\)'
bad "not JSON" '{"do":"status","code":200,"body":"<html>","type":"text/html"}' 'the service.s answer is not JSON'
bad "broken JSON" '{"do":"status","code":200,"body":"{oops"}' 'the service.s answer is not JSON'
bad "trailing bytes" '{"do":"status","code":200,"body":"{} {}"}' 'the service.s answer is not JSON'
bad "parts without reply" '{"do":"status","code":200,"body":"{\"attached\":[]}","type":"application/vnd.spn.parts+json"}' \
	'not a parts object with a reply'
bad "cut off" '{"do":"cut"}' 'the service.s answer was cut off'
bad closed '{"do":"close"}' 'the service closed the connection without an answer'
bad "4xx without reason" '{"do":"status","code":409,"body":"conflict: SECRET-CONFLICT"}' 'the service refused the section \(status 409\)$'
bad refused '{"do":"refuse","reason":"field pulse is out of range"}' 'field pulse is out of range$'
bad "a reason with a line break" '{"do":"refuse","reason":"bad\nX-Injected: 1"}' 'the service refused the section \(status 422\)$'
bad "NaN, which JSON has not" '{"do":"status","code":200,"body":"{\"pulse\":NaN}"}' 'the service.s answer is not JSON'
bad "a trailing comma" '{"do":"status","code":200,"body":"[1,]"}' 'the service.s answer is not JSON'
client "$H" gone='{}' >"$WORK/gone" 2>&1
check "nothing listening: the client is told the service is not reachable" failed "$WORK/gone" gone 'the service is not reachable'
client "$H" blocked='{}' >"$WORK/blocked" 2>&1
diag "$(cat "$WORK/blocked")"
if [ "$($PY -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))')" -ge 4 ]; then
	check "a port not in connect is out of the plugin's reach" failed "$WORK/blocked" blocked 'the service is not reachable'
	check "and that service never saw a request" test ! -s "$WORK/blocked.hits"
else
	skip "this kernel's Landlock holds no TCP ports (before Linux 6.7)"
fi
client "$H" sock='{"do":"show"}' >"$WORK/sock" 2>&1
diag "$(cat "$WORK/sock")"
check "an upstream on a unix socket is asked" sent "$WORK/sock" sock path /sock
# A refusal with a private answer to the carried section.
client "$H" --name wristband svc='{"do":"call","to":"svc2","section":{"do":"refuse","reason":"card refused","attached":[{"status":"refused","why":"limit"}]}}' \
	+svc2='{"card":"4111"}' >"$WORK/refusal" 2>&1
diag "$(cat "$WORK/refusal")"
check "a refused section's carried one still gets its private answer" grep -q '^svc2 from h2: {"status":"refused","why":"limit"}' "$WORK/refusal"

# --- the per-service limit ----------------------------------------------------
client "$H" svc='{"do":"call","to":"svc2","section":{"do":"hold"}}' >"$WORK/held" 2>&1 &
HELD=$!
check "one section of svc2 is held by its service" wait_for 10 test -e "$WORK/up.port.holding"
client "$H" svc2='{"do":"show"}' >"$WORK/limit" 2>&1
diag "$(cat "$WORK/limit")"
check "a second at once is told svc2 is at its limit (concurrency.svc2 = 1)" failed "$WORK/limit" svc2 'at its limit'
curl -sS -X POST -d '{}' "http://127.0.0.1:$(port up)/release" >/dev/null
wait $HELD
check "the held one is answered when its service lets it go" grep -q 'held' "$WORK/held"
client "$H" svc2='{"do":"show"}' >"$WORK/after" 2>&1
check "and the slot is free again" sent "$WORK/after" svc2 service svc2
check "h1 served it all with one spnd" alive

# --- configurations the plugin refuses -------------------------------------
node_stop "$H"
node_stop "$WORK/h2"
refused_conf() { # NAME DIR SED PATTERN
	[ -f "$2/good.conf" ] || cp "$2/spnd.conf" "$2/good.conf"
	sed "$3" "$2/good.conf" >"$2/spnd.conf"
	refuse "$1" "$4" "$SPND" -c "$2/spnd.conf"
}
refused_conf "a service without an upstream" "$H" '/^upstream.gone/d' 'upstream.gone: required'
refused_conf "an upstream that is not http://" "$H" 's|^upstream.svc = .*|upstream.svc = ftp://127.0.0.1/|' 'upstream.svc: an http:// URL'
refused_conf "an upstream on another machine" "$H" 's|^upstream.svc = .*|upstream.svc = http://10.1.2.3:8000/|' 'upstream.svc: an http:// URL on this machine'
refused_conf "a host that only looks local" "$H" 's|^upstream.svc = .*|upstream.svc = http://127.0.0.1.example.org/|' 'upstream.svc: an http:// URL on this machine'
refused_conf "a timeout not under the section's" "$H" 's/^timeout.svc = 2/timeout.svc = 6/' 'timeout.svc: 6 s is not under'
refused_conf "a port that is not one" "$H" 's/^connect = .*/connect = 70000/' '\[plugin.http\] connect: .70000. is not a TCP port'
refused_conf "a relative socket" "$H" 's|^socket.sock = .*|socket.sock = up.sock|' 'socket.sock: an absolute path'
refused_conf "a limit without a data directory" "$WORK/h2" '/^data = /d' 'concurrency.svc2: needs the plugin.s data directory'
