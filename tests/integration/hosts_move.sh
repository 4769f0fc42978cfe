#!/bin/sh
# A member that moves to another address. Its certificate names the address
# it was enrolled at, and renewal keeps the names: at the new address it is
# enrolled again, with the same node id, and the group routes to it there.
#   psp ── adm-a ── lab-1 (lab), at .3, then at .13;  desk (a client)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hosts.sh"
hosts_init
hosts() { segment 0 && host_add psp 0 1 && host_add adm-a 0 2 && host_add lab-1 0 3 && host_add desk 0 5; }
check "four hosts on one segment" hosts
P="$WORK/psp"; A="$WORK/adm-a"; L="$WORK/lab-1"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" move
check "adm-a joins" join "$A" "$P" admin 8 ""
check "lab-1 joins below adm-a" join "$L" "$A" spn 5 lab "$(echo_for lab)"
check "the desk gets its client certificate" client_cert "$WORK/desk" desk-1 "$A"
CLIENT_AT="$WORK/desk"
# url_of DIR NODE: the URL DIR's registry holds for its child NODE.
url_of() {
	tree_of "$1" | $PY -c "import json,sys; print([c['url'] for c in json.load(sys.stdin)['children'] if c['node'] == sys.argv[1]][0])" "$2"
}
at() { test "$(url_of "$A" lab-1)" = "$1"; }
old="https://$HOSTS_NET.0.3:$(cat "$L/spnd.port")"
check "adm-a holds lab-1 at $old" wait_for 10 at "$old"
answered() { # answered N OUT: the desk's call through adm-a echoed by lab-1
	client "$A" --cert "$WORK/desk/node.crt" --key "$WORK/desk/node.key" lab="{\"n\":$1}" >"$2" 2>&1 &&
		answer_is "$2" lab echo "{\"n\":$1}" && answer_is "$2" lab node lab-1
}
check "the desk's call is answered by lab-1" answered 1 "$WORK/c1"

node_stop "$L"
gone() { ! registry_has "$P" lab-1; }
check "stopped, lab-1 leaves the PSP's registry" wait_for 5 gone
check "lab-1 moves to .13" host_move lab-1 0 13
# Its certificate names .3: spnd refuses to start at .13 with it, rather
# than register where its parent could not call it.
sed -i "s/^listen = .*/listen = $HOSTS_NET.0.13/" "$L/spnd.conf"
# started DIR: node_start, the log's last line alone when it fails.
started() { node_start "$1" >/dev/null || { tail -n 1 "$1/spnd.log"; return 1; }; }
refuse "with its old certificate, lab-1 does not start at .13" "names $HOSTS_NET\.0\.3, not $HOSTS_NET\.0\.13" started "$L"

# Enrolled again at .13, as a node id that holds a valid certificate
# cannot be: the certificate for .3 is revoked first, then lab-1 enrolls
# into a new directory (a new key, a certificate naming .13), with a new
# token for the same node id below the same parent.
serial=$(openssl x509 -in "$L/node.crt" -noout -serial | cut -d= -f2)
check "the PSP revokes the certificate for .3" ctl revoke -c "$P/spnd.conf" "$serial" --reason superseded
check "adm-a refuses it" wait_for 5 refused_by "$A" "$L"
L2="$WORK/moved/lab-1"
mkdir "$WORK/moved"
check "lab-1 enrolls again at .13 and starts" join "$L2" "$A" spn 5 lab "$(echo_for lab)"
new="https://$HOSTS_NET.0.13:$(cat "$L2/spnd.port")"
check "adm-a holds lab-1 at $new" wait_for 10 at "$new"
check "the PSP lists lab-1 again" wait_for 10 registry_has "$P" lab-1
check "the desk's call is answered by lab-1 at its new address" answered 2 "$WORK/c2"
