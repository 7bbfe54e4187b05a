#!/usr/bin/env bash
# Builds the .debs and .rpms from a copy of the tree (scripts/build-packages.sh),
# runs lintian, checks each package's exact file list and the rpm layout
# against the debs', then installs the debs for real inside a namespace
# (overlays over /usr and /var, so dpkg's database is private too, and a
# private /etc): files, modes, the _oslogin user, the unit, the
# AuthorizedKeysCommand as _oslogin, a reinstall, activate + removal
# (deactivated), purge (nothing left), and the non-systemd fallbacks.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
for tool in dpkg-buildpackage lintian rpmbuild; do
	command -v "$tool" >/dev/null || { skip "packaging" "$tool not installed (make deps)"; done_testing; }
done

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
WORK=$(mktemp -d /run/pkg.XXXXXX)
deb() { echo "$WORK/${1}_${VERSION}_$ARCH.deb"; }
DEB_PACKAGES=(oslogin libnss-oslogin libpam-oslogin oslogin-fake-metadata)

# The final layout (TEAM.md "Installed names"). A component whose install
# rule is missing fails the build (dh_install) or this list.
declare -A EXPECTED
EXPECTED[oslogin]="/etc/oslogin/oslogin.conf
/lib/systemd/system/oslogin-accountsd-keys.socket
/lib/systemd/system/oslogin-accountsd-nss.socket
/lib/systemd/system/oslogin-accountsd-pam.socket
/lib/systemd/system/oslogin-accountsd.service
/usr/lib/sysusers.d/oslogin.conf
/usr/lib/tmpfiles.d/oslogin.conf
/usr/sbin/oslogin-accountsd
/usr/sbin/oslogin-authorized-keys
/usr/sbin/oslogin-authorized-principals
/usr/sbin/osloginctl
/usr/share/man/man5/oslogin.conf.5.gz
/usr/share/man/man7/oslogin.7.gz
/usr/share/man/man8/oslogin-accountsd.8.gz
/usr/share/man/man8/oslogin-authorized-keys.8.gz
/usr/share/man/man8/osloginctl.8.gz"
EXPECTED[libnss-oslogin]="/usr/lib/$MA/libnss_oslogin.so.2
/usr/share/man/man8/nss-oslogin.8.gz"
EXPECTED[libpam-oslogin]="/lib/$MA/security/pam_oslogin.so
/usr/share/man/man8/pam_oslogin.8.gz"
EXPECTED[oslogin-fake-metadata]="/usr/bin/oslogin-fake-metadata
/usr/bin/oslogin-mds-get
/usr/share/man/man1/oslogin-fake-metadata.1.gz
/usr/share/man/man1/oslogin-mds-get.1.gz"

started=$SECONDS
out=$("$SRC/scripts/build-packages.sh" "$WORK" deb rpm 2>&1)
rc=$?
check_eq "build-packages.sh: dpkg-buildpackage -us -uc -b and rpmbuild -bb" 0 "$rc"
[ "$rc" -eq 0 ] || { printf '# %s\n' "$out"; done_testing; }
diag "built in $((SECONDS - started)) s"
check "build from a copy: the work tree has no debian/tmp or build/deb" \
	bash -c "[ ! -e '$SRC/debian/tmp' ] && [ ! -e '$SRC/build/deb' ]"

lintian --tag-display-limit 0 "$WORK/oslogin_${VERSION}_$ARCH.changes" >"$WORK/lintian.log" 2>&1
check_eq "lintian: no errors" "" "$(grep '^E:' "$WORK/lintian.log")"
while read -r line; do diag "lintian $line"; done < <(grep '^W:' "$WORK/lintian.log")

# Package contents: exactly the expected files (docs aside), and modes.
deb_files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $6}' | grep -v '^/usr/share/doc/' | sort; }
for p in "${DEB_PACKAGES[@]}"; do
	check_eq "$p: exactly the expected files" "$(sort <<<"${EXPECTED[$p]}")" "$(deb_files "$(deb "$p")")"
done
for p in "${DEB_PACKAGES[@]}"; do dpkg-deb -c "$(deb "$p")"; done >"$WORK/contents"
mode_of() { awk -v p="./${1#/}" '$6 == p {print $1, $2}' "$WORK/contents"; }
check_eq "NSS module -rw-r--r-- root" "-rw-r--r-- root/root" "$(mode_of "/usr/lib/$MA/libnss_oslogin.so.2")"
check_eq "PAM module -rw-r--r-- root" "-rw-r--r-- root/root" "$(mode_of "/lib/$MA/security/pam_oslogin.so")"
check_eq "AuthorizedKeysCommand -rwxr-xr-x root" "-rwxr-xr-x root/root" "$(mode_of /usr/sbin/oslogin-authorized-keys)"
check_eq "config -rw-r--r-- root" "-rw-r--r-- root/root" "$(mode_of /etc/oslogin/oslogin.conf)"

# Control data: no edits of sshd/nsswitch/PAM, the conffile, the trigger,
# the dependencies that keep the modules installed while OS Login is active.
mkdir "$WORK/ctl"
for p in "${DEB_PACKAGES[@]}"; do dpkg-deb -e "$(deb "$p")" "$WORK/ctl/$p"; done
check "maintainer scripts of oslogin: postinst, prerm, postrm" \
	test -x "$WORK/ctl/oslogin/postinst" -a -x "$WORK/ctl/oslogin/prerm" -a -x "$WORK/ctl/oslogin/postrm"
check_fails "no maintainer script names /etc/ssh, nsswitch.conf or pam.d" bash -c \
	"grep -lE '/etc/ssh|nsswitch\\.conf|pam\\.d' '$WORK'/ctl/*/{pre,post}{inst,rm} 2>/dev/null"
check_eq "conffiles: /etc/oslogin/oslogin.conf" /etc/oslogin/oslogin.conf "$(cat "$WORK/ctl/oslogin/conffiles")"
check "libnss-oslogin: ldconfig trigger (activate-noawait)" grep -qx 'activate-noawait ldconfig' "$WORK/ctl/libnss-oslogin/triggers"
check "oslogin depends on the NSS module at its own version" bash -c \
	"dpkg-deb -f '$(deb oslogin)' Depends | grep -q 'libnss-oslogin (= $VERSION)'"
check "oslogin depends on the PAM module at its own version" bash -c \
	"dpkg-deb -f '$(deb oslogin)' Depends | grep -q 'libpam-oslogin (= $VERSION)'"
check "prerm deactivates on remove, after the daemon is stopped" bash -c \
	"awk '/deb-systemd-invoke stop/ {s=NR} /osloginctl deactivate/ {d=NR} END {exit !(s && d > s)}' '$WORK/ctl/oslogin/prerm'"

# RPMs: same packages, same files and modes, lib dirs aside.
declare -A RPM_OF=([oslogin]=oslogin [libnss-oslogin]=nss-oslogin [libpam-oslogin]=pam-oslogin [oslogin-fake-metadata]=oslogin-fake-metadata)
normalize() {
	sed -E -e 's#\.gz( |$)#\1#' -e "s#^/usr/lib/$MA/|^/lib/$MA/|^/usr/lib64/#/LIBDIR/#" -e 's#^/lib/systemd/#/usr/lib/systemd/#' | sort
}
for p in "${DEB_PACKAGES[@]}"; do
	rpmfile=$(ls "$WORK"/rpm/RPMS/*/"${RPM_OF[$p]}-$VERSION"-*.rpm 2>/dev/null)
	if [ -z "$rpmfile" ]; then not_ok "rpm ${RPM_OF[$p]} built"; continue; fi
	rpm_layout=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILENAMES}\n]' "$rpmfile" 2>/dev/null |
		awk '$1 !~ /^d/ && $3 !~ /^\/usr\/lib\/\.build-id/ {print $3, $1, $2}' | normalize)
	deb_layout=$(dpkg-deb -c "$(deb "$p")" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); split($2, o, "/"); print $6, $1, o[1]}' |
		grep -v '^/usr/share/doc/' | normalize)
	check_eq "rpm ${RPM_OF[$p]}: files and modes match the deb $p" "$deb_layout" "$rpm_layout"
done
R=$(ls "$WORK"/rpm/RPMS/*/oslogin-"$VERSION"-*.rpm)
rpm -qp --scripts "$R" >"$WORK/rpm-scripts" 2>/dev/null
check_eq "rpm conffile %config(noreplace)" /etc/oslogin/oslogin.conf "$(rpm -qcp "$R" 2>/dev/null)"
check "rpm scriptlets: sysusers (useradd fallback), enable, deactivate on erase, state removed" bash -c \
	"grep -q 'systemd-sysusers' '$WORK/rpm-scripts' && grep -q 'useradd -r' '$WORK/rpm-scripts' &&
	 grep -q 'systemctl --no-reload enable oslogin-accountsd' '$WORK/rpm-scripts' &&
	 grep -q 'osloginctl deactivate' '$WORK/rpm-scripts' && grep -q 'rm -rf /var/lib/oslogin' '$WORK/rpm-scripts'"
check_fails "rpm scriptlets never name sshd_config, nsswitch or pam.d" grep -qE 'sshd_config|nsswitch|pam\.d' "$WORK/rpm-scripts"
check "rpm nss-oslogin runs ldconfig" bash -c \
	"rpm -qp --scripts '$(ls "$WORK"/rpm/RPMS/*/nss-oslogin-*.rpm)' 2>/dev/null | grep -q '/sbin/ldconfig'"

# A throwaway system: /usr and /var through overlays (dpkg's database
# included), a private copy of /etc, and a pristine copy to compare with.
private_etc
declare -A UPPER LOWER
for d in /usr /var; do
	up=$(mktemp -d /run/ovl.XXXXXX)
	mkdir "$up/u" "$up/w" "$up/l"
	mount --bind "$d" "$up/l"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$up/u,workdir=$up/w" "$d"
	UPPER[$d]=$up/u LOWER[$d]=$up/l
done
# Leftovers of earlier runs on this host would hide what the install does.
rm -rf /run/oslogin /var/lib/oslogin /etc/oslogin /etc/sudoers.d/oslogin
PRISTINE=$WORK/etc.pristine
cp -a /etc "$PRISTINE"
upper_listing() { (cd "${UPPER[$1]}" && find . -mindepth 1 -printf '%P\n' | sort); }
upper_listing /usr >"$WORK/baseline-usr"
upper_listing /var >"$WORK/baseline-var"
capture_syslog "$WORK/syslog"
DEBS=()
for p in "${DEB_PACKAGES[@]}"; do DEBS+=("$(deb "$p")"); done

check "dpkg -i the four packages" dpkg -i "${DEBS[@]}"
stat_of() { stat -c '%a %U:%G' "$1" 2>&1; }
check_eq "installed NSS module 644 root" "644 root:root" "$(stat_of "/usr/lib/$MA/libnss_oslogin.so.2")"
check_eq "installed PAM module 644 root" "644 root:root" "$(stat_of "/lib/$MA/security/pam_oslogin.so")"
check_eq "installed AKC 755 root" "755 root:root" "$(stat_of /usr/sbin/oslogin-authorized-keys)"
check_eq "installed config 644 root" "644 root:root" "$(stat_of /etc/oslogin/oslogin.conf)"
check_eq "/var/lib/oslogin/sudoers.d 750 root" "750 root:root" "$(stat_of /var/lib/oslogin/sudoers.d)"
check_eq "/var/lib/oslogin 755 root" "755 root:root" "$(stat_of /var/lib/oslogin)"
check_eq "/run/oslogin 755 root" "755 root:root" "$(stat_of /run/oslogin)"
check "every directory above the AKC is root-owned and not group/world-writable (sshd's rule)" bash -c \
	'p=/usr/sbin/oslogin-authorized-keys; while [ "$p" != / ]; do p=$(dirname "$(readlink -f "$p")"); [ "$(stat -c %U "$p")" = root ] && [ $(( 0$(stat -c %a "$p") & 022 )) -eq 0 ] || exit 1; done'
check "_oslogin: system user, no home, no shell" bash -c \
	'IFS=: read -r _ _ uid _ _ home shell < <(getent passwd _oslogin) && [ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ]'
check "ldconfig trigger ran: libnss_oslogin.so.2 in ld.so.cache" bash -c "ldconfig -p | grep -q 'libnss_oslogin.so.2 (.*=> .*/libnss_oslogin.so.2$'"
check "service enabled" test -L /etc/systemd/system/multi-user.target.wants/oslogin-accountsd.service
for f in ssh/sshd_config nsswitch.conf pam.d/sshd pam.d/common-account; do
	[ -e "$PRISTINE/$f" ] || continue
	check "install left /etc/$f untouched" cmp -s "$PRISTINE/$f" "/etc/$f"
done
verify=$(systemd-analyze verify /lib/systemd/system/oslogin-accountsd.service 2>&1)
check_eq "systemd-analyze verify of the installed unit (binaries, man pages): clean" "" "$verify"
check "the unit: notify, watchdog, before sshd, after network-online, hardened" bash -c \
	'u=/lib/systemd/system/oslogin-accountsd.service
	 for l in Type=notify WatchdogSec= "Before=ssh.service sshd.service" Wants=network-online.target \
		After=network-online.target Restart=on-failure ProtectSystem=strict PrivateTmp=yes NoNewPrivileges=yes \
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" RuntimeDirectory=oslogin StateDirectory=oslogin \
		"CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER"; do grep -q "^$l" "$u" || { echo "missing $l"; exit 1; }; done'
for page in /usr/share/man/man*/oslogin* /usr/share/man/man8/nss-oslogin.8.gz /usr/share/man/man8/pam_oslogin.8.gz; do
	[ -e "$page" ] || continue
	check "man renders installed $(basename "$page")" bash -c "[ -z \"\$(MANWIDTH=80 man -l '$page' 2>&1 >/dev/null)\" ]"
done
# The AKC as sshd runs it: unprivileged, accountsd not running here → no
# keys, exit 1 (not an authoritative answer), at once.
akc_out=$(timeout 20 setpriv --reuid=_oslogin --regid=_oslogin --clear-groups /usr/sbin/oslogin-authorized-keys alice 2>/dev/null)
check_eq "AKC runs as _oslogin: accountsd not running → no keys, exit 1" "1:" "$?:$akc_out"

# Reinstall keeps an administrator's edit of the conffile.
echo "# local edit" >>/etc/oslogin/oslogin.conf
check "dpkg -i again (reinstall)" dpkg -i "${DEBS[@]}"
check "reinstall kept the edited conffile" grep -qx '# local edit' /etc/oslogin/oslogin.conf

# Activation, then removal: deactivated while osloginctl is still there.
check "osloginctl --no-reload activate" /usr/sbin/osloginctl --no-reload activate
check "nsswitch.conf now names oslogin" grep -q 'oslogin' /etc/nsswitch.conf
check_fails "dpkg refuses to remove the NSS module while oslogin needs it" dpkg --remove libnss-oslogin
check_fails "dpkg refuses to remove the PAM module while oslogin needs it" dpkg --remove libpam-oslogin
printf 'dave 1001\n' >/var/lib/oslogin/uidmap
printf 'dave created\n' >/var/lib/oslogin/users
printf '#includedir /var/lib/oslogin/sudoers.d\n' >/etc/sudoers.d/oslogin
check "dpkg --remove oslogin" dpkg --remove oslogin
for f in nsswitch.conf ssh/sshd_config pam.d/sshd; do
	[ -e "$PRISTINE/$f" ] || continue
	check "removal deactivated OS Login: /etc/$f as before" cmp "$PRISTINE/$f" "/etc/$f"
done
check_fails "removal dropped /etc/sudoers.d/oslogin" test -e /etc/sudoers.d/oslogin
check "removal kept the conffile and state until purge" test -f /etc/oslogin/oslogin.conf -a -f /var/lib/oslogin/uidmap
purge_out=$(dpkg --purge "${DEB_PACKAGES[@]}" 2>&1)
check_eq "dpkg --purge the four packages" 0 "$?"
check "purge lists the accounts it keeps" grep -q 'kept: dave' <<<"$purge_out"

# Nothing left: in the overlays' upper layers no new file, deletion
# (whiteout) or directory but dpkg's own bookkeeping and caches; /etc as
# before except the kept _oslogin user and the ld.so cache.
strays() {
	local d=$1 rel
	upper_listing "$d" | comm -13 "$WORK/baseline-${d#/}" - | while read -r rel; do
		[ -d "${UPPER[$d]}/$rel" ] && [ ! -L "${UPPER[$d]}/$rel" ] && [ -d "${LOWER[$d]}/$rel" ] && continue
		echo "$d/$rel"
	done | grep -vE '^/var/lib/dpkg(/|$)|^/var/log/(dpkg|alternatives)\.log$|^/var/cache/(debconf|ldconfig|man)(/|$)' || true
}
check_eq "purged: nothing left under /usr" "" "$(strays /usr)"
check_eq "purged: nothing left under /var" "" "$(strays /var)"
etc_diff=$(diff -rq --no-dereference "$PRISTINE" /etc 2>&1 | sed "s#$PRISTINE#/etc#g" |
	grep -vE '^Files /etc/(passwd|group|shadow|gshadow)-? and |^Files /etc/ld\.so\.cache and |^Only in /etc: ((passwd|group|shadow|gshadow)-|\.pwd\.lock)$' || true)
check_eq "purged: /etc as before (but the kept _oslogin user)" "" "$etc_diff"
check_fails "purged: /run/oslogin gone" test -e /run/oslogin

# Hosts without systemd's tools: adduser and plain directories.
userdel _oslogin >/dev/null 2>&1
groupdel _oslogin >/dev/null 2>&1
mv /usr/bin/systemd-sysusers /usr/bin/systemd-sysusers.hidden
mv /usr/bin/systemd-tmpfiles /usr/bin/systemd-tmpfiles.hidden
check "dpkg -i without systemd-sysusers/tmpfiles" dpkg -i "${DEBS[@]}"
check "_oslogin created by adduser: system user, no home, no shell" bash -c \
	'IFS=: read -r _ _ uid _ _ home shell < <(getent passwd _oslogin) && [ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ]'
check_eq "fallback /var/lib/oslogin/sudoers.d 750" "750 root:root" "$(stat_of /var/lib/oslogin/sudoers.d)"
check "dpkg --purge again" dpkg --purge "${DEB_PACKAGES[@]}"
check_fails "purged again: /var/lib/oslogin gone" test -e /var/lib/oslogin
diag "test-packaging took $((SECONDS - started)) s"
done_testing
