#!/usr/bin/env bash
# The SELinux policy module: `make selinux` builds oslogin.pp with
# checkmodule and semodule_package (exit 77, a skip, where they are not
# installed; scripts/install-deps.sh installs them). Checked too: a broken
# rule fails the build (so it really compiles), every path the code uses
# for the sockets, the cache, the state and the sudoers drop-ins gets the
# module's type from oslogin.fc, every type the .fc names is declared, and
# sshd, sshd_session (optional) and NSS clients may reach the sockets.
. "$(dirname "$0")/../lib.sh"
for tool in checkmodule semodule_package; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool not installed (make deps)"; exit 77; }
done
OUT=$(mktemp -d /tmp/test-selinux.XXXXXX)
on_exit "rm -rf '$OUT'"

check "make selinux builds oslogin.pp" make -s -C "$SRC" B="$OUT/b" selinux
PP=$OUT/b/selinux/oslogin.pp
check "oslogin.pp is a policy package (magic f97cff8f)" bash -c \
	"[ \"\$(od -An -tx4 -N4 '$PP' | tr -d ' ')\" = f97cff8f ]"
check "oslogin.pp carries the module name and the file contexts" bash -c \
	"grep -aq oslogin '$PP' && grep -aq 'oslogin_runtime_t' '$PP' && grep -aq '/run/oslogin' '$PP'"
check "make selinux again: up to date, nothing rebuilt" bash -c \
	"[ -z \"\$(make -s -C '$SRC' B='$OUT/b' selinux 2>&1 | grep -v 'Nothing to be done\|is up to date')\" ]"

# A rule on an undeclared type must fail: the build is a real compile.
sed 's/^allow sshd_t oslogin_runtime_t:dir/allow sshd_t no_such_type_t:dir/' "$SRC/selinux/oslogin.te" >"$OUT/broken.te"
mkdir -p "$OUT/good"
check "checkmodule compiles the unbroken module" checkmodule -M -m -o "$OUT/good/oslogin.mod" "$SRC/selinux/oslogin.te"
check_fails_msg "checkmodule rejects a rule on an undeclared type" 1 "unknown type no_such_type_t" checkmodule -M -m -o "$OUT/broken.mod" "$OUT/broken.te"

# The labels of the paths the code uses (lib/*/*.h): the most specific
# .fc rule wins, as in setfiles (later and longer stems).
fc_type() {
	python3 - "$SRC/selinux/oslogin.fc" "$1" <<'PY'
import re, sys
best = None
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 2 or f[0].startswith('#'):
        continue
    ctx = f[-1]
    if re.fullmatch(f[0], sys.argv[2]):
        stem = len(re.split(r'[.(\[*+?^$|]', f[0], 1)[0])
        if best is None or stem >= best[0]:
            best = (stem, ctx.split(':')[2])
print(best[1] if best else '<none>')
PY
}
# define_of MACRO HEADER: the path MACRO of HEADER stands for, expanded by
# the preprocessor with the Makefile's default directories.
define_of() {
	printf '#include "%s"\n%s\n' "$2" "$1" |
		(cd "$OUT" && cc -E -P -I"$SRC/lib" -DOSLOGIN_RUNSTATEDIR='"/run"' -DOSLOGIN_RUNTIME_DIR='"/run/oslogin"' \
			-DOSLOGIN_LOCALSTATEDIR='"/var"' -DOSLOGIN_STATE_DIR='"/var/lib/oslogin"' -x c -) |
		tail -n 1 | sed 's/" *"//g; s/"//g; s/^ *//'
}
for d in BROKER_KEYS_SOCKET_PATH:basic/broker-proto.h BROKER_PAM_SOCKET_PATH:basic/broker-proto.h \
	NSS_PROTO_SOCKET_PATH:basic/nss-proto.h; do
	path=$(define_of "${d%%:*}" "${d#*:}")
	d=${d%%:*}
	check_eq "$d ($path): oslogin_runtime_t" oslogin_runtime_t "$(fc_type "$path")"
done
check_eq "/run/oslogin itself: oslogin_runtime_t" oslogin_runtime_t "$(fc_type /run/oslogin)"
check_eq "/var/lib/oslogin/uidmap: oslogin_var_lib_t" oslogin_var_lib_t "$(fc_type /var/lib/oslogin/uidmap)"
dropins=$(define_of SUDOERS_DROPIN_DIR accounts/sudoers.h)
check_eq "$dropins/alice: oslogin_sudoers_t" oslogin_sudoers_t "$(fc_type "$dropins/alice")"
check_eq "/var/lib/oslogin-other is not ours" "<none>" "$(fc_type /var/lib/oslogin-other)"
for t in $(awk '{print $NF}' "$SRC/selinux/oslogin.fc" | cut -d: -f3 | sort -u); do
	check "type $t of oslogin.fc is declared in oslogin.te" grep -qE "^type $t;" "$SRC/selinux/oslogin.te"
done

TE=$SRC/selinux/oslogin.te
for dom in sshd_t sshd_session_t nsswitch_domain; do
	check "$dom may write the sockets and connect to the daemon" bash -c \
		"grep -q '^[[:space:]]*allow $dom oslogin_runtime_t:sock_file { getattr write };' '$TE' &&
		 grep -q '^[[:space:]]*allow $dom unconfined_service_t:unix_stream_socket connectto;' '$TE'"
done
check "sshd_session_t only in an optional block (older policies lack it)" bash -c \
	"awk '/^optional/ {o=1} /^}/ {o=0} /^[^#]*sshd_session_t/ && !o {bad=1} END {exit bad}' '$TE'"
done_testing
