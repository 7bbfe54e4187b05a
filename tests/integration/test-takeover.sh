#!/usr/bin/env bash
# Taking over a host that Google's guest agent and guest-oslogin switched to
# OS Login (doc/guest-environment.md): the host is built here exactly as
# they leave it, then accountsd starts. OS Login must be ours (sshd -T),
# nothing of theirs may grant anything, every removal is logged and backed
# up; when the agent writes its block again the next reconcile removes it
# and logs once; switching OS Login off leaves a clean host; the agent's
# own switch is set and recorded; its [Accounts] settings are imported.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL=$BUILD/osloginctl/osloginctl
for f in "$ACCOUNTSD" "$CTL" "$FAKE"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
enter_namespace "$@"
private_etc
# /var as an overlay: the agent's /var/google-* directories and our state
# appear and vanish only inside the namespace.
vd=$(mktemp -d /run/var-layer.XXXXXX) && mkdir "$vd/upper" "$vd/work"
mount -t overlay overlay -o "lowerdir=/var,upperdir=$vd/upper,workdir=$vd/work" /var
rm -rf /var/lib/oslogin /var/lib/google /var/google-sudoers.d /var/google-users.d
private_dir /home
ssh-keygen -A >/dev/null 2>&1
LOG=/run/accountsd.log
sshd_T() { /usr/sbin/sshd -T -C user=nobody,host=x,addr=127.0.0.1 2>/dev/null | grep -i "^$1 " | cut -d' ' -f2-; }
B='#### Google OS Login control. Do not edit this section. ####'
E='#### End Google OS Login control section. ####'
C='# Added by Google Compute Engine OS Login.'

# --- The host as the agent (oslogin.go updateSSHConfig, updateNSSwitchConfig,
# updatePAMsshd, updateGroupConf, createOSLoginDirs, createOSLoginSudoersFile)
# and guest-oslogin (pam_oslogin_admin/_login, google_oslogin_nss_cache,
# google_oslogin_control's su line) leave it.
cp -a /etc/ssh/sshd_config /run/sshd_config.clean
cp -a /etc/nsswitch.conf /run/nsswitch.clean
cp -a /etc/pam.d/sshd /run/pam-sshd.clean
cp -a /etc/pam.d/su /run/pam-su.clean
mkdir -p /etc/security && touch /etc/security/group.conf && cp -a /etc/security/group.conf /run/group.conf.clean
agent_sshd() {
	{ printf '%s\n' "$B" "AuthorizedKeysCommand /usr/bin/google_authorized_keys" "AuthorizedKeysCommandUser root" "$E"
	  cat /run/sshd_config.clean
	  printf '%s\n' "$B" "Include /var/google-users.d/*" "$E"; } >/etc/ssh/sshd_config
}
agent_sshd
sed -i -E 's/^(passwd:.*)$/\1 cache_oslogin oslogin/; s/^(group:.*)$/\1 cache_oslogin oslogin/' /etc/nsswitch.conf
{ printf '%s\n' "$B" "auth       [default=ignore] pam_group.so" "$E"
  cat /run/pam-sshd.clean
  printf '%s\n' "$B" "account    [success=ok ignore=ignore default=die] pam_oslogin_login.so" \
	"account    [success=ok default=ignore] pam_oslogin_admin.so" \
	"session    [success=ok default=ignore] pam_mkhomedir.so" "$E"; } >/etc/pam.d/sshd
{ printf '%s\n' "$C" "account    [success=bad ignore=ignore] pam_oslogin_login.so"; cat /run/pam-su.clean; } >/etc/pam.d/su
printf '%s\n' "$C" "sshd;*;*;Al0000-2400;video" >>/etc/security/group.conf
printf '#includedir /var/google-sudoers.d\n' >/etc/sudoers.d/google-oslogin && chmod 0440 /etc/sudoers.d/google-oslogin
mkdir -m 0750 /var/google-sudoers.d /var/google-users.d
useradd -M -s /bin/bash olduser
printf 'olduser ALL=(ALL) NOPASSWD: ALL\n' >/var/google-sudoers.d/olduser && chmod 0640 /var/google-sudoers.d/olduser
: >/var/google-users.d/olduser
printf 'olduser:*:2001:2001::/home/olduser:/bin/bash\n' >/etc/oslogin_passwd.cache
cp /etc/oslogin_passwd.cache /etc/oslogin_passwd.cache.bak
printf 'olduser:*:2001:\n' >/etc/oslogin_group.cache
mkdir -p /etc/default
printf '[Accounts]\ngroups = adm,video\n\n[InstanceSetup]\nset_host_keys = true\n' >/etc/default/instance_configs.cfg
cp -a /etc/default/instance_configs.cfg /run/instance_configs.orig
cp -a /etc/ssh/sshd_config /run/sshd_config.agent
cp -a /etc/pam.d/sshd /run/pam-sshd.agent

check_eq "fixture: sshd -T uses the agent's key command" "/usr/bin/google_authorized_keys" "$(sshd_T authorizedkeyscommand)"
check "fixture: olduser has the agent's passwordless sudo" bash -c 'sudo -n -l -U olduser | grep -q "NOPASSWD: ALL"'
# The positive counterparts of the "gone" checks below: the same commands find the agent's traces now.
check "fixture: sshd_config, nsswitch and pam.d/sshd carry the agent's lines" bash -c \
	"grep -qE 'google|Google OS Login' /etc/ssh/sshd_config && grep -q cache_oslogin /etc/nsswitch.conf &&
	 grep -qE 'pam_oslogin_(login|admin)|pam_group|success=ok default=ignore\] pam_mkhomedir|Google' /etc/pam.d/sshd"
check "fixture: the agent's sudoers include, directories and caches exist" bash -c \
	"test -e /etc/sudoers.d/google-oslogin -a -e /var/google-sudoers.d -a -e /var/google-users.d &&
	 ls /etc/oslogin_passwd.cache* /etc/oslogin_group.cache* 2>/dev/null | grep -q ."

# --- install + start: accountsd with enable-oslogin=TRUE.
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
FCTL=$FAKE_URL/_fake
set_attr() { curl -sf -X PUT --data-binary "$3" "$FCTL/attributes/$1/$2" >/dev/null; }
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
set_attr instance enable-oslogin TRUE
check "accountsd --once on the agent's host" bash -c "'$ACCOUNTSD' --once >>$LOG 2>&1"
check_eq "sshd -T: AuthorizedKeysCommand is ours" "/usr/sbin/oslogin-authorized-keys %u %f" "$(sshd_T authorizedkeyscommand)"
check_eq "sshd -T: AuthorizedKeysCommandUser is ours" "_oslogin" "$(sshd_T authorizedkeyscommanduser)"
check_eq "sshd -T: root refused" "no" "$(sshd_T permitrootlogin)"
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
# The key command is a client of the running daemon's keys.sock.
"$ACCOUNTSD" >>$LOG 2>&1 &
daemon=$!
_cleanup_pids+=($daemon)
wait_for 15 test -S /run/oslogin/keys.sock
check "the key command sshd now runs gives alice her OS Login key" bash -c \
	"'$AKC' alice_example_com | grep -qF '$(cut -d' ' -f2 "$FIXTURES/keys/alice.pub")'"
check "… and carol (login denied) none, a definite answer (exit 0)" bash -c \
	"out=\$('$AKC' carol_example_com) && [ -z \"\$out\" ]"
kill $daemon
wait $daemon 2>/dev/null
check_fails "sshd_config: nothing of the agent left" 1 grep -qE 'google|Google OS Login' /etc/ssh/sshd_config
check_eq "sshd_config: the administrator's file otherwise unchanged" "$(cat /run/sshd_config.clean)" "$(cat /etc/ssh/sshd_config)"
check "nsswitch: passwd: our oslogin right after files" grep -qE '^passwd:[[:space:]]+files oslogin( |$)' /etc/nsswitch.conf
check_fails "nsswitch: no cache_oslogin" 1 grep -q cache_oslogin /etc/nsswitch.conf
check_eq "nsswitch: one oslogin per line" 1 "$(grep '^passwd:' /etc/nsswitch.conf | grep -o oslogin | wc -l)"
check_fails "pam.d/sshd: no pam_oslogin_login/_admin, pam_group or the agent's mkhomedir" 1 \
	grep -qE 'pam_oslogin_(login|admin)|pam_group|success=ok default=ignore\] pam_mkhomedir|Google' /etc/pam.d/sshd
check "pam.d/su: the agent's su line and comment gone" cmp /run/pam-su.clean /etc/pam.d/su
check "group.conf: the agent's sshd groups line gone" cmp /run/group.conf.clean /etc/security/group.conf
check_fails "/etc/sudoers.d/google-oslogin gone" 1 test -e /etc/sudoers.d/google-oslogin
check_fails "/var/google-sudoers.d gone" 1 test -e /var/google-sudoers.d
check_fails "/var/google-users.d gone" 1 test -e /var/google-users.d
check_fails "caches gone" 1 bash -c 'ls /etc/oslogin_passwd.cache* /etc/oslogin_group.cache* 2>/dev/null | grep -q .'
check_fails "olduser's stale sudo grant revoked" 1 bash -c 'sudo -n -l -U olduser 2>&1 | grep -q "NOPASSWD"'
check "sudoers still valid" visudo -c
BK=/var/lib/oslogin/guest-environment
check "backup: sshd_config as the agent left it" cmp /run/sshd_config.agent $BK/etc/ssh/sshd_config
check "backup: pam.d/sshd as the agent left it" cmp /run/pam-sshd.agent $BK/etc/pam.d/sshd
check "backup: the stale grant" grep -qx 'olduser ALL=(ALL) NOPASSWD: ALL' $BK/var/google-sudoers.d/olduser
check "backup: the caches" test -f $BK/etc/oslogin_passwd.cache.bak -a -f $BK/etc/oslogin_group.cache
check_eq "backups are root's only" 700 "$(stat -c %a $BK)"
check "log: sshd_config removal named" grep -q 'Removed .* from /etc/ssh/sshd_config ("AuthorizedKeysCommand /usr/bin/google_authorized_keys")' $LOG
check "log: the sudo grant named" grep -q 'sudo grant /var/google-sudoers.d/olduser' $LOG
check "log: the include named" grep -q 'sudo include /etc/sudoers.d/google-oslogin' $LOG
check "instance_configs.cfg: [Daemons] accounts_daemon = false" \
	python3 -c 'import configparser,sys; c=configparser.ConfigParser(); c.read("/etc/default/instance_configs.cfg"); sys.exit(c["Daemons"]["accounts_daemon"]!="false")'
check "instance_configs.cfg: the rest kept" grep -qx 'groups = adm,video' /etc/default/instance_configs.cfg
check_eq "restore record for the purge" "file=existed
accounts_daemon=unset" "$(cat /var/lib/oslogin/guest-agent.restore)"

# --- The agent writes its block again (it does on a metadata change): the
# next reconcile removes it and logs once.
NOTIFY=/run/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True: out.write(s.recv(4096).decode() + "\n")' $NOTIFY /run/notify.log &
_cleanup_pids+=($!)
wait_for 5 test -S $NOTIFY
NOTIFY_SOCKET=$NOTIFY "$ACCOUNTSD" >>$LOG 2>&1 &
DPID=$!
_cleanup_pids+=($DPID)
check "daemon ready" wait_for 10 grep -q READY=1 /run/notify.log
n0=$(grep -c 'from /etc/ssh/sshd_config' $LOG)
cp -a /etc/ssh/sshd_config /run/sshd_config.ours
{ printf '%s\n' "$B" "AuthorizedKeysCommand /usr/bin/google_authorized_keys" "AuthorizedKeysCommandUser root" "$E"; cat /run/sshd_config.ours; } >/etc/ssh/sshd_config
mkdir -m 0750 /var/google-sudoers.d && printf 'olduser ALL=(ALL) NOPASSWD: ALL\n' >/var/google-sudoers.d/olduser
set_attr instance unrelated "x$RANDOM"
check "the agent's block gone again after the next reconcile" \
	wait_for 10 bash -c '! grep -q google_authorized_keys /etc/ssh/sshd_config'
check "… and the new grant revoked" wait_for 5 bash -c '! test -e /var/google-sudoers.d/olduser'
check "sshd_config back to ours exactly" cmp /run/sshd_config.ours /etc/ssh/sshd_config
set_attr instance unrelated "y$RANDOM"
sleep 1
check_eq "logged once for the rewrite" $((n0 + 1)) "$(grep -c 'from /etc/ssh/sshd_config' $LOG)"
check_eq "sshd -T: still ours" "/usr/sbin/oslogin-authorized-keys %u %f" "$(sshd_T authorizedkeyscommand)"
# The agent reacts to the same metadata change, maybe after our pass: its
# block goes a few seconds later without another change.
set_attr instance unrelated "z$RANDOM"
sleep 1.5
{ printf '%s\n' "$B" "AuthorizedKeysCommand /usr/bin/google_authorized_keys" "AuthorizedKeysCommandUser root" "$E"; cat /run/sshd_config.ours; } >/etc/ssh/sshd_config
t0=$(date +%s%N)
if wait_for 10 bash -c '! grep -q google_authorized_keys /etc/ssh/sshd_config'; then
	ok "a rewrite after our pass goes without another metadata change ($((($(date +%s%N) - t0) / 1000000)) ms)"
else
	not_ok "a rewrite after our pass stays until the next metadata change"
fi
wait_for 2 bash -c "[ \$(grep -c 'from /etc/ssh/sshd_config' $LOG) -gt $((n0 + 1)) ]" # logged after the rename
sleep 0.5
check_eq "… logged once more" $((n0 + 2)) "$(grep -c 'from /etc/ssh/sshd_config' $LOG)"

# --- Switch off: a clean host, no file of the agent's grants anything.
set_attr instance enable-oslogin FALSE
check "switch off: nsswitch as before the agent" wait_for 10 cmp /run/nsswitch.clean /etc/nsswitch.conf
check "switch off: sshd_config as before the agent" cmp /run/sshd_config.clean /etc/ssh/sshd_config
check "switch off: pam.d/sshd as before the agent" cmp /run/pam-sshd.clean /etc/pam.d/sshd
check_fails "switch off: no drop-in" 1 test -e /etc/ssh/sshd_config.d/00-oslogin.conf
check_fails "switch off: no file of the agent's that grants" 1 \
	bash -c 'ls /etc/sudoers.d/google-oslogin /var/google-sudoers.d /var/google-users.d 2>/dev/null | grep -q .'
check_fails "switch off: olduser has no sudo" 1 bash -c 'sudo -n -l -U olduser 2>&1 | grep -q NOPASSWD'
check_eq "sshd -T: no key command left" "none" "$(sshd_T authorizedkeyscommand)"

# --- Metadata keys mode: the agent's [Accounts] groups apply (oslogin.conf
# sets none): dave gets adm and video, not plugdev or dip.
set_attr instance ssh-keys "dave:$(cut -d' ' -f1-2 "$FIXTURES/keys/dave.pub")"
check "metadata keys: dave created" wait_for 10 getent passwd dave
check_eq "dave's groups are the agent's [Accounts] groups" "adm google-sudoers video" \
	"$(id -nG dave | tr ' ' '\n' | grep -v '^dave$' | sort | xargs)"
check "log: the import named" grep -q "Using the guest agent's \[Accounts\] settings" $LOG
kill -TERM $DPID
wait $DPID
check_eq "daemon exits cleanly" 0 $?
grep -q 'ERROR: AddressSanitizer\|runtime error' $LOG && not_ok "sanitizer reports in the log" "$(grep -m3 -A3 'Sanitizer\|runtime error' $LOG)"

# --- google_oslogin_control's style: the administrator's conflicting sshd
# line commented out under their comment comes back on deactivate.
printf '%s\n' "$C" "#MaxAuthTries 4" | cat - /run/sshd_config.clean >/etc/ssh/sshd_config
check "deactivate on google_oslogin_control's sshd_config" "$CTL" --no-reload deactivate
check_eq "the commented-out line restored, the comment gone" "MaxAuthTries 4" "$(head -1 /etc/ssh/sshd_config)"
# An instance_configs.cfg where the switch is already off is left alone.
printf '[Daemons]\naccounts_daemon = False\n' >/etc/default/instance_configs.cfg
rm -f /var/lib/oslogin/guest-agent.restore
"$ACCOUNTSD" --once >>$LOG 2>&1
check_eq "switch already off: file untouched" "[Daemons]
accounts_daemon = False" "$(cat /etc/default/instance_configs.cfg)"
check_fails "… and no restore record" 1 test -e /var/lib/oslogin/guest-agent.restore
# osloginctl activate by hand on the agent's host: the same takeover.
agent_sshd
printf '#includedir /var/google-sudoers.d\n' >/etc/sudoers.d/google-oslogin && chmod 0440 /etc/sudoers.d/google-oslogin
mkdir -p -m 0750 /var/google-sudoers.d && printf 'olduser ALL=(ALL) NOPASSWD: ALL\n' >/var/google-sudoers.d/olduser
check "osloginctl activate on the agent's host" "$CTL" --no-reload activate
check_eq "… sshd -T: ours" "/usr/sbin/oslogin-authorized-keys %u %f" "$(sshd_T authorizedkeyscommand)"
check_fails "… the agent's sudo include and grant gone" 1 bash -c 'ls /etc/sudoers.d/google-oslogin /var/google-sudoers.d/olduser 2>/dev/null | grep -q .'
check "osloginctl deactivate" "$CTL" --no-reload deactivate
check "… sshd_config as before the agent" cmp /run/sshd_config.clean /etc/ssh/sshd_config
valgrind_check "valgrind: accountsd --once on the agent's host" "$ACCOUNTSD" --once
done_testing
