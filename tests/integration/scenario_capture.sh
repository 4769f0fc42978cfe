#!/bin/sh
# The reference scenario with TLS switched off between all nodes, every
# byte on loopback captured: the routers and the wire see where sections go
# and nothing of what they say, neither the wristband's nor what the
# services say to each other (the referral, the prescription, the payment)
# nor their replies.
. "$top_srcdir/tests/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null 2>&1; then
	skip "capturing loopback needs root and tcpdump (tests/scripts/deps-debian.sh test installs it)"
	exit 0
fi
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts on plain HTTP" plain_psp "$P" care
IBAN=DE02120300000000202051
check "admin-care joins" pjoin "$WORK/admin-care" "$P" admin 8 ""
check "admin-east joins" pjoin "$WORK/admin-east" "$P" admin 8 ""
check "healthcare-1 joins" pjoin "$WORK/healthcare-1" "$WORK/admin-care" spn 6 healthcare "$(plugins healthcare)"
check "hospital-1 joins" pjoin "$WORK/hospital-1" "$WORK/admin-care" spn 6 hospital "$(plugins hospital)"
check "pharmacy-1 joins" pjoin "$WORK/pharmacy-1" "$WORK/admin-east" spn 5 pharmacy "$(plugins pharmacy)"
check "bank-1 joins" pjoin "$WORK/bank-1" "$P" spn 7 bank "$(plugins bank "$(printf '[plugin.bank]\ndata = ../bank-1-data\nseed = %s:Ada Muster:100.00' "$IBAN")")"
check "the wristband enrolls" pjoin "$WORK/band" "$P" client 1 ""
up() { for n in healthcare-1 hospital-1 pharmacy-1 bank-1; do
	"$SPNCTL" tree -c "$P/spnd.conf" --url "$(purl "$P")" | grep -q " $n " || return 1; done; }
check "the tree is up" wait_for 10 up

capture_start
scenario_send "$(purl "$WORK/admin-east")" "$IBAN"
capture_stop
check "the scenario runs on plain HTTP: the bank authorised, the pharmacy delivers" \
	sh -c "grep -q '^bank from bank-1: {\"status\":\"authorised\"' '$WORK/c' && grep -q '\"status\":\"delivering\"' '$WORK/c'"
$PY "$top_srcdir/tests/integration/pcap_grep.py" "$WORK/lo.pcap" '"kind":"section"' '"node":"bank-1"' \
	"$IBAN" 'Ada Muster' 'Rue de la Gare' '"pulse"' 'suspected pneumonia' 'amoxicillin' '"payee"' 'authorised' >"$WORK/found"
diag "$(tr '\n' '|' <"$WORK/found")"
count() { awk -v s="$1" 'index($0, s) { print $1; exit }' "$WORK/found"; }
check "the capture holds the routing in the clear (the control)" test "$(count '"kind":"section"')" -gt 0
check "including sections headed for the bank" test "$(count '"node":"bank-1"')" -gt 0
for s in "$IBAN" 'Ada Muster' 'Rue de la Gare' '"pulse"' 'suspected pneumonia' 'amoxicillin' '"payee"' 'authorised'; do
	check "no connection carries $s" test "$(count "$s")" = 0
done
