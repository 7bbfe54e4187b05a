#!/usr/bin/env bash
# getpwnam() of an OS Login user through glibc on Debian 12's stock
# nsswitch lines ("passwd: files systemd", "group: files systemd"): oslogin
# appended (what activation did before) against oslogin right after files
# (what it does now, lib/hostconf/sysconf-nsswitch.c), each with and without a
# stand-in for PID 1's userdb socket (bench/fake-userdb.py), which a VM has
# and nss-systemd asks on every lookup that reaches it. A private mount
# namespace (private /run and /etc, the module overlaid into the system
# library dir); needs root. Also a repeated unknown name through the
# module, over nss.sock against from the negative table.
# Usage: bench/bench-nss-stock.sh [BUILD]
set -eu
if [ -z "${OSLOGIN_BENCH_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then echo "bench-nss-stock: needs root (namespaces), skipped"; exit 0; fi
	OSLOGIN_BENCH_NS=1 exec unshare --mount --fork -- "$0" "$@"
fi
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
SRC=$PWD
N_USERS=${N_USERS:-100000}
N_GROUPS=${N_GROUPS:-10000}
ITER=${ITER:-100000}
TOOL=$BUILD/bench/nss-bench-tool
MODULE=$BUILD/nss_oslogin/libnss_oslogin.so.2
. "$(dirname "$0")/nss-namespace.sh"
nss_private_namespace "$BUILD"
"$TOOL" build directory.cache "$N_USERS" "$N_GROUPS" >/dev/null

lines() { sed -i -E "s/^passwd:.*/passwd:         $1/; s/^group:.*/group:          $1/" /etc/nsswitch.conf; }
measure() { # LINE LABEL
	lines "$1"
	echo "getpwnam() of an OS Login user, '$1'$2: median $("$TOOL" glibc "$N_USERS" "$ITER") us"
}
measure_unknown() { # LINE LABEL
	lines "$1"
	echo "getpwnam() of a name nobody has (in the negative table), '$1'$2: median $("$TOOL" glibc-unknown ghost_example_com "$ITER") us"
}
"$TOOL" negative "$MODULE" "$ITER"
userdb=no
for round in without with; do
	if [ $round = with ]; then
		python3 "$SRC/bench/fake-userdb.py" /run/systemd/userdb/io.systemd.DynamicUser &
		userdb=$!
		for _ in $(seq 50); do [ -S /run/systemd/userdb/io.systemd.DynamicUser ] && break; sleep 0.1; done
		label=" (userdb socket answering, as on a VM)"
	else
		label=" (no userdb socket)"
	fi
	lines "files systemd"
	echo "getpwnam(\"root\"), 'files systemd'$label (the floor: nss_files alone): median $("$TOOL" glibc-name root "$ITER") us"
	measure "files systemd oslogin" "$label"
	measure "files oslogin systemd" "$label"
	measure_unknown "files systemd" "$label"
	measure_unknown "files oslogin" "$label"
	measure_unknown "files oslogin systemd" "$label"
done
kill "$userdb" 2>/dev/null || true
