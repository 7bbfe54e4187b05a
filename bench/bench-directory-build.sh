#!/usr/bin/env bash
# The cache build from the server alone (100 000 users, 10 000 groups of 10
# members, as bench-directory.sh), for one or more builds of accountsd run
# in turn against the same fake server, ROUNDS times: the time accountsd
# logs for the build, and the process's elapsed time, CPU and peak RSS.
# Each BUILD directory needs accountsd/oslogin-accountsd; the fake is the
# first one's. Usage: bench/bench-directory-build.sh ROUNDS BUILD [BUILD...]
set -eu
cd "$(dirname "$0")/.."
ROUNDS=$1
shift
FAKE=$1/tests/fake-metadata/oslogin-fake-metadata
T=$(mktemp -d /tmp/bench-directory-build.XXXXXX)
fake=
trap '[ -n "$fake" ] && kill $fake 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
# The data of bench-directory.sh, without its second file.
sed -n '/^python3 - "\$USERS"/,/^PY$/p' bench/bench-directory.sh |
	sed 's/^python3 - "\$USERS" "\$GROUPS_N" "\$T"/python3 - 100000 10000 "$T"/' >"$T/gen.sh"
T=$T bash -c ". $T/gen.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$FAKE" --listen 127.0.0.1:$PORT --data "$T/big.json" --log /dev/null --threads 2 2>/dev/null &
fake=$!
for _ in $(seq 100); do curl -sf -H 'Metadata-Flavor: Google' $URL/computeMetadata/v1/ >/dev/null && break; sleep 0.1; done
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$URL" >"$T/oslogin.conf"
chmod 644 "$T/oslogin.conf"
mkdir -p /run/sshd # sshd -t (activation) wants it, as on a host
for round in $(seq "$ROUNDS"); do
	for b in "$@"; do
		rm -rf "$T/root" "$T/run"
		mkdir -p "$T/root/var/lib" "$T/root/home" "$T/run"
		cp -a /etc "$T/root/etc" 2>/dev/null || true
		/usr/bin/time -o "$T/time" -f "elapsed_s=%e user_s=%U sys_s=%S peak_rss_kb=%M" \
			"$b/accountsd/oslogin-accountsd" --once --config "$T/oslogin.conf" --root "$T/root" \
			--runtime-dir "$T/run" >"$T/out.log" 2>&1 || true
		built=$(sed -n 's/.*Directory cache built in \([0-9]*\) ms.*/\1/p' "$T/out.log")
		echo "round $round $b: build_ms=${built:-FAILED} $(cat "$T/time")"
	done
done
