#!/usr/bin/env bash
# An A/B of broker builds in one run: CALL=get, a GetReferral of one
# impulse (as 64 coordinators of region 13), or CALL=create, a
# CreateReferral of an impulse (as 64 kommuner), both as
# ../shared/bench/broker-vs-relay.sh asks them, at CONC in flight against
# each broker binary given, interleaved REPS times, each on a fresh Redis
# with appendfsync always. Prints a line per run: calls/s, p99 and the CPU
# µs a call of the broker and Redis (the bench's loadgen), and with
# FORKS=1 the threads the broker made in 4 s of the load.
#
# Usage: tests/bench/ab_bench.sh BROKER_BINARY...   (from the project
#        root after ./dev build; e.g. a copy of build/slussen before a
#        change, and build/slussen after it)
# Environment: CALL=get, CONC=16, REPS=3, SECONDS_PER_RUN=8, FORKS=0 (1
#              needs perf), PROFILE=DIR (perf record -g of each broker's
#              first run, 4 s into it, to DIR/<binary>.perf.data;
#              PROFILE_CALL_GRAPH=dwarf for callers through libraries
#              built without frame pointers)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { sed -n '2,15p' "$0"; exit 2; }
conc=${CONC:-16} reps=${REPS:-3} seconds=${SECONDS_PER_RUN:-8} call=${CALL:-get}
case "$call" in get | create) ;; *) echo "CALL must be get or create, not \"$call\"" >&2; exit 2 ;; esac
source "$(dirname "$0")/bench_lib.sh"

build_shared_bench

run() {  # run BINARY
  local rd="$work/redis.$RANDOM" load_pid
  start_broker_with_impulse "$1" "$rd"
  local port=$broker_port name=$impulse
  local request=(--method=/slussen.v1.ReferralService/GetReferral --request_file="$rd/call.bin"
    --metadata=x-slussen-organisation=samordning-halland,x-slussen-role=coordinator,x-slussen-region=13)
  if [ "$call" = create ]; then
    encode_impulse_create "$rd/call.bin"
    request=(--method=/slussen.v1.ReferralService/CreateReferral --request_file="$rd/call.bin"
      --metadata=x-slussen-organisation=kommun-halmstad-eb,x-slussen-role=agency,x-slussen-region=13)
  else
    printf 'name: "%s"\n' "$name" | protoc -I "$root/protos" --encode=slussen.v1.GetReferralRequest \
      "$root/protos/slussen/v1/referral_service.proto" >"$rd/call.bin"
  fi
  "$work/bench/loadgen" --concurrency="$conc" --channels=4 --warmup=1 --duration="$seconds" \
    --watch_pids="$broker_pid,$redis_pid" --target="127.0.0.1:$port" "${request[@]}" \
    --spread_key=x-slussen-organisation --spread=64 >"$rd/load.txt" &
  load_pid=$!
  local forks=""
  if [ "${FORKS:-0}" = 1 ]; then
    sleep 3
    forks=$(perf stat -e sched:sched_process_fork -p "$broker_pid" -- sleep 4 2>&1 |
      awk '/sched_process_fork/ { print " threads_made_in_4s=" $1 }')
  fi
  if [ -n "${PROFILE:-}" ] && [ ! -e "$PROFILE/$(basename "$1").perf.data" ]; then
    mkdir -p "$PROFILE"
    sleep 3
    perf record -q --call-graph=${PROFILE_CALL_GRAPH:-fp} -p "$broker_pid" -o "$PROFILE/$(basename "$1").perf.data" -- sleep 4 >/dev/null 2>&1
  fi
  wait "$load_pid"
  echo "$call $(basename "$1"): $(tail -1 "$rd/load.txt" | grep -o 'calls_per_s=[0-9]*\|p99_us=[0-9.]*\|cpu_us_per_call.watched=[0-9.]*' | tr '\n' ' ')$forks"
  stop "$broker_pid"; stop "$redis_pid"
}

for _ in $(seq "$reps"); do
  for binary in "$@"; do run "$binary"; done
done
