#!/usr/bin/env bash
# accountsd in metadata-keys mode, on a private /etc, /home, /root and /var
# in a mount+network namespace: accounts created from the fake server's
# ssh-keys, a real sshd key login, refusals, the marker scheme, symlink
# attacks, deprovisioning, a stateless reboot, a live long-poll, an outage
# and kill -9 during a large reconcile.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
[ -x "$ACCOUNTSD" ] || { not_ok "oslogin-accountsd built at $ACCOUNTSD"; done_testing; }
private_etc
# Two of the default configured groups ([accounts] groups) this host may lack.
for g in docker lxd; do getent group $g >/dev/null || groupadd -r $g; done
private_dir /home /root /var/lib/oslogin /var/lib/google
cp -a /etc /run/pristine-etc
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
CTL=$FAKE_URL/_fake
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
KEYS=/run/keys
mkdir -p $KEYS && cp "$FIXTURES"/keys/* $KEYS/ && chmod 600 $KEYS/*
key() { cut -d' ' -f1-2 "$KEYS/$1.pub"; }
set_keys() { curl -sf -X PUT --data-binary "$1" "$CTL/attributes/instance/ssh-keys" >/dev/null; }
once() { "$ACCOUNTSD" --once >>/run/accountsd.log 2>&1; }
uid_of() { getent passwd "$1" | cut -d: -f3; }

check "first reconcile" once
check_eq "dave and erin (instance) and grace (project) created" "dave erin grace" \
	"$(for u in dave erin grace; do getent passwd "$u" >/dev/null && printf '%s ' "$u"; done | xargs)"
check_fails "frank (expired google-ssh key) not created" 2 getent passwd frank
check_eq "password field locked with *" "*" "$(getent shadow dave | cut -d: -f2)"
check_eq "shell /bin/bash" "/bin/bash" "$(getent passwd dave | cut -d: -f7)"
check "dave in google-sudoers" bash -c 'id -nG dave | grep -qw google-sudoers'
check "dave in the configured groups adm, docker and lxd" bash -c 'for g in adm docker lxd; do id -nG dave | grep -qw $g || exit 1; done'
check_eq "google_sudoers file" "%google-sudoers ALL=(ALL:ALL) NOPASSWD:ALL 440" \
	"$(cat /etc/sudoers.d/google_sudoers) $(stat -c %a /etc/sudoers.d/google_sudoers)"
check "sudoers syntax valid" visudo -c
check_eq "home owned by dave, 0750" "dave 750" "$(stat -c '%U %a' /home/dave)"
check "home populated from /etc/skel" test -f /home/dave/.bashrc
check_eq ".ssh 0700 and authorized_keys 0600, owned by dave" "700 dave 600 dave" \
	"$(stat -c '%a %U' /home/dave/.ssh) $(stat -c '%a %U' /home/dave/.ssh/authorized_keys)"
check "erin's expiring key carries expiry-time" grep -q '^expiry-time="20991201100000Z" ssh-ed25519' /home/erin/.ssh/authorized_keys
check "account files consistent" python3 "$SRC/tests/integration/check-etc.py" /etc
check "backups written" test -s /etc/passwd- -a -s /etc/shadow- -a -s /etc/group- -a -s /etc/gshadow-
check "pwck -r passes" pwck -r -q
check "grpck -r passes" grpck -r
before=$(md5sum /etc/passwd /etc/group | md5sum)
t0=$(date +%s%N); once; ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "unchanged reconcile rewrites nothing" "$before" "$(md5sum /etc/passwd /etc/group | md5sum)"
diag "unchanged reconcile: ${ms} ms"

# The shadow-utils lock: while glibc's lckpwdf() (useradd, passwd) holds it
# in another process, the daemon waits, then writes once it is free.
python3 -c '
import ctypes, sys, time
libc = ctypes.CDLL(None)
if libc.lckpwdf() != 0: sys.exit(1)
open(sys.argv[1], "w").close()
time.sleep(1.5)
libc.ulckpwdf()' /run/lck-held &
LCK=$!
wait_for 5 test -e /run/lck-held
INSTANCE_KEYS=$(curl -sf -H 'Metadata-Flavor: Google' "$FAKE_URL/computeMetadata/v1/instance/attributes/ssh-keys")
set_keys "$INSTANCE_KEYS
lockwait:$(key alice)"
t0=$(date +%s%N); once; ms=$((($(date +%s%N) - t0) / 1000000))
wait $LCK
check "lckpwdf() held elsewhere: the reconcile waited (${ms} ms >= 1000) and then wrote" \
	bash -c "[ $ms -ge 1000 ] && getent passwd lockwait"
set_keys "$INSTANCE_KEYS"
once
check_eq "lockwait gone again; dave, erin and grace not expired" "x dave erin grace" \
	"x $(for u in dave erin grace; do getent shadow "$u" | grep -q '^[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*::' && printf '%s ' "$u"; done | xargs)"

# A real sshd, a real key login.
ssh-keygen -A >/dev/null 2>&1
PORT=$(free_port)
/usr/sbin/sshd -D -e -p "$PORT" -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no >/run/sshd.log 2>&1 &
_cleanup_pids+=($!)
wait_for 5 bash -c "echo > /dev/tcp/127.0.0.1/$PORT" || not_ok "sshd listens"
SSH=(ssh -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5)
check_eq "dave logs in with his key and runs id" "uid=$(uid_of dave)(dave)" \
	"$("${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 id 2>/dev/null | cut -d' ' -f1)"
check "erin logs in with her expiring key" "${SSH[@]}" -i $KEYS/erin erin@127.0.0.1 true
check_fails_msg "dave's key does not open erin's account" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/dave erin@127.0.0.1 true
check_fails_msg "frank (expired) cannot log in" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/frank frank@127.0.0.1 true

# root and system accounts are refused; their files are never written.
set_keys "dave:$(key dave)
root:$(key alice)
daemon:$(key alice)
bad:name:$(key alice)
erin:$(key erin)
grace:$(key grace)"
once
# The positive case first: the same reconcile wrote the keys of the users
# beside them, and root and daemon exist with the homes looked at.
check "… erin's key written by the same reconcile" grep -qF "$(key erin)" /home/erin/.ssh/authorized_keys
check_eq "root's home is /root, daemon's /usr/sbin" "/root /usr/sbin" "$(getent passwd root | cut -d: -f6) $(getent passwd daemon | cut -d: -f6)"
check "/root exists (a private, writable directory)" bash -c 'test -d /root && test -w /root'
check_fails "no /root/.ssh/authorized_keys written" 1 test -e /root/.ssh/authorized_keys
check_fails "no key for daemon written" 1 test -e /usr/sbin/.ssh
check "refusal logged for daemon" grep -q 'system account "daemon"' /run/accountsd.log
check "daemon still a system account" bash -c '[ "$(id -u daemon)" -lt 1000 ]'

# The marker scheme: the user's own lines stay, managed pairs go last.
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnLineOfDave dave-own" >>/home/dave/.ssh/authorized_keys
set_keys "dave:$(key dave)
dave:$(key carol) second
erin:$(key erin)
grace:$(key grace)"
once
check_eq "user line kept, two managed keys last" "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnLineOfDave dave-own|# Added by Google|$(key dave)|# Added by Google|$(key carol) second" \
	"$(paste -sd'|' /home/dave/.ssh/authorized_keys)"

# Symlink attacks: a planted symlink never redirects a root write.
echo "untouched" >/run/target
chmod 644 /run/target
rm -rf /home/grace/.ssh && ln -s /run /home/grace/.ssh
rm -f /home/erin/.ssh/authorized_keys && ln -s /run/target /home/erin/.ssh/authorized_keys
set_keys "dave:$(key dave)
erin:$(key erin) changed
grace:$(key grace) changed"
once
check_eq "symlinked ~/.ssh: nothing written through it" "untouched" "$(cat /run/target)"
check "… dave's own (unlinked) file still written by the same reconcile" grep -qF "$(key dave)" /home/dave/.ssh/authorized_keys
check_fails "no authorized_keys created in the link target" 1 test -e /run/authorized_keys
check "symlinked authorized_keys: refused" grep -q 'symlink is in the way' /run/accountsd.log
check_eq "target of symlinked authorized_keys unchanged" "untouched 644 root" "$(cat /run/target) $(stat -c '%a %U' /run/target)"
# The attacks undone: the checks of grace's and erin's keys below look at real files.
rm -f /home/grace/.ssh /home/erin/.ssh/authorized_keys

# Deprovision: keys, sudo and every group we gave go; the account stays
# (deprovision_remove = false) but is expired, so a key dave added to his
# own authorized_keys no longer opens it either.
echo "$(key bob) dave-added-himself" >>/home/dave/.ssh/authorized_keys
check "before: dave's managed keys are there" grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
check "before: dave's metadata key opens his account" "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true
check "before: the key dave added himself opens his account" "${SSH[@]}" -i $KEYS/bob dave@127.0.0.1 true
set_keys "erin:$(key erin)"
once
check "dave still exists" getent passwd dave
check "dave's home stays" test -d /home/dave
check "dave's own line kept" grep -q dave-own /home/dave/.ssh/authorized_keys
check_fails "dave's managed keys removed" 1 grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
check "id -nG dave still answers (his own group dave)" bash -c 'id -nG dave | grep -qw dave'
check_fails "dave no longer in google-sudoers" 1 bash -c 'id -nG dave | grep -qw google-sudoers'
check_eq "dave in none of the configured groups" "" "$(id -nG dave | tr ' ' '\n' | grep -xE 'adm|docker|lxd' | xargs)"
check_eq "dave's account expired (shadow expiry day 1)" 1 "$(getent shadow dave | cut -d: -f8)"
check_fails_msg "dave cannot log in with the removed key" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true
check_fails_msg "dave cannot log in with the key he added himself" 255 'account has expired' "${SSH[@]}" -i $KEYS/bob dave@127.0.0.1 true
check "the refusal is sshd's account check (expiry), not the key" \
	grep -qE 'Access denied for user dave by PAM account configuration|User dave account has expired' /run/sshd.log

# With deprovision_remove the accounts we created are deleted.
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[accounts]\ndeprovision_remove = true\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
set_keys "dave:$(key dave)
grace:$(key grace)"
once
check "dave (in metadata) still resolves, and his group" bash -c 'getent passwd dave && getent group dave'
check_fails "erin removed (created by us, keys gone)" 2 getent passwd erin
check_fails "erin's group removed" 2 getent group erin
check "erin's home kept" test -d /home/erin
check "files consistent after removal" python3 "$SRC/tests/integration/check-etc.py" /etc
# dave is back in metadata: un-expired, his groups back.
check_eq "returning dave: expiry as before (none)" "" "$(getent shadow dave | cut -d: -f8)"
check "returning dave: google-sudoers, adm, docker, lxd again" bash -c 'for g in google-sudoers adm docker lxd; do id -nG dave | grep -qw $g || exit 1; done'
check "returning dave logs in with his metadata key" "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true

# Stateless reboot: /etc back to the image, /home and /var persist.
UIDS=$(for u in dave grace; do uid_of $u; done | xargs)
umount /etc 2>/dev/null; private_etc_from() { local d; d=$(mktemp -d /run/etc.XXXXXX); cp -a "$1/." "$d/"; mount --bind "$d" /etc; }
private_etc_from /run/pristine-etc
mkdir -p /etc/oslogin && printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf
check "after 'reboot', getent answers from the image's /etc (root)" getent passwd root
check_fails "after 'reboot', /etc has no dave" 2 getent passwd dave
# A new user first in line must not steal dave's UID on the way back.
set_keys "zed:$(key alice)
dave:$(key dave)
grace:$(key grace)"
once
check_eq "same users, same UIDs after a stateless reboot" "$UIDS" "$(for u in dave grace; do uid_of $u; done | xargs)"
check "zed got a fresh UID" bash -c "! echo '$UIDS' | grep -qw $(uid_of zed)"
check "dave logs in again" "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true

# Reference state migrates: users listed in google_users are managed.
check "google_users kept in sync" grep -qx dave /var/lib/google/google_users

# Instance vs project vs block, and the legacy sshKeys spelling.
set_keys "dave:$(key dave)"
curl -sf -X PUT --data-binary "hank:$(key bob)" "$CTL/attributes/project/sshKeys" >/dev/null
once
check "project ssh-keys (grace) and legacy project sshKeys (hank) apply" bash -c 'getent passwd grace && getent passwd hank' 
check "before: grace's managed keys are there" grep -q 'Added by Google' /home/grace/.ssh/authorized_keys
curl -sf -X PUT --data TRUE "$CTL/attributes/instance/block-project-ssh-keys" >/dev/null
once
check_fails "block-project-ssh-keys: grace's managed keys removed" 1 grep -q 'Added by Google' /home/grace/.ssh/authorized_keys
curl -sf -X PUT --data FALSE "$CTL/attributes/instance/block-project-ssh-keys" >/dev/null
curl -sf -X PUT --data-binary "ivy:$(key carol)" "$CTL/attributes/instance/sshKeys" >/dev/null
once
check "instance legacy sshKeys applies (ivy)" getent passwd ivy
check_fails "a non-empty instance sshKeys blocks project keys too" 1 grep -q 'Added by Google' /home/grace/.ssh/authorized_keys
curl -sf -X DELETE "$CTL/attributes/instance/sshKeys" >/dev/null
curl -sf -X DELETE "$CTL/attributes/project/sshKeys" >/dev/null

# Mode switch: enable-oslogin=TRUE means no metadata key grants access.
check "before: dave's managed keys are there" grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
curl -sf -X DELETE "$CTL/attributes/instance/enable-oslogin" >/dev/null
curl -sf -X PUT --data TRUE "$CTL/attributes/project/enable-oslogin" >/dev/null
once
check_fails "enable-oslogin (project level, instance unset): dave's metadata keys removed" 1 grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
# Activation reloaded sshd (SIGHUP: it re-executes itself and listens again
# a moment later); the refusal below must be sshd's, not a closed port.
check "sshd listens again after its reload" wait_for 5 bash -c "echo > /dev/tcp/127.0.0.1/$PORT"
check_fails_msg "enable-oslogin: dave cannot log in with a metadata key" 255 'Permission denied \(publickey' "${SSH[@]}" -i $KEYS/dave dave@127.0.0.1 true
curl -sf -X PUT --data FALSE "$CTL/attributes/instance/enable-oslogin" >/dev/null
once
check "instance FALSE overrides project TRUE: dave's keys are back" grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
curl -sf -X DELETE "$CTL/attributes/project/enable-oslogin" >/dev/null

# Migration from the reference agent: its users and marker lines are taken over.
mkdir -p /home/olduser/.ssh
useradd -M -d /home/olduser -s /bin/bash -u 1500 olduser
printf 'olduser-own-line\n# Added by Google\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStaleReferenceKey old\n' >/home/olduser/.ssh/authorized_keys
chown -R olduser:olduser /home/olduser
echo olduser >>/var/lib/google/google_users
once
check "reference user's own line kept" grep -q olduser-own-line /home/olduser/.ssh/authorized_keys
check_fails "reference user without keys in metadata: stale managed key removed" 1 grep -q StaleReferenceKey /home/olduser/.ssh/authorized_keys
check "google_users still lists the users in metadata (dave)" grep -qx dave /var/lib/google/google_users
check_fails "reference user dropped from google_users once deprovisioned" 1 grep -qx olduser /var/lib/google/google_users

# The daemon proper: READY after the first reconcile, long-poll wake-up, outage.
NOTIFY=/run/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True: out.write(s.recv(4096).decode() + "\n")' $NOTIFY /run/notify.log &
_cleanup_pids+=($!)
wait_for 5 test -S $NOTIFY
NOTIFY_SOCKET=$NOTIFY "$ACCOUNTSD" >>/run/accountsd.log 2>&1 &
DPID=$!
_cleanup_pids+=($DPID)
check "READY=1 sent after the first reconcile" wait_for 10 grep -q READY=1 /run/notify.log
set_keys "dave:$(key dave)
grace:$(key grace)
newbie:$(key bob)"
t0=$(date +%s%N)
if wait_for 5 getent passwd newbie; then
	ok "long-poll: a user added in metadata appears ($((($(date +%s%N) - t0) / 1000000)) ms)"
else
	not_ok "newbie did not appear"
fi
curl -sf -X DELETE "$CTL/stats" >/dev/null
curl -sf -X PUT --data '{"status":503}' "$CTL/faults" >/dev/null
# Wake the pending long-poll (answered, as it started before the fault); every later request fails.
curl -sf -X PUT --data x "$CTL/attributes/instance/unrelated" >/dev/null
sleep 6
check "outage: accounts kept" getent passwd newbie
reqs=$(curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
[ "$reqs" -le 40 ] && ok "outage: no busy loop ($reqs requests in 6 s)" || not_ok "outage: $reqs requests in 6 s"
check_eq "outage logged once" 1 "$(grep -c 'Metadata server unavailable' /run/accountsd.log)"
curl -sf -X DELETE "$CTL/faults" >/dev/null
check "the daemon runs until SIGTERM" kill -0 $DPID
kill -TERM $DPID; wait $DPID 2>/dev/null
check_fails "SIGTERM stops the daemon" 1 kill -0 $DPID

# kill -9 at random moments during a 1 000-user reconcile: files old or new, never torn.
python3 - "$KEYS/alice.pub" >/run/big-keys <<'PY'
import sys
key = " ".join(open(sys.argv[1]).read().split()[:2])
print("\n".join(f"user{i:04d}:{key}" for i in range(1000)))
PY
set_keys "$(cat /run/big-keys)"
torn=0
for i in $(seq 20); do
	"$ACCOUNTSD" --once >/dev/null 2>&1 &
	p=$!
	sleep "0.$((RANDOM % 40))"
	kill -9 $p 2>/dev/null; wait $p 2>/dev/null
	python3 "$SRC/tests/integration/check-etc.py" /etc >/run/check.out || { torn=1; cat /run/check.out; break; }
done
check_eq "20 x kill -9 during a 1 000-user reconcile: files always consistent" 0 "$torn"
t0=$(date +%s%N); once; ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "after the kills a full reconcile completes: 1 000 users" 1000 "$(grep -c '^user[0-9]' /etc/passwd)"
check "pwck -r clean after the kills" pwck -r -q
check "files consistent at the end" python3 "$SRC/tests/integration/check-etc.py" /etc
diag "final reconcile of 1 000 users: ${ms} ms"
valgrind_check "valgrind: accountsd --once over the users above" "$ACCOUNTSD" --once
done_testing
