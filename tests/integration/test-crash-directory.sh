#!/usr/bin/env bash
# Crash safety of the directory cache: 200 kill -9 at random moments while
# accountsd builds the OS Login cache of 20 000 users, the data switching
# between two generations every 10 kills. After every kill the cache file
# opens, passes its checks and holds exactly one generation (the old or the
# new one, never a mix), and no temp file is left beside it.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
TOOL=$BUILD/tests/tools/oslogin-cache-tool
for f in "$ACCOUNTSD" "$TOOL" "$FAKE"; do
	[ -x "$f" ] || { echo "not ok 1 - $f built"; echo "1..1"; exit 1; }
done
enter_namespace "$@"
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
N=${CRASH_DIRECTORY_USERS:-20000}
# gen PREFIX > FILE: N OS Login users named PREFIXNNNNN, enable-oslogin on.
gen() {
	python3 - "$1" "$N" <<'PY'
import json, sys
prefix, n = sys.argv[1], int(sys.argv[2])
base = 2000000000 if prefix == "a" else 2100000000
users = [{"name": f"{prefix}{i:05d}@example.com", "login": True, "adminLogin": False,
          "posixAccounts": [{"primary": True, "username": f"{prefix}{i:05d}", "uid": str(base + i), "gid": str(base + i),
                             "homeDirectory": f"/home/{prefix}{i:05d}", "shell": "/bin/bash", "gecos": "",
                             "operatingSystemType": "LINUX"}], "sshPublicKeys": {}} for i in range(n)]
groups = [{"name": f"{prefix}grp{g}", "gid": str(base + 900000 + g), "members": [f"{prefix}{i:05d}" for i in range(g, n, 500)]}
          for g in range(50)]
print(json.dumps({"instance": {"id": 1, "hostname": "crash", "attributes": {"enable-oslogin": "TRUE"}},
                  "project": {"projectId": "p", "numericProjectId": 1, "attributes": {}},
                  "oslogin": {"users": users, "groups": groups}}))
PY
}
gen a >/run/gen-a.json
gen b >/run/gen-b.json
start_fake /run/gen-a.json || { not_ok "fake starts"; done_testing; }
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[directory]\nrefresh_interval = 1h\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
CACHE=/run/oslogin/directory.cache

# One clean build first, so every kill below interrupts a replacement.
"$ACCOUNTSD" >/run/accountsd.log 2>&1 &
p=$!
check "first build" wait_for 60 "$TOOL" lookup $CACHE user a00000
kill -9 $p
wait $p 2>/dev/null
t0=$(date +%s%N)
"$ACCOUNTSD" >/run/accountsd.log 2>&1 &
p=$!
wait_for 60 bash -c "grep -q 'Directory cache built' /run/accountsd.log"
build_ms=$((($(date +%s%N) - t0) / 1000000))
kill -9 $p
wait $p 2>/dev/null
diag "start + build of $N users: $build_ms ms; kills spread over that"

bad=0 kills=0 seen_a=0 seen_b=0 t_start=$SECONDS
for i in $(seq 200); do
	if [ $((i % 10)) -eq 1 ]; then
		if [ $(((i / 10) % 2)) -eq 0 ]; then data=/run/gen-a.json; else data=/run/gen-b.json; fi
		curl -sf -X PUT --data-binary @$data "$FAKE_URL/_fake/data" >/dev/null
	fi
	"$ACCOUNTSD" >/run/accountsd.log 2>&1 &
	p=$!
	sleep "$(awk -v r=$RANDOM -v m="$build_ms" 'BEGIN { printf "%.3f", (r % (m + 200)) / 1000 }')"
	kill -9 $p 2>/dev/null && kills=$((kills + 1))
	wait $p 2>/dev/null
	a=0 b=0
	"$TOOL" lookup $CACHE user a00000 >/dev/null 2>&1 && a=1
	"$TOOL" lookup $CACHE user b00000 >/dev/null 2>&1 && b=1
	last_a=0 last_b=0
	"$TOOL" lookup $CACHE user "a$(printf '%05d' $((N - 1)))" >/dev/null 2>&1 && last_a=1
	"$TOOL" lookup $CACHE user "b$(printf '%05d' $((N - 1)))" >/dev/null 2>&1 && last_b=1
	# Exactly one generation, whole: its first and last user, none of the other's.
	if [ "$a$b$last_a$last_b" != 1010 ] && [ "$a$b$last_a$last_b" != 0101 ]; then
		bad=1
		diag "after kill $i: a00000=$a b00000=$b last a=$last_a last b=$last_b"
		ls -la /run/oslogin | sed 's/^/#   /'
		break
	fi
	[ $a = 1 ] && seen_a=$((seen_a + 1)) || seen_b=$((seen_b + 1))
done
check_eq "200 kill -9 during cache builds of $N users: the cache always opens and holds one whole generation" 0 "$bad"
diag "$kills daemons killed mid-run in $((SECONDS - t_start)) s; cache held generation a $seen_a times, b $seen_b times"
check "both generations were seen (kills landed before and after replacements)" test $seen_a -gt 0 -a $seen_b -gt 0
# A kill inside the short write window leaves a temp; the next start removes it.
stale=$(ls -A /run/oslogin | grep -c '^\.#' || true)
diag "temps left by the kills: $stale"
echo partial >/run/oslogin/.#directory.cache-0badc0
echo keep >/run/oslogin/.#other-0badc0
"$ACCOUNTSD" >/run/accountsd.log 2>&1 &
p=$!
_cleanup_pids+=($p)
current=$(basename "$data" .json)
current=${current#gen-}
check "a daemon left alone builds the current generation ($current)" wait_for 60 bash -c \
	"'$TOOL' lookup $CACHE user '${current}00000' >/dev/null"
# (The cache of the killed runs may already hold the current generation, so
# the check above can pass before the new daemon has started: wait for it.)
temps() { ls -A /run/oslogin | grep '^\.#' | xargs; }
wait_for 30 bash -c "grep -q 'unfinished cache file' /run/accountsd.log"
check_eq "… and removed the cache temps of the killed runs, nothing else" ".#other-0badc0" "$(temps)"
done_testing
