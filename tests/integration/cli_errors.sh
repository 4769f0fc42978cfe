#!/bin/sh
# Errors as the person at the terminal sees them: spnd says each once
# (not again through its log, which is the terminal too), and the spnctl
# commands that run on the PSP refuse another node's configuration by
# saying so, not by a missing key.
. "$top_srcdir/tests/lib.sh"

# says_once NAME PATTERN CONF: spnd -c CONF exits 1 with one line on the
# terminal, matching PATTERN (grep -E).
says_once() {
	SPN_CA_PASSPHRASE="$SPN_CA_PASSPHRASE_VALUE" "$SPND" -c "$3" >"$WORK/term" 2>&1
	rc=$?
	lines=$(wc -l <"$WORK/term")
	if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -Eq "$2" "$WORK/term"; then
		ok "$1: exit 1, one line on the terminal"; diag "$(cat "$WORK/term")"
	else
		not_ok "$1: exit $rc, $lines lines"; awk '{print "#   " $0}' "$WORK/term"
	fi
}

new_group "$WORK/psp" g1
cp "$WORK/psp/spnd.conf" "$WORK/psp/bad.conf"
printf '\n[daemon]\nthreads = 2\n' >>"$WORK/psp/bad.conf"
says_once "a bad configuration" '\[daemon\]: unknown section' "$WORK/psp/bad.conf"

# A node that cannot start (its key is gone) once its log file is open:
# the log file has the line too.
cp -r "$WORK/psp" "$WORK/nokey"
rm "$WORK/nokey/node.key"
sed -i '/^\[log\]/,$d' "$WORK/nokey/spnd.conf"
printf '[log]\nlevel = info\nfile = spnd.log\n' >>"$WORK/nokey/spnd.conf"
says_once "a node that cannot start" '^spnd: start: ' "$WORK/nokey/spnd.conf"
why=$(sed 's/^spnd: start: //' "$WORK/term")
check "and its log file has it" grep -qF "start: $why" "$WORK/nokey/spnd.log"

# An administrator's configuration given to the PSP's commands.
enroll "$WORK/psp/spnd.conf" adm1 admin 9 ""
printf '[node]\nid = adm1\ngroup = g1\nkey = adm1.key\ncert = adm1.crt\nroot = psp/ca/root.crt\n' >"$WORK/adm1.conf"
for cmd in list log "show 01" "crl" "revoke 01" "hold 01" "release 01" \
	"token --id n1 --role spn" "issue --csr $WORK/adm1.csr --token x"; do
	# shellcheck disable=SC2086
	refuse "spnctl $cmd on an administrator's configuration" \
		"^spnctl: ${cmd%% *}: runs on the PSP only \(a configuration with \[ca\]\); .*adm1\.conf is adm1's, an administrator's\$" \
		ctl $cmd -c "$WORK/adm1.conf"
done
check "spnctl list on the PSP's" ctl list -c "$WORK/psp/spnd.conf"
