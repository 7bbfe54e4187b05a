#!/usr/bin/env bash
# NSS benchmarks (BENCHMARKS.md): cache build, module hit via dlopen, RSS,
# glibc getpwnam() with "files oslogin" against "files" alone holding the
# same users. Runs itself in a private mount namespace (private /run and
# /etc, the module overlaid into the system library dir); needs root.
# Usage: bench-nss [BUILD_DIR or ignored URL]; N_USERS/N_GROUPS from the environment.
set -eu
if [ -z "${OSLOGIN_BENCH_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then echo "bench-nss: needs root (namespaces), skipped"; exit 0; fi
	OSLOGIN_BENCH_NS=1 exec unshare --mount --fork -- "$0" "$@"
fi
BUILD=$(cd "$(dirname "$0")/.." && pwd)
N_USERS=${N_USERS:-100000}
N_GROUPS=${N_GROUPS:-10000}
TOOL=$BUILD/bench/nss-bench-tool
MODULE=$BUILD/nss_oslogin/libnss_oslogin.so.2
. "$(dirname "$0")/nss-namespace.sh"
nss_private_namespace "$BUILD"
"$TOOL" build directory.cache "$N_USERS" "$N_GROUPS"
"$TOOL" hit "$MODULE" "$N_USERS" 1000000
"$TOOL" unavail "$MODULE" 20000

sed -i -E 's/^passwd:.*/passwd: oslogin/' /etc/nsswitch.conf
only_module=$("$TOOL" glibc "$N_USERS" 200000)
echo "getpwnam() through glibc with 'passwd: oslogin' alone: median $only_module us"
sed -i -E 's/^passwd:.*/passwd: files oslogin/' /etc/nsswitch.conf
via_module=$("$TOOL" glibc "$N_USERS" 200000)
cp /etc/passwd /run/passwd.orig
awk -v n="$N_USERS" 'BEGIN { for (i = 0; i < n; i++) printf "u%06d:x:%d:%d:User Number %d:/home/u%06d:/bin/bash\n", i, 2000000 + i, 2000000 + i, i, i }' >>/etc/passwd
sed -i -E 's/^passwd:.*/passwd: files/' /etc/nsswitch.conf
via_files=$("$TOOL" glibc "$N_USERS" 2000)
echo "getpwnam() through glibc, $N_USERS users: 'files oslogin' median $via_module us; 'files' alone (same users in /etc/passwd) median $via_files us; ratio $(awk -v a="$via_files" -v b="$via_module" 'BEGIN { printf "%.0f", a / b }')x"
