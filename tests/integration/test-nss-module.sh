#!/usr/bin/env bash
# libnss_oslogin.so.2 through real glibc programs (getent, id, ls), in a
# private namespace: the module overlaid into the system library dir, a
# private nsswitch.conf, the cache in a private /run, a stub accountsd
# (oslogin-cache-tool serve) for misses.
source "$(dirname "$0")/../lib.sh"
MODULE=$MODULES_BUILD/nss_oslogin/libnss_oslogin.so.2
TOOL=$BUILD/tests/tools/oslogin-cache-tool
CLIENT=$BUILD/tests/tools/nss-test-client
for f in "$MODULE" "$TOOL" "$CLIENT"; do
	[ -e "$f" ] || { echo "ok 1 - # SKIP $f not built"; echo "1..1"; exit 0; }
done
enter_namespace "$@"
private_etc

# --- the shared object itself
needed=$(readelf -d "$MODULE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check_eq "links only libc (readelf NEEDED)" "libc.so.6 " "$needed"
check "ldd reads the module (it lists libc)" bash -c "ldd '$MODULE' | grep -q 'libc\.so\.6'"
check_fails "ldd lists no libcurl/json-c/libsystemd" 1 bash -c "ldd '$MODULE' | grep -E 'curl|json|systemd|ssl|crypto'"
exports=$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | tr '\n' ' ')
check_eq "exports exactly the _nss_oslogin_* entry points" \
	"_nss_oslogin_endgrent _nss_oslogin_endpwent _nss_oslogin_getgrent_r _nss_oslogin_getgrgid_r _nss_oslogin_getgrnam_r _nss_oslogin_getpwent_r _nss_oslogin_getpwnam_r _nss_oslogin_getpwuid_r _nss_oslogin_initgroups_dyn _nss_oslogin_setgrent _nss_oslogin_setpwent " \
	"$exports"
check "soname is libnss_oslogin.so.2" bash -c "readelf -d '$MODULE' | grep -q 'SONAME.*libnss_oslogin.so.2'"
# Its thread-key destructor and atfork handlers must never point into an
# unmapped module: dlclose() leaves it loaded.
check "marked NODELETE (readelf FLAGS_1)" bash -c "readelf -d '$MODULE' | grep -q 'FLAGS_1.*NODELETE'"

# --- install where glibc looks, switch nsswitch to "files oslogin"
install_modules "$MODULE"
sed -i -E 's/^(passwd|group):.*/\1: files oslogin/' /etc/nsswitch.conf
sed -i -E 's/^(shadow|gshadow):.*/\1: files/' /etc/nsswitch.conf

members=alice_example_com,bob_example_com
for i in $(seq 1 60); do members="$members,member$i"; done
TSV=/run/directory.tsv
{
	printf 'user\talice_example_com\t1000001\t1000001\tAlice Example\t/home/alice_example_com\t/bin/bash\n'
	printf 'user\tbob_example_com\t1000002\t1000002\t\t/home/bob_example_com\t/bin/sh\n'
	printf 'group\talice_example_com\t1000001\talice_example_com\n'
	printf 'group\tbob_example_com\t1000002\tbob_example_com\n'
	printf 'group\teng\t1000042\t%s\n' "$members"
} >$TSV
check "cache built" "$TOOL" build /run/oslogin/directory.cache <$TSV

check_eq "getent passwd NAME" "alice_example_com:*:1000001:1000001:Alice Example:/home/alice_example_com:/bin/bash" \
	"$(getent passwd alice_example_com)"
check_eq "getent passwd UID" "bob_example_com:*:1000002:1000002::/home/bob_example_com:/bin/sh" \
	"$(getent passwd 1000002)"
check_eq "getent group NAME (gr_passwd *)" "alice_example_com:*:1000001:alice_example_com" \
	"$(getent group alice_example_com)"
check_eq "getent group GID" "eng:*:1000042:$members" "$(getent group 1000042)"
check_eq "id NAME: primary, self group and eng (initgroups)" \
	"uid=1000001(alice_example_com) gid=1000001(alice_example_com) groups=1000001(alice_example_com),1000042(eng)" \
	"$(id alice_example_com)"
check_eq "id -G of a member that only exists in a member list... is not a user" "" "$(id -G member7 2>/dev/null)"
enum=$(getent passwd)
check "getent passwd enumerates files then oslogin" bash -c "grep -q '^root:' <<<'$enum' && grep -q '^alice_example_com:' <<<'$enum' && grep -q '^bob_example_com:' <<<'$enum'"
check_eq "getent group enumerates oslogin groups" "3" "$(getent group | grep -c ':100000[0-9]\|:1000042')"
touch /run/owned && chown 1000001:1000042 /run/owned
check_eq "ls -l names an OS Login owner and group" "alice_example_com eng" "$(stat -c '%U %G' /run/owned)"
check_eq "root still comes from files" "root:x:0:0:root:/root:/bin/bash" "$(getent passwd root)"
check_fails "a UID below the floor is not ours" 2 getent passwd 999

# --- ERANGE negotiation: start with a 1-byte buffer
out=$("$CLIENT" getpwnam alice_example_com 1)
check "getpwnam_r from a 1-byte buffer ends in success after retries" bash -c "[[ '$out' == 'alice_example_com:*:1000001:'*'tries='[2-9]* ]]"
out=$("$CLIENT" getgrnam eng 8)
check "getgrnam_r of a 62-member group grows the buffer, gr_mem aligned" bash -c "[[ '$out' == 'eng:*:1000042: members=62 aligned=1 tries='[2-9]* ]]"

# --- misses
start=$(date +%s%N)
getent passwd dave_example_com >/dev/null
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "miss without accountsd: not found" "2" "$rc"
check "miss without accountsd answers fast (${ms} ms incl. getent start-up)" test "$ms" -lt 200
out=$("$CLIENT" direct "$MODULE" dave_example_com)
check_eq "miss without accountsd is NSS_STATUS_UNAVAIL" "status=-1 errnop=11" "$out"

MISS_TSV=/run/miss.tsv
printf 'user\taaron_example_com\t1000003\t1000003\t\t/home/aaron_example_com\t/bin/sh\n' >$MISS_TSV
printf 'user\tdave_example_com\t1000004\t1000004\tDave Example With A Long Name\t/home/dave_example_com\t/bin/bash\n' >>$MISS_TSV
printf 'group\tops\t1000077\tdave_example_com\n' >>$MISS_TSV
COUNT=/run/stub.count
rm -f /run/oslogin/nss.sock # else wait_for below may see the last server's socket
"$TOOL" serve /run/oslogin/nss.sock $MISS_TSV --count $COUNT &
_cleanup_pids+=($!)
wait_for 5 test -S /run/oslogin/nss.sock
check_eq "miss answered by accountsd (stub)" \
	"dave_example_com:*:1000004:1000004:Dave Example With A Long Name:/home/dave_example_com:/bin/bash" \
	"$(getent passwd dave_example_com)"
check_eq "group miss answered" "ops:*:1000077:dave_example_com" "$(getent group ops)"
: >$COUNT
out=$("$CLIENT" getpwnam dave_example_com 1)
check "ERANGE on a miss: success after retries" bash -c "[[ '$out' == *'tries='[2-9]* ]]"
check_eq "... with one request to accountsd, not one per retry" "1" "$(wc -l <$COUNT)"
: >$COUNT
getent passwd nobody_here >/dev/null
check_eq "unknown name: asked once" "1" "$(wc -l <$COUNT)"
: >$COUNT
getent passwd 'bad:name' >/dev/null
getent passwd 12 >/dev/null
check_eq "invalid name and UID below the floor: no request" "0" "$(wc -l <$COUNT)"
kill %1 2>/dev/null; wait 2>/dev/null

rm -f /run/oslogin/nss.sock # else wait_for below may see the last server's socket
"$TOOL" serve /run/oslogin/nss.sock $MISS_TSV --wrong-answer &
_cleanup_pids+=($!)
wait_for 5 test -S /run/oslogin/nss.sock
check_fails "an answer for another user is refused" 2 getent passwd dave_example_com
kill %1 2>/dev/null; wait 2>/dev/null
rm -f /run/oslogin/nss.sock # else wait_for below may see the last server's socket
"$TOOL" serve /run/oslogin/nss.sock $MISS_TSV --delay-ms 3000 &
_cleanup_pids+=($!)
wait_for 5 test -S /run/oslogin/nss.sock
start=$(date +%s%N)
getent passwd dave_example_com >/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
check "a hung accountsd costs the deadline from the cache header (1 s), not more (${ms} ms)" \
	bash -c "[ $ms -ge 900 ] && [ $ms -lt 1800 ]"
kill %1 2>/dev/null; wait 2>/dev/null
rm -f /run/oslogin/nss.sock

# --- corrupted cache
cp /run/oslogin/directory.cache /run/good.cache
python3 - /run/oslogin/directory.cache <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
for i in range(300, len(b), 97):
    b[i] ^= 0x5a
open(p + '.new', 'wb').write(b)
PY
mv /run/oslogin/directory.cache.new /run/oslogin/directory.cache
getent passwd alice_example_com >/dev/null
rc=$?
check_eq "corrupted cache: not found, no crash" "2" "$rc"
check_eq "corrupted cache: NSS_STATUS_UNAVAIL" "status=-1 errnop=11" "$("$CLIENT" direct "$MODULE" alice_example_com)"
head -c 100 /run/good.cache >/run/oslogin/directory.cache
check_eq "truncated cache: UNAVAIL" "status=-1 errnop=11" "$("$CLIENT" direct "$MODULE" alice_example_com)"
cp /run/good.cache /run/oslogin/directory.cache
chmod 0666 /run/oslogin/directory.cache
check_eq "world-writable cache refused" "status=-1 errnop=11" "$("$CLIENT" direct "$MODULE" alice_example_com)"
chmod 0644 /run/oslogin/directory.cache
check_eq "repaired cache answers again" "status=1 errnop=0 name=alice_example_com" \
	"$("$CLIENT" direct "$MODULE" alice_example_com)"

# --- 8 threads x 100 000 lookups while the cache is replaced 100 times
gen_tsv() { # GEN
	awk -v g="$1" 'BEGIN { for (i = 0; i < 200; i++) printf "user\tu%d\t%d\t%d\tg%d\t/home/g%d/u%d\t/bin/sh\n", i, 1100000 + i, 1100000 + i, g, g, i }'
}
gen_tsv 0 | "$TOOL" build /run/oslogin/directory.cache
(
	for g in $(seq 1 100); do
		gen_tsv "$g" | "$TOOL" build /run/oslogin/directory.cache 1000 1000 "$g"
		sleep 0.05
	done
	echo done >/run/replacer.done
) &
replacer=$!
_cleanup_pids+=($replacer)
out=$("$CLIENT" stress 8 100000 200)
rc=$?
wait $replacer
check_eq "replacer finished 100 replacements" "done" "$(cat /run/replacer.done 2>/dev/null)"
check_eq "8 x 100 000 lookups during replacements: all consistent ($out)" "0" "$rc"
gens=$(sed -n 's/.*generations=\([0-9]*\).*/\1/p' <<<"$out")
check "lookups saw several generations ($gens)" test "${gens:-0}" -ge 3
done_testing
