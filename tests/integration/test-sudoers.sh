#!/usr/bin/env bash
# Per-admin sudoers drop-ins with a real sudo and visudo on a private /etc:
# names with '.', validation before rename, revocation, a full disk.
. "$(dirname "$0")/../lib.sh"
enter_namespace "$@"
TOOL=$BUILD/tests/tools/sudoers-tool
[ -x "$TOOL" ] || { not_ok "sudoers-tool built"; done_testing; }
private_etc
private_dir /var/lib/oslogin
useradd -M -u 2001 -s /bin/bash first.last
useradd -M -u 2002 -s /bin/bash plainuser
useradd -M -u 2003 -s /bin/bash bystander
D=/var/lib/oslogin/sudoers.d

check "include file written" "$TOOL" / include
check_eq "include file content" "#includedir /var/lib/oslogin/sudoers.d" "$(grep -v '^#[^i]' /etc/sudoers.d/oslogin)"
check "grant first.last" "$TOOL" / grant first.last 2001
check_eq "drop-in name has no dot (sudo would ignore it)" "first_2elast 440 root" \
	"$(ls $D) $(stat -c '%a %U' $D/first_2elast)"
check "visudo -c accepts the whole configuration" visudo -c -q
check "real sudo -l lists the rule for first.last" bash -c 'sudo -l -U first.last | grep -q "NOPASSWD: ALL"'
check_fails "plainuser has no sudo" 1 bash -c 'sudo -l -U plainuser | grep -q NOPASSWD'
check_eq "the rule names the UID, not the name" "#2001 ALL=(ALL:ALL) NOPASSWD:ALL" "$(grep -v '^# ' $D/first_2elast)"
check_eq "the granted UID reads back" 2001 "$("$TOOL" / uid first.last)"
check_eq "grant again: unchanged" unchanged "$("$TOOL" / grant first.last 2001)"
check_eq "list decodes names" "first.last" "$("$TOOL" / list)"
before=$(cat $D/first_2elast)
check_fails_msg "an invalid rule is refused by visudo before rename (EBADMSG)" 1 'sudoers-tool: Bad message' "$TOOL" / grant first.last 2001 'ALL=(ALL) BOGUS:ALL ALL'
check_eq "previous drop-in intact" "$before" "$(cat $D/first_2elast)"
check_fails_msg "a rule with a newline is refused (EINVAL)" 1 'sudoers-tool: Invalid argument' "$TOOL" / grant first.last 2001 "$(printf 'ALL\nroot ALL=(ALL) ALL')"
check_eq "no temp file left" "first_2elast" "$(ls -A $D | xargs)"
check "revoke" "$TOOL" / revoke first.last
check_fails "revoked: sudo -l no longer lists it" 1 bash -c 'sudo -l -U first.last | grep -q NOPASSWD'
check_fails_msg "invalid user names refused (EINVAL)" 1 'sudoers-tool: Invalid argument' "$TOOL" / grant ../etc 2001
check_fails_msg "UID 0 is never granted (EINVAL)" 1 'sudoers-tool: Invalid argument' "$TOOL" / grant first.last 0
check_eq "UID 0 refusal left the drop-in out" "" "$(ls -A $D | xargs)"

# An admin whose name is a sudoers keyword grants that one UID, nobody else.
useradd -M -u 2004 -s /bin/bash ALL 2>/dev/null || echo 'ALL:x:2004:2004::/nonexistent:/bin/bash' >>/etc/passwd
check "grant an admin named ALL" "$TOOL" / grant ALL 2004
check "visudo -c accepts it" visudo -c -q
check "real sudo -l: ALL (UID 2004) has the rule" bash -c 'sudo -l -U ALL | grep -q "NOPASSWD: ALL"'
check_fails "real sudo -l: bystander has no rule (positive control above)" 1 bash -c 'sudo -l -U bystander | grep -q NOPASSWD'
check_fails "real sudo -l: plainuser has no rule" 1 bash -c 'sudo -l -U plainuser | grep -q NOPASSWD'
"$TOOL" / revoke ALL >/dev/null

# A full disk never leaves an empty or half-written file in place.
"$TOOL" / grant plainuser 2002 >/dev/null
mount -t tmpfs -o size=16k tmpfs $D
"$TOOL" / grant plainuser 2002 >/dev/null 2>&1   # re-creates it on the small fs
dd if=/dev/zero of=$D/.filler bs=1k count=64 2>/dev/null
check "plainuser's drop-in is there on the small fs" test -e $D/plainuser
check_fails_msg "grant on a full disk fails" 1 'No space left on device' "$TOOL" / grant first.last 2001
check_fails "no file for first.last" 1 test -e $D/first_2elast
check_eq "no temp left on the full disk" ".filler plainuser" "$(ls -A $D | xargs)"
check "visudo -c still passes" visudo -c -q
done_testing
