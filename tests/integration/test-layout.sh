#!/usr/bin/env bash
# Dependencies point downwards only (shared/DESIGN.md, issue 16), and this
# keeps it so:
# - no #include circle between files of different parts. A part is a .c
#   and its .h, or a named family (directory*, broker-*, etc-db*...). The
#   mapping is written out below: a new file of accountsd/ must be given
#   its part here.
# - lib/ never includes accountsd/ or osloginctl/; osloginctl/ never
#   includes accountsd/.
# - the build's include roots let each part include what it may and
#   nothing else;
# - osloginctl has less than a third of the daemon's functions (nm's text
#   symbols without the compiler's extras, see count_functions; it
#   links the libraries, never the daemon).
# Each check is first shown to fail on a tree made to break it.
# Needs no root and no namespace.
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d /tmp/test-layout.XXXXXX)
on_exit "rm -rf '$WORK'"

# part_of FILE (relative to the source root): the part FILE belongs to, or
# nothing when the file is not mapped.
part_of() {
	local f=$1
	case "$f" in
	# Families: files that share an internal header are one part.
	lib/accounts/etc-db*) echo lib/accounts/etc-db ;;
	# Activation (sysconf*) uses the takeover (takeover*); both use the
	# block markers and file replacement of config-file.
	lib/hostconf/sysconf*) echo lib/hostconf/sysconf ;;
	lib/hostconf/takeover*) echo lib/hostconf/takeover ;;
	osloginctl/osloginctl*) echo osloginctl/osloginctl ;;
	# Elsewhere in lib/ and osloginctl/: a .c and its .h (and its
	# -internal.h, shared by the files of that part only).
	lib/*/*.[ch] | osloginctl/*.[ch]) f=${f%.[ch]} && echo "${f%-internal}" ;;
	# The daemon, each part by name (a new file needs a line here): the
	# top (main.c wires, manager and control beside it), then the parts,
	# then what every part shares.
	accountsd/main.c) echo accountsd/main ;;
	accountsd/manager.[ch]) echo accountsd/manager ;;
	accountsd/control.[ch]) echo accountsd/control ;;
	accountsd/nss-server.[ch]) echo accountsd/nss-server ;;
	# The peer table and socket set-up serve every socket, not only the broker's.
	accountsd/broker-peers.[ch]) echo accountsd/broker-peers ;;
	accountsd/broker-*.[ch]) echo accountsd/broker ;;
	accountsd/conn.[ch]) echo accountsd/conn ;;
	accountsd/watch.[ch]) echo accountsd/watch ;;
	accountsd/mode.[ch]) echo accountsd/mode ;;
	accountsd/directory.[ch] | accountsd/directory-*.[ch]) echo accountsd/directory ;;
	accountsd/sudo-recheck.[ch]) echo accountsd/sudo-recheck ;;
	accountsd/users-group.[ch]) echo accountsd/users-group ;;
	accountsd/worker.[ch]) echo accountsd/worker ;;
	accountsd/audit.[ch]) echo accountsd/audit ;;
	accountsd/journal.[ch]) echo accountsd/journal ;;
	accountsd/context.h) echo accountsd/context ;;
	esac
}

# The file an #include "X" names: each include root is a folder.
include_target() {
	case "$1" in
	basic/* | mds/* | accounts/* | hostconf/*) echo "lib/$1" ;;
	accountsd/* | osloginctl/*) echo "$1" ;;
	esac
}

# edges ROOT: "FROM_PART TO_PART FROM_FILE INCLUDED" for every include
# between two different parts under ROOT; "unmapped FILE" for a file with
# no part.
edges() {
	local root=$1 f inc target from to
	(cd "$root" && find accountsd lib osloginctl -name '*.[ch]' 2>/dev/null | sort) | while read -r f; do
		from=$(part_of "$f")
		if [ -z "$from" ]; then
			echo "unmapped $f"
			continue
		fi
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$root/$f" | while read -r inc; do
			target=$(include_target "$inc")
			[ -n "$target" ] || continue
			to=$(part_of "$target")
			[ -n "$to" ] && [ "$to" != "$from" ] && echo "$from $to $f $inc"
		done
	done
}

# circles ROOT: one line per set of parts tied by include circles, naming
# the shortest circle: "a -> b -> a (a.c includes b.h; b.c includes a.h)",
# and the other parts of the set; nothing when there is none.
circles() {
	edges "$1" | grep -v '^unmapped ' | python3 -c '
import sys
graph, why = {}, {}
for line in sys.stdin:
    a, b, f, inc = line.split()
    graph.setdefault(a, set()).add(b)
    graph.setdefault(b, set())
    why.setdefault((a, b), "%s includes %s" % (f, inc))
# Tarjan: each strongly connected component of more than one part is a circle.
index, low, stack, on, sccs = {}, {}, [], set(), []
def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v); on.add(v)
    for w in sorted(graph[v]):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop(); on.discard(w); scc.append(w)
            if w == v: break
        if len(scc) > 1: sccs.append(set(scc))
sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index: visit(v)
# Name one circle per component: the shortest way from its first part back to it.
for scc in sccs:
    start = min(scc)
    prev, queue = {}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & scc):
            if w == start:
                path = [start]
                while v != start:
                    path.insert(1, v); v = prev[v]
                path.append(start)
                more = " [one of the circles among %s]" % ", ".join(sorted(scc)) if len(scc) > len(path) - 1 else ""
                print(" -> ".join(path) + " (" + "; ".join(why[(path[i], path[i + 1])] for i in range(len(path) - 1)) + ")" + more)
                queue = []
                break
            if w not in prev:
                prev[w] = v; queue.append(w)
'
}

# wrong_way ROOT: lib/ including accountsd/ or osloginctl/, osloginctl/ including accountsd/.
wrong_way() {
	(cd "$1" && grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(accountsd|osloginctl)/' -r lib --include='*.[ch]'
		grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"accountsd/' -r osloginctl --include='*.[ch]') 2>/dev/null
	return 0
}

# count_functions < NM_OUTPUT: the functions (nm's t/T symbols) without what the
# compiler adds on its own: the .cold halves and .part/.isra/.constprop
# clones of one function, and the sanitizers' per-object constructors
# (an ASan build has ~70 of them in osloginctl alone), so the plain and
# the ASan builds count the same code.
count_functions() {
	awk '$2 == "t" || $2 == "T" { print $3 }' |
		grep -vE '^_sub_[ID]_|^_GLOBAL__sub_|^__(asan|ubsan|sanitizer)|\.cold(\.[0-9]+)?$' |
		sed 's/\.\(part\|isra\|constprop\)\..*//' | sort -u | wc -l
}

# thin_enough CTL_SYMBOLS DAEMON_SYMBOLS: osloginctl under a third of the daemon.
thin_enough() {
	[ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ $(($1 * 3)) -lt "$2" ]
}

# --- The checks fail where they must. ---

# A tree with a circle between two parts, and a third part outside it.
mkdir -p "$WORK/circle/accountsd"
printf '#include "accountsd/mode.h"\n' >"$WORK/circle/accountsd/directory.c"
printf '#include "accountsd/directory.h"\n' >"$WORK/circle/accountsd/mode.c"
printf '#include "accountsd/worker.h"\n' >"$WORK/circle/accountsd/directory.h"
: >"$WORK/circle/accountsd/mode.h"
: >"$WORK/circle/accountsd/worker.h"
out=$(circles "$WORK/circle")
check_eq "a two-part circle is found and named" \
	"accountsd/directory -> accountsd/mode -> accountsd/directory (accountsd/directory.c includes accountsd/mode.h; accountsd/mode.c includes accountsd/directory.h)" \
	"$out"

# The real daemon with one wrong-way include: the directory calling the
# control socket again, as it did before issue 16.
cp -r "$SRC/accountsd" "$SRC/lib" "$SRC/osloginctl" "$WORK/"
mkdir -p "$WORK/real" && mv "$WORK/accountsd" "$WORK/lib" "$WORK/osloginctl" "$WORK/real/"
check_eq "the source tree copy has no circle" "" "$(circles "$WORK/real")"
printf '#include "accountsd/control.h"\n' >>"$WORK/real/accountsd/directory.c"
out=$(circles "$WORK/real")
if [[ "$out" == *"accountsd/control -> accountsd/directory -> accountsd/control ("*"accountsd/directory.c includes accountsd/control.h"* ]]; then
	ok "directory.c including control.h again is reported as a circle"
else
	not_ok "directory.c including control.h again is reported as a circle" "found: ${out:-nothing}"
fi
diag "with the wrong include: $out"

# The tree issue 16 was filed against (the commit before the circle was
# broken), when the history is at hand: its circle through six files.
BEFORE=e8d4772
if git -C "$SRC" cat-file -e "$BEFORE^{commit}" 2>/dev/null; then
	mkdir -p "$WORK/before"
	git -C "$SRC" archive "$BEFORE" accountsd lib osloginctl | tar -x -C "$WORK/before"
	out=$(circles "$WORK/before")
	diag "at $BEFORE: $out"
	if [[ "$out" == *"among accountsd/broker, accountsd/control, accountsd/directory, accountsd/manager, accountsd/mode, accountsd/nss-server, accountsd/sudo-recheck, accountsd/watch]" ]]; then
		ok "the circle of issue 16 is found in the tree it was filed against"
	else
		not_ok "the circle of issue 16 is found in the tree it was filed against" "found: ${out:-nothing}"
	fi
else
	skip "the circle of issue 16 is found in the tree it was filed against" "no git history"
fi

# A file with no part, and the wrong-way includes.
mkdir -p "$WORK/bad/accountsd" "$WORK/bad/lib/basic" "$WORK/bad/osloginctl"
: >"$WORK/bad/accountsd/newpart.c"
printf '#include "accountsd/manager.h"\n' >"$WORK/bad/lib/basic/x.c"
printf '#include "osloginctl/osloginctl.h"\n' >"$WORK/bad/lib/basic/y.h"
printf '#include "accountsd/directory.h"\n' >"$WORK/bad/osloginctl/z.c"
check_eq "a file without a part is reported" "unmapped accountsd/newpart.c" \
	"$(edges "$WORK/bad" | grep '^unmapped')"
check_eq "lib/ including accountsd/ or osloginctl/, osloginctl/ including accountsd/ are reported" \
	"lib/basic/x.c:1:#include \"accountsd/manager.h\"
lib/basic/y.h:1:#include \"osloginctl/osloginctl.h\"
osloginctl/z.c:1:#include \"accountsd/directory.h\"" \
	"$(wrong_way "$WORK/bad" | sort)"
# Before the layout move osloginctl linked almost all of the daemon.
for counts in "383 392" "200 600"; do
	if thin_enough $counts; then
		not_ok "osloginctl with ${counts% *} of the daemon's ${counts#* } text symbols is too many"
	else
		ok "osloginctl with ${counts% *} of the daemon's ${counts#* } text symbols is too many"
	fi
done

# The count drops the compiler's extras and nothing of ours.
check_eq "count_functions counts each function once, without the compiler's extras" 3 "$(count_functions <<'EOF'
0000000000001000 T main
0000000000001010 t parse_line
0000000000001020 t parse_line.cold
0000000000001030 t parse_line.part.0
0000000000001040 t emit.isra.0
0000000000001050 t _sub_I_00099_0
0000000000001060 t _sub_D_00099_0
0000000000001070 t _GLOBAL__sub_I_main
0000000000001080 T __asan_report_load8
0000000000001090 D some_data
EOF
)"

# --- The source tree. ---

out=$(edges "$SRC" | grep '^unmapped')
check_eq "every file of accountsd/, lib/ and osloginctl/ has a part" "" "$out"
n=$(edges "$SRC" | grep -vc '^unmapped')
diag "$n includes between different parts"
out=$(circles "$SRC")
check_eq "no include circle between parts" "" "$out"
check_eq "lib/ never includes accountsd/ or osloginctl/; osloginctl/ never includes accountsd/" "" \
	"$(wrong_way "$SRC")"
check_eq "only main.c and control.c see struct manager" "accountsd/control.h
accountsd/main.c
accountsd/manager.c" \
	"$(cd "$SRC" && grep -l '#include "accountsd/manager.h"' accountsd/*.[ch] | sort)"

check_eq "nothing but main.c's wiring calls the control socket" "accountsd/control.c
accountsd/main.c" \
	"$(cd "$SRC" && grep -l '#include "accountsd/control.h"' accountsd/*.[ch] | sort)"

# The build's own enforcement: each part compiles with one include root,
# $BUILD/include/PART, holding only the parts it may use (Makefile,
# LAYER_USES_*). A header of a part it may use compiles there; one from
# above or beside it is not found.
compiles_in() { # PART HEADER (from an empty directory: a quoted include
	# searches the current one first)
	printf '#include "%s"\n' "$2" | (cd "$WORK" && cc -fsyntax-only -D_GNU_SOURCE -DOSLOGIN_RUNTIME_DIR='"/run/oslogin"' \
		-DOSLOGIN_STATE_DIR='"/var/lib/oslogin"' -DOSLOGIN_LOCALSTATEDIR='"/var"' -DOSLOGIN_RUNSTATEDIR='"/run"' \
		-DOSLOGIN_SYSCONFDIR='"/etc"' $(pkg-config --cflags json-c 2>/dev/null) -I"$BUILD/include/$1" -x c - 2>&1)
}
for ok_case in "accounts basic/macro.h" "accounts mds/ssh-keys.h" "accountsd hostconf/sysconf.h" \
	"osloginctl hostconf/host-mode.h" "nss_oslogin basic/cache-reader.h"; do
	set -- $ok_case
	check "the build lets $1 include $2" compiles_in "$1" "$2"
done
for bad_case in "basic mds/mds-client.h" "mds accounts/etc-db.h" "accounts accountsd/mode.h" \
	"hostconf accounts/sudoers.h" "accounts hostconf/sysconf.h" "osloginctl accountsd/control.h" \
	"nss_oslogin mds/mds-client.h" "pam_oslogin mds/config.h" "authorized-keys-cmd accounts/sudoers.h"; do
	set -- $bad_case
	check_fails_msg "the build refuses $1 including $2" 1 "$2: No such file" compiles_in "$1" "$2"
done

ctl=$BUILD/osloginctl/osloginctl daemon=$BUILD/accountsd/oslogin-accountsd
if [ -x "$ctl" ] && [ -x "$daemon" ]; then
	diag "nm | grep -c ' [tT] ': osloginctl $(nm "$ctl" | grep -c ' [tT] '), oslogin-accountsd $(nm "$daemon" | grep -c ' [tT] ')"
	n_ctl=$(nm "$ctl" | count_functions)
	n_daemon=$(nm "$daemon" | count_functions)
	diag "functions: osloginctl $n_ctl, oslogin-accountsd $n_daemon"
	if thin_enough "$n_ctl" "$n_daemon"; then
		ok "osloginctl has less than a third of the daemon's functions ($n_ctl of $n_daemon)"
	else
		not_ok "osloginctl has less than a third of the daemon's functions" "$n_ctl of $n_daemon"
	fi
else
	not_ok "osloginctl and oslogin-accountsd are built" "missing: $ctl or $daemon"
fi

done_testing
