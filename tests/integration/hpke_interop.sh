#!/bin/sh
# spn's HPKE against @hpke/core from npm, both ways: what one seals the other
# opens, for AES-256-GCM (spn's default) and AES-128-GCM; a changed byte is
# refused by both.
. "$top_srcdir/tests/lib.sh"
TOOL="$top_builddir/tests/interop/hpke_tool"
JS="$top_builddir/tests/interop-node"
check "the npm packages are installed" sh "$top_srcdir/tests/scripts/deps-npm.sh" "$JS"
js() { node "$JS/hpke.mjs" "$@"; }
info=$(printf 'spn session 7f3a' | od -An -tx1 | tr -d ' \n')
aad=$(printf 'service=bank' | od -An -tx1 | tr -d ' \n')
pt=$(printf 'a fresh session key: 0123456789abcdef' | od -An -tx1 | tr -d ' \n')
for aead in 2 1; do
	suite=$([ $aead = 2 ] && echo AES-256-GCM || echo AES-128-GCM)
	set -- $("$TOOL" keypair)
	sk=$1 pk=$2
	set -- $("$TOOL" seal $aead "$pk" "$info" "$aad" "$pt")
	enc=$1 ct=$2
	got=$(js open $aead "$sk" "$pk" "$enc" "$info" "$aad" "$ct" 2>&1)
	check "$suite: spn seals, @hpke/core opens" [ "$got" = "$pt" ]
	set -- $(js seal $aead "$pk" "$info" "$aad" "$pt")
	enc=$1 ct=$2
	got=$(echo "$ct" | "$TOOL" open $aead "$sk" "$enc" "$info" "$aad" 2>&1)
	check "$suite: @hpke/core seals, spn opens" [ "$got" = "$pt" ]
	# The first hex digit changed: one bit or more of the first byte.
	bad=$(echo "$ct" | awk '{ print (substr($0, 1, 1) == "0" ? "1" : "0") substr($0, 2) }')
	refuse "$suite: spn refuses a changed byte" "altered" sh -c "echo '$bad' | '$TOOL' open $aead '$sk' '$enc' '$info' '$aad'"
	set -- $("$TOOL" seal $aead "$pk" "$info" "$aad" "$pt")
	refuse "$suite: @hpke/core refuses other associated data" "rror" node "$JS/hpke.mjs" open $aead "$sk" "$pk" "$1" "$info" "00" "$2"
done
