#!/usr/bin/env bash
# `./dev up` as a new user runs it (without its install and build steps,
# which the test run has done): it starts Redis and the broker, serves,
# stops both on SIGTERM leaving no process behind, and a second `./dev up`
# on the same var directory finds the data of the first. With PRIMARIES,
# the same with `./dev up --cluster PRIMARIES`: Redis is a Redis Cluster.
#
# Usage: dev_up_test.sh REPOSITORY_ROOT BUILD_DIR [PRIMARIES]
source "$(dirname "$0")/lib.sh"
ROOT=$1 BUILD=$2 PRIMARIES=${3:-}
cluster=()
[ -n "$PRIMARIES" ] && cluster=(--cluster "$PRIMARIES")
export SLUSSEN_VAR_DIR="$TEST_TMP/var" SLUSSEN_BUILD_DIR="$BUILD"
# The broker's port; a cluster's nodes take the ports 101 and 201 above it
# (./dev up --cluster).
offsets=()
for i in $(seq 1 "${PRIMARIES:-0}"); do offsets+=($((100 + i)) $((200 + i))); done
# The web gateway listens 2 above the broker, the metrics 3 above.
pick_ports() {
  port=$(free_port 2 3 ${offsets[@]+"${offsets[@]}"})
  web_port=$((port + 2))
  ctl=("$BUILD/slussctl" --server="127.0.0.1:$port" --org=kommun-halmstad-eb --region=13)
}
pick_ports

runs=0 ups=0
# One ./dev up; 0 once it is up, 1 if it exited first.
start_up() {
  runs=$((runs + 1))
  log="$TEST_TMP/up-$runs.log"
  "$ROOT/dev" up --port "$port" --web-port "$web_port" --no-build ${cluster[@]+"${cluster[@]}"} >"$log" 2>&1 &
  dev=$!
  TEST_PIDS+=("$dev")
  # A cluster takes seconds to agree on its slots; more while tests run.
  for _ in $(seq 1 300); do
    grep -q 'Slussen is up' "$log" 2>/dev/null && return 0
    kill -0 "$dev" 2>/dev/null || return 1
    sleep 0.1
  done
  fail "./dev up did not come up: $(tail -25 "$log")"
}

# ./dev up until it is up. Ports found free can be taken by another test
# before ./dev up binds them: the first time, a broker or gateway that
# cannot listen is started again on other ports, from an empty var.
up() {
  ups=$((ups + 1))
  for _ in 1 2 3 4 5; do
    start_up && return 0
    if [ "$ups" != 1 ] || ! grep -q 'cannot listen on' "$log"; then break; fi
    echo "ports $port.. taken meanwhile; again on others: $(grep 'cannot listen on' "$log" | tail -1)"
    rm -rf "$SLUSSEN_VAR_DIR"
    pick_ports
  done
  fail "./dev up exited: $(tail -25 "$log")"
}

down() {
  local redis_pids=() broker_pid pidfile pid
  while IFS= read -r pidfile; do
    redis_pids+=("$(cat "$pidfile")")
  done < <(find "$SLUSSEN_VAR_DIR" -name redis.pid)
  [ ${#redis_pids[@]} -eq "${PRIMARIES:-1}" ] ||
    fail "expected ${PRIMARIES:-1} Redis processes, found ${#redis_pids[@]}"
  broker_pid=$(pgrep -f -- "--listen=127.0.0.1:$port" || true)
  [ -n "$broker_pid" ] || fail "no broker process found"
  web_pid=$(pgrep -f -- "--listen=127.0.0.1:$web_port" || true)
  [ -n "$web_pid" ] || fail "no web gateway process found"
  kill -TERM "$dev"
  wait "$dev" 2>/dev/null || true
  for pid in "${redis_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && fail "redis ($pid) outlived ./dev up"
  done
  kill -0 "$broker_pid" 2>/dev/null && fail "the broker ($broker_pid) outlived ./dev up"
  kill -0 "$web_pid" 2>/dev/null && fail "the web gateway ($web_pid) outlived ./dev up"
  grep -q 'stopped the web gateway, the broker and Redis' "$log" || fail "no stop message"
}

up
grep -q "127.0.0.1:$port" "$log" || fail "./dev up does not say where it listens"
grep -Eq 'catalogue: [1-9][0-9]* created, 0 updated, 0 unchanged' "$log" ||
  fail "./dev up did not load the catalogue: $(grep catalogue "$log")"
"${ctl[@]}" offerings list --region=13 | grep -q 'halsosam' ||
  fail "the sample Hälsosam offering is not in the directory"
grep -q "web     http://127.0.0.1:$web_port" "$log" || fail "./dev up does not say where the web gateway is"
name=$("${ctl[@]}" referrals create impulse --kommun=1380 \
  --need=coordinated-rehabilitation --call-back-name="Anna Berg" \
  --call-back-phone="035-13 70 00" --quiet)
# README.md's curl example as printed (the $ line and its > lines), on
# this run's gateway port: JSON naming the referral just made.
http_example=$(awk '
  /<!-- http-example:begin/ { inside = 1; next }
  /<!-- http-example:end/ { inside = 0 }
  inside && /^\$ / { print substr($0, 3); more = 1; next }
  inside && more && /^> / { print substr($0, 3); next }
  { more = 0 }
' "$ROOT/README.md")
grep -q 'ListReferrals' <<<"$http_example" || fail "no curl example in README.md"
bash -euo pipefail -c "${http_example//127.0.0.1:8080/127.0.0.1:$web_port}" >"$TEST_TMP/http.json" ||
  fail "README.md's curl example failed"
grep -q "^{\"referrals\":\[{\"name\":\"$name\"" "$TEST_TMP/http.json" ||
  fail "the web gateway did not answer README.md's ListReferrals with the referral: $(head -c 300 "$TEST_TMP/http.json")"
# The metrics line it printed answers, and counts that create.
grep -q "metrics http://127.0.0.1:$((port + 3))/metrics" "$log" ||
  fail "./dev up does not say where the metrics are"
curl -sf "http://127.0.0.1:$((port + 3))/metrics" >"$TEST_TMP/metrics.txt" ||
  fail "no metrics on 127.0.0.1:$((port + 3))"
grep -q '^slussen_rpc_total{code="OK",method="CreateReferral"} [1-9]' "$TEST_TMP/metrics.txt" ||
  fail "the metrics do not count the create: $(grep slussen_rpc_total "$TEST_TMP/metrics.txt")"
down

[ -n "$(find "$SLUSSEN_VAR_DIR" -type d -name appendonlydir)" ] ||
  fail "no append-only file under var"
if [ -n "$PRIMARIES" ]; then
  grep -q "Redis Cluster of $PRIMARIES primaries" "$log" ||
    fail "./dev up does not say it runs a cluster: $(grep redis "$log")"
fi

up
"${ctl[@]}" referrals get "$name" --quiet | grep -qx "$name" ||
  fail "the second ./dev up did not find the referral of the first"
grep -Eq 'catalogue: 0 created, 0 updated, [1-9][0-9]* unchanged' "$log" ||
  fail "loading the catalogue twice created something twice: $(grep catalogue "$log")"

# A misspelt option of ./dev test is refused before anything is built,
# naming it; so is --all with ctest arguments.
if "$ROOT/dev" test --tsna >"$TEST_TMP/dev-test.txt" 2>&1; then
  fail "./dev test --tsna was accepted"
fi
grep -q "unknown option '--tsna'" "$TEST_TMP/dev-test.txt" ||
  fail "./dev test --tsna does not name the option: $(cat "$TEST_TMP/dev-test.txt")"
grep -q '^\[[0-9]*/[0-9]*\]' "$TEST_TMP/dev-test.txt" &&
  fail "./dev test --tsna built or tested before refusing: $(cat "$TEST_TMP/dev-test.txt")"
if "$ROOT/dev" test --all -L unit >"$TEST_TMP/dev-test.txt" 2>&1; then
  fail "./dev test --all -L unit was accepted"
fi
grep -q "takes no ctest ARGS" "$TEST_TMP/dev-test.txt" ||
  fail "./dev test --all -L unit says: $(cat "$TEST_TMP/dev-test.txt")"

down
echo "PASS"

