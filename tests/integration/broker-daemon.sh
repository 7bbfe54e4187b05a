# Sourced by test-akc.sh and test-pam.sh (after lib.sh and enter_namespace):
# the real oslogin-accountsd serving its broker sockets, against the fake
# metadata server, in the namespace's private /etc.
#
# The test calls private_etc and private_dir /var/lib/oslogin /home first.
# sudoers_dropin USER: the daemon's drop-in for USER.
# start_broker_daemon FIXTURE: sets FAKE_*, CTL, ACCOUNTSD_PID, ACCOUNTSD_LOG,
#   BROKER_KEYS_SOCKET, BROKER_PAM_SOCKET, AKC_USER; 0 once both sockets
#   answer. The daemon runs in OS Login mode (enable-oslogin TRUE) with a
#   1 s metadata deadline.
# stop_broker_daemon (kill -9); forget_answers (SIGHUP: the shared answers are
#   dropped); fault JSON; clear_faults; reset_stats; requests.

fault() { curl -sf -X PUT --data "$1" "$CTL/faults" >/dev/null; }
clear_faults() { curl -sf -X DELETE "$CTL/faults" >/dev/null; }
reset_stats() { curl -sf -X DELETE "$CTL/stats" >/dev/null; }
# requests: the metadata requests a decision makes (profile, authorize);
# the daemon's own long-poll and directory builds are not counted.
requests() {
	curl -sf "$CTL/stats" | python3 -c '
import json, sys
paths = json.load(sys.stdin)["paths"]
print(sum(n for p, n in paths.items() if p.rstrip("/").endswith(("/oslogin/users", "/oslogin/authorize"))))'
}
sudoers_dropin() { echo "/var/lib/oslogin/sudoers.d/${1//_/__}"; }
grant() { curl -sf -X PUT --data "$3" "$CTL/users/$1/$2" >/dev/null; }
attr() { curl -sf -X PUT --data "$2" "$CTL/attributes/instance/$1" >/dev/null; }

start_broker_daemon() {
	local fixture=$1 d=/run/oslogin
	ACCOUNTSD_LOG=/run/accountsd-broker.log
	[ -x "$ACCOUNTSD" ] || return 1
	AKC_USER=_oslogin
	getent passwd "$AKC_USER" >/dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$AKC_USER"
	id localuser >/dev/null 2>&1 || useradd -m localuser
	python3 - "$fixture" >/run/broker-fixture.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["instance"]["attributes"]["enable-oslogin"] = "TRUE"
print(json.dumps(d))
PY
	start_fake /run/broker-fixture.json || return 1
	CTL=$FAKE_URL/_fake
	mkdir -p /etc/oslogin
	cat >/etc/oslogin/oslogin.conf <<EOF
[metadata]
url = $FAKE_URL/computeMetadata/v1/
timeout = 1s
[authorized_keys]
deadline = 1s
user = $AKC_USER
EOF
	chmod 0644 /etc/oslogin/oslogin.conf
	BROKER_KEYS_SOCKET=$d/keys.sock
	BROKER_PAM_SOCKET=$d/pam.sock
	"$ACCOUNTSD" --runtime-dir "$d" >"$ACCOUNTSD_LOG" 2>&1 &
	ACCOUNTSD_PID=$!
	_cleanup_pids+=("$ACCOUNTSD_PID")
	wait_for 15 test -S "$BROKER_KEYS_SOCKET" -a -S "$BROKER_PAM_SOCKET" || return 1
	# The first build of the directory is not what these tests look at;
	# only the answers to the clients' questions are.
	sleep 0.3
}

# As a crash leaves it: the socket files stay, nobody listens.
stop_broker_daemon() {
	kill -9 "$ACCOUNTSD_PID" 2>/dev/null
	wait "$ACCOUNTSD_PID" 2>/dev/null
}

forget_answers() {
	kill -HUP "$ACCOUNTSD_PID"
	sleep 0.3
}
