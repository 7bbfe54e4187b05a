#!/usr/bin/env bash
# osloginctl revoke (what the packages run on removal), on a private /etc,
# /home and /var in a mount+network namespace: accountsd creates metadata
# users from the fake server's ssh-keys and grants sudo; OS Login admins
# hold drop-ins; a real sshd lets them in. After revoke: no metadata user
# logs in or sudoes (real sshd, sudo -l, su), their own key lines and a
# local user's everything are untouched, an existing account that had
# metadata keys keeps its account and own key, a second run changes
# nothing, and deprovision_remove deletes the accounts we created.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL_BIN=$BUILD/osloginctl/osloginctl
for f in "$ACCOUNTSD" "$CTL_BIN"; do [ -x "$f" ] || { not_ok "$f built"; done_testing; }; done
[ -x /usr/sbin/sshd ] && command -v sudo >/dev/null ||
	{ skip "revoke" "openssh-server or sudo not installed"; done_testing; }
private_etc
private_dir /home /root /var/lib/oslogin /var/lib/google
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
KEYS=/run/keys
mkdir -p $KEYS && cp "$FIXTURES"/keys/* $KEYS/ && chmod 600 $KEYS/*
key() { cut -d' ' -f1-2 "$KEYS/$1.pub"; }
set_keys() { curl -sf -X PUT --data-binary "$1" "$FAKE_URL/_fake/attributes/instance/ssh-keys" >/dev/null; }
once() { "$ACCOUNTSD" --once >>/run/accountsd.log 2>&1; }
revoke() { "$CTL_BIN" revoke >>/run/revoke.log 2>&1; }

# carol: a local user with her own key and sudo, never in metadata.
# bob: a local account that later gets a metadata key too ("existing").
for u in carol bob; do
	useradd --create-home --shell /bin/bash "$u"
	install -d -m 0700 -o "$u" -g "$u" "/home/$u/.ssh"
	key "$u" >"/home/$u/.ssh/authorized_keys"
	chown "$u:" "/home/$u/.ssh/authorized_keys"
	chmod 600 "/home/$u/.ssh/authorized_keys"
done
groupadd -f sudo
usermod -aG sudo,adm carol
useradd --no-create-home --shell /bin/bash alice # an OS Login admin, as NSS would give her
set_keys "dave:$(key dave)
erin:$(key erin)
bob:$(key grace) bob-from-metadata"
check "accountsd reconcile" once
check_eq "dave, erin (instance) and grace (project) created, bob managed as existing" \
	"dave created|erin created|bob existing|grace created" \
	"$(paste -sd'|' /var/lib/oslogin/users)"
# What the PAM module writes for an OS Login admin, and its include.
install -d -m 0750 /var/lib/oslogin/sudoers.d
printf 'alice ALL=(ALL:ALL) NOPASSWD:ALL\n' >/var/lib/oslogin/sudoers.d/alice
chmod 0440 /var/lib/oslogin/sudoers.d/alice
printf '#includedir /var/lib/oslogin/sudoers.d\n' >/etc/sudoers.d/oslogin
chmod 0440 /etc/sudoers.d/oslogin
check "sudoers valid" visudo -c
cp -a /etc /run/etc.before
carol_files() { grep -h '^carol:' /etc/passwd /etc/shadow; id -nG carol; cat /home/carol/.ssh/authorized_keys; }
carol_before=$(carol_files)
bob_shadow_before=$(grep '^bob:' /etc/shadow)

ssh-keygen -A >/dev/null 2>&1
PORT=$(free_port)
/usr/sbin/sshd -D -p "$PORT" -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no >/run/sshd.log 2>&1 &
_cleanup_pids+=($!)
wait_for 5 bash -c "echo > /dev/tcp/127.0.0.1/$PORT" || not_ok "sshd listens"
SSH=(ssh -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5)
can_sudo() { sudo -n -l -U "$1" 2>&1 | grep -q 'NOPASSWD: ALL'; }

# Before: everyone gets in, the grants work.
check "before: dave logs in with his metadata key" "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true
check "before: dave runs sudo (google-sudoers)" "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 sudo -n true
check "before: bob logs in with his metadata key" "${SSH[@]}" -i $KEYS/grace bob@127.0.0.1 true
check "before: alice (OS Login admin) may sudo" can_sudo alice
check "before: carol logs in" "${SSH[@]}" -i $KEYS/carol carol@127.0.0.1 true
# The positive counterparts of the refusals below.
for u in dave erin bob alice; do
	check "before: sudo -l: $u may run sudo" can_sudo "$u"
done
check "before: su to dave works" su -s /bin/sh dave -c true
check "before: managed keys in the homes" grep -rq 'Added by Google' /home
check "before: google-sudoers has members" bash -c "getent group google-sudoers | cut -d: -f4 | grep -q ."
check "before: dave in the configured group adm" bash -c 'id -nG dave | grep -qw adm'
check "before: the sudoers files are there" test -e /etc/sudoers.d/google_sudoers -a -e /etc/sudoers.d/oslogin \
	-a -e /var/lib/oslogin/sudoers.d/alice

check "osloginctl revoke" revoke
diag "$(tail -1 /run/revoke.log)"
check_fails_msg "after: dave cannot log in with his metadata key" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true
check_fails_msg "after: erin cannot log in" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/erin erin@127.0.0.1 true
check_fails_msg "after: bob's metadata key no longer opens his account" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/grace bob@127.0.0.1 true
for u in dave erin bob alice; do
	check_fails "after: sudo -l: $u may not run sudo" 1 can_sudo "$u"
done
check_fails_msg "after: su to dave refused (account expired)" 1 'expired' su -s /bin/sh dave -c true
check_fails "after: no managed key left anywhere" 1 grep -rq 'Added by Google' /home
check_eq "after: dave, erin and grace expired (day 1), recorded for a reinstall" "1 1 1|dave|erin|grace" \
	"$(for u in dave erin grace; do getent shadow $u | cut -d: -f8; done | xargs)|$(paste -sd'|' /var/lib/oslogin/expired)"
check "after: google-sudoers still exists" getent group google-sudoers
check_fails "after: nobody in google-sudoers" 1 bash -c "getent group google-sudoers | cut -d: -f4 | grep -q ."
check "after: id -nG dave answers (his own group dave)" bash -c 'id -nG dave | grep -qw dave'
check_fails "after: dave left the configured groups (adm)" 1 bash -c 'id -nG dave | grep -qw adm'
check_fails "after: /etc/sudoers.d/google_sudoers gone" 1 test -e /etc/sudoers.d/google_sudoers
check_fails "after: /etc/sudoers.d/oslogin gone" 1 test -e /etc/sudoers.d/oslogin
check_fails "after: alice's drop-in gone" 1 test -e /var/lib/oslogin/sudoers.d/alice
check "after: sudoers valid" visudo -c
check_eq "after: bob keeps his account, not expired, and his own key" "$bob_shadow_before|$(key bob)" \
	"$(grep '^bob:' /etc/shadow)|$(paste -sd'|' /home/bob/.ssh/authorized_keys)"
check "after: bob logs in with his own key" "${SSH[@]}" -i $KEYS/bob bob@127.0.0.1 true
check_eq "after: carol untouched (passwd, shadow, groups, keys)" "$carol_before" "$(carol_files)"
check "after: carol logs in" "${SSH[@]}" -i $KEYS/carol carol@127.0.0.1 true
check "after: carol keeps sudo through her own group" bash -c "sudo -n -l -U carol | grep -q '(ALL : ALL) ALL'"
check "after: account files consistent" python3 "$SRC/tests/integration/check-etc.py" /etc
check "after: pwck -r passes" pwck -r -q
changed=$(diff -rq --no-dereference /run/etc.before /etc 2>&1 | sed 's#/run/etc.before#/etc#' |
	grep -vE '^Files /etc/(passwd|shadow|group|gshadow)-? and |^Only in /etc/sudoers.d: (google_sudoers|oslogin)$|^Only in /etc: (passwd|shadow|group|gshadow)-$|/etc/ssh: ssh_host_' || true)
check_eq "after: nothing else in /etc changed" "" "$changed"

before=$(md5sum /etc/passwd /etc/shadow /etc/group /etc/gshadow | md5sum)
check "second revoke succeeds" revoke
check_eq "second revoke changes nothing" "$before" "$(md5sum /etc/passwd /etc/shadow /etc/group /etc/gshadow | md5sum)"
check "second revoke reports nothing to do" bash -c \
	"tail -1 /run/revoke.log | grep -qx 'Revoked: 0 authorized_keys, 0 group memberships, 0 sudoers files; 0 accounts expired, 0 removed.'"

# deprovision_remove: the accounts we created go, the existing one stays.
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[accounts]\ndeprovision_remove = true\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
curl -sf -X PUT --data-binary "" "$FAKE_URL/_fake/attributes/project/ssh-keys" >/dev/null
set_keys "hank:$(key alice)
bob:$(key grace) bob-from-metadata"
check "reconcile with hank" once
check "hank logs in" "${SSH[@]}" -i $KEYS/alice hank@127.0.0.1 true
check "revoke with deprovision_remove" revoke
check_eq "dave, erin, grace, hank deleted; bob kept" "||||bob" \
	"$(getent passwd dave)|$(getent passwd erin)|$(getent passwd grace)|$(getent passwd hank)|$(getent passwd bob | cut -d: -f1)"
check_eq "only bob left in the managed users" "bob existing" "$(cat /var/lib/oslogin/users)"
check_fails_msg "hank cannot log in" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/alice hank@127.0.0.1 true
check "bob still logs in with his own key" "${SSH[@]}" -i $KEYS/bob bob@127.0.0.1 true
check "account files consistent after removal" python3 "$SRC/tests/integration/check-etc.py" /etc

# A failure is reported: usermod missing → exit 1, the rest still revoked.
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
set_keys "dave:$(key dave)"
once
check "dave has a managed key and google-sudoers again" bash -c \
	"grep -q 'Added by Google' /home/dave/.ssh/authorized_keys && id -nG dave | grep -qw google-sudoers"
mount --bind /dev/null /usr/sbin/usermod
check_fails "revoke without a working usermod fails" 1 revoke
umount /usr/sbin/usermod
check_fails "…but dave's keys were revoked all the same" 1 grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
check_fails "… and his sudo" 1 bash -c 'id -nG dave | grep -qw google-sudoers'
check "…and the failure is named" grep -q 'Cannot expire the account "dave"' /run/revoke.log

# The daemon never reconciled here (no /var/lib/oslogin/users): the guest
# agent's google_users lists its own accounts, which revoke leaves alone,
# with the agent's google_sudoers rule; our drop-ins still go.
rm -rf /var/lib/oslogin/* /var/lib/google/*
useradd --create-home --shell /bin/bash zed
usermod -aG google-sudoers zed
install -d -m 0700 -o zed -g zed /home/zed/.ssh
printf '# Added by Google\n%s\n' "$(key alice)" >/home/zed/.ssh/authorized_keys
chown zed: /home/zed/.ssh/authorized_keys
echo zed >/var/lib/google/google_users
printf '%%google-sudoers ALL=(ALL:ALL) NOPASSWD:ALL\n' >/etc/sudoers.d/google_sudoers
chmod 0440 /etc/sudoers.d/google_sudoers
install -d -m 0750 /var/lib/oslogin/sudoers.d
printf 'alice ALL=(ALL:ALL) NOPASSWD:ALL\n' >/var/lib/oslogin/sudoers.d/alice
printf '#includedir /var/lib/oslogin/sudoers.d\n' >/etc/sudoers.d/oslogin
check "the drop-in and include to revoke are there" test -e /var/lib/oslogin/sudoers.d/alice -a -e /etc/sudoers.d/oslogin
zed_before=$(grep -h '^zed:' /etc/passwd /etc/shadow; id -nG zed; cat /home/zed/.ssh/authorized_keys)
check "revoke where the daemon never managed accounts" revoke
check_eq "the agent's account zed untouched (key, google-sudoers, not expired)" "$zed_before" \
	"$(grep -h '^zed:' /etc/passwd /etc/shadow; id -nG zed; cat /home/zed/.ssh/authorized_keys)"
check "the agent's google_sudoers rule kept" test -f /etc/sudoers.d/google_sudoers
check_fails "our OS Login drop-in and include gone all the same" 1 bash -c \
	"test -e /var/lib/oslogin/sudoers.d/alice || test -e /etc/sudoers.d/oslogin"

# Purge gives the guest agent its switch back (debian/oslogin.postrm's
# restore_guest_agent, the same text as the rpm's %postun) from the record
# accountsd's takeover writes (doc/guest-environment.md): the recorded value
# returns in place, an unset key goes again, a file we created that only
# holds our switch goes, other sections stay, the record goes.
AGENT=/run/agent
agent_case() { # NAME RECORD CFG-BEFORE EXPECTED-AFTER ("<none>": no file)
	rm -rf $AGENT && mkdir -p $AGENT/var/lib/oslogin $AGENT/etc/default
	printf '%b' "$2" >$AGENT/var/lib/oslogin/guest-agent.restore
	printf '%b' "$3" >$AGENT/etc/default/instance_configs.cfg
	sed -n '/^restore_guest_agent() {$/,/^}$/p' "$SRC/debian/oslogin.postrm" |
		sed "s#/var/lib/oslogin#$AGENT/var/lib/oslogin#; s#/etc/default#$AGENT/etc/default#" >$AGENT/fn.sh
	sh -c ". $AGENT/fn.sh && restore_guest_agent" >/dev/null
	check_eq "guest agent restore: $1" "$(printf '%b' "$4")|no record" \
		"$(cat $AGENT/etc/default/instance_configs.cfg 2>/dev/null || echo '<none>')|$(test -e $AGENT/var/lib/oslogin/guest-agent.restore && echo record || echo no record)"
}
agent_case "value put back in place" 'file=existed\naccounts_daemon=true\n' \
	'[Accounts]\ngroups = adm\n\n[Daemons]\naccounts_daemon = false\nclock_skew_daemon = true\n' \
	'[Accounts]\ngroups = adm\n\n[Daemons]\naccounts_daemon = true\nclock_skew_daemon = true'
agent_case "unset key removed again" 'file=existed\naccounts_daemon=unset\n' \
	'[Accounts]\ngroups = adm\n[Daemons]\naccounts_daemon = false\n' '[Accounts]\ngroups = adm\n[Daemons]'
agent_case "file we created with only our switch removed" 'file=created\naccounts_daemon=unset\n' \
	'[Daemons]\naccounts_daemon = false\n' '<none>'
agent_case "file we created, since edited: kept" 'file=created\naccounts_daemon=unset\n' \
	'[Daemons]\naccounts_daemon = false\nclock_skew_daemon = false\n' '[Daemons]\nclock_skew_daemon = false'
agent_case "an existing file left empty is kept" 'file=existed\naccounts_daemon=unset\n' \
	'[Daemons]\naccounts_daemon = false\n' '[Daemons]'
agent_case "key missing from the section: added at its end" 'file=existed\naccounts_daemon=true\n' \
	'[Daemons]\nclock_skew_daemon = true\n[Snapshots]\nenabled = x\n' \
	'[Daemons]\nclock_skew_daemon = true\naccounts_daemon = true\n[Snapshots]\nenabled = x'
agent_case "no [Daemons] section: one added" 'file=existed\naccounts_daemon=true\n' '[Accounts]\ngroups = adm\n' \
	'[Accounts]\ngroups = adm\n[Daemons]\naccounts_daemon = true'
rm -f $AGENT/var/lib/oslogin/guest-agent.restore
printf '[Daemons]\naccounts_daemon = false\n' >$AGENT/etc/default/instance_configs.cfg
sh -c ". $AGENT/fn.sh && restore_guest_agent"
check_eq "guest agent restore: no record, nothing touched" "$(printf '[Daemons]\naccounts_daemon = false')" \
	"$(cat $AGENT/etc/default/instance_configs.cfg)"
done_testing
