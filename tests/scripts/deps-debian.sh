#!/bin/sh
# Installs every build, test and benchmark dependency of spn from Debian 12
# packages. Idempotent: when everything is already present it only checks.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libgnutls28-dev nettle-dev libmicrohttpd-dev libjson-c-dev
libltdl-dev libcurl4-gnutls-dev libsqlite3-dev sqlite3 libinih-dev
libseccomp-dev libcmocka-dev gnutls-bin openssl python3 python3-cryptography
clang llvm libclang-rt-14-dev curl tcpdump procps
wrk nginx golang-cfssl"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

# node and npm may come from another packaging of Node.js; only ask Debian
# for them when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps-debian.sh: missing packages:$missing (run as root to install)" >&2
		exit 1
	fi
	echo "deps-debian.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
