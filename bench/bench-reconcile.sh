#!/usr/bin/env bash
# bench-reconcile.sh BUILD_DIR [USERS]: the /etc reconcile on its own
# (oslogin-reconcile --root, no metadata server): first reconcile of N
# users (account files + homes + authorized_keys), an unchanged reconcile,
# peak RSS; then the reference agent's method, one `useradd -m` and one
# `gpasswd -a` per user, on the same pristine /etc (a private copy bound
# over /etc in a mount namespace). Trees on tmpfs (CPU and syscalls) and,
# for the first reconcile, on the disk (fsync/syncfs included).
set -eu
BUILD=$(cd "${1:-build}" && pwd)
N=${2:-1000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$BUILD/tests/tools/oslogin-reconcile
if [ -z "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	OSLOGIN_IN_NAMESPACE=1 exec unshare --mount --fork -- "$0" "$BUILD" "$N"
fi
mount --make-rprivate /
W=$(mktemp -d /run/bench-reconcile.XXXXXX)
mount -t tmpfs tmpfs "$W"
DISK=$(mktemp -d /var/tmp/bench-reconcile.XXXXXX)
trap 'rm -rf "$DISK"' EXIT
KEY=$(cut -d' ' -f1-2 "$SRC/tests/fixtures/keys/alice.pub")
python3 - "$N" "$KEY" >"$W/desired.json" <<'PY'
import json, sys
n, key = int(sys.argv[1]), sys.argv[2]
keys = "\n".join(f"user{i:05d}:{key} user{i}" for i in range(n))
print(json.dumps({"instance": {"attributes": {"ssh-keys": keys}}, "project": {"attributes": {}}}))
PY
fresh_tree() { rm -rf "$1"; mkdir -p "$1/home" "$1/var/lib"; cp -a /etc "$1/etc"; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
run() { "$TOOL" --root "$1" --input "$W/desired.json" --quiet; }

first=() again=() inner=() rss=() disk=()
for i in 1 2 3; do
	fresh_tree "$W/ours"
	t=$(date +%s%N); /usr/bin/time -f %M -o "$W/rss" "$TOOL" --root "$W/ours" --input "$W/desired.json" --quiet >/dev/null
	first+=($(ms "$t")); rss+=($(cat "$W/rss"))
	t=$(date +%s%N); out=$(run "$W/ours"); again+=($(ms "$t"))
	inner+=($(($(echo "$out" | sed 's/.*usec=//') / 1000)))
	fresh_tree "$DISK/ours"
	t=$(date +%s%N); run "$DISK/ours" >/dev/null; disk+=($(ms "$t"))
done
[ "$(grep -c '^user' "$W/ours/etc/passwd")" -eq "$N" ] || { echo "bench: users missing"; exit 1; }

# The reference's method on the same pristine /etc.
fresh_tree "$W/ref"
mount --bind "$W/ref/etc" /etc
mount --bind "$W/ref/home" /home
groupadd google-sudoers
t=$(date +%s%N)
for i in $(seq 0 $((N - 1))); do
	u=$(printf 'user%05d' "$i")
	useradd -m -p '*' -s /bin/bash "$u" && gpasswd -a "$u" google-sudoers >/dev/null
done
ref=$(ms "$t")
umount /home /etc

f=$(echo "${first[@]}" | median) a=$(echo "${again[@]}" | median)
echo "users: $N ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "first reconcile, tmpfs (files + homes + keys):   median $f ms   (runs: ${first[*]})"
echo "first reconcile, ext4 disk (with syncfs):        median $(echo "${disk[@]}" | median) ms   (runs: ${disk[*]})"
echo "unchanged reconcile, whole process:              median $a ms   (runs: ${again[*]})"
echo "  of which keys_reconcile() itself:              median $(echo "${inner[@]}" | median) ms   (runs: ${inner[*]})"
echo "peak RSS, first reconcile:                       median $(echo "${rss[@]}" | median) KiB"
echo "reference method (useradd -m + gpasswd -a), tmpfs: $ref ms"
echo "speed-up of the first reconcile: $(python3 -c "print(f'{$ref/$f:.0f}x')")"
