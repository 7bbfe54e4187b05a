#!/usr/bin/env bash
# kill -9 of oslogin-reconcile at random moments while it applies 1 000
# users to a private tree (and, every other round, removes them again with
# deprovision_remove): after every kill each account file is the old or
# the new version, whole (never torn), replaced in the commit's order;
# shadow-utils' pwck/grpck find nothing wrong unless the kill landed
# between two of the back-to-back renames (four files cannot be replaced
# as one; shadow-utils and systemd-sysusers have the same window), and
# then the next run repairs it. At the end the state is exactly the wanted
# one.
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/tools/oslogin-reconcile
[ -x "$TOOL" ] || { not_ok "oslogin-reconcile built at $TOOL"; done_testing; }
[ "$(id -u)" -eq 0 ] || { echo "ok 1 - kill -9 test # SKIP need root (chown)"; echo "1..1"; exit 0; }
N=1000 ROUNDS=${OSLOGIN_CRASH_ROUNDS:-20}
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

# The complete versions of each direction, and how long each run takes:
# creating with homes, removing, re-creating over surviving homes.
timed() { local t; t=$(date +%s%N); apply "$1" >/dev/null; echo $((($(date +%s%N) - t) / 1000000)); }
create_ms=$(timed "$WORK/big.json")
remove_ms=$(timed "$WORK/empty.json")
recreate_ms=$(timed "$WORK/big.json")
apply "$WORK/empty.json" >/dev/null
diag "uninterrupted runs, $N users: create $create_ms ms, remove $remove_ms ms, re-create $recreate_ms ms"

# The four files in the order the commit renames them.
state() { for f in gshadow group shadow passwd; do md5sum <"$ROOT/etc/$f" | cut -c1-32; done | xargs; }
clean() { pwck -r -q -R "$ROOT" >"$WORK/pwck.out" 2>&1 && grpck -r -R "$ROOT" >>"$WORK/pwck.out" 2>&1 &&
	python3 "$SRC/tests/integration/check-etc.py" "$ROOT/etc" >>"$WORK/pwck.out"; }
# CUR must be PREV with a prefix of the files replaced by NEXT's: every
# file old or new, and renamed in the commit's order. Prints the number
# of files that were new (0..4).
prefix_new() {
	local -a prev=($1) cur=($2) next=($3)
	local k=0
	while [ $k -lt 4 ] && [ "${cur[$k]}" = "${next[$k]}" ]; do k=$((k + 1)); done
	local j
	for ((j = k; j < 4; j++)); do [ "${cur[$j]}" = "${prev[$j]}" ] || { echo bad; return; }; done
	# Files the commit did not change are both old and new: count them as new.
	for ((j = 0; j < 4; j++)); do [ "${prev[$j]}" = "${next[$j]}" ] && [ $j -ge $k ] && k=$((j + 1)); done
	echo $k
}

bad=0 kills=0 window=0
for i in $(seq "$ROUNDS"); do
	# Rounds: create with fresh homes, remove, re-create over the homes, remove.
	case $((i % 4)) in
	1) input=$WORK/big.json ms=$create_ms; rm -rf "$ROOT"/home/* ;;
	3) input=$WORK/big.json ms=$recreate_ms ;;
	*) input=$WORK/empty.json ms=$remove_ms ;;
	esac
	prev=$(state)
	# The tool itself in the background (not a shell function: kill -9
	# must hit the writer, not a subshell that leaves it running).
	"$TOOL" --root "$ROOT" --input "$input" --deprovision-remove --quiet >/dev/null 2>&1 &
	p=$!
	# Anywhere in the run, which takes about $ms ms.
	sleep "$(awk -v ms="$ms" -v seed="$RANDOM" 'BEGIN { srand(seed); printf "%.3f", rand() * ms / 1000 }')"
	kill -9 $p 2>/dev/null && kills=$((kills + 1))
	wait $p 2>/dev/null
	cur=$(state)
	clean; was_clean=$?
	# Finish this direction; its result is the "new" version of each file.
	apply "$input" >/dev/null 2>&1 || { bad=1; diag "kill $i: the next run failed"; break; }
	next=$(state)
	k=$(prefix_new "$prev" "$cur" "$next")
	if [ "$k" = bad ]; then
		bad=1; diag "kill $i: a file is neither its old nor its new version (torn or out of order)"; break
	fi
	if [ "$k" -gt 0 ] && [ "$k" -lt 4 ] && [ "$prev" != "$next" ]; then
		# Killed between two renames: each file whole, the set mixed until
		# the next run, which must repair it.
		window=$((window + 1)); diag "kill $i landed between renames ($k of 4 files new)"
		clean || { bad=1; diag "kill $i: still inconsistent after the next run"; sed 's/^/#   /' "$WORK/pwck.out"; break; }
	elif [ $was_clean -ne 0 ]; then
		bad=1; diag "kill $i: pwck/grpck/check-etc complain"; head -20 "$WORK/pwck.out" | sed 's/^/#   /'; break
	fi
done
diag "$kills of $ROUNDS runs killed mid-run; $window kills between renames"
check_eq "$ROUNDS kill -9 during $N-user reconciles: files old or new in rename order, pwck/grpck clean (but between renames), repaired by the next run" 0 "$bad"
apply "$WORK/big.json" >/dev/null
check_eq "a full run afterwards: all $N users" "$N" "$(grep -c '^u[0-9]' "$ROOT/etc/passwd")"
members=$(grep '^google-sudoers:' "$ROOT/etc/group" | cut -d: -f4 | tr ',' '\n' | grep '^u[0-9]')
check_eq "... each exactly once in google-sudoers" "$N $N" "$(echo "$members" | wc -l) $(echo "$members" | sort -u | wc -l)"
check_eq "... with a home and a complete authorized_keys" "$N" \
	"$(grep -l "^$KEY u" "$ROOT"/home/u*/.ssh/authorized_keys 2>/dev/null | wc -l)"
check "the directories looked in list their files (passwd, homes)" bash -c "ls -A '$ROOT/etc' | grep -qx passwd && ls -A '$ROOT/home' | grep -q '^u[0-9]'"
check_fails "no temp files left in etc" 1 bash -c "ls -A '$ROOT/etc' | grep '^\.#'"
check_fails "no half-built home left" 1 bash -c "ls -A '$ROOT/home' | grep '^\.#'"
check "pwck -r clean" pwck -r -q -R "$ROOT"
check "grpck -r clean" grpck -r -R "$ROOT"
done_testing
