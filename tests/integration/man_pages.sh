#!/bin/sh
# The manual pages: groff and man (in a locale every system has) find
# nothing to warn about, and each page names every long option its program
# accepts, as read from the program's option tables and from its --help,
# so that a new option cannot go undocumented.
. "$top_srcdir/tests/lib.sh"

DOC="$top_srcdir/doc"
CLIENT="$top_builddir/core/spn-client"

for page in spnd.8 spnctl.1 spn-client.1 spn_client.3; do
	if ! command -v groff >/dev/null 2>&1; then
		skip "$page: no groff"
		continue
	fi
	if groff -man -ww -z "$DOC/$page" >"$WORK/warn" 2>&1 && [ ! -s "$WORK/warn" ]; then
		ok "$page: groff -ww has no warning"
	else
		not_ok "$page: groff -ww warns"; awk '{print "#   " $0}' "$WORK/warn"
	fi
	if ! command -v man >/dev/null 2>&1; then
		skip "$page: no man"
	elif LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$DOC/$page" 2>"$WORK/warn" >/dev/null && [ ! -s "$WORK/warn" ]; then
		ok "$page: man --warnings has no warning"
	else
		not_ok "$page: man --warnings warns"; awk '{print "#   " $0}' "$WORK/warn"
	fi
done

# options SOURCE...: the long options in the getopt_long tables of SOURCE
# (several entries may share a line).
options() { grep -ho '{"[a-z][a-z0-9-]*", *[a-z]*_argument' "$@" | sed 's/^{"\([^"]*\)".*/--\1/'; }

# in_help CMD...: the long options CMD's --help mentions.
in_help() { "$@" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*'; }

# documented PAGE PROGRAM: every option in $WORK/opts appears in PAGE.
documented() {
	sort -u "$WORK/opts" >"$WORK/want"
	n=$(wc -l <"$WORK/want")
	if [ "$n" -lt 3 ]; then
		not_ok "$2: only $n options found (the extraction broke)"
		return
	fi
	sed 's/\\-/-/g' "$DOC/$1" >"$WORK/page"
	missing=""
	while read -r o; do
		grep -Eq -- "$o([^a-z0-9-]|\$)" "$WORK/page" || missing="$missing $o"
	done <"$WORK/want"
	if [ -z "$missing" ]; then
		ok "$1 names all $n long options of $2"
	else
		not_ok "$1 lacks$missing"
	fi
}

{ options "$top_srcdir/core/daemon/main.c"; in_help "$SPND"; } >"$WORK/opts"
documented spnd.8 spnd

{ options "$top_srcdir/core/client/main.c"; in_help "$CLIENT"; } >"$WORK/opts"
documented spn-client.1 spn-client

{
	options "$top_srcdir"/core/ctl/*.c
	in_help "$SPNCTL"
	"$SPNCTL" --help | awk '/^commands:/ {c = 1; next} c && NF {print $1}' >"$WORK/commands"
	while read -r cmd; do in_help "$SPNCTL" "$cmd"; done <"$WORK/commands"
} >"$WORK/opts"
documented spnctl.1 spnctl

# And every command has its entry under COMMANDS.
sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$DOC/spnctl.1" | sed 's/\\-/-/g' >"$WORK/commands.man"
missing=""
while read -r cmd; do
	grep -Eq "^\.B $cmd\$" "$WORK/commands.man" || missing="$missing $cmd"
done <"$WORK/commands"
[ -z "$missing" ] && ok "spnctl.1 describes every command" || not_ok "spnctl.1 has no entry for$missing"
