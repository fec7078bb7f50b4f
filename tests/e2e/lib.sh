# Shared by the shell tests: a temp dir, free ports, a private redis-server
# and the broker binary, all stopped when the test exits, pass or fail.
# Source it; it sets `set -euo pipefail`.
set -euo pipefail

SLUSSEN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_TMP=$(mktemp -d /tmp/slussen-test.XXXXXX)
TEST_PIDS=()

cleanup() {
  local pid
  for pid in "${TEST_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${TEST_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TEST_TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A loopback TCP port nothing listens on now, and with it each port
# OFFSET above it (free_port 101 201: a `./dev up --cluster` test's nodes
# and their buses). Below Linux's ephemeral range (32768 on), so that no
# connection the tests open meanwhile takes it as its own local port.
free_port() {
  local port offset taken
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 12000))
    taken=0
    for offset in 0 "$@"; do
      if (exec 3<>"/dev/tcp/127.0.0.1/$((port + offset))") 2>/dev/null; then
        taken=1
      fi
    done
    if [ "$taken" = 0 ]; then
      echo "$port"
      return 0
    fi
  done
  fail "no free port"
}

# start_redis DIR: a redis-server on DIR/redis.sock with the AOF on.
start_redis() {
  local dir=$1
  mkdir -p "$dir"
  redis-server --port 0 --unixsocket "$dir/redis.sock" --dir "$dir" \
    --appendonly yes --appendfsync always --save "" --daemonize no \
    --logfile "$dir/redis.log" &
  TEST_PIDS+=($!)
  for _ in $(seq 1 100); do
    redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "redis did not start: $(tail -5 "$dir/redis.log")"
}

# wait_healthy SLUSSCTL PORT: until the broker answers SERVING; fails at
# once, with the end of its log, if the broker started by start_broker
# exits meanwhile.
wait_healthy() {
  until_healthy "$@" ||
    fail "the broker on port $2 exited: $(tail -3 "$TEST_TMP/broker.log" 2>/dev/null)"
}

# until_healthy SLUSSCTL PORT: 0 once the broker answers SERVING, 1 as soon
# as the broker started by start_broker has exited; fails after 5 s.
until_healthy() {
  local slussctl=$1 port=$2
  for _ in $(seq 1 100); do
    "$slussctl" --server="127.0.0.1:$port" --timeout=1 health >/dev/null 2>&1 &&
      return 0
    if [ -n "${BROKER_PID:-}" ] && ! kill -0 "$BROKER_PID" 2>/dev/null; then
      return 1
    fi
    sleep 0.05
  done
  fail "the broker on port $port never became healthy: $(tail -3 "$TEST_TMP/broker.log" 2>/dev/null)"
}

# A personnummer key for the broker (mode 600).
make_key() {
  local file=$1
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
}

# start_broker SLUSSEN SLUSSCTL [PORT]: the broker on 127.0.0.1:PORT (a free
# one if not given) over the Redis in $TEST_TMP/redis (start_redis first),
# with a fresh key; sets BROKER_PORT and BROKER_PID, logs to
# $TEST_TMP/broker.log, returns once it is healthy. A free port can be
# taken by another test before the broker binds it: without PORT, a broker
# that says so is started again on another, up to five times.
start_broker() {
  local slussen=$1 slussctl=$2
  [ -f "$TEST_TMP/pnr.key" ] || make_key "$TEST_TMP/pnr.key"
  for _ in 1 2 3 4 5; do
    BROKER_PORT=${3:-$(free_port)}
    # BROKER_FLAGS (an array, optional): more flags for the broker.
    "$slussen" --listen="127.0.0.1:$BROKER_PORT" \
      --redis="unix:$TEST_TMP/redis/redis.sock" \
      --pnr_key_file="$TEST_TMP/pnr.key" ${BROKER_FLAGS[@]+"${BROKER_FLAGS[@]}"} \
      2>>"$TEST_TMP/broker.log" &
    BROKER_PID=$!
    TEST_PIDS+=("$BROKER_PID")
    until_healthy "$slussctl" "$BROKER_PORT" && return 0
    if [ -n "${3:-}" ] || ! tail -5 "$TEST_TMP/broker.log" | grep -q "cannot listen on 127.0.0.1:$BROKER_PORT"; then
      break
    fi
  done
  fail "the broker on port $BROKER_PORT exited: $(tail -3 "$TEST_TMP/broker.log" 2>/dev/null)"
}

# load_catalog SLUSSCTL: the catalogue and sample directory, as `./dev up`
# loads them, into the broker on $BROKER_PORT.
load_catalog() {
  "$1" --server="127.0.0.1:$BROKER_PORT" --org=slussen-admin --role=admin \
    catalog apply "$SLUSSEN_ROOT"/providers/catalog/*.textproto \
    >"$TEST_TMP/catalog.log" 2>&1 || fail "loading the catalogue: $(cat "$TEST_TMP/catalog.log")"
}
