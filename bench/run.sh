#!/usr/bin/env bash
# Runs every benchmark against a fresh fake metadata server and prints the
# figures recorded in BENCHMARKS.md. Usage: bench/run.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BUILD/tests/fake-metadata/oslogin-fake-metadata" --listen 127.0.0.1:$PORT --data tests/fixtures/basic.json \
	--log /dev/null --threads 2 &
fake=$!
trap 'kill $fake 2>/dev/null; wait $fake 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf -H 'Metadata-Flavor: Google' http://127.0.0.1:$PORT/computeMetadata/v1/ >/dev/null && break; sleep 0.1; done
echo "== metadata client and fake server ($(nproc) cores)"
"$BUILD/bench/bench-mds" http://127.0.0.1:$PORT/computeMetadata/v1/ 4 3
echo "== delayed-ACK stall on a reused connection: fake and Python's http.server"
bench/bench-mds-stall.sh "$BUILD"
echo "== metadata-key accounts (1 000 users)"
bench/bench-accounts.sh "$BUILD" 1000
echo "== /etc reconcile alone, oslogin-reconcile --root (1 000 users)"
bench/bench-reconcile.sh "$BUILD" 1000
echo "== OS Login directory of accountsd (100 000 users, 10 000 groups)"
bench/bench-directory.sh "$BUILD"
for b in "$BUILD"/bench/bench-*; do
	# bench-directory-miss is bench-directory.sh's tool, not a benchmark.
	case "$b" in *.o | *.d | */bench-mds | */bench-mds-stall | */bench-directory-miss) continue ;; esac
	echo "== $(basename "$b")"
	"$b" http://127.0.0.1:$PORT/computeMetadata/v1/
done
