#!/bin/sh
# Plugins run in processes of their own: the echo plugin answers sections
# with what it received; it sees no secret of spnd's; a plugin that
# crashes, hangs or refuses gives the client a clear error and the node
# goes on serving, with the plugin started again.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
PLUGINS="[plugins]
enable = echo
path = $top_builddir/plugins/echo
host = $top_builddir/core/spn-plugin-host

[plugin.echo]
faults = true
timeout = 2s"
check "the PSP starts" psp_start "$P" care
export SPN_TEST_SECRET="not for plugins"
check "e1 joins with the echo plugin" join "$WORK/e1" "$P" spn 3 echo "$PLUGINS"
unset SPN_TEST_SECRET
check "the plugin started" grep -q 'plugin echo: started (process [0-9]*), provides echo' "$WORK/e1/spnd.log"
check "its init logged through spnd" grep -q 'plugin echo: ready on e1 (faults on' "$WORK/e1/spnd.log"
host=$(pgrep -P "$(cat "$WORK/e1/pid")" -f spn-plugin-host | head -n 1)
check "it runs in a process of its own, a child of spnd" test -n "$host"
check "which does not get spnd's environment" sh -c "! tr '\\0' '\\n' </proc/$host/environ | grep -q SPN_TEST_SECRET"
check "nor any descriptor but its socket" test "$(ls /proc/$host/fd | sort -n | tr '\n' ' ')" = "0 1 2 3 "
wait_for 10 registry_has "$P" e1

client "$WORK/e1" echo='pulse 128' >"$WORK/c1" 2>&1
check "a section reaches the plugin and its reply the client" grep -q '^echo from e1: {"plugin":"echo","node":"e1","service":"echo","from":"client","verified":false,"message":"m-[0-9a-f]*","echo":"pulse 128","handled":1}' "$WORK/c1"
client "$WORK/psp" echo='through the tree' >"$WORK/c2" 2>&1
check "through the tree as well" grep -q '"echo":"through the tree"' "$WORK/c2"

refuse "a plugin that crashes: the client is told, naming it" \
	"error plugin_failed: plugin echo crashed \(signal [0-9]+\); the message was not completed" client "$WORK/e1" echo=crash
check "spnd logged it and started the plugin again" wait_for 5 grep -q 'plugin echo: started again' "$WORK/e1/spnd.log"
client "$WORK/e1" echo='after the crash' >"$WORK/c3" 2>&1
check "and the node goes on serving" grep -q '"echo":"after the crash"' "$WORK/c3"
refuse "a plugin that hangs: stopped after its timeout" \
	"error plugin_failed: plugin echo did not answer within 2000 ms and was stopped" client "$WORK/e1" echo=hang
client "$WORK/e1" echo='after the hang' >"$WORK/c4" 2>&1
check "and the node goes on serving" grep -q '"echo":"after the hang"' "$WORK/c4"
refuse "a plugin that refuses: its reason reaches the client" "error plugin_failed: plugin echo: asked to fail" \
	client "$WORK/e1" echo=fail
check "spnd is still the same process" kill -0 "$(cat "$WORK/e1/pid")"

node_stop "$WORK/e1"
check "on stop the plugin process ends too" sh -c "! kill -0 $host 2>/dev/null"

# A deliberate echo for other services: the echo plugin enabled for them.
check "e2 joins, the echo plugin answering hospital and bank" join "$WORK/e2" "$P" spn 3 hospital,bank "$(echo_for hospital,bank)"
wait_for 10 registry_has "$P" e2
client "$WORK/psp" hospital='pulse 90' bank='iban 1' >"$WORK/e2c" 2>&1
check "it answers the hospital's section" grep -q '^hospital from e2: {"plugin":"echo","node":"e2","service":"hospital","from":"client","verified":false,"message":"m-[0-9a-f]*","echo":"pulse 90","handled":[12]}' "$WORK/e2c"
check "and the bank's" grep -q '^bank from e2: {"plugin":"echo","node":"e2","service":"bank",.*"echo":"iban 1"' "$WORK/e2c"
node_stop "$WORK/e2"

# Two plugins of one node that call each other: refused as a loop, answered,
# and the node keeps serving.
PINGPONG="[plugins]
enable = ping, pong
path = $top_builddir/tests/plugins
host = $top_builddir/core/spn-plugin-host"
check "pp1 joins with ping and pong" join "$WORK/pp1" "$P" spn 3 ping,pong "$PINGPONG"
client "$WORK/pp1" ping=hello >"$WORK/pp" 2>&1
diag "$(cat "$WORK/pp")"
check "services calling each other in a circle are refused, not left waiting" \
	grep -q 'service ping on pp1 is already handling this message further up its chain of calls (ping on pp1 > pong on pp1): the services call each other in a circle' "$WORK/pp"
check "and the chain still answers the client" grep -q '^ping from pp1: ping: pong said pong: ping failed' "$WORK/pp"
