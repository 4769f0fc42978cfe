#!/bin/sh
# A client built outside spn's tree with nothing but what make install
# puts in place (spn/client.h, libspn-client, spn-client.pc) compiles as
# strict C11, links, runs against the installed library and sends a
# message with a carried section through a real group.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; CA="$P/ca/root.crt"
TP="$top_builddir/tests/plugins"

make -s -C "$top_builddir" install-libLTLIBRARIES install-spnincludeHEADERS install-pkgconfigDATA \
	DESTDIR="$WORK/inst" >"$WORK/out" 2>&1
pc=$(find "$WORK/inst" -name spn-client.pc | head -n 1)
check "spn-client.pc, the header and the library install" sh -c "test -n '$pc' && find '$WORK/inst' -name 'libspn-client.so.0' | grep -q ."
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$WORK/inst"
lib=$(dirname "$(find "$WORK/inst" -name 'libspn-client.so.0' | head -n 1)")
check "pkg-config points at the installed library" sh -c "pkg-config --libs spn-client | grep -q -- '-L$lib .*-lspn-client'"

# The library is built with the sanitizers when spn is: so is its client.
san=""; [ "$sanitizers" = yes ] && san="-fsanitize=address,undefined"
check "a client builds with nothing but pkg-config, as strict C11" \
	cc -std=c11 -pedantic -Wall -Wextra -Werror $san $(pkg-config --cflags spn-client) -o "$WORK/band" \
	"$top_srcdir/tests/clients/band.c" $(pkg-config --libs spn-client)
if command -v c++ >/dev/null 2>&1; then
	check "the header is usable from C++" sh -c \
		"echo '#include <spn/client.h>' | c++ -x c++ -Wall -Werror -fsyntax-only $(pkg-config --cflags spn-client) -"
else
	skip "the header is usable from C++: no c++"
fi
export LD_LIBRARY_PATH="$lib"
check "and runs with the installed library" sh -c "ldd '$WORK/band' | grep -q '$lib/libspn-client.so.0'"

check "the PSP starts" psp_start "$P" care
check "o1 joins with ping and pong" join "$WORK/o1" "$P" spn 3 ping,pong \
	"$(printf '[plugins]\nenable = ping, abi10\npath = %s\nhost = %s/core/spn-plugin-host\n' "$TP" "$top_builddir")"
"$WORK/band" "$(node_url "$WORK/o1")" "$CA" >"$WORK/c" 2>&1
diag "$(cat "$WORK/c")"
check "ping answers the client" grep -q '^ping from o1: ping: pong said abi 1.0 plugin on o1: 5 byte(s), 1 carried$' "$WORK/c"
check "and the carried section reached pong, handled" grep -q '^pong from o1: {"handled":true}$' "$WORK/c"

# What a client reads when the group cannot serve: the header's names and words.
rc=0; "$WORK/band" "https://127.0.0.1:1" "$CA" >"$WORK/c" 2>&1 || rc=$?
diag "$(cat "$WORK/c")"
check "no node to reach: the client fails, saying why" sh -c "test $rc -eq 1 && grep -q '^band: ..*' '$WORK/c'"
"$WORK/band" "$(node_url "$WORK/o1")" "$WORK/nosuch.pem" >"$WORK/c" 2>&1
check "no root: spn_client_new fails with the reason" grep -q "^band: .*nosuch.pem" "$WORK/c"
