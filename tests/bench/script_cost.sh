#!/usr/bin/env bash
# What a create's change script costs Redis, against the commands it makes:
# captures a waiting create's call of the change script from a broker
# (capture_create_call), then, interleaved REPS times, each on a fresh
# Redis (the project's deploy/redis/slussen.conf, appendfsync no, so that
# disk waits do not count), replays it CREATES times with a fresh referral
# id each (16 pipelined) through the tree's change.lua, through each
# SCRIPT given (e.g. an older change.lua, includes expanded as
# cmake/embed_lua.cmake expands them), and through "calls": a script that
# only makes the Redis commands change.lua made for that create, one after
# another (their own cost; no script making them can cost less). Prints
# Redis's CPU µs per create of each run and the medians.
#
# Usage: tests/bench/script_cost.sh [SCRIPT...]   (from the project root
#        after ./dev build)
# Environment: REPS=5, CREATES=20000
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
reps=${REPS:-5}
for script in "$@"; do
  [ -f "$script" ] || { echo "no such script: $script (usage: see the top of $0)" >&2; exit 2; }
done
source "$(dirname "$0")/bench_lib.sh"

start_bound_run "$root/build/slussen"
encode_impulse_create "$work/create.bin"
create=(--method=/slussen.v1.ReferralService/CreateReferral --request_file="$work/create.bin"
  --metadata=x-slussen-organisation=kommun-halmstad-eb,x-slussen-role=agency,x-slussen-region=13)
capture_create_call
stop "$broker_pid"; stop "$redis_pid"  # idle, but they would share the cores
commands=$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import script_cost
print(len(script_cost.read_calls(sys.argv[2])))' "$root/tests/bench" "$work/create.calls")
echo "a waiting create's change script made $commands Redis commands"

scripts=("$work/lua/change.lua" "$@" --calls)
for rep in $(seq "$reps"); do
  for script in "${scripts[@]}"; do
    d="$work/replay.$rep.$RANDOM"
    mkdir -p "$d"
    (cd "$d" && exec redis-server "$root/deploy/redis/slussen.conf" --unixsocket "$d/redis.sock" \
      --dir "$d" --logfile "$d/redis.log" --appendfsync no --daemonize no) &
    pid=$!; started+=("$pid")
    for _ in $(seq 100); do redis-cli -s "$d/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
    us=$(python3 "$root/tests/bench/script_cost.py" "$d/redis.sock" "$work/create.template" \
      "$work/create.calls" "$script")
    name=$([ "$script" = --calls ] && echo calls || echo "$script" | sed "s|^$work/lua/|tree's |")
    echo "$name: $us µs of Redis CPU a create"
    echo "$name	$us" >>"$work/costs.txt"
    stop "$pid"
  done
done
python3 - "$work/costs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, us = line.rstrip('\n').split('\t')
    runs.setdefault(name, []).append(float(us))
for name, values in runs.items():
    print(f'median {name}: {statistics.median(values):.1f} µs of Redis CPU a create')
PY
