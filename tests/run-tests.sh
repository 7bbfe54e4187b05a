#!/usr/bin/env bash
# Runs every suite of `make check` and prints, last, "N passed, N failed"
# (", N skipped" when any). Exits non-zero on any failure.
#
# Every test program speaks TAP: "ok N - what", "not ok N - what",
# "ok N - what # SKIP why". A program that exits non-zero without a
# "not ok" line, or that reports no test at all, counts as one failure.
#
#   tests/run-tests.sh           everything (make check)
#   tests/run-tests.sh --quick   unit tests of the plain build only
#   tests/run-tests.sh PATTERN   only suites whose name contains PATTERN
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
export OSLOGIN_SRC=$SRC
export OSLOGIN_SHARED=${OSLOGIN_SHARED:-$(cd "$SRC/.." && pwd)/shared}
# Which trees to test: build/ and build/asan unless told otherwise (engineers
# working side by side each use their own B=build/NAME).
BUILD_PLAIN=${OSLOGIN_BUILD:-$SRC/build}
BUILD_ASAN=${OSLOGIN_BUILD_ASAN:-$BUILD_PLAIN/asan}
export OSLOGIN_BUILD=$BUILD_PLAIN
LOGDIR=$BUILD_PLAIN/test-logs
mkdir -p "$LOGDIR"
quick=0 pattern=
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
*) pattern=$1 ;;
esac

passed=0 failed=0 skipped=0
failures=()

# run_suite NAME TIMEOUT_SECONDS COMMAND...
run_suite() {
	local name=$1 limit=$2
	shift 2
	[ -n "$pattern" ] && [[ "$name" != *"$pattern"* ]] && return 0
	local log="$LOGDIR/${name//\//_}.log" rc
	local start=$SECONDS
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# *(SKIP|skip)' "$log" | tr -d ' ')
	# cmocka's skip() prints "not ok N # SKIP name": a skip, not a failure.
	local cs
	cs=$(grep -cE '^not ok [0-9]+ # SKIP' "$log" | tr -d ' ')
	f=$(($(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ') - cs))
	p=$((p + cs)) s=$((s + cs))
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		if [ "$rc" -eq 77 ] && [ "$p" -eq 0 ]; then
			s=$((s + 1))
		else
			f=1
			[ "$rc" -eq 124 ] && echo "not ok - timed out after ${limit}s" >>"$log"
			echo "not ok - exited with status $rc" >>"$log"
		fi
	fi
	if [ $((p + f + s)) -eq 0 ]; then
		f=1
		echo "not ok - ran no test" >>"$log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		printf 'FAIL %-48s %3d ok, %d failed (%ds)\n' "$name" "$p" "$f" $((SECONDS - start))
		grep -E '^not ok' "$log" | head -20 | sed 's/^/     /'
		echo "     --- last lines of $log:"
		tail -n 25 "$log" | sed 's/^/     | /'
		failures+=("$name")
	else
		printf 'PASS %-48s %3d ok%s (%ds)\n' "$name" "$p" "$([ "$s" -gt 0 ] && echo ", $s skipped")" $((SECONDS - start))
	fi
}

unit_suites() { # BUILD_DIR LABEL [WRAPPER...]
	local dir=$1 label=$2
	shift 2
	local t
	for t in "$dir"/tests/unit/test-*; do
		[ -x "$t" ] && [[ "$t" != *.o ]] && [[ "$t" != *.d ]] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP run_suite "$label/$(basename "$t")" 300 "$@" "$t"
	done
}

# Fuzz corpora replayed once through regress-main.c (no clang needed).
fuzz_suites() { # BUILD_DIR LABEL [WRAPPER...]
	local dir=$1 label=$2 t name
	shift 2
	for t in "$dir"/tests/fuzz/fuzz-*; do
		[ -x "$t" ] && [[ "$t" != *.o ]] && [[ "$t" != *.d ]] || continue
		name=$(basename "$t")
		mkdir -p "$SRC/tests/fuzz/corpus/$name"
		run_suite "$label/$name" 600 "$@" "$t" "$SRC/tests/fuzz/corpus/$name"
	done
}

unit_suites "$BUILD_PLAIN" unit
if [ "$quick" -eq 0 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
	unit_suites "$BUILD_ASAN" unit-asan
	unit_suites "$BUILD_PLAIN" unit-valgrind valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite
	fuzz_suites "$BUILD_PLAIN" fuzz-regress
	fuzz_suites "$BUILD_ASAN" fuzz-regress-asan
	fuzz_suites "$BUILD_PLAIN" fuzz-regress-valgrind valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite
	unset ASAN_OPTIONS UBSAN_OPTIONS

	run_suite conformance/mds.py 120 tests/integration/conformance.sh
	for t in tests/integration/test-*.sh; do
		[ -x "$t" ] || continue
		run_suite "integration/$(basename "$t" .sh)" 900 "$t"
	done

	# The integration suites again with the daemons, helpers, tools and the
	# fake server built with ASan+UBSan; the NSS and PAM modules stay plain
	# (system programs load them). A sanitizer report fails the suite.
	# test-packaging and test-install build their own trees and are not
	# repeated; test-manpages, test-format, test-layout and test-lib run no
	# program of ours (test-layout reads the plain build's symbols).
	for t in tests/integration/conformance.sh tests/integration/test-*.sh; do
		[ -x "$t" ] || continue
		case "$t" in */test-packaging.sh | */test-manpages.sh | */test-install.sh | */test-format.sh | */test-layout.sh | */test-lib.sh) continue ;; esac
		# (The directory crash test builds 5 000 users instead of 20 000: an
		# ASan build of 20 000 takes ~2 s, times 200 kills.)
		OSLOGIN_BUILD=$BUILD_ASAN OSLOGIN_MODULES_BUILD=$BUILD_PLAIN CRASH_DIRECTORY_USERS=5000 \
			run_suite "integration-asan/$(basename "$t" .sh)" 900 \
			tests/sanitized-suite.sh "$t" "$LOGDIR/sanitizer-reports/$(basename "$t" .sh)"
	done
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "Failed suites (logs in $LOGDIR): ${failures[*]}"
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
