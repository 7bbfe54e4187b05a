#!/usr/bin/env bash
# scripts/build-packages.sh OUTDIR [deb|rpm]...: builds the Debian packages
# and/or the RPMs from a copy of the work tree (tracked and new files, as
# they are now; build/ and ignored files left out), so the tree itself is
# never touched. Results: OUTDIR/*.deb, OUTDIR/*.changes,
# OUTDIR/rpm/RPMS/*/*.rpm; logs OUTDIR/deb-build.log, OUTDIR/rpm-build.log.
# DEB_BUILD_OPTIONS is passed through (default: nocheck).
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: build-packages.sh OUTDIR [deb|rpm]...}
shift
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(deb rpm)

version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
tree=$OUT/oslogin-$version
rm -rf "$tree"
mkdir "$tree"
# Files that exist: a tracked file deleted in the work tree is left out.
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	xargs -0 cp --parents -t "$tree")
# rpmbuild's Source0, taken before any build writes into the copy.
if [[ " ${kinds[*]} " == *" rpm "* ]]; then
	mkdir -p "$OUT/rpm/SOURCES"
	tar -C "$OUT" -czf "$OUT/rpm/SOURCES/oslogin-$version.tar.gz" "oslogin-$version"
fi

for kind in "${kinds[@]}"; do
	case "$kind" in
	deb)
		(cd "$tree" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck} \
			dpkg-buildpackage -us -uc -b -j2) >"$OUT/deb-build.log" 2>&1 || {
			echo "dpkg-buildpackage failed, see $OUT/deb-build.log:" >&2
			tail -20 "$OUT/deb-build.log" >&2
			exit 1
		}
		;;
	rpm)
		rpmbuild --define "_topdir $OUT/rpm" --nodeps -bb "$tree/rpm/oslogin.spec" \
			>"$OUT/rpm-build.log" 2>&1 || {
			echo "rpmbuild failed, see $OUT/rpm-build.log:" >&2
			tail -20 "$OUT/rpm-build.log" >&2
			exit 1
		}
		;;
	*)
		echo "unknown package kind: $kind" >&2
		exit 2
		;;
	esac
done
