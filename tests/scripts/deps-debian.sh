#!/bin/sh
# Installs spn's dependencies from Debian 12 packages, by purpose:
#   deps-debian.sh [build]  what spn needs to build and run, and the
#                           command-line tools the demo shows (the default)
#   deps-debian.sh web      that, and the web framework of the demo's
#                           hospital as a web application (--hospital-web)
#   deps-debian.sh test     build and web, and the tools the tests run against
#   deps-debian.sh bench    build, and the baselines make bench measures
# Idempotent: when everything is already present it only checks.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
libgnutls28-dev nettle-dev libmicrohttpd-dev libjson-c-dev
libltdl-dev libcurl4-gnutls-dev libsqlite3-dev libpq-dev libinih-dev libseccomp-dev
sqlite3 curl openssl python3 procps"
WEB="python3-flask"
TEST="libcmocka-dev gnutls-bin python3-cryptography
clang llvm libclang-rt-14-dev tcpdump iproute2 systemd prometheus chromium postgresql softhsm2"
BENCH="wrk nginx golang-cfssl softhsm2"

what=${1:-build}
case $what in
build) PKGS=$BUILD ;;
web) PKGS="$BUILD $WEB" ;;
test) PKGS="$BUILD $WEB $TEST" ;;
bench) PKGS="$BUILD $BENCH" ;;
*) echo "usage: deps-debian.sh [build|web|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

# node and npm may come from another packaging of Node.js; only ask Debian
# for them when there is no npm at all.
[ "$what" != test ] || command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps-debian.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps-debian.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Debian starts and enables a daemon when its package is installed; the
# benchmark's nginx runs under make bench only and the tests run
# prometheus and PostgreSQL clusters of their own on loopback and unix
# sockets, so a policy-rc.d keeps the packages' scripts from starting them,
# and their units are disabled afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ "$what" != build ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=yes
fi
rc=0
apt-get update -qq || rc=$?
# shellcheck disable=SC2086
[ "$rc" != 0 ] || apt-get install -y -qq --no-install-recommends $missing || rc=$?
[ -z "$own_policy" ] || rm -f "$policy"
for daemon in nginx prometheus postgresql; do
	case "$missing " in
	*" $daemon "*)
		if command -v systemctl >/dev/null 2>&1; then
			systemctl disable --now "$daemon" >/dev/null 2>&1 || true
		fi
		;;
	esac
done
exit "$rc"
