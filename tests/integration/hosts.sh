# Hosts for the tests of a group spread over several machines, sourced after
# tests/lib.sh: each node in a network namespace of its own, with an address
# on a segment (a bridge) and links that can be cut, healed and readdressed.
#
# The bridges live in a namespace of their own (the switch), so that this
# host's interfaces, routes and firewall are neither changed nor in the way:
# a bridge here would pass its frames through this host's iptables. A test
# that cannot make namespaces says so in one skip line and exits 0.

HOSTS="$WORK/.hosts"
# Names unique to this run, so that two tests can run at once.
HOSTS_PFX="spn$$"
HOSTS_NET="10.$(($$ % 200 + 20))"
HOSTS_SW="$HOSTS_PFX-sw"
_hosts_ns=""
_hosts_ports=0

_hosts_cleanup() {
	# The shell would report each daemon killed, as it reaps it.
	exec 2>/dev/null
	# The daemons first (plugins included, which run as another user): a
	# namespace goes, with its links, once nothing runs in it.
	for _hn in $_hosts_ns; do ip netns pids "$_hn" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
	for _hn in $_hosts_ns; do ip netns del "$_hn" 2>/dev/null; done
	_cleanup
}

# hosts_init: the switch, or a skip when namespaces cannot be made here.
hosts_init() {
	why=""
	if [ "$(id -u)" != 0 ]; then why="network namespaces need root"
	elif ! command -v ip >/dev/null 2>&1; then why="no ip command (iproute2; tests/scripts/deps-debian.sh test installs it)"
	elif ! ip netns add "$HOSTS_SW" 2>"$WORK/netns.err"; then why="ip netns add refused: $(head -n 1 "$WORK/netns.err")"
	fi
	if [ -n "$why" ]; then
		skip "a group over several hosts: $why"
		exit 0
	fi
	_hosts_ns=$HOSTS_SW
	trap _hosts_cleanup EXIT
	mkdir -p "$HOSTS"
	ip -n "$HOSTS_SW" link set lo up
}

# segment SEG: a bridge for the addresses $HOSTS_NET.SEG.0/24.
segment() { ip -n "$HOSTS_SW" link add "b$1" type bridge && ip -n "$HOSTS_SW" link set "b$1" up; }

# host_add NAME SEG N [GW]: the host of the node NAME (the basename of its
# directory) at $HOSTS_NET.SEG.N, routing the rest through .GW.
host_add() {
	_hn="$HOSTS_PFX-$1"
	ip netns add "$_hn" || return 1
	_hosts_ns="$_hosts_ns $_hn"
	mkdir -p "$HOSTS/$1" && echo "$_hn" >"$HOSTS/$1/ns" && echo "$HOSTS_NET.$2.$3" >"$HOSTS/$1/addr" &&
	ip -n "$_hn" link set lo up && host_link "$1" "$2" "$3" || return 1
	[ -z "${4:-}" ] || ip -n "$_hn" route add default via "$HOSTS_NET.$2.$4"
}

# host_link NAME SEG N: one more link of NAME, into SEG, at .N.
host_link() {
	_hn=$(cat "$HOSTS/$1/ns") _he="eth$(ls "$HOSTS/$1" | grep -c '^port\.')"
	_hosts_ports=$((_hosts_ports + 1))
	_hp="p$_hosts_ports"
	echo "$_hp" >"$HOSTS/$1/port.$2" && echo "$_he" >"$HOSTS/$1/eth.$2" &&
	ip -n "$HOSTS_SW" link add "$_hp" type veth peer name "$_he" netns "$_hn" &&
	ip -n "$HOSTS_SW" link set "$_hp" master "b$2" up &&
	ip -n "$_hn" addr add "$HOSTS_NET.$2.$3/24" dev "$_he" && ip -n "$_hn" link set "$_he" up
}

# router NAME SEG_A N_A SEG_B N_B: a host on two segments that forwards
# between them.
router() {
	host_add "$1" "$2" "$3" && host_link "$1" "$4" "$5" &&
	ip netns exec "$(cat "$HOSTS/$1/ns")" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
}

# link_down NAME SEG, link_up NAME SEG: the cable of NAME's link into SEG,
# pulled out at the switch and plugged in again.
link_down() { ip -n "$HOSTS_SW" link set "$(cat "$HOSTS/$1/port.$2")" down; }
link_up() { ip -n "$HOSTS_SW" link set "$(cat "$HOSTS/$1/port.$2")" up; }

# host_move NAME SEG N: NAME's link into SEG gets the address .N instead of
# the one it had.
host_move() {
	_hn=$(cat "$HOSTS/$1/ns") _he=$(cat "$HOSTS/$1/eth.$2")
	ip -n "$_hn" addr flush dev "$_he" && ip -n "$_hn" addr add "$HOSTS_NET.$2.$3/24" dev "$_he" &&
	echo "$HOSTS_NET.$2.$3" >"$HOSTS/$1/addr"
}

# refused_by AT DIR: the node in AT answers 403 to the certificate in DIR,
# presented from DIR's host.
refused_by() {
	[ "$($(on_host "$2") curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' $(as "$2") "$(node_url "$1")/v1/tree")" = 403 ]
}

# lib.sh's hooks: a node whose name has a host runs there, at its address.
on_host() { n=$(basename "$1"); [ ! -f "$HOSTS/$n/ns" ] || echo "ip netns exec $(cat "$HOSTS/$n/ns")"; }
addr_of() { n=$(basename "$1"); if [ -f "$HOSTS/$n/addr" ]; then cat "$HOSTS/$n/addr"; else echo 127.0.0.1; fi; }
