#!/bin/sh
# Calls between services on several nodes. Services that call each other
# in a circle across nodes are refused as a loop at once, from the chain
# of calls the message carries, not left waiting for each other. Calls to
# a provider share one session while it serves: one key exchange for many
# calls, a new session when the provider has forgotten it, calls at once
# in it all answered; and a shared session never hands one client's answer
# to another that reuses its message id.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"

# test_plugin NAME: a [plugins] section running the test plugin NAME.
test_plugin() {
	printf '[plugins]\nenable = %s\npath = %s/tests/plugins\nhost = %s/core/spn-plugin-host\n' "$1" \
		"$top_builddir" "$top_builddir"
}
# within SECONDS DIR ARGS...: spn-client through DIR's node, given up on
# after SECONDS.
within() {
	s=$1 dir=$2; shift 2
	timeout "$s" "$SPN_CLIENT" --url "$(node_url "$dir")" --root "$CA" "$@"
}
# relayed FILE TEXT: relay's answer in FILE is echo's of TEXT.
relayed() { grep -q "^relay from relay1: relay: echo said {.*\"echo\":\"$2\"" "$1"; }
# known A B: the PSP's registry has both nodes.
known() { registry_has "$P" "$1" && registry_has "$P" "$2"; }
# opened: how many sessions echo1 opened for relay1's calls.
opened() { grep -c 'session s-[0-9a-f]* for service echo opened for relay1' "$WORK/echo1/spnd.log"; }

check "the PSP starts" psp_start "$P" care
check "ping1 joins with ping" join "$WORK/ping1" "$P" spn 3 ping "$(test_plugin ping)"
check "pong1 joins with pong" join "$WORK/pong1" "$P" spn 3 pong "$(test_plugin pong)"
check "the PSP knows both" wait_for 10 known ping1 pong1

# ping on ping1 calls pong on pong1, which calls ping: that section comes
# back to ping1 with ping on ping1 already on its chain. Well within the
# plugins' timeout (10 s): services waiting for each other would take it all.
within 6 "$P" ping=hello >"$WORK/pp" 2>&1
diag "$(cat "$WORK/pp")"
check "services calling each other in a circle across nodes: refused as a loop at once" \
	grep -q '^ping from ping1: ping: pong said pong: ping failed: service ping on ping1 is already handling this message further up its chain of calls (ping on ping1 > pong on pong1): the services call each other in a circle' "$WORK/pp"

check "relay1 joins with relay, which calls echo" join "$WORK/relay1" "$P" spn 3 relay "$(test_plugin relay)"
check "echo1 joins with echo" join "$WORK/echo1" "$P" spn 3 echo "$(plugins echo)"
check "the PSP knows both" wait_for 10 known relay1 echo1

for i in 1 2 3; do client "$P" relay="call $i" >"$WORK/r$i" 2>&1; done
diag "$(cat "$WORK/r3")"
check "three messages, each relayed to echo" sh -c "grep -q '\"echo\":\"call 1\"' '$WORK/r1' && grep -q '\"echo\":\"call 2\"' '$WORK/r2' && grep -q '\"echo\":\"call 3\"' '$WORK/r3'"
check "in one session: echo1 opened one for relay1's calls" test "$(opened)" = 1

# Eight calls at once share it: each answers its own message.
# (Waiting for these clients only: the daemons run in the background too.)
pids=
for i in 1 2 3 4 5 6 7 8; do
	within 30 "$P" relay="burst $i" >"$WORK/b$i" 2>&1 &
	pids="$pids $!"
done
wait $pids
all=0
for i in 1 2 3 4 5 6 7 8; do relayed "$WORK/b$i" "burst $i" && all=$((all + 1)); done
check "eight calls at once all answered, each with its own message's echo ($all)" test $all = 8
check "still in that one session" test "$(opened)" = 1

# The provider restarts and forgets its sessions: the next call is told
# unknown_session and goes again in a new one.
node_stop "$WORK/echo1"
check "echo1 starts again" node_start "$WORK/echo1"
client "$P" relay='after the restart' >"$WORK/r4" 2>&1
diag "$(cat "$WORK/r4")"
check "a call after the provider forgot the session is answered" relayed "$WORK/r4" 'after the restart'
check "in a new session" test "$(opened)" = 2

# Two clients, one message id: the relay acts for each (other authors),
# and its call for the second must not be answered from the first's record.
client "$P" --name alice --message-id m-shared relay='for alice only' >"$WORK/alice" 2>&1
check "alice's message is relayed" relayed "$WORK/alice" 'for alice only'
client "$P" --name bob --message-id m-shared relay='from bob' >"$WORK/bob" 2>&1
diag "$(cat "$WORK/bob")"
check "bob's, with alice's message id, is refused by echo as acted on already" \
	grep -q '^relay from relay1: relay: echo failed: message m-shared was handled in another session' "$WORK/bob"
check "and bob is never told alice's answer" sh -c "! grep -q 'for alice only' '$WORK/bob'"
