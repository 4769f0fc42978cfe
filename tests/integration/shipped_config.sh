#!/bin/sh
# Every configuration file the project ships loads in spnd --check-config:
# the example, and each plugin's snippet inside a minimal node; and a file
# that is wrong is refused with its file, line and key.
. "$top_srcdir/tests/lib.sh"
SPND="$top_builddir/core/spnd"
# The plugins FILE enables are in the build tree, not where make install
# puts them: a second part of [plugins] says where.
build_plugins() {
	path=
	for p in $(sed -n 's/^enable *= *//p' "$1" | tr ',' ' '); do
		path="$path${path:+:}$top_builddir/plugins/$p"
	done
	printf '\n[plugins]\npath = %s\nhost = %s/core/spn-plugin-host\n' "$path" "$top_builddir"
}

for f in "$top_srcdir"/etc/*.conf* "$top_srcdir"/plugins/*/*.conf; do
	name=$(basename "$f")
	case $name in *.in) continue ;; esac
	conf="$WORK/$name"
	if grep -q '^\[node\]' "$f"; then
		cp "$f" "$conf"
	else
		printf '[node]\nid = check-1\ngroup = care\n\n' >"$conf"
		cat "$f" >>"$conf"
	fi
	build_plugins "$conf" >>"$conf"
	check "$name loads in spnd --check-config" "$SPND" --check-config -c "$conf"
done

# The check is not a formality: a key in the wrong section, and an option
# the plugin does not declare, are refused.
{ printf '[node]\nid = check-1\ngroup = care\n[http]\nurl = https://check-1.example.org\n'; } >"$WORK/bad.conf"
refuse "a core key in the wrong section is refused with file, line and key" 'bad\.conf:5: \[http\] url' \
	"$SPND" --check-config -c "$WORK/bad.conf"
{ printf '[node]\nid = check-1\ngroup = care\n'; cat "$top_srcdir/plugins/echo/echo.conf"; printf 'colour = blue\n'; } \
	>"$WORK/badplugin.conf"
build_plugins "$WORK/badplugin.conf" >>"$WORK/badplugin.conf"
refuse "an option the plugin does not declare is refused with its key" '\[plugin\.echo\] colour' \
	"$SPND" --check-config -c "$WORK/badplugin.conf"
check "spnd --check-config on a missing file exits 1" sh -c "'$SPND' --check-config -c '$WORK/none.conf'; test \$? = 1"
exit $_failed
