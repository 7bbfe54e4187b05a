#!/usr/bin/env bash
# The fake metadata server's policy endpoints, checked for the wire shapes
# of doc/oslogin-policies.md with curl: oslogin/certificates,
# users?view=securityKey, authorize&fingerprint=, and the two-factor flow
# with START_ALTERNATE, SECURITY_KEY_OTP and the rejection reason.
. "$(dirname "$0")/../lib.sh"

[ -x "$FAKE" ] || { not_ok "fake metadata server built at $FAKE"; done_testing; }
start_fake "$FIXTURES/policies.json" || { not_ok "fake server starts with policies.json"; done_testing; }
API=$FAKE_URL/computeMetadata/v1/oslogin

get() { curl -s -H 'Metadata-Flavor: Google' "$API/$1"; }
post() { curl -s -H 'Metadata-Flavor: Google' -H 'Content-Type: application/json' --data "$2" "$API/$1"; }
# jq-free JSON checks: py EXPR-over-d < answer
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --- certificates ---
out=$(get certificates | py 'json.dumps(d)')
check_eq "certificates: trustedCertificateAuthorities[].publicKey from the fixture" \
	"{\"trustedCertificateAuthorities\": [{\"publicKey\": \"$(cat "$FIXTURES/keys/policy-ca.pub")\"}]}" "$out"

# --- security keys ---
out=$(get 'users?username=heidi_example_com&view=securityKey' | py '[k["publicKey"].split()[0] for k in d["loginProfiles"][0]["securityKeys"]]')
check_eq "view=securityKey: both sk keys, in order" \
	"['sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com']" "$out"
out=$(get 'users?username=heidi_example_com&view=securityKey' | py 'sorted(d["loginProfiles"][0])')
check_eq "view=securityKey: the usual profile plus securityKeys" \
	"['name', 'posixAccounts', 'securityKeys', 'sshPublicKeys']" "$out"
out=$(get 'users?username=heidi_example_com' | py '"securityKeys" in d["loginProfiles"][0]')
check_eq "without view=securityKey: no securityKeys" "False" "$out"
out=$(get 'users?username=ivan_example_com&view=securityKey' | py 'd["loginProfiles"][0]["securityKeys"]')
check_eq "view=securityKey for a user without any: an empty array" "[]" "$out"
out=$(get 'users?pagesize=10' | py 'any("securityKeys" in p or "certifiedFingerprints" in p or "twoFactor" in p for p in d["loginProfiles"])')
check_eq "pages show no fixture-only fields" "False" "$out"

# --- authorize with a fingerprint ---
auth() { get "authorize?email=$1&policy=$2${3:+&fingerprint=$3}" | py 'json.dumps(d)'; }
check_eq "authorize: login, no fingerprint" '{"success": true}' "$(auth ivan%40example.com login)"
check_eq "authorize: fingerprint of a profile key" '{"success": true}' "$(auth ivan%40example.com login fp-ivan)"
check_eq "authorize: a certified fingerprint" '{"success": true}' \
	"$(auth ivan%40example.com login b86db4ca-09fd-429e-b121-a12799614032)"
check_eq "authorize: adminLogin with a certified fingerprint" '{"success": true}' \
	"$(auth ivan%40example.com adminLogin b86db4ca-09fd-429e-b121-a12799614032)"
check_eq "authorize: a fingerprint the directory does not vouch for" '{"success": false}' \
	"$(auth ivan%40example.com login not-a-known-fingerprint)"
check_eq "authorize: another user's fingerprint" '{"success": false}' "$(auth ivan%40example.com login fp-heidi-plain)"
check_eq "authorize: policy refused, even with a good fingerprint" '{"success": false}' \
	"$(auth mallory%40example.com login fp-mallory)"
check_eq "authorize: adminLogin not granted, good fingerprint" '{"success": false}' \
	"$(auth heidi%40example.com adminLogin fp-heidi-plain)"

# --- two-factor ---
ALL='["INTERNAL_TWO_FACTOR","SECURITY_KEY_OTP","AUTHZEN","TOTP","IDV_PREREGISTERED_PHONE"]'
start() { post authenticate/sessions/start "{\"email\":\"$1\",\"supportedChallengeTypes\":${2:-$ALL}}"; }
cont() { post "authenticate/sessions/$1/continue" "$2"; }

ans=$(start judy@example.com)
out=$(echo "$ans" | py 'repr((d["status"], [(c["challengeId"], c["challengeType"], c["status"]) for c in d["challenges"]]))')
check_eq "start: every challenge with id, type and status; alternates PROPOSED" \
	"('CHALLENGE_REQUIRED', [(1, 'TOTP', 'READY'), (2, 'IDV_PREREGISTERED_PHONE', 'PROPOSED'), (3, 'SECURITY_KEY_OTP', 'READY'), (4, 'AUTHZEN', 'PROPOSED')])" "$out"
sid=$(echo "$ans" | py 'd["sessionId"]')
check "start: a session id safe in a URL path" grep -Eq '^[A-Za-z0-9_-]+$' <<<"$sid"

out=$(start judy@example.com '["TOTP","IDV_PREREGISTERED_PHONE","AUTHZEN"]' | py '[c["challengeType"] for c in d["challenges"]]')
check_eq "start: only the types the client supports (no SECURITY_KEY_OTP)" \
	"['TOTP', 'IDV_PREREGISTERED_PHONE', 'AUTHZEN']" "$out"
out=$(start mallory@example.com | py 'json.dumps(d)')
check_eq "start: a user without factors: NO_AVAILABLE_CHALLENGES" '{"status": "NO_AVAILABLE_CHALLENGES"}' "$out"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Metadata-Flavor: Google' --data '{"email":"heidi@example.com"}' "$API/authenticate/sessions/start")
check_eq "start: a user without two-factor: 404" 404 "$code"

respond() { cont "$sid" "{\"email\":\"judy@example.com\",\"challengeId\":$1,\"action\":\"RESPOND\",\"proposalResponse\":{\"credential\":\"$2\"}}" | py 'json.dumps(d)'; }
check_eq "RESPOND to a PROPOSED challenge before START_ALTERNATE: FAILED with a reason" \
	'{"status": "FAILED", "rejectionReason": "This verification method was not started."}' "$(respond 2 424242)"
out=$(cont "$sid" '{"email":"judy@example.com","challengeId":2,"action":"START_ALTERNATE"}' |
	py 'repr((d["status"], [(c["challengeId"], c["status"]) for c in d["challenges"]]))')
check_eq "START_ALTERNATE: that challenge is READY now, the others unchanged" \
	"('CHALLENGE_REQUIRED', [(1, 'READY'), (2, 'READY'), (3, 'READY'), (4, 'PROPOSED')])" "$out"
check_eq "RESPOND after START_ALTERNATE with a wrong code: the fixture's rejection reason" \
	'{"status": "FAILED", "rejectionReason": "Wrong code. Try again."}' "$(respond 2 000000)"
check_eq "RESPOND after START_ALTERNATE with the code: AUTHENTICATED" '{"status": "AUTHENTICATED"}' "$(respond 2 424242)"
check_eq "SECURITY_KEY_OTP: the code from g.co/sc authenticates" '{"status": "AUTHENTICATED"}' "$(respond 3 424242)"
check_eq "TOTP (READY from the start) with the code" '{"status": "AUTHENTICATED"}' "$(respond 1 424242)"

# AUTHZEN: no proposalResponse; approved in the fixture, after START_ALTERNATE.
out=$(cont "$sid" '{"email":"judy@example.com","challengeId":4,"action":"RESPOND"}' | py 'd["status"]')
check_eq "AUTHZEN before START_ALTERNATE: FAILED" FAILED "$out"
cont "$sid" '{"email":"judy@example.com","challengeId":4,"action":"START_ALTERNATE"}' >/dev/null
out=$(cont "$sid" '{"email":"judy@example.com","challengeId":4,"action":"RESPOND"}' | py 'd["status"]')
check_eq "AUTHZEN after START_ALTERNATE, approved on the phone: AUTHENTICATED" AUTHENTICATED "$out"

# A new session starts with the alternates PROPOSED again.
sid2=$(start judy@example.com | py 'd["sessionId"]')
check "each start is a new session" test "$sid2" != "$sid"
out=$(cont "$sid2" '{"email":"judy@example.com","challengeId":2,"action":"RESPOND","proposalResponse":{"credential":"424242"}}' | py 'd["status"]')
check_eq "START_ALTERNATE of one session does not start another's" FAILED "$out"

status() { curl -s -o /dev/null -w '%{http_code}' -H 'Metadata-Flavor: Google' --data "$2" "$API/authenticate/sessions/$1/continue"; }
check_eq "continue: unknown session: 404" 404 "$(status no-such-session '{"email":"judy@example.com","challengeId":1,"action":"RESPOND"}')"
check_eq "continue: unknown action: 400" 400 "$(status "$sid" '{"email":"judy@example.com","challengeId":1,"action":"SKIP"}')"
check_eq "continue: no such challenge: 400" 400 "$(status "$sid" '{"email":"judy@example.com","challengeId":9,"action":"RESPOND"}')"
check_eq "continue: a session of another user: 400" 400 "$(status "$sid" '{"email":"mallory@example.com","challengeId":1,"action":"RESPOND"}')"
check_eq "continue with GET: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Metadata-Flavor: Google' "$API/authenticate/sessions/$sid/continue")"

done_testing
