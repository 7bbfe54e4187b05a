#!/usr/bin/env bash
# oslogin-authorized-keys, the sshd AuthorizedKeysCommand, a thin client of
# accountsd's keys.sock, per call: wall time of N whole calls (median, p90,
# p99) for a user granted login, a user denied it, an unknown user and root
# (refused before any question: the start-up cost alone), and the metadata
# requests each call made the daemon send (counted by the fake's
# /_fake/stats). Two daemons in turn against the local fake metadata server
# (tests/fixtures/basic.json):
#   shared      [broker] answer_ttl = 1h: the answer is shared, as the
#               second key-helper run and the PAM step of one login see it;
#   not shared  answer_ttl = 0: every call makes the daemon ask the server.
# Baseline in the same run, taking turns with the helper: `cat` of an
# authorized_keys file holding the same key, i.e. the price of spawning any
# process at all. As root it runs in a private mount+network namespace.
# Usage: bench/bench-akc.sh [BUILD_DIR] [N]   (N defaults to 500; as a copy in
# BUILD/bench, run by bench/run.sh, its first argument is ignored).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/../tests/lib.sh" ]; then SRC=$(cd "$here/.." && pwd); else SRC=${OSLOGIN_SRC:-$PWD}; fi
if [ -d "${1:-}" ]; then BUILD=$(cd "$1" && pwd); elif [ -x "$here/spawn-timer" ]; then BUILD=$(cd "$here/.." && pwd); else BUILD=$SRC/build; fi
N=${2:-${N:-500}}
[ -f "$SRC/tests/lib.sh" ] || { echo "bench-akc: run from the source tree (or set OSLOGIN_SRC)" >&2; exit 1; }
export OSLOGIN_SRC=$SRC OSLOGIN_BUILD=$BUILD
if [ "$(id -u)" -ne 0 ] || ! unshare --mount --net true 2>/dev/null; then
	echo "bench-akc: needs root and unshare (accountsd runs in a private namespace)" >&2
	exit 1
fi
if [ -z "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	exec env OSLOGIN_IN_NAMESPACE=1 unshare --mount --net --fork -- "$0" "$BUILD" "$N"
fi
. "$SRC/tests/lib.sh"
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
TIMER=$BUILD/bench/spawn-timer
for f in "$AKC" "$ACCOUNTSD" "$TIMER" "$FAKE"; do [ -x "$f" ] || { echo "bench-akc: $f not built" >&2; exit 1; }; done

enter_namespace
capture_syslog /run/akc-syslog.log
private_etc
private_dir /var/lib/oslogin /home
WORK=/run/bench-akc
mkdir -p $WORK
python3 - "$FIXTURES/basic.json" >$WORK/fixture.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["instance"]["attributes"]["enable-oslogin"] = "TRUE"
print(json.dumps(d))
PY
start_fake $WORK/fixture.json 127.0.0.1:$(free_port) --threads 2
cp "$FIXTURES/keys/alice.pub" $WORK/authorized_keys
FP=$(ssh-keygen -lf "$FIXTURES/keys/alice.pub" | cut -d' ' -f2)
CTL=$FAKE_URL/_fake
requests() { curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }

# daemon TTL: (re)starts accountsd with [broker] answer_ttl = TTL.
DPID=
daemon() {
	[ -n "$DPID" ] && { kill "$DPID"; wait "$DPID" 2>/dev/null || true; }
	mkdir -p /etc/oslogin
	printf '[metadata]\nurl = %s/computeMetadata/v1/\n[broker]\nanswer_ttl = %s\n' "$FAKE_URL" "$1" \
		>/etc/oslogin/oslogin.conf
	chmod 0644 /etc/oslogin/oslogin.conf
	rm -f /run/oslogin/keys.sock
	"$ACCOUNTSD" >>$WORK/accountsd.log 2>&1 &
	DPID=$!
	_cleanup_pids+=("$DPID")
	wait_for 15 test -S /run/oslogin/keys.sock || { echo "bench-akc: accountsd did not start" >&2; exit 1; }
	sleep 1 # its first directory build, not what is measured here
}

run_cases() { # LABEL
	for c in granted:alice_example_com denied:carol_example_com unknown:nobody_example_com reserved:root; do
		local case=${c%%:*} user=${c#*:} out reqs akc_med cat_med per_call
		curl -sf -X DELETE "$CTL/stats" >/dev/null
		out=$("$TIMER" "$N" cat cat $WORK/authorized_keys --- "$case" "$AKC" "$user" "$FP")
		reqs=$(requests)
		get() { sed -n "s/^label=$1 .*$2=\([0-9]*\).*/\1/p" <<<"$out"; }
		akc_med=$(get "$case" median_us) cat_med=$(get cat median_us)
		# The warm-up calls are counted by the fake too: 3 more than N.
		per_call=$(awk -v r="$reqs" -v n="$N" 'BEGIN { printf "%.2f", r / (n + 3) }')
		printf '%-12s %-30s %9s %9s %9s %13s %9s %14s\n' "$1" "$case ($user)" "$akc_med" "$(get "$case" p90_us)" \
			"$(get "$case" p99_us)" "$cat_med" "$((akc_med - cat_med))" "$per_call"
		if grep -q 'failed=[1-9]' <<<"$out"; then echo "bench-akc: some calls failed: $out" >&2; fi
	done
}

echo "oslogin-authorized-keys USER FINGERPRINT, $N calls each, taking turns with 'cat authorized_keys' ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-12s %-30s %9s %9s %9s %13s %9s %14s\n' answers case median_us p90_us p99_us cat_median_us over_cat mds_req/call
for mode in shared:1h not-shared:0; do
	daemon "${mode#*:}"
	# Sanity: the granted user really gets her key, the others nothing.
	[ "$("$AKC" alice_example_com "$FP")" = "$(cat $WORK/authorized_keys)" ] || { echo "bench-akc: alice got no key" >&2; exit 1; }
	[ -z "$("$AKC" carol_example_com "$FP")" ] || { echo "bench-akc: carol (denied) got a key" >&2; exit 1; }
	run_cases "${mode%%:*}"
done
echo "reserved (root): refused before any question, i.e. the helper's start-up (libc, syslog)"
