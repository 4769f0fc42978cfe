#!/bin/sh
# A plugin that hangs on a node the client reaches through two other nodes:
# the provider stops it after its timeout and answers plugin_failed (the
# message was not completed), and the nodes on the way wait longer than
# that, so the client is told plugin_failed, not timeout (which would mean
# it may have acted). Once with a short plugin timeout, once with the
# defaults of both timeouts. A [tree] timeout_ms shorter than the node's
# own plugins need is refused at start.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"

# echo_hang SERVICE [TIMEOUT]: the echo plugin answering SERVICE, acting on
# "hang", with that timeout or the default one.
echo_hang() {
	plugins echo "$(printf '\n[plugin.echo]\nservices = %s\nfaults = true\n%s' "$1" "${2:+timeout = $2}")"
}

check "the PSP starts" psp_start "$P" care
check "adm1 joins below the PSP" join "$WORK/adm1" "$P" admin 8 ""
check "quick1 joins below adm1, its plugin's timeout 2 s" join "$WORK/quick1" "$WORK/adm1" spn 3 quick \
	"$(echo_hang quick 2s)"
check "slow1 joins below adm1, both timeouts left at their defaults" join "$WORK/slow1" "$WORK/adm1" spn 3 slow \
	"$(echo_hang slow)"
check "the PSP knows quick1" wait_for 10 registry_has "$P" quick1
check "and slow1" wait_for 10 registry_has "$P" slow1

# The client calls the PSP: psp > adm1 > quick1.
client "$P" quick='before' >"$WORK/q0" 2>&1
check "a section reaches quick1 through the PSP and adm1" answer_is "$WORK/q0" quick echo before
client "$P" quick=hang >"$WORK/q1" 2>&1
diag "$(cat "$WORK/q1")"
check "a hung plugin behind two nodes: the client is told plugin_failed" answer_is "$WORK/q1" quick error plugin_failed
client "$P" quick='after' >"$WORK/q2" 2>&1
check "and the plugin answers again" answer_is "$WORK/q2" quick echo after

client "$P" slow=hang >"$WORK/s1" 2>&1
diag "$(cat "$WORK/s1")"
check "with the default timeouts too (plugin 10 s, [tree] timeout_ms longer)" \
	answer_is "$WORK/s1" slow error plugin_failed

# A node whose [tree] timeout_ms is shorter than its plugin's timeout plus
# the margin (here 10 s + 5 s) does not start; the same node without it does.
node_stop "$WORK/slow1"
cp "$WORK/slow1/spnd.conf" "$WORK/slow1/spnd.conf.good"
printf '\n[tree]\ntimeout_ms = 12000\n' >>"$WORK/slow1/spnd.conf"
rm -f "$WORK/slow1/spnd.port"
timeout 20 "$SPND" -c "$WORK/slow1/spnd.conf" >"$WORK/slow1.out" 2>&1
rc=$?
diag "$(tail -n 1 "$WORK/slow1.out")"
check "a [tree] timeout_ms shorter than the plugin's timeout plus the margin: spnd stops at once, listening on nothing" \
	sh -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ ! -s '$WORK/slow1/spnd.port' ]"
cp "$WORK/slow1/spnd.conf.good" "$WORK/slow1/spnd.conf"
check "and the node starts without it" node_start "$WORK/slow1"
