# Sourced by the integration tests: TAP output, the fake metadata server,
# private namespaces. Every helper cleans up after itself on exit.
set -u
SRC=${OSLOGIN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# Which build the tests exercise: build/ by default, build/asan for ASan runs.
BUILD=${OSLOGIN_BUILD:-$SRC/build}
SHARED=${OSLOGIN_SHARED:-$(cd "$SRC/.." && pwd)/shared}
FAKE=$BUILD/tests/fake-metadata/oslogin-fake-metadata
# The NSS and PAM modules are loaded into system programs (getent, sudo,
# sshd, pamtester) that are not built with ASan: the ASan pass of make check
# takes them from the plain build (OSLOGIN_MODULES_BUILD).
MODULES_BUILD=${OSLOGIN_MODULES_BUILD:-$BUILD}
FIXTURES=$SRC/tests/fixtures

_tap_n=0
_tap_failed=0
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_failed=1; echo "not ok $_tap_n - $1"; shift; [ $# -gt 0 ] && printf '#   %s\n' "$@"; return 0; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
diag() { printf '# %s\n' "$*"; }
# check DESCRIPTION COMMAND...: ok when COMMAND exits 0; its output is shown on failure.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "command: $*" "${out:0:2000}"; fi
}
# Refusals name what they expect, so that a missing binary (126, 127), a
# crash (a signal, > 128) or grep's "no such file" (2) never passes for one:
#
#   check_fails DESCRIPTION CODE COMMAND...
#       ok when COMMAND exits with exactly CODE: a number from 1 to 255, or
#       alternatives joined by '|' ("52|55") when the refusal really has more
#       than one. CODE is required: a call without it fails as an error of
#       the test ("check_fails needs an expected exit code").
#   check_fails_msg DESCRIPTION CODE REGEX COMMAND...
#       the same, and COMMAND's output (stdout and stderr together) must
#       match the extended regular expression REGEX: for refusals whose exit
#       code alone does not tell them from a failure (ssh's 255 is also
#       "connection refused").
#
# OSLOGIN_TRACE_REFUSALS=1 in the environment prints every refusal's exit
# code and output as a diagnostic.
#
# A refusal check comes after a `check` that the same command succeeds in
# the positive case (the user exists, the key opens the right account, the
# file is written where it should be), so that "absent" means refused and
# not "the thing under test has vanished".
check_fails() {
	_check_refusal "$1" "${2-}" "" "${@:3}"
}
check_fails_msg() {
	if [ $# -lt 4 ]; then
		not_ok "$1" "check_fails_msg needs DESCRIPTION CODE REGEX COMMAND..."
		return 0
	fi
	_check_refusal "$1" "$2" "$3" "${@:4}"
}
# _check_refusal DESCRIPTION CODE REGEX COMMAND... (REGEX may be empty)
_check_refusal() {
	local desc=$1 want=$2 re=$3 out rc c match=0 codes
	shift 3
	if ! [[ $want =~ ^[1-9][0-9]{0,2}(\|[1-9][0-9]{0,2})*$ ]] || [ $# -eq 0 ]; then
		not_ok "$desc" "check_fails needs an expected exit code: check_fails DESCRIPTION CODE COMMAND..." \
			"got: $want $*"
		return 0
	fi
	out=$("$@" 2>&1)
	rc=$?
	# OSLOGIN_TRACE_REFUSALS=1 shows what each refusal really gave, to name
	# the code and message when writing a new check.
	[ -n "${OSLOGIN_TRACE_REFUSALS:-}" ] && diag "refusal exit $rc [$desc] ${out:0:300}"
	IFS='|' read -ra codes <<<"$want"
	for c in "${codes[@]}"; do [ "$c" -eq "$rc" ] && match=1; done
	if [ "$rc" -eq 0 ]; then
		not_ok "$desc" "command unexpectedly succeeded: $*" "${out:0:2000}"
	elif [ "$match" -eq 0 ]; then
		not_ok "$desc" "expected exit $want, got $rc: $*" "${out:0:2000}"
	elif [ -n "$re" ] && ! grep -Eq -- "$re" <<<"$out"; then
		not_ok "$desc" "exit $rc as expected, but the output does not match /$re/: $*" "${out:0:2000}"
	else
		ok "$desc"
	fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}
done_testing() { echo "1..$_tap_n"; exit $_tap_failed; }

_cleanup_pids=()
_cleanup_cmds=()
on_exit() { _cleanup_cmds+=("$*"); }
_run_cleanup() {
	local i
	for ((i = ${#_cleanup_cmds[@]} - 1; i >= 0; i--)); do eval "${_cleanup_cmds[$i]}" || true; done
	# A pid may be gone already; under `set -e` (the benchmarks) a failed
	# kill or wait must not turn a finished run into exit status 1.
	for pid in "${_cleanup_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${_cleanup_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap _run_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for TIMEOUT_SECONDS COMMAND...: polls COMMAND every 50 ms.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 20; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

# start_fake FIXTURE [ADDR:PORT] [EXTRA ARGS...]: starts the fake metadata
# server; sets FAKE_PID, FAKE_ADDR, FAKE_URL (http://ADDR:PORT) and FAKE_LOG.
start_fake() {
	local fixture=$1 addr=${2:-127.0.0.1:$(free_port)}
	shift $(($# >= 2 ? 2 : 1))
	FAKE_ADDR=$addr
	FAKE_URL=http://$addr
	FAKE_LOG=$(mktemp /tmp/oslogin-fake.XXXXXX.log)
	"$FAKE" --listen "$addr" --data "$fixture" "$@" >"$FAKE_LOG" 2>&1 &
	FAKE_PID=$!
	_cleanup_pids+=("$FAKE_PID")
	on_exit "rm -f '$FAKE_LOG'"
	wait_for 10 curl -sf -H 'Metadata-Flavor: Google' "$FAKE_URL/computeMetadata/v1/" || {
		echo "# fake metadata server did not start:"; sed 's/^/#   /' "$FAKE_LOG"; return 1; }
}

# enter_namespace "$@": re-executes the calling script in a private mount and
# network namespace (loopback up), unless already inside one. Inside, /run and
# /tmp are private tmpfs mounts, so nothing the test does leaks to the host.
enter_namespace() {
	if [ -z "${OSLOGIN_IN_NAMESPACE:-}" ]; then
		if [ "$(id -u)" -ne 0 ] || ! unshare --mount --net true 2>/dev/null; then
			echo "ok 1 - namespace tests # SKIP need root and unshare"; echo "1..1"; exit 0
		fi
		OSLOGIN_IN_NAMESPACE=1 exec unshare --mount --net --fork -- "$0" "$@"
	fi
	mount --make-rprivate /
	ip link set lo up
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/oslogin /run/sshd
}

# private_etc: gives the namespace a private, writable copy of the whole /etc
# (rename() over a bind-mounted single file fails with EBUSY, and the /etc
# writer renames). Changes vanish with the namespace.
private_etc() {
	local d
	d=$(mktemp -d /run/private-etc.XXXXXX)
	cp -a /etc/. "$d/"
	mount --bind "$d" /etc
}

# valgrind_check DESCRIPTION PROGRAM ARGS...: runs one of our programs under
# valgrind; a memory error or a definite leak fails (its exit status is its
# own business). The ASan pass runs the plain build's program instead
# (valgrind cannot run an ASan binary).
valgrind_check() {
	local what=$1 prog=$2 out rc
	shift 2
	command -v valgrind >/dev/null || { skip "$what" "valgrind not installed"; return 0; }
	prog=${prog/#$BUILD/$MODULES_BUILD}
	out=$(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite "$prog" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 99 ] && ! grep -qE '^==[0-9]+==' <<<"$out"; then
		ok "$what"
	else
		not_ok "$what" "$(grep -E '^==[0-9]+==' <<<"$out" | head -30)"
	fi
}

# install_modules FILE...: inside enter_namespace, makes each module appear
# where the system loads it, as the packages install them (one overlay
# layer): libnss_* in the multiarch library directory, pam_* in its
# security/. Sets LIBDIR.
install_modules() {
	local layer f
	LIBDIR=/usr/lib/$(gcc -print-multiarch)
	layer=$(mktemp -d /run/module-layer.XXXXXX)
	# The merged directory takes the top layer's mode: 0755 as the real one
	# (mktemp's 0700 would shut out every unprivileged process).
	chmod 0755 "$layer"
	mkdir -p -m 0755 "$layer/security"
	for f in "$@"; do
		case "$(basename "$f")" in
		pam_*) cp "$f" "$layer/security/" ;;
		*) cp "$f" "$layer/" ;;
		esac
	done
	mount -t overlay overlay -o "lowerdir=$layer:$LIBDIR" "$LIBDIR"
}

# private_dir DIR...: an empty private tmpfs over each DIR (created if absent).
private_dir() {
	local d
	for d in "$@"; do
		mkdir -p "$d"
		mount -t tmpfs -o mode=0755 tmpfs "$d"
	done
}

# capture_syslog FILE: inside enter_namespace, gives the namespace a private
# /dev/log (overlay over /dev) and appends every syslog message to FILE.
capture_syslog() {
	local file=$1 d
	d=$(mktemp -d /run/devlog.XXXXXX)
	mkdir "$d/upper" "$d/work"
	mount -t overlay overlay -o "lowerdir=/dev,upperdir=$d/upper,workdir=$d/work" /dev
	: >"$file"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "a", buffering=1)
print("ready", flush=True)
while True:
    out.write(s.recv(65536).decode(errors="replace") + "\n")
' "$file" >"$d/ready" &
	_cleanup_pids+=($!)
	wait_for 5 grep -q ready "$d/ready"
}
