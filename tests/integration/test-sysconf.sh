#!/usr/bin/env bash
# osloginctl activate/deactivate and accountsd's mode switch on a private
# /etc: real `sshd -t`/`sshd -T`, exact reversal, rollback of a config sshd
# rejects, idempotence, and nothing duplicated or removed that was not ours.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
CTL_BIN=$BUILD/accountsd/osloginctl
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
check "nsswitch passwd: oslogin appended" grep -qE '^passwd:.* oslogin$' /etc/nsswitch.conf
check "nsswitch group: oslogin appended" grep -qE '^group:.* oslogin$' /etc/nsswitch.conf
check_eq "other nsswitch lines untouched" "$(grep -vE '^(passwd|group):' /run/nsswitch.orig)" "$(grep -vE '^(passwd|group):' /etc/nsswitch.conf)"
check_eq "status: active" "active active" "$(parts)"
sum1=$(md5sum /etc/nsswitch.conf /etc/ssh/sshd_config.d/00-oslogin.conf | md5sum)
check "activate again" ctl activate
check_eq "activate is idempotent" "$sum1" "$(md5sum /etc/nsswitch.conf /etc/ssh/sshd_config.d/00-oslogin.conf | md5sum)"
check "deactivate" ctl deactivate
check "nsswitch.conf restored byte for byte" cmp /run/nsswitch.orig /etc/nsswitch.conf
check "sshd_config untouched, drop-in gone" bash -c 'cmp /run/sshd_config.orig /etc/ssh/sshd_config && ! test -e /etc/ssh/sshd_config.d/00-oslogin.conf'
check "deactivate again is harmless" ctl deactivate

# Without an Include line: a marked block at the top of sshd_config.
grep -vi '^Include' /run/sshd_config.orig >/etc/ssh/sshd_config
cp -a /etc/ssh/sshd_config /run/sshd_config.noinclude
check "activate (no Include)" ctl activate
check_eq "block at the top of sshd_config" "# BEGIN oslogin (managed by osloginctl; do not edit)" "$(head -1 /etc/ssh/sshd_config)"
check_eq "sshd -T sees it: passwordauthentication no" no "$(sshd_T passwordauthentication)"
check "deactivate (no Include)" ctl deactivate
check "sshd_config restored byte for byte" cmp /run/sshd_config.noinclude /etc/ssh/sshd_config

# A configuration sshd rejects is rolled back; nsswitch is not touched.
printf 'BogusKeyword yes\n' >>/etc/ssh/sshd_config
cp -a /etc/ssh/sshd_config /run/sshd_config.broken
check_fails "activate fails when sshd -t fails" ctl activate
check "sshd_config rolled back exactly" cmp /run/sshd_config.broken /etc/ssh/sshd_config
check "nsswitch untouched after the failure" cmp /run/nsswitch.orig /etc/nsswitch.conf
cp -a /run/sshd_config.orig /etc/ssh/sshd_config

# An administrator's own oslogin entry is neither duplicated nor removed.
sed -i 's/^\(group:.*\)$/\1 oslogin/' /etc/nsswitch.conf
cp -a /etc/nsswitch.conf /run/nsswitch.admin
ctl activate >/dev/null
check_eq "no duplicate oslogin on group:" 1 "$(grep '^group:' /etc/nsswitch.conf | grep -o oslogin | wc -l)"
ctl deactivate >/dev/null
check "deactivate keeps the administrator's entry" cmp /run/nsswitch.admin /etc/nsswitch.conf
cp -a /run/nsswitch.orig /etc/nsswitch.conf

# accountsd follows enable-oslogin.
start_fake "$FIXTURES/basic.json" || not_ok "fake starts"
private_dir /home /var/lib/google
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
curl -sf -X PUT --data TRUE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
check "accountsd with enable-oslogin=TRUE" "$BUILD/accountsd/oslogin-accountsd" --once
check_eq "mode switch activated OS Login" "active active" "$(parts)"
curl -sf -X PUT --data FALSE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
check "accountsd with enable-oslogin=FALSE" "$BUILD/accountsd/oslogin-accountsd" --once
check "mode switch back: nsswitch restored" cmp /run/nsswitch.orig /etc/nsswitch.conf
check "mode switch back: no drop-in" test ! -e /etc/ssh/sshd_config.d/00-oslogin.conf
done_testing
