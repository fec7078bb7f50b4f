#!/bin/sh
# The store's Redis Lua (broker/store/lua/), checked from the sources:
#
#   lua_test.sh syntax <source dir> <cmake>
#     Every file of broker/store/lua/ compiles with Lua 5.1, Redis's Lua
#     (luac5.1 -p, Debian's lua5.1), and so does every script as Redis runs
#     it, its includes in place (assembled by cmake/embed_lua.cmake as the
#     build embeds it). A file's error names its own line; an error only
#     the assembled script has names the line of the assembled copy.
#   lua_test.sh placement <source dir>
#     Lua lives in the .lua files of broker/store/lua/ only, so that it is
#     checked here and its errors name real lines: no .cc or .h outside
#     tests/ holds Redis Lua (redis.call), and no file of broker/ a C++ raw
#     string of Lua (R"lua(); the C++ that embeds the scripts is generated
#     into the build directory. (Tests make small scripts of their own to
#     test RedisPool.)
set -u

check="${1:?usage: lua_test.sh syntax|placement <source dir> [cmake]}"
src="${2:?usage: lua_test.sh syntax|placement <source dir> [cmake]}"
failed=0

fail() {
  echo "FAIL: $*" >&2
  failed=1
}

die() {
  echo "FAIL: $*" >&2
  exit 1
}

syntax() {
  cmake="${1:?syntax needs the cmake program}"
  luac=$(command -v luac5.1) ||
    die "luac5.1 not found: install Debian's lua5.1 (./dev does)"
  files=$(find "$src/broker/store/lua" -name '*.lua' -type f | sort)
  [ -n "$files" ] || die "no .lua files in $src/broker/store/lua"
  for file in $files; do
    "$luac" -p -o /dev/null "$file" || fail "${file#"$src"/} does not compile"
  done
  out=$(mktemp -d) || exit 1
  trap 'rm -rf "$out"' EXIT
  "$cmake" -DSOURCE_DIR="$src" -DOUT_DIR="$out" \
    -P "$src/cmake/embed_lua.cmake" ||
    die "cmake/embed_lua.cmake could not assemble the scripts"
  count=0
  for script in "$out"/*.lua; do
    [ -f "$script" ] || continue
    count=$((count + 1))
    error=$("$luac" -p -o /dev/null "$script" 2>&1) && continue
    echo "$error" >&2
    # luac names the line of the assembled copy: its line map says whose.
    line=$(echo "$error" |
      sed -n "s|^.*$script:\([0-9][0-9]*\):.*|\1|p" | head -n 1)
    where=""
    if [ -n "$line" ]; then
      where=$(awk -v n="$line" '$1 <= n { at = $2 ":" ($3 + n - $1) }
                                END { print at }' "${script%.lua}.lines")
    fi
    fail "broker/store/lua/$(basename "$script"), as Redis runs it" \
      "(includes in place), does not compile${where:+ (at $where)}"
  done
  [ "$count" -gt 0 ] || fail "cmake/embed_lua.cmake assembled no script"
  [ $failed -eq 0 ] &&
    echo "ok: $count scripts compile with $("$luac" -v 2>&1 | head -n 1)"
}

placement() {
  cd "$src" || exit 1
  dirs=""
  for dir in broker clients providers protos tools; do
    [ -d "$dir" ] && dirs="$dirs $dir"
  done
  # shellcheck disable=SC2086  # $dirs: several directories
  lua_in_cpp=$(find $dirs \( -name '*.cc' -o -name '*.h' \) -type f \
    -exec grep -l 'redis\.call' {} + 2>/dev/null | sort)
  for file in $lua_in_cpp; do
    fail "$file holds Redis Lua (redis.call): put it in broker/store/lua/"
  done
  raw=$(grep -rlF 'R"lua(' broker 2>/dev/null | sort)
  for file in $raw; do
    fail "$file holds a raw string of Lua (R\"lua(): put it in broker/store/lua/"
  done
  [ $failed -eq 0 ] && echo "ok: no Redis Lua outside broker/store/lua/"
}

case "$check" in
  syntax) syntax "${3:-}" ;;
  placement) placement ;;
  *) echo "usage: lua_test.sh syntax|placement <source dir> [cmake]" >&2; exit 2 ;;
esac
exit $failed
