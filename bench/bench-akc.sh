#!/usr/bin/env bash
# oslogin-authorized-keys, the sshd AuthorizedKeysCommand, per call against
# the local fake metadata server (tests/fixtures/basic.json): wall time of
# N whole calls (median, p90, p99) for a user granted login, a user denied
# it, an unknown user and root (refused before any request: the start-up
# cost alone), and the metadata requests each call made (counted
# by the fake's /_fake/stats; the design allows at most 2). Baseline in the
# same run, taking turns with the helper: `cat` of an authorized_keys file
# holding the same key, i.e. the price of spawning any process at all.
# As root it runs in a private mount+network namespace with a /dev/log that
# receives the helper's audit line as a real host's syslog would.
# Usage: bench/bench-akc.sh [BUILD_DIR] [N]   (N defaults to 500; as a copy in
# BUILD/bench, run by bench/run.sh, its first argument is ignored).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/../tests/lib.sh" ]; then SRC=$(cd "$here/.." && pwd); else SRC=${OSLOGIN_SRC:-$PWD}; fi
if [ -d "${1:-}" ]; then BUILD=$(cd "$1" && pwd); elif [ -x "$here/spawn-timer" ]; then BUILD=$(cd "$here/.." && pwd); else BUILD=$SRC/build; fi
N=${2:-${N:-500}}
[ -f "$SRC/tests/lib.sh" ] || { echo "bench-akc: run from the source tree (or set OSLOGIN_SRC)" >&2; exit 1; }
export OSLOGIN_SRC=$SRC OSLOGIN_BUILD=$BUILD
if [ "$(id -u)" -eq 0 ] && [ -z "${OSLOGIN_IN_NAMESPACE:-}" ] && unshare --mount --net true 2>/dev/null; then
	exec env OSLOGIN_IN_NAMESPACE=1 unshare --mount --net --fork -- "$0" "$BUILD" "$N"
fi
. "$SRC/tests/lib.sh"
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
TIMER=$BUILD/bench/spawn-timer
for f in "$AKC" "$TIMER" "$FAKE"; do [ -x "$f" ] || { echo "bench-akc: $f not built" >&2; exit 1; }; done

if [ -n "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	enter_namespace
	capture_syslog /run/akc-syslog.log
	WORK=/run/bench-akc
	mkdir -p $WORK
else
	echo "(not root: no namespace, the audit line goes to the host's /dev/log if any)"
	WORK=$(mktemp -d /tmp/bench-akc.XXXXXX)
	on_exit "rm -rf '$WORK'"
fi
start_fake "$FIXTURES/basic.json" 127.0.0.1:$(free_port) --threads 2
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >$WORK/oslogin.conf
chmod 0644 $WORK/oslogin.conf
export OSLOGIN_CONFIG=$WORK/oslogin.conf
cp "$FIXTURES/keys/alice.pub" $WORK/authorized_keys
FP=$(ssh-keygen -lf "$FIXTURES/keys/alice.pub" | cut -d' ' -f2)
CTL=$FAKE_URL/_fake
requests() { curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }

# Sanity: the granted user really gets her key, the others nothing.
[ "$("$AKC" alice_example_com "$FP")" = "$(cat $WORK/authorized_keys)" ] || { echo "bench-akc: alice got no key" >&2; exit 1; }
[ -z "$("$AKC" carol_example_com "$FP")" ] || { echo "bench-akc: carol (denied) got a key" >&2; exit 1; }

echo "oslogin-authorized-keys USER FINGERPRINT, $N calls each, taking turns with 'cat authorized_keys' ($(nproc) cores)"
printf '%-34s %9s %9s %9s %13s %7s %14s\n' case median_us p90_us p99_us cat_median_us ratio mds_req/call
for c in granted:alice_example_com denied:carol_example_com unknown:nobody_example_com reserved:root; do
	case=${c%%:*} user=${c#*:}
	curl -sf -X DELETE "$CTL/stats" >/dev/null
	out=$("$TIMER" "$N" cat cat $WORK/authorized_keys --- "$case" "$AKC" "$user" "$FP")
	reqs=$(requests)
	get() { sed -n "s/^label=$1 .*$2=\([0-9]*\).*/\1/p" <<<"$out"; }
	akc_med=$(get "$case" median_us) cat_med=$(get cat median_us)
	# The warm-up calls are counted by the fake too: 3 more than N.
	per_call=$(awk -v r="$reqs" -v n="$N" 'BEGIN { printf "%.2f", r / (n + 3) }')
	printf '%-34s %9s %9s %9s %13s %6.1fx %14s\n' "$case ($user)" "$akc_med" "$(get "$case" p90_us)" \
		"$(get "$case" p99_us)" "$cat_med" "$(awk -v a="$akc_med" -v b="$cat_med" 'BEGIN { print a / b }')" "$per_call"
	awk -v p="$per_call" 'BEGIN { exit !(p > 2) }' && echo "bench-akc: $case made $per_call requests per call (> 2)" >&2
	grep -q 'failed=[1-9]' <<<"$out" && echo "bench-akc: some calls failed: $out" >&2
done
echo "reserved (root): refused before any request, i.e. the helper's start-up (libraries, config, syslog)"
