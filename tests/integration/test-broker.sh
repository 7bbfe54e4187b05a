#!/usr/bin/env bash
# The trust broker (accountsd's keys.sock and pam.sock) with the real
# daemon and the fake metadata server, in a private namespace:
#   - each decision: keys, account (sudo by UID, written by the daemon),
#     two-factor start/continue, principals (not enabled yet);
#   - the peer checks: keys.sock serves root and the AuthorizedKeysCommand
#     user only, pam.sock root only (SO_PEERCRED, not only the mode), a
#     kind on the wrong socket is refused;
#   - a profile named like a local account gets no keys and no account
#     decision; a profile whose UID is local is denied;
#   - the per-UID connection limit on nss.sock and keys.sock: one UID
#     holding connections does not shut out another;
#   - metadata requests per login (two key-helper runs and the account
#     step);
#   - socket activation: a daemon restart loses no request.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL=$BUILD/osloginctl/osloginctl
CLIENT=$SRC/tests/integration/broker-client.py
for f in "$ACCOUNTSD" "$CTL" "$FAKE"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
command -v setpriv >/dev/null || { echo "ok 1 - # SKIP setpriv missing"; echo "1..1"; exit 0; }
enter_namespace "$@"
private_etc
private_dir /home /var/lib/oslogin /var/lib/google

# Local accounts the profiles below collide with, and the key helper's user.
useradd -M -N -s /usr/sbin/nologin deploy
useradd -M -N -s /usr/sbin/nologin -u 2000001500 localid
useradd -M -N -r -s /usr/sbin/nologin akchelper
useradd -M -N -s /usr/sbin/nologin mallory
AKC_UID=$(id -u akchelper)
MALLORY_UID=$(id -u mallory)

python3 - "$FIXTURES/basic.json" >/run/fixture.json <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
users = d["oslogin"]["users"]
def clone(name, username, uid):
    u = copy.deepcopy(users[0])
    u["name"] = name
    u["posixAccounts"][0].update(username=username, uid=str(uid), gid=str(uid), homeDirectory="/home/" + username)
    users.append(u)
users[1]["twoFactor"]["challenges"].append({"type": "IDV_PREREGISTERED_PHONE", "status": "PROPOSED"})
clone("deploy@example.com", "deploy", 2000001600)   # named like a local account
clone("uidclash@example.com", "uidclash", 2000001500) # UID of a local account
print(json.dumps(d))
PY
start_fake /run/fixture.json || { not_ok "fake server starts"; done_testing; }
FCTL=$FAKE_URL/_fake
mkdir -p /etc/oslogin
cat >/etc/oslogin/oslogin.conf <<CONF
[metadata]
url = $FAKE_URL/computeMetadata/v1/
[authorized_keys]
user = akchelper
[broker]
answer_ttl = 5s
max_connections = 8
per_uid_connections = 3
CONF
requests() { curl -sf "$FCTL/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['requests'])"; }
path_requests() {
	curl -sf "$FCTL/stats" | python3 -c "import json,sys; print(sum(v for k, v in json.load(sys.stdin)['paths'].items() if k.startswith('/computeMetadata/v1/$1')))"
}
KEYS=/run/oslogin/keys.sock
PAM=/run/oslogin/pam.sock
NSS=/run/oslogin/nss.sock
as_uid() { local uid=$1; shift; setpriv --reuid="$uid" --regid=65534 --clear-groups "$@"; }
# The system python: the test drops to other UIDs, which may not read root's.
PY=/usr/bin/python3
# The UIDs pam_oslogin would send (NSS resolves them on a real host).
export BROKER_CLIENT_UIDS=alice_example_com=2000001001,bob_example_com=2000001002,carol_example_com=2000001003
client() { $PY "$CLIENT" "$@"; }
as_client() { local uid=$1; shift; as_uid "$uid" $PY "$CLIENT" "$@"; }
first() { head -n1 <<<"$1" | cut -d' ' -f1; }

LOG=/run/accountsd.log
start_daemon() {
	"$ACCOUNTSD" "$@" >>$LOG 2>&1 &
	DPID=$!
	_cleanup_pids+=($DPID)
	wait_for 15 test -S $PAM
}
start_daemon
check "keys.sock is 0666, pam.sock 0600" bash -c "[ \"\$(stat -c %a $KEYS) \$(stat -c %a $PAM)\" = '666 600' ]"

ALICE_KEY=$(python3 -c "import json,sys; u=json.load(open('/run/fixture.json'))['oslogin']['users'][0]; print(list(u['sshPublicKeys'].values())[0]['key'])")
ALICE_FP=$(ssh-keygen -lf - <<<"$ALICE_KEY" | cut -d' ' -f2)

# --- decisions -------------------------------------------------------------
out=$(client keys $KEYS alice_example_com)
check_eq "KEYS as root: granted, the unexpired key" "GRANTED login granted
$ALICE_KEY" "$out"
out=$(client keys $KEYS alice_example_com "$ALICE_FP")
check_eq "KEYS with the key's fingerprint: that key" "$ALICE_KEY" "$(tail -n +2 <<<"$out")"
out=$(client keys $KEYS alice_example_com SHA256:nosuchkey)
check_eq "KEYS with another fingerprint: no key" "GRANTED no usable key with that fingerprint" "$out"
check_eq "KEYS of a user without the login policy: denied" "DENIED" "$(first "$(client keys $KEYS carol_example_com)")"
check_eq "KEYS of an unknown user" "UNKNOWN_USER" "$(first "$(client keys $KEYS nosuch_example_com)")"
check_eq "KEYS of root: not ours" "NOT_OURS" "$(first "$(client keys $KEYS root)")"
check_eq "KEYS of an invalid name: the codec refuses it, the daemon closes" "closed without a reply" \
	"$(client keys $KEYS -oops)"
check_eq "PRINCIPALS: a blob that is no certificate: denied, nothing asked" "DENIED not a valid user certificate" "$(client principals $KEYS alice_example_com AAAA)"

out=$(client account $PAM bob_example_com)
check_eq "ACCOUNT of a non-admin: granted, no sudo" "GRANTED login granted
flags=0" "$out"
check "ACCOUNT of a non-admin: no sudoers drop-in" test ! -e /var/lib/oslogin/sudoers.d/bob__example__com
out=$(client account $PAM alice_example_com)
check_eq "ACCOUNT of an admin: granted with the admin flag" "GRANTED login granted, sudo by adminLogin
flags=1" "$out"
check_eq "the daemon wrote the admin's drop-in, by UID" "#2000001001 ALL=(ALL:ALL) NOPASSWD:ALL" \
	"$(grep -v '^# ' /var/lib/oslogin/sudoers.d/alice__example__com 2>&1)"
check "sudoers include written" grep -q '^#includedir /var/lib/oslogin/sudoers.d' /etc/sudoers.d/oslogin
check "visudo accepts the result" visudo -c
# NSS gave the asker another UID than the profile's (a second profile for
# the name, a changed UID): refused before any sudo change, either way.
before=$(sha256sum /var/lib/oslogin/sudoers.d/* | sha256sum)
check_eq "ACCOUNT of bob with another NSS UID: denied" "DENIED" \
	"$(first "$(client account $PAM bob_example_com sshd '' 2000009999)")"
check "… bob got no drop-in" test ! -e /var/lib/oslogin/sudoers.d/bob__example__com
check_eq "ACCOUNT of alice (admin) with another NSS UID: denied" "DENIED" \
	"$(first "$(client account $PAM alice_example_com sshd '' 2000009999)")"
check_eq "… the sudoers drop-ins are as they were" "$before" "$(sha256sum /var/lib/oslogin/sudoers.d/* | sha256sum)"
check_eq "ACCOUNT without the login policy: denied" "DENIED" "$(first "$(client account $PAM carol_example_com)")"
check_eq "ACCOUNT of a local user: not ours (the host decides)" "NOT_OURS" "$(first "$(client account $PAM mallory)")"

# adminLogin withdrawn: the next login past admin_ttl revokes. admin_ttl
# keeps the answer 5 min by default; a daemon with admin_ttl=0 asks each time.
sed -i 's/^answer_ttl = .*/answer_ttl = 5s\nadmin_ttl = 1s/' /etc/oslogin/oslogin.conf
kill -HUP $DPID
wait_for 5 grep -q 'Configuration reloaded' $LOG
curl -sf -X PUT -d false "$FCTL/users/alice@example.com/adminLogin" >/dev/null
sleep 1.1
out=$(client account $PAM alice_example_com)
check_eq "adminLogin withdrawn: the next login revokes sudo" "GRANTED login granted
flags=0" "$out"
check "the drop-in is gone" test ! -e /var/lib/oslogin/sudoers.d/alice__example__com
curl -sf -X PUT -d true "$FCTL/users/alice@example.com/adminLogin" >/dev/null

# --- a profile against the host's accounts ---------------------------------
curl -sf -X DELETE "$FCTL/stats" >/dev/null
check_eq "KEYS of a profile named like a local account: no keys (not ours)" \
	"NOT_OURS a local account (in /etc/passwd): the host decides" "$(client keys $KEYS deploy)"
check_eq "ACCOUNT of it: the host decides, OS Login grants nothing" "NOT_OURS" "$(first "$(client account $PAM deploy)")"
check_eq "AUTH_START of it: no second factor through OS Login" "NOT_OURS" "$(first "$(client auth-start $PAM deploy)")"
check_eq "a local name is never asked of the metadata server" 0 "$(path_requests oslogin/)"
check_eq "KEYS of a profile whose UID is local: denied" "DENIED the profile's UID 2000001500 is a local account's" \
	"$(client keys $KEYS uidclash)"
check_eq "ACCOUNT of it: denied" "DENIED" "$(first "$(client account $PAM uidclash)")"
check "the refusal is logged with the name" grep -q 'profile "uidclash" (uidclash@example.com) has UID 2000001500' $LOG

# --- peers -------------------------------------------------------------------
check_eq "KEYS as the AuthorizedKeysCommand user: granted" "GRANTED" \
	"$(first "$(as_client $AKC_UID keys $KEYS alice_example_com)")"
check_eq "KEYS as another UID: refused" "REFUSED this peer may not ask here" \
	"$(as_client $MALLORY_UID keys $KEYS alice_example_com)"
as_client $MALLORY_UID keys $KEYS bob_example_com >/dev/null
check_eq "a refused UID is logged once, with the UID" 1 \
	"$(grep -c "Refused a peer it does not serve from UID $MALLORY_UID on keys.sock" $LOG)"
check_eq "pam.sock: another UID cannot connect (mode 0600)" "connect: EACCES" \
	"$(as_client $MALLORY_UID account $PAM alice_example_com)"
check_eq "pam.sock: not even the AuthorizedKeysCommand user" "connect: EACCES" \
	"$(as_client $AKC_UID account $PAM alice_example_com)"
chmod 0666 $PAM
check_eq "pam.sock opened up by mistake: SO_PEERCRED still refuses" "REFUSED this peer may not ask here" \
	"$(as_client $MALLORY_UID account $PAM alice_example_com)"
chmod 0600 $PAM
check_eq "ACCOUNT sent to keys.sock: refused" "REFUSED not served on this socket" \
	"$(client account $KEYS alice_example_com)"
check_eq "KEYS sent to pam.sock: refused" "REFUSED not served on this socket" "$(client keys $PAM alice_example_com)"
printf 'garbage that is no header' | $PY -c '
import socket, sys
c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(sys.stdin.buffer.read())
c.settimeout(5)
try: print(len(c.recv(100)))
except ConnectionResetError: print(0)' $KEYS >/run/garbage.out 2>&1
check_eq "a malformed request is closed without a reply" 0 "$(cat /run/garbage.out)"

# --- limits per peer UID -------------------------------------------------------
# max_connections = 8, per_uid_connections = 3: one UID opening 10 keeps 3;
# without the per-UID limit it would take all 8 and shut everyone else out.
hold_and_ask() { # SOCKET then the other UID's request
	local sock=$1 f=/run/hold.out
	shift
	rm -f $f
	as_client $MALLORY_UID hold "$sock" 10 2 >$f &
	local holder=$!
	wait_for 5 grep -q held $f
	HOLD=$(cat $f)
	OTHER=$("$@")
	wait $holder
}
hold_and_ask $NSS as_client $AKC_UID nss $NSS ghost_user
check_eq "nss.sock: a UID holding connections keeps only per_uid_connections" "held=3 closed=7" "$HOLD"
check "nss.sock: another UID's lookup is still answered" grep -q '^status=' <<<"$OTHER"
hold_and_ask $KEYS as_client $AKC_UID keys $KEYS alice_example_com
check_eq "keys.sock: a UID holding connections keeps only per_uid_connections" "held=3 closed=7" "$HOLD"
check_eq "keys.sock: the key helper's lookup is still answered" "GRANTED" "$(first "$OTHER")"
status=$("$CTL" status)
check "osloginctl status counts the per-UID refusals" grep -q '^broker-keys.sock: .*per-uid [1-9]' <<<"$status"

# A flood of misses from one UID, with OS Login on (the directory asks the
# server for each): the breaker stays closed and others' lookups go on.
curl -sf -X PUT -d TRUE "$FCTL/attributes/instance/enable-oslogin" >/dev/null
wait_for 15 test -s /run/oslogin/directory.cache
flood=$(as_client $MALLORY_UID flood $NSS 400 12 ghost)
diag "flood of 400 misses from one UID, 12 at once: $flood"
status=$("$CTL" status)
check "after a flood of misses from one UID the breaker is closed" grep -q '^breaker: closed' <<<"$status"
check_eq "... and another UID's miss is answered" "status=" "$(as_client $AKC_UID nss $NSS ghost_other | cut -c1-7)"
check "the flooding UID was held to its share (connections past per_uid_connections closed)" \
	grep -Eq '^replied=[1-9][0-9]* closed=[1-9]' <<<"$flood"
curl -sf -X PUT -d FALSE "$FCTL/attributes/instance/enable-oslogin" >/dev/null
wait_for 15 test ! -e /run/oslogin/directory.cache

# --- requests per login -----------------------------------------------------
# sshd runs the key helper twice (query, then signature), then PAM account.
login_requests() { # USER
	local fp
	curl -sf -X DELETE "$FCTL/stats" >/dev/null
	fp=$(client keys $KEYS "$1" | sed -n 2p | ssh-keygen -lf - | cut -d' ' -f2)
	client keys $KEYS "$1" "$fp" >/dev/null
	client account $PAM "$1" >/dev/null
	requests
}
sed -i 's/^admin_ttl = .*/admin_ttl = 5min/' /etc/oslogin/oslogin.conf
kill -HUP $DPID
sleep 0.3
first_admin=$(login_requests alice_example_com)
first_user=$(login_requests bob_example_com)
sleep 5.2 # past answer_ttl: profile and login are asked again, adminLogin is remembered
again_admin=$(login_requests alice_example_com)
again_user=$(login_requests bob_example_com)
diag "metadata requests per login: first admin $first_admin, first non-admin $first_user, later admin $again_admin, later non-admin $again_user (was 7)"
check "first login of an admin: at most 3 requests (profile, login, adminLogin)" test "$first_admin" -le 3
check "first login of a non-admin: at most 3 requests" test "$first_user" -le 3
check "a later login of an admin: at most 2 requests" test "$again_admin" -le 2
check "a later login of a non-admin: at most 2 requests" test "$again_user" -le 2

# A key question answered from the shared answers: one round trip on the
# socket, a worker thread, /etc/passwd read, no metadata request.
lat=$($PY - $KEYS <<'PY'
import socket, struct, sys, time
def s(v):
    b = v.encode(); return struct.pack("<I", len(b)) + b
payload = s("alice_example_com") + s("")
msg = struct.pack("<IHHI", 0x4B4C534F, 1, 1, len(payload)) + payload
times = []
for i in range(300):
    t = time.perf_counter()
    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(msg)
    while c.recv(65536): pass
    c.close()
    times.append((time.perf_counter() - t) * 1e6)
times.sort()
print(int(times[len(times) // 2]), int(times[int(len(times) * 0.95)]))
PY
)
diag "KEYS round trip with a shared answer (300 in a row): median ${lat% *} us, p95 ${lat#* } us"
check "KEYS round trip with a shared answer: median under 5 ms" test "${lat% *}" -lt 5000

# --- two-factor ------------------------------------------------------------------
check_eq "AUTH_START with two-factor off: no factor" "NO_FACTOR" "$(first "$(client auth-start $PAM bob_example_com)")"
curl -sf -X PUT -d TRUE "$FCTL/attributes/instance/enable-oslogin-2fa" >/dev/null
out=$(client auth-start $PAM bob_example_com)
check_eq "AUTH_START: the challenges" "CHALLENGE
challenge=1 TOTP READY
challenge=2 AUTHZEN READY
challenge=3 IDV_PREREGISTERED_PHONE PROPOSED" "$(grep -v '^session=' <<<"$out" | sed '1s/ .*//')"
TOKEN=$(sed -n 's/^session=//p' <<<"$out")
check "the client gets an opaque 128-bit token, not the server's session id" grep -Eqx '[0-9a-f]{32}' <<<"$TOKEN"
check_eq "AUTH_CONTINUE for another user: no such session" "DENIED no such two-factor session" \
	"$(client auth-continue $PAM alice_example_com "$TOKEN" 1 1 123456)"
check_eq "AUTH_CONTINUE with a wrong code: denied, with the server's reason" "DENIED The code you entered is incorrect." \
	"$(client auth-continue $PAM bob_example_com "$TOKEN" 1 1 654321)"
check_eq "the session is over after a denial" "DENIED no such two-factor session" \
	"$(client auth-continue $PAM bob_example_com "$TOKEN" 1 1 123456)"
TOKEN=$(client auth-start $PAM bob_example_com | sed -n 's/^session=//p')
check_eq "AUTH_CONTINUE with the right code: granted" "GRANTED two-factor authentication succeeded" \
	"$(client auth-continue $PAM bob_example_com "$TOKEN" 1 1 123456)"
check_eq "a token works once" "DENIED no such two-factor session" \
	"$(client auth-continue $PAM bob_example_com "$TOKEN" 1 1 123456)"
# A factor the server only proposes (a text message): START_ALTERNATE, then the code.
TOKEN=$(client auth-start $PAM bob_example_com | sed -n 's/^session=//p')
out=$(client auth-continue $PAM bob_example_com "$TOKEN" 3 2)
check_eq "START_ALTERNATE: the session goes on, the factor is now ready" "CHALLENGE
session=$TOKEN
challenge=3 IDV_PREREGISTERED_PHONE READY" "$(sed '1s/ .*//' <<<"$out" | grep -v 'challenge=[12] ')"
check_eq "... and its code is accepted" "GRANTED two-factor authentication succeeded" \
	"$(client auth-continue $PAM bob_example_com "$TOKEN" 3 1 123456)"
check_eq "AUTH_START of a user without two-factor: refused by the server" "DENIED" \
	"$(first "$(client auth-start $PAM alice_example_com)")"
check "the log is there to look in" test -s $LOG
check_fails "codes never reach the log" 1 grep -q -e 123456 -e 654321 $LOG
TF_ID=$(sed -n 's/^#define MESSAGE_ID_TWO_FACTOR_DECISION *"\([0-9a-f]*\)"$/\1/p' "$SRC/lib/basic/message-ids.h")
check "a two-factor start is an event: its MESSAGE_ID, user, the first challenge" \
	grep -E "MESSAGE_ID=$TF_ID .*OSLOGIN_USER=bob_example_com .*OSLOGIN_DECISION=challenge .*OSLOGIN_TWO_FACTOR=TOTP" $LOG
check "a refused code is an event with the server's reason and the challenge answered" \
	grep -E "MESSAGE_ID=$TF_ID .*OSLOGIN_USER=bob_example_com .*OSLOGIN_DECISION=denied .*OSLOGIN_REASON=\"The code you entered is incorrect\.\" .*OSLOGIN_CHALLENGE=1" $LOG
check "a granted code is an event" \
	grep -E "MESSAGE_ID=$TF_ID .*OSLOGIN_USER=bob_example_com .*OSLOGIN_DECISION=granted .*OSLOGIN_CHALLENGE=3" $LOG
curl -sf -X DELETE "$FCTL/attributes/instance/enable-oslogin-2fa" >/dev/null

# --- metadata server down: fail closed at once -----------------------------------
curl -sf -X PUT -d '{"status": 503}' "$FCTL/faults" >/dev/null
sed -i 's/^\[metadata\]$/[metadata]\ntimeout = 1s/' /etc/oslogin/oslogin.conf
kill -HUP $DPID
sleep 0.3
check_eq "server failing: KEYS unavailable" "UNAVAILABLE" "$(first "$(client keys $KEYS bob_example_com)")"
check_eq "server failing: ACCOUNT unavailable" "UNAVAILABLE" "$(first "$(client account $PAM bob_example_com)")"
check_eq "server failing: a local user is still the host's" "NOT_OURS" "$(first "$(client account $PAM mallory)")"
curl -sf -X DELETE "$FCTL/faults" >/dev/null
check_eq "a failure is never shared: the next question asks again" "GRANTED" \
	"$(first "$(client keys $KEYS bob_example_com)")"

# --- socket activation: a restart loses no request ---------------------------------
kill $DPID
wait $DPID 2>/dev/null
rm -f $NSS $KEYS $PAM
# What systemd does with oslogin-accountsd.socket: hold the listening
# sockets, pass them (LISTEN_FDS, FileDescriptorName=), start the service
# again when it exits.
cat >/run/activate.py <<'PY'
import os, signal, socket, sys, time
names = [("nss.sock", 0o666), ("keys.sock", 0o666), ("pam.sock", 0o600)]
socks = []
for name, mode in names:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("/run/oslogin/" + name); os.chmod("/run/oslogin/" + name, mode); s.listen(128)
    socks.append(s)
print("listening", flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    pid = os.fork()
    if pid == 0:
        high = [os.dup(s.fileno()) + 100 for s in socks]  # out of the way of 3, 4, 5
        for i, s in enumerate(socks):
            os.dup2(s.fileno(), high[i])
        for i in range(len(socks)):
            os.dup2(high[i], 3 + i, inheritable=True)
        os.environ.update(LISTEN_FDS=str(len(socks)), LISTEN_PID=str(os.getpid()),
                          LISTEN_FDNAMES=":".join(n for n, _ in names))
        os.execv(sys.argv[1], sys.argv[1:])
    open("/run/daemon.pid", "w").write(str(pid))
    os.waitpid(pid, 0)
    time.sleep(1)  # requests arriving now wait in the backlog
PY
python3 /run/activate.py "$ACCOUNTSD" >>$LOG 2>&1 &
_cleanup_pids+=($!)
ACT=$!
wait_for 10 test -s /run/daemon.pid
inode=$(stat -c %i $KEYS)
check_eq "socket-activated: KEYS answered on the passed socket" "GRANTED" \
	"$(first "$(client keys $KEYS alice_example_com)")"
check_eq "socket-activated: nss.sock answered too" "status=" "$(client nss $NSS ghost_user | cut -c1-7)"
DPID=$(cat /run/daemon.pid)
rm -f /run/daemon.pid
kill $DPID
wait_for 10 bash -c "! kill -0 $DPID"
# The daemon is gone for a second: these wait in the backlog.
client keys $KEYS alice_example_com >/run/during-restart.out &
CPID=$!
client account $PAM bob_example_com >/run/during-restart-pam.out &
wait $CPID
wait_for 10 test -s /run/during-restart-pam.out
check_eq "a KEYS request sent during the restart is answered" "GRANTED" "$(first "$(cat /run/during-restart.out)")"
check_eq "an ACCOUNT request sent during the restart is answered" "GRANTED" "$(first "$(cat /run/during-restart-pam.out)")"
check "the daemon never replaced the sockets" test "$(stat -c %i $KEYS)" = "$inode"
# A question in progress when SIGTERM comes is answered before the daemon exits.
wait_for 10 test -s /run/daemon.pid
DPID=$(cat /run/daemon.pid)
rm -f /run/daemon.pid
curl -sf -X PUT -d '{"delay_ms": 700, "path_prefix": "/computeMetadata/v1/oslogin/users"}' "$FCTL/faults" >/dev/null
client keys $KEYS carol_example_com >/run/in-flight.out &
CPID=$!
sleep 0.3
kill $DPID
wait $CPID
check_eq "a question in progress at SIGTERM is answered (drained)" "DENIED" "$(first "$(cat /run/in-flight.out)")"
check "the daemon exits once it has answered (well within the 5 s drain bound)" wait_for 3 bash -c "! kill -0 $DPID"
check_fails "the daemon said it was draining nothing too long" 1 grep -q 'still open after' $LOG
curl -sf -X DELETE "$FCTL/faults" >/dev/null
kill $ACT
wait $ACT 2>/dev/null
done_testing
