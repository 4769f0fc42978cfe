#!/bin/sh
# --help and --version of every program and of every spnctl command: they
# exit 0 and print the usage and "<program> <version>" on standard output;
# a usage error exits 2.
. "$top_srcdir/tests/lib.sh"

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
[ -n "$version" ] || { not_ok "PACKAGE_VERSION in config.h"; exit 1; }

# prints NAME WANT_FIRST_LINE CMD...: exits 0 and its first line of
# standard output is WANT_FIRST_LINE (a grep -E pattern).
prints() {
	name=$1 want=$2; shift 2
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ $rc -eq 0 ] && head -n 1 "$WORK/out" | grep -Eq "$want" && [ ! -s "$WORK/err" ]; then
		ok "$name"
	else
		not_ok "$name: exit $rc"; awk '{print "#   " $0}' "$WORK/out" "$WORK/err"
	fi
}

# usage_error NAME CMD...: exits 2 with its usage on standard error.
usage_error() {
	name=$1; shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q usage "$WORK/err" && [ ! -s "$WORK/out" ]; then
		ok "$name"
	else
		not_ok "$name: exit $rc"; awk '{print "#   " $0}' "$WORK/out" "$WORK/err"
	fi
}

HOST="$top_builddir/core/spn-plugin-host"
CLIENT="$top_builddir/core/spn-client"
for p in "$SPND" "$SPNCTL" "$CLIENT" "$HOST"; do
	b=$(basename "$p")
	prints "$b --version" "^$b $version\$" "$p" --version
	prints "$b -V" "^$b $version\$" "$p" -V
	prints "$b --help" "^usage: $b" "$p" --help
done
# spnd's help is more than its usage line: every option, explained.
"$SPND" --help >"$WORK/help"
for o in --config --help --version; do
	if grep -q -- "$o " "$WORK/help"; then ok "spnd --help explains $o"; else not_ok "spnd --help lacks $o"; fi
done

usage_error "spnd without -c" "$SPND"
usage_error "spnd with an unknown option" "$SPND" -c x --no-such-option
usage_error "spnctl without a command" "$SPNCTL"
usage_error "spnctl with an unknown command" "$SPNCTL" no-such-command
usage_error "spn-client without a URL" "$CLIENT" svc=x
usage_error "spn-plugin-host with an argument" "$HOST" x

# Every command spnctl lists answers --help with its own usage.
"$SPNCTL" --help | awk '/^commands:/ {c = 1; next} c && NF {print $1}' >"$WORK/commands"
[ "$(wc -l <"$WORK/commands")" -ge 15 ] && ok "spnctl --help lists its commands" || not_ok "spnctl --help lists its commands"
while read -r cmd; do
	prints "spnctl $cmd --help" "^usage: spnctl $cmd" "$SPNCTL" "$cmd" --help
done <"$WORK/commands"
