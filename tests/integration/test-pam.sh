#!/usr/bin/env bash
# pam_oslogin.so loaded by libpam (pamtester), a thin client of accountsd's
# pam.sock:
#   1. against the real daemon and the fake metadata server: the account
#      decision for local, root, OS Login and unknown users, sudo granted
#      and revoked by the daemon from adminLogin, failing closed when the
#      server fails, no password for OS Login users, the two-factor flow;
#   2. against tests/tools/fake-broker.py for what the daemon cannot do on
#      demand: gone, hung, malformed, oversized, another kind's reply,
#      NOT_OURS, REFUSED, and the two-factor conversation in detail;
#   3. the module itself: libc and libpam only, exports, valgrind.
# OS Login users are resolved through nss_wrapper here (the module asks
# NSS for the UID); test-e2e-sshd.sh does the same through the real NSS
# module and sshd.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
FAKE_BROKER=$SRC/tests/tools/fake-broker.py
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
command -v pamtester >/dev/null || { skip "pam tests" "pamtester not installed"; done_testing; }
[ -n "$NSSW" ] || { skip "pam tests" "libnss-wrapper not installed"; done_testing; }
[ -f "$MODULE" ] || { not_ok "pam_oslogin.so built at $MODULE"; done_testing; }
SYSLOG=/run/pam-syslog.log
capture_syslog "$SYSLOG" || not_ok "syslog capture"
. "$SRC/tests/integration/broker-daemon.sh"
private_etc
private_dir /var/lib/oslogin /home
daemon_up=0
start_broker_daemon "$FIXTURES/basic.json" && daemon_up=1

# OS Login users as NSS would answer for them, beside the local files.
useradd -m localuser 2>/dev/null
cp /etc/passwd /run/nssw-passwd
cp /etc/group /run/nssw-group
cat >>/run/nssw-passwd <<'EOF'
alice_example_com:*:2000001001:2000001001::/home/alice_example_com:/bin/bash
bob_example_com:*:2000001002:2000001002::/home/bob_example_com:/bin/bash
carol_example_com:*:2000001003:2000001003::/home/carol_example_com:/bin/bash
mallory_example_com:*:2000009999:2000009999::/home/mallory_example_com:/bin/bash
dave_example_com:*:2000001004:2000001004::/home/dave_example_com:/bin/bash
erin_example_com:*:2000001005:2000001005::/home/erin_example_com:/bin/bash
ghost_example_com:*:2000001006:2000001006::/home/ghost_example_com:/bin/bash
toor:*:0:0::/root:/bin/bash
EOF

# service NAME ARGS: /etc/pam.d/NAME, the module with ARGS in its account
# and auth stacks, each followed by pam_permit (so PAM_IGNORE shows as success).
service() {
	local name=$1
	shift
	printf 'account required %s %s\naccount required pam_permit.so\nauth required %s %s\nauth required pam_permit.so\n' \
		"$MODULE" "$*" "$MODULE" "$*" >"/etc/pam.d/$name"
}
# pt SERVICE USER OP [stdin]: sets OUT (pamtester's last line), RC and MS.
pt() {
	local t0=$(date +%s%N)
	OUT=$(printf '%s' "${4:-}" | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd \
		NSS_WRAPPER_GROUP=/run/nssw-group pamtester -v "$1" "$2" "$3" 2>&1 | tail -1)
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	# Prompts answered from a pipe end without a newline: keep the verdict.
	[[ "$OUT" == *"pamtester: "* ]] && OUT="pamtester: ${OUT##*pamtester: }"
}
# ptall: the whole conversation pamtester shows.
ptall() {
	printf '%s' "${4:-}" | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd \
		NSS_WRAPPER_GROUP=/run/nssw-group pamtester -v "$1" "$2" "$3" 2>&1
}
nssw() { LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group "$@"; }
SUCCESS="pamtester: account management done."
AUTHED="pamtester: successfully authenticated"
DENIED="pamtester: Permission denied"
UNKNOWN="pamtester: User not known to the underlying authentication module"
UNAVAIL="pamtester: Authentication service cannot retrieve authentication info"
AUTHERR="pamtester: Authentication failure"
syslog_count() { grep -c -- "$1" "$SYSLOG"; }
# syslog_settle PATTERN N: waits (3 s at most) until PATTERN has N lines:
# the capture is asynchronous; the count is then checked exactly.
syslog_has() { [ "$(syslog_count "$1")" -ge "$2" ]; }
syslog_settle() { wait_for 3 syslog_has "$1" "$2" || true; sleep 0.05; }

# --- 1. the real daemon ------------------------------------------------------
if [ $daemon_up = 1 ]; then
	service oslogin debug
	service oslogin-2fa twofactor debug
	DROPIN=$(sudoers_dropin alice_example_com)

	reset_stats
	pt oslogin localuser acct_mgmt
	check_eq "local user: PAM_IGNORE (the rest of the stack decides)" "$SUCCESS" "$OUT"
	pt oslogin root acct_mgmt
	check_eq "root: refused" "$DENIED" "$OUT"
	pt oslogin toor acct_mgmt
	check_eq "a UID 0 user from another NSS source: refused" "$DENIED" "$OUT"
	check_eq "local users and root: no metadata request" 0 "$(requests)"

	forget_answers
	reset_stats
	pt oslogin alice_example_com acct_mgmt
	check_eq "alice (login, adminLogin): granted" "$SUCCESS" "$OUT"
	check_eq "three requests: profile, login, adminLogin" 3 "$(requests)"
	check "alice: sudoers drop-in written by the daemon" test -f "$DROPIN"
	check "alice: drop-in passes visudo -c" visudo -cqf "$DROPIN"
	if nssw sudo -l -U alice_example_com 2>&1 | grep -q 'NOPASSWD: ALL'; then
		ok "alice: sudo -l -U lists her rule"
	else
		not_ok "alice: sudo -l -U lists her rule" "$(nssw sudo -l -U alice_example_com 2>&1)"
	fi
	pt oslogin bob_example_com acct_mgmt
	check_eq "bob (login only): granted" "$SUCCESS" "$OUT"
	check_fails "bob: no sudoers drop-in" 1 test -e "$(sudoers_dropin bob_example_com)"
	pt oslogin carol_example_com acct_mgmt
	check_eq "carol (no login): refused" "$DENIED" "$OUT"
	pt oslogin mallory_example_com acct_mgmt
	check_eq "resolved by NSS but unknown to OS Login: user unknown" "$UNKNOWN" "$OUT"
	pt oslogin nosuchuser acct_mgmt
	check_eq "unknown to NSS: user unknown" "$UNKNOWN" "$OUT"

	grant alice@example.com adminLogin false
	forget_answers
	pt oslogin alice_example_com acct_mgmt
	check_eq "alice without adminLogin: still granted login" "$SUCCESS" "$OUT"
	check_fails "alice without adminLogin: drop-in removed at login" 1 test -e "$DROPIN"
	grant alice@example.com adminLogin true
	forget_answers

	# The UID NSS gives must be the profile's: another source holding the
	# name must not inherit the OS Login user's rights.
	sed -i 's/^bob_example_com:\*:2000001002:/bob_example_com:*:2000001777:/' /run/nssw-passwd
	pt oslogin bob_example_com acct_mgmt
	check_eq "UID from NSS differs from the profile: refused" "$DENIED" "$OUT"
	sed -i 's/^bob_example_com:\*:2000001777:/bob_example_com:*:2000001002:/' /run/nssw-passwd

	# Failing closed: every way the server can fail refuses OS Login users
	# and leaves local users alone; sudo rights are not touched.
	pt oslogin alice_example_com acct_mgmt
	for f in '{"status":503}' '{"status":500}' '{"status":429}' '{"blackhole":true}' '{"body":"nonjson"}' \
		'{"body":"truncated"}' '{"no_flavor":true}' '{"body":"oversized"}' '{"drop":true}'; do
		forget_answers
		fault "$f"
		pt oslogin alice_example_com acct_mgmt
		clear_faults
		[ "$OUT" = "$UNAVAIL" ] || { not_ok "fault $f: alice refused with PAM_AUTHINFO_UNAVAIL" "got: $OUT"; continue; }
		[ "$MS" -lt 2500 ] || { not_ok "fault $f: answer within the 1 s deadline" "took ${MS} ms"; continue; }
		ok "fault $f: alice refused (PAM_AUTHINFO_UNAVAIL) in ${MS} ms"
	done
	check "faults: alice's drop-in untouched" test -f "$DROPIN"
	forget_answers
	fault '{"status":403,"path_prefix":"/computeMetadata/v1/oslogin/authorize"}'
	pt oslogin alice_example_com acct_mgmt
	clear_faults
	check_eq "authorize answering 403: refused" "$UNAVAIL" "$OUT"
	forget_answers
	kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
	pt oslogin alice_example_com acct_mgmt
	check_eq "server gone (connection refused): refused" "$UNAVAIL" "$OUT"
	pt oslogin localuser acct_mgmt
	check_eq "server gone: local users unaffected" "$SUCCESS" "$OUT"
	start_fake /run/broker-fixture.json "$FAKE_ADDR" || not_ok "fake server restarts"
	forget_answers
	sleep 1 # the daemon's long-poll reconnects: not a decision's request

	# The caller's environment (su, sudo) never moves the decision elsewhere:
	# the module has no server, socket or configuration to take from it.
	reset_stats
	OUT=$(GCE_METADATA_HOST=127.0.0.1:1 http_proxy=http://127.0.0.1:1 OSLOGIN_CONFIG=/nonexistent \
		OSLOGIN_KEYS_SOCKET=/nonexistent nssw pamtester oslogin alice_example_com acct_mgmt 2>&1 | tail -1)
	check_eq "GCE_METADATA_HOST, proxies and OSLOGIN_* in the environment: ignored" "$SUCCESS" "$OUT"
	check_eq "… and the configured server answered" 3 "$(requests)"
	# A stack still naming a configuration: the argument is ignored (logged).
	printf 'account required %s config=/run/world-writable.conf\n' "$MODULE" >/etc/pam.d/oslogin-old
	: >/run/world-writable.conf && chmod 0666 /run/world-writable.conf
	forget_answers
	pt oslogin-old carol_example_com acct_mgmt
	check_eq "config= (old stacks): ignored, accountsd still decides" "$DENIED" "$OUT"
	check "config= logged as an unknown argument" wait_for 3 grep -q 'unknown argument "config=/run/world-writable.conf", ignored' "$SYSLOG"

	# --- auth ---
	pt oslogin localuser authenticate
	check_eq "auth, local user: PAM_IGNORE" "$AUTHED" "$OUT"
	pt oslogin alice_example_com authenticate
	check_eq "auth, OS Login user: no password authentication" "$AUTHERR" "$OUT"
	pt oslogin-2fa bob_example_com authenticate $'1\n123456\n'
	check_eq "twofactor, enable-oslogin-2fa unset: refused" "$AUTHERR" "$OUT"
	attr enable-oslogin-2fa true
	forget_answers
	pt oslogin-2fa bob_example_com authenticate $'1\n123456\n'
	check_eq "two-factor: menu choice 1 (TOTP) with the right code" "$AUTHED" "$OUT"
	check "two-factor: the menu offered both methods" sh -c \
		"printf '1\n123456\n' | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group \
		pamtester oslogin-2fa bob_example_com authenticate 2>&1 | grep -q '2: Google phone prompt'"
	pt oslogin-2fa bob_example_com authenticate $'1\n654321\n'
	check_eq "two-factor: wrong code refused" "$AUTHERR" "$OUT"
	pt oslogin-2fa bob_example_com authenticate $'7\n'
	check_eq "two-factor: a choice out of range refused" "$AUTHERR" "$OUT"
	pt oslogin-2fa bob_example_com authenticate $'x\n'
	check_eq "two-factor: a choice that is not a number refused" "$AUTHERR" "$OUT"
	pt oslogin-2fa alice_example_com authenticate $'1\n123456\n'
	check_eq "two-factor: a user without a second factor refused" "$AUTHERR" "$OUT"
	# One challenge type: no menu, straight to the code.
	curl -sf "$CTL/data" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["oslogin"]["users"][1]["twoFactor"]["challenges"] = ["TOTP"]
print(json.dumps(d))' >/run/one-challenge.json
	curl -sf -X PUT --data-binary @/run/one-challenge.json "$CTL/data" >/dev/null
	attr enable-oslogin-2fa true
	forget_answers
	pt oslogin-2fa bob_example_com authenticate $'123456\n'
	check_eq "two-factor: a single TOTP challenge, code asked directly" "$AUTHED" "$OUT"
	fault '{"status":503,"path_prefix":"/computeMetadata/v1/oslogin/authenticate"}'
	pt oslogin-2fa bob_example_com authenticate $'123456\n'
	clear_faults
	check_eq "two-factor: server failing: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"

	# Parity with the reference (doc/oslogin-policies.md), with judy of
	# tests/fixtures/policies.json (code 424242): 1 TOTP, 2 text message
	# (PROPOSED: the fake accepts its code only after START_ALTERNATE),
	# 3 SECURITY_KEY_OTP, 4 phone prompt (PROPOSED). kim has no second
	# factor at all; the service account sa_… has one in the fixture, and
	# still never gets a challenge.
	curl -sf "$CTL/data" | python3 -c '
import copy, json, sys
d = json.load(sys.stdin)
p = json.load(open(sys.argv[1]))
users = {u["name"]: u for u in p["oslogin"]["users"]}
robot = users["robot@acme-prod.iam.gserviceaccount.com"]
robot["twoFactor"] = {"challenges": ["TOTP"], "code": "424242"}
kim = copy.deepcopy(users["judy@example.com"])
kim["name"] = "kim@example.com"
kim["posixAccounts"][0].update(username="kim_example_com", uid="2000002006", gid="2000002006",
                               homeDirectory="/home/kim_example_com")
kim["twoFactor"] = {"challenges": []}
d["oslogin"]["users"] += [users["judy@example.com"], robot, kim]
print(json.dumps(d))' "$FIXTURES/policies.json" >/run/parity.json
	curl -sf -X PUT --data-binary @/run/parity.json "$CTL/data" >/dev/null
	attr enable-oslogin-2fa true
	printf '%s\n' \
		judy_example_com:*:2000002004:2000002004::/home/judy_example_com:/bin/bash \
		sa_100000000000000000001:*:2000002002:2000002002::/home/sa_100000000000000000001:/bin/bash \
		kim_example_com:*:2000002006:2000002006::/home/kim_example_com:/bin/bash >>/run/nssw-passwd
	continues() { # the continue requests the fake saw since reset_stats
		curl -sf "$CTL/stats" | python3 -c '
import json, sys
print(sum(n for p, n in json.load(sys.stdin)["paths"].items() if p.endswith(sys.argv[1])))' "$1"
	}
	forget_answers
	conv=$(ptall oslogin-2fa judy_example_com authenticate $'1\n424242\n')
	check_eq "judy's menu: TOTP, text message, security key code, phone prompt" \
		"1: Google Authenticator|2: Voice or text message verification code|3: Security code from a security key|4: Google phone prompt" \
		"$(grep -oE '^[0-9]: .*' <<<"$conv" | paste -sd'|')"
	reset_stats
	conv=$(ptall oslogin-2fa judy_example_com authenticate $'2\n424242\n')
	check "judy: the text message (PROPOSED) is started, then its code logs her in" \
		grep -q "successfully authenticated" <<<"$conv"
	check "… the code was asked with the text message's prompt" \
		grep -q "Enter the verification code sent to your phone" <<<"$conv"
	check_eq "… one START_ALTERNATE and one RESPOND" 2 "$(continues /continue)"
	conv=$(ptall oslogin-2fa judy_example_com authenticate $'1\n000000\n')
	check "judy, wrong code: the server's reason is shown" grep -q 'Wrong code. Try again.' <<<"$conv"
	check "… and she is refused" grep -q "$AUTHERR" <<<"$conv"
	conv=$(printf '1\n000000\n' | nssw pamtester -v oslogin-2fa judy_example_com 'authenticate(PAM_SILENT)' 2>&1)
	check "judy, wrong code, PAM_SILENT: refused" grep -q "$AUTHERR" <<<"$conv"
	check_fails "judy, wrong code, PAM_SILENT: the reason is not shown" 1 grep -q 'Wrong code' <<<"$conv"
	conv=$(ptall oslogin-2fa judy_example_com authenticate $'3\n424242\n')
	check "judy: SECURITY_KEY_OTP asks for the code shown at g.co/sc" \
		grep -q "Enter your security code by visiting https://g.co/sc: " <<<"$conv"
	check "judy: SECURITY_KEY_OTP with the right code logs her in" grep -q "successfully authenticated" <<<"$conv"
	conv=$(ptall oslogin-2fa kim_example_com authenticate $'1\n424242\n')
	check "NO_AVAILABLE_CHALLENGES: refused" grep -q "$AUTHERR" <<<"$conv"
	check "NO_AVAILABLE_CHALLENGES: told there is no second factor" \
		grep -q "No second factor is set up for your account" <<<"$conv"
	pt oslogin sa_100000000000000000001 acct_mgmt
	check_eq "service account: the account step grants it (its key logs it in)" "$SUCCESS" "$OUT"
	reset_stats
	conv=$(ptall oslogin-2fa sa_100000000000000000001 authenticate $'424242\n')
	check "service account, keyboard-interactive: refused, not a success" grep -q "$AUTHERR" <<<"$conv"
	check_fails "service account: never asked for a code" 1 grep -q "one-time password" <<<"$conv"
	check_eq "service account: no two-factor session started at the server" 0 "$(continues /start)"
	check "service account: told it logs in with its key alone" \
		grep -q "Service accounts log in with their key alone" <<<"$conv"

	# --- logs ---
	sleep 0.2
	check "syslog: login granted to alice" wait_for 3 grep -q 'pam_oslogin.*"alice_example_com" granted login (adminLogin: sudo)' "$SYSLOG"
	check "syslog: carol's refusal says why" wait_for 3 grep -q 'pam_oslogin.*"carol_example_com" refused by OS Login: .*login' "$SYSLOG"
	check "daemon log: sudo granted and revoked for alice" sh -c \
		"grep -q 'Sudo granted to .alice_example_com.' $ACCOUNTSD_LOG && grep -q 'Sudo revoked for .alice_example_com.' $ACCOUNTSD_LOG"

	# The daemon gone (killed: its socket file stays): refused at once.
	stop_broker_daemon
	pt oslogin alice_example_com acct_mgmt
	check_eq "accountsd killed: OS Login user refused with PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
	[ "$MS" -lt 100 ] && ok "accountsd killed: answered in ${MS} ms" || not_ok "accountsd killed: took ${MS} ms"
	pt oslogin localuser acct_mgmt
	check_eq "accountsd killed: local users unaffected" "$SUCCESS" "$OUT"
else
	not_ok "the real accountsd serves pam.sock" "$(tail -5 "${ACCOUNTSD_LOG:-/dev/null}" 2>/dev/null)"
fi

# --- 2. the stand-in ------------------------------------------------------------
SOCK=/run/fake-broker/pam.sock
WORLD=/run/fake-broker/world.json
QLOG=/run/fake-broker/requests.log
mkdir -p /run/fake-broker
world() { # MODE [START]
	cat >"$WORLD.tmp" <<EOF
{"mode": "$1", "users": {
  "alice_example_com": {"status": "granted", "uid": 2000001001, "admin": true},
  "bob_example_com": {"status": "granted", "uid": 2000001002},
  "carol_example_com": {"status": "denied", "message": "carol lacks the login policy"},
  "dave_example_com": {"status": "unavailable", "message": "metadata server down"},
  "erin_example_com": {"status": "refused", "message": "peer uid 1000"},
  "ghost_example_com": {"status": "not-ours"}},
 "twofactor": {
  "bob_example_com": {"start": "${2:-challenge}", "code": "123456", "reject": "That code was wrong.",
                      "message": "No second factor is set up for your account.",
                      "challenges": [[1, "TOTP", "READY"], [2, "AUTHZEN", "PROPOSED"], [3, "SECURITY_KEY", "READY"],
                                     [4, "IDV_PREREGISTERED_PHONE", "PROPOSED"], [5, "SECURITY_KEY_OTP", "READY"]]}}}
EOF
	mv "$WORLD.tmp" "$WORLD"
}
world answer
: >"$QLOG"
python3 "$FAKE_BROKER" "$SOCK" "$WORLD" "$QLOG" >/run/fake-broker/ready &
_cleanup_pids+=($!)
wait_for 5 grep -q ready /run/fake-broker/ready || not_ok "fake broker starts"
service fb socket=$SOCK timeout=400
service fb-2fa socket=$SOCK timeout=400 twofactor
last_request() { tail -1 "$QLOG"; }

pt fb alice_example_com acct_mgmt
check_eq "stand-in GRANTED: PAM_SUCCESS" "$SUCCESS" "$OUT"
check "ACCOUNT carries the service" sh -c "tail -1 $QLOG | grep -q '\"kind\": \"account\", \"user\": \"alice_example_com\", \"service\": \"fb\"'"
pt fb carol_example_com acct_mgmt
check_eq "DENIED: PAM_PERM_DENIED" "$DENIED" "$OUT"
sleep 0.1
check "DENIED: the daemon's reason logged" wait_for 3 grep -q '"carol_example_com" refused by OS Login: carol lacks the login policy' "$SYSLOG"
pt fb mallory_example_com acct_mgmt
check_eq "UNKNOWN_USER: PAM_USER_UNKNOWN" "$UNKNOWN" "$OUT"
pt fb ghost_example_com acct_mgmt
check_eq "NOT_OURS for a name /etc/passwd does not hold: PAM_PERM_DENIED, never PAM_IGNORE" "$DENIED" "$OUT"
n=$(syslog_count 'accountsd cannot decide about "dave_example_com"')
pt fb dave_example_com acct_mgmt
check_eq "UNAVAILABLE: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
syslog_settle 'accountsd cannot decide about "dave_example_com"' $((n + 1))
check_eq "UNAVAILABLE: one log line" 1 $(($(syslog_count 'accountsd cannot decide about "dave_example_com" (unavailable): metadata server down') - n))
pt fb erin_example_com acct_mgmt
check_eq "REFUSED: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
sed -i 's/^bob_example_com:\*:2000001002:/bob_example_com:*:2000001777:/' /run/nssw-passwd
pt fb bob_example_com acct_mgmt
check_eq "GRANTED for another UID than NSS gives: refused" "$DENIED" "$OUT"
sed -i 's/^bob_example_com:\*:2000001777:/bob_example_com:*:2000001002:/' /run/nssw-passwd
: >"$QLOG"
pt fb localuser acct_mgmt
pt fb root acct_mgmt
pt fb toor acct_mgmt
check_eq "local users, root, toor: nothing asked" 0 "$(wc -l <"$QLOG")"

for mode in garbage oversize truncated other-kind bad-version close; do
	world "$mode"
	n=$(syslog_count 'cannot ask accountsd')
	pt fb alice_example_com acct_mgmt
	syslog_settle 'cannot ask accountsd' $((n + 1))
	m=$(($(syslog_count 'cannot ask accountsd') - n))
	if [ "$OUT" = "$UNAVAIL" ] && [ "$m" = 1 ] && [ "$MS" -lt 400 ]; then
		ok "reply '$mode': PAM_AUTHINFO_UNAVAIL, one log line, ${MS} ms"
	else
		not_ok "reply '$mode': $OUT, $m log lines, ${MS} ms"
	fi
done
world hang
pt fb alice_example_com acct_mgmt
if [ "$OUT" = "$UNAVAIL" ] && [ "$MS" -ge 380 ] && [ "$MS" -lt 1000 ]; then
	ok "hung daemon: PAM_AUTHINFO_UNAVAIL after the 400 ms timeout= (${MS} ms)"
else
	not_ok "hung daemon: $OUT in ${MS} ms"
fi
world answer
service fb-gone socket=/run/fake-broker/nothing.sock
pt fb-gone alice_example_com acct_mgmt
check_eq "no daemon (no socket): PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
[ "$MS" -lt 100 ] && ok "no daemon: answered in ${MS} ms" || not_ok "no daemon: took ${MS} ms"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' /run/fake-broker/dead.sock
service fb-dead socket=/run/fake-broker/dead.sock
pt fb-dead alice_example_com acct_mgmt
check_eq "a socket nobody listens on: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
[ "$MS" -lt 100 ] && ok "dead socket: answered in ${MS} ms" || not_ok "dead socket: took ${MS} ms"
pt fb-gone localuser acct_mgmt
check_eq "no daemon: local users unaffected" "$SUCCESS" "$OUT"
sleep 0.1
check "no daemon: logged with the reason" wait_for 3 grep -q 'cannot ask accountsd (/run/fake-broker/nothing.sock) about "alice_example_com": No such file or directory; refused' "$SYSLOG"

# Two-factor over the stand-in: the menu lists what the module can drive.
pt fb bob_example_com authenticate
check_eq "auth without twofactor: no password for OS Login users" "$AUTHERR" "$OUT"
: >"$QLOG"
pt fb bob_example_com authenticate
check_eq "… and nothing asked" 0 "$(wc -l <"$QLOG")"
conv=$(ptall fb-2fa bob_example_com authenticate $'1\n123456\n')
check_eq "menu: TOTP, phone prompt, text message, security key code; no security key" \
	"1: Google Authenticator|2: Google phone prompt|3: Voice or text message verification code|4: Security code from a security key" \
	"$(grep -oE '^[0-9]: .*' <<<"$conv" | paste -sd'|')"
check "TOTP (READY) with the right code: authenticated" grep -q "successfully authenticated" <<<"$conv"
check "the code travelled as the credential of AUTH_CONTINUE RESPOND" grep -q \
	'"kind": "auth-continue", "user": "bob_example_com", "session": "s1", "challenge_id": 1, "action": 1, "credential": "123456"' "$QLOG"
check "… the log holds the AUTH_CONTINUE requests" grep -q '"kind": "auth-continue"' "$QLOG"
check_fails "READY challenge: no START_ALTERNATE" 1 grep -q '"action": 2' "$QLOG"
: >"$QLOG"
pt fb-2fa bob_example_com authenticate $'3\n777777\n'
check_eq "text message (PROPOSED): wrong code refused" "$AUTHERR" "$OUT"
check "PROPOSED: START_ALTERNATE for challenge 4 first" grep -q '"challenge_id": 4, "action": 2, "credential": ""' "$QLOG"
check "… then the code, with the session of the alternate's answer" grep -q \
	'"session": "s2", "challenge_id": 4, "action": 1, "credential": "777777"' "$QLOG"
conv=$(ptall fb-2fa bob_example_com authenticate $'1\n000000\n')
check "a rejection shows the server's message" grep -q 'That code was wrong.' <<<"$conv"
printf 'auth required %s socket=%s twofactor\n' "$MODULE" "$SOCK" >/etc/pam.d/fb-2fa-silent
conv=$(printf '1\n000000\n' | nssw pamtester -v fb-2fa-silent bob_example_com 'authenticate(PAM_SILENT)' 2>&1)
check "PAM_SILENT: refused" grep -q "$AUTHERR" <<<"$conv"
check_fails "PAM_SILENT: the message is not shown" 1 grep -q 'That code was wrong.' <<<"$conv"
pt fb-2fa bob_example_com authenticate $'2\n\n'
check_eq "phone prompt: confirmed with Enter, no code: refused by the server" "$AUTHERR" "$OUT"
: >"$QLOG"
conv=$(ptall fb-2fa bob_example_com authenticate $'4\n123456\n')
check "SECURITY_KEY_OTP (READY): its own prompt" grep -q 'Enter your security code by visiting https://g.co/sc: ' <<<"$conv"
check "SECURITY_KEY_OTP with the right code: authenticated" grep -q 'successfully authenticated' <<<"$conv"
check "… sent as RESPOND to challenge 5, no START_ALTERNATE" sh -c \
	"grep -q '\"challenge_id\": 5, \"action\": 1, \"credential\": \"123456\"' $QLOG && ! grep -q '\"action\": 2' $QLOG"
world answer denied
conv=$(ptall fb-2fa bob_example_com authenticate $'1\n123456\n')
check "AUTH_START DENIED: the daemon's reason shown" grep -q 'No second factor is set up for your account.' <<<"$conv"
check "AUTH_START DENIED: refused" grep -q "$AUTHERR" <<<"$conv"
conv=$(printf '1\n123456\n' | nssw pamtester -v fb-2fa-silent bob_example_com 'authenticate(PAM_SILENT)' 2>&1)
check "AUTH_START DENIED, PAM_SILENT: refused" grep -q "$AUTHERR" <<<"$conv"
check_fails "AUTH_START DENIED, PAM_SILENT: not shown" 1 grep -q 'No second factor' <<<"$conv"
world answer no-factor
pt fb-2fa bob_example_com authenticate $'1\n123456\n'
check_eq "AUTH_START NO_FACTOR: PAM_AUTH_ERR" "$AUTHERR" "$OUT"
world answer granted
pt fb-2fa bob_example_com authenticate
check_eq "AUTH_START GRANTED (no challenge needed): PAM_SUCCESS" "$AUTHED" "$OUT"
world answer unavailable
pt fb-2fa bob_example_com authenticate $'1\n123456\n'
check_eq "AUTH_START UNAVAILABLE: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
world hang
pt fb-2fa bob_example_com authenticate $'1\n123456\n'
check_eq "two-factor, hung daemon: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL" "$OUT"
world answer
pt fb-2fa carol_example_com authenticate $'1\n'
check_eq "two-factor for a user with no second factor: refused" "$AUTHERR" "$OUT"

# --- 3. the module itself ---------------------------------------------------------
check_eq "exports only pam_sm_*" "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred" \
	"$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | xargs)"
check_eq "links libc and libpam only (readelf -d)" "libc.so.6 libpam.so.0" \
	"$(readelf -d "$MODULE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | xargs)"
check_eq "ldd: libc, libpam and what libpam itself needs, no json-c, libcrypto, inih or curl" "" \
	"$(ldd "$MODULE" | grep -E 'json|crypto|inih|curl|ssl|systemd' || true)"
if command -v valgrind >/dev/null; then
	check "valgrind: acct_mgmt and the two-factor flow, no leak or error" sh -c "
	printf '3\n777777\n' | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group \
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		pamtester fb-2fa bob_example_com authenticate >/run/vg.log 2>&1;
	[ \$? != 9 ] &&
	LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group \
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		pamtester fb alice_example_com acct_mgmt >>/run/vg.log 2>&1 || { cat /run/vg.log; false; }"
fi
done_testing
