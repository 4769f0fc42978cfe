#!/bin/sh
# Sections against the jose package from npm, both ways: a section spn wrote
# opens in jose with the session key, one jose wrote opens in spn; a header
# changed on the way is refused by both.
. "$top_srcdir/tests/lib.sh"
TOOL="$top_builddir/tests/interop/jwe_tool"
JS="$top_builddir/tests/interop-node"
check "the npm packages are installed" sh "$top_srcdir/tests/scripts/deps-npm.sh" "$JS"
key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
pt='{"iban":"DE02120300000000202051","amount":"12.50"}'
jwe=$("$TOOL" seal "$key" s-7f3a bank bank-1 wristband-7 m-0001 3 "$pt")
node "$JS/jwe.mjs" open "$key" "$jwe" >"$WORK/jose.out" 2>&1
check "spn writes, jose opens with the session key" [ "$(sed -n 1p "$WORK/jose.out")" = "$pt" ]
check "jose reads spn's protected header" $PY -c "import json,sys; h=json.loads(open('$WORK/jose.out').read().split('\n')[1]); assert h=={'alg':'dir','enc':'A256GCM','kid':'s-7f3a','svc':'bank','to':'bank-1','from':'wristband-7','mid':'m-0001','seq':3}, h"
hdr='{"alg":"dir","enc":"A256GCM","kid":"s-7f3a","svc":"pharmacy","to":"pharmacy-1","from":"hospital-1","mid":"m-0002","seq":0}'
jwe2=$(node "$JS/jwe.mjs" seal "$key" "$hdr" 'prescription: 20 x amoxicillin 500 mg')
echo "$jwe2" | "$TOOL" open "$key" >"$WORK/spn.out" 2>&1
check "jose writes, spn opens" [ "$(sed -n 1p "$WORK/spn.out")" = 'prescription: 20 x amoxicillin 500 mg' ]
check "spn reads jose's header fields" [ "$(sed -n 2p "$WORK/spn.out")" = 'pharmacy-1 hospital-1 m-0002 0' ]
# A router rewrites the recipient node in the header, keeping the rest.
forge() { # forge JWE: the same section with "to" changed
	$PY -c "
import base64,json,sys
h,rest=sys.argv[1].split('.',1)
d=json.loads(base64.urlsafe_b64decode(h+'='*(-len(h)%4)))
d['to']='bank-2'
print(base64.urlsafe_b64encode(json.dumps(d,separators=(',',':')).encode()).rstrip(b'=').decode()+'.'+rest)" "$1"
}
refuse "spn refuses a section whose header was changed" "altered" sh -c "echo '$(forge "$jwe")' | '$TOOL' open '$key'"
refuse "jose refuses it too" "failed|Error" node "$JS/jwe.mjs" open "$key" "$(forge "$jwe")"
other=$(echo "$key" | awk '{ print (substr($0, 1, 1) == "0" ? "1" : "0") substr($0, 2) }')
refuse "spn refuses jose's section under another key" "altered|another key" sh -c "echo '$jwe2' | '$TOOL' open '$other'"
# Sections long enough for several windows of a seal and many vector
# blocks of base64url, with a tail: both ways.
big=$($PY -c "import random; random.seed(5); print(''.join(random.choice('abcdefghij0123456789 -') for _ in range(20000)))")
jwe3=$("$TOOL" seal "$key" s-7f3a bank bank-1 wristband-7 m-0003 4 "$big")
node "$JS/jwe.mjs" open "$key" "$jwe3" >"$WORK/jose3.out" 2>&1
check "spn writes 20 KB, jose opens it" [ "$(sed -n 1p "$WORK/jose3.out")" = "$big" ]
jwe4=$(node "$JS/jwe.mjs" seal "$key" "$hdr" "$big")
echo "$jwe4" | "$TOOL" open "$key" >"$WORK/spn4.out" 2>&1
check "jose writes 20 KB, spn opens it" [ "$(sed -n 1p "$WORK/spn4.out")" = "$big" ]
