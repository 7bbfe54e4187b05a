#!/usr/bin/env bash
# oslogin-authorized-keys and oslogin-authorized-principals, thin clients
# of accountsd's keys.sock:
#   1. against the real daemon and the fake metadata server: the keys it
#      prints, the metadata requests one login costs, the fingerprint
#      filter, the faults of the server (fail closed, exit 1), the audit;
#   2. against tests/tools/fake-broker.py for what the daemon cannot do
#      on demand: gone, hung, malformed, oversized, another kind's reply;
#   3. the program itself: libc only, usage, SIGPIPE, unprivileged,
#      valgrind.
# Exit status: 0 when the output is authoritative, 1 when it is not.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
AKP=$BUILD/authorized-keys-cmd/oslogin-authorized-principals
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
FAKE_BROKER=$SRC/tests/tools/fake-broker.py
for f in "$AKC" "$AKP"; do
	[ -x "$f" ] || { not_ok "built: $f"; done_testing; }
done
SYSLOG=/run/akc-syslog.log
capture_syslog "$SYSLOG" || not_ok "syslog capture"
ALICE_KEY=$(cat "$FIXTURES/keys/alice.pub")
ALICE_FP=$(ssh-keygen -lf "$FIXTURES/keys/alice.pub" | cut -d' ' -f2)

# akc ARGS...: sets OUT, RC, MS (the socket comes from OSLOGIN_KEYS_SOCKET).
akc() {
	local t0=$(date +%s%N)
	OUT=$("$AKC" "$@" 2>/dev/null)
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}
akp() {
	OUT=$("$AKP" "$@" 2>/dev/null)
	RC=$?
}
syslog_count() { grep -c -- "$1" "$SYSLOG"; }
# syslog_settle PATTERN N: waits (3 s at most) until PATTERN has N lines:
# the capture is asynchronous; the count is then checked exactly.
syslog_has() { [ "$(syslog_count "$1")" -ge "$2" ]; }
syslog_settle() { wait_for 3 syslog_has "$1" "$2" || true; sleep 0.05; }

# --- 1. the real daemon ------------------------------------------------------
. "$SRC/tests/integration/broker-daemon.sh"
private_etc
private_dir /var/lib/oslogin /home
if start_broker_daemon "$FIXTURES/basic.json"; then
	export OSLOGIN_KEYS_SOCKET=$BROKER_KEYS_SOCKET
	reset_stats
	akc alice_example_com
	check_eq "alice (login granted): her key, exit 0" "0:$ALICE_KEY" "$RC:$OUT"
	check_eq "two metadata requests (profile, authorize)" 2 "$(requests)"
	akc alice_example_com
	check_eq "the second run of the same login: the same key" "0:$ALICE_KEY" "$RC:$OUT"
	check_eq "… and the answer was shared: still two requests" 2 "$(requests)"
	akc alice_example_com "$ALICE_FP"
	check_eq "fingerprint filter: matching key printed" "0:$ALICE_KEY" "$RC:$OUT"
	akc alice_example_com SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
	check_eq "fingerprint filter: other fingerprint prints nothing, exit 0" "0:" "$RC:$OUT"
	akc carol_example_com
	check_eq "carol (no login): nothing, exit 0" "0:" "$RC:$OUT"
	reset_stats
	akc nobody_example_com
	check_eq "unknown user: nothing, exit 0, one request" "0::1" "$RC:$OUT:$(requests)"
	akc localuser
	check_eq "a local account (in /etc/passwd): nothing, exit 0" "0:" "$RC:$OUT"
	reset_stats
	for name in 'a:b' '../etc' '-rf' '-c/tmp/x' '--config=/tmp/x' '--help' 'root' "$(printf 'a\nb')" \
		abcdefghijabcdefghijabcdefghij123; do
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
	forget_answers
	akc bob_example_com
	check_eq "expired and non-numeric expiry dropped, future kept" "future" \
		"$(echo "$OUT" | awk '{print $NF}' | tr '\n' ' ' | xargs)"
	curl -sf -X PUT --data-binary @"$FIXTURES/basic.json" "$CTL/data" >/dev/null

	# Faults of the metadata server: within the daemon's deadline (1 s),
	# nothing printed, exit 1 (not authoritative).
	forget_answers
	fault '{"status":503,"count":2}'
	akc alice_example_com
	check_eq "503 burst: retried by the daemon, keys printed" "0:$ALICE_KEY" "$RC:$OUT"
	for f in '{"status":500}' '{"status":403}' '{"body":"nonjson"}' '{"body":"truncated"}' \
		'{"body":"oversized"}' '{"body":"wrongtypes"}' '{"no_flavor":true}' '{"drop":true}' \
		'{"blackhole":true}' '{"delay_ms":3000}'; do
		forget_answers
		fault "$f"
		akc alice_example_com
		if [ "$RC" = 1 ] && [ -z "$OUT" ] && [ "$MS" -lt 2500 ]; then
			ok "fault $f: nothing printed, exit 1, ${MS} ms"
		else
			not_ok "fault $f: rc=$RC, ${MS} ms, output: ${OUT:0:80}"
		fi
		clear_faults
	done
	forget_answers
	fault '{"status":500,"path_prefix":"/computeMetadata/v1/oslogin/authorize"}'
	akc alice_example_com
	check_eq "authorize failing after the profile: nothing printed, exit 1" "1:" "$RC:$OUT"
	clear_faults

	# The principals command: the daemon side comes with issue 15; until
	# then it denies every certificate.
	akp alice_example_com AAAAB3NzaC1yc2EAAAADAQABAAABAQ
	check_eq "principals: certificates not enabled yet: nothing, exit 0" "0:" "$RC:$OUT"
	check "daemon alive after the principals question" kill -0 "$ACCOUNTSD_PID"

	# Peer check: keys.sock serves root and the AuthorizedKeysCommandUser only.
	OUT=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env OSLOGIN_KEYS_SOCKET=$BROKER_KEYS_SOCKET \
		"$AKC" alice_example_com 2>/dev/null)
	check_eq "as nobody (not the AuthorizedKeysCommandUser): refused, nothing printed, exit 1" "1:" "$?:$OUT"
	OUT=$(setpriv --reuid="$AKC_USER" --regid="$AKC_USER" --clear-groups env OSLOGIN_KEYS_SOCKET=$BROKER_KEYS_SOCKET \
		"$AKC" alice_example_com 2>/dev/null)
	check_eq "as the AuthorizedKeysCommandUser: alice's key" "$ALICE_KEY" "$OUT"

	# The daemon gone: no keys at once, exit 1.
	stop_broker_daemon
	akc alice_example_com
	check_eq "daemon stopped: nothing printed, exit 1" "1:" "$RC:$OUT"
	[ "$MS" -lt 100 ] && ok "daemon stopped: answered in ${MS} ms" || not_ok "daemon stopped took ${MS} ms"
	sleep 0.2
	check "audit: the daemon logged alice's grant" grep -q 'alice_example_com' "$ACCOUNTSD_LOG"
else
	not_ok "the real accountsd serves keys.sock" "$(tail -5 "${ACCOUNTSD_LOG:-/dev/null}" 2>/dev/null)"
fi

# --- 2. faults, from the stand-in ---------------------------------------------
SOCK=/run/fake-broker/keys.sock
WORLD=/run/fake-broker/world.json
QLOG=/run/fake-broker/requests.log
mkdir -p /run/fake-broker && chmod 0755 /run/fake-broker
world() { # MODE
	cat >"$WORLD.tmp" <<EOF
{"mode": "$1", "users": {
  "alice_example_com": {"status": "granted", "keys": ["$ALICE_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB second"],
                        "principals": ["alice_example_com", "alice"]},
  "carol_example_com": {"status": "denied", "message": "lacks the login policy"},
  "dave_example_com": {"status": "unavailable", "message": "metadata server down"},
  "erin_example_com": {"status": "refused", "message": "peer uid 65534"},
  "localuser": {"status": "not-ours"}}}
EOF
	mv "$WORLD.tmp" "$WORLD"
}
world answer
: >"$QLOG"
python3 "$FAKE_BROKER" "$SOCK" "$WORLD" "$QLOG" >/run/fake-broker/ready &
_cleanup_pids+=($!)
wait_for 5 grep -q ready /run/fake-broker/ready || not_ok "fake broker starts"
export OSLOGIN_KEYS_SOCKET=$SOCK OSLOGIN_BROKER_TIMEOUT_MS=400

akc alice_example_com
check_eq "stand-in GRANTED: both lines printed, exit 0" "0:$ALICE_KEY"$'\n'"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB second" "$RC:$OUT"
akc alice_example_com "$ALICE_FP"
check "the fingerprint travels to the daemon" grep -q "\"fingerprint\": \"$ALICE_FP\"" "$QLOG"
akc carol_example_com
check_eq "DENIED: nothing, exit 0" "0:" "$RC:$OUT"
akc nobody_example_com
check_eq "UNKNOWN_USER: nothing, exit 0" "0:" "$RC:$OUT"
akc localuser
check_eq "NOT_OURS: nothing, exit 0 (sshd's own files decide)" "0:" "$RC:$OUT"
n=$(syslog_count 'user=dave_example_com')
akc dave_example_com
check_eq "UNAVAILABLE: nothing, exit 1" "1:" "$RC:$OUT"
syslog_settle 'user=dave_example_com' $((n + 1))
check_eq "UNAVAILABLE: one syslog line with the daemon's reason" 1 \
	$(($(syslog_count 'user=dave_example_com keys: accountsd cannot decide now (unavailable): metadata server down') - n))
akc erin_example_com
check_eq "REFUSED: nothing, exit 1" "1:" "$RC:$OUT"
sleep 0.1
check "REFUSED: logged" wait_for 3 grep -q 'user=erin_example_com keys: accountsd refused to answer this caller' "$SYSLOG"

: >"$QLOG"
for name in 'a:b' '../etc' '-rf' '--help' 'root' "$(printf 'a\nb')" abcdefghijabcdefghijabcdefghij123; do
	akc "$name"
	[ "$RC:$OUT" = "0:" ] || not_ok "invalid name '$name' printed something or failed ($RC)"
done
check_eq "invalid names and root: nothing printed, exit 0, nothing asked" 0 "$(wc -l <"$QLOG")"
akc alice_example_com "$(printf 'SHA256:a\nb')"
check_eq "a fingerprint with a newline: nothing, exit 0, nothing asked" "0::0" "$RC:$OUT:$(wc -l <"$QLOG")"
akc alice_example_com "SHA256:$(head -c 1100 /dev/zero | tr '\0' A)"
check_eq "an oversized fingerprint: nothing, exit 0, nothing asked" "0::0" "$RC:$OUT:$(wc -l <"$QLOG")"
sleep 0.1
check "invalid names logged without the name" wait_for 3 grep -q 'user=(invalid) keys: invalid or reserved user name' "$SYSLOG"

# Malformed answers: exit 1, nothing printed, one log line each.
for mode in garbage oversize truncated other-kind bad-version close; do
	world "$mode"
	n=$(syslog_count 'user=alice_example_com keys: accountsd unreachable')
	akc alice_example_com
	syslog_settle 'user=alice_example_com keys: accountsd unreachable' $((n + 1))
	m=$(($(syslog_count 'user=alice_example_com keys: accountsd unreachable') - n))
	if [ "$RC" = 1 ] && [ -z "$OUT" ] && [ "$m" = 1 ] && [ "$MS" -lt 400 ]; then
		ok "reply '$mode': nothing printed, exit 1, one log line, ${MS} ms"
	else
		not_ok "reply '$mode': rc=$RC, $m log lines, ${MS} ms, output: ${OUT:0:80}"
	fi
done
# A hung daemon: bounded by the timeout.
world hang
akc alice_example_com
if [ "$RC" = 1 ] && [ -z "$OUT" ] && [ "$MS" -ge 380 ] && [ "$MS" -lt 1000 ]; then
	ok "hung daemon: nothing, exit 1, after the 400 ms timeout (${MS} ms)"
else
	not_ok "hung daemon: rc=$RC, ${MS} ms, output: ${OUT:0:80}"
fi
world answer
# The daemon gone: no socket, or a socket nobody listens on.
OSLOGIN_KEYS_SOCKET=/run/fake-broker/nothing.sock akc alice_example_com
check_eq "no socket: nothing, exit 1" "1:" "$RC:$OUT"
[ "$MS" -lt 100 ] && ok "no socket: answered in ${MS} ms" || not_ok "no socket took ${MS} ms"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' /run/fake-broker/dead.sock
OSLOGIN_KEYS_SOCKET=/run/fake-broker/dead.sock akc alice_example_com
check_eq "a socket nobody listens on: nothing, exit 1" "1:" "$RC:$OUT"
[ "$MS" -lt 100 ] && ok "dead socket: answered in ${MS} ms" || not_ok "dead socket took ${MS} ms"
sleep 0.1
check "unreachable: logged with the reason" wait_for 3 grep -q 'accountsd unreachable at /run/fake-broker/nothing.sock (No such file or directory)' "$SYSLOG"
check "logs go to authpriv (facility 10)" wait_for 3 grep -q '^<8[0-9]>.*oslogin-authorized-keys' "$SYSLOG"

# The principals command.
akp alice_example_com AAAAB3NzaC1yc2EAAAADAQABAAABAQ
check_eq "principals GRANTED: one per line, exit 0" "0:alice_example_com"$'\n'"alice" "$RC:$OUT"
check "the certificate travels to the daemon" grep -q '"certificate": "AAAAB3NzaC1yc2EAAAADAQABAAABAQ"' "$QLOG"
akp carol_example_com AAAA
check_eq "principals DENIED: nothing, exit 0" "0:" "$RC:$OUT"
akp alice_example_com ""
check_eq "principals, empty certificate: nothing, exit 0, not asked" "0:" "$RC:$OUT"
world hang
akp alice_example_com AAAA
check_eq "principals, hung daemon: nothing, exit 1" "1:" "$RC:$OUT"
world answer
"$AKP" alice_example_com >/dev/null 2>&1
check_eq "principals, one argument: exit 1" 1 $?

# --- 3. the program ------------------------------------------------------------
for f in "$AKC" "$AKP"; do
	f=${f/#$BUILD/$MODULES_BUILD}
	check_eq "$(basename "$f") links libc only (readelf -d)" "libc.so.6" \
		"$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | xargs)"
	check_eq "$(basename "$f"): ldd lists nothing but libc, the vDSO and the loader" "libc.so.6" \
		"$(ldd "$f" | awk '{print $1}' | grep -v -e '^linux-vdso' -e '^/lib.*ld-linux' -e 'ld-linux' | xargs)"
done
"$AKC" >/dev/null 2>&1
check_eq "no argument: exit 1" 1 $?
"$AKC" a b c >/dev/null 2>&1
check_eq "three arguments: exit 1" 1 $?
OUT=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env OSLOGIN_KEYS_SOCKET=$SOCK "$AKC" alice_example_com 2>&1 | head -1)
check_eq "runs as nobody" "$ALICE_KEY" "$OUT"
( "$AKC" alice_example_com; echo "rc=$?" >/run/pipe-rc ) | true
sleep 0.2
check_eq "closed stdout: exit 0, no signal" "rc=0" "$(cat /run/pipe-rc)"
valgrind_check "valgrind: granted" "$AKC" alice_example_com "$ALICE_FP"
valgrind_check "valgrind: denied" "$AKC" carol_example_com
valgrind_check "valgrind: principals granted" "$AKP" alice_example_com AAAA
world garbage
valgrind_check "valgrind: malformed reply" "$AKC" alice_example_com
world answer
done_testing
