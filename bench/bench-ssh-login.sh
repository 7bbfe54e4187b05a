#!/usr/bin/env bash
# A whole `ssh -i KEY USER@127.0.0.1 true` against a real sshd, in a private
# mount+network namespace with a private copy of /etc: (a) an OS Login user
# (libnss_oslogin.so.2 overlaid where glibc loads it, nsswitch "files
# oslogin", oslogin-accountsd running against the fake server in OS Login
# mode, sshd asking oslogin-authorized-keys %u %f as _oslogin) against (b)
# the same login as a local user with a plain ~/.ssh/authorized_keys, same
# key, same sshd, same PAM stack. The two take turns, N logins each
# (default 30); prints both medians and the ratio, and the metadata requests
# one login of each makes. If BUILD/pam_oslogin/pam_oslogin.so exists, a
# second round adds `account required pam_oslogin.so` to sshd's PAM stack
# (see add_pam_oslogin below); otherwise that variant is skipped. Needs root.
# SERVER=split puts bench/split-proxy.py (Python's http.server, headers and
# body in two segments: the delayed-ACK case) between accountsd and the fake.
# ANSWER_TTL=0 turns the shared answers off (see below).
# Usage: [SERVER=fake|split] [ANSWER_TTL=0] bench/bench-ssh-login.sh [BUILD_DIR] [N]   (as a
# copy in BUILD/bench, run by bench/run.sh, its first argument is ignored).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/../tests/lib.sh" ]; then SRC=$(cd "$here/.." && pwd); else SRC=${OSLOGIN_SRC:-$PWD}; fi
if [ -d "${1:-}" ]; then BUILD=$(cd "$1" && pwd); elif [ -x "$here/spawn-timer" ]; then BUILD=$(cd "$here/.." && pwd); else BUILD=$SRC/build; fi
N=${2:-${N:-30}}
[ -f "$SRC/tests/lib.sh" ] || { echo "bench-ssh-login: run from the source tree (or set OSLOGIN_SRC)" >&2; exit 1; }
export OSLOGIN_SRC=$SRC OSLOGIN_BUILD=$BUILD
if [ -z "${OSLOGIN_IN_NAMESPACE:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare --mount --net true 2>/dev/null || [ ! -x /usr/sbin/sshd ]; then
		echo "bench-ssh-login: needs root, unshare and /usr/sbin/sshd; skipped"
		exit 0
	fi
	exec env OSLOGIN_IN_NAMESPACE=1 unshare --mount --net --fork -- "$0" "$BUILD" "$N"
fi
. "$SRC/tests/lib.sh"
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
MODULE=$BUILD/nss_oslogin/libnss_oslogin.so.2
PAM_MODULE=$BUILD/pam_oslogin/pam_oslogin.so
TIMER=$BUILD/bench/spawn-timer
for f in "$AKC" "$ACCOUNTSD" "$MODULE" "$TIMER" "$FAKE"; do
	[ -e "$f" ] || { echo "bench-ssh-login: $f not built" >&2; exit 1; }
done
die() { echo "bench-ssh-login: $*" >&2; for f in /run/accountsd.log /run/sshd.log; do [ -s $f ] && tail -5 $f >&2; done; exit 1; }

enter_namespace
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
capture_syslog /run/syslog.log
chmod 0666 /dev/log # as a real one: the helper runs as _oslogin and logs its diagnostics there
install_modules "$MODULE"

# The fake serves basic.json with enable-oslogin on; alice_example_com may log in.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["instance"]["attributes"]["enable-oslogin"]="TRUE"; print(json.dumps(d))' \
	"$FIXTURES/basic.json" >/run/fixture.json
start_fake /run/fixture.json 127.0.0.1:$(free_port) --threads 2 || die "fake server did not start"
CTL=$FAKE_URL/_fake
MDS_URL=$FAKE_URL
SERVER=${SERVER:-fake}
if [ "$SERVER" = split ]; then
	PROXY_PORT=$(free_port)
	python3 "$SRC/bench/split-proxy.py" "$PROXY_PORT" "${FAKE_URL#http://}" &
	_cleanup_pids+=($!)
	MDS_URL=http://127.0.0.1:$PROXY_PORT
	wait_for 10 curl -sf -H 'Metadata-Flavor: Google' "$MDS_URL/computeMetadata/v1/instance/id" -o /dev/null ||
		die "split-proxy did not start"
fi
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$MDS_URL" >/etc/oslogin/oslogin.conf
# ANSWER_TTL=0: no answer shared, not even within one login (every question
# of every login goes to the server: the worst case for a slow server).
[ -n "${ANSWER_TTL:-}" ] && printf '[broker]\nanswer_ttl = %s\nadmin_ttl = %s\n' "$ANSWER_TTL" "$ANSWER_TTL" >>/etc/oslogin/oslogin.conf
chmod 0644 /etc/oslogin/oslogin.conf

# The AuthorizedKeysCommandUser (units/oslogin-sysusers.conf) and the local user.
getent passwd _oslogin >/dev/null ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin _oslogin
useradd --create-home --shell /bin/bash benchlocal
W=/run/bench-ssh
mkdir -p $W/bin
cp "$FIXTURES/keys/alice" $W/key && chmod 0600 $W/key
install -d -o benchlocal -g benchlocal -m 0700 /home/benchlocal/.ssh
install -o benchlocal -g benchlocal -m 0600 "$FIXTURES/keys/alice.pub" /home/benchlocal/.ssh/authorized_keys
# sshd wants the command and every directory above it root-owned and not writable by others.
install -m 0755 "$AKC" $W/bin/oslogin-authorized-keys

"$ACCOUNTSD" >/run/accountsd.log 2>&1 &
_cleanup_pids+=($!)
wait_for 15 test -s /run/oslogin/directory.cache || die "accountsd built no directory cache"
wait_for 5 grep -Eq '^passwd:.*oslogin' /etc/nsswitch.conf || die "accountsd did not switch nsswitch to oslogin"
# What the task pins down, whatever accountsd wrote: files first, then oslogin.
sed -i -E 's/^passwd:.*/passwd:         files oslogin/; s/^group:.*/group:          files oslogin/' /etc/nsswitch.conf
[ "$(getent passwd alice_example_com | cut -d: -f3)" = 2000001001 ] || die "alice_example_com does not resolve via NSS"
install -d -o 2000001001 -g 2000001001 -m 0755 /home/alice_example_com

PORT=$(free_port)
ssh-keygen -q -t ed25519 -N '' -f $W/host_key
cat >$W/sshd_config <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $W/host_key
PidFile none
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PrintMotd no
AuthorizedKeysFile .ssh/authorized_keys
AuthorizedKeysCommand $W/bin/oslogin-authorized-keys %u %f
AuthorizedKeysCommandUser _oslogin
EOF
/usr/sbin/sshd -t -f $W/sshd_config || die "sshd -t refused the config"
/usr/sbin/sshd -D -e -f $W/sshd_config >/run/sshd.log 2>&1 &
_cleanup_pids+=($!)
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$PORT" || die "sshd did not start"

SSH=(ssh -F /dev/null -p "$PORT" -i $W/key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
requests() { curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
# login_requests USER: logs in once; prints the metadata requests it made.
login_requests() {
	curl -sf -X DELETE "$CTL/stats" >/dev/null
	[ "$("${SSH[@]}" "$1@127.0.0.1" 'id -un')" = "$1" ] || die "$1 cannot log in"
	requests
}
# compare LABEL: N logins of each user, taking turns; prints both medians and the ratio.
compare() {
	local out a b
	out=$("$TIMER" "$N" oslogin "${SSH[@]}" alice_example_com@127.0.0.1 true --- local "${SSH[@]}" benchlocal@127.0.0.1 true) ||
		die "some logins failed: $out"
	a=$(sed -n 's/^label=oslogin .*median_us=\([0-9]*\).*/\1/p' <<<"$out")
	b=$(sed -n 's/^label=local .*median_us=\([0-9]*\).*/\1/p' <<<"$out")
	echo "$1, $N logins each:"
	echo "$out" | sed 's/^/  /'
	awk -v a="$a" -v b="$b" 'BEGIN { printf "  median: OS Login user %.1f ms, local user %.1f ms, ratio %.2fx (+%.1f ms)\n", a / 1000, b / 1000, a / b, (a - b) / 1000 }'
}

# THE place where the PAM module joins sshd's stack: account phase, after
# the distribution's accounts (Debian's @include common-account). Debian's
# sshd PAM service is "sshd"; the module is loaded by absolute path.
add_pam_oslogin() {
	sed -i "/^@include common-account/a account    required     $PAM_MODULE" /etc/pam.d/sshd
	grep -q "pam_oslogin.so" /etc/pam.d/sshd || die "could not add pam_oslogin.so to /etc/pam.d/sshd"
}

echo "sshd $(ssh -V 2>&1 | cut -d, -f1) on 127.0.0.1:$PORT; client ssh ... true; $(nproc) cores; metadata server: $SERVER ($MDS_URL)"
compare "sshd PAM stack as shipped (no pam_oslogin)"
echo "metadata requests per login: OS Login user $(login_requests alice_example_com), local user $(login_requests benchlocal)"
if [ -e "$PAM_MODULE" ]; then
	add_pam_oslogin
	compare "with 'account required pam_oslogin.so'"
	echo "metadata requests per login with pam_oslogin: OS Login user $(login_requests alice_example_com), local user $(login_requests benchlocal)"
else
	echo "pam_oslogin variant skipped: $PAM_MODULE not built"
fi
# Requests of one login once the shared answers (answer_ttl, 5 s) have
# expired: profile and login asked again, adminLogin still remembered
# (admin_ttl); and of the very first login, with a fresh daemon.
sleep 6
echo "metadata requests of a login after answer_ttl: OS Login user $(login_requests alice_example_com)"
grep -q 'keys user=alice_example_com .*decision=granted' /run/accountsd.log ||
	echo "bench-ssh-login: no key decision line in the daemon's log" >&2
