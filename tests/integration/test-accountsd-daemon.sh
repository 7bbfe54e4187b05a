#!/usr/bin/env bash
# oslogin-accountsd as a service in metadata-keys mode, on a private /etc,
# /home and /var/lib in a namespace: READY=1 only once the users exist
# (even with a slow metadata server), long-poll latency for create, update
# and remove, instance vs project vs block, an outage (nothing removed,
# bounded request rate, one log line), a stateless reboot with the daemon
# (same users, same UIDs), SIGHUP reload, SIGTERM clean exit, status.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL=$BUILD/osloginctl/osloginctl
for f in "$ACCOUNTSD" "$CTL" "$FAKE"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
enter_namespace "$@"
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
cp -a /etc /run/pristine-etc
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
FCTL=$FAKE_URL/_fake
KEYS=$FIXTURES/keys
key() { cut -d' ' -f1-2 "$KEYS/$1.pub"; }
set_attr() { curl -sf -X PUT --data-binary "$3" "$FCTL/attributes/$1/$2" >/dev/null; }
requests() { curl -sf "$FCTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
write_config() {
	mkdir -p /etc/oslogin
	printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$1" >/etc/oslogin/oslogin.conf
}
write_config "$FAKE_URL"
set_attr instance ssh-keys "dave:$(key dave)"
curl -sf -X DELETE "$FCTL/attributes/project/ssh-keys" >/dev/null

# A NOTIFY_SOCKET listener that, at READY=1, records whether dave already exists.
NOTIFY=/run/notify.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    msg = s.recv(4096).decode()
    for line in msg.split("\n"):
        if line == "READY=1":
            present = any(l.startswith("dave:") for l in open("/etc/passwd"))
            out.write("READY=1 dave=%s\n" % ("yes" if present else "no"))
        elif line:
            out.write(line + "\n")' $NOTIFY /run/notify.log &
_cleanup_pids+=($!)
wait_for 5 test -S $NOTIFY
LOG=/run/accountsd.log
start_daemon() {
	NOTIFY_SOCKET=$NOTIFY "$ACCOUNTSD" "$@" >>$LOG 2>&1 &
	DPID=$!
	_cleanup_pids+=($DPID)
}

# The first fetch is slow: READY must wait for it, and then the user exists.
curl -sf -X PUT --data '{"delay_ms":1500,"count":1}' "$FCTL/faults" >/dev/null
start_daemon
sleep 0.7
check_fails "no READY=1 while the first fetch is pending" 1 grep -q READY=1 /run/notify.log
check "READY=1 after the first reconcile" wait_for 10 grep -q READY=1 /run/notify.log
check "dave existed when READY=1 was sent" grep -q 'READY=1 dave=yes' /run/notify.log
check "STATUS= line sent" grep -q '^STATUS=' /run/notify.log
curl -sf -X DELETE "$FCTL/faults" >/dev/null

# Long-poll latency: create, update, remove.
t0=$(date +%s%N)
set_attr instance ssh-keys "dave:$(key dave)
erin:$(key erin)"
if wait_for 5 getent passwd erin; then ok "create: erin appears ($(ms_since "$t0") ms)"; else not_ok "create: erin did not appear"; fi
t0=$(date +%s%N)
set_attr instance ssh-keys "dave:$(key dave)
erin:$(key carol) rotated"
if wait_for 5 grep -q rotated /home/erin/.ssh/authorized_keys; then ok "update: erin's key replaced ($(ms_since "$t0") ms)"; else not_ok "update: key not replaced"; fi
t0=$(date +%s%N)
set_attr instance ssh-keys "dave:$(key dave)"
if wait_for 5 bash -c '! grep -q "Added by Google" /home/erin/.ssh/authorized_keys'; then
	ok "remove: erin's managed keys gone ($(ms_since "$t0") ms)"
else
	not_ok "remove: erin's keys still there"
fi

# Instance vs project vs block.
set_attr project ssh-keys "grace:$(key grace)"
check "project key applies (grace)" wait_for 5 getent passwd grace
set_attr instance block-project-ssh-keys TRUE
check "block-project-ssh-keys removes grace's managed keys" \
	wait_for 5 bash -c '! grep -q "Added by Google" /home/grace/.ssh/authorized_keys'
set_attr instance block-project-ssh-keys FALSE
check "unblocked: grace's keys come back" wait_for 5 grep -q "Added by Google" /home/grace/.ssh/authorized_keys

status=$("$CTL" status)
check "osloginctl status: daemon running, metadata-keys mode" \
	bash -c "grep -q '^mode: metadata-keys' <<<'$status' && grep -q '^daemon  *running' <<<'$status'"

# Outage: nothing removed, bounded request rate, one log line.
curl -sf -X PUT --data '{"status":503}' "$FCTL/faults" >/dev/null
set_attr instance unrelated "x$RANDOM" # wakes the pending long-poll; every later request fails
curl -sf -X DELETE "$FCTL/stats" >/dev/null
sleep 8
reqs=$(requests)
[ "$reqs" -le 10 ] && ok "outage: $reqs requests in 8 s" || not_ok "outage: $reqs requests in 8 s (busy loop?)"
check "outage: accounts kept" bash -c 'getent passwd dave && getent passwd grace && grep -q "Added by Google" /home/dave/.ssh/authorized_keys'
check_eq "outage logged once" 1 "$(grep -c 'Metadata server unavailable' $LOG)"
check "status reports the outage" bash -c "'$CTL' status | grep -q '^metadata: unreachable'"
curl -sf -X DELETE "$FCTL/faults" >/dev/null
set_attr instance ssh-keys "dave:$(key dave)
ivy:$(key alice)"
check "after the outage changes apply again (within the back-off)" wait_for 40 getent passwd ivy

# SIGHUP: a new metadata URL takes effect without a restart.
OLD_URL=$FAKE_URL OLD_CTL=$FCTL
start_fake "$FIXTURES/basic.json" || not_ok "second fake server starts"
curl -sf -X PUT --data-binary "dave:$(key dave)
zoe:$(key bob)" "$FAKE_URL/_fake/attributes/instance/ssh-keys" >/dev/null
write_config "$FAKE_URL"
kill -HUP $DPID
check "SIGHUP: configuration reloaded" wait_for 5 grep -q 'Configuration reloaded' $LOG
set_attr instance unrelated "y$RANDOM" # the old long-poll returns; the next one goes to the new server
check "after SIGHUP the new server's users apply (zoe)" wait_for 10 getent passwd zoe
check "RELOADING=1 then READY=1 sent" grep -q RELOADING=1 /run/notify.log
kill -0 $DPID && ok "daemon still running after SIGHUP" || not_ok "daemon died on SIGHUP"

# SIGTERM: prompt, clean exit even with a long-poll pending. The watch
# thread is joined at exit, so its 60 s long-poll must be interrupted, not
# waited for (nor left running).
long_poll_pending() { # the watch has an ETag and sent nothing for 0.5 s: it waits in a long-poll
	"$CTL" status | grep -q '^metadata-etag: [^-]' || return 1
	local n
	n=$(requests)
	sleep 0.5
	[ "$(requests)" = "$n" ]
}
check "before SIGTERM: the watch is in a long-poll" wait_for 10 long_poll_pending
t0=$(date +%s%N)
kill -TERM $DPID
wait $DPID
rc=$?
ms=$(ms_since "$t0")
check_eq "SIGTERM: exit status 0" 0 $rc
[ "$ms" -lt 2000 ] && ok "SIGTERM: exited in $ms ms with a long-poll pending" || not_ok "SIGTERM took $ms ms"
check "STOPPING=1 sent" grep -q STOPPING=1 /run/notify.log
check_fails_msg "sockets stay only while running (control.sock refuses)" 4 'is not running' "$CTL" refresh

# Stateless reboot: /etc back to the image, the daemon restarts.
UIDS=$(for u in dave zoe; do getent passwd $u | cut -d: -f3; done | xargs)
umount /etc
d=$(mktemp -d /run/etc.XXXXXX) && cp -a /run/pristine-etc/. "$d/" && mount --bind "$d" /etc
write_config "$FAKE_URL"
check "after the 'reboot', getent answers from the image's /etc (root)" getent passwd root
check_fails "after the 'reboot' /etc has no dave" 2 getent passwd dave
: >/run/notify.log
start_daemon
check "READY=1 after the reboot" wait_for 10 grep -q READY=1 /run/notify.log
check_eq "same users with the same UIDs" "$UIDS" "$(for u in dave zoe; do getent passwd $u | cut -d: -f3; done | xargs)"
check "homes reused: dave still owns his" bash -c '[ "$(stat -c %U /home/dave)" = dave ]'

# SIGTERM with a long-poll in flight and the server dying at the same
# moment: whichever comes first (the cancel or the connection reset), the
# watch thread is joined before the worker pool it posts to is freed (a
# use-after-free the ASan pass once caught at exit). Ten rounds, the server
# killed a few ms after the signal.
wait_for 10 grep -q 'Reconciled' "$LOG"
for round in $(seq 10); do
	sleep 0.3 # the long-poll is in flight
	kill -TERM $DPID
	sleep "0.00$((RANDOM % 10))"
	kill "$FAKE_PID"
	wait "$FAKE_PID" 2>/dev/null
	if wait_for 15 bash -c "! kill -0 $DPID 2>/dev/null"; then
		wait $DPID
		rc=$?
	else
		rc=hung
		kill -9 $DPID
	fi
	[ "$rc" = 0 ] || break
	start_fake "$FIXTURES/basic.json" "$FAKE_ADDR" >/dev/null || break
	: >/run/notify.log
	start_daemon
	wait_for 10 grep -q READY=1 /run/notify.log
done
check_eq "SIGTERM while the server dies under a long-poll, 10 rounds: clean exit each time" 0 "$rc"
kill -TERM $DPID
wait $DPID
# Readiness is honest: READY=1 at once when there is no metadata server at
# all (refused, no route) or the host configuration cannot be applied; only
# a slow or failing server holds it. STATUS= and the log say which.
ready_ms() { # starts the daemon; ms= the ms until READY=1 (or "none" after $1 s)
	local t0 limit=$1
	: >/run/notify.log
	t0=$(date +%s%N)
	start_daemon
	if wait_for "$limit" grep -q READY=1 /run/notify.log; then ms=$(ms_since "$t0"); else ms=none; fi
}
stop_daemon() { kill -TERM $DPID; wait $DPID; }
write_config "http://127.0.0.1:$(free_port)"
: >$LOG
ready_ms 5
[ "$ms" != none ] && [ "$ms" -lt 1000 ] && ok "connection refused: READY=1 in $ms ms" || not_ok "connection refused: READY=1 in $ms ms (want < 1000)"
check "… STATUS says no metadata server (connection refused)" grep -q '^STATUS=no metadata server (connection refused)' /run/notify.log
check "… the log says no metadata server" grep -q 'No metadata server (Connection refused)' $LOG
check_fails "… and not unreachable/unavailable" 1 grep -qE 'Metadata server (unreachable|unavailable)' $LOG
check "… osloginctl status: metadata: no server" bash -c "'$CTL' status | grep -qx 'metadata: no server'"
stop_daemon
write_config "http://169.254.169.254"
: >$LOG
ready_ms 5
[ "$ms" != none ] && [ "$ms" -lt 1000 ] && ok "no route (not a cloud VM): READY=1 in $ms ms" || not_ok "no route: READY=1 in $ms ms (want < 1000)"
check "… STATUS says no metadata server (no route)" grep -q '^STATUS=no metadata server (no route)' /run/notify.log
check "… the log says no metadata server" grep -q 'No metadata server (Network is unreachable)' $LOG
check_fails "… and not unreachable/unavailable" 1 grep -qE 'Metadata server (unreachable|unavailable)' $LOG
stop_daemon
# The host configuration cannot be applied (nsswitch.conf links out of /etc).
write_config "$FAKE_URL"
curl -sf -X PUT --data TRUE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
cp -a /etc/nsswitch.conf /run/nsswitch.saved && cp /etc/nsswitch.conf /run/elsewhere.conf
ln -sfn /run/elsewhere.conf /etc/nsswitch.conf
: >$LOG
ready_ms 5
[ "$ms" != none ] && [ "$ms" -lt 1000 ] && ok "host configuration refused: READY=1 in $ms ms" || not_ok "host configuration refused: READY=1 in $ms ms (want < 1000)"
check "… STATUS names the failed step" grep -q '^STATUS=host configuration cannot be applied (nsswitch: /etc/nsswitch.conf links to /run/elsewhere.conf' /run/notify.log
check "… the log names it" grep -q 'Cannot activate the OS Login configuration: nsswitch: /etc/nsswitch.conf links to' $LOG
check "… osloginctl status shows it" bash -c "'$CTL' status | grep -q '^host-config-error: nsswitch: /etc/nsswitch.conf links to /run/elsewhere.conf'"
stop_daemon
rm /etc/nsswitch.conf && cp -a /run/nsswitch.saved /etc/nsswitch.conf
curl -sf -X PUT --data FALSE "$FAKE_URL/_fake/attributes/instance/enable-oslogin" >/dev/null
# A failing server (503) holds READY (up to the bound, 30 s); it comes with
# the first reconcile once the server answers.
curl -sf -X PUT --data '{"status":503}' "$FAKE_URL/_fake/faults" >/dev/null
: >$LOG
ready_ms 3
check_eq "failing server (503): no READY=1 within 3 s" none "$ms"
curl -sf -X DELETE "$FAKE_URL/_fake/faults" >/dev/null
check "… READY=1 after the server recovers" wait_for 20 grep -q READY=1 /run/notify.log
check "… STATUS: first reconcile done" grep -q '^STATUS=first reconcile done' /run/notify.log
check "… the log says unavailable, not no server" bash -c "grep -q 'Metadata server unavailable' $LOG && ! grep -q 'No metadata server' $LOG"
check "… the log says why it is ready" grep -q 'Ready: first reconcile done' $LOG
stop_daemon
grep -q 'ERROR: AddressSanitizer\|runtime error' $LOG && not_ok "sanitizer reports in the log" "$(grep -m3 -A3 'Sanitizer\|runtime error' $LOG)"
done_testing
