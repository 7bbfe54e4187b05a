#!/usr/bin/env bash
# Delayed-ACK stall of the metadata client on a reused connection, against
# our fake (libmicrohttpd) and Python's http.server (headers and body in two
# segments). Usage: bench/bench-mds-stall.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BUILD/tests/fake-metadata/oslogin-fake-metadata" --listen 127.0.0.1:$PORT --data tests/fixtures/basic.json \
	--log /dev/null --threads 2 &
fake=$!
exec 3< <(exec python3 bench/split-server.py)
split=$!
trap 'kill $fake $split 2>/dev/null; wait $fake 2>/dev/null' EXIT
read -r SPLIT_PORT <&3
for _ in $(seq 50); do curl -sf -H 'Metadata-Flavor: Google' http://127.0.0.1:$PORT/computeMetadata/v1/ >/dev/null && break; sleep 0.1; done
"$BUILD/bench/bench-mds-stall" fake=http://127.0.0.1:$PORT/computeMetadata/v1/ \
	http.server=http://127.0.0.1:$SPLIT_PORT/computeMetadata/v1/
