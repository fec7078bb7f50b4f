#!/usr/bin/env bash
# Runs README.md's mutual-TLS example as printed (the lines between
# <!-- tls-example:begin --> and <!-- tls-example:end -->) in a scratch
# copy of the checkout's layout: ./dev certs makes the certificates, the
# broker line starts the broker (in the background, on free ports instead
# of 50051 and 50052, which may be taken), and every slussctl line must
# succeed.
#
# Usage: readme_tls_test.sh SLUSSEN SLUSSCTL README
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2 README=$3

script=$(awk '
  /<!-- tls-example:begin/ { inside = 1; next }
  /<!-- tls-example:end/ { inside = 0 }
  inside && !/^```/ { print }
' "$README" | sed -e ':a' -e '/\\$/N; s/\\\n */ /; ta')
[ "$(grep -c '^build/slussctl' <<<"$script")" -ge 2 ] || fail "no TLS example found in $README"

root="$TEST_TMP/root"
mkdir -p "$root/build" "$root/var/redis"
cp "$SLUSSEN_ROOT/dev" "$root/dev"
ln -s "$SLUSSEN" "$root/build/slussen"
ln -s "$SLUSSCTL" "$root/build/slussctl"
start_redis "$root/var/redis"
make_key "$root/var/pnr.key"
port=$(free_port)
admin=$(free_port)
export SLUSSEN_SERVER="127.0.0.1:$port"
cd "$root"
while IFS= read -r line; do
  [ -n "$line" ] || continue
  line=${line//127.0.0.1:50051/127.0.0.1:$port}
  line=${line//127.0.0.1:50052/127.0.0.1:$admin}
  echo "+ $line"
  if [[ $line == build/slussen\ * ]]; then
    bash -c "exec $line" 2>>"$TEST_TMP/broker.log" &
    TEST_PIDS+=($!)
    wait_healthy "$SLUSSCTL" "$admin"
    "$SLUSSCTL" --server="127.0.0.1:$port" --certs=var/certs --role=admin --org=slussen-admin \
      catalog apply "$SLUSSEN_ROOT"/providers/catalog/*.textproto >/dev/null 2>&1 ||
      fail "loading the catalogue over TLS"
    continue
  fi
  bash -euo pipefail -c "$line" >"$TEST_TMP/out" 2>&1 ||
    fail "the README's line failed: $line: $(cat "$TEST_TMP/out")"
done <<<"$script"
echo "PASS: the README's mutual-TLS example works as printed"
