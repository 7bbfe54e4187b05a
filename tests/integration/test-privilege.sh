#!/usr/bin/env bash
# Privilege boundaries with real sudo and su, in a private namespace with a
# private /etc, accountsd in OS Login mode and the NSS module where glibc
# loads it. An unprivileged local user (mallory) points GCE_METADATA_HOST,
# OSLOGIN_CONFIG, OSLOGIN_NSS_BYPASS and every proxy variable at a second,
# hostile fake metadata server and runs sudo, su, getent, id and the
# AuthorizedKeysCommand: the hostile server must receive no request and
# every answer must come from the legitimate server. An unsafe oslogin.conf
# is refused by oslogin-accountsd (fail closed) and cannot steer the
# AuthorizedKeysCommand (it reads none; keys.sock refuses mallory), which
# works as the sysusers account _oslogin with sshd's clean environment, and
# hostile names and UIDs from the metadata server never reach NSS answers
# or /etc/passwd.
# Related cases elsewhere (not repeated here): test-akc.sh (keys.sock
# refuses nobody, the AKC as _oslogin, invalid names and root never
# asked), test-accounts.sh (system account "daemon" refused, symlinks),
# test-mds-client.sh (proxy variables ignored, GCE_METADATA_HOST honoured
# outside setuid), test-nss-module.sh (invalid names and UIDs below the
# floor answered without I/O).
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL=$BUILD/osloginctl/osloginctl
MODULE=$MODULES_BUILD/nss_oslogin/libnss_oslogin.so.2
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
for f in "$ACCOUNTSD" "$CTL" "$MODULE" "$FAKE" "$AKC"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
for t in sudo su setpriv useradd; do
	command -v $t >/dev/null || { echo "ok 1 - # SKIP $t not installed (scripts/install-deps.sh)"; echo "1..1"; exit 0; }
done
enter_namespace "$@"
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
install_modules "$MODULE"
SYSLOG=/run/syslog.log
capture_syslog $SYSLOG || not_ok "syslog capture"
chmod 0666 /dev/log # as on a real host: unprivileged programs log too
# The test's programs run from the build tree: a path every user can reach.
mkdir -p /run/bin && cp "$AKC" "$ACCOUNTSD" /run/bin/ && chmod 0755 /run/bin/*
AKC=/run/bin/oslogin-authorized-keys
ACCOUNTSD=/run/bin/oslogin-accountsd

# fixture.py legit|hostile|keys: basic.json in OS Login mode; "legit" adds
# hostile directory entries (UID 0, low UIDs, bad names) that must be
# dropped; "hostile" is the impostor's view (same names, other UIDs);
# "keys" is metadata-keys mode with hostile ssh-keys user names.
cat >/run/fixture.py <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
mode = sys.argv[2]
d["instance"]["attributes"]["enable-oslogin"] = "FALSE" if mode == "keys" else "TRUE"
users = d["oslogin"]["users"]
tmpl = users[1]
def add(name, uid, **kw):
    u = copy.deepcopy(tmpl)
    u["name"] = "h%d@example.com" % len(users)
    u.pop("twoFactor", None)
    a = u["posixAccounts"][0]
    a.update(username=name, uid=str(uid), gid=str(uid), homeDirectory="/home/x")
    a.update(kw)
    users.append(u)
if mode == "legit":
    add("rootish", 0)
    add("lowuid", 500)
    add("evil:colon", 2000005001)
    add("evil\nnewline", 2000005002)
    add("..", 2000005003)
    add("x" * 300, 2000005004)
    add("-dash", 2000005005)
    add("badgecos", 2000005006, gecos="a:b")
    add("badhome", 2000005007, homeDirectory="/home/../etc")
    add("badshell", 2000005008, shell="/bin/sh\n")
    d["oslogin"]["groups"] += [{"name": "wheel0", "gid": "0", "members": ["alice_example_com"]},
                               {"name": "adm:x", "gid": "2000105001", "members": ["alice_example_com"]},
                               {"name": "lowgrp", "gid": "27", "members": ["alice_example_com"]}]
elif mode == "hostile":
    for u in users:
        a = u["posixAccounts"][0]
        a.update(uid=str(int(a["uid"]) + 7000), gid="0", gecos="HOSTILE", shell="/bin/evil")
    d["oslogin"]["groups"].append({"name": "sudo", "gid": "2000107000", "members": ["alice_example_com"]})
elif mode == "keys":
    k = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINcwZwUxBCXrlxgXIQsv4TIcqZHPPJlnOS4YOkWO7y8d x"
    names = ["root", "daemon", "..", "x" * 300, "-rf", "evil\\name", "a.b/c", "keyok"]
    d["instance"]["attributes"]["ssh-keys"] = "\n".join(n + ":" + k for n in names)
    d["project"]["attributes"]["ssh-keys"] = ""
print(json.dumps(d))
PY
python3 /run/fixture.py "$FIXTURES/basic.json" legit >/run/legit.json
python3 /run/fixture.py "$FIXTURES/basic.json" hostile >/run/hostile.json
start_fake /run/hostile.json || { not_ok "hostile fake server starts"; done_testing; }
HOSTILE_ADDR=$FAKE_ADDR HOSTILE_URL=$FAKE_URL
start_fake /run/legit.json || { not_ok "legitimate fake server starts"; done_testing; }
LEGIT_URL=$FAKE_URL
stats() { # URL: requests counted by that fake
	curl -sf "$1/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'
}
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[directory]\nrefresh_interval = 1h\n' "$LEGIT_URL" \
	>/etc/oslogin/oslogin.conf
chmod 0644 /etc/oslogin/oslogin.conf

LOG=/run/accountsd.log
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$ACCOUNTSD" >>$LOG 2>&1 &
DPID=$!
_cleanup_pids+=($DPID)
check "accountsd built the cache from the legitimate server" wait_for 15 test -s /run/oslogin/directory.cache
check "nsswitch: passwd uses oslogin" grep -Eq '^passwd:.*oslogin' /etc/nsswitch.conf

# Local accounts: mallory (unprivileged), _oslogin (units/oslogin-sysusers.conf).
useradd -m -s /bin/bash mallory
useradd -r -M -d /nonexistent -s /usr/sbin/nologin -c "oslogin AuthorizedKeysCommand" _oslogin
# The sudo grant the PAM module will write at login for an adminLogin user
# (written by hand: pam_oslogin.so is not part of this test).
echo 'alice_example_com ALL=(ALL:ALL) NOPASSWD: ALL' >/etc/sudoers.d/90-privtest
chmod 0440 /etc/sudoers.d/90-privtest
check "sudoers valid" visudo -c -q
# mallory's own config and every variable that could redirect a client.
install -o mallory -m 0644 /dev/null /home/mallory/evil.conf
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$HOSTILE_URL" >/home/mallory/evil.conf
HENV=(GCE_METADATA_HOST="$HOSTILE_ADDR" OSLOGIN_CONFIG=/home/mallory/evil.conf OSLOGIN_NSS_BYPASS=1
	OSLOGIN_METADATA_URL="$HOSTILE_URL" http_proxy="$HOSTILE_URL" HTTP_PROXY="$HOSTILE_URL"
	https_proxy="$HOSTILE_URL" HTTPS_PROXY="$HOSTILE_URL" ALL_PROXY="$HOSTILE_URL" all_proxy="$HOSTILE_URL"
	NO_PROXY= no_proxy=)
ALICE_UID=2000001001
# as USER|UID COMMAND...: with the hostile environment, no terminal, no password.
as() {
	local who=$1
	shift
	setpriv --reuid="$who" --regid="$(id -g "$who")" --init-groups \
		env "${HENV[@]}" HOME=/home/mallory "$@" </dev/null
}
curl -sf -X DELETE "$HOSTILE_URL/_fake/stats" >/dev/null
curl -sf -X DELETE "$LEGIT_URL/_fake/stats" >/dev/null

ALICE_LINE="alice_example_com:*:2000001001:2000001001:Alice Example:/home/alice_example_com:/bin/bash"
# Cached users, and a miss: dave is granted on the legitimate server after
# the cache was built, so resolving him needs accountsd's socket (which
# OSLOGIN_NSS_BYPASS would switch off if it were honoured).
python3 - /run/legit.json <<'PY' >/run/legit2.json
import copy, json, sys
d = json.load(open(sys.argv[1]))
u = copy.deepcopy(d["oslogin"]["users"][1])
u["name"] = "dave@example.com"
u["posixAccounts"][0].update(username="dave_example_com", uid="2000001999", gid="2000001999", gecos="Dave",
                             homeDirectory="/home/dave_example_com")
d["oslogin"]["users"].append(u)
print(json.dumps(d))
PY
curl -sf -X PUT --data-binary @/run/legit2.json "$LEGIT_URL/_fake/data" >/dev/null

check_eq "mallory, hostile environment: getent passwd of an OS Login user is the legitimate one" "$ALICE_LINE" \
	"$(as mallory getent passwd alice_example_com)"
check_eq "mallory, hostile environment: id of an OS Login user" \
	"uid=2000001001(alice_example_com) gid=2000001001(alice_example_com) groups=2000001001(alice_example_com),2000100001(eng),2000100002(ops),4294000000(oslogin-users)" \
	"$(as mallory id alice_example_com)"
# The positive case first: the same commands in the same environment work for alice.
check "alice (adminLogin grant), hostile environment: sudo -n true" as $ALICE_UID sudo -n true
check "alice: sudo -n -l lists the grant" bash -c \
	"$(declare -f as); HENV=(${HENV[*]@Q}); as $ALICE_UID sudo -n -l | grep -q 'NOPASSWD: ALL'"
check_fails_msg "mallory: sudo -n -l is refused" 1 'password is required|may not run sudo|not allowed' as mallory sudo -n -l
check_fails_msg "mallory: sudo -n true is refused" 1 'password is required|not allowed' as mallory sudo -n true
check_fails_msg "mallory: su -c true alice_example_com is refused (no password)" 1 'Authentication failure' \
	as mallory su -c true alice_example_com
check "mallory: sudo -n -l said why (password or not allowed)" bash -c \
	"setpriv --reuid=mallory --regid=mallory --init-groups sudo -n -l 2>&1 </dev/null | grep -Eq 'password is required|may not run sudo|not allowed'"
check_eq "alice: sudo -n -u bob_example_com id: bob's legitimate UID and groups" \
	"uid=2000001002(bob_example_com) gid=2000001002(bob_example_com) groups=2000001002(bob_example_com),2000100001(eng),4294000000(oslogin-users)" \
	"$(as $ALICE_UID sudo -n -u bob_example_com id)"
check_eq "alice: sudo to dave (a miss through accountsd's socket; OSLOGIN_NSS_BYPASS ignored in setuid sudo)" \
	"2000001999" "$(as $ALICE_UID sudo -n -u dave_example_com id -u)"
check_eq "root, hostile environment: su -c 'id -u' alice_example_com" "$ALICE_UID" \
	"$(env "${HENV[@]}" su -c 'id -u' alice_example_com 2>/dev/null </dev/null)"
check_eq "root, hostile environment: su resolves the legitimate shell and home" \
	"/home/alice_example_com /bin/bash" "$(env "${HENV[@]}" su -c 'echo $HOME $SHELL' alice_example_com 2>/dev/null </dev/null)"
# pam_oslogin.so inside setuid sudo and su, with the hostile environment:
# its metadata client must ignore GCE_METADATA_HOST, OSLOGIN_CONFIG and the
# proxies; login and adminLogin are asked of the legitimate server only.
PAM_MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
if [ -f "$PAM_MODULE" ]; then
	sed -i "1i account required $PAM_MODULE" /etc/pam.d/sudo
	sed -i "1i auth [success=done perm_denied=die auth_err=die default=ignore] $PAM_MODULE" /etc/pam.d/su
	curl -sf -X DELETE "$LEGIT_URL/_fake/stats" >/dev/null
	check "alice, hostile environment, pam_oslogin in sudo's account stack: sudo -n true" as $ALICE_UID sudo -n true
	check_eq "… the module asked the legitimate server (profile, login, adminLogin)" 3 "$(stats "$LEGIT_URL")"
	check "… and wrote alice's drop-in from the legitimate adminLogin" test -f /var/lib/oslogin/sudoers.d/alice__example__com
	check "mallory (local), pam_oslogin in sudo's stack: ignored by the module, refused by sudoers" \
		bash -c "setpriv --reuid=mallory --regid=mallory --init-groups sudo -n true 2>&1 </dev/null | grep -q 'password is required'"
	check_fails_msg "mallory: su to an OS Login user with pam_oslogin in su's auth stack: refused" 1 'Authentication failure' \
		as mallory su -c true alice_example_com
	sed -i "1d" /etc/pam.d/sudo /etc/pam.d/su
else
	not_ok "pam_oslogin.so built at $PAM_MODULE"
fi

# The AuthorizedKeysCommand is a client of accountsd's keys.sock, which
# answers root and the AuthorizedKeysCommandUser only: mallory running it
# herself, with every proxy variable, GCE_METADATA_HOST and OSLOGIN_CONFIG
# set, is refused (nothing printed, exit 1, logged). Root running it with
# the same environment gets the legitimate key: the helper reads no
# configuration and talks to no server.
ALICE_KEY=$(cat "$FIXTURES/keys/alice.pub")
HOSTILE_AKC_ENV=(http_proxy="$HOSTILE_URL" HTTP_PROXY="$HOSTILE_URL" https_proxy="$HOSTILE_URL"
	HTTPS_PROXY="$HOSTILE_URL" ALL_PROXY="$HOSTILE_URL" all_proxy="$HOSTILE_URL"
	GCE_METADATA_HOST="$HOSTILE_ADDR" OSLOGIN_CONFIG=/home/mallory/evil.conf)
out=$(setpriv --reuid=mallory --regid=mallory --init-groups env "${HOSTILE_AKC_ENV[@]}" "$AKC" alice_example_com 2>/dev/null)
check_eq "mallory runs the AKC with a hostile environment: keys.sock refuses her, nothing printed, exit 1" "1:" "$?:$out"
check "... and the helper logs the refusal" wait_for 3 grep -q 'user=alice_example_com keys: accountsd refused to answer this caller' $SYSLOG
check_eq "root runs the AKC with the same environment: the legitimate key" "$ALICE_KEY" \
	"$(env "${HOSTILE_AKC_ENV[@]}" "$AKC" alice_example_com 2>/dev/null)"

check_eq "the hostile server received no request" 0 "$(stats "$HOSTILE_URL")"
check "the legitimate server was asked (miss and AKC)" test "$(stats "$LEGIT_URL")" -gt 0
# The zero above can fail: a request straight to the hostile server counts.
curl -sf -H 'Metadata-Flavor: Google' "$HOSTILE_URL/computeMetadata/v1/" >/dev/null
check "control: the hostile server counts the requests it gets" test "$(stats "$HOSTILE_URL")" -gt 0

# The sysusers account, with the environment sshd gives it.
out=$(setpriv --reuid=_oslogin --regid=_oslogin --clear-groups env -i PATH=/usr/bin:/bin LANG=C \
	"$AKC" alice_example_com 2>&1)
check_eq "AKC as _oslogin (AuthorizedKeysCommandUser) with a clean environment: alice's key" "$ALICE_KEY" "$out"
check_eq "_oslogin owns nothing and cannot log in" "/nonexistent:/usr/sbin/nologin" \
	"$(getent passwd _oslogin | cut -d: -f6,7)"

# Unsafe /etc/oslogin/oslogin.conf: accountsd refuses it (at start and on
# SIGHUP), nothing changed; the AKC reads no configuration, so the unsafe
# file cannot steer it either: it answers from the daemon's safe one.
cp -p /etc/oslogin/oslogin.conf /run/good.conf
chmod 0666 /etc/oslogin/oslogin.conf
out=$("$AKC" alice_example_com 2>&1)
check_eq "world-writable /etc/oslogin/oslogin.conf: the AKC ignores it (exit 0, the legitimate key)" "0:$ALICE_KEY" "$?:$out"
sum=$(md5sum /etc/passwd /etc/group /etc/nsswitch.conf /run/oslogin/directory.cache | md5sum)
out=$("$ACCOUNTSD" --once --runtime-dir /run/oslogin-once 2>&1)
rc=$?
check "world-writable config: accountsd refuses to start (exit $rc)" test $rc -ne 0
check "... naming the file and the reason" grep -q 'oslogin.conf: refusing a config file not owned by root or writable by group/others' <<<"$out"
chmod 0644 /etc/oslogin/oslogin.conf
chown mallory /etc/oslogin/oslogin.conf
out=$("$ACCOUNTSD" --once --runtime-dir /run/oslogin-once 2>&1)
rc=$?
check "config owned by mallory: accountsd refuses to start (exit $rc)" bash -c "[ $rc -ne 0 ] && grep -q 'owner $(id -u mallory)' <<<'$out'"
out=$("$AKC" alice_example_com 2>&1)
check_eq "config owned by mallory: the AKC ignores it (exit 0, the legitimate key)" "0:$ALICE_KEY" "$?:$out"
check_eq "refusals changed nothing (/etc/passwd, group, nsswitch.conf, cache)" "$sum" \
	"$(md5sum /etc/passwd /etc/group /etc/nsswitch.conf /run/oslogin/directory.cache | md5sum)"
kill -HUP $DPID
check "the running daemon keeps its configuration on SIGHUP with the unsafe file" \
	wait_for 5 grep -q 'Configuration not reloaded; the previous one stays in effect' $LOG
check "... and keeps answering" getent passwd alice_example_com
cp -p /run/good.conf /etc/oslogin/oslogin.conf

# Hostile directory entries from the legitimate server itself.
resolved=
for u in 0 500 2000005001 2000005002 2000005003 2000005004 2000005005 2000005007 2000005008; do
	line=$(getent passwd $u)
	[ $u -eq 0 ] && [ "${line%%:*}" = root ] && continue # files' root, not ours
	[ -z "$line" ] || resolved="$resolved [$line]"
done
check_eq "UID 0, UID 500, names with ':' '\\n' '..' '-', a 300-character name, bad home/shell: no NSS answer by UID" "" "$resolved"
bad=0
for n in rootish lowuid '..' -dash badhome badshell "$(printf 'x%.0s' $(seq 300))"; do
	getent passwd -- "$n" >/dev/null && bad=$((bad + 1))
	"$CTL" lookup user -- "$n" >/dev/null 2>&1 && bad=$((bad + 1))
done
check_eq "... nor by name (glibc and osloginctl lookup)" 0 $bad
# GECOS is decoration (lib/mds/models.c): an unsafe one is dropped, the user kept.
check_eq "GECOS with ':' from the server: the user resolves with an empty GECOS" \
	"badgecos:*:2000005006:2000005006::/home/x:/bin/bash" "$(getent passwd 2000005006)"
check_eq "the cache holds exactly the valid users" \
	"alice_example_com badgecos bob_example_com carol_example_com" \
	"$(getent passwd | awk -F: '$3 >= 2000000000 {print $1}' | grep -v dave | sort | xargs)"
check "no UID or GID below 1000 from the cache in the enumeration" bash -c \
	"! getent passwd | awk -F: '\$3 < 1000 || \$4 < 1000' | grep -v -F -f <(awk -F: '\$3 < 1000 || \$4 < 1000' /etc/passwd)"
check "a valid group from the same server is an answer (eng)" getent group eng
check_fails "group with GID 0 from the server is not an answer" 2 getent group wheel0
check_fails "group with GID 27 (below the floor) is not an answer" 2 getent group lowgrp
check_eq "alice's groups: none of the hostile ones" "2000001001 2000100001 2000100002 4294000000" "$(id -G alice_example_com)"

# Metadata-keys mode: hostile ssh-keys user names never reach /etc/passwd.
python3 /run/fixture.py "$FIXTURES/basic.json" keys >/run/keys.json
before=$(wc -l </etc/passwd)
cp /etc/passwd /run/passwd.before
curl -sf -X PUT --data-binary @/run/keys.json "$LEGIT_URL/_fake/data" >/dev/null
check "metadata-keys mode: the valid user keyok is created" wait_for 15 grep -q '^keyok:' /etc/passwd
added=$(diff /run/passwd.before /etc/passwd | sed -n 's/^> //p')
check_eq "only keyok added to /etc/passwd (root, daemon, '..', 300 chars, '-rf', '\\', '/' refused)" "keyok" \
	"$(cut -d: -f1 <<<"$added" | xargs)"
check "keyok's UID is at or above 1000" bash -c "[ $(id -u keyok) -ge 1000 ]"
check_eq "root and daemon unchanged" "$(grep -E '^(root|daemon):' /run/passwd.before)" "$(grep -E '^(root|daemon):' /etc/passwd)"
check "keyok's authorized_keys written" bash -c 'test -s "$(getent passwd keyok | cut -d: -f6)/.ssh/authorized_keys"'
check_fails "no authorized_keys for root" 1 test -e /root/.ssh/authorized_keys
check "passwd and group consistent" python3 "$SRC/tests/integration/check-etc.py" /etc

kill -TERM $DPID
wait $DPID
grep -q 'ERROR: AddressSanitizer\|runtime error' $LOG && not_ok "sanitizer reports in the log" "$(grep -m3 -A3 'Sanitizer\|runtime error' $LOG)"
done_testing
