#!/usr/bin/env bash
# make install into a throwaway root: the expected files with the expected
# modes, and a unit that systemd-analyze verify accepts.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
DEST=$(mktemp -d /run/install.XXXXXX)
check "make install DESTDIR=" make -s -C "$SRC" B="$BUILD" install DESTDIR="$DEST"
ASAN_DEST=$(mktemp -d /run/install-asan.XXXXXX)
check_fails_msg "make install refuses a sanitizer build" 2 "a sanitizer build is never installed" \
	make -s -C "$SRC" B="$BUILD/asan-install" SANITIZE=1 install DESTDIR="$ASAN_DEST"
check_eq "... and writes nothing" "" "$(find "$ASAN_DEST" -mindepth 1 | head -3)"
check_fails "... and builds nothing" 1 test -e "$BUILD/asan-install"
for f in usr/sbin/oslogin-accountsd:755 usr/sbin/oslogin-authorized-keys:755 usr/bin/oslogin-fake-metadata:755 \
	usr/lib/systemd/system/oslogin-accountsd.service:644 usr/lib/tmpfiles.d/oslogin.conf:644 \
	usr/lib/sysusers.d/oslogin.conf:644 usr/share/man/man8/oslogin-accountsd.8:644 \
	usr/share/man/man5/oslogin.conf.5:644 usr/share/bash-completion/completions/osloginctl:644; do
	check_eq "installed ${f%%:*} mode ${f##*:}" "${f##*:}" "$(stat -c %a "$DEST/${f%%:*}" 2>&1)"
done
check "unit uses Type=notify and orders itself before sshd" \
	grep -q '^Before=ssh.service sshd.service' "$DEST/usr/lib/systemd/system/oslogin-accountsd.service"
if command -v systemd-analyze >/dev/null; then
	mount -t overlay overlay -o "lowerdir=$DEST/usr/sbin:/usr/sbin" /usr/sbin
	check "systemd-analyze verify accepts the unit" \
		systemd-analyze verify --man=no "$DEST/usr/lib/systemd/system/oslogin-accountsd.service"
	umount /usr/sbin
else
	skip "systemd-analyze verify" "systemd-analyze not installed"
fi
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$DEST/etc" && touch "$DEST/etc/passwd" "$DEST/etc/group" "$DEST/etc/shadow" "$DEST/etc/gshadow"
	systemd-sysusers --root="$DEST" "$DEST/usr/lib/sysusers.d/oslogin.conf" >/dev/null 2>&1
	check "sysusers creates the unprivileged _oslogin user" grep -q '^_oslogin:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$DEST/etc/passwd"
else
	skip "systemd-sysusers" "not installed"
fi
done_testing
