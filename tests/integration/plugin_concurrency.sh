#!/bin/sh
# A plugin serves several sections at once, each in a process of its own:
# a section that hangs the plugin does not hold up another client's section
# to the same service, and only the hung process is stopped and started
# again. Processes are started as sections come together, up to
# [plugin.<name>] concurrency; with one, a section waits for it and is
# served once the hung section was stopped.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"

# echo_faults EXTRA: the echo plugin acting on "hang", with EXTRA in its section.
echo_faults() { plugins echo "$(printf '\n[plugin.echo]\nfaults = true\n%s\n' "$1")"; }
# arrived DIR NAME: the section of client NAME has reached DIR's node.
arrived() { grep -q "from $2: [0-9]* bytes for echo" "$1/spnd.log"; }
# hosts DIR: how many plugin processes DIR's spnd runs.
hosts() { pgrep -P "$(cat "$1/pid")" -c -f spn-plugin-host; }
# hang DIR: a client's section that hangs DIR's plugin, sent in the
# background (its pid in HANG, its answer to come in DIR.hang); returns
# once the section has reached the node.
hang() {
	client "$1" --name hanger echo=hang >"$1.hang" 2>&1 &
	HANG=$!
	wait_for 10 arrived "$1" hanger
}
# within SECONDS DIR ARGS...: spn-client through DIR's node, given up on
# after SECONDS.
within() {
	s=$1 dir=$2; shift 2
	timeout "$s" "$SPN_CLIENT" --url "$(node_url "$dir")" --root "$CA" "$@"
}

check "the PSP starts" psp_start "$P" care
check "c1 joins, its echo plugin's timeout 8 s, its concurrency the default" \
	join "$WORK/c1" "$P" spn 3 echo "$(echo_faults 'timeout = 8s')"
check "one plugin process to begin with" test "$(hosts "$WORK/c1")" = 1

check "a client's section that hangs the plugin reaches c1" hang "$WORK/c1"
# Well within the plugin's timeout: a client held up by the hung section
# would wait for all of it.
within 5 "$WORK/c1" --name prompt echo='while it hangs' >"$WORK/p1" 2>&1
diag "$(cat "$WORK/p1")"
check "another client's section to the same service is answered meanwhile" \
	answer_is "$WORK/p1" echo echo 'while it hangs'
check "while the hung section is still waiting" kill -0 $HANG
check "in a second plugin process" test "$(hosts "$WORK/c1")" = 2
wait $HANG
check "the hung section is told plugin_failed once the plugin's timeout is over" \
	answer_is "$WORK/c1.hang" echo error plugin_failed
check "the hung process was replaced: still two" test "$(hosts "$WORK/c1")" = 2
client "$WORK/c1" echo=after >"$WORK/a1" 2>&1
check "and the plugin serves on" answer_is "$WORK/a1" echo echo after

# Eight clients at once: all answered, by four processes at most.
# (Waiting for these clients only: the daemons run in the background too.)
pids=
for i in 1 2 3 4 5 6 7 8; do
	within 20 "$WORK/c1" --name "burst$i" echo="burst $i" >"$WORK/b$i" 2>&1 &
	pids="$pids $!"
done
wait $pids
all=0
for i in 1 2 3 4 5 6 7 8; do answer_is "$WORK/b$i" echo echo "burst $i" && all=$((all + 1)); done
check "eight sections at once are all answered ($all)" test $all = 8
diag "plugin processes: $(hosts "$WORK/c1")"
check "by no more processes than the default concurrency, 4" test "$(hosts "$WORK/c1")" -le 4

# One process: a second section waits for it.
check "c2 joins, its echo plugin in one process, its timeout 3 s" \
	join "$WORK/c2" "$P" spn 3 echo "$(echo_faults "$(printf 'timeout = 3s\nconcurrency = 1')")"
check "a section that hangs the plugin reaches c2" hang "$WORK/c2"
within 10 "$WORK/c2" --name patient echo='after waiting' >"$WORK/p2" 2>&1
diag "$(cat "$WORK/p2")"
check "another section waits for the one process and is served once the hung one was stopped" \
	answer_is "$WORK/p2" echo echo 'after waiting'
wait $HANG
check "the hung section is told plugin_failed" answer_is "$WORK/c2.hang" echo error plugin_failed
check "and c2 runs one plugin process" test "$(hosts "$WORK/c2")" = 1
