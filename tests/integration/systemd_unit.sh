#!/bin/sh
# The systemd unit make builds passes systemd-analyze verify, keeps its
# exposure (systemd-analyze security) at or below 2.0 of 10, and the user
# it runs as is made by the sysusers.d file that comes with it.
. "$top_srcdir/tests/lib.sh"
unit="$top_builddir/etc/spnd@.service"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "needs systemd-analyze (Debian: systemd; tests/scripts/deps-debian.sh test installs it)"
	exit 0
fi
check "make built the unit with every placeholder filled" sh -c "test -s '$unit' && ! grep -q '@[a-z]*@' '$unit'"
check "it starts spnd from bindir, on /etc/spn/<instance>/spnd.conf" \
	grep -Eq '^ExecStart=/.*/spnd -c /etc/spn/%i/spnd\.conf$' "$unit"

# verify wants the program to exist: the same unit, on the spnd just built.
sed "s|^ExecStart=/[^ ]*/spnd |ExecStart=$top_builddir/core/spnd |" "$unit" >"$WORK/spnd@.service"
cp "$WORK/spnd@.service" "$WORK/spnd@check.service"
check "systemd-analyze verify accepts it" systemd-analyze verify "$WORK/spnd@check.service"

# Exposure: 0 is the best, 10 the worst; --threshold is in tenths.
check "its exposure is at most 2.0" \
	systemd-analyze security --offline=true --threshold=20 "$WORK/spnd@check.service"
systemd-analyze security --offline=true "$WORK/spnd@check.service" 2>&1 | grep -i 'overall exposure' | sed 's/^/# /'
# The threshold bites: the same unit without its hardening is over it.
sed '/^CapabilityBoundingSet=/,/^SystemCallErrorNumber=/d' "$WORK/spnd@check.service" >"$WORK/spnd@bare.service"
check "without its hardening, the same unit is over the threshold" \
	sh -c "! systemd-analyze security --offline=true --threshold=20 '$WORK/spnd@bare.service' >/dev/null 2>&1"

# The user: systemd-sysusers on an empty root makes spn, home /var/lib/spn.
mkdir -p "$WORK/root/etc"
check "systemd-sysusers accepts the sysusers.d file" \
	systemd-sysusers --root="$WORK/root" "$top_srcdir/etc/spn.sysusers"
check "and makes the user spn, whose home is /var/lib/spn" grep -q '^spn:x:[0-9]*:[0-9]*:[^:]*:/var/lib/spn:' \
	"$WORK/root/etc/passwd"
check "the unit runs as that user" grep -qx 'User=spn' "$unit"
exit $_failed
