#!/bin/sh
# Installs every build, test and benchmark dependency of spn from Debian 12
# packages. Idempotent: when everything is already present it only checks.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libgnutls28-dev nettle-dev libmicrohttpd-dev libjson-c-dev
libltdl-dev libcurl4-gnutls-dev libsqlite3-dev sqlite3 libinih-dev
libseccomp-dev libcmocka-dev gnutls-bin openssl python3 python3-cryptography
clang llvm libclang-rt-14-dev curl tcpdump procps
wrk nginx golang-cfssl prometheus chromium"

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
	# The tests run prometheus (and promtool) themselves on loopback: the
	# package's own service must not start. Without a policy-rc.d already
	# in place, one refuses every start for the time of the install.
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
	[ -z "$policy" ] || rm -f "$policy"
	if [ -d /run/systemd/system ] && systemctl is-enabled prometheus >/dev/null 2>&1; then
		systemctl disable --now prometheus
	fi
fi
