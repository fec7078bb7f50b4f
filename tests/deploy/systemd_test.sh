#!/usr/bin/env bash
# deploy/systemd as a machine would get it: `cmake --install` of the server
# and provider-agent components into a temporary prefix (the units' paths
# rewritten to it), then systemd's own tools on what was installed:
#   - every unit of deploy/systemd is installed, with the binaries, the
#     desks' files, the catalogue, Redis's configuration and the users file;
#   - `systemd-analyze verify` finds nothing, not even a warning (a misspelt
#     key is only a warning there, and is ignored by systemd);
#   - `systemd-analyze security --offline` rates each unit's exposure at
#     2.0 or less (a unit with no hardening is about 9);
#   - `systemd-sysusers --dry-run` takes the users file, and it makes every
#     user and group the units run as;
#   - the broker and the web gateway reach Redis's socket where the Redis
#     unit makes it, and Redis started with the unit's own command line
#     (its state and run directories moved here) answers on that socket
#     with the project's configuration, its group allowed and no one else.
# (tests/deploy/deploy_test.py checks the units' flags against --help.)
#
# Usage: systemd_test.sh BUILD_DIR
source "$(dirname "$0")/../e2e/lib.sh"
BUILD=$1
for tool in systemd-analyze systemd-sysusers redis-server redis-cli; do
  command -v "$tool" >/dev/null || fail "no $tool (./dev install)"
done

prefix="$TEST_TMP/prefix"
for component in server provider-agent; do
  cmake --install "$BUILD" --component "$component" --prefix "$prefix" \
    >"$TEST_TMP/install.log" 2>&1 || fail "installing $component: $(cat "$TEST_TMP/install.log")"
done
units="$prefix/lib/systemd/system"
for file in bin/slussen bin/slussen-web bin/slussen-provider-agent \
    share/slussen/web/index.html share/slussen/web/agency.html \
    share/slussen/redis/slussen.conf share/doc/slussen/README.md \
    share/doc/slussen/provider-agent.env.example lib/sysusers.d/slussen.conf; do
  [ -s "$prefix/$file" ] || fail "not installed: $file"
done
ls "$prefix"/share/slussen/catalog/*.textproto >/dev/null 2>&1 || fail "the catalogue is not installed"
for unit in "$SLUSSEN_ROOT"/deploy/systemd/*.service; do
  [ -s "$units/$(basename "$unit")" ] || fail "$(basename "$unit") is not installed"
done
grep -q "/usr/local/" "$units"/*.service &&
  fail "a unit still names /usr/local after installing under $prefix: $(grep -l /usr/local/ "$units"/*.service)"

# Installed under another prefix, the units name it.
grep -q "^ExecStart=$prefix/bin/slussen " "$units/slussen.service" ||
  fail "slussen.service does not run $prefix/bin/slussen: $(grep ExecStart "$units/slussen.service")"

if ! systemd-analyze verify --man=no "$units"/*.service >"$TEST_TMP/verify.log" 2>&1 ||
    [ -s "$TEST_TMP/verify.log" ]; then
  fail "systemd-analyze verify: $(cat "$TEST_TMP/verify.log")"
fi

for unit in "$units"/*.service; do
  systemd-analyze security --offline=yes --man=no --threshold=20 "$unit" \
    >"$TEST_TMP/security.log" 2>&1 ||
    fail "$(basename "$unit") is exposed: $(grep -E 'Overall|✗' "$TEST_TMP/security.log")"
done

mkdir -p "$TEST_TMP/root"
systemd-sysusers --dry-run --root="$TEST_TMP/root" "$prefix/lib/sysusers.d/slussen.conf" \
  >"$TEST_TMP/sysusers.log" 2>&1 || fail "systemd-sysusers: $(cat "$TEST_TMP/sysusers.log")"
users=$(sed -n 's/^u \([a-z-]*\) .*/\1/p' "$prefix/lib/sysusers.d/slussen.conf")
for name in $(sed -n 's/^\(User\|Group\|SupplementaryGroups\)=//p' "$units"/*.service); do
  grep -qx "$name" <<<"$users" || fail "a unit runs as $name, which the users file does not make"
done

# A unit's ExecStart, its continuation lines joined.
exec_start() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$1" | sed -n 's/^ExecStart=//p'
}
redis_command=$(exec_start "$units/slussen-redis.service")
socket=$(sed -n 's/.*--unixsocket \([^ ]*\).*/\1/p' <<<"$redis_command")
[ -n "$socket" ] || fail "slussen-redis.service gives Redis no --unixsocket: $redis_command"
for unit in slussen slussen-web; do
  exec_start "$units/$unit.service" | grep -q -- "--redis=unix:$socket" ||
    fail "$unit.service does not reach Redis at $socket"
done

# Redis as the unit starts it: the directories systemd would make
# (StateDirectory, RuntimeDirectory) made here instead.
mkdir -p "$TEST_TMP/state" "$TEST_TMP/run"
redis_command=${redis_command//\/var\/lib\/slussen-redis/$TEST_TMP/state}
redis_command=${redis_command//\/run\/slussen-redis/$TEST_TMP/run}
# shellcheck disable=SC2086 # the unit's words, as systemd splits them
$redis_command >"$TEST_TMP/redis.log" 2>&1 &
TEST_PIDS+=($!)
sock="$TEST_TMP/run/redis.sock"
for _ in $(seq 1 100); do
  [ -S "$sock" ] && redis-cli -s "$sock" PING >/dev/null 2>&1 && break
  sleep 0.1
done
[ "$(redis-cli -s "$sock" PING 2>&1)" = PONG ] ||
  fail "Redis as slussen-redis.service starts it does not answer: $(tail -5 "$TEST_TMP/redis.log")"
[ "$(stat -c %a "$sock")" = 770 ] || fail "Redis's socket has mode $(stat -c %a "$sock"), not 770"
[ "$(redis-cli -s "$sock" CONFIG GET appendfsync | tail -1)" = always ] ||
  fail "Redis did not read deploy/redis/slussen.conf"
[ "$(redis-cli -s "$sock" CONFIG GET port | tail -1)" = 0 ] || fail "Redis listens on a port"
[ "$(redis-cli -s "$sock" CONFIG GET dir | tail -1)" = "$TEST_TMP/state" ] ||
  fail "Redis keeps its data elsewhere than its state directory"
echo PASS
