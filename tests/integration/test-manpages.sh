#!/usr/bin/env bash
# Every man page renders without a groff warning, and every installed
# program has one.
. "$(dirname "$0")/../lib.sh"
for page in "$SRC"/man/*.[1-8]; do
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>&1)
	if [ -z "$out" ]; then ok "$(basename "$page") renders cleanly"; else not_ok "$(basename "$page")" "$out"; fi
	check "man -l $(basename "$page")" bash -c "MANWIDTH=80 man -l '$page' >/dev/null"
done
for prog in oslogin-fake-metadata.1 oslogin-authorized-keys.8 oslogin-accountsd.8 oslogin.conf.5 pam_oslogin.8 \
	nss-oslogin.8 osloginctl.8 oslogin.7; do
	check "man page $prog exists" test -f "$SRC/man/$prog"
done
done_testing
