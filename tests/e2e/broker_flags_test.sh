#!/usr/bin/env bash
# Every flag of the broker (broker/server/broker_flags.cc) takes effect:
# the real `slussen` is started with a value other than the default and
# the behaviour that value changes is checked, so that a flag can never
# again be parsed and then silently dropped (as --rate_limit_per_second
# once was). tests/unit/broker_flags_test.cc checks the step before: each
# flag's value reaches the options, every range, and the defaults.
#
# Checked here:
#   a misspelt flag     refused before anything happens, naming it
#   --listen            health answers there; "listening" names it; a
#                       second broker on that port (or the admin port)
#                       is refused, not let share it
#   --admin_listen      health answers there, and nothing but health
#                       and reflection (a ReferralService call: UNIMPLEMENTED)
#   --redis             a referral made lands in that Redis
#   --testing_clock_start  a referral's create_time is that time (the clock
#                       stands still); it is refused off loopback; the
#                       SLUSSEN_TESTING_CLOCK_START variable is ignored
#   --log_level         debug: debug lines appear (a tick with Redis away);
#                       warning: no info line ("listening", rpc), the
#                       testing clock's warning still; error: the warning
#                       gone, the error still there
#   --shutdown_grace_seconds  (as SLUSSEN_SHUTDOWN_GRACE_SECONDS, which
#                       shows that variables are flags) the shutdown uses it
#   --pnr_key_file      a missing file and a mode-644 file are refused,
#                       naming the file; another key file gives another
#                       pnr_key_id, and the file wins over SLUSSEN_PNR_KEY
#   --max_message_bytes a request above it is RESOURCE_EXHAUSTED naming it
#                       (the default would pass it on to be INVALID_ARGUMENT);
#                       out of range is refused at start
#   --deadline_workers  its helper threads exist: 21 workers make 20 more
#                       threads than 1 (counted in /proc, not timed)
#   --retention_days, --retention_sweep_seconds
#                       with the testing clock a week after a referral
#                       ended, 3 days and a sweep every second: its personal
#                       data is erased (the defaults, 365 days and every
#                       600 s, would keep it), one that ended 2 days before
#                       is not; 0 is refused at start
#   --redis_pool_size, --redis_command_timeout_ms
#                       while Redis is paused for 3 s (CLIENT PAUSE), six
#                       calls all succeed with a 30 s command timeout (the
#                       default 2 s fails them), and the broker holds at most
#                       2 connections (the default opens about 10); a
#                       command timeout below the replica wait is refused,
#                       naming its value
#   --redis_wait_replicas, --redis_wait_timeout_ms
#                       with 1 replica wanted and none there, a write is
#                       UNAVAILABLE "0 of 1 replicas ... within 300ms"; with
#                       a replica (through the Sentinels below) it succeeds
#                       and the replica holds it
#   --max_watchers      with 1, a second open watch is RESOURCE_EXHAUSTED
#                       naming the flag while the first goes on; 0 is
#                       refused at start
#   --redis_sentinels, --redis_master_name
#                       with --redis pointing nowhere, the broker finds its
#                       primary through a Sentinel that monitors it under a
#                       name other than the default, and serves
#
# Not checked here:
#   --rate_limit_per_second, --rate_limit_burst: rate_limit_flags_test.sh.
#   --redis_cluster: needs a Redis Cluster; dev_up_cluster (dev_up_test.sh
#     with 3 primaries: `./dev up --cluster` runs the broker with it, and a
#     referral is made and found again) and server_shutdown_test.sh (several
#     --redis addresses refused without it, and with --redis_sentinels).
#   --redis_connect_timeout_ms: its only effect is how long a connect to a
#     silent address is waited for, a duration this test does not assert.
#   --insecure_allow_remote: server_shutdown_test.sh (development identity
#     on 0.0.0.0 refused without it, naming it) and tls_cli_test.sh (with
#     it, the broker warns INSECURE and goes on to bind).
#   --metrics_listen: metrics_test.sh (the metrics served there move with
#     calls, passes and watches; an address in use refused at start).
#   --tls_cert_file, --tls_key_file, --tls_client_ca_file: tls_cli_test.sh
#     (mutual TLS served with the three; only some of them refused).
#
# Usage: broker_flags_test.sh SLUSSEN SLUSSCTL
source "$(dirname "$0")/lib.sh"
SLUSSEN=$1 SLUSSCTL=$2

make_key "$TEST_TMP/pnr.key"
make_key "$TEST_TMP/other.key"

# refused WHAT EXPECTED ARGS...: the broker with ARGS (after a loopback
# --listen, a --redis where nothing answers and a key) exits non-zero
# without serving, saying EXPECTED; its output is left in $REFUSAL.
idle_port=$(free_port)
refused() {
  local what=$1 expected=$2 code=0
  shift 2
  REFUSAL=$(timeout 10 "$SLUSSEN" --listen="127.0.0.1:$idle_port" --redis=127.0.0.1:1 \
    --pnr_key_file="$TEST_TMP/pnr.key" "$@" 2>&1) || code=$?
  [ "$code" != 0 ] && [ "$code" != 124 ] || fail "$what: the broker started: $REFUSAL"
  grep -q -- "$expected" <<<"$REFUSAL" || fail "$what: no \"$expected\" in: $REFUSAL"
}

# stop_broker LOG: SIGTERM to the broker started last, which must exit 0;
# its log (start_broker's) is then LOG.
stop_broker() {
  local status=0
  kill -TERM "$BROKER_PID"
  wait "$BROKER_PID" || status=$?
  mv "$TEST_TMP/broker.log" "$1"
  [ "$status" = 0 ] || fail "the broker exited $status on SIGTERM: $(tail -3 "$1")"
}

# eventually COMMAND...: COMMAND succeeds within 20 s (else status 1).
eventually() {
  for _ in $(seq 1 80); do
    "$@" && return 0
    sleep 0.25
  done
  return 1
}

ctl() { "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --timeout=30 "$@"; }
impulse() {
  ctl --org=kommun-halmstad-eb --region=13 referrals create impulse --kommun=1380 \
    --need=coordinated-rehabilitation --call-back-name="Anna Berg" \
    --call-back-phone="035-13 70 00" "$@"
}
threads() { ls "/proc/$1/task" | wc -l; }

# An activity referral of the participant known as $1, as file $2.
activity_file() {
  cat >"$2" <<JSON
{
  "referrer": {"display_name": "Per Lind", "unit": "LFC Halmstad", "phone": "0771-524 524"},
  "participant": {
    "pseudonym": "$1",
    "attributes": {"age_years": 41, "gender": "GENDER_FEMALE", "kommun_code": "1380",
                   "benefit_statuses": ["BENEFIT_STATUS_SICKNESS_BENEFIT"], "hours_per_week": 10}
  },
  "consent": {
    "scopes": [{"party_class": "PARTY_CLASS_ASSIGNED_PROVIDER",
                "data_categories": ["DATA_CATEGORY_ELIGIBILITY", "DATA_CATEGORY_CASE_DETAILS"]}],
    "purpose": "CONSENT_PURPOSE_COORDINATED_REHABILITATION",
    "start_time": "2026-11-02T09:00:00Z",
    "form": "CONSENT_FORM_WRITTEN"
  },
  "activity": {"activity_type": "halsosam"}
}
JSON
}
# finished_referral PSEUDONYM: makes and cancels one; prints its name.
finished_referral() {
  local name
  activity_file "$1" "$TEST_TMP/$1.json"
  name=$(ctl --org=fk-lfc-halmstad --region=13 referrals create \
    --file="$TEST_TMP/$1.json" --quiet) || fail "creating the referral of $1"
  ctl --org=fk-lfc-halmstad referrals cancel "$name" --reason=no-longer-needed \
    >"$TEST_TMP/cancel.log" 2>&1 || fail "cancelling $name: $(cat "$TEST_TMP/cancel.log")"
  echo "$name"
}

## Refused before anything happens.
refused "a misspelt flag" "listn" --listn=127.0.0.1:"$idle_port"
"$SLUSSCTL" --server="127.0.0.1:$idle_port" --timeout=1 health >/dev/null 2>&1 &&
  fail "something answers on the port the misspelt flag named"
refused "a missing key file" "$TEST_TMP/missing.key" --pnr_key_file="$TEST_TMP/missing.key"
cp "$TEST_TMP/pnr.key" "$TEST_TMP/open.key"
chmod 644 "$TEST_TMP/open.key"
refused "a key file others may read" "chmod 600 $TEST_TMP/open.key" \
  --pnr_key_file="$TEST_TMP/open.key"
refused "a tiny --max_message_bytes" "max_message_bytes" --max_message_bytes=100
refused "--retention_days=0" "--retention_days=0 is not within 1..3650" --retention_days=0
refused "--max_watchers=0" "--max_watchers=0 is not within 1..100000" --max_watchers=0
refused "--redis_pool_size=0" "--redis_pool_size=0 is not within 1..1024" --redis_pool_size=0
refused "--redis_connect_timeout_ms=-1" \
  "--redis_connect_timeout_ms=-1 is not within 1..60000" --redis_connect_timeout_ms=-1
refused "--shutdown_grace_seconds=-1" \
  "--shutdown_grace_seconds=-1 is not within 0..3600" --shutdown_grace_seconds=-1
refused "--retention_sweep_seconds=0" \
  "--retention_sweep_seconds=0 is not within 1..86400" --retention_sweep_seconds=0
refused "a bad --testing_clock_start" \
  "--testing_clock_start=2026-13-45 must be an RFC 3339 time" --testing_clock_start=2026-13-45
refused "a command timeout below the replica wait" "below --redis_command_timeout_ms (400)" \
  --redis_command_timeout_ms=400
# At --log_level=error the testing clock's warning is not logged, the
# refusal of that clock off loopback is.
refused "the testing clock off loopback" '"level":"error".*refusing the testing clock' \
  --log_level=error --testing_clock_start=2026-12-01T10:00:00+01:00 --listen=0.0.0.0:0
if grep -q '"level":"warning"' <<<"$REFUSAL"; then
  fail "--log_level=error logged a warning: $REFUSAL"
fi

## Debug lines at --log_level=debug: the deadline ticker's, with Redis away.
"$SLUSSEN" --listen=127.0.0.1:0 --redis=127.0.0.1:1 \
  --pnr_key_file="$TEST_TMP/pnr.key" --log_level=debug --shutdown_grace_seconds=0 \
  2>"$TEST_TMP/debug.log" &
debug_pid=$!
TEST_PIDS+=("$debug_pid")
eventually grep -q '"level":"debug"' "$TEST_TMP/debug.log" ||
  fail "--log_level=debug: no debug line: $(tail -3 "$TEST_TMP/debug.log")"
kill -TERM "$debug_pid"
wait "$debug_pid" || fail "the broker at --log_level=debug exited $? on SIGTERM"

## The main broker: its clock at Tuesday 2026-12-01 10:00, an admin port,
## one deadline worker; the key file beside a different SLUSSEN_PNR_KEY,
## the grace from the environment.
start_redis "$TEST_TMP/redis"
t0=2026-12-01T10:00:00+01:00
port=$(free_port)
admin_port=$(free_port)
while [ "$admin_port" = "$port" ]; do admin_port=$(free_port); done
BROKER_FLAGS=(--admin_listen="127.0.0.1:$admin_port" --testing_clock_start="$t0"
  --deadline_workers=1)
SLUSSEN_PNR_KEY=$(cat "$TEST_TMP/other.key") SLUSSEN_SHUTDOWN_GRACE_SECONDS=3 \
  start_broker "$SLUSSEN" "$SLUSSCTL" "$port"
one_worker_threads=$(threads "$BROKER_PID")

grep -q "\"msg\":\"listening\",\"address\":\"127.0.0.1:$port\"" "$TEST_TMP/broker.log" ||
  fail "--listen: the broker does not say it listens on $port: $(tail -3 "$TEST_TMP/broker.log")"
# A second broker on a port the first holds is refused, not let share it
# (gRPC's SO_REUSEPORT would have the kernel split the callers between
# them, each with its own Redis, as once happened between tests): the
# main port and the admin port.
for taken in "--listen=127.0.0.1:$port" \
    "--listen=127.0.0.1:0 --admin_listen=127.0.0.1:$admin_port"; do
  # shellcheck disable=SC2086 # two flags in one word
  if timeout 10 "$SLUSSEN" $taken --redis="unix:$TEST_TMP/redis/redis.sock" \
      --pnr_key_file="$TEST_TMP/pnr.key" >"$TEST_TMP/second.log" 2>&1; then
    fail "$taken: a second broker started on a port the first holds"
  fi
  grep -q "cannot listen on" "$TEST_TMP/second.log" ||
    fail "$taken: a second broker: $(tail -3 "$TEST_TMP/second.log")"
done
"$SLUSSCTL" --server="127.0.0.1:$admin_port" --timeout=5 health >"$TEST_TMP/admin.txt" 2>&1 ||
  fail "--admin_listen: no health on the admin port: $(cat "$TEST_TMP/admin.txt")"
grep -qx SERVING "$TEST_TMP/admin.txt" || fail "--admin_listen: health says $(cat "$TEST_TMP/admin.txt")"
if "$SLUSSCTL" --server="127.0.0.1:$admin_port" --timeout=5 --region=13 referrals list \
    >"$TEST_TMP/admin.txt" 2>&1; then
  fail "--admin_listen: the admin port serves referrals"
fi
grep -q UNIMPLEMENTED "$TEST_TMP/admin.txt" ||
  fail "--admin_listen: a referral call there: $(cat "$TEST_TMP/admin.txt")"

impulse --json >"$TEST_TMP/impulse.json" || fail "creating an impulse"
grep -q "\"create_time\": \"$t0\"" "$TEST_TMP/impulse.json" ||
  fail "--testing_clock_start: not created at $t0: $(grep create_time "$TEST_TMP/impulse.json")"
impulse_id=$(sed -n 's/^ "name": "regions\/13\/referrals\/\([0-9A-Z]*\)",$/\1/p' "$TEST_TMP/impulse.json")
[ -n "$impulse_id" ] || fail "no name in: $(head -3 "$TEST_TMP/impulse.json")"
[ "$(redis-cli -s "$TEST_TMP/redis/redis.sock" exists "slussen:{r13}:referral:$impulse_id")" = 1 ] ||
  fail "--redis: the referral is not in the Redis named"

ctl --org=slussen-admin --role=admin catalog apply \
  "$SLUSSEN_ROOT"/providers/catalog/activity_types.textproto >"$TEST_TMP/catalog.log" 2>&1 ||
  fail "loading the activity types: $(cat "$TEST_TMP/catalog.log")"
# Ended a week before the retention broker's clock.
week_old=$(finished_referral flags-week-old)
stop_broker "$TEST_TMP/main.log"
grep -q '"msg":"shutting down","grace_ms":3000' "$TEST_TMP/main.log" ||
  fail "SLUSSEN_SHUTDOWN_GRACE_SECONDS=3: $(grep 'shutting down' "$TEST_TMP/main.log")"
main_key_id=$(grep -o '"pnr_key_id":"[^"]*"' "$TEST_TMP/main.log")

## Five days later, at --log_level=warning with 21 deadline workers.
BROKER_FLAGS=(--testing_clock_start=2026-12-06T10:00:00+01:00 --log_level=warning
  --deadline_workers=21)
start_broker "$SLUSSEN" "$SLUSSCTL"
# Ended two days before the retention broker's clock.
two_days_old=$(finished_referral flags-two-days-old)
workers_started() { [ "$(threads "$BROKER_PID")" -ge $((one_worker_threads + 15)) ]; }
eventually workers_started ||
  fail "--deadline_workers=21: $(threads "$BROKER_PID") threads, with 1 worker $one_worker_threads"
stop_broker "$TEST_TMP/warning.log"
grep -q '"level":"warning","msg":"testing clock' "$TEST_TMP/warning.log" ||
  fail "--log_level=warning: the testing clock's warning is missing: $(head -3 "$TEST_TMP/warning.log")"
if grep -q '"level":"info"' "$TEST_TMP/warning.log"; then
  fail "--log_level=warning logged info: $(grep -m1 '"level":"info"' "$TEST_TMP/warning.log")"
fi

## Two days after that: retention of 3 days, a sweep every second,
## requests of 1024 bytes at most, one watch at most.
BROKER_FLAGS=(--testing_clock_start=2026-12-08T10:00:00+01:00 --retention_days=3
  --retention_sweep_seconds=1 --max_message_bytes=1024 --max_watchers=1)
start_broker "$SLUSSEN" "$SLUSSCTL"
# One watch at most: the first is open once it has seen an event (an
# impulse made until it has); then a second is refused.
"$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=kommun-halmstad-eb --region=13 \
  events watch --region=13 >"$TEST_TMP/watch1.txt" 2>&1 &
first_watch=$!
TEST_PIDS+=("$first_watch")
watching() {
  impulse >/dev/null || return 1
  grep -q REFERRAL_CREATED "$TEST_TMP/watch1.txt"
}
eventually watching || fail "--max_watchers=1: the first watch saw nothing: $(cat "$TEST_TMP/watch1.txt")"
if timeout 10 "$SLUSSCTL" --server="127.0.0.1:$BROKER_PORT" --org=kommun-laholm-eb --region=13 \
  events watch --region=13 >"$TEST_TMP/watch2.txt" 2>&1; then
  fail "--max_watchers=1: a second watch ended well: $(cat "$TEST_TMP/watch2.txt")"
fi
grep -q 'RESOURCE_EXHAUSTED.*--max_watchers' "$TEST_TMP/watch2.txt" ||
  fail "--max_watchers=1: a second watch: $(cat "$TEST_TMP/watch2.txt")"
kill -0 "$first_watch" 2>/dev/null || fail "--max_watchers=1: the first watch ended: $(cat "$TEST_TMP/watch1.txt")"
kill "$first_watch"
wait "$first_watch" 2>/dev/null || true
erased() {
  ctl --org=fk-lfc-halmstad --json referrals get "$week_old" >"$TEST_TMP/week_old.json" &&
    grep -q '"personal_data_erase_time"' "$TEST_TMP/week_old.json"
}
eventually erased ||
  fail "--retention_days=3 --retention_sweep_seconds=1: the referral that ended a week ago keeps its personal data: $(cat "$TEST_TMP/week_old.json")"
if grep -q flags-week-old "$TEST_TMP/week_old.json"; then
  fail "erased, yet the pseudonym is there: $(cat "$TEST_TMP/week_old.json")"
fi
ctl --org=fk-lfc-halmstad --json referrals get "$two_days_old" >"$TEST_TMP/two_days_old.json" ||
  fail "reading the referral that ended two days ago"
grep -q flags-two-days-old "$TEST_TMP/two_days_old.json" ||
  fail "--retention_days=3 erased a referral that ended two days ago: $(cat "$TEST_TMP/two_days_old.json")"
# 3000 bytes of unit: above 1024, refused by gRPC before the broker's own
# limit of the field (200 characters) would refuse it.
long_unit=$(printf 'x%.0s' $(seq 1 3000))
if impulse --call-back-unit="$long_unit" >"$TEST_TMP/large.txt" 2>&1; then
  fail "--max_message_bytes=1024: a request of 3000 bytes went through"
fi
grep -q 'RESOURCE_EXHAUSTED.*1024' "$TEST_TMP/large.txt" ||
  fail "--max_message_bytes=1024: $(cat "$TEST_TMP/large.txt")"
stop_broker "$TEST_TMP/retention.log"

## Replicas wanted, none there: writes are refused, reads are not.
BROKER_FLAGS=(--redis_wait_replicas=1 --redis_wait_timeout_ms=300)
start_broker "$SLUSSEN" "$SLUSSCTL"
if impulse >"$TEST_TMP/wait.txt" 2>&1; then
  fail "--redis_wait_replicas=1: a write without a replica was acknowledged"
fi
grep -q 'UNAVAILABLE.*0 of 1 replicas confirmed the write within 300ms' "$TEST_TMP/wait.txt" ||
  fail "--redis_wait_replicas=1 --redis_wait_timeout_ms=300: $(cat "$TEST_TMP/wait.txt")"
ctl --org=kommun-halmstad-eb --region=13 referrals list >/dev/null || fail "--redis_wait_replicas=1 refused a read"
stop_broker "$TEST_TMP/wait.log"

## A pool of 2 connections and a 30 s command timeout, on a Redis of its
## own, paused for 3 s while six calls come in.
start_redis "$TEST_TMP/pool"
pool=$TEST_TMP/pool/redis.sock
BROKER_FLAGS=(--redis="unix:$pool" --redis_pool_size=2 --redis_command_timeout_ms=30000)
start_broker "$SLUSSEN" "$SLUSSCTL"
redis-cli -s "$pool" client pause 3000 all >/dev/null
calls=()
for i in 1 2 3 4 5 6; do
  ctl --org=kommun-halmstad-eb --region=13 referrals list >"$TEST_TMP/paused.$i" 2>&1 &
  calls+=($!)
done
for i in 1 2 3 4 5 6; do
  wait "${calls[$((i - 1))]}" ||
    fail "--redis_command_timeout_ms=30000: a call while Redis paused 3 s failed: $(cat "$TEST_TMP/paused.$i")"
done
redis-cli -s "$pool" client list >"$TEST_TMP/clients.txt"
connections=$(grep -vc 'cmd=client|list' "$TEST_TMP/clients.txt" || true)
[ "$connections" -ge 1 ] && [ "$connections" -le 2 ] ||
  fail "--redis_pool_size=2: the broker holds $connections connections: $(cat "$TEST_TMP/clients.txt")"
stop_broker "$TEST_TMP/pool.log"

## The primary through a Sentinel (--redis names nothing), one replica
## confirming every write; another key file, and a testing clock in the
## environment, which is not taken from there.
primary_port=$(free_port)
mkdir -p "$TEST_TMP/primary" "$TEST_TMP/replica" "$TEST_TMP/sentinel"
redis-server --port "$primary_port" --bind 127.0.0.1 --dir "$TEST_TMP/primary" \
  --save "" --appendonly yes --repl-diskless-sync-delay 0 --daemonize no \
  --logfile "$TEST_TMP/primary/redis.log" &
TEST_PIDS+=($!)
answers() { redis-cli -p "$1" ping >/dev/null 2>&1; }
eventually answers "$primary_port" ||
  fail "the primary did not start: $(tail -3 "$TEST_TMP/primary/redis.log")"
replica_port=$(free_port)
redis-server --port "$replica_port" --bind 127.0.0.1 --dir "$TEST_TMP/replica" \
  --save "" --appendonly yes --replicaof 127.0.0.1 "$primary_port" --daemonize no \
  --logfile "$TEST_TMP/replica/redis.log" &
TEST_PIDS+=($!)
replicating() {
  redis-cli -p "$replica_port" info replication >"$TEST_TMP/replication.txt" 2>&1 &&
    grep -q 'master_link_status:up' "$TEST_TMP/replication.txt"
}
eventually replicating ||
  fail "the replica did not sync: $(tail -3 "$TEST_TMP/replica/redis.log")"
sentinel_port=$(free_port)
printf 'sentinel monitor slussen-flags 127.0.0.1 %s 1\n' "$primary_port" \
  >"$TEST_TMP/sentinel/sentinel.conf"
redis-server "$TEST_TMP/sentinel/sentinel.conf" --sentinel --port "$sentinel_port" \
  --bind 127.0.0.1 --dir "$TEST_TMP/sentinel" --daemonize no \
  --logfile "$TEST_TMP/sentinel/sentinel.log" &
TEST_PIDS+=($!)
knows_primary() {
  redis-cli -p "$sentinel_port" sentinel get-master-addr-by-name slussen-flags \
    >"$TEST_TMP/sentinel.txt" 2>&1 && grep -qx "$primary_port" "$TEST_TMP/sentinel.txt"
}
eventually knows_primary ||
  fail "the Sentinel does not know the primary: $(tail -3 "$TEST_TMP/sentinel/sentinel.log")"
BROKER_FLAGS=(--redis=127.0.0.1:1 --redis_sentinels="127.0.0.1:$sentinel_port"
  --redis_master_name=slussen-flags --redis_wait_replicas=1 --redis_wait_timeout_ms=5000
  --redis_command_timeout_ms=10000 --pnr_key_file="$TEST_TMP/other.key")
SLUSSEN_TESTING_CLOCK_START=2001-01-01T00:00:00Z start_broker "$SLUSSEN" "$SLUSSCTL"
grep -q "\"redis\":\"primary .*slussen-flags.* of Sentinels tcp://127.0.0.1:$sentinel_port\"" \
  "$TEST_TMP/broker.log" || fail "--redis_sentinels: $(grep -m1 listening "$TEST_TMP/broker.log")"
impulse --json >"$TEST_TMP/sentinel.json" 2>&1 ||
  fail "--redis_wait_replicas=1 with a replica: $(cat "$TEST_TMP/sentinel.json")"
id=$(sed -n 's/^ "name": "regions\/13\/referrals\/\([0-9A-Z]*\)",$/\1/p' "$TEST_TMP/sentinel.json")
[ "$(redis-cli -p "$replica_port" exists "slussen:{r13}:referral:$id")" = 1 ] ||
  fail "--redis_wait_replicas=1: the replica does not hold the acknowledged write"
if grep -q '"create_time": "2001-' "$TEST_TMP/sentinel.json" ||
  grep -q 'testing clock' "$TEST_TMP/broker.log"; then
  fail "SLUSSEN_TESTING_CLOCK_START was taken from the environment"
fi
stop_broker "$TEST_TMP/sentinel.log"
other_key_id=$(grep -o '"pnr_key_id":"[^"]*"' "$TEST_TMP/sentinel.log")
[ -n "$main_key_id" ] && [ -n "$other_key_id" ] && [ "$main_key_id" != "$other_key_id" ] ||
  fail "--pnr_key_file: the key file (with SLUSSEN_PNR_KEY holding the other key) gave $main_key_id, the other key's file $other_key_id"
echo "PASS"
