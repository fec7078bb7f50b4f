#!/usr/bin/env bash
# The broker's Prometheus metrics (--metrics_listen): GET /metrics answers
# the text exposition, and the numbers move with what happens: a create
# counts as an OK CreateReferral and runs a matching pass of its region,
# which counts the referral waiting; Redis round trips and connections are
# counted by the Redis server asked, failed ones when Redis is gone; an
# open watch shows as a
# watcher, and stops showing when it ends; a refused call counts under its
# code; the region's audit chain is as long as Redis says. A metrics
# address in use is refused at start.
#
# Usage: metrics_test.sh SLUSSEN SLUSSCTL
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2

make_key "$TEST_TMP/pnr.key"
start_redis "$TEST_TMP/redis"
metrics_port=$(free_port)
BROKER_FLAGS=(--metrics_listen="127.0.0.1:$metrics_port")
start_broker "$SLUSSEN" "$SLUSSCTL"
grep -q "\"metrics_address\":\"127.0.0.1:$metrics_port\"" "$TEST_TMP/broker.log" ||
  fail "the broker does not say where its metrics are: $(grep listening "$TEST_TMP/broker.log")"

metrics() { curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$TEST_TMP/metrics.txt"; }
# metric_value NAME_AND_LABELS: its value in the last metrics read, or 0.
metric_value() {
  awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }' \
    "$TEST_TMP/metrics.txt"
}
# eventually_metric NAME_AND_LABELS VALUE: the metric reaches VALUE in 10 s.
eventually_metric() {
  for _ in $(seq 1 40); do
    metrics && [ "$(metric_value "$1")" = "$2" ] && return 0
    sleep 0.25
  done
  fail "$1 is $(metric_value "$1"), not $2: $(grep "^${1%%\{*}" "$TEST_TMP/metrics.txt")"
}

metrics || fail "no metrics on 127.0.0.1:$metrics_port"
grep -q '^# TYPE slussen_watchers gauge' "$TEST_TMP/metrics.txt" ||
  fail "not the text exposition: $(head -5 "$TEST_TMP/metrics.txt")"

ctl() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --timeout=10 "$@"; }
ctl --org=kommun-halmstad-eb --region=13 referrals create impulse --kommun=1380 \
  --need=coordinated-rehabilitation --call-back-name="Anna Berg" \
  --call-back-phone="035-13 70 00" >/dev/null || fail "creating an impulse"
eventually_metric 'slussen_rpc_total{code="OK",method="CreateReferral"}' 1
metrics
# The first create of the day waits for a full pass (the region's first).
[ "$(metric_value 'slussen_matching_passes_total{kind="full",outcome="ok",region="13"}')" -ge 1 ] ||
  fail "no matching pass of region 13 counted: $(grep matching_passes "$TEST_TMP/metrics.txt")"
grep -q '^slussen_rpc_duration_seconds_count{method="CreateReferral"} 1$' "$TEST_TMP/metrics.txt" ||
  fail "no latency of the create: $(grep rpc_duration_seconds_count "$TEST_TMP/metrics.txt")"
# Its round trips to Redis: at least its write.
grep -q '^slussen_rpc_redis_round_trips_count{method="CreateReferral"} 1$' "$TEST_TMP/metrics.txt" ||
  fail "no round trips of the create: $(grep rpc_redis_round_trips_count "$TEST_TMP/metrics.txt")"
[ "$(metric_value 'slussen_rpc_redis_round_trips_sum{method="CreateReferral"}')" -ge 1 ] ||
  fail "the create made no round trip: $(grep rpc_redis_round_trips_sum "$TEST_TMP/metrics.txt")"
# That pass left the impulse waiting (no funktionsbrevlåda has capacity).
[ "$(metric_value 'slussen_queue_waiting{activity_type="funktionsbrevlada",region="13"}')" = 1 ] ||
  fail "the waiting impulse is not counted: $(grep '^slussen_queue' "$TEST_TMP/metrics.txt")"
# Redis round trips and the connections that carried them, by the server.
primary="unix:$TEST_TMP/redis/redis.sock"
[ "$(metric_value "slussen_redis_round_trips_total{outcome=\"answered\",primary=\"$primary\"}")" -ge 1 ] ||
  fail "no Redis round trip counted: $(grep '^slussen_redis' "$TEST_TMP/metrics.txt")"
[ "$(metric_value "slussen_redis_connections_opened_total{primary=\"$primary\"}")" -ge 1 ] ||
  fail "no Redis connection counted: $(grep '^slussen_redis' "$TEST_TMP/metrics.txt")"

# The audit chain's length as Redis keeps it (counted every 5 s): an
# impulse holds no personal data and appends nothing; a referral with a
# participant appends its create, and each read of it.
# (A series that is there at 0: metric_value says 0 of a missing one too.)
for _ in $(seq 1 40); do
  metrics && grep -q '^slussen_audit_records{region="13"} 0$' "$TEST_TMP/metrics.txt" && break
  sleep 0.25
done
grep -q '^slussen_audit_records{region="13"} 0$' "$TEST_TMP/metrics.txt" ||
  fail "no audit chain length 0 of region 13: $(grep '^slussen_audit' "$TEST_TMP/metrics.txt")"
load_catalog "$SLUSSCTL"
activity=$(ctl --org=fk-lfc-halmstad --region=13 referrals create \
  --file="$SLUSSEN_ROOT/clients/examples/activity.json" --quiet) || fail "creating an activity referral"
ctl --org=fk-lfc-halmstad referrals get "$activity" >/dev/null || fail "reading $activity"
audited=$(redis-cli -s "$TEST_TMP/redis/redis.sock" HGET 'slussen:{r13}:audit:head' count)
[ "${audited:-0}" -ge 2 ] || fail "a create and a read appended ${audited:-nothing} to the audit chain"
eventually_metric 'slussen_audit_records{region="13"}' "$audited"

# A refusal counts under its code.
ctl --org=kommun-halmstad-eb --region=13 referrals get regions/13/referrals/01J00000000000000000000000 \
  >/dev/null 2>&1 && fail "a referral that does not exist was found"
eventually_metric 'slussen_rpc_total{code="NOT_FOUND",method="GetReferral"}' 1

# An open watch is a watcher until it ends.
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=kommun-halmstad-eb --region=13 \
  events watch --region=13 >/dev/null 2>&1 &
watch=$!
TEST_PIDS+=("$watch")
eventually_metric 'slussen_watchers' 1
kill "$watch"
wait "$watch" 2>/dev/null || true
eventually_metric 'slussen_watchers' 0
eventually_metric 'slussen_redis_unreachable_primaries' 0

# Its address in use: refused at start, naming it.
if out=$(timeout 10 "$SLUSSEN" --listen=127.0.0.1:0 --redis="unix:$TEST_TMP/redis/redis.sock" \
    --pnr_key_file="$TEST_TMP/pnr.key" --metrics_listen="127.0.0.1:$metrics_port" 2>&1); then
  fail "a second broker started on the metrics port in use"
fi
grep -q "cannot serve metrics on 127.0.0.1:$metrics_port" <<<"$out" ||
  fail "the refusal does not name the metrics address: $out"

# Redis gone: the round trips that find it gone count as failed.
redis-cli -s "$TEST_TMP/redis/redis.sock" shutdown nosave >/dev/null 2>&1 || true
ctl --org=kommun-halmstad-eb --region=13 referrals list >/dev/null 2>&1 &&
  fail "a list answered with Redis gone"
metrics
[ "$(metric_value "slussen_redis_round_trips_total{outcome=\"failed\",primary=\"$primary\"}")" -ge 1 ] ||
  fail "no failed Redis round trip counted: $(grep '^slussen_redis' "$TEST_TMP/metrics.txt")"
echo "PASS"
