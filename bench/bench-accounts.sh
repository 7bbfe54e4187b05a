#!/usr/bin/env bash
# bench-accounts.sh BUILD_DIR [USERS]: first and unchanged reconcile of N
# metadata users by oslogin-accountsd, against the reference's method (one
# useradd -m + gpasswd -a per user) on the same pristine private /etc, in a
# private mount namespace. Prints medians of 3 runs and the ratio.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
N=${2:-1000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	OSLOGIN_IN_NAMESPACE=1 exec unshare --mount --net --fork -- "$0" "$BUILD" "$N"
fi
mount --make-rprivate /
ip link set lo up
mount -t tmpfs tmpfs /run
PRISTINE=/run/pristine
mkdir -p $PRISTINE && cp -a /etc/. $PRISTINE/
fresh() {
	umount /etc 2>/dev/null || true
	umount /home 2>/dev/null || true
	umount /var/lib/oslogin 2>/dev/null || true
	local d; d=$(mktemp -d /run/etc.XXXXXX); cp -a $PRISTINE/. "$d/"; mount --bind "$d" /etc
	mkdir -p /var/lib/oslogin; mount -t tmpfs tmpfs /home; mount -t tmpfs tmpfs /var/lib/oslogin
}
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
median() { tr ' ' '\n' | sort -n | sed -n 2p; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KEY=$(cut -d' ' -f1-2 "$SRC/tests/fixtures/keys/alice.pub")
python3 - "$N" "$KEY" >/run/fixture.json <<'PY'
import json, sys
n, key = int(sys.argv[1]), sys.argv[2]
keys = "\n".join(f"user{i:05d}:{key} user{i}" for i in range(n))
print(json.dumps({"instance": {"attributes": {"ssh-keys": keys}}, "project": {"attributes": {}}}))
PY
"$BUILD/tests/fake-metadata/oslogin-fake-metadata" --listen 127.0.0.1:$PORT --data /run/fixture.json --log /dev/null &
fake=$!
trap 'kill $fake 2>/dev/null' EXIT
sleep 0.3
first=() again=() inner=() rss=() ref=()
for run in 1 2 3; do
	fresh
	mkdir -p /etc/oslogin
	printf '[metadata]\nurl = http://127.0.0.1:%s/computeMetadata/v1/\n' "$PORT" >/etc/oslogin/oslogin.conf
	t=$(date +%s%N)
	/usr/bin/time -f %M -o /run/rss "$BUILD/accountsd/oslogin-accountsd" --once 2>/dev/null
	first+=($(ms $t)); rss+=($(cat /run/rss))
	t=$(date +%s%N); "$BUILD/accountsd/oslogin-accountsd" --once 2>/run/again.log; again+=($(ms $t))
	inner+=($(sed -n 's/.* in \([0-9]*\) ms:.*/\1/p' /run/again.log))
done
for run in 1 2 3; do
	fresh
	groupadd google-sudoers
	t=$(date +%s%N)
	for i in $(seq 0 $((N - 1))); do
		u=$(printf 'user%05d' "$i")
		useradd -m -p '*' -s /bin/bash "$u" && gpasswd -a "$u" google-sudoers >/dev/null
	done
	ref+=($(ms $t))
done
f=$(echo "${first[@]}" | median) a=$(echo "${again[@]}" | median) r=$(echo "${ref[@]}" | median)
echo "users: $N"
echo "accountsd first reconcile (files + homes + keys): median $f ms   (runs: ${first[*]})"
echo "accountsd unchanged reconcile (whole process):     median $a ms   (runs: ${again[*]})"
echo "  of which keys_reconcile() itself:               median $(echo "${inner[@]}" | median) ms   (runs: ${inner[*]})"
echo "accountsd peak RSS, first reconcile:              $(echo "${rss[@]}" | median) KiB"
echo "reference method (useradd -m + gpasswd -a):       median $r ms   (runs: ${ref[*]})"
echo "speed-up of the first reconcile: $(python3 -c "print(f'{$r/$f:.1f}x')")"
