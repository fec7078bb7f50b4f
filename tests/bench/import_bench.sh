#!/usr/bin/env bash
# Bulk import of 10,000 impulse rows (`slussctl referrals import`) against
# the broker's own CreateReferral throughput at the same number of calls in
# flight, measured in the same run on a fresh Redis (the project's
# deploy/redis/slussen.conf: appendfsync always) each time:
#   import P   slussctl referrals import of ROWS rows, --parallel=P
#   direct P   the shared load generator's closed loop of CreateReferral
#              (one impulse, P in flight) for as long as the import took
# Prints rows/s, calls/s and their ratio per P; the ratio is what
# BENCHMARKS.md reports.
#
# Usage: tests/bench/import_bench.sh SHARED_BENCH_DIR   (from the project
#        root after ./dev build; SHARED_BENCH_DIR holds loadgen.cc and its
#        CMakeLists.txt)
# Environment: ROWS=10000 PARALLEL="8 16" BENCH_BUILD_DIR (reuse a build of
#              the load generator)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=$(cd "${1:?usage: import_bench.sh SHARED_BENCH_DIR}" && pwd)
rows=${ROWS:-10000} parallels=${PARALLEL:-"8 16"}
build=${BENCH_BUILD_DIR:-$(mktemp -d)}
source "$(dirname "$0")/bench_lib.sh"
ctl="$root/build/slussctl"

cmake -S "$shared" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 &&
  cmake --build "$build" -j"$(nproc)" --target loadgen >>"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; exit 1; }

# One broker on a fresh Redis; sets port, rd and the pids.
up() {
  rd=$(mktemp -d -p "$work")
  (cd "$rd" && exec redis-server "$root/deploy/redis/slussen.conf" --unixsocket "$rd/redis.sock" \
     --dir "$rd" --logfile "$rd/redis.log" --daemonize no) &
  redis_pid=$!; started+=("$redis_pid")
  for _ in $(seq 100); do redis-cli -s "$rd/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$rd/pnr.key")
  port=$(free_port)
  "$root/build/slussen" --listen="127.0.0.1:$port" --redis="unix:$rd/redis.sock" \
    --pnr_key_file="$rd/pnr.key" --log_level=warning --rate_limit_per_second=1000000 \
    --rate_limit_burst=1000000 >"$work/broker.log" 2>&1 &
  broker_pid=$!; started+=("$broker_pid")
  for _ in $(seq 200); do "$ctl" --server="127.0.0.1:$port" --timeout=1 health >/dev/null 2>&1 && break; sleep 0.1; done
  "$ctl" --server="127.0.0.1:$port" --org=slussen-admin --role=admin \
    catalog apply "$root"/providers/catalog/*.textproto >/dev/null 2>&1
}
down() { stop "$broker_pid"; stop "$redis_pid"; }

python3 - "$work/rows.csv" "$rows" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("impulse.kommun_code;impulse.need_category;impulse.call_back.display_name;impulse.call_back.phone\n")
    for i in range(int(sys.argv[2])):
        f.write(f"1380;sick-without-qualifying-income;Handläggare {i};035-{i:06d}\n")
PY
protoc -I "$root/protos" --encode=slussen.v1.CreateReferralRequest \
  "$root/protos/slussen/v1/referral_service.proto" >"$work/create.bin" <<'PB'
parent: "regions/13"
referral { impulse {
  call_back { display_name: "Handläggare" phone: "035-000000" }
  kommun_code: "1380" need_category: NEED_CATEGORY_SICK_WITHOUT_QUALIFYING_INCOME } }
PB

printf '%-10s %8s %10s %10s %8s\n' parallel rows seconds "rows/s" "direct/s"
for p in $parallels; do
  up
  summary=$("$ctl" --server="127.0.0.1:$port" --org=kommun-halmstad-eb --region=13 \
    referrals import "$work/rows.csv" --parallel="$p" --json --result="$work/result.csv") ||
    { grep -v ";imported;" "$work/result.csv" | head -5; exit 1; }
  seconds=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["imported"] == d["rows"], d; print(d["seconds"])' "$summary")
  down
  up
  direct=$("$build/loadgen" --target="127.0.0.1:$port" --concurrency="$p" --channels=1 \
    --warmup=1 --duration="$seconds" --method=/slussen.v1.ReferralService/CreateReferral \
    --request_file="$work/create.bin" \
    --metadata=x-slussen-organisation=kommun-halmstad-eb,x-slussen-role=agency,x-slussen-region=13 |
    sed -n 's/.*calls_per_s=\([0-9.]*\).*/\1/p')
  down
  python3 -c 'import sys; p,n,s,d=sys.argv[1:]; r=int(n)/float(s); print(f"{p:<10} {n:>8} {float(s):>10.1f} {r:>10.0f} {float(d):>8.0f}  import/direct {r/float(d):.0%}")' \
    "$p" "$rows" "$seconds" "$direct"
done
