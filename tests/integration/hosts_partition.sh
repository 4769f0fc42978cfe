#!/bin/sh
# A site cut off from the PSP, and healed: the administrator's subtree keeps
# serving the calls that stay inside it, the PSP drops the administrator and
# its subtree once their heartbeats stop, and they are back in its registry
# after the heal, reachable from the rest of the group again; a revocation
# made meanwhile reaches the site with the heal.
#   segment 1 (core):  psp, hq (a client)       ─┐
#                                               router
#   segment 0 (site):  adm-a ─┬─ lab-1 (lab)    ─┘
#                             └─ rec-1 (records)
#                      desk (a client)
# The cut is at the router's link into the core: the site still reaches
# itself, and only the site.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hosts.sh"
hosts_init
hosts() {
	segment 0 && segment 1 && router gw 0 1 1 1 &&
	host_add psp 1 2 1 && host_add hq 1 3 1 &&
	host_add adm-a 0 2 1 && host_add lab-1 0 3 && host_add rec-1 0 4 && host_add desk 0 5
}
check "two segments joined by a router" hosts
P="$WORK/psp"; A="$WORK/adm-a"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" site
check "adm-a joins from the site, through the router" join "$A" "$P" admin 8 ""
check "lab-1 joins below adm-a" join "$WORK/lab-1" "$A" spn 5 lab "$(echo_for lab)"
check "rec-1 joins below adm-a" join "$WORK/rec-1" "$A" spn 5 records "$(echo_for records)"
check "the desk gets its client certificate" client_cert "$WORK/desk" desk-1 "$A"
check "hq gets its client certificate" client_cert "$WORK/hq" hq-1 "$P"
site() { for n in adm-a lab-1 rec-1; do registry_has "$P" $n || return 1; done; }
check "the PSP lists adm-a, lab-1 and rec-1" wait_for 10 site

# call AT ENTRY N OUT: the client on AT's host, entering at ENTRY, sends N
# to lab and records; its output is in OUT.
call() {
	CLIENT_AT="$WORK/$1" client "$WORK/$2" --cert "$WORK/$1/node.crt" --key "$WORK/$1/node.key" \
		lab="{\"n\":$3}" records="{\"n\":$3}" >"$4" 2>&1
}
# answered ...: call's arguments; lab-1 and rec-1 echoed what was sent.
answered() {
	call "$@" && answer_is "$4" lab echo "{\"n\":$3}" && answer_is "$4" lab node lab-1 &&
		answer_is "$4" records echo "{\"n\":$3}" && answer_is "$4" records node rec-1
}
check "before the cut, hq's calls through the PSP reach the site" answered hq psp 1 "$WORK/hq1"
diag "$(cat "$WORK/hq1")"

link_down gw 1
gone() { for n in adm-a lab-1 rec-1; do ! registry_has "$P" $n || return 1; done; }
check "cut off, adm-a and its subtree leave the PSP's registry once their heartbeats stop" wait_for 5 gone
call hq psp 2 "$WORK/hq2"
diag "$(cat "$WORK/hq2")"
none() { answer_is "$1" lab error no_provider && answer_is "$1" records error no_provider; }
check "and hq's calls through the PSP find no provider" none "$WORK/hq2"
both() { registry_has "$A" lab-1 && registry_has "$A" rec-1; }
check "adm-a still lists lab-1 and rec-1" both
for i in 3 4 5; do
	check "during the cut, the desk's call $i through adm-a is answered by lab-1 and rec-1" answered desk adm-a $i "$WORK/desk$i"
done
check "and one entering at lab-1 reaches rec-1 through adm-a" answered desk lab-1 6 "$WORK/desk6"
check "the cut lasted through them: the PSP still lists none of the site" gone
# A revocation on the cut-off side's behalf waits for the heal.
serial=$(openssl x509 -in "$WORK/desk/node.crt" -noout -serial | cut -d= -f2)
check "the PSP revokes the desk's certificate during the cut" ctl revoke -c "$P/spnd.conf" "$serial"
check "the site has not heard of it: adm-a still answers the desk" answered desk adm-a 7 "$WORK/desk7"

link_up gw 1
check "healed, adm-a registers again with lab-1 and rec-1" wait_for 10 site
check "hq's calls through the PSP reach the site again" answered hq psp 8 "$WORK/hq8"
check "and the revocation crosses with the heal: adm-a refuses the desk" wait_for 10 refused_by "$A" "$WORK/desk"
