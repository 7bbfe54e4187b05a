#!/usr/bin/env bash
# Delayed-ACK stall of the metadata client on a reused connection, against
# our fake (libmicrohttpd) and Python's http.server (headers and body in two
# segments), and the fake over HTTPS with client certificates (made here with
# openssl). Usage: bench/bench-mds-stall.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BUILD/tests/fake-metadata/oslogin-fake-metadata" --listen 127.0.0.1:$PORT --data tests/fixtures/basic.json \
	--log /dev/null --threads 2 &
fake=$!
exec 3< <(exec python3 bench/split-server.py)
split=$!
TLS=$(mktemp -d /tmp/bench-mds-tls.XXXXXX)
trap 'kill $fake $split ${tls_fake:-} 2>/dev/null; wait $fake 2>/dev/null; rm -rf "$TLS"' EXIT
(
	cd "$TLS"
	for ca in server-ca client-ca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.crt \
			-subj /CN=$ca -days 1 -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
	done
	for c in server:server-ca:metadata.google.internal:serverAuth client:client-ca:bench:clientAuth; do
		IFS=: read -r name ca cn eku <<<"$c"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $name.key -out $name.csr -subj /CN=$cn
		printf 'subjectAltName=DNS:%s\nextendedKeyUsage=%s\n' $cn $eku >$name.ext
		openssl x509 -req -in $name.csr -CA $ca.crt -CAkey $ca.key -CAcreateserial -out $name.crt -days 1 -extfile $name.ext
	done
	mkdir creds state
	cp server-ca.crt creds/root.crt
	cat client.key client.crt >creds/client.key
) >/dev/null 2>&1
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BUILD/tests/fake-metadata/oslogin-fake-metadata" --listen 127.0.0.1:$TLS_PORT --data tests/fixtures/basic.json \
	--log /dev/null --threads 2 --tls-cert "$TLS/server.crt" --tls-key "$TLS/server.key" \
	--tls-client-ca "$TLS/client-ca.crt" 2>/dev/null &
tls_fake=$!
printf '[metadata]\ntransport = https\ncredentials_directory = %s\nstate_directory = %s\nhttps_address = 127.0.0.1:%s\n' \
	"$TLS/creds" "$TLS/state" "$TLS_PORT" >"$TLS/oslogin.conf"
read -r SPLIT_PORT <&3
for _ in $(seq 50); do curl -sf -H 'Metadata-Flavor: Google' http://127.0.0.1:$PORT/computeMetadata/v1/ >/dev/null && break; sleep 0.1; done
"$BUILD/bench/bench-mds-stall" fake=http://127.0.0.1:$PORT/computeMetadata/v1/ \
	http.server=http://127.0.0.1:$SPLIT_PORT/computeMetadata/v1/ fake-https=@$TLS/oslogin.conf
