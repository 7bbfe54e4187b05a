#!/usr/bin/env bash
# Every C file of the tree follows the checked-in .clang-format
# (`make format` rewrites them). clang-format comes with `make deps`;
# without it this suite fails rather than passing unchecked.
. "$(dirname "$0")/../lib.sh"
cd "$SRC"

if ! command -v clang-format >/dev/null; then
	not_ok "clang-format is installed" "run make deps (Debian package clang-format)"
	done_testing
fi
check ".clang-format is at the top of the tree" test -s .clang-format

# The check can fail: a badly indented file is flagged under this config.
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
cp .clang-format "$tmp/"
printf 'int f(void)\n{\nreturn  0 ;\n}\n' >"$tmp/bad.c"
check_fails "a badly formatted file is flagged" 1 clang-format --dry-run --Werror "$tmp/bad.c"
printf 'int f(void)\n{\n        return 0;\n}\n' >"$tmp/good.c"
check "a well formatted file passes" clang-format --dry-run --Werror "$tmp/good.c"

if [ -d .git ] && command -v git >/dev/null; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
check "there are C files to check (${#files[@]})" test "${#files[@]}" -gt 100
# One check per top-level folder, naming the files that differ.
declare -A bad=()
for f in "${files[@]}"; do
	top=${f%%/*}
	[ "$top" = "$f" ] && top=.
	bad[$top]=${bad[$top]:-}
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad[$top]+=" $f"
done
for top in $(printf '%s\n' "${!bad[@]}" | sort); do
	if [ -z "${bad[$top]}" ]; then ok "$top/ follows .clang-format"; else not_ok "$top/ follows .clang-format" "differ (make format):${bad[$top]}"; fi
done
done_testing
