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

# Once more with the fake under valgrind (the plain build's in the ASan
# pass): the whole conformance run, then SIGTERM; errors or definite leaks fail.
if command -v valgrind >/dev/null; then
	port=$(free_port)
	vglog=$(mktemp /tmp/fake-valgrind.XXXXXX)
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
		"${FAKE/#$BUILD/$MODULES_BUILD}" --listen 127.0.0.1:$port --data "$FIXTURES/basic.json" >"$vglog" 2>&1 &
	vgpid=$!
	wait_for 30 curl -sf -H 'Metadata-Flavor: Google' "http://127.0.0.1:$port/computeMetadata/v1/" >/dev/null
	out=$(python3 "$MDS_PY" "http://127.0.0.1:$port" 2>&1)
	kill "$vgpid"
	wait "$vgpid"
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | tail -1 | grep -q ' 0 failed$' && ! grep -qE '^==[0-9]+==' "$vglog"; then
		ok "valgrind: the fake passes the conformance run and exits clean"
	else
		not_ok "valgrind: the fake passes the conformance run and exits clean" "exit $rc; $(echo "$out" | tail -1)" \
			"$(grep -E '^==[0-9]+==' "$vglog" | head -30)"
	fi
	rm -f "$vglog"
fi
done_testing
