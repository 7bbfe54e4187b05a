#!/usr/bin/env bash
# Builds the .debs and .rpms from a copy of the tree (scripts/build-packages.sh),
# runs lintian, checks each package's exact file list and the rpm layout
# against the debs', that rpm refuses them beside a stand-in
# google-compute-engine-oslogin rpm (Conflicts), then installs the debs for
# real inside a namespace
# (overlays over /usr and /var, so dpkg's database is private too, and a
# private /etc and /home): over a stand-in google-compute-engine-oslogin
# built here (Conflicts/Replaces), files, modes, the _oslogin user, the
# unit, the AuthorizedKeysCommand as _oslogin, a reinstall, metadata users
# made by the installed daemon, activate + removal (deactivated, every
# grant revoked, no metadata user can sudo or use a key), a reinstall
# lifting the expiry, purge (nothing left, the guest agent's switch
# restored), and the non-systemd fallbacks.
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

# The installed layout, package by package. A component whose install
# rule is missing fails the build (dh_install) or this list.
declare -A EXPECTED
EXPECTED[oslogin]="/etc/oslogin/oslogin.conf
/lib/systemd/system/oslogin-accountsd-keys.socket
/lib/systemd/system/oslogin-accountsd-nss.socket
/lib/systemd/system/oslogin-accountsd-pam.socket
/lib/systemd/system/oslogin-accountsd.service
/usr/lib/systemd/catalog/oslogin.catalog
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
/usr/share/man/man8/oslogin-authorized-principals.8.gz
/usr/share/man/man8/osloginctl.8.gz
/usr/share/bash-completion/completions/osloginctl"
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

lintian -I --pedantic --tag-display-limit 0 "$WORK/oslogin_${VERSION}_$ARCH.changes" >"$WORK/lintian.log" 2>&1
check_eq "lintian -I --pedantic: no errors or warnings" "" "$(grep -E '^(E|W):' "$WORK/lintian.log")"
while read -r line; do diag "lintian $line"; done < <(grep -vE '^(E|W):' "$WORK/lintian.log")

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
# (find, not a glob: grep over a missing script exits 2, which passed here before.)
mscripts() { find "$WORK/ctl" -type f \( -name preinst -o -name postinst -o -name prerm -o -name postrm \) -exec grep -lE "$1" {} + | grep .; }
check "the search over the maintainer scripts finds what they do name (osloginctl)" mscripts osloginctl
check_fails "no maintainer script names /etc/ssh, nsswitch.conf or pam.d" 1 mscripts '/etc/ssh|nsswitch\.conf|pam\.d'
check_eq "conffiles: /etc/oslogin/oslogin.conf" /etc/oslogin/oslogin.conf "$(cat "$WORK/ctl/oslogin/conffiles")"
check "libnss-oslogin: ldconfig trigger (activate-noawait)" grep -qx 'activate-noawait ldconfig' "$WORK/ctl/libnss-oslogin/triggers"
check "oslogin depends on the NSS module at its own version" bash -c \
	"dpkg-deb -f '$(deb oslogin)' Depends | grep -q 'libnss-oslogin (= $VERSION)'"
check "oslogin depends on the PAM module at its own version" bash -c \
	"dpkg-deb -f '$(deb oslogin)' Depends | grep -q 'libpam-oslogin (= $VERSION)'"
check "prerm deactivates then revokes on remove, after the daemon is stopped" bash -c \
	"awk '/deb-systemd-invoke stop/ {s=NR} /osloginctl deactivate/ {d=NR} /osloginctl revoke/ {r=NR} END {exit !(s && d > s && r > d)}' '$WORK/ctl/oslogin/prerm'"
for p in oslogin libnss-oslogin libpam-oslogin; do
	check_eq "$p: Conflicts and Replaces google-compute-engine-oslogin" \
		"google-compute-engine-oslogin|google-compute-engine-oslogin" \
		"$(dpkg-deb -f "$(deb "$p")" Conflicts)|$(dpkg-deb -f "$(deb "$p")" Replaces)"
done
check "copyright names Apache-2.0 and common-licenses" bash -c \
	"dpkg-deb --fsys-tarfile '$(deb oslogin)' | tar -xO ./usr/share/doc/oslogin/copyright | grep -q '^License: Apache-2.0' &&
	 dpkg-deb --fsys-tarfile '$(deb oslogin)' | tar -xO ./usr/share/doc/oslogin/copyright | grep -q '/usr/share/common-licenses/Apache-2.0'"

# RPMs: same packages, same files and modes, lib dirs aside.
declare -A RPM_OF=([oslogin]=oslogin [libnss-oslogin]=nss-oslogin [libpam-oslogin]=pam-oslogin [oslogin-fake-metadata]=oslogin-fake-metadata)
normalize() {
	sed -E -e 's#\.gz( |$)#\1#' -e "s#^/usr/lib/$MA/|^/lib/$MA/|^/usr/lib64/#/LIBDIR/#" -e 's#^/lib/systemd/#/usr/lib/systemd/#' | sort
}
for p in "${DEB_PACKAGES[@]}"; do
	rpmfile=$(ls "$WORK"/rpm/RPMS/*/"${RPM_OF[$p]}-$VERSION"-*.rpm 2>/dev/null)
	if [ -z "$rpmfile" ]; then not_ok "rpm ${RPM_OF[$p]} built"; continue; fi
	# rpm only: the %license copy (Debian: the copyright) and the preset
	# (Debian enables through dh_installsystemd).
	rpm_layout=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILENAMES}\n]' "$rpmfile" 2>/dev/null |
		awk '$1 !~ /^d/ && $3 !~ /^\/usr\/lib\/\.build-id/ && $3 !~ /^\/usr\/share\/licenses\// &&
			$3 !~ /^\/usr\/lib\/systemd\/system-preset\// {print $3, $1, $2}' | normalize)
	deb_layout=$(dpkg-deb -c "$(deb "$p")" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); split($2, o, "/"); print $6, $1, o[1]}' |
		grep -v '^/usr/share/doc/' | normalize)
	check_eq "rpm ${RPM_OF[$p]}: files and modes match the deb $p" "$deb_layout" "$rpm_layout"
	check "rpm ${RPM_OF[$p]}: %license LICENSE" bash -c \
		"rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$rpmfile' 2>/dev/null | grep -q '^l .*/LICENSE$'"
	[ "$p" = oslogin-fake-metadata ] && continue
	check_eq "rpm ${RPM_OF[$p]}: Conflicts google-compute-engine-oslogin" google-compute-engine-oslogin \
		"$(rpm -qp --conflicts "$rpmfile" 2>/dev/null)"
done
R=$(ls "$WORK"/rpm/RPMS/*/oslogin-"$VERSION"-*.rpm)
rpm -qp --scripts "$R" >"$WORK/rpm-scripts" 2>/dev/null
check_eq "rpm conffile %config(noreplace)" /etc/oslogin/oslogin.conf "$(rpm -qcp "$R" 2>/dev/null)"
check "rpm scriptlets: sysusers (useradd fallback), deactivate and revoke on erase, state removed" bash -c \
	"grep -q 'systemd-sysusers' '$WORK/rpm-scripts' && grep -q 'useradd -r' '$WORK/rpm-scripts' &&
	 grep -q 'osloginctl deactivate' '$WORK/rpm-scripts' && grep -q 'osloginctl revoke' '$WORK/rpm-scripts' &&
	 grep -q 'rm -rf /var/lib/oslogin' '$WORK/rpm-scripts'"
# The preset macros (here their fallbacks: Debian's rpm has no
# systemd-rpm-macros), never an enable or start by hand.
check "rpm scriptlets: preset on install, disable --now on erase, try-restart on upgrade" bash -c \
	"grep -q 'systemctl --no-reload preset oslogin-accountsd.service' '$WORK/rpm-scripts' &&
	 grep -q 'systemctl --no-reload disable --now oslogin-accountsd.service' '$WORK/rpm-scripts' &&
	 grep -q 'systemctl try-restart oslogin-accountsd.service' '$WORK/rpm-scripts'"
check_fails "rpm scriptlets never enable or start by hand" 1 grep -qE 'systemctl (--no-reload )?(enable|start) ' "$WORK/rpm-scripts"
check "rpm ships the preset, 0644" bash -c \
	"rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' '$R' 2>/dev/null | grep -qx -- '-rw-r--r-- /usr/lib/systemd/system-preset/90-oslogin.preset'"
check_eq "the preset enables the daemon and its three sockets" "enable oslogin-accountsd.service
enable oslogin-accountsd-nss.socket
enable oslogin-accountsd-keys.socket
enable oslogin-accountsd-pam.socket" "$(grep -v '^#' "$SRC/rpm/90-oslogin.preset")"
agent_fn() { sed -n '/^restore_guest_agent() {$/,/^}$/p' "$1" | sed 's/^\t*//; s/^ *//'; }
deb_fn=$(agent_fn "$WORK/ctl/oslogin/postrm")
check "deb postrm defines restore_guest_agent" test -n "$deb_fn"
check_eq "restore_guest_agent identical in the deb postrm and the rpm %postun" "$deb_fn" "$(agent_fn "$WORK/rpm-scripts")"
check_fails "rpm scriptlets never name sshd_config, nsswitch or pam.d" 1 grep -qE 'sshd_config|nsswitch|pam\.d' "$WORK/rpm-scripts"
# rpm over a stand-in google-compute-engine-oslogin (its name and Epoch, the
# same NSS module path) in a private root and database: rpm refuses ours
# naming the conflict (the way over is `dnf swap`); once it is erased,
# ours install.
mkdir -p "$WORK/standin-rpm" "$WORK/rpmroot"
cat >"$WORK/standin-rpm/standin.spec" <<'SPEC_END'
Name: google-compute-engine-oslogin
Epoch: 1
Version: 20240101.00
Release: g1
Summary: stand-in for Google's OS Login package (test-packaging)
License: ASL 2.0
%description
Stand-in.
%install
mkdir -p %{buildroot}%{_libdir}/security
echo stand-in >%{buildroot}%{_libdir}/libnss_oslogin.so.2
echo stand-in >%{buildroot}%{_libdir}/security/pam_oslogin_login.so
%files
%{_libdir}/libnss_oslogin.so.2
%{_libdir}/security/pam_oslogin_login.so
SPEC_END
RPMQ=(rpm --root "$WORK/rpmroot" --dbpath /rpmdb)
check "stand-in rpm builds" rpmbuild --define "_topdir $WORK/standin-rpm/top" --nodeps -bb "$WORK/standin-rpm/standin.spec"
"${RPMQ[@]}" --initdb
check "stand-in rpm installs (private root)" "${RPMQ[@]}" -i --nodeps --noscripts "$WORK"/standin-rpm/top/RPMS/*/google-compute-engine-oslogin-*.rpm
for p in oslogin nss-oslogin pam-oslogin; do
	f=$(ls "$WORK"/rpm/RPMS/*/"$p-$VERSION"-*.rpm)
	check "rpm refuses $p beside the stand-in, naming the conflict" bash -c \
		"! \"\$@\" -i --test --noscripts '$f' >'$WORK/rpm-conflict.log' 2>&1 &&
		 grep -q 'google-compute-engine-oslogin conflicts with $p-' '$WORK/rpm-conflict.log'" _ "${RPMQ[@]}"
done
check "stand-in erased" "${RPMQ[@]}" -e --nodeps --noscripts google-compute-engine-oslogin
check "then our rpms install (no file or package conflict left)" "${RPMQ[@]}" -i --test --nodeps --noscripts \
	"$WORK"/rpm/RPMS/*/oslogin-"$VERSION"-*.rpm "$WORK"/rpm/RPMS/*/nss-oslogin-"$VERSION"-*.rpm \
	"$WORK"/rpm/RPMS/*/pam-oslogin-"$VERSION"-*.rpm

SE=$(ls "$WORK"/rpm/RPMS/*/oslogin-selinux-"$VERSION"-*.rpm 2>/dev/null)
check_eq "rpm oslogin-selinux: the module and its interface, 0644" \
	"-rw-r--r-- /usr/share/selinux/devel/include/contrib/oslogin.if|-rw-r--r-- /usr/share/selinux/packages/oslogin.pp" \
	"$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$SE" 2>/dev/null | grep -v '/licenses/' | sort | paste -sd'|')"
check "rpm oslogin-selinux: semodule -i on install, -r on erase" bash -c \
	"rpm -qp --scripts '$SE' 2>/dev/null | grep -q 'semodule -i /usr/share/selinux/packages/oslogin.pp' &&
	 rpm -qp --scripts '$SE' 2>/dev/null | grep -q 'semodule -r oslogin'"
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
rm -rf /run/oslogin /var/lib/oslogin /etc/oslogin /etc/sudoers.d/oslogin /etc/sudoers.d/google_sudoers
private_dir /home
# The guest agent's configuration, as on a GCE image.
mkdir -p /etc/default
printf '[Accounts]\ngroups = adm,video\n\n[Daemons]\naccounts_daemon = true\nclock_skew_daemon = true\n' \
	>/etc/default/instance_configs.cfg
PRISTINE=$WORK/etc.pristine
cp -a /etc "$PRISTINE"
upper_listing() { (cd "${UPPER[$1]}" && find . -mindepth 1 -printf '%P\n' | sort); }
upper_listing /usr >"$WORK/baseline-usr"
upper_listing /var >"$WORK/baseline-var"
capture_syslog "$WORK/syslog"
DEBS=()
for p in "${DEB_PACKAGES[@]}"; do DEBS+=("$(deb "$p")"); done

# A stand-in for Google's package: the same NSS module path, its PAM
# modules. Ours must replace it (Conflicts + Replaces), not fail on the file.
STANDIN=$WORK/standin
mkdir -p "$STANDIN/DEBIAN" "$STANDIN/usr/lib/$MA/security"
echo "google libnss_oslogin stand-in" >"$STANDIN/usr/lib/$MA/libnss_oslogin.so.2"
echo "google pam_oslogin_login stand-in" >"$STANDIN/usr/lib/$MA/security/pam_oslogin_login.so"
echo "google pam_oslogin_admin stand-in" >"$STANDIN/usr/lib/$MA/security/pam_oslogin_admin.so"
chmod 0644 "$STANDIN/usr/lib/$MA/libnss_oslogin.so.2" "$STANDIN/usr/lib/$MA/security/"*
printf '%s\n' "Package: google-compute-engine-oslogin" "Version: 1:20240101.00-g1" "Architecture: $ARCH" \
	"Maintainer: test <test@example.org>" "Description: stand-in for Google's OS Login package (test-packaging)" \
	>"$STANDIN/DEBIAN/control"
check "stand-in google-compute-engine-oslogin builds" dpkg-deb --root-owner-group -b "$STANDIN" "$WORK/standin.deb"
check "stand-in installs" dpkg -i "$WORK/standin.deb"
check "… dpkg-query says it is installed" bash -c \
	"dpkg-query -W -f='\${db:Status-Status}' google-compute-engine-oslogin 2>/dev/null | grep -qx installed"
check "… with its PAM modules" test -e "/usr/lib/$MA/security/pam_oslogin_login.so"
check_eq "stand-in owns libnss_oslogin.so.2" google-compute-engine-oslogin \
	"$(dpkg -S "/usr/lib/$MA/libnss_oslogin.so.2" 2>/dev/null | cut -d: -f1)"
check "dpkg -i the four packages over the stand-in" dpkg -i "${DEBS[@]}"
check_fails "the stand-in is removed" 1 bash -c \
	"dpkg-query -W -f='\${db:Status-Status}' google-compute-engine-oslogin 2>/dev/null | grep -qx installed"
check_eq "libnss_oslogin.so.2 is ours now" libnss-oslogin:$ARCH \
	"$(dpkg -S "/usr/lib/$MA/libnss_oslogin.so.2" 2>/dev/null | cut -d: -f1-2)"
check "libnss_oslogin.so.2 is our module (exports _nss_oslogin_getpwnam_r)" bash -c \
	"nm -D '/usr/lib/$MA/libnss_oslogin.so.2' | grep -q ' T _nss_oslogin_getpwnam_r'"
check_fails "the stand-in's PAM modules are gone" 1 test -e "/usr/lib/$MA/security/pam_oslogin_login.so"
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
# The AKC as sshd runs it: unprivileged, no daemon listening yet → no keys,
# exit 1 at once (not an authoritative answer: sshd reads it as "no keys").
akc_out=$(timeout 20 setpriv --reuid=_oslogin --regid=_oslogin --clear-groups /usr/sbin/oslogin-authorized-keys alice 2>/dev/null)
check_eq "AKC runs as _oslogin: no daemon → no keys, exit 1" "1:" "$?:$akc_out"

# Reinstall keeps an administrator's edit of the conffile.
echo "# local edit" >>/etc/oslogin/oslogin.conf
check "dpkg -i again (reinstall)" dpkg -i "${DEBS[@]}"
check "reinstall kept the edited conffile" grep -qx '# local edit' /etc/oslogin/oslogin.conf

# Metadata users made by the installed daemon from the installed fake
# server: dave, erin (instance keys) and grace (project), in google-sudoers.
FAKE=/usr/bin/oslogin-fake-metadata
start_fake "$FIXTURES/basic.json" || not_ok "installed fake metadata server starts"
cp -p /etc/oslogin/oslogin.conf "$WORK/oslogin.conf.installed"
printf '[metadata]\nurl = %s/computeMetadata/v1/\n' "$FAKE_URL" >>/etc/oslogin/oslogin.conf
check "installed oslogin-accountsd --once makes the metadata users" /usr/sbin/oslogin-accountsd --once
check "dave has his metadata key" grep -q 'Added by Google' /home/dave/.ssh/authorized_keys
for u in dave erin grace; do
	check "$u may sudo (google-sudoers)" bash -c "sudo -n -l -U $u | grep -q 'NOPASSWD: ALL'"
done
check "google-sudoers has members, through /etc/sudoers.d/google_sudoers" bash -c \
	"getent group google-sudoers | cut -d: -f4 | grep -q . && test -f /etc/sudoers.d/google_sudoers"
# An OS Login admin's drop-in, as the PAM module writes it, and the
# guest agent switched off the way accountsd's takeover records it.
useradd --no-create-home alice
printf 'alice ALL=(ALL:ALL) NOPASSWD:ALL\n' >/var/lib/oslogin/sudoers.d/alice
chmod 0440 /var/lib/oslogin/sudoers.d/alice
printf '#includedir /var/lib/oslogin/sudoers.d\n' >/etc/sudoers.d/oslogin
check "alice may sudo (OS Login admin drop-in)" bash -c "sudo -n -l -U alice | grep -q 'NOPASSWD: ALL'"
printf 'file=existed\naccounts_daemon=true\n' >/var/lib/oslogin/guest-agent.restore
sed -i 's/^accounts_daemon = true$/accounts_daemon = false/' /etc/default/instance_configs.cfg
# Activation, then removal: deactivated while osloginctl is still there.
check "osloginctl --no-reload activate" /usr/sbin/osloginctl --no-reload activate
check "nsswitch.conf now names oslogin" grep -q 'oslogin' /etc/nsswitch.conf
check_fails_msg "dpkg refuses to remove the NSS module while oslogin needs it" 1 'dependency problems prevent removal' dpkg --remove libnss-oslogin
check_fails_msg "dpkg refuses to remove the PAM module while oslogin needs it" 1 'dependency problems prevent removal' dpkg --remove libpam-oslogin
check "dpkg --remove oslogin" dpkg --remove oslogin
for f in nsswitch.conf ssh/sshd_config pam.d/sshd; do
	[ -e "$PRISTINE/$f" ] || continue
	check "removal deactivated OS Login: /etc/$f as before" cmp "$PRISTINE/$f" "/etc/$f"
done
check_fails "removal dropped /etc/sudoers.d/oslogin" 1 test -e /etc/sudoers.d/oslogin
check "removal kept the conffile and state until purge" test -f /etc/oslogin/oslogin.conf -a -f /var/lib/oslogin/uidmap
for u in dave erin grace alice; do
	check_fails "removal: sudo -l: $u may not run sudo" 1 bash -c "sudo -n -l -U $u | grep -q 'NOPASSWD: ALL'"
done
check_fails "removal: no managed key left in any home" 1 grep -rq 'Added by Google' /home
check "removal: google-sudoers itself stays" getent group google-sudoers
check_fails "removal: nobody left in google-sudoers" 1 bash -c "getent group google-sudoers | cut -d: -f4 | grep -q ."
check_fails "removal: /etc/sudoers.d/google_sudoers gone" 1 test -e /etc/sudoers.d/google_sudoers
check_eq "removal: the accounts created from metadata are expired" "1 1 1" \
	"$(for u in dave erin grace; do getent shadow $u | cut -d: -f8; done | xargs)"
check "removal: sudoers valid" visudo -c
check "removal: the expired accounts recorded for a reinstall" test -s /var/lib/oslogin/expired
# Reinstall after removal: the expiry that revoke set is lifted.
check "dpkg -i oslogin again after removal" dpkg -i "$(deb oslogin)"
check_eq "reinstall: dave, erin, grace no longer expired" "||" \
	"$(for u in dave erin grace; do getent shadow $u | cut -d: -f8; done | paste -sd'|')"
check_fails "reinstall: the expired list is gone" 1 test -e /var/lib/oslogin/expired
check "reinstall: the daemon gives dave his key back" bash -c \
	"/usr/sbin/oslogin-accountsd --once && grep -q 'Added by Google' /home/dave/.ssh/authorized_keys"
cp -p "$WORK/oslogin.conf.installed" /etc/oslogin/oslogin.conf
purge_out=$(dpkg --purge "${DEB_PACKAGES[@]}" 2>&1)
check_eq "dpkg --purge the four packages" 0 "$?"
check "purge lists the accounts it keeps, expired" grep -q "kept, expired (usermod --expiredate '' NAME lifts it, e.g. for the guest agent): dave erin grace" <<<"$purge_out"
check "purge restored the guest agent's switch" grep -q "restored the guest agent's accounts_daemon" <<<"$purge_out"
check_eq "purge: dave expired again, no managed key, no sudo" "1|0|" \
	"$(getent shadow dave | cut -d: -f8)|$(grep -c 'Added by Google' /home/dave/.ssh/authorized_keys)|$(sudo -n -l -U dave 2>&1 | grep 'NOPASSWD')"

# Nothing left: in the overlays' upper layers no new file, deletion
# (whiteout) or directory but dpkg's own bookkeeping and caches (journald's
# catalog database included: systemd's trigger rebuilds it), and the
# guest agent's list of the accounts it manages (google_users, kept in step
# by accountsd so that the restored agent knows the accounts); /etc as
# before (instance_configs.cfg included) except the kept accounts and the
# ld.so cache.
strays() {
	local d=$1 rel
	upper_listing "$d" | comm -13 "$WORK/baseline-${d#/}" - | while read -r rel; do
		[ -d "${UPPER[$d]}/$rel" ] && [ ! -L "${UPPER[$d]}/$rel" ] && [ -d "${LOWER[$d]}/$rel" ] && continue
		echo "$d/$rel"
	done | grep -vE '^/var/lib/dpkg(/|$)|^/var/log/(dpkg|alternatives)\.log$|^/var/cache/(debconf|ldconfig|man)(/|$)|^/var/lib/google(/google_users)?$|^/var/lib/systemd/catalog(/|$)' || true
}
check_eq "purged: nothing left under /usr" "" "$(strays /usr)"
check_eq "purged: nothing left under /var" "" "$(strays /var)"
etc_diff=$(diff -rq --no-dereference "$PRISTINE" /etc 2>&1 | sed "s#$PRISTINE#/etc#g" |
	grep -vE '^Files /etc/(passwd|group|shadow|gshadow|subuid|subgid)-? and |^Files /etc/ld\.so\.cache and |^Only in /etc: ((passwd|group|shadow|gshadow|subuid|subgid)-|\.pwd\.lock)$' || true)
check_eq "purged: /etc as before (but the kept accounts)" "" "$etc_diff"
check_fails "purged: /run/oslogin gone" 1 test -e /run/oslogin

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
check_fails "purged again: /var/lib/oslogin gone" 1 test -e /var/lib/oslogin
diag "test-packaging took $((SECONDS - started)) s"
done_testing
