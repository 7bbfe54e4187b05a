#!/usr/bin/env bash
# The fake metadata server, checked from the outside by the shared
# conformance script (shared/conformance/mds.py), with each fixture.
. "$(dirname "$0")/../lib.sh"

# The shared script is the reference; tests/conformance/mds.py is a copy for
# clones that do not sit next to shared/ (kept identical by the check below).
MDS_PY=$SHARED/conformance/mds.py
if [ -f "$MDS_PY" ]; then
	check "vendored tests/conformance/mds.py matches shared/" cmp "$MDS_PY" "$SRC/tests/conformance/mds.py"
else
	MDS_PY=$SRC/tests/conformance/mds.py
	diag "shared/ not found next to the repository; using the vendored copy"
fi
[ -x "$FAKE" ] || { not_ok "fake metadata server built at $FAKE"; done_testing; }
for fixture in "$FIXTURES"/*.json; do
	start_fake "$fixture" || { not_ok "fake server starts with $(basename "$fixture")"; continue; }
	out=$(python3 "$MDS_PY" "$FAKE_URL" 2>&1)
	# mds.py prints PASS/FAIL lines; re-emit them as TAP.
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) ok "$(basename "$fixture"): ${line#PASS }" ;;
		FAIL\ *) not_ok "$(basename "$fixture"): ${line#FAIL }" ;;
		esac
	done <<<"$out"
	echo "$out" | tail -1 | grep -q ' 0 failed$' || not_ok "$(basename "$fixture"): mds.py summary" "$(echo "$out" | tail -1)"
	kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
done
done_testing
