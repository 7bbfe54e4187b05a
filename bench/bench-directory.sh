#!/usr/bin/env bash
# OS Login directory benchmarks of oslogin-accountsd against a local fake
# server: cache build (time, peak RSS, file size) for USERS users and
# GROUPS groups, miss latency over nss.sock for users added after the
# build, a repeated unknown name (metadata requests counted), misses with
# the metadata server down, and the daemon's RSS with 1 000 metadata-key
# users. Usage: bench/bench-directory.sh [BUILD] [USERS] [GROUPS]
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build} USERS=${2:-100000} GROUPS_N=${3:-10000}
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd MISS=$BUILD/bench/bench-directory-miss
FAKE=$BUILD/tests/fake-metadata/oslogin-fake-metadata
T=$(mktemp -d /tmp/bench-directory.XXXXXX)
pids=()
# Under set -e a failing command ends a trap: kill of a daemon that already
# exited must not keep the others (and the temp dir) alive.
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT

python3 - "$USERS" "$GROUPS_N" "$T" <<'PY'
import json, sys
n, g, t = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def user(i, name=None):
    uid = str(2000000000 + i)
    name = name or f"u{i}"
    return {"name": f"{name}@example.com", "login": True, "adminLogin": False,
            "posixAccounts": [{"primary": True, "username": name, "uid": uid, "gid": uid,
                               "homeDirectory": f"/home/{name}", "shell": "/bin/bash", "gecos": f"User {i}",
                               "operatingSystemType": "LINUX"}], "sshPublicKeys": {}}
users = [user(i) for i in range(n)]
groups = [{"name": f"g{j}", "gid": str(2100000000 + j), "members": [f"u{(j * 10 + k) % n}" for k in range(10)]}
          for j in range(g)]
base = {"instance": {"id": 1, "hostname": "bench", "attributes": {"enable-oslogin": "TRUE"}},
        "project": {"projectId": "bench", "numericProjectId": 1, "attributes": {}},
        "oslogin": {"users": users, "groups": groups}}
json.dump(base, open(f"{t}/big.json", "w"))
base["oslogin"]["users"] = users + [user(n + i, f"new{i}") for i in range(1000)]
json.dump(base, open(f"{t}/big-plus.json", "w"))
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
cp "$T/big.json" "$T/serving.json"
"$FAKE" --listen 127.0.0.1:$PORT --data "$T/serving.json" --log /dev/null --threads 2 &
fake=$!
pids+=($fake)
for _ in $(seq 100); do curl -sf -H 'Metadata-Flavor: Google' $URL/computeMetadata/v1/ >/dev/null && break; sleep 0.1; done
# sshd -t (activation) wants its privilege separation directory, as on a host.
mkdir -p /run/sshd
cp -a /etc "$T/root-etc" 2>/dev/null || true
mkdir -p "$T/root/var/lib" "$T/root/home" "$T/run" && mv "$T/root-etc" "$T/root/etc"
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$URL" >"$T/oslogin.conf"
chmod 644 "$T/oslogin.conf"
# Requests to oslogin/users (the long-poll on the attribute document is not counted).
requests() { curl -sf "$URL/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["paths"].get("/computeMetadata/v1/oslogin/users", 0))'; }

echo "-- cache build: $USERS users, $GROUPS_N groups"
/usr/bin/time -f "elapsed_s=%e peak_rss_kb=%M" "$ACCOUNTSD" --once --config "$T/oslogin.conf" --root "$T/root" \
	--runtime-dir "$T/run" 2>&1 | grep -E 'Directory cache built|elapsed_s' | sed 's/^.*Directory/Directory/'
echo "cache_file_bytes=$(stat -c %s "$T/run/directory.cache")"

echo "-- misses over nss.sock (daemon running, 1 000 users added after the build)"
"$ACCOUNTSD" --config "$T/oslogin.conf" --root "$T/root" --runtime-dir "$T/run" 2>"$T/daemon.log" &
dpid=$!
pids+=($dpid)
for _ in $(seq 300); do grep -q 'Directory cache built' "$T/daemon.log" && break; sleep 0.1; done
echo "daemon_rss_kb_after_build=$(awk '/VmRSS/ {print $2}' /proc/$dpid/status)"
cp "$T/big-plus.json" "$T/serving.json" && kill -HUP $fake # the fake reloads its --data file
for _ in $(seq 600); do
	curl -sf -H 'Metadata-Flavor: Google' "$URL/computeMetadata/v1/oslogin/users?username=new999" >/dev/null && break
	sleep 0.1
done
curl -sf -X DELETE "$URL/_fake/stats" >/dev/null
"$MISS" "$T/run/nss.sock" new 1000
echo "mds_requests_for_1000_misses=$(requests)"
echo "-- one unknown name asked 1 000 times"
curl -sf -X DELETE "$URL/_fake/stats" >/dev/null
"$MISS" "$T/run/nss.sock" ghost_example_com -1000
echo "mds_requests_for_1000_lookups_of_one_unknown_name=$(requests)"
echo "-- metadata server down (503), breaker open"
curl -sf -X PUT --data '{"status":503}' "$URL/_fake/faults" >/dev/null
"$MISS" "$T/run/nss.sock" trip 4 >/dev/null || true
"$MISS" "$T/run/nss.sock" down 500 || true
curl -sf -X DELETE "$URL/_fake/faults" >/dev/null
kill $dpid; wait $dpid 2>/dev/null || true

echo "-- accountsd RSS with 1 000 metadata-key users"
keys=$(python3 -c '
key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY+cssukTyN7nEORReToMY3FEli0UG3FUobp7k"
print("\n".join(f"mk{i:04d}:{key} mk{i}" for i in range(1000)))')
curl -sf -X PUT --data FALSE "$URL/_fake/attributes/instance/enable-oslogin" >/dev/null
curl -sf -X PUT --data-binary "$keys" "$URL/_fake/attributes/instance/ssh-keys" >/dev/null
"$ACCOUNTSD" --config "$T/oslogin.conf" --root "$T/root" --runtime-dir "$T/run" 2>"$T/daemon2.log" &
dpid=$!
pids+=($dpid)
for _ in $(seq 300); do grep -q 'Reconciled' "$T/daemon2.log" && break; sleep 0.1; done
sleep 0.5
echo "metadata_users=$(grep -c '^mk' "$T/root/etc/passwd") daemon_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$dpid/status)"
