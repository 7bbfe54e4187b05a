#!/usr/bin/env bash
# osloginctl as an administrator's and a script's tool: --version on every
# program; one-line usage errors (exit 2); "not running" (4) and "needs
# root" (5) kept apart; --json output of status, lookup and audit that
# parses and has the keys osloginctl(8) documents; one audit record per
# login (key + account from one sshd-like process) and `why` for a refused
# user; refresh quiet off a terminal, with progress on one; check-config on
# good and bad files, and --host changing nothing.
. "$(dirname "$0")/../lib.sh"
OCTL=$BUILD/osloginctl/osloginctl
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
AKP=$BUILD/authorized-keys-cmd/oslogin-authorized-principals
MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
enter_namespace "$@"

# --- --version everywhere ---------------------------------------------------
for p in "$ACCOUNTSD" "$OCTL" "$AKC" "$AKP" "$FAKE"; do
	name=$(basename "$p")
	check_eq "$name --version" "$name (oslogin) $VERSION" "$("$p" --version 2>&1)"
done
check_eq "the key helper takes '--version' only alone: with a fingerprint it is a (refused) user name" \
	"0:" "$(OSLOGIN_KEYS_SOCKET=/nonexistent "$AKC" --version SHA256:x 2>/dev/null; echo "$?:")"

# --- usage errors -------------------------------------------------------------
for args in "frobnicate" "" "--bogus status" "lookup user" "why" "audit a b" "-o yaml status"; do
	# shellcheck disable=SC2086
	out=$("$OCTL" $args 2>&1)
	rc=$?
	check_eq "usage error ($args): exit 2" 2 "$rc"
	check_eq "usage error ($args): one line pointing at --help" "1:1" \
		"$(grep -c . <<<"$out"):$(grep -c -- '--help' <<<"$out")"
done
# --- bash completion -----------------------------------------------------------
COMPLETION=$SRC/shell-completion/bash/osloginctl
check "bash completion parses" bash -n "$COMPLETION"
complete_words() { # WORDS...: what <TAB> offers after them
	bash -c '. "$1"; shift; COMP_WORDS=(osloginctl "$@"); COMP_CWORD=$(($# )); _osloginctl; echo "${COMPREPLY[*]}"' \
		x "$COMPLETION" "$@" 2>/dev/null
}
check_eq "completion: commands" "audit activate" "$(complete_words a)"
check_eq "completion: check-config" "check-config" "$(complete_words ch)"
check_eq "completion: lookup kinds" "user group" "$(complete_words lookup '')"
check_eq "completion: -o values" "json" "$(complete_words -o j)"
check_eq "completion: options" "--since=" "$(complete_words audit --si)"
check "--help: the whole text, exit 0" bash -c "'$OCTL' --help | grep -q '^Exit status'"

command -v pamtester >/dev/null || { skip "daemon tests" "pamtester not installed"; done_testing; }
[ -n "$NSSW" ] || { skip "daemon tests" "libnss-wrapper not installed"; done_testing; }
. "$SRC/tests/integration/broker-daemon.sh"
private_etc
private_dir /var/lib/oslogin /home

# --- no daemon ----------------------------------------------------------------
"$OCTL" status >/dev/null 2>&1
check_eq "status, daemon not running: exit 4" 4 $?
out=$("$OCTL" status --json 2>/dev/null)
check "status --json without a daemon parses" python3 -m json.tool <<<"$out"
check_eq "… daemon.state not-running, running false" "not-running False" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin)["daemon"]; print(d["state"], d["running"])' <<<"$out")"
"$OCTL" lookup user alice_example_com >/dev/null 2>&1
check_eq "lookup, daemon not running: exit 4" 4 $?

start_broker_daemon "$FIXTURES/basic.json" || { not_ok "the daemon starts"; done_testing; }
export OSLOGIN_KEYS_SOCKET=$BROKER_KEYS_SOCKET
wait_for 15 test -s /run/oslogin/directory.cache

out=$("$OCTL" audit 2>&1)
check_eq "audit before any login: no records, exit 0" "0:No login records." "$?:$out"

# --- as a user who is not root --------------------------------------------------
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
out=$(asnobody "$OCTL" status 2>&1)
rc=$?
check_eq "status as non-root: exit 5 (needs root), not 4" 5 $rc
check "… and says so, not 'not running'" bash -c "grep -q 'needs root' <<<'$out' && ! grep -q 'not running' <<<'$out'"
out=$(asnobody "$OCTL" status --json 2>/dev/null)
check_eq "status --json as non-root: daemon.state needs-root" "needs-root" \
	"$(python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["state"])' <<<"$out")"
asnobody "$OCTL" refresh >/dev/null 2>&1
check_eq "refresh as non-root: exit 5" 5 $?
asnobody "$OCTL" audit >/dev/null 2>&1
check_eq "audit as non-root: exit 5" 5 $?
check "lookup as non-root works (nss.sock is everyone's)" asnobody "$OCTL" lookup user alice_example_com

# --- JSON ---------------------------------------------------------------------
keys() { python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(" ".join(sorted(d)))'; }
out=$("$OCTL" status --json)
check "status --json | python3 -m json.tool" python3 -m json.tool <<<"$out"
check_eq "status --json: the documented keys" "daemon host metadata_users mode uids_remembered version" "$(keys <<<"$out")"
check_eq "status --json: host keys" "nsswitch pam sshd two_factor" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["host"])))' <<<"$out")"
check_eq "status --json: daemon running, ready, mode oslogin" "running yes oslogin" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin)["daemon"]; print(d["state"], d["status"]["ready"], d["status"]["mode"])' <<<"$out")"
check_eq "-o json is --json" "$(keys <<<"$out")" "$("$OCTL" -o json status | keys)"
out=$("$OCTL" lookup user alice_example_com --json)
check_eq "lookup user --json: keys" "gecos gid home name shell uid" "$(keys <<<"$out")"
check_eq "lookup user --json: the UID is a number" 2000001001 \
	"$(python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"] + 0)' <<<"$out")"
gname=$(python3 -c 'import json; print(json.load(open("/run/broker-fixture.json"))["oslogin"]["groups"][0]["name"])')
check_eq "lookup group --json: keys" "gid members name" "$("$OCTL" lookup group "$gname" --json | keys)"
"$OCTL" lookup user nosuch_example_com --json >/dev/null 2>&1
check_eq "lookup of an unknown user: exit 3" 3 $?

# --- one audit record per login -------------------------------------------------
cp /etc/passwd /run/nssw-passwd
cp /etc/group /run/nssw-group
cat >>/run/nssw-passwd <<'PW'
alice_example_com:*:2000001001:2000001001::/home/alice_example_com:/bin/bash
carol_example_com:*:2000001003:2000001003::/home/carol_example_com:/bin/bash
PW
printf 'account required %s\naccount required pam_permit.so\n' "$MODULE" >/etc/pam.d/oslogin
ALICE_FP=$(ssh-keygen -lf "$FIXTURES/keys/alice.pub" | cut -d' ' -f2)
# login USER FP: the key question from a child, then the account question
# from the parent itself (exec keeps the PID), as sshd asks them.
# (nss_wrapper for pamtester only: an ASan helper must not get it preloaded.)
login() {
	bash -c '"$1" "$2" "$3" >/dev/null; exec env LD_PRELOAD="$4" NSS_WRAPPER_PASSWD=/run/nssw-passwd \
		NSS_WRAPPER_GROUP=/run/nssw-group pamtester -I rhost=192.0.2.7 oslogin "$2" acct_mgmt' \
		login "$AKC" "$1" "$2" "$NSSW" >/dev/null 2>&1
}
login alice_example_com "$ALICE_FP"
login carol_example_com "$ALICE_FP"
out=$("$OCTL" audit --json)
check "audit --json | python3 -m json.tool" python3 -m json.tool <<<"$out"
field() { # USER KEY: KEY of USER's last record
	python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x["user"]==sys.argv[1]]; print(json.dumps(r[-1][sys.argv[2]]) if r else "none")' "$1" "$2" <<<"$out"
}
check_eq "audit: one record for alice's login (key and account joined)" 1 \
	"$(python3 -c 'import json,sys; print(sum(1 for x in json.load(sys.stdin) if x["user"]=="alice_example_com"))' <<<"$out")"
check_eq "audit --json: the documented keys" \
	"admin duration_usec email fingerprint key latency_usec login reason refused refused_by remote sshd_pid sudo time time_usec two_factor two_factor_result user" \
	"$(keys <<<"$out")"
check_eq "alice: key granted, fingerprint, login granted, admin, sudo granted, remote" \
	"\"granted\" \"$ALICE_FP\" \"granted\" true \"granted\" \"192.0.2.7\" false" \
	"$(field alice_example_com key) $(field alice_example_com fingerprint) $(field alice_example_com login) $(field alice_example_com admin) $(field alice_example_com sudo) $(field alice_example_com remote) $(field alice_example_com refused)"
check_eq "alice: the IAM email" '"alice@example.com"' "$(field alice_example_com email)"
check_eq "carol: refused by the account decision, with the reason" \
	'true "account" "the login policy is not granted"' \
	"$(field carol_example_com refused) $(field carol_example_com refused_by) $(field carol_example_com reason)"
check "the records are in /var/lib/oslogin/audit.log, one JSON line each" \
	bash -c 'python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" /var/lib/oslogin/audit.log && grep -q alice_example_com /var/lib/oslogin/audit.log'
check_eq "audit.log is root's alone" 600 "$(stat -c %a /var/lib/oslogin/audit.log)"
check "audit USER (text): alice's line" bash -c "'$OCTL' audit alice_example_com | grep -q '^[0-9T:-]*Z alice_example_com <alice@example.com> from 192.0.2.7 key $ALICE_FP: login granted, admin, sudo granted'"
check_eq "audit USER shows only that user" 0 "$("$OCTL" audit alice_example_com | grep -c carol)"
check_eq "audit --since=today: both" 2 "$("$OCTL" audit --since=today --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check_eq "audit --since=1h: both" 2 "$("$OCTL" audit --since=1h --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check_eq "audit --since in the future: none" 0 "$("$OCTL" audit --since=2100-01-01 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
"$OCTL" audit --since=whenever >/dev/null 2>&1
check_eq "audit --since=garbage: exit 2" 2 $?
out=$("$OCTL" why carol_example_com)
check_eq "why carol: exit 0" 0 $?
check "why carol: one sentence with the reason" \
	bash -c "[ \$(grep -c . <<<'$out') = 1 ] && grep -q '^carol_example_com was refused at .* from 192.0.2.7 by the account decision: the login policy is not granted\.' <<<'$out'"
"$OCTL" why alice_example_com >/dev/null
check_eq "why alice (never refused): exit 3" 3 $?

# --- refresh --------------------------------------------------------------------
check_eq "refresh off a terminal: just ok" "ok" "$("$OCTL" refresh 2>&1)"
fault '{"delay_ms":300,"path_prefix":"/computeMetadata/v1/oslogin/groups"}'
if command -v script >/dev/null; then
	out=$(script -qec "'$OCTL' refresh" /dev/null | tr '\r' '\n' | sed 's/\x1b\[K//g')
	check "refresh on a terminal: progress (users, groups, pages), then ok" \
		bash -c "grep -q 'users=3 groups=[0-9]* pages=[0-9]*' <<<'$out' && grep -qx 'ok' <<<'$out'"
else
	skip "refresh on a terminal" "script(1) not installed"
fi
clear_faults

# --- check-config ---------------------------------------------------------------
check_eq "check-config: the daemon's file is valid" "/etc/oslogin/oslogin.conf: ok." "$("$OCTL" check-config 2>&1)"
printf '[metadata]\ntimeout = 1s\n[directory]\npage_size = -3\n' >/run/bad.conf
out=$("$OCTL" check-config --config /run/bad.conf 2>&1)
rc=$?
check_eq "check-config on a bad file: exit 1" 1 $rc
check "… the error names the file and line" grep -q '^osloginctl: /run/bad.conf:4: invalid value' <<<"$out"
printf '[metadata\n' >/run/bad2.conf
check_eq "check-config on a syntax error: exit 1" 1 "$("$OCTL" check-config --config /run/bad2.conf >/dev/null 2>&1; echo $?)"
sums() { md5sum /etc/ssh/sshd_config /etc/nsswitch.conf /etc/pam.d/sshd 2>/dev/null; ls /etc/ssh/sshd_config.d 2>/dev/null; }
"$OCTL" deactivate --no-reload >/dev/null 2>&1
before=$(sums)
out=$("$OCTL" check-config --host 2>&1)
check_eq "check-config --host: exit 0" 0 $?
check "check-config --host: shows the nsswitch change" grep -q '^/etc/nsswitch.conf would change:' <<<"$out"
check "… with the lines it would add" grep -q '^+passwd:.*oslogin' <<<"$out"
check_eq "check-config --host changes nothing" "$before" "$(sums)"
"$OCTL" activate --no-reload >/dev/null 2>&1
check "after activate, --host: nothing to change" bash -c "'$OCTL' check-config --host | grep -q 'activate would change nothing'"

# --- the records outlive the daemon ---------------------------------------------
stop_broker_daemon
rm -f /run/oslogin/control.sock
"$OCTL" status >/dev/null 2>&1
check_eq "status after the daemon stopped: exit 4" 4 $?
check "audit without the daemon: the file's records" bash -c "'$OCTL' audit 2>/dev/null | grep -q alice_example_com"
check "why without the daemon still answers" bash -c "'$OCTL' why carol_example_com 2>/dev/null | grep -q 'not granted'"
done_testing
