#!/usr/bin/env bash
# Names from the OS Login directory are checked against the host before they
# mean anything (issue 13 item 5). In a private namespace with real glibc
# (getent, id), a real sudo and the NSS module where glibc loads it:
# - a directory group named like a local group (sudo), one with a local
#   group's GID under another name (ci = local builders' GID), and a user's
#   self group named like a local group (user "docker") are left out: `id`
#   does not list them and sudo's %sudo/%builders/%docker rules grant nothing;
# - a directory user named like a local user (deploy) or holding a local UID
#   (mallory_example_com = local svc's UID) is not resolved by the module;
# - the same on the miss path (a group and a user added after the build),
#   and the daemon logs each left-out name once, with the reason;
# - the module's second layer: a cache holding local names (written behind
#   the daemon's back) is not believed.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL=$BUILD/osloginctl/osloginctl
MODULE=$MODULES_BUILD/nss_oslogin/libnss_oslogin.so.2
TOOL=$BUILD/tests/tools/oslogin-cache-tool
for f in "$ACCOUNTSD" "$CTL" "$MODULE" "$FAKE" "$TOOL"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
command -v sudo >/dev/null || { echo "ok 1 - # SKIP sudo not installed"; echo "1..1"; exit 0; }
enter_namespace "$@"
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
install_modules "$MODULE"

# The host's own accounts. A local group with a GID in the directory's range
# (an administrator's builders group) and a local user with a UID there.
getent group sudo >/dev/null || groupadd -g 27 sudo
getent group docker >/dev/null || groupadd -r docker
groupadd -g 2000100007 builders
getent passwd deploy >/dev/null || useradd -M -u 1500 -s /bin/sh deploy
useradd -M -u 2000001500 -s /bin/sh svc
SUDO_GID=$(getent group sudo | cut -d: -f3)
cat >/etc/sudoers.d/names-test <<'EOF'
%sudo ALL=(root) NOPASSWD: /bin/echo sudo-rule
%builders ALL=(root) NOPASSWD: /bin/echo builders-rule
%docker ALL=(root) NOPASSWD: /bin/echo docker-rule
%ops ALL=(root) NOPASSWD: /bin/echo ops-rule
%devs ALL=(root) NOPASSWD: /bin/echo devs-rule
EOF
chmod 0440 /etc/sudoers.d/names-test
# A host whose sudoers has no includedir would never read the file.
grep -Eq '^[@#]includedir /etc/sudoers.d' /etc/sudoers || echo '@includedir /etc/sudoers.d' >>/etc/sudoers

# fixture [late] > FILE: basic.json, OS Login on, with the colliding names;
# "late" adds a group and a user that only the miss path sees.
fixture() {
	python3 - "$FIXTURES/basic.json" "$SUDO_GID" "$@" <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1])); sudo_gid = sys.argv[2]; late = "late" in sys.argv[3:]
d["instance"]["attributes"]["enable-oslogin"] = "TRUE"
users = d["oslogin"]["users"]
def user(name, uid, gid=None, email=None):
    u = copy.deepcopy(users[1]); u.pop("twoFactor", None)
    u["name"] = email or name + "@example.com"
    u["posixAccounts"][0].update(username=name, uid=str(uid), gid=str(gid or uid), homeDirectory="/home/" + name)
    u["sshPublicKeys"] = {}
    users.append(u)
user("deploy", 2000001200)               # a local user's name
user("mallory_example_com", 2000001500)  # a local user's UID (svc)
user("docker", 2000001300)               # self group named like the local group docker
groups = d["oslogin"]["groups"]
groups += [
    {"name": "sudo", "gid": "2000100005", "members": ["alice_example_com", "bob_example_com"]},
    {"name": "ci", "gid": "2000100007", "members": ["alice_example_com"]},  # the local builders' GID
    {"name": "sudoers2", "gid": sudo_gid, "members": ["alice_example_com"]},  # local sudo's GID
    {"name": "devs", "gid": "2000100010", "members": ["alice_example_com", "deploy"]},  # a local user's name as a member
]
if late:
    groups.append({"name": "builders", "gid": "2000100009", "members": ["alice_example_com", "erin_example_com"]})
    groups.append({"name": "late-devs", "gid": "2000100011", "members": ["erin_example_com", "svc"]})
    user("erin_example_com", 2000001700)
    user("svc", 2000001800)
print(json.dumps(d))
PY
}
fixture >/run/fixture.json
start_fake /run/fixture.json || { not_ok "fake server starts"; done_testing; }
FCTL=$FAKE_URL/_fake
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[directory]\nnegative_ttl = 60s\nrefresh_interval = 1h\n' \
	"$FAKE_URL" >/etc/oslogin/oslogin.conf
LOG=/run/accountsd.log
"$ACCOUNTSD" >>$LOG 2>&1 &
DPID=$!
_cleanup_pids+=($DPID)
check "cache built at start" wait_for 15 test -s /run/oslogin/directory.cache
check "nsswitch has oslogin" grep -Eq '^group:.*oslogin' /etc/nsswitch.conf

# --- groups
ids=$(id alice_example_com)
diag "id alice_example_com: $ids"
check "id alice: a control directory group (ops) is listed" grep -q '2000100002(ops)' <<<"$ids"
check_fails "id alice: no group named sudo" 1 grep -Eq '\(sudo\)' <<<"$ids"
check_fails "id alice: not in the local builders group (directory ci has its GID)" 1 grep -Eq '\(builders\)|2000100007' <<<"$ids"
check_fails "id alice: the directory sudo's GID is not listed" 1 grep -q 2000100005 <<<"$ids"
check_eq "getent group sudo is the local one, without directory members" "$(grep '^sudo:' /etc/group)" \
	"$(getent group sudo)"
check_eq "getent group 2000100005 (directory sudo): nothing" "" "$(getent group 2000100005)"
check_eq "getent group 2000100007 is the local builders, without directory members" "builders:x:2000100007:" \
	"$(getent group 2000100007)"
check_eq "the module alone does not answer group sudo" "" "$(getent -s oslogin group sudo)"
check_eq "the module alone does not answer the local builders' GID" "" "$(getent -s oslogin group 2000100007)"
check_eq "the module alone does not answer group ci" "" "$(getent -s oslogin group ci)"
check_eq "the directory group with local sudo's GID is not there" "" "$(getent -s oslogin group sudoers2)"
ids=$(id docker)
diag "id docker: $ids"
check "id docker: the directory user docker resolves" grep -q '^uid=2000001300(docker)' <<<"$ids"
check_fails "id docker: its self group named docker is not listed" 1 grep -q '(docker)' <<<"${ids#uid=2000001300(docker)}"
check_eq "getent group 2000001300 (self group docker): nothing" "" "$(getent group 2000001300)"
check_eq "getent group docker is the local one" "$(grep '^docker:' /etc/group)" "$(getent group docker)"

# --- sudo: -l -U as root lists what each user may run; -n as the user runs it
out=$(sudo -n -l -U alice_example_com 2>&1)
diag "sudo -l -U alice_example_com: $(tr '\n' ' ' <<<"$out")"
check "sudo -l -U alice: the control rule (%ops) applies" grep -q 'ops-rule' <<<"$out"
check_fails "sudo -l -U alice: %sudo grants nothing" 1 grep -q 'sudo-rule' <<<"$out"
check_fails "sudo -l -U alice: %builders grants nothing" 1 grep -q 'builders-rule' <<<"$out"
out=$(sudo -n -l -U docker 2>&1)
check "sudo -l -U docker answers for the directory user docker" grep -q 'docker' <<<"$out"
check_fails "sudo -l -U docker: %docker grants nothing" 1 grep -q 'docker-rule' <<<"$out"
as_alice() { setpriv --reuid=2000001001 --regid=2000001001 --init-groups "$@"; }
out=$(as_alice sudo -n /bin/echo ops-rule 2>&1)
if [ "$out" = ops-rule ]; then
	ok "alice runs the control rule with sudo -n"
	out=$(as_alice sudo -n /bin/echo sudo-rule 2>&1)
	check "sudo -n as alice: the %sudo rule is refused (\"$out\")" \
		bash -c "[ '$out' != sudo-rule ] && grep -Eq 'password is required|not allowed' <<<'$out'"
	out=$(as_alice sudo -n /bin/echo builders-rule 2>&1)
	check "sudo -n as alice: the %builders rule is refused (\"$out\")" \
		bash -c "[ '$out' != builders-rule ] && grep -Eq 'password is required|not allowed' <<<'$out'"
else
	skip "sudo -n as alice" "the control rule did not run either: $out"
fi

# --- users
check_eq "getent passwd deploy is the local user" "$(grep '^deploy:' /etc/passwd)" "$(getent passwd deploy)"
check_eq "the module alone does not answer deploy" "" "$(getent -s oslogin passwd deploy)"
check_eq "getent passwd 2000001200 (directory deploy's UID): nothing" "" "$(getent passwd 2000001200)"
check_eq "getent group 2000001200 (directory deploy's self group): nothing" "" "$(getent group 2000001200)"
check_eq "getent passwd mallory_example_com (a local UID): nothing" "" "$(getent passwd mallory_example_com)"
check_eq "getent passwd 2000001500 is the local svc" "svc" "$(getent passwd 2000001500 | cut -d: -f1)"
check_eq "the module alone does not answer svc's UID" "" "$(getent -s oslogin passwd 2000001500)"

# --- a local user's name in a directory member list (meant for the directory deploy)
check_eq "getent group devs lists alice, not the local deploy" "devs:*:2000100010:alice_example_com" "$(getent group devs)"
check "id deploy answers: the local deploy" grep -Eq '^uid=[0-9]+\(deploy\)' <<<"$(id deploy)"
check_fails "id deploy: not in the directory group devs" 1 grep -Eq 'devs|2000100010' <<<"$(id deploy)"
check "sudo -l -U alice: %devs applies to the directory user (control)" grep -q 'devs-rule' <<<"$(sudo -n -l -U alice_example_com 2>&1)"
out=$(sudo -n -l -U deploy 2>&1)
check "sudo -l -U deploy answers for the local deploy" grep -q 'deploy' <<<"$out"
check_fails "sudo -l -U deploy: %devs grants nothing" 1 grep -q 'devs-rule' <<<"$out"
check_eq "log names the member once" 1 "$(grep -c 'Directory group member "deploy" left out of every group: a local user has that name' $LOG)"

# --- the daemon's own answers (nss.sock), and its log
for q in "user deploy" "user 2000001200" "user mallory_example_com" "group sudo" "group 2000100005" \
	"group ci" "group 2000100007" "group 2000001300"; do
	"$CTL" lookup $q >/dev/null 2>&1
	check_eq "osloginctl lookup $q: not found (exit 3)" 3 $?
done
check_eq "osloginctl lookup user alice_example_com still answers" "alice_example_com" \
	"$("$CTL" lookup user alice_example_com | cut -d: -f1)"
status=$("$CTL" status)
check "build summary counts the left-out names" grep -Eq '^directory-last-build: .*, 5 local, [0-9]+ skipped$' <<<"$status"
for what in 'group "sudo"' 'group "ci"' 'group "docker"' 'user "deploy"' 'user "mallory_example_com"' \
	'group "sudoers2"'; do
	n=$(grep -c "Directory $what .*left out" $LOG)
	# sudoers2 has local sudo's GID (27), below the UID floor: the parser drops it before the check.
	if [ "$what" = 'group "sudoers2"' ]; then
		check_eq "log: $what is dropped below the floor, not reported as local" 0 "$n"
	else
		check_eq "log names $what once, with the reason" 1 "$n"
	fi
done
check "log gives the reason (a local group has that name)" grep -q 'group "sudo" (GID 2000100005) left out: a local group has that name' $LOG
check "log gives the reason (a local user has that UID)" grep -q 'user "mallory_example_com" (UID 2000001500) left out: a local user has that UID' $LOG
before=$(grep -c 'left out:' $LOG)
"$CTL" refresh >/dev/null
n=$(grep -c 'left out:' $LOG)
check_eq "a second build logs each left-out name once more (5 lines)" $((before + 5)) "$n"
[ "$n" = $((before + 5)) ] || grep 'left out:' $LOG | sed 's/^/# /' 

# --- the miss path: a group named like a local one, and users, added after the build
fixture late >/run/fixture.json
curl -sf -X PUT --data-binary @/run/fixture.json "$FCTL/data" >/dev/null
check_eq "miss: erin_example_com resolves" "erin_example_com" "$(getent passwd erin_example_com | cut -d: -f1)"
ids=$(id erin_example_com)
diag "id erin_example_com: $ids"
check "miss: id erin_example_com answers" grep -q '^uid=[0-9]*(erin_example_com)' <<<"$ids"
check_fails "miss: initgroups of erin lists no directory group named builders" 1 grep -Eq '2000100009|\(builders\)' <<<"$ids"
check_eq "miss: the module alone does not answer the directory group builders" "" "$(getent -s oslogin group builders)"
check_eq "miss: getent group 2000100009 (directory builders): nothing" "" "$(getent group 2000100009)"
"$CTL" lookup group 2000100009 >/dev/null 2>&1
check_eq "miss: the daemon answers not found for the directory builders" 3 $?
"$CTL" lookup user svc >/dev/null 2>&1
check_eq "miss: the daemon answers not found for a directory user named svc" 3 $?
check_eq "miss: the module alone does not answer svc" "" "$(getent -s oslogin passwd svc)"
check_eq "miss: getent passwd 2000001800 (directory svc): nothing" "" "$(getent passwd 2000001800)"
check "miss: the log names the directory group builders" grep -q 'group "builders" (GID 2000100009) left out: a local group has that name' $LOG
check_eq "miss: a group's member list loses the local svc" "late-devs:*:2000100011:erin_example_com" \
	"$(getent group late-devs)"
check "miss: the log names the directory user svc" grep -q 'user "svc" (UID 2000001800) left out: a local user has that name' $LOG
kill -TERM $DPID
wait $DPID

# --- the module's second layer: a cache with local names, written behind the daemon's back
{
	printf 'user\tdeploy\t2000001200\t2000001200\t\t/home/deploy\t/bin/sh\n'
	printf 'user\tmallory_example_com\t2000001500\t2000001500\t\t/home/m\t/bin/sh\n'
	printf 'user\tzed_example_com\t2000001600\t2000001600\t\t/home/zed\t/bin/sh\n'
	printf 'group\tsudo\t2000100005\tzed_example_com\n'
	printf 'group\tci\t2000100007\tzed_example_com\n'
	printf 'group\tfine\t2000100008\tzed_example_com\n'
} | "$TOOL" build /run/oslogin/directory.cache
check_eq "layer 2: getpwnam of a local user's name: the local one" "$(grep '^deploy:' /etc/passwd)" "$(getent passwd deploy)"
check_eq "layer 2: getpwuid of the cached deploy: nothing" "" "$(getent passwd 2000001200)"
check_eq "layer 2: getpwnam of a user with a local UID: nothing" "" "$(getent passwd mallory_example_com)"
check_eq "layer 2: getgrgid of a cached group named sudo: nothing" "" "$(getent group 2000100005)"
check_eq "layer 2: getgrnam ci (local builders' GID): nothing" "" "$(getent -s oslogin group ci)"
check_eq "layer 2: id lists only the group that is not local" \
	"uid=2000001600(zed_example_com) gid=2000001600 groups=2000001600,2000100008(fine)" "$(id zed_example_com)"
check_eq "layer 2: enumeration skips local names" "fine zed_example_com" \
	"$( (getent -s oslogin passwd; getent -s oslogin group) | cut -d: -f1 | sort | tr '\n' ' ' | sed 's/ $//')"
# A group made local later is left out too.
echo "late-local:x:2000100008:" >>/etc/group
check_eq "layer 2: a group made local afterwards is no longer answered" "" "$(getent -s oslogin group fine)"

grep -q 'ERROR: AddressSanitizer\|runtime error' $LOG && not_ok "sanitizer reports in the log" "$(grep -m3 -A3 'Sanitizer\|runtime error' $LOG)"
done_testing
