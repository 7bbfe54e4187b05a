#!/usr/bin/env bash
# oslogin-authorized-keys against the fake metadata server: the keys it
# prints, the requests it makes (at most two), its deadline under every
# fault, its audit log, and that it runs unprivileged.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
[ -x "$AKC" ] || { not_ok "oslogin-authorized-keys built at $AKC"; done_testing; }
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
CTL=$FAKE_URL/_fake
SYSLOG=/run/akc-syslog.log
capture_syslog "$SYSLOG" || not_ok "syslog capture"

CONF=/run/oslogin-test/oslogin.conf
mkdir -p /run/oslogin-test
cat >"$CONF" <<CONF
[metadata]
url = $FAKE_URL/computeMetadata/v1/
[authorized_keys]
deadline = 1s
CONF
chmod 0644 "$CONF"

fault() { curl -sf -X PUT --data "$1" "$CTL/faults" >/dev/null; }
clear_faults() { curl -sf -X DELETE "$CTL/faults" >/dev/null; }
reset_stats() { curl -sf -X DELETE "$CTL/stats" >/dev/null; }
requests() { curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
# akc ARGS...: sets OUT, RC, MS
akc() {
	local t0=$(date +%s%N)
	OUT=$(OSLOGIN_CONFIG=$CONF "$AKC" "$@" 2>/dev/null)
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}
ALICE_KEY=$(cat "$FIXTURES/keys/alice.pub")
ALICE_FP=$(ssh-keygen -lf "$FIXTURES/keys/alice.pub" | cut -d' ' -f2)

reset_stats
akc alice_example_com
check_eq "alice (login granted): her key, exit 0" "0:$ALICE_KEY" "$RC:$OUT"
check_eq "two metadata requests per call" 2 "$(requests)"
akc alice_example_com "$ALICE_FP"
check_eq "fingerprint filter: matching key printed" "$ALICE_KEY" "$OUT"
akc alice_example_com SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
check_eq "fingerprint filter: other fingerprint prints nothing" "0:" "$RC:$OUT"
akc carol_example_com
check_eq "carol (no login): nothing, exit 0" "0:" "$RC:$OUT"
reset_stats
akc nobody_example_com
check_eq "unknown user: nothing, exit 0, one request" "0::1" "$RC:$OUT:$(requests)"
reset_stats
for name in 'a:b' '../etc' '-rf' '-c/tmp/x' '--config=/tmp/x' '--help' 'root' "$(printf 'a\nb')" abcdefghijabcdefghijabcdefghij123; do
	akc "$name"
	[ "$RC:$OUT" = "0:" ] || not_ok "invalid name '$name' printed something or failed ($RC)"
done
check_eq "invalid names and root: nothing printed, no request made" 0 "$(requests)"

# An expired key and a non-numeric expiry are not printed; a future one is.
python3 - "$FIXTURES/basic.json" >/run/expiry.json <<'PY'
import json, sys
fx = json.load(open(sys.argv[1]))
bob = fx["oslogin"]["users"][1]
key = list(bob["sshPublicKeys"].values())[0]["key"]
bob["sshPublicKeys"] = {
    "past": {"key": key + " past", "expirationTimeUsec": "1000000"},
    "bad": {"key": key + " bad", "expirationTimeUsec": "tomorrow"},
    "future": {"key": key + " future", "expirationTimeUsec": str(4102444800 * 10**6)},
}
print(json.dumps(fx))
PY
curl -sf -X PUT --data-binary @/run/expiry.json "$CTL/data" >/dev/null
akc bob_example_com
check_eq "expired and non-numeric expiry dropped, future kept" "future" "$(echo "$OUT" | awk '{print $NF}' | tr '\n' ' ' | xargs)"
curl -sf -X PUT --data-binary @"$FIXTURES/basic.json" "$CTL/data" >/dev/null

# Faults: the answer comes within the deadline (1 s), fails closed, exit 0.
fault '{"status":503,"count":2}'
akc alice_example_com
check_eq "503 burst: retried, keys printed" "0:$ALICE_KEY" "$RC:$OUT"
for f in '{"status":500}' '{"status":403}' '{"status":404}' '{"body":"nonjson"}' '{"body":"truncated"}' \
	'{"body":"oversized"}' '{"body":"wrongtypes"}' '{"no_flavor":true}' '{"drop":true}' '{"blackhole":true}' \
	'{"delay_ms":3000}'; do
	fault "$f"
	akc alice_example_com
	if [ "$RC" = 0 ] && [ -z "$OUT" ] && [ "$MS" -lt 2000 ]; then
		ok "fault $f: nothing printed, exit 0, ${MS} ms"
	else
		not_ok "fault $f: rc=$RC, ${MS} ms, output: ${OUT:0:80}"
	fi
	clear_faults
done
fault '{"status":500,"path_prefix":"/computeMetadata/v1/oslogin/authorize"}'
akc alice_example_com
check_eq "authorize failing after the profile: nothing printed" "0:" "$RC:$OUT"
clear_faults
kill "$FAKE_PID"
akc alice_example_com
check_eq "server down: nothing printed, exit 0" "0:" "$RC:$OUT"
[ "$MS" -lt 2000 ] && ok "server down: answered in ${MS} ms" || not_ok "server down took ${MS} ms"
start_fake "$FIXTURES/basic.json" "$FAKE_ADDR" || not_ok "fake restarts"

# Usage errors.
OSLOGIN_CONFIG=$CONF "$AKC" >/dev/null 2>&1
check_eq "no argument: exit 1" 1 $?
OSLOGIN_CONFIG=$CONF "$AKC" a b c >/dev/null 2>&1
check_eq "three arguments: exit 1" 1 $?
chmod 0666 "$CONF"
OSLOGIN_CONFIG=$CONF "$AKC" alice_example_com >/dev/null 2>&1
check_eq "world-writable config refused: exit 1" 1 $?
chmod 0644 "$CONF"

# Unprivileged, and SIGPIPE-safe.
OUT=$(OSLOGIN_CONFIG=$CONF setpriv --reuid=nobody --regid=nogroup --clear-groups "$AKC" alice_example_com 2>&1)
check_eq "runs as nobody" "$ALICE_KEY" "$OUT"
( OSLOGIN_CONFIG=$CONF "$AKC" alice_example_com; echo "rc=$?" >/run/pipe-rc ) | true
sleep 0.2
check_eq "closed stdout: exit 0, no signal" "rc=0" "$(cat /run/pipe-rc)"

# Under valgrind: granted, denied, unknown, and a failing server.
OSLOGIN_CONFIG=$CONF valgrind_check "valgrind: granted call" "$AKC" alice_example_com "$ALICE_FP"
OSLOGIN_CONFIG=$CONF valgrind_check "valgrind: denied call" "$AKC" carol_example_com
OSLOGIN_CONFIG=$CONF valgrind_check "valgrind: unknown user" "$AKC" nobody_example_com
fault '{"status":503}'
OSLOGIN_CONFIG=$CONF valgrind_check "valgrind: server answering 503 until the deadline" "$AKC" alice_example_com
clear_faults

# The audit trail.
sleep 0.2
check "audit: granted decision with fingerprint" grep -q "user=alice_example_com email=alice@example.com decision=granted reason=\"login granted\" keys=\[$ALICE_FP\]" "$SYSLOG"
check "audit: denied decision for carol" grep -q 'user=carol_example_com email=carol@example.com decision=denied reason="login policy denies"' "$SYSLOG"
check "audit: unavailable when the server is down" grep -q 'decision=unavailable reason="metadata server unavailable"' "$SYSLOG"
check "audit: invalid names logged without the name" grep -q 'user=(invalid) email=- decision=denied' "$SYSLOG"
check "audit goes to authpriv (facility 10)" grep -q '^<8[0-9]>' "$SYSLOG"
done_testing
