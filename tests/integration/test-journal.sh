#!/usr/bin/env bash
# The daemon's event records: every MESSAGE_ID in lib/basic/message-ids.h
# has an entry in units/oslogin.catalog that journalctl accepts (so the two
# cannot drift), doc/journal.md lists each, and the catalog installs.
. "$(dirname "$0")/../lib.sh"
IDS=$(sed -n 's/^#define MESSAGE_ID_[A-Z_]* *"\([0-9a-f]\{32\}\)"$/\1/p' "$SRC/lib/basic/message-ids.h" | sort)
check_eq "twelve event kinds defined" 12 "$(echo "$IDS" | grep -c .)"
check_eq "no MESSAGE_ID defined twice" "" "$(echo "$IDS" | uniq -d)"

root=$(mktemp -d)
on_exit rm -rf "$root"
make -s -C "$SRC" B="$BUILD" install-units DESTDIR="$root" PREFIX=/usr >/dev/null 2>&1
check "the catalog is installed" test -s "$root/usr/lib/systemd/catalog/oslogin.catalog"
mkdir -p "$root/var/lib/systemd"
check "journalctl --update-catalog accepts it" journalctl --root="$root" --update-catalog
listed=$(journalctl --root="$root" --list-catalog 2>/dev/null | awk '$2 == "oslogin:" {print $1}' | sort)
check_eq "every MESSAGE_ID has a catalog entry, and no other" "$IDS" "$listed"
missing=$(for id in $IDS; do grep -q "$id" "$SRC/doc/journal.md" || echo "$id"; done)
check_eq "doc/journal.md lists every MESSAGE_ID" "" "$missing"
done_testing
