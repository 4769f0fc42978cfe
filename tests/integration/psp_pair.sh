#!/bin/sh
# Two PSPs, one group, one PostgreSQL ledger (node_lease.c): one is active
# (it holds the lease in the ledger), the other answers 503 standby. An
# administrator that knows both addresses follows the active one. The
# active PSP killed with SIGKILL: the other takes the lease, signs a CRL
# whose number goes on from the last, and rebuilds the registry from the
# children's heartbeats; a revocation recorded by either PSP's
# configuration reaches every node's CRL within a second of being
# recorded; the first PSP, back, stays on standby.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/pg.sh"
pg_need || exit 0
P1="$WORK/psp"; P2="$WORK/psp2"; CA="$P1/ca/root.crt"; A="$WORK/adm"; M="$WORK/m1"

check "a PostgreSQL server starts" pg_init db 5435
check "with a database for the ledger" pg_createdb db 5435
URI=$(pg_uri db 5435)
check "spnctl init makes the group's ledger there" ctl init -d "$P1" -g care --ledger "$URI"
cp -a "$P1" "$P2"
for p in "$P1" "$P2"; do
	sed -i 's/^token_ttl = .*/token_ttl = 1h\nlease_ms = 1500/' "$p/spnd.conf"
	printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n\n%s\n' "$TREE_SETTINGS" >>"$p/spnd.conf"
done
# crl_status DIR: the HTTP status of DIR's CRL (503 on standby).
crl_status() { curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$(node_url "$1")/v1/crl"; }
active() { test "$(crl_status "$1")" = 200; }
standby() { test "$(crl_status "$1")" = 503; }
check "psp starts" node_start "$P1"
check "and becomes the active PSP" wait_for 10 active "$P1"
check "psp2 starts" node_start "$P2"
check "and stays on standby" standby "$P2"
check "which it says as such" sh -c "curl -s --cacert '$CA' '$(node_url "$P2")/v1/crl' | grep -q '\"error\":\"standby\"'"
check "its health still answers" sh -c "curl -s -o /dev/null -w '%{http_code}' --cacert '$CA' '$(node_url "$P2")/v1/health' | grep -q '^[25]0[03]$'"

check "adm joins" join "$A" "$P1" admin 8 ""
check "m1 joins below it" join "$M" "$A" spn 3 echo "$(plugins echo)"
# adm knows both PSPs, psp first; it keeps its port, which m1 knows.
port=$(cat "$A/spnd.port")
node_stop "$A"
sed -i "s|^parent = .*|parent = $(node_url "$P1"), $(node_url "$P2")|; s|^port = 0$|port = $port|" "$A/spnd.conf"
check "adm starts again, knowing both PSPs" node_start "$A"
known() { registry_has "$1" adm && registry_has "$1" m1; }
check "psp's registry has adm and m1" wait_for 10 known "$P1"
crl_number() { curl -sS --cacert "$CA" "$(node_url "$1")/v1/crl" | openssl crl -noout -crlnumber | sed 's/.*=//'; }
before=$(crl_number "$A")
diag "adm holds CRL number $before"

# --- the active PSP dies --------------------------------------------------
kill -9 "$(cat "$P1/pid")"
check "psp2 takes the lease and becomes active" wait_for 10 active "$P2"
check "adm turns to psp2, which lists it and m1 again" wait_for 10 known "$P2"
after=$(crl_number "$P2")
check "psp2's CRL number goes on from the last ($before -> $after)" test "$((after))" -gt "$((before))"
client "$A" echo=still >"$WORK/still" 2>&1
check "the group serves through adm" grep -q '"echo":"still"' "$WORK/still"

# --- revocations, whichever PSP's configuration records them ------------
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
lists() { curl -sS --cacert "$CA" "$(node_url "$1")/v1/crl" | openssl crl -noout -text | grep -qix " *serial number: $2"; }
check "a client c1 is enrolled" client_cert "$WORK/c1" c1 "$A"
check "and c2" client_cert "$WORK/c2" c2 "$A"
s1=$(serial_of "$WORK/c1/node.crt"); s2=$(serial_of "$WORK/c2/node.crt")
t0=$(date +%s%N)
check "c1 is revoked with psp2's configuration" ctl revoke -c "$P2/spnd.conf" --reason keyCompromise "$s1"
all_list() { lists "$P2" "$1" && lists "$A" "$1" && lists "$M" "$1"; }
check "psp2, adm and m1 list it within a second" wait_for 1 all_list "$s1"
diag "c1's revocation reached m1 in $((($(date +%s%N) - t0) / 1000000)) ms"
check "c2 is revoked with the dead psp's configuration (the same ledger)" ctl revoke -c "$P1/spnd.conf" --reason superseded "$s2"
check "psp2, adm and m1 list it within a second" wait_for 1 all_list "$s2"

# --- psp comes back ---------------------------------------------------------
check "psp starts again" node_start "$P1"
check "on standby: psp2 holds the lease" wait_for 5 standby "$P1"
check "and psp2 is still the active one" active "$P2"
