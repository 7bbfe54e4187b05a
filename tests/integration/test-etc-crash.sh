#!/usr/bin/env bash
# kill -9 of oslogin-reconcile at random moments while it applies 1 200
# users to a private tree (and, every other round, removes them again with
# deprovision_remove): after every kill each account file is the old or
# the new version, whole (never torn), shadow-utils' pwck/grpck find
# nothing wrong, and the next run converges to exactly the wanted state.
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/tools/oslogin-reconcile
[ -x "$TOOL" ] || { not_ok "oslogin-reconcile built at $TOOL"; done_testing; }
[ "$(id -u)" -eq 0 ] || { echo "ok 1 - kill -9 test # SKIP need root (chown)"; echo "1..1"; exit 0; }
N=1200 ROUNDS=${OSLOGIN_CRASH_ROUNDS:-24}
WORK=$(mktemp -d /tmp/etc-crash.XXXXXX)
on_exit "rm -rf '$WORK'"
ROOT=$WORK/root
mkdir -p "$ROOT/home" "$ROOT/var/lib"
cp -a /etc "$ROOT/etc"
KEY=$(cut -d' ' -f1-2 "$FIXTURES/keys/alice.pub")
python3 - "$KEY" "$N" "$WORK" <<'PY'
import json, sys
key, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def doc(keys):
    return json.dumps({"instance": {"attributes": {"ssh-keys": "\n".join(keys)}}, "project": {"attributes": {}}})
open(f"{work}/big.json", "w").write(doc([f"u{i:04d}:{key} u{i}" for i in range(n)]))
open(f"{work}/empty.json", "w").write(doc([]))
PY
apply() { "$TOOL" --root "$ROOT" --input "$1" --deprovision-remove --quiet; }

# Every version of a file the writers ever produced is remembered by hash:
# after a kill the file on disk must be one of them.
versions=$WORK/versions
record() { for f in passwd shadow group gshadow; do echo "$f $(md5sum <"$ROOT/etc/$f" | cut -d' ' -f1)"; done >>"$versions"; }
record
# The complete versions: a clean run of each direction, then back to start.
apply "$WORK/big.json" >/dev/null && record
apply "$WORK/empty.json" >/dev/null && record
full_ms=$( { t=$(date +%s%N); apply "$WORK/big.json" >/dev/null; echo $((($(date +%s%N) - t) / 1000000)); } )
record
apply "$WORK/empty.json" >/dev/null && record
diag "one uninterrupted first reconcile of $N users: $full_ms ms"

bad=0 kills=0
for i in $(seq "$ROUNDS"); do
	if [ $((i % 2)) -eq 1 ]; then input=$WORK/big.json; else input=$WORK/empty.json; fi
	apply "$input" >/dev/null 2>&1 &
	p=$!
	# Anywhere in the run, which takes about $full_ms ms.
	sleep "$(python3 -c "import random; print(random.uniform(0, $full_ms / 1000 * 1.1))")"
	kill -9 $p 2>/dev/null && kills=$((kills + 1))
	wait $p 2>/dev/null
	for f in passwd shadow group gshadow; do
		h=$(md5sum <"$ROOT/etc/$f" | cut -d' ' -f1)
		grep -qx "$f $h" "$versions" || { bad=1; diag "kill $i: $f is neither an old nor a new version"; }
	done
	if ! python3 "$SRC/tests/integration/check-etc.py" "$ROOT/etc" >"$WORK/check.out"; then
		bad=1; diag "kill $i: account files disagree"; sed 's/^/#   /' "$WORK/check.out"
	fi
	if ! out=$(pwck -r -q -R "$ROOT" 2>&1) || ! out2=$(grpck -r -R "$ROOT" 2>&1); then
		bad=1; diag "kill $i: pwck/grpck: ${out:-} ${out2:-}"
	fi
	[ $bad -eq 0 ] || break
	# Finish this direction (recording the versions it writes) before the next kill.
	apply "$input" >/dev/null 2>&1 || { bad=1; diag "kill $i: the next run failed"; break; }
	record
done
check_eq "$ROUNDS kill -9 during $N-user reconciles ($kills killed mid-run): files old or new, pwck/grpck clean" 0 "$bad"
apply "$WORK/big.json" >/dev/null
check_eq "a full run afterwards: all $N users" "$N" "$(grep -c '^u[0-9]' "$ROOT/etc/passwd")"
members=$(grep '^google-sudoers:' "$ROOT/etc/group" | cut -d: -f4 | tr ',' '\n' | grep '^u[0-9]')
check_eq "... each exactly once in google-sudoers" "$N $N" "$(echo "$members" | wc -l) $(echo "$members" | sort -u | wc -l)"
check_eq "... with a home and a complete authorized_keys" "$N" \
	"$(grep -l "^$KEY u" "$ROOT"/home/u*/.ssh/authorized_keys 2>/dev/null | wc -l)"
check_fails "no temp files left in etc" bash -c "ls -A '$ROOT/etc' | grep '^\.#'"
check_fails "no half-built home left" bash -c "ls -A '$ROOT/home' | grep '^\.#'"
check "pwck -r clean" pwck -r -q -R "$ROOT"
check "grpck -r clean" grpck -r -R "$ROOT"
done_testing
