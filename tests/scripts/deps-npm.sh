#!/bin/sh
# Installs the npm packages the interoperability tests check spn against
# (tests/interop/package.json, versions pinned by its lock file) into DIR,
# a copy of tests/interop. Does nothing when they are there already.
set -eu
src=$(cd "$(dirname "$0")/../interop" && pwd)
dir=${1:?usage: deps-npm.sh DIR}
mkdir -p "$dir"
for f in package.json package-lock.json hpke.mjs jwe.mjs; do
	cmp -s "$src/$f" "$dir/$f" 2>/dev/null || cp "$src/$f" "$dir/$f"
done
if [ ! -d "$dir/node_modules/@hpke/core" ] || [ ! -d "$dir/node_modules/jose" ] || [ "$src/package-lock.json" -nt "$dir/node_modules" ]; then
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
