#!/usr/bin/env bash
# Runs one integration test against the ASan+UBSan build (make check's
# integration-asan pass) and fails it when any of our processes wrote a
# sanitizer report, even if the test itself passed: the daemons and helpers
# run in the background, so their reports go to files (ASAN_OPTIONS
# log_path), not to the test's output.
# Usage: tests/sanitized-suite.sh TEST REPORT_DIR
set -u
test=$1 reports=$2
rm -rf "$reports"
mkdir -p "$reports"
chmod 1777 "$reports" # the key helper runs as _oslogin
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
"$test"
rc=$?
shopt -s nullglob
found=("$reports"/*)
if [ ${#found[@]} -gt 0 ]; then
	echo "not ok - sanitizer reports from $(basename "$test"): ${#found[@]}"
	for f in "${found[@]}"; do
		echo "# --- $f"
		head -40 "$f" | sed 's/^/#   /'
	done
	exit 1
fi
exit $rc
