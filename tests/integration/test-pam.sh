#!/usr/bin/env bash
# pam_oslogin.so loaded by libpam (pamtester) against the fake metadata
# server: the account decision for local, root, OS Login and unknown users,
# sudo drop-ins granted and revoked from adminLogin, failing closed when
# the server is down, no password for OS Login users, the two-factor flow,
# and the environment of the caller ignored. OS Login users are resolved
# through nss_wrapper here (the module asks NSS, whatever the source);
# test-e2e-sshd.sh does the same through the real NSS module and sshd.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
command -v pamtester >/dev/null || { skip "pam tests" "pamtester not installed"; done_testing; }
[ -n "$NSSW" ] || { skip "pam tests" "libnss-wrapper not installed"; done_testing; }
[ -f "$MODULE" ] || { not_ok "pam_oslogin.so built at $MODULE"; done_testing; }
private_etc
private_dir /var/lib/oslogin
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
CTL=$FAKE_URL/_fake
SYSLOG=/run/pam-syslog.log
capture_syslog "$SYSLOG" || not_ok "syslog capture"

CONF=/run/oslogin-test/oslogin.conf
mkdir -p /run/oslogin-test
cat >"$CONF" <<CONF
[metadata]
url = $FAKE_URL/computeMetadata/v1/
timeout = 1s
CONF
chmod 0644 "$CONF"

# OS Login users as NSS would answer for them, beside the local files.
cp /etc/passwd /run/nssw-passwd
cp /etc/group /run/nssw-group
cat >>/run/nssw-passwd <<'EOF'
alice_example_com:*:2000001001:2000001001::/home/alice_example_com:/bin/bash
bob_example_com:*:2000001002:2000001002::/home/bob_example_com:/bin/bash
carol_example_com:*:2000001003:2000001003::/home/carol_example_com:/bin/bash
mallory_example_com:*:2000009999:2000009999::/home/mallory_example_com:/bin/bash
toor:*:0:0::/root:/bin/bash
EOF
useradd -m localuser 2>/dev/null
grep '^localuser:' /etc/passwd >>/run/nssw-passwd

# service NAME: /etc/pam.d/NAME from stdin.
service() { cat >"/etc/pam.d/$1"; }
service oslogin-account <<EOF
account required $MODULE config=$CONF
account required pam_permit.so
EOF
service oslogin-auth <<EOF
auth required $MODULE config=$CONF
auth required pam_permit.so
EOF
service oslogin-2fa <<EOF
auth required $MODULE config=$CONF twofactor debug
EOF

# pt SERVICE USER OP [stdin]: sets OUT (pamtester's last line) and RC.
pt() {
	OUT=$(printf '%s' "${4:-}" | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd \
		NSS_WRAPPER_GROUP=/run/nssw-group pamtester -v "$1" "$2" "$3" 2>&1 | tail -1)
	RC=$?
	# Prompts answered from a pipe end without a newline: keep the verdict.
	[[ "$OUT" == *"pamtester: "* ]] && OUT="pamtester: ${OUT##*pamtester: }"
}
nssw() { LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group "$@"; }
fault() { curl -sf -X PUT --data "$1" "$CTL/faults" >/dev/null; }
clear_faults() { curl -sf -X DELETE "$CTL/faults" >/dev/null; }
grant() { curl -sf -X PUT --data "$3" "$CTL/users/$1/$2" >/dev/null; }
attr() { curl -sf -X PUT --data "$2" "$CTL/attributes/instance/$1" >/dev/null; }
reset_stats() { curl -sf -X DELETE "$CTL/stats" >/dev/null; }
requests() { curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
SUCCESS="pamtester: account management done."
DROPIN=/var/lib/oslogin/sudoers.d/alice__example__com

# --- account ---------------------------------------------------------------
reset_stats
pt oslogin-account localuser acct_mgmt
check_eq "local user: PAM_IGNORE (the rest of the stack decides)" "$SUCCESS" "$OUT"
pt oslogin-account root acct_mgmt
check_eq "root: refused" "pamtester: Permission denied" "$OUT"
pt oslogin-account toor acct_mgmt
check_eq "a UID 0 user from another NSS source: refused" "pamtester: Permission denied" "$OUT"
check_eq "local users and root: no metadata request" 0 "$(requests)"

reset_stats
pt oslogin-account alice_example_com acct_mgmt
check_eq "alice (login, adminLogin): granted" "$SUCCESS" "$OUT"
check_eq "three requests: profile, login, adminLogin" 3 "$(requests)"
check "alice: sudoers drop-in written" test -f "$DROPIN"
check "alice: drop-in passes visudo -c" visudo -cqf "$DROPIN"
check "alice: /etc/sudoers.d/oslogin includes the drop-in directory" \
	grep -q '^#includedir /var/lib/oslogin/sudoers.d' /etc/sudoers.d/oslogin
if nssw sudo -l -U alice_example_com 2>&1 | grep -q 'NOPASSWD: ALL'; then
	ok "alice: sudo -l -U lists her rule"
else
	not_ok "alice: sudo -l -U lists her rule" "$(nssw sudo -l -U alice_example_com 2>&1)"
fi
pt oslogin-account bob_example_com acct_mgmt
check_eq "bob (login only): granted" "$SUCCESS" "$OUT"
check_fails "bob: no sudoers drop-in" test -e /var/lib/oslogin/sudoers.d/bob__example__com
pt oslogin-account carol_example_com acct_mgmt
check_eq "carol (no login): refused" "pamtester: Permission denied" "$OUT"
pt oslogin-account mallory_example_com acct_mgmt
check_eq "resolved by NSS but unknown to OS Login: user unknown" \
	"pamtester: User not known to the underlying authentication module" "$OUT"
pt oslogin-account nosuchuser acct_mgmt
check_eq "unknown to NSS: user unknown" "pamtester: User not known to the underlying authentication module" "$OUT"

grant alice@example.com adminLogin false
pt oslogin-account alice_example_com acct_mgmt
check_eq "alice without adminLogin: still granted login" "$SUCCESS" "$OUT"
check_fails "alice without adminLogin: drop-in removed at login" test -e "$DROPIN"
grant alice@example.com adminLogin true

# The UID NSS gives must be the profile's: another source holding the name
# must not inherit the OS Login user's rights.
sed -i 's/^bob_example_com:\*:2000001002:/bob_example_com:*:2000001777:/' /run/nssw-passwd
pt oslogin-account bob_example_com acct_mgmt
check_eq "UID from NSS differs from the profile: refused" "pamtester: Permission denied" "$OUT"
sed -i 's/^bob_example_com:\*:2000001777:/bob_example_com:*:2000001002:/' /run/nssw-passwd

# Failing closed: every way the server can fail refuses OS Login users and
# leaves local users alone; sudo rights are not touched.
pt oslogin-account alice_example_com acct_mgmt
for f in '{"status":503}' '{"status":500}' '{"status":429}' '{"blackhole":true}' '{"body":"nonjson"}' \
	'{"body":"truncated"}' '{"no_flavor":true}' '{"body":"oversized"}' '{"drop":true}'; do
	fault "$f"
	t0=$(date +%s%N)
	pt oslogin-account alice_example_com acct_mgmt
	ms=$((($(date +%s%N) - t0) / 1000000))
	clear_faults
	[ "$OUT" = "pamtester: Authentication service cannot retrieve authentication info" ] ||
		[ "$OUT" = "pamtester: User not known to the underlying authentication module" -a "$f" = '{"status":404}' ] ||
		{ not_ok "fault $f: alice refused with PAM_AUTHINFO_UNAVAIL" "got: $OUT"; continue; }
	[ "$ms" -lt 2500 ] || { not_ok "fault $f: answer within the 1 s deadline" "took ${ms} ms"; continue; }
	ok "fault $f: alice refused (PAM_AUTHINFO_UNAVAIL) in ${ms} ms"
done
check "faults: alice's drop-in untouched" test -f "$DROPIN"
fault '{"status":403,"path_prefix":"/computeMetadata/v1/oslogin/authorize"}'
pt oslogin-account alice_example_com acct_mgmt
clear_faults
check_eq "authorize answering 403: refused" "pamtester: Authentication service cannot retrieve authentication info" "$OUT"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
pt oslogin-account alice_example_com acct_mgmt
check_eq "server gone (connection refused): refused" \
	"pamtester: Authentication service cannot retrieve authentication info" "$OUT"
pt oslogin-account localuser acct_mgmt
check_eq "server gone: local users unaffected" "$SUCCESS" "$OUT"
start_fake "$FIXTURES/basic.json" "$FAKE_ADDR" || not_ok "fake server restarts"

# The caller's environment (su, sudo) never moves the module to another server.
reset_stats
OUT=$(GCE_METADATA_HOST=127.0.0.1:1 http_proxy=http://127.0.0.1:1 HTTP_PROXY=http://127.0.0.1:1 \
	OSLOGIN_CONFIG=/nonexistent nssw pamtester oslogin-account alice_example_com acct_mgmt 2>&1 | tail -1)
check_eq "GCE_METADATA_HOST, proxies and OSLOGIN_CONFIG in the environment: ignored" "$SUCCESS" "$OUT"
check_eq "… and the configured server answered" 3 "$(requests)"

# A configuration anyone could write decides nothing.
chmod 0666 "$CONF"
pt oslogin-account alice_example_com acct_mgmt
check_eq "world-writable configuration: refused" \
	"pamtester: Authentication service cannot retrieve authentication info" "$OUT"
chmod 0644 "$CONF"

# --- auth ------------------------------------------------------------------
pt oslogin-auth localuser authenticate
check_eq "auth, local user: PAM_IGNORE" "pamtester: successfully authenticated" "$OUT"
pt oslogin-auth alice_example_com authenticate
check_eq "auth, OS Login user: no password authentication" "pamtester: Authentication failure" "$OUT"
pt oslogin-2fa bob_example_com authenticate $'1\n123456\n'
check_eq "twofactor, enable-oslogin-2fa unset: refused" "pamtester: Authentication failure" "$OUT"
attr enable-oslogin-2fa true
pt oslogin-2fa bob_example_com authenticate $'1\n123456\n'
check_eq "two-factor: menu choice 1 (TOTP) with the right code" "pamtester: successfully authenticated" "$OUT"
check "two-factor: the menu offered both methods" sh -c \
	"printf '1\n123456\n' | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group \
	pamtester oslogin-2fa bob_example_com authenticate 2>&1 | grep -q '2: Google phone prompt'"
pt oslogin-2fa bob_example_com authenticate $'1\n654321\n'
check_eq "two-factor: wrong code refused" "pamtester: Authentication failure" "$OUT"
pt oslogin-2fa bob_example_com authenticate $'7\n'
check_eq "two-factor: a choice out of range refused" "pamtester: Authentication failure" "$OUT"
pt oslogin-2fa bob_example_com authenticate $'x\n'
check_eq "two-factor: a choice that is not a number refused" "pamtester: Authentication failure" "$OUT"
pt oslogin-2fa alice_example_com authenticate $'1\n123456\n'
check_eq "two-factor: a user without a second factor refused" "pamtester: Authentication failure" "$OUT"
# One challenge type: no menu, straight to the code.
curl -sf "$CTL/data" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["oslogin"]["users"][1]["twoFactor"]["challenges"] = ["TOTP"]
print(json.dumps(d))' >/run/one-challenge.json
curl -sf -X PUT --data-binary @/run/one-challenge.json "$CTL/data" >/dev/null
attr enable-oslogin-2fa true
pt oslogin-2fa bob_example_com authenticate $'123456\n'
check_eq "two-factor: a single TOTP challenge, code asked directly" "pamtester: successfully authenticated" "$OUT"
fault '{"status":503,"path_prefix":"/computeMetadata/v1/oslogin/authenticate"}'
pt oslogin-2fa bob_example_com authenticate $'123456\n'
clear_faults
check_eq "two-factor: server failing: PAM_AUTHINFO_UNAVAIL" \
	"pamtester: Authentication service cannot retrieve authentication info" "$OUT"

# --- logs ------------------------------------------------------------------
check "syslog: login granted to alice, with her e-mail" grep -q 'pam_oslogin.*"alice_example_com" (alice@example.com) granted login' "$SYSLOG"
check "syslog: carol's refusal says why" grep -q '"carol_example_com" (carol@example.com) lacks the login policy' "$SYSLOG"
check "syslog: sudo granted and revoked are logged" sh -c "grep -q 'sudo granted to \"alice_example_com\"' $SYSLOG && grep -q 'sudo revoked for \"alice_example_com\"' $SYSLOG"

# --- the module itself -----------------------------------------------------
check_eq "exports only pam_sm_*" "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred" \
	"$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | xargs)"
if command -v valgrind >/dev/null; then
	check "valgrind: acct_mgmt and the two-factor flow, no leak or error" sh -c "
	printf '123456\n' | LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group \
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		pamtester oslogin-2fa bob_example_com authenticate >/run/vg.log 2>&1 &&
	LD_PRELOAD=$NSSW NSS_WRAPPER_PASSWD=/run/nssw-passwd NSS_WRAPPER_GROUP=/run/nssw-group \
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
		pamtester oslogin-account alice_example_com acct_mgmt >>/run/vg.log 2>&1 || { cat /run/vg.log; false; }"
fi
done_testing
