#!/usr/bin/env bash
# tests/lib.sh's refusal checks: check_fails passes only on the exit code it
# names, so a missing binary (127), a crash (a signal) or grep's "no such
# file" (2) never passes for a refusal, and the old form without a code is
# an error of the test.
. "$(dirname "$0")/../lib.sh"

# verdict CALL...: "ok" or "not ok" for one call of a helper, in a subshell
# with its own TAP counter.
verdict() {
	(
		_tap_n=0
		"$@" | grep -E '^(not )?ok ' | head -1 | sed -E 's/^(not ok|ok) .*/\1/'
	)
}

check_eq "right code: ok" ok "$(verdict check_fails x 1 test -e /nonexistent)"
check_eq "one of alternatives: ok" ok "$(verdict check_fails x '52|1' test -e /nonexistent)"
check_eq "old form without a code: an error of the test" "not ok" "$(verdict check_fails x test -e /nonexistent)"
check_eq "… and it says why" "#   check_fails needs an expected exit code: check_fails DESCRIPTION CODE COMMAND..." \
	"$(check_fails x test -e /nonexistent | sed -n 2p)"
check_eq "code 0 is no refusal: an error of the test" "not ok" "$(verdict check_fails x 0 false)"
check_eq "no command: an error of the test" "not ok" "$(verdict check_fails x 1)"
check_eq "success: not ok" "not ok" "$(verdict check_fails x 1 true)"
check_eq "another code: not ok" "not ok" "$(verdict check_fails x 1 grep -q x /nonexistent)"
check_eq "command not found (127): not ok" "not ok" "$(verdict check_fails x 1 /nonexistent/program)"
check_eq "… unless named" ok "$(verdict check_fails x 127 /nonexistent/program)"
check_eq "killed by a signal: not ok" "not ok" "$(verdict check_fails x 1 bash -c 'kill -SEGV $$')"
check_eq "check_fails_msg: code and message: ok" ok \
	"$(verdict check_fails_msg x 2 'No such file' ls /nonexistent)"
check_eq "check_fails_msg: the code, another message: not ok" "not ok" \
	"$(verdict check_fails_msg x 2 'Permission denied' ls /nonexistent)"
check_eq "check_fails_msg without a command: an error of the test" "not ok" \
	"$(verdict check_fails_msg x 2 'No such file')"
check_eq "stdin reaches the command" ok "$(verdict check_fails x 1 grep -q zzz <<<"abc")"
check_eq "no call without a code is left in the suites" "" \
	"$(grep -nE '^[[:space:]]*check_fails(_msg)? +"[^"]*" +[^0-9 \\]' "$SRC"/tests/integration/test-*.sh)"
done_testing
