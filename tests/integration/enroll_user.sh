#!/bin/sh
# spnctl enroll --user hands the node's directory to the user its service
# runs as; and a node laid out as under spnd@.service (the configuration in
# a directory it cannot write, every path into its state directory, as
# doc/operator-guide.md relocates it) runs as that user.
. "$top_srcdir/tests/lib.sh"
if [ "$(id -u)" != 0 ]; then
	skip "handing files to another user needs root"
	exit 0
fi
P="$WORK/psp"; CA="$P/ca/root.crt"; N="$WORK/state/a1"; E="$WORK/etc/a1"
check "the PSP starts" psp_start "$P" grp
mkdir -m 0711 "$WORK/state" "$WORK/etc"
tok=$(mint "$P" a1 admin 8 "")
enroll() { "$SPNCTL" enroll --url "$(node_url "$P")" --fingerprint "$(root_fpr "$P/ca/root.crt")" --token "$tok" -d "$N" "$@"; }
refuse "a user that does not exist is refused" "no user" enroll --user no-such-user-here
check "before the token is spent: the same token then enrolls, for nobody" enroll --user nobody
check "the directory is nobody's, mode 0700" test "$(stat -c '%U %a' "$N")" = "nobody 700"
check "the key is nobody's, mode 0600" test "$(stat -c '%U %a' "$N/node.key")" = "nobody 600"
check "so is every file in it" test -z "$(find "$N" ! -user nobody)"

# The guide's relocation, with this node's directories in place of
# /etc/spn/a1 and /var/lib/spn/a1.
install -d -m 0755 "$E"
sed -E "s#^(key|cert|root|ledger|crl|port_file) = ([^/])#\1 = $N/\2#" "$N/spnd.conf" >"$E/spnd.conf" && rm "$N/spnd.conf"
printf '\n%s\n' "$TREE_SETTINGS" >>"$E/spnd.conf"
check "the relocated configuration passes spnd --check-config" "$SPND" --check-config -c "$E/spnd.conf"
mkdir "$WORK/a1"
setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups "$SPND" -c "$E/spnd.conf" >>"$WORK/a1/spnd.log" 2>&1 &
echo $! >"$WORK/a1/pid"
check "spnd runs as nobody, writing only in its state directory" wait_for 10 test -s "$N/spnd.port"
is "it serves" 200 "" "https://127.0.0.1:$(cat "$N/spnd.port" 2>/dev/null)/v1/health"
check "it registers with the PSP" wait_for 10 registry_has "$P" a1
check "nothing was written next to its configuration" test "$(ls "$E")" = spnd.conf
node_stop "$WORK/a1"
exit $_failed
