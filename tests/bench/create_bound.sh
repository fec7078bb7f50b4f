#!/usr/bin/env bash
# How near the broker's CreateReferral is to the least a create of the same
# data can cost: in one run, interleaved REPS times at CONC in flight, the
# bare relay of ../shared/bench (one small Lua write a call), bare_get's
# create (gRPC's synchronous server and one call of the broker's own change
# script with the arguments a broker's create sent it, a fresh referral id
# each call, nothing else: tests/bench/bare_get.cc), and the broker's
# CreateReferral of the same impulse (as 64 kommuner of region 13), all on
# one Redis with appendfsync always. The arguments are captured first from
# a broker's create of an impulse that waits (redis-cli MONITOR). Prints a
# line per run (calls/s, p99, the CPU µs a call of the server and Redis)
# and the medians with each one's share of the relay.
#
# Usage: tests/bench/create_bound.sh [BROKER_BINARY]   (from the project
#        root after ./dev build; default build/slussen)
# Environment: CONC=16, REPS=3, SECONDS_PER_RUN=8
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
conc=${CONC:-16} reps=${REPS:-3} seconds=${SECONDS_PER_RUN:-8}
source "$(dirname "$0")/bench_lib.sh"

start_bound_run "${1:-$root/build/slussen}"
encode_impulse_create "$work/create.bin"
create=(--method=/slussen.v1.ReferralService/CreateReferral --request_file="$work/create.bin"
  --metadata=x-slussen-organisation=kommun-halmstad-eb,x-slussen-role=agency,x-slussen-region=13
  --spread_key=x-slussen-organisation --spread=64)

capture_create_call

bare_port=$(free_port)
"$bare" --port="$bare_port" --redis_socket="$rd/redis.sock" --create_template="$work/create.template" \
  --create_script="$work/lua/change.lua" >"$work/bare.log" 2>&1 &
bare_pid=$!; started+=("$bare_pid")
relay_port=$(free_port)
"$work/bench/relay_server" --port="$relay_port" --redis_socket="$rd/redis.sock" \
  --script="$root/../shared/bench/referral_create.lua" >"$work/relay.log" 2>&1 &
relay_pid=$!; started+=("$relay_pid")
for _ in $(seq 50); do
  grep -q listening "$work/bare.log" && grep -q listening "$work/relay.log" && break
  sleep 0.1
done

# Each run leaves its writes in the one Redis, whose append-only file
# grows and is rewritten in the background (slussen.conf: at twice its
# size after the last rewrite), so a later run pays more: the order turns
# each round, so that no server always runs last.
run_server() {
  case $1 in
    relay) load_run relay "$relay_pid,$redis_pid" --target="127.0.0.1:$relay_port" \
      --method=/baseline.v1.EchoService/Relay ;;
    bare) load_run bare_create "$bare_pid,$redis_pid" --target="127.0.0.1:$bare_port" "${create[@]}" ;;
    broker) load_run broker_create "$broker_pid,$redis_pid" --target="127.0.0.1:$broker_port" "${create[@]}" ;;
  esac
}
servers=(relay bare broker)
for rep in $(seq 0 $((reps - 1))); do
  for i in 0 1 2; do run_server "${servers[$(((i + rep) % 3))]}"; done
done
# The bare creates wrote what a broker's would: referrals with their ids.
echo "referrals the bare creates wrote: $(redis-cli -s "$rd/redis.sock" --scan \
  --pattern '*:referral:0000*' | wc -l)"
print_medians relay bare_create
