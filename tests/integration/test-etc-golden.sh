#!/usr/bin/env bash
# Golden tests of the /etc reconcile: each case in tests/golden/etc starts
# from base/ (a small Debian-like tree with a comment line), runs its
# steps with oslogin-reconcile --root, and compares the four account files,
# the state under var/lib and every home with NAME.expected-*.
#   NAME.input        a metadata document: the case is "apply NAME.input"
#   NAME.steps        otherwise: lines "apply DOC [ARGS]", "wipe-etc"
#                     (stateless reboot), "sh CMD" (run in the tree)
# OSLOGIN_GOLDEN_UPDATE=1 rewrites the expected files (review the diff!).
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/tools/oslogin-reconcile
GOLDEN=$SRC/tests/golden/etc
[ -x "$TOOL" ] || { not_ok "oslogin-reconcile built at $TOOL"; done_testing; }
[ "$(id -u)" -eq 0 ] || { echo "ok 1 - golden /etc tests # SKIP need root (chown)"; echo "1..1"; exit 0; }
WORK=$(mktemp -d /tmp/etc-golden.XXXXXX)
on_exit "rm -rf '$WORK'"
TODAY=$(($(date +%s) / 86400))
# A fixed clock: key expiry decisions do not depend on the day the test runs.
NOW=1893456000000000

# What a case is compared on; days since the epoch of new shadow entries
# read DAYS, so the files do not change with the date.
snapshot() {
	local root=$1 what=$2
	case $what in
	passwd | group | gshadow) cat "$root/etc/$what" ;;
	shadow) awk -F: -v OFS=: -v today="$TODAY" '$3 == today { $3 = "DAYS" } 1' "$root/etc/shadow" ;;
	state)
		for f in var/lib/oslogin/uidmap var/lib/oslogin/users var/lib/oslogin/groups var/lib/oslogin/expired \
			var/lib/google/google_users etc/sudoers.d/google_sudoers; do
			echo "== $f"; [ -e "$root/$f" ] && cat "$root/$f" && stat -c 'mode %a owner %u:%g' "$root/$f"
		done
		(cd "$root/home" && find . -mindepth 1 ! -name .keep | LC_ALL=C sort | while read -r p; do
			printf '== home/%s %s\n' "${p#./}" "$(stat -c '%A %u:%g' "$p")"
			[ -L "$p" ] && printf -- '-> %s\n' "$(readlink "$p")"
			case $p in */authorized_keys) cat "$p" ;; esac
		done)
		;;
	esac
}

run_case() {
	local name=$1 root=$WORK/$1 steps
	rm -rf "$root"; cp -a "$GOLDEN/base" "$root"
	mkdir -p "$root/var/lib"
	if [ -e "$GOLDEN/$name.steps" ]; then steps=$(grep -v '^#' "$GOLDEN/$name.steps")
	else steps="apply $name.input"; fi
	while read -r verb rest; do
		case $verb in
		apply) # shellcheck disable=SC2086
			set -- $rest
			"$TOOL" --root "$root" --input "$GOLDEN/$1" --now $NOW --uid-min 1000 --uid-max 60000 "${@:2}" \
				>>"$WORK/$name.log" 2>&1 || { echo "apply $rest failed: $(tail -3 "$WORK/$name.log")"; return 1; } ;;
		wipe-etc) rm -rf "$root/etc" && cp -a "$GOLDEN/base/etc" "$root/etc" ;;
		sh) (cd "$root" && bash -c "$rest") || { echo "sh $rest failed"; return 1; } ;;
		'') ;;
		*) echo "unknown step $verb"; return 1 ;;
		esac
	done <<<"$steps"
}

for c in "$GOLDEN"/*.input "$GOLDEN"/*.steps; do
	[ -e "$c" ] || continue
	name=$(basename "${c%.*}")
	if ! out=$(run_case "$name"); then not_ok "$name: steps run" "$out"; continue; fi
	for what in passwd shadow group gshadow state; do
		exp=$GOLDEN/$name.expected-$what
		if [ -n "${OSLOGIN_GOLDEN_UPDATE:-}" ]; then snapshot "$WORK/$name" $what >"$exp"; fi
		if [ ! -e "$exp" ]; then not_ok "$name: $exp exists"; continue; fi
		if d=$(diff -u "$exp" <(snapshot "$WORK/$name" $what)); then ok "$name: $what as expected"
		else not_ok "$name: $what as expected" "$d"; fi
	done
	# The files stay valid for shadow-utils after every case (pwck calls
	# the comment line we keep on purpose invalid: checked without it).
	mkdir -p "$WORK/$name.ck/etc"
	for f in passwd shadow group gshadow; do grep -v '^#' "$WORK/$name/etc/$f" >"$WORK/$name.ck/etc/$f"; done
	check "$name: pwck -r clean" pwck -r -q -R "$WORK/$name.ck"
	check "$name: grpck -r clean" grpck -r -R "$WORK/$name.ck"
done

# Unchanged input: a second apply writes nothing (no file is replaced).
root=$WORK/create
before=$(stat -c '%i %Y' "$root"/etc/{passwd,shadow,group,gshadow} "$root"/var/lib/oslogin/* | md5sum)
"$TOOL" --root "$root" --input "$GOLDEN/create.input" --now $NOW >/dev/null 2>&1
check_eq "an unchanged apply replaces no file" "$before" \
	"$(stat -c '%i %Y' "$root"/etc/{passwd,shadow,group,gshadow} "$root"/var/lib/oslogin/* | md5sum)"
check "the directory looked in lists its files (passwd)" bash -c "ls -A '$root/etc' | grep -qx passwd"
check_fails "no temp files left in etc" 1 bash -c "ls -A '$root/etc' | grep '^\.#'"
done_testing
