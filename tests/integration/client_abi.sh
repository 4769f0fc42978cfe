#!/bin/sh
# libspn-client's ABI changes only on purpose: the installed library
# exports exactly the functions of core/client/libspn-client.sym, the
# public header declares exactly those, and its soname is the one the
# version-info gives.
. "$top_srcdir/tests/lib.sh"
SYM="$top_srcdir/core/client/libspn-client.sym"

make -s -C "$top_builddir" install-libLTLIBRARIES DESTDIR="$WORK/inst" >"$WORK/out" 2>&1
so=$(find "$WORK/inst" -name 'libspn-client.so.0' | head -n 1)
check "the library installs as libspn-client.so.0" test -n "$so"
check "its soname is libspn-client.so.0" sh -c "objdump -p '$so' | grep -q 'SONAME *libspn-client.so.0\$'"

sort -u "$SYM" >"$WORK/want"
nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u >"$WORK/got"
if cmp -s "$WORK/want" "$WORK/got"; then
	ok "it exports exactly the $(wc -l <"$WORK/want") functions of the list"
else
	not_ok "its exports differ from the list (< list, > library)"; diff "$WORK/want" "$WORK/got" | sed 's/^/#   /'
fi
check "and nothing but functions" sh -c "! nm -D --defined-only '$so' | awk '{ print \$2 }' | grep -qv '^T\$'"

grep -o '^SPN_CLIENT_API [^(]*(' "$top_srcdir/include/spn/client.h" | sed 's/($//; s/.*[ *]//' | sort -u >"$WORK/declared"
if cmp -s "$WORK/want" "$WORK/declared"; then
	ok "spn/client.h declares exactly the list"
else
	not_ok "spn/client.h and the list differ (< list, > header)"; diff "$WORK/want" "$WORK/declared" | sed 's/^/#   /'
fi
