#!/usr/bin/env bash
# Crash safety: 200 kill -9 at random moments while accountsd reconciles
# 1 000 users, alternating between creating them (large writes) and
# removing them (deprovision_remove). After every kill the four account
# files parse and agree, and every authorized_keys is complete.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
[ -x "$ACCOUNTSD" ] || { not_ok "oslogin-accountsd built"; done_testing; }
private_etc
private_dir /home /var/lib/oslogin /var/lib/google
KEY=$(cut -d' ' -f1-2 "$FIXTURES/keys/alice.pub")
python3 - "$KEY" >/run/big.json <<'PY'
import json, sys
keys = "\n".join(f"u{i:04d}:{sys.argv[1]} u{i}" for i in range(1000))
print(json.dumps({"instance": {"attributes": {"ssh-keys": keys}}, "project": {"attributes": {}}}))
PY
python3 -c 'import json; print(json.dumps({"instance": {"attributes": {"ssh-keys": ""}}, "project": {"attributes": {}}}))' >/run/empty.json
start_fake /run/big.json || { not_ok "fake starts"; done_testing; }
mkdir -p /etc/oslogin
printf '[metadata]\nurl = %s/computeMetadata/v1/\n[accounts]\ndeprovision_remove = true\n' "$FAKE_URL" >/etc/oslogin/oslogin.conf

bad=0 kills=0 t0=$SECONDS
for i in $(seq 200); do
	# Switch the wanted state every 10 kills so both directions get interrupted.
	if [ $((i % 10)) -eq 1 ]; then
		if [ $(((i / 10) % 2)) -eq 0 ]; then data=/run/big.json; else data=/run/empty.json; fi
		curl -sf -X PUT --data-binary @$data "$FAKE_URL/_fake/data" >/dev/null
	fi
	"$ACCOUNTSD" --once >/dev/null 2>&1 &
	p=$!
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	kill -9 $p 2>/dev/null && kills=$((kills + 1))
	wait $p 2>/dev/null
	if ! python3 "$SRC/tests/integration/check-etc.py" /etc >/run/check.out; then
		bad=1; diag "after kill $i:"; sed 's/^/#   /' /run/check.out; break
	fi
	# A managed authorized_keys is either absent or whole: marker + key pairs.
	if ! find /home -name authorized_keys -newer /run/big.json -print0 2>/dev/null |
		xargs -0 -r awk 'FNR == 1 && NR > 1 && prev != "key" { exit 1 } /^# Added by Google$/ { prev = "marker"; next } { if (prev != "marker" && $0 !~ /^$/) exit 1; prev = "key" } END { if (prev == "marker") exit 1 }'; then
		bad=1; diag "torn authorized_keys after kill $i"; break
	fi
done
check_eq "200 kill -9 during 1 000-user reconciles: account files and key files always whole" 0 "$bad"
diag "$kills processes killed mid-run, $((SECONDS - t0)) s"
check "a final reconcile completes" "$ACCOUNTSD" --once
check "pwck -r clean" pwck -r -q
check "grpck -r clean" grpck -r
check "ls -A /etc lists passwd (the directory looked in)" bash -c 'ls -A /etc | grep -qx passwd'
check_fails "no temp files left in /etc" 1 bash -c 'ls -A /etc | grep -q "^\.#"'
done_testing
