#!/bin/sh
# The PSP's node key, which mints every token the PSP signs, encrypted:
# spnctl init --encrypt-node-key writes it under a passphrase; spnd reads
# the passphrase from SPN_NODE_PASSPHRASE or from [node] key_passphrase_file
# (a service manager's credential), never from a terminal it does not
# have, and runs unattended: it serves, mints, accepts members and calls
# them with that key. The commands that sign with the root key do not need
# the node key's passphrase.
. "$top_srcdir/tests/lib.sh"
P="$WORK/psp"; C="$P/spnd.conf"; CA="$P/ca/root.crt"
NODE_PASS="node key passphrase for the test"

check "init encrypts the node key" env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" SPN_NODE_PASSPHRASE="$NODE_PASS" \
	"$SPNCTL" init -d "$P" -g enc --encrypt-node-key
check "node.key is encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$P/node.key"
check "and readable by its owner only" test "$(stat -c %a "$P/node.key")" = 600
check "the configuration names the variable" grep -qx "key_passphrase_env = SPN_NODE_PASSPHRASE" "$C"
check "the key opens with that passphrase" openssl pkey -in "$P/node.key" -passin "pass:$NODE_PASS" -noout

refuse "minting a token without the node key's passphrase says which variable" "set SPN_NODE_PASSPHRASE" \
	setsid -w "$SPNCTL" token -c "$C" --id x1 --role spn --trust 1 </dev/null
refuse "a wrong one is refused" "wrong passphrase" env SPN_NODE_PASSPHRASE=wrong "$SPNCTL" token -c "$C" --id x1 --role spn --trust 1
check "with it a token is minted" sh -c "SPN_NODE_PASSPHRASE='$NODE_PASS' '$SPNCTL' token -c '$C' --id x1 --role spn --trust 1 | grep -q '^spn1\.'"
check "signing a CRL needs the root key's passphrase only" setsid -w sh -c "SPN_CA_PASSPHRASE='$SPN_CA_PASSPHRASE_VALUE' '$SPNCTL' crl -c '$C' </dev/null >/dev/null"

printf '\n[http]\nlisten = 127.0.0.1\nport = 0\nport_file = spnd.port\n\n%s\n' "$TREE_SETTINGS" >>"$C"
refuse "spnd without the passphrase and without a terminal does not start, naming the variable" "set SPN_NODE_PASSPHRASE" \
	setsid -w env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$C" </dev/null
refuse "nor with a wrong one" "wrong passphrase" \
	env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" SPN_NODE_PASSPHRASE=wrong "$SPND" -c "$C"

# From the environment.
export SPN_NODE_PASSPHRASE="$NODE_PASS"
check "spnd starts with the passphrase in SPN_NODE_PASSPHRASE" node_start "$P"
pid=$(cat "$P/pid")
check "and has wiped it from its environment" sh -c "! tr '\\0' '\\n' </proc/$pid/environ | grep -qF '$NODE_PASS'"
is "it serves over TLS with the key" 200 "" "$(node_url "$P")/v1/health"
check "a member joins with a token the PSP signed" join "$WORK/m1" "$P" spn 2 echo "$(echo_for echo)"
check "the PSP calls it with its client certificate (spnctl tree over TLS)" \
	wait_for 5 sh -c "'$SPNCTL' tree -c '$C' -F json | grep -q '\"node\":\"m1\"'"
node_stop "$P"
unset SPN_NODE_PASSPHRASE

# From a file a service manager provides (systemd's LoadCredential=).
printf '%s\n' "$NODE_PASS" >"$WORK/node-pass"
chmod 0644 "$WORK/node-pass"
sed -i "s|^key_passphrase_env = .*|&\nkey_passphrase_file = $WORK/node-pass|" "$C"
refuse "a passphrase file others may read is refused" "accessible to others" \
	setsid -w env SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$C" </dev/null
chmod 0600 "$WORK/node-pass"
check "spnd starts with the passphrase from [node] key_passphrase_file" node_start "$P"
is "it serves" 200 "" "$(node_url "$P")/v1/health"
check "a token minted over REST is signed with the key it read" sh -c \
	"curl -sS --cacert '$CA' --cert '$P/node.crt' --key '$P/node.key' --pass '$NODE_PASS' -X POST --json '{\"node\":\"m2\",\"role\":\"spn\",\"trust\":1,\"services\":[\"echo\"]}' '$(node_url "$P")/v1/token' | grep -q '\"token\":\"spn1\\.'"
check "spnctl tree reads the passphrase from the same file" sh -c "setsid -w '$SPNCTL' tree -c '$C' -F json </dev/null | grep -q '\"node\":\"psp\"'"
node_stop "$P"

# From systemd's credentials (LoadCredential=ca-passphrase:...,
# node-key-passphrase:...): nothing in the configuration, the environment
# or a terminal.
sed -i '/^key_passphrase_file = /d' "$C"
mkdir -m 0700 "$WORK/creds" "$WORK/wrong"
printf '%s\n' "$NODE_PASS" >"$WORK/creds/node-key-passphrase"
printf '%s\n' "$SPN_CA_PASSPHRASE_VALUE" >"$WORK/creds/ca-passphrase"
printf 'wrong\n' >"$WORK/wrong/node-key-passphrase"
cp "$WORK/creds/ca-passphrase" "$WORK/wrong/"
chmod 0400 "$WORK/creds/"* "$WORK/wrong/"*
refuse "a wrong credential is refused" "wrong passphrase" setsid -w env -u SPN_CA_PASSPHRASE -u SPN_NODE_PASSPHRASE \
	CREDENTIALS_DIRECTORY="$WORK/wrong" "$SPND" -c "$C" </dev/null
rm -f "$P/spnd.port"
setsid env -u SPN_CA_PASSPHRASE -u SPN_NODE_PASSPHRASE CREDENTIALS_DIRECTORY="$WORK/creds" "$SPND" -c "$C" \
	</dev/null >>"$P/spnd.log" 2>&1 &
echo $! >"$P/pid"
check "spnd starts with both passphrases from \$CREDENTIALS_DIRECTORY" wait_for 10 test -s "$P/spnd.port"
is "it serves" 200 "" "$(node_url "$P")/v1/health"
node_stop "$P"
