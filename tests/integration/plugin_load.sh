#!/bin/sh
# The plugin loader refuses, before spnd serves anything, every plugin it
# cannot run as configured, naming the plugin, its file or its
# configuration line, and the reason; and a plugin built outside spn's tree
# with pkg-config and the installed header is loaded and serves.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
check "the PSP starts" psp_start "$P" care
tok=$(mint "$P" e1 spn 3 echo)
check "e1 enrolls (providing echo)" "$SPNCTL" enroll --url "$(node_url "$P")" --fingerprint "$(root_fpr "$CA")" \
	--token "$tok" -d "$WORK/e1"
cp "$WORK/e1/spnd.conf" "$WORK/e1/base.conf"
TP="$top_builddir/tests/plugins"
EP="$top_builddir/plugins/echo"
HOST="$top_builddir/core/spn-plugin-host"

# with EXTRA: e1's configuration with EXTRA appended.
with() { cp "$WORK/e1/base.conf" "$WORK/e1/spnd.conf"; printf '\n%s\n' "$1" >>"$WORK/e1/spnd.conf"; }
# refused NAME PATTERN: spnd must stop at once, saying PATTERN.
refused() {
	if timeout 20 "$SPND" -c "$WORK/e1/spnd.conf" >"$WORK/out" 2>&1; then
		not_ok "$1 (spnd ran)"
	elif grep -Eq "$2" "$WORK/out"; then
		ok "$1"; diag "$(grep -E "$2" "$WORK/out" | head -n 1)"
	else
		not_ok "$1 (wrong message)"; sed 's/^/#   /' "$WORK/out"
	fi
}
plugins_from() { printf '[plugins]\nenable = %s\npath = %s\nhost = %s\n%s' "$1" "$2" "$HOST" "${3:-}"; }

with "$(plugins_from nosuch "$EP")"
refused "a plugin that is not there" "plugin nosuch: cannot be loaded from .*plugins/echo: file not found"
with "$(plugins_from nodesc "$TP")"
refused "a shared object without a descriptor" "plugin nodesc: .*nodesc.* no plugin descriptor \(nodesc_LTX_spn_plugin"
with "$(plugins_from badabi "$TP")"
refused "a plugin built for another ABI" "plugin badabi: built for plugin ABI 2.0; this spnd takes 1.0 to 1.2"
with "$(plugins_from misnamed "$TP")"
refused "a plugin whose descriptor names another" "plugin misnamed: its descriptor names it 'someone-else', not 'misnamed'"
with "$(plugins_from initfail "$TP" "$(printf '\n[plugin.initfail]\nlimit = 5\n')")"
refused "a required option missing" "\[plugin.initfail\] ledger: required by plugin initfail"
with "$(plugins_from initfail "$TP" "$(printf '\n[plugin.initfail]\nledger = x.db\nlimit = 500\n')")"
refused "an option out of its range, with file and line" "spnd.conf:[0-9]+: \[plugin.initfail\] limit: .*500"
with "$(plugins_from initfail "$TP" "$(printf '\n[plugin.initfail]\nledger = x.db\ncolour = blue\n')")"
refused "an option the plugin does not declare" "spnd.conf:[0-9]+: \[plugin.initfail\] colour: unknown key"
with "$(plugins_from initfail "$TP" "$(printf '\n[plugin.initfail]\nledger = x.db\ndata = ../initfail-data\n')")"
refused "a plugin whose init refuses, with its reason from its log" "plugin initfail: cannot open .*/initfail-data/x.db: refusing to start"
with "$(plugins_from echo "$EP" "$(printf '\n[plugin.bank]\naccounts = a.db\n')")"
refused "a section for a plugin that is not enabled" "\[plugin.bank\] configures a plugin that \[plugins\] enable does not list"
with "$(plugins_from 'echo, echo' "$EP")"
refused "a plugin enabled twice" "echo is listed twice"
with "$(plugins_from echo "$EP" "$(printf '\n[plugin.echo]\nfaults = maybe\n')")"
refused "a bad boolean" "spnd.conf:[0-9]+: \[plugin.echo\] faults: expected true or false"
# concurrency: spnd's own key, the plugin's processes at most, 1 to 64.
with "$(plugins_from echo "$EP" "$(printf '\n[plugin.echo]\nconcurrency = 0\n')")"
refused "no process at all, with file and line" \
	"spnd.conf:[0-9]+: \[plugin.echo\] concurrency: expected an integer between 1 and 64, got '0'"
with "$(plugins_from echo "$EP" "$(printf '\n[plugin.echo]\nconcurrency = 65\n')")"
refused "more processes than 64" "spnd.conf:[0-9]+: \[plugin.echo\] concurrency: expected an integer between 1 and 64, got '65'"
with "$(plugins_from echo "$EP" "$(printf '\n[plugin.echo]\nconcurrency = four\n')")"
refused "a concurrency that is no number" "spnd.conf:[0-9]+: \[plugin.echo\] concurrency: expected an integer"
with "$(plugins_from echo "$EP")"
sed -i 's/^host = .*/host = \/nonexistent\/spn-plugin-host/' "$WORK/e1/spnd.conf"
refused "a plugin host that is not there" "plugin echo: cannot start /nonexistent/spn-plugin-host"
check "nothing was left running" sh -c "! pgrep -f '^$SPND -c $WORK/e1/spnd.conf'"

# spnd's own key services: it only narrows what a plugin provides (the
# echo plugin takes any service), and a bad value names file, section, key.
# narrowed PLUGIN DIR VALUE: e1 running PLUGIN with [plugin.PLUGIN] services = VALUE.
narrowed() { with "$(plugins_from "$1" "$2" "$(printf '\n[plugin.%s]\nservices = %s\n' "$1" "$3")")"; }
narrowed ping "$TP" pong
refused "services naming one the plugin does not provide" "spnd.conf: \[plugin.ping\] services: plugin ping does not provide pong"
narrowed echo "$EP" "echo, Bad/Name"
refused "services naming no service" "spnd.conf: \[plugin.echo\] services: 'Bad/Name' is not a service name"
narrowed echo "$EP" ""
refused "services empty" "spnd.conf:[0-9]+: \[plugin.echo\] services: must not be empty"

# spnd answers no service itself: each one the certificate lists needs an
# enabled plugin, or the node does not start, naming what is missing.
with ""
refuse "a node whose certificate lists a service no plugin provides does not start" \
	"service echo, which no enabled plugin provides" timeout 20 "$SPND" -c "$WORK/e1/spnd.conf"
tok=$(mint "$P" x2 spn 3 hospital,bank,pharmacy)
"$SPNCTL" enroll --url "$(node_url "$P")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$WORK/x2" >/dev/null
printf '\n%s\n' "$(plugins_from echo "$EP" "$(printf '\n[plugin.echo]\nservices = hospital\n')")" >>"$WORK/x2/spnd.conf"
refuse "nor one where a plugin provides some of them: the rest are named" \
	"services bank, pharmacy, which no enabled plugin provides" timeout 20 "$SPND" -c "$WORK/x2/spnd.conf"
check "nothing was left running" sh -c "! pgrep -f '^$SPND -c $WORK/x2/spnd.conf'"

# A node whose certificate does not list the plugin's service.
tok=$(mint "$P" x1 spn 3 hospital)
"$SPNCTL" enroll --url "$(node_url "$P")" --fingerprint "$(root_fpr "$CA")" --token "$tok" -d "$WORK/x1" >/dev/null
printf '\n%s\n' "$(plugins_from echo "$EP")" >>"$WORK/x1/spnd.conf"
if timeout 20 "$SPND" -c "$WORK/x1/spnd.conf" >"$WORK/x1.out" 2>&1; then not_ok "a plugin for a service the node may not provide"
else check "a plugin for a service the node may not provide" grep -q "plugin echo provides echo, which this node's certificate does not list (it lists: hospital)" "$WORK/x1.out"; fi

# Out of the tree: the installed header and spn-plugin.pc, nothing else.
make -s -C "$top_builddir" install-spnincludeHEADERS install-pkgconfigDATA DESTDIR="$WORK/inst" >"$WORK/out" 2>&1
pc=$(find "$WORK/inst" -name spn-plugin.pc | head -n 1)
check "spn-plugin.pc and the header install" test -n "$pc"
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$WORK/inst"
check "pkg-config says where plugins go" sh -c "pkg-config --variable=plugindir spn-plugin | grep -q '/lib/spn/plugins\$'"
mkdir -p "$WORK/ext"
check "a plugin builds with nothing but pkg-config" \
	cc -shared -fPIC -Wall -Werror $(pkg-config --cflags spn-plugin) -o "$WORK/ext/hello.so" "$top_srcdir/tests/plugins/hello.c"
with "$(plugins_from hello "$WORK/ext" "$(printf '\n[plugin.hello]\ngreeting = good morning\n')")"
sed -i 's/^\[plugins\]/[plugins]/' "$WORK/e1/spnd.conf"
printf '\n%s\n' "$TREE_SETTINGS" >>"$WORK/e1/spnd.conf"
check "and spnd loads it" node_start "$WORK/e1"
client "$WORK/e1" echo='hi there' >"$WORK/c" 2>&1
check "and it serves" sh -c "grep -q '^echo from e1: good morning, client: you said hi there\$' '$WORK/c' || { cat '$WORK/c'; tail -n 20 '$WORK/e1/spnd.log'; false; }"

# A plugin built against ABI 1.0 still loads and runs (abi10, providing
# pong); a section the client carried for it, travelling with ping's call,
# is answered that it was handled, never with the reply ping got.
check "o1 joins with ping and a plugin built for ABI 1.0" join "$WORK/o1" "$P" spn 3 ping,pong \
	"$(plugins_from 'ping, abi10' "$TP")"
client "$WORK/o1" ping=hello +pong=carried >"$WORK/c10" 2>&1
diag "$(cat "$WORK/c10")"
check "it answers its caller" grep -q '^ping from o1: ping: pong said abi 1.0 plugin on o1: 5 byte(s), 1 carried$' "$WORK/c10"
check "and the client's carried section is told only that it was handled" grep -q '^pong from o1: {"handled":true}$' "$WORK/c10"
