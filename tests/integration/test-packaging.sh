#!/usr/bin/env bash
# Builds the Debian packages from a copy of the tree, runs lintian, installs
# them for real inside a namespace (overlays over /usr and dpkg's database,
# a private /etc and /var/lib), then purges: nothing may remain.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
command -v dpkg-buildpackage >/dev/null || { skip "dpkg-buildpackage" "dpkg-dev not installed"; done_testing; }

WORK=$(mktemp -d /run/pkg.XXXXXX)
mkdir "$WORK/oslogin-0.1.0"
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$WORK/oslogin-0.1.0/")
(cd "$WORK/oslogin-0.1.0" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1)
rc=$?
check_eq "dpkg-buildpackage -us -uc -b" 0 "$rc"
[ "$rc" -eq 0 ] || { tail -20 "$WORK/build.log" | sed 's/^/# /'; done_testing; }
DEB=$WORK/oslogin_0.1.0_amd64.deb
FAKEDEB=$WORK/oslogin-fake-metadata_0.1.0_amd64.deb
NSSDEB=$WORK/libnss-oslogin_0.1.0_amd64.deb
lintian --tag-display-limit 0 "$WORK"/oslogin_0.1.0_amd64.changes >"$WORK/lintian.log" 2>&1
check_eq "lintian: no errors" "" "$(grep '^E:' "$WORK/lintian.log")"
diag "lintian warnings: $(grep -c '^W:' "$WORK/lintian.log")"
check "no maintainer script edits sshd, nsswitch or PAM" bash -c \
	"dpkg-deb -e '$DEB' '$WORK/ctl' && ! grep -lE '/etc/ssh/sshd_config|/etc/nsswitch.conf|/etc/pam.d' '$WORK'/ctl/post* '$WORK'/ctl/pre* 2>/dev/null"
check "conffile /etc/oslogin/oslogin.conf" grep -qx /etc/oslogin/oslogin.conf "$WORK/ctl/conffiles"

# The RPMs (Debian's rpmbuild; BuildRequires are Fedora names, hence --nodeps).
if command -v rpmbuild >/dev/null; then
	R=$WORK/rpm
	mkdir -p "$R/SOURCES"
	tar -C "$WORK" -czf "$R/SOURCES/oslogin-0.1.0.tar.gz" --exclude=oslogin-0.1.0/build oslogin-0.1.0
	rpmbuild --define "_topdir $R" --define "_unitdir /usr/lib/systemd/system" \
		--define "_tmpfilesdir /usr/lib/tmpfiles.d" --define "_sysusersdir /usr/lib/sysusers.d" \
		--nodeps -bb "$WORK/oslogin-0.1.0/rpm/oslogin.spec" >"$WORK/rpmbuild.log" 2>&1
	check_eq "rpmbuild -bb rpm/oslogin.spec" 0 "$?"
	layout() { sed -e 's|^\./|/|' -e 's|\.gz$||' -e 's|^/lib/|/usr/lib/|' -e 's|^/usr/lib/x86_64-linux-gnu/|/usr/LIBDIR/|' -e 's|^/usr/lib64/|/usr/LIBDIR/|' | grep -vE '/$|^/usr/lib/\.build-id|^/usr/share/doc' | sort; }
	debs=$(for d in "$DEB" "$FAKEDEB" "$NSSDEB"; do dpkg-deb -c "$d" | awk '$1 !~ /^d/ {print $6}'; done | layout)
	rpms=$(for r in "$R"/RPMS/*/*.rpm; do rpm -qlp "$r" 2>/dev/null; done | layout)
	check_eq "rpm -qlp layout matches the debs' (lib dirs, compression and docs aside)" "$debs" "$rpms"
else
	skip "rpmbuild" "rpm not installed"
fi

# A throwaway system: the real one seen through overlays.
private_etc
for d in /usr /var; do
	up=$(mktemp -d /run/ovl.XXXXXX)
	mkdir "$up/u" "$up/w"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$up/u,workdir=$up/w" "$d"
done
check "dpkg -i the packages" dpkg -i "$DEB" "$FAKEDEB" "$NSSDEB"
check_eq "NSS module installed (0644 root)" "644 root" "$(stat -c '%a %U' /usr/lib/x86_64-linux-gnu/libnss_oslogin.so.2 2>&1)"
check "installing the NSS module did not edit nsswitch.conf" bash -c '! grep -q oslogin /etc/nsswitch.conf' 
for f in /usr/sbin/oslogin-accountsd:755:root /usr/sbin/oslogin-authorized-keys:755:root \
	/usr/bin/oslogin-fake-metadata:755:root /etc/oslogin/oslogin.conf:644:root \
	/lib/systemd/system/oslogin-accountsd.service:644:root /usr/share/man/man8/oslogin-accountsd.8.gz:644:root; do
	IFS=: read -r path mode owner <<<"$f"
	check_eq "installed $path ($mode $owner)" "$mode $owner" "$(stat -c '%a %U' "$path" 2>&1)"
done
check "_oslogin system user created" bash -c 'getent passwd _oslogin | grep -q ":/nonexistent:/usr/sbin/nologin$"'
check "service enabled" test -L /etc/systemd/system/multi-user.target.wants/oslogin-accountsd.service
check "every directory above the AKC is root-owned and not group/world-writable" bash -c \
	'p=/usr/sbin/oslogin-authorized-keys; while [ "$p" != / ]; do [ "$(stat -c %U "$p")" = root ] && [ $(( 0$(stat -c %a "$p") & 022 )) -eq 0 ] || exit 1; p=$(dirname "$p"); done'
check "sshd_config untouched by the install" cmp -s /etc/ssh/sshd_config /run/private-etc.*/ssh/sshd_config
check "dpkg -i again (reinstall)" dpkg -i "$DEB"
cp -a /etc/nsswitch.conf /run/nsswitch.before
check "osloginctl activate (installed)" /usr/sbin/osloginctl --no-reload activate
check "nsswitch now has oslogin" grep -q ' oslogin$' /etc/nsswitch.conf
echo "dave 1001" >/var/lib/oslogin/uidmap
check "dpkg --purge" dpkg --purge oslogin oslogin-fake-metadata libnss-oslogin
check "removal deactivated OS Login: nsswitch.conf as before" cmp /run/nsswitch.before /etc/nsswitch.conf
for path in /usr/sbin/oslogin-accountsd /usr/bin/oslogin-fake-metadata /etc/oslogin /var/lib/oslogin \
	/usr/lib/x86_64-linux-gnu/libnss_oslogin.so.2 \
	/lib/systemd/system/oslogin-accountsd.service /etc/systemd/system/multi-user.target.wants/oslogin-accountsd.service; do
	check_fails "purged: $path gone" test -e "$path"
done
done_testing
