#!/bin/sh
# Installs the npm packages the interoperability tests check spn against
# (tests/interop/package.json, versions pinned by its lock file) into DIR,
# a copy of tests/interop. Does nothing when they are there already.
# Tests run in parallel and several of them call this: one installs while
# the others wait on the lock, and a stamp written after a complete install
# tells them it is done (a half-filled node_modules is not).
set -eu
src=$(cd "$(dirname "$0")/../interop" && pwd)
dir=${1:?usage: deps-npm.sh DIR}
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
for f in package.json package-lock.json hpke.mjs jwe.mjs wire.mjs; do
	cmp -s "$src/$f" "$dir/$f" 2>/dev/null || cp "$src/$f" "$dir/$f"
done
stamp="$dir/node_modules/.spn-installed"
if [ ! -f "$stamp" ] || [ "$src/package-lock.json" -nt "$stamp" ]; then
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	touch "$stamp"
fi
