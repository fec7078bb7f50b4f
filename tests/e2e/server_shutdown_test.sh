#!/usr/bin/env bash
# The slussen binary as an operator runs it: it serves, stops cleanly on
# SIGTERM (exit 0, health NOT_SERVING first, nothing left running), finds its
# data again after a restart, and refuses unsafe or broken configuration
# with a clear message.
#
# Usage: server_shutdown_test.sh SLUSSEN SLUSSCTL
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2

start_redis "$TEST_TMP/redis"
start_broker "$SLUSSEN" "$SLUSSCTL"
port=$BROKER_PORT broker=$BROKER_PID
ctl=("$SLUSSCTL" --server="127.0.0.1:$port" --org=kommun-halmstad-eb --region=13)

name=$("${ctl[@]}" referrals create impulse --kommun=1380 \
  --need=coordinated-rehabilitation --call-back-name="Anna Berg" \
  --call-back-phone="035-13 70 00" --quiet)
[[ $name == regions/13/referrals/* ]] || fail "create printed '$name'"

kill -TERM "$broker"
status=0
wait "$broker" || status=$?
[ "$status" -eq 0 ] || fail "SIGTERM: exit status $status, want 0"
grep -q '"msg":"shutting down"' "$TEST_TMP/broker.log" || fail "no shutdown logged"
grep -q '"msg":"stopped"' "$TEST_TMP/broker.log" || fail "no stop logged"
kill -0 "$broker" 2>/dev/null && fail "the broker is still running"
"$SLUSSCTL" --server="127.0.0.1:$port" --timeout=1 health >/dev/null 2>&1 &&
  fail "something still answers on port $port"

# Every log line is one JSON object.
while IFS= read -r line; do
  [[ $line == \{*\} ]] || fail "not a JSON log line: $line"
done <"$TEST_TMP/broker.log"

start_broker "$SLUSSEN" "$SLUSSCTL" "$port"
"${ctl[@]}" referrals get "$name" --quiet | grep -qx "$name" ||
  fail "the referral made before the restart is gone"

# Development identity is refused off loopback unless forced.
other_port=$(free_port)
if "$SLUSSEN" --listen="0.0.0.0:$other_port" --redis="unix:$TEST_TMP/redis/redis.sock" \
    --pnr_key_file="$TEST_TMP/pnr.key" 2>"$TEST_TMP/remote.log"; then
  fail "listening on 0.0.0.0 with development identity was allowed"
fi
grep -q 'insecure_allow_remote' "$TEST_TMP/remote.log" || fail "the refusal does not say how to force it"

# Without a personnummer key the broker does not start.
if env -u SLUSSEN_PNR_KEY "$SLUSSEN" --listen="127.0.0.1:$other_port" \
    --redis="unix:$TEST_TMP/redis/redis.sock" 2>"$TEST_TMP/nokey.log"; then
  fail "the broker started without a personnummer key"
fi
grep -q 'SLUSSEN_PNR_KEY' "$TEST_TMP/nokey.log" || fail "the missing key is not explained: $(cat "$TEST_TMP/nokey.log")"

# A Redis setting out of range is refused, naming the flag, the value and
# the rule; so is a list of addresses without --redis_cluster.
if "$SLUSSEN" --listen="127.0.0.1:$other_port" --redis="unix:$TEST_TMP/redis/redis.sock" \
    --pnr_key_file="$TEST_TMP/pnr.key" --redis_wait_timeout_ms=5000 2>"$TEST_TMP/wait.log"; then
  fail "a replica wait longer than a Redis command was accepted"
fi
grep -q 'redis_wait_timeout_ms=5000 must be at least 1 and below --redis_command_timeout_ms (2000)' \
  "$TEST_TMP/wait.log" || fail "the bad wait is not explained: $(cat "$TEST_TMP/wait.log")"
if "$SLUSSEN" --listen="127.0.0.1:$other_port" --redis="127.0.0.1:7001,127.0.0.1:7002" \
    --pnr_key_file="$TEST_TMP/pnr.key" 2>"$TEST_TMP/seeds.log"; then
  fail "several Redis addresses were accepted without --redis_cluster"
fi
grep -q 'names several addresses, which only a Redis Cluster has (--redis_cluster)' \
  "$TEST_TMP/seeds.log" || fail "the address list is not refused: $(cat "$TEST_TMP/seeds.log")"

if "$SLUSSEN" --listen="127.0.0.1:$other_port" --redis="127.0.0.1:7001" --redis_cluster \
    --redis_sentinels="127.0.0.1:26379" --pnr_key_file="$TEST_TMP/pnr.key" 2>"$TEST_TMP/both.log"; then
  fail "Sentinels and a cluster were accepted together"
fi
grep -q 'redis_sentinels and --redis_cluster exclude each other' "$TEST_TMP/both.log" ||
  fail "Sentinels with a cluster are not refused: $(cat "$TEST_TMP/both.log")"

if "$SLUSSEN" --listen="127.0.0.1:$other_port" --redis="unix:$TEST_TMP/redis/redis.sock" \
    --pnr_key_file="$TEST_TMP/pnr.key" --deadline_workers=0 2>"$TEST_TMP/workers.log"; then
  fail "a ticker without workers was accepted"
fi
grep -q 'deadline_workers=0 must be 1 to 21 (the regions)' "$TEST_TMP/workers.log" ||
  fail "the bad worker count is not explained: $(cat "$TEST_TMP/workers.log")"

# Flags can come from the environment.
if SLUSSEN_LOG_LEVEL=loud "$SLUSSEN" 2>"$TEST_TMP/env.log"; then
  fail "a bad SLUSSEN_LOG_LEVEL was accepted"
fi
grep -q 'SLUSSEN_LOG_LEVEL' "$TEST_TMP/env.log" || fail "the bad environment variable is not named"

echo "PASS"
