#!/usr/bin/env bash
# How near the broker's GetReferral is to the least a get can cost: in one
# run, interleaved REPS times at CONC in flight, the bare gRPC echo of
# ../shared/bench (no Redis), bare_get (gRPC's synchronous server and one
# HMGET of the stored referral, nothing else: tests/bench/bare_get.cc), the
# same on gRPC's callback API with the reads of waiting calls pipelined on
# one Redis connection (bare_get --mode=callback), and the broker's GetReferral of the same impulse (as 64 coordinators of
# region 13), on one Redis with appendfsync always. Prints a line per run
# (calls/s, p99, the CPU µs a call of the server and Redis) and the
# medians with each one's share of the echo.
#
# Usage: tests/bench/get_bound.sh [BROKER_BINARY]   (from the project root
#        after ./dev build; default build/slussen)
# Environment: CONC=16, REPS=3, SECONDS_PER_RUN=8
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
conc=${CONC:-16} reps=${REPS:-3} seconds=${SECONDS_PER_RUN:-8}
source "$(dirname "$0")/bench_lib.sh"

start_bound_run "${1:-$root/build/slussen}"
name=$impulse
printf 'name: "%s"\n' "$name" | protoc -I "$root/protos" --encode=slussen.v1.GetReferralRequest \
  "$root/protos/slussen/v1/referral_service.proto" >"$work/get.bin"

bare_port=$(free_port)
"$bare" --port="$bare_port" --redis_socket="$rd/redis.sock" >"$work/bare.log" 2>&1 &
bare_pid=$!; started+=("$bare_pid")
piped_port=$(free_port)
"$bare" --mode=callback --port="$piped_port" --redis_socket="$rd/redis.sock" >"$work/piped.log" 2>&1 &
piped_pid=$!; started+=("$piped_pid")
echo_port=$(free_port)
"$work/bench/echo_server" --mode=sync --port="$echo_port" >"$work/echo.log" 2>&1 &
echo_pid=$!; started+=("$echo_pid")
for _ in $(seq 50); do
  grep -q listening "$work/bare.log" && grep -q listening "$work/piped.log" &&
    grep -q listening "$work/echo.log" && break
  sleep 0.1
done

get=(--method=/slussen.v1.ReferralService/GetReferral --request_file="$work/get.bin"
  --metadata=x-slussen-organisation=samordning-halland,x-slussen-role=coordinator,x-slussen-region=13
  --spread_key=x-slussen-organisation --spread=64)
for _ in $(seq "$reps"); do
  load_run echo "$echo_pid" --target="127.0.0.1:$echo_port"
  load_run bare_get "$bare_pid,$redis_pid" --target="127.0.0.1:$bare_port" "${get[@]}"
  load_run bare_get_pipelined "$piped_pid,$redis_pid" --target="127.0.0.1:$piped_port" "${get[@]}"
  load_run broker_get "$broker_pid,$redis_pid" --target="127.0.0.1:$broker_port" "${get[@]}"
done
print_medians echo bare_get
