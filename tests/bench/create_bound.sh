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

# The change script as the broker sends it, and a waiting create's call of
# it: the last script call that writes a referral and no offer.
cmake -DSOURCE_DIR="$root" -DOUT_DIR="$work/lua" -P "$root/cmake/embed_lua.cmake" >/dev/null
redis-cli -s "$rd/redis.sock" MONITOR >"$work/monitor.txt" &
monitor_pid=$!; started+=("$monitor_pid")
sleep 0.3
"$work/bench/loadgen" --concurrency=1 --channels=1 --warmup=0 --duration=1 \
  --target="127.0.0.1:$broker_port" "${create[@]}" >/dev/null
sleep 0.3
stop "$monitor_pid"
python3 - "$work/monitor.txt" "$work/create.template" <<'PY'
import re, sys
def unquote(text):  # redis-cli MONITOR's quoting (sdscatrepr)
    out, i = bytearray(), 0
    simple = {'n': 10, 'r': 13, 't': 9, 'a': 7, 'b': 8, '\\': 92, '"': 34}
    while i < len(text):
        c = text[i]
        if c == '\\':
            if text[i + 1] == 'x':
                out.append(int(text[i + 2:i + 4], 16)); i += 4; continue
            out.append(simple[text[i + 1]]); i += 2; continue
        out += c.encode(); i += 1
    return bytes(out)
chosen = None
for line in open(sys.argv[1], encoding='utf-8', errors='surrogateescape'):
    if '[0 lua]' in line or '"EVALSHA"' not in line:
        continue
    args = [unquote(a) for a in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]
    keys = args[3:3 + int(args[2])]
    if re.search(rb':referral:[0-9A-Z]{26}$', keys[0]) and not any(b':offer:' in k for k in keys):
        chosen = args
if chosen is None:
    sys.exit('no waiting create seen in MONITOR')
referral_id = chosen[3].rsplit(b':', 1)[1]
with open(sys.argv[2], 'wb') as out:
    out.write(referral_id + b'\n')
    for arg in chosen[2:]:
        out.write(b'%d\n' % len(arg) + arg + b'\n')
PY

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

for _ in $(seq "$reps"); do
  load_run relay "$relay_pid,$redis_pid" --target="127.0.0.1:$relay_port" --method=/baseline.v1.EchoService/Relay
  load_run bare_create "$bare_pid,$redis_pid" --target="127.0.0.1:$bare_port" "${create[@]}"
  load_run broker_create "$broker_pid,$redis_pid" --target="127.0.0.1:$broker_port" "${create[@]}"
done
# The bare creates wrote what a broker's would: referrals with their ids.
echo "referrals the bare creates wrote: $(redis-cli -s "$rd/redis.sock" --scan \
  --pattern '*:referral:0000*' | wc -l)"
print_medians relay bare_create
