#!/bin/sh
# A confined plugin cannot reach what the node keeps from it: evil tries to
# read the node's key (by relative and absolute path), its configuration,
# the PSP's ledger and key and spnd's environment, to write outside its data
# directory, to stop or trace spnd, to fork, to open a socket, to take
# more memory than it may, to spin, and to flood and forge the node's log.
# Every attempt fails, as evil's answer says and as the node shows from
# outside (spnd not stopped, answering another service, a log of bounded
# size whose every line of the plugin's is marked as such); the same reads
# succeed for the plugin run with confine = off, so the attempts are real.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"; E="$WORK/e1"; U="$WORK/u1"

# confined NAME EXTRA: evil and echo on one node, evil's section with EXTRA.
confined() {
	printf '[plugins]\nenable = evil, echo\npath = %s/tests/plugins:%s/plugins/echo\nhost = %s/core/spn-plugin-host\n' \
		"$top_builddir" "$top_builddir" "$top_builddir"
	printf '\n[plugin.echo]\nservices = echo\n\n[plugin.evil]\ndata = ../e1-data\nconcurrency = 1\n%s\n' "$1"
}
# field FILE KEY...: a member of evil's answer in FILE (nested keys).
field() {
	$PY - "$@" <<'PYEOF'
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("evil from ")][0]
o = json.loads(line.split(": ", 1)[1])
for k in sys.argv[2:]:
    o = o[k]
print(o)
PYEOF
}
failed() { v=$(field "$@") && [ "$v" != ok ]; }
is_ok() { test "$(field "$@")" = ok; }
# state PID: its state letter in /proc (T when stopped).
state() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1; }
not_stopped() { s=$(state "$1") && [ "$s" != T ] && [ "$s" != t ]; }
evil() { client "$1" evil="$2" >"$WORK/ans" 2>&1; cat "$WORK/ans" >"$WORK/$3"; }

check "the PSP starts" psp_start "$P" care
check "e1 joins with evil confined, and echo" join "$E" "$P" spn 3 evil,echo \
	"$(confined "$(printf 'memory = 256\ncpu = 2s\ntimeout = 10s\nlog_rate = 4096')")"
check "u1 joins with evil unconfined" join "$U" "$P" spn 3 evil \
	"$(printf '[plugins]\nenable = evil\npath = %s/tests/plugins\nhost = %s/core/spn-plugin-host\n\n[plugin.evil]\ndata = ../u1-data\nconfine = off\n' "$top_builddir" "$top_builddir")"
SPND_PID=$(cat "$E/pid")
# Readable by anyone as far as permissions go: only the confinement stands
# between the plugin and these (spnd as root runs plugins as nobody).
chmod 755 "$WORK" "$E" "$U" "$P" "$P/ca"
chmod 644 "$U/node.key" "$U/spnd.conf"
LEDGER="$P/ledger.db"; CAKEY="$P/ca/root.key"
chmod 644 "$E/node.key" "$E/spnd.conf" "$LEDGER" "$CAKEY"
FILES="\"../e1/node.key\",\"$E/node.key\",\"$E/spnd.conf\",\"$LEDGER\",\"$CAKEY\",\"/proc/$SPND_PID/environ\""

evil "$U" "{\"do\":\"read\",\"files\":[\"$U/spnd.conf\",\"$U/node.key\",\"../u1/node.key\"]}" unconfined
check "unconfined, evil reads the node's configuration" is_ok "$WORK/unconfined" read "$U/spnd.conf"
check "and its key" is_ok "$WORK/unconfined" read "$U/node.key"
check "by a path relative to its data directory too" is_ok "$WORK/unconfined" read ../u1/node.key

evil "$E" "{\"do\":\"attack\",\"files\":[$FILES],\"outside\":\"$E/evil-out\",\"pid\":$SPND_PID}" attack
diag "$(cat "$WORK/attack")"
for f in ../e1/node.key "$E/node.key" "$E/spnd.conf" "$LEDGER" "$CAKEY" "/proc/$SPND_PID/environ"; do
	check "confined, evil cannot read $(basename "$f")" failed "$WORK/attack" read "$f"
done
check "nor write outside its data directory" failed "$WORK/attack" write_outside
check "where nothing was written" test ! -e "$E/evil-out"
check "while it writes in it" is_ok "$WORK/attack" write_data
check "where the file is" test -f "$WORK/e1-data/evil-data-probe"
for a in stop_parent proc_parent stop_found stop_pid kill_group ptrace peek socket; do
	check "evil's attempt $a fails" failed "$WORK/attack" "$a"
done
# Sanitizer runtimes reserve terabytes of address space and fork their
# symbolizer: their builds set no memory limit and let the host fork.
if grep -q -- '-fsanitize' "$top_builddir/Makefile"; then
	skip "fork and memory beyond its limit (a sanitizer build)"
else
	check "evil's attempt fork fails" failed "$WORK/attack" fork
	check "its address space is limited to [plugin.evil] memory" test "$(field "$WORK/attack" memory_limit)" = $((256 * 1024 * 1024))
	check "and it cannot take twice as much" failed "$WORK/attack" memory
fi
check "it runs with no new privileges" test "$(field "$WORK/attack" no_new_privs)" = 1
check "under a seccomp filter" test "$(field "$WORK/attack" seccomp)" = 2
[ "$(id -u)" = 0 ] && check "and, spnd being root, as another user" test "$(field "$WORK/attack" uid)" != 0
check "spnd was not stopped" not_stopped "$SPND_PID"
check "nor the PSP" not_stopped "$(cat "$P/pid")"
client "$E" echo='still here' >"$WORK/c1" 2>&1
check "the node answers another service" grep -q '"echo":"still here"' "$WORK/c1"

# Spinning: its CPU budget (2 s) ends it before its timeout (10 s).
t0=$(date +%s)
refuse "a plugin that spins is stopped and the client told" "error plugin_failed: plugin evil" client "$E" evil='{"do":"spin"}'
check "by its CPU limit, before its timeout" test $(($(date +%s) - t0)) -lt 9
check "spnd is not stopped" not_stopped "$SPND_PID"
client "$E" echo='after the spin' >"$WORK/c2" 2>&1
check "the node answers another service" grep -q '"echo":"after the spin"' "$WORK/c2"

# Flooding: two seconds of standard error as fast as it goes, forged
# lines included; the log grows by at most log_rate (4096) bytes a second
# of it, the node's own lines aside.
before=$(stat -c %s "$E/spnd.log")
t0=$(date +%s)
evil "$E" '{"do":"flood"}' flood
t1=$(date +%s)
check "the flood was answered" test "$(field "$WORK/flood" flooded)" -gt 1000000
diag "evil wrote $(field "$WORK/flood" flooded) bytes to its standard error; the log grew by $(($(stat -c %s "$E/spnd.log") - before))"
# wait until a second without the plugin's lines has passed (the count of
# what was dropped comes last), then measure.
settled() { sz=$(stat -c %s "$E/spnd.log"); sleep 0.1; [ "$sz" = "$(stat -c %s "$E/spnd.log")" ] && [ $(($(date +%s) - t1)) -ge 2 ]; }
wait_for 10 settled
grown=$(($(stat -c %s "$E/spnd.log") - before))
check "the log grew by at most log_rate a second ($grown bytes)" test "$grown" -le $(((t1 - t0 + 3) * 4096 + 8192))
check "no line of the log is forged" sh -c "! grep -q '^2030-01-01\|^FORGED' '$E/spnd.log'"
ESC=$(printf '\033')
check "nor holds a terminal escape" sh -c "! grep -q '$ESC' '$E/spnd.log'"
check "every line of evil's is marked as its" sh -c \
	"grep FORGED-BY-EVIL '$E/spnd.log' >'$WORK/forged' && ! grep -Ev '^[0-9T:.-]+Z (error|warn |info |debug) plugin evil( \\(stderr\\))?: ' '$WORK/forged'"
check "spnd is not stopped" not_stopped "$SPND_PID"
evil "$E" "{\"do\":\"attack\",\"files\":[$FILES],\"outside\":\"$E/evil-out\",\"pid\":$SPND_PID}" again
check "evil, started again, is still confined" failed "$WORK/again" read "$E/node.key"
client "$E" echo='at the end' >"$WORK/c3" 2>&1
check "and the node goes on serving" grep -q '"echo":"at the end"' "$WORK/c3"

# [plugin.<name>] connect: TCP to the ports listed and nothing else: no
# other port, and no socket Landlock's ports would not hold (UDP, MPTCP,
# SCTP, raw, packet, netlink, unix datagrams).
$PY -c "
import socket, sys, time
a, b = socket.socket(), socket.socket()
for s in (a, b):
    s.bind(('127.0.0.1', 0)); s.listen(8)
open(sys.argv[1] + '.tmp', 'w').write('%d %d' % (a.getsockname()[1], b.getsockname()[1]))
import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])
time.sleep(600)" "$WORK/listen.ports" &
check "two ports listen" wait_for 10 test -s "$WORK/listen.ports"
read -r ALLOWED OTHER <"$WORK/listen.ports"
check "sock1 joins with evil confined, allowed to connect to one of them" join "$WORK/sock1" "$P" spn 3 evil \
	"$(printf '[plugins]\nenable = evil\npath = %s/tests/plugins\nhost = %s/core/spn-plugin-host\n\n[plugin.evil]\ndata = ../sock1-data\nconnect = %s\n' "$top_builddir" "$top_builddir" "$ALLOWED")"
evil "$WORK/sock1" "{\"do\":\"sockets\",\"allowed\":$ALLOWED,\"other\":$OTHER}" sockets
diag "$(cat "$WORK/sockets")"
check "it connects to the port listed" is_ok "$WORK/sockets" tcp_allowed
if [ "$($PY -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))')" -ge 4 ]; then
	check "and not to another" failed "$WORK/sockets" tcp_other
else
	skip "this kernel's Landlock holds no TCP ports (before Linux 6.7)"
fi
for a in udp mptcp sctp raw packet netlink unix_dgram; do
	check "its $a socket is refused" failed "$WORK/sockets" "$a"
done

# A grant that would reach the node's own files is refused at start.
node_stop "$U"
chmod 600 "$U/node.key"
printf '\n[plugins]\nenable = evil\npath = %s/tests/plugins\nhost = %s/core/spn-plugin-host\n\n[plugin.evil]\ndata = .\n' \
	"$top_builddir" "$top_builddir" >"$WORK/extra"
sed -i '/^\[plugins\]/,$d' "$U/spnd.conf"
cat "$WORK/extra" >>"$U/spnd.conf"
refuse "a data directory holding the node's files is refused" "plugin evil: its data directory .* holds" \
	timeout 20 "$SPND" -c "$U/spnd.conf"
if [ "$(id -u)" = 0 ]; then
	sed -i 's/^data = \.$/data = ..\/u1-data/; s/^\[plugins\]$/[plugins]\nuser = no-such-user/' "$U/spnd.conf"
	refuse "spnd as root refuses a plugin user that does not exist" "\[plugins\] user: no user 'no-such-user'" \
		timeout 20 "$SPND" -c "$U/spnd.conf"
	sed -i 's/^user = no-such-user$/user = root/' "$U/spnd.conf"
	refuse "and to run plugins as root" "\[plugins\] user: 'root' is root" timeout 20 "$SPND" -c "$U/spnd.conf"
fi
