#!/usr/bin/env bash
# The oslogin demo, narrated. Runs from the installed tree ($OSLOGIN_DEMO_ROOT,
# made by `make demo`) and, as root, inside a private mount+network namespace
# where the fake metadata server answers on 169.254.169.254:80 exactly as the
# real one does on a VM. Leaves no process and no file behind.
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
ROOT=${OSLOGIN_DEMO_ROOT:-$SRC/build/demo-root}
BIN=$ROOT/usr/bin

if [ "$(id -u)" -eq 0 ] && [ -z "${OSLOGIN_IN_NAMESPACE:-}" ] && unshare --mount --net true 2>/dev/null; then
	OSLOGIN_IN_NAMESPACE=1 exec unshare --mount --net --fork -- "$0" "$@"
fi

bold=$(tput bold 2>/dev/null || true) dim=$(tput dim 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
run() { printf '%s$ %s%s\n' "$dim" "$*" "$off" >&2; "$@"; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ -n "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	ip link set lo up
	ip addr add 169.254.169.254/32 dev lo
	LISTEN=169.254.169.254:80
else
	LISTEN=127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	echo "(not root: the fake metadata server listens on $LISTEN instead of 169.254.169.254:80)"
fi
export GCE_METADATA_HOST=$LISTEN
CTL=http://$LISTEN/_fake
LOG=$(mktemp /tmp/oslogin-demo.XXXXXX.log)

say "A fake metadata server serves tests/fixtures/basic.json on $LISTEN"
"$BIN/oslogin-fake-metadata" --listen "$LISTEN" --data "$SRC/tests/fixtures/basic.json" --log "$LOG" &
pids+=($!)
for _ in $(seq 50); do curl -sf -H 'Metadata-Flavor: Google' "http://$LISTEN/computeMetadata/v1/" >/dev/null && break; sleep 0.1; done

say "Without the Metadata-Flavor header the server refuses (403), as the real one does"
run curl -s -o /dev/null -w '%{http_code}\n' "http://$LISTEN/computeMetadata/v1/instance/hostname"

say "The client library fetches attributes (GCE_METADATA_HOST=$LISTEN)"
run "$BIN/oslogin-mds-get" instance/hostname; echo
run "$BIN/oslogin-mds-get" instance/attributes/
run "$BIN/oslogin-mds-get" instance/attributes/ssh-keys | cut -c1-100

say "An OS Login profile, looked up by user name (percent-encoded query)"
run "$BIN/oslogin-mds-get" --query username=alice_example_com oslogin/users | python3 -m json.tool | head -24

say "Is alice allowed to log in? Is carol?"
run "$BIN/oslogin-mds-get" --query email=alice@example.com --query policy=login oslogin/authorize; echo
run "$BIN/oslogin-mds-get" --query email=carol@example.com --query policy=login oslogin/authorize; echo

say "A long-poll: the request waits until the metadata changes"
ETAG=$("$BIN/oslogin-mds-get" --verbose '?recursive=true&alt=json' 2>&1 >/dev/null | sed -n 's/^etag: //p')
echo "current ETag: $ETAG; in 1 s an administrator sets enable-oslogin=TRUE"
(sleep 1; curl -sf -X PUT --data TRUE "$CTL/attributes/instance/enable-oslogin" >/dev/null) &
changer=$!
start=$(date +%s%N)
"$BIN/oslogin-mds-get" --wait-for-change --last-etag "$ETAG" --timeout-sec 60 '?recursive=true&alt=json' 2>/dev/null |
	python3 -c 'import json,sys; print("enable-oslogin is now", json.load(sys.stdin)["instance"]["attributes"]["enable-oslogin"])'
wait "$changer"
echo "woke after $((($(date +%s%N) - start) / 1000000)) ms"

say "A flaky server: two 503s, then an answer; the client retries with back-off"
curl -sf -X PUT --data '{"status":503,"count":2}' "$CTL/faults" >/dev/null
run "$BIN/oslogin-mds-get" --count instance/hostname; echo

say "A server that never answers: the client gives up at its deadline"
curl -sf -X PUT --data '{"blackhole":true}' "$CTL/faults" >/dev/null
run "$BIN/oslogin-mds-get" --timeout 1s instance/hostname || echo "(exit $?: fail closed)"
curl -sf -X DELETE "$CTL/faults" >/dev/null

say "The server saw $(curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])') metadata requests so far"

if [ -z "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	say "The accounts part of the demo needs root (a private /etc, /home and a real sshd); stopping here."
	exit 0
fi

curl -sf -X PUT --data FALSE "$CTL/attributes/instance/enable-oslogin" >/dev/null
say "Metadata ssh-keys become local accounts: a private /etc, /home and /var/lib for this demo"
mount --make-rprivate /
d=$(mktemp -d /run/demo-etc.XXXXXX); cp -a /etc/. "$d/"; mount --bind "$d" /etc
for dir in /home /root /var/lib/oslogin /var/lib/google /run; do mkdir -p "$dir"; done
mount -t tmpfs tmpfs /home; mount -t tmpfs tmpfs /root
mount -t tmpfs tmpfs /var/lib/oslogin; mount -t tmpfs tmpfs /var/lib/google
mkdir -p /run/sshd /etc/oslogin
printf '[metadata]\nurl = http://%s/computeMetadata/v1/\n' "$LISTEN" >/etc/oslogin/oslogin.conf
KEYS=$(mktemp -d /run/demo-keys.XXXXXX); cp "$SRC"/tests/fixtures/keys/* "$KEYS"/; chmod 600 "$KEYS"/*
curl -sf -X PUT --data-binary "$("$BIN/oslogin-mds-get" instance/attributes/ssh-keys 2>/dev/null)
root:$(cut -d' ' -f1-2 "$KEYS/alice.pub") sneaky" "$CTL/attributes/instance/ssh-keys" >/dev/null
echo "instance ssh-keys now: dave (plain), erin (google-ssh, expires 2099), frank (expired 2020), root (!)"
echo "project ssh-keys: grace"
"$ROOT/usr/sbin/oslogin-accountsd" >/run/demo-accountsd.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do getent passwd grace >/dev/null && break; sleep 0.05; done
sed 's/^/  accountsd: /' /run/demo-accountsd.log
run tail -3 /etc/passwd
run grep google-sudoers /etc/group
run cat /home/erin/.ssh/authorized_keys

say "A real sshd on 127.0.0.1:2222 (password authentication off)"
ssh-keygen -A >/dev/null 2>&1
/usr/sbin/sshd -D -p 2222 -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
	-o PermitRootLogin=no >/run/demo-sshd.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/2222) 2>/dev/null && break; sleep 0.1; done
SSH=(ssh -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
run "${SSH[@]}" -i "$KEYS/dave" dave@127.0.0.1 'id; sudo -n true && echo "sudo: allowed (google-sudoers)"'
run "${SSH[@]}" -i "$KEYS/erin" erin@127.0.0.1 'echo "erin logged in with a key that expires in 2099"'
run "${SSH[@]}" -i "$KEYS/frank" frank@127.0.0.1 true || echo "(refused: frank's key expired, no account was made)"
run "${SSH[@]}" -i "$KEYS/alice" root@127.0.0.1 true || echo "(refused: root never gets metadata keys)"
run "${SSH[@]}" -o PreferredAuthentications=password dave@127.0.0.1 true || echo "(refused: no password authentication)"

say "An administrator removes dave's key from metadata: the daemon's long-poll wakes"
curl -sf -X PUT --data-binary "erin:$(cut -d' ' -f1-2 "$KEYS/erin.pub")" "$CTL/attributes/instance/ssh-keys" >/dev/null
for _ in $(seq 100); do grep -q 'Added by Google' /home/dave/.ssh/authorized_keys || break; sleep 0.05; done
run "${SSH[@]}" -i "$KEYS/dave" dave@127.0.0.1 true || echo "(refused: dave's key is gone; his account and files stay)"

say "Stateless /etc: the image comes back at boot, /home and /var persist"
before=$(getent passwd dave erin grace | cut -d: -f1,3 | xargs)
kill "${pids[-1]}" "${pids[-2]}"; wait "${pids[-1]}" "${pids[-2]}" 2>/dev/null || true
umount /etc; d=$(mktemp -d /run/demo-etc.XXXXXX); cp -a /etc/. "$d/"; mount --bind "$d" /etc
mkdir -p /etc/oslogin; printf '[metadata]\nurl = http://%s/computeMetadata/v1/\n' "$LISTEN" >/etc/oslogin/oslogin.conf
echo "before the reboot: $before"
echo "after the reboot:  $(getent passwd dave erin grace | cut -d: -f1,3 | xargs) (nothing)"
curl -sf -X PUT --data-binary "dave:$(cut -d' ' -f1-2 "$KEYS/dave.pub")
erin:$(cut -d' ' -f1-2 "$KEYS/erin.pub")" "$CTL/attributes/instance/ssh-keys" >/dev/null
"$ROOT/usr/sbin/oslogin-accountsd" --once >/dev/null 2>&1
echo "accountsd again:   $(getent passwd dave erin grace | cut -d: -f1,3 | xargs) (same users, same UIDs)"
say "OS Login: the modules and the key helper go where glibc, libpam and sshd look (as the packages install them)"
MA=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
mount -t overlay overlay -o "lowerdir=$ROOT/usr/lib/$MA:/usr/lib/$MA" "/usr/lib/$MA"
mount -t overlay overlay -o "lowerdir=$ROOT/usr/sbin:/usr/sbin" /usr/sbin
getent passwd _oslogin >/dev/null ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin _oslogin
printf '[metadata]\nurl = http://%s/computeMetadata/v1/\n[sudo]\nrecheck_interval = 3s\n' "$LISTEN" \
	>/etc/oslogin/oslogin.conf
run ls -l "/usr/lib/$MA/libnss_oslogin.so.2" "/usr/lib/$MA/security/pam_oslogin.so" /usr/sbin/oslogin-authorized-keys
echo "An administrator sets enable-oslogin=TRUE; accountsd is all that runs on the host."
curl -sf -X PUT --data TRUE "$CTL/attributes/instance/enable-oslogin" >/dev/null
/usr/sbin/sshd -p 2222 -o ListenAddress=127.0.0.1 -o PrintMotd=no
for _ in $(seq 50); do [ -s /run/sshd.pid ] && break; sleep 0.1; done
SSHD_PID=$(cat /run/sshd.pid)
"$ROOT/usr/sbin/oslogin-accountsd" >/run/demo-accountsd.log 2>&1 &
pids+=($!)
for _ in $(seq 200); do
	grep -q '^account required pam_oslogin.so' /etc/pam.d/sshd && grep -Eq '^passwd:.*oslogin' /etc/nsswitch.conf && break
	sleep 0.05
done
sleep 1 # sshd re-executes itself on the reload accountsd sent
run "$ROOT/usr/sbin/osloginctl" status | head -6
run grep -E '^(passwd|group):' /etc/nsswitch.conf
run cat /etc/ssh/sshd_config.d/00-oslogin.conf
run sed -n '/BEGIN oslogin/,/END oslogin/p' /etc/pam.d/sshd
run getent passwd alice_example_com
run id alice_example_com

say "alice (login + adminLogin) logs in with her OS Login key; her home is made at the first login"
run "${SSH[@]}" -i "$KEYS/alice" alice_example_com@127.0.0.1 'id; pwd; sudo -l | tail -2'
run cat /var/lib/oslogin/sudoers.d/alice__example__com
say "bob may log in but is no administrator; carol may not log in at all"
run "${SSH[@]}" -i "$KEYS/bob" bob_example_com@127.0.0.1 'id -un; sudo -n true' || echo "(bob: no sudo)"
run "${SSH[@]}" -i "$KEYS/carol" carol_example_com@127.0.0.1 true || echo "(refused: carol lacks the login policy)"
run "${SSH[@]}" -i "$KEYS/alice" root@127.0.0.1 true || echo "(refused: no root login)"
run "${SSH[@]}" -o PreferredAuthentications=password,keyboard-interactive alice_example_com@127.0.0.1 true ||
	echo "(refused: OS Login users have no password)"

say "The cloud administrator revokes alice's adminLogin: sudo goes within the re-check interval, no login needed"
curl -sf -X PUT --data false "$CTL/users/alice@example.com/adminLogin" >/dev/null
start=$(date +%s%N)
for _ in $(seq 200); do [ -e /var/lib/oslogin/sudoers.d/alice__example__com ] || break; sleep 0.05; done
echo "drop-in gone after $((($(date +%s%N) - start) / 1000000)) ms"
run sudo -l -U alice_example_com | tail -1

say "The metadata server fails: OS Login users are refused (fail closed), sshd keeps running"
curl -sf -X PUT --data '{"status":503}' "$CTL/faults" >/dev/null
# The answers of one login are shared for answer_ttl (5 s) and never a
# failure: wait them out, so this login has to ask the failing server.
echo "(waiting 6 s: the answers of alice's last login are shared for answer_ttl, 5 s)"
sleep 6
if run "${SSH[@]}" -i "$KEYS/alice" alice_example_com@127.0.0.1 true; then
	echo "UNEXPECTED: alice logged in while the metadata server fails" >&2
	exit 1
fi
echo "(refused while the metadata server fails)"
curl -sf -X DELETE "$CTL/faults" >/dev/null
kill -0 "$SSHD_PID" && echo "sshd (PID $SSHD_PID) still running"

say "enable-oslogin=FALSE: accountsd undoes it all"
curl -sf -X PUT --data FALSE "$CTL/attributes/instance/enable-oslogin" >/dev/null
# One transaction (PAM, sshd, nsswitch, then the recorded mode): wait for its end.
for _ in $(seq 200); do
	"$ROOT/usr/sbin/osloginctl" status 2>/dev/null | grep -qE '^mode \(recorded\) +metadata-keys' && break
	sleep 0.05
done
run "$ROOT/usr/sbin/osloginctl" status | head -5
kill "$SSHD_PID" 2>/dev/null || true
rm -f "$LOG"
say "Done: everything ran in a private namespace; nothing is left running."
