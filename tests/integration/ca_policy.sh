#!/bin/sh
# The PSP's CA policy hooks, as a plugin (plugins/policy): an enrollment
# for a service its administrator may not grant is refused before anything
# is issued; certificates are cut to the policy's validity; every issuance
# is observed. A hooks-only plugin runs on the PSP only.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
POLICY="[plugins]
enable = policy
path = $top_builddir/plugins/policy
host = $top_builddir/core/spn-plugin-host

[plugin.policy]
allow = adm1:hospital|pharmacy
max_validity = 3600"
new_group "$P" care || exit 1
printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n\n%s\n\n%s\n' "$TREE_SETTINGS" "$POLICY" >>"$P/spnd.conf"
check "the PSP starts with the policy plugin" node_start "$P"
check "which has CA policy hooks and provides no service" grep -q 'plugin policy: started (process [0-9]*), with CA policy hooks' "$P/spnd.log"
check "adm1 joins (the PSP, not listed, may grant anything)" join "$WORK/adm1" "$P" admin 8 ""
check "h1 joins through adm1 for hospital, which adm1 may grant" join "$WORK/h1" "$WORK/adm1" spn 3 hospital "$(echo_for hospital)"
# notBefore is set back a minute for clocks that lag; notAfter is what the
# policy cuts.
left=$(( $(date -d "$(openssl x509 -in "$WORK/h1/node.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ))
check "its certificate was cut to the policy's hour (it ends in $left s)" test "$left" -le 3600
check "the cut was logged" grep -q 'plugin policy: h1: validity cut from [0-9]*s to 3600s' "$P/spnd.log"
check "and the issuance observed, with what it grants" grep -q 'plugin policy: issued [0-9a-f]* to h1 (spn, trust 3, services hospital, 3600s) accepted by adm1' "$P/spnd.log"
before=$(ledger_count "$P/ledger.db")
tok=$(mint "$WORK/adm1" b1 spn 3 bank)
refuse "an enrollment for a service adm1 may not grant is refused, saying why" \
	"refused by policy: adm1 may not grant service bank \(plugin policy\)" \
	"$SPNCTL" enroll --url "$(node_url "$WORK/adm1")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$WORK/b1"
check "and nothing was issued" test "$(ledger_count "$P/ledger.db")" = "$before"
tok=$(mint "$WORK/adm1" m1 spn 3 hospital,bank)
refuse "nor for a mix of allowed and not" "adm1 may not grant service bank" \
	"$SPNCTL" enroll --url "$(node_url "$WORK/adm1")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$WORK/m1"
check "the PSP is still serving" join "$WORK/p1" "$WORK/adm1" spn 3 pharmacy "$(echo_for pharmacy)"

# On any other node a hooks-only plugin has nothing to do: refused.
node_stop "$WORK/p1"
sed -i "s|^enable = echo\$|enable = echo, policy|; s|^\(path = .*/plugins/echo\)\$|\1:$top_builddir/plugins/policy|" "$WORK/p1/spnd.conf"
printf '\n[plugin.policy]\nallow = adm1:hospital\n' >>"$WORK/p1/spnd.conf"
if timeout 20 "$SPND" -c "$WORK/p1/spnd.conf" >"$WORK/p1.out" 2>&1; then not_ok "a hooks-only plugin off the PSP is refused"
else check "a hooks-only plugin off the PSP is refused" grep -q 'plugin policy has CA policy hooks only, which run on the PSP only' "$WORK/p1.out"; fi
