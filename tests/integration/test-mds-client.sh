#!/usr/bin/env bash
# The metadata client (through oslogin-mds-get) against the fake server and
# every fault it can inject: each call answers within its deadline, retries
# only what is worth retrying, and never takes a broken answer for data.
. "$(dirname "$0")/../lib.sh"

GET=$BUILD/tests/tools/oslogin-mds-get
[ -x "$GET" ] || { not_ok "oslogin-mds-get built at $GET"; done_testing; }
start_fake "$FIXTURES/basic.json" || { not_ok "fake server starts"; done_testing; }
URL=$FAKE_URL/computeMetadata/v1/
CTL=$FAKE_URL/_fake

fault() { curl -sf -X PUT --data "$1" "$CTL/faults" >/dev/null; }
clear_faults() { curl -sf -X DELETE "$CTL/faults" >/dev/null; }
# mds ARGS...: runs the client; sets OUT, ERR, RC and MS (wall time).
mds() {
	local t0=$(date +%s%N)
	OUT=$("$GET" --url "$URL" --count --verbose "$@" 2>/tmp/mds-err.$$)
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	ERR=$(cat /tmp/mds-err.$$)
	rm -f /tmp/mds-err.$$
}
requests() { echo "$ERR" | sed -n 's/^requests: //p'; }

mds instance/attributes/enable-oslogin
check_eq "leaf attribute" "FALSE:0" "$OUT:$RC"
mds --query username=alice_example_com oslogin/users
check "profile by name" grep -q '"username":"alice_example_com"' <<<"$OUT"
mds --query 'username=a b:c/..' oslogin/users
check_eq "odd name percent-encoded, 404 is 'no such user' (exit 4)" 4 "$RC"
mds --query username=nobody oslogin/users
check_eq "404 is not retried" "4:1" "$RC:$(requests)"

fault '{"status":503,"count":2}'
mds instance/hostname
check_eq "two 503s then success: 3 requests" "0:3:vm-1.c.acme-prod.internal" "$RC:$(requests):$OUT"
fault '{"status":429,"count":1}'
mds instance/hostname
check_eq "429 retried" "0:2" "$RC:$(requests)"
fault '{"status":500}'
mds --timeout 1s instance/hostname
check_eq "500 until the deadline: failure" 1 "$RC"
[ "$MS" -lt 2500 ] && ok "500 burst gives up at the deadline (${MS} ms)" || not_ok "500 burst took ${MS} ms"
[ "$(requests)" -ge 3 ] && [ "$(requests)" -le 20 ] && ok "back-off bounds the retries ($(requests) in 1 s)" ||
	not_ok "retries in 1 s: $(requests)"
fault '{"status":403}'
mds instance/hostname
check_eq "403 not retried" "1:1" "$RC:$(requests)"
fault '{"status":400}'
mds instance/hostname
check_eq "400 not retried" "1:1" "$RC:$(requests)"
fault '{"no_flavor":true}'
mds instance/hostname
check_eq "answer without Metadata-Flavor refused" "1:" "$RC:$OUT"
check "missing flavor reported" grep -q "Protocol error" <<<"$ERR"
fault '{"body":"oversized"}'
mds instance/hostname
check_eq "2 MiB body refused (cap 1 MiB)" "1:" "$RC:$OUT"
check "oversize reported" grep -q "too large" <<<"$ERR"
fault '{"body":"truncated","count":1}'
mds --query username=alice_example_com oslogin/users
check_eq "truncated body retried, then whole" "0:2" "$RC:$(requests)"
check "complete profile after truncation" python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$OUT"
fault '{"drop":true,"count":1}'
mds instance/hostname
check_eq "dropped connection retried" "0:2" "$RC:$(requests)"
fault '{"delay_ms":3000}'
mds --timeout 1s instance/hostname
check_eq "slow server: deadline" 1 "$RC"
[ "$MS" -lt 2000 ] && ok "slow server answered within deadline (${MS} ms)" || not_ok "slow server took ${MS} ms"
fault '{"blackhole":true}'
mds --timeout 1s instance/hostname
[ "$RC" -eq 1 ] && [ "$MS" -lt 2000 ] && ok "black hole: gives up at the deadline (${MS} ms)" ||
	not_ok "black hole: rc=$RC after ${MS} ms"
clear_faults

# Proxies are never used, even when the environment says so.
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 mds instance/hostname
check_eq "proxy variables ignored" "0:vm-1.c.acme-prod.internal" "$RC:$OUT"

# GCE_METADATA_HOST overrides the configured URL.
OUT=$(GCE_METADATA_HOST=$FAKE_ADDR "$GET" --url http://127.0.0.1:9/computeMetadata/v1/ instance/hostname 2>/dev/null)
check_eq "GCE_METADATA_HOST overrides the URL" "vm-1.c.acme-prod.internal" "$OUT"

# Refused connection: fails fast, not at the deadline.
PORT=$(free_port)
t0=$(date +%s%N)
"$GET" --url "http://127.0.0.1:$PORT/computeMetadata/v1/" --timeout 2s instance/hostname 2>/dev/null
rc=$? ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 1 ] && ok "refused connection fails (${ms} ms)" || not_ok "refused connection rc=$rc"

# Long-poll: returns at once without an ETag, waits with the current one, wakes on change.
mds '?recursive=true&alt=json'
ETAG=$(echo "$ERR" | sed -n 's/^etag: //p')
[ -n "$ETAG" ] && ok "document has an ETag" || not_ok "no ETag"
mds --wait-for-change --last-etag "$ETAG" --timeout-sec 1 '?recursive=true&alt=json'
[ "$RC" -eq 0 ] && [ "$MS" -ge 900 ] && ok "unchanged long-poll waits timeout_sec (${MS} ms)" || not_ok "long-poll rc=$RC ${MS} ms"
(sleep 0.3; curl -sf -X PUT --data TRUE "$CTL/attributes/instance/enable-oslogin" >/dev/null) &
changer=$!
mds --wait-for-change --last-etag "$ETAG" --timeout-sec 20 '?recursive=true&alt=json'
wait "$changer"
[ "$RC" -eq 0 ] && [ "$MS" -lt 1500 ] && ok "long-poll wakes on change (${MS} ms)" || not_ok "wake rc=$RC ${MS} ms"
check '"enable-oslogin":"TRUE" in the new document' grep -q '"enable-oslogin":"TRUE"' <<<"$OUT"

# Request counting in the fake (tests of the AKC rely on it).
curl -sf -X DELETE "$CTL/stats" >/dev/null
mds instance/hostname
check_eq "fake counts requests" 1 "$(curl -sf "$CTL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')"

# The fake stops cleanly with clients waiting in long-polls and black holes
# (libmicrohttpd aborts when stopped with a suspended connection), also
# when a keep-alive client asks again the moment it is answered, as
# accountsd's watch does.
python3 - "$FAKE_ADDR" <<'PY' &
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], timeout=20)
etag = ""
while True:
    try:
        c.request("GET", "/computeMetadata/v1/?recursive=true&alt=json&wait_for_change=true&timeout_sec=30&last_etag=" + etag,
                  headers={"Metadata-Flavor": "Google"})
        r = c.getresponse()
        etag = r.getheader("ETag") or etag
        r.read()
    except Exception:
        break
PY
poller=$!
for _ in 1 2 3; do
	curl -s -m 10 -H 'Metadata-Flavor: Google' \
		"$FAKE_URL/computeMetadata/v1/?recursive=true&wait_for_change=true&last_etag=$ETAG" >/dev/null &
done
curl -sf -X PUT --data '{"blackhole":true,"path_prefix":"/computeMetadata/v1/instance/hostname"}' "$CTL/faults" >/dev/null
curl -s -m 10 -H 'Metadata-Flavor: Google' "$FAKE_URL/computeMetadata/v1/instance/hostname" >/dev/null &
sleep 0.5
kill "$FAKE_PID"
wait "$FAKE_PID"
check_eq "SIGTERM with suspended long-polls and black holes: clean exit 0" 0 "$?"
check "… its log is there to look in" test -f "$FAKE_LOG"
check_fails "… no libmicrohttpd panic in its log" 1 grep -q "Fatal error" "$FAKE_LOG"
wait "$poller" 2>/dev/null
done_testing
