#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need, and
# only those that are missing. As non-root it prints the command instead.
set -eu

packages=(
	# build
	gcc make pkg-config clang libclang-rt-14-dev clang-format
	libjson-c-dev libmicrohttpd-dev libinih-dev libcurl4-openssl-dev libgnutls28-dev
	libsystemd-dev libpam0g-dev libssl-dev
	# tests
	libcmocka-dev valgrind python3 openssh-server openssh-client sudo
	pamtester libnss-wrapper libpam-wrapper iproute2 util-linux passwd
	procps curl openssl
	# packaging, man pages, the SELinux module (checkmodule, semodule_package)
	dpkg-dev debhelper fakeroot lintian rpm groff man-db systemd
	checkpolicy semodule-utils
)

missing=()
for p in "${packages[@]}"; do
	case "$p" in \#*) continue ;; esac
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
	echo "Missing packages. Run as root:" >&2
	echo "  apt-get update && ${cmd[*]}" >&2
	exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
"${cmd[@]}" -qq >/dev/null
