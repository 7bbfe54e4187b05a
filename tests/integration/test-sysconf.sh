#!/usr/bin/env bash
# osloginctl activate/deactivate and accountsd's mode switch on a private
# /etc: real `sshd -t`/`sshd -T`, exact reversal, rollback of a config sshd
# rejects, idempotence, and nothing duplicated or removed that was not ours.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
CTL_BIN=$BUILD/osloginctl/osloginctl
[ -x "$CTL_BIN" ] || { not_ok "osloginctl built at $CTL_BIN"; done_testing; }
private_etc
private_dir /var/lib/oslogin
ssh-keygen -A >/dev/null 2>&1
cp -a /etc/nsswitch.conf /run/nsswitch.orig
cp -a /etc/ssh/sshd_config /run/sshd_config.orig
ctl() { "$CTL_BIN" --no-reload "$@"; }
# parts: the nsswitch and sshd states from `osloginctl status`, by label.
parts() { ctl status | awk '/^nsswitch \(oslogin\)/ {n=$NF} /^sshd \(OS Login keys\)/ {s=$NF} END {print n, s}'; }
sshd_T() { /usr/sbin/sshd -T -C user=nobody,host=x,addr=127.0.0.1 2>/dev/null | grep -i "^$1 " | cut -d' ' -f2-; }

check_eq "status before: inactive" "inactive inactive" "$(parts)"
check "activate" ctl activate
check "drop-in written first in sshd_config.d" test -f /etc/ssh/sshd_config.d/00-oslogin.conf
check_eq "sshd -T: passwordauthentication no" no "$(sshd_T passwordauthentication)"
check_eq "sshd -T: permitrootlogin no" no "$(sshd_T permitrootlogin)"
check_eq "sshd -T: kbdinteractiveauthentication no" no "$(sshd_T kbdinteractiveauthentication)"
check_eq "sshd -T: authorizedkeyscommand" "/usr/sbin/oslogin-authorized-keys %u %f" "$(sshd_T authorizedkeyscommand)"
check_eq "sshd -T: authorizedkeyscommanduser" "_oslogin" "$(sshd_T authorizedkeyscommanduser)"
# Right after "files": a service behind it (Debian's systemd) is asked only
# for names neither the files nor OS Login know.
check_eq "nsswitch passwd: oslogin right after files" "$(grep '^passwd:' /run/nsswitch.orig | sed -E 's/^(passwd:[[:space:]]*files)/\1 oslogin/')" "$(grep '^passwd:' /etc/nsswitch.conf)"
check_eq "nsswitch group: oslogin right after files" "$(grep '^group:' /run/nsswitch.orig | sed -E 's/^(group:[[:space:]]*files)/\1 oslogin/')" "$(grep '^group:' /etc/nsswitch.conf)"
check_eq "other nsswitch lines untouched" "$(grep -vE '^(passwd|group):' /run/nsswitch.orig)" "$(grep -vE '^(passwd|group):' /etc/nsswitch.conf)"
check_eq "status: active" "active active" "$(parts)"
sum1=$(md5sum /etc/nsswitch.conf /etc/ssh/sshd_config.d/00-oslogin.conf | md5sum)
check "activate again" ctl activate
check_eq "activate is idempotent" "$sum1" "$(md5sum /etc/nsswitch.conf /etc/ssh/sshd_config.d/00-oslogin.conf | md5sum)"
check "deactivate" ctl deactivate
check "nsswitch.conf restored byte for byte" cmp /run/nsswitch.orig /etc/nsswitch.conf
check "sshd_config untouched" cmp /run/sshd_config.orig /etc/ssh/sshd_config
check_fails "… drop-in gone" 1 test -e /etc/ssh/sshd_config.d/00-oslogin.conf
check "deactivate again is harmless" ctl deactivate

# Without an Include line: a marked block at the top of sshd_config.
grep -vi '^Include' /run/sshd_config.orig >/etc/ssh/sshd_config
cp -a /etc/ssh/sshd_config /run/sshd_config.noinclude
check "activate (no Include)" ctl activate
check_eq "block at the top of sshd_config" "# BEGIN oslogin (managed by osloginctl; do not edit)" "$(head -1 /etc/ssh/sshd_config)"
check_eq "sshd -T sees it: passwordauthentication no" no "$(sshd_T passwordauthentication)"
check_eq "the Match block is in a second block at the very end (at the top it would swallow sshd_config)" \
	"$(printf '%s\n' '# BEGIN oslogin (managed by osloginctl; do not edit)' 'Match Group oslogin-users' \
		'    AuthorizedKeysFile none' '# END oslogin')" "$(tail -4 /etc/ssh/sshd_config)"
check_eq "… so the administrator's settings still apply to everyone: x11forwarding as before" \
	"$(/usr/sbin/sshd -T -f /run/sshd_config.noinclude -C user=root,host=x,addr=127.0.0.1 | grep -i '^x11forwarding')" \
	"$(/usr/sbin/sshd -T -C user=root,host=x,addr=127.0.0.1 | grep -i '^x11forwarding')"
check "deactivate (no Include)" ctl deactivate
check "sshd_config restored byte for byte" cmp /run/sshd_config.noinclude /etc/ssh/sshd_config

# A configuration sshd rejects is rolled back; nsswitch is not touched.
printf 'BogusKeyword yes\n' >>/etc/ssh/sshd_config
cp -a /etc/ssh/sshd_config /run/sshd_config.broken
check_fails_msg "activate fails when sshd -t fails" 1 'sshd -t rejects' ctl activate
check "sshd_config rolled back exactly" cmp /run/sshd_config.broken /etc/ssh/sshd_config
check "nsswitch untouched after the failure" cmp /run/nsswitch.orig /etc/nsswitch.conf
cp -a /run/sshd_config.orig /etc/ssh/sshd_config

# PAM: a block at the top of /etc/pam.d/sshd, only when the module exists
# (a stack naming a missing module would refuse local users too).
cp -a /etc/pam.d/sshd /run/pam-sshd.orig
pam_parts() { ctl status | awk '/^pam \(pam_oslogin\)/ {p=$NF} /^two-factor/ {t=$NF} END {print p, t}'; }
check "activate without the module installed" ctl --pam-module pam_oslogin_absent.so activate
check "… /etc/pam.d/sshd untouched" cmp /run/pam-sshd.orig /etc/pam.d/sshd
check_eq "… status: pam inactive" "inactive inactive" "$(pam_parts)"
ctl deactivate >/dev/null
MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
check "activate with the module" ctl --pam-module "$MODULE" activate
check_eq "pam block first in /etc/pam.d/sshd" "# BEGIN oslogin (managed by osloginctl; do not edit)" "$(head -1 /etc/pam.d/sshd)"
check "account line for pam_oslogin" grep -qx "account required $MODULE" /etc/pam.d/sshd
check "auth line without twofactor" grep -qx "auth \[success=done perm_denied=die auth_err=die default=ignore\] $MODULE" /etc/pam.d/sshd
check_eq "the rest of the stack follows unchanged" "$(cat /run/pam-sshd.orig)" "$(sed '1,/^# END oslogin$/d' /etc/pam.d/sshd)"
check_eq "status: pam active, two-factor inactive" "active inactive" "$(pam_parts)"
sum2=$(md5sum /etc/pam.d/sshd)
ctl --pam-module "$MODULE" activate >/dev/null
check_eq "pam block: idempotent" "$sum2" "$(md5sum /etc/pam.d/sshd)"
check "activate --two-factor" ctl --pam-module "$MODULE" --two-factor activate
check "two-factor: auth line with twofactor" grep -q "default=ignore\] $MODULE twofactor\$" /etc/pam.d/sshd
check_eq "two-factor: one block only" 1 "$(grep -c '^# BEGIN oslogin' /etc/pam.d/sshd)"
check_eq "sshd -T: kbdinteractiveauthentication yes" yes "$(sshd_T kbdinteractiveauthentication)"
check_eq "sshd -T: authenticationmethods publickey,keyboard-interactive" "publickey,keyboard-interactive" "$(sshd_T authenticationmethods)"
check_eq "status: two-factor active" "active active" "$(pam_parts)"
check "deactivate" ctl deactivate
check "/etc/pam.d/sshd restored byte for byte" cmp /run/pam-sshd.orig /etc/pam.d/sshd
check_eq "sshd -T after deactivate: no authenticationmethods" "any" "$(sshd_T authenticationmethods)"
printf 'BogusKeyword yes\n' >>/etc/ssh/sshd_config
check_fails_msg "activate with a config sshd rejects" 1 'sshd -t rejects' ctl --pam-module "$MODULE" activate
check "… /etc/pam.d/sshd left as it was" cmp /run/pam-sshd.orig /etc/pam.d/sshd
cp -a /run/sshd_config.orig /etc/ssh/sshd_config

# An administrator's own oslogin entry is neither duplicated nor removed.
sed -i 's/^\(group:.*\)$/\1 oslogin/' /etc/nsswitch.conf
cp -a /etc/nsswitch.conf /run/nsswitch.admin
ctl activate >/dev/null
check_eq "no duplicate oslogin on group:" 1 "$(grep '^group:' /etc/nsswitch.conf | grep -o oslogin | wc -l)"
ctl deactivate >/dev/null
check "deactivate keeps the administrator's entry" cmp /run/nsswitch.admin /etc/nsswitch.conf
cp -a /run/nsswitch.orig /etc/nsswitch.conf

# Placement on other lines: Debian's stock ones, action items after files,
# no files at all, a comment, tabs; each back byte for byte.
printf 'passwd:         files systemd\ngroup:\tfiles [NOTFOUND=return]\tsystemd # local only\ninitgroups: sss # no files\nshadow:         files systemd\n' >/etc/nsswitch.conf
cp -a /etc/nsswitch.conf /run/nsswitch.placed
ctl activate >/dev/null
check_eq "stock passwd: files oslogin systemd" "passwd:         files oslogin systemd" "$(grep '^passwd:' /etc/nsswitch.conf)"
check_eq "group: after files' action item, tab and comment kept" "$(printf 'group:\tfiles [NOTFOUND=return] oslogin\tsystemd # local only')" "$(grep '^group:' /etc/nsswitch.conf)"
check_eq "initgroups: no files, at the end before the comment" "initgroups: sss oslogin # no files" "$(grep '^initgroups:' /etc/nsswitch.conf)"
check_eq "shadow: untouched" "shadow:         files systemd" "$(grep '^shadow:' /etc/nsswitch.conf)"
sum_placed=$(md5sum </etc/nsswitch.conf)
ctl activate >/dev/null
check_eq "activate again: same file" "$sum_placed" "$(md5sum </etc/nsswitch.conf)"
ctl deactivate >/dev/null
check "deactivate: every line back byte for byte" cmp /run/nsswitch.placed /etc/nsswitch.conf
# An activation by an older version appended the service: activating again
# moves it after files, deactivating gives the original back.
printf 'passwd:         files systemd oslogin\ngroup:          files systemd oslogin\n' >/etc/nsswitch.conf
printf ' passwd  group ' >/var/lib/oslogin/nsswitch.changed
ctl activate >/dev/null
check_eq "upgrade: moved after files" "passwd:         files oslogin systemd" "$(grep '^passwd:' /etc/nsswitch.conf)"
ctl deactivate >/dev/null
check_eq "upgrade: deactivate gives the stock lines" "$(printf 'passwd:         files systemd\ngroup:          files systemd')" "$(cat /etc/nsswitch.conf)"
cp -a /run/nsswitch.orig /etc/nsswitch.conf

# accountsd follows enable-oslogin.
start_fake "$FIXTURES/basic.json" || not_ok "fake starts"
private_dir /home /var/lib/google
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
curl -sf -X PUT --data TRUE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
check "accountsd with enable-oslogin=TRUE" "$BUILD/accountsd/oslogin-accountsd" --once
check_eq "mode switch activated OS Login" "active active" "$(parts)"
curl -sf -X PUT --data true "$FAKE_URL/_fake/attributes/project/enable-oslogin-2fa" >/dev/null
check "accountsd with enable-oslogin-2fa=true" "$BUILD/accountsd/oslogin-accountsd" --once
check_eq "sshd -T: two-factor after the key" "publickey,keyboard-interactive" "$(sshd_T authenticationmethods)"
curl -sf -X DELETE "$FAKE_URL/_fake/attributes/project/enable-oslogin-2fa" >/dev/null
check "accountsd with enable-oslogin-2fa unset" "$BUILD/accountsd/oslogin-accountsd" --once
check_eq "sshd -T: two-factor gone" "any" "$(sshd_T authenticationmethods)"
# Stateless /etc: the image's nsswitch.conf is back, the recorded mode in
# /var still says OS Login; the next start puts the configuration back.
cp -a /run/nsswitch.orig /etc/nsswitch.conf
rm -f /etc/ssh/sshd_config.d/00-oslogin.conf
check "accountsd after /etc came back from the image" "$BUILD/accountsd/oslogin-accountsd" --once
check_eq "configuration restored although the recorded mode did not change" "active active" "$(parts)"
curl -sf -X PUT --data FALSE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
check "accountsd with enable-oslogin=FALSE" "$BUILD/accountsd/oslogin-accountsd" --once
check "mode switch back: nsswitch restored" cmp /run/nsswitch.orig /etc/nsswitch.conf
check "mode switch back: no drop-in" test ! -e /etc/ssh/sshd_config.d/00-oslogin.conf

# accountsd applies the configuration at every start; when nothing changes
# sshd must not be reloaded (a stand-in records SIGHUPs via /run/sshd.pid).
bash -c 'trap "echo hup >>/run/hup.log" HUP; while :; do sleep 0.1; done' &
echo $! >/run/sshd.pid
_cleanup_pids+=($!)
sleep 0.2
# The positive case first: the stand-in does record a SIGHUP.
kill -HUP "$(cat /run/sshd.pid)"
check "the sshd stand-in records a SIGHUP" wait_for 3 test -s /run/hup.log
sleep 0.2
: >/run/hup.log
"$BUILD/accountsd/oslogin-accountsd" --once
sleep 0.3
check_fails "start in metadata-keys mode, nothing to undo: sshd not reloaded" 1 test -s /run/hup.log
curl -sf -X PUT --data TRUE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
"$BUILD/accountsd/oslogin-accountsd" --once
check "switch to OS Login: sshd reloaded" wait_for 3 test -s /run/hup.log
: >/run/hup.log
"$BUILD/accountsd/oslogin-accountsd" --once
sleep 0.3
check_fails "start in OS Login mode, configuration in place: sshd not reloaded" 1 test -s /run/hup.log
valgrind_check "valgrind: accountsd --once in OS Login mode" "$BUILD/accountsd/oslogin-accountsd" --once
valgrind_check "valgrind: osloginctl status" "$CTL_BIN" status
curl -sf -X PUT --data FALSE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
valgrind_check "valgrind: accountsd --once switching back to metadata keys" "$BUILD/accountsd/oslogin-accountsd" --once
# --- Activation is one transaction: a failure at any step leaves every
# file as it was, names the step, and sshd is not reloaded.
cp -a /run/sshd_config.orig /etc/ssh/sshd_config
cp -a /run/nsswitch.orig /etc/nsswitch.conf
cp -a /run/pam-sshd.orig /etc/pam.d/sshd
rm -f /etc/ssh/sshd_config.d/00-oslogin.conf /var/lib/oslogin/nsswitch.changed
bash -c 'trap "echo hup >>/run/hup.log" HUP; while :; do sleep 0.1; done' &
echo $! >/run/sshd.pid
_cleanup_pids+=($!)
sleep 0.2
kill -HUP "$(cat /run/sshd.pid)"
check "the second sshd stand-in records a SIGHUP" wait_for 3 test -s /run/hup.log
sleep 0.2
: >/run/hup.log
ns_target() { readlink -f /etc/nsswitch.conf; }
snap() {
	md5sum /etc/pam.d/sshd /etc/ssh/sshd_config "$(ns_target)" 2>&1
	ls /etc/ssh/sshd_config.d /var/lib/oslogin 2>&1
	test -L /etc/nsswitch.conf && readlink /etc/nsswitch.conf
}
# fail_at STEP-TEXT DESCRIPTION: activate must fail naming the step, with nothing changed.
fail_at() {
	local before after out rc
	before=$(snap)
	out=$("$CTL_BIN" --pam-module "$MODULE" activate 2>&1)
	rc=$?
	check_eq "$2: activate fails with exit 1" 1 "$rc"
	case "$out" in *"$1"*"Nothing was changed"*) ok "$2: the message names the step ($1)" ;;
	*) not_ok "$2: the message names the step ($1)" "$out" ;; esac
	after=$(snap)
	check_eq "$2: nothing changed" "$before" "$after"
	sleep 0.3
	check_fails "$2: sshd not reloaded" 1 test -s /run/hup.log
}
ro() { mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"; }
ro /etc/pam.d
fail_at "PAM: cannot write /etc/pam.d/sshd" "PAM directory read-only"
umount /etc/pam.d
ro /etc/ssh/sshd_config.d
fail_at "sshd: cannot write /etc/ssh/sshd_config.d/00-oslogin.conf" "sshd drop-in directory read-only"
umount /etc/ssh/sshd_config.d
groupadd oslogin-users
fail_at "sshd: the OS Login users group \"oslogin-users\" is a local group" \
	"a local group named like the OS Login users group (its members would lose their authorized_keys)"
groupdel oslogin-users
printf 'BogusKeyword yes\n' >>/etc/ssh/sshd_config
fail_at "sshd -t rejects" "sshd -t failing"
cp -a /run/sshd_config.orig /etc/ssh/sshd_config
# The authselect layout: nsswitch.conf a symlink into /etc/authselect.
mkdir -p /etc/authselect
mv /etc/nsswitch.conf /etc/authselect/nsswitch.conf
ln -s authselect/nsswitch.conf /etc/nsswitch.conf
ro /etc/authselect
fail_at "nsswitch: cannot write /etc/authselect/nsswitch.conf" "nsswitch target read-only (after PAM and sshd were written)"
umount /etc/authselect
mount -o remount,ro /var/lib/oslogin
fail_at "state: cannot write" "state directory read-only (the last step)"
mount -o remount,rw /var/lib/oslogin
check "authselect layout: activate" "$CTL_BIN" --pam-module "$MODULE" activate
check "… nsswitch.conf is still the symlink" test -L /etc/nsswitch.conf
check "… its target edited in place" grep -qE '^passwd:.*files oslogin' /etc/authselect/nsswitch.conf
check "… sshd reloaded once, at the end" wait_for 3 bash -c '[ "$(wc -l </run/hup.log)" = 1 ]'
check_eq "… status sees nsswitch active through the link" "active active" "$(parts)"
check "authselect layout: deactivate" "$CTL_BIN" deactivate
check "… target restored byte for byte" cmp /run/nsswitch.orig /etc/authselect/nsswitch.conf
check "… pam.d/sshd restored" cmp /run/pam-sshd.orig /etc/pam.d/sshd
sleep 0.3 # the stand-in handles its SIGHUP between sleeps
: >/run/hup.log
# Links that are not a root-owned regular file under /etc: refused before any change.
cp /run/nsswitch.orig /run/elsewhere.conf
ln -sfn /run/elsewhere.conf /etc/nsswitch.conf
fail_at "nsswitch: /etc/nsswitch.conf links to /run/elsewhere.conf" "symlink out of /etc"
chown nobody /etc/authselect/nsswitch.conf
ln -sfn authselect/nsswitch.conf /etc/nsswitch.conf
fail_at "not a root-owned regular file under /etc: refused" "symlink to a file root does not own"
chown root /etc/authselect/nsswitch.conf
ln -sfn authselect/missing.conf /etc/nsswitch.conf
fail_at "nsswitch: /etc/nsswitch.conf links to authselect/missing.conf" "dangling symlink"
rm /etc/nsswitch.conf
fail_at "nsswitch: /etc/nsswitch.conf is missing" "no nsswitch.conf"
cp -a /run/nsswitch.orig /etc/nsswitch.conf
rm -rf /etc/authselect

# --- manage_host_config = false: accountsd never edits sshd, nsswitch or
# PAM; osloginctl status lists what to add by hand.
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[host]\nmanage_host_config = false\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
curl -sf -X PUT --data TRUE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
before=$(snap)
check "accountsd --once, OS Login, manage_host_config = false" bash -c "'$BUILD/accountsd/oslogin-accountsd' --once 2>/run/unmanaged.log"
check_eq "… sshd, nsswitch and PAM untouched" "$before" "$(snap)"
check "… logged why" grep -q 'manage_host_config = false: sshd, nsswitch and PAM are left to the administrator' /run/unmanaged.log
check_eq "… the mode is recorded all the same" oslogin "$(cat /var/lib/oslogin/mode)"
status=$(ctl status)
check "osloginctl status: the manual configuration" grep -q '^manual configuration (manage_host_config = false)' <<<"$status"
check "… with our AuthorizedKeysCommand line" grep -qx '       AuthorizedKeysCommand /usr/sbin/oslogin-authorized-keys %u %f' <<<"$status"
check "… and the nsswitch and PAM lines" bash -c "grep -q 'add \"oslogin\" right after \"files\" on the passwd: and group: lines' <<<'$status' && grep -q 'account required pam_oslogin.so' <<<'$status'"
sleep 0.3
check_fails "… sshd not reloaded" 1 test -s /run/hup.log

# --- metadata_accounts = false: ssh-keys in the metadata make no account,
# and the accounts made earlier lose their keys.
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
curl -sf -X PUT --data FALSE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
"$BUILD/accountsd/oslogin-accountsd" --once 2>/dev/null
check "metadata keys: dave has managed keys" grep -q "Added by Google" /home/dave/.ssh/authorized_keys
check "metadata keys: erin (in ssh-keys) created" getent passwd erin
userdel erin 2>/dev/null
check_fails "… erin deleted by hand" 2 getent passwd erin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[accounts]\nmetadata_accounts = false\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
check "accountsd --once with metadata_accounts = false" bash -c "'$BUILD/accountsd/oslogin-accountsd' --once 2>/run/nometa.log"
check "… dave's account and file stay" bash -c 'getent passwd dave && test -f /home/dave/.ssh/authorized_keys'
check_fails "… dave's managed keys gone" 1 grep -q "Added by Google" /home/dave/.ssh/authorized_keys
check_fails "… erin (in ssh-keys) not created" 2 getent passwd erin
check "… logged once why" grep -q 'metadata_accounts = false: ssh-keys in the metadata make no account' /run/nometa.log
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
rm -f /run/sshd.pid
done_testing
