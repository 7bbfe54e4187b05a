#!/usr/bin/env bash
# The daemon's event records: every MESSAGE_ID in lib/basic/message-ids.h
# has an entry in units/oslogin.catalog that journalctl accepts (so the two
# cannot drift), doc/journal.md lists each, and the catalog installs.
# Then the real daemon against the fake server, events on stderr
# (OSLOGIN_JOURNAL=0): a login (the key helper, then PAM's account step
# from the same process, as sshd does), a refusal, a sudo grant, a mode
# switch, a directory build, an ignored and an expired ssh-keys line, each
# with its MESSAGE_ID and fields; the same events as native journal records
# on a stand-in journal socket (accountsd/journal.c); and through journald
# itself when one runs (skipped otherwise).
. "$(dirname "$0")/../lib.sh"
# The host's journal, looked at before the namespace hides /run.
JOURNAL_HOST=0
if command -v journalctl >/dev/null && [ -w /run/systemd/journal/socket ]; then JOURNAL_HOST=1; fi
export JOURNAL_HOST=${OSLOGIN_TEST_JOURNAL_HOST:-$JOURNAL_HOST}
enter_namespace "$@"
IDS=$(sed -n 's/^#define MESSAGE_ID_[A-Z_]* *"\([0-9a-f]\{32\}\)"$/\1/p' "$SRC/lib/basic/message-ids.h" | sort)
check_eq "thirteen event kinds defined" 13 "$(echo "$IDS" | grep -c .)"
check_eq "no MESSAGE_ID defined twice" "" "$(echo "$IDS" | uniq -d)"

root=$(mktemp -d)
on_exit rm -rf "$root"
make -s -C "$SRC" B="$BUILD" install-units DESTDIR="$root" PREFIX=/usr >/dev/null 2>&1
check "the catalog is installed" test -s "$root/usr/lib/systemd/catalog/oslogin.catalog"
mkdir -p "$root/var/lib/systemd"
check "journalctl --update-catalog accepts it" journalctl --root="$root" --update-catalog
listed=$(journalctl --root="$root" --list-catalog 2>/dev/null | awk '$2 == "oslogin:" {print $1}' | sort)
check_eq "every MESSAGE_ID has a catalog entry, and no other" "$IDS" "$listed"
missing=$(for id in $IDS; do grep -q "$id" "$SRC/doc/journal.md" || echo "$id"; done)
check_eq "doc/journal.md lists every MESSAGE_ID" "" "$missing"

# --- the daemon's events ----------------------------------------------------
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
command -v pamtester >/dev/null || { skip "daemon events" "pamtester not installed"; done_testing; }
[ -n "$NSSW" ] || { skip "daemon events" "libnss-wrapper not installed"; done_testing; }
. "$SRC/tests/integration/broker-daemon.sh"
private_etc
private_dir /var/lib/oslogin /home
# With one invalid line (a key of a user named with a quote) and frank's
# expired key in the instance ssh-keys.
python3 - "$FIXTURES/basic.json" >/run/journal-fixture.json <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
a = d["instance"]["attributes"]
a["ssh-keys"] += "\nbad\"name:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINcwZwUxBCXrlxgXIQsv4TIcqZHPPJlnOS4YOkWO7y8d secret-comment"
# and a profile the directory build must skip (its UID is a system one).
low = copy.deepcopy(d["oslogin"]["users"][0])
low["name"] = "low@example.com"
low["posixAccounts"][0].update(username="low_example_com", uid="10", gid="10")
d["oslogin"]["users"].append(low)
print(json.dumps(d))
PY
export OSLOGIN_JOURNAL=0
start_broker_daemon /run/journal-fixture.json || { not_ok "the daemon starts"; done_testing; }
export OSLOGIN_KEYS_SOCKET=$BROKER_KEYS_SOCKET
cp /etc/passwd /run/nssw-passwd
cp /etc/group /run/nssw-group
cat >>/run/nssw-passwd <<'PW'
alice_example_com:*:2000001001:2000001001::/home/alice_example_com:/bin/bash
carol_example_com:*:2000001003:2000001003::/home/carol_example_com:/bin/bash
PW
printf 'account required %s\naccount required pam_permit.so\n' "$MODULE" >/etc/pam.d/oslogin
ALICE_FP=$(ssh-keygen -lf "$FIXTURES/keys/alice.pub" | cut -d' ' -f2)
# login USER FP: the key question from a child, then the account question
# from the parent itself (exec keeps the PID), as sshd asks them.
# (nss_wrapper for pamtester only: an ASan helper must not get it preloaded.)
login() {
	bash -c '"$1" "$2" "$3" >/dev/null; exec env LD_PRELOAD="$4" NSS_WRAPPER_PASSWD=/run/nssw-passwd \
		NSS_WRAPPER_GROUP=/run/nssw-group pamtester -I rhost=192.0.2.7 oslogin "$2" acct_mgmt' \
		login "$AKC" "$1" "$2" "$NSSW" >/dev/null 2>&1
}
login alice_example_com "$ALICE_FP"
login carol_example_com "$ALICE_FP"
LOG=$ACCOUNTSD_LOG
# event ID FIELD=VALUE...: a line with MESSAGE_ID=ID and every field.
event() {
	local id=$1 line
	shift
	while IFS= read -r line; do
		local all=1 f
		for f in "$@"; do [[ "$line" == *" $f"* ]] || { all=0; break; }; done
		[ $all = 1 ] && return 0
	done < <(grep -F "MESSAGE_ID=$id" "$LOG")
	return 1
}
id_of() { sed -n "s/^#define MESSAGE_ID_$1 *\"\([0-9a-f]*\)\"$/\1/p" "$SRC/lib/basic/message-ids.h"; }
check "login: key decision with user, email, fingerprint, decision, sshd PID, latency" \
	event "$(id_of KEY_DECISION)" OSLOGIN_USER=alice_example_com OSLOGIN_EMAIL=alice@example.com \
	"OSLOGIN_FINGERPRINT=$ALICE_FP" OSLOGIN_DECISION=granted OSLOGIN_SSHD_PID= OSLOGIN_LATENCY_USEC=
check "login: account decision with the remote address and the sshd PID" \
	event "$(id_of ACCOUNT_DECISION)" OSLOGIN_USER=alice_example_com OSLOGIN_DECISION=granted \
	OSLOGIN_REMOTE=192.0.2.7 OSLOGIN_SSHD_PID= OSLOGIN_LATENCY_USEC=
key_pid=$(grep -F "MESSAGE_ID=$(id_of KEY_DECISION)" "$LOG" | grep -m1 OSLOGIN_USER=alice_example_com | sed -n 's/.*OSLOGIN_SSHD_PID=\([0-9]*\).*/\1/p')
acct_pid=$(grep -F "MESSAGE_ID=$(id_of ACCOUNT_DECISION)" "$LOG" | grep -m1 OSLOGIN_USER=alice_example_com | sed -n 's/.*OSLOGIN_SSHD_PID=\([0-9]*\).*/\1/p')
check_eq "the key helper's parent is the account question's peer: one sshd PID" "$key_pid" "$acct_pid"
check "refusal: the account decision names the user and the reason" \
	event "$(id_of ACCOUNT_DECISION)" OSLOGIN_USER=carol_example_com OSLOGIN_DECISION=denied \
	'OSLOGIN_REASON="the login policy is not granted"'
check "sudo grant: user, email, UID" \
	event "$(id_of SUDO_GRANTED)" OSLOGIN_USER=alice_example_com OSLOGIN_EMAIL=alice@example.com OSLOGIN_UID=2000001001
check "mode switch: the mode" event "$(id_of MODE_SWITCH)" OSLOGIN_MODE=oslogin
check "directory build: counts and latency" wait_for 10 event "$(id_of DIRECTORY_BUILD)" OSLOGIN_USERS= OSLOGIN_GROUPS= OSLOGIN_SKIPPED= OSLOGIN_LATENCY_USEC=
check "directory build: the skipped user named, with why" \
	event "$(id_of DIRECTORY_BUILD)" 'OSLOGIN_REASON="low@example.com (UID or GID missing, invalid or below the floor)"'
check_eq "… once per build: one line per build names it, no other line" \
	"$(grep -cF "MESSAGE_ID=$(id_of DIRECTORY_BUILD)" "$LOG")" "$(grep -c 'low@example.com' "$LOG")"
# ssh-keys count with OS Login off: its rejections are logged then.
attr enable-oslogin FALSE
check "mode switch back: metadata-keys" wait_for 15 event "$(id_of MODE_SWITCH)" OSLOGIN_MODE=metadata-keys
check "sudo revoked when OS Login goes off, with the reason" \
	event "$(id_of SUDO_REVOKED)" OSLOGIN_USER=alice_example_com 'OSLOGIN_REASON="OS Login switched off"'
check "user created from ssh-keys: name and UID" event "$(id_of USER_CREATED)" OSLOGIN_USER=dave OSLOGIN_UID=
check "an ignored ssh-keys line is named by source, line and key start" \
	grep -qF 'Ignoring the instance ssh-keys line 4 for "(invalid name)" (ssh-ed25519 AAAAC3Nz' "$LOG"
check_fails "… never with the rest of the line" 1 grep -q secret-comment "$LOG"
check "an expired key is logged, not dropped silently" \
	grep -qF 'Ignoring the instance ssh-keys line 3 for "frank" (ssh-ed25519 AAAAC3Nz' "$LOG"
check "… with its reason" grep -q 'line 3 for "frank".*expired' "$LOG"

# --- the native journal protocol (a stand-in socket) -----------------------
# accountsd/journal.c: with a writable /run/systemd/journal/socket the
# events go there as native records (MESSAGE_ID and OSLOGIN_* as fields),
# not to stderr. A datagram socket stands in for journald and decodes them.
stop_broker_daemon
attr enable-oslogin TRUE
mkdir -p /run/systemd/journal
JCAP=/run/journal-capture.txt
python3 - "$JCAP" <<'PY' &
import array, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
out = open(sys.argv[1], "a", buffering=1)
while True:
    data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 4))
    for level, kind, payload in anc:  # large records come as a memfd
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fd = array.array("i", payload[:4])[0]
            os.lseek(fd, 0, 0)
            data = os.read(fd, 1 << 24)
    fields, i = [], 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            fields.append(line.decode(errors="replace")); i = nl + 1
        else:  # NAME\n<le64 size><bytes>\n
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            fields.append(line.decode() + "=" + data[nl + 9:nl + 9 + n].decode(errors="replace")); i = nl + 10 + n
    out.write("\t".join(fields) + "\n")
PY
CAPTURE_PID=$!
_cleanup_pids+=($CAPTURE_PID)
wait_for 5 test -S /run/systemd/journal/socket
unset OSLOGIN_JOURNAL
: >"$ACCOUNTSD_LOG"
rm -f /run/oslogin/*.sock # the killed daemon's: wait for the new ones
"$ACCOUNTSD" --runtime-dir /run/oslogin >>"$ACCOUNTSD_LOG" 2>&1 &
DAEMON_PID=$!
_cleanup_pids+=($DAEMON_PID)
wait_for 15 test -S /run/oslogin/pam.sock
login alice_example_com "$ALICE_FP"
login carol_example_com "$ALICE_FP"
record() { # FIELD=VALUE...: one captured record with all of them (tab-separated fields)
	local line f all
	while IFS= read -r line; do
		all=1
		for f in "$@"; do [[ $'\t'"$line"$'\t' == *$'\t'"$f"* ]] || { all=0; break; }; done
		[ $all = 1 ] && return 0
	done <"$JCAP"
	return 1
}
check "native record: the account decision with its fields" wait_for 5 record \
	"MESSAGE_ID=$(id_of ACCOUNT_DECISION)" OSLOGIN_USER=alice_example_com OSLOGIN_DECISION=granted \
	OSLOGIN_REMOTE=192.0.2.7 OSLOGIN_SSHD_PID= OSLOGIN_LATENCY_USEC= SYSLOG_IDENTIFIER=oslogin-accountsd PRIORITY=6
check "native record: the refusal, its reason a field of its own" record \
	"MESSAGE_ID=$(id_of ACCOUNT_DECISION)" OSLOGIN_USER=carol_example_com OSLOGIN_DECISION=denied \
	"OSLOGIN_REASON=the login policy is not granted" PRIORITY=5
check "native record: the key decision with the fingerprint" record \
	"MESSAGE_ID=$(id_of KEY_DECISION)" OSLOGIN_USER=alice_example_com "OSLOGIN_FINGERPRINT=$ALICE_FP"
check "native record: the message itself" record "MESSAGE=account user=carol_example_com"
check_eq "with the journal there, events leave stderr" 0 "$(grep -c 'MESSAGE_ID=' "$ACCOUNTSD_LOG")"
kill "$DAEMON_PID" "$CAPTURE_PID" 2>/dev/null
wait "$DAEMON_PID" "$CAPTURE_PID" 2>/dev/null
rm -f /run/systemd/journal/socket
export OSLOGIN_JOURNAL=0

# --- through journald, when one runs ---------------------------------------
if [ "$JOURNAL_HOST" != 1 ] || ! { mkdir -p /run/systemd/journal &&
	mount --bind /proc/1/root/run/systemd/journal /run/systemd/journal 2>/dev/null; }; then
	skip "journalctl -o verbose shows the fields" "no systemd-journald here (no writable /run/systemd/journal/socket)"
else
	unset OSLOGIN_JOURNAL
	rm -f /run/oslogin/*.sock
	mark="oslogin-test-$$-$RANDOM"
	"$ACCOUNTSD" --runtime-dir /run/oslogin >>"$ACCOUNTSD_LOG" 2>&1 &
	_cleanup_pids+=($!)
	wait_for 15 test -S /run/oslogin/pam.sock
	login alice_example_com "$ALICE_FP"
	login carol_example_com "$ALICE_FP"
	sleep 1
	verbose=$(journalctl -o verbose --since=-2min SYSLOG_IDENTIFIER=oslogin-accountsd 2>/dev/null)
	for f in "MESSAGE_ID=$(id_of ACCOUNT_DECISION)" OSLOGIN_REMOTE=192.0.2.7 OSLOGIN_SSHD_PID= \
		"MESSAGE_ID=$(id_of SUDO_GRANTED)" OSLOGIN_USER=carol_example_com OSLOGIN_DECISION=denied; do
		check "journalctl -o verbose: $f" grep -q "^ *$f" <<<"$verbose"
	done
	: "$mark"
fi
done_testing
