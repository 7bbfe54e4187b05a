#!/usr/bin/env bash
# The metadata client over HTTPS with mutual TLS (oslogin-mds-get, as
# accountsd uses lib/mds): the fake serves HTTPS with client certificates
# required, and plain HTTP beside it. Certificates are made here, at run time.
# Transport auto: HTTPS when /run/google-mds-mtls/{root.crt,client.key}
# exist; the first HTTPS answer pins /var/lib/oslogin/mds-https-pinned, after
# which plain HTTP is refused. Each refusal names the exit and the error.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"

GET=$BUILD/tests/tools/oslogin-mds-get
[ -x "$GET" ] || { not_ok "oslogin-mds-get built at $GET"; done_testing; }
command -v openssl >/dev/null || { skip "HTTPS tests" "openssl not installed"; done_testing; }

# Defaults under test: credentials in /run/google-mds-mtls (/run is private
# here), the pin in /var/lib/oslogin (a private tmpfs here).
MTLS=/run/google-mds-mtls
PIN=/var/lib/oslogin/mds-https-pinned
private_dir /var/lib/oslogin
W=$(mktemp -d /run/https-test.XXXXXX)
cd "$W" || exit 1

mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.crt" \
		-subj "/CN=$1" -days 2 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mkcert() { # CA NAME CN EXTENDED_KEY_USAGE
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$2.key" -out "$2.csr" \
		-subj "/CN=$3" 2>/dev/null &&
		printf 'subjectAltName=DNS:%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$3" "$4" >"$2.ext" &&
		openssl x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -out "$2.crt" -days 2 \
			-extfile "$2.ext" 2>/dev/null
}
mkca server-ca && mkca client-ca && mkca other-ca &&
	mkcert server-ca server metadata.google.internal serverAuth &&
	mkcert other-ca impostor metadata.google.internal serverAuth &&
	mkcert client-ca client oslogin-client clientAuth &&
	mkcert other-ca rogue oslogin-client clientAuth
check "CA, server and client certificates made with openssl" test -s rogue.crt

# install_credentials KEY CERT: root.crt verifies the server; client.key
# holds the EC key and the client certificate, concatenated (as on a VM).
install_credentials() {
	mkdir -p "$MTLS"
	cp server-ca.crt "$MTLS/root.crt"
	cat "$1" "$2" >"$MTLS/client.key"
	chmod 0600 "$MTLS/client.key"
}
remove_credentials() { rm -rf "$MTLS"; }

# The plain HTTP server, and the HTTPS one (started by start_https).
start_fake "$FIXTURES/basic.json" || { not_ok "fake HTTP server starts"; done_testing; }
HTTP_ADDR=$FAKE_ADDR HTTP_LOG=$FAKE_LOG
HTTPS_PORT=$(free_port)
start_https() { # SERVER_CERT SERVER_KEY CLIENT_CA
	HTTPS_LOG=$W/https-$1.log
	"$FAKE" --listen "127.0.0.1:$HTTPS_PORT" --data "$FIXTURES/basic.json" --log "$HTTPS_LOG" \
		--tls-cert "$1" --tls-key "$2" --tls-client-ca "$3" 2>"$W/https-$1.err" &
	HTTPS_PID=$!
	_cleanup_pids+=("$HTTPS_PID")
	wait_for 10 bash -c "</dev/tcp/127.0.0.1/$HTTPS_PORT"
	: >"$HTTPS_LOG" # only the requests of the checks below
}
stop_https() { kill "$HTTPS_PID" 2>/dev/null; wait "$HTTPS_PID" 2>/dev/null; }
http_requests() { grep -c '^GET /computeMetadata' "$HTTP_LOG"; }
https_requests() { grep -c '^GET /computeMetadata/v1/instance/hostname 200' "$HTTPS_LOG"; }

# write_config TRANSPORT
write_config() {
	mkdir -p /etc/oslogin-test
	printf '[metadata]\nurl = http://%s/computeMetadata/v1/\nhttps_address = 127.0.0.1:%s\ntimeout = 2s\n%s' \
		"$HTTP_ADDR" "$HTTPS_PORT" "${1:+transport = $1
}" >"$W/oslogin.conf"
}
# mds ARGS...: OUT, ERR, RC of oslogin-mds-get instance/hostname.
mds() {
	OUT=$("$GET" --config "$W/oslogin.conf" --verbose --count "$@" instance/hostname 2>"$W/err")
	RC=$?
	ERR=$(cat "$W/err")
}
HOSTNAME_OK=vm-1.c.acme-prod.internal

# 1. No credentials: plain HTTP, nothing pinned.
write_config
mds
check_eq "auto without credentials: plain HTTP answers" "0:$HOSTNAME_OK" "$RC:$OUT"
check "… reported as via http" grep -qx "via: http" <<<"$ERR"
check "the pin's directory exists (case 4 pins there)" test -d "$(dirname "$PIN")"
check_fails "… and nothing is pinned" 1 test -e "$PIN"

# 2. A server certificate from another CA: refused, not retried, no fallback.
install_credentials client.key client.crt
start_https impostor.crt impostor.key client-ca.crt
before=$(http_requests)
mds
check_eq "server certificate from another CA: exit 1, nothing printed" "1:" "$RC:$OUT"
check "… error is 'Key was rejected by service' (EKEYREJECTED)" grep -q "Key was rejected by service" <<<"$ERR"
check "… after one request (not retried)" grep -qx "requests: 1" <<<"$ERR"
check_eq "… and no fallback to plain HTTP" "$before" "$(http_requests)"
check_fails "… and nothing is pinned" 1 test -e "$PIN"
stop_https

# 3. The real server; a client certificate from an untrusted CA, then none.
start_https server.crt server.key client-ca.crt
install_credentials rogue.key rogue.crt
before=$(http_requests)
mds --timeout 1s
check_eq "client certificate from an untrusted CA: exit 1" "1:" "$RC:$OUT"
check "… the server refused every attempt (connection closed: 'Connection timed out' at the deadline)" \
	grep -q "Connection timed out" <<<"$ERR"
check_eq "… no answer was served over HTTPS" 0 "$(https_requests)"
check_eq "… and no fallback to plain HTTP" "$before" "$(http_requests)"
check_fails "… and nothing is pinned" 1 test -e "$PIN"
curl -sS --cacert server-ca.crt --resolve "metadata.google.internal:$HTTPS_PORT:127.0.0.1" \
	-H 'Metadata-Flavor: Google' "https://metadata.google.internal:$HTTPS_PORT/computeMetadata/v1/" \
	>/dev/null 2>&1
# The server closes the connection after the handshake: curl sees an empty
# reply (52) or a failed send (55), by a race of who writes first.
rc=$?
check "the fake refuses a client without a certificate (curl exit 52 or 55: TLS closed, rc $rc)" \
	test "$rc" = 52 -o "$rc" = 55
printf '%s\n' "$(cat rogue.key)" >"$MTLS/client.key" # the key alone, no certificate
mds --timeout 1s
check_eq "client.key without its certificate: exit 1" "1:" "$RC:$OUT"
check "… error is 'Key was rejected by service' (curl cannot use the credentials)" \
	grep -q "Key was rejected by service" <<<"$ERR"

# 4. The right credentials: HTTPS works and is pinned.
install_credentials client.key client.crt
before=$(http_requests)
mds
check_eq "auto with credentials: HTTPS answers" "0:$HOSTNAME_OK" "$RC:$OUT"
check "… reported as via https" grep -qx "via: https" <<<"$ERR"
check_eq "… served by the HTTPS fake" 1 "$(https_requests)"
check_eq "… not by the HTTP one" "$before" "$(http_requests)"
check "… and pinned in /var/lib/oslogin" test -s "$PIN"

# 5. Pinned, credentials gone: plain HTTP refused at once.
remove_credentials
before=$(http_requests)
mds
check_eq "pinned, credentials removed: exit 1" "1:" "$RC:$OUT"
check "… error is 'Required key not available' (ENOKEY)" grep -q "Required key not available" <<<"$ERR"
check "… without a request" grep -qx "requests: 0" <<<"$ERR"
check_eq "… the HTTP server was not asked" "$before" "$(http_requests)"

# 6. Pinned, HTTPS server down while HTTP answers: an outage, not a downgrade.
install_credentials client.key client.crt
stop_https
before=$(http_requests)
mds --timeout 1s
check_eq "pinned, HTTPS server down, HTTP up: exit 1" "1:" "$RC:$OUT"
check "… error is 'Connection refused' (no HTTPS server there: an outage, reported as such)" grep -q "Connection refused" <<<"$ERR"
check_eq "… the HTTP server was not asked" "$before" "$(http_requests)"

# 7. transport = http on a pinned host: refused; without the pin: plain HTTP.
write_config http
mds
check_eq "transport = http while pinned: exit 1" "1:" "$RC:$OUT"
check "… error is 'Operation not permitted' (EPERM)" grep -q "Operation not permitted" <<<"$ERR"
check_eq "… the HTTP server was not asked" "$before" "$(http_requests)"
rm -f "$PIN"
mds
check_eq "transport = http without the pin: plain HTTP, credentials ignored" "0:$HOSTNAME_OK:$((before + 1))" \
	"$RC:$OUT:$(http_requests)"

# 8. transport = https without credentials: refused, no request.
write_config https
remove_credentials
mds
check_eq "transport = https without credentials: exit 1" "1:" "$RC:$OUT"
check "… error is 'Required key not available' (ENOKEY)" grep -q "Required key not available" <<<"$ERR"

# 9. Credentials that appear while a client runs (as on a VM just after
# boot): the same client moves to HTTPS at its next call, then pins.
write_config
start_https server.crt server.key client-ca.crt
"$GET" --config "$W/oslogin.conf" --repeat 12 --interval 100 instance/hostname >/dev/null 2>"$W/repeat" &
client=$!
sleep 0.45
install_credentials client.key client.crt
wait "$client"
check_eq "long-lived client: all 12 calls answered" 0 "$?"
check "… the first calls over plain HTTP" grep -q "^call 1: via http: OK" "$W/repeat"
check "… the last over HTTPS, without a restart" grep -q "^call 12: via https: OK" "$W/repeat"
check "… and HTTPS was pinned" test -s "$PIN"
# … and when they go away again, the same client refuses plain HTTP.
"$GET" --config "$W/oslogin.conf" --repeat 8 --interval 100 instance/hostname >/dev/null 2>"$W/repeat" &
client=$!
sleep 0.35
remove_credentials
wait "$client"
check_eq "long-lived client, credentials removed: last call fails (exit 1)" 1 "$?"
check "… first call over HTTPS" grep -q "^call 1: via https: OK" "$W/repeat"
check "… last call 'Required key not available', no HTTP" grep -q "^call 8: via https: Required key not available" \
	"$W/repeat"

done_testing
