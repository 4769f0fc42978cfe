#!/bin/sh
# The reference scenario (scenario.sh, whose checks run here unchanged) with
# every node on a host of its own, one segment between them, and the
# wristbands on hosts of their own too: the group works between machines as
# it does on one.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/hosts.sh"
hosts_init
hosts() {
	segment 0 || return 1
	n=1
	for h in psp admin-care admin-east healthcare-1 hospital-1 pharmacy-1 bank-1 band band8; do
		host_add $h 0 $n || return 1
		n=$((n + 1))
	done
}
check "nine hosts on one segment" hosts
CLIENT_AT="$WORK/band"
. "$top_srcdir/tests/integration/scenario.sh"
