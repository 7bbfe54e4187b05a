#!/usr/bin/env bash
# Fault matrix (issue 7): every metadata-server fault the fake can inject,
# against every consumer, one TAP line per (fault x consumer) with the time
# it took and the bound it must hold:
#   akc   oslogin-authorized-keys USER (a client of accountsd's keys.sock):
#         answers within the daemon's deadline, prints nothing and exits 1
#         (no authoritative answer), one decision line in the daemon's log
#         per call;
#   nss   getent through glibc and libnss_oslogin.so.2 of a user the cache
#         does not hold (a miss through accountsd): returns within
#         nss_timeout plus a margin, fails closed, never a wrong user;
#   keys  accountsd reconciling metadata ssh-keys: keeps running, /etc/passwd,
#         group, shadow, gshadow and authorized_keys unchanged byte for byte,
#         a bounded number of log lines and of requests in the fault window;
#   dir   accountsd rebuilding the OS Login directory (osloginctl refresh):
#         answers within the metadata timeout plus a margin, keeps running,
#         /etc and the cache file unchanged, bounded log lines.
#   pam   pam_oslogin.so's account stack (pamtester) for an OS Login admin:
#         refused within the metadata timeout, sudoers drop-ins unchanged.
# Deadlines are short (1 s) through the config file so the whole matrix runs
# in about two minutes. A compact matrix is printed as '#' lines at the end.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
CTL=$BUILD/osloginctl/osloginctl
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
MODULE=$MODULES_BUILD/nss_oslogin/libnss_oslogin.so.2
for f in "$ACCOUNTSD" "$CTL" "$AKC" "$MODULE" "$FAKE"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
enter_namespace "$@"
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
install_modules "$MODULE"
SYSLOG=/run/fault-syslog.log
capture_syslog "$SYSLOG" || not_ok "syslog capture"

# Bounds (ms). Deadlines are 1 s; the margins are for a loaded 2-core machine.
AKC_BOUND=1700     # [authorized_keys] deadline 1 s
NSS_BOUND=1500     # [directory] nss_timeout 1 s
DIR_BOUND=2500     # [metadata] timeout 1 s: a failing build stops at its first failed request
LOG_BOUND=6        # daemon log lines in one fault window
REQ_BOUND=60       # metadata requests in one keys window (the AKC's retries included): no busy loop
WINDOW_MS=2500     # how long the daemon is left alone with each fault

# fixture MODE > FILE: basic.json, enable-oslogin on or off, optionally with
#   extras: users late01..late20 (not in the cache when it was built) and group late_grp;
#   loop:   extras, and page tokens that never end;
#   dups:   extras, alice twice (the copy with another UID), mallory with alice's UID,
#           and in ssh-keys every line twice.
fixture() {
	python3 - "$FIXTURES/basic.json" "$@" <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
oslogin, what = sys.argv[2] == "oslogin", sys.argv[3:]
d["instance"]["attributes"]["enable-oslogin"] = "TRUE" if oslogin else "FALSE"
d["project"]["attributes"]["enable-oslogin"] = "FALSE"
users = d["oslogin"]["users"]
def clone(name, uid):
    u = copy.deepcopy(users[0])
    u["name"] = name + "@example.com"
    u["posixAccounts"][0].update(username=name + "_example_com", uid=str(uid), gid=str(uid),
                                 homeDirectory="/home/" + name + "_example_com")
    return u
if what:
    for i in range(1, 21):
        users.append(clone("late%02d" % i, 2000002000 + i))
    d["oslogin"]["groups"].append({"name": "late_grp", "gid": "2000100009", "members": ["late01_example_com"]})
if "loop" in what:
    d["oslogin"]["loopPageTokens"] = True
if "dups" in what:
    twin = copy.deepcopy(users[0])
    twin["posixAccounts"][0].update(uid="2000001990", gid="2000001990")
    users.append(twin)
    m = clone("mallory", 2000001001)
    users.append(m)
    keys = d["instance"]["attributes"]["ssh-keys"]
    d["instance"]["attributes"]["ssh-keys"] = keys + "\n" + keys
print(json.dumps(d))
PY
}
fixture keys >/run/base-keys.json
fixture keys extras >/run/extras-keys.json
fixture keys dups >/run/dups-keys.json
fixture keys loop >/run/loop-keys.json
fixture oslogin >/run/base-oslogin.json
fixture oslogin extras >/run/extras-oslogin.json
fixture oslogin dups >/run/dups-oslogin.json
fixture oslogin loop >/run/loop-oslogin.json

start_fake /run/base-keys.json || { not_ok "fake server starts"; done_testing; }
FCTL=$FAKE_URL/_fake
mkdir -p /etc/oslogin
cat >/etc/oslogin/oslogin.conf <<CONF
[metadata]
url = $FAKE_URL/computeMetadata/v1/
timeout = 1s
connect_timeout = 500ms
[authorized_keys]
deadline = 1s
[directory]
nss_timeout = 1s
negative_ttl = 1s
refresh_interval = 1h
[broker]
# No answer shared between calls: every call of the key helper and of the
# PAM module meets the fault of its window.
answer_ttl = 0
CONF
chmod 0644 /etc/oslogin/oslogin.conf

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
put_data() { curl -sf -X PUT --data-binary @"$1" "$FCTL/data" >/dev/null; }
set_fault() { curl -sf -X PUT --data "$1" "$FCTL/faults" >/dev/null; }
clear_faults() { curl -sf -X DELETE "$FCTL/faults" >/dev/null; }
requests() { curl -sf "$FCTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
lines() { wc -l <"$1" | tr -d ' '; }
# The files a fault must never change.
KEY_FILES="/etc/passwd /etc/group /etc/shadow /etc/gshadow"
digest() { sha256sum $KEY_FILES /home/*/.ssh/authorized_keys "$@" 2>/dev/null | sha256sum | cut -c1-16; }

LOG=/run/accountsd.log
: >$LOG
start_daemon() {
	"$ACCOUNTSD" >>$LOG 2>&1 &
	DPID=$!
	_cleanup_pids+=($DPID)
}

# Faults: name, then the /_fake/faults JSON ("-" for the special cases).
FAULTS=(
	"refused|-"
	"blackhole|{\"blackhole\":true}"
	"slow 3s|{\"delay_ms\":3000}"
	"500 burst|{\"status\":500}"
	"503 burst|{\"status\":503}"
	"429 burst|{\"status\":429}"
	"403|{\"status\":403}"
	"404|{\"status\":404}"
	"non-JSON 200|{\"body\":\"nonjson\"}"
	"truncated|{\"body\":\"truncated\"}"
	"oversized 2M|{\"body\":\"oversized\"}"
	"no flavor|{\"no_flavor\":true}"
	"wrong types|{\"body\":\"wrongtypes\"}"
	"page loop|-"
	"duplicates|-"
)
declare -A CELL # "fault|consumer" -> "ok 123ms" / "FAIL 123ms"
cell() { CELL["$1|$2"]="$3"; }

# fault_on NAME JSON MODE: injects the fault; MODE keys|oslogin picks the data fixtures.
fault_on() {
	case "$1" in
	refused)
		curl -sf "$FCTL/data" >/run/saved-data.json
		kill "$FAKE_PID"
		wait "$FAKE_PID" 2>/dev/null
		;;
	"page loop") put_data /run/loop-$3.json ;;
	duplicates) put_data /run/dups-$3.json ;;
	*) set_fault "$2" ;;
	esac
}
fault_off() {
	case "$1" in
	refused) start_fake /run/saved-data.json "$FAKE_ADDR" || not_ok "fake restarts"; FCTL=$FAKE_URL/_fake ;;
	*) clear_faults ;;
	esac
}
# Back to a known state: faults cleared, the metadata reachable, the breaker closed.
# A changed document wakes the watch's long-poll (and its success closes the
# breaker); refresh kicks a watch that is backing off.
settle() {
	curl -sf -X PUT --data "s$RANDOM" "$FCTL/attributes/instance/unrelated" >/dev/null
	"$CTL" refresh >/dev/null 2>&1
	wait_for 10 bash -c "'$CTL' status | grep -q '^metadata: reachable' && '$CTL' status | grep -q '^breaker: closed'" ||
		diag "daemon did not settle: $("$CTL" status | grep -E '^(metadata|breaker)' | xargs)"
}

# ---------------------------------------------------------------------------
# Phase 1: metadata ssh-keys mode. Consumers: akc, keys.
start_daemon
check "accountsd up in metadata-keys mode, dave created" wait_for 15 getent passwd dave
ALICE_KEY=$(cat "$FIXTURES/keys/alice.pub")
OUT=$("$AKC" alice_example_com 2>/dev/null)
check_eq "akc before the faults: alice's key" "$ALICE_KEY" "$OUT"
settle

for entry in "${FAULTS[@]}"; do
	name=${entry%%|*} json=${entry#*|}
	before=$(digest)
	log0=$(lines $LOG)
	sys0=$(grep -c 'keys user=alice_example_com .*decision=' "$LOG")
	[ "$name" != refused ] && curl -sf -X DELETE "$FCTL/stats" >/dev/null
	t_fault=$(date +%s%N)
	fault_on "$name" "$json" keys

	# (a) the AuthorizedKeysCommand
	t0=$(date +%s%N)
	OUT=$("$AKC" alice_example_com 2>/dev/null)
	rc=$?
	ms=$(ms_since "$t0")
	sleep 0.1
	audits=$(($(grep -c 'keys user=alice_example_com .*decision=' "$LOG") - sys0))
	if [ "$name" = "page loop" ] || [ "$name" = duplicates ]; then
		want=$ALICE_KEY what="alice's key only (no paging / one profile per name)" want_rc=0
	elif [ "$name" = 404 ]; then
		want="" what="nothing printed (no such OS Login user)" want_rc=0
	else
		want="" what="nothing printed" want_rc=1
	fi
	if [ "$rc" = "$want_rc" ] && [ "$OUT" = "$want" ] && [ "$ms" -le $AKC_BOUND ] && [ "$audits" = 1 ]; then
		ok "akc x $name: $what, exit $rc, 1 audit line, $ms ms <= $AKC_BOUND"
		cell "$name" akc "ok ${ms}ms"
	else
		not_ok "akc x $name: rc=$rc, $ms ms (bound $AKC_BOUND), $audits audit lines" "output: ${OUT:0:120}"
		cell "$name" akc "FAIL ${ms}ms"
	fi

	# (c1) the ssh-keys reconcile: wake the long-poll so the next fetch meets the fault.
	if [ "$name" != refused ]; then
		curl -sf -X PUT --data "x$RANDOM" "$FCTL/attributes/instance/unrelated" >/dev/null
	fi
	"$CTL" refresh >/dev/null 2>&1
	left=$((WINDOW_MS - $(ms_since "$t_fault")))
	[ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
	win=$(ms_since "$t_fault")
	reqs=0
	[ "$name" != refused ] && reqs=$(requests)
	nlog=$(($(lines $LOG) - log0))
	after=$(digest)
	if kill -0 $DPID 2>/dev/null && [ "$before" = "$after" ] && [ "$nlog" -le $LOG_BOUND ] && [ "$reqs" -le $REQ_BOUND ]; then
		ok "keys x $name: daemon running, /etc and keys unchanged, $nlog log lines <= $LOG_BOUND, $reqs requests in $win ms"
		cell "$name" keys "ok ${nlog}L/${reqs}r"
	else
		not_ok "keys x $name: alive=$(kill -0 $DPID 2>/dev/null && echo yes || echo no), files $before -> $after, $nlog log lines, $reqs requests in $win ms" \
			"$(tail -n +$((log0 + 1)) $LOG | head -8)"
		cell "$name" keys "FAIL ${nlog}L/${reqs}r"
	fi
	fault_off "$name"
	[ "$name" = "page loop" ] || [ "$name" = duplicates ] && put_data /run/base-keys.json
	settle
done

# ---------------------------------------------------------------------------
# Phase 2: OS Login mode. Consumers: nss, dir.
put_data /run/base-oslogin.json
check "enable-oslogin=TRUE: nsswitch has oslogin" wait_for 15 grep -Eq '^passwd:.*oslogin' /etc/nsswitch.conf
check "directory cache built" wait_for 15 bash -c "'$CTL' status | grep -q '^cache-users: 3$'"
check_eq "alice resolves from the cache" "alice_example_com:*:2000001001" "$(getent passwd alice_example_com | cut -d: -f1-3)"
settle

i=0
for entry in "${FAULTS[@]}"; do
	name=${entry%%|*} json=${entry#*|}
	i=$((i + 1))
	user=$(printf 'late%02d_example_com' $i)
	put_data /run/extras-oslogin.json # users that exist in the metadata but not in the cache
	before=$(digest /run/oslogin/directory.cache)
	etc_before=$(digest)
	log0=$(lines $LOG)
	fault_on "$name" "$json" oslogin

	# (b) a miss through glibc
	t0=$(date +%s%N)
	case "$name" in
	"page loop") OUT=$(getent group late_grp) ;;      # members come in pages
	duplicates) OUT=$(getent passwd mallory_example_com) ;; # alice's UID under another name
	*) OUT=$(getent passwd "$user") ;;
	esac
	rc=$?
	ms=$(ms_since "$t0")
	case "$name" in
	"page loop") what="getent group late_grp (paged members)" ;;
	duplicates) what="getent passwd mallory (alice's UID)" ;;
	*) what="getent passwd $user" ;;
	esac
	by_uid=$(getent passwd 2000001001 | cut -d: -f1)
	if [ "$rc" -eq 2 ] && [ -z "$OUT" ] && [ "$ms" -le $NSS_BOUND ] && [ "$by_uid" = alice_example_com ]; then
		ok "nss x $name: $what fails closed (getent exit $rc: not found), $ms ms <= $NSS_BOUND"
		cell "$name" nss "ok ${ms}ms"
	else
		not_ok "nss x $name: $what: rc=$rc, $ms ms (bound $NSS_BOUND), uid 2000001001 is '$by_uid'" "output: ${OUT:0:120}"
		cell "$name" nss "FAIL ${ms}ms"
	fi

	# (c2) a directory rebuild
	t0=$(date +%s%N)
	"$CTL" refresh >/run/refresh.out 2>&1
	rc=$?
	ms=$(ms_since "$t0")
	sleep 0.3
	nlog=$(($(lines $LOG) - log0))
	after=$(digest /run/oslogin/directory.cache)
	alive=$(kill -0 $DPID 2>/dev/null && echo yes || echo no)
	if [ "$name" = duplicates ]; then
		# The data is valid apart from the duplicates: the build succeeds, the first of each wins.
		st=$("$CTL" status)
		skipped=$(sed -n 's/^directory-last-build: .* \([0-9]*\) skipped$/\1/p' <<<"$st")
		if [ "$rc" = 0 ] && [ "$alive" = yes ] && [ "$ms" -le $DIR_BOUND ] && [ "$nlog" -le $LOG_BOUND ] &&
			[ "$(getent passwd alice_example_com | cut -d: -f3)" = 2000001001 ] &&
			[ "$(getent passwd 2000001001 | cut -d: -f1)" = alice_example_com ] &&
			! getent passwd mallory_example_com >/dev/null && [ "${skipped:-0}" -ge 2 ] &&
			[ "$(digest)" = "$etc_before" ]; then
			ok "dir x $name: build ok in $ms ms, first of each name/UID wins ($skipped skipped), mallory absent, $nlog log lines"
			cell "$name" dir "ok ${ms}ms"
		else
			not_ok "dir x $name: rc=$rc, $ms ms, alive=$alive, $nlog log lines, skipped=$skipped" \
				"$(cat /run/refresh.out)" "$(getent passwd alice_example_com 2000001001 mallory_example_com)"
			cell "$name" dir "FAIL ${ms}ms"
		fi
	elif [ "$rc" -eq 1 ] && [ "$alive" = yes ] && [ "$ms" -le $DIR_BOUND ] && [ "$before" = "$after" ] &&
		[ "$nlog" -le $LOG_BOUND ] && tail -n +$((log0 + 1)) $LOG | grep -q 'Directory build failed; the previous cache stays'; then
		ok "dir x $name: refresh fails (exit 1) in $ms ms <= $DIR_BOUND, daemon running, /etc and cache unchanged, failure logged, $nlog log lines <= $LOG_BOUND"
		cell "$name" dir "ok ${ms}ms"
	else
		not_ok "dir x $name: rc=$rc, $ms ms (bound $DIR_BOUND), alive=$alive, files $before -> $after, $nlog log lines" \
			"$(cat /run/refresh.out)" "$(tail -n +$((log0 + 1)) $LOG | head -8)"
		cell "$name" dir "FAIL ${ms}ms"
	fi
	fault_off "$name"
	put_data /run/base-oslogin.json
	settle
done

# ---------------------------------------------------------------------------
# Phase 3: pam_oslogin.so (account stack, loaded by libpam through pamtester)
# for alice, an OS Login admin resolved from the cache: every fault refuses
# her within the 1 s metadata timeout (PAM_AUTHINFO_UNAVAIL; a 404 profile:
# PAM_USER_UNKNOWN) and leaves the sudoers drop-ins as they were. Page loops
# do not concern the module (it asks one profile); duplicates: the profile
# must still carry the UID NSS resolves, else the login is refused.
PAM_MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
PAM_BOUND=1700
if [ -f "$PAM_MODULE" ] && command -v pamtester >/dev/null; then
	printf 'account required %s\naccount required pam_permit.so\n' "$PAM_MODULE" >/etc/pam.d/oslogin-matrix
	pam_out() { pamtester oslogin-matrix alice_example_com acct_mgmt 2>&1 | tail -1; }
	check_eq "pam: alice granted with the server healthy" "pamtester: account management done." "$(pam_out)"
	sudo_digest() { sha256sum /var/lib/oslogin/sudoers.d/* /etc/sudoers.d/oslogin 2>/dev/null | sha256sum | cut -c1-16; }
	check "pam: alice's sudoers drop-in written" test -f /var/lib/oslogin/sudoers.d/alice__example__com
	for entry in "${FAULTS[@]}"; do
		name=${entry%%|*} json=${entry#*|}
		before=$(sudo_digest)
		fault_on "$name" "$json" oslogin
		t0=$(date +%s%N)
		OUT=$(pam_out)
		ms=$(ms_since "$t0")
		case "$name" in
		"page loop") want="pamtester: account management done." ;;
		duplicates) want="pamtester: account management done.|pamtester: Permission denied" ;;
		404) want="pamtester: User not known to the underlying authentication module" ;;
		*) want="pamtester: Authentication service cannot retrieve authentication info" ;;
		esac
		after=$(sudo_digest)
		if [[ "|$want|" == *"|$OUT|"* ]] && [ "$ms" -le $PAM_BOUND ] && [ "$before" = "$after" ]; then
			ok "pam x $name: ${OUT#pamtester: } in $ms ms <= $PAM_BOUND, sudoers unchanged"
			cell "$name" pam "ok ${ms}ms"
		else
			not_ok "pam x $name: '$OUT' in $ms ms (bound $PAM_BOUND), sudoers $before -> $after" "wanted: $want"
			cell "$name" pam "FAIL ${ms}ms"
		fi
		fault_off "$name"
		put_data /run/base-oslogin.json
	done
	rm -f /etc/pam.d/oslogin-matrix
else
	not_ok "pam_oslogin.so built at $PAM_MODULE and pamtester installed"
fi

diag "fault matrix (akc/nss: time; keys: log lines/requests in ${WINDOW_MS} ms; dir: refresh time)"
diag "$(printf '%-14s %-13s %-13s %-15s %-13s %s' fault akc nss keys dir pam)"
for entry in "${FAULTS[@]}"; do
	name=${entry%%|*}
	diag "$(printf '%-14s %-13s %-13s %-15s %-13s %s' "$name" "${CELL[$name|akc]:--}" "${CELL[$name|nss]:--}" \
		"${CELL[$name|keys]:--}" "${CELL[$name|dir]:--}" "${CELL[$name|pam]:--}")"
done
done_testing
